//! The strategy kind: which image each training sample trains on.
//!
//! Once, after construction, the host asks which [`Fitness`] to compute. Per batch it calls,
//! in order:
//! ```text
//! host                                   strategy
//!  | begin_epoch(epoch)  (once per epoch)   |
//!  |-- propose(samples) ------------------->|  k_i candidate chromosomes per sample (k_i ≥ 0)
//!  |   [build + score all Σk_i candidates]  |  (skipped when every k_i is 0)
//!  |-- select(scores) --------------------->|  one chromosome per sample
//!  |   [build the chosen images, train]     |
//!  | take_counters()     (once per epoch)   |
//! ```
//! Chromosomes are flat `f64` arrays in gene order (see [`StrategySetup::genes`]), one gene value
//! each, in the gene's own unit.
//!
//! # What the host checks
//!
//! The host checks every answer before it uses any of it, and stops the run with an error
//! naming the strategy (component and library), the method and the offending value with its
//! index; nothing is trained on, scored or written from a refused answer:
//!
//! - [`Strategy::propose`]: one count per sample of the batch; every count 0 when the run has
//!   no genes; **at most 4,194,304 candidates (Σk) per batch** (the host's
//!   `MAX_CANDIDATES_PER_BATCH`), checked before the host allocates anything for them; Σk ×
//!   genes values.
//! - [`Strategy::propose`], [`Strategy::select`] and [`Strategy::incumbents`]: every gene value
//!   finite and within its gene's `[lo, hi]` ([`GeneSpec`]; a grid point one rounding past a
//!   bound is taken); `select` and `incumbents` one chromosome per sample.
//! - [`Strategy::take_counters`]: names not empty and not repeated, none the name of a
//!   `metrics.csv` column except `skipped_robust` (which fills the column of its name, so it
//!   must be a whole number ≥ 0), every value finite.
//!
//! [`Strategy::load_state`] receives the bytes of a checkpoint file, which may be damaged or
//! foreign: check every length against what the strategy was built for before allocating,
//! check every value (genes finite and in range, counts consistent), and return a
//! [`PluginError`] saying what is wrong; never panic on them.
use crate::{error::PluginError, guard};
use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RSlice, RString, RVec},
    StableAbi,
};

/// One gene of the search space as the strategy sees it (after the config's range and step).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct GeneSpec {
    /// The gene's name, e.g. `rotation`.
    pub name: RString,
    /// Smallest value.
    pub lo: f64,
    /// Largest value.
    pub hi: f64,
    /// The value that leaves the image unchanged.
    pub identity: f64,
    /// Grid step for a discrete space; none for a continuous one.
    pub step: ROption<f64>,
    /// How far one mutation moves the gene.
    pub mutation_step: f64,
    /// The mutation step when the parent's loss is tiny.
    pub low_loss_mutation_step: f64,
}

/// What a strategy is built for.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct StrategySetup {
    /// The genes, in chromosome order.
    pub genes: RVec<GeneSpec>,
    /// Training-set size; sample indices are `0 .. num_samples`.
    pub num_samples: u64,
    /// Number of classes of the dataset.
    pub num_classes: u32,
}

/// Candidates to score: `counts[i]` chromosomes for the i-th sample of the batch, laid out one
/// after another in `genes` (Σcounts × genes values).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Default)]
pub struct Proposal {
    /// Candidates per sample, in batch order.
    pub counts: RVec<u32>,
    /// The candidates' chromosomes, flat.
    pub genes: RVec<f64>,
}

/// How the host turns a candidate's logits into its fitness (higher = worse for the model).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fitness {
    /// Per-sample cross-entropy of the softmax against the true class.
    #[default]
    CrossEntropy,
    /// The reference implementation's fitness: the sum over classes of the binary cross-entropy
    /// between the one-hot label and the softmax, computed in float64 with the probabilities
    /// clipped to [1e-8, 1 − 1e-8] as the reference does.
    BceSum,
}

