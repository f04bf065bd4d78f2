//! Running a fixed set of chromosomes per image (a grid, or k random draws) against a frozen
//! model, image by image until its first misclassified variant (early exit), and what each
//! image's attack found.
use crate::train::{Session, Stopped};
use anyhow::bail;
use tch::{Kind, Tensor};

/// An image's first misclassified variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Its chromosome.
    pub chromosome: Vec<f64>,
    /// The model's probability for the (wrong) class it predicted.
    pub confidence: f32,
    /// Its cross-entropy against the true class.
    pub loss: f32,
    /// The seed context its tensor-kind genes were drawn in.
    pub context: u64,
}

/// What the attack found for one test image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageResult {
    /// Queries up to and including its first misclassified variant; `None` when none was.
    pub broken_at: Option<u32>,
    /// That variant.
    pub failure: Option<Failure>,
    /// The class predicted for that variant, or for its last query when none broke it.
    pub predicted: u32,
    /// Variants queried.
    pub queries: u32,
    /// Variants classified correctly (all of them only without early exit).
    pub correct: u32,
}

/// One pass's answers per candidate.
pub struct Pass {
    /// Classified correctly.
    pub correct: Vec<bool>,
    /// The predicted class.
    pub predicted: Vec<u32>,
    /// The probability of the predicted class.
    pub confidence: Vec<f32>,
    /// Cross-entropy against the true class.
    pub loss: Vec<f32>,
    /// The logits (for a strategy's fitness).
    pub logits: Tensor,
}

fn floats(t: &Tensor) -> anyhow::Result<Vec<f32>> {
    Ok(Vec::<f32>::try_from(
        t.f_to_kind(Kind::Float)?.f_to_device(tch::Device::Cpu)?,
    )?)
}

/// Predictions and correctness of test images `owners[i]` under `chromosomes[i]` (flat), in
/// one no-grad pass.
pub fn classify(
    session: &Session,
    owners: &[i64],
    chromosomes: &[f64],
    context: u64,
) -> anyhow::Result<Pass> {
    let _guard = tch::no_grad_guard();
    let (x, labels) = session.variants(&session.data.test, owners, &[], chromosomes, context)?;
    let logits = session.model.forward_t(&x, false).f_to_kind(Kind::Float)?;
    let predicted = logits.f_argmax(-1, false)?;
    let correct = predicted.f_eq_tensor(&labels)?;
    let confidence = logits.f_softmax(-1, Kind::Float)?.f_max_dim(-1, false)?.0;
    let loss =
        logits.f_cross_entropy_loss::<Tensor>(&labels, None, tch::Reduction::None, -100, 0.0)?;
    Ok(Pass {
        correct: Vec::<bool>::try_from(correct.f_to_device(tch::Device::Cpu)?)?,
        predicted: Vec::<i64>::try_from(predicted.f_to_device(tch::Device::Cpu)?)?
            .into_iter()
            .map(|p| p as u32)
            .collect(),
        confidence: floats(&confidence)?,
        loss: floats(&loss)?,
        logits,
    })
}

/// Records candidate `k` of `pass` (chromosome `chromosome`, drawn in seed context `context`)
/// as image result `r`'s next query: its first misclassified one becomes its failure.
pub fn record(r: &mut ImageResult, pass: &Pass, k: usize, chromosome: &[f64], context: u64) {
    r.queries += 1;
    r.correct += u32::from(pass.correct[k]);
    if r.broken_at.is_some() {
        return;
    }
    r.predicted = pass.predicted[k];
    if !pass.correct[k] {
        r.broken_at = Some(r.queries);
        r.failure = Some(Failure {
            chromosome: chromosome.to_vec(),
            confidence: pass.confidence[k],
            loss: pass.loss[k],
            context,
        });
    }
}

impl ImageResult {
    /// Nothing queried yet.
    pub fn new() -> Self {
        Self {
            broken_at: None,
            failure: None,
            predicted: 0,
            queries: 0,
            correct: 0,
        }
    }
}

impl Default for ImageResult {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `per_image(i)` (its chromosomes, flat, `genes` values each) on test images `0..n`.
/// With `early_exit`, an image is out at its first misclassified variant; without, every
/// variant is queried (for the mean per-image grid accuracy). Passes hold at most
/// `forward_pass_size` candidates; `stop` is polled before each.
pub fn fixed_set(
    session: &Session,
    n: usize,
    per_image: &dyn Fn(usize) -> Vec<f64>,
    early_exit: bool,
    context: u64,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Vec<ImageResult>> {
    let genes = session.parts.genes.len().max(1);
    let pass = crate::train::forward_pass_size(session.device);
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(pass) {
        let images: Vec<usize> = (start..(start + pass).min(n)).collect();
        let sets: Vec<Vec<f64>> = images.iter().map(|&i| per_image(i)).collect();
        let mut results: Vec<ImageResult> = images.iter().map(|_| ImageResult::new()).collect();
        let count = |s: &Vec<f64>| (s.len() / genes) as u32;
        loop {
            if stop() {
                bail!(Stopped {
                    at: "during the evaluation".into()
                });
            }
            let alive: Vec<usize> = (0..images.len())
                .filter(|&j| {
                    results[j].queries < count(&sets[j])
                        && !(early_exit && results[j].broken_at.is_some())
                })
                .collect();
            if alive.is_empty() {
                break;
            }
            let block = (pass / alive.len()).max(1) as u32;
            let (mut owners, mut chromosomes, mut whose) = (Vec::new(), Vec::new(), Vec::new());
            for &j in &alive {
                let from = results[j].queries;
                let to = (from + block).min(count(&sets[j]));
                for q in from..to {
                    owners.push(images[j] as i64);
                    let at = q as usize * genes;
                    chromosomes.extend_from_slice(&sets[j][at..at + genes]);
                    whose.push(j);
                }
            }
            let pass = classify(session, &owners, &chromosomes, context)?;
            for (k, &j) in whose.iter().enumerate() {
                if early_exit && results[j].broken_at.is_some() {
                    continue;
                }
                let chromosome = &chromosomes[k * genes..(k + 1) * genes];
                record(&mut results[j], &pass, k, chromosome, context);
            }
        }
        out.extend(results);
    }
    Ok(out)
}
