//! The experiment config: types, loading with `--set`, and validation that
//! points at the file, line and column of every problem.
mod load;
mod output;
mod protocol;
mod source;
mod validate;
mod words;

pub use load::{edit, load, load_text, parse_override, toml_string};
pub use output::check_output_dir;
pub use protocol::{Points, Protocol, DEFAULT_POINTS};
pub use source::{ConfigError, Source};
pub use validate::{parse_device, validate, DeviceSpec};
pub use words::explain;

use serde::{de::Error as _, Deserialize, Deserializer, Serialize};
use std::{collections::BTreeMap, path::PathBuf};

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Run directory name under `output_dir`.
    pub name: String,
    /// Seed of every random stream of the run.
    #[serde(default)]
    pub seed: u64,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Where run directories go (relative to the working directory).
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// Extra plugin folders, searched after `--plugin-dir` (relative to the config file).
    #[serde(default)]
    pub plugin_dirs: Vec<PathBuf>,
    /// The dataset component and its settings.
    #[serde(default = "default_dataset")]
    pub dataset: DatasetConfig,
    /// The network.
    #[serde(default)]
    pub model: ModelConfig,
    /// The optimisation.
    #[serde(default)]
    pub train: TrainConfig,
    /// The genes of the search space, in chromosome order.
    #[serde(default)]
    pub transforms: Vec<TransformConfig>,
    /// The augmentation strategy component and its settings.
    #[serde(default = "default_strategy")]
    pub strategy: ComponentConfig,
    /// Evaluation.
    #[serde(default)]
    pub eval: EvalConfig,
    /// Plugin pinning.
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// Where metrics go besides the run directory's own files.
    #[serde(default, skip_serializing_if = "LogConfig::is_default")]
    pub log: LogConfig,
    /// Provenance that fuzzaug writes into a run's resolved `config.toml` (version, plugin
    /// fingerprints); accepted and ignored when such a file is used as a config.
    #[serde(default, skip_serializing)]
    pub fuzzaug: Option<toml::Table>,
}

/// A `[dataset]` or `[strategy]` table: the component's name, the rest goes to the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentConfig {
    /// The component's name.
    pub name: String,
    /// Every other key, handed to the plugin as TOML.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// `[dataset]`: the component's name, an optional normalisation override (the host's), the
/// rest goes to the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetConfig {
    /// The component's name.
    pub name: String,
    /// Per-channel mean on the 0..1 scale, replacing the dataset's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Vec<f32>>,
    /// Per-channel standard deviation on the 0..1 scale, replacing the dataset's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<Vec<f32>>,
    /// Every other key, handed to the plugin as TOML.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// One `[[transforms]]` entry: a gene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformConfig {
    /// The transform component's name.
    pub name: String,
    /// `[lo, hi]`; the transform's default range when absent.
    #[serde(default, deserialize_with = "range")]
    pub range: Option<[f64; 2]>,
    /// Grid step of a discrete space; absent = continuous.
    #[serde(default)]
    pub step: Option<f64>,
    /// How far one mutation moves the gene; the transform's own step when absent. On a grid it
    /// must be more than half a grid step and not an odd number of half steps, so that +step and
    /// −step both move the gene, by the same distance.
    #[serde(default)]
    pub mutation_step: Option<f64>,
    /// The mutation step when the parent's loss is tiny; when absent, the transform's own, scaled
    /// by `mutation_step` / the transform's mutation step where `mutation_step` is set.
    #[serde(default)]
    pub low_loss_mutation_step: Option<f64>,
    /// Every other key, handed to the plugin.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Architecture name.
    #[serde(default = "default_arch")]
    pub arch: String,
    /// Start from these weights instead of a fresh initialisation: an exported
    /// `.safetensors` file or a run directory (its last checkpoint); relative to the config's
    /// folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
    /// Train this TorchScript module (saved with `torch.jit.script` or `trace`) instead of a
    /// built-in `arch`; relative to the config's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torchscript: Option<PathBuf>,
    /// Variables (a name, or a prefix ending at a `.`, e.g. `fc`) that keep their fresh
    /// initialisation even when `init` has them: a new classifier head.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reinit: Vec<String>,
}

