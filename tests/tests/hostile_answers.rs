//! Every answer a plugin gives is checked before the host uses it: the `hostile` fixture (a
//! strategy, a geometric and a photometric transform and a dataset) and the `bad_tensor` fixture
//! answer wrongly in the way a setting chooses, and each case runs the real binary (`run`, and
//! `preview`, `eval` where they read the answer) and asserts the exit code, the message (the
//! plugin, its library, the method, the offending value and its index) and that the run
//! directory is intact: no half-written file, no checkpoint from a refused answer, and an
//! existing checkpoint (and every other file) byte for byte as it was.
use fuzzaug_tests::{fixture, fuzzaug_in, snapshot, Run, Scratch};
use std::{
    path::Path,
    time::{Duration, Instant},
};

/// A scratch folder with the fixtures under `plugins/` as fuzzaug finds plugins.
fn scratch() -> Scratch {
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    dir.add(&fixture("hostile"), "plugins/libfuzzaug_hostile.so");
    dir.add(&fixture("bad_tensor"), "plugins/libfuzzaug_bad_tensor.so");
    dir
}

/// The library path messages name.
fn lib(dir: &Scratch, name: &str) -> String {
    dir.path()
        .join(format!("plugins/libfuzzaug_{name}.so"))
        .display()
        .to_string()
}

/// A one-epoch (or `epochs`) CPU run `h` of `small-cnn` on 16 + 8 `hostile_data` images (8×8,
/// one channel) with `dataset` lines in its `[dataset]` table, batches of 8, the `[[transforms]]`
/// tables `genes` and the `[strategy]` table `strategy`.
fn config(epochs: u32, dataset: &str, genes: &str, strategy: &str) -> String {
    format!(
        "name = \"h\"\nseed = 5\ndevice = \"cpu\"\noutput_dir = \"runs\"\nplugin_dirs = [\"plugins\"]\n\
         [dataset]\nname = \"hostile_data\"\n{dataset}\n[model]\narch = \"small-cnn\"\n\
         [train]\nepochs = {epochs}\nbatch_size = 8\n\
         [eval]\nrobust_every = 0\nrobust_subset = 8\n\
         {genes}\n[strategy]\n{strategy}\n"
    )
}

/// One `hostile_rotation` gene.
const ROTATION: &str = "[[transforms]]\nname = \"hostile_rotation\"\n";

/// The `hostile` strategy misbehaving in `case` (from epoch `from`, 0-based).
fn hostile(case: &str, from: u32) -> String {
    format!("name = \"hostile\"\nmisbehave = \"{case}\"\nfrom_epoch = {from}\n")
}

fn fuzzaug(dir: &Scratch, args: &[&str]) -> Run {
    fuzzaug_in(args, Some(dir.path()))
}

fn run(dir: &Scratch, extra: &[&str]) -> Run {
    let mut args = vec!["run", "c.toml", "--quiet"];
    args.extend_from_slice(extra);
    fuzzaug(dir, &args)
}

/// Asserts that `runs/h` of a run refused in its first epoch holds no half-written file (no
/// temporary or staging name), no checkpoint, no summary and no metrics row.
fn assert_fresh_run_intact(dir: &Scratch) {
    let run_dir = dir.path().join("runs/h");
    let files = snapshot(&run_dir);
    for (path, bytes) in &files {
        let name = path.to_string_lossy();
        assert!(
            !name.contains(".tmp") && !name.contains(".new-") && !name.contains(".old-"),
            "half-written file {name} in {files:?}",
            files = files.keys().collect::<Vec<_>>()
        );
        assert!(
            !name.starts_with("checkpoints") && name != "summary.json",
            "{name} written by a refused run"
        );
        if name == "metrics.csv" {
            let text = String::from_utf8_lossy(bytes);
            assert!(text.lines().count() <= 1, "metrics rows: {text}");
        }
        if name == "config.toml" {
            let text = String::from_utf8_lossy(bytes);
            assert!(text.parse::<toml::Table>().is_ok(), "config.toml: {text}");
        }
    }
}

/// A fresh one-epoch run with `config` fails (exit 1, no crash) with a message containing
/// `expected`; the run directory is intact.
fn refused_run(dir: &Scratch, config: &str, expected: &str) {
    dir.write("c.toml", config);
    let out = run(dir, &[]);
    let err = out.fails();
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    assert_fresh_run_intact(dir);
}

