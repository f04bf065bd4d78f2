//! Fuzz-testing a trained model: a threat model (genes with ranges, and protocols) run against
//! a frozen model on the first test images, each protocol batched on the device with its own
//! seed: `grid` (evenly spaced points per gene), `worst-of-k` (k random chromosomes per image)
//! and `search` (any strategy plugin as the attacker, with a query budget per image). Robust
//! accuracy counts an image only if no queried variant is misclassified; by default an image
//! is out at its first misclassified variant (early exit), which gives the same robust
//! accuracy with far fewer forward passes.
mod attack;
pub mod corruptions;
pub mod gallery;
mod grid;
mod search;
pub mod threat;

pub use attack::{classify, Failure, ImageResult};
pub use threat::Threat;

use crate::{config::Protocol, setup::Experiment, train::Session};
use anyhow::Context;
use serde::Serialize;
use std::{collections::BTreeMap, time::Instant};

/// Seed contexts of the evaluation's tensor-kind genes, apart from training's epochs.
const CONTEXT: u64 = crate::augment::seeds::EVALUATION - 1_000_000;

/// How to run the protocols.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Stop querying an image at its first misclassified variant.
    pub early_exit: bool,
    /// Keep the this many most confidently misclassified variants.
    pub failures: usize,
}

/// One misclassified variant, enough to rebuild it exactly: the test image, the chromosome,
/// the seed context of its tensor-kind genes.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FailureRecord {
    /// Test image index.
    pub index: usize,
    /// The protocol that found it.
    pub protocol: String,
    /// Gene name → value.
    pub genes: BTreeMap<String, f64>,
    /// The values in chromosome order.
    pub chromosome: Vec<f64>,
    /// True class (index and name).
    pub label: u32,
    /// Its name.
    pub true_class: String,
    /// Predicted class (index and name).
    pub predicted: u32,
    /// Its name.
    pub predicted_class: String,
    /// The model's probability for the predicted class.
    pub confidence: f32,
    /// Cross-entropy against the true class.
    pub loss: f32,
    /// Seed context of the variant's tensor-kind genes.
    pub context: u64,
}

/// One protocol's figures.
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolReport {
    /// Short name (`grid-3`, `worst-of-10`, `search-sensei-200`).
    pub name: String,
    /// The protocol as configured.
    pub protocol: Protocol,
    /// Chromosomes per image (grid, worst-of-k) or the budget (search).
    pub queries_per_image: u64,
    /// Accuracy under the attack: images with no misclassified variant among those queried.
    pub robust_acc: f64,
    /// Of the images classified correctly unperturbed, the fraction the attack broke.
    pub attack_success_rate: f64,
    /// Mean queries up to the first misclassified variant, over the broken images.
    pub mean_queries_to_failure: Option<f64>,
    /// Forward passes' worth of variants queried, in total.
    pub queries: u64,
    /// Mean per-image fraction of variants classified correctly (without early exit only).
    pub grid_acc: Option<f64>,
    /// Robust accuracy per class (`null` for a class with no image in the subset).
    pub per_class_robust_acc: BTreeMap<String, Option<f64>>,
    /// `confusion[true][predicted]` under attack: each image's prediction for its first
    /// misclassified variant, or its last queried one when none was.
    pub confusion: Vec<Vec<u64>>,
    /// Wall seconds.
    pub seconds: f64,
}

/// Everything `fuzzaug eval` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Test images evaluated (the first N).
    pub images: usize,
    /// Accuracy on them unperturbed.
    pub clean_acc: f64,
    /// Whether images left at their first misclassified variant.
    pub early_exit: bool,
    /// The threat model's genes.
    pub genes: Vec<crate::config::TransformConfig>,
    /// Each protocol's figures.
    pub protocols: Vec<ProtocolReport>,
    /// Images that survive every protocol.
    pub strongest_acc: f64,
    /// The most confidently misclassified variants over every protocol, most confident first.
    #[serde(skip)]
    pub failures: Vec<FailureRecord>,
    /// The fuzzaug version.
    pub fuzzaug: String,
}

