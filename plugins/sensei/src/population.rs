//! Per-sample populations: coded chromosomes with their last loss, highest loss first.
use crate::genes::Genes;
use rand::Rng;

/// One chromosome and the loss it scored at its last evaluation (`None`: never scored, ranks
/// above every scored one).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub codes: Vec<f64>,
    pub loss: Option<f64>,
}

impl Member {
    /// The sort key: unscored first, NaN last.
    pub fn rank(&self) -> f64 {
        match self.loss {
            None => f64::INFINITY,
            Some(l) if l.is_nan() => f64::NEG_INFINITY,
            Some(l) => l,
        }
    }
}

/// Sorts by loss, descending; ties keep their order.
pub fn sort(members: &mut [Member]) {
    members.sort_by(|a, b| b.rank().total_cmp(&a.rank()));
}

/// Whether `codes` equals a chromosome of `members`.
pub fn contains(members: &[Member], codes: &[f64]) -> bool {
    members.iter().any(|m| m.codes == codes)
}

/// Survivors μ = max(2, ⌊0.4·Q⌋) for population Q (μ ≤ Q).
pub fn survivors(population: usize) -> usize {
    (population * 2 / 5).max(2).min(population)
}

/// The initial population: the identity plus `population − 1` uniform chromosomes (each
/// redrawn up to 10 times to avoid a duplicate), all unscored.
pub fn initial(genes: &Genes, population: usize, rng: &mut impl Rng) -> Vec<Member> {
    let mut members = vec![Member {
        codes: genes.identity(),
        loss: None,
    }];
    while members.len() < population {
        let mut codes = genes.uniform(rng);
        for _ in 0..10 {
            if !contains(&members, &codes) {
                break;
            }
            codes = genes.uniform(rng);
        }
        members.push(Member { codes, loss: None });
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genes::tests::specs;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn initial_population_holds_the_identity_and_is_unscored() {
        let genes = Genes::new(&specs());
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for q in [2, 3, 10, 25] {
            let p = initial(&genes, q, &mut rng);
            assert_eq!(p.len(), q);
            assert_eq!(p[0].codes, genes.identity());
            assert!(p.iter().all(|m| m.loss.is_none()));
            for (i, m) in p.iter().enumerate() {
                assert!(!contains(&p[..i], &m.codes), "no duplicates");
            }
        }
    }

    #[test]
    fn survivor_counts() {
        assert_eq!(
            [2, 3, 4, 5, 10, 11, 100].map(survivors),
            [2, 2, 2, 2, 4, 4, 40]
        );
    }

    #[test]
    fn sorting_puts_unscored_first_and_nan_last() {
        let m = |loss| Member {
            codes: vec![],
            loss,
        };
        let mut v = vec![m(Some(0.5)), m(Some(f64::NAN)), m(None), m(Some(2.0))];
        sort(&mut v);
        assert_eq!(v[0].loss, None);
        assert_eq!(v[1].loss, Some(2.0));
        assert_eq!(v[2].loss, Some(0.5));
        assert!(v[3].loss.unwrap().is_nan());
    }
}
