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
    /// Whether a horizontal mirror keeps every image's class.
    pub mirror_preserves_labels: bool,
}

impl ImageFolderConfig {
    /// Reads and validates the settings; a relative `path` resolves against `ctx.config_dir`
    /// ([`Settings::path`]).
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let path = settings.path("path", ctx)?;

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

        Ok(Self {
            path,
            size,
            channels,
            mirror_preserves_labels: settings.value("mirror_preserves_labels")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImageFolderConfig, PluginError> {
        let ctx = fuzzaug_sdk::testing::context(0, "/configs");
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
                mirror_preserves_labels: false,
            }
        );
        assert!(
            parse("path = \"x\"\nmirror_preserves_labels = true")
                .unwrap()
                .mirror_preserves_labels
        );
        let c = parse("path = \"/abs/./x\"\nsize = 8\nchannels = 1").unwrap();
        assert_eq!(c.path, PathBuf::from("/abs/x"));
        assert_eq!((c.size, c.channels), (8, 1));
        assert_eq!(parse("path = \"x\"\nsize = 512").unwrap().size, 512);
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
        ];
        for (text, key, message) in cases {
            let e = parse(&format!("path = \"x\"\n{text}")).unwrap_err();
            assert_eq!(
                (e.key.as_str(), e.message.as_str()),
                (key, message),
                "{text}"
            );
        }
        // Normalisation is the host's `[dataset] mean` and `std`, not a setting of this dataset.
        for key in ["mean", "std"] {
            let e = parse(&format!("path = \"x\"\n{key} = [0.5, 0.5, 0.5]")).unwrap_err();
            assert_eq!(
                (e.key.as_str(), e.message.as_str()),
                (
                    key,
                    format!(
                        "unknown key `{key}`; valid keys: path, size, channels, mirror_preserves_labels"
                    )
                    .as_str()
                )
            );
        }
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
