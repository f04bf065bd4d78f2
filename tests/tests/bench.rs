//! `fuzzaug bench` and `make bench`'s side-by-side script, on tiny setups.
use fuzzaug_tests::{fuzzaug, fuzzaug_bin, Scratch};
use serde_json::Value;
use std::path::Path;

/// Tiny: 256 training images, two timed calls per throughput, one timed epoch.
const TINY: &[&str] = &[
    "--quiet",
    "--repeats",
    "2",
    "--epochs",
    "1",
    "--set",
    "dataset.train_size=256",
    "--set",
    "dataset.test_size=10",
];

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

#[test]
fn json_report_has_every_figure_and_floors_follow_from_the_throughputs() {
    let mut args = vec!["bench", "--json", "--strategy", "random,w10"];
    args.extend_from_slice(TINY);
    let out = fuzzaug(&args);
    let r: Value = serde_json::from_str(out.ok().trim()).expect("one JSON object");
    for key in [
        "augment_images_per_second",
        "score_images_per_second",
        "train_images_per_second",
        "grid_variants_per_second",
    ] {
        assert!(num(&r, key) > 0.0, "{key}: {r}");
    }
    assert_eq!(r["device"], "cpu");
    assert!(r["gpu"].is_null(), "no GPU name on the CPU: {r}");
    assert_eq!(r["model"], "small-cnn");
    assert_eq!(r["batch_size"], 128);
    assert_eq!(r["train_images"], 256);
    assert_eq!(r["image"], serde_json::json!([3, 32, 32]));
    assert_eq!(r["channels_last"], true);
    assert_eq!(r["genes"].as_array().unwrap().len(), 7);
    if std::env::var_os("OMP_NUM_THREADS").is_none()
        && std::env::var_os("MKL_NUM_THREADS").is_none()
    {
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(
            r["threads"].as_u64(),
            Some(cpus as u64),
            "threads from the machine"
        );
    }
    let ratio = &r["epoch_ratio"];
    let names: Vec<&String> = ratio.as_object().unwrap().keys().collect();
    assert_eq!(names, ["random", "standard", "w10"]);
    assert_eq!(num(ratio, "standard"), 1.0);
    for s in ["random", "w10"] {
        let seconds = num(&r["epoch_seconds"], s) / num(&r["epoch_seconds"], "standard");
        assert!((num(ratio, s) - seconds).abs() < 1e-9, "{s}");
    }
    let k = &r["candidates_per_image"];
    assert_eq!(
        (num(k, "standard"), num(k, "random"), num(k, "w10")),
        (0.0, 0.0, 10.0)
    );
    let floor =
        1.0 + 10.0 * num(&r, "train_images_per_second") / num(&r, "score_images_per_second");
    assert!((num(&r["epoch_floor"], "w10") - floor).abs() < 1e-9);
    assert_eq!(num(&r["epoch_floor"], "random"), 1.0);
    // Scoring 10 candidates per image costs time: w10's epoch is clearly longer than standard's.
    assert!(num(ratio, "w10") > 1.5, "{r}");
    // The default projection: 200 epochs of the measured 256 images.
    assert_eq!(
        (r["project_epochs"].as_u64(), r["project_images"].as_u64()),
        (Some(200), Some(256))
    );
    for s in ["standard", "random", "w10"] {
        let want = num(&r["epoch_seconds"], s) * 200.0;
        assert!(
            (num(&r["projected_seconds"], s) - want).abs() < 1e-6 * want,
            "{s}: {r}"
        );
    }
    assert!(r["precision_check"].is_null(), "not asked for: {r}");
    assert!(r["init"].is_null(), "fresh weights: {r}");
}

/// `--project-epochs` and `--project-images` scale each strategy's epoch linearly; the table
/// prints the projection next to the epoch as h:mm:ss.
#[test]
fn the_projection_follows_its_flags_in_json_and_table() {
    let mut args = vec![
        "bench",
        "--json",
        "--strategy",
        "random",
        "--project-epochs",
        "30",
        "--project-images",
        "1024",
    ];
    args.extend_from_slice(TINY);
    let r: Value = serde_json::from_str(fuzzaug(&args).ok().trim()).unwrap();
    assert_eq!(
        (r["project_epochs"].as_u64(), r["project_images"].as_u64()),
        (Some(30), Some(1024))
    );
    for s in ["standard", "random"] {
        let want = num(&r["epoch_seconds"], s) * 4.0 * 30.0;
        assert!(
            (num(&r["projected_seconds"], s) - want).abs() < 1e-6 * want,
            "{s}: {r}"
        );
    }
    let mut args = vec!["bench", "--strategy", "random", "--project-epochs", "7"];
    args.extend_from_slice(TINY);
    let table = fuzzaug(&args).ok().to_string();
    let header = table.lines().find(|l| l.starts_with("strategy")).unwrap();
    assert!(header.ends_with("ratio/floor     7 epochs"), "{table}");
    let row = table.lines().find(|l| l.starts_with("random")).unwrap();
    let hms = row.split_whitespace().last().unwrap();
    let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{row}");
    assert!(
        table.contains(
            "\n7 epochs: the median epoch × 7 epochs of 256 training images (h:mm:ss).\n"
        ),
        "{table}"
    );
}

