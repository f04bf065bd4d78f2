//! # fuzzaug-shapes: the procedural `shapes` dataset
//!
//! fuzzaug's embedded default dataset, which needs no download: ten classes of one foreground
//! shape on a textured background, 3 channels, `size`×`size` u8 pixels. The classes are defined
//! partly by orientation and layout (triangle up vs down, horizontal vs vertical bar, arrow
//! pointing right, an "L"), so rotation robustness matters; shapes carry only ±10° of jitter.
//!
//! Every image is rendered from its own random stream seeded by (seed, split, index), so reads
//! are deterministic and independent of how the host chunks them, and train and test never
//! share a stream.
//!
//! Settings:
//!
//! | key          | type    | default | meaning                                              |
//! |--------------|---------|---------|------------------------------------------------------|
//! | `train_size` | integer | 5000    | training images (≥ 1)                                |
//! | `test_size`  | integer | 1000    | test images (≥ 1)                                    |
//! | `size`       | integer | 32      | image height and width, 16..=256                     |
//! | `seed`       | integer | -1      | seed of the images; -1 = the run's seed              |
//! | `noise`      | float   | 8.0     | std-dev of Gaussian pixel noise, 0..255 scale, 0..=64 |

mod render;

use fuzzaug_sdk::{
    dataset::{self, ChannelStats},
    Chunk, Component, ComponentContext, Dataset, DatasetInfo, Param, ParamType, PluginError,
    Settings, Split,
};
pub use render::{label_of, Renderer, CHANNELS, CLASSES};

/// Allowed image sides, in pixels: below 16 the shapes lose their outlines, above 256 the
/// dataset stops being cheap.
pub const SIZE_RANGE: std::ops::RangeInclusive<i64> = 16..=256;
/// Allowed noise standard deviations, 0..255 scale.
pub const NOISE_RANGE: std::ops::RangeInclusive<f64> = 0.0..=64.0;
/// How many leading training images the normalisation statistics are measured on.
pub const STATS_IMAGES: u64 = 500;

/// The settings keys of the `shapes` component.
pub fn params() -> Vec<Param> {
    vec![
        Param::optional(
            "train_size",
            ParamType::Integer,
            "5000",
            "number of training images (at least 1)",
        ),
        Param::optional(
            "test_size",
            ParamType::Integer,
            "1000",
            "number of test images (at least 1)",
        ),
        Param::optional(
            "size",
            ParamType::Integer,
            "32",
            "image height and width in pixels (16 to 256)",
        ),
        Param::optional(
            "seed",
            ParamType::Integer,
            "-1",
            "seed of the images; -1 = the run's seed",
        ),
        Param::optional(
            "noise",
            ParamType::Float,
            "8.0",
            "std-dev of Gaussian pixel noise on the 0..255 scale (0 to 64)",
        ),
    ]
}

/// The validated settings of a `shapes` dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapesConfig {
    /// Number of training images.
    pub train_size: u64,
    /// Number of test images.
    pub test_size: u64,
    /// Image height and width in pixels.
    pub size: u32,
    /// The seed every image derives from.
    pub seed: u64,
    /// Standard deviation of the pixel noise, 0..255 scale.
    pub noise: f32,
}

impl ShapesConfig {
    /// Reads and validates the settings; `ctx.seed` stands in for `seed = -1`.
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let split_size = |key: &str| -> Result<u64, PluginError> {
            let n: i64 = settings.value(key)?;
            u64::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
                PluginError::config(key, format!("`{key}` must be at least 1, got {n}"))
            })
        };
        let train_size = split_size("train_size")?;
        let test_size = split_size("test_size")?;

        let size: u32 = settings.integer_in("size", SIZE_RANGE)?;

        let seed: i64 = settings.value("seed")?;
        let seed = match seed {
            -1 => ctx.seed,
            s => u64::try_from(s).map_err(|_| {
                PluginError::config(
                    "seed",
                    format!(
                        "`seed` must be -1 (the run's seed) or a non-negative integer, got {s}"
                    ),
                )
            })?,
        };

        let noise: f64 = settings.value("noise")?;
        // `contains` is false for NaN too.
        if !NOISE_RANGE.contains(&noise) {
            return Err(PluginError::config(
                "noise",
                format!(
                    "`noise` must be between {} and {}, got {noise}",
                    NOISE_RANGE.start(),
                    NOISE_RANGE.end()
                ),
            ));
        }
        Ok(Self {
            train_size,
            test_size,
            size,
            seed,
            noise: noise as f32,
        })
    }
}

