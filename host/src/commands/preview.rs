//! `fuzzaug preview CONFIG --out FILE.png`: the first test images under each gene at its lo
//! and hi (the identity is the original) and under a few corners of the robust grid; when the
//! config's run directory holds a checkpoint, also the variants the strategy chose for the first
//! training samples at that checkpoint.
use crate::setup::PluginFlags;
use crate::{
    augment::Engine,
    cli::PreviewArgs,
    report::preview::{pictures, render, Picture, Strip},
    run,
    rundir::checkpoint,
    setup::{Components, Experiment},
};
use anyhow::Context;
use fuzzaug_sdk::Split;
use tch::{Device, Tensor};

/// Sample images in the picture.
const SAMPLES: u64 = 4;
/// Training samples in the strip of chosen variants.
const CHOSEN: u64 = 8;

fn fmt(v: f64) -> String {
    let s = format!("{v:+.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes the preview PNG.
pub fn run(args: &PreviewArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    let exp = Experiment::load(&args.config, &args.overrides.set, cli)?;
    let mut parts = exp.components()?;
    let info = parts.dataset_info.clone();
    let n = SAMPLES.min(info.test_len);
    let chunk = parts.dataset.read_checked(&info, Split::Test, 0, n)?;
    let (c, h, w) = (
        i64::from(info.channels),
        i64::from(info.height),
        i64::from(info.width),
    );
    let images = Tensor::f_from_slice(chunk.pixels.as_slice())?
        .f_view([n as i64, c, h, w])?
        .f_to_device(Device::Cpu)?;
    let engine = Engine::of_run(&parts, &exp.config.train);
    let identity = engine.identity();
    let mut columns: Vec<(String, Vec<f64>)> = vec![("original".to_string(), identity.clone())];
    for (g, gene) in parts.genes.iter().enumerate() {
        for v in [gene.spec.lo, gene.spec.hi] {
            let mut chromosome = identity.clone();
            chromosome[g] = v;
            columns.push((format!("{}\n{}", gene.spec.name, fmt(v)), chromosome));
        }
    }
    if parts.genes.len() > 1 {
        let pick = |f: &dyn Fn(usize) -> bool| -> Vec<f64> {
            parts
                .genes
                .iter()
                .enumerate()
                .map(|(g, gene)| if f(g) { gene.spec.hi } else { gene.spec.lo })
                .collect()
        };
        columns.push(("corner\nall lo".into(), pick(&|_| false)));
        columns.push(("corner\nall hi".into(), pick(&|_| true)));
        columns.push(("corner\nhi, lo, hi…".into(), pick(&|g| g % 2 == 0)));
        columns.push(("corner\nlo, hi, lo…".into(), pick(&|g| g % 2 == 1)));
    }
    let mut rows: Vec<(String, Vec<Picture>)> = (0..n as usize)
        .map(|i| {
            (
                chunk
                    .labels
                    .get(i)
                    .and_then(|&l| info.classes.get(l as usize))
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                Vec::new(),
            )
        })
        .collect();
    for (_, chromosome) in &columns {
        let batch: Vec<f64> = chromosome
            .iter()
            .copied()
            .cycle()
            .take(chromosome.len() * n as usize)
            .collect();
        let out = pictures(&engine.apply(
            &images,
            &batch,
            &preview_seeds(&exp, &batch, engine.genes()),
        )?)?;
        for (row, p) in rows.iter_mut().zip(out) {
            row.1.push(p);
        }
    }
    let strip = chosen_variants(&exp, &mut parts)?;
    let labels: Vec<String> = columns.into_iter().map(|(l, _)| l).collect();
    render(&args.out, &labels, &rows, strip.as_ref())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({} images × {} perturbations{})",
        args.out.display(),
        rows.len(),
        labels.len(),
        strip.as_ref().map_or(String::new(), |s| format!(
            ", and {} variants chosen by `{}`",
            s.cells.len(),
            exp.config.strategy.name
        ))
    );
    Ok(0)
}

/// The first training samples under the chromosomes the strategy holds for them in the run's
/// latest checkpoint; `None` (with a note) when there is no checkpoint yet.
fn chosen_variants(exp: &Experiment, parts: &mut Components) -> anyhow::Result<Option<Strip>> {
    let path = run::run_dir(exp).last_checkpoint();
    if !path.exists() {
        println!(
            "no checkpoint at {} yet: after `fuzzaug run` the preview also shows the variants \
             the strategy chose",
            path.display()
        );
        return Ok(None);
    }
    let ckpt = checkpoint::load(&path, Device::Cpu)?;
    let diffs = ckpt.meta.differences(&checkpoint::Meta::of(
        &exp.config,
        parts,
        ckpt.meta.epoch,
        0,
        0.0,
    )?);
    if !diffs.is_empty() {
        anyhow::bail!(
            "{} belongs to a different run than this config describes:\n  {}",
            path.display(),
            diffs.join("\n  ")
        );
    }
    parts.strategy.load_state(&ckpt.strategy)?;
    let n = CHOSEN.min(parts.dataset_info.train_len);
    let samples: Vec<u64> = (0..n).collect();
    let chromosomes = parts.incumbents(&exp.config.strategy.name, &samples)?;
    let genes = parts.genes.len();
    let info = &parts.dataset_info;
    let chunk = parts.dataset.read_checked(info, Split::Train, 0, n)?;
    let engine = Engine::of_run(parts, &exp.config.train);
    let images = Tensor::f_from_slice(chunk.pixels.as_slice())?.f_view([
        n as i64,
        i64::from(info.channels),
        i64::from(info.height),
        i64::from(info.width),
    ])?;
    let seeds = preview_seeds(exp, &chromosomes, engine.genes());
    let pictures = pictures(&engine.apply(&images, &chromosomes, &seeds)?)?;
    let cells = pictures
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let class = chunk
                .labels
                .get(i)
                .and_then(|&l| info.classes.get(l as usize))
                .map(|c| c.to_string())
                .unwrap_or_default();
            let changed: Vec<String> = parts
                .genes
                .iter()
                .zip(&chromosomes[i * genes..(i + 1) * genes])
                .filter(|(g, &v)| v != g.spec.identity)
                .map(|(g, &v)| format!("{} {}", g.spec.name, fmt(v)))
                .collect();
            let caption = match changed.len() {
                0 => format!("{class}\nunchanged"),
                1..=3 => format!("{class}\n{}", changed.join("\n")),
                k => format!("{class}\n{}\n+{} more", changed[..2].join("\n"), k - 2),
            };
            (caption, p)
        })
        .collect();
    Ok(Some(Strip {
        title: format!(
            "chosen by\n{}\nepoch {}",
            exp.config.strategy.name, ckpt.meta.epoch
        ),
        cells,
    }))
}

/// The tensor-kind seeds of preview image i (the i-th of its split) under chromosome i.
fn preview_seeds(exp: &Experiment, chromosomes: &[f64], genes: usize) -> Vec<u64> {
    let n = chromosomes.len().checked_div(genes).unwrap_or(0);
    let owners: Vec<i64> = (0..n as i64).collect();
    crate::augment::seeds::variants(
        exp.config.seed,
        crate::augment::seeds::PREVIEW,
        &owners,
        chromosomes,
        genes,
    )
}
