//! Component descriptions (what `fuzzaug plugins` lists) and the author-side registration.
use crate::{
    dataset::Dataset, error::PluginError, settings::Settings, strategy::Strategy,
    strategy::StrategySetup, transform::Transform,
};
use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};
use std::{
    fmt,
    path::{Path, PathBuf},
};

/// The three kinds of component a plugin can offer.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentKind {
    /// A source of images and labels.
    Dataset,
    /// One gene of the search space.
    Transform,
    /// An augmentation strategy.
    Strategy,
}

impl ComponentKind {
    /// The lower-case name used in configs and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dataset => "dataset",
            Self::Transform => "transform",
            Self::Strategy => "strategy",
        }
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TOML type a settings key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A TOML integer.
    Integer,
    /// A TOML float; integers are accepted too.
    Float,
    /// A TOML string.
    String,
    /// A TOML boolean.
    Bool,
    /// A TOML array.
    Array,
}

impl ParamType {
    /// The name stored in [`Param::ty`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Float => "float",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Array => "array",
        }
    }

    /// The inverse of [`ParamType::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Integer,
            Self::Float,
            Self::String,
            Self::Bool,
            Self::Array,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One settings key of a component: its schema, shown by `fuzzaug plugins` and enforced by the
/// SDK before the component's constructor runs.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct Param {
    /// Dotted key relative to the component's table, e.g. `selective.threshold`.
    pub name: RString,
    /// A [`ParamType`] name: `integer`, `float`, `string`, `bool` or `array`.
    pub ty: RString,
    /// The default as TOML text, or empty when the key is required.
    pub default: RString,
    /// One line for the user.
    pub doc: RString,
}

impl Param {
    /// An optional key with a default written as TOML (`"10"`, `"\"ce\""`, `"1e-3"`).
    pub fn optional(name: &str, ty: ParamType, default: &str, doc: &str) -> Self {
        Self {
            name: name.into(),
            ty: ty.as_str().into(),
            default: default.into(),
            doc: doc.into(),
        }
    }

    /// A key the user must set.
    pub fn required(name: &str, ty: ParamType, doc: &str) -> Self {
        Self::optional(name, ty, "", doc)
    }

    /// Whether the key must be present.
    pub fn is_required(&self) -> bool {
        self.default.is_empty()
    }
}

/// What the root module lists about one component.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ComponentInfo {
    /// Dataset, transform or strategy.
    pub kind: ComponentKind,
    /// The name configs use (`shapes`, `rotation`, `sensei`); unique across all loaded plugins.
    pub name: RString,
    /// One line for `fuzzaug plugins`.
    pub summary: RString,
    /// The settings keys the component accepts.
    pub params: RVec<Param>,
}

/// Run-wide facts handed to every constructor.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ComponentContext {
    /// The run's seed; components derive their own random streams from it.
    pub seed: u64,
    /// The folder of the config file, against which relative paths in settings resolve (see
    /// [`ComponentContext::resolve_path`]).
    pub config_dir: RString,
}

impl ComponentContext {
    /// `path`, a path from the component's settings, as the component must open it: an
    /// absolute path stays as it is, a relative one is taken from the config's folder
    /// ([`ComponentContext::config_dir`]), so a config works whatever folder `fuzzaug` runs in.
    ///
    /// `.` parts inside the result are dropped, so messages name `/data/cifar`, not
    /// `/data/./cifar`; `..` parts stay, since removing them is only right without symbolic
    /// links. [`Settings::path`] reads a path setting and resolves it in one step.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        Path::new(self.config_dir.as_str())
            .join(path)
            .components()
            .collect()
    }
}

pub(crate) type DatasetCtor = Box<
    dyn Fn(&Settings, &ComponentContext) -> Result<Box<dyn Dataset>, PluginError> + Send + Sync,
>;
pub(crate) type TransformCtor = Box<
    dyn Fn(&Settings, &ComponentContext) -> Result<Box<dyn Transform>, PluginError> + Send + Sync,
>;
pub(crate) type StrategyCtor = Box<
    dyn Fn(&Settings, &ComponentContext, &StrategySetup) -> Result<Box<dyn Strategy>, PluginError>
        + Send
        + Sync,
>;

pub(crate) enum Constructor {
    Dataset(DatasetCtor),
    Transform(TransformCtor),
    Strategy(StrategyCtor),
}

/// One component as the plugin author registers it: its description and its constructor.
/// Build the list with [`Component::dataset`], [`Component::transform`] and
/// [`Component::strategy`] and hand the function returning it to [`export_plugin!`](crate::export_plugin).
pub struct Component {
    pub(crate) info: ComponentInfo,
    pub(crate) ctor: Constructor,
}

impl Component {
    fn new(
        kind: ComponentKind,
        name: &str,
        summary: &str,
        params: Vec<Param>,
        ctor: Constructor,
    ) -> Self {
        let info = ComponentInfo {
            kind,
            name: name.into(),
            summary: summary.into(),
            params: params.into(),
        };
        Self { info, ctor }
    }