/// `[model] init` reaches the bench's model (a trained model for `--compare-precision`): the
/// report names it, and an init that cannot load is an error, not fresh weights measured.
#[test]
fn the_bench_model_starts_from_model_init() {
    let dir = Scratch::new();
    dir.write(
        "t.toml",
        "name = \"t\"\nseed = 1\ndevice = \"cpu\"\noutput_dir = \"runs\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 128\ntest_size = 16\n\
         [model]\narch = \"small-cnn\"\n[train]\nepochs = 1\nbatch_size = 64\n\
         [strategy]\nname = \"standard\"\n",
    );
    fuzzaug_tests::fuzzaug_in(&["run", "t.toml", "--quiet"], Some(dir.path())).ok();
    let run = dir.path().join("runs/t");
    let init = format!(
        "model.init={}",
        fuzzaug::config::toml_string(&run.display().to_string())
    );
    let mut args = vec![
        "bench",
        "--json",
        "--strategy",
        "standard",
        "--set",
        &init,
        "--compare-precision",
        "--precision-samples",
        "32",
    ];
    args.extend_from_slice(TINY);
    let r: Value = serde_json::from_str(fuzzaug(&args).ok().trim()).unwrap();
    assert_eq!(
        r["init"].as_str(),
        Some(run.display().to_string().as_str()),
        "{r}"
    );
    let kept = num(&r["precision_check"], "chosen_fitness_kept");
    assert!(kept > 0.0 && kept <= 1.0, "{r}");
    let missing = dir.path().join("nowhere");
    let init = format!(
        "model.init={}",
        fuzzaug::config::toml_string(&missing.display().to_string())
    );
    let mut args = vec!["bench", "--strategy", "standard", "--set", &init];
    args.extend_from_slice(TINY);
    let err = fuzzaug(&args).fails().to_string();
    assert!(
        err.contains(&format!("`model.init` = {}", missing.display())),
        "{err}"
    );
}

/// `--compare-precision` times fp32 and bf16 and scores the same candidates in both: on an
/// untrained small-cnn the rankings agree closely but not necessarily exactly.
#[test]
fn compare_precision_reports_both_speeds_and_the_agreement() {
    let mut args = vec![
        "bench",
        "--json",
        "--strategy",
        "standard",
        "--compare-precision",
        "--precision-samples",
        "64",
        "--precision-candidates",
        "5",
    ];
    args.extend_from_slice(TINY);
    let r: Value = serde_json::from_str(fuzzaug(&args).ok().trim()).unwrap();
    let p = &r["precision_check"];
    for side in ["fp32", "bf16"] {
        for key in ["score_images_per_second", "train_images_per_second"] {
            assert!(num(&p[side], key) > 0.0, "{side} {key}: {p}");
        }
    }
    assert_eq!(
        (p["samples"].as_u64(), p["candidates"].as_u64()),
        (Some(64), Some(5))
    );
    let (rho, within, changed) = (
        num(p, "spearman"),
        num(p, "sample_spearman"),
        num(p, "changed_choices"),
    );
    assert!(rho > 0.9 && rho <= 1.0, "{p}");
    assert!(within > 0.5 && within <= 1.0, "{p}");
    // A fraction of 64 samples.
    assert!(
        (0.0..=1.0).contains(&changed) && (changed * 64.0).fract().abs() < 1e-9,
        "{p}"
    );
    // The table's section.
    let mut args = vec![
        "bench",
        "--strategy",
        "standard",
        "--compare-precision",
        "--precision-samples",
        "16",
    ];
    args.extend_from_slice(TINY);
    let table = fuzzaug(&args).ok().to_string();
    assert!(
        table.contains("images/s      fp32      bf16 bf16÷fp32"),
        "{table}"
    );
    assert!(
        table
            .contains("bf16 scoring of 16 training images × 10 candidates against fp32: Spearman "),
        "{table}"
    );
}

