//! The epoch loop of a run: train, test, robust evaluation when due, one metrics row, one
//! checkpoint; stops become [`super::interrupt::Interrupted`] with the command that continues.
use super::{checkpointer, interrupt, Options};
use crate::{
    rundir::{
        metrics::{Metrics, Row, SKIPPED_ROBUST},
        RunDir,
    },
    train::{Accuracy, EpochStats, Robust, Session, Stopped},
};
use serde_json::json;
use std::time::Instant;

/// The loop's state across epochs.
pub struct Epochs<'a> {
    /// The run's experiment (for the attackers of `[[eval.protocols]]`).
    pub exp: &'a crate::setup::Experiment,
    /// The run's own threat model, when its config names `[[eval.protocols]]`.
    pub threat: Option<crate::eval::Threat>,
    /// The session trained.
    pub session: &'a mut Session,
    /// Its directory.
    pub dir: &'a RunDir,
    /// Its metrics.
    pub metrics: &'a Metrics,
    /// What the person watching sees.
    pub progress: super::progress::Progress,
    /// Wall seconds of every finished epoch, over every session.
    pub train_seconds: f64,
    /// The latest test accuracy and robust evaluation.
    pub last: Option<(f64, Option<Robust>)>,
    /// The best epoch, with `[train] keep_best`.
    pub best: Option<super::best::Best>,
    /// TensorBoard, with `[log] tensorboard`.
    pub board: Option<super::board::Board>,
}

/// What one epoch gave.
pub struct Done {
    /// Its test accuracy.
    pub test: Accuracy,
    /// Its robust evaluation, when one was due.
    pub robust: Option<Robust>,
    /// Its training statistics.
    pub stats: EpochStats,
}

