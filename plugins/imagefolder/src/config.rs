//! The component's settings: their schema and validation.
use fuzzaug_sdk::{ComponentContext, Param, ParamType, PluginError, Settings};
use std::{ops::RangeInclusive, path::PathBuf};

/// Allowed image sides in pixels: below 8 little survives the resize, above 512 a dataset held
/// in memory as u8 gets very large.
pub const SIZE_RANGE: RangeInclusive<i64> = 8..=512;

/// The settings keys of the `imagefolder` component.
pub fn params() -> Vec<Param> {
    vec![
        Param::required(
            "path",
            ParamType::String,
            "folder holding train/<class>/ and test/<class>/ image folders",
        ),
        Param::optional(
            "size",
            ParamType::Integer,
            "32",
            "every image is resized to size×size pixels (8 to 512)",
        ),
        Param::optional(
            "channels",
            ParamType::Integer,
            "3",
            "3 = RGB, 1 = grey (luma)",
        ),
        Param::optional(
            "mean",
            ParamType::Array,
            "[]",
            "per-channel mean on the 0..1 scale; measured on the training images when unset",
        ),
        Param::optional(
            "std",
            ParamType::Array,
            "[]",
            "per-channel standard deviation on the 0..1 scale; measured when unset",
        ),
        Param::optional(
            "mirror_preserves_labels",
            ParamType::Bool,
            "false",
            "whether a horizontally mirrored image keeps its class (true for natural photos; false for signs, text, digits); the default of `[train] hflip`",
        ),
    ]
}

/// The validated settings of an `imagefolder` dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolderConfig {
    /// The dataset folder, resolved against the config's folder.
    pub path: PathBuf,
    /// Height and width of every image after resizing.
    pub size: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u32,
    /// The user's per-channel mean, or `None` to measure it.
    pub mean: Option<Vec<f32>>,
    /// The user's per-channel standard deviation, or `None` to measure it.
    pub std: Option<Vec<f32>>,
    /// Whether a horizontal mirror keeps every image's class.
    pub mirror_preserves_labels: bool,
}

impl ImageFolderConfig {
    /// Reads and validates the settings; a relative `path` resolves against `ctx.config_dir`.
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let path: String = settings.value("path")?;
        if path.is_empty() {
            return Err(PluginError::config("path", "`path` must not be empty"));
        }
        // `join` keeps an absolute `path` as it is.
        let path = PathBuf::from(ctx.config_dir.as_str()).join(path);

        let size: u32 = settings.integer_in("size", SIZE_RANGE)?;

        let channels: i64 = settings.value("channels")?;
        let channels = match channels {
            1 => 1,
            3 => 3,
            c => {
                return Err(PluginError::config(
                    "channels",
                    format!("`channels` must be 1 (grey) or 3 (RGB), got {c}"),
                ))
            }
        };

        let mean = channel_values(settings, "mean", channels, |m| (0.0..=1.0).contains(&m))?;
        let std = channel_values(settings, "std", channels, |s| s > 0.0 && s.is_finite())?;
        Ok(Self {
            path,
            size,
            channels,
            mean,
            std,
            mirror_preserves_labels: settings.value("mirror_preserves_labels")?,
        })
    }
}

