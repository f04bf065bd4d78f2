//! Every component of every library on the search path, by name.
use super::{
    handles::{CallError, DatasetHandle, Origin, StrategyHandle, TransformHandle},
    library::{Library, LoadError},
    search_path::{library_name, SearchPath},
};
use abi_stable::std_types::RResult;
use fuzzaug_sdk::{
    settings::did_you_mean, ComponentContext, ComponentInfo, ComponentKind, PluginError,
    StrategySetup,
};
use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

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
    /// A `[plugins] isolate` entry names neither a library nor a component.
    #[error("`{name}` is neither a plugin library nor a component on the plugin search path{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    IsolateUnknown {
        /// The entry.
        name: String,
        /// The closest name there is.
        suggestion: Option<String>,
    },
    /// No component of that kind and name.
    #[error("{}", unknown_message(.kind, .name, .valid, .refused))]
    Unknown {
        /// The kind asked for.
        kind: ComponentKind,
        /// The name asked for.
        name: String,
        /// The names of that kind that exist.
        valid: Vec<String>,
        /// The libraries on the search path that were not loaded, one of which may offer it.
        refused: Vec<Refused>,
    },
    /// The component's constructor refused its settings or failed.
    #[error(transparent)]
    Construct(#[from] CallError),
}

fn unknown_message(
    kind: &ComponentKind,
    name: &str,
    valid: &[String],
    refused: &[Refused],
) -> String {
    let names: Vec<&str> = valid.iter().map(String::as_str).collect();
    let hint = did_you_mean(name, &names)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    let mut msg = if names.is_empty() {
        format!("unknown {kind} `{name}`: no {kind} component is loaded (check the plugin search path with `fuzzaug plugins`)")
    } else {
        format!(
            "unknown {kind} `{name}`; {hint}valid {kind} names: {}",
            names.join(", ")
        )
    };
    for r in refused {
        let _ = write!(
            msg,
            "\n`{name}` may be in {}, which was not loaded: {}",
            r.path.display(),
            r.reason
        );
    }
    msg
}

/// A library on the search path that was not loaded, and why.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Its path (canonical where it could be resolved).
    pub path: PathBuf,
    /// Why: the loader's message (which starts with the path), or why it was skipped.
    pub reason: String,
}

/// Loads `file` in an isolated child when `isolated`, or when one of its components is in
/// `by_component` (learnt by loading it in a child, which is then kept); otherwise in this
/// process.
fn load_one(
    file: &Path,
    pin: Option<&str>,
    isolated: bool,
    by_component: &[&String],
) -> Result<Library, LoadError> {
    if isolated {
        log::debug!("loading plugin {} in an isolated process", file.display());
        return Library::isolated(file, pin);
    }
    if !by_component.is_empty() {
        let lib = Library::isolated(file, pin)?;
        if lib
            .components
            .iter()
            .any(|c| by_component.iter().any(|n| **n == c.name.as_str()))
        {
            log::debug!("loading plugin {} in an isolated process", file.display());
            return Ok(lib);
        }
    }
    log::debug!("loading plugin {}", file.display());
    Library::load(file, pin)
}

/// The loaded libraries and their components.
pub struct Registry {
    libraries: Vec<Library>,
    /// Component name → (library index, component index).
    index: BTreeMap<String, (usize, usize)>,
    /// Libraries found but not loaded.
    refused: Vec<Refused>,
}

impl Registry {
    /// Loads every library on `path`, checking `pins` (library name → SHA-256); see
    /// [`Registry::discover_with`].
    pub fn discover(
        path: &SearchPath,
        pins: &BTreeMap<String, String>,
    ) -> Result<Self, RegistryError> {
        Self::discover_with(path, pins, false, &[])
    }