/// What the scoring pass found, per proposed candidate (in proposal order), and each batch
/// sample's true class. Every slice is empty of candidates when nothing was proposed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores<'a> {
    /// Each candidate's fitness (loss; higher is worse for the model).
    pub fitness: &'a [f32],
    /// Whether the model classified each candidate correctly.
    pub correct: &'a [bool],
    /// The class the model predicted for each candidate.
    pub predicted: &'a [u32],
    /// The true class of each sample of the batch, in batch order (one per sample, not per
    /// candidate; given even when nothing was proposed).
    pub labels: &'a [u32],
}

/// A named per-epoch statistic (e.g. `skipped_robust`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct Counter {
    /// Column-style name.
    pub name: RString,
    /// Value for the epoch just finished.
    pub value: f64,
}

/// A strategy, as its author implements it.
pub trait Strategy: Send + 'static {
    /// Called before the first batch of each epoch (0-based).
    fn begin_epoch(&mut self, epoch: u32) -> Result<(), PluginError> {
        let _ = epoch;
        Ok(())
    }
    /// Candidates to score for the batch's sample indices: at most 4,194,304 in all for the
    /// batch, each gene value in its gene's range (see "What the host checks" above).
    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError>;
    /// Given the [`Scores`] of the candidates last proposed, returns one chromosome per sample
    /// of that batch (samples × genes values). The host trains each sample on exactly the image
    /// it scored for that chromosome (same flip, same noise), so return one of the sample's
    /// candidates to train on what was measured.
    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError>;
    /// Per-epoch statistics, reset by the call: finite values under names of their own (not a
    /// `metrics.csv` column but `skipped_robust`, no name twice).
    fn take_counters(&mut self) -> Result<Vec<Counter>, PluginError> {
        Ok(Vec::new())
    }
    /// The whole search state, for checkpoints.
    fn save_state(&self) -> Result<Vec<u8>, PluginError>;
    /// Restores what [`Strategy::save_state`] returned, continuing the same search. The bytes
    /// come from a file: refuse any that are not such a state with an error, never a panic
    /// nor an allocation sized by an unchecked length field.
    fn load_state(&mut self, state: &[u8]) -> Result<(), PluginError>;
    /// The chromosome the strategy currently holds as worst for each sample (for previews);
    /// the identity where it holds none.
    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError>;
    /// The fitness the host computes for [`Strategy::select`]; asked once, after construction.
    fn fitness(&self) -> Fitness {
        Fitness::CrossEntropy
    }
}

