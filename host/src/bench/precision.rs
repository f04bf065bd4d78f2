//! `fuzzaug bench --compare-precision`: scoring and training throughput in fp32 and in bf16 on
//! the same model, and what bf16 scoring does to the search. A strategy picks, per sample, the
//! candidate of highest fitness; bf16 logits move the fitness a little, so the question is
//! whether they move its ranking: the Spearman rank correlation of fp32 and bf16 fitness over
//! every candidate, its mean within each sample's candidates (the ranking the choice is made
//! on), and the fraction of samples whose chosen candidate changes.
use super::micro::{self, Throughput};
use crate::{config::Precision, train::Session};
use anyhow::Context;
use rand::SeedableRng;
use serde::Serialize;

/// Throughputs in one precision.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Speeds {
    /// Images per second of a no-grad forward pass.
    pub score_images_per_second: f64,
    /// Images per second of a training step.
    pub train_images_per_second: f64,
}

impl From<Throughput> for Speeds {
    fn from(t: Throughput) -> Self {
        Self {
            score_images_per_second: t.score,
            train_images_per_second: t.train,
        }
    }
}

/// What `--compare-precision` measured.
#[derive(Debug, Clone, Serialize)]
pub struct PrecisionCheck {
    /// fp32 throughputs.
    pub fp32: Speeds,
    /// bf16 autocast throughputs.
    pub bf16: Speeds,
    /// Training images whose candidates were scored in both precisions.
    pub samples: usize,
    /// Candidates per sample: the identity and `candidates − 1` uniformly random chromosomes
    /// (the population a genetic search starts from).
    pub candidates: usize,
    /// Spearman correlation of fp32 and bf16 fitness over every candidate.
    pub spearman: f64,
    /// Mean over samples of the Spearman correlation among that sample's candidates (samples
    /// whose candidates all tie in either precision left out).
    pub sample_spearman: f64,
    /// Fraction of samples whose highest-fitness candidate differs between fp32 and bf16.
    pub changed_choices: f64,
    /// What the changes cost the search: the fp32 fitness of the candidates bf16 chooses,
    /// summed over samples, over that of the candidates fp32 chooses (1 when no choice changes;
    /// below 1 by what bf16's choices give up).
    pub chosen_fitness_kept: f64,
}

/// Scores `samples` training images × `candidates` chromosomes with `session`'s model in both
/// precisions, then times scoring and training in both (`repeats` calls each; the training
/// steps change the model, which is why the agreement comes first). The session's precision is
/// restored.
pub fn measure(
    session: &mut Session,
    samples: usize,
    candidates: usize,
    repeats: usize,
) -> anyhow::Result<PrecisionCheck> {
    let own = session.config.train.precision;
    let out = measure_both(session, samples, candidates, repeats);
    session.config.train.precision = own;
    out
}

fn measure_both(
    session: &mut Session,
    samples: usize,
    candidates: usize,
    repeats: usize,
) -> anyhow::Result<PrecisionCheck> {
    let samples = samples.min(session.data.train.len().max(0) as usize);
    let (owners, chromosomes) = population(session, samples, candidates);
    let mut fitness = Vec::with_capacity(2);
    for precision in [Precision::Fp32, Precision::Bf16] {
        session.config.train.precision = precision;
        let scored = session
            .score(&owners, &[], &chromosomes, 0)
            .with_context(|| format!("scoring the candidates in {}", precision.as_str()))?;
        fitness.push(scored.fitness);
    }
    let (fp32, bf16) = (&fitness[0], &fitness[1]);
    let agreement = Agreement::of(fp32, bf16, candidates);
    let mut speeds = Vec::with_capacity(2);
    for precision in [Precision::Fp32, Precision::Bf16] {
        session.config.train.precision = precision;
        speeds.push(Speeds::from(micro::measure(session, repeats)?));
    }
    Ok(PrecisionCheck {
        fp32: speeds[0],
        bf16: speeds[1],
        samples,
        candidates,
        spearman: agreement.spearman,
        sample_spearman: agreement.sample_spearman,
        changed_choices: agreement.changed,
        chosen_fitness_kept: agreement.kept,
    })
}

