//! One training epoch under the strategy: per batch, each sample's random mirror is decided
//! first, the strategy proposes candidates, the host builds them all from the (mirrored) images
//! and scores them in large no-grad passes (batch-norm in eval mode), the strategy picks one
//! chromosome per sample, and the model trains on exactly those images: built by the same
//! [`Session::variants`] from the same image, mirror, chromosome and seed as when scored.
use super::Session;
use anyhow::{bail, Context};
use indicatif::ProgressBar;
use rand::{seq::SliceRandom, Rng};
use std::time::Instant;
use tch::{Kind, Tensor};

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochStats {
    /// Mean training loss.
    pub loss: f64,
    /// Training accuracy on the images trained on.
    pub accuracy: f64,
    /// Learning rate at the start of the epoch.
    pub lr: f64,
    /// Wall time of the training part.
    pub seconds: f64,
    /// Training images per second.
    pub images_per_second: f64,
    /// Candidates scored by no-grad forward passes.
    pub scored_candidates: u64,
    /// Wall time spent building and scoring candidates.
    pub score_seconds: f64,
    /// Wall time spent in the strategy's own calls (propose, select).
    pub strategy_seconds: f64,
    /// The strategy's per-epoch counters.
    pub counters: Vec<(String, f64)>,
}

/// A training loss that is not finite stops the run.
#[derive(Debug, thiserror::Error)]
#[error("non-finite training loss ({loss}) at epoch {epoch}, batch {batch}; lower the learning rate. The run stopped")]
pub struct NonFinite {
    /// 1-based epoch.
    pub epoch: u32,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// The loss value.
    pub loss: f64,
}

/// The run was asked to stop; `at` says where (`after batch 3 of 10`, `while scoring batch 4
/// of 10`, `during the robust evaluation`).
#[derive(Debug, thiserror::Error)]
#[error("stopped {at}")]
pub struct Stopped {
    /// Where it stopped.
    pub at: String,
}

/// Where an epoch's time went, summed over its batches.
#[derive(Debug, Default)]
struct BatchTiming {
    score: f64,
    strategy: f64,
}

impl Session {
    /// Runs epoch `epoch` (0-based), advancing `bar` by one per batch (its style, length and
    /// position are the caller's).
    /// `stop` is polled after every batch and between scoring passes; when it says so, the
    /// epoch ends with [`Stopped`] (a stop while scoring leaves that batch untrained).
    pub fn train_epoch(
        &mut self,
        epoch: u32,
        bar: &ProgressBar,
        stop: impl Fn() -> bool,
    ) -> anyhow::Result<EpochStats> {
        let start = Instant::now();
        let n = self.data.train.len() as usize;
        let batch = self.config.train.batch_size as usize;
        let batches = n.div_ceil(batch);
        let lr0 = self.learning_rate(f64::from(epoch));
        self.parts.strategy.begin_epoch(epoch)?;
        let mut order: Vec<u64> = (0..n as u64).collect();
        order.shuffle(&mut self.rng);
        let epochs = self.config.train.epochs;
        let (mut loss_sum, mut correct, mut scored) = (0.0f64, 0i64, 0u64);
        let mut timing = BatchTiming::default();
        for (b, samples) in order.chunks(batch).enumerate() {
            let lr = self.learning_rate(f64::from(epoch) + b as f64 / batches as f64);
            let (loss, ok, k) = match self.train_batch((epoch, b), samples, &mut timing, &stop) {
                Err(e) if e.is::<Stopped>() => bail!(Stopped {
                    at: format!("while scoring batch {} of {batches}", b + 1)
                }),
                other => other.with_context(|| format!("epoch {}, batch {}", epoch + 1, b + 1))?,
            };
            if !loss.is_finite() {
                bail!(NonFinite {
                    epoch: epoch + 1,
                    batch: b + 1,
                    loss
                });
            }
            self.optimizer.step(lr)?;
            loss_sum += loss * samples.len() as f64;
            correct += ok;
            scored += k;
            bar.inc(1);
            if stop() {
                bail!(Stopped {
                    at: format!("after batch {} of {batches}", b + 1)
                });
            }
            bar.set_message(format!(
                "epoch {}/{epochs}, batch {}/{batches}: loss {:.4}, {:.0} img/s",
                epoch + 1,
                b + 1,
                loss_sum / ((b * batch + samples.len()) as f64),
                ((b * batch + samples.len()) as f64) / start.elapsed().as_secs_f64()
            ));
        }
        // Checked by the handle: no metrics column shadowed, no repeat, finite.
        let counters = self
            .parts
            .strategy
            .take_counters()?
            .into_iter()
            .map(|c| (c.name.to_string(), c.value))
            .collect();
        let seconds = start.elapsed().as_secs_f64();
        Ok(EpochStats {
            loss: loss_sum / n as f64,
            accuracy: correct as f64 / n as f64,
            lr: lr0,
            seconds,
            images_per_second: n as f64 / seconds,
            scored_candidates: scored,
            score_seconds: timing.score,
            strategy_seconds: timing.strategy,
            counters,
        })
    }

