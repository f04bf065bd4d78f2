//! The run directory, the contract between `fuzzaug run` and everything that reads a run
//! (`compare`, `sweep status`, `preview`, `eval`, users' own scripts). This module owns every
//! name in it and the format of every file:
//!
//! ```text
//! runs/<name>/
//!   config.toml       the resolved config and its provenance ([`resolved`])
//!   metrics.csv       one row per finished epoch, the contract columns ([`metrics`])
//!   metrics.jsonl     the same rows with every statistic, strategy counters under "strategy"
//!   summary.json      written last, when the run has finished ([`summary`])
//!   checkpoints/last  the state a run resumes from ([`checkpoint`])
//!   checkpoints/best  with `[train] keep_best`: the epoch best by that metric
//!   tb/               with `[log] tensorboard`: TensorBoard event files
//!   export/           what `fuzzaug export` writes by default
//!   plots/*.png       curves of the metrics
//! runs/.<name>.lock   held by the one process writing the run ([`lock`])
//! ```
pub mod checkpoint;
pub mod contents;
pub mod identity;
pub mod lock;
pub mod metrics;
pub mod resolved;
pub mod summary;

use anyhow::Context;
use std::path::{Path, PathBuf};

const CONFIG: &str = "config.toml";
const SUMMARY: &str = "summary.json";
const METRICS_CSV: &str = "metrics.csv";
const METRICS_JSONL: &str = "metrics.jsonl";
const CHECKPOINTS: &str = "checkpoints";
const PLOTS: &str = "plots";
const LAST: &str = "last";
const BEST: &str = "best";
const TENSORBOARD: &str = "tb";
const EXPORTS: &str = "export";
const EVALS: &str = "eval";

/// Which checkpoint of a run: `last` (the one a run resumes from) or `best` (kept with
/// `[train] keep_best`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    /// `checkpoints/last`.
    #[default]
    Last,
    /// `checkpoints/best`.
    Best,
}

impl Which {
    /// The checkpoint's file name, which is also how the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Which::Last => LAST,
            Which::Best => BEST,
        }
    }
}

impl std::str::FromStr for Which {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            LAST => Ok(Which::Last),
            BEST => Ok(Which::Best),
            _ => Err(format!("`{s}` is neither `{LAST}` nor `{BEST}`")),
        }
    }
}

/// `dir/checkpoints/last`.
fn last_checkpoint(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINTS).join(LAST)
}

/// A run directory (which need not exist yet): where each of its files lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The run directory `name` under `output_dir`.
    pub fn of(output_dir: &Path, name: &str) -> Self {
        Self::new(output_dir.join(name))
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `config.toml`: the resolved config with its provenance.
    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG)
    }

    /// `summary.json`, written last.
    pub fn summary(&self) -> PathBuf {
        self.root.join(SUMMARY)
    }

    /// `metrics.csv`.
    pub fn metrics_csv(&self) -> PathBuf {
        self.root.join(METRICS_CSV)
    }

    /// `metrics.jsonl`.
    pub fn metrics_jsonl(&self) -> PathBuf {
        self.root.join(METRICS_JSONL)
    }

    /// The checkpoint folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join(CHECKPOINTS)
    }

    /// `checkpoints/last`, the checkpoint a run resumes from.
    pub fn last_checkpoint(&self) -> PathBuf {
        last_checkpoint(&self.root)
    }

    /// `checkpoints/best`, kept with `[train] keep_best`.
    pub fn best_checkpoint(&self) -> PathBuf {
        self.checkpoints().join(BEST)
    }

    /// The checkpoint `which`.
    pub fn checkpoint(&self, which: Which) -> PathBuf {
        self.checkpoints().join(which.name())
    }

    /// The folder of every `fuzzaug eval` report.
    pub fn evals(&self) -> PathBuf {
        self.root.join(EVALS)
    }

    /// The folder of the `fuzzaug eval` report of checkpoint `which` under the threat model
    /// `threat`: `eval/<threat>/` for `last`, `eval/<threat>@best/` for `best`, so that the two
    /// never overwrite each other and `compare` keeps them apart.
    pub fn eval_report(&self, threat: &str, which: Which) -> PathBuf {
        match which {
            Which::Last => self.evals().join(threat),
            Which::Best => self
                .evals()
                .join(format!("{threat}@{}", Which::Best.name())),
        }
    }

    /// Where `fuzzaug export` writes by default.
    pub fn exports(&self) -> PathBuf {
        self.root.join(EXPORTS)
    }

    /// The TensorBoard folder.
    pub fn tensorboard(&self) -> PathBuf {
        self.root.join(TENSORBOARD)
    }

    /// The plot folder.
    pub fn plots(&self) -> PathBuf {
        self.root.join(PLOTS)
    }

    /// The lock file beside the directory.
    pub fn lock_file(&self) -> PathBuf {
        lock::path(&self.root)
    }

    /// Whether this is a run directory `fuzzaug run` wrote (its config and checkpoint folder
    /// exist), rather than, say, a folder of configs.
    pub fn looks_like_one(&self) -> bool {
        self.config().is_file() && self.checkpoints().is_dir()
    }

    /// Whether the run has finished: its summary, written last, exists.
    pub fn is_finished(&self) -> bool {
        self.summary().is_file()
    }

    /// Rows of `metrics.csv`: the epochs finished (0 when there is no file).
    pub fn epochs_done(&self) -> u32 {
        contents::rows(&self.metrics_csv(), true).map_or(0, |n| n as u32)
    }

    /// The summary, if the run has finished.
    pub fn read_summary(&self) -> anyhow::Result<Option<summary::Summary>> {
        let path = self.summary();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("{}: not a fuzzaug summary", path.display()))
    }

    /// Writes the summary (atomically).
    pub fn write_summary(&self, s: &summary::Summary) -> anyhow::Result<()> {
        let path = self.summary();
        let text = serde_json::to_string_pretty(s)? + "\n";
        crate::atomic::write(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Writes the resolved config (atomically).
    pub fn write_config(&self, text: &str) -> anyhow::Result<()> {
        let path = self.config();
        crate::atomic::write(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Removes the temporary files of dead processes from the directory and its folders;
    /// returns what it removed. Call holding the lock.
    pub fn remove_stale(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for d in [self.root.clone(), self.checkpoints(), self.plots()] {
            removed.extend(
                crate::atomic::remove_stale(&d)
                    .with_context(|| format!("cleaning {}", d.display()))?,
            );
        }
        Ok(removed)
    }
}
