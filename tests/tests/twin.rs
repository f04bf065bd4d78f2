//! fuzzaug beside its PyTorch twin (`bench/twin.py`), the independent implementation that
//! `bench/parity.py` trains over many seeds:
//! - the twin trains a config's recipe, reads the data fuzzaug reads, and refuses, naming the
//!   key, what it does not implement;
//! - on the same weights the two agree with no training noise between them: the same variants
//!   for the same chromosomes, the same logits, the same test and robust accuracy, and the same
//!   weights after the same optimiser steps (Nesterov SGD with weight decay, batch-norm
//!   statistics included). A seed-averaged parity figure can hide a small systematic difference
//!   in its standard error; these cannot.
use fuzzaug::augment::seeds::EVALUATION;
use fuzzaug::train::{optim, robust, Session};
use fuzzaug_tests::{fuzzaug, Scratch};
use std::path::{Path, PathBuf};
use tch::Tensor;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn twin(args: &[&str]) -> std::process::Output {
    let (mut python, what) = fuzzaug_tests::torch_python();
    let out = python
        .arg(repo().join("bench/twin.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    out
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

/// The twin's procedural data as CIFAR-10 batches, and `bench/parity.toml` reading it for
/// `epochs` epochs.
fn parity_setup(dir: &Scratch, train: u32, test: u32, epochs: u32) -> (PathBuf, String) {
    let data = dir.path().join("data");
    let out = twin(&[
        "write-data",
        data.to_str().unwrap(),
        "--train",
        &train.to_string(),
        "--test",
        &test.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(repo().join("bench/parity.toml"))
        .unwrap()
        .replace("epochs = 6", &format!("epochs = {epochs}"))
        .replace("path = \"data\"", &format!("path = \"{}\"", data.display()));
    (dir.write("p.toml", &text), text)
}

/// `bench/twin.py` trains a config's recipe or refuses, naming the key, what it does not
/// implement; `write-data` writes CIFAR-10 batches that fuzzaug's `cifar10` reads.
#[test]
fn the_pytorch_twin_trains_a_config_and_refuses_what_it_cannot() {
    let dir = Scratch::new();
    let (cfg, text) = parity_setup(&dir, 100, 40, 1);
    // fuzzaug reads the twin's data: 100 training and 40 test images.
    let checked = fuzzaug(&["check", cfg.to_str().unwrap()]).ok().to_string();
    assert!(checked.contains("train 100 / test 40"), "{checked}");
    let run = |extra: &[&str]| {
        let mut args = vec!["train", cfg.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        twin(&args)
    };
    let out = run(&["--strategy", "w10"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(
        (r["robust_grid_size"].as_u64(), r["robust_subset"].as_u64()),
        (Some(9), Some(40))
    );
    let acc = r["test_acc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc) && r["robust_acc"].as_f64().unwrap() <= acc + 1e-9);
    let out = run(&["--strategy", "sensei"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "twin: error: [strategy]: the twin has standard, random and w10"
    );
    std::fs::write(
        &cfg,
        text.replace(
            "hflip = false",
            "hflip = false\nphotometric_clamp = \"per-gene\"",
        ),
    )
    .unwrap();
    assert_eq!(
        stderr(&run(&[])),
        "twin: error: [train]: the twin does not implement photometric_clamp"
    );
}

/// Every variable of the model, contiguous, for `numpy.load`.
fn save_variables(session: &Session, path: &Path) {
    let vars: Vec<(String, Tensor)> = session
        .vs
        .variables()
        .into_iter()
        .map(|(name, t)| (name, t.contiguous()))
        .collect();
    Tensor::write_npz(&vars, path).unwrap();
}

/// fuzzaug's grid variants of the first test images with its model's logits, and a training
/// batch under off-grid chromosomes, stepped twice at two learning rates.
fn probe(session: &mut Session, path: &Path, lrs: &[f64]) {
    let specs: Vec<(f64, f64, f64)> = session
        .parts
        .genes
        .iter()
        .map(|g| (g.spec.lo, g.spec.identity, g.spec.hi))
        .collect();
    let grid = robust::grid(&specs);
    let k = grid.len() / specs.len();
    let images = 6;
    let owners: Vec<i64> = (0..images)
        .flat_map(|i| std::iter::repeat_n(i, k))
        .collect();
    let genes = grid.repeat(images as usize);
    let (x, _) = session
        .variants(&session.data.test, &owners, &[], &genes, EVALUATION)
        .unwrap();
    let logits = tch::no_grad(|| session.model.forward_t(&x, false));
    // Off-grid values (rotation, translate_x), so interpolation between pixels is compared too.
    let batch: Vec<i64> = (0..32).collect();
    let off_grid: Vec<f64> = batch
        .iter()
        .flat_map(|&i| [-17.3 + 1.1 * i as f64, -2.6 + 0.17 * i as f64])
        .collect();
    let (batch_x, batch_y) = session
        .variants(&session.data.train, &batch, &[], &off_grid, 0)
        .unwrap();
    let tensors = [
        ("owners", Tensor::from_slice(&owners)),
        (
            "genes",
            Tensor::from_slice(&genes).view([owners.len() as i64, specs.len() as i64]),
        ),
        ("x", x.contiguous()),
        ("logits", logits),
        ("batch_x", batch_x.contiguous()),
        ("batch_y", batch_y.shallow_clone()),
        ("lrs", Tensor::from_slice(lrs)),
    ];
    Tensor::write_npz(&tensors, path).unwrap();
    // The twin's optimiser starts with no momentum; so does this one.
    let train = &session.config.train;
    session.optimizer = optim::Optimizer::new(&train.optimizer, &session.vs, train.weight_decay_on);
    for &lr in lrs {
        session.backward_on(&batch_x, &batch_y).unwrap();
        session.optimizer.step(lr).unwrap();
    }
}

/// On the same weights, fuzzaug and the twin build the same variants, compute the same logits,
/// the same test and robust accuracy, and take the same optimiser steps.
#[test]
fn fuzzaug_and_its_twin_agree_on_the_same_weights() {
    let dir = Scratch::new();
    let (cfg, _) = parity_setup(&dir, 1000, 64, 4);
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    let mut session = Session::new(&exp.config, exp.components().unwrap()).unwrap();
    // Four epochs, so the weights and batch-norm statistics are a trained model's.
    for epoch in 0..4 {
        session
            .train_epoch(epoch, &indicatif::ProgressBar::hidden(), || false)
            .unwrap();
    }
    let test_acc = session.evaluate().unwrap().accuracy;
    let robust = session.robust(None).unwrap();
    let weights = dir.path().join("weights.npz");
    let probe_file = dir.path().join("probe.npz");
    let after = dir.path().join("after.npz");
    save_variables(&session, &weights);
    probe(&mut session, &probe_file, &[0.05, 0.04]);
    save_variables(&session, &after);

    let out = twin(&[
        "crosscheck",
        cfg.to_str().unwrap(),
        "--weights",
        weights.to_str().unwrap(),
        "--probe",
        probe_file.to_str().unwrap(),
        "--after",
        after.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    println!("twin on fuzzaug's weights: {r}\nfuzzaug: test {test_acc}, {robust:?}");
    let num = |key: &str| r[key].as_f64().unwrap_or_else(|| panic!("{key} in {r}"));
    // Normalised pixels (std 0.25 of 0..1): 1e-3 is a quarter of a 0..255 step over 16.
    assert!(num("variant_gap") < 1e-3, "{r}");
    assert!(num("logit_gap") < 1e-4 * num("logit_scale").max(1.0), "{r}");
    assert!(num("step_gap") < 1e-5 * num("step_scale").max(1.0), "{r}");
    assert_eq!(num("robust_grid_size") as usize, robust.grid_size, "{r}");
    assert_eq!(num("robust_subset") as usize, robust.subset, "{r}");
    // The same predictions, image by image, give the same fractions (one image of slack for a
    // logit tie broken by float noise).
    let one = 1.0 / 64.0 + 1e-9;
    assert!(
        (num("test_acc") - test_acc).abs() <= one,
        "{r} vs {test_acc}"
    );
    assert!(
        (num("robust_acc") - robust.robust_acc).abs() <= one,
        "{r} vs {robust:?}"
    );
    // Not a vacuous comparison: the model learned something, and the grid breaks some images.
    assert!(
        test_acc > 0.4 && robust.robust_acc < test_acc,
        "{test_acc} {robust:?}"
    );

    // Weights that are not a small-cnn's are refused by name, not loaded in part.
    let bad = dir.path().join("bad.npz");
    Tensor::write_npz(
        &[("conv9.weight", Tensor::zeros([1], tch::kind::FLOAT_CPU))],
        &bad,
    )
    .unwrap();
    let out = twin(&[
        "crosscheck",
        cfg.to_str().unwrap(),
        "--weights",
        bad.to_str().unwrap(),
        "--probe",
        probe_file.to_str().unwrap(),
        "--after",
        after.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let msg = stderr(&out);
    assert!(
        msg.starts_with(&format!(
            "twin: error: {}: the twin's model needs ['block1.0.weight'",
            bad.display()
        )) && msg.ends_with("and has no place for ['block9.0.weight']"),
        "{msg}"
    );
}
