//! Per-candidate fitness: how badly the model does on each scored image. The
//! strategy picks the formula ([`Fitness`]); the host computes it on the scoring pass's logits.
use fuzzaug_sdk::Fitness;
use tch::{Kind, Tensor};

/// Clip of the softmax in `bce-sum`: the reference clips its float64 probabilities to
/// [1e-8, 1 − 1e-8]. In f32, 1 − 1e-8 rounds to 1 and log(1 − p) would be −inf, hence float64.
const BCE_CLIP: f64 = 1e-8;

/// Fitness per row of `logits` (fp32, `[n, classes]`) against `labels` (`[n]`, int64).
pub fn per_sample(
    kind: Fitness,
    logits: &Tensor,
    labels: &Tensor,
) -> Result<Tensor, tch::TchError> {
    match kind {
        Fitness::CrossEntropy => {
            logits.f_cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::None, -100, 0.0)
        }
        Fitness::BceSum => {
            let classes = logits.size().last().copied().unwrap_or(1);
            let p = logits
                .f_to_kind(Kind::Double)?
                .f_softmax(-1, Kind::Double)?
                .f_clamp(BCE_CLIP, 1.0 - BCE_CLIP)?;
            let y = labels.f_one_hot(classes)?.f_to_kind(Kind::Double)?;
            // −Σ_c [y log p + (1 − y) log(1 − p)]
            let pos = y.f_mul(&p.f_log()?)?;
            let neg = y
                .f_neg()?
                .f_add_scalar(1.0)?
                .f_mul(&p.f_neg()?.f_add_scalar(1.0)?.f_log()?)?;
            pos.f_add(&neg)?
                .f_sum_dim_intlist([-1i64].as_slice(), false, Kind::Double)?
                .f_neg()?
                .f_to_kind(Kind::Float)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> (Tensor, Tensor) {
        let l = Tensor::from_slice(&[2.0f32, 0.0, -1.0, 0.5, 0.5, 3.0]).view([2, 3]);
        (l, Tensor::from_slice(&[0i64, 1]))
    }

    #[test]
    fn cross_entropy_is_minus_log_softmax_of_the_label() {
        let (l, y) = logits();
        let got = Vec::<f32>::try_from(per_sample(Fitness::CrossEntropy, &l, &y).unwrap()).unwrap();
        let lse = |v: [f32; 3]| v.iter().map(|x| x.exp()).sum::<f32>().ln();
        assert!((got[0] - (lse([2.0, 0.0, -1.0]) - 2.0)).abs() < 1e-5);
        assert!((got[1] - (lse([0.5, 0.5, 3.0]) - 0.5)).abs() < 1e-5);
    }

    #[test]
    fn bce_sum_adds_every_class_term() {
        let (l, y) = logits();
        let got = Vec::<f32>::try_from(per_sample(Fitness::BceSum, &l, &y).unwrap()).unwrap();
        for (row, (v, label)) in [[2.0f32, 0.0, -1.0], [0.5, 0.5, 3.0]]
            .iter()
            .zip([0, 1])
            .enumerate()
        {
            let z: f32 = v.iter().map(|x| x.exp()).sum();
            let want: f32 = v
                .iter()
                .enumerate()
                .map(|(c, x)| {
                    let p = x.exp() / z;
                    if c == label {
                        -p.ln()
                    } else {
                        -(1.0 - p).ln()
                    }
                })
                .sum();
            assert!(
                (got[row] - want).abs() < 1e-5,
                "row {row}: {} vs {want}",
                got[row]
            );
        }
    }

    #[test]
    fn bce_sum_is_finite_for_confident_logits() {
        let l = Tensor::from_slice(&[100.0f32, -100.0]).view([1, 2]);
        let y = Tensor::from_slice(&[1i64]);
        let got = Vec::<f32>::try_from(per_sample(Fitness::BceSum, &l, &y).unwrap()).unwrap();
        // Both terms hit the clip, exactly as in float64: −2 ln(1e-8) (minus ~1e-8).
        let cap = (-2.0 * BCE_CLIP.ln()) as f32;
        assert!(
            got[0].is_finite() && (got[0] - cap).abs() < 1e-4,
            "{} vs {cap}",
            got[0]
        );
    }
}
