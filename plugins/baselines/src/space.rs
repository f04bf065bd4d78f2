//! Drawing chromosomes uniformly from the gene space, and the helpers of strategies that score nothing.
use fuzzaug_sdk::{random::uniform_value, GeneSpec, PluginError};
use rand::Rng;

/// One uniform chromosome per gene of `genes` ([`uniform_value`]: on its grid when the space is
/// discrete), appended to `out`.
pub fn chromosome(rng: &mut impl Rng, genes: &[GeneSpec], out: &mut Vec<f64>) {
    out.extend(genes.iter().map(|g| uniform_value(rng, g)));
}

/// A proposal of no candidates for `n` samples (strategies that need no scoring).
pub fn no_candidates(n: usize) -> fuzzaug_sdk::Proposal {
    fuzzaug_sdk::Proposal {
        counts: vec![0; n].into(),
        genes: Default::default(),
    }
}

/// The error for scores sent to a strategy that proposed none.
pub fn expect_no_scores(strategy: &str, fitness: &[f32]) -> Result<(), PluginError> {
    if fitness.is_empty() {
        Ok(())
    } else {
        Err(PluginError::new(format!(
            "`{strategy}` proposes no candidates, but got {} scores",
            fitness.len()
        )))
    }
}

/// The identity chromosome repeated for `n` samples.
pub fn identities(genes: &[GeneSpec], n: usize) -> Vec<f64> {
    genes
        .iter()
        .map(|g| g.identity)
        .cycle()
        .take(n * genes.len())
        .collect()
}

/// Scores of candidates without classes, for the unit tests of strategies that ignore them.
#[cfg(test)]
pub fn test_scores<'a>(fitness: &'a [f32], correct: &'a [bool]) -> fuzzaug_sdk::Scores<'a> {
    fuzzaug_sdk::Scores {
        fitness,
        correct,
        predicted: &[],
        labels: &[],
    }
}