/// Written without `arch` when `torchscript` names the network, so that a resolved config reads
/// back without the two conflicting.
impl Serialize for ModelConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("ModelConfig", 4)?;
        match &self.torchscript {
            None => m.serialize_field("arch", &self.arch)?,
            Some(file) => {
                m.skip_field("arch")?;
                m.serialize_field("torchscript", file)?;
            }
        }
        match &self.init {
            Some(init) => m.serialize_field("init", init)?,
            None => m.skip_field("init")?,
        }
        if self.reinit.is_empty() {
            m.skip_field("reinit")?;
        } else {
            m.serialize_field("reinit", &self.reinit)?;
        }
        m.end()
    }
}

impl ModelConfig {
    /// What the network is, in words and in checkpoints: the architecture, or
    /// `torchscript:<file name>`.
    pub fn name(&self) -> String {
        match &self.torchscript {
            Some(p) => format!(
                "torchscript:{}",
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
            None => self.arch.clone(),
        }
    }
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Number of epochs.
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    /// Training batch size.
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Optimiser.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// `fp32` or `bf16`.
    #[serde(default)]
    pub precision: Precision,
    /// Random horizontal flip (p = 0.5) of training images, decided per sample before the
    /// strategy's candidates are built from it. When absent, on exactly when the dataset says a
    /// mirror keeps its labels ([`TrainConfig::hflip_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hflip: Option<bool>,
    /// How photometric genes are clamped to 0..255: `fused` (one gain and bias, one clamp) or
    /// `per-gene` (each gene applied and clamped in turn, as the reference implementation does).
    #[serde(default)]
    pub photometric_clamp: PhotometricClamp,
    /// Which variables the optimiser's weight decay applies to: `all`, or `weights` (the
    /// kernels of convolutions and linear layers only: no biases, no batch-norm), which is
    /// how a Keras L2 on kernels acts.
    #[serde(default)]
    pub weight_decay_on: WeightDecayOn,
    /// Channels-last (NHWC) memory layout for the network's inputs and convolution weights:
    /// faster kernels on CPU (oneDNN) and GPU (cuDNN); `false` keeps NCHW.
    #[serde(default = "default_true")]
    pub channels_last: bool,
    /// Keep `checkpoints/best`, the epoch best by this metric, beside `checkpoints/last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_best: Option<KeepBest>,
}

/// `train.keep_best`: the metric whose best epoch `checkpoints/best` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepBest {
    /// Robust accuracy, compared on the epochs that measure it (`eval.robust_every`).
    RobustAcc,
    /// Standard test accuracy, measured every epoch.
    TestAcc,
}

impl KeepBest {
    /// The metric's name, as the config and `summary.json` spell it.
    pub fn name(self) -> &'static str {
        match self {
            KeepBest::RobustAcc => "robust_acc",
            KeepBest::TestAcc => "test_acc",
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Write TensorBoard event files under the run directory's `tb/`.
    #[serde(default)]
    pub tensorboard: bool,
    /// Epochs between image grids of the variants the strategy chose (0: none).
    #[serde(default = "default_image_every")]
    pub image_every: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            tensorboard: false,
            image_every: default_image_every(),
        }
    }
}

impl LogConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_image_every() -> u32 {
    5
}

impl TrainConfig {
    /// Whether training images are flipped: the config's `hflip`, else the dataset's own
    /// answer to whether a mirror keeps labels.
    pub fn hflip_for(&self, mirror_preserves_labels: bool) -> bool {
        self.hflip.unwrap_or(mirror_preserves_labels)
    }
}

/// `train.photometric_clamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotometricClamp {
    /// All photometric genes fused into one gain and bias, clamped once.
    #[default]
    Fused,
    /// Each photometric gene applied and clamped to 0..255 in turn (the reference's order).
    PerGene,
}

/// `train.weight_decay_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightDecayOn {
    /// Every trainable variable.
    #[default]
    All,
    /// Convolution and linear kernels only (variables named `*weight` with 2 or more
    /// dimensions).
    Weights,
}

/// Numeric precision of training and scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    #[default]
    Fp32,
    /// bfloat16 autocast, on CUDA and on the CPU (fast where the CPU has bf16 instructions).
    Bf16,
}

impl Precision {
    /// `fp32` or `bf16`, as in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fp32 => "fp32",
            Self::Bf16 => "bf16",
        }
    }
}

/// `train.optimizer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum.
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
        /// L2 weight decay.
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam with decoupled weight decay.
    Adamw {
        /// Learning rate.
        lr: f64,
        /// Decoupled weight decay.
        #[serde(default = "default_adamw_wd")]
        weight_decay: f64,
        /// Adam's beta1 and beta2.
        #[serde(default = "default_betas", deserialize_with = "betas")]
        betas: [f64; 2],
        /// Adam's epsilon.
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Sgd {
            lr: 0.05,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 1e-4,
        }
    }
}