impl Epochs<'_> {
    /// What a failure in epoch `epoch` (0-based) leaves.
    fn kept(&self, epoch: u32) -> String {
        if epoch > 0 {
            format!(
                "the last good checkpoint (epoch {epoch}) is intact at {}",
                self.dir.last_checkpoint().display()
            )
        } else {
            "no checkpoint was written yet".to_string()
        }
    }

    /// An error of epoch `epoch` (0-based) with what was kept; a stop becomes
    /// [`interrupt::Interrupted`] with the command that continues the run.
    pub fn failed(&self, epoch: u32, e: anyhow::Error) -> anyhow::Error {
        let Some(stopped) = e.downcast_ref::<Stopped>() else {
            return e.context(self.kept(epoch));
        };
        let how = if epoch > 0 {
            format!(
                "; continue with `fuzzaug run --resume {}`",
                self.dir.path().display()
            )
        } else {
            String::new()
        };
        let kept = self.kept(epoch);
        interrupt::Interrupted {
            epoch: epoch + 1,
            at: stopped.at.clone(),
            kept: format!("{}{}{how}", kept[..1].to_uppercase(), &kept[1..]),
        }
        .into()
    }

    /// Trains and evaluates epoch `epoch` (0-based) of `epochs`, appends its row and saves the
    /// checkpoint.
    pub fn run_one(&mut self, epoch: u32, epochs: u32) -> anyhow::Result<Done> {
        if interrupt::requested() {
            let before = Stopped {
                at: "before it started".into(),
            };
            return Err(self.failed(epoch, before.into()));
        }
        let started = Instant::now();
        self.progress.training(epochs, epoch);
        let stats = self
            .session
            .train_epoch(epoch, &self.progress.bar, interrupt::requested)
            .map_err(|e| self.failed(epoch, e))?;
        let phase = self.progress.phase(
            &format!(
                "epoch {}/{epochs}: test accuracy on {} images",
                epoch + 1,
                self.session.data.test.len()
            ),
            0,
        );
        let test = self.session.evaluate();
        self.progress.end_phase(phase);
        let test = test?;
        self.train_seconds += started.elapsed().as_secs_f64();
        let eval = &self.session.config.eval;
        let due = epoch + 1 == epochs
            || (eval.robust_every > 0 && (epoch + 1).is_multiple_of(eval.robust_every));
        let robust = if due {
            let subset = eval.robust_subset;
            let (images, grid, passes) = self.session.robust_size(subset);
            let phase = self.progress.phase(
                &format!(
                    "epoch {}/{epochs}: robust grid, {grid} variants × {} images (passes)",
                    epoch + 1,
                    super::progress::thousands(images as u64)
                ),
                passes,
            );
            let step = || {
                phase.inc(1);
                interrupt::requested()
            };
            let robust = self.session.robust_until(subset, &step);
            self.progress.end_phase(phase);
            Some(robust.map_err(|e| self.failed(epoch, e))?)
        } else {
            None
        };
        let mut row = row(epoch + 1, &stats, &test, robust.as_ref());
        if let (true, Some(threat)) = (due, &self.threat) {
            let options = crate::eval::Options {
                early_exit: true,
                failures: 0,
            };
            let phase = self.progress.phase(
                &format!("epoch {}/{epochs}: the run's eval protocols", epoch + 1),
                0,
            );
            let report = crate::eval::evaluate(
                self.exp,
                self.session,
                threat,
                options,
                &interrupt::requested,
            );
            self.progress.end_phase(phase);
            let report = report.map_err(|e| self.failed(epoch, e))?;
            row.set_protocols(
                report
                    .protocols
                    .iter()
                    .map(|p| (p.name.clone(), p.robust_acc)),
            );
        }
        self.metrics.append(&row)?;
        let figures = crate::rundir::checkpoint::Figures {
            test_acc: Some(test.accuracy),
            robust_acc: robust.as_ref().map(|r| r.robust_acc),
            robust_grid_size: robust.as_ref().map(|r| r.grid_size),
            robust_subset: robust.as_ref().map(|r| r.subset),
        };
        checkpointer::save(
            self.session,
            &self.dir.last_checkpoint(),
            epoch + 1,
            self.train_seconds,
            figures,
        )?;
        if let Some(best) = &mut self.best {
            best.offer(self.dir, &figures, epoch + 1)?;
        }
        // After the checkpoint: TensorBoard is a view of the run, and a failure to write it
        // (a full disk, a strategy's odd answer for the image grid) stops the view, not the run.
        if let Some(board) = &mut self.board {
            if let Err(e) = board.epoch(self.session, &row) {
                log::warn!(
                    "TensorBoard logging stopped at epoch {}: {e:#}; the run goes on",
                    epoch + 1
                );
                self.board = None;
            }
        }
        self.last = Some((test.accuracy, robust.clone()));
        Ok(Done {
            test,
            robust,
            stats,
        })
    }

    /// The per-epoch log line (unless quiet).
    pub fn report(&self, epoch: u32, epochs: u32, done: &Done, options: Options) {
        if options.quiet {
            return;
        }
        let (stats, test) = (&done.stats, &done.test);
        let robust = done
            .robust
            .as_ref()
            .map(|r| format!(" | robust {:.4} (grid {})", r.robust_acc, r.grid_size))
            .unwrap_or_default();
        self.progress.line(&format!(
            "epoch {}/{epochs}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4}{robust} | {:.1} s, {:.0} img/s",
            epoch + 1, stats.loss, stats.accuracy, test.loss, test.accuracy, stats.seconds, stats.images_per_second
        ));
    }
}

/// The metrics row of epoch `epoch` (1-based).
fn row(epoch: u32, stats: &EpochStats, test: &Accuracy, robust: Option<&Robust>) -> Row {
    let skipped = stats
        .counters
        .iter()
        .find(|(k, _)| k == SKIPPED_ROBUST)
        .map_or(0, |(_, v)| *v as u64);
    let counters = stats
        .counters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut extra = serde_json::Map::new();
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
    let mut row = Row {
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
        skipped,
        extra,
        counters,
    };
    if let Some(rb) = robust {
        let details = [
            json!(rb.grid_acc),
            json!(rb.random_acc),
            json!(rb.grid_size),
            json!(rb.subset),
        ];
        row.set_robust(rb.robust_acc, details);
    }
    row
}
