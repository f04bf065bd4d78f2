//! `fuzzaug eval CONFIG --checkpoint PATH`: standard and per-class accuracy of a saved model.
use crate::{cli::EvalArgs, run, setup::Experiment, train::Session};
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;

/// Evaluates the checkpoint on the config's test split; prints and writes JSON.
pub fn run(args: &EvalArgs, cli_dirs: &[PathBuf]) -> anyhow::Result<u8> {
    let exp = Experiment::load(&args.config, &args.overrides.set, cli_dirs)?;
    let mut session = Session::new(&exp.config, exp.components()?)?;
    let (epoch, _) = run::checkpointer::restore(&mut session, &args.checkpoint)?;
    let acc = session.evaluate()?;
    let robust = session.robust(exp.config.eval.robust_subset)?;
    let classes = &session.parts.dataset_info.classes;
    println!(
        "{} (epoch {epoch}) on {} test images of `{}`:",
        args.checkpoint.display(),
        session.data.test.len(),
        exp.config.dataset.name
    );
    println!(
        "  test accuracy {:.4}, test loss {:.4}",
        acc.accuracy, acc.loss
    );
    println!(
        "  robust accuracy {:.4} (grid of {} chromosomes on the first {} test images), mean grid accuracy {:.4}, random-perturbation accuracy {:.4}",
        robust.robust_acc, robust.grid_size, robust.subset, robust.grid_acc, robust.random_acc
    );
    for (name, a) in classes.iter().zip(&acc.per_class) {
        println!(
            "  {:<20} {}",
            name.as_str(),
            if a.is_nan() {
                "no images".to_string()
            } else {
                format!("{a:.4}")
            }
        );
    }
    let per_class: serde_json::Map<String, serde_json::Value> = classes
        .iter()
        .zip(&acc.per_class)
        .map(|(n, a)| {
            (
                n.to_string(),
                if a.is_nan() { json!(null) } else { json!(a) },
            )
        })
        .collect();
    let report = json!({
        "checkpoint": args.checkpoint.display().to_string(),
        "epoch": epoch,
        "dataset": exp.config.dataset.name,
        "model": exp.config.model.arch,
        "test_images": session.data.test.len(),
        "test_acc": acc.accuracy,
        "test_loss": acc.loss,
        "per_class_acc": per_class,
        "robust_acc": robust.robust_acc,
        "robust_grid_size": robust.grid_size,
        "robust_subset": robust.subset,
        "robust_grid_acc": robust.grid_acc,
        "random_perturbation_acc": robust.random_acc,
    });
    let out = args.out.clone().unwrap_or_else(|| {
        let mut p = args.checkpoint.clone().into_os_string();
        p.push(".eval.json");
        PathBuf::from(p)
    });
    crate::atomic::write(
        &out,
        (serde_json::to_string_pretty(&report)? + "\n").as_bytes(),
    )
    .with_context(|| format!("writing {}", out.display()))?;
    println!("written to {}", out.display());
    Ok(0)
}
