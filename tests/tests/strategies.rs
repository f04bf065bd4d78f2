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
