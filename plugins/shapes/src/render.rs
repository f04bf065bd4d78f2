//! Procedural rendering: a textured background, one anti-aliased foreground shape and Gaussian
//! noise per image.
//!
//! Every image draws from its own random stream, seeded from (seed, split, index), and every
//! label from a stream seeded from (seed, split, block of ten), so any image can be rendered on
//! its own and a split reads the same bytes however the host chunks it.
use fuzzaug_sdk::Split;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::{f32::consts::TAU, sync::OnceLock};

/// Class names, indexed by label.
pub const CLASSES: [&str; 10] = [
    "circle",
    "square",
    "triangle-up",
    "triangle-down",
    "horizontal-bar",
    "vertical-bar",
    "plus",
    "l-shape",
    "arrow-right",
    "ring",
];

/// Colour channels per image (RGB).
pub const CHANNELS: usize = 3;

/// Largest rotation jitter of a shape, in radians (10°): small enough that the classes defined by
/// orientation (triangle up/down, horizontal/vertical bar, arrow) stay distinguishable.
const MAX_JITTER: f32 = 10.0 * std::f32::consts::PI / 180.0;
/// Side of a shape's [-1, 1]² frame as a fraction of the image side.
const SCALE_RANGE: std::ops::Range<f32> = 0.35..0.70;
/// Least RGB distance (0..255 scale) between the shape's colour and the background's base
/// colour, so the shape always stands out of the texture.
const MIN_CONTRAST: f32 = 120.0;
/// Range of the texture's colour amplitude; kept well below [`MIN_CONTRAST`].
const TEXTURE_AMPLITUDE: std::ops::Range<f32> = 10.0..35.0;

/// Stream domains, so label and pixel streams never share a seed.
const PIXELS: u64 = 0x5049_5845_4c53; // "PIXELS"
const LABELS: u64 = 0x4c41_4245_4c53; // "LABELS"

/// One round of SplitMix64: a bijective mix with full avalanche, enough to turn structured
/// (seed, split, index) tuples into unrelated ChaCha seeds.
fn splitmix64(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of stream `index` of `domain` in `split`.
fn stream_seed(seed: u64, split: Split, domain: u64, index: u64) -> u64 {
    let split_tag: u64 = match split {
        Split::Train => 0x0074_7261_696e, // "train"
        Split::Test => 0x7465_7374,       // "test"
    };
    let h = splitmix64(seed);
    let h = splitmix64(h ^ split_tag);
    let h = splitmix64(h ^ domain);
    splitmix64(h ^ index)
}

/// The labels of images `10 * block .. 10 * block + 10`: a permutation of the ten classes, so
/// every split is balanced to within one image per class yet in random order.
fn block_labels(seed: u64, split: Split, block: u64) -> [u8; 10] {
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, split, LABELS, block));
    let mut perm: [u8; 10] = std::array::from_fn(|i| i as u8);
    // Fisher-Yates, written out so the order depends on nothing but `random_range`.
    for i in (1..perm.len()).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }
    perm
}

/// The label of image `index` of `split`.
pub fn label_of(seed: u64, split: Split, index: u64) -> u32 {
    u32::from(block_labels(seed, split, index / 10)[(index % 10) as usize])
}

/// The ten shapes, in label order. Each is a signed distance function in a frame where the
/// shape spans about [-1, 1]² and `v` points up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Circle,
    Square,
    TriangleUp,
    TriangleDown,
    HorizontalBar,
    VerticalBar,
    Plus,
    Ell,
    ArrowRight,
    Ring,
}

const SHAPES: [Shape; 10] = [
    Shape::Circle,
    Shape::Square,
    Shape::TriangleUp,
    Shape::TriangleDown,
    Shape::HorizontalBar,
    Shape::VerticalBar,
    Shape::Plus,
    Shape::Ell,
    Shape::ArrowRight,
    Shape::Ring,
];

/// Triangle-up vertices; triangle-down is its mirror image.
const TRIANGLE: [(f32, f32); 3] = [(0.0, 1.0), (-0.95, -0.75), (0.95, -0.75)];
/// Arrow head vertices (the shaft is a box).
const ARROW_HEAD: [(f32, f32); 3] = [(1.0, 0.0), (0.1, 0.6), (0.1, -0.6)];

