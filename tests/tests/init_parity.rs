//! Every built-in architecture starts from the init distribution of its PyTorch definition: each
//! variable's mean, std, extremes and kurtosis in fuzzaug match those of the same variable in
//! the PyTorch twins of `tests/python/init_stats.py`, run by the provisioned torch, within a few
//! standard errors of the sample size; and the variables that PyTorch initialises uniformly
//! (`nn.Conv2d` and `nn.Linear` defaults) stay inside, and reach, ±1/√fan_in on both sides.
//!
//! The tolerances are set so that a correct init fails a check with a probability of about 1e-9;
//! both sides are seeded, so a given libtorch gives the same draws on every run.

use fuzzaug::models::{self, InputSpec};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Mutex, OnceLock},
};
use tch::{nn, Device, Kind, Tensor};

const SPEC: InputSpec = InputSpec {
    channels: 3,
    height: 32,
    width: 32,
    classes: 10,
};
const SEED: i64 = 0;

/// The statistics of one variable, computed alike on both sides.
#[derive(Debug, Clone, PartialEq)]
struct Stats {
    shape: Vec<i64>,
    mean: f64,
    /// Sample (unbiased) standard deviation.
    std: f64,
    min: f64,
    max: f64,
    /// E[(x − mean)⁴] / E[(x − mean)²]² (1.8 for a uniform, 3 for a normal; 0 for a constant).
    kurtosis: f64,
}

impl Stats {
    fn of(t: &Tensor) -> Stats {
        let x = t.to_kind(Kind::Double).flatten(0, -1);
        let scalar = |t: Tensor| t.double_value(&[]);
        let mean = scalar(x.mean(None));
        let d = &x - mean;
        let m2 = scalar(d.square().mean(None));
        let m4 = scalar(d.square().square().mean(None));
        Stats {
            shape: t.size(),
            mean,
            std: if x.numel() > 1 {
                scalar(x.std(true))
            } else {
                0.0
            },
            min: scalar(x.min()),
            max: scalar(x.max()),
            kurtosis: if m2 > 0.0 { m4 / (m2 * m2) } else { 0.0 },
        }
    }

    fn from_json(name: &str, v: &Value) -> Stats {
        let num = |key: &str| {
            v[key]
                .as_f64()
                .unwrap_or_else(|| panic!("init_stats.py: {name} has no number `{key}`: {v}"))
        };
        Stats {
            shape: v["shape"]
                .as_array()
                .and_then(|a| a.iter().map(Value::as_i64).collect())
                .unwrap_or_else(|| panic!("init_stats.py: {name} has no shape: {v}")),
            mean: num("mean"),
            std: num("std"),
            min: num("min"),
            max: num("max"),
            kurtosis: num("kurtosis"),
        }
    }

    fn numel(&self) -> f64 {
        self.shape.iter().product::<i64>() as f64
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "mean {:+.6} std {:.6} range [{:+.6}, {:+.6}] kurtosis {:.3}",
            self.mean, self.std, self.min, self.max, self.kurtosis
        )
    }
}

type Table = BTreeMap<String, Stats>;

/// Builds `arch` in fuzzaug, seeded, and takes the statistics of every variable. The builds take
/// turns so that each one draws from a freshly seeded generator.
fn fuzzaug_stats(arch: &str) -> Table {
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(SEED);
    let vs = nn::VarStore::new(Device::Cpu);
    models::build(arch, &vs.root(), &SPEC)
        .unwrap_or_else(|e| panic!("fuzzaug cannot build {arch}: {e}"));
    vs.variables()
        .iter()
        .map(|(name, t)| (name.clone(), Stats::of(t)))
        .collect()
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The PyTorch statistics of every architecture of [`models::ARCHS`], from one run of
/// `init_stats.py` shared by all tests (importing torch takes seconds).
fn pytorch_stats(arch: &str) -> &'static Table {
    static ALL: OnceLock<BTreeMap<String, Table>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let script = repo().join("tests/python/init_stats.py");
        let (mut python, what) = fuzzaug_tests::torch_python();
        let out = python
            .arg(&script)
            .args(["--channels", &SPEC.channels.to_string()])
            .args(["--classes", &SPEC.classes.to_string()])
            .args(["--seed", &SEED.to_string()])
            .args(models::ARCHS)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        assert!(
            out.status.success(),
            "{what} {} failed with {}: {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "init_stats.py printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let archs = json.as_object().expect("init_stats.py prints an object");
        archs
            .iter()
            .map(|(arch, vars)| {
                let vars = vars.as_object().expect("an object per architecture");
                let table = vars
                    .iter()
                    .map(|(name, v)| (name.clone(), Stats::from_json(name, v)))
                    .collect();
                (arch.clone(), table)
            })
            .collect()
    });
    all.get(arch)
        .unwrap_or_else(|| panic!("init_stats.py printed nothing for {arch}"))
}

/// Whether `arch` initialises its convolutions as torchvision's ResNet (Kaiming-normal fan-out)
/// rather than with PyTorch's `nn.Conv2d` default.
fn torchvision_convs(arch: &str) -> bool {
    matches!(arch, "resnet18" | "resnet50" | "resnet50-imagenet-stem")
}