/// The strategy misbehaving from `case` in epoch 2: epoch 1 runs (`--stop-after 1`) and writes
/// its checkpoint; `--resume` is refused with `expected`, and every file of the run directory
/// (the checkpoint, the metrics, the config) is byte for byte as epoch 1 left it.
fn refused_resume(case: &str, expected: &str) {
    let dir = scratch();
    dir.write("c.toml", &config(2, "", ROTATION, &hostile(case, 1)));
    run(&dir, &["--stop-after", "1"]).ok();
    let run_dir = dir.path().join("runs/h");
    let before = snapshot(&run_dir);
    assert!(
        before.contains_key(Path::new("checkpoints/last")),
        "{before:?}"
    );
    let out = run(&dir, &["--resume"]);
    let err = out.fails();
    let expected = expected.replace("{lib}", &lib(&dir, "hostile"));
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    assert!(
        err.contains("the last good checkpoint (epoch 1) is intact at runs/h/checkpoints/last"),
        "{err}"
    );
    assert!(
        snapshot(&run_dir) == before,
        "the refused resume changed the run directory"
    );
}

/// The message of `strategy hostile`'s refused answer of `method`, `problem`.
fn from_strategy(dir: &Scratch, method: &str, problem: &str) -> String {
    format!(
        "strategy `hostile` ({}) answered `{method}` with {problem}; the host refuses it",
        lib(dir, "hostile")
    )
}

fn refused_proposal(case: &str, genes: &str, problem: &str) {
    let dir = scratch();
    let expected = format!(
        "caused by: epoch 1, batch 1\n  caused by: {}",
        from_strategy(&dir, "propose", problem)
    );
    refused_run(&dir, &config(1, "", genes, &hostile(case, 0)), &expected);
}

#[test]
fn a_nan_gene_from_propose_is_refused_naming_the_strategy() {
    refused_proposal(
        "propose_nan",
        ROTATION,
        "gene value NaN at index 1 (gene `hostile_rotation` of candidate 1): not a number",
    );
}

#[test]
fn an_out_of_range_gene_from_propose_is_refused() {
    refused_proposal(
        "propose_out_of_range",
        ROTATION,
        "gene value 1000 at index 1 (gene `hostile_rotation` of candidate 1), outside the \
         gene's range [-30, 30]",
    );
}

#[test]
fn a_proposal_with_too_few_counts_is_refused() {
    refused_proposal(
        "wrong_counts",
        ROTATION,
        "7 counts for a batch of 8 samples (one per sample)",
    );
}

#[test]
fn a_proposal_with_too_few_gene_values_is_refused() {
    refused_proposal(
        "wrong_gene_count",
        ROTATION,
        "7 gene values for 8 candidates of 1 genes (expected 8)",
    );
}

#[test]
fn candidates_without_genes_are_refused() {
    refused_proposal(
        "counts_without_genes",
        "",
        "count 1 at index 0, but the run has no genes: every count must be 0",
    );
}

/// Σk = 10^7 for one batch is refused at once, before anything is allocated or scored for the
/// candidates (a run that tried would take hours).
#[test]
fn ten_million_candidates_for_a_batch_are_refused_at_once() {
    let start = Instant::now();
    refused_proposal(
        "huge_k",
        ROTATION,
        "count 10000000 at index 0, which brings the batch to 10000000 candidates, over the \
         limit of 4194304 per batch (a smaller `train.batch_size` or fewer candidates per \
         sample keep within it)",
    );
    assert!(start.elapsed() < Duration::from_secs(120));
}

#[test]
fn a_nan_gene_from_select_is_refused_and_the_checkpoint_kept() {
    refused_resume(
        "select_nan",
        "epoch 2, batch 1\n  caused by: strategy `hostile` ({lib}) answered `select` with gene value NaN \
         at index 0 (gene `hostile_rotation` of sample 0): not a number",
    );
}

#[test]
fn an_out_of_range_gene_from_select_is_refused_and_the_checkpoint_kept() {
    refused_resume(
        "select_out_of_range",
        "strategy `hostile` ({lib}) answered `select` with gene value 1501 at index 0 (gene \
         `hostile_rotation` of sample 0), outside the gene's range [-30, 30]",
    );
}

