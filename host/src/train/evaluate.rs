//! Standard accuracy: the unperturbed test split in large no-grad batches, batch-norm in eval
//! mode.
use crate::data::{Images, Normalizer};
use tch::{nn::ModuleT, Device, Kind, Tensor};

/// Loss and accuracy over a split, with per-class accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Accuracy per class (NaN for a class with no images).
    pub per_class: Vec<f64>,
}

/// Evaluates `model` on `split`.
pub fn evaluate(
    model: &dyn ModuleT,
    split: &Images,
    normalizer: &Normalizer,
    classes: usize,
    device: Device,
) -> anyhow::Result<Accuracy> {
    let _guard = tch::no_grad_guard();
    let n = split.len();
    let (mut loss_sum, mut correct) = (0.0f64, 0i64);
    let mut hits = vec![0i64; classes];
    let mut totals = vec![0i64; classes];
    let pass = super::forward_pass_size(device) as i64;
    let mut start = 0;
    while start < n {
        let len = pass.min(n - start);
        let x = normalizer.apply(&split.pixels.f_narrow(0, start, len)?)?;
        let y = split.labels.f_narrow(0, start, len)?;
        let logits = model.forward_t(&x, false);
        loss_sum += logits
            .f_cross_entropy_loss::<Tensor>(&y, None, tch::Reduction::Sum, -100, 0.0)?
            .f_double_value(&[])?;
        let ok = logits.f_argmax(-1, false)?.f_eq_tensor(&y)?;
        correct += ok.f_sum(Kind::Int64)?.f_int64_value(&[])?;
        let per_hit = Tensor::f_zeros([classes as i64], (Kind::Int64, device))?.f_index_add(
            0,
            &y,
            &ok.f_to_kind(Kind::Int64)?,
        )?;
        let per_tot = y.f_bincount::<Tensor>(None, classes as i64)?;
        let (h, t) = (
            Vec::<i64>::try_from(per_hit.f_to_device(Device::Cpu)?)?,
            Vec::<i64>::try_from(per_tot.f_to_device(Device::Cpu)?)?,
        );
        for c in 0..classes {
            hits[c] += h[c];
            totals[c] += t.get(c).copied().unwrap_or(0);
        }
        start += len;
    }
    let per_class = hits
        .iter()
        .zip(&totals)
        .map(|(&h, &t)| {
            if t == 0 {
                f64::NAN
            } else {
                h as f64 / t as f64
            }
        })
        .collect();
    Ok(Accuracy {
        loss: loss_sum / n as f64,
        accuracy: correct as f64 / n as f64,
        per_class,
    })
}
