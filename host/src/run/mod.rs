//! A run: the run directory, the epoch loop around a training
//! [`Session`](crate::train::Session), metrics, checkpoints and the summary.
pub mod checkpoint;
pub mod interrupt;
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
    dir.join("summary.json").is_file()
}

/// The run directory of a config.
pub fn run_dir(exp: &Experiment) -> PathBuf {
    exp.config.output_dir.join(&exp.config.name)
}

/// Creates the run directory; returns whether the run resumes. `--resume` with nothing to
/// resume (no checkpoint yet: a first start, or a job requeued before its first epoch ended)
/// starts the run, so that a scheduler can always launch `fuzzaug run CONFIG --resume`.
fn prepare_dir(dir: &Path, options: Options) -> anyhow::Result<bool> {
    let exists = dir.exists();
    if exists && !options.resume && !options.overwrite {
        bail!("run directory {} already exists; pass --resume to continue it or --overwrite to replace it", dir.display());
    }
    let resume = options.resume && dir.join("checkpoints").join("last").is_file();
    if options.resume && !resume {
        log::info!(
            "--resume: {} holds no checkpoint yet; starting the run from epoch 1",
            dir.display()
        );
    }
    if exists && (options.overwrite || (options.resume && !resume)) {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    for sub in ["", "checkpoints", "plots"] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d)
            .with_context(|| format!("cannot create the run directory {}", d.display()))?;
    }
    Ok(resume)
}

/// The resolved config with provenance: fuzzaug's version, libtorch, and each plugin
/// library's path, SHA-256 and fingerprint.
fn resolved_config(exp: &Experiment) -> anyhow::Result<String> {
    let mut text = toml::to_string(&exp.config).context("writing the resolved config")?;
    text.push_str(&format!(
        "\n# Provenance, written by fuzzaug (ignored when this file is used as a config).\n[fuzzaug]\nversion = \"{}\"\nlibtorch = \"{}\"\n",
        env!("CARGO_PKG_VERSION"),
        crate::runtime::built_libtorch()
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

fn meta(session: &Session, epoch: u32) -> checkpoint::Meta {
    checkpoint::Meta::of(
        &session.config,
        &session.parts,
        epoch,
        session.rng.get_word_pos(),
    )
}

fn save_checkpoint(session: &Session, path: &Path, epoch: u32) -> anyhow::Result<()> {
    let mut tensors: Vec<(String, tch::Tensor)> = session
        .vs
        .variables()
        .into_iter()
        .map(|(k, t)| (format!("model/{k}"), t))
        .collect();
    tensors.extend(session.optimizer.state_tensors());
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let strategy = session.parts.strategy.save_state()?;
    checkpoint::save(path, &meta(session, epoch), &tensors, &strategy)
}

/// Loads a checkpoint into `session` after checking it was written for the same config;
/// returns the epochs it had completed.
pub fn restore(session: &mut Session, path: &Path) -> anyhow::Result<u32> {
    let ckpt = checkpoint::load(path, session.device)?;
    let diffs = ckpt.meta.differences(&meta(session, ckpt.meta.epoch));
    if !diffs.is_empty() {
        bail!(
            "{} was written for a different config:\n  {}",
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
    Ok(ckpt.meta.epoch)
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

/// Trains `exp` to the end, writing its run directory.
pub fn run(exp: &Experiment, options: Options) -> anyhow::Result<Summary> {
    let dir = run_dir(exp);
    crate::train::preflight(&exp.config)?;
    let resume = prepare_dir(&dir, options)?;
    std::fs::write(dir.join("config.toml"), resolved_config(exp)?)
        .with_context(|| format!("writing {}", dir.join("config.toml").display()))?;
    let parts = exp.components()?;
    let mut session = Session::new(&exp.config, parts)?;
    let last = dir.join("checkpoints").join("last");
    let start_epoch = if resume {
        restore(&mut session, &last)?
    } else {
        0
    };
    let metrics = Metrics::open(&dir, start_epoch)?;
    let mut train_seconds: f64 = previous_train_seconds(&dir, start_epoch);
    let bar = if options.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    let epochs = exp.config.train.epochs;
    let mut test_acc = f64::NAN;
    let mut last_robust: Option<crate::train::Robust> = None;
    interrupt::install();
    for epoch in start_epoch..epochs {
        let started = Instant::now();
        let kept = if epoch > 0 {
            format!(
                "the last good checkpoint (epoch {epoch}) is intact at {}",
                last.display()
            )
        } else {
            "no checkpoint was written yet".to_string()
        };
        let stats = match session.train_epoch(epoch, &bar, interrupt::requested) {
            Ok(stats) => stats,
            Err(e) if e.is::<crate::train::Stopped>() => {
                let batch = e
                    .downcast_ref::<crate::train::Stopped>()
                    .map_or(0, |s| s.batch);
                let how = if epoch > 0 {
                    format!(
                        "; continue with `fuzzaug run {} --resume`",
                        exp.source.path.display()
                    )
                } else {
                    String::new()
                };
                let kept = format!("{}{how}", capitalise(&kept));
                return Err(interrupt::Interrupted {
                    epoch: epoch + 1,
                    batch,
                    kept,
                }
                .into());
            }
            Err(e) => return Err(e.context(kept)),
        };
        let test = session.evaluate()?;
        train_seconds += started.elapsed().as_secs_f64();
        let every = exp.config.eval.robust_every;
        let robust_now = epoch + 1 == epochs || (every > 0 && (epoch + 1) % every == 0);
        let robust = if robust_now {
            Some(session.robust(exp.config.eval.robust_subset)?)
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
        save_checkpoint(&session, &last, epoch + 1)?;
        test_acc = test.accuracy;
        if !options.quiet {
            bar.suspend(|| {
                let robust = robust.as_ref().map(|r| format!(" | robust {:.4} (grid {})", r.robust_acc, r.grid_size)).unwrap_or_default();
                log::info!(
                    "epoch {}/{epochs}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4}{robust} | {:.1} s, {:.0} img/s",
                    epoch + 1, stats.loss, stats.accuracy, test.loss, test.accuracy, stats.seconds, stats.images_per_second
                )
            });
        }
    }
    bar.finish_and_clear();
    plots(&dir)?;
    if test_acc.is_nan() {
        test_acc = session.evaluate()?.accuracy;
    }
    let robust = match last_robust {
        Some(r) => r,
        None => session.robust(exp.config.eval.robust_subset)?,
    };
    let summary = Summary {
        dir: dir.clone(),
        test_acc,
        robust,
        train_seconds,
        epochs,
    };
    write_summary(exp, &session, &summary)?;
    Ok(summary)
}

/// `plots/train_loss.png` and `plots/test_acc.png` from `metrics.csv` (the robust-accuracy
/// curve joins them when robust evaluation runs).
pub fn plots(dir: &Path) -> anyhow::Result<()> {
    use crate::report::plot::{line_chart, Labels, Series};
    let (header, rows) = metrics::read_csv(&dir.join("metrics.csv"))?;
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
            &dir.join("plots").join(file),
            &labels,
            &[Series {
                name: name.clone(),
                points,
            }],
        )?;
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Training seconds already spent by the finished epochs of a resumed run.
fn previous_train_seconds(dir: &Path, epochs: u32) -> f64 {
    let Ok((header, rows)) = metrics::read_csv(&dir.join("metrics.csv")) else {
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
    let p = s.dir.join("summary.json");
    std::fs::write(&p, serde_json::to_string_pretty(&v)? + "\n")
        .with_context(|| format!("writing {}", p.display()))
}
