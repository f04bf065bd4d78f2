//! # fuzzaug-cifar: the CIFAR-10 and CIFAR-100 datasets
//!
//! Two dataset components reading the official *binary* versions of CIFAR:
//!
//! - `cifar10`: `data_batch_1.bin` … `data_batch_5.bin` (train, in that order) and
//!   `test_batch.bin` (test); each record is one label byte (0..=9) and 3072 pixel bytes
//!   (3073 bytes). Class names come from `batches.meta.txt`.
//! - `cifar100`: `train.bin` and `test.bin`; each record is the coarse label byte (0..=19), the
//!   fine label byte (0..=99) and 3072 pixel bytes (3074 bytes). Class names come from
//!   `fine_label_names.txt` or `coarse_label_names.txt`, following `label`.
//!
//! The pixels of a record are the R, G and B planes of a 32×32 image, each row-major, so they
//! are already in the host's C×H×W layout and are copied once, straight into place.
//!
//! `path` is the unpacked folder (`cifar-10-batches-bin/`, `cifar-100-binary/`), a folder
//! holding it, or the official archive (`cifar-10-binary.tar.gz`, `cifar-100-binary.tar.gz`),
//! which is read in one streaming pass without extracting it; its members are found by file
//! name whatever folder they sit in. Everything is loaded and checked when the component is
//! built, so `fuzzaug check` reports every problem before training.
//!
//! Sizes: the official batch files hold 10,000 records each (CIFAR-10's five training batches
//! and its test batch, CIFAR-100's `test.bin`), CIFAR-100's `train.bin` 50,000.
//!
//! - A file whose size is not a whole number of records, or that is empty, is an error.
//! - A file larger than its official counterpart is an error, found from its size on disk or in
//!   the archive's tar header before any of it is read or inflated, so no file takes more
//!   memory than the official one. The class-names files may hold up to 64 KiB.
//! - A file of fewer records than the official one is loaded as it is, with a warning in the
//!   log naming the file, its record count and the official count (`fuzzaug check` shows it,
//!   with the split sizes). The format also carries smaller data sets on purpose (the output of
//!   `bench/twin.py write-data`, the tests' fixtures), and those cannot be told from a copy cut
//!   short at a record boundary; the warning says it must be one or the other. `train_limit`
//!   and `test_limit` do not silence it: they take a prefix of what the files hold.
//!
//! Settings:
//!
//! | key           | type    | default  | meaning                                                  |
//! |---------------|---------|----------|----------------------------------------------------------|
//! | `path`        | string  | required | folder or `.tar.gz`; relative to the config's folder      |
//! | `train_limit` | integer | 0        | use only the first N training images; 0 = all             |
//! | `test_limit`  | integer | 0        | use only the first N test images; 0 = all                 |
//! | `label`       | string  | `"fine"` | `cifar100` only: `"fine"` (100 classes) or `"coarse"` (20) |
//!
//! Normalisation uses the usual published statistics: CIFAR-10 mean (0.4914, 0.4822, 0.4465),
//! std (0.2023, 0.1994, 0.2010); CIFAR-100 mean (0.5071, 0.4865, 0.4409), std (0.2673, 0.2564,
//! 0.2762).

pub mod dataset;
pub mod format;
pub mod source;

#[cfg(test)]
mod tests;

use fuzzaug_sdk::Component;

pub use dataset::{cifar100_params, cifar10_params, Cifar, CifarConfig, Spec, CIFAR10, CIFAR100};

/// The components of this library: the `cifar10` and `cifar100` datasets.
pub fn components() -> Vec<Component> {
    vec![
        Component::dataset(
            "cifar10",
            "CIFAR-10 (binary version): 10 classes, 50000 train / 10000 test 32×32 colour images",
            cifar10_params(),
            Cifar::cifar10,
        ),
        Component::dataset(
            "cifar100",
            "CIFAR-100 (binary version): 100 fine or 20 coarse classes, 50000 train / 10000 test 32×32 colour images",
            cifar100_params(),
            Cifar::cifar100,
        ),
    ]
}

fuzzaug_sdk::export_plugin!(components);
