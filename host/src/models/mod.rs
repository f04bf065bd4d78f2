//! Network architectures. Input channels, size and class count come from the
//! dataset.
//!
//! Every network is built with tch's `nn` module into a [`tch::nn::Path`] and returned as a boxed
//! [`tch::nn::ModuleT`] mapping an N×C×H×W float batch to N×classes logits.
//!
//! Each network is initialised exactly as the PyTorch definition it reproduces, because the init
//! changes what a given training schedule reaches (fuzzaug's small-cnn trailed its PyTorch twin
//! while its convolutions were initialised the torchvision way):
//! - `small-cnn`, the `preact-resnet*` family and `wrn-28-10` keep PyTorch's layer defaults, as
//!   their reference definitions do: convolutions uniform on ±1/√fan_in (`ConvInit::TorchDefault`);
//! - `resnet18`, `resnet50` and `resnet50-imagenet-stem` follow torchvision's `ResNet.__init__`
//!   (with `zero_init_residual=False`): Kaiming-normal, fan-out, ReLU-gain convolutions
//!   (`ConvInit::TorchvisionResNet`).
//!
//! In every network BatchNorm starts at weight 1 and bias 0 (running mean 0, variance 1), and the
//! final linear layer has PyTorch's `nn.Linear` default: weight and bias uniform on ±1/√in.
//! `tests/tests/init_parity.rs` compares every variable's statistics with PyTorch's.

pub mod layout;
mod preact_resnet;
mod resnet;
pub mod scripted;
mod small_cnn;
mod wrn;

use tch::nn;

/// Every architecture name a config may use in `model.arch`.
pub const ARCHS: &[&str] = &[
    "small-cnn",
    "preact-resnet20",
    "preact-resnet32",
    "preact-resnet56",
    "preact-resnet50",
    "resnet18",
    "resnet50",
    "resnet50-imagenet-stem",
    "wrn-28-10",
];

/// What a network is built for: the shape of one input image and the number of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    /// Input channels (3 for RGB, 1 for greyscale).
    pub channels: i64,
    /// Input height in pixels.
    pub height: i64,
    /// Input width in pixels.
    pub width: i64,
    /// Number of output classes (logits).
    pub classes: i64,
}

impl InputSpec {
    /// The input and output of a network for the dataset `info` describes.
    pub fn of(info: &fuzzaug_sdk::DatasetInfo) -> Self {
        Self {
            channels: i64::from(info.channels),
            height: i64::from(info.height),
            width: i64::from(info.width),
            classes: info.classes.len() as i64,
        }
    }
}

/// `did you mean `x`? ` for the architecture nearest `name`, if one is near.
fn did_you_mean(name: &str) -> String {
    fuzzaug_sdk::settings::did_you_mean(name, ARCHS)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default()
}

/// Why a network could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The name is not in [`ARCHS`] (with the nearest one, if any is near).
    #[error("unknown model `{name}`; {}valid models: {}", did_you_mean(name), ARCHS.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The input is smaller than the architecture's downsampling allows.
    #[error(
        "model `{model}` needs inputs of at least {min}×{min} pixels, but the input is {height}×{width}"
    )]
    InputTooSmall {
        /// The architecture.
        model: String,
        /// Input height.
        height: i64,
        /// Input width.
        width: i64,
        /// Smallest height and width the architecture accepts.
        min: i64,
    },
    /// Channels or classes are not positive.
    #[error("model `{model}` needs at least one input channel and one class, but got {channels} channel(s) and {classes} class(es)")]
    InvalidSpec {
        /// The architecture.
        model: String,
        /// Input channels.
        channels: i64,
        /// Output classes.
        classes: i64,
    },
}

/// The architectures of [`ARCHS`], parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    SmallCnn,
    /// Pre-activation ResNet 6n+2 with `n` blocks per stage.
    PreActResNet(i64),
    ResNet18,
    ResNet50(resnet::Stem),
    Wrn28x10,
}

