//! Facts about the libtorch this process actually runs on, and the start-up check that it is
//! the one fuzzaug was built against (a different libtorch found through LD_LIBRARY_PATH would
//! otherwise fail in obscure ways, or not at all until a wrong result).
use std::path::{Path, PathBuf};

/// The libtorch version fuzzaug was built against, e.g. `2.11.0+cu130`.
pub fn built_libtorch() -> String {
    fuzzaug_sdk::BuildFingerprint::current().libtorch.into()
}

/// The folder of the `libtorch_cpu.so` mapped into this process, from `/proc/self/maps`.
pub fn loaded_libtorch_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
}

/// The version of the libtorch whose `lib/` folder is `lib_dir`: `version.py` for PyPI's
/// `torch/`, `build-version` for the C++ archive.
pub fn libtorch_version(lib_dir: &Path) -> Option<String> {
    let root = lib_dir.parent()?;
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        let line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("__version__"))?;
        return Some(
            line.trim_start_matches([' ', '='])
                .trim()
                .trim_matches(['\'', '"'])
                .to_string(),
        );
    }
    std::fs::read_to_string(root.join("build-version"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Fails when the libtorch mapped into the process is not the version fuzzaug was built
/// against. Unknown (no /proc, no version file) passes with a debug note.
pub fn check_libtorch() -> Result<(), String> {
    let Some(dir) = loaded_libtorch_dir() else {
        log::debug!("cannot tell which libtorch is loaded (no /proc/self/maps entry)");
        return Ok(());
    };
    let Some(found) = libtorch_version(&dir) else {
        log::debug!("libtorch in {} has no version file", dir.display());
        return Ok(());
    };
    compare_libtorch(&dir, &found, &built_libtorch())
}

/// The start-up check's decision: the loaded version must equal the built one exactly (the
/// CUDA suffix included: a CPU-only libtorch silently loses the GPU).
pub fn compare_libtorch(dir: &Path, found: &str, built: &str) -> Result<(), String> {
    if found == built {
        return Ok(());
    }
    Err(format!(
        "libtorch {found} was loaded from {}, but this fuzzaug was built against libtorch {built}. \
         Unset LD_LIBRARY_PATH (or point it at the libtorch fuzzaug was built with), or rebuild with `make build`.",
        dir.display()
    ))
}

/// Sets libtorch's intra-op threads to the CPUs this process may use (its affinity mask and
/// cgroup quota, which libtorch's own default ignores: in a 2-CPU container on a 64-core host it
/// would start 64 threads that fight over 2 CPUs). `OMP_NUM_THREADS` or `MKL_NUM_THREADS`, when
/// set, win: libtorch reads them itself.
pub fn set_cpu_threads() {
    if std::env::var_os("OMP_NUM_THREADS").is_some()
        || std::env::var_os("MKL_NUM_THREADS").is_some()
    {
        return;
    }
    if let Ok(n) = std::thread::available_parallelism() {
        let n = i32::try_from(n.get()).unwrap_or(i32::MAX);
        if tch::get_num_threads() != n {
            log::debug!("libtorch threads: {} -> {n}", tch::get_num_threads());
            tch::set_num_threads(n);
        }
    }
}

/// CUDA availability as libtorch sees it, with the device count and each device's name.
pub fn cuda_summary() -> String {
    if !tch::Cuda::is_available() {
        return "not available".to_string();
    }
    let count = tch::Cuda::device_count();
    let names: Vec<String> = (0..count)
        .map(|i| cuda_device_name(i as usize).unwrap_or_else(|| "unknown".to_string()))
        .collect();
    format!(
        "available ({count} device(s), cuDNN {}): {}",
        if tch::Cuda::cudnn_is_available() {
            "yes"
        } else {
            "no"
        },
        names.join(", ")
    )
}

/// The name of CUDA device `index` (e.g. `NVIDIA H200`), or `None` without CUDA.
///
/// tch has no binding for it, so this asks libtorch's `at::cuda::getDeviceProperties`, looked up
/// at run time (a CPU-only libtorch lacks it, and fuzzaug must still build and run there). The
/// name is the first field of CUDA's `cudaDeviceProp` in every CUDA release: `char name[256]`.
pub fn cuda_device_name(index: usize) -> Option<String> {
    let index = i8::try_from(index).ok()?;
    if !tch::Cuda::is_available() || i64::from(index) >= tch::Cuda::device_count() {
        return None;
    }
    // at::cuda::getDeviceProperties(c10::DeviceIndex), DeviceIndex being int8_t.
    let symbol = c"_ZN2at4cuda19getDevicePropertiesEa";
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded objects' symbol tables.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, symbol.as_ptr()) };
    if f.is_null() {
        return None;
    }
    // SAFETY: the symbol is libtorch's `cudaDeviceProp* getDeviceProperties(int8_t)`, called
    // with an index below the device count; the struct begins with the NUL-padded name.
    let props = unsafe {
        let get: extern "C" fn(i8) -> *const [u8; 256] = std::mem::transmute(f);
        get(index)
    };
    if props.is_null() {
        return None;
    }
    // SAFETY: libtorch keeps the properties alive for the process's lifetime.
    let raw = unsafe { &*props };
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    Some(String::from_utf8_lossy(&raw[..end]).trim().to_string()).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_devices_have_names_and_others_do_not() {
        let visible = if tch::Cuda::is_available() {
            tch::Cuda::device_count() as usize
        } else {
            0
        };
        for i in 0..visible {
            assert!(
                cuda_device_name(i).is_some_and(|n| !n.is_empty()),
                "device {i}"
            );
        }
        assert_eq!(cuda_device_name(visible), None);
        assert_eq!(cuda_device_name(300), None);
    }

    #[test]
    fn the_test_binary_runs_on_the_libtorch_it_was_built_with() {
        let _ = tch::Tensor::zeros([1], (tch::Kind::Float, tch::Device::Cpu));
        let dir = loaded_libtorch_dir().expect("libtorch_cpu.so is mapped");
        assert_eq!(
            libtorch_version(&dir).as_deref(),
            Some(built_libtorch().as_str())
        );
        assert!(built_libtorch().starts_with("2.11.0"));
        check_libtorch().unwrap();
    }

    #[test]
    fn a_different_libtorch_is_refused_with_both_versions() {
        assert!(compare_libtorch(Path::new("/x/lib"), "2.11.0+cu130", "2.11.0+cu130").is_ok());
        let e = compare_libtorch(Path::new("/x/lib"), "2.11.0+cpu", "2.11.0+cu130").unwrap_err();
        assert!(e.starts_with("libtorch 2.11.0+cpu was loaded from /x/lib, but this fuzzaug was built against libtorch 2.11.0+cu130. Unset LD_LIBRARY_PATH"), "{e}");
    }

    #[test]
    fn reads_both_version_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("lib")).unwrap();
        std::fs::write(d.path().join("build-version"), "2.11.0+cpu\n").unwrap();
        assert_eq!(
            libtorch_version(&d.path().join("lib")).as_deref(),
            Some("2.11.0+cpu")
        );
        std::fs::write(
            d.path().join("version.py"),
            "x = 1\n__version__ = '2.10.0+cu128'\n",
        )
        .unwrap();
        assert_eq!(
            libtorch_version(&d.path().join("lib")).as_deref(),
            Some("2.10.0+cu128")
        );
    }
}
