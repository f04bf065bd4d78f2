//! A run: the run directory, the epoch loop around a training
//! [`Session`](crate::train::Session), metrics, checkpoints and the summary.
pub mod checkpoint;
pub mod dir;
pub mod identity;
pub mod interrupt;
pub mod lock;
pub mod metrics;

use crate::{
    setup::Experiment,
    train::{EpochStats, Session},
};
use anyhow::{bail, Context};
use indicatif::ProgressBar;
use metrics::{Metrics, Row};
use serde_json::json;
use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    time::Instant,
};

/// How to treat an existing run directory, and what to print.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Continue from `checkpoints/last`.
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
    Finished(Summary),
    /// Stopped as `stop_after` asked, after `epoch` of `epochs` epochs.
    Paused {
        /// The run directory.
        dir: PathBuf,
        /// Epochs finished.
        epoch: u32,
        /// Epochs of the run.
        epochs: u32,
    },
}

/// What a finished run reports (also `summary.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The run directory.
    pub dir: PathBuf,
    /// Final standard accuracy.
    pub test_acc: f64,
    /// Final robust evaluation.
    pub robust: crate::train::Robust,
    /// Seconds spent training (all sessions of a resumed run).
    pub train_seconds: f64,
    /// Epochs run.
    pub epochs: u32,
}

/// Whether the run in `dir` has finished: its `summary.json`, written last, exists.
pub fn is_finished(dir: &Path) -> bool {
    dir.join(self::dir::SUMMARY).is_file()
}

/// The run directory of a config.
pub fn run_dir(exp: &Experiment) -> PathBuf {
    exp.config.output_dir.join(&exp.config.name)
}

/// The resolved config with provenance: fuzzaug's version, libtorch, and each plugin
/// library's path, SHA-256 and fingerprint.
fn resolved_config(exp: &Experiment) -> anyhow::Result<String> {
    let mut text = toml::to_string(&exp.config).context("writing the resolved config")?;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    text.push_str(&format!(
        "\n# Provenance, written by fuzzaug (ignored when this file is used as a config).\n[fuzzaug]\nversion = \"{}\"\nlibtorch = \"{}\"\nconfig = {}\nconfig_dir = {}\n",
        env!("CARGO_PKG_VERSION"),
        crate::runtime::built_libtorch(),
        crate::config::toml_string(&absolute(&exp.source.path).display().to_string()),
        crate::config::toml_string(&absolute(&exp.base_dir).display().to_string()),
    ));
    for lib in exp.registry.libraries() {
        let fp: Vec<String> = lib
            .fingerprint
            .fields()
            .iter()
            .map(|(k, v)| format!("{k} = \"{v}\""))
            .collect();
        text.push_str(&format!(
            "\n[fuzzaug.plugins.{}]\npath = {:?}\nsha256 = \"{}\"\n{}\n",
            lib.name(),
            lib.path.display().to_string(),
            lib.sha256,
            fp.join("\n")
        ));
    }
    Ok(text)
}

fn meta(session: &Session, epoch: u32, train_seconds: f64) -> anyhow::Result<checkpoint::Meta> {
    checkpoint::Meta::of(
        &session.config,
        &session.parts,
        epoch,
        session.rng.get_word_pos(),
        train_seconds,
    )
}

fn save_checkpoint(
    session: &Session,
    path: &Path,
    epoch: u32,
    train_seconds: f64,
) -> anyhow::Result<()> {
    let mut tensors: Vec<(String, tch::Tensor)> = session
        .vs
        .variables()
        .into_iter()
        .map(|(k, t)| (format!("model/{k}"), t))
        .collect();
    tensors.extend(session.optimizer.state_tensors());
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let strategy = session.parts.strategy.save_state()?;
    checkpoint::save(
        path,
        &meta(session, epoch, train_seconds)?,
        &tensors,
        &strategy,
    )
}

