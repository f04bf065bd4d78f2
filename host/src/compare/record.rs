//! One run directory as `compare` sees it: what was trained (from the resolved `config.toml`),
//! how far it got (its metrics) and its final figures (its summary, present
//! once the run finished).
use crate::rundir::{metrics, resolved, RunDir};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// One epoch of a run's curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    /// 1-based epoch.
    pub epoch: u32,
    /// Mean training loss.
    pub train_loss: f64,
    /// Test accuracy.
    pub test_acc: f64,
    /// Robust accuracy, on epochs with a grid evaluation.
    pub robust_acc: Option<f64>,
    /// Mean test loss (absent in runs older than the column).
    pub test_loss: Option<f64>,
    /// The learning rate of the epoch (absent in runs older than the column).
    pub lr: Option<f64>,
    /// Training wall time up to the end of this epoch, seconds.
    pub elapsed: f64,
}

/// A run directory, loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The directory.
    pub dir: PathBuf,
    /// Its folder name.
    pub name: String,
    /// `dataset.name`.
    pub dataset: String,
    /// `model.arch`.
    pub model: String,
    /// `discrete` (every gene has a step), `continuous` (none has) or `mixed`.
    pub space: &'static str,
    /// `strategy.name`.
    pub strategy: String,
    /// `device` as run (the summary), or as configured for an unfinished run.
    pub device: String,
    /// Epochs finished.
    pub epochs_done: u32,
    /// `train.epochs`.
    pub epochs_planned: u32,
    /// Whether the summary was written (the run ended).
    pub finished: bool,
    /// Final (or latest) test accuracy.
    pub test_acc: f64,
    /// Final (or latest) robust accuracy, if any epoch evaluated it.
    pub robust_acc: Option<f64>,
    /// Chromosomes in the robust grid (0 while no robust evaluation has run).
    pub grid_size: u64,
    /// Test images the robust accuracy was measured on (0 when unknown).
    pub subset: u64,
    /// Training wall time, seconds.
    pub wall_seconds: f64,
    /// Per-epoch curves.
    pub epochs: Vec<Epoch>,
    /// The resolved config, as written by `fuzzaug run`.
    pub config_text: String,
    /// Robust accuracy under each protocol of each `fuzzaug eval` of the run, keyed by
    /// `<threat>: <protocol> on <images>` so that only like is compared with like.
    pub attacks: Vec<(String, f64)>,
    /// What the run trained, its seed left out: runs with equal keys differ only in seed.
    pub seedless: String,
}

/// The robust accuracy of every protocol of every `eval/<threat>/eval.json` in `dir`.
fn attacks(dir: &Path) -> Vec<(String, f64)> {
    let Ok(entries) = std::fs::read_dir(crate::rundir::RunDir::new(dir).evals()) else {
        return Vec::new();
    };
    let mut threats: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    threats.sort();
    let mut out = Vec::new();
    for t in threats {
        let Ok(text) = std::fs::read_to_string(t.join("eval.json")) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let name = t
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let images = v["evaluation"]["images"].as_u64().unwrap_or(0);
        for p in v["evaluation"]["protocols"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(protocol), Some(acc)) = (p["name"].as_str(), p["robust_acc"].as_f64()) {
                out.push((format!("{name}: {protocol} on {images}"), acc));
            }
        }
    }
    out
}

