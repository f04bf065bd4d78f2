//! The `cifar10c` plugin, built as a `.so` and loaded by the host, on small CIFAR-10-C folders
//! written here in the published layout (`<corruption>.npy` of N×32×32×3 uint8, five severities
//! one after another, and `labels.npy`): by hand, and by numpy's own `np.save`. Pixels arrive
//! exactly, channels last turned into N×C×H×W; each refusal names its file.
use fuzzaug::data::load_split;
use fuzzaug_sdk::Split;
use fuzzaug_tests::{fuzzaug, Scratch};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor};

/// Images per test file: 5 severities × 4.
const N: usize = 20;
/// Images per severity.
const PER: usize = N / 5;

/// Pixel (y, x, c) of image `i`: distinct across images, rows, columns and channels. The numpy
/// test computes the same formula.
fn pixel(i: usize, y: usize, x: usize, c: usize) -> u8 {
    ((i * 37 + y * 11 + x * 5 + c * 83 + 7) % 256) as u8
}

fn label(i: usize) -> u8 {
    ((i * 7 + 3) % 10) as u8
}

/// `n` images channels last (N×H×W×C), as CIFAR-10-C stores them.
fn hwc(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 3072);
    for i in 0..n {
        for y in 0..32 {
            for x in 0..32 {
                for c in 0..3 {
                    out.push(pixel(i, y, x, c));
                }
            }
        }
    }
    out
}

/// Images `range` as the host must hold them, N×C×H×W.
fn chw(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in range {
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    out.push(pixel(i, y, x, c));
                }
            }
        }
    }
    out
}

/// A version 1.0 `.npy` file as `np.save` writes it: magic, version, header length, the
/// header dict padded with spaces and a newline to a multiple of 64 bytes, the data.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn images_npy(n: usize) -> Vec<u8> {
    npy("|u1", &format!("({n}, 32, 32, 3)"), &hwc(n))
}

fn labels_npy(n: usize) -> Vec<u8> {
    let labels: Vec<u8> = (0..n).map(label).collect();
    npy("|u1", &format!("({n},)"), &labels)
}

/// Writes `gaussian_noise.npy` and `labels.npy` of `N` images into `dir`.
fn write_folder(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("gaussian_noise.npy"), images_npy(N)).unwrap();
    std::fs::write(dir.join("labels.npy"), labels_npy(N)).unwrap();
}

/// A CPU config reading `data` at `gaussian_noise` severity 3 unless `extra` (more `[dataset]`
/// lines) says otherwise.
fn config(dir: &Scratch, data: &Path, extra: &str) -> PathBuf {
    let mut dataset = format!("name = \"cifar10c\"\npath = \"{}\"\n", data.display());
    if !extra.contains("corruption") {
        dataset.push_str("corruption = \"gaussian_noise\"\n");
    }
    if !extra.contains("severity") {
        dataset.push_str("severity = 3\n");
    }
    dataset.push_str(extra);
    dir.write(
        "c.toml",
        &format!(
            "name = \"c\"\ndevice = \"cpu\"\noutput_dir = \"{}\"\n[dataset]\n{dataset}\n",
            dir.path().join("runs").display()
        ),
    )
}

fn bytes(t: &Tensor) -> Vec<u8> {
    let t = t.contiguous();
    let mut v = vec![0u8; t.numel()];
    let n = v.len();
    t.copy_data_u8(&mut v, n);
    v
}

/// The test split of `cfg`'s dataset as the host loads it: pixels (N×C×H×W) and labels.
fn test_split(cfg: &Path) -> (Vec<i64>, Vec<u8>, Vec<String>) {
    let exp = fuzzaug_tests::experiment(cfg).unwrap();
    let mut parts = exp.components().unwrap();
    let info = parts.dataset_info.clone();
    let images = load_split(&mut parts.dataset, &info, Split::Test, Device::Cpu).unwrap();
    assert_eq!(images.pixels.size(), vec![images.len(), 3, 32, 32]);
    let classes = info.classes.iter().map(|c| c.to_string()).collect();
    (
        Vec::<i64>::try_from(&images.labels).unwrap(),
        bytes(&images.pixels),
        classes,
    )
}

