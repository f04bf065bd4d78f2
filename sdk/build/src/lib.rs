//! Build-script helper for every crate that links libtorch (the host, its tests, tensor-kind
//! plugins). Call [`link_libtorch`] from `build.rs`:
//!
//! ```no_run
//! fuzzaug_build::link_libtorch(fuzzaug_build::Cuda::IfPresent);
//! ```
//!
//! It embeds an rpath to libtorch's library folder, so binaries and test binaries run without
//! `LD_LIBRARY_PATH` (which still wins where a user sets it: the rpath becomes DT_RUNPATH). With
//! [`Cuda::IfPresent`] it also links `libtorch.so` and, where the folder has it,
//! `libtorch_cuda.so` with `--no-as-needed`: tch's own link lines leave `libtorch_cuda.so` out of
//! the binary's NEEDED list, and then libtorch never registers its CUDA backend.
//!
//! The folder comes from `DEP_TCH_LIBTORCH_LIB` (crates depending on `torch-sys` directly) or
//! `DEP_FUZZAUG_SDK_LIBTORCH_LIB` (crates depending on `fuzzaug-sdk` with its `tensor` feature).
#![warn(missing_docs)]

use std::path::PathBuf;

/// Whether to force-link libtorch's CUDA library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cuda {
    /// Link `libtorch_cuda.so` with `--no-as-needed` where it exists (executables, test binaries).
    IfPresent,
    /// Only embed the rpath (plugins: the host has already loaded CUDA).
    Never,
}

/// The libtorch library folder announced by torch-sys or fuzzaug-sdk, if any.
pub fn libtorch_lib_dir() -> Option<PathBuf> {
    ["DEP_TCH_LIBTORCH_LIB", "DEP_FUZZAUG_SDK_LIBTORCH_LIB"]
        .into_iter()
        .find_map(std::env::var_os)
        .map(PathBuf::from)
}

/// Emits the link arguments. Without a known libtorch folder it does nothing: silently for
/// [`Cuda::Never`] (a plugin whose SDK links no libtorch), with a cargo warning otherwise.
pub fn link_libtorch(cuda: Cuda) {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=DEP_FUZZAUG_SDK_LIBTORCH_LIB");
    let Some(dir) = libtorch_lib_dir() else {
        if cuda == Cuda::Never {
            return;
        }
        println!("cargo:warning=fuzzaug-build: no libtorch folder known (depend on torch-sys or on fuzzaug-sdk with feature `tensor`)");
        return;
    };
    let d = dir.display();
    println!("cargo:rustc-link-arg=-Wl,-rpath,{d}");
    if cuda == Cuda::IfPresent {
        let mut libs = vec!["-ltorch"];
        if dir.join("libtorch_cuda.so").exists() {
            libs.push("-ltorch_cuda");
        }
        println!("cargo:rustc-link-arg=-L{d}");
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        for l in libs {
            println!("cargo:rustc-link-arg={l}");
        }
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