impl Arch {
    fn parse(name: &str) -> Result<Self, ModelError> {
        Ok(match name {
            "small-cnn" => Arch::SmallCnn,
            "preact-resnet20" => Arch::PreActResNet(3),
            "preact-resnet32" => Arch::PreActResNet(5),
            "preact-resnet56" => Arch::PreActResNet(9),
            // 6·8+2 = 50: the reference study's "PreAct-ResNet50" (≈0.76 M parameters), not a
            // bottleneck network.
            "preact-resnet50" => Arch::PreActResNet(8),
            "resnet18" => Arch::ResNet18,
            "resnet50" => Arch::ResNet50(resnet::Stem::Cifar),
            "resnet50-imagenet-stem" => Arch::ResNet50(resnet::Stem::ImageNet),
            "wrn-28-10" => Arch::Wrn28x10,
            _ => {
                return Err(ModelError::Unknown {
                    name: name.to_string(),
                })
            }
        })
    }

    /// Smallest height and width accepted: the total downsampling factor, so that the last
    /// feature map is at least 1×1, and never below 8 (smaller inputs leave the CIFAR-style
    /// networks pooling over a degenerate 1×1 or 2×2 map from the first stages on).
    fn min_input_size(self) -> i64 {
        match self {
            // Two 2×2 max-pools (factor 4); 8×8 keeps a 2×2 map for the last conv.
            Arch::SmallCnn => 8,
            // Two stride-2 stages (factor 4).
            Arch::PreActResNet(_) | Arch::Wrn28x10 => 8,
            // Three stride-2 stages (factor 8).
            Arch::ResNet18 | Arch::ResNet50(resnet::Stem::Cifar) => 8,
            // Stride-2 conv, stride-2 max-pool and three stride-2 stages (factor 32).
            Arch::ResNet50(resnet::Stem::ImageNet) => 32,
        }
    }
}

/// The smallest input height and width `arch` accepts, or [`ModelError::Unknown`].
pub fn min_input_size(arch: &str) -> Result<i64, ModelError> {
    Arch::parse(arch).map(Arch::min_input_size)
}

/// Builds the network `arch` (one of [`ARCHS`]) with its variables under `vs`, for inputs of
/// shape `spec`. The module maps an N×C×H×W float batch to N×`classes` logits; `train` in
/// `forward_t` switches BatchNorm (and dropout) between training and evaluation.
pub fn build(
    arch: &str,
    vs: &nn::Path,
    spec: &InputSpec,
) -> Result<Box<dyn nn::ModuleT>, ModelError> {
    let parsed = Arch::parse(arch)?;
    if spec.channels < 1 || spec.classes < 1 {
        return Err(ModelError::InvalidSpec {
            model: arch.to_string(),
            channels: spec.channels,
            classes: spec.classes,
        });
    }
    let min = parsed.min_input_size();
    if spec.height < min || spec.width < min {
        return Err(ModelError::InputTooSmall {
            model: arch.to_string(),
            height: spec.height,
            width: spec.width,
            min,
        });
    }
    let (c, k) = (spec.channels, spec.classes);
    Ok(match parsed {
        Arch::SmallCnn => Box::new(small_cnn::small_cnn(vs, c, k)),
        Arch::PreActResNet(n) => Box::new(preact_resnet::preact_resnet(vs, c, k, n)),
        Arch::ResNet18 => Box::new(resnet::resnet18(vs, c, k)),
        Arch::ResNet50(stem) => Box::new(resnet::resnet50(vs, c, k, stem)),
        Arch::Wrn28x10 => Box::new(wrn::wide_resnet(vs, c, k, 28, 10, 0.0)),
    })
}

/// A run's network: a built-in architecture, or a TorchScript module with the handle its
/// checkpoints save.
pub struct Network {
    /// The network.
    pub module: Box<dyn nn::ModuleT>,
    /// The TorchScript module, for `[model] torchscript`.
    pub scripted: Option<std::sync::Arc<scripted::Scripted>>,
}

