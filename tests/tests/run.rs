//! `fuzzaug run` end to end on a tiny `shapes` set: the run directory, determinism, kill and
//! resume, the non-finite-loss guard, and the errors.
use fuzzaug_tests::{
    fuzzaug, fuzzaug_in, fuzzaug_with, metrics_without_timing as metrics, Scratch,
};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

fn config(epochs: u32, train: u32) -> String {
    fuzzaug_tests::shapes_run(epochs, train, "")
}

fn run_in(dir: &Path, cfg: &Path, extra: &[&str]) -> fuzzaug_tests::Run {
    let mut args = vec!["run", cfg.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    fuzzaug_in(&args, Some(dir))
}

#[test]
fn a_run_writes_its_directory_and_is_deterministic() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(2, 128));
    let out = run_in(a.path(), &cfg, &[]);
    assert!(out.ok().contains("test accuracy"), "{}", out.stdout);
    let dir = a.path().join("runs/t");
    for f in [
        "config.toml",
        "metrics.csv",
        "metrics.jsonl",
        "summary.json",
        "checkpoints/last",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let header = std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(header, "epoch,lr,train_loss,train_acc,test_loss,test_acc,robust_acc,epoch_seconds,train_images_per_second,scored_candidates,skipped_robust");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for k in [
        "test_acc",
        "robust_acc",
        "robust_grid_size",
        "robust_subset",
        "train_seconds",
        "epochs",
        "strategy",
        "model",
        "dataset",
        "device",
    ] {
        assert!(summary.get(k).is_some(), "summary.json lacks {k}");
    }
    assert_eq!(summary["epochs"], 2);
    assert_eq!(summary["device"], "cpu");
    let resolved = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(
        resolved.contains("[fuzzaug.plugins.shapes]") && resolved.contains("sha256 = "),
        "{resolved}"
    );
    // The resolved config is itself a valid config.
    fuzzaug_in(
        &["check", dir.join("config.toml").to_str().unwrap()],
        Some(a.path()),
    )
    .ok();

    let b = Scratch::new();
    let cfg_b = b.write("c.toml", &config(2, 128));
    run_in(b.path(), &cfg_b, &[]).ok();
    let (ma, mb) = (metrics(&dir), metrics(&b.path().join("runs/t")));
    assert_eq!(ma.len(), 2);
    assert_eq!(ma, mb, "two CPU runs with the same seed must agree");
}

#[test]
fn an_existing_run_directory_is_not_overwritten_silently() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    run_in(a.path(), &cfg, &[]).ok();
    let err = run_in(a.path(), &cfg, &[]).fails().to_string();
    assert!(err.contains("run directory runs/t already exists (it holds checkpoints/last, metrics.csv (1 epoch), metrics.jsonl, plots/, summary.json); pass --resume to continue it or --overwrite to replace it"), "{err}");
    run_in(a.path(), &cfg, &["--overwrite"]).ok();
}

#[test]
fn a_killed_run_resumes_to_the_same_result() {
    let reference = Scratch::new();
    let cfg = reference.write("c.toml", &config(3, 1024));
    run_in(reference.path(), &cfg, &[]).ok();

    let killed = Scratch::new();
    let cfg_k = killed.write("c.toml", &config(3, 1024));
    let mut child = Command::new(fuzzaug_tests::fuzzaug_bin())
        .args(["run", cfg_k.to_str().unwrap(), "--quiet"])
        .current_dir(killed.path())
        .env_remove("LD_LIBRARY_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = killed.path().join("runs/t");
    fuzzaug_tests::wait_for_file(&dir.join("checkpoints/last"), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(300)); // into epoch 2
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = metrics(&dir).len();
    assert!(
        done_before < 3,
        "the run finished before it could be killed"
    );
    run_in(killed.path(), &cfg_k, &["--resume"]).ok();
    assert_eq!(metrics(&dir), metrics(&reference.path().join("runs/t")));
}

/// A diverging run stops at its first non-finite loss and leaves nothing worth keeping, so the
/// corrected run starts without `--overwrite`.
#[test]
fn a_non_finite_loss_stops_the_run_and_the_corrected_run_starts() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 128));
    let err = run_in(a.path(), &cfg, &["--set", "train.optimizer.lr=1e12"])
        .fails()
        .to_string();
    assert!(err.contains("non-finite training loss"), "{err}");
    assert!(err.contains("at epoch 1, batch "), "{err}");
    assert!(err.contains("no checkpoint was written yet"), "{err}");
    assert!(!a.path().join("runs/t/checkpoints/last").exists());
    run_in(a.path(), &cfg, &[]).ok();
    assert!(a.path().join("runs/t/summary.json").is_file());
}