/// Loads a checkpoint into `session` after checking it was written for the same run (every
/// training-relevant key of the resolved config); returns the epochs it had completed and the
/// seconds they took.
pub fn restore(session: &mut Session, path: &Path) -> anyhow::Result<(u32, f64)> {
    let ckpt = checkpoint::load(path, session.device)?;
    let diffs = ckpt.meta.differences(&meta(session, ckpt.meta.epoch, 0.0)?);
    if !diffs.is_empty() {
        bail!(
            "{} belongs to a different run than this config describes, so it is not resumed:\n  {}\nResume with the run's own config (`fuzzaug run --resume RUN_DIR` reads it from the run directory); to train further on other settings, start a new run",
            path.display(),
            diffs.join("\n  ")
        );
    }
    let _guard = tch::no_grad_guard();
    for (name, mut var) in session.vs.variables() {
        let saved = ckpt
            .tensors
            .get(&format!("model/{name}"))
            .with_context(|| format!("{}: no tensor for `{name}`", path.display()))?;
        var.f_copy_(saved).with_context(|| {
            format!("{}: tensor `{name}` does not fit the model", path.display())
        })?;
    }
    session
        .optimizer
        .load_state(&ckpt.tensors)
        .with_context(|| format!("{}", path.display()))?;
    session.parts.strategy.load_state(&ckpt.strategy)?;
    let pos: u128 = ckpt
        .meta
        .rng_word_pos
        .parse()
        .with_context(|| format!("{}: bad random-stream position", path.display()))?;
    session.rng.set_word_pos(pos);
    Ok((ckpt.meta.epoch, ckpt.meta.train_seconds))
}

fn row(epoch: u32, stats: &EpochStats, test: &crate::train::Accuracy) -> Row {
    let skipped = stats
        .counters
        .iter()
        .find(|(k, _)| k == "skipped_robust")
        .map_or(0, |(_, v)| *v as u64);
    let mut extra: serde_json::Map<String, serde_json::Value> = stats
        .counters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    // Where the epoch's time went: the inputs of the cost floor 1 + k·(train ÷ score rate).
    let train_part = stats.seconds - stats.score_seconds - stats.strategy_seconds;
    extra.insert("score_seconds".into(), json!(stats.score_seconds));
    extra.insert("strategy_seconds".into(), json!(stats.strategy_seconds));
    if stats.scored_candidates > 0 && stats.score_seconds > 0.0 {
        extra.insert(
            "score_images_per_second".into(),
            json!(stats.scored_candidates as f64 / stats.score_seconds),
        );
    }
    if train_part > 0.0 {
        extra.insert(
            "train_step_images_per_second".into(),
            json!(stats.images_per_second * stats.seconds / train_part),
        );
    }
    Row {
        epoch,
        lr: stats.lr,
        train_loss: stats.loss,
        train_acc: stats.accuracy,
        test_loss: test.loss,
        test_acc: test.accuracy,
        robust_acc: None,
        epoch_seconds: stats.seconds,
        train_images_per_second: stats.images_per_second,
        scored_candidates: stats.scored_candidates,
        skipped_robust: skipped,
        extra,
    }
}

/// Puts the run directory in place for `plan`: a new one built beside and swapped in, or the
/// resumed one with its metrics cut back to the checkpoint. Nothing is written before this.
fn open_dir(
    dir: &Path,
    plan: self::dir::Plan,
    config_text: &str,
    metrics: Option<metrics::Prepared>,
) -> anyhow::Result<Metrics> {
    let config = |d: &Path| {
        let p = d.join(self::dir::CONFIG);
        crate::atomic::write(&p, config_text.as_bytes())
            .with_context(|| format!("writing {}", p.display()))
    };
    match (plan, metrics) {
        (self::dir::Plan::Resume, Some(prepared)) => {
            for d in [
                dir.to_path_buf(),
                dir.join(self::dir::CHECKPOINTS),
                dir.join(self::dir::PLOTS),
            ] {
                for stale in crate::atomic::remove_stale(&d)
                    .with_context(|| format!("cleaning {}", d.display()))?
                {
                    log::info!("removed {}, left by a process that died", stale.display());
                }
            }
            config(dir)?;
            prepared.write()
        }
        _ => {
            let staged = self::dir::Staged::new(dir)?;
            config(&staged.path)?;
            Metrics::prepare(&staged.path, 0)?.write()?;
            staged.commit()?;
            Ok(Metrics::at(dir))
        }
    }
}