    /// One batch: mirror, propose, score, select, build, train (backward only; the step is the
    /// caller's). Returns (mean loss, correct count, candidates scored).
    fn train_batch(
        &mut self,
        (epoch, batch): (u32, usize),
        samples: &[u64],
        timing: &mut BatchTiming,
        stop: &dyn Fn() -> bool,
    ) -> anyhow::Result<(f64, i64, u64)> {
        let genes = &self.parts.genes;
        // Before the search, as the reference does: every candidate of a sample is built from
        // its mirrored image, and the chosen one trains mirrored the same way.
        let flips: Vec<bool> = if self.hflip {
            (0..samples.len())
                .map(|_| self.rng.random::<bool>())
                .collect()
        } else {
            Vec::new()
        };
        let context = u64::from(epoch);
        let clock = Instant::now();
        // Checked by the handle (counts, the candidate limit, lengths, gene ranges) before
        // anything is allocated for the candidates.
        let proposal = self.parts.strategy.propose(samples, genes)?;
        timing.strategy += clock.elapsed().as_secs_f64();
        let total: usize = proposal.counts.iter().map(|&c| c as usize).sum();
        let clock = Instant::now();
        let scored = if total > 0 {
            let (owners, owner_flips) = per_candidate(samples, &proposal.counts, &flips);
            self.score_until(&owners, &owner_flips, &proposal.genes, context, stop)?
        } else {
            Scored::default()
        };
        timing.score += clock.elapsed().as_secs_f64();
        let labels: Vec<u32> = samples
            .iter()
            .map(|&s| self.train_labels[s as usize])
            .collect();
        let clock = Instant::now();
        // Checked by the handle: one chromosome per sample, in range.
        let chosen = self.parts.strategy.select(
            &fuzzaug_sdk::Scores {
                fitness: &scored.fitness,
                correct: &scored.correct,
                predicted: &scored.predicted,
                labels: &labels,
            },
            genes,
        )?;
        timing.strategy += clock.elapsed().as_secs_f64();
        let owners: Vec<i64> = samples.iter().map(|&s| s as i64).collect();
        let (x, labels) = self.variants(&self.data.train, &owners, &flips, &chosen, context)?;
        if let Some(observer) = self.observer.borrow_mut().as_mut() {
            observer.training(&x, &labels, self.model.as_ref());
        }
        // What the forward pass draws (dropout) depends on the run and the step alone: the same
        // after a resume, and whatever a plugin did in this process.
        let step = crate::augment::seeds::step(self.config.seed, epoch, batch);
        let (value, ok) = crate::global_rng::seeded(step, || self.backward_on(&x, &labels))?;
        Ok((value, ok, total as u64))
    }

