//! From a config file to live components: load and validate the config, load the plugins it
//! needs, and build its dataset, genes and strategy, reporting every problem at its config key.
use crate::{
    cli::Overrides,
    config::{self, Config, ConfigError, Source},
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
        })
    }

    fn context(&self) -> ComponentContext {
        ComponentContext {
            seed: self.config.seed,
            config_dir: config_dir(&self.source.path).display().to_string().into(),
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
            let spec = gene_spec(&info, t.range, t.step)
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

/// The gene's space from the transform's limits and the config's range and step; an error is
/// (key inside the transform's table, message).
pub fn gene_spec(
    info: &TransformInfo,
    range: Option<[f64; 2]>,
    step: Option<f64>,
) -> Result<GeneSpec, (&'static str, String)> {
    let [lo, hi] = range.unwrap_or(info.default_range);
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
    Ok(GeneSpec {
        name: g.clone(),
        lo,
        hi,
        identity: info.identity,
        step: step.into(),
        mutation_step: info.mutation_step,
        low_loss_mutation_step: info.low_loss_mutation_step,
    })
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

    #[test]
    fn defaults_and_explicit_ranges() {
        let g = gene_spec(&rotation(), None, Some(1.0)).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-30.0, 30.0, Some(1.0)));
        let g = gene_spec(&rotation(), Some([-10.0, 20.0]), None).unwrap();
        assert_eq!((g.lo, g.hi, g.step.into_option()), (-10.0, 20.0, None));
    }

    #[test]
    fn bad_ranges_and_steps() {
        assert_eq!(
            gene_spec(&rotation(), Some([-200.0, 30.0]), None).unwrap_err(),
            (
                "range",
                "range [-200, 30] of `rotation` is outside its limits [-180, 180]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), Some([5.0, 30.0]), None)
                .unwrap_err()
                .1,
            "range [5, 30] of `rotation` must contain its identity value 0"
        );
        assert_eq!(
            gene_spec(&rotation(), None, Some(7.0)).unwrap_err(),
            (
                "step",
                "step 7 of `rotation` does not divide its range [-30, 30]".to_string()
            )
        );
        assert_eq!(
            gene_spec(&rotation(), Some([-5.0, 10.0]), Some(3.0))
                .unwrap_err()
                .1,
            "the grid of `rotation` ([-5, 10] by 3) misses its identity value 0"
        );
    }
}
