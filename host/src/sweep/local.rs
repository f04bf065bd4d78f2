//! Running a sweep on this machine, `jobs` runs at a time, each as its own
//! `fuzzaug run CONFIG --resume` process: finished runs are skipped, interrupted ones resume.
use super::Manifest;
use crate::setup::PluginFlags;
use anyhow::{bail, Context};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished before this call: skipped.
    Skipped,
    /// Ran to the end.
    Finished,
    /// Exited with this code (or was killed: `None`).
    Failed(Option<i32>),
}

fn start(
    exe: &Path,
    plugins: &PluginFlags,
    dir: &Path,
    name: &str,
    config: &Path,
) -> anyhow::Result<Child> {
    let logs = dir.join("logs");
    let log_path = logs.join(format!("{name}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let _ = std::fs::remove_file(logs.join(format!("{name}.exit")));
    let mut cmd = Command::new(exe);
    for d in &plugins.dirs {
        cmd.arg("--plugin-dir").arg(d);
    }
    for n in &plugins.isolate {
        cmd.arg("--isolate").arg(n);
    }
    let child = cmd
        .arg("run")
        .arg(config)
        .args(["--resume", "--quiet"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    std::fs::write(logs.join(format!("{name}.pid")), child.id().to_string())?;
    Ok(child)
}

/// Runs every unfinished run of the sweep in `dir`, `jobs` at a time; `report` hears each
/// start and end. Fails, after all have ended, when any run failed.
pub fn run_all(
    dir: &Path,
    manifest: &Manifest,
    jobs: usize,
    exe: &Path,
    plugins: &PluginFlags,
    report: impl Fn(&str),
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let mut queue = Vec::new();
    for r in &manifest.runs {
        if crate::rundir::RunDir::new(Manifest::run_dir(dir, &r.name)).is_finished() {
            report(&format!("{}: finished already, skipped", r.name));
            outcomes.push((r.name.clone(), Outcome::Skipped));
        } else {
            queue.push(r);
        }
    }
    queue.reverse();
    let mut running: Vec<(String, Child)> = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < jobs.max(1) {
            let Some(r) = queue.pop() else { break };
            let resumes =
                crate::rundir::RunDir::new(Manifest::run_dir(dir, &r.name)).epochs_done() > 0;
            report(&format!(
                "{}: {} (log: {})",
                r.name,
                if resumes { "resuming" } else { "started" },
                dir.join("logs").join(format!("{}.log", r.name)).display()
            ));
            running.push((
                r.name.clone(),
                start(exe, plugins, dir, &r.name, &r.config)?,
            ));
        }
        let mut still = Vec::new();
        for (name, mut child) in running {
            match child.try_wait()? {
                Some(exit) => {
                    let code = exit.code();
                    let text = code.map_or("killed".to_string(), |c| c.to_string());
                    std::fs::write(dir.join("logs").join(format!("{name}.exit")), &text)?;
                    let outcome = if exit.success() {
                        Outcome::Finished
                    } else {
                        Outcome::Failed(code)
                    };
                    report(&format!(
                        "{name}: {}",
                        if exit.success() {
                            "finished".to_string()
                        } else {
                            format!("failed (exit {text})")
                        }
                    ));
                    outcomes.push((name, outcome));
                }
                None => still.push((name, child)),
            }
        }
        running = still;
        std::thread::sleep(Duration::from_millis(200));
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(n, _)| {
            format!(
                "{n} (see {})",
                dir.join("logs").join(format!("{n}.log")).display()
            )
        })
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} of {} runs failed: {}",
            failed.len(),
            manifest.runs.len(),
            failed.join(", ")
        );
    }
    Ok(outcomes)
}