/// The `shapes` dataset: renders images on demand; holds only its settings and statistics.
#[derive(Debug, Clone)]
pub struct Shapes {
    config: ShapesConfig,
    renderer: Renderer,
    mean: [f32; CHANNELS],
    std: [f32; CHANNELS],
}

impl Shapes {
    /// Builds the dataset and measures its per-channel mean and standard deviation on the first
    /// `min(train_size, 500)` training images, so `info()` reports true statistics of the data.
    pub fn new(config: ShapesConfig) -> Self {
        let renderer = Renderer {
            size: config.size as usize,
            seed: config.seed,
            noise: config.noise,
        };
        let (mean, std) = channel_stats(&renderer, config.train_size.min(STATS_IMAGES));
        Self {
            config,
            renderer,
            mean,
            std,
        }
    }

    /// [`Shapes::new`] from the component's settings.
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        ShapesConfig::from_settings(settings, ctx).map(Self::new)
    }

    /// The validated settings.
    pub fn config(&self) -> &ShapesConfig {
        &self.config
    }

    fn len(&self, split: Split) -> u64 {
        match split {
            Split::Train => self.config.train_size,
            Split::Test => self.config.test_size,
        }
    }
}

/// Per-channel mean and standard deviation (0..1 scale) of training images `0..n`.
fn channel_stats(renderer: &Renderer, n: u64) -> ([f32; CHANNELS], [f32; CHANNELS]) {
    // A few images at a time keeps memory small even at size 256.
    const BATCH: u64 = 16;
    let mut stats = ChannelStats::new(CHANNELS, renderer.size * renderer.size);
    let mut pixels = vec![0u8; BATCH as usize * renderer.image_bytes()];
    let mut labels = vec![0u32; BATCH as usize];
    let mut start = 0;
    while start < n {
        let count = (n - start).min(BATCH) as usize;
        let (pixels, labels) = (
            &mut pixels[..count * renderer.image_bytes()],
            &mut labels[..count],
        );
        renderer.render_range(Split::Train, start, pixels, labels);
        stats.add(pixels);
        start += count as u64;
    }
    let (mean, std) = stats.mean_std();
    let channels = |v: Vec<f32>| std::array::from_fn(|c| v.get(c).copied().unwrap_or_default());
    (channels(mean), channels(std))
}

impl Dataset for Shapes {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: dataset::classes(CLASSES),
            channels: CHANNELS as u32,
            height: self.config.size,
            width: self.config.size,
            mean: self.mean.to_vec().into(),
            std: self.std.to_vec().into(),
            train_len: self.config.train_size,
            test_len: self.config.test_size,
            // The classes are orientations: a mirror turns one into another.
            mirror_preserves_labels: false,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        dataset::read_range(split, start, count, self.len(split))?;
        let name = split.as_str();
        let too_big = || {
            PluginError::new(format!(
                "a read of {count} {name} images does not fit in memory"
            ))
        };
        let n = usize::try_from(count).map_err(|_| too_big())?;
        let bytes = n
            .checked_mul(self.renderer.image_bytes())
            .ok_or_else(too_big)?;
        let mut pixels = vec![0u8; bytes];
        let mut labels = vec![0u32; n];
        self.renderer
            .render_range(split, start, &mut pixels, &mut labels);
        Ok(Chunk {
            pixels: pixels.into(),
            labels: labels.into(),
        })
    }
}