#[test]
fn a_short_selection_is_refused() {
    let dir = scratch();
    let expected = from_strategy(
        &dir,
        "select",
        "7 gene values for 8 samples of 1 genes (expected 8)",
    );
    refused_run(
        &dir,
        &config(1, "", ROTATION, &hostile("select_short", 0)),
        &expected,
    );
}

#[test]
fn a_counter_named_like_a_metrics_column_is_refused_and_the_checkpoint_kept() {
    refused_resume(
        "counter_column",
        "strategy `hostile` ({lib}) answered `take_counters` with counter `test_acc` at index \
         2, the name of a metrics.csv column (only `skipped_robust` may fill one)",
    );
}

#[test]
fn a_nan_counter_is_refused_and_the_checkpoint_kept() {
    refused_resume(
        "counter_nan",
        "strategy `hostile` ({lib}) answered `take_counters` with counter `hostile_mean` at \
         index 2 of value NaN: not a number",
    );
}

#[test]
fn a_repeated_counter_is_refused() {
    let dir = scratch();
    let expected = from_strategy(
        &dir,
        "take_counters",
        "counter `hostile_calls` at index 2, a repeat of index 1",
    );
    refused_run(
        &dir,
        &config(1, "", ROTATION, &hostile("counter_repeat", 0)),
        &expected,
    );
}

/// `preview` asks for the incumbents the checkpoint's strategy holds: a NaN among them is
/// refused, no picture is written and the run directory is untouched.
#[test]
fn a_nan_incumbent_is_refused_by_preview() {
    let dir = scratch();
    dir.write(
        "c.toml",
        &config(1, "", ROTATION, &hostile("incumbents_nan", 0)),
    );
    run(&dir, &[]).ok();
    let run_dir = dir.path().join("runs/h");
    let before = snapshot(&run_dir);
    let out = fuzzaug(&dir, &["preview", "c.toml", "--out", "p.png"]);
    let err = out.fails();
    let expected = from_strategy(
        &dir,
        "incumbents",
        "gene value NaN at index 0 (gene `hostile_rotation` of sample 0): not a number",
    );
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    assert!(!dir.path().join("p.png").exists());
    assert!(snapshot(&run_dir) == before);
}

/// TensorBoard's grid of chosen variants asks for the incumbents too: an out-of-range one
/// stops the grid with the same words (TensorBoard is a view of the run: the run goes on).
#[test]
fn an_out_of_range_incumbent_is_refused_by_the_tensorboard_grid() {
    let dir = scratch();
    let strategy = format!(
        "{}[log]\ntensorboard = true\nimage_every = 1\n",
        hostile("incumbents_out_of_range", 0)
    );
    dir.write("c.toml", &config(1, "", ROTATION, &strategy));
    let out = fuzzaug(&dir, &["run", "c.toml"]);
    out.ok();
    let expected = from_strategy(
        &dir,
        "incumbents",
        "gene value -1060 at index 0 (gene `hostile_rotation` of sample 0), outside the \
         gene's range [-30, 30]",
    );
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("TensorBoard logging stopped at epoch 1") && text.contains(&expected),
        "expected {expected:?} in:\n{text}"
    );
}

/// A strategy as `eval`'s attacker is checked as in training: an out-of-range gene stops the
/// search naming the attacker and the round, no report is written and the run is untouched.
#[test]
fn an_out_of_range_gene_from_an_attacker_is_refused_by_eval() {
    let dir = scratch();
    dir.write("c.toml", &config(1, "", ROTATION, &hostile("none", 0)));
    run(&dir, &[]).ok();
    let run_dir = dir.path().join("runs/h");
    let before = snapshot(&run_dir);
    dir.write(
        "t.toml",
        "[[transforms]]\nname = \"hostile_rotation\"\n[[protocols]]\nkind = \"search\"\n\
         strategy = \"hostile\"\nbudget = 3\nsettings = { misbehave = \"propose_out_of_range\" }\n",
    );
    let out = fuzzaug(
        &dir,
        &["eval", "runs/h", "--threat", "t.toml", "--out", "e"],
    );
    let err = out.fails();
    let expected = format!(
        "caused by: attacker `hostile`, round 1\n  caused by: {}",
        from_strategy(
            &dir,
            "propose",
            "gene value 1000 at index 1 (gene `hostile_rotation` of candidate 1), outside the \
             gene's range [-30, 30]"
        )
    );
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    assert!(!dir.path().join("e/eval.json").exists());
    assert!(snapshot(&run_dir) == before);
}

