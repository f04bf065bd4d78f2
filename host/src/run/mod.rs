//! A run: the epoch loop around a training [`Session`](crate::train::Session), writing its
//! [`RunDir`]. The parts, in the order a run meets them: [`start`] (lock, what the directory
//! holds, resume or not, the directory put in place), [`epochs`] (train, test, robust
//! evaluation, metrics row, [`checkpointer`]), [`report`] (plots, summary); [`interrupt`]
//! turns signals into a clean stop.
pub mod best;
pub mod board;
pub mod checkpointer;
pub mod epochs;
pub mod interrupt;
pub mod progress;
pub mod report;
pub mod start;

use crate::{
    rundir::{
        resolved::{self, PluginRecord, Provenance},
        summary::Summary,
        RunDir,
    },
    setup::Experiment,
    train::Session,
};
use std::path::Path;

/// How to treat an existing run directory, and what to print.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Continue from the run directory's last checkpoint.
    pub resume: bool,
    /// Replace an existing run directory.
    pub overwrite: bool,
    /// No progress bars and no per-epoch lines.
    pub quiet: bool,
    /// Train at most this many epochs in this session, then stop with the run resumable.
    pub stop_after: Option<u32>,
}

/// How a session of a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every epoch trained; the summary is written.
    Finished {
        /// The run directory.
        dir: RunDir,
        /// What its summary holds.
        summary: Box<Summary>,
    },
    /// Stopped as `stop_after` asked, after `epoch` of `epochs` epochs.
    Paused {
        /// The run directory.
        dir: RunDir,
        /// Epochs finished.
        epoch: u32,
        /// Epochs of the run.
        epochs: u32,
    },
}

/// The run directory of a config.
pub fn run_dir(exp: &Experiment) -> RunDir {
    RunDir::of(&exp.config.output_dir, &exp.config.name)
}

/// The provenance of a run of `exp`: fuzzaug's version, libtorch, the config it was started
/// from, and each plugin library's path, SHA-256 and fingerprint.
fn provenance(exp: &Experiment) -> Provenance {
    let absolute = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let plugins = exp
        .registry
        .libraries()
        .iter()
        .map(|lib| {
            let record = PluginRecord {
                path: lib.path.display().to_string(),
                sha256: lib.sha256.clone(),
                fingerprint: lib
                    .fingerprint
                    .fields()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            };
            (lib.name().to_string(), record)
        })
        .collect();
    Provenance {
        version: env!("CARGO_PKG_VERSION").to_string(),
        libtorch: crate::runtime::built_libtorch().to_string(),
        config: Some(absolute(&exp.source.path)),
        config_dir: Some(absolute(&exp.base_dir)),
        plugins,
    }
}

/// `[model] init`: the weights a new run starts from, loaded into `session` with what was
/// loaded, skipped and re-initialised, and the test accuracy they give before any training.
fn start_from_weights(exp: &Experiment, session: &mut Session, quiet: bool) -> anyhow::Result<()> {
    let Some((source, loaded)) = crate::weights::init::from_config(exp, session)? else {
        return Ok(());
    };
    let acc = session.evaluate()?;
    if !quiet {
        println!(
            "{}: started from {}: {loaded}; test accuracy before training {:.4}",
            exp.config.name,
            source.display(),
            acc.accuracy
        );
    }
    log::info!("init from {}: {loaded}", source.display());
    Ok(())
}

/// Trains `exp` to the end (or for `options.stop_after` epochs), writing its run directory.
///
/// Everything is checked before the run directory is touched: the config, the plugins and
/// their settings, the dataset files (the session loads them), the lock, what the directory
/// holds and, when resuming, that its checkpoint belongs to this very run.
pub fn run(exp: &Experiment, options: Options) -> anyhow::Result<Outcome> {
    // From the start, so a Ctrl-C while the data loads stops the run before it trains rather
    // than killing it wherever it is.
    interrupt::install();
    let dir = run_dir(exp);
    exp.preflight()?;
    let mut session = Session::new(&exp.config, exp.components()?)?;
    // The run's own protocols, checked before anything is written.
    let threat = if exp.config.eval.protocols.is_empty() {
        None
    } else {
        let threat = crate::eval::Threat::of_run(exp)?;
        threat.check_against(&session.parts.genes)?;
        Some(threat)
    };
    let text = resolved::to_text(&exp.config, &provenance(exp))?;
    let init = |session: &mut Session| start_from_weights(exp, session, options.quiet);
    let started = start::start(&dir, &mut session, options, &text, init)?;
    let best = match exp.config.train.keep_best {
        Some(metric) => Some(best::Best::open(metric, &dir)?),
        None => None,
    };
    let progress =
        progress::Progress::new(&exp.config.name, &session, options.quiet, started.epoch);
    progress.header(exp, &session, started.epoch);
    let mut epochs = epochs::Epochs {
        exp,
        threat,
        session: &mut session,
        dir: &dir,
        metrics: &started.metrics,
        progress,
        train_seconds: started.train_seconds,
        last: None,
        best,
        board: board::Board::open(&dir, &exp.config.log, started.epoch + 1)?,
    };
    let total = exp.config.train.epochs;
    for epoch in started.epoch..total {
        let done = epochs.run_one(epoch, total)?;
        epochs.report(epoch, total, &done, options);
        let this_session = epoch + 1 - started.epoch;
        if options.stop_after.is_some_and(|n| this_session >= n) && epoch + 1 < total {
            epochs.progress.bar.finish_and_clear();
            return Ok(Outcome::Paused {
                dir,
                epoch: epoch + 1,
                epochs: total,
            });
        }
    }
    epochs.progress.bar.finish_and_clear();
    let (train_seconds, last, best) =
        (epochs.train_seconds, epochs.last.take(), epochs.best.take());
    report::plots(&dir)?;
    // A resumed run that had already finished its epochs evaluates again.
    let (test_acc, robust) = match last {
        Some((acc, Some(robust))) => (acc, robust),
        _ => (
            session.evaluate()?.accuracy,
            session.robust(exp.config.eval.robust_subset)?,
        ),
    };
    let mut summary = report::summary(&session, test_acc, &robust, train_seconds);
    summary.best = best.as_ref().and_then(best::Best::summary);
    dir.write_summary(&summary)?;
    drop(started.lock);
    Ok(Outcome::Finished {
        dir,
        summary: Box::new(summary),
    })
}