impl Shape {
    /// Signed distance from (u, v) to the shape's outline, negative inside, in frame units.
    fn sdf(self, u: f32, v: f32) -> f32 {
        match self {
            Self::Circle => (u * u + v * v).sqrt() - 1.0,
            Self::Square => sd_box(u, v, 0.0, 0.0, 0.8, 0.8),
            Self::TriangleUp => sd_triangle(u, v, TRIANGLE),
            Self::TriangleDown => sd_triangle(u, -v, TRIANGLE),
            Self::HorizontalBar => sd_box(u, v, 0.0, 0.0, 1.0, 0.3),
            Self::VerticalBar => sd_box(u, v, 0.0, 0.0, 0.3, 1.0),
            Self::Plus => sd_box(u, v, 0.0, 0.0, 1.0, 0.28).min(sd_box(u, v, 0.0, 0.0, 0.28, 1.0)),
            // A stem on the left and a foot at the bottom, as the letter reads.
            Self::Ell => {
                sd_box(u, v, -0.5, 0.0, 0.25, 0.9).min(sd_box(u, v, 0.0, -0.65, 0.75, 0.25))
            }
            // The shaft reaches into the head so the union has no seam.
            Self::ArrowRight => {
                sd_box(u, v, -0.4, 0.0, 0.6, 0.18).min(sd_triangle(u, v, ARROW_HEAD))
            }
            Self::Ring => ((u * u + v * v).sqrt() - 0.72).abs() - 0.24,
        }
    }

    /// The largest distance from the origin of any point of the shape: a rotation-independent
    /// bound used to keep the whole shape inside the image.
    fn bounding_radius(self) -> f32 {
        match self {
            Self::Circle => 1.0,
            Self::Square => 0.8 * std::f32::consts::SQRT_2,
            Self::TriangleUp | Self::TriangleDown => 1.2104, // |(0.95, 0.75)|
            Self::HorizontalBar | Self::VerticalBar => 1.0441, // |(1.0, 0.3)|
            Self::Plus => 1.0385,                            // |(1.0, 0.28)|
            Self::Ell => 1.1716,                             // |(0.75, 0.9)|
            Self::ArrowRight => 1.0161,                      // |(1.0, 0.18)|
            Self::Ring => 0.96,
        }
    }
}

/// Signed distance to the axis-aligned box centred at (cx, cy) with half-sides (hx, hy).
fn sd_box(u: f32, v: f32, cx: f32, cy: f32, hx: f32, hy: f32) -> f32 {
    let qx = (u - cx).abs() - hx;
    let qy = (v - cy).abs() - hy;
    let (ox, oy) = (qx.max(0.0), qy.max(0.0));
    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0)
}

/// Signed distance to a triangle (exact; after Inigo Quilez's `sdTriangle`).
fn sd_triangle(u: f32, v: f32, [p0, p1, p2]: [(f32, f32); 3]) -> f32 {
    let edges = [(p0, p1), (p1, p2), (p2, p0)];
    let (e0, e2) = ((p1.0 - p0.0, p1.1 - p0.1), (p0.0 - p2.0, p0.1 - p2.1));
    // The winding's sign, so "inside" is negative whichever way the vertices run.
    let s = (e0.0 * e2.1 - e0.1 * e2.0).signum();
    let mut dist2 = f32::INFINITY;
    let mut side = f32::INFINITY;
    for (a, b) in edges {
        let (ex, ey) = (b.0 - a.0, b.1 - a.1);
        let (wx, wy) = (u - a.0, v - a.1);
        let t = ((wx * ex + wy * ey) / (ex * ex + ey * ey)).clamp(0.0, 1.0);
        let (dx, dy) = (wx - ex * t, wy - ey * t);
        dist2 = dist2.min(dx * dx + dy * dy);
        side = side.min(s * (wx * ey - wy * ex));
    }
    -dist2.sqrt() * side.signum()
}

