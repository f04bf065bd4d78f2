//! What [`export_plugin!`](crate::export_plugin) expands to: a per-library [`Registry`] of the
//! author's components, and the `extern "C"` functions of the root module, each of which runs
//! under [`guard::call`](crate::guard::call).
use crate::{
    component::{Component, ComponentContext, ComponentInfo, ComponentKind, Constructor},
    dataset::{self, DatasetObject},
    error::PluginError,
    fingerprint::BuildFingerprint,
    guard,
    logging::{self, HostLogger},
    module::{PluginMod, PluginModRef},
    settings::Settings,
    strategy::{self, StrategyObject, StrategySetup},
    transform::{self, TransformObject},
};
use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RVec},
};

/// The components of one library, built once from the author's list.
pub struct Registry {
    components: Vec<Component>,
}

impl Registry {
    /// Wraps the author's component list, refusing duplicate names.
    pub fn new(components: Vec<Component>) -> Result<Self, PluginError> {
        for (i, c) in components.iter().enumerate() {
            if components[..i].iter().any(|o| o.info.name == c.info.name) {
                return Err(PluginError::new(format!(
                    "the library lists component `{}` twice",
                    c.info.name
                )));
            }
        }
        Ok(Self { components })
    }

    fn find(&self, kind: ComponentKind, name: &str) -> Result<&Component, PluginError> {
        self.components
            .iter()
            .find(|c| c.info.kind == kind && c.info.name == name)
            .ok_or_else(|| {
                PluginError::new(format!("this library has no {kind} component `{name}`"))
            })
    }

    fn settings(c: &Component, text: &str) -> Result<Settings, PluginError> {
        Settings::parse(text, c.info.params.as_slice())
    }
}

/// Supplies a library's registry and fingerprint to the generic root-module functions; the
/// export macro implements it on a type private to the plugin crate, whose statics are the
/// library's own.
#[doc(hidden)]
pub trait Source: 'static {
    fn registry() -> Result<&'static Registry, PluginError>;
    fn fingerprint() -> BuildFingerprint {
        BuildFingerprint::current()
    }
}

/// The name of the `u8` static [`export_plugin!`](crate::export_plugin) exports beside the root
/// module, which the host reads (`dlsym`) before calling anything: [`PANIC_UNWIND`] or
/// [`PANIC_ABORT`], the panic strategy the plugin crate was compiled with. Not part of the root
/// module, so that its layout does not change.
pub const PANIC_STRATEGY_SYMBOL: &str = "fuzzaug_panic_strategy";
/// The marker's value in a library built with `panic = "unwind"`.
pub const PANIC_UNWIND: u8 = b'U';
/// The marker's value in a library built with `panic = "abort"`.
pub const PANIC_ABORT: u8 = b'A';

extern "C" fn fingerprint<S: Source>() -> BuildFingerprint {
    // The lying fingerprints of test fixtures are the author's code: guard them too. A panic
    // yields a fingerprint no host accepts, naming the panic.
    guard::catch(S::fingerprint).unwrap_or_else(|text| BuildFingerprint {
        sdk: format!("fingerprint() panicked: {text}").into(),
        ..BuildFingerprint::current()
    })
}

extern "C" fn set_logger(host: HostLogger) {
    let _ = guard::call("plugin", "set_logger", || {
        logging::install(host);
        Ok(())
    });
}

extern "C" fn components<S: Source>() -> RResult<RVec<ComponentInfo>, PluginError> {
    guard::call("plugin", "components", || {
        Ok(S::registry()?
            .components
            .iter()
            .map(|c| c.info.clone())
            .collect())
    })
}

extern "C" fn new_dataset<S: Source>(
    name: RStr<'_>,
    settings: RStr<'_>,
    ctx: &ComponentContext,
) -> RResult<DatasetObject, PluginError> {
    guard::call(name.as_str(), "new", || {
        let c = S::registry()?.find(ComponentKind::Dataset, name.as_str())?;
        let Constructor::Dataset(make) = &c.ctor else {
            unreachable!("kind checked by find")
        };
        let inner = make(&Registry::settings(c, settings.as_str())?, ctx)?;
        let guarded = dataset::Guarded {
            name: name.to_string(),
            inner: std::mem::ManuallyDrop::new(inner),
        };
        Ok(DatasetObject::from_value(guarded, TD_Opaque))
    })
}

extern "C" fn new_transform<S: Source>(
    name: RStr<'_>,
    settings: RStr<'_>,
    ctx: &ComponentContext,
) -> RResult<TransformObject, PluginError> {
    guard::call(name.as_str(), "new", || {
        let c = S::registry()?.find(ComponentKind::Transform, name.as_str())?;
        let Constructor::Transform(make) = &c.ctor else {
            unreachable!("kind checked by find")
        };
        let inner = make(&Registry::settings(c, settings.as_str())?, ctx)?;
        let guarded = transform::Guarded {
            name: name.to_string(),
            inner: std::mem::ManuallyDrop::new(inner),
        };
        Ok(TransformObject::from_value(guarded, TD_Opaque))
    })
}

