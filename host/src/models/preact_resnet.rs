//! Pre-activation ResNets for CIFAR (He et al. 2016, "Identity Mappings in Deep Residual
//! Networks"): the 6n+2 family, and the body shared with the wide ResNets of `wrn.rs`.

use super::{batch_norm2d, conv2d, linear, ConvInit};

/// The PyTorch definitions these networks reproduce (the pre-activation ResNets, and the wide
/// ResNets of `wrn.rs`, which share this body) leave their convolutions at PyTorch's `nn.Conv2d`
/// default, unlike torchvision's ResNets.
const INIT: ConvInit = ConvInit::TorchDefault;
use tch::nn::{self, ModuleT};

/// A pre-activation basic block: BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3, plus a shortcut
/// that is the identity, or a strided 1×1 conv when the shape changes. As in the paper, a
/// projection shortcut takes the pre-activated input, so the first BN-ReLU serves both paths.
fn block(p: nn::Path, c_in: i64, c_out: i64, stride: i64, dropout: f64) -> impl ModuleT {
    let bn1 = batch_norm2d(&p / "bn1", c_in);
    let conv1 = conv2d(&p / "conv1", INIT, c_in, c_out, 3, stride, 1);
    let bn2 = batch_norm2d(&p / "bn2", c_out);
    let conv2 = conv2d(&p / "conv2", INIT, c_out, c_out, 3, 1, 1);
    let shortcut = (stride != 1 || c_in != c_out)
        .then(|| conv2d(&p / "shortcut", INIT, c_in, c_out, 1, stride, 0));
    nn::func_t(move |xs, train| {
        let pre = xs.apply_t(&bn1, train).relu();
        let mut ys = pre.apply(&conv1).apply_t(&bn2, train).relu();
        if dropout > 0.0 {
            ys = ys.dropout(dropout, train);
        }
        let ys = ys.apply(&conv2);
        match &shortcut {
            Some(proj) => pre.apply(proj) + ys,
            None => xs + ys,
        }
    })
}

/// conv3×3(C→16); three stages of `n` pre-activation blocks with `widths`, stride 2 at the first
/// block of stages 2 and 3; final BN-ReLU, global average pool, linear. Parameter names follow
/// the common PyTorch implementations (`conv1`, `layer1.0.bn1`, …, `bn`, `fc`).
pub(super) fn preact_network(
    p: &nn::Path,
    channels: i64,
    classes: i64,
    n: i64,
    widths: [i64; 3],
    dropout: f64,
) -> impl ModuleT {
    let stem = conv2d(p / "conv1", INIT, channels, 16, 3, 1, 1);
    let mut body = nn::seq_t();
    let mut c_in = 16;
    for (stage, &width) in widths.iter().enumerate() {
        let stage_path = p / format!("layer{}", stage + 1);
        for i in 0..n {
            let stride = if stage > 0 && i == 0 { 2 } else { 1 };
            body = body.add(block(&stage_path / i, c_in, width, stride, dropout));
            c_in = width;
        }
    }
    let bn = batch_norm2d(p / "bn", c_in);
    let fc = linear(p / "fc", c_in, classes);
    nn::func_t(move |xs, train| {
        xs.apply(&stem)
            .apply_t(&body, train)
            .apply_t(&bn, train)
            .relu()
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&fc)
    })
}

/// The pre-activation ResNet of depth 6n+2 (n = 3, 5, 9, 8 give 20, 32, 56, 50 layers) with
/// 16/32/64 filters and no dropout.
pub(super) fn preact_resnet(p: &nn::Path, channels: i64, classes: i64, n: i64) -> impl ModuleT {
    preact_network(p, channels, classes, n, [16, 32, 64], 0.0)
}
