//! A run is never lost: every way a run directory was once damaged (an `--overwrite` that failed
//! half-way, `--resume` with no checkpoint, two processes on one run, a refused resume, a changed
//! config, a full disk, kills at any moment, a double Ctrl-C, a stop that waited for a whole
//! evaluation) is reproduced here against the built binary; where nothing should change, the
//! run directory's files are compared byte for byte.
use fuzzaug_tests::{fuzzaug_in, metrics_without_timing as metrics, snapshot, Scratch};
use rand::{Rng, SeedableRng};
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// `fuzzaug_tests::shapes_run` with rotation on a grid: ±20° by 10°.
fn config(epochs: u32, train: u32) -> String {
    fuzzaug_tests::shapes_run(epochs, train, "range = [-20, 20]\nstep = 10\n")
}

fn run(dir: &Path, extra: &[&str]) -> fuzzaug_tests::Run {
    let mut args = vec!["run", "c.toml", "--quiet"];
    args.extend_from_slice(extra);
    fuzzaug_in(&args, Some(dir))
}

/// Names under `dir` (recursively) that are temporary files or staging folders.
fn strays(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".tmp-") || name.contains(".new-") || name.contains(".old-") {
            out.push(p.clone());
        }
        if p.is_dir() {
            out.extend(strays(&p));
        }
    }
    out
}

fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(fuzzaug_tests::fuzzaug_bin())
        .args(["run", "c.toml", "--quiet"])
        .args(args)
        .current_dir(dir)
        .env_remove("LD_LIBRARY_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Whether process `pid` catches SIGINT yet (fuzzaug installs its handler as `run` starts;
/// before that, as in any program, SIGINT ends the process the default way).
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (SIGINT - 1)) != 0)
}

/// SIGINT's number on Linux.
const SIGINT: u32 = 2;

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// `--overwrite` checks the new config, its plugins' settings and its data before touching the
/// old run, which stays byte for byte as it was when anything is wrong; when all is right the
/// new run replaces it whole, leaving no staging folder.
#[test]
fn overwrite_checks_everything_before_replacing_the_old_run() {
    let a = Scratch::new();
    a.write("c.toml", &config(1, 64));
    run(a.path(), &[]).ok();
    std::fs::write(a.path().join("runs/t/notes.txt"), "my notes").unwrap();
    let before = snapshot(&a.path().join("runs/t"));
    let bad_setting = run(
        a.path(),
        &[
            "--overwrite",
            "--set",
            "strategy.name=\"sensei\"",
            "--set",
            "strategy.populaton=3",
        ],
    );
    assert!(
        bad_setting.fails().contains("populaton"),
        "{}",
        bad_setting.stderr
    );
    let bad_data = run(a.path(), &["--overwrite", "--set", "dataset.size=3"]);
    assert!(
        bad_data.fails().contains("dataset.size"),
        "{}",
        bad_data.stderr
    );
    assert_eq!(
        snapshot(&a.path().join("runs/t")),
        before,
        "the old run is untouched"
    );

    run(a.path(), &["--overwrite", "--set", "seed=8"]).ok();
    let after = snapshot(&a.path().join("runs/t"));
    assert!(
        !after.contains_key(Path::new("notes.txt")),
        "replaced whole"
    );
    assert!(after.contains_key(Path::new("summary.json")));
    assert!(strays(a.path()).is_empty(), "{:?}", strays(a.path()));
}

/// A failed start (bad setting) writes nothing at all: no skeleton to refuse the corrected run.
#[test]
fn a_refused_start_leaves_no_run_directory() {
    let a = Scratch::new();
    a.write("c.toml", &config(1, 64));
    run(a.path(), &["--set", "dataset.size=3"]).fails();
    assert!(!a.path().join("runs/t").exists());
    run(a.path(), &[]).ok();
}