    /// A dataset component. `make` receives settings already checked against `params`.
    pub fn dataset<D, F>(name: &str, summary: &str, params: Vec<Param>, make: F) -> Self
    where
        D: Dataset,
        F: Fn(&Settings, &ComponentContext) -> Result<D, PluginError> + Send + Sync + 'static,
    {
        let ctor = Box::new(move |s: &Settings, c: &ComponentContext| {
            make(s, c).map(|d| Box::new(d) as Box<dyn Dataset>)
        });
        Self::new(
            ComponentKind::Dataset,
            name,
            summary,
            params,
            Constructor::Dataset(ctor),
        )
    }

    /// A transform component (one gene).
    pub fn transform<T, F>(name: &str, summary: &str, params: Vec<Param>, make: F) -> Self
    where
        T: Transform,
        F: Fn(&Settings, &ComponentContext) -> Result<T, PluginError> + Send + Sync + 'static,
    {
        let ctor = Box::new(move |s: &Settings, c: &ComponentContext| {
            make(s, c).map(|t| Box::new(t) as Box<dyn Transform>)
        });
        Self::new(
            ComponentKind::Transform,
            name,
            summary,
            params,
            Constructor::Transform(ctor),
        )
    }

    /// One settings-free transform component per `(name, summary, transform)` row of a static
    /// table (each component clones its row's transform).
    pub fn transform_table<T: Transform + Clone>(
        table: &'static [(&'static str, &'static str, T)],
    ) -> Vec<Self> {
        table
            .iter()
            .map(|(name, summary, t)| {
                Self::transform(name, summary, vec![], move |_settings, _ctx| Ok(t.clone()))
            })
            .collect()
    }

    /// A strategy component; `make` also receives the gene space and training-set size.
    pub fn strategy<S, F>(name: &str, summary: &str, params: Vec<Param>, make: F) -> Self
    where
        S: Strategy,
        F: Fn(&Settings, &ComponentContext, &StrategySetup) -> Result<S, PluginError>
            + Send
            + Sync
            + 'static,
    {
        let ctor = Box::new(
            move |s: &Settings, c: &ComponentContext, st: &StrategySetup| {
                make(s, c, st).map(|x| Box::new(x) as Box<dyn Strategy>)
            },
        );
        Self::new(
            ComponentKind::Strategy,
            name,
            summary,
            params,
            Constructor::Strategy(ctor),
        )
    }

    /// The component's description.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{Space, TransformInfo, TransformKind};

    #[derive(Clone)]
    struct Shift(f64);

    impl Transform for Shift {
        fn info(&self) -> TransformInfo {
            let space = Space {
                range: [-1.0, 1.0],
                identity: 0.0,
                step: 1.0,
                mutation: 1.0,
                low_loss_mutation: 1.0,
            };
            TransformInfo::new(
                "shift",
                "px",
                TransformKind::Geometric,
                [-self.0, self.0],
                space,
            )
        }
    }

    static TABLE: &[(&str, &str, Shift)] = &[
        ("shift2", "by two", Shift(2.0)),
        ("shift3", "by three", Shift(3.0)),
    ];

    #[test]
    fn paths_resolve_against_the_config_folder() {
        let ctx = |dir: &str| ComponentContext {
            seed: 0,
            config_dir: dir.into(),
        };
        let at = ctx("/configs");
        assert_eq!(
            at.resolve_path("data/cifar"),
            Path::new("/configs/data/cifar")
        );
        assert_eq!(at.resolve_path("/abs/./x"), Path::new("/abs/x"));
        assert_eq!(at.resolve_path("."), Path::new("/configs"));
        assert_eq!(at.resolve_path("./a/./b/"), Path::new("/configs/a/b"));
        assert_eq!(at.resolve_path("../up"), Path::new("/configs/../up"));
        assert_eq!(at.resolve_path(""), Path::new("/configs"));
        // A relative config folder (a config named as `x.toml`) keeps paths relative.
        assert_eq!(ctx(".").resolve_path("data"), Path::new("./data"));
        assert_eq!(ctx("").resolve_path("data"), Path::new("data"));
        assert_eq!(ctx("cfg/./sub").resolve_path("d"), Path::new("cfg/sub/d"));
    }

    #[test]
    fn a_transform_table_becomes_one_component_per_row() {
        let comps = Component::transform_table(TABLE);
        let names: Vec<&str> = comps.iter().map(|c| c.info().name.as_str()).collect();
        assert_eq!(names, ["shift2", "shift3"]);
        assert!(comps
            .iter()
            .all(|c| c.info().kind == ComponentKind::Transform && c.info().params.is_empty()));
        let Constructor::Transform(make) = &comps[1].ctor else {
            panic!("not a transform")
        };
        let ctx = ComponentContext {
            seed: 0,
            config_dir: ".".into(),
        };
        let t = make(&Settings::parse("", &[]).unwrap(), &ctx).unwrap();
        assert_eq!(t.info().limits, [-3.0, 3.0]);
    }
}