/// Each of the first `samples` training images `candidates` times, with the identity first
/// and uniformly random chromosomes after it, drawn from the run's seed.
fn population(session: &Session, samples: usize, candidates: usize) -> (Vec<i64>, Vec<f64>) {
    let genes = &session.parts.genes;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(session.config.seed);
    let identity = session.engine().identity();
    let mut owners = Vec::with_capacity(samples * candidates);
    let mut chromosomes = Vec::with_capacity(samples * candidates * genes.len());
    for s in 0..samples as i64 {
        for c in 0..candidates {
            owners.push(s);
            if c == 0 {
                chromosomes.extend_from_slice(&identity);
            } else {
                chromosomes.extend(
                    genes
                        .iter()
                        .map(|g| fuzzaug_sdk::random::uniform_value(&mut rng, &g.spec)),
                );
            }
        }
    }
    (owners, chromosomes)
}

/// How two fitness lists of `k` candidates per sample agree.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Agreement {
    spearman: f64,
    sample_spearman: f64,
    changed: f64,
    kept: f64,
}

impl Agreement {
    fn of(a: &[f32], b: &[f32], k: usize) -> Self {
        let (a, b): (Vec<f64>, Vec<f64>) = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x), f64::from(y)))
            .unzip();
        let k = k.max(1);
        let per_sample: Vec<f64> = a
            .chunks(k)
            .zip(b.chunks(k))
            .filter_map(|(x, y)| spearman(x, y))
            .collect();
        let samples = a.len() / k;
        let (mut changed, mut best, mut chosen) = (0usize, 0.0f64, 0.0f64);
        for (x, y) in a.chunks(k).zip(b.chunks(k)) {
            let (ours, theirs) = (argmax(x), argmax(y));
            changed += usize::from(ours != theirs);
            best += ours.map_or(0.0, |i| x[i]);
            chosen += theirs.map_or(0.0, |i| x[i]);
        }
        Self {
            spearman: spearman(&a, &b).unwrap_or(f64::NAN),
            sample_spearman: mean(&per_sample),
            changed: if samples > 0 {
                changed as f64 / samples as f64
            } else {
                f64::NAN
            },
            kept: if best > 0.0 { chosen / best } else { 1.0 },
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The first index of the largest value (what a strategy's choice of the highest fitness
/// picks; NaN never wins).
fn argmax(v: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in v.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// Ranks from 1, ties sharing the mean of their ranks.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}

/// Spearman's rank correlation (Pearson's on tie-averaged ranks); None when either side is
/// constant or there are fewer than two values.
fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let (ma, mb) = (mean(&ra), mean(&rb));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_of_known_rankings() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // Ranks [1, 2, 3, 4] against [2, 1, 4, 3]: 1 − 6·4 / (4·15) = 0.6.
        let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[5.0, 4.0, 9.0, 8.0]).unwrap();
        assert!((r - 0.6).abs() < 1e-12, "{r}");
        // Ties share their mean rank.
        assert_eq!(ranks(&[5.0, 1.0, 5.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }

    #[test]
    fn agreement_counts_changed_choices_per_sample() {
        // Two samples of three candidates: the first keeps its argmax (index 2), the second's
        // moves from 0 to 1.
        let a = [0.1, 0.2, 0.9, 0.8, 0.5, 0.1];
        let b = [0.1, 0.3, 0.9, 0.5, 0.8, 0.1];
        let g = Agreement::of(&a, &b, 3);
        assert_eq!(g.changed, 0.5);
        // bf16 picks 0.5 where fp32's best was 0.8: (0.9 + 0.5) / (0.9 + 0.8).
        assert!((g.kept - 1.4 / 1.7).abs() < 1e-6, "{}", g.kept);
        assert_eq!(g.sample_spearman, (1.0 + 0.5) / 2.0);
        assert!(g.spearman > 0.5 && g.spearman < 1.0, "{}", g.spearman);
        assert_eq!(argmax(&[f64::NAN, 1.0, 1.0]), Some(1));
    }
}