/// The background's low-frequency pattern, a scalar field of about -1..1 that scales a tint.
enum Pattern {
    /// Parallel sine stripes: cycles per image side and phase.
    Stripes { freq: f32, phase: f32 },
    /// A linear ramp across the image.
    Gradient,
    /// A few Gaussian bumps: centre x, centre y, 1 / (2σ²), sign.
    Blobs([(f32, f32, f32, f32); 3]),
}

/// A background: base colour plus pattern × tint.
struct Background {
    base: [f32; 3],
    tint: [f32; 3],
    pattern: Pattern,
    /// The pattern's direction (stripes and gradient).
    cos: f32,
    sin: f32,
    side: f32,
}

impl Background {
    fn sample(rng: &mut ChaCha8Rng, side: f32) -> Self {
        let base = std::array::from_fn(|_| rng.random::<f32>() * 255.0);
        let amplitude = rng.random_range(TEXTURE_AMPLITUDE);
        let tint = std::array::from_fn(|_| rng.random_range(-1.0f32..1.0) * amplitude);
        let (sin, cos) = rng.random_range(0.0..TAU).sin_cos();
        let pattern = match rng.random_range(0..3u32) {
            0 => Pattern::Stripes {
                freq: rng.random_range(0.5..3.0),
                phase: rng.random_range(0.0..TAU),
            },
            1 => Pattern::Gradient,
            _ => Pattern::Blobs(std::array::from_fn(|_| {
                let sigma = rng.random_range(0.15..0.35) * side;
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                (
                    rng.random::<f32>() * side,
                    rng.random::<f32>() * side,
                    1.0 / (2.0 * sigma * sigma),
                    sign,
                )
            })),
        };
        Self {
            base,
            tint,
            pattern,
            cos,
            sin,
            side,
        }
    }

    /// The pattern's factors for column centre `x`. Every pattern is separable:
    /// `t(x, y) = Σₖ col[k]·row[k] + col[3] + row[3]` for k < 3, with `row` from
    /// [`Background::row_terms`], so a pixel costs a few multiply-adds instead of a `sin` or
    /// three `exp`s.
    fn column_terms(&self, x: f32) -> [f32; 4] {
        match &self.pattern {
            Pattern::Stripes { freq, .. } => {
                // sin(a + b) = sin a · cos b + cos a · sin b, with a from x and b from y.
                let (s, c) = (TAU * freq / self.side * x * self.cos).sin_cos();
                [s, c, 0.0, 0.0]
            }
            Pattern::Gradient => {
                let h = 0.5 * self.side;
                [0.0, 0.0, 0.0, (x - h) * self.cos / h]
            }
            Pattern::Blobs(blobs) => {
                let mut t = [0.0; 4];
                for (t, &(bx, _, k, sign)) in t.iter_mut().zip(blobs) {
                    *t = sign * (-(x - bx) * (x - bx) * k).exp();
                }
                t
            }
        }
    }

    /// The pattern's factors for row centre `y`; see [`Background::column_terms`].
    fn row_terms(&self, y: f32) -> [f32; 4] {
        match &self.pattern {
            Pattern::Stripes { freq, phase } => {
                let (s, c) = (TAU * freq / self.side * y * self.sin + phase).sin_cos();
                [c, s, 0.0, 0.0]
            }
            Pattern::Gradient => {
                let h = 0.5 * self.side;
                [0.0, 0.0, 0.0, (y - h) * self.sin / h]
            }
            Pattern::Blobs(blobs) => {
                let mut t = [0.0; 4];
                for (t, &(_, by, k, _)) in t.iter_mut().zip(blobs) {
                    *t = (-(y - by) * (y - by) * k).exp();
                }
                t
            }
        }
    }

