//! Helpers for the integration tests: where the built binary, plugins and fixtures are, a
//! scratch plugin folder, and running `fuzzaug` with assertions on its output.
//!
//! The tests use what `make build` produced in `target/release/` (or `$FUZZAUG_BIN_DIR`), so
//! that they exercise the very files users run; `make test` builds first.
pub mod http;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The folder holding the built `fuzzaug` and `libfuzzaug_*.so` files.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FUZZAUG_BIN_DIR") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("release");
    assert!(
        dir.join("fuzzaug").is_file(),
        "{} has no fuzzaug binary: run `make build` (or set FUZZAUG_BIN_DIR) before the integration tests",
        dir.display()
    );
    dir
}

/// The `fuzzaug` binary.
pub fn fuzzaug_bin() -> PathBuf {
    bin_dir().join("fuzzaug")
}

/// A bundled plugin library, e.g. `plugin("spatial")`.
pub fn plugin(name: &str) -> PathBuf {
    let p = bin_dir().join(format!("libfuzzaug_{name}.so"));
    assert!(p.is_file(), "{} is missing: run `make build`", p.display());
    p
}

/// A test fixture library, e.g. `fixture("panicky")`.
pub fn fixture(name: &str) -> PathBuf {
    let p = bin_dir().join(format!("libfixture_{name}.so"));
    assert!(p.is_file(), "{} is missing: run `make build`", p.display());
    p
}

/// A shared library that is no plugin and is harmless to load twice: the `libgcc_s` every
/// Rust program on Linux is linked with, found in this process's own memory map.
pub fn foreign_shared_library() -> PathBuf {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libgcc_s.so"))
        .map(PathBuf::from)
        .expect("libgcc_s is mapped into every Rust test binary")
}

/// Loads a config in-process with the built plugins of [`bin_dir`] only (a test binary's own
/// folder, `target/release/deps`, holds copies that may be stale).
pub fn experiment(config: &Path) -> anyhow::Result<fuzzaug::setup::Experiment> {
    fuzzaug::setup::Experiment::load_in(config, &[], &[], |config_dirs| {
        let mut path = fuzzaug::plugins::SearchPath::default();
        for d in config_dirs {
            path.push(d.clone(), "plugin_dirs in the config");
        }
        path.push(bin_dir(), "the built plugins");
        path
    })
}

/// A temporary folder to put plugin files in.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    /// An empty folder.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies `src` in as `name` with mode 0755.
    pub fn add(&self, src: &Path, name: &str) -> PathBuf {
        let dst = self.dir.path().join(name);
        std::fs::copy(src, &dst)
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dst
    }

    /// Writes a text file.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

/// What a `fuzzaug` run printed.
pub struct Run {
    /// Exit code (None if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "fuzzaug failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts a clean failure (exit 1, no panic, no backtrace, no abort) and returns stderr.
    pub fn fails(&self) -> &str {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit code 1:\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        for bad in [
            "panicked at",
            "RUST_BACKTRACE",
            "stack backtrace",
            "Attempted to panic",
            "Aborted",
        ] {
            assert!(
                !self.stderr.contains(bad),
                "stderr shows a crash ({bad}):\n{}",
                self.stderr
            );
        }
        assert!(
            self.stderr.starts_with("error: "),
            "stderr:\n{}",
            self.stderr
        );
        &self.stderr
    }
}

/// Runs `fuzzaug` with `args`, with no LD_LIBRARY_PATH and no plugin path from the environment.
pub fn fuzzaug(args: &[&str]) -> Run {
    fuzzaug_in(args, None)
}

/// Like [`fuzzaug`], in working directory `cwd`.
pub fn fuzzaug_in(args: &[&str], cwd: Option<&Path>) -> Run {
    fuzzaug_with(args, cwd, "warn")
}

/// Like [`fuzzaug_in`], with `RUST_LOG` set to `log`.
pub fn fuzzaug_with(args: &[&str], cwd: Option<&Path>, log: &str) -> Run {
    fuzzaug_env(args, cwd, log, &[])
}

/// Writes a binary PPM (P6) of `w`×`h` interleaved RGB pixels, the simplest format the
/// `imagefolder` plugin reads.
pub fn ppm(path: &Path, w: u32, h: u32, rgb: &[u8]) {
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    out.extend_from_slice(rgb);
    std::fs::write(path, out).unwrap();
}

/// One CIFAR binary record: the label byte, then 3,072 pixel bytes counting up from `fill`.
pub fn cifar_record(label: u8, fill: u8) -> Vec<u8> {
    let mut r = vec![label];
    r.extend((0..3072u32).map(|i| fill.wrapping_add(i as u8)));
    r
}

/// Writes a tiny CIFAR-10 binary folder (`cifar-10-batches-bin`: five training batches of two
/// images, a test batch of one, the class names) under `parent`; returns its path.
pub fn fake_cifar10(parent: &Path) -> PathBuf {
    let root = parent.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    for b in 1..=5u8 {
        let data = [cifar_record(b, b * 10), cifar_record(9 - b, b * 20)].concat();
        std::fs::write(root.join(format!("data_batch_{b}.bin")), data).unwrap();
    }
    std::fs::write(root.join("test_batch.bin"), cifar_record(7, 99)).unwrap();
    std::fs::write(
        root.join("batches.meta.txt"),
        "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
    )
    .unwrap();
    root
}

