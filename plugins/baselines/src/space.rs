//! Drawing chromosomes uniformly from the gene space, and the helpers of strategies that score nothing.
use fuzzaug_sdk::{GeneSpec, PluginError};
use rand::Rng;

/// A uniform value of `spec`: on its grid when the space is discrete.
pub fn uniform(rng: &mut impl Rng, spec: &GeneSpec) -> f64 {
    match spec.step.into_option() {
        Some(step) => {
            let points = ((spec.hi - spec.lo) / step).round() as u64;
            spec.lo + step * rng.random_range(0..=points) as f64
        }
        None => rng.random_range(spec.lo..=spec.hi),
    }
}

/// One uniform chromosome per gene of `genes`, appended to `out`.
pub fn chromosome(rng: &mut impl Rng, genes: &[GeneSpec], out: &mut Vec<f64>) {
    out.extend(genes.iter().map(|g| uniform(rng, g)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn gene(step: Option<f64>) -> GeneSpec {
        GeneSpec {
            name: "g".into(),
            lo: -3.0,
            hi: 3.0,
            identity: 0.0,
            step: step.into(),
            mutation_step: 1.0,
            low_loss_mutation_step: 1.0,
        }
    }

    #[test]
    fn discrete_values_stay_on_the_grid_and_cover_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let g = gene(Some(1.5));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let v = uniform(&mut rng, &g);
            assert!(
                ((v + 3.0) / 1.5 - ((v + 3.0) / 1.5).round()).abs() < 1e-9
                    && (-3.0..=3.0).contains(&v)
            );
            seen.insert((v * 10.0) as i64);
        }
        assert_eq!(seen.len(), 5, "-3, -1.5, 0, 1.5, 3 all drawn");
        let c = uniform(&mut rng, &gene(None));
        assert!((-3.0..=3.0).contains(&c));
    }
}
