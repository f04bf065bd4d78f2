fn main() {
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::IfPresent);
}
