//! Where each run of a sweep stands, from its run directory, the local runner's markers and,
//! for a Slurm sweep, `scontrol show job` (no accounting database needed).
use super::Manifest;
use crate::config::Config;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// A run's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started, or waiting in the queue (also after a requeue).
    Pending,
    /// Training now.
    Running,
    /// Its summary written ([`crate::rundir::RunDir::is_finished`]).
    Finished,
    /// Ended without finishing.
    Failed,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
        })
    }
}

/// One run's status.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    /// The run.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Epochs finished (rows of metrics.csv).
    pub epochs_done: u32,
    /// Epochs planned by its config.
    pub epochs: u32,
    /// Where the state came from or why it failed.
    pub detail: String,
}

fn planned_epochs(config: &Path) -> u32 {
    std::fs::read_to_string(config)
        .ok()
        .and_then(|t| toml::from_str::<Config>(&t).ok())
        .map(|c| c.train.epochs)
        .unwrap_or(0)
}

fn alive(pid: &str) -> bool {
    let pid = pid.trim();
    !pid.is_empty()
        && pid.chars().all(|c| c.is_ascii_digit())
        && Path::new("/proc").join(pid).exists()
}

/// The state the local runner's markers (`logs/<run>.pid`, `logs/<run>.exit`) tell.
fn local_state(dir: &Path, run: &str) -> Option<(State, String)> {
    let logs = dir.join("logs");
    let log = format!("logs/{run}.log");
    if let Ok(code) = std::fs::read_to_string(logs.join(format!("{run}.exit"))) {
        let code = code.trim().to_string();
        return Some(if code == "0" {
            (State::Finished, "local".into())
        } else {
            (State::Failed, format!("exit {code}, see {log}"))
        });
    }
    let pid = std::fs::read_to_string(logs.join(format!("{run}.pid"))).ok()?;
    Some(if alive(&pid) {
        (State::Running, format!("local, pid {}", pid.trim()))
    } else {
        (State::Failed, format!("its process is gone, see {log}"))
    })
}

/// Maps a Slurm job state to a run state.
fn slurm_state(s: &str) -> State {
    match s {
        "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "CONFIGURING" | "SUSPENDED"
        | "RESV_DEL_HOLD" => State::Pending,
        "RUNNING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING" => State::Running,
        "COMPLETED" => State::Finished,
        _ => State::Failed,
    }
}

/// Every run's status. `slurm` maps array indices to Slurm job states, where known.
pub fn of_runs(
    dir: &Path,
    manifest: &Manifest,
    slurm: Option<&HashMap<usize, String>>,
) -> Vec<RunStatus> {
    manifest
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let run_dir = Manifest::run_dir(dir, &r.name);
            let run = crate::rundir::RunDir::new(&run_dir);
            let finished = run.is_finished();
            let (state, detail) = if finished {
                (State::Finished, String::new())
            } else if let Some(pid) = crate::rundir::lock::holder(&run_dir) {
                let pid = pid.map(|p| format!(", pid {p}")).unwrap_or_default();
                (State::Running, format!("holds its run lock{pid}"))
            } else if let Some(s) = slurm.and_then(|m| m.get(&i)) {
                let state = match slurm_state(s) {
                    State::Finished => State::Failed, // completed without a summary
                    other => other,
                };
                (state, format!("Slurm {s}"))
            } else if let Some(local) = local_state(dir, &r.name) {
                local
            } else {
                (State::Pending, String::new())
            };
            RunStatus {
                name: r.name.clone(),
                state,
                epochs_done: run.epochs_done(),
                epochs: planned_epochs(&r.config),
                detail,
            }
        })
        .collect()
}

/// The table `fuzzaug sweep status` prints.
pub fn table(rows: &[RunStatus]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(3).max(3);
    let mut s = format!(
        "{:<width$}  {:<9} {:>7}  detail\n",
        "run", "state", "epochs"
    );
    for r in rows {
        let line = format!(
            "{:<width$}  {:<9} {:>7}  {}",
            r.name,
            r.state.to_string(),
            format!("{}/{}", r.epochs_done, r.epochs),
            r.detail
        );
        s += line.trim_end();
        s.push('\n');
    }
    let count = |st: State| rows.iter().filter(|r| r.state == st).count();
    s += &format!(
        "{} runs: {} finished, {} running, {} pending, {} failed\n",
        rows.len(),
        count(State::Finished),
        count(State::Running),
        count(State::Pending),
        count(State::Failed)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_states_map_to_run_states() {
        assert_eq!(slurm_state("PENDING"), State::Pending);
        assert_eq!(slurm_state("REQUEUED"), State::Pending);
        assert_eq!(slurm_state("RUNNING"), State::Running);
        assert_eq!(slurm_state("COMPLETED"), State::Finished);
        for s in [
            "FAILED",
            "CANCELLED",
            "TIMEOUT",
            "NODE_FAIL",
            "PREEMPTED",
            "OUT_OF_MEMORY",
        ] {
            assert_eq!(slurm_state(s), State::Failed, "{s}");
        }
    }
}
