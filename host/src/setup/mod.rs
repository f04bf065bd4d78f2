//! From a config file to live components: load and validate the config and find the plugins
//! it needs ([`Experiment`]), then build its dataset, genes and strategy ([`components`]),
//! reporting every problem at its config key. No CLI type appears here: overrides are the
//! `KEY=VALUE` strings of `--set`.
mod components;
mod genes;
mod normalization;

pub use components::{Components, Gene};
pub use genes::gene_spec;

use crate::{
    config::{self, Config, Source},
    plugins::{Registry, RegistryError, SearchPath},
};
use fuzzaug_sdk::ComponentContext;
use std::path::{Path, PathBuf};

/// What the command line adds to a config's plugin settings (`--plugin-dir`, `--isolate`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginFlags {
    /// Folders searched before the config's `plugin_dirs`.
    pub dirs: Vec<PathBuf>,
    /// Libraries or components to isolate, besides the config's `[plugins] isolate`.
    pub isolate: Vec<String>,
}

/// A loaded, validated config and the plugins on its search path.
pub struct Experiment {
    /// The config.
    pub config: Config,
    /// Its text, for error locations.
    pub source: Source,
    /// Its plugins.
    pub registry: Registry,
    /// The folder relative paths of the config resolve against (dataset paths, plugin
    /// folders): the config's own folder, or, for a run resumed from its directory, the folder
    /// of the config it was started from.
    pub base_dir: PathBuf,
}

/// The folder relative paths of `config` resolve against.
pub fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The `[model]` keys that name files, relative to the config's folder.
pub const MODEL_FILES: [&str; 2] = ["init", "torchscript"];

/// `path` as written in a config whose folder is `base`: absolute paths as they are, relative
/// ones under `base` (without a leading `./` when `base` is the working directory, so messages
/// show the path as the user wrote it).
pub fn relative_to(base: &Path, path: &Path) -> PathBuf {
    if base == Path::new(".") || base.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

impl Experiment {
    /// Loads `path` with `overrides`, validates it, and loads the plugins on the search path.
    pub fn load(path: &Path, overrides: &[String], flags: &PluginFlags) -> anyhow::Result<Self> {
        Self::load_in(path, overrides, &flags.isolate, |config_dirs| {
            SearchPath::standard(&flags.dirs, config_dirs)
        })
    }

    /// Like [`Experiment::load`], with the search path built by `search_path` from the
    /// config's `plugin_dirs` (resolved against the config's folder), and `isolate` added to
    /// its `[plugins] isolate`; for embedders and tests that must not search the executable's
    /// folder.
    pub fn load_in(
        path: &Path,
        overrides: &[String],
        isolate: &[String],
        search_path: impl FnOnce(&[PathBuf]) -> SearchPath,
    ) -> anyhow::Result<Self> {
        let (mut config, source) = config::load(path, overrides)?;
        config::validate(&config, &source)?;
        let config_isolate = config.plugins.isolate.clone();
        for name in isolate {
            if !config.plugins.isolate.contains(name) {
                config.plugins.isolate.push(name.clone());
            }
        }
        let dir = config_dir(path);
        let config_dirs: Vec<PathBuf> = config.plugin_dirs.iter().map(|d| dir.join(d)).collect();
        let registry = Registry::discover_with(
            &search_path(&config_dirs),
            &config.plugins.sha256,
            config.plugins.only_pinned,
            &config.plugins.isolate,
        )
        .map_err(|e| match e {
            RegistryError::PinnedMissing(ref n) => {
                anyhow::Error::new(source.error_at(&format!("plugins.sha256.{n}"), e.to_string()))
            }
            RegistryError::IsolateUnknown { ref name, .. } => {
                match config_isolate.iter().position(|n| n == name) {
                    Some(i) => anyhow::Error::new(
                        source.error_at(&format!("plugins.isolate.{i}"), e.to_string()),
                    ),
                    None => anyhow::anyhow!("--isolate {name}: {e}"),
                }
            }
            other => other.into(),
        })?;
        Ok(Self {
            config,
            source,
            registry,
            base_dir: dir,
        })
    }

    /// Loads the resolved `config.toml` of the run directory `run_dir` (with `overrides`), so
    /// that the run is resumed with exactly its own settings: relative paths resolve against
    /// the folder of the config it was started from and plugins are looked for first where the
    /// run found them (both from the file's provenance), the run directory is `run_dir`.
    pub fn load_run(
        run_dir: &Path,
        overrides: &[String],
        flags: &PluginFlags,
    ) -> anyhow::Result<Self> {
        let path = crate::rundir::RunDir::new(run_dir).config();
        let (resolved, provenance) = crate::rundir::resolved::read(&path)?;
        let Some(base) = provenance.as_ref().and_then(|p| p.config_dir.clone()) else {
            anyhow::bail!(
                "{} does not say which config started the run (no `config_dir` in its [fuzzaug] table: written by an older fuzzaug, or not by `fuzzaug run`); resume with that config: `fuzzaug run CONFIG --resume`",
                path.display()
            );
        };
        let mut library_dirs: Vec<PathBuf> = Vec::new();
        for lib in provenance.iter().flat_map(|p| p.plugins.values()) {
            if let Some(d) = Path::new(&lib.path).parent().filter(|d| d.is_dir()) {
                if !library_dirs.iter().any(|x| x == d) {
                    library_dirs.push(d.to_path_buf());
                }
            }
        }
        // Then the config's own plugin folders, relative to where it was.
        library_dirs.extend(
            resolved
                .plugin_dirs
                .iter()
                .map(|d| Path::new(&base).join(d)),
        );
        let mut exp = Self::load_in(&path, overrides, &flags.isolate, |_| {
            SearchPath::standard(&flags.dirs, &library_dirs)
        })?;
        exp.base_dir = PathBuf::from(base);
        let name = run_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        exp.config.output_dir = config_dir(&std::path::absolute(run_dir)?);
        exp.config.name = name;
        Ok(exp)
    }

    /// What a run would otherwise find only once started, checked without writing anything:
    /// the device exists, and the run directory can go where the config puts it. Errors point at
    /// the key.
    pub fn preflight(&self) -> anyhow::Result<()> {
        crate::train::device(&self.config.device)
            .map_err(|e| self.source.error_at("device", format!("{e:#}")))?;
        config::check_output_dir(&self.config, &self.source)?;
        let model = &self.config.model;
        let files = MODEL_FILES
            .into_iter()
            .zip([model.init.as_ref(), model.torchscript.as_ref()]);
        for (key, file) in files {
            let key = format!("model.{key}");
            let key = key.as_str();
            if let Some(file) = file {
                let path = relative_to(&self.base_dir, file);
                if !path.exists() {
                    return Err(self
                        .source
                        .error_at(key, format!("`{key}`: {} does not exist", path.display()))
                        .into());
                }
            }
        }
        Ok(())
    }

    pub(crate) fn context(&self) -> ComponentContext {
        ComponentContext {
            seed: self.config.seed,
            config_dir: self.base_dir.display().to_string().into(),
        }
    }
}
