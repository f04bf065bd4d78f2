//! `{{name}}`: a fuzzaug augmentation strategy.
//!
//! As generated it is worst-of-k: per batch it proposes `k` uniformly random chromosomes for
//! each sample, the host builds and scores them all, and the sample trains on the one with
//! the highest loss. Change `propose` and `select` to make it yours; the places are marked
//! `YOUR LOGIC`.
//!
//! How the host drives a strategy, per batch (see the `fuzzaug_sdk::strategy` docs):
//! `propose(samples)` → the host scores every candidate (one no-grad pass, batch-norm in eval
//! mode) → `select(scores)` → the host trains on the chosen chromosomes.
//!
//! The SDK supplies the conventions: `stream_seed` (the strategy's own random stream),
//! `uniform_value` (a uniform value of a gene, on its grid when it has a step), `argmax` (the
//! highest loss, NaN never winning) and `check_samples` (sample indices within the training set).
use fuzzaug_sdk::{
    prelude::*,
    random::{stream_seed, uniform_value},
    strategy::{argmax, check_samples},
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The strategy's state.
pub struct {{type}} {
    /// Candidates per sample.
    k: usize,
    /// The search space, in chromosome order.
    genes: Vec<GeneSpec>,
    /// The strategy's own random stream (never the host's).
    rng: ChaCha8Rng,
    /// The candidates of the batch in flight, flat (samples × k × genes).
    candidates: Vec<f64>,
    /// The samples of the batch in flight.
    batch: Vec<u64>,
    /// Training-set size; sample indices are below it.
    num_samples: u64,
    /// The chromosome each sample last trained on (num_samples × genes), for previews.
    last: Vec<f64>,
}

impl {{type}} {
    /// A strategy over `setup`'s genes scoring `k` candidates per sample.
    pub fn new(setup: &StrategySetup, k: usize, seed: u64) -> Self {
        let genes = setup.genes.to_vec();
        let identity: Vec<f64> = genes.iter().map(|g| g.identity).collect();
        Self {
            k,
            rng: ChaCha8Rng::seed_from_u64(seed),
            candidates: Vec::new(),
            batch: Vec::new(),
            num_samples: setup.num_samples,
            last: identity.repeat(setup.num_samples as usize),
            genes,
        }
    }
}

impl Strategy for {{type}} {
    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError> {
        check_samples("{{name}}", samples, self.num_samples)?;
        self.batch = samples.to_vec();
        self.candidates.clear();
        // YOUR LOGIC: which candidates to score. Here: k random chromosomes per sample.
        for _ in 0..samples.len() * self.k {
            for gene in &self.genes {
                let v = uniform_value(&mut self.rng, gene);
                self.candidates.push(v);
            }
        }
        Ok(Proposal {
            counts: vec![self.k as u32; samples.len()].into(),
            genes: self.candidates.clone().into(),
        })
    }

    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError> {
        // Also in `scores`: `correct` and `predicted` per candidate, `labels` per sample.
        let fitness = scores.fitness;
        let (k, g) = (self.k, self.genes.len());
        if fitness.len() != self.batch.len() * k {
            return Err(PluginError::new(format!(
                "`{{name}}` proposed {} candidates but got {} scores",
                self.batch.len() * k,
                fitness.len()
            )));
        }
        let mut chosen = Vec::with_capacity(self.batch.len() * g);
        // YOUR LOGIC: which candidate each sample trains on. Here: the highest loss (the first
        // among equals; NaN never wins, and when every loss is NaN, the first candidate).
        for (i, scores) in fitness.chunks(k).enumerate() {
            let best = argmax(scores).unwrap_or(0);
            chosen.extend_from_slice(&self.candidates[(i * k + best) * g..][..g]);
        }
        for (i, &sample) in self.batch.iter().enumerate() {
            let at = sample as usize * g;
            if let Some(slot) = self.last.get_mut(at..at + g) {
                slot.copy_from_slice(&chosen[i * g..][..g]);
            }
        }
        Ok(chosen)
    }

    fn save_state(&self) -> Result<Vec<u8>, PluginError> {
        // Everything `--resume` needs to continue the same search: the random stream's seed and
        // position, and the last choices.
        let mut out = self.rng.get_seed().to_vec();
        out.extend_from_slice(&self.rng.get_word_pos().to_le_bytes());
        for v in &self.last {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(out)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), PluginError> {
        let want = 32 + 16 + 8 * self.last.len();
        if state.len() != want {
            return Err(PluginError::new(format!(
                "`{{name}}` state has {} bytes, expected {want} (a checkpoint of another setup?)",
                state.len()
            )));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&state[..32]);
        let mut pos = [0u8; 16];
        pos.copy_from_slice(&state[32..48]);
        self.rng = ChaCha8Rng::from_seed(seed);
        self.rng.set_word_pos(u128::from_le_bytes(pos));
        for (v, bytes) in self.last.iter_mut().zip(state[48..].chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            *v = f64::from_le_bytes(b);
        }
        Ok(())
    }

    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError> {
        let g = self.genes.len();
        let identity: Vec<f64> = self.genes.iter().map(|x| x.identity).collect();
        Ok(samples
            .iter()
            .flat_map(|&s| {
                let at = s as usize * g;
                self.last.get(at..at + g).unwrap_or(&identity).to_vec()
            })
            .collect())
    }
}

fn components() -> Vec<Component> {
    vec![Component::strategy(
        "{{name}}",
        "worst-of-k: score k random chromosomes per sample, train on the highest-loss one",
        // The settings the config's [strategy] table may hold; the SDK checks keys and types.
        vec![Param::optional(
            "k",
            ParamType::Integer,
            "4",
            "random chromosomes scored per sample per batch (1 to 100)",
        )],
        |settings, ctx, setup| {
            let k: usize = settings.integer_in("k", 1..=100)?;
            // The strategy's own stream: the run's seed mixed with its name, so it never shares
            // random numbers with the host or another component.
            Ok({{type}}::new(setup, k, stream_seed(ctx.seed, "{{name}}")))
        },
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing::{self, gene};

    /// Rotation in whole degrees over 10 training images of 2 classes.
    fn setup() -> StrategySetup {
        let rotation = gene("rotation", -30.0, 30.0, 0.0)
            .with_step(1.0)
            .with_mutation(6.0, 12.0);
        testing::setup(vec![rotation], 10, 2)
    }

    /// Scores of correctly classified candidates of class 0.
    fn scores(fitness: &[f32]) -> Scores<'_> {
        Scores {
            fitness,
            correct: &[true; 8][..fitness.len()],
            predicted: &[0; 8][..fitness.len()],
            labels: &[0; 4],
        }
    }

    #[test]
    fn proposes_k_on_grid_candidates_and_trains_on_the_worst() {
        let mut s = {{type}}::new(&setup(), 3, 7);
        let p = s.propose(&[4, 9]).unwrap();
        assert_eq!(p.counts.as_slice(), &[3, 3]);
        assert!(p.genes.iter().all(|v| (-30.0..=30.0).contains(v) && v.fract() == 0.0));
        let chosen = s.select(&scores(&[0.1, 0.7, 0.2, 0.9, 0.3, 0.4])).unwrap();
        assert_eq!(chosen, vec![p.genes[1], p.genes[3]]);
        assert_eq!(s.incumbents(&[9, 0]).unwrap(), vec![p.genes[3], 0.0]);
        // NaN never wins.
        let p = s.propose(&[2]).unwrap();
        let chosen = s.select(&scores(&[f32::NAN, 0.1, f32::NAN])).unwrap();
        assert_eq!(chosen, vec![p.genes[1]]);
        let err = s.propose(&[10]).unwrap_err();
        assert_eq!(
            err.message,
            "`{{name}}`: sample index 10 is outside the training set of 10 samples"
        );
    }

    #[test]
    fn a_saved_state_continues_the_same_search() {
        let mut a = {{type}}::new(&setup(), 2, 1);
        a.propose(&[1]).unwrap();
        a.select(&scores(&[0.5, 0.6])).unwrap();
        let mut b = {{type}}::new(&setup(), 2, 99);
        b.load_state(&a.save_state().unwrap()).unwrap();
        assert_eq!(a.propose(&[2]).unwrap(), b.propose(&[2]).unwrap());
        assert!(b.load_state(&[1, 2, 3]).unwrap_err().message.contains("expected"));
    }
}