extern "C" fn new_strategy<S: Source>(
    name: RStr<'_>,
    settings: RStr<'_>,
    ctx: &ComponentContext,
    setup: &StrategySetup,
) -> RResult<StrategyObject, PluginError> {
    guard::call(name.as_str(), "new", || {
        let c = S::registry()?.find(ComponentKind::Strategy, name.as_str())?;
        let Constructor::Strategy(make) = &c.ctor else {
            unreachable!("kind checked by find")
        };
        let inner = make(&Registry::settings(c, settings.as_str())?, ctx, setup)?;
        let guarded = strategy::Guarded {
            name: name.to_string(),
            inner: std::mem::ManuallyDrop::new(inner),
        };
        Ok(StrategyObject::from_value(guarded, TD_Opaque))
    })
}

/// Builds the root module for the library whose components `S` supplies.
#[doc(hidden)]
pub fn root_module<S: Source>() -> PluginModRef {
    PluginMod {
        fingerprint: fingerprint::<S>,
        set_logger,
        components: components::<S>,
        new_dataset: new_dataset::<S>,
        new_transform: new_transform::<S>,
        new_strategy: new_strategy::<S>,
    }
    .leak_into_prefix()
}

/// Exports the plugin's root module. Pass a function `fn() -> Vec<Component>` listing the
/// library's components; call the macro once, at the crate root of a `cdylib`.
///
/// ```ignore
/// fn components() -> Vec<fuzzaug_sdk::Component> { vec![/* ... */] }
/// fuzzaug_sdk::export_plugin!(components);
/// ```
///
/// Every entry point it generates catches panics and returns them as [`PluginError`]s (a panic
/// in a component's `Drop` is logged instead); the component list is built on first use, once.
/// Beside the root module it exports the `u8` static `fuzzaug_panic_strategy`, the panic
/// strategy of the plugin crate: the host refuses a library built with `panic = "abort"`,
/// where no panic could be caught.
#[macro_export]
macro_rules! export_plugin {
    ($components:path) => {
        $crate::export_plugin!(@impl $components, $crate::BuildFingerprint::current);
    };
    // Test fixtures only: a library that lies about its build.
    ($components:path, fingerprint = $fingerprint:path) => {
        $crate::export_plugin!(@impl $components, $fingerprint);
    };
    (@impl $components:path, $fingerprint:path) => {
        #[doc(hidden)]
        pub struct FuzzaugPluginSource;

        impl $crate::export::Source for FuzzaugPluginSource {
            fn registry() -> ::std::result::Result<&'static $crate::Registry, $crate::PluginError> {
                static REGISTRY: ::std::sync::OnceLock<
                    ::std::result::Result<$crate::Registry, $crate::PluginError>,
                > = ::std::sync::OnceLock::new();
                REGISTRY.get_or_init(|| $crate::Registry::new($components())).as_ref().map_err(|e| e.clone())
            }
            fn fingerprint() -> $crate::BuildFingerprint {
                $fingerprint()
            }
        }

        fn fuzzaug_root_module() -> $crate::PluginModRef {
            $crate::export::root_module::<FuzzaugPluginSource>()
        }

        extern "C" fn fuzzaug_erased_root_module() -> $crate::abi_stable::library::RootModuleResult {
            $crate::abi_stable::library::__call_root_module_loader(fuzzaug_root_module)
        }

        // The panic strategy this crate is compiled with, read by the host before it calls
        // anything (`export::PANIC_STRATEGY_SYMBOL`, checked by a unit test of the SDK).
        #[doc(hidden)]
        #[unsafe(export_name = "fuzzaug_panic_strategy")]
        pub static FUZZAUG_PANIC_STRATEGY: u8 = if cfg!(panic = "unwind") {
            $crate::export::PANIC_UNWIND
        } else {
            $crate::export::PANIC_ABORT
        };

        // What abi_stable's `#[export_root_module]` generates, spelt with `$crate` so that
        // plugins need no direct abi_stable dependency. The symbol name is abi_stable's
        // `ROOT_MODULE_LOADER_NAME` (checked by a unit test of the SDK).
        #[doc(hidden)]
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static FUZZAUG_LIB_HEADER: $crate::abi_stable::library::LibHeader = unsafe {
            $crate::abi_stable::library::LibHeader::from_constructor::<$crate::PluginModRef>(
                fuzzaug_erased_root_module,
                $crate::abi_stable::library::CheckTypeLayout::Yes,
            )
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn exported_symbol_is_abi_stables_root_module_loader() {
        let src = include_str!("export.rs");
        let name = abi_stable::library::ROOT_MODULE_LOADER_NAME;
        assert!(
            src.contains(&format!("export_name = \"{name}\"")),
            "the export macro must export `{name}`"
        );
        let marker = super::PANIC_STRATEGY_SYMBOL;
        assert!(
            src.contains(&format!("export_name = \"{marker}\"")),
            "the export macro must export `{marker}`"
        );
    }
}
