fn main() {
    // Embeds an rpath to libtorch only where the SDK links it (its `tensor` feature, e.g. when
    // cargo unifies features in a whole-workspace build); a no-op otherwise.
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::Never);
}
