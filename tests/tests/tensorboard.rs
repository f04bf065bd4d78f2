//! `[log] tensorboard = true`: event files that TensorBoard's own reader loads, with every
//! scalar of every epoch at its step, and the image grid of the strategy's variants; a run
//! stopped and resumed shows each epoch once.
use fuzzaug_tests::{fuzzaug_in, torch_python, Scratch};
use serde_json::Value;
use std::collections::BTreeMap;

/// Reads `dir` with TensorBoard's `EventAccumulator`: every scalar tag's (step, value) list,
/// and the (step, width, height) of each image.
const READ: &str = r#"
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0})
acc.Reload()
tags = acc.Tags()
print(json.dumps({
    "scalars": {t: [[s.step, s.value] for s in acc.Scalars(t)] for t in tags["scalars"]},
    "images": {t: [[i.step, i.width, i.height] for i in acc.Images(t)] for t in tags["images"]},
}))
"#;

fn read_board(dir: &std::path::Path) -> Value {
    let (mut cmd, what) = torch_python();
    let out = cmd.arg("-c").arg(READ).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_metric_of_every_epoch_reads_back_once_across_a_resume() {
    let dir = Scratch::new();
    dir.write(
        "c.toml",
        "name = \"tb\"\nseed = 2\ndevice = \"cpu\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 200\ntest_size = 64\nsize = 16\n\
         [model]\narch = \"small-cnn\"\n\
         [train]\nepochs = 4\nbatch_size = 50\nschedule = { kind = \"cosine\" }\n\
         [[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n\
         [strategy]\nname = \"sensei\"\npopulation = 3\n\
         [eval]\nrobust_every = 2\nrobust_subset = 16\n\
         [log]\ntensorboard = true\nimage_every = 2\n",
    );
    fuzzaug_in(
        &["run", "c.toml", "--quiet", "--stop-after", "3"],
        Some(dir.path()),
    )
    .ok();
    fuzzaug_in(&["run", "--resume", "runs/tb", "--quiet"], Some(dir.path())).ok();
    let run = dir.path().join("runs/tb");
    let files = std::fs::read_dir(run.join("tb")).unwrap().count();
    assert_eq!(files, 2, "one event file per session");
    let board = read_board(&run.join("tb"));

    // What metrics.jsonl holds, by tag: each number of each row.
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let mut want: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let epoch = row["epoch"].as_u64().unwrap();
        for col in fuzzaug::rundir::metrics::columns() {
            if let (false, Some(v)) = (col == "epoch", row[col].as_f64()) {
                want.entry(col.to_string()).or_default().push((epoch, v));
            }
        }
        for (k, v) in row["strategy"].as_object().unwrap() {
            want.entry(format!("strategy/{k}"))
                .or_default()
                .push((epoch, v.as_f64().unwrap()));
        }
    }
    assert_eq!(
        want["robust_acc"].len(),
        2,
        "robust accuracy at epochs 2 and 4"
    );
    let scalars = board["scalars"].as_object().unwrap();
    for (tag, rows) in &want {
        let got: Vec<(u64, f64)> = scalars
            .get(tag)
            .unwrap_or_else(|| panic!("no tag {tag} in {scalars:?}"))
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        assert_eq!(got.len(), rows.len(), "{tag}: {got:?} vs {rows:?}");
        for ((gs, gv), (ws, wv)) in got.iter().zip(rows) {
            assert_eq!(gs, ws, "{tag}");
            // Scalars are f32 in the event file.
            assert!(
                (gv - wv).abs() <= 1e-6 * wv.abs().max(1.0),
                "{tag} at {ws}: {gv} vs {wv}"
            );
        }
    }
    let lr = &scalars["lr"];
    assert_eq!(lr.as_array().unwrap().len(), 4, "{lr}");
    let images = &board["images"]["chosen_variants"];
    assert_eq!(
        images,
        &serde_json::json!([[2, 261, 261], [4, 261, 261]]),
        "a 4×4 grid of 16×16 images enlarged 4×, at epochs 2 and 4"
    );
}

/// The section is checked like every other: an unknown key is refused at its line.
#[test]
fn an_unknown_log_key_is_refused() {
    let dir = Scratch::new();
    dir.write("c.toml", "name = \"x\"\n[log]\ntensorbord = true\n");
    let e = fuzzaug_in(&["check", "c.toml"], Some(dir.path()));
    assert!(e.fails().contains("c.toml:3:1"), "{}", e.stderr);
    assert!(e.stderr.contains("tensorbord"), "{}", e.stderr);
}
