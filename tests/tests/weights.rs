//! The model in and out of a run: `checkpoints/best` with `keep_best`, `fuzzaug export`, and
//! `[model] init` / `reinit` starting a run from exported weights or another run.
use fuzzaug_tests::{fuzzaug_in, ppm, Scratch};
use serde_json::Value;
use std::path::Path;

/// A `shapes` run named `name` of `small-cnn`, with extra `[train]` and `[model]` lines.
fn config(name: &str, epochs: u32, train: &str, model: &str) -> String {
    format!(
        "name = \"{name}\"\nseed = 3\ndevice = \"cpu\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 400\ntest_size = 128\nsize = 16\n\
         [model]\narch = \"small-cnn\"\n{model}\n\
         [train]\nepochs = {epochs}\nbatch_size = 32\nhflip = false\n\
         optimizer = {{ kind = \"adamw\", lr = 0.01 }}\n{train}\n\
         [[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n\
         [eval]\nrobust_every = 1\nrobust_subset = 32\n"
    )
}

fn summary(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

/// The `test_acc` column of `metrics.csv`.
fn test_accs(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "test_acc").unwrap();
    lines
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect()
}

/// `checkpoints/best` holds the epoch of the highest test accuracy (the first, on a tie), not
/// the last one; `summary.json` names it; `eval` and `export` read it with `--which best`.
#[test]
fn keep_best_keeps_the_best_epoch_beside_the_last() {
    let dir = Scratch::new();
    dir.write("c.toml", &config("b", 4, "keep_best = \"test_acc\"", ""));
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    let run = dir.path().join("runs/b");
    let accs = test_accs(&run);
    let best = accs
        .iter()
        .enumerate()
        .fold(0, |b, (i, a)| if *a > accs[b] { i } else { b });
    eprintln!("test accuracy per epoch {accs:?}, best epoch {}", best + 1);
    assert_ne!(
        best + 1,
        accs.len(),
        "this config's best epoch must not be the last"
    );
    let s = summary(&run);
    assert_eq!(s["best"]["metric"], "test_acc");
    assert_eq!(s["best"]["epoch"], best as u64 + 1);
    assert_eq!(s["best"]["value"].as_f64().unwrap(), accs[best]);
    assert_eq!(s["best"]["checkpoint"], "best");
    let (b, l) = (run.join("checkpoints/best"), run.join("checkpoints/last"));
    assert_ne!(std::fs::read(&b).unwrap(), std::fs::read(&l).unwrap());

    fuzzaug_in(&["eval", "runs/b"], Some(dir.path())).ok();
    let out = fuzzaug_in(&["eval", "runs/b", "--which", "best"], Some(dir.path()));
    let text = out.ok();
    // Each checkpoint's report in its own folder.
    for (folder, epoch) in [("default", accs.len()), ("default@best", best + 1)] {
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(run.join(format!("eval/{folder}/eval.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(report["epoch"], epoch as u64, "{folder}");
    }
    assert!(
        text.contains(&format!("(epoch {})", best + 1))
            && text.contains(&format!("test accuracy {:.4}", accs[best])),
        "{text}"
    );
    let out = fuzzaug_in(
        &[
            "export",
            "runs/b",
            "--format",
            "safetensors",
            "--which",
            "best",
        ],
        Some(dir.path()),
    );
    assert!(
        out.ok().contains(&format!("epoch {})", best + 1)),
        "{}",
        out.stdout
    );
    assert!(run.join("export/best.safetensors").is_file());

    // The same run stopped after each epoch and resumed keeps the same best epoch.
    dir.write("r.toml", &config("r", 4, "keep_best = \"test_acc\"", ""));
    fuzzaug_in(
        &["run", "r.toml", "--quiet", "--stop-after", "1"],
        Some(dir.path()),
    )
    .ok();
    for _ in 0..3 {
        fuzzaug_in(
            &["run", "--resume", "runs/r", "--quiet", "--stop-after", "1"],
            Some(dir.path()),
        )
        .ok();
    }
    let resumed = summary(&dir.path().join("runs/r"));
    assert_eq!(resumed["best"], s["best"], "best across resumes");

    // A run can start from its best checkpoint: the checkpoint file itself is an `init`.
    dir.write(
        "i.toml",
        &config("i", 1, "", "init = \"runs/b/checkpoints/best\""),
    );
    let out = fuzzaug_in(&["run", "i.toml"], Some(dir.path()));
    assert_eq!(
        format!("{:.4}", accuracy_at_start(out.ok())),
        format!("{:.4}", accs[best])
    );
}

/// `keep_best = "robust_acc"` compares the epochs that measure robust accuracy; a best lost
/// in a stop between the two checkpoint writes comes back on resume.
#[test]
fn keep_best_by_robust_accuracy_and_its_recovery() {
    let dir = Scratch::new();
    dir.write("c.toml", &config("k", 3, "keep_best = \"robust_acc\"", ""));
    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--stop-after", "2"],
        Some(dir.path()),
    )
    .ok();
    let run = dir.path().join("runs/k");
    let best = run.join("checkpoints/best");
    assert!(best.is_file());
    // As if the process died after writing `last` of epoch 2 but before `best`.
    let jsonl = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let robust: Vec<f64> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["robust_acc"]
                .as_f64()
                .unwrap()
        })
        .collect();
    std::fs::remove_file(&best).unwrap();
    fuzzaug_in(&["run", "--resume", "runs/k", "--quiet"], Some(dir.path())).ok();
    let jsonl = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let all: Vec<f64> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["robust_acc"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(&all[..2], &robust[..]);
    // Epoch 1 is gone with the deleted file; the best is among epochs 2 and 3.
    let want = if all[2] > all[1] { 3 } else { 2 };
    let s = summary(&run);
    assert_eq!(s["best"]["metric"], "robust_acc");
    assert_eq!(s["best"]["epoch"], want, "{all:?}");
    assert_eq!(s["best"]["value"].as_f64().unwrap(), all[want as usize - 1]);
}

/// A run without `keep_best` has no best checkpoint to read, and says why.
#[test]
fn which_best_without_keep_best_is_refused() {
    let dir = Scratch::new();
    dir.write("c.toml", &config("n", 1, "", ""));
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    let e = fuzzaug_in(&["eval", "runs/n", "--which", "best"], Some(dir.path()));
    assert!(
        e.fails().contains("has no checkpoint runs/n/checkpoints/best (the run keeps a best checkpoint only with `[train] keep_best`)"),
        "{}",
        e.stderr
    );
    let e = fuzzaug_in(
        &[
            "export",
            "runs/n/checkpoints/last",
            "--format",
            "safetensors",
            "--which",
            "last",
        ],
        Some(dir.path()),
    );
    assert!(e.fails().contains("--which last picks a checkpoint of a run directory, but runs/n/checkpoints/last is a checkpoint file"), "{}", e.stderr);
    let e = fuzzaug_in(&["export", "runs/n", "--format", "onnx"], Some(dir.path()));
    assert_eq!(e.code, Some(2));
    assert!(e.stderr.contains("invalid value 'onnx'"), "{}", e.stderr);
}

/// A run that has not finished an epoch has nothing to export; an existing export is not
/// replaced without `--overwrite`.
#[test]
fn export_refuses_a_run_without_checkpoint_and_an_existing_file() {
    let dir = Scratch::new();
    dir.write("c.toml", &config("e", 1, "", ""));
    fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path())).ok();
    std::fs::remove_file(dir.path().join("runs/e/checkpoints/last")).unwrap();
    let e = fuzzaug_in(
        &["export", "runs/e", "--format", "torchscript"],
        Some(dir.path()),
    );
    assert!(
        e.fails().contains("runs/e has no checkpoint runs/e/checkpoints/last (the run has not finished an epoch yet)"),
        "{}",
        e.stderr
    );
    let e = fuzzaug_in(
        &["export", ".", "--format", "torchscript"],
        Some(dir.path()),
    );
    assert!(
        e.fails().contains(". is not a run directory"),
        "{}",
        e.stderr
    );

    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--overwrite"],
        Some(dir.path()),
    )
    .ok();
    dir.write("mine.pt", "a file of the user's");
    let e = fuzzaug_in(
        &[
            "export",
            "runs/e",
            "--format",
            "torchscript",
            "--out",
            "mine.pt",
        ],
        Some(dir.path()),
    );
    assert!(
        e.fails()
            .contains("mine.pt exists; pass --overwrite to replace it"),
        "{}",
        e.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.pt")).unwrap(),
        "a file of the user's"
    );
    fuzzaug_in(
        &[
            "export",
            "runs/e",
            "--format",
            "torchscript",
            "--out",
            "mine.pt",
            "--overwrite",
        ],
        Some(dir.path()),
    )
    .ok();
    assert!(std::fs::metadata(dir.path().join("mine.pt")).unwrap().len() > 10_000);
}

