//! Wide ResNets (Zagoruyko & Komodakis 2016, "Wide Residual Networks").

use super::preact_resnet::preact_network;
use tch::nn::{self, ModuleT};

/// WRN-`depth`-`widen`: the pre-activation CIFAR ResNet with (depth − 4)/6 wide basic blocks per
/// stage, widths 16·k/32·k/64·k, and `dropout` between the two convs of each block. The 16→16·k
/// change in stage 1 gives every stage a 1×1 projection shortcut in its first block. Initialised
/// as the pre-activation ResNets: PyTorch's layer defaults.
pub(super) fn wide_resnet(
    p: &nn::Path,
    channels: i64,
    classes: i64,
    depth: i64,
    widen: i64,
    dropout: f64,
) -> impl ModuleT {
    assert!(
        depth >= 10 && (depth - 4) % 6 == 0,
        "WRN depth must be 6n+4, got {depth}"
    );
    let n = (depth - 4) / 6;
    preact_network(
        p,
        channels,
        classes,
        n,
        [16 * widen, 32 * widen, 64 * widen],
        dropout,
    )
}
