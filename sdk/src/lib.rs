//! # fuzzaug-sdk: the stable ABI between the `fuzzaug` host and its plugins
//!
//! A fuzzaug plugin is a `cdylib` named `libfuzzaug_<name>.so` that offers one or more
//! *components* of three kinds:
//!
//! - [`Dataset`]: class names, image geometry, normalisation and a chunked read of a split as
//!   u8 pixels (N×C×H×W) and labels;
//! - [`Transform`]: one gene of the search space (rotation, brightness, ...), expressed as a 2×3
//!   affine matrix per sample (geometric), a gain and bias per sample (photometric), or an
//!   operation on a libtorch tensor (tensor kind, behind the `tensor` feature);
//! - [`Strategy`]: the augmentation strategy, which per batch proposes candidate chromosomes,
//!   receives their fitness, and picks the chromosome each sample trains on.
//!
//! An author implements the plain-Rust traits above, lists the components in one function and
//! calls [`export_plugin!`]. The macro builds the root module ([`PluginMod`]), whose first field
//! returns the [`BuildFingerprint`] the host checks before anything else, and wraps every entry
//! point so that a panic becomes an error value ([`PluginError`]) instead of aborting the host.
//!
//! ```ignore
//! use fuzzaug_sdk::prelude::*;
//!
//! fn components() -> Vec<Component> {
//!     vec![Component::strategy(
//!         "my-strategy",
//!         "train on the identity chromosome",
//!         vec![],
//!         |_settings, _ctx, setup| Ok(MyStrategy::new(setup)),
//!     )]
//! }
//! fuzzaug_sdk::export_plugin!(components);
//! ```
//!
//! ## Rules of the boundary
//!
//! - Only `#[repr(C)]` types deriving [`StableAbi`](abi_stable::StableAbi) cross it: abi_stable's
//!   `RString`, `RVec`, `RSlice`, ... never std's `String`/`Vec`/`Box`. Each library has its own
//!   allocator, std and statics; R-types carry the functions that free them.
//! - Settings arrive as the component's TOML table serialised to a string ([`Settings`]); the
//!   SDK checks keys and types against the declared [`Param`]s, the plugin checks values.
//! - Logging: use the `log` macros; the SDK forwards records to the host's logger.
//! - Errors: return [`PluginError`], naming the offending settings key where there is one.
//! - Panics never cross: the host gets an error naming the component, the method and the message.

// abi_stable's `#[sabi_trait]` expands to impls the lint misreads as non-local.
#![allow(non_local_definitions)]
#![warn(missing_docs)]

pub mod component;
pub mod dataset;
pub mod error;
#[doc(hidden)]
pub mod export;
pub mod fingerprint;
#[doc(hidden)]
pub mod guard;
pub mod logging;
pub mod module;
pub mod settings;
pub mod strategy;
#[cfg(feature = "tensor")]
pub mod tensor;
pub mod transform;

pub use abi_stable;
#[cfg(feature = "tensor")]
pub use tch;

pub use component::{Component, ComponentContext, ComponentInfo, ComponentKind, Param, ParamType};
pub use dataset::{Chunk, Dataset, DatasetInfo, Split, SplitData, Splits};
pub use error::PluginError;
pub use export::Registry;
pub use fingerprint::BuildFingerprint;
pub use module::{PluginMod, PluginModRef};
pub use settings::Settings;
pub use strategy::{Counter, Fitness, GeneSpec, Proposal, Strategy, StrategySetup};
pub use transform::{Space, TensorHandle, Transform, TransformInfo, TransformKind};

/// The SDK's version, which is also the ABI version the host and its plugins must agree on.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a plugin author usually needs.
pub mod prelude {
    pub use crate::{
        Chunk, Component, ComponentContext, Counter, Dataset, DatasetInfo, Fitness, GeneSpec,
        Param, ParamType, PluginError, Proposal, Settings, Space, Split, SplitData, Splits,
        Strategy, StrategySetup, TensorHandle, Transform, TransformInfo, TransformKind,
    };
    pub use abi_stable::std_types::{RString, RVec};
}
