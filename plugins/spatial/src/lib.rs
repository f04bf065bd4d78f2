//! Geometric transforms: each gene becomes one 2×3 affine matrix per sample, in pixels about the
//! image centre (x right, y down), mapping input points to output points. The host composes
//! all geometric genes of a chromosome and resamples the image once.
//!
//! | gene | unit | matrix for value v |
//! |---|---|---|
//! | `rotation` | degrees, + = clockwise on screen | [cos v, −sin v, 0; sin v, cos v, 0] |
//! | `translate_x` | pixels, + = right | [1, 0, v; 0, 1, 0] |
//! | `translate_y` | pixels, + = down | [1, 0, 0; 0, 1, v] |
//! | `shear` | shear factor: x' = x + v·y about the centre | [1, v, 0; 0, 1, 0] |
//! | `zoom` | scale factor, > 1 enlarges | [v, 0, 0; 0, v, 0] |
use fuzzaug_sdk::prelude::*;

/// One geometric gene: its description and its matrix.
#[derive(Clone)]
pub struct Geometric {
    info: fn() -> TransformInfo,
    matrix: fn(f64) -> [f64; 6],
}

impl Transform for Geometric {
    fn info(&self) -> TransformInfo {
        (self.info)()
    }

    fn matrices(&self, values: &[f64], _height: u32, _width: u32) -> Result<Vec<f32>, PluginError> {
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(PluginError::new(format!(
                "{} value {v} is not finite",
                (self.info)().gene
            )));
        }
        Ok(values
            .iter()
            .flat_map(|&v| (self.matrix)(v).map(|x| x as f32))
            .collect())
    }
}

/// With y pointing down, the usual counter-clockwise matrix turns the picture clockwise:
/// the top-middle point (0, -r) goes to the right-middle (r, 0) at +90°.
fn rotation(degrees: f64) -> [f64; 6] {
    let (s, c) = degrees.to_radians().sin_cos();
    [c, -s, 0.0, s, c, 0.0]
}

/// Every geometric gene of the library, by name.
pub const GENES: &[(&str, &str, Geometric)] = &[
    (
        "rotation",
        "rotate about the image centre, degrees, clockwise positive",
        Geometric {
            info: || {
                TransformInfo::new(
                    "rotation",
                    "degrees",
                    TransformKind::Geometric,
                    [-180.0, 180.0],
                    Space {
                        range: [-30.0, 30.0],
                        identity: 0.0,
                        step: 1.0,
                        mutation: 6.0,
                        low_loss_mutation: 12.0,
                    },
                )
            },
            matrix: rotation,
        },
    ),
    (
        "translate_x",
        "shift right (positive) or left, in pixels",
        Geometric {
            info: || {
                TransformInfo::new(
                    "translate_x",
                    "pixels",
                    TransformKind::Geometric,
                    [-64.0, 64.0],
                    Space {
                        range: [-3.0, 3.0],
                        identity: 0.0,
                        step: 1.0,
                        mutation: 1.0,
                        low_loss_mutation: 1.0,
                    },
                )
            },
            matrix: |v| [1.0, 0.0, v, 0.0, 1.0, 0.0],
        },
    ),
    (
        "translate_y",
        "shift down (positive) or up, in pixels",
        Geometric {
            info: || {
                TransformInfo::new(
                    "translate_y",
                    "pixels",
                    TransformKind::Geometric,
                    [-64.0, 64.0],
                    Space {
                        range: [-3.0, 3.0],
                        identity: 0.0,
                        step: 1.0,
                        mutation: 1.0,
                        low_loss_mutation: 1.0,
                    },
                )
            },
            matrix: |v| [1.0, 0.0, 0.0, 0.0, 1.0, v],
        },
    ),
    (
        "shear",
        "horizontal shear about the centre, x' = x + s·y (a factor, not degrees)",
        Geometric {
            info: || {
                TransformInfo::new(
                    "shear",
                    "factor",
                    TransformKind::Geometric,
                    [-1.0, 1.0],
                    Space {
                        range: [-0.1, 0.1],
                        identity: 0.0,
                        step: 0.005,
                        mutation: 0.02,
                        low_loss_mutation: 0.04,
                    },
                )
            },
            matrix: |v| [1.0, v, 0.0, 0.0, 1.0, 0.0],
        },
    ),
    (
        "zoom",
        "scale about the centre; above 1 enlarges",
        Geometric {
            info: || {
                TransformInfo::new(
                    "zoom",
                    "factor",
                    TransformKind::Geometric,
                    [0.25, 4.0],
                    Space {
                        range: [0.9, 1.1],
                        identity: 1.0,
                        step: 0.01,
                        mutation: 0.02,
                        low_loss_mutation: 0.02,
                    },
                )
            },
            matrix: |v| [v, 0.0, 0.0, 0.0, v, 0.0],
        },
    ),
];

