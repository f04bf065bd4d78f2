//! Network architectures (DESIGN.md §7). Input channels, size and class count come from the
//! dataset.

/// Every architecture name a config may use in `model.arch`.
pub const ARCHS: &[&str] = &[
    "small-cnn",
    "preact-resnet20",
    "preact-resnet32",
    "preact-resnet56",
    "preact-resnet50",
    "resnet18",
    "resnet50",
    "resnet50-imagenet-stem",
    "wrn-28-10",
];
