//! fuzzaug's models in PyTorch and PyTorch's in fuzzaug, with the provisioned PyTorch (the one
//! that supplies libtorch): exports of built-in networks load with `python/fuzzaug_models.py`
//! (and torchvision for the ResNets) or `torch.jit.load` and give fuzzaug's logits; a module
//! scripted in PyTorch trains under `sensei`, resumes exactly and exports.
use fuzzaug_tests::{fuzzaug_in, metrics_without_timing, torch_python, Scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn models_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../python/fuzzaug_models.py")
}

/// Runs the provisioned Python on `args` in `dir`; its stdout.
fn python(dir: &Path, args: &[&str]) -> String {
    let (mut cmd, what) = torch_python();
    let out = cmd.args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{what} {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `fuzzaug_models.py check FILE --json` of an export beside its probe.
fn check(dir: &Path, file: &str) -> Value {
    let models = models_py();
    let text = python(dir, &[models.to_str().unwrap(), "check", file, "--json"]);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Logits of torchvision's network `argv[4]` given the exported state dict, against the probe:
/// the largest difference. `resnet50-imagenet-stem` is `torchvision.models.resnet50` itself;
/// the CIFAR-stem ResNets come from `fuzzaug_models.torchvision_model`.
const TORCHVISION: &str = r#"
import sys, torch, torchvision
sys.path.insert(0, sys.argv[1])
import fuzzaug_models as fm
tensors, meta = fm.read_safetensors(sys.argv[2])
probe, _ = fm.read_safetensors(sys.argv[3])
if sys.argv[4] == "resnet50-imagenet-stem":
    m = torchvision.models.resnet50(num_classes=10)
else:
    m = fm.torchvision_model(sys.argv[4], 3, 10)
m.load_state_dict(tensors, strict=True)
meta = fm.load(sys.argv[2])[1]
net = fm.Normalized(m.eval(), meta["mean"], meta["std"])
with torch.no_grad():
    out = net(probe["images"].float() / 255)
print(float((out - probe["logits"]).abs().max()))
"#;

fn run_config(arch: &str) -> String {
    format!(
        "name = \"x\"\nseed = 4\ndevice = \"cpu\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 320\ntest_size = 256\nsize = 16\n\
         [model]\narch = \"{arch}\"\n\
         [train]\nepochs = 2\nbatch_size = 32\n\
         optimizer = {{ kind = \"adamw\", lr = 0.002 }}\n\
         [[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n\
         [eval]\nrobust_subset = 16\n"
    )
}

/// torchvision's own `resnet50(num_classes=10)` takes the export of `resnet50-imagenet-stem`
/// with a strict `load_state_dict` and gives fuzzaug's logits.
#[test]
fn torchvisions_resnet50_loads_the_imagenet_stem_export() {
    let dir = Scratch::new();
    let config = run_config("resnet50-imagenet-stem")
        .replace("train_size = 320", "train_size = 32")
        .replace("test_size = 256", "test_size = 32")
        .replace("size = 16", "size = 32")
        .replace("epochs = 2", "epochs = 1");
    dir.write("c.toml", &config);
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    fuzzaug_in(
        &[
            "export",
            "runs/x",
            "--format",
            "safetensors",
            "--out",
            "w.safetensors",
            "--probe",
            "32",
        ],
        Some(dir.path()),
    )
    .ok();
    let folder = models_py().parent().unwrap().to_path_buf();
    let gap: f64 = python(
        dir.path(),
        &[
            "-c",
            TORCHVISION,
            folder.to_str().unwrap(),
            "w.safetensors",
            "w.probe.safetensors",
            "resnet50-imagenet-stem",
        ],
    )
    .trim()
    .parse()
    .unwrap();
    let c = check(dir.path(), "w.safetensors");
    eprintln!("torchvision resnet50: {gap}; fuzzaug_models: {c}");
    let scale = c["scale"].as_f64().unwrap();
    assert!(
        gap <= 1e-4 * scale,
        "torchvision's resnet50 differs by {gap} (logits up to {scale})"
    );
}

#[test]
fn exports_of_built_in_networks_give_fuzzaugs_logits_in_pytorch() {
    for arch in ["small-cnn", "preact-resnet20", "resnet18"] {
        let dir = Scratch::new();
        dir.write("c.toml", &run_config(arch));
        fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
        let eval = fuzzaug_in(&["eval", "runs/x"], Some(dir.path()));
        eval.ok();
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("runs/x/eval/default/eval.json")).unwrap(),
        )
        .unwrap();
        let test_acc = report["test_acc"].as_f64().unwrap();
        for (out, format) in [("w.safetensors", "safetensors"), ("m.pt", "torchscript")] {
            let probe = if format == "torchscript" {
                vec!["--overwrite"]
            } else {
                vec![]
            };
            let mut args = vec![
                "export", "runs/x", "--format", format, "--out", out, "--probe", "256",
            ];
            args.extend(probe);
            fuzzaug_in(&args, Some(dir.path())).ok();
            let c = check(dir.path(), out);
            eprintln!("{arch} {format}: {c}");
            assert_eq!(c["images"], 256);
            let gap = c["max_abs_diff"].as_f64().unwrap();
            assert!(gap < 1e-4, "{arch} {format}: logits differ by {gap}");
            assert_eq!(c["same_predictions"], 256, "{arch} {format}");
            assert_eq!(
                c["pytorch_accuracy"].as_f64().unwrap(),
                test_acc,
                "{arch} {format}"
            );
            assert_eq!(
                c["fuzzaug_accuracy"].as_f64().unwrap(),
                test_acc,
                "{arch} {format}"
            );
        }
        if arch == "resnet18" {
            let folder = models_py().parent().unwrap().to_path_buf();
            let gap: f64 = python(
                dir.path(),
                &[
                    "-c",
                    TORCHVISION,
                    folder.to_str().unwrap(),
                    "w.safetensors",
                    "w.probe.safetensors",
                    arch,
                ],
            )
            .trim()
            .parse()
            .unwrap();
            eprintln!("torchvision resnet18: {gap}");
            assert!(gap < 1e-4, "torchvision's resnet18 differs by {gap}");
        }
    }
}

/// Writes `net.pt` (10 classes) and `net7.pt` (7 classes): a CNN with GroupNorm, a BatchNorm
/// and dropout (which draws from libtorch's global generator in training: a resumed run must
/// draw what the uninterrupted one drew), none of fuzzaug's built-ins, scripted; and `traced1.pt`, traced at batch size 1
/// through a view that fixes the batch size.
const SCRIPT: &str = r#"
import torch, torch.nn as nn
class Net(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.gn1 = nn.GroupNorm(4, 16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, stride=2)
        self.bn2 = nn.BatchNorm2d(32)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(32, classes)
    def forward(self, x):
        x = torch.relu(self.gn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(self.drop(x.mean(dim=(2, 3))))
class Fixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 16 * 16, 10)
    def forward(self, x):
        return self.fc(x.view(1, -1))
torch.manual_seed(0)
torch.jit.script(Net(10)).save("net.pt")
torch.jit.script(Net(7)).save("net7.pt")
torch.jit.trace(Fixed(), torch.zeros(1, 3, 16, 16)).save("traced1.pt")
"#;

fn byo_config(name: &str, model: &str) -> String {
    format!(
        "name = \"{name}\"\nseed = 6\ndevice = \"cpu\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 192\ntest_size = 64\nsize = 16\n\
         [model]\n{model}\n\
         [train]\nepochs = 2\nbatch_size = 32\noptimizer = {{ kind = \"sgd\", lr = 0.05, momentum = 0.9 }}\n\
         [[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n\
         [strategy]\nname = \"sensei\"\npopulation = 3\n\
         [eval]\nrobust_subset = 16\n"
    )
}

#[test]
fn a_scripted_pytorch_module_trains_under_sensei_resumes_and_exports() {
    let dir = Scratch::new();
    dir.write("make.py", SCRIPT);
    python(dir.path(), &["make.py"]);
    dir.write("a.toml", &byo_config("a", "torchscript = \"net.pt\""));
    dir.write("b.toml", &byo_config("b", "torchscript = \"net.pt\""));
    fuzzaug_in(&["run", "a.toml", "--quiet"], Some(dir.path())).ok();
    fuzzaug_in(
        &["run", "b.toml", "--quiet", "--stop-after", "1"],
        Some(dir.path()),
    )
    .ok();
    fuzzaug_in(&["run", "--resume", "runs/b", "--quiet"], Some(dir.path())).ok();
    let (a, b) = (dir.path().join("runs/a"), dir.path().join("runs/b"));
    assert_eq!(
        metrics_without_timing(&a),
        metrics_without_timing(&b),
        "resumed run"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["model"], "torchscript:net.pt");
    // The BatchNorm's running statistics travel in the checkpoint: the resumed model gives the
    // uninterrupted one's logits.
    for run in ["a", "b"] {
        let out = fuzzaug_in(
            &[
                "export",
                &format!("runs/{run}"),
                "--format",
                "torchscript",
                "--probe",
                "64",
            ],
            Some(dir.path()),
        );
        out.ok();
        let c = check(dir.path(), &format!("runs/{run}/export/last.pt"));
        assert!(
            c["ok"].as_bool().unwrap() && c["max_abs_diff"].as_f64().unwrap() < 1e-4,
            "{c}"
        );
    }
    let probe = |run: &str| {
        std::fs::read(
            dir.path()
                .join(format!("runs/{run}/export/last.probe.safetensors")),
        )
        .unwrap()
    };
    assert_eq!(probe("a"), probe("b"), "the resumed run's logits");
    let e = fuzzaug_in(
        &["export", "runs/a", "--format", "safetensors"],
        Some(dir.path()),
    );
    assert!(
        e.fails().contains("holds a TorchScript network (`torchscript:net.pt`), whose buffers live in the module: export it with `--format torchscript`"),
        "{}",
        e.stderr
    );
}

#[test]
fn bad_torchscript_modules_are_refused_naming_the_file() {
    let dir = Scratch::new();
    dir.write("make.py", SCRIPT);
    python(dir.path(), &["make.py"]);
    let refused = |name: &str, model: &str, expect: &str| {
        dir.write(&format!("{name}.toml"), &byo_config(name, model));
        let e = fuzzaug_in(
            &["run", &format!("{name}.toml"), "--quiet"],
            Some(dir.path()),
        );
        assert!(e.fails().contains(expect), "{name}: {}", e.stderr);
        assert!(
            !dir.path().join(format!("runs/{name}")).exists(),
            "{name} wrote its run"
        );
    };
    refused(
        "seven",
        "torchscript = \"net7.pt\"",
        "net7.pt: the module maps a batch of 2 images of 3×16×16 to a tensor of shape [2, 7] in training mode, but this dataset needs logits of shape [N, classes] = [2, 10]",
    );
    refused(
        "fixed",
        "torchscript = \"traced1.pt\"",
        "traced1.pt: the module's forward fails:",
    );
    let bytes = std::fs::read(dir.path().join("net.pt")).unwrap();
    std::fs::write(dir.path().join("cut.pt"), &bytes[..bytes.len() / 2]).unwrap();
    refused(
        "cut",
        "torchscript = \"cut.pt\"",
        "cut.pt is not a loadable TorchScript module",
    );
    dir.write("text.pt", "not a module");
    refused(
        "text",
        "torchscript = \"text.pt\"",
        "text.pt is not a loadable TorchScript module",
    );
    refused(
        "none",
        "torchscript = \"missing.pt\"",
        "none.toml:10:15: `model.torchscript`: missing.pt does not exist",
    );
    let e = fuzzaug_in(&["check", "none.toml"], Some(dir.path()));
    assert!(
        e.fails()
            .contains("none.toml:10:15: `model.torchscript`: missing.pt does not exist"),
        "{}",
        e.stderr
    );
    refused(
        "both",
        "arch = \"resnet18\"\ntorchscript = \"net.pt\"",
        "both.toml:10:8: give either `model.arch` (a built-in network) or `model.torchscript` (your own module), not both",
    );
    refused(
        "init",
        "torchscript = \"net.pt\"\ninit = \"w.safetensors\"",
        "`model.init` loads weights into a built-in network; a `model.torchscript` module starts from the weights it was saved with",
    );
}
