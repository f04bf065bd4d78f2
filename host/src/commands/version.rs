//! `fuzzaug --version`.
use crate::runtime;

/// Prints the fuzzaug, SDK and libtorch versions and CUDA availability.
pub fn print() {
    let loaded = runtime::loaded_libtorch_dir();
    let version = loaded
        .as_deref()
        .and_then(runtime::libtorch_version)
        .unwrap_or_else(|| "unknown".into());
    println!("fuzzaug {}", env!("CARGO_PKG_VERSION"));
    println!("plugin SDK {}", fuzzaug_sdk::SDK_VERSION);
    match loaded {
        Some(dir) => println!(
            "libtorch {version} (built against {}), from {}",
            runtime::built_libtorch(),
            dir.display()
        ),
        None => println!(
            "libtorch {version} (built against {})",
            runtime::built_libtorch()
        ),
    }
    println!("CUDA {}", runtime::cuda_summary());
}
