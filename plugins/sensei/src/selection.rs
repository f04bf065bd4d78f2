//! Survivor selection: which μ of the μ + λ scored candidates a population keeps.
use rand::Rng;

/// A strategy's selection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The μ highest-loss candidates.
    Elitism,
    /// Drawn with probability proportional to loss, without replacement.
    Roulette,
    /// Tournaments of this many candidates drawn with replacement from those not yet kept;
    /// each winner is its draw's highest-loss member.
    Tournament(usize),
}

impl Rule {
    /// The names `selection` accepts.
    pub const NAMES: [&'static str; 3] = ["elitism", "roulette", "tournament"];

    /// The rule named `name` (`tournament` with tournaments of `size`).
    pub fn parse(name: &str, size: usize) -> Option<Self> {
        match name {
            "elitism" => Some(Self::Elitism),
            "roulette" => Some(Self::Roulette),
            "tournament" => Some(Self::Tournament(size)),
            _ => None,
        }
    }
}

/// The indices of the `mu` candidates to keep, given their losses (`+inf` for unscored, NaN or
/// negative counting as the lowest loss / no roulette weight).
pub fn survivors(rule: Rule, losses: &[f64], mu: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mu = mu.min(losses.len());
    match rule {
        Rule::Elitism => elitism(losses, mu),
        Rule::Roulette => roulette(losses, mu, rng),
        Rule::Tournament(t) => {
            let mut pool: Vec<usize> = (0..losses.len()).collect();
            (0..mu)
                .map(|_| {
                    let (winner, _) = tournament(&pool, losses, t, rng);
                    pool.retain(|&i| i != winner);
                    winner
                })
                .collect()
        }
    }
}

fn key(loss: f64) -> f64 {
    if loss.is_nan() {
        f64::NEG_INFINITY
    } else {
        loss
    }
}

/// The `mu` highest losses; ties keep the earlier candidate.
pub fn elitism(losses: &[f64], mu: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..losses.len()).collect();
    order.sort_by(|&a, &b| key(losses[b]).total_cmp(&key(losses[a])));
    order.truncate(mu);
    order
}

/// `mu` distinct candidates, each drawn from those left with probability proportional to its
/// loss (uniformly among infinite losses when there are any, and among all left when every
/// weight is zero).
pub fn roulette(losses: &[f64], mu: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut left: Vec<usize> = (0..losses.len()).collect();
    let mut kept = Vec::with_capacity(mu);
    for _ in 0..mu {
        let infinite: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| losses[i] == f64::INFINITY)
            .collect();
        let weight = |i: usize| {
            let l = losses[i];
            if l.is_finite() && l > 0.0 {
                l
            } else {
                0.0
            }
        };
        let total: f64 = left.iter().map(|&i| weight(i)).sum();
        let pick = if !infinite.is_empty() {
            infinite[rng.random_range(0..infinite.len())]
        } else if total > 0.0 {
            let mut r = rng.random::<f64>() * total;
            let mut pick = *left
                .iter()
                .rev()
                .find(|&&i| weight(i) > 0.0)
                .unwrap_or(&left[0]);
            for &i in &left {
                let w = weight(i);
                if w > 0.0 && r < w {
                    pick = i;
                    break;
                }
                r -= w;
            }
            pick
        } else {
            left[rng.random_range(0..left.len())]
        };
        left.retain(|&i| i != pick);
        kept.push(pick);
    }
    kept
}

/// One tournament: `size` members drawn with replacement from `pool` (non-empty); the winner is
/// the highest-loss member, the first drawn among ties. Returns the winner and the draw.
pub fn tournament(
    pool: &[usize],
    losses: &[f64],
    size: usize,
    rng: &mut impl Rng,
) -> (usize, Vec<usize>) {
    let draw: Vec<usize> = (0..size.max(1))
        .map(|_| pool[rng.random_range(0..pool.len())])
        .collect();
    let winner = draw.iter().copied().fold(draw[0], |w, i| {
        if key(losses[i]) > key(losses[w]) {
            i
        } else {
            w
        }
    });
    (winner, draw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn elitism_keeps_the_top_mu() {
        let losses = [0.3, 2.0, f64::NAN, 0.9, 5.0, 0.1, 0.9];
        assert_eq!(elitism(&losses, 4), vec![4, 1, 3, 6]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(survivors(Rule::Elitism, &losses, 2, &mut rng), vec![4, 1]);
    }

    #[test]
    fn roulette_frequencies_follow_the_losses() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let losses = [1.0, 2.0, 3.0, 4.0, 0.0];
        let n = 40_000;
        let mut counts = [0u32; 5];
        for _ in 0..n {
            counts[roulette(&losses, 1, &mut rng)[0]] += 1;
        }
        assert_eq!(counts[4], 0, "zero loss is never drawn");
        let total: f64 = losses.iter().sum();
        let chi2: f64 = (0..4)
            .map(|i| {
                let expected = n as f64 * losses[i] / total;
                (f64::from(counts[i]) - expected).powi(2) / expected
            })
            .sum();
        // 3 degrees of freedom: P(χ² > 16.27) = 0.001.
        assert!(chi2 < 16.27, "χ² = {chi2}, counts {counts:?}");
    }

    #[test]
    fn roulette_draws_without_replacement() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..500 {
            let mut kept = roulette(&[0.5, 0.0, 9.0, 0.0, 1.0, f64::NAN], 4, &mut rng);
            assert_eq!(kept.len(), 4);
            // The three positive weights come first, in some order; then a zero-weight one.
            let mut head = kept[..3].to_vec();
            head.sort_unstable();
            assert_eq!(head, vec![0, 2, 4]);
            kept.sort_unstable();
            kept.dedup();
            assert_eq!(kept.len(), 4);
        }
        // Unscored (infinite) candidates come first.
        let kept = roulette(&[1.0, f64::INFINITY, 2.0], 1, &mut rng);
        assert_eq!(kept, vec![1]);
    }

    #[test]
    fn tournament_winners_are_the_best_of_their_draw() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let losses: Vec<f64> = (0..10).map(|i| f64::from((i * 7) % 10) / 3.0).collect();
        let pool: Vec<usize> = (0..10).collect();
        for size in [2, 5, 10] {
            for _ in 0..1000 {
                let (winner, draw) = tournament(&pool, &losses, size, &mut rng);
                assert_eq!(draw.len(), size);
                assert!(draw.contains(&winner));
                assert!(draw.iter().all(|&i| losses[i] <= losses[winner]));
            }
        }
        // Survivors are distinct.
        for _ in 0..200 {
            let mut kept = survivors(Rule::Tournament(5), &losses, 4, &mut rng);
            kept.sort_unstable();
            kept.dedup();
            assert_eq!(kept.len(), 4);
        }
    }
}
