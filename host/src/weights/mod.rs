//! A model's weights in PyTorch's terms, in and out of fuzzaug: the state dict of a model
//! (PyTorch's names, BatchNorm's `num_batches_tracked` included), exported as safetensors with
//! the metadata a user needs to use it ([`Metadata`]) or as a self-contained TorchScript module
//! ([`torchscript`]), and read back to start a run from ([`init`]).
//!
//! The variable names of fuzzaug's networks are PyTorch's state-dict names already
//! (`layer1.0.conv1.weight`, `bn1.running_mean`; torchvision's for the ResNets), which is what
//! makes an export loadable by `load_state_dict` without a renaming table.
pub mod init;
pub mod safetensors;
pub mod torchscript;

use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

/// The suffix of a BatchNorm's running mean, which tch keeps.
const RUNNING_MEAN: &str = "running_mean";
/// PyTorch's BatchNorm buffer that tch does not keep; a state dict needs it.
pub const NUM_BATCHES_TRACKED: &str = "num_batches_tracked";

/// The state dict of the model whose variables are in `vs`: every variable under its name,
/// contiguous on the CPU, plus a `num_batches_tracked` of `steps` (the training steps taken) for
/// each BatchNorm; sorted by name.
pub fn state_dict(vs: &nn::VarStore, steps: i64) -> anyhow::Result<Vec<(String, Tensor)>> {
    let _guard = tch::no_grad_guard();
    let mut out = Vec::new();
    for (name, t) in vs.variables() {
        let t = t
            .f_detach()?
            .f_to_device(tch::Device::Cpu)?
            .f_contiguous()?;
        if let Some(bn) = name.strip_suffix(RUNNING_MEAN) {
            out.push((
                format!("{bn}{NUM_BATCHES_TRACKED}"),
                Tensor::from(steps).f_to_kind(Kind::Int64)?,
            ));
        }
        out.push((name, t));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Whether `name` is a state-dict entry that only PyTorch keeps (skipped when loading).
pub fn is_pytorch_only(name: &str) -> bool {
    name.ends_with(NUM_BATCHES_TRACKED)
}

/// What an exported file says about its model, as string pairs (safetensors metadata holds
/// strings only; lists are JSON). The keys are the contract with `python/fuzzaug_models.py`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// `model.arch`.
    pub arch: String,
    /// Input channels, height and width.
    pub input: [i64; 3],
    /// Class names, in label order.
    pub classes: Vec<String>,
    /// Per-channel mean and std on the 0..1 scale: the network sees `(x - mean) / std`.
    pub mean: Vec<f32>,
    /// See `mean`.
    pub std: Vec<f32>,
    /// Epochs trained.
    pub epoch: u32,
    /// Test accuracy of that epoch, when known.
    pub test_acc: Option<f64>,
    /// Robust accuracy of that epoch, when measured.
    pub robust_acc: Option<f64>,
    /// What the robust accuracy was measured on, in words.
    pub robust_grid: String,
}

/// The metadata keys.
const FORMAT: &str = "fuzzaug_format";
const FORMAT_VERSION: &str = "1";

impl Metadata {
    /// The metadata as safetensors' string map.
    pub fn to_map(&self) -> HashMap<String, String> {
        let json = |v: serde_json::Value| v.to_string();
        let opt = |v: Option<f64>| v.map_or_else(|| "null".to_string(), |x| x.to_string());
        [
            (FORMAT, FORMAT_VERSION.to_string()),
            ("arch", self.arch.clone()),
            ("in_channels", self.input[0].to_string()),
            ("height", self.input[1].to_string()),
            ("width", self.input[2].to_string()),
            ("num_classes", self.classes.len().to_string()),
            ("classes", json(serde_json::json!(self.classes))),
            ("mean", json(serde_json::json!(self.mean))),
            ("std", json(serde_json::json!(self.std))),
            ("fuzzaug_version", env!("CARGO_PKG_VERSION").to_string()),
            ("epoch", self.epoch.to_string()),
            ("test_acc", opt(self.test_acc)),
            ("robust_acc", opt(self.robust_acc)),
            ("robust_grid", self.robust_grid.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
