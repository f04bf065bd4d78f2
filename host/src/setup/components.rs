//! Building a config's components from its plugins: the dataset, one transform per gene, the
//! strategy; a plugin's refusal is reported at the key of the table it concerns.
use super::{genes::gene_spec, Experiment};
use crate::{
    config::{ComponentConfig, ConfigError, Source, TransformConfig},
    plugins::{answers::GeneRange, DatasetHandle, RegistryError, StrategyHandle, TransformHandle},
};
use fuzzaug_sdk::{
    settings::did_you_mean, ComponentContext, ComponentKind, DatasetInfo, GeneSpec, StrategySetup,
    TransformInfo,
};

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
    /// `[model] torchscript`, resolved against the config's folder: the module the network is,
    /// instead of a built-in architecture.
    pub model_file: Option<std::path::PathBuf>,
}

/// Per-channel (mean, std) on the 0..1 scale.
pub type Normalization = (Vec<f32>, Vec<f32>);

/// The config table of one component: `dataset`, `transforms.<i>` or `strategy`; or an
/// attacker, `protocols.<i>` of a threat file (`eval.protocols.<i>` in a config).
#[derive(Debug, Clone, Copy)]
enum Table {
    Dataset,
    Transform(usize),
    Strategy,
    Attacker { index: usize, in_config: bool },
}

impl Table {
    fn kind(self) -> ComponentKind {
        match self {
            Self::Dataset => ComponentKind::Dataset,
            Self::Transform(_) => ComponentKind::Transform,
            Self::Strategy | Self::Attacker { .. } => ComponentKind::Strategy,
        }
    }

    /// The table's dotted key.
    fn key(self) -> String {
        match self {
            Self::Transform(i) => format!("transforms.{i}"),
            Self::Attacker { index, in_config } => {
                format!("{}protocols.{index}", if in_config { "eval." } else { "" })
            }
            other => other.kind().as_str().to_string(),
        }
    }

    /// The key of the component's name.
    fn name_key(self) -> String {
        match self {
            Self::Attacker { .. } => format!("{}.strategy", self.key()),
            other => format!("{}.name", other.key()),
        }
    }

    /// The key of one of the component's settings.
    fn setting_key(self, setting: &str) -> String {
        match self {
            Self::Attacker { .. } => format!("{}.settings.{setting}", self.key()),
            other => format!("{}.{setting}", other.key()),
        }
    }
}

impl Experiment {
    /// A registry error about the component whose table is at `table` (e.g. `transforms.2`),
    /// pointed at the key it concerns.
    fn located(&self, table: Table, e: RegistryError) -> anyhow::Error {
        located_in(&self.source, table, e)
    }
}

/// A registry error about the component at `table` of the file `source` holds, pointed at the
/// key it concerns.
fn located_in(source: &Source, table: Table, e: RegistryError) -> anyhow::Error {
    let kind = table.kind();
    let err: ConfigError = match &e {
        RegistryError::Unknown { .. } => source.error_at(&table.name_key(), e.to_string()),
        RegistryError::Construct(call) if !call.error.key.is_empty() => source.error_at(
            &table.setting_key(&call.error.key),
            format!(
                "{} `{}`: {}",
                kind, call.origin.component, call.error.message
            ),
        ),
        RegistryError::Construct(call) if !call.error.panicked => source.error_at(
            &table.key(),
            format!(
                "{} `{}`: {}",
                kind, call.origin.component, call.error.message
            ),
        ),
        _ => return e.into(),
    };
    err.into()
}

impl GeneRange for Gene {
    fn spec(&self) -> &GeneSpec {
        &self.spec
    }
}

impl Components {
    /// The chromosomes the strategy holds for `samples`, checked by its handle against the
    /// genes: one value per gene and sample, each finite and in its gene's range. The first
    /// argument, the config's name of the strategy, is no longer needed: a refusal names the
    /// component and its library from the handle's origin.
    pub fn incumbents(&self, _name: &str, samples: &[u64]) -> anyhow::Result<Vec<f64>> {
        Ok(self.strategy.incumbents(samples, &self.genes)?)
    }
}

impl Experiment {
    /// Builds the dataset, the genes and the strategy.
    pub fn components(&self) -> anyhow::Result<Components> {
        let (dataset, dataset_info, normalization) = self.dataset()?;
        let genes = self.genes(&self.config.transforms, &self.source)?;
        let strategy = self.strategy(
            &self.config.strategy,
            &genes,
            dataset_info.train_len,
            dataset_info.classes.len(),
        )?;
        Ok(Components {
            dataset,
            dataset_info,
            normalization,
            genes,
            strategy,
            model_file: self.model_file(),
        })
    }

