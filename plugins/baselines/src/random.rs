//! `random`: one uniformly random chromosome per sample each time its batch comes up (once per
//! epoch); nothing to score.
use crate::{chosen::LastChosen, space};
use fuzzaug_sdk::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Random augmentation.
pub struct Random {
    genes: Vec<GeneSpec>,
    rng: ChaCha8Rng,
    history: LastChosen,
    chosen: Vec<f64>,
}

impl Random {
    /// A random strategy over `setup`'s genes, seeded by `seed`.
    pub fn new(setup: &StrategySetup, seed: u64) -> Self {
        Self {
            genes: setup.genes.to_vec(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            history: LastChosen::new(setup),
            chosen: Vec::new(),
        }
    }
}

impl Strategy for Random {
    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError> {
        self.history.begin("random", samples)?;
        self.chosen.clear();
        for _ in samples {
            space::chromosome(&mut self.rng, &self.genes, &mut self.chosen);
        }
        Ok(crate::space::no_candidates(samples.len()))
    }

    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError> {
        let fitness = scores.fitness;
        crate::space::expect_no_scores("random", fitness)?;
        self.history.record(&self.chosen);
        Ok(std::mem::take(&mut self.chosen))
    }

    fn save_state(&self) -> Result<Vec<u8>, PluginError> {
        Ok(self.history.save(&self.rng))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), PluginError> {
        self.history.load(&mut self.rng, state, "random")
    }

    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError> {
        Ok(self.history.get(samples))
    }
}