/// A run's metrics.csv rows without the timing columns (`epoch_seconds`,
/// `train_images_per_second`), which differ between otherwise identical runs.
pub fn metrics_without_timing(run_dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| !["epoch_seconds", "train_images_per_second"].contains(h))
        .map(|(i, _)| i)
        .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i].to_string()).collect()
        })
        .collect()
}

/// A tiny CPU config: `small-cnn` on `train_size` `shapes` images for `epochs` epochs, one
/// rotation gene, strategy `standard`, robust grid on 20 test images at the end only.
pub fn tiny_config(train_size: u32, epochs: u32) -> String {
    format!(
        r#"name = "base"
seed = 11
device = "cpu"
[dataset]
name = "shapes"
train_size = {train_size}
test_size = 40
[model]
arch = "small-cnn"
[train]
epochs = {epochs}
batch_size = 50
[[transforms]]
name = "rotation"
range = [-20, 20]
step = 10
[strategy]
name = "standard"
[eval]
robust_every = 0
robust_subset = 20
"#
    )
}

/// A tiny `shapes` run named `t` under `runs/`, with a random mirror (so kill-and-resume
/// equality covers the mirror stream too) and one rotation gene (`rotation`, the TOML lines
/// after its name, e.g. its range).
pub fn shapes_run(epochs: u32, train: u32, rotation: &str) -> String {
    format!(
        "name = \"t\"\nseed = 7\ndevice = \"cpu\"\noutput_dir = \"runs\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = {train}\ntest_size = 64\nsize = 16\n\
         [train]\nepochs = {epochs}\nbatch_size = 32\noptimizer = {{ kind = \"sgd\", lr = 0.05, momentum = 0.9 }}\nschedule = {{ kind = \"cosine\" }}\nhflip = true\n\
         [[transforms]]\nname = \"rotation\"\n{rotation}"
    )
}

/// The study's seven transformations, in chromosome order.
pub const STUDY_GENES: &[&str] = &[
    "rotation",
    "translate_x",
    "translate_y",
    "shear",
    "zoom",
    "brightness",
    "contrast",
];

/// Waits until `path` exists, failing the test after `timeout`.
pub fn wait_for_file(path: &Path, timeout: std::time::Duration) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < timeout,
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Every `.toml` file under the repository's `configs/`, sorted.
pub fn shipped_configs() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders =
        vec![Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs")).to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The torch folder fuzzaug builds against: `LIBTORCH` (set by `make test`), or what
/// `scripts/provision-libtorch.py` prints.
pub fn libtorch_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIBTORCH").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let script = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/provision-libtorch.py"
    ));
    let out = std::process::Command::new("python3")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "LIBTORCH is unset and {} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A command running the Python of the provisioned PyTorch (the one fuzzaug links): the
/// interpreter of the venv torch lives in (as `bench/side-by-side.py` finds it), or `python3`,
/// with torch's parent folder first on `PYTHONPATH` (a `pip --target` install); and a
/// description of it for messages.
pub fn torch_python() -> (std::process::Command, String) {
    let torch = libtorch_dir();
    assert!(
        torch.join("__init__.py").is_file(),
        "the libtorch folder {} is no PyTorch package (it has no __init__.py), so there is no \
         torch to run: point LIBTORCH at the `torch/` folder that scripts/provision-libtorch.py \
         installs, or unset it",
        torch.display()
    );
    let site = torch.parent().expect("a package folder has a parent");
    let python = torch
        .ancestors()
        .filter(|a| a.join("pyvenv.cfg").is_file())
        .flat_map(|a| [a.join("bin/python3"), a.join("bin/python")])
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"));
    let pythonpath = match std::env::var_os("PYTHONPATH") {
        Some(old) if !old.is_empty() => {
            std::env::join_paths([site.as_os_str(), &old]).expect("PYTHONPATH")
        }
        _ => site.as_os_str().to_owned(),
    };
    let what = format!(
        "{} (PYTHONPATH={}, for the torch in {})",
        python.display(),
        site.display(),
        torch.display()
    );
    let mut cmd = std::process::Command::new(&python);
    cmd.env("PYTHONPATH", pythonpath);
    (cmd, what)
}

/// Like [`fuzzaug_with`], with extra environment variables `env` (set after the ones
/// [`fuzzaug`] clears, so `FUZZAUG_PLUGIN_PATH` may be among them).
pub fn fuzzaug_env(args: &[&str], cwd: Option<&Path>, log: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(fuzzaug_bin());
    cmd.args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("FUZZAUG_PLUGIN_PATH")
        .env("RUST_LOG", log)
        .envs(env.iter().copied());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run fuzzaug");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

/// Every file under `dir`, recursively (relative path → bytes); nothing when `dir` does not
/// exist. Two snapshots compare a run directory before and after a command.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(at).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}
