//! `fuzzaug eval RUN_DIR|CHECKPOINT [--threat FILE] [--out DIR] [--no-early-exit]` and
//! `fuzzaug eval CONFIG --checkpoint PATH`: a trained model's accuracy, per class, and under
//! every protocol of a threat model.
use crate::setup::PluginFlags;
use crate::{
    cli::EvalArgs,
    config::ComponentConfig,
    eval::{self, Threat},
    run::{checkpointer, interrupt},
    setup::{Components, Experiment},
    train::Session,
};
use anyhow::Context;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The run's experiment, the checkpoint, and where the report goes.
fn resolve(args: &EvalArgs, cli: &PluginFlags) -> anyhow::Result<(Experiment, PathBuf, PathBuf)> {
    let set = &args.overrides.set;
    if let Some(ckpt) = &args.checkpoint {
        if args.which.is_some() {
            anyhow::bail!("--which picks a checkpoint of a run directory; with --checkpoint the checkpoint is given");
        }
        let exp = Experiment::load(&args.target, set, cli)?;
        let out = args.out.as_ref().map_or_else(
            || {
                let mut p = ckpt.clone().into_os_string();
                p.push(".eval.json");
                PathBuf::from(p)
            },
            |d| d.join("eval.json"),
        );
        return Ok((exp, ckpt.clone(), out));
    }
    // A run directory, or a checkpoint inside one (RUN_DIR/checkpoints/FILE).
    let hint = format!(
        "; give a config with `fuzzaug eval CONFIG --checkpoint {}`",
        args.target.display()
    );
    let (dir, ckpt) = super::target::run_checkpoint(&args.target, args.which, &hint)?;
    let exp = Experiment::load_run(dir.path(), set, cli)?;
    let name = args
        .threat
        .as_ref()
        .and_then(|t| t.file_stem())
        .map_or_else(
            || "default".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| dir.eval_report(&name, args.which.unwrap_or_default()))
        .join("eval.json");
    Ok((exp, ckpt, out))
}

/// The session that evaluates: the run's data, normalisation and model, the threat's genes.
fn session(exp: &Experiment, threat: &Threat) -> anyhow::Result<Session> {
    let (dataset, dataset_info, normalization) = exp.dataset()?;
    let genes = exp.genes(&threat.transforms, &threat.source)?;
    // Scoring during evaluation never asks the run's strategy; any will do for the session.
    let standard = ComponentConfig {
        name: "standard".into(),
        settings: toml::Table::new(),
    };
    let classes = dataset_info.classes.len();
    let strategy = exp.strategy(&standard, &genes, dataset_info.train_len, classes)?;
    let parts = Components {
        dataset,
        dataset_info,
        normalization,
        genes,
        strategy,
        model_file: exp.model_file(),
    };
    Session::new(&exp.config, parts)
}

