//! `fuzzaug preview CONFIG --out FILE.png`: the first test images under each gene at its lo
//! and hi (the identity is the original) and under a few corners of the robust grid.
use crate::{
    augment::Engine,
    cli::PreviewArgs,
    report::preview::{render, Picture},
    setup::Experiment,
};
use anyhow::Context;
use fuzzaug_sdk::Split;
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

/// Sample images in the picture.
const SAMPLES: u64 = 4;

fn fmt(v: f64) -> String {
    let s = format!("{v:+.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes the preview PNG.
pub fn run(args: &PreviewArgs, cli_dirs: &[PathBuf]) -> anyhow::Result<u8> {
    let exp = Experiment::load(&args.config, &args.overrides, cli_dirs)?;
    let mut parts = exp.components()?;
    let info = parts.dataset_info.clone();
    let n = SAMPLES.min(info.test_len);
    let chunk = parts.dataset.read(Split::Test, 0, n)?;
    let (c, h, w) = (
        i64::from(info.channels),
        i64::from(info.height),
        i64::from(info.width),
    );
    let images = Tensor::f_from_slice(chunk.pixels.as_slice())?
        .f_view([n as i64, c, h, w])?
        .f_to_device(Device::Cpu)?;
    let engine = Engine::new(&parts.genes, info.height, info.width);
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
                info.classes
                    .get(chunk.labels[i] as usize)
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
        let out = engine
            .apply(&images, &batch, exp.config.seed)?
            .f_round()?
            .f_clamp(0.0, 255.0)?
            .f_to_kind(Kind::Uint8)?;
        for (i, row) in rows.iter_mut().enumerate() {
            let one = out.f_get(i as i64)?.f_contiguous()?;
            let mut pixels = vec![0u8; one.numel()];
            let len = pixels.len();
            one.f_copy_data_u8(&mut pixels, len)?;
            row.1.push(Picture {
                channels: c as usize,
                height: h as usize,
                width: w as usize,
                pixels,
            });
        }
    }
    let labels: Vec<String> = columns.into_iter().map(|(l, _)| l).collect();
    render(&args.out, &labels, &rows).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({} images × {} perturbations)",
        args.out.display(),
        rows.len(),
        labels.len()
    );
    Ok(0)
}
