//! Records, at build time, what the build fingerprint needs: the libtorch version (with its CUDA
//! suffix) and C++ ABI flag when the `tensor` feature links libtorch, `none` otherwise. It also
//! forwards libtorch's library folder to dependants as `DEP_FUZZAUG_SDK_LIBTORCH_LIB`, so a
//! plugin's own build script can embed an rpath without depending on torch-sys itself.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=FUZZAUG_TARGET={target}");

    let (version, cxx11) = match std::env::var("DEP_TCH_LIBTORCH_LIB") {
        Ok(lib) if std::env::var_os("CARGO_FEATURE_TENSOR").is_some() => {
            println!("cargo:libtorch_lib={lib}");
            // For the SDK's own test binaries.
            println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
            let cxx11 = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
            (libtorch_version(Path::new(&lib)), cxx11)
        }
        _ => ("none".to_string(), "none".to_string()),
    };
    println!("cargo:rustc-env=FUZZAUG_LIBTORCH_VERSION={version}");
    println!("cargo:rustc-env=FUZZAUG_CXX11_ABI={cxx11}");
}

/// The PyPI wheel has `torch/version.py`, the C++ archive `libtorch/build-version`.
fn libtorch_version(lib: &Path) -> String {
    let Some(root) = lib.parent() else {
        return "unknown".into();
    };
    println!(
        "cargo:rerun-if-changed={}",
        root.join("version.py").display()
    );
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("__version__") {
                let v = rest
                    .trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches(['\'', '"']);
                return v.to_string();
            }
        }
    }
    std::fs::read_to_string(root.join("build-version"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