/// Evaluates; prints and writes JSON.
pub fn run(args: &EvalArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    interrupt::install();
    let (exp, checkpoint, out) = resolve(args, cli)?;
    let threat = match &args.threat {
        Some(path) => Threat::load(path)?,
        None => Threat::of_run(&exp)?,
    };
    let mut session = session(&exp, &threat)?;
    let epoch = checkpointer::load_model(&mut session, &checkpoint)?;
    if let Some(line) = args.replay {
        return replay(&session, &out, line);
    }
    let acc = session.evaluate()?;
    let options = eval::Options {
        early_exit: !args.no_early_exit,
        failures: args.failures,
    };
    let report = eval::evaluate(&exp, &session, &threat, options, &interrupt::requested)?;
    let corrupted = match &args.corruptions {
        Some(dir) => Some(eval::corruptions::evaluate(&exp, &session, dir)?),
        None => None,
    };
    let classes = &session.parts.dataset_info.classes;
    println!(
        "{} (epoch {epoch}) on {} test images of `{}`:",
        checkpoint.display(),
        session.data.test.len(),
        exp.config.dataset.name
    );
    println!(
        "  test accuracy {:.4}, test loss {:.4}",
        acc.accuracy, acc.loss
    );
    for (name, a) in classes.iter().zip(&acc.per_class) {
        let a = if a.is_nan() {
            "no images".to_string()
        } else {
            format!("{a:.4}")
        };
        println!("  {:<20} {a}", name.as_str());
    }
    println!(
        "  under attack, on the first {} test images (clean accuracy {:.4}):",
        report.images, report.clean_acc
    );
    for p in &report.protocols {
        let queries = p
            .mean_queries_to_failure
            .map(|q| format!(", {q:.1} queries to the first failure"))
            .unwrap_or_default();
        println!(
            "  {:<24} robust accuracy {:.4}, attack success {:.4}{queries} ({} variants per image, {:.1} s)",
            p.name, p.robust_acc, p.attack_success_rate, p.queries_per_image, p.seconds
        );
    }
    println!(
        "  {:<24} robust accuracy {:.4}",
        "every protocol", report.strongest_acc
    );
    if let Some(c) = &corrupted {
        println!("  corruptions in {}:", c.path);
        for e in &c.entries {
            println!(
                "  {:<24} severity {} accuracy {:.4} ({} images)",
                e.corruption, e.severity, e.accuracy, e.images
            );
        }
        let bench = c
            .benchmark_mean
            .map(|m| format!("; over the 15 benchmark corruptions × 5 severities {m:.4}"))
            .unwrap_or_default();
        println!(
            "  mean corruption accuracy {:.4} over {} entries{bench}",
            c.mean,
            c.entries.len()
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
    let first_grid = report
        .protocols
        .iter()
        .find(|p| matches!(p.protocol, crate::config::Protocol::Grid { .. }));
    let doc = json!({
        "checkpoint": checkpoint.display().to_string(),
        "epoch": epoch,
        "dataset": exp.config.dataset.name,
        "model": exp.config.model.name(),
        "test_images": session.data.test.len(),
        "test_acc": acc.accuracy,
        "test_loss": acc.loss,
        "per_class_acc": per_class,
        "robust_acc": first_grid.map(|p| p.robust_acc),
        "robust_grid_size": first_grid.map(|p| p.queries_per_image),
        "robust_subset": report.images,
        "seed": exp.config.seed,
        "threat": args.threat.as_ref().map(|t| t.display().to_string()),
        "evaluation": report,
        "corruptions": corrupted,
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::atomic::write(
        &out,
        (serde_json::to_string_pretty(&doc)? + "\n").as_bytes(),
    )
    .with_context(|| format!("writing {}", out.display()))?;
    if args.failures > 0 {
        let dir = out.parent().unwrap_or(Path::new("."));
        eval::gallery::write(&session, &report.failures, dir)?;
        println!(
            "{} failures in {} and {}",
            report.failures.len(),
            dir.join(eval::gallery::PNG).display(),
            dir.join(eval::gallery::JSONL).display()
        );
    }
    println!("written to {}", out.display());
    Ok(0)
}

/// `--replay N`: failure N rebuilt and classified again.
fn replay(session: &Session, out: &Path, line: usize) -> anyhow::Result<u8> {
    let dir = out.parent().unwrap_or(Path::new("."));
    let (f, predicted, confidence) = eval::gallery::replay(session, dir, line)?;
    let class = |c: u32| {
        session
            .parts
            .dataset_info
            .classes
            .get(c as usize)
            .map_or_else(String::new, |n| n.to_string())
    };
    let genes: Vec<String> = f.genes.iter().map(|(g, v)| format!("{g} = {v}")).collect();
    let what = format!(
        "failure {line}: test image {} ({}) under {} ({}): recorded {} ({:.4}), now {} ({confidence:.4})",
        f.index,
        f.true_class,
        genes.join(", "),
        f.protocol,
        f.predicted_class,
        f.confidence,
        class(predicted)
    );
    if predicted != f.predicted {
        anyhow::bail!("{what}: NOT reproduced (another model, or the record was edited)");
    }
    println!("{what}: reproduced");
    Ok(0)
}
