//! Bilinear resizing of u8 planes with half-pixel centres, as OpenCV's `INTER_LINEAR` and
//! torchvision's bilinear without antialiasing: output pixel `d` samples the source at
//! `(d + 0.5) · src / dst − 0.5`, clamped to the first and last source pixel.

/// One output coordinate's taps: the two source indices and the weight of the second.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tap {
    lo: usize,
    hi: usize,
    frac: f64,
}

/// The taps of every output coordinate along one axis of `src` → `dst` pixels (both ≥ 1).
fn taps(src: usize, dst: usize) -> Vec<Tap> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            // Left of the first pixel centre the sample is the first pixel (OpenCV, torch).
            let s = ((d as f64 + 0.5) * scale - 0.5).max(0.0);
            let lo = (s.floor() as usize).min(src - 1);
            if lo + 1 >= src {
                // Right of the last pixel centre: the last pixel, exactly.
                Tap {
                    lo,
                    hi: lo,
                    frac: 0.0,
                }
            } else {
                Tap {
                    lo,
                    hi: lo + 1,
                    frac: s - lo as f64,
                }
            }
        })
        .collect()
}

/// Resizes `rows`×`cols` planes to `out_rows`×`out_cols`; the taps are computed once and
/// reused for every plane.
#[derive(Debug, Clone)]
pub struct Resizer {
    cols: usize,
    rows_taps: Vec<Tap>,
    cols_taps: Vec<Tap>,
}

impl Resizer {
    /// A resizer from `rows`×`cols` to `out_rows`×`out_cols` (all at least 1).
    pub fn new(rows: usize, cols: usize, out_rows: usize, out_cols: usize) -> Self {
        Self {
            cols,
            rows_taps: taps(rows, out_rows),
            cols_taps: taps(cols, out_cols),
        }
    }

    /// Bytes of one output plane.
    pub fn out_len(&self) -> usize {
        self.rows_taps.len() * self.cols_taps.len()
    }

