//! `{{name}}`: a fuzzaug dataset.
//!
//! As generated it is procedural, so it needs no files: two classes, `horizontal` and
//! `vertical` stripes, in 3-channel `size`×`size` images. A dataset reports its geometry,
//! classes and normalisation in `info`, and serves consecutive images of a split as u8 pixels
//! (N×C×H×W) and labels in `read`; the host reads it in chunks once, at the start of a run.
//! For a dataset on disk, declare a `path` setting, read it with `settings.path("path", ctx)?`
//! (relative paths resolve against the config's folder), read the files in the constructor and
//! keep the images in `Splits`, or stream them from `read` (checking each read with
//! `dataset::read_range`). `dataset::limit_params()`, `settings.limit(..)` and
//! `dataset::limited(..)` add the usual `train_limit` and `test_limit`.
use fuzzaug_sdk::{dataset, prelude::*};

/// Channels of every image.
const CHANNELS: usize = 3;

/// The dataset, held in memory.
pub struct {{type}} {
    size: u32,
    splits: Splits,
    /// Per-channel mean and standard deviation of the training images, 0..1 scale.
    stats: (Vec<f32>, Vec<f32>),
}

impl {{type}} {
    /// `train` and `test` images of `size`×`size` pixels.
    pub fn new(train: usize, test: usize, size: u32) -> Result<Self, PluginError> {
        let splits = Splits {
            train: Self::render(train, size, 0)?,
            test: Self::render(test, size, 1)?,
        };
        let plane = size as usize * size as usize;
        let stats = dataset::channel_stats(splits.train.pixels(), CHANNELS, plane);
        Ok(Self {
            size,
            splits,
            stats,
        })
    }

    /// YOUR LOGIC: where the images come from. Image i has class i % 2 and a stripe period and
    /// phase that vary with i (and with the split, through `salt`).
    fn render(n: usize, size: u32, salt: usize) -> Result<SplitData, PluginError> {
        let s = size as usize;
        let mut pixels = Vec::with_capacity(n * CHANNELS * s * s);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = (i % 2) as u32;
            let period = 3 + (i / 2 + salt) % 5;
            let phase = (i * 7 + salt) % period;
            for c in 0..CHANNELS {
                for y in 0..s {
                    for x in 0..s {
                        let along = if label == 0 { y } else { x };
                        let on = (along + phase) % period < period / 2 + 1;
                        pixels.push(if on { 200 - 40 * c as u8 } else { 40 + 20 * c as u8 });
                    }
                }
            }
            labels.push(label);
        }
        SplitData::new(pixels, labels, CHANNELS * s * s)
    }
}

impl Dataset for {{type}} {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: dataset::classes(["horizontal", "vertical"]),
            channels: CHANNELS as u32,
            height: self.size,
            width: self.size,
            // Per-channel mean and std on the 0..1 scale, measured on the training images; a
            // config's `[dataset] mean = [...]` and `std = [...]` replace them.
            mean: self.stats.0.clone().into(),
            std: self.stats.1.clone().into(),
            train_len: self.splits.len(Split::Train),
            test_len: self.splits.len(Split::Test),
            // A mirrored horizontal stripe is still horizontal: `[train] hflip` may default on.
            mirror_preserves_labels: true,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.splits.chunk(split, start, count)
    }
}

fn components() -> Vec<Component> {
    vec![Component::dataset(
        "{{name}}",
        "horizontal vs vertical stripes, generated in code",
        vec![
            Param::optional("train_size", ParamType::Integer, "1000", "training images (1 to 100000)"),
            Param::optional("test_size", ParamType::Integer, "200", "test images (1 to 100000)"),
            Param::optional("size", ParamType::Integer, "32", "image side in pixels (8 to 256)"),
        ],
        |settings, _ctx| {
            let train: usize = settings.integer_in("train_size", 1..=100_000)?;
            let test: usize = settings.integer_in("test_size", 1..=100_000)?;
            let size: u32 = settings.integer_in("size", 8..=256)?;
            {{type}}::new(train, test, size)
        },
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meets_the_dataset_contract() {
        // Sizes match `info`, labels name classes, reads past the end are refused.
        let mut d = {{type}}::new(6, 4, 8).unwrap();
        let info = fuzzaug_sdk::testing::check_dataset(&mut d).unwrap();
        assert_eq!((info.train_len, info.test_len, info.channels), (6, 4, 3));
        let chunk = d.read(Split::Train, 2, 3).unwrap();
        assert_eq!(chunk.labels.as_slice(), &[0, 1, 0]);
    }
}
