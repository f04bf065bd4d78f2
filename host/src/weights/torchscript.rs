//! A TorchScript export: the network traced in evaluation mode with its normalisation in
//! front, so the module takes N×C×H×W images on 0..1 and needs nothing but `torch.jit.load`.
//!
//! The trace is taken at batch size 2; every network flattens with `flatten(1, -1)` rather
//! than a view of the batch size read on the host, so the traced module takes any batch size.
use crate::models::InputSpec;
use anyhow::Context;
use std::path::Path;
use tch::{nn::ModuleT, CModule, Device, Kind, Tensor};

/// Traces `model` (whose variables must not require gradients) behind `(x - mean) / std` (per channel, 0..1 scale) for inputs of `spec`.
pub fn trace(
    model: &dyn ModuleT,
    spec: &InputSpec,
    mean: &[f32],
    std: &[f32],
) -> anyhow::Result<CModule> {
    let _guard = tch::no_grad_guard();
    let channel = |v: &[f32]| -> anyhow::Result<Tensor> {
        Ok(Tensor::f_from_slice(v)?.f_view([1, -1, 1, 1])?)
    };
    let (mean, std) = (channel(mean)?, channel(std)?);
    let example = Tensor::f_rand(
        [2, spec.channels, spec.height, spec.width],
        (Kind::Float, Device::Cpu),
    )?;
    // tch's forward passes panic on a libtorch error; one run outside the tracer turns that into
    // an error before tracing starts.
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        model.forward_t(&((&example - &mean) / &std), false)
    }));
    let logits =
        probe.map_err(|_| anyhow::anyhow!("the model fails on a {:?} batch", example.size()))?;
    anyhow::ensure!(
        logits.size() == [2, spec.classes],
        "the model gives logits of shape {:?} for a batch of 2, not [2, {}]",
        logits.size(),
        spec.classes
    );
    let mut forward = |inputs: &[Tensor]| {
        let x = (&inputs[0] - &mean) / &std;
        vec![model.forward_t(&x, false)]
    };
    CModule::create_by_tracing("FuzzaugModel", "forward", &[example], &mut forward)
        .context("tracing the model into TorchScript")
}

/// Writes `module` to `path` atomically (libtorch writes it into a temporary folder beside it;
/// its bytes are then written in place by temp file and rename).
pub fn write(module: &CModule, path: &Path) -> anyhow::Result<()> {
    let p = path.display();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // libtorch names the archive's root folder after the file, so the file gets a plain name
    // inside a temporary folder.
    let tmp = tempfile::Builder::new()
        .prefix(".fuzzaug-export-")
        .tempdir_in(dir)
        .with_context(|| format!("cannot write beside {p}"))?;
    let staged = tmp.path().join("model.pt");
    module
        .save(&staged)
        .with_context(|| format!("writing the TorchScript module {p}"))?;
    let bytes = std::fs::read(&staged).with_context(|| format!("writing {p}"))?;
    crate::atomic::write(path, &bytes).with_context(|| format!("writing {p}"))
}
