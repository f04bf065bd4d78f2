//! `fuzzaug sweep --slurm` against a real Slurm: a private one-node cluster on localhost
//! (`tests/slurm/cluster.sh`, Debian 12's Slurm 22.05 and munge, installed when missing).
//! A sweep of three tiny runs goes in as one job array; one task gets SIGTERM mid-run, is
//! requeued, and must end exactly like the same run of a `--local -j 2` sweep.
use fuzzaug_tests::{fuzzaug_bin, metrics_without_timing as metrics, tiny_config, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo().join("tests/slurm/cluster.sh"))
        .args(args)
        .output()
        .expect("bash")
}

/// The cluster, stopped on drop (also when an assertion fails).
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Self {
        let out = script(&["install"]);
        assert!(
            out.status.success(),
            "installing Slurm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = script(&["start", dir.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "starting Slurm: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conf = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export SLURM_CONF="))
            .unwrap_or_else(|| panic!("no SLURM_CONF in {stdout}"))
            .trim()
            .to_string();
        Self {
            dir: dir.to_path_buf(),
            conf,
        }
    }

    /// A Slurm client command against this cluster.
    fn client(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn fuzzaug(&self, args: &[&str]) -> Output {
        Command::new(fuzzaug_bin())
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .env("RUST_LOG", "warn")
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = script(&["stop", self.dir.to_str().unwrap()]);
        if !out.status.success() {
            eprintln!("stopping Slurm: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "fuzzaug failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn rows(run_dir: &Path) -> usize {
    std::fs::read_to_string(run_dir.join("metrics.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

fn sweep(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("base.toml"), tiny_config(400, 4)).unwrap();
    let p = dir.join("three.toml");
    std::fs::write(
        &p,
        "base = \"base.toml\"\n[axes]\n\"strategy.name\" = [\"standard\", \"random\", \"w10\"]\n",
    )
    .unwrap();
    p
}

#[test]
fn a_slurm_job_array_survives_sigterm_and_requeue_and_matches_a_local_sweep() {
    let work = Scratch::new();
    let cluster = Cluster::start(&work.path().join("cluster"));

    // Bad input first: the scheduler's own message comes through.
    let bad = sweep(&work.path().join("bad"));
    let out = cluster.fuzzaug(&[
        "sweep",
        bad.to_str().unwrap(),
        "--slurm",
        "--partition",
        "nosuch",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("sbatch refused the job array"), "{err}");
    assert!(err.to_lowercase().contains("invalid partition"), "{err}");

    let file = sweep(&work.path().join("slurm"));
    let dir = work.path().join("slurm/three");
    let text = ok(&cluster.fuzzaug(&[
        "sweep",
        file.to_str().unwrap(),
        "--slurm",
        "--time",
        "10:00",
    ]));
    let job = text
        .lines()
        .find_map(|l| l.strip_prefix("submitted job array "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no job id in {text}"))
        .to_string();
    let script = std::fs::read_to_string(dir.join("submit.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --array=0-2") && script.contains("#SBATCH --time=10:00"),
        "{script}"
    );

    // SIGTERM to the w10 task once its first epoch is saved, before it finishes.
    let w10 = dir.join("runs/w10");
    wait_for("w10's first epoch", Duration::from_secs(240), || {
        rows(&w10) >= 1
    });
    assert!(
        !w10.join("summary.json").exists(),
        "w10 finished before it could be interrupted"
    );
    let task = format!("{job}_2");
    cluster.client("scancel", &["--full", "--signal=TERM", &task]);
    wait_for(
        "the interrupted task to end",
        Duration::from_secs(60),
        || {
            let s = cluster.client("scontrol", &["show", "job", &task]);
            s.contains("JobState=FAILED") || s.contains("JobState=COMPLETED")
        },
    );
    let interrupted_at = rows(&w10);
    assert!(
        !w10.join("summary.json").exists(),
        "SIGTERM did not stop the run"
    );
    assert!(interrupted_at < 4, "{interrupted_at} epochs");
    let status = ok(&cluster.fuzzaug(&["sweep", "status", dir.to_str().unwrap()]));
    assert!(
        status.contains(&format!("Slurm job array {job}")),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("w10 ") && l.contains("failed") && l.contains("Slurm FAILED")),
        "{status}"
    );

    cluster.client("scontrol", &["requeue", &task]);
    // Slurm gives a requeued task a begin time in the future; moving it to now can race the
    // requeue itself, so it is repeated while the task waits.
    let mut last_nudge = Instant::now() - Duration::from_secs(60);
    let mut requeues = 0;
    let all_done = || {
        ["standard", "random", "w10"]
            .iter()
            .all(|r| dir.join(format!("runs/{r}/summary.json")).is_file())
    };
    let start = Instant::now();
    while !all_done() {
        if start.elapsed() > Duration::from_secs(300) {
            let job_state = cluster.client("scontrol", &["show", "job", &task]);
            let log = std::fs::read_to_string(dir.join(format!("logs/slurm-{job}_2.out")))
                .unwrap_or_default();
            panic!("timed out after 300 s waiting for all three runs:\n{job_state}\n{log}");
        }
        if last_nudge.elapsed() > Duration::from_secs(10) {
            let s = cluster.client("scontrol", &["show", "job", &task]);
            // slurmd can start the requeued task while the interrupted one's step is still
            // being cleaned up, and then fails it at once (exit 1, no second of run time, not a
            // line in its log: fuzzaug never ran). Requeue again, a few times at most.
            if s.contains("JobState=FAILED") && s.contains("RunTime=00:00:00") && requeues < 3 {
                requeues += 1;
                std::thread::sleep(Duration::from_secs(2));
                cluster.client("scontrol", &["requeue", &task]);
            }
            if s.contains("JobState=PENDING") {
                // Fails harmlessly when the task has just started.
                let _ = Command::new("scontrol")
                    .args(["update", &format!("JobId={task}"), "StartTime=now"])
                    .env("SLURM_CONF", &cluster.conf)
                    .output();
            }
            last_nudge = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let log =
        std::fs::read_to_string(dir.join(format!("logs/slurm-{job}_2.out"))).unwrap_or_default();
    assert!(
        log.contains("interrupt"),
        "the task's log shows the interrupt: {log}"
    );
    let status = ok(&cluster.fuzzaug(&["sweep", "status", dir.to_str().unwrap()]));
    assert!(
        status.contains("3 runs: 3 finished, 0 running, 0 pending, 0 failed"),
        "{status}"
    );
    let collect = ok(&cluster.fuzzaug(&["sweep", "collect", dir.to_str().unwrap()]));
    for r in ["standard", "random", "w10"] {
        assert!(
            collect.contains(&format!("| {r} | shapes | small-cnn |")),
            "{collect}"
        );
    }

    // The same sweep here, two at a time: the same results, the requeued run included.
    let local_file = sweep(&work.path().join("local"));
    ok(&cluster.fuzzaug(&["sweep", local_file.to_str().unwrap(), "--local", "-j", "2"]));
    let local = work.path().join("local/three");
    for r in ["standard", "random", "w10"] {
        assert_eq!(
            metrics(&dir.join(format!("runs/{r}"))),
            metrics(&local.join(format!("runs/{r}"))),
            "{r}: Slurm and local sweeps differ"
        );
    }
    drop(cluster);
}
