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
    /// The best value, what it was measured on and its epoch, once an epoch has measured the
    /// metric.
    held: Option<(Measured, u32)>,
}

/// A value of the metric and what it was measured on: robust accuracy on one grid and subset
/// is not comparable with another's (a resume may change `[eval]`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measured {
    value: f64,
    on: (Option<usize>, Option<usize>),
}

/// The metric's value in `figures`, when that epoch measured it.
fn value(metric: KeepBest, figures: &checkpoint::Figures) -> Option<Measured> {
    let (value, on) = match metric {
        KeepBest::TestAcc => (figures.test_acc, (None, None)),
        KeepBest::RobustAcc => (
            figures.robust_acc,
            (figures.robust_grid_size, figures.robust_subset),
        ),
    };
    value
        .filter(|v| v.is_finite())
        .map(|value| Measured { value, on })
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
        match self.held {
            Some((_, at)) if at == epoch => return Ok(false),
            Some((best, at)) if best.on != v.on => log::warn!(
                "keep_best: epoch {epoch} measured {} on another grid or subset than the best so \
                 far (epoch {at}); the best is kept among the epochs measured as epoch {epoch} is",
                self.metric.name()
            ),
            Some((best, _)) if v.value <= best.value => return Ok(false),
            _ => {}
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
        self.held.map(|(m, epoch)| BestCheckpoint {
            metric: self.metric.name().to_string(),
            value: m.value,
            epoch,
            checkpoint: crate::rundir::Which::Best.name().to_string(),
        })
    }
}
