//! Every component of every library on the search path, by name.
use super::{
    handles::{CallError, DatasetHandle, Origin, StrategyHandle, TransformHandle},
    library::{Library, LoadError},
    search_path::{library_name, SearchPath},
};
use abi_stable::std_types::{RResult, RStr};
use fuzzaug_sdk::{
    settings::did_you_mean, ComponentContext, ComponentInfo, ComponentKind, PluginError,
    StrategySetup,
};
use std::{collections::BTreeMap, path::PathBuf};

/// Why the registry could not be built or a component not found or made.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The search path could not be listed.
    #[error("{0}")]
    SearchPath(String),
    /// A library was refused.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Two libraries offer the same component.
    #[error("component `{name}` is offered by two plugin libraries: {first} and {second}; remove one of them from the plugin search path")]
    Duplicate {
        /// The component.
        name: String,
        /// The library seen first.
        first: PathBuf,
        /// The other one.
        second: PathBuf,
    },
    /// A `[plugins] sha256` pin names a library that was not found.
    #[error("the config pins plugin `{0}` by SHA-256 ([plugins] sha256), but no libfuzzaug_{0}.so is on the plugin search path")]
    PinnedMissing(String),
    /// No component of that kind and name.
    #[error("{}", unknown_message(.kind, .name, .valid))]
    Unknown {
        /// The kind asked for.
        kind: ComponentKind,
        /// The name asked for.
        name: String,
        /// The names of that kind that exist.
        valid: Vec<String>,
    },
    /// The component's constructor refused its settings or failed.
    #[error(transparent)]
    Construct(#[from] CallError),
}

fn unknown_message(kind: &ComponentKind, name: &str, valid: &[String]) -> String {
    let names: Vec<&str> = valid.iter().map(String::as_str).collect();
    let hint = did_you_mean(name, &names)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    if names.is_empty() {
        format!("unknown {kind} `{name}`: no {kind} component is loaded (check the plugin search path with `fuzzaug plugins`)")
    } else {
        format!(
            "unknown {kind} `{name}`; {hint}valid {kind} names: {}",
            names.join(", ")
        )
    }
}

/// The loaded libraries and their components.
pub struct Registry {
    libraries: Vec<Library>,
    /// Component name → (library index, component index).
    index: BTreeMap<String, (usize, usize)>,
}

impl Registry {
    /// Loads every library on `path`, checking `pins` (library name → SHA-256).
    pub fn discover(
        path: &SearchPath,
        pins: &BTreeMap<String, String>,
    ) -> Result<Self, RegistryError> {
        let files = path.libraries().map_err(RegistryError::SearchPath)?;
        if let Some(missing) = pins
            .keys()
            .find(|n| !files.iter().any(|f| library_name(f) == Some(n.as_str())))
        {
            return Err(RegistryError::PinnedMissing(missing.clone()));
        }
        let mut libraries = Vec::with_capacity(files.len());
        for f in &files {
            let pin = library_name(f)
                .and_then(|n| pins.get(n))
                .map(String::as_str);
            log::debug!("loading plugin {}", f.display());
            libraries.push(Library::load(f, pin)?);
        }
        Self::from_libraries(libraries)
    }

    /// Indexes already loaded libraries, refusing duplicate component names.
    pub fn from_libraries(libraries: Vec<Library>) -> Result<Self, RegistryError> {
        let mut index: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (li, lib) in libraries.iter().enumerate() {
            for (ci, c) in lib.components.iter().enumerate() {
                if let Some(&(other, _)) = index.get(c.name.as_str()) {
                    return Err(RegistryError::Duplicate {
                        name: c.name.to_string(),
                        first: libraries[other].path.clone(),
                        second: lib.path.clone(),
                    });
                }
                index.insert(c.name.to_string(), (li, ci));
            }
        }
        Ok(Self { libraries, index })
    }

    /// The loaded libraries, in search order.
    pub fn libraries(&self) -> &[Library] {
        &self.libraries
    }

    /// Every component with its library, sorted by kind then name.
    pub fn components(&self) -> Vec<(&ComponentInfo, &Library)> {
        let mut all: Vec<_> = self
            .index
            .values()
            .map(|&(l, c)| (&self.libraries[l].components[c], &self.libraries[l]))
            .collect();
        all.sort_by(|a, b| (a.0.kind, a.0.name.as_str()).cmp(&(b.0.kind, b.0.name.as_str())));
        all
    }

    /// The component `name` of `kind`, or an error listing the valid names.
    pub fn find(
        &self,
        kind: ComponentKind,
        name: &str,
    ) -> Result<(&ComponentInfo, &Library), RegistryError> {
        match self.index.get(name) {
            Some(&(l, c)) if self.libraries[l].components[c].kind == kind => {
                Ok((&self.libraries[l].components[c], &self.libraries[l]))
            }
            _ => Err(RegistryError::Unknown {
                kind,
                name: name.to_string(),
                valid: self
                    .components()
                    .iter()
                    .filter(|(c, _)| c.kind == kind)
                    .map(|(c, _)| c.name.to_string())
                    .collect(),
            }),
        }
    }

    fn make<T, O>(
        &self,
        kind: ComponentKind,
        name: &str,
        settings: &toml::Table,
        ctor: impl FnOnce(&Library, RStr<'_>, RStr<'_>) -> RResult<O, PluginError>,
        wrap: impl FnOnce(O, Origin) -> T,
    ) -> Result<T, RegistryError> {
        let (_, lib) = self.find(kind, name)?;
        let origin = Origin {
            component: name.to_string(),
            library: lib.path.clone(),
        };
        let text = toml::to_string(settings).map_err(|e| {
            let msg = format!("settings cannot be written as TOML: {e}");
            CallError::new(&origin, "new", PluginError::new(msg))
        })?;
        match ctor(lib, name.into(), text.as_str().into()).into_result() {
            Ok(obj) => Ok(wrap(obj, origin)),
            Err(error) => Err(CallError::new(&origin, "new", error).into()),
        }
    }

    /// Builds dataset `name` with its settings table.
    pub fn dataset(
        &self,
        name: &str,
        settings: &toml::Table,
        ctx: &ComponentContext,
    ) -> Result<DatasetHandle, RegistryError> {
        self.make(
            ComponentKind::Dataset,
            name,
            settings,
            |lib, n, s| (lib.module.new_dataset())(n, s, ctx),
            |obj, origin| DatasetHandle { obj, origin },
        )
    }

    /// Builds transform `name` with its settings table.
    pub fn transform(
        &self,
        name: &str,
        settings: &toml::Table,
        ctx: &ComponentContext,
    ) -> Result<TransformHandle, RegistryError> {
        self.make(
            ComponentKind::Transform,
            name,
            settings,
            |lib, n, s| (lib.module.new_transform())(n, s, ctx),
            |obj, origin| TransformHandle { obj, origin },
        )
    }

    /// Builds strategy `name` for `setup`.
    pub fn strategy(
        &self,
        name: &str,
        settings: &toml::Table,
        ctx: &ComponentContext,
        setup: &StrategySetup,
    ) -> Result<StrategyHandle, RegistryError> {
        self.make(
            ComponentKind::Strategy,
            name,
            settings,
            |lib, n, s| (lib.module.new_strategy())(n, s, ctx, setup),
            |obj, origin| StrategyHandle { obj, origin },
        )
    }
}
