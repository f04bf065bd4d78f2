//! ResNets (He et al. 2015, "Deep Residual Learning for Image Recognition") with basic or
//! bottleneck blocks, and either the CIFAR stem or torchvision's ImageNet stem.

use super::{batch_norm2d, conv2d, linear, ConvInit};

/// torchvision's `ResNet.__init__` re-initialises every convolution Kaiming-normal (fan-out,
/// ReLU); its BatchNorm (1 and 0) and fc (`nn.Linear` default) inits are the shared ones, and
/// `zero_init_residual` is off.
const INIT: ConvInit = ConvInit::TorchvisionResNet;
use tch::nn::{self, ModuleT};

/// The first layers, before the four stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stem {
    /// conv3×3 stride 1 (64) + BN + ReLU, no max-pool: keeps 32×32 inputs at full resolution.
    Cifar,
    /// torchvision's conv7×7 stride 2 (64) + BN + ReLU + max-pool 3×3 stride 2.
    ImageNet,
}

/// The residual block kind.
#[derive(Debug, Clone, Copy)]
enum Block {
    /// Two 3×3 convs, expansion 1.
    Basic,
    /// 1×1 reduce, 3×3, 1×1 expand (×4), stride in the 3×3 conv as torchvision's v1.5.
    Bottleneck,
}

impl Block {
    fn expansion(self) -> i64 {
        match self {
            Block::Basic => 1,
            Block::Bottleneck => 4,
        }
    }
}

/// The shortcut: identity, or a strided 1×1 conv + BN when the shape changes (torchvision's
/// `downsample.0` / `downsample.1`).
fn downsample(p: nn::Path, c_in: i64, c_out: i64, stride: i64) -> Option<nn::SequentialT> {
    (stride != 1 || c_in != c_out).then(|| {
        nn::seq_t()
            .add(conv2d(&p / "0", INIT, c_in, c_out, 1, stride, 0))
            .add(batch_norm2d(&p / "1", c_out))
    })
}

/// One residual block taking `c_in` channels to `width · expansion`.
fn block(p: nn::Path, kind: Block, c_in: i64, width: i64, stride: i64) -> impl ModuleT {
    let c_out = width * kind.expansion();
    let residual = match kind {
        Block::Basic => nn::seq_t()
            .add(conv2d(&p / "conv1", INIT, c_in, width, 3, stride, 1))
            .add(batch_norm2d(&p / "bn1", width))
            .add_fn(|xs| xs.relu())
            .add(conv2d(&p / "conv2", INIT, width, width, 3, 1, 1))
            .add(batch_norm2d(&p / "bn2", width)),
        Block::Bottleneck => nn::seq_t()
            .add(conv2d(&p / "conv1", INIT, c_in, width, 1, 1, 0))
            .add(batch_norm2d(&p / "bn1", width))
            .add_fn(|xs| xs.relu())
            .add(conv2d(&p / "conv2", INIT, width, width, 3, stride, 1))
            .add(batch_norm2d(&p / "bn2", width))
            .add_fn(|xs| xs.relu())
            .add(conv2d(&p / "conv3", INIT, width, c_out, 1, 1, 0))
            .add(batch_norm2d(&p / "bn3", c_out)),
    };
    let shortcut = downsample(&p / "downsample", c_in, c_out, stride);
    nn::func_t(move |xs, train| {
        let ys = xs.apply_t(&residual, train);
        let sum = match &shortcut {
            Some(proj) => xs.apply_t(proj, train) + ys,
            None => xs + ys,
        };
        sum.relu()
    })
}

/// The ResNet: stem, four stages of `blocks` blocks with widths 64/128/256/512 (stride 2 at the
/// first block of stages 2–4), global average pool, linear. Parameter names follow torchvision
/// (`conv1`, `bn1`, `layer1.0.conv1`, …, `fc`).
fn resnet(
    p: &nn::Path,
    channels: i64,
    classes: i64,
    kind: Block,
    blocks: [i64; 4],
    stem: Stem,
) -> impl ModuleT {
    let conv1 = match stem {
        Stem::Cifar => conv2d(p / "conv1", INIT, channels, 64, 3, 1, 1),
        Stem::ImageNet => conv2d(p / "conv1", INIT, channels, 64, 7, 2, 3),
    };
    let bn1 = batch_norm2d(p / "bn1", 64);
    let mut body = nn::seq_t();
    let mut c_in = 64;
    for (stage, (&count, width)) in blocks.iter().zip([64, 128, 256, 512]).enumerate() {
        let stage_path = p / format!("layer{}", stage + 1);
        for i in 0..count {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            body = body.add(block(&stage_path / i, kind, c_in, width, stride));
            c_in = width * kind.expansion();
        }
    }
    let fc = linear(p / "fc", c_in, classes);
    nn::func_t(move |xs, train| {
        let ys = xs.apply(&conv1).apply_t(&bn1, train).relu();
        let ys = match stem {
            Stem::Cifar => ys,
            Stem::ImageNet => ys.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false),
        };
        ys.apply_t(&body, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&fc)
    })
}

/// ResNet-18 for CIFAR: basic blocks [2, 2, 2, 2] and the CIFAR stem.
pub(super) fn resnet18(p: &nn::Path, channels: i64, classes: i64) -> impl ModuleT {
    resnet(
        p,
        channels,
        classes,
        Block::Basic,
        [2, 2, 2, 2],
        Stem::Cifar,
    )
}

/// ResNet-50: bottleneck blocks [3, 4, 6, 3]; with [`Stem::ImageNet`] it is torchvision's
/// `resnet50` with a `classes`-way head.
pub(super) fn resnet50(p: &nn::Path, channels: i64, classes: i64, stem: Stem) -> impl ModuleT {
    resnet(p, channels, classes, Block::Bottleneck, [3, 4, 6, 3], stem)
}
