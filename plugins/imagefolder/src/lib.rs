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
//! any unreadable file fails `fuzzaug check` before training starts.
//!
//! Settings:
//!
//! | key        | type        | default  | meaning                                               |
//! |------------|-------------|----------|-------------------------------------------------------|
//! | `path`     | string      | required | dataset folder; relative to the config's folder       |
//! | `size`     | integer     | 32       | image height and width after resizing, 8..=512        |
//! | `channels` | integer     | 3        | 3 = RGB, 1 = grey                                     |
//! | `mean`     | float array | measured | per-channel mean, 0..1 scale, one entry per channel   |
//! | `std`      | float array | measured | per-channel std-dev, > 0, one entry per channel       |
//!
//! Unset, `mean` and `std` are measured exactly over all training images after resizing.

mod config;
mod decode;
mod scan;
mod stats;

pub use config::{params, ImageFolderConfig, SIZE_RANGE};
pub use decode::{load_all, load_image, luma};
pub use scan::{image_format, scan, ImageFile, Layout, EXTENSIONS};
pub use stats::{channel_stats, MIN_STD};

use fuzzaug_sdk::{
    abi_stable::std_types::{RString, RVec},
    Chunk, Component, ComponentContext, Dataset, DatasetInfo, PluginError, Settings, Split,
};
use std::fmt;

/// The images and labels of one split.
#[derive(Clone, Default)]
struct Images {
    /// N×C×H×W u8 pixels.
    pixels: Vec<u8>,
    labels: Vec<u32>,
}

// Counts only: the pixels can be hundreds of megabytes.
impl fmt::Debug for Images {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Images")
            .field("images", &self.labels.len())
            .field("pixel_bytes", &self.pixels.len())
            .finish()
    }
}

/// An image-folder dataset, fully decoded in memory.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    config: ImageFolderConfig,
    classes: Vec<String>,
    mean: Vec<f32>,
    std: Vec<f32>,
    train: Images,
    test: Images,
}

impl ImageFolder {
    /// Lists, checks and decodes the dataset at `config.path`, and measures the normalisation
    /// statistics the config leaves unset.
    pub fn open(config: ImageFolderConfig) -> Result<Self, PluginError> {
        let layout = scan(&config.path)?;
        let load = |files: &[ImageFile]| -> Result<Images, PluginError> {
            Ok(Images {
                pixels: load_all(files, config.size, config.channels)?,
                labels: files.iter().map(|f| f.label).collect(),
            })
        };
        let train = load(&layout.train)?;
        let test = load(&layout.test)?;
        let (mean, std) = match (&config.mean, &config.std) {
            (Some(m), Some(s)) => (m.clone(), s.clone()),
            (m, s) => {
                let plane = config.size as usize * config.size as usize;
                let (mean, std) = channel_stats(&train.pixels, config.channels as usize, plane);
                (m.clone().unwrap_or(mean), s.clone().unwrap_or(std))
            }
        };
        Ok(Self {
            classes: layout.classes,
            config,
            mean,
            std,
            train,
            test,
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

    fn images(&self, split: Split) -> &Images {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }

    fn image_bytes(&self) -> usize {
        self.config.channels as usize * self.config.size as usize * self.config.size as usize
    }
}

impl Dataset for ImageFolder {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: self
                .classes
                .iter()
                .map(|c| RString::from(c.as_str()))
                .collect(),
            channels: self.config.channels,
            height: self.config.size,
            width: self.config.size,
            mean: RVec::from(self.mean.clone()),
            std: RVec::from(self.std.clone()),
            train_len: self.train.labels.len() as u64,
            test_len: self.test.labels.len() as u64,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        let images = self.images(split);
        let len = images.labels.len() as u64;
        let name = split.as_str();
        let range = match start.checked_add(count) {
            // Both ends are at most `len`, which came from a `usize`.
            Some(end) if end <= len => start as usize..end as usize,
            _ => {
                return Err(PluginError::new(format!(
                    "cannot read {count} {name} images from index {start}: the {name} split has {len} images"
                )))
            }
        };
        let bytes = self.image_bytes();
        Ok(Chunk {
            pixels: RVec::from(&images.pixels[range.start * bytes..range.end * bytes]),
            labels: RVec::from(&images.labels[range]),
        })
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