    /// The pattern at pixel centre (x, y), written directly; the tests check the separable form
    /// against it.
    #[cfg(test)]
    fn pattern_at(&self, x: f32, y: f32) -> f32 {
        match &self.pattern {
            Pattern::Stripes { freq, phase } => {
                (TAU * freq * (x * self.cos + y * self.sin) / self.side + phase).sin()
            }
            Pattern::Gradient => {
                let h = 0.5 * self.side;
                ((x - h) * self.cos + (y - h) * self.sin) / h
            }
            Pattern::Blobs(blobs) => blobs
                .iter()
                .map(|&(bx, by, k, sign)| {
                    sign * (-((x - bx) * (x - bx) + (y - by) * (y - by)) * k).exp()
                })
                .sum(),
        }
    }
}

/// A colour at least [`MIN_CONTRAST`] away from `bg`.
fn contrasting_colour(rng: &mut ChaCha8Rng, bg: [f32; 3]) -> [f32; 3] {
    // A uniform colour lands within MIN_CONTRAST of `bg` at most ~43% of the time, so 32
    // tries all fail with probability < 1e-11; the fallback only bounds the loop.
    for _ in 0..32 {
        let c: [f32; 3] = std::array::from_fn(|_| rng.random::<f32>() * 255.0);
        let d2: f32 = c.iter().zip(&bg).map(|(a, b)| (a - b) * (a - b)).sum();
        if d2 >= MIN_CONTRAST * MIN_CONTRAST {
            return c;
        }
    }
    // The opposite corner of the colour cube is at least 127.5·√3 ≈ 221 away.
    bg.map(|v| if v < 127.5 { 255.0 } else { 0.0 })
}

/// Bins of the normal quantile table: the top 12 bits of a `u32` pick the bin.
const NORMAL_BINS: usize = 1 << 12;

/// Φ⁻¹ at the bin edges `i / NORMAL_BINS`; the two infinite ends are never read.
fn normal_table() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=NORMAL_BINS)
            .map(|i| match i {
                0 | NORMAL_BINS => 0.0,
                i => inverse_normal_cdf(i as f64 / NORMAL_BINS as f64) as f32,
            })
            .collect()
    })
}

/// One standard normal sample by inverse transform of one `u32`: linear interpolation of Φ⁻¹
/// between the table's bin edges, and Φ⁻¹ itself in the two tail bins where it is unbounded.
/// About five times cheaper than Box-Muller's `ln`, `sqrt` and `sin_cos`, which dominated the
/// rendering time.
fn standard_normal(rng: &mut ChaCha8Rng, table: &[f32]) -> f32 {
    let w: u32 = rng.random();
    let bin = (w >> 20) as usize;
    if bin == 0 || bin == NORMAL_BINS - 1 {
        return inverse_normal_cdf((f64::from(w) + 0.5) / 4_294_967_296.0) as f32;
    }
    let frac = (w & 0xF_FFFF) as f32 * (1.0 / 1_048_576.0);
    table[bin] + frac * (table[bin + 1] - table[bin])
}

/// The standard normal quantile function Φ⁻¹(p) for p in (0, 1), by Acklam's rational
/// approximation (relative error below 1.2e-9).
fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Renders images of one dataset; holds only the settings that shape the pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Renderer {
    /// Image height and width in pixels.
    pub size: usize,
    /// The dataset's seed, from which every stream derives.
    pub seed: u64,
    /// Standard deviation of the pixel noise, 0..255 scale.
    pub noise: f32,
}

impl Renderer {
    /// Bytes of one image (C×H×W).
    pub fn image_bytes(&self) -> usize {
        CHANNELS * self.size * self.size
    }

    /// Renders images `start .. start + labels.len()` of `split` into `pixels` (N×C×H×W) and
    /// `labels`. `pixels` must hold exactly `labels.len()` images.
    pub fn render_range(&self, split: Split, start: u64, pixels: &mut [u8], labels: &mut [u32]) {
        debug_assert_eq!(pixels.len(), labels.len() * self.image_bytes());
        let mut block = None;
        let mut perm = [0u8; 10];
        // Per-read scratch, reused by every image: the background's column factors.
        let mut columns = Vec::with_capacity(self.size);
        for ((index, image), label) in (start..)
            .zip(pixels.chunks_exact_mut(self.image_bytes()))
            .zip(labels)
        {
            // Consecutive images share a label block; draw its permutation once.
            if block != Some(index / 10) {
                block = Some(index / 10);
                perm = block_labels(self.seed, split, index / 10);
            }
            let class = perm[(index % 10) as usize];
            *label = u32::from(class);
            self.render(
                split,
                index,
                SHAPES[usize::from(class)],
                image,
                &mut columns,
            );
        }
    }