/// The network of `arch`, or of the TorchScript `file` when there is one, under `vs`.
pub fn network(
    arch: &str,
    file: Option<&std::path::Path>,
    vs: &nn::Path,
    spec: &InputSpec,
) -> anyhow::Result<Network> {
    match file {
        Some(f) => Ok(Network::scripted(scripted::Scripted::load(f, vs, spec)?)),
        None => Ok(Network {
            module: build(arch, vs, spec)?,
            scripted: None,
        }),
    }
}

impl Network {
    /// A TorchScript network.
    pub fn scripted(s: scripted::Scripted) -> Self {
        let s = std::sync::Arc::new(s);
        Self {
            module: Box::new(scripted::Shared(s.clone())),
            scripted: Some(s),
        }
    }
}

/// How an architecture initialises its convolution weights: the one choice of init that differs
/// between the PyTorch definitions these networks reproduce (BatchNorm and the classifier are the
/// same everywhere). Each architecture module names its variant once, next to its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConvInit {
    /// PyTorch's `nn.Conv2d` default (`reset_parameters`: `kaiming_uniform_(a=√5)`), uniform on
    /// ±1/√fan_in with fan_in = c_in·k·k: std 1/√(3·fan_in). The reference small-cnn
    /// (`bench/reference.py`), pre-activation ResNets and wide ResNets leave their convolutions
    /// at this default.
    TorchDefault,
    /// torchvision's `ResNet` init, `kaiming_normal_(mode="fan_out", nonlinearity="relu")`:
    /// normal with std √(2/fan_out), fan_out = c_out·k·k.
    TorchvisionResNet,
}

impl ConvInit {
    /// The weight init of a convolution from `c_in` channels with a `ksize`×`ksize` kernel
    /// (tch takes the fan-out of `TorchvisionResNet` from the weight's shape).
    fn weight_init(self, c_in: i64, ksize: i64) -> nn::Init {
        match self {
            ConvInit::TorchDefault => {
                // tch's own conv default is Kaiming-uniform with ReLU gain (√6 times wider), so
                // the bound is spelt out.
                let bound = 1.0 / ((c_in * ksize * ksize) as f64).sqrt();
                nn::Init::Uniform {
                    lo: -bound,
                    up: bound,
                }
            }
            ConvInit::TorchvisionResNet => nn::Init::Kaiming {
                dist: nn::init::NormalOrUniform::Normal,
                fan: nn::init::FanInOut::FanOut,
                non_linearity: nn::init::NonLinearity::ReLU,
            },
        }
    }
}

/// A bias-free 2-D convolution (every one in these networks feeds a BatchNorm, directly or
/// through the next block's pre-activation, which makes a bias redundant) with `init`'s weights.
fn conv2d(
    p: nn::Path,
    init: ConvInit,
    c_in: i64,
    c_out: i64,
    ksize: i64,
    stride: i64,
    padding: i64,
) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding,
        bias: false,
        ws_init: init.weight_init(c_in, ksize),
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, ksize, config)
}

