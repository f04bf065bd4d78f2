//! The one error type that crosses the boundary.
use abi_stable::{std_types::RString, StableAbi};
use std::fmt;

/// An error returned by a plugin call.
///
/// `key` names the settings key the error is about (dotted, relative to the component's own
/// table, e.g. `selective.threshold`), or is empty; the host turns it into the file, line and
/// column of that key in the user's config. `panicked` is set by the SDK when the error stands
/// for a caught panic.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct PluginError {
    /// What went wrong, as one sentence for the user.
    pub message: RString,
    /// The settings key at fault, or empty.
    pub key: RString,
    /// True when the SDK caught a panic in the plugin.
    pub panicked: bool,
}

impl PluginError {
    /// An error not tied to a settings key.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: RString::from(message.into()),
            key: RString::new(),
            panicked: false,
        }
    }

    /// An error about the value of the settings key `key` (dotted path).
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: RString::from(message.into()),
            key: RString::from(key.into()),
            panicked: false,
        }
    }

    /// An error standing for a panic caught at the boundary.
    pub fn panic(message: impl Into<String>) -> Self {
        Self {
            panicked: true,
            ..Self::new(message)
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for PluginError {}

impl From<std::io::Error> for PluginError {
    fn from(e: std::io::Error) -> Self {
        Self::new(e.to_string())
    }
}
