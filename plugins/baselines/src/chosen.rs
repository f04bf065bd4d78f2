//! The chromosome each sample last trained on, kept by strategies that hold no search state so
//! `fuzzaug preview` can show what they chose, and saved with their checkpoints.
use fuzzaug_sdk::prelude::*;
use rand_chacha::ChaCha8Rng;

/// Last chosen chromosome per training sample (f32 is exact on grids and enough for a preview).
#[derive(Debug, Clone, PartialEq)]
pub struct LastChosen {
    identity: Vec<f64>,
    /// Each gene's `[lo, hi]`.
    ranges: Vec<(f64, f64)>,
    samples: u64,
    /// `samples × genes` values, NaN where a sample was never chosen; empty until first use.
    values: Vec<f32>,
    /// The samples of the batch in flight.
    batch: Vec<u64>,
}

impl LastChosen {
    /// Empty history for the setup's genes and training set.
    pub fn new(setup: &StrategySetup) -> Self {
        Self {
            identity: setup.genes.iter().map(|g| g.identity).collect(),
            ranges: setup.genes.iter().map(|g| (g.lo, g.hi)).collect(),
            samples: setup.num_samples,
            values: Vec::new(),
            batch: Vec::new(),
        }
    }

    /// Notes the batch's samples at `propose`; refuses indices outside the training set.
    pub fn begin(&mut self, strategy: &str, samples: &[u64]) -> Result<(), PluginError> {
        fuzzaug_sdk::strategy::check_samples(strategy, samples, self.samples)?;
        self.batch.clear();
        self.batch.extend_from_slice(samples);
        Ok(())
    }

    /// Records the chromosomes chosen for the batch noted by [`LastChosen::begin`].
    pub fn record(&mut self, chosen: &[f64]) {
        let g = self.identity.len();
        if self.values.is_empty() {
            self.values = vec![f32::NAN; self.samples as usize * g];
        }
        for (&s, c) in self.batch.iter().zip(chosen.chunks(g.max(1))) {
            let at = s as usize * g;
            for (slot, &v) in self.values[at..at + g].iter_mut().zip(c) {
                *slot = v as f32;
            }
        }
    }

    /// The last chromosome of each sample; the identity for samples never chosen. A value is
    /// kept as an f32, which may round past its gene's bound: it comes back within `[lo, hi]`.
    pub fn get(&self, samples: &[u64]) -> Vec<f64> {
        let g = self.identity.len();
        let mut out = Vec::with_capacity(samples.len() * g);
        for &s in samples {
            let at = s as usize * g;
            match self.values.get(at..at + g) {
                Some(v) if !v.iter().any(|x| x.is_nan()) => out.extend(
                    v.iter()
                        .zip(&self.ranges)
                        .map(|(&x, &(lo, hi))| f64::from(x).clamp(lo, hi)),
                ),
                _ => out.extend_from_slice(&self.identity),
            }
        }
        out
    }