/// The components of this library: the `shapes` dataset.
pub fn components() -> Vec<Component> {
    vec![Component::dataset(
        "shapes",
        "procedural shapes: 10 orientation-sensitive classes on textured backgrounds, no download",
        params(),
        Shapes::from_settings,
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing;
    use std::time::Instant;

    fn build(settings: &str, seed: u64) -> Result<Shapes, PluginError> {
        Shapes::from_settings(
            &Settings::parse(settings, &params())?,
            &testing::context(seed, "."),
        )
    }

    fn small(settings: &str, seed: u64) -> Shapes {
        build(
            &format!("train_size = 200\ntest_size = 100\n{settings}"),
            seed,
        )
        .unwrap()
    }

    #[test]
    fn defaults() {
        let d = build("", 3).unwrap();
        let c = *d.config();
        assert_eq!(
            c,
            ShapesConfig {
                train_size: 5000,
                test_size: 1000,
                size: 32,
                seed: 3,
                noise: 8.0
            }
        );
        let info = d.info().unwrap();
        assert_eq!(info.classes.len(), 10);
        assert_eq!(info.classes[0].as_str(), "circle");
        assert_eq!(info.classes[2].as_str(), "triangle-up");
        assert_eq!((info.channels, info.height, info.width), (3, 32, 32));
        assert_eq!((info.train_len, info.test_len), (5000, 1000));
        assert_eq!((info.mean.len(), info.std.len()), (3, 3));
        for (&m, &s) in info.mean.iter().zip(info.std.iter()) {
            assert!(m > 0.2 && m < 0.8 && s > 0.1 && s < 0.5, "mean {m} std {s}");
        }
    }

    #[test]
    fn explicit_seed_overrides_the_run_seed() {
        let a = small("seed = 11", 1).read(Split::Train, 0, 5).unwrap();
        let b = small("seed = 11", 2).read(Split::Train, 0, 5).unwrap();
        let c = small("", 11).read(Split::Train, 0, 5).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        // An integer noise is accepted for a float key.
        assert_eq!(small("noise = 0", 1).config().noise, 0.0);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let mut a = small("", 42);
        let mut b = small("", 42);
        assert_eq!(a.info().unwrap(), b.info().unwrap());
        for split in [Split::Train, Split::Test] {
            assert_eq!(
                a.read(split, 0, 100).unwrap(),
                b.read(split, 0, 100).unwrap()
            );
        }
    }

    #[test]
    fn seeds_and_splits_differ() {
        let a = small("", 1).read(Split::Train, 0, 50).unwrap();
        let b = small("", 2).read(Split::Train, 0, 50).unwrap();
        let t = small("", 1).read(Split::Test, 0, 50).unwrap();
        assert_ne!(a.pixels, b.pixels);
        assert_ne!(a.labels, b.labels);
        assert_ne!(a.pixels, t.pixels);
        // Not merely shifted: pixel-wise, most bytes differ.
        let same = a
            .pixels
            .iter()
            .zip(b.pixels.iter())
            .filter(|(x, y)| x == y)
            .count();
        assert!(
            same < a.pixels.len() / 10,
            "{same} of {} bytes equal",
            a.pixels.len()
        );
    }

    #[test]
    fn chunked_reads_equal_one_read() {
        let mut d = small("size = 20", 9);
        for split in [Split::Train, Split::Test] {
            let len = d.len(split);
            let whole = d.read(split, 0, len).unwrap();
            let mut pixels = Vec::new();
            let mut labels = Vec::new();
            // Uneven chunks that straddle the ten-image label blocks, and an empty one.
            let mut start = 0;
            for count in [7, 0, 13, 1, 29].into_iter().cycle() {
                let count = count.min(len - start);
                let chunk = d.read(split, start, count).unwrap();
                assert_eq!(chunk.labels.len() as u64, count);
                assert_eq!(chunk.pixels.len() as u64, count * 3 * 20 * 20);
                pixels.extend_from_slice(&chunk.pixels);
                labels.extend_from_slice(&chunk.labels);
                start += count;
                if start == len {
                    break;
                }
            }
            assert_eq!(pixels.as_slice(), whole.pixels.as_slice());
            assert_eq!(labels.as_slice(), whole.labels.as_slice());
            // Reading backwards from the middle changes nothing either.
            let tail = d.read(split, len - 31, 31).unwrap();
            assert_eq!(tail.labels.as_slice(), &whole.labels[(len - 31) as usize..]);
            assert_eq!(
                tail.pixels.as_slice(),
                &whole.pixels[(len - 31) as usize * 1200..]
            );
            assert_eq!(labels[17], label_of(9, split, 17));
        }
    }

    #[test]
    fn labels_in_range_and_balanced() {
        let mut d = build("test_size = 1000\ntrain_size = 1", 5).unwrap();
        let chunk = d.read(Split::Test, 0, 1000).unwrap();
        assert_eq!(chunk.labels.len(), 1000);
        assert_eq!(chunk.pixels.len(), 1000 * 3 * 32 * 32);
        let mut counts = [0usize; 10];
        for &l in chunk.labels.iter() {
            assert!(l < 10);
            counts[l as usize] += 1;
        }
        assert_eq!(counts, [100; 10]);
        // Shuffled, not cyclic.
        assert!(chunk.labels.windows(2).any(|w| w[1] != (w[0] + 1) % 10));
    }

    #[test]
    fn value_errors_name_their_key() {
        let cases = [
            (
                "size = 8",
                "size",
                "`size` must be between 16 and 256, got 8",
            ),
            (
                "size = 300",
                "size",
                "`size` must be between 16 and 256, got 300",
            ),
            (
                "train_size = 0",
                "train_size",
                "`train_size` must be at least 1, got 0",
            ),
            (
                "test_size = -4",
                "test_size",
                "`test_size` must be at least 1, got -4",
            ),
            (
                "noise = -1",
                "noise",
                "`noise` must be between 0 and 64, got -1",
            ),
            (
                "noise = 65.5",
                "noise",
                "`noise` must be between 0 and 64, got 65.5",
            ),
            (
                "noise = nan",
                "noise",
                "`noise` must be between 0 and 64, got NaN",
            ),
            (
                "seed = -2",
                "seed",
                "`seed` must be -1 (the run's seed) or a non-negative integer, got -2",
            ),
        ];
        for (text, key, message) in cases {
            let e = build(text, 0).unwrap_err();
            assert_eq!(
                (e.key.as_str(), e.message.as_str()),
                (key, message),
                "{text}"
            );
            assert!(!e.panicked);
        }
        // Types and unknown keys are the SDK's job, before our constructor runs.
        let e = build("size = 32.0", 0).unwrap_err();
        assert_eq!(e.key.as_str(), "size");
        let e = build("sise = 32", 0).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "unknown key `sise`; did you mean `size`?"
        );
    }

    #[test]
    fn meets_the_dataset_contract() {
        let info = testing::check_dataset(&mut small("size = 16", 0)).unwrap();
        assert_eq!((info.train_len, info.test_len), (200, 100));
    }

    #[test]
    fn images_are_not_constant_and_use_the_range() {
        let mut d = small("", 4);
        let chunk = d.read(Split::Train, 0, 100).unwrap();
        for image in chunk.pixels.chunks_exact(3 * 32 * 32) {
            let (lo, hi) = image
                .iter()
                .fold((255u8, 0u8), |(lo, hi), &p| (lo.min(p), hi.max(p)));
            // The shape contrasts with the background by at least 120 in RGB distance.
            assert!(hi - lo > 60, "range {lo}..{hi}");
        }
        let (lo, hi) = chunk
            .pixels
            .iter()
            .fold((255u8, 0u8), |(lo, hi), &p| (lo.min(p), hi.max(p)));
        assert_eq!((lo, hi), (0, 255));
    }

    #[test]
    fn noise_adds_its_spread() {
        // Same seed, same geometry and colours: only the noise differs.
        let clean = small("noise = 0", 8).read(Split::Train, 0, 20).unwrap();
        let noisy = small("noise = 16", 8).read(Split::Train, 0, 20).unwrap();
        let n = clean.pixels.len() as f64;
        let var = clean
            .pixels
            .iter()
            .zip(noisy.pixels.iter())
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum::<f64>()
            / n;
        // Clamping at 0 and 255 trims the spread a little below 16.
        assert!(
            var.sqrt() > 12.0 && var.sqrt() < 16.5,
            "noise std {}",
            var.sqrt()
        );
        assert_eq!(clean.labels, noisy.labels);
    }

    /// Mean over images of class `class` of (Σ|∂y| − Σ|∂x|) / (Σ|∂y| + Σ|∂x|) on the grey image:
    /// positive when the edges run mostly horizontally.
    fn edge_anisotropy(chunk: &Chunk, size: usize, class: u32) -> f64 {
        let plane = size * size;
        let mut total = 0.0;
        let mut n = 0;
        for (image, _) in chunk
            .pixels
            .chunks_exact(3 * plane)
            .zip(chunk.labels.iter())
            .filter(|(_, &l)| l == class)
        {
            let grey = |x: usize, y: usize| {
                (0..3)
                    .map(|c| f64::from(image[c * plane + y * size + x]))
                    .sum::<f64>()
            };
            let (mut gx, mut gy) = (0.0, 0.0);
            for y in 0..size - 1 {
                for x in 0..size - 1 {
                    gx += (grey(x + 1, y) - grey(x, y)).abs();
                    gy += (grey(x, y + 1) - grey(x, y)).abs();
                }
            }
            total += (gy - gx) / (gy + gx);
            n += 1;
        }
        total / n as f64
    }

    #[test]
    fn orientation_tells_bars_apart() {
        let mut d = build("train_size = 2000\nnoise = 0", 13).unwrap();
        let chunk = d.read(Split::Train, 0, 2000).unwrap();
        let horizontal = edge_anisotropy(&chunk, 32, 4);
        let vertical = edge_anisotropy(&chunk, 32, 5);
        let circle = edge_anisotropy(&chunk, 32, 0);
        eprintln!("edge anisotropy: horizontal bar {horizontal:.3}, vertical bar {vertical:.3}, circle {circle:.3}");
        assert!(
            horizontal > 0.05 && vertical < -0.05,
            "horizontal {horizontal} vertical {vertical}"
        );
        assert!(circle.abs() < 0.05, "circle {circle}");

        // The mean foreground masks differ too: measured as each pixel's distance from the
        // image's corner colour, which is background by construction of the margins.
        let mask_mean = |class: u32| {
            let mut acc = vec![0f64; 32 * 32];
            for (image, _) in chunk
                .pixels
                .chunks_exact(3 * 1024)
                .zip(chunk.labels.iter())
                .filter(|(_, &l)| l == class)
            {
                for (i, a) in acc.iter_mut().enumerate() {
                    *a += (0..3)
                        .map(|c| {
                            (f64::from(image[c * 1024 + i]) - f64::from(image[c * 1024])).abs()
                        })
                        .sum::<f64>();
                }
            }
            acc
        };
        let (h, v) = (mask_mean(4), mask_mean(5));
        let diff: f64 =
            h.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum::<f64>() / h.iter().sum::<f64>();
        eprintln!("mean foreground masks of the bars differ by {diff:.3}");
        assert!(diff > 0.05, "mean masks differ by {diff}");
    }

    #[test]
    fn statistics_are_true() {
        let mut d = build("train_size = 300", 21).unwrap();
        let info = d.info().unwrap();
        let chunk = d.read(Split::Train, 0, 300).unwrap();
        for c in 0..3 {
            let values: Vec<f64> = chunk
                .pixels
                .chunks_exact(3 * 1024)
                .flat_map(|image| {
                    image[c * 1024..(c + 1) * 1024]
                        .iter()
                        .map(|&p| f64::from(p) / 255.0)
                })
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            assert!((f64::from(info.mean[c]) - mean).abs() < 1e-5, "mean {c}");
            assert!(
                (f64::from(info.std[c]) - var.sqrt()).abs() < 1e-5,
                "std {c}"
            );
        }
    }

    #[test]
    fn large_and_small_sizes_render() {
        for size in [16u32, 256] {
            let mut d = build(
                &format!("size = {size}\ntrain_size = 10\ntest_size = 10"),
                2,
            )
            .unwrap();
            let chunk = d.read(Split::Test, 0, 10).unwrap();
            assert_eq!(chunk.pixels.len(), 10 * 3 * (size * size) as usize);
        }
    }

    #[test]
    fn registers_one_dataset() {
        let list = components();
        assert_eq!(list.len(), 1);
        let info = list[0].info();
        assert_eq!(info.name.as_str(), "shapes");
        let names: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["train_size", "test_size", "size", "seed", "noise"]);
    }

    #[test]
    fn generation_speed() {
        let mut d = small("", 0);
        d.config.train_size = 5000;
        let t = Instant::now();
        let chunk = d.read(Split::Train, 0, 5000).unwrap();
        let elapsed = t.elapsed();
        assert_eq!(chunk.labels.len(), 5000);
        eprintln!(
            "generated 5000 32x32 images in {:.1} ms",
            elapsed.as_secs_f64() * 1e3
        );
        // Only meaningful with optimisations; generous so a loaded machine does not flake.
        #[cfg(not(debug_assertions))]
        assert!(elapsed.as_secs_f64() < 3.0, "{elapsed:?}");
    }
}
