//! Photometric transforms: each gene becomes a gain and a bias per sample, applied as
//! `gain · pixel + bias` on the 0..255 scale before the host clamps to 0..255. The host fuses
//! all photometric genes of a chromosome into one gain and bias.
//!
//! | gene | unit | gain, bias for value v |
//! |---|---|---|
//! | `brightness` | added to every pixel, 0..255 scale | 1, v |
//! | `contrast` | factor about mid-grey 127.5 | v, 127.5·(1 − v) |
use fuzzaug_sdk::prelude::*;

/// Mid-grey on the 0..255 scale: the fixed point of `contrast`.
pub const MID_GREY: f64 = 127.5;

/// One photometric gene.
#[derive(Clone)]
pub struct Photometric {
    info: fn() -> TransformInfo,
    gain_bias: fn(f64) -> [f64; 2],
}

impl Transform for Photometric {
    fn info(&self) -> TransformInfo {
        (self.info)()
    }

    fn gain_bias(&self, values: &[f64]) -> Result<Vec<f32>, PluginError> {
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(PluginError::new(format!(
                "{} value {v} is not finite",
                (self.info)().gene
            )));
        }
        Ok(values
            .iter()
            .flat_map(|&v| (self.gain_bias)(v).map(|x| x as f32))
            .collect())
    }
}

/// Every photometric gene of the library, by name.
pub const GENES: &[(&str, &str, Photometric)] = &[
    (
        "brightness",
        "add a constant to every pixel (0..255 scale)",
        Photometric {
            info: || {
                TransformInfo::new(
                    "brightness",
                    "levels (0..255)",
                    TransformKind::Photometric,
                    [-255.0, 255.0],
                    Space {
                        range: [-32.0, 32.0],
                        identity: 0.0,
                        step: 2.0,
                        mutation: 4.0,
                        low_loss_mutation: 4.0,
                    },
                )
            },
            gain_bias: |v| [1.0, v],
        },
    ),
    (
        "contrast",
        "scale pixel values about mid-grey 127.5",
        Photometric {
            info: || {
                TransformInfo::new(
                    "contrast",
                    "factor",
                    TransformKind::Photometric,
                    [0.0, 4.0],
                    Space {
                        range: [0.8, 1.2],
                        identity: 1.0,
                        step: 0.025,
                        mutation: 0.05,
                        low_loss_mutation: 0.05,
                    },
                )
            },
            gain_bias: |v| [v, MID_GREY * (1.0 - v)],
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

    fn gene(name: &str) -> &'static Photometric {
        &GENES.iter().find(|(n, _, _)| *n == name).unwrap().2
    }

    #[test]
    fn brightness_adds_and_contrast_scales_about_mid_grey() {
        assert_eq!(
            gene("brightness").gain_bias(&[-32.0, 0.0]).unwrap(),
            vec![1.0, -32.0, 1.0, 0.0]
        );
        let gb = gene("contrast").gain_bias(&[1.2]).unwrap();
        // Mid-grey stays, 200 moves away from it: 1.2·200 − 25.5 = 214.5.
        assert!((gb[0] * 127.5 + gb[1] - 127.5).abs() < 1e-4);
        assert!((gb[0] * 200.0 + gb[1] - 214.5).abs() < 1e-4);
        assert_eq!(gene("contrast").gain_bias(&[1.0]).unwrap(), vec![1.0, 0.0]);
    }

    #[test]
    fn reference_defaults_and_errors() {
        let b = gene("brightness").info();
        assert_eq!(
            (
                b.default_range,
                b.default_step.into_option(),
                b.mutation_step
            ),
            ([-32.0, 32.0], Some(2.0), 4.0)
        );
        let c = gene("contrast").info();
        assert_eq!(
            (
                c.default_range,
                c.identity,
                c.default_step.into_option(),
                c.mutation_step
            ),
            ([0.8, 1.2], 1.0, Some(0.025), 0.05)
        );
        assert_eq!(
            gene("contrast")
                .gain_bias(&[f64::INFINITY])
                .unwrap_err()
                .message,
            "contrast value inf is not finite"
        );
        assert_eq!(
            gene("brightness")
                .matrices(&[1.0], 4, 4)
                .unwrap_err()
                .message,
            "`matrices` called on a photometric transform"
        );
    }
}
