//! `small-cnn`: a three-conv network for tests and demos, fast on a 2-core CPU at 32×32.

use super::{batch_norm2d, conv2d, linear, ConvInit};
use tch::nn::{self, ModuleT};

/// conv3×3(C→32)-BN-ReLU, max-pool 2; conv3×3(32→64)-BN-ReLU, max-pool 2;
/// conv3×3(64→128)-BN-ReLU; global average pool; linear(128→classes). Any input of 8×8 or more.
/// The twin of `SmallCNN` in `bench/reference.py`, whose layers keep PyTorch's default init.
pub(super) fn small_cnn(p: &nn::Path, channels: i64, classes: i64) -> impl ModuleT {
    let conv_bn_relu = |name: &str, c_in: i64, c_out: i64| {
        let conv = conv2d(
            p / format!("conv{name}"),
            ConvInit::TorchDefault,
            c_in,
            c_out,
            3,
            1,
            1,
        );
        let bn = batch_norm2d(p / format!("bn{name}"), c_out);
        nn::func_t(move |xs, train| xs.apply(&conv).apply_t(&bn, train).relu())
    };
    let block1 = conv_bn_relu("1", channels, 32);
    let block2 = conv_bn_relu("2", 32, 64);
    let block3 = conv_bn_relu("3", 64, 128);
    let fc = linear(p / "fc", 128, classes);
    nn::func_t(move |xs, train| {
        xs.apply_t(&block1, train)
            .max_pool2d_default(2)
            .apply_t(&block2, train)
            .max_pool2d_default(2)
            .apply_t(&block3, train)
            .adaptive_avg_pool2d([1, 1])
            .flatten(1, -1)
            .apply(&fc)
    })
}
