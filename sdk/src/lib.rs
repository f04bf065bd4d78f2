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
//! `fuzzaug new-plugin NAME --kind strategy|transform|dataset` writes a complete crate like this
//! (manifest, build script, `lib.rs` with tests, README) that builds outside fuzzaug's workspace.
//!
//! ## How the host drives the components
//!
//! At start-up the host loads every `libfuzzaug_*.so` on its search path, compares each
//! library's [`BuildFingerprint`] with its own, hands it the host's logger, and reads its
//! component list. A run then builds the components its config names, each from its TOML table
//! ([`Settings`]), and calls them from the training thread:
//!
//! ```text
//! host                                        plugin
//!  |-- Dataset::info, Dataset::read (chunks) -->|  once, at the start of the run
//!  |-- Transform::info -------------------------->|  once per gene
//!  |-- Strategy::fitness ------------------------>|  once
//!  | for each epoch:                              |
//!  |   Strategy::begin_epoch(epoch) ------------->|
//!  |   for each batch of sample indices:          |
//!  |     Strategy::propose(samples) ------------->|  k_i candidate chromosomes per sample
//!  |     Transform::matrices / gain_bias / apply ->|  for every candidate, batched
//!  |     [no-grad forward of all candidates]      |  (skipped when every k_i is 0)
//!  |     Strategy::select(scores) --------------->|  one chromosome per sample
//!  |     Transform::matrices / gain_bias / apply ->|  for the chosen images
//!  |     [forward, backward, optimiser step]      |
//!  |   Strategy::take_counters() ---------------->|  per-epoch statistics
//!  |   Strategy::save_state() ------------------->|  into the checkpoint (and load_state on --resume)
//! ```
//!
//! ## Rules of the boundary
//!
//! - **Types.** Only `#[repr(C)]` types deriving [`StableAbi`](abi_stable::StableAbi) cross it:
//!   abi_stable's `RString`, `RVec`, `RSlice`, ... never std's `String`/`Vec`/`Box`. Each library
//!   has its own allocator, std and statics; R-types carry the functions that free them. Authors
//!   rarely see this: the traits above take and return plain Rust types and the SDK converts.
//! - **Tensor handles** (tensor-kind transforms, feature `tensor`). A [`TensorHandle`] owns one
//!   libtorch tensor; ownership moves with the value, whoever holds it last frees it, and no
//!   pixel is copied (libtorch is loaded once per process). `Transform::apply` receives the
//!   batch by value: transform it, in place or into a new tensor, and return a handle you own
//!   (`TensorHandle::from_tensor`); never keep the handle or a pointer to it after returning.
//!   To lend a tensor without giving it up, send a `shallow_clone()`. Tensors stay on the device
//!   they arrive on.
//! - **Threading.** The host calls each component object from one thread at a time (the
//!   training thread); calls never overlap on the same object, but the object may move between
//!   threads, hence [`Strategy`] and [`Dataset`] are `Send` and [`Transform`] is `Send + Sync`.
//!   A plugin may use its own threads inside a call (for example to decode files) and must have
//!   joined them before returning.
//! - **Settings.** A component's TOML table reaches its constructor as [`Settings`], already
//!   checked against the declared [`Param`]s (unknown keys, with suggestions; types; required
//!   keys). Check values yourself and return [`PluginError::config`] naming the key: the host
//!   points the user at that key's line and column in the config.
//! - **Errors.** Every call returns a result; an error is one sentence for the user
//!   ([`PluginError`]). The host stops the run with it, naming the component and the method.
//! - **Panics** never cross: every entry point runs under `catch_unwind`, and a panic becomes a
//!   [`PluginError`] reading "`` `<component>` panicked in `<method>`: <message> (at file:line) ``".
//!   Keep `panic = "unwind"` in every profile of the plugin (a `panic = "abort"` build would take
//!   the host down with it).
//! - **Logging.** Use the `log` macros (`log::info!`, ...). Each library has its own copy of
//!   `log`'s statics, so the SDK installs a forwarder in the plugin when the host loads it:
//!   records go through the host's logger and obey its level (`-v`, `RUST_LOG`).
//! - **Randomness.** Derive a component's random stream from [`ComponentContext::seed`] mixed
//!   with its name ([`random::stream_seed`]) and save it in the strategy's state, so a resumed
//!   run continues the same search.
//!
//! ## The author's kit
//!
//! The conventions above come with the code that keeps them, so that every plugin follows them
//! the same way (and the bundled ones use nothing else):
//!
//! - **Random streams and genes** ([`random`]): [`random::stream_seed`] derives a component's
//!   stream seed from the run's seed and its name; [`random::uniform_value`] draws one value of
//!   a gene, on its grid when it has a step. `rand` is re-exported as [`rand`].
//! - **Scores** ([`strategy`]): [`strategy::argmax`], the highest-loss candidate with NaN never
//!   winning; [`strategy::check_samples`], the refusal of sample indices outside the training
//!   set.
//! - **Settings**: [`Settings::path`] reads a path setting and resolves it against the config's
//!   folder ([`ComponentContext::resolve_path`]); [`Settings::limit`] reads a
//!   `train_limit`/`test_limit` ([`dataset::limit_params`]) and [`dataset::limited`] applies it;
//!   [`Settings::integer_in`] reads a bounded integer. Each words its errors one way.
//! - **Datasets** ([`dataset`]): [`dataset::classes`] builds the class list,
//!   [`dataset::channel_stats`] (or [`dataset::ChannelStats`], batch by batch) measures the
//!   per-channel mean and standard deviation of u8 images, [`Splits`] holds both splits in
//!   memory and serves [`Dataset::read`], and [`dataset::read_range`] checks a read of a
//!   dataset that renders or streams its images. The `mean` and `std` vectors of
//!   [`DatasetInfo`] take a plain `Vec<f32>` with `.into()`. A config's `[dataset] mean` and
//!   `std` are the host's: they replace what `info` reports, for every dataset, so a dataset
//!   declares no such settings of its own.
//! - **Tests** ([`testing`], feature `testing`, for `[dev-dependencies]`): gene, setup and
//!   context builders, and [`testing::check_dataset`], the dataset contract in one call.
//!
//! ## The compatibility promise
//!
//! Every library carries a [`BuildFingerprint`] (SDK, abi_stable, tch, libtorch, C++ ABI and
//! target) as the first field of its root module; the host reads and compares it before calling
//! anything else, then abi_stable checks the layout of every type the library uses.
//!
//! - **Old plugins keep loading** after any change of the host that leaves its SDK version
//!   alone: its command line, config keys, training loop, models, other plugins. Component
//!   settings are TOML text, so new settings never touch the ABI. SDK patch releases (2.0.x)
//!   change no type.
//! - **A plugin built against an older minor SDK** (2.0 in a 2.1 host) loads when the types it
//!   uses kept their layout: a minor release only appends, to prefix types such as the root
//!   module ([`PluginMod`]) and the trait objects. Where a type it uses has grown, abi_stable
//!   refuses it at load time.
//! - **Rebuild needed**: a plugin built against a newer SDK than the host's (2.1 in a 2.0 host),
//!   another SDK major version (every 1.x plugin in this 2.x host: 2.0 gave tensor transforms
//!   one seed per image, strategies the predicted classes and labels, datasets the mirror flag), another abi_stable or target; and for plugins built with the
//!   `tensor` feature, another tch, libtorch (including its CUDA suffix) or C++ ABI. Plugins
//!   without the `tensor` feature link no libtorch, report `none` there, and are unaffected by
//!   libtorch upgrades.
//! - **What a stale plugin gets**: it is refused when loaded, before any of its code runs, with
//!   a message naming the file, each differing field with the expected and found value, and the
//!   fix: "Rebuild the plugin against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug (it was built
//!   against fuzzaug-sdk 1.0.0)". `fuzzaug plugins --check LIB.so` reports the same for one
//!   file, and `fuzzaug --version` prints the host's SDK version.

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
pub mod random;
pub mod settings;
pub mod strategy;
#[cfg(feature = "tensor")]
pub mod tensor;
// Documented whatever the features, so the guide's links hold; built for plugins' tests only.
#[cfg(any(test, doc, feature = "testing"))]
pub mod testing;
pub mod transform;

pub use abi_stable;
/// The `rand` the SDK's [`random`] functions take generators of.
pub use rand;
#[cfg(feature = "tensor")]
pub use tch;

pub use component::{Component, ComponentContext, ComponentInfo, ComponentKind, Param, ParamType};
pub use dataset::{Chunk, Dataset, DatasetInfo, Split, SplitData, Splits};
pub use error::PluginError;
pub use export::Registry;
pub use fingerprint::BuildFingerprint;
pub use module::{PluginMod, PluginModRef};
pub use settings::Settings;
pub use strategy::{Counter, Fitness, GeneSpec, Proposal, Scores, Strategy, StrategySetup};
pub use transform::{Space, TensorHandle, Transform, TransformInfo, TransformKind};

/// The SDK's version, which is also the ABI version the host and its plugins must agree on.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a plugin author usually needs.
pub mod prelude {
    pub use crate::{
        Chunk, Component, ComponentContext, Counter, Dataset, DatasetInfo, Fitness, GeneSpec,
        Param, ParamType, PluginError, Proposal, Scores, Settings, Space, Split, SplitData, Splits,
        Strategy, StrategySetup, TensorHandle, Transform, TransformInfo, TransformKind,
    };
    pub use abi_stable::std_types::{RString, RVec};
}
