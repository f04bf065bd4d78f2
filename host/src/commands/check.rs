//! `fuzzaug check CONFIG`: validate everything a run would, then stop, having written nothing.
use crate::setup::PluginFlags;
use crate::{cli::CheckArgs, config::OptimizerConfig, setup::Experiment};

/// Validates the config and builds its components; prints a summary.
pub fn run(args: &CheckArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    let exp = Experiment::load(&args.config, &args.overrides.set, cli)?;
    exp.preflight()?;
    let parts = exp.components()?;
    if !exp.config.eval.protocols.is_empty() {
        crate::eval::Threat::of_run(&exp)?.check_against(&parts.genes)?;
    }
    let c = &exp.config;
    let d = &parts.dataset_info;
    println!("{}: OK", args.config.display());
    println!(
        "  dataset   {} ({}): {} classes, {}×{}×{}, train {} / test {}",
        c.dataset.name,
        parts.dataset.origin.library.display(),
        d.classes.len(),
        d.channels,
        d.height,
        d.width,
        d.train_len,
        d.test_len
    );
    let (mean, std) = &parts.normalization;
    println!("  normalise mean {mean:?}, std {std:?} (0..1 scale)");
    println!("  model     {}", c.model.arch);
    for g in &parts.genes {
        let s = &g.spec;
        let space = match s.step.into_option() {
            Some(step) => format!(
                "step {step} ({} values)",
                ((s.hi - s.lo) / step).round() as u64 + 1
            ),
            None => "continuous".to_string(),
        };
        println!(
            "  gene      {} [{}, {}] {space}, mutation step {} (low loss {}), {} ({})",
            s.name,
            s.lo,
            s.hi,
            s.mutation_step,
            s.low_loss_mutation_step,
            g.info.unit,
            g.info.kind.as_str()
        );
    }
    println!(
        "  strategy  {} ({})",
        c.strategy.name,
        parts.strategy.origin.library.display()
    );
    let opt = match &c.train.optimizer {
        OptimizerConfig::Sgd { lr, .. } => format!("sgd lr {lr}"),
        OptimizerConfig::Adamw { lr, .. } => format!("adamw lr {lr}"),
    };
    println!(
        "  train     {} epochs, batch {}, {opt}, {}, device {}",
        c.train.epochs,
        c.train.batch_size,
        c.train.precision.as_str(),
        c.device
    );
    let hflip = c.train.hflip_for(d.mirror_preserves_labels);
    let why = match c.train.hflip {
        Some(_) => "set by `train.hflip`".to_string(),
        None => format!(
            "the default of `{}`, whose labels {} a mirror",
            c.dataset.name,
            if d.mirror_preserves_labels {
                "survive"
            } else {
                "do not survive"
            }
        ),
    };
    println!("  hflip     {} ({why})", if hflip { "on" } else { "off" });
    for r in exp.registry.refused() {
        println!(
            "  not loaded {} (none of this config's components needs it: {})",
            r.path.display(),
            r.reason.lines().next().unwrap_or_default()
        );
    }
    Ok(0)
}
