//! The protocols a model is evaluated under, as configs and threat files write them
//! (`[[protocols]]` in a threat file, `[[eval.protocols]]` in a config).
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Points per gene of a grid: one count for every gene, or a count per gene name (3 for the
/// genes not named).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Points {
    /// The same count for every gene.
    All(u32),
    /// A count per gene name.
    PerGene(BTreeMap<String, u32>),
}

impl Default for Points {
    fn default() -> Self {
        Self::All(DEFAULT_POINTS)
    }
}

/// Points per gene of the default grid: {lo, identity, hi}.
pub const DEFAULT_POINTS: u32 = 3;

impl Points {
    /// The count for gene `name`.
    pub fn of(&self, name: &str) -> u32 {
        match self {
            Self::All(n) => *n,
            Self::PerGene(m) => m.get(name).copied().unwrap_or(DEFAULT_POINTS),
        }
    }
}

fn default_k() -> u32 {
    10
}

/// One protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Protocol {
    /// Every combination of `points` evenly spaced values per gene, identity included.
    Grid {
        /// Points per gene.
        #[serde(default)]
        points: Points,
    },
    /// `k` uniformly random chromosomes per image.
    WorstOfK {
        /// Chromosomes per image.
        #[serde(default = "default_k")]
        k: u32,
        /// Seed of the draws.
        #[serde(default)]
        seed: u64,
    },
    /// A strategy plugin as the attacker, `budget` queries per image.
    Search {
        /// The strategy component.
        strategy: String,
        /// Queried variants per image at most.
        budget: u32,
        /// Seed of the attacker's random stream.
        #[serde(default)]
        seed: u64,
        /// The strategy's own settings.
        #[serde(default)]
        settings: toml::Table,
    },
}

impl Protocol {
    /// The protocol's kind as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Grid { .. } => "grid",
            Self::WorstOfK { .. } => "worst-of-k",
            Self::Search { .. } => "search",
        }
    }

    /// A short name for reports: `grid-3`, `grid-31x5x5`, `worst-of-10`, `search-sensei-200`.
    pub fn label(&self, genes: &[&str]) -> String {
        match self {
            Self::Grid { points } => {
                let counts: Vec<String> = genes.iter().map(|g| points.of(g).to_string()).collect();
                let uniform = counts.windows(2).all(|w| w[0] == w[1]);
                match (uniform, counts.first()) {
                    (true, Some(c)) => format!("grid-{c}"),
                    _ => format!("grid-{}", counts.join("x")),
                }
            }
            Self::WorstOfK { k, .. } => format!("worst-of-{k}"),
            Self::Search {
                strategy, budget, ..
            } => format!("search-{strategy}-{budget}"),
        }
    }
}
