//! `fuzzaug sweep SWEEP.toml [--dry-run | --local -j N | --slurm ...]`,
//! `fuzzaug sweep status DIR`, `fuzzaug sweep collect DIR [--out DIR]`.
use crate::setup::PluginFlags;
use crate::{
    cli::{CompareArgs, SweepArgs},
    setup::Experiment,
    sweep::{self, local, slurm, status, Manifest, Spec},
};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Dispatches on the first argument.
pub fn run(args: &SweepArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    match args.args.as_slice() {
        [cmd, dir] if cmd == "status" => show_status(Path::new(dir)),
        [cmd, dir] if cmd == "collect" => collect(Path::new(dir), args.out.as_deref()),
        [file] => expand_and_run(Path::new(file), args, cli),
        other => bail!(
            "`fuzzaug sweep {}`: expected SWEEP.toml, `status DIR` or `collect DIR`",
            other.join(" ")
        ),
    }
}

fn values_table(runs: &[sweep::RunPlan]) -> String {
    let keys: Vec<&str> = runs
        .first()
        .map(|r| r.values.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let mut widths: Vec<usize> = keys.iter().map(|k| k.len()).collect();
    let name_w = runs.iter().map(|r| r.name.len()).max().unwrap_or(0).max(3);
    for r in runs {
        for (w, (_, v)) in widths.iter_mut().zip(&r.values) {
            *w = (*w).max(v.len());
        }
    }
    let mut s = format!("{:>3}  {:<name_w$}", "#", "run");
    for (k, w) in keys.iter().zip(&widths) {
        s += &format!("  {k:<w$}");
    }
    s = s.trim_end().to_string() + "\n";
    for (i, r) in runs.iter().enumerate() {
        let mut line = format!("{i:>3}  {:<name_w$}", r.name);
        for ((_, v), w) in r.values.iter().zip(&widths) {
            line += &format!("  {v:<w$}");
        }
        s += line.trim_end();
        s.push('\n');
    }
    s
}

fn expand_and_run(file: &Path, args: &SweepArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    let spec = Spec::load(file)?;
    let runs = sweep::expand(&spec)?;
    print!("{}", values_table(&runs));
    if args.dry_run {
        println!(
            "{} runs of {} (dry run: nothing written; they would go to {})",
            runs.len(),
            spec.base.display(),
            spec.dir.display()
        );
        return Ok(0);
    }
    let manifest = sweep::write(&spec, &runs, |config| {
        let exp = Experiment::load(config, &[], cli)?;
        exp.components().map(drop)
    })?;
    let dir = std::path::absolute(&spec.dir)?;
    println!(
        "{} run configs in {}",
        runs.len(),
        dir.join("configs").display()
    );
    let exe = std::env::current_exe().context("locating the fuzzaug executable")?;
    if args.local {
        local::run_all(&dir, &manifest, args.jobs as usize, &exe, cli, |line| {
            println!("{line}")
        })?;
        println!(
            "all {} runs finished; `fuzzaug sweep collect {}` compares them",
            runs.len(),
            dir.display()
        );
    } else if args.slurm {
        let options = slurm::Options {
            partition: args.partition.clone(),
            gres: args.gres.clone(),
            time: args.time.clone(),
            mem: args.mem.clone(),
            cpus_per_task: args.cpus_per_task,
            extra: args.extra.clone(),
        };
        let script_path = dir.join("submit.sbatch");
        crate::atomic::write(
            &script_path,
            slurm::script(&dir, &manifest, &options, &exe, cli).as_bytes(),
        )
        .with_context(|| format!("writing {}", script_path.display()))?;
        let job = slurm::submit(&script_path)?;
        let mut manifest = manifest;
        manifest.slurm_job = Some(job.clone());
        manifest.write(&dir)?;
        println!(
            "submitted job array {job} ({} tasks, script {}); follow it with `fuzzaug sweep status {}`",
            runs.len(),
            script_path.display(),
            dir.display()
        );
    } else {
        println!(
            "run them with `fuzzaug sweep {} --local -j N` or `--slurm`, or one by one with `fuzzaug run CONFIG`",
            file.display()
        );
    }
    Ok(0)
}

fn show_status(dir: &Path) -> anyhow::Result<u8> {
    let manifest = Manifest::read(dir)?;
    let states = match &manifest.slurm_job {
        Some(job) => match slurm::task_states(job) {
            Ok(states) => {
                println!("Slurm job array {job}");
                Some(states)
            }
            Err(e) => {
                println!("Slurm job array {job}: no scheduler state ({e:#}); from the run directories only");
                None
            }
        },
        None => None,
    };
    print!(
        "{}",
        status::table(&status::of_runs(dir, &manifest, states.as_ref()))
    );
    Ok(0)
}

fn collect(dir: &Path, out: Option<&Path>) -> anyhow::Result<u8> {
    let manifest = Manifest::read(dir)?;
    let finished: Vec<PathBuf> = manifest
        .runs
        .iter()
        .map(|r| Manifest::run_dir(dir, &r.name))
        .filter(|d| crate::rundir::RunDir::new(d).is_finished())
        .collect();
    if finished.is_empty() {
        bail!(
            "no run of {} has finished yet (`fuzzaug sweep status {}` tells where they stand)",
            dir.display(),
            dir.display()
        );
    }
    if finished.len() < manifest.runs.len() {
        println!(
            "{} of {} runs finished; comparing those",
            finished.len(),
            manifest.runs.len()
        );
    }
    let args = CompareArgs {
        runs: finished,
        out: out.map_or_else(|| dir.join("report"), Path::to_path_buf),
        zoom: false,
    };
    super::compare::run(&args)
}