    /// Checkpoint bytes: the random stream's position (16 bytes), then the history.
    pub fn save(&self, rng: &ChaCha8Rng) -> Vec<u8> {
        let mut out = rng.get_word_pos().to_le_bytes().to_vec();
        out.reserve(self.values.len() * 4);
        for v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Restores what [`LastChosen::save`] wrote.
    pub fn load(
        &mut self,
        rng: &mut ChaCha8Rng,
        state: &[u8],
        strategy: &str,
    ) -> Result<(), PluginError> {
        let full = self.samples as usize * self.identity.len() * 4;
        if state.len() != 16 && state.len() != 16 + full {
            return Err(PluginError::new(format!(
                "`{strategy}`: the checkpoint holds {} bytes of strategy state, expected 16 or {} \
                 (was it written for another dataset or search space?)",
                state.len(),
                16 + full
            )));
        }
        let (pos, rest) = state.split_at(16);
        let values: Vec<f32> = rest
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        self.check(&values, strategy)?;
        let mut word = [0u8; 16];
        word.copy_from_slice(pos);
        rng.set_word_pos(u128::from_le_bytes(word));
        self.values = values;
        Ok(())
    }

    /// Refuses saved values that [`LastChosen::record`] cannot have written: each sample's
    /// chromosome is either never chosen (every value NaN) or every value lies within its
    /// gene's `[lo, hi]` (as rounded to f32).
    fn check(&self, values: &[f32], strategy: &str) -> Result<(), PluginError> {
        let g = self.identity.len().max(1);
        for (sample, chromosome) in values.chunks(g).enumerate() {
            if chromosome.iter().all(|v| v.is_nan()) {
                continue;
            }
            for (&v, &(lo, hi)) in chromosome.iter().zip(&self.ranges) {
                if !(lo as f32 <= v && v <= hi as f32) {
                    return Err(PluginError::new(format!(
                        "`{strategy}`: the checkpoint's strategy state holds {v} for sample \
                         {sample}, outside its gene's range [{lo}, {hi}] (was it written for \
                         another search space?)"
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing::{self, gene};
    use rand::{Rng, SeedableRng};

    fn stream() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    fn setup() -> StrategySetup {
        let gene =
            |name: &str, identity: f64| gene(name, -10.0, 10.0, identity).with_mutation(1.0, 2.0);
        testing::setup(vec![gene("a", 0.0), gene("b", 1.0)], 5, 2)
    }

    #[test]
    fn unseen_samples_show_the_identity_and_seen_ones_their_last_choice() {
        let mut h = LastChosen::new(&setup());
        assert_eq!(h.get(&[3]), vec![0.0, 1.0]);
        h.begin("x", &[3, 1]).unwrap();
        h.record(&[2.5, -1.0, 4.0, 0.5]);
        h.begin("x", &[3]).unwrap();
        h.record(&[7.0, 8.0]);
        assert_eq!(h.get(&[1, 3, 0]), vec![4.0, 0.5, 7.0, 8.0, 0.0, 1.0]);
    }

    #[test]
    fn state_round_trips_with_and_without_history() {
        let mut rng = stream();
        let _: u64 = rng.random();
        let mut h = LastChosen::new(&setup());
        let empty = h.save(&rng);
        assert_eq!(empty.len(), 16);
        h.begin("x", &[4]).unwrap();
        h.record(&[-3.0, 9.0]);
        let bytes = h.save(&rng);
        let (mut back, mut rng2) = (LastChosen::new(&setup()), stream());
        back.load(&mut rng2, &bytes, "x").unwrap();
        assert_eq!(back.get(&[4, 0]), vec![-3.0, 9.0, 0.0, 1.0]);
        assert_eq!(rng2.random::<u64>(), rng.random::<u64>());
        back.load(&mut rng2, &empty, "x").unwrap();
        assert_eq!(back.get(&[4]), vec![0.0, 1.0]);
    }

    /// Found by `fuzz/` (target `load_state`): a state whose values lie outside their genes'
    /// ranges (or are partly NaN) loaded, and `incumbents` returned them.
    #[test]
    fn out_of_range_or_partly_unset_values_are_refused() {
        let save = |values: &[f32]| -> Vec<u8> {
            let mut out = vec![0u8; 16];
            out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
            out
        };
        let mut values = [f32::NAN; 10];
        values[6..8].copy_from_slice(&[2.5e25, 0.0]);
        let mut h = LastChosen::new(&setup());
        let e = h.load(&mut stream(), &save(&values), "w10").unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "`w10`: the checkpoint's strategy state holds 25000000000000000000000000 for \
             sample 3, outside its gene's range [-10, 10] (was it written for another search \
             space?)"
        );
        values[6..8].copy_from_slice(&[f32::INFINITY, f32::NAN]);
        assert!(h.load(&mut stream(), &save(&values), "w10").is_err());
        values[6..8].copy_from_slice(&[-10.0, f32::NAN]);
        assert!(h.load(&mut stream(), &save(&values), "w10").is_err());
        // A refused state leaves the history as it was.
        assert_eq!(h.get(&[3]), vec![0.0, 1.0]);
        values[6..8].copy_from_slice(&[-10.0, 10.0]);
        h.load(&mut stream(), &save(&values), "w10").unwrap();
        assert_eq!(h.get(&[3]), vec![-10.0, 10.0]);
    }

    /// A bound that f32 rounds outward comes back as the bound itself.
    #[test]
    fn values_rounded_past_a_bound_come_back_within_it() {
        let setup = testing::setup(vec![gene("zoom", 0.9, 1.1, 1.0)], 2, 2);
        let mut h = LastChosen::new(&setup);
        h.begin("x", &[0, 1]).unwrap();
        h.record(&[1.1, 0.9]);
        assert!(f64::from(1.1f32) > 1.1 && f64::from(0.9f32) < 0.9);
        assert_eq!(h.get(&[0, 1]), vec![1.1, 0.9]);
        let bytes = h.save(&stream());
        let mut back = LastChosen::new(&setup);
        back.load(&mut stream(), &bytes, "x").unwrap();
        assert_eq!(back.get(&[0]), vec![1.1]);
    }

    #[test]
    fn bad_state_and_bad_samples_are_refused() {
        let mut h = LastChosen::new(&setup());
        let e = h.load(&mut stream(), &[0u8; 20], "w10").unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "`w10`: the checkpoint holds 20 bytes of strategy state, expected 16 or 56 \
             (was it written for another dataset or search space?)"
        );
        let e = h.begin("random", &[0, 5]).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "`random`: sample index 5 is outside the training set of 5 samples"
        );
    }
}
