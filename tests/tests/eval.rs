//! `fuzzaug eval` on a run directory: the run's own threat model by default, a `--threat`
//! file's genes and protocols otherwise, and every bad threat model refused at its line and
//! column before any work. (The protocols' ordering on trained models is in `robustness.rs`.)
use fuzzaug_tests::{fuzzaug_in, shapes_run, Scratch};

fn trained() -> Scratch {
    let dir = Scratch::new();
    dir.write(
        "c.toml",
        &shapes_run(1, 64, "range = [-20, 20]\nstep = 10\n"),
    );
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    dir
}

fn eval(dir: &Scratch, threat: &str) -> fuzzaug_tests::Run {
    dir.write("t.toml", threat);
    fuzzaug_in(&["eval", "runs/t", "--threat", "t.toml"], Some(dir.path()))
}

const GENE: &str = "[[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n";

#[test]
fn the_runs_own_threat_model_and_a_checkpoint_path_both_work() {
    let dir = trained();
    let out = fuzzaug_in(&["eval", "runs/t"], Some(dir.path()));
    let text = out.ok();
    assert!(text.contains("  grid-3 "), "{text}");
    assert!(dir.path().join("runs/t/eval/default/eval.json").is_file());
    let out = fuzzaug_in(
        &["eval", "runs/t/checkpoints/last", "--out", "elsewhere"],
        Some(dir.path()),
    );
    assert!(out.ok().contains("(epoch 1)"), "{}", out.stdout);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("elsewhere/eval.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["evaluation"]["protocols"][0]["queries_per_image"], 3);
    // Genes the model never trained on.
    let out = eval(
        &dir,
        "[[transforms]]\nname = \"brightness\"\n[[transforms]]\nname = \"zoom\"\n[[protocols]]\nkind = \"worst-of-k\"\nk = 5\n",
    );
    assert!(out.ok().contains("worst-of-5"), "{}", out.stdout);
    let err = fuzzaug_in(&["eval", "c.toml"], Some(dir.path()))
        .fails()
        .to_string();
    assert!(
        err.contains("c.toml is neither a run directory nor a checkpoint inside one; give a config with `fuzzaug eval CONFIG --checkpoint c.toml`"),
        "{err}"
    );
}

#[test]
fn bad_threat_models_are_refused_at_their_key() {
    let dir = trained();
    for (protocols, expected) in [
        (
            "[[protocols]]\nkind = \"lattice\"\n",
            "t.toml:6:8: unknown variant `lattice`, expected one of `grid`, `worst-of-k`, `search`",
        ),
        (
            "[[protocols]]\nkind = \"search\"\nstrategy = \"sensei\"\nbudget = 0\n",
            "t.toml:8:10: `budget` must be at least 1 query per image",
        ),
        (
            "[[protocols]]\nkind = \"search\"\nstrategy = \"senssei\"\nbudget = 10\n",
            "t.toml:7:12: unknown strategy `senssei`",
        ),
        (
            "[[protocols]]\nkind = \"grid\"\npoints = 1\n",
            "t.toml:7:10: gene `rotation`: `points` must be at least 2, got 1",
        ),
        (
            "[[protocols]]\nkind = \"grid\"\npoints = 4\n",
            "t.toml:7:10: gene `rotation`: 4 points over [-20, 20] would miss the identity 0; use an odd number",
        ),
        (
            "[[protocols]]\nkind = \"worst-of-k\"\nk = 0\n",
            "t.toml:7:5: `k` must be at least 1",
        ),
    ] {
        let err = eval(&dir, &format!("{GENE}\n{protocols}")).fails().to_string();
        assert!(err.contains(expected), "{protocols}\n{err}");
    }
    let err = eval(
        &dir,
        "[[transforms]]\nname = \"rotation\"\nrange = [-400, 20]\n",
    )
    .fails()
    .to_string();
    assert!(
        err.contains("t.toml:3:9: range [-400, 20] of `rotation` is outside its limits"),
        "{err}"
    );
    let err = fuzzaug_in(
        &["eval", "runs/t", "--threat", "none.toml"],
        Some(dir.path()),
    )
    .fails()
    .to_string();
    assert!(
        err.contains("cannot read the threat model none.toml"),
        "{err}"
    );
}

/// `--failures N` writes the N most confident failures, one per image, as a picture and as
/// JSONL; `--replay` rebuilds one from its line and the model gets it wrong again.
#[test]
fn failures_are_written_and_each_one_replays() {
    let dir = trained();
    dir.write(
        "t.toml",
        "[[transforms]]\nname = \"rotation\"\nrange = [-40, 40]\n[[transforms]]\nname = \"brightness\"\n[[protocols]]\nkind = \"grid\"\npoints = 9\n",
    );
    let args = ["eval", "runs/t", "--threat", "t.toml", "--failures", "5"];
    let out = fuzzaug_in(&args, Some(dir.path()));
    assert!(
        out.ok()
            .contains("5 failures in runs/t/eval/t/failures.png"),
        "{}",
        out.stdout
    );
    let jsonl = std::fs::read_to_string(dir.path().join("runs/t/eval/t/failures.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 5);
    let confidence: Vec<f64> = records
        .iter()
        .map(|r| r["confidence"].as_f64().unwrap())
        .collect();
    assert!(
        confidence.windows(2).all(|w| w[0] >= w[1]),
        "{confidence:?}"
    );
    let mut images: Vec<u64> = records
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    images.dedup();
    assert_eq!(images.len(), 5, "one failure per image");
    for r in &records {
        assert_ne!(r["label"], r["predicted"], "{r}");
    }
    assert!(dir.path().join("runs/t/eval/t/failures.png").is_file());
    for line in ["1", "5"] {
        let out = fuzzaug_in(
            &["eval", "runs/t", "--threat", "t.toml", "--replay", line],
            Some(dir.path()),
        );
        assert!(out.ok().contains(": reproduced"), "{}", out.stdout);
    }
    // A record that no longer matches what the model says is reported, not passed.
    let path = dir.path().join("runs/t/eval/t/failures.jsonl");
    let mut edited = records[0].clone();
    edited["predicted"] = serde_json::json!((edited["predicted"].as_u64().unwrap() + 1) % 10);
    let rest: Vec<String> = jsonl.lines().skip(1).map(str::to_string).collect();
    std::fs::write(&path, format!("{edited}\n{}\n", rest.join("\n"))).unwrap();
    let err = fuzzaug_in(
        &["eval", "runs/t", "--threat", "t.toml", "--replay", "1"],
        Some(dir.path()),
    )
    .fails()
    .to_string();
    assert!(
        err.contains(": NOT reproduced (another model, or the record was edited)"),
        "{err}"
    );
    let err = fuzzaug_in(
        &["eval", "runs/t", "--threat", "t.toml", "--replay", "6"],
        Some(dir.path()),
    )
    .fails()
    .to_string();
    assert!(
        err.contains("runs/t/eval/t/failures.jsonl has 5 failures; there is no failure 6"),
        "{err}"
    );
}

/// A config's `[[eval.protocols]]` run at `robust_every` during training (JSONL, under
/// "protocols"), are checked by `check` at their line, and are `eval`'s default threat.
#[test]
fn a_configs_protocols_run_during_training_and_are_checked_up_front() {
    let dir = Scratch::new();
    let base = shapes_run(2, 64, "range = [-20, 20]\nstep = 10\n");
    let protocols = "[eval]\nrobust_every = 1\n[[eval.protocols]]\nkind = \"grid\"\npoints = 5\n[[eval.protocols]]\nkind = \"worst-of-k\"\nk = 3\n";
    dir.write("c.toml", &format!("{base}{protocols}"));
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    let jsonl = std::fs::read_to_string(dir.path().join("runs/t/metrics.jsonl")).unwrap();
    for line in jsonl.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let p = &row["protocols"];
        for name in ["grid-5", "worst-of-3"] {
            let acc = p[name]
                .as_f64()
                .unwrap_or_else(|| panic!("{name} in {row}"));
            assert!((0.0..=1.0).contains(&acc), "{row}");
        }
    }
    let out = fuzzaug_in(&["eval", "runs/t"], Some(dir.path()));
    assert!(out.ok().contains("  worst-of-3 "), "{}", out.stdout);

    let bad = format!("{base}{}", protocols.replace("points = 5", "points = 4"));
    dir.write("bad.toml", &bad);
    let line = bad.lines().position(|l| l == "points = 4").unwrap() + 1;
    let err = fuzzaug_in(&["check", "bad.toml"], Some(dir.path()))
        .fails()
        .to_string();
    assert!(
        err.contains(&format!(
            "bad.toml:{line}:10: gene `rotation`: 4 points over [-20, 20] would miss the identity 0; use an odd number"
        )),
        "{err}"
    );
}
