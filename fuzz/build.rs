fn main() {
    // Every plugin crate exports the same `#[no_mangle]` symbols (the root-module header that
    // `dlopen` finds, the panic-strategy marker); a binary that links two of them as rlibs
    // (`load_state`: baselines and sensei) takes the first of each. Nothing here looks them
    // up: the targets call each plugin's root module directly.
    println!("cargo:rustc-link-arg=-Wl,--allow-multiple-definition");
    // With feature `host`, an rpath to libtorch's library folder, so the targets run without
    // LD_LIBRARY_PATH; without it the SDK links no libtorch and this does nothing.
    fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::Never);
}