/// Exports run `a` of `dir` to `a.safetensors`.
fn export_a(dir: &Scratch) {
    let args = [
        "export",
        "runs/a",
        "--format",
        "safetensors",
        "--out",
        "a.safetensors",
    ];
    fuzzaug_in(&args, Some(dir.path())).ok();
}

/// The "test accuracy before training" a run started from `init` prints.
fn accuracy_at_start(stdout: &str) -> f64 {
    let at = stdout
        .find("test accuracy before training ")
        .unwrap_or_else(|| panic!("no start accuracy in:\n{stdout}"));
    stdout[at + 30..at + 36].parse().unwrap()
}

/// Starting from an export or from a run directory gives the source's test accuracy before
/// any training, and what was loaded is printed.
#[test]
fn init_from_an_export_or_a_run_reproduces_its_accuracy() {
    let dir = Scratch::new();
    dir.write("a.toml", &config("a", 2, "", ""));
    fuzzaug_in(&["run", "a.toml", "--quiet"], Some(dir.path())).ok();
    let source_acc = summary(&dir.path().join("runs/a"))["test_acc"]
        .as_f64()
        .unwrap();
    export_a(&dir);
    for (name, init) in [("f", "a.safetensors"), ("d", "runs/a")] {
        dir.write(
            &format!("{name}.toml"),
            &config(name, 1, "", &format!("init = \"{init}\"")),
        );
        let out = fuzzaug_in(&["run", &format!("{name}.toml")], Some(dir.path()));
        let text = out.ok();
        assert!(
            text.contains("loaded 17 tensors; re-initialised: none; skipped: none"),
            "{text}"
        );
        assert_eq!(
            format!("{:.4}", accuracy_at_start(text)),
            format!("{source_acc:.4}"),
            "init from {init}"
        );
    }
}

