//! Isolated mode (`[plugins] isolate`, `--isolate`): a plugin in a child process. Whatever ends
//! that process ends the run with an error naming the plugin and the call, the last checkpoint
//! intact; an isolated run is the same run as an in-process one.
use fuzzaug_tests::{fixture, fuzzaug_in, metrics_without_timing, tiny_config, Run, Scratch};

/// `tiny_config` with output under the scratch folder, strategy `strategy` (its table's lines
/// after the name) and `isolate` (a TOML list).
fn config(dir: &Scratch, epochs: u32, strategy: &str, isolate: &str) -> std::path::PathBuf {
    let text = tiny_config(100, epochs)
        .replace(
            "[strategy]\nname = \"standard\"\n",
            &format!("[strategy]\n{strategy}\n"),
        )
        .replace(
            "name = \"base\"\n",
            "name = \"base\"\noutput_dir = \"runs\"\n",
        );
    dir.write("c.toml", &format!("{text}[plugins]\nisolate = {isolate}\n"))
}

/// `fuzzaug ARGS` in `dir`, where the configs put their run directories.
fn fuzzaug(dir: &Scratch, args: &[&str]) -> Run {
    fuzzaug_in(args, Some(dir.path()))
}

fn crashy(dir: &Scratch) {
    dir.add(&fixture("crashy"), "libfuzzaug_crashy.so");
}

/// The same config, run with sensei, shapes and spatial in child processes and in fuzzaug's
/// own: every metric of every epoch is equal.
#[test]
fn an_isolated_run_is_the_same_run_as_an_in_process_one() {
    let a = Scratch::new();
    let b = Scratch::new();
    let strategy = "name = \"sensei\"\npopulation = 3";
    let ca = config(&a, 2, strategy, "[]");
    let cb = config(&b, 2, strategy, "[\"sensei\", \"shapes\", \"spatial\"]");
    fuzzaug(&a, &["run", ca.to_str().unwrap(), "--quiet"]).ok();
    fuzzaug(&b, &["run", cb.to_str().unwrap(), "--quiet"]).ok();
    let (ma, mb) = (
        metrics_without_timing(&a.path().join("runs/base")),
        metrics_without_timing(&b.path().join("runs/base")),
    );
    assert_eq!(ma.len(), 2);
    assert_eq!(ma, mb);
    let prov = std::fs::read_to_string(b.path().join("runs/base/config.toml")).unwrap();
    assert!(
        prov.contains("isolate = [\"sensei\", \"shapes\", \"spatial\"]"),
        "{prov}"
    );
}

/// What each way of dying says, after the first epoch's checkpoint.
#[test]
fn a_plugin_that_ends_its_process_stops_the_run_naming_the_plugin_the_call_and_the_cause() {
    for (how, cause) in [
        (
            "segfault",
            "killed by signal 11 (SIGSEGV, a segmentation fault)",
        ),
        ("exit", "exited with status 3"),
        ("abort", "killed by signal 6 (SIGABRT, an abort"),
        (
            "kill",
            "killed by signal 9 (SIGKILL, most likely the kernel's out-of-memory killer)",
        ),
    ] {
        let dir = Scratch::new();
        crashy(&dir);
        let strategy = format!("name = \"crashy\"\nhow = \"{how}\"\nepoch = 1");
        let c = config(&dir, 3, &strategy, "[\"crashy\"]");
        let plugin_dir = dir.path().to_str().unwrap();
        let out = fuzzaug(
            &dir,
            &[
                "run",
                c.to_str().unwrap(),
                "--quiet",
                "--plugin-dir",
                plugin_dir,
            ],
        );
        let err = out.fails();
        let lib = dir.path().join("libfuzzaug_crashy.so");
        let lib = lib.canonicalize().unwrap();
        let expected = format!(
            "`crashy` ({}) failed in `propose`: its isolated process died: {cause}",
            lib.display()
        );
        assert!(
            err.contains(&expected),
            "{how}: want {expected:?} in:\n{err}"
        );
        assert!(err.contains("epoch 2"), "{how}: names the epoch:\n{err}");
        let run = dir.path().join("runs/base");
        assert_eq!(
            metrics_without_timing(&run).len(),
            1,
            "{how}: one epoch kept"
        );
        // The checkpoint of epoch 1 is whole: eval loads and scores it.
        let eval = fuzzaug(
            &dir,
            &["eval", run.to_str().unwrap(), "--plugin-dir", plugin_dir],
        );
        let text = eval.ok();
        assert!(text.contains("epoch 1"), "{how}: {text}");
    }
}

