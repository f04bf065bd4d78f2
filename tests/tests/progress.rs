//! What a run prints for a person: the start-up header (config, device and threads, model and
//! its parameter count, data, genes, strategy) and per-epoch lines that name the run.
use fuzzaug_tests::{fuzzaug_with, tiny_config, Scratch};

#[test]
fn a_run_starts_with_its_header_and_names_itself_on_every_line() {
    let dir = Scratch::new();
    dir.write("c.toml", &tiny_config(100, 2));
    let out = fuzzaug_with(&["run", "c.toml"], Some(dir.path()), "info");
    out.ok();
    let err = &out.stderr;
    for line in [
        "run base from c.toml: 2 epochs of 2 batches of 50",
        "device cpu, ",
        "model small-cnn, 94,762 parameters",
        "data shapes: 100 training and 40 test images of 3×32×32, 10 classes",
        "genes rotation [-20, 20] | strategy standard",
        "base: epoch 1/2: train loss",
        "base: epoch 2/2: train loss",
    ] {
        assert!(err.contains(line), "no `{line}` in:\n{err}");
    }
    let resumed = fuzzaug_with(
        &["run", "c.toml", "--overwrite", "--quiet"],
        Some(dir.path()),
        "info",
    );
    assert!(
        !resumed.stderr.contains("run base from"),
        "--quiet prints no header: {}",
        resumed.stderr
    );
}