#[test]
fn a_checkpoint_from_another_model_is_refused_naming_the_difference() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    run_in(a.path(), &cfg, &[]).ok();
    let err = run_in(
        a.path(),
        &cfg,
        &[
            "--resume",
            "--set",
            "model.arch=preact-resnet20",
            "--set",
            "train.epochs=2",
        ],
    )
    .fails()
    .to_string();
    assert!(err.contains("runs/t/checkpoints/last belongs to a different run than this config describes, so it is not resumed:\n  model.arch: the run has \"small-cnn\", this config \"preact-resnet20\"\n  train.epochs: the run has 1, this config 2\nResume with the run's own config"), "{err}");
}

#[test]
fn a_corrupt_or_truncated_checkpoint_is_refused() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    run_in(a.path(), &cfg, &[]).ok();
    let ckpt = a.path().join("runs/t/checkpoints/last");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() - 100]).unwrap();
    let err = run_in(a.path(), &cfg, &["--resume", "--set", "train.epochs=2"])
        .fails()
        .to_string();
    assert!(
        err.contains("runs/t/checkpoints/last: the checkpoint is corrupt or truncated"),
        "{err}"
    );
    std::fs::write(&ckpt, b"garbage").unwrap();
    let err = run_in(a.path(), &cfg, &["--resume", "--set", "train.epochs=2"])
        .fails()
        .to_string();
    assert!(
        err.contains("runs/t/checkpoints/last is not a fuzzaug checkpoint"),
        "{err}"
    );
}

#[test]
fn resume_without_a_checkpoint_starts_and_unwritable_output_is_an_error() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    // A scheduler launches `run --resume` every time: with nothing to resume, the run starts
    // (here in a run directory left by a start that died before its first epoch ended).
    std::fs::create_dir_all(a.path().join("runs/t/checkpoints")).unwrap();
    std::fs::write(a.path().join("runs/t/config.toml"), "stale").unwrap();
    std::fs::write(a.path().join("runs/t/metrics.csv"), "epoch,lr\n").unwrap();
    let out = fuzzaug_with(
        &["run", cfg.to_str().unwrap(), "--resume"],
        Some(a.path()),
        "info",
    );
    out.ok();
    assert!(
        out.stderr
            .contains("runs/t: replacing what a start that finished no epoch left there"),
        "{}",
        out.stderr
    );
    assert!(a.path().join("runs/t/summary.json").is_file());
    let blocker: PathBuf = a.write("file", "not a folder");
    let err = fuzzaug(&[
        "run",
        cfg.to_str().unwrap(),
        "--quiet",
        "--set",
        &format!("output_dir={:?}", blocker.display().to_string()),
    ])
    .fails()
    .to_string();
    assert!(
        err.contains(&format!(
            "`output_dir` {:?} is a file, not a folder",
            blocker.display().to_string()
        )),
        "{err}"
    );
}

#[test]
fn bad_training_settings_are_refused_before_any_work() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    for (set, msg) in [
        ("model.arch=resnet-9", "unknown model `resnet-9`"),
        (
            "train.batch_size=0",
            "`train.batch_size` must be at least 1",
        ),
        ("train.epochs=0", "`train.epochs` must be at least 1"),
        ("device=\"cuda:7\"", "device `cuda:7`: "),
    ] {
        let err = run_in(a.path(), &cfg, &["--set", set]).fails().to_string();
        assert!(err.contains(msg), "{set}: {err}");
    }
    assert!(
        !a.path().join("runs").exists(),
        "no run directory for a refused config"
    );
}

