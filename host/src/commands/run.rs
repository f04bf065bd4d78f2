//! `fuzzaug run CONFIG... [--set k=v]... [--resume | --overwrite] [--quiet]`.
use crate::{cli::RunArgs, run, setup::Experiment};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The configs named on the command line: files as given, folders expanded to their `*.toml`
/// files in name order.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                anyhow::bail!("{} holds no .toml config", p.display());
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn finished(exp: &Experiment) -> bool {
    run::is_finished(&run::run_dir(exp))
}

/// Runs each config in turn; with several, finished runs are skipped.
pub fn run(args: &RunArgs, cli_dirs: &[PathBuf]) -> anyhow::Result<u8> {
    let configs = expand(&args.configs)?;
    let several = configs.len() > 1;
    for path in &configs {
        let exp = Experiment::load(path, &args.overrides, cli_dirs)?;
        if several && finished(&exp) && !args.overwrite {
            log::info!(
                "{}: finished already ({}), skipped",
                path.display(),
                run::run_dir(&exp).display()
            );
            continue;
        }
        let resume = args.resume
            || (several
                && run::run_dir(&exp).join("checkpoints/last").is_file()
                && !args.overwrite);
        let options = run::Options {
            resume,
            overwrite: args.overwrite,
            quiet: args.quiet,
        };
        let summary = run_one(path, &exp, options)?;
        println!(
            "{}: test accuracy {:.4}, robust accuracy {:.4} (grid of {} on {} images) after {} epochs ({:.0} s); run directory {}",
            path.display(),
            summary.test_acc,
            summary.robust.robust_acc,
            summary.robust.grid_size,
            summary.robust.subset,
            summary.epochs,
            summary.train_seconds,
            summary.dir.display()
        );
    }
    Ok(0)
}

fn run_one(path: &Path, exp: &Experiment, options: run::Options) -> anyhow::Result<run::Summary> {
    run::run(exp, options).with_context(|| format!("run {} ({})", exp.config.name, path.display()))
}
