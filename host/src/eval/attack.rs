//! Running a fixed set of chromosomes per image (a grid, or k random draws) against a frozen
//! model, image by image until its first misclassified variant (early exit), and what each
//! image's attack found.
use crate::train::{Session, Stopped};
use anyhow::bail;
use tch::{Kind, Tensor};

/// What the attack found for one test image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageResult {
    /// Queries up to and including its first misclassified variant; `None` when none was.
    pub broken_at: Option<u32>,
    /// The class predicted for that variant, or for its last query when none broke it.
    pub predicted: u32,
    /// Variants queried.
    pub queries: u32,
    /// Variants classified correctly (all of them only without early exit).
    pub correct: u32,
}

/// Predictions and correctness of test images `owners[i]` under `chromosomes[i]` (flat), in
/// one no-grad pass.
pub fn classify(
    session: &Session,
    owners: &[i64],
    chromosomes: &[f64],
    context: u64,
) -> anyhow::Result<(Vec<bool>, Vec<u32>, Tensor)> {
    let _guard = tch::no_grad_guard();
    let (x, labels) = session.variants(&session.data.test, owners, &[], chromosomes, context)?;
    let logits = session.model.forward_t(&x, false).f_to_kind(Kind::Float)?;
    let predicted = logits.f_argmax(-1, false)?;
    let correct = predicted.f_eq_tensor(&labels)?;
    let correct = Vec::<bool>::try_from(correct.f_to_device(tch::Device::Cpu)?)?;
    let predicted = Vec::<i64>::try_from(predicted.f_to_device(tch::Device::Cpu)?)?
        .into_iter()
        .map(|p| p as u32)
        .collect();
    Ok((correct, predicted, logits))
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
        let mut results: Vec<ImageResult> = images
            .iter()
            .map(|_| ImageResult {
                broken_at: None,
                predicted: 0,
                queries: 0,
                correct: 0,
            })
            .collect();
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
            let (correct, predicted, _) = classify(session, &owners, &chromosomes, context)?;
            for ((&j, ok), p) in whose.iter().zip(correct).zip(predicted) {
                let r = &mut results[j];
                if early_exit && r.broken_at.is_some() {
                    continue;
                }
                r.queries += 1;
                r.correct += u32::from(ok);
                if r.broken_at.is_none() {
                    r.predicted = p;
                    if !ok {
                        r.broken_at = Some(r.queries);
                    }
                }
            }
        }
        out.extend(results);
    }
    Ok(out)
}
