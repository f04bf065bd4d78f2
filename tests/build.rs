fn main() {
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::IfPresent);
    // Tests use one of libtorch's own shared libraries as "a shared library that is not a plugin".
    if let Some(dir) = fuzzaug_build::libtorch_lib_dir() {
        println!("cargo:rustc-env=FUZZAUG_TEST_LIBTORCH_LIB={}", dir.display());
    }
}