/// The message of transform `name`'s refused answer of `method`.
fn from_transform(dir: &Scratch, library: &str, name: &str, method: &str, problem: &str) -> String {
    format!(
        "transform `{name}` ({}) answered `{method}` with {problem}; the host refuses it",
        lib(dir, library)
    )
}

/// A run of `random` over `gene` (with `misbehave = case`) is refused with `problem` from
/// `method`; so is `preview`, which applies the gene at its lo and hi, when `in_preview`.
fn refused_transform(gene: &str, case: &str, method: &str, problem: &str, in_preview: bool) {
    let dir = scratch();
    let genes = format!("[[transforms]]\nname = \"{gene}\"\nmisbehave = \"{case}\"\n");
    let expected = from_transform(&dir, "hostile", gene, method, problem);
    refused_run(
        &dir,
        &config(1, "", &genes, "name = \"random\"\n"),
        &expected,
    );
    if in_preview {
        let out = fuzzaug(&dir, &["preview", "c.toml", "--out", "p.png"]);
        let err = out.fails();
        let expected = from_transform(
            &dir,
            "hostile",
            gene,
            method,
            &problem.replace("for 8 values", "for 4 values"),
        );
        assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
        assert!(!dir.path().join("p.png").exists());
    }
}

#[test]
fn a_nan_matrix_is_refused_in_training_and_preview() {
    refused_transform(
        "hostile_rotation",
        "nan_matrix",
        "matrices",
        "matrix value NaN at index 10 (entry 4 of the matrix of value 1): not a number",
        true,
    );
}

#[test]
fn a_short_list_of_matrices_is_refused() {
    refused_transform(
        "hostile_rotation",
        "short_matrix",
        "matrices",
        "42 matrix values for 8 values (expected six each, 48)",
        false,
    );
}

/// A NaN gain once trained on and ended the run blaming the learning rate.
#[test]
fn a_nan_gain_is_refused_in_training_and_preview() {
    refused_transform(
        "hostile_brightness",
        "nan_gain",
        "gain_bias",
        "gain NaN at index 0 (of value 0): not a number",
        true,
    );
}

#[test]
fn a_short_list_of_gains_is_refused() {
    refused_transform(
        "hostile_brightness",
        "short_gain",
        "gain_bias",
        "14 gain/bias values for 8 values (expected a gain and a bias each, 16)",
        false,
    );
}

/// A run of `random` over the `bad_tensor` gene `gene` is refused with `problem` from `apply`.
fn refused_tensor(gene: &str, problem: &str) {
    let dir = scratch();
    let genes = format!("[[transforms]]\nname = \"{gene}\"\n");
    let expected = from_transform(&dir, "bad_tensor", gene, "apply", problem);
    refused_run(
        &dir,
        &config(1, "", &genes, "name = \"random\"\n"),
        &expected,
    );
}

const SAME: &str = "(it must return the same shape, Float, on the same device)";

#[test]
fn a_tensor_short_of_an_image_is_refused() {
    refused_tensor(
        "drops_an_image",
        &format!(
            "a Float tensor of shape [7, 1, 8, 8] on Cpu for a Float batch of shape [8, 1, 8, 8] \
             on Cpu {SAME}"
        ),
    );
}

/// A batch of one would broadcast against the others: refused.
#[test]
fn a_tensor_of_one_image_is_refused() {
    refused_tensor(
        "keeps_one",
        &format!(
            "a Float tensor of shape [1, 1, 8, 8] on Cpu for a Float batch of shape [8, 1, 8, 8] \
             on Cpu {SAME}"
        ),
    );
}

#[test]
fn a_double_tensor_is_refused() {
    refused_tensor(
        "as_double",
        &format!(
            "a Double tensor of shape [8, 1, 8, 8] on Cpu for a Float batch of shape \
             [8, 1, 8, 8] on Cpu {SAME}"
        ),
    );
}

#[test]
fn a_null_tensor_is_refused() {
    refused_tensor("null", "a null tensor pointer");
}

#[test]
fn an_undefined_tensor_is_refused() {
    refused_tensor("undefined", "an undefined tensor");
}

const GLOBAL_RNG: &str = "libtorch's global random generator moved: the plugin drew from it or \
     reseeded it (a tensor transform must draw image i's randomness from seeds[i] alone)";

