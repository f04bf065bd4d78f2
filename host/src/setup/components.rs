//! Building a config's components from its plugins: the dataset, one transform per gene, the
//! strategy; a plugin's refusal is reported at the key of the table it concerns.
use super::{genes::gene_spec, Experiment};
use crate::{
    config::ConfigError,
    plugins::{DatasetHandle, RegistryError, StrategyHandle, TransformHandle},
};
use fuzzaug_sdk::{ComponentKind, DatasetInfo, GeneSpec, StrategySetup, TransformInfo};

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

/// The config table of one component: `dataset`, `transforms.<i>` or `strategy`.
#[derive(Debug, Clone, Copy)]
enum Table {
    Dataset,
    Transform(usize),
    Strategy,
}

impl Table {
    fn kind(self) -> ComponentKind {
        match self {
            Self::Dataset => ComponentKind::Dataset,
            Self::Transform(_) => ComponentKind::Transform,
            Self::Strategy => ComponentKind::Strategy,
        }
    }

    /// The table's dotted key.
    fn key(self) -> String {
        match self {
            Self::Transform(i) => format!("transforms.{i}"),
            other => other.kind().as_str().to_string(),
        }
    }
}

impl Experiment {
    /// A registry error about the component whose table is at `table` (e.g. `transforms.2`),
    /// pointed at the key it concerns.
    fn located(&self, table: Table, e: RegistryError) -> anyhow::Error {
        let (kind, table) = (table.kind(), table.key());
        let err: ConfigError = match &e {
            RegistryError::Unknown { .. } => self
                .source
                .error_at(&format!("{table}.name"), e.to_string()),
            RegistryError::Construct(call) if !call.error.key.is_empty() => self.source.error_at(
                &format!("{table}.{}", call.error.key),
                format!(
                    "{} `{}`: {}",
                    kind, call.origin.component, call.error.message
                ),
            ),
            RegistryError::Construct(call) if !call.error.panicked => self.source.error_at(
                &table,
                format!(
                    "{} `{}`: {}",
                    kind, call.origin.component, call.error.message
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
            .map_err(|e| self.located(Table::Dataset, e))?;
        let dataset_info = dataset.info()?;
        let normalization = self.normalization(&dataset_info)?;
        let mut genes = Vec::with_capacity(c.transforms.len());
        for (i, t) in c.transforms.iter().enumerate() {
            let table = Table::Transform(i);
            let transform = self
                .registry
                .transform(&t.name, &t.settings, &ctx)
                .map_err(|e| self.located(table, e))?;
            let info = transform.info()?;
            let spec = gene_spec(&info, t).map_err(|(key, msg)| {
                self.source.error_at(&format!("{}.{key}", table.key()), msg)
            })?;
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
            .map_err(|e| self.located(Table::Strategy, e))?;
        Ok(Components {
            dataset,
            dataset_info,
            normalization,
            genes,
            strategy,
        })
    }
}
