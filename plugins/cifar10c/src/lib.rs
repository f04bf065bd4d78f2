//! # fuzzaug-cifar10c: the CIFAR-10-C dataset
//!
//! One dataset component, `cifar10c`, reading CIFAR-10-C (Hendrycks & Dietterich, "Benchmarking
//! Neural Network Robustness to Common Corruptions and Perturbations", ICLR 2019) as published
//! on Zenodo (record 2535967, `CIFAR-10-C.tar`): a folder `CIFAR-10-C/` holding one `.npy` file
//! per corruption and `labels.npy`.
//!
//! - `<corruption>.npy`: uint8 (`'|u1'`) of shape (50000, 32, 32, 3), channels last: the 10,000
//!   CIFAR-10 test images under that corruption at severity 1, then at severity 2, ... up to 5.
//!   Smaller files in the same layout (as tests write) hold N images, N/5 per severity; N must
//!   be a multiple of 5.
//! - `labels.npy`: one label (0..=9) per image of a corruption file, the same for every file;
//!   the official one is uint8 (`'|u1'`) of shape (50000,). Any little-endian integer dtype
//!   numpy writes (`'|u1'`, `'|i1'`, `'<u2'`, `'<i2'`, `'<u4'`, `'<i4'`, `'<u8'`, `'<i8'`) is
//!   read.
//!
//! The 19 corruptions are the 15 of the benchmark (`gaussian_noise`, `shot_noise`,
//! `impulse_noise`, `defocus_blur`, `glass_blur`, `motion_blur`, `zoom_blur`, `snow`, `frost`,
//! `fog`, `brightness`, `contrast`, `elastic_transform`, `pixelate`, `jpeg_compression`) and the
//! 4 extra ones (`speckle_noise`, `gaussian_blur`, `spatter`, `saturate`).
//!
//! **Splits.** The test split is the chosen corruption at the chosen severity (10,000 images
//! of the official files), in the order of the file. CIFAR-10-C holds no training images, so
//! the training split is empty (`train_len` 0): `fuzzaug check` accepts the dataset and shows
//! `train 0`, but the host trains on, and `fuzzaug run` and `eval` load, both splits, and
//! refuse an empty one. The component serves a corrupted test set to whatever reads it through
//! the SDK; it does not pretend to have training data.
//!
//! **Normalisation.** `info()` reports the CIFAR-10 training statistics the `cifar10`
//! component reports: mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010), so a model
//! trained on CIFAR-10 sees these images normalised as it was trained. A config's
//! `[dataset] mean` and `std` replace them, as for every dataset. Class names are CIFAR-10's,
//! as the official `batches.meta.txt` spells them (`airplane`, `automobile`, `bird`, `cat`,
//! `deer`, `dog`, `frog`, `horse`, `ship`, `truck`), and a mirror keeps the labels.
//!
//! **Files.** `path` is the folder holding the `.npy` files, a folder holding the unpacked
//! `CIFAR-10-C/` or the official `CIFAR-10-C.tar` (as `fuzzaug fetch cifar10c` leaves it), or
//! the archive itself, read in place without extracting it (its members are found by file name
//! whatever folder they sit in). Only the corruption's file and `labels.npy` are opened. Each
//! `.npy` header (format versions 1.0, 2.0 and 3.0; at most 10,000 bytes, numpy's own bound) is
//! read and checked first: magic string, version, dtype, C order (`fortran_order: False`),
//! shape, and that the file holds exactly the data bytes the header declares. Then only the
//! chosen severity's images are read (a fifth of the file, or `test_limit` of them), every label
//! is checked to be below 10, and the images are converted from channels last to the host's
//! N×C×H×W. Every refusal names the file.
//!
//! Settings:
//!
//! | key          | type    | default  | meaning                                                      |
//! |--------------|---------|----------|--------------------------------------------------------------|
//! | `path`       | string  | required | folder or `CIFAR-10-C.tar`; relative to the config's folder   |
//! | `corruption` | string  | required | one of the 19 corruption names above                          |
//! | `severity`   | integer | required | 1 (mildest) to 5                                              |
//! | `test_limit` | integer | 0        | use only the first N test images of the severity; 0 = all     |
#![warn(missing_docs)]

pub mod dataset;
pub mod npy;
pub mod source;

#[cfg(test)]
mod tests;

pub use dataset::{params, Cifar10c, Cifar10cConfig, CLASSES, CORRUPTIONS};

use fuzzaug_sdk::Component;

/// The components of this library: the `cifar10c` dataset.
pub fn components() -> Vec<Component> {
    vec![Component::dataset(
        "cifar10c",
        "CIFAR-10-C: one of 19 corruptions at severity 1-5 of the 10000 CIFAR-10 test images, 32×32 colour (test split only)",
        params(),
        Cifar10c::new,
    )]
}

fuzzaug_sdk::export_plugin!(components);