/// The bound b of the variables PyTorch draws from U(−b, b): 1/√fan_in for the `nn.Linear`
/// classifier's weight and bias, and for `nn.Conv2d` weights left at their default.
fn uniform_bound(arch: &str, name: &str, shape: &[i64], fc_in: i64) -> Option<f64> {
    if name == "fc.weight" || name == "fc.bias" {
        Some(1.0 / (fc_in as f64).sqrt())
    } else if shape.len() == 4 && !torchvision_convs(arch) {
        Some(1.0 / ((shape[1] * shape[2] * shape[3]) as f64).sqrt())
    } else {
        None
    }
}

/// The failures of `s` (from `side`) against U(−bound, bound): anything outside it (up to f32
/// rounding) or extremes short of it. P(max < b·(1 − ε)) = (1 − ε/2)ⁿ ≈ e⁻²⁰ for ε = 40/n.
fn uniform_failures(side: &str, name: &str, s: &Stats, bound: f64) -> Vec<String> {
    let mut failures = Vec::new();
    let outer = bound * (1.0 + 1e-6);
    if s.min < -outer || s.max > outer {
        failures.push(format!(
            "{name}: {side}'s range [{}, {}] leaves ±{bound} (±1/√fan_in)",
            s.min, s.max
        ));
    }
    let eps = 40.0 / s.numel();
    if eps < 0.5 {
        let inner = bound * (1.0 - eps);
        if s.max < inner || s.min > -inner {
            failures.push(format!(
                "{name}: {side}'s range [{}, {}] falls short of ±{bound} (±1/√fan_in)",
                s.min, s.max
            ));
        }
    }
    failures
}

/// Compares `arch` variable by variable, printing the stem convolution and the classifier, and
/// panics with every failure found.
fn check(arch: &str) {
    let ours = fuzzaug_stats(arch);
    let theirs = pytorch_stats(arch);
    let mut failures = Vec::new();
    for name in ours.keys().filter(|n| !theirs.contains_key(*n)) {
        failures.push(format!("{name}: in fuzzaug but not in PyTorch"));
    }
    for name in theirs.keys().filter(|n| !ours.contains_key(*n)) {
        failures.push(format!("{name}: in PyTorch but not in fuzzaug"));
    }
    let fc_in = ours
        .get("fc.weight")
        .map(|s| s.shape[1])
        .unwrap_or_else(|| panic!("{arch} has no fc.weight"));
    for (name, f) in &ours {
        let Some(p) = theirs.get(name) else { continue };
        if f.shape != p.shape {
            failures.push(format!(
                "{name}: shape {:?} in fuzzaug, {:?} in PyTorch",
                f.shape, p.shape
            ));
            continue;
        }
        if name == "conv1.weight" || name == "fc.weight" {
            println!("{arch} {name} {:?}\n  fuzzaug {f}\n  pytorch {p}", f.shape);
        }
        let n = f.numel();
        let spread = f.std.max(p.std);
        // The difference of two sample means has a standard error of σ·√(2/n); that of two
        // sample stds is smaller (σ/√n for a normal). Six of them, and a floor for constants.
        let tol = 6.0 * spread * (2.0 / n).sqrt() + 1e-7;
        let mut differs = |what: &str, a: f64, b: f64, tol: f64| {
            if (a - b).abs() > tol {
                failures.push(format!(
                    "{name} {:?}: {what} {a} in fuzzaug, {b} in PyTorch (tolerance {tol:.3e})\n    \
                     fuzzaug {f}\n    pytorch {p}",
                    f.shape
                ));
            }
        };
        differs("mean", f.mean, p.mean, tol);
        differs("std", f.std, p.std, tol);
        if spread == 0.0 {
            differs("min", f.min, p.min, 1e-7);
            differs("max", f.max, p.max, 1e-7);
        } else if n >= 1000.0 {
            // Kurtosis tells a normal (3) from a uniform (1.8) of the same std; its standard
            // error is √(24/n) for a normal, √(48/n) for a difference of two.
            differs("kurtosis", f.kurtosis, p.kurtosis, 6.0 * (48.0 / n).sqrt());
        }
        if let Some(bound) = uniform_bound(arch, name, &f.shape, fc_in) {
            failures.extend(uniform_failures("fuzzaug", name, f, bound));
            // The expectation itself, checked against the reference.
            failures.extend(uniform_failures("PyTorch", name, p, bound));
        }
    }
    println!("{arch}: {} variables compared", ours.len());
    if !failures.is_empty() {
        let shown = failures.iter().take(20).cloned().collect::<Vec<_>>();
        panic!(
            "{arch}: {} check(s) over {} variables differ from PyTorch's init{}:\n  {}",
            failures.len(),
            ours.len(),
            if failures.len() > shown.len() {
                " (first 20 shown)"
            } else {
                ""
            },
            shown.join("\n  ")
        );
    }
}

/// One test per architecture, and a check that the list is [`models::ARCHS`].
macro_rules! parity {
    ($($test:ident => $arch:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check($arch);
            }
        )*

        #[test]
        fn every_architecture_is_compared() {
            assert_eq!(&[$($arch),*][..], models::ARCHS);
        }
    };
}

parity! {
    small_cnn => "small-cnn",
    preact_resnet20 => "preact-resnet20",
    preact_resnet32 => "preact-resnet32",
    preact_resnet56 => "preact-resnet56",
    preact_resnet50 => "preact-resnet50",
    resnet18 => "resnet18",
    resnet50 => "resnet50",
    resnet50_imagenet_stem => "resnet50-imagenet-stem",
    wrn_28_10 => "wrn-28-10",
}
