//! One training epoch under the strategy (DESIGN.md §9): per batch, the strategy proposes
//! candidates, the host builds and scores them all in large no-grad passes (batch-norm in eval
//! mode), the strategy picks one chromosome per sample, and the model trains on those images.
use super::Session;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
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

/// The epoch was asked to stop after batch `batch` (1-based).
#[derive(Debug, thiserror::Error)]
#[error("stopped after batch {batch}")]
pub struct Stopped {
    /// The last batch trained.
    pub batch: usize,
}

/// Where an epoch's time went, summed over its batches.
#[derive(Debug, Default)]
struct BatchTiming {
    score: f64,
    strategy: f64,
}

impl Session {
    /// Runs epoch `epoch` (0-based).
    /// `stop` is polled after every batch; when it says so, the epoch ends with [`Stopped`].
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
        if let Ok(style) =
            ProgressStyle::with_template("epoch {prefix} {bar:30} {pos}/{len} batches  {msg}")
        {
            bar.set_style(style);
        }
        bar.set_length(batches as u64);
        bar.set_position(0);
        bar.set_prefix(format!("{}/{}", epoch + 1, self.config.train.epochs));
        let (mut loss_sum, mut correct, mut scored) = (0.0f64, 0i64, 0u64);
        let mut timing = BatchTiming::default();
        for (b, samples) in order.chunks(batch).enumerate() {
            let lr = self.learning_rate(f64::from(epoch) + b as f64 / batches as f64);
            let (loss, ok, k) = self
                .train_batch(samples, &mut timing)
                .with_context(|| format!("epoch {}, batch {}", epoch + 1, b + 1))?;
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
                bail!(Stopped { batch: b + 1 });
            }
            bar.set_message(format!(
                "loss {:.4}  {:.0} img/s",
                loss_sum / ((b * batch + samples.len()) as f64),
                ((b * batch + samples.len()) as f64) / start.elapsed().as_secs_f64()
            ));
        }
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

    /// One batch: propose, score, select, build, train (backward only; the step is the
    /// caller's). Returns (mean loss, correct count, candidates scored).
    fn train_batch(
        &mut self,
        samples: &[u64],
        timing: &mut BatchTiming,
    ) -> anyhow::Result<(f64, i64, u64)> {
        let device = self.device;
        let genes = self.engine().genes();
        let clock = Instant::now();
        let proposal = self.parts.strategy.propose(samples)?;
        timing.strategy += clock.elapsed().as_secs_f64();
        if proposal.counts.len() != samples.len() {
            bail!(
                "strategy `{}` proposed for {} samples, the batch has {}",
                self.config.strategy.name,
                proposal.counts.len(),
                samples.len()
            );
        }
        let total: usize = proposal.counts.iter().map(|&c| c as usize).sum();
        if proposal.genes.len() != total * genes {
            bail!(
                "strategy `{}` proposed {} candidates but sent {} gene values ({} genes each)",
                self.config.strategy.name,
                total,
                proposal.genes.len(),
                genes
            );
        }
        let clock = Instant::now();
        let (fitness, correct) = if total > 0 {
            let owners: Vec<i64> = samples
                .iter()
                .zip(proposal.counts.iter())
                .flat_map(|(&s, &k)| std::iter::repeat_n(s as i64, k as usize))
                .collect();
            self.score(&owners, &proposal.genes)?
        } else {
            (Vec::new(), Vec::new())
        };
        timing.score += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let chosen = self.parts.strategy.select(&fitness, &correct)?;
        timing.strategy += clock.elapsed().as_secs_f64();
        if chosen.len() != samples.len() * genes {
            bail!(
                "strategy `{}` chose {} gene values for {} samples of {} genes",
                self.config.strategy.name,
                chosen.len(),
                samples.len(),
                genes
            );
        }
        let idx: Vec<i64> = samples.iter().map(|&s| s as i64).collect();
        let idx = Tensor::f_from_slice(&idx)?.f_to_device(device)?;
        let (pixels, labels) = self.data.train.gather(&idx)?;
        let seed = self.rng.random::<u64>();
        let mut x = self.engine().apply(&pixels, &chosen, seed)?;
        if self.config.train.hflip {
            let mask: Vec<bool> = (0..samples.len())
                .map(|_| self.rng.random::<bool>())
                .collect();
            let mask = Tensor::f_from_slice(&mask)?
                .f_view([-1, 1, 1, 1])?
                .f_to_device(device)?;
            x = x.f_flip([3])?.f_where_self(&mask, &x)?;
        }
        let x = self.data.normalizer.apply(&x)?;
        let (value, ok) = self.backward_on(&x, &labels)?;
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

    /// Per-candidate loss and correctness of the images `owners[i]` under chromosome i, in
    /// no-grad passes of [`super::forward_pass_size`] candidates, batch-norm in eval mode.
    pub fn score(
        &self,
        owners: &[i64],
        chromosomes: &[f64],
    ) -> anyhow::Result<(Vec<f32>, Vec<bool>)> {
        let _guard = tch::no_grad_guard();
        let genes = self.engine().genes();
        let mut fitness = Vec::with_capacity(owners.len());
        let mut correct = Vec::with_capacity(owners.len());
        let pass = super::forward_pass_size(self.device);
        for (c, part) in owners.chunks(pass).enumerate() {
            let genes_part = &chromosomes[c * pass * genes..][..part.len() * genes];
            let (x, labels) = self.variants(&self.data.train, part, genes_part)?;
            let (f, ok) = self.score_pass(&x, &labels)?;
            fitness.extend(f);
            correct.extend(ok);
        }
        Ok((fitness, correct))
    }

    /// One no-grad forward pass over the normalised batch `x` in evaluation mode: each image's
    /// fitness (the strategy's loss) and whether it is classified correctly. Its shape changes
    /// from batch to batch, so cuDNN does not tune it ([`super::untuned`]).
    pub fn score_pass(&self, x: &Tensor, labels: &Tensor) -> anyhow::Result<(Vec<f32>, Vec<bool>)> {
        let _guard = tch::no_grad_guard();
        let logits = super::untuned(self.device, || {
            super::precision::bf16(self.bf16(), self.device, || self.model.forward_t(x, false))
        })
        .f_to_kind(Kind::Float)?;
        let loss = super::fitness::per_sample(self.fitness, &logits, labels)?;
        let fitness =
            Vec::<f32>::try_from(loss.f_to_kind(Kind::Float)?.f_to_device(tch::Device::Cpu)?)?;
        let ok = logits.f_argmax(-1, false)?.f_eq_tensor(labels)?;
        Ok((
            fitness,
            Vec::<bool>::try_from(ok.f_to_device(tch::Device::Cpu)?)?,
        ))
    }
}