/// A plugin's draws from libtorch's global generator are not from its seeds: the variant it
/// builds for training would not be the one scored. Refused, reseeding as drawing.
#[test]
fn a_tensor_transform_that_reseeds_the_global_generator_is_refused() {
    refused_tensor("reseeds", GLOBAL_RNG);
}

#[test]
fn a_tensor_transform_that_draws_from_the_global_generator_is_refused() {
    refused_tensor("draws", GLOBAL_RNG);
}

/// A CPU tensor for a CUDA batch is refused (where CUDA exists: the fixture can only move a
/// batch to a device this machine has).
#[test]
fn a_tensor_on_another_device_is_refused() {
    if !tch::Cuda::is_available() {
        eprintln!("no CUDA device here: the device refusal is checked on a GPU machine");
        return;
    }
    let dir = scratch();
    let genes = "[[transforms]]\nname = \"elsewhere\"\n";
    let expected = from_transform(
        &dir,
        "bad_tensor",
        "elsewhere",
        "apply",
        &format!(
            "a Float tensor of shape [8, 1, 8, 8] on Cpu for a Float batch of shape [8, 1, 8, 8] \
             on Cuda(0) {SAME}"
        ),
    );
    let cuda = config(1, "", genes, "name = \"random\"\n")
        .replace("device = \"cpu\"", "device = \"cuda\"");
    refused_run(&dir, &cuda, &expected);
}

/// A tensor inside an autograd graph is detached: the run trains as with any other tensor.
#[test]
fn a_tensor_inside_a_graph_is_detached_and_trains() {
    let dir = scratch();
    dir.write(
        "c.toml",
        &config(
            1,
            "",
            "[[transforms]]\nname = \"with_grad\"\n",
            "name = \"random\"\n",
        ),
    );
    run(&dir, &[]).ok();
    assert!(dir.path().join("runs/h/checkpoints/last").is_file());
}

/// The message of dataset `hostile_data`'s refused chunk.
fn from_dataset(dir: &Scratch, problem: &str) -> String {
    format!(
        "dataset `hostile_data` ({}) answered `read` with {problem}; the host refuses it",
        lib(dir, "hostile")
    )
}

/// A run on `hostile_data` misbehaving in `case` is refused with `in_run`; `preview`, which
/// reads the first four test images, with `in_preview`.
fn refused_chunk(case: &str, in_run: &str, in_preview: &str) {
    let dir = scratch();
    let dataset = format!("misbehave = \"{case}\"");
    let expected = from_dataset(&dir, in_run);
    refused_run(
        &dir,
        &config(1, &dataset, ROTATION, "name = \"standard\"\n"),
        &expected,
    );
    let out = fuzzaug(&dir, &["preview", "c.toml", "--out", "p.png"]);
    let err = out.fails();
    let expected = from_dataset(&dir, in_preview);
    assert!(err.contains(&expected), "expected {expected:?} in:\n{err}");
    assert!(!dir.path().join("p.png").exists());
}

/// `preview` once indexed the labels without checking their count.
#[test]
fn a_chunk_short_of_a_label_is_refused_in_training_and_preview() {
    refused_chunk(
        "short_labels",
        "15 labels for 16 train images from index 0",
        "3 labels for 4 test images from index 0",
    );
}

#[test]
fn a_label_beyond_the_classes_is_refused_in_training_and_preview() {
    refused_chunk(
        "label_out_of_range",
        "label 2 at index 15 (train image 15), but the dataset has 2 classes",
        "label 2 at index 3 (test image 3), but the dataset has 2 classes",
    );
}

#[test]
fn a_chunk_short_of_a_pixel_is_refused_in_training_and_preview() {
    refused_chunk(
        "short_pixels",
        "1023 pixel bytes for 16 train images from index 0 (expected 64 per image)",
        "255 pixel bytes for 4 test images from index 0 (expected 64 per image)",
    );
}

/// The well-behaved fixture trains, so that every refusal above is the misbehaviour's.
#[test]
fn the_fixture_behaving_trains() {
    let dir = scratch();
    dir.write(
        "c.toml",
        &config(
            1,
            "",
            "[[transforms]]\nname = \"hostile_rotation\"\n[[transforms]]\nname = \"hostile_brightness\"\n",
            &hostile("none", 0),
        ),
    );
    run(&dir, &[]).ok();
    let csv = std::fs::read_to_string(dir.path().join("runs/h/metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
}
