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

use fuzzaug_sdk::prelude::*;

/// A strategy's own stream: the run's seed mixed with the component's name, so strategies and
/// the host never share random numbers.
fn stream_seed(ctx: &ComponentContext, name: &str) -> u64 {
    name.bytes().fold(ctx.seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

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
            |_settings, ctx, setup| Ok(Random::new(setup, stream_seed(ctx, "random"))),
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
                Ok(WorstOfK::new(setup, k, stream_seed(ctx, "w10")))
            },
        ),
    ]
}

fuzzaug_sdk::export_plugin!(components);