/// BatchNorm over channels with default momentum and eps; weight 1 and bias 0 (tch's default
/// weight init is uniform on [0, 1], unlike PyTorch).
fn batch_norm2d(p: nn::Path, channels: i64) -> nn::BatchNorm {
    let config = nn::BatchNormConfig {
        ws_init: nn::Init::Const(1.0),
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::batch_norm2d(p, channels, config)
}

/// The classifier layer with PyTorch's default init: weight and bias uniform on ±1/√in (tch's
/// default weight init is Kaiming-uniform with ReLU gain, √6 times wider).
fn linear(p: nn::Path, in_dim: i64, out_dim: i64) -> nn::Linear {
    let bound = 1.0 / (in_dim as f64).sqrt();
    let config = nn::LinearConfig {
        ws_init: nn::Init::Uniform {
            lo: -bound,
            up: bound,
        },
        bs_init: None, // tch's default bias init is already uniform on ±1/√in
        bias: true,
    };
    nn::linear(p, in_dim, out_dim, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    fn spec(channels: i64, size: i64) -> InputSpec {
        InputSpec {
            channels,
            height: size,
            width: size,
            classes: 10,
        }
    }

    /// Whether every element of a boolean tensor is true.
    fn all(t: &Tensor) -> bool {
        t.all().int64_value(&[]) != 0
    }

    fn param_count(vs: &nn::VarStore) -> i64 {
        vs.trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum()
    }

    /// Builds `arch` for `spec` and checks a batch of 2 gives [2, classes] logits in training and
    /// evaluation mode.
    fn check_forward(arch: &str, spec: InputSpec) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = build(arch, &vs.root(), &spec).unwrap();
        let xs = Tensor::randn(
            [2, spec.channels, spec.height, spec.width],
            (Kind::Float, Device::Cpu),
        );
        let train = net.forward_t(&xs, true);
        assert_eq!(
            train.size(),
            [2, spec.classes],
            "{arch} (train) on {spec:?}"
        );
        assert!(
            all(&train.isfinite()),
            "{arch} (train) gives non-finite logits"
        );
        let eval = tch::no_grad(|| net.forward_t(&xs, false));
        assert_eq!(eval.size(), [2, spec.classes], "{arch} (eval) on {spec:?}");
        assert!(
            all(&eval.isfinite()),
            "{arch} (eval) gives non-finite logits"
        );
    }

    #[test]
    fn every_listed_arch_parses() {
        for arch in ARCHS {
            assert!(Arch::parse(arch).is_ok(), "{arch}");
        }
    }

    // Expected counts, derived by hand for channels 3, 10 classes. Only trainable parameters
    // count (BatchNorm running statistics are buffers); convs have no bias; BN has 2·c.
    //
    // small-cnn: 3·32·9 + 64 + 32·64·9 + 128 + 64·128·9 + 256 + 128·10 + 10
    //   = 864 + 64 + 18,432 + 128 + 73,728 + 256 + 1,290 = 94,762.
    //
    // preact-resnet 6n+2: stem 3·16·9 = 432; final BN 128 + linear 650 = 778.
    //   stage 1 block (16→16): 32 + 2,304 + 32 + 2,304 = 4,672.
    //   stage 2 first (16→32, 1×1 projection 512): 32 + 4,608 + 64 + 9,216 + 512 = 14,432;
    //     others: 64 + 9,216 + 64 + 9,216 = 18,560.
    //   stage 3 first (32→64, projection 2,048): 64 + 18,432 + 128 + 36,864 + 2,048 = 57,536;
    //     others: 128 + 36,864 + 128 + 36,864 = 73,984.
    //   total = 432 + 778 + n·4,672 + 14,432 + (n−1)·18,560 + 57,536 + (n−1)·73,984
    //         = 73,178 + 4,672·n + 92,544·(n−1):
    //   n = 3 (20): 272,282 (≈0.27 M); n = 5 (32): 466,714 (≈0.46 M);
    //   n = 9 (56): 855,578 (≈0.85 M); n = 8 (50): 758,362 (≈0.76 M).
    //
    // resnet18 (CIFAR stem): stem 1,728 + 128 = 1,856; layer1 2·2·(36,864 + 128) = 147,968;
    //   layer2 (73,728 + 256 + 147,456 + 256 + 8,192 + 256) + 2·(147,456 + 256) = 525,568;
    //   layer3 (294,912 + 512 + 589,824 + 512 + 32,768 + 512) + 2·(589,824 + 512) = 2,099,712;
    //   layer4 (1,179,648 + 1,024 + 2,359,296 + 1,024 + 131,072 + 1,024)
    //     + 2·(2,359,296 + 1,024) = 8,393,728; fc 512·10 + 10 = 5,130.
    //   total 11,173,962 (the published CIFAR ResNet-18 figure).
    //
    // resnet50-imagenet-stem: torchvision's ResNet-50 has 25,557,032 parameters with a
    //   1000-way fc (2048·1000 + 1000 = 2,049,000), so the body is 23,508,032; with a 10-way fc
    //   (20,490): 23,528,522.
    // resnet50 (CIFAR stem): the 7×7 stem conv (3·64·49 = 9,408) becomes 3×3 (3·64·9 = 1,728):
    //   23,528,522 − 9,408 + 1,728 = 23,520,842.
    //
    // wrn-28-10: n = (28 − 4)/6 = 4 blocks per stage, widths 160/320/640; stem 432.
    //   stage 1: (32 + 23,040 + 320 + 230,400 + 2,560) + 3·(320 + 230,400 + 320 + 230,400)
    //     = 256,352 + 1,384,320 = 1,640,672;
    //   stage 2: (320 + 460,800 + 640 + 921,600 + 51,200) + 3·(640 + 921,600 + 640 + 921,600)
    //     = 1,434,560 + 5,533,440 = 6,968,000;
    //   stage 3: (640 + 1,843,200 + 1,280 + 3,686,400 + 204,800)
    //     + 3·(1,280 + 3,686,400 + 1,280 + 3,686,400) = 5,736,320 + 22,126,080 = 27,862,400;
    //   final BN 1,280 + fc 6,410. Total 36,479,194 (≈36.5 M as published).
    const EXPECTED_PARAMS: &[(&str, i64)] = &[
        ("small-cnn", 94_762),
        ("preact-resnet20", 272_282),
        ("preact-resnet32", 466_714),
        ("preact-resnet56", 855_578),
        ("preact-resnet50", 758_362),
        ("resnet18", 11_173_962),
        ("resnet50", 23_520_842),
        ("resnet50-imagenet-stem", 23_528_522),
        ("wrn-28-10", 36_479_194),
    ];

    #[test]
    fn parameter_counts_match_the_published_figures() {
        assert_eq!(EXPECTED_PARAMS.len(), ARCHS.len());
        for &(arch, expected) in EXPECTED_PARAMS {
            let vs = nn::VarStore::new(Device::Cpu);
            build(arch, &vs.root(), &spec(3, 32)).unwrap();
            assert_eq!(param_count(&vs), expected, "{arch}");
        }
    }

    #[test]
    fn initialisation_follows_torchvision() {
        let vs = nn::VarStore::new(Device::Cpu);
        build("resnet18", &vs.root(), &spec(3, 32)).unwrap();
        let vars = vs.variables();
        for (name, t) in &vars {
            if name.ends_with(".weight") && t.dim() == 1 {
                assert!(all(&t.eq(1.0)), "BN weight {name} is not 1");
            } else if name.ends_with(".bias") && !name.starts_with("fc.") {
                assert!(all(&t.eq(0.0)), "BN bias {name} is not 0");
            }
        }
        // Kaiming normal, fan-out, ReLU gain: std = √(2 / (512·9)) ≈ 0.0209 for layer4's convs.
        let w = &vars["layer4.1.conv2.weight"];
        let std = w.std(true).double_value(&[]);
        let expected = (2.0 / (512.0 * 9.0f64)).sqrt();
        assert!(
            (std - expected).abs() < 0.05 * expected,
            "std {std}, expected {expected}"
        );
    }

    /// Checks that `t` looks drawn from U(−bound, bound): every element inside (up to f32
    /// rounding), the extremes near ±bound and the std near bound/√3, with margins that a
    /// correct init misses with probability below 1e-8.
    fn assert_uniform(name: &str, t: &Tensor, bound: f64) {
        let t = t.to_kind(Kind::Double);
        let n = t.numel() as f64;
        let (min, max) = (t.min().double_value(&[]), t.max().double_value(&[]));
        let slack = bound * 1e-6;
        assert!(
            min >= -bound - slack && max <= bound + slack,
            "{name}: range [{min}, {max}] leaves ±{bound}"
        );
        // P(max < bound·(1 − ε)) = (1 − ε/2)^n ≈ e^(−20) for ε = 40/n.
        let eps = 40.0 / n;
        if eps < 0.5 {
            assert!(
                max >= bound * (1.0 - eps) && min <= -bound * (1.0 - eps),
                "{name}: range [{min}, {max}] falls short of ±{bound}"
            );
        }
        if n >= 100.0 {
            // The sample std of a uniform has a relative standard error of √(0.2/n).
            let std = t.std(true).double_value(&[]);
            let expected = bound / 3f64.sqrt();
            assert!(
                (std - expected).abs() < 6.0 * (0.2 / n).sqrt() * expected,
                "{name}: std {std}, expected {expected} (uniform on ±{bound})"
            );
        }
    }

    /// Checks that `t` looks drawn from N(0, std²): sample std within 6 standard errors, and
    /// tails reaching past what a uniform of that std allows (√3·std).
    fn assert_normal(name: &str, t: &Tensor, expected: f64) {
        let t = t.to_kind(Kind::Double);
        let n = t.numel() as f64;
        assert!(n >= 1000.0, "{name}: too few elements ({n}) to check");
        let std = t.std(true).double_value(&[]);
        assert!(
            (std - expected).abs() < 6.0 * expected / (2.0 * n).sqrt(),
            "{name}: std {std}, expected {expected}"
        );
        let max_abs = t.abs().max().double_value(&[]);
        assert!(
            max_abs > 2.2 * expected,
            "{name}: max |w| {max_abs} is too small for a normal of std {expected}"
        );
    }

    /// Checks every variable of `arch` against its documented init: convolutions by
    /// `conv_init`, BatchNorm weight 1 / bias 0 / running mean 0 / running variance 1, and the
    /// classifier's weight and bias uniform on ±1/√in.
    fn check_init(arch: &str, conv_init: ConvInit) {
        let vs = nn::VarStore::new(Device::Cpu);
        build(arch, &vs.root(), &spec(3, 32)).unwrap();
        let vars = vs.variables();
        let fc_in = vars["fc.weight"].size()[1];
        let mut convs = 0;
        for (name, t) in &vars {
            let size = t.size();
            if name == "fc.weight" || name == "fc.bias" {
                assert_uniform(name, t, 1.0 / (fc_in as f64).sqrt());
            } else if size.len() == 4 {
                convs += 1;
                let (c_out, c_in, k) = (size[0], size[1], size[2]);
                match conv_init {
                    ConvInit::TorchDefault => {
                        assert_uniform(name, t, 1.0 / ((c_in * k * k) as f64).sqrt())
                    }
                    ConvInit::TorchvisionResNet => {
                        assert_normal(name, t, (2.0 / ((c_out * k * k) as f64)).sqrt())
                    }
                }
            } else {
                let expected = if name.ends_with(".weight") || name.ends_with(".running_var") {
                    1.0
                } else {
                    assert!(
                        name.ends_with(".bias") || name.ends_with(".running_mean"),
                        "{arch}: unexpected variable {name} {size:?}"
                    );
                    0.0
                };
                assert!(all(&t.eq(expected)), "{arch}: {name} is not {expected}");
            }
        }
        assert!(convs > 0, "{arch} has no convolutions");
    }

    #[test]
    fn small_cnn_and_preact_networks_keep_pytorch_layer_defaults() {
        for arch in [
            "small-cnn",
            "preact-resnet20",
            "preact-resnet32",
            "preact-resnet56",
            "preact-resnet50",
        ] {
            check_init(arch, ConvInit::TorchDefault);
        }
    }

    #[test]
    fn wide_resnet_keeps_pytorch_layer_defaults() {
        check_init("wrn-28-10", ConvInit::TorchDefault);
    }

    #[test]
    fn resnets_initialise_as_torchvision() {
        for arch in ["resnet18", "resnet50", "resnet50-imagenet-stem"] {
            check_init(arch, ConvInit::TorchvisionResNet);
        }
    }

    #[test]
    fn small_cnn_conv_bounds_are_one_over_root_fan_in() {
        let vs = nn::VarStore::new(Device::Cpu);
        build("small-cnn", &vs.root(), &spec(3, 32)).unwrap();
        let vars = vs.variables();
        // conv2: 32 → 64, 3×3: fan_in 288, bound 1/√288 ≈ 0.0589, std ≈ 0.0340.
        let w = vars["conv2.weight"].to_kind(Kind::Double);
        let bound = 1.0 / 288f64.sqrt();
        let max_abs = w.abs().max().double_value(&[]);
        assert!(
            max_abs <= bound * (1.0 + 1e-6) && max_abs > 0.99 * bound,
            "max |w| {max_abs}, bound {bound}"
        );
        let std = w.std(true).double_value(&[]);
        let expected = bound / 3f64.sqrt();
        assert!(
            (std - expected).abs() < 0.02 * expected,
            "std {std}, expected {expected}"
        );
    }

    #[test]
    fn small_networks_run_on_cifar_sized_inputs() {
        for arch in [
            "small-cnn",
            "preact-resnet20",
            "preact-resnet32",
            "preact-resnet56",
            "preact-resnet50",
            "resnet18",
        ] {
            check_forward(arch, spec(3, 32));
        }
    }

    #[test]
    fn one_channel_28x28_inputs() {
        for arch in ["small-cnn", "preact-resnet20"] {
            check_forward(arch, spec(1, 28));
        }
    }

    /// The expensive forward passes, gathered so they run once.
    #[test]
    fn large_networks_run_on_cifar_sized_inputs() {
        for arch in ["resnet50", "resnet50-imagenet-stem", "wrn-28-10"] {
            check_forward(arch, spec(3, 32));
        }
    }

    #[test]
    fn every_network_runs_at_its_minimum_size() {
        for arch in ARCHS {
            let min = min_input_size(arch).unwrap();
            // The ImageNet stem's minimum (32) is already covered at 32×32 above.
            if min < 32 {
                check_forward(
                    arch,
                    InputSpec {
                        channels: 3,
                        height: min,
                        width: min + 3,
                        classes: 4,
                    },
                );
            }
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_valid_list() {
        let vs = nn::VarStore::new(Device::Cpu);
        let err = build("resnet-9000", &vs.root(), &spec(3, 32)).unwrap_err();
        assert_eq!(
            err,
            ModelError::Unknown {
                name: "resnet-9000".to_string()
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown model `resnet-9000`; did you mean `resnet50`? valid models: small-cnn, preact-resnet20, \
             preact-resnet32, preact-resnet56, preact-resnet50, resnet18, resnet50, \
             resnet50-imagenet-stem, wrn-28-10"
        );
        assert_eq!(min_input_size("resnet-9000"), Err(err));
    }

    #[test]
    fn too_small_inputs_are_refused() {
        let vs = nn::VarStore::new(Device::Cpu);
        let err = build("resnet50-imagenet-stem", &vs.root(), &spec(1, 28))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "model `resnet50-imagenet-stem` needs inputs of at least 32×32 pixels, but the input \
             is 28×28"
        );
        let wide = InputSpec {
            channels: 3,
            height: 32,
            width: 7,
            classes: 10,
        };
        let err = build("small-cnn", &vs.root(), &wide).err().unwrap();
        assert_eq!(
            err,
            ModelError::InputTooSmall {
                model: "small-cnn".into(),
                height: 32,
                width: 7,
                min: 8
            }
        );
        // Nothing was created for the refused builds.
        assert_eq!(vs.len(), 0);
    }

    #[test]
    fn non_positive_channels_or_classes_are_refused() {
        let vs = nn::VarStore::new(Device::Cpu);
        let bad = InputSpec {
            channels: 3,
            height: 32,
            width: 32,
            classes: 0,
        };
        let err = build("small-cnn", &vs.root(), &bad).err().unwrap();
        assert!(
            matches!(err, ModelError::InvalidSpec { classes: 0, .. }),
            "{err}"
        );
    }
}