/// `--resume` with no checkpoint never deletes a directory that holds anything: it says what
/// is there and how to proceed, and leaves it byte for byte.
#[test]
fn resume_without_a_checkpoint_refuses_a_directory_that_holds_something() {
    let a = Scratch::new();
    a.write("c.toml", &config(1, 64));
    run(a.path(), &[]).ok();
    std::fs::remove_file(a.path().join("runs/t/checkpoints/last")).unwrap();
    std::fs::write(a.path().join("runs/t/notes.txt"), "my notes").unwrap();
    let before = snapshot(&a.path().join("runs/t"));
    let err = run(a.path(), &["--resume"]).fails().to_string();
    assert!(
        err.contains("--resume: runs/t holds no checkpoint to resume from (it holds metrics.csv (1 epoch), metrics.jsonl, notes.txt, plots/, summary.json); pass --overwrite to replace it, or choose another `name`"),
        "{err}"
    );
    assert_eq!(snapshot(&a.path().join("runs/t")), before);
}

/// A resume refused for a changed config writes nothing (config.toml included), and names
/// every training key that changed with both values; keys that do not change what is trained
/// (evaluation frequency, device) may change.
#[test]
fn resume_refuses_a_changed_run_and_writes_nothing() {
    let a = Scratch::new();
    a.write("c.toml", &config(2, 64));
    let out = run(a.path(), &["--stop-after", "1"]);
    assert!(
        out.ok().contains("c.toml: stopped after epoch 1 of 2 as --stop-after asked; continue with `fuzzaug run --resume runs/t`"),
        "{}",
        out.stdout
    );
    let before = snapshot(&a.path().join("runs/t"));
    for (set, named) in [
        ("seed=8", "seed: the run has 7, this config 8"),
        (
            "train.epochs=3",
            "train.epochs: the run has 2, this config 3",
        ),
        (
            "train.optimizer={kind=\"adamw\",lr=0.001}",
            "train.optimizer.kind: the run has \"sgd\", this config \"adamw\"",
        ),
        (
            "train.optimizer.lr=0.1",
            "train.optimizer.lr: the run has 0.05, this config 0.1",
        ),
        (
            "transforms.0.range=[-30,30]",
            "transforms.0.range.0: the run has -20.0, this config -30.0",
        ),
        (
            "transforms.0.step=5",
            "transforms.0.step: the run has 10.0, this config 5.0",
        ),
        (
            "dataset.noise=4.0",
            "dataset.noise: the run has nothing, this config 4.0",
        ),
        (
            "train.hflip=false",
            "train.hflip: the run has true, this config false",
        ),
    ] {
        let err = run(a.path(), &["--resume", "--set", set])
            .fails()
            .to_string();
        assert!(
            err.contains("runs/t/checkpoints/last belongs to a different run than this config describes, so it is not resumed:")
                && err.contains(named),
            "--set {set}: {err}"
        );
        assert_eq!(snapshot(&a.path().join("runs/t")), before, "--set {set}");
    }
    // Evaluation settings and the device are not the run's identity.
    run(
        a.path(),
        &[
            "--resume",
            "--set",
            "eval.robust_every=1",
            "--set",
            "device=\"auto\"",
        ],
    )
    .ok();
    let rows = metrics(&a.path().join("runs/t"));
    assert_eq!(rows.len(), 2);
}

/// `summary.train_seconds` covers every epoch of a resumed run, not only the last session.
#[test]
fn train_seconds_sum_over_every_session() {
    let a = Scratch::new();
    a.write("c.toml", &config(3, 256));
    let dir = a.path().join("runs/t");
    let seconds_in_checkpoint = || {
        let path = dir.join("checkpoints/last");
        let ckpt = fuzzaug::rundir::checkpoint::load(&path, tch::Device::Cpu).unwrap();
        ckpt.meta.train_seconds
    };
    let epoch_seconds = || {
        let (header, rows) = fuzzaug::rundir::metrics::read_csv(&dir.join("metrics.csv")).unwrap();
        let col = header.iter().position(|h| h == "epoch_seconds").unwrap();
        rows.iter()
            .map(|r| r[col].parse::<f64>().unwrap())
            .collect::<Vec<f64>>()
    };
    run(a.path(), &["--stop-after", "2"]).ok();
    let first = seconds_in_checkpoint();
    assert!(first >= epoch_seconds().iter().sum::<f64>(), "{first}");
    run(a.path(), &["--resume"]).ok();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let total = summary["train_seconds"].as_f64().unwrap();
    let third = epoch_seconds()[2];
    assert!(
        total >= first + third,
        "train_seconds {total}: the first session's {first} and the third epoch's {third}"
    );
    assert_eq!(total, seconds_in_checkpoint());
}

