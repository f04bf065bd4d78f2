//! The threat model: the genes (with ranges) a model is attacked under and the protocols to
//! run, from a `--threat` file (`[[transforms]]`, `[[protocols]]`, optional `robust_subset`) or
//! from the run's own config (its genes and `[eval]`).
use super::grid;
use crate::{
    config::{Points, Protocol, Source, TransformConfig, DEFAULT_POINTS},
    plugins::StrategyHandle,
    setup::Experiment,
    train::Session,
};
use serde::Deserialize;
use std::path::Path;

/// The genes and protocols of an evaluation, with the file they came from (for errors).
pub struct Threat {
    /// The genes.
    pub transforms: Vec<TransformConfig>,
    /// The protocols, in order.
    pub protocols: Vec<Protocol>,
    /// Test images evaluated (the first N); all when absent.
    pub subset: Option<u64>,
    /// Where errors point.
    pub source: Source,
    in_config: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    robust_subset: Option<u64>,
    #[serde(default)]
    transforms: Vec<TransformConfig>,
    #[serde(default)]
    protocols: Vec<Protocol>,
}

fn default_protocols() -> Vec<Protocol> {
    vec![Protocol::Grid {
        points: Points::All(DEFAULT_POINTS),
    }]
}

impl Threat {
    /// Reads a threat file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the threat model {}: {e}", path.display()))?;
        let source = Source::new(path, text.clone());
        let file: File = toml::from_str(&text).map_err(|e| {
            let mut message = e.message().trim().to_string();
            if let Some(first) = message.get(..1) {
                message = first.to_lowercase() + &message[1..];
            }
            anyhow::anyhow!("{}: {message}", source.location_of(e.span()))
        })?;
        if file.transforms.is_empty() {
            anyhow::bail!(
                "{}: a threat model needs at least one [[transforms]] gene",
                path.display()
            );
        }
        let protocols = if file.protocols.is_empty() {
            default_protocols()
        } else {
            file.protocols
        };
        let me = Self {
            transforms: file.transforms,
            protocols,
            subset: file.robust_subset,
            source,
            in_config: false,
        };
        me.check()?;
        Ok(me)
    }

    /// The run's own genes and `[eval]` protocols (a 3-point grid when it names none).
    pub fn of_run(exp: &Experiment) -> anyhow::Result<Self> {
        let c = &exp.config;
        let protocols = if c.eval.protocols.is_empty() {
            default_protocols()
        } else {
            c.eval.protocols.clone()
        };
        let me = Self {
            transforms: c.transforms.clone(),
            protocols,
            subset: c.eval.robust_subset,
            source: exp.source.clone(),
            in_config: true,
        };
        me.check()?;
        Ok(me)
    }

    /// The key of protocol `i` in the source: `protocols.i` in a threat file, under `eval` in
    /// a config.
    fn key(&self, i: usize, field: &str) -> String {
        let table = if self.in_config() {
            "eval.protocols"
        } else {
            "protocols"
        };
        format!("{table}.{i}.{field}")
    }

    /// Whether the protocols come from a config's `[eval]` rather than a threat file.
    fn in_config(&self) -> bool {
        self.in_config
    }

    /// What can be checked before a model is loaded.
    fn check(&self) -> anyhow::Result<()> {
        for (i, p) in self.protocols.iter().enumerate() {
            let bad = match p {
                Protocol::WorstOfK { k: 0, .. } => {
                    Some(("k", "`k` must be at least 1".to_string()))
                }
                Protocol::Search { budget: 0, .. } => Some((
                    "budget",
                    "`budget` must be at least 1 query per image".to_string(),
                )),
                Protocol::Grid {
                    points: Points::PerGene(m),
                } => m
                    .keys()
                    .find(|g| !self.transforms.iter().any(|t| &t.name == *g))
                    .map(|g| {
                        (
                            "points",
                            format!(
                                "`points` names `{g}`, which is not a gene of the threat model"
                            ),
                        )
                    }),
                _ => None,
            };
            if let Some((field, message)) = bad {
                return Err(self.source.error_at(&self.key(i, field), message).into());
            }
        }
        Ok(())
    }

    /// Checks what needs the genes' spaces (grid points against each range), before any work.
    pub fn check_against(&self, genes: &[crate::setup::Gene]) -> anyhow::Result<()> {
        for (i, p) in self.protocols.iter().enumerate() {
            if let Protocol::Grid { points } = p {
                self.axes(genes, i, points)?;
            }
        }
        Ok(())
    }

    /// The grid axes of protocol `i` over `genes`.
    pub fn axes(
        &self,
        genes: &[crate::setup::Gene],
        i: usize,
        points: &Points,
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        genes
            .iter()
            .map(|g| {
                let s = &g.spec;
                grid::axis(s.lo, s.identity, s.hi, points.of(s.name.as_str())).map_err(|m| {
                    self.source
                        .error_at(&self.key(i, "points"), format!("gene `{}`: {m}", s.name))
                        .into()
                })
            })
            .collect()
    }

    /// The attacker of protocol `i`: strategy `name` with its settings and seed, over the
    /// threat's genes, for `n` test images.
    #[allow(clippy::too_many_arguments)]
    pub fn attacker(
        &self,
        exp: &Experiment,
        session: &Session,
        i: usize,
        name: &str,
        settings: &toml::Table,
        seed: u64,
        n: usize,
    ) -> anyhow::Result<StrategyHandle> {
        exp.attacker(
            name,
            settings,
            &session.parts.genes,
            n as u64,
            session.parts.dataset_info.classes.len(),
            seed,
            &self.source,
            (i, self.in_config()),
        )
    }
}
