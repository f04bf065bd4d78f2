//! `w10` (worst-of-k): k independent uniform chromosomes per sample per batch (the identity is
//! not among them), all scored; the sample trains on the highest-loss one.
use crate::{chosen::LastChosen, space};
use fuzzaug_sdk::{prelude::*, strategy::argmax};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Worst-of-k augmentation.
pub struct WorstOfK {
    k: usize,
    genes: Vec<GeneSpec>,
    rng: ChaCha8Rng,
    history: LastChosen,
    candidates: Vec<f64>,
    batch: usize,
    chosen_fitness: (f64, u64),
}

impl WorstOfK {
    /// A worst-of-`k` strategy over `setup`'s genes, seeded by `seed`.
    pub fn new(setup: &StrategySetup, k: usize, seed: u64) -> Self {
        Self {
            k,
            genes: setup.genes.to_vec(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            history: LastChosen::new(setup),
            candidates: Vec::new(),
            batch: 0,
            chosen_fitness: (0.0, 0),
        }
    }
}

impl Strategy for WorstOfK {
    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError> {
        self.history.begin("w10", samples)?;
        self.batch = samples.len();
        self.candidates.clear();
        for _ in 0..samples.len() * self.k {
            space::chromosome(&mut self.rng, &self.genes, &mut self.candidates);
        }
        Ok(Proposal {
            counts: vec![self.k as u32; samples.len()].into(),
            genes: self.candidates.clone().into(),
        })
    }

    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError> {
        let fitness = scores.fitness;
        let (k, g) = (self.k, self.genes.len());
        if fitness.len() != self.batch * k {
            return Err(PluginError::new(format!(
                "`w10` proposed {} candidates but got {} scores",
                self.batch * k,
                fitness.len()
            )));
        }
        let mut chosen = Vec::with_capacity(self.batch * g);
        for (i, scores) in fitness.chunks(k).enumerate() {
            // Highest loss; NaN never wins; ties keep the first; the last when every one is NaN.
            let best = argmax(scores).unwrap_or(k - 1);
            let at = (i * k + best) * g;
            chosen.extend_from_slice(&self.candidates[at..at + g]);
            self.chosen_fitness.0 += f64::from(scores[best]);
            self.chosen_fitness.1 += 1;
        }
        self.history.record(&chosen);
        Ok(chosen)
    }

    fn take_counters(&mut self) -> Result<Vec<Counter>, PluginError> {
        let (sum, n) = std::mem::take(&mut self.chosen_fitness);
        Ok(vec![Counter {
            name: "mean_chosen_fitness".into(),
            value: if n == 0 { 0.0 } else { sum / n as f64 },
        }])
    }

    fn save_state(&self) -> Result<Vec<u8>, PluginError> {
        Ok(self.history.save(&self.rng))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), PluginError> {
        self.history.load(&mut self.rng, state, "w10")
    }

    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError> {
        Ok(self.history.get(samples))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing::{self, gene};

    fn setup() -> StrategySetup {
        testing::setup(
            vec![
                gene("rotation", -30.0, 30.0, 0.0)
                    .with_step(1.0)
                    .with_mutation(6.0, 12.0),
                gene("zoom", 0.9, 1.1, 1.0).with_mutation(6.0, 12.0),
            ],
            100,
            10,
        )
    }

    #[test]
    fn proposes_k_per_sample_and_picks_the_highest_loss() {
        let mut s = WorstOfK::new(&setup(), 3, 1);
        let p = s.propose(&[5, 6]).unwrap();
        assert_eq!(p.counts.as_slice(), &[3, 3]);
        assert_eq!(p.genes.len(), 2 * 3 * 2);
        let chosen = s
            .select(&crate::space::test_scores(
                &[0.1, 0.9, 0.2, 0.5, f32::NAN, 0.4],
                &[true; 6],
            ))
            .unwrap();
        assert_eq!(
            &chosen[..2],
            &p.genes[2..4],
            "sample 0: candidate 1 has the highest loss"
        );
        assert_eq!(&chosen[2..], &p.genes[6..8], "sample 1: NaN never wins");
        let c = s.take_counters().unwrap();
        assert_eq!(c[0].name, "mean_chosen_fitness");
        assert!((c[0].value - 0.7).abs() < 1e-6);
        assert_eq!(
            s.take_counters().unwrap()[0].value,
            0.0,
            "reset by the call"
        );
    }

    #[test]
    fn a_wrong_number_of_scores_is_an_error() {
        let mut s = WorstOfK::new(&setup(), 10, 1);
        s.propose(&[1]).unwrap();
        assert_eq!(
            s.select(&crate::space::test_scores(&[0.5], &[true]))
                .unwrap_err()
                .message,
            "`w10` proposed 10 candidates but got 1 scores"
        );
    }
}