/// Without isolation the same plugin takes fuzzaug down with it: the fixture really crashes.
#[test]
fn without_isolation_the_crash_ends_fuzzaug() {
    let dir = Scratch::new();
    crashy(&dir);
    let c = config(&dir, 2, "name = \"crashy\"\nhow = \"segfault\"", "[]");
    let out = fuzzaug(
        &dir,
        &[
            "run",
            c.to_str().unwrap(),
            "--quiet",
            "--plugin-dir",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, None, "killed by a signal: {}", out.stderr);
}

/// A crash while the component is built is reported at the config's strategy table, as a
/// constructor's refusal is, before the run directory exists.
#[test]
fn a_crash_in_the_constructor_is_reported_before_anything_is_written() {
    let dir = Scratch::new();
    crashy(&dir);
    let c = config(
        &dir,
        2,
        "name = \"crashy\"\ncrash_in = \"new\"\nhow = \"exit\"",
        "[\"crashy\"]",
    );
    let err = fuzzaug(
        &dir,
        &[
            "run",
            c.to_str().unwrap(),
            "--plugin-dir",
            dir.path().to_str().unwrap(),
        ],
    )
    .fails()
    .to_string();
    assert!(
        err.contains(
            "c.toml:18:1: strategy `crashy`: its isolated process died: exited with status 3"
        ),
        "{err}"
    );
    assert!(!dir.path().join("runs").exists(), "nothing written");
}

/// What cannot be isolated, or names nothing, is refused by `check` with the reason.
#[test]
fn bad_isolate_entries_are_refused_with_the_reason() {
    let dir = Scratch::new();
    let c = config(&dir, 1, "name = \"standard\"", "[\"sensie\"]");
    let err = fuzzaug(&dir, &["check", c.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(err.contains("c.toml:"), "at its line: {err}");
    assert!(
        err.contains("`sensie` is neither a plugin library nor a component on the plugin search path; did you mean `sensei`?"),
        "{err}"
    );
    let c = config(&dir, 1, "name = \"standard\"", "[\"noise\"]");
    std::fs::write(
        &c,
        std::fs::read_to_string(&c).unwrap().replace(
            "[strategy]",
            "[[transforms]]\nname = \"gaussian_noise\"\n[strategy]",
        ),
    )
    .unwrap();
    let err = fuzzaug(&dir, &["check", c.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(
        err.contains("`gaussian_noise`") && err.contains("cannot run isolated"),
        "{err}"
    );
}

/// `plugins --check` loads the library in a child first: a library whose loading crashes is
/// reported, and fuzzaug lives to say so.
#[test]
fn plugins_check_survives_a_library_that_crashes_when_loaded() {
    let dir = Scratch::new();
    let lib = dir.add(&fixture("crashy"), "libfuzzaug_crashy.so");
    let lib = lib.to_str().unwrap();
    let text = fuzzaug(&dir, &["plugins", "--check", lib]).ok().to_string();
    assert!(text.contains("crashy"), "{text}");
    let out = std::process::Command::new(fuzzaug_tests::fuzzaug_bin())
        .args(["plugins", "--check", lib])
        .env("CRASHY_WHEN_LISTED", "1")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "loading it in a child process ended that process: killed by signal 11 (SIGSEGV"
        ),
        "{err}"
    );
}

/// `--isolate` adds to the config's list, by library or by component name; a name that is
/// neither is refused naming the flag.
#[test]
fn the_isolate_flag_adds_libraries_by_their_name_or_a_component_name() {
    let dir = Scratch::new();
    let json = fuzzaug(
        &dir,
        &[
            "plugins",
            "--json",
            "--isolate",
            "rotation",
            "--isolate",
            "sensei",
        ],
    )
    .ok()
    .to_string();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let isolated: Vec<String> = v["libraries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["isolated"] == true)
        .map(|l| {
            l["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        isolated,
        ["libfuzzaug_sensei.so", "libfuzzaug_spatial.so"],
        "{json}"
    );

    crashy(&dir);
    let c = config(&dir, 2, "name = \"crashy\"\nhow = \"exit\"", "[]");
    let plugin_dir = dir.path().to_str().unwrap();
    let run = [
        "run",
        c.to_str().unwrap(),
        "--quiet",
        "--plugin-dir",
        plugin_dir,
    ];
    let err = fuzzaug(&dir, &[&run[..], &["--isolate", "crashy"]].concat())
        .fails()
        .to_string();
    assert!(
        err.contains("failed in `propose`: its isolated process died: exited with status 3"),
        "{err}"
    );
    let err = fuzzaug(&dir, &[&run[..], &["--isolate", "crashyy"]].concat())
        .fails()
        .to_string();
    assert!(
        err.contains("--isolate crashyy: `crashyy` is neither a plugin library nor a component on the plugin search path; did you mean `crashy`?"),
        "{err}"
    );
}
