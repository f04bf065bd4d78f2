//! One run directory as `compare` sees it: what was trained (from the resolved `config.toml`),
//! how far it got (`metrics.csv`, `metrics.jsonl`) and its final figures (`summary.json`, present
//! once the run finished).
use crate::run::metrics;
use anyhow::{bail, Context};
use serde_json::Value;
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
    /// `device` as run (`summary.json`), or as configured for an unfinished run.
    pub device: String,
    /// Epochs finished.
    pub epochs_done: u32,
    /// `train.epochs`.
    pub epochs_planned: u32,
    /// Whether `summary.json` was written (the run ended).
    pub finished: bool,
    /// Final (or latest) test accuracy.
    pub test_acc: f64,
    /// Final (or latest) robust accuracy, if any epoch evaluated it.
    pub robust_acc: Option<f64>,
    /// Chromosomes in the robust grid (3^genes).
    pub grid_size: u64,
    /// Test images the robust accuracy was measured on (0 when unknown).
    pub subset: u64,
    /// Training wall time, seconds.
    pub wall_seconds: f64,
    /// Per-epoch curves.
    pub epochs: Vec<Epoch>,
    /// The resolved config, as written by `fuzzaug run`.
    pub config_text: String,
}

impl Record {
    /// Loads `dir`, with errors that say what is missing.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!("{}: not a directory", dir.display());
        }
        let config_path = dir.join("config.toml");
        let metrics_path = dir.join("metrics.csv");
        if !config_path.is_file() || !metrics_path.is_file() {
            bail!(
                "{} is not a run directory: it has no {} (`fuzzaug run` writes config.toml and \
                 metrics.csv there)",
                dir.display(),
                if config_path.is_file() {
                    "metrics.csv"
                } else {
                    "config.toml"
                }
            );
        }
        let config_text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("reading {}", config_path.display()))?;
        let config: toml::Table = config_text
            .parse()
            .with_context(|| format!("{}: not a valid config", config_path.display()))?;
        let text = |path: &[&str]| -> Option<String> {
            let mut v = config.get(path[0])?;
            for key in &path[1..] {
                v = v.get(key)?;
            }
            v.as_str().map(str::to_string)
        };
        let (header, rows) = metrics::read_csv(&metrics_path)?;
        let epochs = curves(&header, &rows)
            .with_context(|| format!("{}: unreadable", metrics_path.display()))?;
        let Some(last) = epochs.last() else {
            bail!(
                "{}: no finished epoch yet (metrics.csv has no rows)",
                dir.display()
            );
        };
        let summary: Option<Value> = match std::fs::read_to_string(dir.join("summary.json")) {
            Ok(t) => Some(
                serde_json::from_str(&t)
                    .with_context(|| format!("{}: summary.json is not JSON", dir.display()))?,
            ),
            Err(_) => None,
        };
        let jsonl_robust = latest_robust_sizes(&dir.join("metrics.jsonl"));
        let num = |key: &str| summary.as_ref().and_then(|s| s.get(key)?.as_f64());
        let genes = config
            .get("transforms")
            .and_then(|t| t.as_array())
            .cloned()
            .unwrap_or_default();
        let stepped = genes.iter().filter(|g| g.get("step").is_some()).count();
        let space = match (stepped, genes.len()) {
            (s, n) if s == n => "discrete",
            (0, _) => "continuous",
            _ => "mixed",
        };
        let robust_acc =
            num("robust_acc").or_else(|| epochs.iter().rev().find_map(|e| e.robust_acc));
        Ok(Self {
            dir: dir.to_path_buf(),
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| dir.display().to_string()),
            dataset: text(&["dataset", "name"]).unwrap_or_else(|| "?".into()),
            model: text(&["model", "arch"]).unwrap_or_else(|| "?".into()),
            space,
            strategy: text(&["strategy", "name"]).unwrap_or_else(|| "?".into()),
            device: summary
                .as_ref()
                .and_then(|s| s.get("device")?.as_str().map(str::to_string))
                .or_else(|| text(&["device"]))
                .unwrap_or_else(|| "?".into()),
            epochs_done: last.epoch,
            epochs_planned: config
                .get("train")
                .and_then(|t| t.get("epochs"))
                .and_then(|e| e.as_integer())
                .map_or(last.epoch, |e| e as u32),
            finished: summary.is_some(),
            test_acc: num("test_acc").unwrap_or(last.test_acc),
            robust_acc,
            grid_size: num("robust_grid_size")
                .map(|v| v as u64)
                .or(jsonl_robust.map(|r| r.0))
                .unwrap_or(3u64.pow(genes.len() as u32)),
            subset: num("robust_subset")
                .map(|v| v as u64)
                .or(jsonl_robust.map(|r| r.1))
                .unwrap_or(0),
            wall_seconds: num("train_seconds").unwrap_or(last.elapsed),
            epochs,
            config_text,
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
                elapsed,
            })
        })
        .collect()
}

/// (grid size, subset) of the latest robust evaluation in metrics.jsonl.
fn latest_robust_sizes(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        Some((
            v.get("robust_grid_size")?.as_u64()?,
            v.get("robust_subset")?.as_u64()?,
        ))
    })
}