/// Trains `exp` to the end, writing its run directory.
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
    let parts = exp.components()?;
    let mut session = Session::new(&exp.config, parts)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the output folder {}", parent.display()))?;
    }
    let _lock = lock::RunLock::acquire(&dir)?;
    for done in self::dir::recover(&dir)? {
        log::warn!("{done}");
    }
    let contents = self::dir::Contents::of(&dir)?;
    let plan = self::dir::plan(&dir, &contents, options)?;
    if contents == self::dir::Contents::Unstarted {
        log::info!(
            "{}: replacing what a start that finished no epoch left there",
            dir.display()
        );
    }
    let last = self::dir::last_checkpoint(&dir);
    let (start_epoch, mut train_seconds, prepared) = if plan == self::dir::Plan::Resume {
        let (epoch, seconds) = restore(&mut session, &last)?;
        let prepared = Metrics::prepare(&dir, epoch)?;
        let seconds = if seconds > 0.0 || epoch == 0 {
            seconds
        } else {
            previous_train_seconds(&dir, epoch)
        };
        (epoch, seconds, Some(prepared))
    } else {
        (0, 0.0, None)
    };
    let metrics = open_dir(&dir, plan, &resolved_config(exp)?, prepared)?;
    train(
        exp,
        &mut session,
        &dir,
        &metrics,
        start_epoch,
        &mut train_seconds,
        options,
    )
}

/// The epoch loop from `start_epoch`, then plots and the summary.
fn train(
    exp: &Experiment,
    session: &mut Session,
    dir: &Path,
    metrics: &Metrics,
    start_epoch: u32,
    train_seconds: &mut f64,
    options: Options,
) -> anyhow::Result<Outcome> {
    let last = self::dir::last_checkpoint(dir);
    let bar = if options.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    let epochs = exp.config.train.epochs;
    let mut test_acc = f64::NAN;
    let mut last_robust: Option<crate::train::Robust> = None;
    let kept = |epoch: u32| {
        if epoch > 0 {
            format!(
                "the last good checkpoint (epoch {epoch}) is intact at {}",
                last.display()
            )
        } else {
            "no checkpoint was written yet".to_string()
        }
    };
    // An error of epoch `epoch` (0-based) with what was kept; a stop becomes [`Interrupted`]
    // with the command that continues the run.
    let failed = |epoch: u32, e: anyhow::Error| -> anyhow::Error {
        let Some(stopped) = e.downcast_ref::<crate::train::Stopped>() else {
            return e.context(kept(epoch));
        };
        let how = if epoch > 0 {
            format!("; continue with `fuzzaug run --resume {}`", dir.display())
        } else {
            String::new()
        };
        let kept = kept(epoch);
        interrupt::Interrupted {
            epoch: epoch + 1,
            at: stopped.at.clone(),
            kept: format!("{}{}{how}", kept[..1].to_uppercase(), &kept[1..]),
        }
        .into()
    };
    for epoch in start_epoch..epochs {
        if interrupt::requested() {
            let before = crate::train::Stopped {
                at: "before it started".into(),
            };
            return Err(failed(epoch, before.into()));
        }
        let started = Instant::now();
        let stats = session
            .train_epoch(epoch, &bar, interrupt::requested)
            .map_err(|e| failed(epoch, e))?;
        let test = session.evaluate()?;
        *train_seconds += started.elapsed().as_secs_f64();
        let every = exp.config.eval.robust_every;
        let robust_now = epoch + 1 == epochs || (every > 0 && (epoch + 1) % every == 0);
        let robust = if robust_now {
            let subset = exp.config.eval.robust_subset;
            Some(
                session
                    .robust_until(subset, &interrupt::requested)
                    .map_err(|e| failed(epoch, e))?,
            )
        } else {
            None
        };
        let mut r = row(epoch + 1, &stats, &test);
        if let Some(rb) = &robust {
            r.robust_acc = Some(rb.robust_acc);
            r.extra.insert("robust_grid_acc".into(), json!(rb.grid_acc));
            r.extra
                .insert("random_perturbation_acc".into(), json!(rb.random_acc));
            r.extra
                .insert("robust_grid_size".into(), json!(rb.grid_size));
            r.extra.insert("robust_subset".into(), json!(rb.subset));
            last_robust = Some(rb.clone());
        }
        metrics.append(&r)?;
        save_checkpoint(session, &last, epoch + 1, *train_seconds)?;
        test_acc = test.accuracy;
        let paused = options
            .stop_after
            .is_some_and(|n| epoch + 1 - start_epoch >= n && epoch + 1 < epochs);
        if !options.quiet {
            bar.suspend(|| {
                let robust = robust.as_ref().map(|r| format!(" | robust {:.4} (grid {})", r.robust_acc, r.grid_size)).unwrap_or_default();
                log::info!(
                    "epoch {}/{epochs}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4}{robust} | {:.1} s, {:.0} img/s",
                    epoch + 1, stats.loss, stats.accuracy, test.loss, test.accuracy, stats.seconds, stats.images_per_second
                )
            });
        }
        if paused {
            bar.finish_and_clear();
            return Ok(Outcome::Paused {
                dir: dir.to_path_buf(),
                epoch: epoch + 1,
                epochs,
            });
        }
    }
    bar.finish_and_clear();
    plots(dir)?;
    if test_acc.is_nan() {
        test_acc = session.evaluate()?.accuracy;
    }
    let robust = match last_robust {
        Some(r) => r,
        None => session.robust(exp.config.eval.robust_subset)?,
    };
    let summary = Summary {
        dir: dir.to_path_buf(),
        test_acc,
        robust,
        train_seconds: *train_seconds,
        epochs,
    };
    write_summary(exp, session, &summary)?;
    Ok(Outcome::Finished(summary))
}