/// `dir/three/{train,test}/<class>/*.ppm`: three classes of 16×16 images.
fn three_classes(dir: &Scratch) {
    for split in ["train", "test"] {
        for (c, class) in ["a", "b", "c"].iter().enumerate() {
            let folder = dir.path().join(format!("three/{split}/{class}"));
            std::fs::create_dir_all(&folder).unwrap();
            for i in 0..4u8 {
                let rgb: Vec<u8> = (0..768u32)
                    .map(|p| ((p * (c as u32 + 1) + u32::from(i) * 7) % 256) as u8)
                    .collect();
                ppm(&folder.join(format!("{i}.ppm")), 16, 16, &rgb);
            }
        }
    }
}

/// Weights for 10 classes do not fit a 3-class head: refused naming the tensor and both
/// shapes; with `reinit = ["fc"]` the body loads and the head starts afresh. A corrupt file and
/// an architecture the file does not hold are refused by name too, before any run directory
/// exists.
#[test]
fn init_refuses_mismatches_and_reinit_starts_a_new_head() {
    let dir = Scratch::new();
    dir.write("a.toml", &config("a", 1, "", ""));
    fuzzaug_in(&["run", "a.toml", "--quiet"], Some(dir.path())).ok();
    export_a(&dir);
    three_classes(&dir);
    let three = |name: &str, model: &str| {
        format!(
            "name = \"{name}\"\ndevice = \"cpu\"\n\
             [dataset]\nname = \"imagefolder\"\npath = \"three\"\nsize = 16\n\
             [model]\narch = \"small-cnn\"\n{model}\n\
             [train]\nepochs = 1\nbatch_size = 4\n\
             [[transforms]]\nname = \"rotation\"\n"
        )
    };
    dir.write("m.toml", &three("m", "init = \"a.safetensors\""));
    let e = fuzzaug_in(&["run", "m.toml", "--quiet"], Some(dir.path()));
    assert!(
        e.fails().contains("`model.init`: tensor `fc.bias` is [10] in a.safetensors but [3] in this model; name it (or its layer, e.g. `reinit = [\"fc\"]` for a head with another class count) in `model.reinit`"),
        "{}",
        e.stderr
    );
    assert!(
        !dir.path().join("runs/m").exists(),
        "a refused init wrote the run directory"
    );

    dir.write(
        "h.toml",
        &three("h", "init = \"a.safetensors\"\nreinit = [\"fc\"]"),
    );
    let out = fuzzaug_in(&["run", "h.toml"], Some(dir.path()));
    assert!(
        out.ok().contains(
            "loaded 15 tensors; re-initialised: fc.bias, fc.weight; skipped: fc.bias, fc.weight"
        ),
        "{}",
        out.stdout
    );

    dir.write(
        "t.toml",
        &config("t", 1, "", "init = \"a.safetensors\"\nreinit = [\"fc.\"]"),
    );
    let e = fuzzaug_in(&["run", "t.toml", "--quiet"], Some(dir.path()));
    assert!(
        e.fails().contains("`model.reinit`: `fc.` names no variable of this model (a variable or its layer, e.g. one of: bn1, bn2, bn3, conv1, conv2, conv3, fc)"),
        "{}",
        e.stderr
    );
    dir.write(
        "r.toml",
        &config("r", 1, "", "init = \"a.safetensors\"").replace("small-cnn", "preact-resnet20"),
    );
    let e = fuzzaug_in(&["run", "r.toml", "--quiet"], Some(dir.path()));
    assert!(
        e.fails().contains(
            "`model.init`: a.safetensors has no tensor `bn.bias`, which this model needs"
        ),
        "{}",
        e.stderr
    );
    let bytes = std::fs::read(dir.path().join("a.safetensors")).unwrap();
    std::fs::write(
        dir.path().join("cut.safetensors"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    dir.write("c.toml", &config("c", 1, "", "init = \"cut.safetensors\""));
    let e = fuzzaug_in(&["run", "c.toml", "--quiet"], Some(dir.path()));
    assert!(
        e.fails()
            .contains("cut.safetensors is not a readable safetensors file"),
        "{}",
        e.stderr
    );
    dir.write("x.toml", &config("x", 1, "", "init = \"runs/nothing\""));
    let e = fuzzaug_in(&["run", "x.toml", "--quiet"], Some(dir.path()));
    assert!(
        e.fails()
            .contains("x.toml:11:8: `model.init`: runs/nothing does not exist"),
        "{}",
        e.stderr
    );
}