fn components() -> Vec<Component> {
    Component::transform_table(GENES)
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;

    fn gene(name: &str) -> &'static Geometric {
        &GENES.iter().find(|(n, _, _)| *n == name).unwrap().2
    }

    fn apply(m: &[f32], x: f32, y: f32) -> (f32, f32) {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    #[test]
    fn ninety_degrees_turns_top_to_right() {
        let m = gene("rotation").matrices(&[90.0], 32, 32).unwrap();
        let (x, y) = apply(&m, 0.0, -10.0);
        assert!((x - 10.0).abs() < 1e-5 && y.abs() < 1e-5, "({x}, {y})");
    }

    #[test]
    fn translations_shear_and_zoom() {
        assert_eq!(
            apply(
                &gene("translate_x").matrices(&[2.0], 8, 8).unwrap(),
                1.0,
                1.0
            ),
            (3.0, 1.0)
        );
        assert_eq!(
            apply(
                &gene("translate_y").matrices(&[-1.0], 8, 8).unwrap(),
                1.0,
                1.0
            ),
            (1.0, 0.0)
        );
        assert_eq!(
            apply(&gene("shear").matrices(&[0.5], 8, 8).unwrap(), 1.0, 2.0),
            (2.0, 2.0)
        );
        assert_eq!(
            apply(&gene("zoom").matrices(&[2.0], 8, 8).unwrap(), 1.0, -3.0),
            (2.0, -6.0)
        );
    }

    #[test]
    fn identity_values_give_identity_matrices_and_batches_lay_out_flat() {
        for (name, _, g) in GENES {
            let id = g.info().identity;
            let m = g.matrices(&[id, id], 8, 8).unwrap();
            assert_eq!(m.len(), 12, "{name}");
            for (a, b) in m.iter().zip([1.0, 0.0, 0.0, 0.0, 1.0, 0.0].iter().cycle()) {
                assert!((a - b).abs() < 1e-7, "{name}: {m:?}");
            }
            let info = g.info();
            assert!(
                info.limits[0] <= info.default_range[0] && info.default_range[1] <= info.limits[1],
                "{name}"
            );
        }
    }

    #[test]
    fn reference_defaults() {
        let i = gene("shear").info();
        assert_eq!(
            (
                i.default_range,
                i.default_step.into_option(),
                i.mutation_step,
                i.low_loss_mutation_step
            ),
            ([-0.1, 0.1], Some(0.005), 0.02, 0.04)
        );
        let i = gene("zoom").info();
        assert_eq!(
            (i.default_range, i.identity, i.default_step.into_option()),
            ([0.9, 1.1], 1.0, Some(0.01))
        );
    }

    #[test]
    fn refuses_non_finite_values_and_photometric_calls() {
        let e = gene("zoom").matrices(&[f64::NAN], 8, 8).unwrap_err();
        assert_eq!(e.message, "zoom value NaN is not finite");
        let e = gene("rotation").gain_bias(&[1.0]).unwrap_err();
        assert_eq!(e.message, "`gain_bias` called on a geometric transform");
    }
}