/// `plots/train_loss.png` and `plots/test_acc.png` from `metrics.csv` (the robust-accuracy
/// curve joins them when robust evaluation runs).
pub fn plots(dir: &Path) -> anyhow::Result<()> {
    use crate::report::plot::{line_chart, Labels, Series};
    let (header, rows) = metrics::read_csv(&dir.join(self::dir::METRICS_CSV))?;
    let column = |name: &str| -> Vec<(f64, f64)> {
        let Some(c) = header.iter().position(|h| h == name) else {
            return Vec::new();
        };
        rows.iter()
            .filter_map(|r| Some((r.first()?.parse().ok()?, r.get(c)?.parse().ok()?)))
            .collect()
    };
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("run")
        .to_string();
    for (file, col, title, y) in [
        (
            "train_loss.png",
            "train_loss",
            "Training loss",
            "cross-entropy",
        ),
        (
            "test_acc.png",
            "test_acc",
            "Test accuracy",
            "accuracy (fraction)",
        ),
        (
            "robust_acc.png",
            "robust_acc",
            "Robust accuracy",
            "accuracy (fraction)",
        ),
    ] {
        let points = column(col);
        if points.is_empty() {
            continue;
        }
        let labels = Labels {
            title,
            x: "epoch",
            y,
        };
        line_chart(
            &dir.join(self::dir::PLOTS).join(file),
            &labels,
            &[Series {
                name: name.clone(),
                points,
            }],
        )?;
    }
    Ok(())
}

/// Training seconds already spent by the finished epochs of a resumed run.
fn previous_train_seconds(dir: &Path, epochs: u32) -> f64 {
    let Ok((header, rows)) = metrics::read_csv(&dir.join(self::dir::METRICS_CSV)) else {
        return 0.0;
    };
    let Some(col) = header.iter().position(|h| h == "epoch_seconds") else {
        return 0.0;
    };
    rows.iter()
        .take(epochs as usize)
        .filter_map(|r| r.get(col)?.parse::<f64>().ok())
        .sum()
}

fn write_summary(exp: &Experiment, session: &Session, s: &Summary) -> anyhow::Result<()> {
    let c = &exp.config;
    let v = json!({
        "test_acc": s.test_acc,
        "robust_acc": s.robust.robust_acc,
        "robust_grid_size": s.robust.grid_size,
        "robust_subset": s.robust.subset,
        "robust_grid_acc": s.robust.grid_acc,
        "random_perturbation_acc": s.robust.random_acc,
        "train_seconds": s.train_seconds,
        "epochs": s.epochs,
        "strategy": c.strategy.name,
        "model": c.model.arch,
        "dataset": c.dataset.name,
        "device": format!("{:?}", session.device).to_lowercase(),
        "seed": c.seed,
        "train_images": session.parts.dataset_info.train_len,
        "test_images": session.parts.dataset_info.test_len,
        "fuzzaug": env!("CARGO_PKG_VERSION"),
    });
    let p = s.dir.join(self::dir::SUMMARY);
    crate::atomic::write(&p, (serde_json::to_string_pretty(&v)? + "\n").as_bytes())
        .with_context(|| format!("writing {}", p.display()))
}
