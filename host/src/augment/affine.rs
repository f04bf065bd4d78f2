//! Composition of per-gene 2×3 matrices and their conversion into `affine_grid`'s theta.
//!
//! Plugins give forward maps in centred pixel coordinates (input point → output point).
//! `affine_grid` wants, per output pixel, where to sample the input, in normalised coordinates
//! (align_corners = false: x_norm = 2·u / W for a centred pixel coordinate u).

/// A 2×3 affine map `[a, b, c, d, e, f]`: (x, y) → (a x + b y + c, d x + e y + f).
pub type Affine = [f64; 6];

/// The identity map.
pub const IDENTITY: Affine = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// `second ∘ first`: apply `first`, then `second`.
pub fn then(first: &Affine, second: &Affine) -> Affine {
    let [a1, b1, c1, d1, e1, f1] = *first;
    let [a2, b2, c2, d2, e2, f2] = *second;
    [
        a2 * a1 + b2 * d1,
        a2 * b1 + b2 * e1,
        a2 * c1 + b2 * f1 + c2,
        d2 * a1 + e2 * d1,
        d2 * b1 + e2 * e1,
        d2 * c1 + e2 * f1 + f2,
    ]
}

/// The inverse map, or `None` when the map is singular (e.g. zoom 0).
pub fn invert(m: &Affine) -> Option<Affine> {
    let [a, b, c, d, e, f] = *m;
    let det = a * e - b * d;
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
    Some([ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)])
}

/// `affine_grid`'s theta (output → input, normalised) for a forward pixel map on an image of
/// `height`×`width`.
pub fn theta(forward: &Affine, height: u32, width: u32) -> Option<[f32; 6]> {
    let [a, b, c, d, e, f] = invert(forward)?;
    let (w, h) = (f64::from(width), f64::from(height));
    // N · M⁻¹ · N⁻¹ with N = diag(2/W, 2/H).
    Some([a, b * h / w, 2.0 * c / w, d * w / h, e, 2.0 * f / h].map(|v| v as f32))
}

/// Whether `m` is the identity (to within float noise), so the resampling can be skipped.
pub fn is_identity(m: &Affine) -> bool {
    m.iter().zip(IDENTITY).all(|(a, b)| (a - b).abs() < 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: &Affine, x: f64, y: f64) -> (f64, f64) {
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    #[test]
    fn composition_order_and_inverse() {
        let shift = [1.0, 0.0, 2.0, 0.0, 1.0, 0.0];
        let rot90 = [0.0, -1.0, 0.0, 1.0, 0.0, 0.0];
        let m = then(&shift, &rot90); // shift right by 2, then rotate
        assert_eq!(apply(&m, 0.0, 0.0), (0.0, 2.0));
        let inv = invert(&m).unwrap();
        let (x, y) = apply(&inv, 0.0, 2.0);
        assert!(x.abs() < 1e-12 && y.abs() < 1e-12);
        assert!(invert(&[0.0; 6]).is_none());
        assert!(is_identity(&then(&shift, &invert(&shift).unwrap())));
    }

    #[test]
    fn theta_of_a_shift_is_normalised() {
        // Moving content 1 px right on a 4-wide image samples 1 px to the left: -2/4.
        let t = theta(&[1.0, 0.0, 1.0, 0.0, 1.0, 0.0], 4, 4).unwrap();
        assert_eq!(t, [1.0, 0.0, -0.5, 0.0, 1.0, 0.0]);
    }
}