    /// Loads the libraries on `path`, checking `pins` (library name → SHA-256). With
    /// `only_pinned`, a library without a pin is skipped (logged at info level) and none of its
    /// code runs. A library named in `isolate`, or offering a component named there, is loaded
    /// in an isolated child process instead of this one ([`Library::isolated`]). A library that
    /// is refused is recorded, with a warning, and the others load: asking for a component that
    /// is not loaded then names it and why (see [`Registry::refused`]). A refused pinned library
    /// is an error, and so is an `isolate` entry that names nothing on the path.
    pub fn discover_with(
        path: &SearchPath,
        pins: &BTreeMap<String, String>,
        only_pinned: bool,
        isolate: &[String],
    ) -> Result<Self, RegistryError> {
        let files = path.libraries().map_err(RegistryError::SearchPath)?;
        if let Some(missing) = pins
            .keys()
            .find(|n| !files.iter().any(|f| library_name(f) == Some(n.as_str())))
        {
            return Err(RegistryError::PinnedMissing(missing.clone()));
        }
        // Entries that are not library names name components: every library is then first
        // loaded in a child, to learn its components without running it here.
        let by_component: Vec<&String> = isolate
            .iter()
            .filter(|n| !files.iter().any(|f| library_name(f) == Some(n.as_str())))
            .collect();
        let mut libraries = Vec::with_capacity(files.len());
        let mut refused = Vec::new();
        for f in &files {
            let name = library_name(f);
            let pin = name.and_then(|n| pins.get(n)).map(String::as_str);
            if only_pinned && pin.is_none() {
                log::info!(
                    "skipping plugin {}: `[plugins] only_pinned` is set and it has no pin in `[plugins] sha256`",
                    f.display()
                );
                refused.push(Refused {
                    path: f.clone(),
                    reason: format!("{}: skipped: `[plugins] only_pinned` loads only the libraries pinned in `[plugins] sha256`, and this one is not pinned (`fuzzaug plugins --json` shows its sha256)", f.display()),
                });
                continue;
            }
            let isolated = name.is_some_and(|n| isolate.iter().any(|i| i == n));
            match load_one(f, pin, isolated, &by_component) {
                Ok(lib) => libraries.push(lib),
                Err(e) if pin.is_some() => return Err(e.into()),
                Err(e) => {
                    log::warn!("skipping plugin library: {e}");
                    refused.push(Refused {
                        path: f.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        let mut me = Self::from_libraries(libraries)?;
        me.refused = refused;
        if let Some(unknown) = isolate.iter().find(|n| !me.offers(n)) {
            return Err(RegistryError::IsolateUnknown {
                name: unknown.clone(),
                suggestion: me.closest_name(unknown),
            });
        }
        Ok(me)
    }

    /// Whether `name` is a loaded library's name or one of its components.
    fn offers(&self, name: &str) -> bool {
        self.index.contains_key(name) || self.libraries.iter().any(|l| l.name() == name)
    }

    /// The library or component name closest to `name`, if one is close.
    fn closest_name(&self, name: &str) -> Option<String> {
        let names: Vec<&str> = self
            .libraries
            .iter()
            .map(Library::name)
            .chain(self.index.keys().map(String::as_str))
            .collect();
        did_you_mean(name, &names).map(str::to_string)
    }

    /// The libraries on the search path that were not loaded, in search order.
    pub fn refused(&self) -> &[Refused] {
        &self.refused
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
        Ok(Self {
            libraries,
            index,
            refused: Vec::new(),
        })
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
                refused: self.refused.clone(),
            }),
        }
    }

    fn make<T, O>(
        &self,
        kind: ComponentKind,
        name: &str,
        settings: &toml::Table,
        ctor: impl FnOnce(&Library, &str, &str) -> RResult<O, PluginError>,
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
        match ctor(lib, name, &text).into_result() {
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
            |lib, n, s| lib.new_dataset(n, s, ctx),
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
            |lib, n, s| lib.new_transform(n, s, ctx),
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
            |lib, n, s| lib.new_strategy(n, s, ctx, setup),
            |obj, origin| StrategyHandle { obj, origin },
        )
    }
}
