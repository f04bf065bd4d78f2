//! A gene's space from its transform's limits and the config's range, step and mutation steps.
use crate::config::TransformConfig;
use fuzzaug_sdk::{GeneSpec, TransformInfo};

/// The gene's space from the transform's limits and the config's range, step and mutation
/// steps; an error is (key inside the transform's table, message).
pub fn gene_spec(
    info: &TransformInfo,
    t: &TransformConfig,
) -> Result<GeneSpec, (&'static str, String)> {
    let step = t.step;
    let [lo, hi] = t.range.unwrap_or(info.default_range);
    let [min, max] = info.limits;
    let g = &info.gene;
    if lo < min || hi > max {
        return Err((
            "range",
            format!("range [{lo}, {hi}] of `{g}` is outside its limits [{min}, {max}]"),
        ));
    }
    if !(lo <= info.identity && info.identity <= hi) {
        return Err((
            "range",
            format!(
                "range [{lo}, {hi}] of `{g}` must contain its identity value {}",
                info.identity
            ),
        ));
    }
    if let Some(step) = step {
        let on_grid = |v: f64| ((v - lo) / step - ((v - lo) / step).round()).abs() < 1e-6;
        if !on_grid(hi) {
            return Err((
                "step",
                format!("step {step} of `{g}` does not divide its range [{lo}, {hi}]"),
            ));
        }
        if !on_grid(info.identity) {
            return Err((
                "step",
                format!(
                    "the grid of `{g}` ([{lo}, {hi}] by {step}) misses its identity value {}",
                    info.identity
                ),
            ));
        }
    }
    let (mutation_step, low_loss_mutation_step) = mutation_steps(info, t)?;
    Ok(GeneSpec {
        name: g.clone(),
        lo,
        hi,
        identity: info.identity,
        step: step.into(),
        mutation_step,
        low_loss_mutation_step,
    })
}

