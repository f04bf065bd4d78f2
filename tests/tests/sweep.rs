//! `fuzzaug sweep`: expansion, `--local -j N`, `status`, `collect`, and bad input. The Slurm
//! path against a real local cluster is in `slurm.rs`.
use fuzzaug_tests::{fuzzaug, fuzzaug_in, tiny_config, Scratch};
use std::path::Path;

fn sweep_file(dir: &Path, axes: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("base.toml"), tiny_config(200, 2)).unwrap();
    let p = dir.join("s.toml");
    std::fs::write(&p, format!("base = \"base.toml\"\n[axes]\n{axes}\n")).unwrap();
    p
}

#[test]
fn dry_run_prints_every_combination_and_writes_nothing() {
    let d = Scratch::new();
    let s = sweep_file(
        d.path(),
        "\"strategy.name\" = [\"standard\", \"w10\"]\n\"transforms.*.step\" = [10, { absent = true }]\nseed = [1, 2]",
    );
    let out = fuzzaug(&["sweep", s.to_str().unwrap(), "--dry-run"]);
    let text = out.ok();
    for line in [
        "  #  run                         strategy.name  transforms.*.step  seed",
        "  0  standard_step10_seed1       standard       10                 1",
        "  3  standard_step-absent_seed2  standard       absent             2",
        "  7  w10_step-absent_seed2       w10            absent             2",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
    }
    assert!(text.contains("8 runs of "), "{text}");
    assert!(!d.path().join("s").exists(), "a dry run writes nothing");
}

#[test]
fn local_sweep_runs_two_at_a_time_skips_finished_runs_and_collects() {
    let d = Scratch::new();
    let s = sweep_file(
        d.path(),
        "\"strategy.name\" = [\"standard\", \"random\", \"w10\"]",
    );
    let file = s.to_str().unwrap();
    let text = fuzzaug(&["sweep", file, "--local", "-j", "2"])
        .ok()
        .to_string();
    assert!(text.contains("all 3 runs finished"), "{text}");
    let dir = d.path().join("s");
    for run in ["standard", "random", "w10"] {
        let cfg = std::fs::read_to_string(dir.join(format!("configs/{run}.toml"))).unwrap();
        assert!(cfg.contains(&format!("name = \"{run}\"")), "{cfg}");
        assert!(
            dir.join(format!("runs/{run}/summary.json")).is_file(),
            "{run}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(format!("logs/{run}.exit"))).unwrap(),
            "0"
        );
    }
    let status = fuzzaug(&["sweep", "status", dir.to_str().unwrap()])
        .ok()
        .to_string();
    assert!(
        status.contains("3 runs: 3 finished, 0 running, 0 pending, 0 failed"),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("w10 ") && l.contains("finished") && l.contains("2/2")),
        "{status}"
    );
    // A run whose lock is held is running, whatever the markers say.
    let w10 = dir.join("runs/w10");
    let summary = std::fs::read(w10.join("summary.json")).unwrap();
    std::fs::remove_file(w10.join("summary.json")).unwrap();
    let lock = fuzzaug::rundir::lock::RunLock::acquire(&w10).unwrap();
    let status = fuzzaug(&["sweep", "status", dir.to_str().unwrap()])
        .ok()
        .to_string();
    let line = format!("holds its run lock, pid {}", std::process::id());
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("w10 ") && l.contains("running") && l.ends_with(&line)),
        "{status}"
    );
    drop(lock);
    std::fs::write(w10.join("summary.json"), summary).unwrap();
    let again = fuzzaug(&["sweep", file, "--local", "-j", "2"])
        .ok()
        .to_string();
    assert_eq!(
        again.matches("finished already, skipped").count(),
        3,
        "{again}"
    );
    let collect = fuzzaug(&["sweep", "collect", dir.to_str().unwrap()])
        .ok()
        .to_string();
    assert!(
        collect.contains("| w10 | shapes | small-cnn |"),
        "{collect}"
    );
    let csv = std::fs::read_to_string(dir.join("report/table.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[test]
fn bad_sweeps_are_clear_errors() {
    let d = Scratch::new();
    let run = |axes: &str| {
        let s = sweep_file(d.path(), axes);
        fuzzaug(&["sweep", s.to_str().unwrap(), "--dry-run"])
            .fails()
            .to_string()
    };
    let e = run("\"train.epochz\" = [1, 2]");
    assert!(
        e.contains("axis `train.epochz` = 1: unknown field `epochz`"),
        "{e}"
    );
    let e = run("seed = []");
    assert!(e.contains("s.toml: axis `seed` has no values"), "{e}");
    let e = run("seed = 3");
    assert!(e.contains("axis `seed` must be a list of values"), "{e}");
    let e = run("seed = [1, 1]");
    assert!(e.contains("axis `seed` lists `1` twice"), "{e}");
    let e = run("\"transforms.4.step\" = [1]");
    assert!(
        e.contains("axis `transforms.4.step`: `transforms` is a list of 1 tables"),
        "{e}"
    );
    // A key only the plugin knows is checked when the configs are written.
    let s = sweep_file(d.path(), "\"strategy.kk\" = [3]");
    let e = fuzzaug(&["sweep", s.to_str().unwrap()]).fails().to_string();
    assert!(e.contains("run `kk3` (strategy.kk = 3)"), "{e}");
    assert!(e.contains("unknown key `kk`"), "{e}");
    let e = fuzzaug(&["sweep", "status", d.path().to_str().unwrap()])
        .fails()
        .to_string();
    assert!(e.contains("is not a sweep folder: cannot read"), "{e}");
    let e = fuzzaug(&["sweep", "/nonexistent/s.toml"])
        .fails()
        .to_string();
    assert!(
        e.contains("/nonexistent/s.toml: cannot read the sweep file"),
        "{e}"
    );
    std::fs::write(d.path().join("nobase.toml"), "[axes]\nseed = [1]\n").unwrap();
    let e = fuzzaug_in(&["sweep", "nobase.toml"], Some(d.path()))
        .fails()
        .to_string();
    assert!(
        e.contains("nobase.toml: `base` (the config every run starts from) is missing"),
        "{e}"
    );
}

#[test]
fn slurm_without_sbatch_says_so() {
    let d = Scratch::new();
    let s = sweep_file(d.path(), "seed = [1]");
    let empty = Scratch::new();
    let out = std::process::Command::new(fuzzaug_tests::fuzzaug_bin())
        .args(["sweep", s.to_str().unwrap(), "--slurm"])
        .env("PATH", empty.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("sbatch is not installed or not on PATH"),
        "{err}"
    );
}

/// The sweep file the README and `sweep --help` name is shipped and expands as they say.
#[test]
fn shipped_sweep_file_expands_to_the_eight_runs_the_readme_shows() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sweeps/cifar-strategies.toml");
    let out = fuzzaug(&["sweep", file.to_str().unwrap(), "--dry-run"]);
    let text = out.ok();
    for line in [
        "  #  run             strategy.name  seed",
        "  0  standard_seed0  standard       0",
        "  7  sensei_seed1    sensei         1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
    }
    assert!(
        text.contains("8 runs of ")
            && text.contains("reimpl-resnet50-cifar-discrete-standard.toml"),
        "{text}"
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let shipped = std::fs::read_to_string(&file).unwrap();
    for line in shipped
        .lines()
        .filter(|l| l.starts_with("base =") || l.starts_with('"'))
    {
        assert!(
            readme.contains(line),
            "README shows the shipped line {line:?}"
        );
    }
}