    /// `[model] torchscript`, resolved against the config's folder.
    pub fn model_file(&self) -> Option<std::path::PathBuf> {
        self.config
            .model
            .torchscript
            .as_ref()
            .map(|p| super::relative_to(&self.base_dir, p))
    }

    /// The dataset, what it says about itself and the normalisation the run uses.
    pub fn dataset(&self) -> anyhow::Result<(DatasetHandle, DatasetInfo, Normalization)> {
        let c = &self.config;
        self.refuse_misspelt_normalization()?;
        let dataset = self
            .registry
            .dataset(&c.dataset.name, &c.dataset.settings, &self.context())
            .map_err(|e| self.located(Table::Dataset, e))?;
        let info = dataset.info()?;
        let normalization = self.normalization(&info)?;
        Ok((dataset, info, normalization))
    }

    /// A `[dataset]` key that is not the plugin's, and is close to fuzzaug's own `mean` or
    /// `std` (and to none of the plugin's keys), is refused with that suggestion: the plugin,
    /// which knows nothing of them, would only list its own keys.
    fn refuse_misspelt_normalization(&self) -> Result<(), ConfigError> {
        const OWN: [&str; 2] = ["mean", "std"];
        let d = &self.config.dataset;
        let Ok((info, _)) = self.registry.find(ComponentKind::Dataset, &d.name) else {
            return Ok(()); // the registry's own error, with its suggestion, comes next
        };
        let params: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
        for key in d.settings.keys() {
            if params.contains(&key.as_str()) || did_you_mean(key, &params).is_some() {
                continue;
            }
            if let Some(own) = did_you_mean(key, &OWN) {
                return Err(self.source.error_at(
                    &format!("dataset.{key}"),
                    format!(
                        "unknown key `{key}` in [dataset]; did you mean `{own}`? [dataset] takes \
                         `name`, `mean` and `std`, and the keys of dataset `{}`: {}",
                        d.name,
                        params.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One gene per entry of `transforms`, the `[[transforms]]` list of the file `source`
    /// holds (the config, or a threat model), errors pointed into that file.
    pub fn genes(
        &self,
        transforms: &[TransformConfig],
        source: &Source,
    ) -> anyhow::Result<Vec<Gene>> {
        let ctx = self.context();
        let mut genes = Vec::with_capacity(transforms.len());
        for (i, t) in transforms.iter().enumerate() {
            let table = Table::Transform(i);
            let transform = self
                .registry
                .transform(&t.name, &t.settings, &ctx)
                .map_err(|e| located_in(source, table, e))?;
            let info = transform.info()?;
            let spec = gene_spec(&info, t)
                .map_err(|(key, msg)| source.error_at(&format!("{}.{key}", table.key()), msg))?;
            genes.push(Gene {
                transform,
                info,
                spec,
            });
        }
        Ok(genes)
    }

    /// The strategy `table` names, over `genes`, for `num_samples` samples of `classes`
    /// classes.
    pub fn strategy(
        &self,
        table: &ComponentConfig,
        genes: &[Gene],
        num_samples: u64,
        classes: usize,
    ) -> anyhow::Result<StrategyHandle> {
        let setup = StrategySetup {
            genes: genes.iter().map(|g| g.spec.clone()).collect(),
            num_samples,
            num_classes: classes as u32,
        };
        self.registry
            .strategy(&table.name, &table.settings, &self.context(), &setup)
            .map_err(|e| self.located(Table::Strategy, e))
    }

    /// Strategy `name` as the attacker of protocol `index` of the file `source` holds (a
    /// threat file, or the config when `in_config`), seeded by `seed`, over `genes`, for
    /// `num_samples` test images of `classes` classes.
    #[allow(clippy::too_many_arguments)]
    pub fn attacker(
        &self,
        name: &str,
        settings: &toml::Table,
        genes: &[Gene],
        num_samples: u64,
        classes: usize,
        seed: u64,
        source: &Source,
        (index, in_config): (usize, bool),
    ) -> anyhow::Result<StrategyHandle> {
        let setup = StrategySetup {
            genes: genes.iter().map(|g| g.spec.clone()).collect(),
            num_samples,
            num_classes: classes as u32,
        };
        let ctx = ComponentContext {
            seed,
            ..self.context()
        };
        self.registry
            .strategy(name, settings, &ctx, &setup)
            .map_err(|e| located_in(source, Table::Attacker { index, in_config }, e))
    }
}