impl Record {
    /// Loads `dir`, with errors that say what is missing.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!("{}: not a directory", dir.display());
        }
        let run = RunDir::new(dir);
        let (config_path, metrics_path) = (run.config(), run.metrics_csv());
        let name = |p: &Path| {
            p.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        if let Some(missing) = [&config_path, &metrics_path]
            .into_iter()
            .find(|p| !p.is_file())
        {
            bail!(
                "{} is not a run directory: it has no {} (`fuzzaug run` writes {} and {} there)",
                dir.display(),
                name(missing),
                name(&config_path),
                name(&metrics_path)
            );
        }
        let config_text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("reading {}", config_path.display()))?;
        let (config, _) = resolved::read(&config_path)?;
        let (header, rows) = metrics::read_csv(&metrics_path)?;
        let epochs = curves(&header, &rows)
            .with_context(|| format!("{}: unreadable", metrics_path.display()))?;
        let Some(last) = epochs.last() else {
            bail!(
                "{}: no finished epoch yet ({} has no rows)",
                dir.display(),
                name(&metrics_path)
            );
        };
        let summary = run.read_summary()?;
        let latest = metrics::latest_robust_sizes(&run.metrics_jsonl());
        let stepped = config
            .transforms
            .iter()
            .filter(|g| g.step.is_some())
            .count();
        let space = match (stepped, config.transforms.len()) {
            (s, n) if s == n => "discrete",
            (0, _) => "continuous",
            _ => "mixed",
        };
        let robust_acc = summary
            .as_ref()
            .map(|s| s.robust_acc)
            .or_else(|| epochs.iter().rev().find_map(|e| e.robust_acc));
        let (grid_size, subset) = match &summary {
            Some(s) => (s.robust_grid_size as u64, s.robust_subset as u64),
            None => latest.unwrap_or((0, 0)),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string()),
            dataset: config.dataset.name.clone(),
            model: config.model.name(),
            space,
            strategy: config.strategy.name.clone(),
            device: summary
                .as_ref()
                .map_or_else(|| config.device.clone(), |s| s.device.clone()),
            epochs_done: last.epoch,
            epochs_planned: config.train.epochs,
            finished: summary.is_some(),
            test_acc: summary.as_ref().map_or(last.test_acc, |s| s.test_acc),
            robust_acc,
            grid_size,
            subset,
            wall_seconds: summary.as_ref().map_or(last.elapsed, |s| s.train_seconds),
            epochs,
            config_text,
            attacks: attacks(dir),
            seedless: {
                let hflip = config.train.hflip.unwrap_or(false);
                let mut id = crate::rundir::identity::of(&config, hflip)?;
                if let Some(m) = id.as_object_mut() {
                    m.remove("seed");
                }
                id.to_string()
            },
        })
    }

    /// `h:mm:ss` of the training wall time.
    pub fn wall_time(&self) -> String {
        let s = self.wall_seconds.max(0.0).round() as u64;
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// `finished`, or `unfinished (E/N epochs)`.
    pub fn status(&self) -> String {
        if self.finished {
            "finished".into()
        } else {
            format!(
                "unfinished ({}/{} epochs)",
                self.epochs_done, self.epochs_planned
            )
        }
    }
}

/// The per-epoch curves from metrics.csv.
fn curves(header: &[String], rows: &[Vec<String>]) -> anyhow::Result<Vec<Epoch>> {
    let col = |name: &str| -> anyhow::Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column `{name}`"))
    };
    let (e, loss, acc, robust, secs) = (
        col("epoch")?,
        col("train_loss")?,
        col("test_acc")?,
        col("robust_acc")?,
        col("epoch_seconds")?,
    );
    let (test_loss, lr) = (col("test_loss").ok(), col("lr").ok());
    let mut elapsed = 0.0;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let cell = |c: usize| r.get(c).map(String::as_str).unwrap_or("");
            let num = |c: usize| -> anyhow::Result<f64> {
                cell(c).parse().with_context(|| {
                    format!(
                        "row {}: `{}` is not a number ({})",
                        i + 2,
                        cell(c),
                        header[c]
                    )
                })
            };
            elapsed += num(secs)?;
            Ok(Epoch {
                epoch: num(e)? as u32,
                train_loss: num(loss)?,
                test_acc: num(acc)?,
                robust_acc: if cell(robust).is_empty() {
                    None
                } else {
                    Some(num(robust)?)
                },
                test_loss: test_loss.map(num).transpose()?,
                lr: lr.map(num).transpose()?,
                elapsed,
            })
        })
        .collect()
}