/// The labels of images `range`.
fn labels(range: std::ops::Range<usize>) -> Vec<i64> {
    range.map(|i| i64::from(label(i))).collect()
}

#[test]
fn check_accepts_it_and_the_host_reads_the_severity_exactly() {
    let dir = Scratch::new();
    let data = dir.path().join("CIFAR-10-C");
    write_folder(&data);
    let cfg = config(&dir, &data, "");
    let out = fuzzaug(&["check", cfg.to_str().unwrap()]);
    let stdout = out.ok();
    for line in [
        "10 classes, 3×32×32, train 0 / test 4",
        "normalise mean [0.4914, 0.4822, 0.4465], std [0.2023, 0.1994, 0.201] (0..1 scale)",
        "hflip     on (the default of `cifar10c`, whose labels survive a mirror)",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }

    // Severity 3 is the third fifth of the file.
    let (got_labels, pixels, classes) = test_split(&cfg);
    assert_eq!(got_labels, labels(2 * PER..3 * PER));
    assert_eq!(pixels, chw(2 * PER..3 * PER));
    assert_eq!(
        classes,
        [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck"
        ]
    );
    // Every severity, and a limit within one.
    for severity in 1..=5 {
        let cfg = config(&dir, &data, &format!("severity = {severity}\n"));
        let first = (severity - 1) * PER;
        let (got_labels, pixels, _) = test_split(&cfg);
        assert_eq!(
            got_labels,
            labels(first..first + PER),
            "severity {severity}"
        );
        assert_eq!(pixels, chw(first..first + PER), "severity {severity}");
    }
    let cfg = config(&dir, &data, "severity = 5\ntest_limit = 3\n");
    let (got_labels, pixels, _) = test_split(&cfg);
    assert_eq!(got_labels, labels(16..19));
    assert_eq!(pixels, chw(16..19));
}

#[test]
fn training_on_it_is_refused_for_its_empty_training_split() {
    let dir = Scratch::new();
    let data = dir.path().join("d");
    write_folder(&data);
    let cfg = config(&dir, &data, "");
    let err = fuzzaug(&["run", cfg.to_str().unwrap()]).fails().to_string();
    assert!(
        err.contains("dataset `cifar10c` has an empty train split"),
        "{err}"
    );
}

