//! # fuzzaug-imagefolder: datasets stored as one folder of images per class
//!
//! The `imagefolder` dataset reads
//!
//! ```text
//! path/train/<class>/*.{png,jpg,jpeg,ppm}
//! path/test/<class>/*.{png,jpg,jpeg,ppm}
//! ```
//!
//! which is, for instance, GTSRB's layout (`Final_Training/Images/000NN/*.ppm`) once the test
//! images are sorted into class folders. Extensions match case-insensitively; hidden entries
//! and other files (`.csv`, `.txt`, ...) are ignored. The classes are the sub-folder names of
//! `train/`, sorted bytewise; `test/` may lack a class but must not have one `train/` lacks.
//! Images load in class order, and by file name (bytewise) within a class, so the order and
//! the labels are deterministic.
//!
//! Every image is converted to RGB (alpha dropped) or grey (Rec. 709 luma, rounded), then resized to
//! `size`×`size` with `image::imageops::resize` and `FilterType::Triangle` (bilinear; the
//! aspect ratio is not kept). Images already at that size are copied exactly. The whole
//! dataset is decoded in the constructor, on all cores, and held in memory as u8 N×C×H×W, so
//! any unreadable file fails `fuzzaug check` before training starts. An image of more than
//! [`MAX_PIXELS`] (32 Mpx) is refused from its header, before it is decoded.
//!
//! Settings:
//!
//! | key                       | type    | default  | meaning                                      |
//! |---------------------------|---------|----------|----------------------------------------------|
//! | `path`                    | string  | required | dataset folder; relative to the config's folder |
//! | `size`                    | integer | 32       | image height and width after resizing, 8..=512 |
//! | `channels`                | integer | 3        | 3 = RGB, 1 = grey                            |
//! | `mirror_preserves_labels` | bool    | false    | whether a mirrored image keeps its class (the default of `[train] hflip`) |
//!
//! `info()` reports the per-channel mean and standard deviation measured exactly over all
//! training images after resizing ([`fuzzaug_sdk::dataset::channel_stats`]). To normalise with
//! other values, set `mean = [...]` and `std = [...]` in the config's `[dataset]` table: those
//! are the host's, for every dataset, and replace what `info()` reports.

mod config;
mod decode;
mod scan;

pub use config::{params, ImageFolderConfig, SIZE_RANGE};
pub use decode::{decode_image, load_all, load_image, luma, MAX_PIXELS};
pub use scan::{image_format, scan, ImageFile, Layout, EXTENSIONS};

use fuzzaug_sdk::{
    dataset::{self, channel_stats},
    Chunk, Component, ComponentContext, Dataset, DatasetInfo, PluginError, Settings, Split,
    SplitData, Splits,
};

/// An image-folder dataset, fully decoded in memory.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    config: ImageFolderConfig,
    classes: Vec<String>,
    mean: Vec<f32>,
    std: Vec<f32>,
    splits: Splits,
}

impl ImageFolder {
    /// Lists, checks and decodes the dataset at `config.path`, and measures its normalisation
    /// statistics on the training images.
    pub fn open(config: ImageFolderConfig) -> Result<Self, PluginError> {
        let layout = scan(&config.path)?;
        let image_bytes = config.channels as usize * config.size as usize * config.size as usize;
        let load = |files: &[ImageFile]| -> Result<SplitData, PluginError> {
            SplitData::new(
                load_all(files, config.size, config.channels)?,
                files.iter().map(|f| f.label).collect(),
                image_bytes,
            )
        };
        let train = load(&layout.train)?;
        let test = load(&layout.test)?;
        let plane = config.size as usize * config.size as usize;
        let (mean, std) = channel_stats(train.pixels(), config.channels as usize, plane);
        Ok(Self {
            classes: layout.classes,
            config,
            mean,
            std,
            splits: Splits { train, test },
        })
    }

    /// [`ImageFolder::open`] from the component's settings.
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        Self::open(ImageFolderConfig::from_settings(settings, ctx)?)
    }

    /// The validated settings.
    pub fn config(&self) -> &ImageFolderConfig {
        &self.config
    }
}

impl Dataset for ImageFolder {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: dataset::classes(&self.classes),
            channels: self.config.channels,
            height: self.config.size,
            width: self.config.size,
            mean: self.mean.clone().into(),
            std: self.std.clone().into(),
            train_len: self.splits.len(Split::Train),
            test_len: self.splits.len(Split::Test),
            mirror_preserves_labels: self.config.mirror_preserves_labels,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.splits.chunk(split, start, count)
    }
}

/// The components of this library: the `imagefolder` dataset.
pub fn components() -> Vec<Component> {
    vec![Component::dataset(
        "imagefolder",
        "images in train/<class>/ and test/<class>/ folders (PNG, JPEG, PPM), e.g. GTSRB",
        params(),
        ImageFolder::from_settings,
    )]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests;
