fn main() {
    // Embeds an rpath to libtorch when the SDK links it (its `tensor` feature); a no-op
    // otherwise. Keep it: it is what lets a tensor-kind transform load without LD_LIBRARY_PATH.
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::Never);
}