/// An uncompressed tar of `members` (path in the archive, bytes), as `CIFAR-10-C.tar` is.
fn tar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append_data(&mut h, name, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn the_archive_fetch_keeps_is_read_in_place() {
    let dir = Scratch::new();
    // What `fuzzaug fetch cifar10c --dir DIR` leaves: DIR/CIFAR-10-C.tar, and it prints
    // `path = "DIR"`.
    let fetched = dir.path().join("data");
    std::fs::create_dir(&fetched).unwrap();
    std::fs::write(
        fetched.join("CIFAR-10-C.tar"),
        tar(&[
            ("CIFAR-10-C/fog.npy", images_npy(5)),
            ("CIFAR-10-C/gaussian_noise.npy", images_npy(N)),
            ("CIFAR-10-C/labels.npy", labels_npy(N)),
        ]),
    )
    .unwrap();
    for path in [fetched.clone(), fetched.join("CIFAR-10-C.tar")] {
        let cfg = config(&dir, &path, "");
        let out = fuzzaug(&["check", cfg.to_str().unwrap()]);
        assert!(out.ok().contains("train 0 / test 4"), "{}", out.stdout);
        let (got_labels, pixels, _) = test_split(&cfg);
        assert_eq!(got_labels, labels(2 * PER..3 * PER));
        assert_eq!(pixels, chw(2 * PER..3 * PER), "{}", path.display());
    }
}

/// What `fuzzaug check` says about the folder `data`, with `extra` dataset lines.
fn check_error(dir: &Scratch, data: &Path, extra: &str) -> String {
    let cfg = config(dir, data, extra);
    fuzzaug(&["check", cfg.to_str().unwrap()])
        .fails()
        .to_string()
}

#[test]
fn each_fault_is_named_by_the_binary() {
    let dir = Scratch::new();
    let data = dir.path().join("d");
    let images = data.join("gaussian_noise.npy");
    let labels_file = data.join("labels.npy");
    let (img, lab) = (images.display(), labels_file.display());
    let cases: Vec<(&str, PathBuf, Vec<u8>, String)> = vec![
        (
            "bad shape",
            images.clone(),
            npy("|u1", "(20, 3, 32, 32)", &hwc(N)),
            format!(
                "{img}: shape (20, 3, 32, 32) is not (N, 32, 32, 3): CIFAR-10-C's images are \
                 32×32 RGB, channels last"
            ),
        ),
        (
            "not five severities",
            images.clone(),
            images_npy(22),
            format!(
                "{img}: 22 images are not 5 severities of equal size (the count must be a \
                 multiple of 5; the official files hold 50000, 10000 per severity)"
            ),
        ),
        (
            "bad dtype",
            images.clone(),
            npy("<f4", "(20, 32, 32, 3)", &hwc(N)),
            format!("{img}: the images are of dtype '<f4', not '|u1' (uint8) as CIFAR-10-C's are"),
        ),
        (
            "truncated images",
            images.clone(),
            images_npy(N)[..128 + 3 * 3072 + 100].to_vec(),
            format!(
                "{img}: truncated: shape (20, 32, 32, 3) of '|u1' needs 61440 data bytes after \
                 the 128-byte header, found 9316 (9444 bytes in all)"
            ),
        ),
        (
            "label count",
            labels_file.clone(),
            labels_npy(N - 1),
            format!(
                "{lab}: 19 labels, but {img} holds 20 images (one label per image, severity 1 \
                 first)"
            ),
        ),
        (
            "labels dtype",
            labels_file.clone(),
            npy("<f8", "(20,)", &[0; 160]),
            format!(
                "{lab}: the labels are of dtype '<f8'; labels must be little-endian integers, \
                 one of '|u1', '|i1', '<u2', '<i2', '<u4', '<i4', '<u8', '<i8' (the official \
                 labels.npy is '|u1')"
            ),
        ),
        (
            "truncated labels",
            labels_file.clone(),
            labels_npy(N)[..140].to_vec(),
            format!(
                "{lab}: truncated: shape (20,) of '|u1' needs 20 data bytes after the 128-byte \
                 header, found 12 (140 bytes in all)"
            ),
        ),
        (
            "label out of range",
            labels_file.clone(),
            npy("|u1", "(20,)", &[[0u8; 19].as_slice(), &[10]].concat()),
            format!(
                "{lab}: label 10 at index 19 is out of range (CIFAR-10 has 10 classes, labels 0 \
                 to 9)"
            ),
        ),
        (
            "not npy",
            images.clone(),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            format!("{img}: not a .npy file: it does not start with the magic string \\x93NUMPY"),
        ),
    ];
    for (what, file, bytes, message) in cases {
        write_folder(&data);
        std::fs::write(&file, bytes).unwrap();
        let err = check_error(&dir, &data, "");
        assert!(err.contains(&message), "{what}:\n{err}");
        assert!(err.contains("dataset `cifar10c`"), "{what}:\n{err}");
    }

    // A corruption whose file is not there.
    write_folder(&data);
    let err = check_error(&dir, &data, "corruption = \"frost\"\n");
    let frost = data.join("frost.npy");
    assert!(
        err.contains(&format!(
            "{}: no such file or directory (CIFAR-10-C needs frost.npy and labels.npy in one \
             folder)",
            frost.display()
        )),
        "{err}"
    );
}

#[test]
fn a_bad_setting_is_pointed_at_in_the_config() {
    let dir = Scratch::new();
    let data = dir.path().join("d");
    write_folder(&data);
    let names = "gaussian_noise, shot_noise, impulse_noise, defocus_blur, glass_blur, \
                 motion_blur, zoom_blur, snow, frost, fog, brightness, contrast, \
                 elastic_transform, pixelate, jpeg_compression, speckle_noise, gaussian_blur, \
                 spatter, saturate";
    let err = check_error(&dir, &data, "corruption = \"gaussian-noise\"\n");
    // At the value of the key, line 8 of the config ([dataset] name, path, severity, corruption).
    assert!(
        err.contains(&format!(
            "{}:8:14: dataset `cifar10c`: unknown corruption \"gaussian-noise\"; did you mean \
             `gaussian_noise`? CIFAR-10-C has these 19: {names}",
            dir.path().join("c.toml").display()
        )),
        "{err}"
    );
    let err = check_error(&dir, &data, "corruption = \"rain\"\n");
    assert!(
        err.contains(&format!(
            "unknown corruption \"rain\"; CIFAR-10-C has these 19: {names}"
        )),
        "{err}"
    );
    let err = check_error(&dir, &data, "severity = 6\n");
    assert!(
        err.contains("dataset `cifar10c`: `severity` must be between 1 and 5, got 6"),
        "{err}"
    );
    let err = check_error(&dir, &data, "test_limit = 5\n");
    assert!(
        err.contains(&format!(
            "`test_limit` is 5, but {} at severity 3 holds only 4 images",
            data.join("gaussian_noise.npy").display()
        )),
        "{err}"
    );
}

/// numpy's own writer, through the Python of the provisioned PyTorch: the same images and labels
/// as [`pixel`] and [`label`], saved with `np.save` (format 1.0, labels uint8 as the official
/// file and int64 as `np.save` of a Python list gives) and with `np.lib.format.write_array` in
/// formats 2.0 and 3.0; plus numpy's own N×C×H×W bytes of severity 3 (`transpose(0, 3, 1, 2)`).
const NUMPY_WRITER: &str = r#"
import sys
from pathlib import Path
import numpy as np

root = Path(sys.argv[1])
i = np.arange(20).reshape(20, 1, 1, 1)
y = np.arange(32).reshape(1, 32, 1, 1)
x = np.arange(32).reshape(1, 1, 32, 1)
c = np.arange(3).reshape(1, 1, 1, 3)
images = ((i * 37 + y * 11 + x * 5 + c * 83 + 7) % 256).astype(np.uint8)
labels = (np.arange(20) * 7 + 3) % 10
assert images.shape == (20, 32, 32, 3) and images.flags["C_CONTIGUOUS"]

for name, label_dtype, version in [
    ("v1-uint8", np.uint8, None),
    ("v1-int64", np.int64, None),
    ("v2-uint8", np.uint8, (2, 0)),
    ("v3-int32", np.int32, (3, 0)),
]:
    folder = root / name
    folder.mkdir()
    for file, array in [("gaussian_noise.npy", images), ("labels.npy", labels.astype(label_dtype))]:
        if version is None:
            np.save(folder / file, array)
        else:
            with open(folder / file, "wb") as f:
                np.lib.format.write_array(f, array, version=version)
    back = np.load(folder / "labels.npy")
    assert back.dtype == label_dtype and (back == labels).all()

(root / "severity3-chw.bin").write_bytes(images[8:12].transpose(0, 3, 1, 2).tobytes())
(root / "severity3-labels.bin").write_bytes(labels[8:12].astype(np.uint8).tobytes())
print(np.__version__)
"#;

#[test]
fn files_written_by_numpy_load_with_the_same_pixels() {
    let dir = Scratch::new();
    let root = dir.path().join("np");
    std::fs::create_dir(&root).unwrap();
    let (mut python, what) = fuzzaug_tests::torch_python();
    let out = python
        .args(["-c", NUMPY_WRITER])
        .arg(&root)
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let numpy_chw = std::fs::read(root.join("severity3-chw.bin")).unwrap();
    let numpy_labels = std::fs::read(root.join("severity3-labels.bin")).unwrap();
    // numpy's transpose and this file's own formula agree on the layout.
    assert_eq!(numpy_chw, chw(2 * PER..3 * PER));
    assert_eq!(
        numpy_labels,
        labels(2 * PER..3 * PER)
            .iter()
            .map(|&l| l as u8)
            .collect::<Vec<_>>()
    );
    for name in ["v1-uint8", "v1-int64", "v2-uint8", "v3-int32"] {
        let cfg = config(&dir, &root.join(name), "");
        let (got_labels, pixels, _) = test_split(&cfg);
        assert_eq!(pixels, numpy_chw, "{name}");
        assert_eq!(
            got_labels,
            numpy_labels
                .iter()
                .map(|&l| i64::from(l))
                .collect::<Vec<_>>(),
            "{name}"
        );
    }
    // The version 1.0 files are byte for byte what this file writes by hand.
    assert_eq!(
        std::fs::read(root.join("v1-uint8/gaussian_noise.npy")).unwrap(),
        images_npy(N),
        "numpy {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    assert_eq!(
        std::fs::read(root.join("v1-uint8/labels.npy")).unwrap(),
        labels_npy(N)
    );
}

/// `fuzzaug eval RUN --corruptions DIR`: a CIFAR-10 model's accuracy on every corruption and
/// severity found, each severity its own slice of the file, and the mean.
#[test]
fn eval_reports_accuracy_per_corruption_and_severity() {
    let dir = Scratch::new();
    let data = fuzzaug_tests::fake_cifar10(dir.path());
    dir.write(
        "c.toml",
        &format!(
            "name = \"t\"\nseed = 1\ndevice = \"cpu\"\noutput_dir = \"runs\"\n[dataset]\nname = \"cifar10\"\npath = \"{}\"\n[train]\nepochs = 1\nbatch_size = 4\n[[transforms]]\nname = \"rotation\"\n",
            data.display()
        ),
    );
    fuzzaug_tests::fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    let c = dir.path().join("c10c");
    std::fs::create_dir(&c).unwrap();
    let images = npy("|u1", &format!("({N}, 32, 32, 3)"), &hwc(N));
    for name in ["gaussian_noise", "fog"] {
        std::fs::write(c.join(format!("{name}.npy")), &images).unwrap();
    }
    let labels: Vec<u8> = (0..N).map(label).collect();
    std::fs::write(
        c.join("labels.npy"),
        npy("|u1", &format!("({N},)"), &labels),
    )
    .unwrap();
    let out = fuzzaug_tests::fuzzaug_in(
        &["eval", "runs/t", "--corruptions", "c10c"],
        Some(dir.path()),
    );
    let text = out.ok();
    assert!(text.contains("mean corruption accuracy"), "{text}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("runs/t/eval/default/eval.json")).unwrap(),
    )
    .unwrap();
    let entries = report["corruptions"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 10, "2 corruptions × 5 severities");
    let acc = |i: usize| entries[i]["accuracy"].as_f64().unwrap();
    for s in 0..5 {
        assert_eq!(entries[s]["corruption"], "gaussian_noise");
        assert_eq!(entries[s + 5]["corruption"], "fog");
        assert_eq!(entries[s]["severity"], s as u64 + 1);
        assert_eq!(entries[s]["images"], PER as u64);
        assert_eq!(acc(s), acc(s + 5), "the same images give the same accuracy");
        assert_eq!((acc(s) * PER as f64).fract(), 0.0);
    }
    let mean = (0..10).map(acc).sum::<f64>() / 10.0;
    assert!((report["corruptions"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert!(
        report["corruptions"]["benchmark_mean"].is_null(),
        "2 of the 15 only"
    );
    let empty = dir.path().join("none");
    std::fs::create_dir(&empty).unwrap();
    // (stderr also holds the cifar plugin's warnings about the small batches.)
    let out = fuzzaug_tests::fuzzaug_in(
        &["eval", "runs/t", "--corruptions", "none"],
        Some(dir.path()),
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let err = out.stderr;
    assert!(
        err.contains("none holds none of the CIFAR-10-C corruption files (`<corruption>.npy` beside `labels.npy`, e.g. gaussian_noise.npy)"),
        "{err}"
    );
}
