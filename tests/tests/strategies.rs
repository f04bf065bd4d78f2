//! The baseline strategies through the real plugin and the training loop: what they cost in
//! scoring, and their settings errors.
use fuzzaug_tests::{fuzzaug_in, ppm, Scratch};

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
        &config("name = \"sensei\"\nselective = { enabled = true, threshold = 5.0 }"),
    );
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(whole.path())).ok();
    for (scored, skipped) in counts(whole.path()) {
        assert_eq!(
            scored,
            10 * (128 - skipped) + skipped,
            "population 10 per searched sample, 1 per skipped one"
        );
    }
    // One epoch (--stop-after 1), then --resume: the search continues where it was.
    let split = Scratch::new();
    split.write(
        "c.toml",
        &config("name = \"sensei\"\nselective = { enabled = true, threshold = 5.0 }"),
    );
    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--stop-after", "1"],
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

    preview_shows_the_chosen_variants(split.path());
}

/// (width, height) of a PNG file, from its IHDR chunk.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    (be(16), be(20))
}

/// `preview` over a run directory with a checkpoint adds the strategy's chosen variants, and
/// refuses a checkpoint written for another config.
fn preview_shows_the_chosen_variants(dir: &std::path::Path) {
    let out = fuzzaug_in(&["preview", "c.toml", "--out", "with.png"], Some(dir));
    assert!(
        out.ok()
            .contains("(4 images × 9 perturbations, and 8 variants chosen by `sensei`)"),
        "{}",
        out.stdout
    );
    let fresh = Scratch::new();
    fresh.write(
        "c.toml",
        &config("name = \"sensei\"\nselective = { enabled = true, threshold = 5.0 }"),
    );
    let out = fuzzaug_in(
        &["preview", "c.toml", "--out", "without.png"],
        Some(fresh.path()),
    );
    assert!(
        out.ok()
            .contains("no checkpoint at runs/s/checkpoints/last yet"),
        "{}",
        out.stdout
    );
    let (with, without) = (
        png_size(&dir.join("with.png")),
        png_size(&fresh.path().join("without.png")),
    );
    assert!(
        with.1 > without.1,
        "the strip adds height: {with:?} vs {without:?}"
    );
    let err = fuzzaug_in(
        &["preview", "c.toml", "--out", "x.png", "--set", "seed=4"],
        Some(dir),
    )
    .fails()
    .to_string();
    assert!(
        err.contains(
            "checkpoints/last belongs to a different run than this config describes:\n  seed: the run has 3, this config 4"
        ),
        "{err}"
    );
}

/// The original's fitness runs end to end and gives other losses than cross-entropy.
#[test]
fn bce_sum_fitness_is_computed_by_the_host() {
    let chosen = |fitness: &str| -> f64 {
        let dir = Scratch::new();
        dir.write(
            "c.toml",
            &config(&format!("name = \"sensei\"\nfitness = \"{fitness}\"")),
        );
        fuzzaug_in(
            &["run", "c.toml", "--quiet", "--stop-after", "1"],
            Some(dir.path()),
        )
        .ok();
        let jsonl = std::fs::read_to_string(dir.path().join("runs/s/metrics.jsonl")).unwrap();
        let row: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        row["strategy"]["mean_chosen_fitness"].as_f64().unwrap()
    };
    let (ce, bce) = (chosen("ce"), chosen("bce-sum"));
    assert!(ce.is_finite() && ce > 0.0, "{ce}");
    // bce-sum adds the other classes' terms to the true class's: never below ce's −log p.
    assert!(bce > ce, "bce-sum {bce} vs ce {ce}");
}

