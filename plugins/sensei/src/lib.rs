//! SENSEI augmentation strategies: a genetic search, per training sample, for the
//! natural variant the model handles worst. Three components share one GA core and differ in
//! survivor selection: `sensei` (elitism), `sensei-rw` (roulette wheel) and `sensei-t`
//! (tournaments).
mod config;
mod genes;
mod operators;
mod population;
mod selection;
mod state;
mod strategy;

pub use config::Config;
pub use strategy::Sensei;

use fuzzaug_sdk::{prelude::*, random::stream_seed};

/// A component `name` whose `selection` defaults to `selection`.
fn sensei(name: &'static str, selection: &str, summary: &str) -> Component {
    Component::strategy(
        name,
        summary,
        config::params(selection),
        move |settings, ctx, setup| {
            let cfg = Config::from_settings(settings)?;
            Ok(Sensei::new(name, cfg, setup, stream_seed(ctx.seed, name)))
        },
    )
}

fn components() -> Vec<Component> {
    vec![
        sensei(
            "sensei",
            "elitism",
            "SENSEI genetic search for each sample's worst variant; elitist survivors",
        ),
        sensei(
            "sensei-rw",
            "roulette",
            "SENSEI genetic search; survivors by roulette wheel (probability ∝ loss)",
        ),
        sensei(
            "sensei-t",
            "tournament",
            "SENSEI genetic search; survivors by tournaments (size `tournament_size`)",
        ),
    ]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests;
