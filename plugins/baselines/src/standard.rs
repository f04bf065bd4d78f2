//! `standard`: train on the unperturbed image (the identity chromosome); nothing to score.
use fuzzaug_sdk::prelude::*;

/// Standard training: no perturbation.
pub struct Standard {
    genes: Vec<GeneSpec>,
    batch: usize,
}

impl Standard {
    /// A standard strategy for the given gene space.
    pub fn new(setup: &StrategySetup) -> Self {
        Self {
            genes: setup.genes.to_vec(),
            batch: 0,
        }
    }

    fn identities(&self, n: usize) -> Vec<f64> {
        crate::space::identities(&self.genes, n)
    }
}

impl Strategy for Standard {
    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError> {
        self.batch = samples.len();
        Ok(crate::space::no_candidates(samples.len()))
    }

    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError> {
        let fitness = scores.fitness;
        crate::space::expect_no_scores("standard", fitness)?;
        Ok(self.identities(self.batch))
    }

    fn save_state(&self) -> Result<Vec<u8>, PluginError> {
        Ok(Vec::new())
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), PluginError> {
        if state.is_empty() {
            Ok(())
        } else {
            Err(PluginError::new(format!(
                "`standard` keeps no state, but the checkpoint holds {} bytes for it",
                state.len()
            )))
        }
    }

    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError> {
        Ok(self.identities(samples.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing::{self, gene};

    fn setup() -> StrategySetup {
        testing::setup(
            vec![
                gene("rotation", -1.0, 2.0, 0.0),
                gene("zoom", -1.0, 2.0, 1.0),
            ],
            10,
            3,
        )
    }

    #[test]
    fn proposes_nothing_and_trains_on_identity() {
        let mut s = Standard::new(&setup());
        let p = s.propose(&[4, 7, 9]).unwrap();
        assert_eq!(p.counts.as_slice(), &[0, 0, 0]);
        assert!(p.genes.is_empty());
        assert_eq!(
            s.select(&crate::space::test_scores(&[], &[])).unwrap(),
            vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(s.incumbents(&[1]).unwrap(), vec![0.0, 1.0]);
    }

    #[test]
    fn refuses_scores_and_foreign_state() {
        let mut s = Standard::new(&setup());
        s.propose(&[1]).unwrap();
        assert_eq!(
            s.select(&crate::space::test_scores(&[0.5], &[true]))
                .unwrap_err()
                .message,
            "`standard` proposes no candidates, but got 1 scores"
        );
        assert!(s.save_state().unwrap().is_empty());
        assert_eq!(
            s.load_state(&[1, 2]).unwrap_err().message,
            "`standard` keeps no state, but the checkpoint holds 2 bytes for it"
        );
    }
}