    /// Forward (training mode) and backward on the normalised batch `x`, leaving the gradients
    /// for the optimiser's step (the caller's, with its learning rate). Returns (mean loss,
    /// correct count); a non-finite loss is returned without a backward pass.
    pub fn backward_on(&mut self, x: &Tensor, labels: &Tensor) -> anyhow::Result<(f64, i64)> {
        self.optimizer.zero_grad();
        let logits =
            super::precision::bf16(self.bf16(), self.device, || self.model.forward_t(x, true));
        // The loss in fp32 whatever the forward pass ran in.
        let loss = logits
            .f_to_kind(Kind::Float)?
            .f_cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0)?;
        let value = loss.f_double_value(&[])?;
        if value.is_finite() {
            loss.backward();
        }
        let ok = tch::no_grad(|| {
            logits
                .f_argmax(-1, false)?
                .f_eq_tensor(labels)?
                .f_sum(Kind::Int64)?
                .f_int64_value(&[])
        })?;
        Ok((value, ok))
    }

    /// Per-candidate fitness, correctness and predicted class of the training images
    /// `owners[i]`, mirrored where `flips[i]`, under chromosome i in `context` (see
    /// [`Session::variants`]), in no-grad passes of [`super::forward_pass_size`] candidates,
    /// batch-norm in eval mode.
    pub fn score(
        &self,
        owners: &[i64],
        flips: &[bool],
        chromosomes: &[f64],
        context: u64,
    ) -> anyhow::Result<Scored> {
        self.score_until(owners, flips, chromosomes, context, &|| false)
    }

    /// [`Session::score`], polling `stop` before each pass (a [`Stopped`] error when it says
    /// so), so a stop waits for one pass at most, not for a whole batch's candidates.
    pub fn score_until(
        &self,
        owners: &[i64],
        flips: &[bool],
        chromosomes: &[f64],
        context: u64,
        stop: &dyn Fn() -> bool,
    ) -> anyhow::Result<Scored> {
        let _guard = tch::no_grad_guard();
        let genes = self.engine().genes();
        let mut out = Scored::default();
        let pass = super::forward_pass_size(self.device);
        for (c, part) in owners.chunks(pass).enumerate() {
            if stop() {
                bail!(Stopped {
                    at: "while scoring".into()
                });
            }
            let genes_part = &chromosomes[c * pass * genes..][..part.len() * genes];
            let flips_part = flips.get(c * pass..c * pass + part.len()).unwrap_or(&[]);
            let (x, labels) =
                self.variants(&self.data.train, part, flips_part, genes_part, context)?;
            let pass = self.score_pass(&x, &labels)?;
            out.fitness.extend(pass.fitness);
            out.correct.extend(pass.correct);
            out.predicted.extend(pass.predicted);
        }
        Ok(out)
    }

    /// One no-grad forward pass over the normalised batch `x` in evaluation mode: each image's
    /// fitness (the strategy's loss), whether it is classified correctly and its predicted
    /// class. Its shape changes from batch to batch, so cuDNN does not tune it
    /// ([`super::untuned`]).
    pub fn score_pass(&self, x: &Tensor, labels: &Tensor) -> anyhow::Result<Scored> {
        let _guard = tch::no_grad_guard();
        let logits = super::untuned(self.device, || {
            super::precision::bf16(self.bf16(), self.device, || self.model.forward_t(x, false))
        })
        .f_to_kind(Kind::Float)?;
        let loss = super::fitness::per_sample(self.fitness, &logits, labels)?;
        let fitness =
            Vec::<f32>::try_from(loss.f_to_kind(Kind::Float)?.f_to_device(tch::Device::Cpu)?)?;
        let predicted = logits.f_argmax(-1, false)?;
        let correct = predicted.f_eq_tensor(labels)?;
        if let Some(observer) = self.observer.borrow_mut().as_mut() {
            observer.scored(x, &logits, &fitness);
        }
        Ok(Scored {
            fitness,
            correct: Vec::<bool>::try_from(correct.f_to_device(tch::Device::Cpu)?)?,
            predicted: Vec::<i64>::try_from(predicted.f_to_device(tch::Device::Cpu)?)?
                .into_iter()
                .map(|p| p as u32)
                .collect(),
        })
    }
}

/// Each candidate's sample and mirror: sample i (and `flips[i]`) repeated `counts[i]` times;
/// no mirrors when `flips` is empty.
fn per_candidate(samples: &[u64], counts: &[u32], flips: &[bool]) -> (Vec<i64>, Vec<bool>) {
    let repeat = |i: usize| std::iter::repeat_n(i, counts[i] as usize);
    let candidates = (0..samples.len()).flat_map(repeat);
    let owners = candidates.clone().map(|i| samples[i] as i64).collect();
    let mirrored = if flips.is_empty() {
        Vec::new()
    } else {
        candidates.map(|i| flips[i]).collect()
    };
    (owners, mirrored)
}

/// What scoring found per candidate, in candidate order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// The strategy's fitness (loss; higher is worse for the model).
    pub fitness: Vec<f32>,
    /// Whether the model classified the candidate correctly.
    pub correct: Vec<bool>,
    /// The class the model predicted.
    pub predicted: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::per_candidate;

    #[test]
    fn every_candidate_carries_its_sample_and_mirror() {
        let (owners, flips) = per_candidate(&[7, 3, 9], &[2, 0, 1], &[true, false, false]);
        assert_eq!(owners, vec![7, 7, 9]);
        assert_eq!(flips, vec![true, true, false]);
        let (owners, flips) = per_candidate(&[7, 3], &[1, 2], &[]);
        assert_eq!((owners, flips), (vec![7, 3, 3], vec![]));
    }
}
