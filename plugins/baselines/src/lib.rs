//! Baseline strategies: `standard` (no perturbation), `random` (one uniform chromosome per
//! sample per epoch) and `w10` (worst of k uniform chromosomes, k = 10 by default).
mod chosen;
mod random;
mod space;
mod standard;
mod worst_of_k;

pub use random::Random;
pub use standard::Standard;
pub use worst_of_k::WorstOfK;

use fuzzaug_sdk::{prelude::*, random::stream_seed};

fn components() -> Vec<Component> {
    vec![
        Component::strategy(
            "standard",
            "no perturbation: train on the original images (no scoring)",
            vec![],
            |_settings, _ctx, setup| Ok(Standard::new(setup)),
        ),
        Component::strategy(
            "random",
            "one uniformly random chromosome per sample per epoch (no scoring)",
            vec![],
            |_settings, ctx, setup| Ok(Random::new(setup, stream_seed(ctx.seed, "random"))),
        ),
        Component::strategy(
            "w10",
            "worst-of-k: score k random chromosomes per sample, train on the highest-loss one",
            vec![Param::optional(
                "k",
                ParamType::Integer,
                "10",
                "random chromosomes scored per sample per batch (1 to 1000)",
            )],
            |settings, ctx, setup| {
                let k: usize = settings.integer_in("k", 1..=1000)?;
                Ok(WorstOfK::new(setup, k, stream_seed(ctx.seed, "w10")))
            },
        ),
    ]
}

fuzzaug_sdk::export_plugin!(components);
