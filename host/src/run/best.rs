//! `[train] keep_best`: `checkpoints/best` holds the epoch best by one metric, a byte copy of
//! `checkpoints/last` as that epoch saved it (so it is the very state that scored the figure).
//! Ties keep the earlier epoch; robust accuracy is compared on the epochs that measure it.
use crate::{
    config::KeepBest,
    rundir::{checkpoint, summary::BestCheckpoint, RunDir},
};
use anyhow::Context;

/// The best epoch so far.
#[derive(Debug, Clone)]
pub struct Best {
    metric: KeepBest,
    /// The best value and its epoch, once an epoch has measured the metric.
    held: Option<(f64, u32)>,
}

/// The metric's value in `figures`, when that epoch measured it.
fn value(metric: KeepBest, figures: &checkpoint::Figures) -> Option<f64> {
    match metric {
        KeepBest::TestAcc => figures.test_acc,
        KeepBest::RobustAcc => figures.robust_acc,
    }
    .filter(|v| v.is_finite())
}

impl Best {
    /// The best of a run in `dir` (nothing for a new run). When resuming, a `last` that is
    /// better than `best` (a stop between writing the two) becomes the best now.
    pub fn open(metric: KeepBest, dir: &RunDir) -> anyhow::Result<Self> {
        let mut best = Self { metric, held: None };
        let path = dir.best_checkpoint();
        if path.is_file() {
            let meta = checkpoint::load_meta(&path)?;
            best.held = value(metric, &meta.figures).map(|v| (v, meta.epoch));
        }
        let last = dir.last_checkpoint();
        if last.is_file() {
            let meta = checkpoint::load_meta(&last)?;
            best.offer(dir, &meta.figures, meta.epoch)?;
        }
        Ok(best)
    }

    /// Keeps `checkpoints/last`, just saved after `epoch` with `figures`, as the best when it
    /// beats the best so far; returns whether it did.
    pub fn offer(
        &mut self,
        dir: &RunDir,
        figures: &checkpoint::Figures,
        epoch: u32,
    ) -> anyhow::Result<bool> {
        let Some(v) = value(self.metric, figures) else {
            return Ok(false);
        };
        if self.held.is_some_and(|(best, at)| v <= best || at == epoch) {
            return Ok(false);
        }
        let (last, best) = (dir.last_checkpoint(), dir.best_checkpoint());
        let bytes = std::fs::read(&last).with_context(|| format!("reading {}", last.display()))?;
        crate::atomic::write(&best, &bytes)
            .with_context(|| format!("writing {}", best.display()))?;
        self.held = Some((v, epoch));
        Ok(true)
    }

    /// What `summary.json` says of it.
    pub fn summary(&self) -> Option<BestCheckpoint> {
        self.held.map(|(value, epoch)| BestCheckpoint {
            metric: self.metric.name().to_string(),
            value,
            epoch,
            checkpoint: crate::rundir::Which::Best.name().to_string(),
        })
    }
}