/// Bad SENSEI settings are refused by `check` with the line and column of the value.
#[test]
fn bad_sensei_settings_are_located() {
    let cases = [
        (
            "population = 1",
            "c.toml:18:14: strategy `sensei`: `population` must be between 2 and 10000, got 1",
        ),
        (
            "tournament_size = 11",
            "c.toml:18:19: strategy `sensei-t`: `tournament_size` (11) must not exceed `population` (10)",
        ),
        (
            "selective.threshold = 0",
            "c.toml:18:23: strategy `sensei`: `selective.threshold` must be a number above 0, got 0",
        ),
        (
            "selection = \"best\"",
            "c.toml:18:13: strategy `sensei`: unknown selection \"best\"; valid: \"elitism\", \"roulette\", \"tournament\"",
        ),
    ];
    for (setting, expected) in cases {
        let name = if setting.starts_with("tournament") {
            "sensei-t"
        } else {
            "sensei"
        };
        let dir = Scratch::new();
        dir.write("c.toml", &config(&format!("name = \"{name}\"\n{setting}")));
        let err = fuzzaug_in(&["check", "c.toml"], Some(dir.path()))
            .fails()
            .to_string();
        assert!(err.contains(expected), "{setting}: {err}");
    }
}

/// An image folder of `n` 16×16 RGB stripe images per class and split (`horizontal`,
/// `vertical`; periods 3 to 7, varying phase), as binary PPMs: a task a small CNN masters in a
/// few epochs, under rotation too.
fn stripes_folder(root: &std::path::Path, n: usize) {
    for split in ["train", "test"] {
        for (label, class) in ["horizontal", "vertical"].iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let (period, phase) = (3 + i % 5, (i * 7) % (3 + i % 5));
                let mut rgb = Vec::with_capacity(16 * 16 * 3);
                for y in 0..16 {
                    for x in 0..16 {
                        let along = if label == 0 { y } else { x };
                        let on = (along + phase) % period <= period / 2;
                        rgb.extend([if on { 210 } else { 40 }; 3]);
                    }
                }
                ppm(&dir.join(format!("{i:03}.ppm")), 16, 16, &rgb);
            }
        }
    }
}

/// With the default threshold (1e-3), samples the model has mastered stop being searched: a
/// sensei run scores far fewer candidates than the same run with selective augmentation off,
/// and still counts 1 per skipped sample and the population per searched one.
#[test]
fn selective_augmentation_stops_searching_samples_once_they_are_robust() {
    let dir = Scratch::new();
    let per_class = 96;
    stripes_folder(&dir.path().join("stripes"), per_class);
    dir.write(
        "c.toml",
        "name = \"s\"\nseed = 5\ndevice = \"cpu\"\n\
         [dataset]\nname = \"imagefolder\"\npath = \"stripes\"\nsize = 16\n\
         [train]\nepochs = 7\nbatch_size = 32\noptimizer = { kind = \"adamw\", lr = 0.003 }\n\
         [[transforms]]\nname = \"rotation\"\nrange = [-10, 10]\nstep = 5\n\
         [strategy]\nname = \"sensei\"\npopulation = 4\n[eval]\nrobust_every = 0\nrobust_subset = 16\n",
    );
    let run = |selective: &str| -> Vec<(u64, u64)> {
        let set = format!("strategy.selective.enabled={selective}");
        fuzzaug_in(
            &["run", "c.toml", "--quiet", "--set", &set],
            Some(dir.path()),
        )
        .ok();
        let c = counts(dir.path());
        std::fs::remove_dir_all(dir.path().join("runs/s")).unwrap();
        c
    };
    let images = 2 * per_class as u64;
    let off = run("false");
    assert!(off.iter().all(|&c| c == (4 * images, 0)), "{off:?}");
    let on = run("true");
    eprintln!("(scored, skipped) per epoch, selective off: {off:?}, on: {on:?}");
    for &(scored, skipped) in &on {
        assert_eq!(scored, 4 * (images - skipped) + skipped, "{on:?}");
    }
    // Early on nothing is robust; by the end most samples cost one forward pass, not four.
    assert_eq!(on[0], (4 * images, 0), "{on:?}");
    let (last_scored, last_skipped) = *on.last().unwrap();
    assert!(last_skipped >= images / 2, "{on:?}");
    assert!(
        10 * last_scored < 6 * off.last().unwrap().0,
        "{on:?} vs {off:?}"
    );
}
