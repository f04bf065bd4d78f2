//! `{{name}}`: a fuzzaug transform, i.e. one gene of the search space.
//!
//! As generated it is a geometric gene: a horizontal stretch about the image centre by a factor
//! v (1 = unchanged). A geometric transform only returns one 2×3 affine matrix per value; the
//! host composes every geometric gene of a chromosome into one matrix and resamples each image
//! once, on the device, for the whole batch.
//!
//! Other kinds (see the `fuzzaug_sdk::transform` docs): a photometric gene implements
//! `gain_bias` (out = gain · in + bias on the 0..255 scale) and sets `TransformKind::Photometric`;
//! a tensor gene implements `apply` on a libtorch tensor and needs the SDK's `tensor` feature.
use fuzzaug_sdk::prelude::*;

/// The transform. Settings-free; add fields for settings read in `components()`.
#[derive(Clone, Default)]
pub struct {{type}};

impl Transform for {{type}} {
    fn info(&self) -> TransformInfo {
        TransformInfo::new(
            "{{name}}",
            "factor",
            TransformKind::Geometric,
            // The widest range a config may ask for.
            [0.5, 2.0],
            // The default space: range, identity, grid step and mutation steps of the GA.
            Space {
                range: [0.8, 1.2],
                identity: 1.0,
                step: 0.05,
                mutation: 0.05,
                low_loss_mutation: 0.1,
            },
        )
    }

    fn matrices(&self, values: &[f64], _height: u32, _width: u32) -> Result<Vec<f32>, PluginError> {
        let mut out = Vec::with_capacity(6 * values.len());
        for &v in values {
            if !(v.is_finite() && v > 0.0) {
                return Err(PluginError::new(format!(
                    "`{{name}}` value {v} is not a positive factor"
                )));
            }
            // YOUR LOGIC: the forward map (x, y) -> (a·x + b·y + c, d·x + e·y + f) in pixels,
            // origin at the image centre, x right, y down, as [a, b, c, d, e, f].
            out.extend_from_slice(&[v as f32, 0.0, 0.0, 0.0, 1.0, 0.0]);
        }
        Ok(out)
    }
}

fn components() -> Vec<Component> {
    vec![Component::transform(
        "{{name}}",
        "stretch horizontally about the image centre by a factor",
        vec![],
        |_settings, _ctx| Ok({{type}}),
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_leaves_points_and_factor_two_doubles_x() {
        let m = {{type}}.matrices(&[1.0, 2.0], 32, 32).unwrap();
        assert_eq!(&m[..6], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(&m[6..], &[2.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        let info = {{type}}.info();
        assert!(info.limits[0] <= info.default_range[0] && info.default_range[1] <= info.limits[1]);
    }

    #[test]
    fn a_non_positive_factor_is_an_error() {
        let err = {{type}}.matrices(&[0.0], 32, 32).unwrap_err();
        assert_eq!(err.message, "`{{name}}` value 0 is not a positive factor");
    }
}