/// The gene's two mutation steps: the config's, else the transform's (the low-loss one scaled
/// with a configured `mutation_step`). A move is snapped to the nearest grid point, so on a grid
/// each step must be more than half a grid step (or ±step rounds back onto the gene's value)
/// and not an odd number of half steps (or +step and −step round to different distances, one
/// of them possibly none): either would bias the search.
fn mutation_steps(
    info: &TransformInfo,
    t: &TransformConfig,
) -> Result<(f64, f64), (&'static str, String)> {
    let g = &info.gene;
    let normal = t.mutation_step.unwrap_or(info.mutation_step);
    let low = t.low_loss_mutation_step.unwrap_or(match t.mutation_step {
        Some(m) if info.mutation_step > 0.0 => m * info.low_loss_mutation_step / info.mutation_step,
        _ => info.low_loss_mutation_step,
    });
    for (key, value, set) in [
        ("mutation_step", normal, t.mutation_step.is_some()),
        (
            "low_loss_mutation_step",
            low,
            t.low_loss_mutation_step.is_some(),
        ),
    ] {
        let origin = if set {
            "".to_string()
        } else {
            format!(" (the transform's default; set `{key}` to change it)")
        };
        if !(value.is_finite() && value > 0.0) {
            return Err((
                if set { key } else { "name" },
                format!("{key} {value} of `{g}` must be a number above 0{origin}"),
            ));
        }
        if let Some(step) = t.step {
            let k = value / step;
            let problem = if k < 0.5 + 1e-9 {
                Some("±step would round back onto the gene's value")
            } else if (k - k.floor() - 0.5).abs() < 1e-9 {
                Some("+step and −step would round to different distances")
            } else {
                None
            };
            if let Some(problem) = problem {
                let k = (k * 1000.0).round() / 1000.0;
                return Err((
                    if set { key } else { "step" },
                    format!(
                        "{key} {value} of `{g}`{origin} is {k} grid steps of {step}: {problem}; use a whole number of grid steps"
                    ),
                ));
            }
        }
    }
    Ok((normal, low))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::TransformKind;

    /// A made-up geometric gene: limits ±180, default range ±30 by 1, identity 0.
    fn rotation() -> TransformInfo {
        TransformInfo {
            gene: "rotation".into(),
            unit: "degrees".into(),
            kind: TransformKind::Geometric,
            limits: [-180.0, 180.0],
            default_range: [-30.0, 30.0],
            identity: 0.0,
            default_step: Some(1.0).into(),
            mutation_step: 1.0,
            low_loss_mutation_step: 2.0,
        }
    }

    fn config(range: Option<[f64; 2]>, step: Option<f64>) -> TransformConfig {
        TransformConfig {
            name: "rotation".into(),
            range,
            step,
            mutation_step: None,
            low_loss_mutation_step: None,
            settings: Default::default(),
        }
    }

    fn with_steps(step: f64, mutation: Option<f64>, low: Option<f64>) -> TransformConfig {
        TransformConfig {
            mutation_step: mutation,
            low_loss_mutation_step: low,
            ..config(None, Some(step))
        }
    }

    #[test]
    fn defaults_and_explicit_ranges() {
        let g = gene_spec(&rotation(), &config(None, Some(1.0))).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-30.0, 30.0, Some(1.0)));
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (1.0, 2.0));
        let g = gene_spec(&rotation(), &config(Some([-10.0, 20.0]), None)).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-10.0, 20.0, None));
    }

    #[test]
    fn mutation_steps_from_the_config_scale_the_low_loss_one() {
        let g = gene_spec(&rotation(), &with_steps(1.0, Some(6.0), None)).unwrap();
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (6.0, 12.0));
        let g = gene_spec(&rotation(), &with_steps(2.0, Some(4.0), Some(2.0))).unwrap();
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (4.0, 2.0));
        // Continuous: any positive step.
        let g = gene_spec(
            &rotation(),
            &TransformConfig {
                mutation_step: Some(0.37),
                ..config(None, None)
            },
        )
        .unwrap();
        assert_eq!(g.mutation_step, 0.37);
    }

    #[test]
    fn a_mutation_step_that_does_not_move_the_gene_on_its_grid_is_refused() {
        let err = |t: &TransformConfig| gene_spec(&rotation(), t).unwrap_err();
        assert_eq!(
            err(&with_steps(5.0, Some(1.0), None)),
            (
                "mutation_step",
                "mutation_step 1 of `rotation` is 0.2 grid steps of 5: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(2.0, Some(1.0), Some(2.0))).1,
            "mutation_step 1 of `rotation` is 0.5 grid steps of 2: ±step would round back onto the gene's value; use a whole number of grid steps"
        );
        assert_eq!(
            err(&with_steps(2.0, Some(3.0), Some(6.0))),
            (
                "mutation_step",
                "mutation_step 3 of `rotation` is 1.5 grid steps of 2: +step and −step would round to different distances; use a whole number of grid steps".to_string()
            )
        );
        // 0.6 grid steps moves one grid step either way: accepted.
        assert!(gene_spec(&rotation(), &with_steps(10.0, Some(6.0), Some(12.0))).is_ok());
        // The transform's default (1 degree) on a grid of 3: the step is what to change.
        assert_eq!(
            err(&config(Some([-30.0, 30.0]), Some(3.0))),
            (
                "step",
                "mutation_step 1 of `rotation` (the transform's default; set `mutation_step` to change it) is 0.333 grid steps of 3: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(1.0, Some(2.0), Some(0.5))),
            (
                "low_loss_mutation_step",
                "low_loss_mutation_step 0.5 of `rotation` is 0.5 grid steps of 1: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(1.0, Some(-1.0), None)),
            (
                "mutation_step",
                "mutation_step -1 of `rotation` must be a number above 0".to_string()
            )
        );
    }

    #[test]
    fn bad_ranges_and_steps() {
        assert_eq!(
            gene_spec(&rotation(), &config(Some([-200.0, 30.0]), None)).unwrap_err(),
            (
                "range",
                "range [-200, 30] of `rotation` is outside its limits [-180, 180]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), &config(Some([5.0, 30.0]), None))
                .unwrap_err()
                .1,
            "range [5, 30] of `rotation` must contain its identity value 0"
        );
        assert_eq!(
            gene_spec(&rotation(), &config(None, Some(7.0))).unwrap_err(),
            (
                "step",
                "step 7 of `rotation` does not divide its range [-30, 30]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), &config(Some([-5.0, 10.0]), Some(3.0)))
                .unwrap_err()
                .1,
            "the grid of `rotation` ([-5, 10] by 3) misses its identity value 0"
        );
    }
}
