//! `fuzzaug export RUN_DIR|CHECKPOINT --format safetensors|torchscript [--out FILE]
//! [--which best|last]`: a trained model for PyTorch.
use crate::setup::PluginFlags;
use crate::{
    cli::ExportArgs,
    models::InputSpec,
    run::checkpointer,
    rundir::{checkpoint::Meta, RunDir},
    setup::Experiment,
    weights::{self, Metadata},
};
use anyhow::{bail, Context};
use fuzzaug_sdk::Split;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

/// The file extension of each format.
fn extension(format: &str) -> &'static str {
    if format == "torchscript" {
        "pt"
    } else {
        "safetensors"
    }
}

/// Where the export goes: `--out`, else `RUN_DIR/export/<checkpoint file>.<ext>`.
fn out_path(args: &ExportArgs, dir: &RunDir, ckpt: &Path) -> PathBuf {
    args.out.clone().unwrap_or_else(|| {
        let stem = ckpt
            .file_name()
            .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
        dir.exports()
            .join(format!("{stem}.{}", extension(&args.format)))
    })
}

/// What the robust accuracy of `meta` was measured on, in words.
fn grid_words(meta: &Meta) -> String {
    match (meta.figures.robust_grid_size, meta.figures.robust_subset) {
        (Some(g), Some(n)) => format!(
            "all {g} chromosomes of the {{lo, identity, hi}} grid of genes [{}] on the first {n} test images",
            meta.genes.join(", ")
        ),
        _ => "not measured at this epoch".to_string(),
    }
}

/// Exports; prints what it wrote.
pub fn run(args: &ExportArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    let (dir, ckpt) = super::target::run_checkpoint(&args.target, args.which, "")?;
    let out = out_path(args, &dir, &ckpt);
    let probe_file = args.probe.map(|_| probe_path(&out));
    for file in std::iter::once(&out).chain(&probe_file) {
        if file.exists() && !args.overwrite {
            bail!(
                "{} exists; pass --overwrite to replace it, or --out another file",
                file.display()
            );
        }
    }
    let exp = Experiment::load_run(dir.path(), &[], cli)?;
    let (mut dataset, info, today) = exp.dataset()?;
    let spec = InputSpec::of(&info);
    // A plain NCHW model on the CPU: what PyTorch users load, whatever the run trained on.
    let (mut vs, network, meta) = checkpointer::load_network(&exp.config, &spec, &ckpt)?;
    // The normalisation the model was trained with, whatever the dataset measures today.
    let (mean, std) = meta.normalization.clone().unwrap_or(today);
    if network.scripted.is_some() && args.format != "torchscript" {
        bail!(
            "{} holds a TorchScript network (`{}`), whose buffers live in the module: export it \
             with `--format torchscript`, which keeps its parameters and buffers",
            ckpt.display(),
            exp.config.model.name()
        );
    }
    let model = network.module;
    // Weights are constants of the traced module, and TorchScript takes no constant that
    // requires a gradient.
    vs.freeze();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let probe = match args.probe {
        Some(n) => {
            let test = crate::data::load_split(&mut dataset, &info, Split::Test, Device::Cpu)?;
            let normalizer = crate::data::Normalizer::new(&mean, &std, Device::Cpu)?;
            Some(probe(model.as_ref(), &test, &normalizer, n)?)
        }
        None => None,
    };
    let what = if args.format == "torchscript" {
        let module = weights::torchscript::trace(model.as_ref(), &spec, &mean, &std)?;
        weights::torchscript::write(&module, &out)?;
        "a TorchScript module taking images on 0..1 (normalisation included)".to_string()
    } else {
        let batch = u64::from(exp.config.train.batch_size.max(1));
        let steps = u64::from(meta.epoch) * meta.train_len.div_ceil(batch);
        let tensors = weights::state_dict(&vs, steps as i64)?;
        let metadata = Metadata {
            arch: exp.config.model.name(),
            input: [spec.channels, spec.height, spec.width],
            classes: info.classes.iter().map(|c| c.to_string()).collect(),
            mean,
            std,
            epoch: meta.epoch,
            test_acc: meta.figures.test_acc,
            robust_acc: meta.figures.robust_acc,
            robust_grid: grid_words(&meta),
        };
        weights::safetensors::write(&out, &tensors, metadata.to_map())?;
        format!("{} tensors under PyTorch's state-dict names", tensors.len())
    };
    println!(
        "{} (`{}`, epoch {}) exported to {}: {what}",
        ckpt.display(),
        exp.config.model.name(),
        meta.epoch,
        out.display()
    );
    if let (Some(path), Some((tensors, accuracy))) = (probe_file, probe) {
        let n = tensors[0].1.size()[0];
        weights::safetensors::write(&path, &tensors, Default::default())?;
        println!(
            "the first {n} test images, their labels and fuzzaug's logits (accuracy {accuracy:.4}) in {}",
            path.display()
        );
    }
    Ok(0)
}

/// `<out stem>.probe.safetensors` beside `out`.
fn probe_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.probe.safetensors"))
}

/// The first `n` test images (u8), their labels and the logits `model` gives them in evaluation
/// mode, and its accuracy on them.
fn probe(
    model: &dyn nn::ModuleT,
    test: &crate::data::Images,
    normalizer: &crate::data::Normalizer,
    n: u64,
) -> anyhow::Result<(Vec<(String, Tensor)>, f64)> {
    let n = (n as i64).min(test.len());
    let images = test.pixels.f_narrow(0, 0, n)?.f_contiguous()?;
    let labels = test.labels.f_narrow(0, 0, n)?.f_contiguous()?;
    let _guard = tch::no_grad_guard();
    let mut logits = Vec::new();
    for start in (0..n).step_by(256) {
        let len = (n - start).min(256);
        let x = normalizer.apply(&images.f_narrow(0, start, len)?)?;
        logits.push(model.forward_t(&x, false));
    }
    let logits = Tensor::f_cat(&logits, 0)?;
    let correct = logits.f_argmax(1, false)?.f_eq_tensor(&labels)?;
    let accuracy = correct
        .f_to_kind(Kind::Double)?
        .f_mean(Kind::Double)?
        .double_value(&[]);
    let tensors = vec![
        ("images".to_string(), images),
        ("labels".to_string(), labels),
        ("logits".to_string(), logits),
    ];
    Ok((tensors, accuracy))
}