    /// Resizes the plane `src` (rows×cols, row-major) into `dst` (out_rows×out_cols), rounding
    /// to the nearest value (halves up).
    pub fn apply(&self, src: &[u8], dst: &mut [u8]) {
        debug_assert_eq!(dst.len(), self.out_len());
        let out_cols = self.cols_taps.len();
        // Separable: every source row is resampled horizontally once, unrounded, then the rows
        // are blended; the same arithmetic as the direct 2-D formula (bit for bit), with fewer operations.
        let mut across = vec![0f64; src.len() / self.cols * out_cols];
        for (row, out) in src
            .chunks_exact(self.cols)
            .zip(across.chunks_exact_mut(out_cols))
        {
            for (o, t) in out.iter_mut().zip(&self.cols_taps) {
                let lo = f64::from(row[t.lo]);
                *o = lo + t.frac * (f64::from(row[t.hi]) - lo);
            }
        }
        for (row, t) in dst.chunks_exact_mut(out_cols).zip(&self.rows_taps) {
            let top = &across[t.lo * out_cols..(t.lo + 1) * out_cols];
            let bottom = &across[t.hi * out_cols..(t.hi + 1) * out_cols];
            for ((out, &a), &b) in row.iter_mut().zip(top).zip(bottom) {
                let value = a + t.frac * (b - a);
                // Clamped first, so +0.5 and truncation round to nearest.
                *out = (value.clamp(0.0, 255.0) + 0.5) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(src: &[u8], rows: usize, cols: usize, out_rows: usize, out_cols: usize) -> Vec<u8> {
        let r = Resizer::new(rows, cols, out_rows, out_cols);
        let mut out = vec![0; r.out_len()];
        r.apply(src, &mut out);
        out
    }

    #[test]
    fn upsamples_2x2_to_4x4_exactly() {
        // Scale 1/2: output coordinates 0..4 sample the source at -0.25 (clamped to 0), 0.25,
        // 0.75 and 1.25 (clamped to 1), so each axis weighs (lo, hi) by (1, 0), (3/4, 1/4),
        // (1/4, 3/4), (0, 1). Source rows [10, 2] and [200, 40]:
        //   top row    10, 8, 4, 2
        //   bottom row 200, 160, 80, 40
        //   row 1 = 3/4 top + 1/4 bottom: 57.5, 46, 23, 11.5 → 58, 46, 23, 12 (halves up)
        //   row 2 = 1/4 top + 3/4 bottom: 152.5, 122, 61, 30.5 → 153, 122, 61, 31
        let out = resize(&[10, 2, 200, 40], 2, 2, 4, 4);
        #[rustfmt::skip]
        let want = [
            10, 8, 4, 2,
            58, 46, 23, 12,
            153, 122, 61, 31,
            200, 160, 80, 40,
        ];
        assert_eq!(out, want);
    }

    #[test]
    fn downsampling_by_two_averages_blocks() {
        // Scale 2: output pixel d samples at 2d + 0.5, halfway between two source pixels.
        #[rustfmt::skip]
        let src = [
            0, 10, 100, 101,
            20, 31, 0, 0,
            255, 255, 7, 8,
            255, 254, 9, 10,
        ];
        // Means 15.25, 50.25, 254.75, 8.5 → 15, 50, 255, 9.
        assert_eq!(resize(&src, 4, 4, 2, 2), [15, 50, 255, 9]);
    }

    #[test]
    fn same_size_is_the_identity_and_rectangles_work() {
        let src: Vec<u8> = (0..=255).collect();
        assert_eq!(resize(&src, 16, 16, 16, 16), src);
        // 1×2 → 3×3: rows all sample the single source row; columns at -1/6 (clamped), 1/2,
        // 7/6 (clamped): 0, 50, 100.
        assert_eq!(
            resize(&[0, 100], 1, 2, 3, 3),
            [0, 50, 100, 0, 50, 100, 0, 50, 100]
        );
    }

    /// The direct 2-D formula, per output pixel, with the sample positions written out.
    fn reference(
        src: &[u8],
        rows: usize,
        cols: usize,
        out_rows: usize,
        out_cols: usize,
    ) -> Vec<u8> {
        let sample = |d: usize, n: usize, m: usize| {
            let s = ((d as f64 + 0.5) * n as f64 / m as f64 - 0.5).clamp(0.0, (n - 1) as f64);
            let lo = s.floor() as usize;
            (lo, (lo + 1).min(n - 1), s - lo as f64)
        };
        let mut out = Vec::new();
        for y in 0..out_rows {
            let (y0, y1, fy) = sample(y, rows, out_rows);
            for x in 0..out_cols {
                let (x0, x1, fx) = sample(x, cols, out_cols);
                let p = |r: usize, c: usize| f64::from(src[r * cols + c]);
                let v = (1.0 - fy) * ((1.0 - fx) * p(y0, x0) + fx * p(y0, x1))
                    + fy * ((1.0 - fx) * p(y1, x0) + fx * p(y1, x1));
                out.push(v.round() as u8);
            }
        }
        out
    }

    #[test]
    fn matches_the_direct_formula() {
        for (rows, cols, out_rows, out_cols) in [(28, 28, 32, 32), (28, 28, 8, 8), (5, 7, 13, 3)] {
            let src: Vec<u8> = (0..rows * cols)
                .map(|i| ((i * 97 + i * i) % 256) as u8)
                .collect();
            let got = resize(&src, rows, cols, out_rows, out_cols);
            let want = reference(&src, rows, cols, out_rows, out_cols);
            // Only exact halves could round apart under different float evaluation orders.
            let off = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert!(off * 100 <= got.len(), "{off} of {} differ", got.len());
            assert!(got.iter().zip(&want).all(|(&a, &b)| a.abs_diff(b) <= 1));
        }
    }

    #[test]
    fn constant_planes_stay_constant() {
        for (size, out) in [(28, 8), (28, 32), (28, 256), (7, 13)] {
            let plane = vec![173u8; size * size];
            assert!(resize(&plane, size, size, out, out)
                .iter()
                .all(|&v| v == 173));
        }
    }
}