#[test]
fn eval_reports_the_checkpoints_accuracy_per_class_and_as_json() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(2, 128));
    run_in(a.path(), &cfg, &[]).ok();
    let out = fuzzaug_in(
        &[
            "eval",
            cfg.to_str().unwrap(),
            "--checkpoint",
            "runs/t/checkpoints/last",
        ],
        Some(a.path()),
    );
    let text = out.ok();
    assert!(
        text.contains("runs/t/checkpoints/last (epoch 2) on 64 test images of `shapes`"),
        "{text}"
    );
    assert!(text.contains("  circle "), "{text}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.path().join("runs/t/checkpoints/last.eval.json")).unwrap(),
    )
    .unwrap();
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.path().join("runs/t/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["test_acc"], summary["test_acc"],
        "eval of the last checkpoint reproduces the run's final accuracy"
    );
    assert_eq!(report["per_class_acc"].as_object().unwrap().len(), 10);
    let err = fuzzaug_in(
        &[
            "eval",
            cfg.to_str().unwrap(),
            "--checkpoint",
            "runs/t/nothing",
        ],
        Some(a.path()),
    )
    .fails()
    .to_string();
    assert!(
        err.contains("cannot read the checkpoint runs/t/nothing"),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(3, 1024));
    let child = Command::new(fuzzaug_tests::fuzzaug_bin())
        .args(["run", "c.toml", "--quiet"])
        .current_dir(a.path())
        .env_remove("LD_LIBRARY_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ckpt = a.path().join("runs/t/checkpoints/last");
    fuzzaug_tests::wait_for_file(&ckpt, Duration::from_secs(120));
    let before = std::fs::read(&ckpt).unwrap();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("error: run t (c.toml)"), "{err}");
    assert!(
        err.contains("interrupted in epoch 2, after batch "),
        "{err}"
    );
    assert!(err.contains("nothing of that epoch was saved. The last good checkpoint (epoch 1) is intact at runs/t/checkpoints/last; continue with `fuzzaug run --resume runs/t`"), "{err}");
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        before,
        "the checkpoint is untouched"
    );
    // The printed command continues the run from its own directory.
    fuzzaug_in(&["run", "--resume", "runs/t", "--quiet"], Some(a.path())).ok();
    assert!(a.path().join("runs/t/summary.json").is_file());
    let _ = cfg;
}

#[test]
fn robust_accuracy_is_reported_per_epoch_and_in_the_summary() {
    let a = Scratch::new();
    let text = config(2, 256).replace("[[transforms]]\nname = \"rotation\"\n", "[[transforms]]\nname = \"rotation\"\n[[transforms]]\nname = \"translate_x\"\n[eval]\nrobust_every = 1\nrobust_subset = 40\n");
    let cfg = a.write("c.toml", &text);
    let out = run_in(a.path(), &cfg, &[]);
    assert!(
        out.ok().contains("(grid of 9 on 40 images)"),
        "{}",
        out.stdout
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.path().join("runs/t/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["robust_grid_size"], 9);
    assert_eq!(summary["robust_subset"], 40);
    let robust = summary["robust_acc"].as_f64().unwrap();
    let grid = summary["robust_grid_acc"].as_f64().unwrap();
    assert!(
        robust <= grid,
        "all-of-grid accuracy {robust} cannot exceed the mean grid accuracy {grid}"
    );
    let rows = metrics(&a.path().join("runs/t"));
    assert!(
        rows.iter().all(|r| !r[5].is_empty()),
        "robust_acc filled on every epoch with robust_every = 1"
    );
    assert!(a.path().join("runs/t/plots/robust_acc.png").is_file());
}

#[test]
fn bf16_trains_under_autocast() {
    let a = Scratch::new();
    let cfg = a.write(
        "c.toml",
        &config(2, 128).replace("[train]\n", "[train]\nprecision = \"bf16\"\n"),
    );
    run_in(a.path(), &cfg, &[]).ok();
    let rows = metrics(&a.path().join("runs/t"));
    assert_eq!(rows.len(), 2);
    let loss: f64 = rows[1][2].parse().unwrap();
    assert!(loss.is_finite() && loss < 2.4, "bf16 training loss {loss}");
}

/// A folder of configs is one sweep: each runs in turn, and a second call skips the finished
/// ones and resumes an interrupted one.
#[test]
fn a_folder_of_configs_runs_in_turn_skipping_finished_runs() {
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("sweep")).unwrap();
    for name in ["a", "b"] {
        dir.write(
            &format!("sweep/{name}.toml"),
            &config(1, 64).replace("name = \"t\"", &format!("name = \"{name}\"")),
        );
    }
    let first = fuzzaug_with(&["run", "sweep", "--quiet"], Some(dir.path()), "info");
    let out = first.ok();
    assert!(out.contains("sweep/a.toml: test accuracy"), "{out}");
    assert!(out.contains("sweep/b.toml: test accuracy"), "{out}");
    // Interrupt b as a crash would: no summary, a checkpoint after its epoch.
    std::fs::remove_file(dir.path().join("runs/b/summary.json")).unwrap();
    let again = fuzzaug_with(&["run", "sweep"], Some(dir.path()), "info");
    again.ok();
    assert!(
        again.stderr.contains("sweep/a.toml: finished already") && again.stderr.contains("skipped"),
        "{}",
        again.stderr
    );
    assert!(
        !again.stderr.contains("sweep/b.toml: finished already"),
        "{}",
        again.stderr
    );
    assert!(
        dir.path().join("runs/b/summary.json").is_file(),
        "b was resumed and finished"
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let err = fuzzaug_in(&["run", "empty"], Some(dir.path()))
        .fails()
        .to_string();
    assert!(err.contains("empty holds no .toml config"), "{err}");
}
