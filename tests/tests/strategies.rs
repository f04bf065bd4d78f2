//! The baseline strategies through the real plugin and the training loop: what they cost in
//! scoring, and their settings errors.
use fuzzaug_tests::{fuzzaug_in, Scratch};

fn config(strategy: &str) -> String {
    format!(
        "name = \"s\"\nseed = 3\ndevice = \"cpu\"\n[dataset]\nname = \"shapes\"\ntrain_size = 128\ntest_size = 32\nsize = 16\n\
         [train]\nepochs = 2\nbatch_size = 32\n[[transforms]]\nname = \"rotation\"\n[[transforms]]\nname = \"brightness\"\n\
         [strategy]\n{strategy}\n[eval]\nrobust_subset = 16\n"
    )
}

/// `scored_candidates` of each epoch.
fn scored(strategy: &str) -> Vec<u64> {
    let dir = Scratch::new();
    dir.write("c.toml", &config(strategy));
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    let csv = std::fs::read_to_string(dir.path().join("runs/s/metrics.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').nth(9).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn standard_and_random_score_nothing_and_w10_scores_k_per_sample() {
    assert_eq!(scored("name = \"standard\""), vec![0, 0]);
    assert_eq!(scored("name = \"random\""), vec![0, 0]);
    assert_eq!(
        scored("name = \"w10\""),
        vec![1280, 1280],
        "k = 10 per sample per epoch"
    );
    assert_eq!(scored("name = \"w10\"\nk = 3"), vec![384, 384]);
}

#[test]
fn a_bad_k_is_located() {
    let dir = Scratch::new();
    dir.write("c.toml", &config("name = \"w10\"\nk = 0"));
    let err = fuzzaug_in(&["check", "c.toml"], Some(dir.path()))
        .fails()
        .to_string();
    assert!(
        err.contains("c.toml:18:5: strategy `w10`: `k` must be between 1 and 1000, got 0"),
        "{err}"
    );
}

/// (scored_candidates, skipped_robust) per epoch of a run in `dir`.
fn counts(dir: &std::path::Path) -> Vec<(u64, u64)> {
    let csv = std::fs::read_to_string(dir.join("runs/s/metrics.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[9].parse().unwrap(), c[10].parse().unwrap())
        })
        .collect()
}

#[test]
fn sensei_scores_its_population_per_searched_sample_and_resumes_its_search() {
    let whole = Scratch::new();
    whole.write(
        "c.toml",
        &config("name = \"sensei\"\nselective = { threshold = 5.0 }"),
    );
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(whole.path())).ok();
    for (scored, skipped) in counts(whole.path()) {
        assert_eq!(
            scored,
            10 * (128 - skipped) + skipped,
            "population 10 per searched sample, 1 per skipped one"
        );
    }
    // One epoch, then --resume to two: the search continues where it was (robust_acc differs
    // only because the one-epoch run evaluated it at its end).
    let split = Scratch::new();
    split.write(
        "c.toml",
        &config("name = \"sensei\"\nselective = { threshold = 5.0 }"),
    );
    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--set", "train.epochs=1"],
        Some(split.path()),
    )
    .ok();
    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--resume"],
        Some(split.path()),
    )
    .ok();
    let strip = |d: &std::path::Path| -> Vec<String> {
        let csv = std::fs::read_to_string(d.join("runs/s/metrics.csv")).unwrap();
        csv.lines()
            .map(|l| {
                l.split(',')
                    .enumerate()
                    .filter(|(i, _)| ![6, 7, 8].contains(i))
                    .map(|(_, c)| c)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    };
    assert_eq!(strip(whole.path()), strip(split.path()));
}