/// One process per run directory: a second one is refused naming the holder's PID, before it
/// writes anything, and `sweep status` shows a held run as running.
#[test]
fn a_second_process_on_a_run_is_refused_naming_the_first() {
    let a = Scratch::new();
    a.write("c.toml", &config(3, 1024));
    let first = spawn(a.path(), &["--resume"]);
    let dir = a.path().join("runs/t");
    fuzzaug_tests::wait_for_file(&dir.join("config.toml"), Duration::from_secs(120));
    let second = run(a.path(), &["--resume"]);
    assert!(
        second.fails().contains(&format!(
            "run directory runs/t is in use by another fuzzaug process (PID {}); wait for it to end",
            first.id()
        )),
        "{}",
        second.stderr
    );
    let overwrite = run(a.path(), &["--overwrite"]);
    assert!(overwrite
        .fails()
        .contains("is in use by another fuzzaug process"));
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let epochs: Vec<String> = metrics(&dir).iter().map(|r| r[0].clone()).collect();
    assert_eq!(epochs, ["1", "2", "3"], "every epoch once");
}

/// SIGKILL at 20 random moments of a 3-epoch run, resumed each time: the metrics end identical
/// to an uninterrupted run's apart from timings, and no temporary file or staging folder is
/// left.
#[test]
fn kills_at_random_moments_resume_to_the_uninterrupted_result() {
    let reference = Scratch::new();
    reference.write("c.toml", &config(3, 512));
    let started = Instant::now();
    run(reference.path(), &[]).ok();
    let whole = started.elapsed();

    let killed = Scratch::new();
    killed.write("c.toml", &config(3, 512));
    let dir = killed.path().join("runs/t");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let mut finished_early = 0;
    for _ in 0..20 {
        let mut child = spawn(killed.path(), &["--resume"]);
        let at = whole.mul_f64(rng.random_range(0.05..1.0));
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    run(killed.path(), &["--resume"]).ok();
    assert_eq!(metrics(&dir), metrics(&reference.path().join("runs/t")));
    assert!(
        strays(killed.path()).is_empty(),
        "{:?}",
        strays(killed.path())
    );
    assert!(finished_early <= 1);
}

/// Two Ctrl-C in a row, 20 times at random moments: never a crash, always exit 130, and the
/// checkpoint always loads (the run then finishes from it).
#[test]
fn a_double_ctrl_c_never_crashes_and_keeps_the_checkpoint() {
    let a = Scratch::new();
    a.write("c.toml", &config(40, 256));
    let ckpt = a.path().join("runs/t/checkpoints/last");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for i in 0..20 {
        let child = spawn(a.path(), &["--resume"]);
        if i == 0 {
            fuzzaug_tests::wait_for_file(&ckpt, Duration::from_secs(120));
        }
        let start = Instant::now();
        while !catches_sigint(child.id()) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no SIGINT handler"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..900)));
        signal(&child, "-INT");
        std::thread::sleep(Duration::from_millis(rng.random_range(0..30)));
        signal(&child, "-INT");
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(130),
            "try {i}: {:?} {err}",
            out.status
        );
        let checked = fuzzaug_in(
            &["eval", "c.toml", "--checkpoint", "runs/t/checkpoints/last"],
            Some(a.path()),
        );
        assert!(checked.ok().contains("test accuracy"), "try {i}");
    }
    // The next start cleans what the last `_exit` may have cut short.
    run(a.path(), &["--resume", "--stop-after", "1"]).ok();
    assert!(strays(a.path()).is_empty(), "{:?}", strays(a.path()));
}

