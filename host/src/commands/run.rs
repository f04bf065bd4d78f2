//! `fuzzaug run CONFIG... [--set k=v]... [--resume | --overwrite] [--quiet]`, and
//! `fuzzaug run --resume RUN_DIR...`, which continues a run from its directory's own config.
use crate::setup::PluginFlags;
use crate::{cli::RunArgs, run, rundir::RunDir, setup::Experiment};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Whether `p` is a run directory (what `fuzzaug run` writes), not a folder of configs.
fn is_run_dir(p: &Path) -> bool {
    RunDir::new(p).looks_like_one()
}

/// The configs named on the command line: files as given, run directories as given (with
/// `--resume` only), folders expanded to their `*.toml` files in name order.
fn expand(paths: &[PathBuf], resume: bool) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if is_run_dir(p) {
            if !resume {
                anyhow::bail!(
                    "{} is a run directory; pass --resume to continue it (`fuzzaug run --resume {}`), or give the config file to start a run",
                    p.display(),
                    p.display()
                );
            }
            out.push(p.clone());
        } else if p.is_dir() {
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
    run::run_dir(exp).is_finished()
}

/// Runs each config in turn; with several, finished runs are skipped.
pub fn run(args: &RunArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    // Before plugins load, so that a Ctrl-C from here on stops the run cleanly.
    run::interrupt::install();
    let configs = expand(&args.configs, args.resume)?;
    let several = configs.len() > 1;
    for path in &configs {
        let exp = if is_run_dir(path) {
            Experiment::load_run(path, &args.overrides.set, cli)?
        } else {
            Experiment::load(path, &args.overrides.set, cli)?
        };
        if several && finished(&exp) && !args.overwrite {
            log::info!(
                "{}: finished already ({}), skipped",
                path.display(),
                run::run_dir(&exp).path().display()
            );
            continue;
        }
        let resume = args.resume
            || (several && run::run_dir(&exp).last_checkpoint().is_file() && !args.overwrite);
        let options = run::Options {
            resume,
            overwrite: args.overwrite,
            quiet: args.quiet,
            stop_after: args.stop_after,
        };
        match run_one(path, &exp, options)? {
            run::Outcome::Finished { dir, summary } => println!(
                "{}: test accuracy {:.4}, robust accuracy {:.4} (grid of {} on {} images) after {} epochs ({:.0} s); run directory {}",
                path.display(),
                summary.test_acc,
                summary.robust_acc,
                summary.robust_grid_size,
                summary.robust_subset,
                summary.epochs,
                summary.train_seconds,
                dir.path().display()
            ),
            run::Outcome::Paused { dir, epoch, epochs } => println!(
                "{}: stopped after epoch {epoch} of {epochs} as --stop-after asked; continue with `fuzzaug run --resume {}`",
                path.display(),
                dir.path().display()
            ),
        }
    }
    Ok(0)
}

fn run_one(path: &Path, exp: &Experiment, options: run::Options) -> anyhow::Result<run::Outcome> {
    run::run(exp, options).with_context(|| format!("run {} ({})", exp.config.name, path.display()))
}
