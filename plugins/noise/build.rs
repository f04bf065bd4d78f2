fn main() {
    // This plugin links libtorch through the SDK's `tensor` feature: embed its rpath.
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::Never);
}
