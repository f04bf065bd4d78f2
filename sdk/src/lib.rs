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
//! ## The compatibility rule
//!
//! A plugin loads into a fuzzaug whose SDK version is exactly the one it was built against: the
//! SDK version is the ABI version, and the host accepts no other, older or newer, minor or
//! patch. This is what the host enforces, in this order:
//!
//! 1. Loading the file runs the library's own static initialisers (the dynamic loader does, and
//!    nothing can check a library before that). Keep them trivial.
//! 2. Reading only the library's static data, the host requires an abi_stable root module that
//!    is fuzzaug's ([`PluginModRef`]'s name and base name), exported with its layout, declaring
//!    this SDK version, and the panic-strategy marker of `export_plugin!` saying it was built
//!    with `panic = "unwind"`. A library failing any of these has none of its functions called.
//! 3. abi_stable checks the layout of the root module and every type it reaches against the
//!    host's.
//! 4. The host calls the root-module constructor, then `fingerprint()` and compares the
//!    [`BuildFingerprint`] (SDK, abi_stable, tch, libtorch, C++ ABI, target) field by field,
//!    then `set_logger()` and `components()`.
//!
//! So:
//!
//! - **Old plugins keep loading** after any change of the host that leaves its SDK version
//!   alone: its command line, config keys, training loop, models, other plugins. Component
//!   settings are TOML text, so new settings never touch the ABI.
//! - **Rebuild needed** after every SDK version change (2.0.0 to 2.0.1 included), another
//!   abi_stable or target; and for plugins built with the `tensor` feature, another tch,
//!   libtorch (including its CUDA suffix) or C++ ABI. Plugins without the `tensor` feature link
//!   no libtorch, report `none` there, and are unaffected by libtorch upgrades.
//! - **What a stale plugin gets**: it is refused when loaded, with a message naming the file and
//!   what to rebuild it against: "built against fuzzaug-sdk 1.0.0, but this fuzzaug loads only
//!   plugins built against fuzzaug-sdk 2.0.0 exactly" for another SDK version; each differing
//!   fingerprint field with the expected and found value, and "Rebuild the plugin against
//!   libtorch 2.11.0+cpu ..." when only the torch differs. `fuzzaug plugins --check LIB.so`
//!   reports the same for one file, and `fuzzaug --version` prints the host's SDK version. Of
//!   its code, only its static initialisers (step 1) have run; for a fingerprint mismatch,
//!   also its root-module constructor and `fingerprint()`, both generated by the SDK.
//! - **Panics** in any entry point, in a component's `Drop`, while formatting a log record or
//!   in `fingerprint()` are caught in the plugin and reported (an error, or a log record where
//!   there is no error to return). A library built with `panic = "abort"` could catch none, and
//!   is refused.

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

/// The SDK's version, which is also the ABI version: a host loads only plugins built against
/// exactly this version.
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