    /// Renders one image of `shape` into `out` (C×H×W).
    fn render(
        &self,
        split: Split,
        index: u64,
        shape: Shape,
        out: &mut [u8],
        columns: &mut Vec<[f32; 4]>,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(self.seed, split, PIXELS, index));
        let size = self.size;
        let side = size as f32;
        let background = Background::sample(&mut rng, side);
        let fg = contrasting_colour(&mut rng, background.base);

        let r = 0.5 * side * rng.random_range(SCALE_RANGE);
        let (sin, cos) = rng.random_range(-MAX_JITTER..=MAX_JITTER).sin_cos();
        // Half a pixel more for the anti-aliased rim.
        let margin = r * shape.bounding_radius() + 0.5;
        let mut centre = || {
            if margin < side - margin {
                rng.random_range(margin..side - margin)
            } else {
                0.5 * side
            }
        };
        let (cx, cy) = (centre(), centre());
        // Pixels farther than this from the centre cannot touch the shape: skip its SDF.
        let reach2 = (margin + 1.0) * (margin + 1.0);
        let inv_r = 1.0 / r;

        columns.clear();
        columns.extend((0..size).map(|x| background.column_terms(x as f32 + 0.5)));
        let table = normal_table();
        let plane = size * size;
        for y in 0..size {
            let yc = y as f32 + 0.5;
            let py = yc - cy;
            let row = background.row_terms(yc);
            for (x, col) in columns.iter().enumerate() {
                let px = x as f32 + 0.5 - cx;
                let alpha = if px * px + py * py > reach2 {
                    0.0
                } else {
                    // Into the shape's frame: undo the jitter, scale to [-1, 1], flip y to point up.
                    let u = (px * cos + py * sin) * inv_r;
                    let v = (px * sin - py * cos) * inv_r;
                    // Coverage from the distance in pixels: a one-pixel linear ramp across the edge.
                    (0.5 - shape.sdf(u, v) * r).clamp(0.0, 1.0)
                };
                let t = col[0] * row[0] + col[1] * row[1] + col[2] * row[2] + col[3] + row[3];
                let at = y * size + x;
                for c in 0..CHANNELS {
                    let back = background.base[c] + t * background.tint[c];
                    let mut value = back + alpha * (fg[c] - back);
                    if self.noise > 0.0 {
                        value += self.noise * standard_normal(&mut rng, table);
                    }
                    // Clamped first, so +0.5 and truncation round to nearest; cheaper than
                    // `round()`, a libm call on baseline x86-64.
                    out[c * plane + at] = (value.clamp(0.0, 255.0) + 0.5) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_radius_bounds_every_shape() {
        for shape in SHAPES {
            let r = shape.bounding_radius();
            for k in 0..720 {
                let (s, c) = (k as f32 * TAU / 720.0).sin_cos();
                // Just outside the bound is outside the shape; at the origin side of it, some
                // shape point must be close (the bound is tight to within a few percent).
                assert!(
                    shape.sdf(c * (r + 1e-3), s * (r + 1e-3)) > 0.0,
                    "{shape:?} pokes out at {k}"
                );
            }
            let tight = (0..720).any(|k| {
                let (s, c) = (k as f32 * TAU / 720.0).sin_cos();
                shape.sdf(c * r * 0.99, s * r * 0.99) <= 0.0
            });
            assert!(tight, "{shape:?}: bound {r} is loose");
        }
    }

    #[test]
    fn shapes_have_their_orientation() {
        // Far corners are outside every shape, and the orientation-defined pairs differ.
        for shape in SHAPES {
            assert!(shape.sdf(0.99, 0.99) > 0.0, "{shape:?}");
        }
        for shape in [
            Shape::Circle,
            Shape::Square,
            Shape::Plus,
            Shape::TriangleUp,
            Shape::TriangleDown,
        ] {
            assert!(shape.sdf(0.0, 0.0) < 0.0, "{shape:?}");
        }
        assert!(Shape::TriangleUp.sdf(0.0, 0.9) < 0.0 && Shape::TriangleUp.sdf(0.0, -0.9) > 0.0);
        assert!(
            Shape::TriangleDown.sdf(0.0, -0.9) < 0.0 && Shape::TriangleDown.sdf(0.0, 0.9) > 0.0
        );
        assert!(
            Shape::HorizontalBar.sdf(0.9, 0.0) < 0.0 && Shape::HorizontalBar.sdf(0.0, 0.9) > 0.0
        );
        assert!(Shape::VerticalBar.sdf(0.0, 0.9) < 0.0 && Shape::VerticalBar.sdf(0.9, 0.0) > 0.0);
        assert!(Shape::ArrowRight.sdf(0.9, 0.0) < 0.0 && Shape::ArrowRight.sdf(0.15, 0.5) < 0.0);
        assert!(Shape::ArrowRight.sdf(-0.9, 0.5) > 0.0);
        assert!(Shape::Ell.sdf(-0.5, 0.8) < 0.0 && Shape::Ell.sdf(0.6, -0.7) < 0.0);
        assert!(Shape::Ell.sdf(0.6, 0.7) > 0.0);
        assert!(Shape::Ring.sdf(0.0, 0.0) > 0.0 && Shape::Ring.sdf(0.72, 0.0) < 0.0);
    }

    #[test]
    fn triangle_distance_is_exact_at_known_points() {
        let d = sd_triangle(0.0, -1.75, TRIANGLE);
        assert!((d - 1.0).abs() < 1e-5, "{d}");
        let d = sd_triangle(0.0, -0.25, TRIANGLE);
        assert!((d + 0.5).abs() < 1e-5, "{d}");
    }

    #[test]
    fn labels_are_balanced_per_block() {
        for block in 0..50 {
            let mut seen = block_labels(7, Split::Train, block);
            seen.sort_unstable();
            assert_eq!(seen, std::array::from_fn::<u8, 10, _>(|i| i as u8));
        }
        assert_ne!(
            block_labels(7, Split::Train, 3),
            block_labels(7, Split::Test, 3)
        );
    }

    #[test]
    fn normal_samples_are_standard() {
        let table = normal_table();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 1_000_000;
        let xs: Vec<f64> = (0..n)
            .map(|_| f64::from(standard_normal(&mut rng, table)))
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let beyond2 = xs.iter().filter(|x| x.abs() > 2.0).count() as f64 / n as f64;
        assert!(
            mean.abs() < 0.005 && (var - 1.0).abs() < 0.01,
            "mean {mean} var {var}"
        );
        // P(|Z| > 2) = 0.0455.
        assert!((beyond2 - 0.0455).abs() < 0.002, "{beyond2}");
        assert!(
            xs.iter().any(|&x| x < -4.0) && xs.iter().any(|&x| x > 4.0),
            "tails are missing"
        );
    }

    #[test]
    fn quantile_function_matches_known_values() {
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_985),
            (0.001, -3.090_232_306),
            (1e-9, -5.997_807_015),
        ] {
            let got = inverse_normal_cdf(p);
            assert!(
                (got - z).abs() < 1e-6 * z.abs().max(1.0),
                "Φ⁻¹({p}) = {got}, want {z}"
            );
        }
    }

    #[test]
    fn separable_background_matches_the_direct_formula() {
        for seed in 0..30 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let bg = Background::sample(&mut rng, 40.0);
            for (x, y) in [(0.5, 0.5), (13.5, 27.5), (39.5, 2.5), (20.5, 20.5)] {
                let (col, row) = (bg.column_terms(x), bg.row_terms(y));
                let t = col[0] * row[0] + col[1] * row[1] + col[2] * row[2] + col[3] + row[3];
                assert!(
                    (t - bg.pattern_at(x, y)).abs() < 1e-4,
                    "seed {seed} at ({x}, {y})"
                );
            }
        }
    }
}