/// The position of the greatest of `values`, the first one among equals, leaving NaN out: a
/// candidate whose loss is NaN (a diverged model) never wins over one with a number. `None`
/// when there is no value or every one is NaN.
///
/// Works on `f32` and `f64` fitness alike, by value or by reference
/// (`argmax(scores.fitness)`); pass NaN for the candidates that must not be picked.
pub fn argmax<T: PartialOrd>(values: impl IntoIterator<Item = T>) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in values.into_iter().enumerate() {
        // Only NaN is not comparable with itself.
        if v.partial_cmp(&v).is_none() {
            continue;
        }
        match &best {
            Some((_, b)) if v <= *b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}

/// Checks that every index of `samples`, the batch [`Strategy::propose`] received, lies in the
/// training set of `num_samples` images ([`StrategySetup::num_samples`]), as a strategy that
/// keeps per-sample state must before indexing it. The error reads "`{strategy}`: sample index
/// {s} is outside the training set of {num_samples} samples", naming the first offender.
pub fn check_samples(strategy: &str, samples: &[u64], num_samples: u64) -> Result<(), PluginError> {
    match samples.iter().find(|&&s| s >= num_samples) {
        None => Ok(()),
        Some(s) => Err(PluginError::new(format!(
            "`{strategy}`: sample index {s} is outside the training set of {num_samples} samples"
        ))),
    }
}

/// The FFI-safe trait object the host holds; built by the SDK around a [`Strategy`].
#[sabi_trait]
pub trait AbiStrategy: Send {
    /// See [`Strategy::begin_epoch`].
    fn begin_epoch(&mut self, epoch: u32) -> RResult<(), PluginError>;
    /// See [`Strategy::propose`].
    fn propose(&mut self, samples: RSlice<'_, u64>) -> RResult<Proposal, PluginError>;
    /// See [`Strategy::select`].
    fn select(
        &mut self,
        fitness: RSlice<'_, f32>,
        correct: RSlice<'_, bool>,
        predicted: RSlice<'_, u32>,
        labels: RSlice<'_, u32>,
    ) -> RResult<RVec<f64>, PluginError>;
    /// See [`Strategy::take_counters`].
    fn take_counters(&mut self) -> RResult<RVec<Counter>, PluginError>;
    /// See [`Strategy::save_state`].
    fn save_state(&self) -> RResult<RVec<u8>, PluginError>;
    /// See [`Strategy::load_state`].
    fn load_state(&mut self, state: RSlice<'_, u8>) -> RResult<(), PluginError>;
    /// See [`Strategy::incumbents`].
    fn incumbents(&self, samples: RSlice<'_, u64>) -> RResult<RVec<f64>, PluginError>;
    /// See [`Strategy::fitness`].
    #[sabi(last_prefix_field)]
    fn fitness(&self) -> RResult<Fitness, PluginError>;
}

/// A strategy object as it crosses the boundary.
pub type StrategyObject = AbiStrategy_TO<'static, RBox<()>>;

pub(crate) struct Guarded {
    pub(crate) name: String,
    /// Dropped by hand, under [`guard::drop_guarded`]: the host's drop of the boundary object
    /// runs in an `extern "C"` function, where a panic would abort the host.
    pub(crate) inner: std::mem::ManuallyDrop<Box<dyn Strategy>>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: `inner` is taken once, here, and never touched again.
        let inner = unsafe { std::mem::ManuallyDrop::take(&mut self.inner) };
        guard::drop_guarded(&self.name, inner);
    }
}

impl AbiStrategy for Guarded {
    fn begin_epoch(&mut self, epoch: u32) -> RResult<(), PluginError> {
        let Self { name, inner } = self;
        guard::call(name, "begin_epoch", || inner.begin_epoch(epoch))
    }

    fn propose(&mut self, samples: RSlice<'_, u64>) -> RResult<Proposal, PluginError> {
        let Self { name, inner } = self;
        guard::call(name, "propose", || inner.propose(samples.as_slice()))
    }

    fn select(
        &mut self,
        fitness: RSlice<'_, f32>,
        correct: RSlice<'_, bool>,
        predicted: RSlice<'_, u32>,
        labels: RSlice<'_, u32>,
    ) -> RResult<RVec<f64>, PluginError> {
        let Self { name, inner } = self;
        let scores = Scores {
            fitness: fitness.as_slice(),
            correct: correct.as_slice(),
            predicted: predicted.as_slice(),
            labels: labels.as_slice(),
        };
        guard::call(name, "select", || inner.select(&scores).map(RVec::from))
    }

    fn take_counters(&mut self) -> RResult<RVec<Counter>, PluginError> {
        let Self { name, inner } = self;
        guard::call(name, "take_counters", || {
            inner.take_counters().map(RVec::from)
        })
    }

    fn save_state(&self) -> RResult<RVec<u8>, PluginError> {
        guard::call(&self.name, "save_state", || {
            self.inner.save_state().map(RVec::from)
        })
    }

    fn load_state(&mut self, state: RSlice<'_, u8>) -> RResult<(), PluginError> {
        let Self { name, inner } = self;
        guard::call(name, "load_state", || inner.load_state(state.as_slice()))
    }

    fn incumbents(&self, samples: RSlice<'_, u64>) -> RResult<RVec<f64>, PluginError> {
        guard::call(&self.name, "incumbents", || {
            self.inner.incumbents(samples.as_slice()).map(RVec::from)
        })
    }

    fn fitness(&self) -> RResult<Fitness, PluginError> {
        guard::call(&self.name, "fitness", || Ok(self.inner.fitness()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f32 = f32::NAN;

    #[test]
    fn argmax_takes_the_first_greatest_and_never_nan() {
        assert_eq!(argmax([0.1f32, 0.9, 0.2]), Some(1));
        let by_ref: &[f32] = &[0.5, NAN, 0.4];
        assert_eq!(argmax(by_ref), Some(0));
        assert_eq!(argmax([NAN, NAN, 0.3]), Some(2));
        assert_eq!(argmax([NAN, 1.0, NAN, 0.5]), Some(1));
        assert_eq!(argmax([0.7f64, 0.7, 0.1]), Some(0), "ties keep the first");
        assert_eq!(argmax([f64::NEG_INFINITY, f64::NEG_INFINITY]), Some(0));
        assert_eq!(argmax([NAN, f32::NEG_INFINITY]), Some(1));
        assert_eq!(argmax([f32::INFINITY, 3.0]), Some(0));
        assert_eq!(argmax([NAN, NAN]), None);
        assert_eq!(argmax(Vec::<f32>::new()), None);
        // Works on any ordered type.
        assert_eq!(argmax([3u32, 9, 9]), Some(1));
    }

    /// The loop `w10` selected with before the SDK had [`argmax`], kept verbatim: the SDK's
    /// version with the last index when every value is NaN is the same function.
    fn w10_written_out(scores: &[f32]) -> usize {
        scores.iter().enumerate().fold(0, |b, (j, &f)| {
            if f > scores[b] || scores[b].is_nan() {
                j
            } else {
                b
            }
        })
    }

    /// SENSEI's `best_of` before the SDK had [`argmax`], verbatim.
    fn sensei_written_out(losses: &[f64], allowed: impl Fn(usize) -> bool) -> Option<usize> {
        let key = |l: f64| if l.is_nan() { f64::NEG_INFINITY } else { l };
        (0..losses.len())
            .filter(|&i| allowed(i))
            .fold(None, |b, i| match b {
                Some(b) if key(losses[i]) <= key(losses[b]) => Some(b),
                _ => Some(i),
            })
    }

    #[test]
    fn argmax_picks_what_the_strategies_picked_before() {
        // Every vector of length 1 to 4 over {NaN, 0, 0.5, 1}: all orders, ties and NaN runs.
        let values = [NAN, 0.0, 0.5, 1.0];
        for len in 1..=4u32 {
            for code in 0..4usize.pow(len) {
                let v: Vec<f32> = (0..len).map(|i| values[code / 4usize.pow(i) % 4]).collect();
                let w10 = argmax(&v).unwrap_or(v.len() - 1);
                assert_eq!(w10, w10_written_out(&v), "{v:?}");
                let wide: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
                for mask in 0..(1usize << len) {
                    let open = |i: usize| mask >> i & 1 == 1;
                    let masked = wide
                        .iter()
                        .enumerate()
                        .map(|(i, &l)| if open(i) { l } else { f64::NAN });
                    let sensei = argmax(masked).or_else(|| (0..wide.len()).find(|&i| open(i)));
                    assert_eq!(
                        sensei,
                        sensei_written_out(&wide, open),
                        "{wide:?} mask {mask:b}"
                    );
                }
            }
        }
    }

    #[test]
    fn samples_outside_the_training_set_are_refused() {
        assert!(check_samples("w10", &[0, 4, 9], 10).is_ok());
        assert!(check_samples("w10", &[], 0).is_ok());
        let e = check_samples("sensei-rw", &[3, 20, 25], 20).unwrap_err();
        assert_eq!(
            e.message,
            "`sensei-rw`: sample index 20 is outside the training set of 20 samples"
        );
        assert!(e.key.is_empty() && !e.panicked);
        let e = check_samples("random", &[u64::MAX], 0).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "`random`: sample index {} is outside the training set of 0 samples",
                u64::MAX
            )
        );
    }
}