/// `train.schedule`; every kind takes an optional linear warm-up in epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ScheduleConfig {
    /// A constant learning rate.
    Constant {
        /// Linear warm-up epochs.
        #[serde(default)]
        warmup_epochs: u32,
    },
    /// Multiply by `gamma` every `every` epochs.
    Step {
        /// Epochs between decays.
        every: u32,
        /// Decay factor.
        #[serde(default = "default_gamma")]
        gamma: f64,
        /// Linear warm-up epochs.
        #[serde(default)]
        warmup_epochs: u32,
    },
    /// Multiply by `gamma` at each listed epoch.
    Multistep {
        /// Epochs at which to decay, increasing.
        milestones: Vec<u32>,
        /// Decay factor.
        #[serde(default = "default_gamma")]
        gamma: f64,
        /// Linear warm-up epochs.
        #[serde(default)]
        warmup_epochs: u32,
    },
    /// Cosine annealing to `min_lr` at the last epoch.
    Cosine {
        /// Final learning rate.
        #[serde(default)]
        min_lr: f64,
        /// Linear warm-up epochs.
        #[serde(default)]
        warmup_epochs: u32,
    },
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self::Constant { warmup_epochs: 0 }
    }
}

/// `[eval]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Epochs between robust-accuracy evaluations (and always at the end); 0 = only at the end.
    #[serde(default = "default_robust_every")]
    pub robust_every: u32,
    /// Test images used for the robust grid (the first N); all when absent.
    #[serde(default)]
    pub robust_subset: Option<u64>,
    /// The protocols `fuzzaug eval` runs on this run's model by default (a 3-point grid when
    /// none is given); a `--threat` file replaces them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<Protocol>,
}

/// `[plugins]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Expected SHA-256 of plugin libraries, by library name (`sensei` for
    /// `libfuzzaug_sensei.so`).
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
    /// Load only the libraries pinned in `sha256`: an unpinned library on the search path is
    /// skipped, and none of its code runs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub only_pinned: bool,
    /// Libraries (`sensei` for `libfuzzaug_sensei.so`) or components (`rotation`) whose code
    /// runs in a child process of its own: a crash in it stops the run with an error instead
    /// of ending fuzzaug. The command line's `--isolate` adds to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolate: Vec<String>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            arch: default_arch(),
            init: None,
            torchscript: None,
            reinit: Vec::new(),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            optimizer: OptimizerConfig::default(),
            schedule: ScheduleConfig::default(),
            precision: Precision::default(),
            hflip: None,
            photometric_clamp: PhotometricClamp::Fused,
            weight_decay_on: WeightDecayOn::All,
            channels_last: true,
            keep_best: None,
        }
    }
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            robust_every: default_robust_every(),
            robust_subset: None,
            protocols: Vec::new(),
        }
    }
}

/// Exactly `N` numbers: serde's own `[f64; N]` takes the first `N` of a longer list.
fn exactly<'de, D: Deserializer<'de>, const N: usize>(
    d: D,
    key: &str,
    shape: &str,
) -> Result<[f64; N], D::Error> {
    let v = Vec::<f64>::deserialize(d)?;
    <[f64; N]>::try_from(v.as_slice())
        .map_err(|_| D::Error::custom(load::length_message(key, N, shape, v.len())))
}

fn range<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[f64; 2]>, D::Error> {
    exactly(d, "range", "[lo, hi]").map(Some)
}

fn betas<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    exactly(d, "betas", "[beta1, beta2]")
}

fn default_device() -> String {
    "auto".into()
}
fn default_output_dir() -> PathBuf {
    "runs".into()
}
fn default_dataset() -> DatasetConfig {
    DatasetConfig {
        name: "shapes".into(),
        mean: None,
        std: None,
        settings: toml::Table::new(),
    }
}
fn default_strategy() -> ComponentConfig {
    ComponentConfig {
        name: "standard".into(),
        settings: toml::Table::new(),
    }
}
fn default_arch() -> String {
    "small-cnn".into()
}
fn default_epochs() -> u32 {
    10
}
fn default_batch_size() -> u32 {
    128
}
fn default_true() -> bool {
    true
}
fn default_gamma() -> f64 {
    0.1
}
fn default_adamw_wd() -> f64 {
    0.01
}
fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}
fn default_eps() -> f64 {
    1e-8
}
fn default_robust_every() -> u32 {
    25
}