#[test]
fn a_users_config_is_measured_with_its_own_strategy_settings() {
    let dir = Scratch::new();
    let config = dir.write(
        "mine.toml",
        r#"name = "mine"
device = "cpu"
[dataset]
name = "shapes"
train_size = 200
test_size = 10
size = 16
[model]
arch = "small-cnn"
[train]
batch_size = 50
channels_last = false
[[transforms]]
name = "rotation"
range = [-10, 10]
[strategy]
name = "sensei"
population = 3
"#,
    );
    let out = fuzzaug(&[
        "bench",
        "--config",
        config.to_str().unwrap(),
        "--strategy",
        "sensei",
        "--quiet",
        "--repeats",
        "2",
        "--epochs",
        "1",
    ]);
    let table = out.ok();
    assert!(
        table.contains("small-cnn on shapes (200 train images, 3×16×16, 10 classes), cpu"),
        "{table}"
    );
    assert!(table.contains("NCHW"), "{table}");
    assert!(
        table.contains("(1 genes: rotation; batches of 50)"),
        "{table}"
    );
    for row in ["augment ", "score ", "train ", "ratio/floor"] {
        assert!(table.contains(row), "{row}: {table}");
    }
    let sensei = table
        .lines()
        .find(|l| l.starts_with("sensei "))
        .unwrap_or_else(|| panic!("no sensei row: {table}"));
    let cols: Vec<&str> = sensei.split_whitespace().collect();
    assert_eq!(
        cols[3], "3.00",
        "k is the config's population of 3: {sensei}"
    );
    let standard = table.lines().find(|l| l.starts_with("standard ")).unwrap();
    assert!(standard.contains(" 1.00 "), "{standard}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let err = fuzzaug(&["bench", "--quiet", "--strategy", "nope"]);
    let msg = err.fails();
    assert!(
        msg.contains("unknown strategy `nope`; valid strategy names: random, sensei, sensei-rw, sensei-t, standard, w10"),
        "{msg}"
    );
    let msg = fuzzaug(&["bench", "--quiet", "--device", "cuda:3"])
        .fails()
        .to_string();
    if !tch::Cuda::is_available() {
        assert!(
            msg.contains("device `cuda:3`: CUDA is not available"),
            "{msg}"
        );
    }
    let msg = fuzzaug(&["bench", "--config", "/nonexistent/b.toml"])
        .fails()
        .to_string();
    assert!(msg.contains("loading /nonexistent/b.toml"), "{msg}");
    assert!(msg.contains("cannot read the config"), "{msg}");
    let msg = fuzzaug(&["bench", "--set", "model.arch=nope"])
        .fails()
        .to_string();
    assert!(msg.contains("loading the built-in bench setup"), "{msg}");
    assert!(msg.contains("unknown model `nope`"), "{msg}");
    let out = fuzzaug(&["bench", "--precision-samples", "5"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("the following required arguments were not provided:\n  --compare-precision"),
        "{}",
        out.stderr
    );
    let out = fuzzaug(&[
        "bench",
        "--compare-precision",
        "--precision-candidates",
        "1",
    ]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("invalid value '1' for '--precision-candidates <K>': 1 is not in 2.."),
        "{}",
        out.stderr
    );
    let out = fuzzaug(&["bench", "--project-epochs", "0"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("invalid value '0' for '--project-epochs <N>'"),
        "{}",
        out.stderr
    );
    let out = fuzzaug(&["bench", "--repeats", "0"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("invalid value '0' for '--repeats"),
        "{}",
        out.stderr
    );
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn side_by_side(args: &[&str]) -> std::process::Output {
    std::process::Command::new("python3")
        .arg(repo().join("bench/side-by-side.py"))
        .args(args)
        .output()
        .expect("python3")
}

#[test]
fn make_bench_prints_fuzzaug_next_to_the_pytorch_reference() {
    let out_dir = Scratch::new();
    let bin = fuzzaug_bin();
    let out = side_by_side(&[
        "--fuzzaug",
        bin.to_str().unwrap(),
        "--rounds",
        "1",
        "--strategy",
        "w10",
        "--repeats",
        "2",
        "--epochs",
        "1",
        "--per-image",
        "4",
        "--set",
        "dataset.train_size=256",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("vs PyTorch 2.11.0"), "{stdout}");
    let ratio_of = |label: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` row: {stdout}"));
        line.trim_end_matches('×')
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    for label in [
        "augment, batched",
        "augment vs PyTorch's per-image loop",
        "score (no-grad forward)",
        "train step",
    ] {
        assert!(ratio_of(label) > 0.0, "{label}");
    }
    let w10 = stdout.lines().find(|l| l.starts_with("w10 ")).unwrap();
    let cols: Vec<&str> = w10.split_whitespace().collect();
    assert_eq!(cols.len(), 5, "{w10}");
    assert!(
        cols[4].parse::<f64>().unwrap() > 1.0,
        "PyTorch's w10 ratio: {w10}"
    );
    let pytorch: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.path().join("pytorch-1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        pytorch["torch"].as_str().map(|v| v.starts_with("2.11.0")),
        Some(true)
    );
    assert_eq!(pytorch["batch_size"], 128);
    assert!(out_dir.path().join("fuzzaug-1.json").is_file());

    let out = side_by_side(&["--fuzzaug", "/nonexistent/fuzzaug"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "side-by-side: error: /nonexistent/fuzzaug is not an executable; build it with `make build`"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
