//! # fuzzaug-mnist: the `mnist` and `fashion-mnist` datasets
//!
//! Both read the four IDX files of the original distributions from one folder:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
//! `t10k-labels-idx1-ubyte`, each raw or gzip-compressed (`<name>.gz`; the raw file wins when
//! both exist). Everything is read and checked when the dataset is built (magic numbers, data
//! lengths, matching image and label counts, matching image sizes, labels below 10) and kept in
//! memory in the final N×C×H×W layout, so a read is a slice copy.
//!
//! Each file is read header first: the header's dimensions fix the file's exact size, and the
//! rest is read with that bound. A file, or a `.gz` that inflates, to more than that is refused
//! as soon as one byte too many arrives (so a gzip bomb costs no more memory than its header
//! declares), and a header declaring more than 2 GiB ([`MAX_FILE_BYTES`]; MNIST's largest file
//! is 47 MB) is refused before anything is allocated.
//!
//! Settings:
//!
//! | key           | type    | default | meaning                                                  |
//! |---------------|---------|---------|----------------------------------------------------------|
//! | `path`        | string  | —       | the folder; relative to the config file                  |
//! | `resize`      | integer | 0       | bilinear resize to `resize`×`resize`, 8..=256; 0 = native |
//! | `channels`    | integer | 1       | 1, or 3 to repeat the grey plane (for colour models)     |
//! | `train_limit` | integer | 0       | keep only the first N training images; 0 = all           |
//! | `test_limit`  | integer | 0       | keep only the first N test images; 0 = all               |
//!
//! `info()` reports the published normalisation statistics (MNIST 0.1307 / 0.3081,
//! Fashion-MNIST 0.2860 / 0.3530), repeated per channel.

mod config;
mod dataset;
mod idx;
mod resize;
mod source;

pub use config::{params, MnistConfig, Variant, FASHION_MNIST, FILES, MNIST, RESIZE_RANGE};
pub use dataset::Mnist;
pub use idx::{IMAGES_MAGIC, LABELS_MAGIC, MAX_FILE_BYTES};
pub use resize::Resizer;

use fuzzaug_sdk::{Component, ComponentContext, PluginError, Settings};

/// Builds the dataset `variant` from the component's settings.
pub fn build(
    variant: Variant,
    settings: &Settings,
    ctx: &ComponentContext,
) -> Result<Mnist, PluginError> {
    Mnist::load(variant, &MnistConfig::from_settings(settings, ctx)?)
}

/// The components of this library: the `mnist` and `fashion-mnist` datasets.
pub fn components() -> Vec<Component> {
    [MNIST, FASHION_MNIST]
        .into_iter()
        .map(|v| Component::dataset(v.component, v.summary, params(), move |s, c| build(v, s, c)))
        .collect()
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests;
