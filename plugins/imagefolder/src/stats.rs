//! Per-channel mean and standard deviation of u8 images.

/// The smallest standard deviation reported: a channel that is constant over the whole
/// training set would otherwise make the host divide by zero.
pub const MIN_STD: f64 = 1e-6;

/// Per-channel mean and population standard deviation on the 0..1 scale of `pixels`, a run of
/// N×`channels`×`plane` u8 images. Sums are kept in integers, so the result is exact up to the
/// final division and square root (in f64); the standard deviation is at least [`MIN_STD`].
pub fn channel_stats(pixels: &[u8], channels: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut sum, mut sum2) = (vec![0u64; channels], vec![0u64; channels]);
    if channels > 0 && plane > 0 {
        for image in pixels.chunks_exact(channels * plane) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                let (s, s2) = channel.iter().fold((0u64, 0u64), |(s, s2), &p| {
                    let p = u64::from(p);
                    (s + p, s2 + p * p)
                });
                sum[c] += s;
                sum2[c] += s2;
            }
        }
    }
    let n = (pixels.len() / channels.max(1)) as u128;
    let mut mean = Vec::with_capacity(channels);
    let mut std = Vec::with_capacity(channels);
    for (&s, &s2) in sum.iter().zip(&sum2) {
        if n == 0 {
            mean.push(0.0);
            std.push(MIN_STD as f32);
            continue;
        }
        let (s, s2) = (u128::from(s), u128::from(s2));
        // n²·variance = n·Σp² − (Σp)², exact in integers (no cancellation), and never negative
        // by Cauchy–Schwarz.
        let n2_var = n * s2 - s * s;
        let scale = n as f64 * 255.0;
        mean.push((s as f64 / scale) as f32);
        std.push(((n2_var as f64).sqrt() / scale).max(MIN_STD) as f32);
    }
    (mean, std)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Two 1×2 RGB images: R = {0, 255, 255, 0}, G = 51 everywhere, B = {0, 0, 0, 255}.
        let pixels = [0, 255, 51, 51, 0, 0, /**/ 255, 0, 51, 51, 0, 255];
        let (mean, std) = channel_stats(&pixels, 3, 2);
        assert_eq!(mean, [0.5, 0.2, 0.25]);
        assert_eq!(std[0], 0.5);
        assert_eq!(std[1], MIN_STD as f32);
        // B: mean 1/4, E[x²] = 1/4, var = 3/16.
        assert_eq!(std[2], (3.0f64 / 16.0).sqrt() as f32);
    }

    #[test]
    fn matches_a_two_pass_computation() {
        let pixels: Vec<u8> = (0..5 * 2 * 49)
            .map(|i| ((i * 37 + i / 7) % 256) as u8)
            .collect();
        let (mean, std) = channel_stats(&pixels, 2, 49);
        for c in 0..2 {
            let values: Vec<f64> = pixels
                .chunks_exact(98)
                .flat_map(|img| img[c * 49..(c + 1) * 49].iter().map(|&p| p as f64 / 255.0))
                .collect();
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let v = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / values.len() as f64;
            assert!((f64::from(mean[c]) - m).abs() < 1e-7);
            assert!((f64::from(std[c]) - v.sqrt()).abs() < 1e-7);
        }
    }
}