/// The 3-point grid ({lo, identity, hi} per gene) over test images `0..n`, every variant
/// queried: what a robust evaluation costs, for benchmarks.
pub fn full_grid(session: &Session, n: usize) -> anyhow::Result<usize> {
    let axes: Vec<Vec<f64>> = session
        .parts
        .genes
        .iter()
        .map(|g| {
            grid::axis(
                g.spec.lo,
                g.spec.identity,
                g.spec.hi,
                crate::config::DEFAULT_POINTS,
            )
        })
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let chromosomes = grid::chromosomes(&axes);
    let results = attack::fixed_set(
        session,
        n,
        &|_| chromosomes.clone(),
        false,
        CONTEXT,
        &|| false,
    )?;
    Ok(results.iter().map(|r| r.queries as usize).sum())
}

/// Runs `threat` on `session`'s model (its genes are the threat's).
pub fn evaluate(
    exp: &Experiment,
    session: &Session,
    threat: &Threat,
    options: Options,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Report> {
    let n = threat.subset.map_or(session.data.test.len() as usize, |s| {
        (s as usize).min(session.data.test.len() as usize)
    });
    let classes = &session.parts.dataset_info.classes;
    let labels = labels(session, n)?;
    let identity = session.engine().identity();
    let clean = attack::fixed_set(session, n, &|_| identity.clone(), true, CONTEXT, stop)?;
    let clean_ok: Vec<bool> = clean.iter().map(|r| r.broken_at.is_none()).collect();
    let names: Vec<&str> = session
        .parts
        .genes
        .iter()
        .map(|g| g.spec.name.as_str())
        .collect();
    let mut reports = Vec::new();
    let mut survivors = clean_ok.clone();
    let mut failures = Vec::new();
    for (i, protocol) in threat.protocols.iter().enumerate() {
        let started = Instant::now();
        let (results, per_image) = run_one(exp, session, threat, i, protocol, n, options, stop)
            .with_context(|| format!("protocol {} ({})", i + 1, protocol.label(&names)))?;
        for (s, r) in survivors.iter_mut().zip(&results) {
            *s &= r.broken_at.is_none();
        }
        let label = protocol.label(&names);
        failures.extend(results.iter().enumerate().filter_map(|(index, r)| {
            let f = r.failure.as_ref()?;
            let class = |c: u32| {
                classes
                    .get(c as usize)
                    .map_or_else(String::new, |n| n.to_string())
            };
            Some(FailureRecord {
                index,
                protocol: label.clone(),
                genes: names
                    .iter()
                    .map(|n| n.to_string())
                    .zip(f.chromosome.iter().copied())
                    .collect(),
                chromosome: f.chromosome.clone(),
                label: labels[index],
                true_class: class(labels[index]),
                predicted: r.predicted,
                predicted_class: class(r.predicted),
                confidence: f.confidence,
                loss: f.loss,
                context: f.context,
            })
        }));
        reports.push(report(
            protocol.label(&names),
            protocol,
            &results,
            &clean_ok,
            &labels,
            classes,
            per_image,
            !options.early_exit,
            started.elapsed().as_secs_f64(),
        ));
    }
    let share = |v: &[bool]| v.iter().filter(|&&b| b).count() as f64 / n.max(1) as f64;
    // The most confident first, one per image (its most confident failure).
    failures.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let mut seen = std::collections::HashSet::new();
    failures.retain(|f| seen.insert(f.index));
    failures.truncate(options.failures);
    Ok(Report {
        images: n,
        clean_acc: share(&clean_ok),
        early_exit: options.early_exit,
        genes: threat.transforms.clone(),
        protocols: reports,
        strongest_acc: share(&survivors),
        failures,
        fuzzaug: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// One protocol's per-image results and its queries per image.
#[allow(clippy::too_many_arguments)]
fn run_one(
    exp: &Experiment,
    session: &Session,
    threat: &Threat,
    index: usize,
    protocol: &Protocol,
    n: usize,
    options: Options,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<(Vec<ImageResult>, u64)> {
    let context = CONTEXT + 1 + index as u64 * 100_000;
    match protocol {
        Protocol::Grid { points } => {
            let axes = threat.axes(&session.parts.genes, index, points)?;
            let grid = grid::chromosomes(&axes);
            let k = axes.iter().map(Vec::len).product::<usize>() as u64;
            let results = attack::fixed_set(
                session,
                n,
                &|_| grid.clone(),
                options.early_exit,
                context,
                stop,
            )?;
            Ok((results, k))
        }
        Protocol::WorstOfK { k, seed } => {
            use rand::SeedableRng;
            let draws = |i: usize| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                    fuzzaug_sdk::random::stream_seed(*seed ^ i as u64, "worst-of-k"),
                );
                (0..*k)
                    .flat_map(|_| {
                        session
                            .parts
                            .genes
                            .iter()
                            .map(|g| fuzzaug_sdk::random::uniform_value(&mut rng, &g.spec))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            let results = attack::fixed_set(session, n, &draws, options.early_exit, context, stop)?;
            Ok((results, u64::from(*k)))
        }
        Protocol::Search {
            strategy,
            budget,
            seed,
            settings,
        } => {
            let mut attacker =
                threat.attacker(exp, session, index, strategy, settings, *seed, n)?;
            let results =
                search::search(session, &mut attacker, strategy, n, *budget, context, stop)?;
            Ok((results, u64::from(*budget)))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    name: String,
    protocol: &Protocol,
    results: &[ImageResult],
    clean_ok: &[bool],
    labels: &[u32],
    classes: &[abi_stable::std_types::RString],
    queries_per_image: u64,
    full: bool,
    seconds: f64,
) -> ProtocolReport {
    let n = results.len().max(1) as f64;
    let robust: Vec<bool> = results.iter().map(|r| r.broken_at.is_none()).collect();
    let correct_clean = clean_ok.iter().filter(|&&b| b).count();
    let broken_clean = robust
        .iter()
        .zip(clean_ok)
        .filter(|(r, c)| **c && !**r)
        .count();
    let failures: Vec<u32> = results.iter().filter_map(|r| r.broken_at).collect();
    let mut hits = vec![(0u64, 0u64); classes.len()];
    let mut confusion = vec![vec![0u64; classes.len()]; classes.len()];
    for ((r, &ok), &y) in results.iter().zip(&robust).zip(labels) {
        let y = y as usize;
        if let Some(h) = hits.get_mut(y) {
            h.0 += u64::from(ok);
            h.1 += 1;
        }
        if let Some(cell) = confusion
            .get_mut(y)
            .and_then(|row| row.get_mut(r.predicted as usize))
        {
            *cell += 1;
        }
    }
    ProtocolReport {
        name,
        protocol: protocol.clone(),
        queries_per_image,
        robust_acc: robust.iter().filter(|&&b| b).count() as f64 / n,
        attack_success_rate: if correct_clean == 0 {
            0.0
        } else {
            broken_clean as f64 / correct_clean as f64
        },
        mean_queries_to_failure: (!failures.is_empty())
            .then(|| failures.iter().map(|&q| f64::from(q)).sum::<f64>() / failures.len() as f64),
        queries: results.iter().map(|r| u64::from(r.queries)).sum(),
        grid_acc: full.then(|| {
            results
                .iter()
                .map(|r| f64::from(r.correct) / f64::from(r.queries.max(1)))
                .sum::<f64>()
                / n
        }),
        per_class_robust_acc: classes
            .iter()
            .zip(&hits)
            .map(|(c, &(ok, all))| (c.to_string(), (all > 0).then(|| ok as f64 / all as f64)))
            .collect(),
        confusion,
        seconds,
    }
}

/// The labels of test images `0..n`.
fn labels(session: &Session, n: usize) -> anyhow::Result<Vec<u32>> {
    let l = session
        .data
        .test
        .labels
        .f_narrow(0, 0, n as i64)?
        .f_to_device(tch::Device::Cpu)?;
    Ok(Vec::<i64>::try_from(l)?
        .into_iter()
        .map(|v| v as u32)
        .collect())
}
