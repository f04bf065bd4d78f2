//! The two datasets' fixed facts and the settings both accept.
use fuzzaug_sdk::{
    dataset::limit_params, ComponentContext, Param, ParamType, PluginError, Settings,
};
use std::path::PathBuf;

/// The four IDX files of a set, as (file name, what it holds).
pub const FILES: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "training images"),
    ("train-labels-idx1-ubyte", "training labels"),
    ("t10k-images-idx3-ubyte", "test images"),
    ("t10k-labels-idx1-ubyte", "test labels"),
];

/// Allowed `resize` sides besides 0 (keep the native size).
pub const RESIZE_RANGE: std::ops::RangeInclusive<i64> = 8..=256;

/// What tells MNIST and Fashion-MNIST apart: the same files and format, other classes and
/// statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// The component name.
    pub component: &'static str,
    /// The set's name in messages.
    pub title: &'static str,
    /// One line for `fuzzaug plugins`.
    pub summary: &'static str,
    /// Class names, by label.
    pub classes: [&'static str; 10],
    /// Mean of the grey values on the 0..1 scale (the published training-set figure).
    pub mean: f32,
    /// Standard deviation of the grey values on the 0..1 scale.
    pub std: f32,
}

/// Handwritten digits.
pub const MNIST: Variant = Variant {
    component: "mnist",
    title: "MNIST",
    summary: "MNIST handwritten digits from IDX files (raw or .gz): 28x28 grey, optional resize and 3 channels",
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    mean: 0.1307,
    std: 0.3081,
};

/// Zalando's clothing images.
pub const FASHION_MNIST: Variant = Variant {
    component: "fashion-mnist",
    title: "Fashion-MNIST",
    summary: "Fashion-MNIST clothing from IDX files (raw or .gz): 28x28 grey, optional resize and 3 channels",
    classes: [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    mean: 0.2860,
    std: 0.3530,
};

/// The settings keys of both components.
pub fn params() -> Vec<Param> {
    let mut params = vec![
        Param::required(
            "path",
            ParamType::String,
            "folder holding the four IDX files (raw or .gz); relative to the config file",
        ),
        Param::optional(
            "resize",
            ParamType::Integer,
            "0",
            "resize images to this side with bilinear interpolation (8 to 256); 0 = keep 28",
        ),
        Param::optional(
            "channels",
            ParamType::Integer,
            "1",
            "1, or 3 to repeat the grey plane (for models built for colour images)",
        ),
    ];
    params.extend(limit_params());
    params
}

/// The validated settings of one dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnistConfig {
    /// The folder, resolved against the config's folder.
    pub dir: PathBuf,
    /// Output side in pixels, or `None` for the native size.
    pub resize: Option<usize>,
    /// 1 or 3.
    pub channels: usize,
    /// How many leading training images to keep, or `None` for all.
    pub train_limit: Option<usize>,
    /// How many leading test images to keep, or `None` for all.
    pub test_limit: Option<usize>,
}

impl MnistConfig {
    /// Reads and checks the settings; resolves a relative `path` against `ctx.config_dir`
    /// ([`Settings::path`]).
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let dir = settings.path("path", ctx)?;

        let resize: i64 = settings.value("resize")?;
        let resize = match resize {
            0 => None,
            r if RESIZE_RANGE.contains(&r) => Some(r as usize),
            r => {
                return Err(PluginError::config(
                    "resize",
                    format!(
                        "`resize` must be 0 (keep the native size) or between {} and {}, got {r}",
                        RESIZE_RANGE.start(),
                        RESIZE_RANGE.end()
                    ),
                ))
            }
        };

        let channels: i64 = settings.value("channels")?;
        if channels != 1 && channels != 3 {
            return Err(PluginError::config(
                "channels",
                format!("`channels` must be 1 (grey) or 3 (grey repeated), got {channels}"),
            ));
        }

        Ok(Self {
            dir,
            resize,
            channels: channels as usize,
            train_limit: settings.limit("train_limit")?,
            test_limit: settings.limit("test_limit")?,
        })
    }
}
