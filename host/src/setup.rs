//! From a config file to live components: load and validate the config, load the plugins it
//! needs, and build its dataset, genes and strategy, reporting every problem at its config key.
use crate::{
    cli::Overrides,
    config::{self, Config, ConfigError, Source, TransformConfig},
    plugins::{
        DatasetHandle, Registry, RegistryError, SearchPath, StrategyHandle, TransformHandle,
    },
};
use fuzzaug_sdk::{ComponentContext, DatasetInfo, GeneSpec, StrategySetup, TransformInfo};
use std::path::{Path, PathBuf};

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

/// One gene: its transform and its space.
pub struct Gene {
    /// The transform component.
    pub transform: TransformHandle,
    /// What the transform says about itself.
    pub info: TransformInfo,
    /// Range, step and mutation steps as configured.
    pub spec: GeneSpec,
}

/// The components a config names, built.
pub struct Components {
    /// The dataset.
    pub dataset: DatasetHandle,
    /// Its metadata.
    pub dataset_info: DatasetInfo,
    /// Per-channel normalisation (mean, std) on the 0..1 scale: the dataset's, or the config's.
    pub normalization: (Vec<f32>, Vec<f32>),
    /// The genes, in chromosome order.
    pub genes: Vec<Gene>,
    /// The strategy.
    pub strategy: StrategyHandle,
}