/// The float array `key` if the user set it: one entry per channel, each accepted by `valid`.
fn channel_values(
    settings: &Settings,
    key: &str,
    channels: u32,
    valid: impl Fn(f64) -> bool,
) -> Result<Option<Vec<f32>>, PluginError> {
    if !settings.is_set(key) {
        return Ok(None);
    }
    let values: Vec<f64> = settings.value(key)?;
    if values.len() != channels as usize {
        return Err(PluginError::config(
            key,
            format!(
                "`{key}` must have {channels} entries (one per channel), got {}",
                values.len()
            ),
        ));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| !valid(v)) {
        let rule = if key == "mean" {
            "between 0 and 1 (the 0..1 pixel scale)"
        } else {
            "a finite number greater than 0"
        };
        return Err(PluginError::config(
            key,
            format!("`{key}[{i}]` must be {rule}, got {v}"),
        ));
    }
    Ok(Some(values.into_iter().map(|v| v as f32).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImageFolderConfig, PluginError> {
        let ctx = ComponentContext {
            seed: 0,
            config_dir: "/configs".into(),
        };
        ImageFolderConfig::from_settings(&Settings::parse(text, &params())?, &ctx)
    }

    #[test]
    fn defaults_and_path_resolution() {
        let c = parse("path = \"data/gtsrb\"").unwrap();
        assert_eq!(
            c,
            ImageFolderConfig {
                path: PathBuf::from("/configs/data/gtsrb"),
                size: 32,
                channels: 3,
                mean: None,
                std: None,
                mirror_preserves_labels: false,
            }
        );
        assert!(
            parse("path = \"x\"\nmirror_preserves_labels = true")
                .unwrap()
                .mirror_preserves_labels
        );
        let c = parse("path = \"/abs/x\"\nsize = 8\nchannels = 1\nmean = [0]\nstd = [1]").unwrap();
        assert_eq!(c.path, PathBuf::from("/abs/x"));
        assert_eq!((c.size, c.channels), (8, 1));
        // Integers are accepted as floats.
        assert_eq!((c.mean, c.std), (Some(vec![0.0]), Some(vec![1.0])));
        let c = parse("path = \"x\"\nsize = 512\nmean = [0.5, 0.25, 1.0]").unwrap();
        assert_eq!(
            (c.size, c.mean, c.std),
            (512, Some(vec![0.5, 0.25, 1.0]), None)
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        let cases = [
            (
                "size = 4",
                "size",
                "`size` must be between 8 and 512, got 4",
            ),
            (
                "size = 513",
                "size",
                "`size` must be between 8 and 512, got 513",
            ),
            (
                "channels = 2",
                "channels",
                "`channels` must be 1 (grey) or 3 (RGB), got 2",
            ),
            (
                "mean = [0.5, 0.5]",
                "mean",
                "`mean` must have 3 entries (one per channel), got 2",
            ),
            (
                "channels = 1\nstd = [0.2, 0.2, 0.2]",
                "std",
                "`std` must have 1 entries (one per channel), got 3",
            ),
            (
                "mean = []",
                "mean",
                "`mean` must have 3 entries (one per channel), got 0",
            ),
            (
                "mean = [0.5, 123.7, 0.5]",
                "mean",
                "`mean[1]` must be between 0 and 1 (the 0..1 pixel scale), got 123.7",
            ),
            (
                "std = [0.2, 0.2, 0]",
                "std",
                "`std[2]` must be a finite number greater than 0, got 0",
            ),
            (
                "std = [-0.1, 0.2, 0.2]",
                "std",
                "`std[0]` must be a finite number greater than 0, got -0.1",
            ),
            (
                "std = [nan, 0.2, 0.2]",
                "std",
                "`std[0]` must be a finite number greater than 0, got NaN",
            ),
        ];
        for (text, key, message) in cases {
            let e = parse(&format!("path = \"x\"\n{text}")).unwrap_err();
            assert_eq!(
                (e.key.as_str(), e.message.as_str()),
                (key, message),
                "{text}"
            );
        }
        let e = parse("path = \"x\"\nmean = [\"a\", 1, 2]").unwrap_err();
        assert_eq!(e.key.as_str(), "mean");
        let e = parse("path = \"\"").unwrap_err();
        assert_eq!(e.message.as_str(), "`path` must not be empty");
    }

    #[test]
    fn missing_path() {
        let e = parse("size = 32").unwrap_err();
        assert_eq!(e.key.as_str(), "path");
        assert_eq!(
            e.message.as_str(),
            "missing required key `path` (folder holding train/<class>/ and test/<class>/ image folders)"
        );
    }
}
