//! Starting or resuming a run: take the run's lock, look at what its directory holds, decide
//! what the command line may do with it, restore the checkpoint when resuming, and only then
//! put the directory in place. Nothing in the directory changes before the run is accepted.
use super::{checkpointer, Options};
use crate::{
    rundir::{
        contents::{self, Asked, Contents, Plan},
        lock::RunLock,
        metrics::{self, Metrics},
        RunDir,
    },
    train::Session,
};
use anyhow::Context;

/// An accepted run, its directory in place.
pub struct Started {
    /// Held for the run's lifetime.
    pub lock: RunLock,
    /// The metrics appender.
    pub metrics: Metrics,
    /// Epochs already finished (0 for a new run).
    pub epoch: u32,
    /// Their wall seconds.
    pub train_seconds: f64,
}

/// Accepts the run in `dir` (restoring `session` when it resumes, calling `fresh` on it when it
/// starts afresh, before anything is written) and writes its resolved config `config_text`, or
/// refuses with what the directory holds and how to proceed.
pub fn start(
    dir: &RunDir,
    session: &mut Session,
    options: Options,
    config_text: &str,
    fresh: impl FnOnce(&mut Session) -> anyhow::Result<()>,
) -> anyhow::Result<Started> {
    let root = dir.path();
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the output folder {}", parent.display()))?;
    }
    let lock = RunLock::acquire(root)?;
    for done in contents::recover(root)? {
        log::warn!("{done}");
    }
    let held = Contents::of(root)?;
    let asked = Asked {
        resume: options.resume,
        overwrite: options.overwrite,
    };
    let plan = contents::plan(root, &held, asked)?;
    if held == Contents::Unstarted {
        log::info!(
            "{}: replacing what a start that finished no epoch left there",
            root.display()
        );
    }
    if plan != Plan::Resume {
        fresh(session)?;
        return Ok(Started {
            lock,
            metrics: create(dir, config_text)?,
            epoch: 0,
            train_seconds: 0.0,
        });
    }
    let (epoch, seconds) = checkpointer::restore(session, &dir.last_checkpoint())?;
    let prepared = Metrics::prepare(root, epoch)?;
    // Accepted: from here on the run writes.
    for stale in dir.remove_stale()? {
        log::info!("removed {}, left by a process that died", stale.display());
    }
    dir.write_config(config_text)?;
    let train_seconds = if seconds > 0.0 || epoch == 0 {
        seconds
    } else {
        // A checkpoint of a fuzzaug before 0.2 does not hold its seconds.
        metrics::epoch_seconds(&dir.metrics_csv(), epoch)
    };
    Ok(Started {
        lock,
        metrics: prepared.write()?,
        epoch,
        train_seconds,
    })
}

/// A new run directory built beside `dir` and swapped in (replacing an unstarted skeleton, or
/// the old run under `--overwrite`, only once it is complete).
fn create(dir: &RunDir, config_text: &str) -> anyhow::Result<Metrics> {
    let staged = contents::Staged::new(dir.path())?;
    let new = RunDir::new(&staged.path);
    new.write_config(config_text)?;
    Metrics::prepare(new.path(), 0)?.write()?;
    staged.commit()?;
    Ok(Metrics::at(dir.path()))
}