/// The folder relative paths of `config` resolve against.
pub fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Experiment {
    /// Loads `path` with `overrides`, validates it, and loads the plugins on the search path.
    pub fn load(
        path: &Path,
        overrides: &Overrides,
        cli_plugin_dirs: &[PathBuf],
    ) -> anyhow::Result<Self> {
        Self::load_in(path, overrides, |config_dirs| {
            SearchPath::standard(cli_plugin_dirs, config_dirs)
        })
    }

    /// Like [`Experiment::load`], with the search path built by `search_path` from the
    /// config's `plugin_dirs` (resolved against the config's folder); for embedders and tests
    /// that must not search the executable's folder.
    pub fn load_in(
        path: &Path,
        overrides: &Overrides,
        search_path: impl FnOnce(&[PathBuf]) -> SearchPath,
    ) -> anyhow::Result<Self> {
        let (config, source) = config::load(path, &overrides.set)?;
        config::validate(&config, &source)?;
        let dir = config_dir(path);
        let config_dirs: Vec<PathBuf> = config.plugin_dirs.iter().map(|d| dir.join(d)).collect();
        let registry = Registry::discover(&search_path(&config_dirs), &config.plugins.sha256)
            .map_err(|e| match e {
                RegistryError::PinnedMissing(ref n) => anyhow::Error::new(
                    source.error_at(&format!("plugins.sha256.{n}"), e.to_string()),
                ),
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
        overrides: &Overrides,
        cli_plugin_dirs: &[PathBuf],
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
        let mut exp = Self::load_in(&path, overrides, |_| {
            SearchPath::standard(cli_plugin_dirs, &library_dirs)
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
        Ok(())
    }

    fn context(&self) -> ComponentContext {
        ComponentContext {
            seed: self.config.seed,
            config_dir: self.base_dir.display().to_string().into(),
        }
    }

    /// A registry error about the component whose table is at `table` (e.g. `transforms.2`),
    /// pointed at the key it concerns.
    fn located(&self, table: &str, e: RegistryError) -> anyhow::Error {
        let err: ConfigError = match &e {
            RegistryError::Unknown { .. } => self
                .source
                .error_at(&format!("{table}.name"), e.to_string()),
            RegistryError::Construct(call) if !call.error.key.is_empty() => self.source.error_at(
                &format!("{table}.{}", call.error.key),
                format!(
                    "{} `{}`: {}",
                    kind_of(table),
                    call.origin.component,
                    call.error.message
                ),
            ),
            RegistryError::Construct(call) if !call.error.panicked => self.source.error_at(
                table,
                format!(
                    "{} `{}`: {}",
                    kind_of(table),
                    call.origin.component,
                    call.error.message
                ),
            ),
            _ => return e.into(),
        };
        err.into()
    }

    /// Builds the dataset, the genes and the strategy.
    pub fn components(&self) -> anyhow::Result<Components> {
        let ctx = self.context();
        let c = &self.config;
        let dataset = self
            .registry
            .dataset(&c.dataset.name, &c.dataset.settings, &ctx)
            .map_err(|e| self.located("dataset", e))?;
        let dataset_info = dataset.info()?;
        let normalization = self.normalization(&dataset_info)?;
        let mut genes = Vec::with_capacity(c.transforms.len());
        for (i, t) in c.transforms.iter().enumerate() {
            let table = format!("transforms.{i}");
            let transform = self
                .registry
                .transform(&t.name, &t.settings, &ctx)
                .map_err(|e| self.located(&table, e))?;
            let info = transform.info()?;
            let spec = gene_spec(&info, t)
                .map_err(|(key, msg)| self.source.error_at(&format!("{table}.{key}"), msg))?;
            genes.push(Gene {
                transform,
                info,
                spec,
            });
        }
        let setup = StrategySetup {
            genes: genes.iter().map(|g| g.spec.clone()).collect(),
            num_samples: dataset_info.train_len,
            num_classes: dataset_info.classes.len() as u32,
        };
        let strategy = self
            .registry
            .strategy(&c.strategy.name, &c.strategy.settings, &ctx, &setup)
            .map_err(|e| self.located("strategy", e))?;
        Ok(Components {
            dataset,
            dataset_info,
            normalization,
            genes,
            strategy,
        })
    }
}

impl Experiment {
    /// The dataset's mean and std, or the config's overrides, checked against its channels.
    fn normalization(&self, info: &DatasetInfo) -> Result<(Vec<f32>, Vec<f32>), ConfigError> {
        let c = info.channels as usize;
        let pick =
            |key: &str, own: &[f32], set: &Option<Vec<f32>>| -> Result<Vec<f32>, ConfigError> {
                let v = set.clone().unwrap_or_else(|| own.to_vec());
                let at = format!("dataset.{key}");
                if v.len() != c {
                    let from = if set.is_some() {
                        "the config gives"
                    } else {
                        "the dataset reports"
                    };
                    return Err(self.source.error_at(
                        &at,
                        format!(
                            "`{key}` needs one value per channel ({c}), but {from} {}",
                            v.len()
                        ),
                    ));
                }
                if let Some(x) = v
                    .iter()
                    .find(|x| !x.is_finite() || (key == "std" && **x <= 0.0))
                {
                    return Err(self.source.error_at(
                        &at,
                        format!(
                            "`{key}` values must be finite{}, got {x}",
                            if key == "std" { " and positive" } else { "" }
                        ),
                    ));
                }
                Ok(v)
            };
        let d = &self.config.dataset;
        Ok((
            pick("mean", &info.mean, &d.mean)?,
            pick("std", &info.std, &d.std)?,
        ))
    }
}

fn kind_of(table: &str) -> &'static str {
    match table.split('.').next() {
        Some("dataset") => "dataset",
        Some("strategy") => "strategy",
        _ => "transform",
    }
}

/// The gene's space from the transform's limits and the config's range, step and mutation
/// steps; an error is (key inside the transform's table, message).
pub fn gene_spec(
    info: &TransformInfo,
    t: &TransformConfig,
) -> Result<GeneSpec, (&'static str, String)> {
    let step = t.step;
    let [lo, hi] = t.range.unwrap_or(info.default_range);
    let [min, max] = info.limits;
    let g = &info.gene;
    if lo < min || hi > max {
        return Err((
            "range",
            format!("range [{lo}, {hi}] of `{g}` is outside its limits [{min}, {max}]"),
        ));
    }
    if !(lo <= info.identity && info.identity <= hi) {
        return Err((
            "range",
            format!(
                "range [{lo}, {hi}] of `{g}` must contain its identity value {}",
                info.identity
            ),
        ));
    }
    if let Some(step) = step {
        let on_grid = |v: f64| ((v - lo) / step - ((v - lo) / step).round()).abs() < 1e-6;
        if !on_grid(hi) {
            return Err((
                "step",
                format!("step {step} of `{g}` does not divide its range [{lo}, {hi}]"),
            ));
        }
        if !on_grid(info.identity) {
            return Err((
                "step",
                format!(
                    "the grid of `{g}` ([{lo}, {hi}] by {step}) misses its identity value {}",
                    info.identity
                ),
            ));
        }
    }
    let (mutation_step, low_loss_mutation_step) = mutation_steps(info, t)?;
    Ok(GeneSpec {
        name: g.clone(),
        lo,
        hi,
        identity: info.identity,
        step: step.into(),
        mutation_step,
        low_loss_mutation_step,
    })
}

/// The gene's two mutation steps: the config's, else the transform's (the low-loss one scaled
/// with a configured `mutation_step`). A move is snapped to the nearest grid point, so on a grid
/// each step must be more than half a grid step (or ±step rounds back onto the gene's value)
/// and not an odd number of half steps (or +step and −step round to different distances, one
/// of them possibly none): either would bias the search.
fn mutation_steps(
    info: &TransformInfo,
    t: &TransformConfig,
) -> Result<(f64, f64), (&'static str, String)> {
    let g = &info.gene;
    let normal = t.mutation_step.unwrap_or(info.mutation_step);
    let low = t.low_loss_mutation_step.unwrap_or(match t.mutation_step {
        Some(m) if info.mutation_step > 0.0 => m * info.low_loss_mutation_step / info.mutation_step,
        _ => info.low_loss_mutation_step,
    });
    for (key, value, set) in [
        ("mutation_step", normal, t.mutation_step.is_some()),
        (
            "low_loss_mutation_step",
            low,
            t.low_loss_mutation_step.is_some(),
        ),
    ] {
        let origin = if set {
            "".to_string()
        } else {
            format!(" (the transform's default; set `{key}` to change it)")
        };
        if !(value.is_finite() && value > 0.0) {
            return Err((
                if set { key } else { "name" },
                format!("{key} {value} of `{g}` must be a number above 0{origin}"),
            ));
        }
        if let Some(step) = t.step {
            let k = value / step;
            let problem = if k < 0.5 + 1e-9 {
                Some("±step would round back onto the gene's value")
            } else if (k - k.floor() - 0.5).abs() < 1e-9 {
                Some("+step and −step would round to different distances")
            } else {
                None
            };
            if let Some(problem) = problem {
                let k = (k * 1000.0).round() / 1000.0;
                return Err((
                    if set { key } else { "step" },
                    format!(
                        "{key} {value} of `{g}`{origin} is {k} grid steps of {step}: {problem}; use a whole number of grid steps"
                    ),
                ));
            }
        }
    }
    Ok((normal, low))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::TransformKind;

    /// A made-up geometric gene: limits ±180, default range ±30 by 1, identity 0.
    fn rotation() -> TransformInfo {
        TransformInfo {
            gene: "rotation".into(),
            unit: "degrees".into(),
            kind: TransformKind::Geometric,
            limits: [-180.0, 180.0],
            default_range: [-30.0, 30.0],
            identity: 0.0,
            default_step: Some(1.0).into(),
            mutation_step: 1.0,
            low_loss_mutation_step: 2.0,
        }
    }

    fn config(range: Option<[f64; 2]>, step: Option<f64>) -> TransformConfig {
        TransformConfig {
            name: "rotation".into(),
            range,
            step,
            mutation_step: None,
            low_loss_mutation_step: None,
            settings: Default::default(),
        }
    }

    fn with_steps(step: f64, mutation: Option<f64>, low: Option<f64>) -> TransformConfig {
        TransformConfig {
            mutation_step: mutation,
            low_loss_mutation_step: low,
            ..config(None, Some(step))
        }
    }

    #[test]
    fn defaults_and_explicit_ranges() {
        let g = gene_spec(&rotation(), &config(None, Some(1.0))).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-30.0, 30.0, Some(1.0)));
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (1.0, 2.0));
        let g = gene_spec(&rotation(), &config(Some([-10.0, 20.0]), None)).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-10.0, 20.0, None));
    }

    #[test]
    fn mutation_steps_from_the_config_scale_the_low_loss_one() {
        let g = gene_spec(&rotation(), &with_steps(1.0, Some(6.0), None)).unwrap();
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (6.0, 12.0));
        let g = gene_spec(&rotation(), &with_steps(2.0, Some(4.0), Some(2.0))).unwrap();
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (4.0, 2.0));
        // Continuous: any positive step.
        let g = gene_spec(
            &rotation(),
            &TransformConfig {
                mutation_step: Some(0.37),
                ..config(None, None)
            },
        )
        .unwrap();
        assert_eq!(g.mutation_step, 0.37);
    }

    #[test]
    fn a_mutation_step_that_does_not_move_the_gene_on_its_grid_is_refused() {
        let err = |t: &TransformConfig| gene_spec(&rotation(), t).unwrap_err();
        assert_eq!(
            err(&with_steps(5.0, Some(1.0), None)),
            (
                "mutation_step",
                "mutation_step 1 of `rotation` is 0.2 grid steps of 5: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(2.0, Some(1.0), Some(2.0))).1,
            "mutation_step 1 of `rotation` is 0.5 grid steps of 2: ±step would round back onto the gene's value; use a whole number of grid steps"
        );
        assert_eq!(
            err(&with_steps(2.0, Some(3.0), Some(6.0))),
            (
                "mutation_step",
                "mutation_step 3 of `rotation` is 1.5 grid steps of 2: +step and −step would round to different distances; use a whole number of grid steps".to_string()
            )
        );
        // 0.6 grid steps moves one grid step either way: accepted.
        assert!(gene_spec(&rotation(), &with_steps(10.0, Some(6.0), Some(12.0))).is_ok());
        // The transform's default (1 degree) on a grid of 3: the step is what to change.
        assert_eq!(
            err(&config(Some([-30.0, 30.0]), Some(3.0))),
            (
                "step",
                "mutation_step 1 of `rotation` (the transform's default; set `mutation_step` to change it) is 0.333 grid steps of 3: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(1.0, Some(2.0), Some(0.5))),
            (
                "low_loss_mutation_step",
                "low_loss_mutation_step 0.5 of `rotation` is 0.5 grid steps of 1: ±step would round back onto the gene's value; use a whole number of grid steps".to_string()
            )
        );
        assert_eq!(
            err(&with_steps(1.0, Some(-1.0), None)),
            (
                "mutation_step",
                "mutation_step -1 of `rotation` must be a number above 0".to_string()
            )
        );
    }

    #[test]
    fn bad_ranges_and_steps() {
        assert_eq!(
            gene_spec(&rotation(), &config(Some([-200.0, 30.0]), None)).unwrap_err(),
            (
                "range",
                "range [-200, 30] of `rotation` is outside its limits [-180, 180]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), &config(Some([5.0, 30.0]), None))
                .unwrap_err()
                .1,
            "range [5, 30] of `rotation` must contain its identity value 0"
        );
        assert_eq!(
            gene_spec(&rotation(), &config(None, Some(7.0))).unwrap_err(),
            (
                "step",
                "step 7 of `rotation` does not divide its range [-30, 30]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), &config(Some([-5.0, 10.0]), Some(3.0)))
                .unwrap_err()
                .1,
            "the grid of `rotation` ([-5, 10] by 3) misses its identity value 0"
        );
    }
}
