//! One epoch of each strategy on the same model, data and seed, timed in interleaved rounds so
//! that a slow spell of a shared machine hits every strategy alike.
use super::timing::{median, synchronize};
use crate::{config::ComponentConfig, setup::Experiment, train::Session};
use anyhow::Context;
use indicatif::ProgressBar;

/// What one strategy's epochs measured.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRow {
    /// The strategy.
    pub strategy: String,
    /// Median epoch wall time, seconds.
    pub seconds: f64,
    /// Median candidates scored per training image and epoch (0 for strategies that score
    /// nothing; the population size for `sensei` while no sample is skipped).
    pub candidates_per_image: f64,
}

/// A session per strategy: the experiment's config with only the strategy swapped, its
/// weights from `[model] init` where the config has one. The config's own strategy keeps its
/// settings; the others run with their defaults.
pub fn sessions(exp: &mut Experiment, strategies: &[String]) -> anyhow::Result<Vec<Session>> {
    let own = exp.config.strategy.clone();
    let mut out = Vec::with_capacity(strategies.len());
    for name in strategies {
        exp.config.strategy = if *name == own.name {
            own.clone()
        } else {
            ComponentConfig {
                name: name.clone(),
                settings: toml::Table::new(),
            }
        };
        let parts = exp
            .components()
            .with_context(|| format!("setting up strategy `{name}` with its default settings"))?;
        let session = Session::new(&exp.config, parts)?;
        // `[model] init` (a trained model for `--compare-precision`).
        crate::weights::init::from_config(exp, &session)?;
        out.push(session);
    }
    exp.config.strategy = own;
    Ok(out)
}

/// One warm-up epoch per session, then `rounds` rounds of one timed epoch each.
pub fn measure(
    sessions: &mut [Session],
    rounds: usize,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<EpochRow>> {
    let hidden = ProgressBar::hidden();
    let mut seconds = vec![Vec::new(); sessions.len()];
    let mut candidates = vec![Vec::new(); sessions.len()];
    bar.set_length(((rounds + 1) * sessions.len()) as u64);
    for round in 0..=rounds {
        for (i, s) in sessions.iter_mut().enumerate() {
            let name = s.config.strategy.name.clone();
            bar.set_message(format!(
                "{} epoch of {name}",
                if round == 0 { "warm-up" } else { "timed" }
            ));
            synchronize(s.device);
            let stats = s
                .train_epoch(round as u32, &hidden, || false)
                .with_context(|| format!("an epoch of strategy `{name}`"))?;
            synchronize(s.device);
            if round > 0 {
                seconds[i].push(stats.seconds);
                candidates[i].push(stats.scored_candidates as f64 / s.data.train.len() as f64);
            }
            bar.inc(1);
        }
    }
    Ok(sessions
        .iter()
        .enumerate()
        .map(|(i, s)| EpochRow {
            strategy: s.config.strategy.name.clone(),
            seconds: median(&seconds[i]),
            candidates_per_image: median(&candidates[i]),
        })
        .collect())
}
