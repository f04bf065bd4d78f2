//! The root module every plugin library exports, and the functions behind it.
use crate::{
    component::{ComponentContext, ComponentInfo},
    dataset::DatasetObject,
    error::PluginError,
    fingerprint::BuildFingerprint,
    logging::HostLogger,
    strategy::{StrategyObject, StrategySetup},
    transform::TransformObject,
};
use abi_stable::{
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RVec},
    StableAbi,
};

/// The root module of a fuzzaug plugin library.
///
/// The host loads a library only when its root module is this one (abi_stable's name and base
/// name below), exported with its layout, and declares exactly the host's SDK version: the SDK
/// version is the ABI version, and no other one, older or newer, minor or patch, is accepted.
/// abi_stable then checks the layout of the whole module (every type it reaches) against the
/// host's before anything in it is called; only then does the host call `fingerprint`, then
/// `set_logger`, then `components`. It is a prefix type, as abi_stable requires of root
/// modules, but no compatibility across SDK versions is built on that.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
pub struct PluginMod {
    /// What the library was built against; see [`BuildFingerprint`].
    pub fingerprint: extern "C" fn() -> BuildFingerprint,
    /// Routes the library's `log` records to the host; called once, right after loading.
    pub set_logger: extern "C" fn(HostLogger),
    /// The components the library offers.
    pub components: extern "C" fn() -> RResult<RVec<ComponentInfo>, PluginError>,
    /// Builds the dataset component `name` from its settings (a TOML table as text).
    pub new_dataset:
        extern "C" fn(RStr<'_>, RStr<'_>, &ComponentContext) -> RResult<DatasetObject, PluginError>,
    /// Builds the transform component `name` from its settings.
    pub new_transform: extern "C" fn(
        RStr<'_>,
        RStr<'_>,
        &ComponentContext,
    ) -> RResult<TransformObject, PluginError>,
    /// Builds the strategy component `name` for the given search space.
    #[sabi(last_prefix_field)]
    pub new_strategy: extern "C" fn(
        RStr<'_>,
        RStr<'_>,
        &ComponentContext,
        &StrategySetup,
    ) -> RResult<StrategyObject, PluginError>,
}

impl RootModule for PluginModRef {
    abi_stable::declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "fuzzaug";
    const NAME: &'static str = "fuzzaug plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