/// A stop (SIGTERM, as a scheduler sends before its grace period ends) is honoured between
/// forward passes of the robust evaluation, not after it.
#[test]
fn sigterm_stops_a_robust_evaluation_within_a_pass() {
    let a = Scratch::new();
    let genes: String = fuzzaug_tests::STUDY_GENES
        .iter()
        .map(|g| format!("[[transforms]]\nname = \"{g}\"\n"))
        .collect();
    let text = config(1, 32)
        .replace("test_size = 64", "test_size = 400")
        .replace(
            "[[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\nstep = 10\n",
            &genes,
        );
    a.write("c.toml", &text);
    let child = spawn(a.path(), &[]);
    // Training 32 images takes well under the time the 2,187-point grid over 400 images does.
    fuzzaug_tests::wait_for_file(
        &a.path().join("runs/t/config.toml"),
        Duration::from_secs(120),
    );
    std::thread::sleep(Duration::from_secs(3));
    let sent = Instant::now();
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let waited = sent.elapsed();
    println!("SIGTERM during the robust evaluation: the run ended {waited:?} later");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted in epoch 1, during the robust evaluation"),
        "{err}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "the stop waited {waited:?}"
    );
}

/// A disk that fills during a resume: the resume fails with the error, and what was on disk
/// stays whole (config, metrics, checkpoint byte for byte; no temporary file). Needs a small
/// tmpfs, so root; elsewhere the test says why it did not run.
#[test]
fn a_full_disk_leaves_every_file_whole() {
    let a = Scratch::new();
    a.write("c.toml", &config(2, 64));
    let runs = a.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(&runs)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(runs.clone());
    run(a.path(), &["--stop-after", "1"]).ok();
    let before = snapshot(&runs.join("t"));
    // Fill the disk to its last few bytes.
    let mut filler = std::fs::File::create(runs.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    let _ = std::io::Write::write_all(&mut filler, &[0u8; 1]);
    drop(filler);
    let err = run(a.path(), &["--resume"]).fails().to_string();
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(
        snapshot(&runs.join("t")),
        before,
        "every file whole, as it was"
    );
    assert!(strays(&runs).is_empty(), "{:?}", strays(&runs));
    std::fs::remove_file(runs.join("filler")).unwrap();
    run(a.path(), &["--resume"]).ok();
    assert_eq!(metrics(&runs.join("t")).len(), 2);
}

/// A run directory on the command line is a `--resume` target only.
#[test]
fn a_run_directory_without_resume_is_refused() {
    let a = Scratch::new();
    a.write("c.toml", &config(1, 64));
    run(a.path(), &[]).ok();
    let err = fuzzaug_in(&["run", "runs/t"], Some(a.path()))
        .fails()
        .to_string();
    assert!(
        err.contains("runs/t is a run directory; pass --resume to continue it (`fuzzaug run --resume runs/t`), or give the config file to start a run"),
        "{err}"
    );
    let out = fuzzaug_in(&["run", "--resume", "runs/t", "--quiet"], Some(a.path()));
    assert!(out.ok().contains("after 1 epochs"), "{}", out.stdout);
}

/// Scoring polls the stop between its forward passes: a batch with many candidates does not
/// hold a stop until all of them are scored.
#[test]
fn scoring_stops_between_passes() {
    let a = Scratch::new();
    let cfg = a.write("c.toml", &config(1, 64));
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    let session = fuzzaug::train::Session::new(&exp.config, exp.components().unwrap()).unwrap();
    // 300 candidates: three passes of at most 128 on a CPU.
    let owners: Vec<i64> = (0..300).map(|i| i % 64).collect();
    let genes = vec![10.0; owners.len()];
    let polls = std::cell::Cell::new(0);
    let stop = || {
        polls.set(polls.get() + 1);
        polls.get() > 1
    };
    let e = session
        .score_until(&owners, &[], &genes, 0, &stop)
        .unwrap_err();
    assert_eq!(e.to_string(), "stopped while scoring");
    assert!(e.is::<fuzzaug::train::Stopped>());
    assert_eq!(polls.get(), 2, "stopped before the second pass");
    let all = session
        .score_until(&owners, &[], &genes, 0, &|| false)
        .unwrap();
    assert_eq!(all.fitness.len(), 300);
}
