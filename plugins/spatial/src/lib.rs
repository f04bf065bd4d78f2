//! Geometric transforms: each gene becomes one 2×3 affine matrix per sample, in pixels about the
//! image centre (x right, y down), mapping input points to output points. The host composes
//! all geometric genes of a chromosome and samples the image once.
use fuzzaug_sdk::prelude::*;

/// Rotation about the image centre; positive angles turn the image clockwise on screen.
pub struct Rotation;

impl Transform for Rotation {
    fn info(&self) -> TransformInfo {
        TransformInfo {
            gene: "rotation".into(),
            unit: "degrees".into(),
            kind: TransformKind::Geometric,
            limits: [-180.0, 180.0],
            default_range: [-30.0, 30.0],
            identity: 0.0,
            default_step: Some(1.0).into(),
            mutation_step: 6.0,
            low_loss_mutation_step: 12.0,
        }
    }

    fn matrices(&self, values: &[f64], _height: u32, _width: u32) -> Result<Vec<f32>, PluginError> {
        Ok(values
            .iter()
            .flat_map(|&deg| rotation_matrix(deg))
            .collect())
    }
}

/// With y pointing down, the usual counter-clockwise matrix turns the picture clockwise:
/// the top-middle point (0, -r) goes to the right-middle (r, 0) at +90°.
fn rotation_matrix(degrees: f64) -> [f32; 6] {
    let (s, c) = degrees.to_radians().sin_cos();
    [c as f32, -s as f32, 0.0, s as f32, c as f32, 0.0]
}

fn components() -> Vec<Component> {
    vec![Component::transform(
        "rotation",
        "rotate about the image centre, degrees, clockwise positive",
        vec![],
        |_settings, _ctx| Ok(Rotation),
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: &[f32], x: f32, y: f32) -> (f32, f32) {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    #[test]
    fn ninety_degrees_turns_top_to_right() {
        let m = Rotation.matrices(&[90.0], 32, 32).unwrap();
        let (x, y) = apply(&m, 0.0, -10.0);
        assert!((x - 10.0).abs() < 1e-5 && y.abs() < 1e-5, "({x}, {y})");
    }

    #[test]
    fn identity_and_batch_layout() {
        let m = Rotation.matrices(&[0.0, 180.0], 8, 8).unwrap();
        assert_eq!(m.len(), 12);
        assert_eq!(&m[..6], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        let (x, y) = apply(&m[6..], 3.0, 1.0);
        assert!((x + 3.0).abs() < 1e-5 && (y + 1.0).abs() < 1e-5);
    }

    #[test]
    fn not_photometric() {
        let e = Rotation.gain_bias(&[1.0]).unwrap_err();
        assert_eq!(e.message, "`gain_bias` called on a geometric transform");
    }
}
