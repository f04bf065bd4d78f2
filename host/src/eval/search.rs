//! A strategy plugin as the attacker: the same propose/select interface that trains, driven
//! over test images with the model frozen. Each round the strategy proposes candidates for the
//! images still standing; an image is broken at its first misclassified candidate, and out once
//! it has used its budget of queries.
use super::attack::{classify, record, ImageResult};
use crate::{
    plugins::StrategyHandle,
    train::{fitness, Session, Stopped},
};
use anyhow::{bail, Context};

/// Attacks test images `0..n` with `strategy`, at most `budget` queries each.
pub fn search(
    session: &Session,
    strategy: &mut StrategyHandle,
    name: &str,
    n: usize,
    budget: u32,
    context: u64,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Vec<ImageResult>> {
    let genes = session.parts.genes.len();
    let kind = strategy.fitness()?;
    let labels: Vec<u32> = super::labels(session, n)?;
    let mut results: Vec<ImageResult> = (0..n).map(|_| ImageResult::new()).collect();
    strategy.begin_epoch(0)?;
    for round in 0u32.. {
        if stop() {
            bail!(Stopped {
                at: "during the search".into()
            });
        }
        let samples: Vec<u64> = (0..n as u64)
            .filter(|&i| {
                let r = &results[i as usize];
                r.broken_at.is_none() && r.queries < budget
            })
            .collect();
        if samples.is_empty() {
            break;
        }
        // Checked by the handle, as in training: counts, the candidate limit, lengths and
        // gene ranges.
        let proposal = strategy
            .propose(&samples, &session.parts.genes)
            .with_context(|| format!("attacker `{name}`, round {}", round + 1))?;
        let total: usize = proposal.counts.iter().map(|&c| c as usize).sum();
        if total == 0 {
            break; // nothing more to try
        }
        let owners: Vec<i64> = samples
            .iter()
            .zip(&proposal.counts)
            .flat_map(|(&s, &c)| std::iter::repeat_n(s as i64, c as usize))
            .collect();
        let round_context = context + u64::from(round);
        let pass = classify(session, &owners, &proposal.genes, round_context)?;
        let label_t = tch::Tensor::f_from_slice(
            &owners
                .iter()
                .map(|&o| i64::from(labels[o as usize]))
                .collect::<Vec<_>>(),
        )?
        .f_to_device(session.device)?;
        let fit = Vec::<f32>::try_from(
            fitness::per_sample(kind, &pass.logits, &label_t)?.f_to_device(tch::Device::Cpu)?,
        )?;
        let mut at = 0;
        for (&s, &c) in samples.iter().zip(&proposal.counts) {
            let r = &mut results[s as usize];
            for k in at..at + c as usize {
                if r.queries >= budget || r.broken_at.is_some() {
                    break;
                }
                let chromosome = &proposal.genes[k * genes..(k + 1) * genes];
                record(r, &pass, k, chromosome, round_context);
            }
            at += c as usize;
        }
        let sample_labels: Vec<u32> = samples.iter().map(|&s| labels[s as usize]).collect();
        strategy
            .select(
                &fuzzaug_sdk::Scores {
                    fitness: &fit,
                    correct: &pass.correct,
                    predicted: &pass.predicted,
                    labels: &sample_labels,
                },
                &session.parts.genes,
            )
            .with_context(|| format!("attacker `{name}`, round {}", round + 1))?;
    }
    Ok(results)
}
