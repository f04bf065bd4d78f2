//! The out-of-tree plugin promise: `fuzzaug new-plugin` writes crates that build outside the
//! workspace with cargo and load into the already-built `fuzzaug`, which is never rebuilt here.
use fuzzaug_tests::{fuzzaug, Scratch};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Builds the crate in `dir` with cargo, as its author would, and returns its `.so`. The
/// workspace's Cargo.lock pins the same dependency versions (so it builds offline), and one
/// target folder shared by every out-of-tree build keeps repeated runs incremental.
fn cargo_build(dir: &Path, lib: &str) -> PathBuf {
    std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = repo().join("target/out-of-tree-plugins");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    target.join(format!("debug/lib{lib}.so"))
}

/// Runs the unit tests the scaffold wrote into the crate in `dir` (they use the SDK's `testing`
/// feature, a dev-dependency), as its author's first `cargo test` would; call after
/// [`cargo_build`], which put the workspace's Cargo.lock there.
fn cargo_test(dir: &Path) {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--offline", "--quiet"])
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            repo().join("target/out-of-tree-plugins"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok"),
        "cargo test in {} failed:\n{stdout}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Scaffolds `name` of `kind` into `parent/name` with extra `args`; returns the crate folder.
fn scaffold(parent: &Path, name: &str, kind: &str, args: &[&str]) -> PathBuf {
    let dir = parent.join(name);
    let mut all = vec![
        "new-plugin",
        name,
        "--kind",
        kind,
        "--dir",
        dir.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = fuzzaug(&all);
    let stdout = out.ok();
    assert!(
        stdout.contains(&format!("created the {kind} plugin `{name}`")),
        "{stdout}"
    );
    dir
}

fn install(plugins: &Path, so: &Path) {
    let dst = plugins.join(so.file_name().unwrap());
    std::fs::copy(so, &dst).unwrap();
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn summary(run_dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn scaffolded_plugins_of_every_kind_build_out_of_tree_and_run_in_the_built_host() {
    let work = Scratch::new();
    let plugins = work.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for (name, kind, lib) in [
        ("worst-rot", "strategy", "fuzzaug_worst_rot"),
        ("stretch_x", "transform", "fuzzaug_stretch_x"),
        ("stripes", "dataset", "fuzzaug_stripes"),
    ] {
        let dir = scaffold(work.path(), name, kind, &[]);
        for f in ["Cargo.toml", "build.rs", "src/lib.rs", "README.md"] {
            assert!(dir.join(f).is_file(), "{name}: {f}");
        }
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()).unwrap();
        let deps = manifest["dependencies"].as_table().unwrap();
        assert!(deps.contains_key("fuzzaug-sdk"), "{deps:?}");
        for pinned in ["tch", "torch-sys", "abi_stable"] {
            assert!(
                !deps.contains_key(pinned),
                "the {pinned} pin comes from the SDK"
            );
        }
        assert!(
            std::fs::read_to_string(dir.join("README.md"))
                .unwrap()
                .contains(&format!("target/release/lib{lib}.so")),
            "the README says where the library lands"
        );
        install(&plugins, &cargo_build(&dir, lib));
        cargo_test(&dir);
    }
    let p = plugins.to_str().unwrap();

    let listed: Value =
        serde_json::from_str(fuzzaug(&["plugins", "--plugin-dir", p, "--json"]).ok()).unwrap();
    let names: Vec<(String, String)> = listed["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["library"].as_str().unwrap().starts_with(p))
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("dataset".to_string(), "stripes".to_string()),
            ("transform".to_string(), "stretch_x".to_string()),
            ("strategy".to_string(), "worst-rot".to_string())
        ]
    );
    let check = fuzzaug(&[
        "plugins",
        "--check",
        plugins.join("libfuzzaug_worst_rot.so").to_str().unwrap(),
    ]);
    let out = check.ok();
    assert!(out.contains("compatible with this fuzzaug"), "{out}");
    assert!(out.contains("sdk         2.0.0"), "{out}");

    // One epoch on `shapes` with the new strategy and the new transform.
    let config = work.write(
        "new.toml",
        &format!(
            r#"name = "new"
seed = 3
device = "cpu"
output_dir = "{runs}"
[dataset]
name = "shapes"
train_size = 256
test_size = 64
[model]
arch = "small-cnn"
[train]
epochs = 1
batch_size = 64
[[transforms]]
name = "rotation"
range = [-10, 10]
step = 5
[[transforms]]
name = "stretch_x"
[strategy]
name = "worst-rot"
k = 3
[eval]
robust_subset = 16
"#,
            runs = work.path().join("runs").display()
        ),
    );
    let cfg = config.to_str().unwrap();
    fuzzaug(&["run", cfg, "--plugin-dir", p, "--quiet"]).ok();
    let run_dir = work.path().join("runs/new");
    let s = summary(&run_dir);
    assert_eq!(s["strategy"], "worst-rot");
    assert_eq!(s["epochs"], 1);
    let metrics = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = metrics.lines().nth(1).unwrap().split(',').collect();
    let scored = header
        .iter()
        .position(|h| *h == "scored_candidates")
        .unwrap();
    assert_eq!(
        row[scored], "768",
        "k = 3 candidates for each of 256 images"
    );
    let resolved = std::fs::read_to_string(run_dir.join("config.toml")).unwrap();
    assert!(resolved.contains("stretch_x"), "{resolved}");
    // The robust grid covers both genes: rotation {-10,..,10} by 5 × stretch_x {0.8, 1, 1.2}.
    assert_eq!(s["robust_grid_size"].as_u64(), Some(3 * 3));

    // The new dataset trains with a bundled strategy.
    fuzzaug(&[
        "run",
        cfg,
        "--plugin-dir",
        p,
        "--quiet",
        "--set",
        "name=stripes-run",
        "--set",
        "dataset={ name = \"stripes\", train_size = 128, test_size = 32, size = 16 }",
        "--set",
        "strategy={ name = \"standard\" }",
    ])
    .ok();
    let s = summary(&work.path().join("runs/stripes-run"));
    assert_eq!(s["dataset"], "stripes");
    assert!(s["test_acc"].as_f64().unwrap() >= 0.0);
}

#[test]
fn a_plugin_built_against_another_sdk_is_refused_with_both_versions() {
    // A changed SDK: a copy of the workspace's SDK crates under a newer version number.
    let work = Scratch::new();
    let copy = work.path().join("fuzzaug-next");
    let src = repo();
    copy_tree(&src.join("sdk"), &copy.join("sdk"));
    let mut root: toml::Table =
        toml::from_str(&std::fs::read_to_string(src.join("Cargo.toml")).unwrap()).unwrap();
    let ws = root["workspace"].as_table_mut().unwrap();
    ws.insert(
        "members".into(),
        toml::Value::Array(vec!["sdk".into(), "sdk/build".into()]),
    );
    ws["dependencies"]["fuzzaug-sdk"]
        .as_table_mut()
        .unwrap()
        .insert("version".into(), "2.1.0".into());
    std::fs::write(copy.join("Cargo.toml"), toml::to_string(&root).unwrap()).unwrap();
    let manifest = copy.join("sdk/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("version = \"2.0.0\""));
    std::fs::write(
        &manifest,
        text.replace("version = \"2.0.0\"", "version = \"2.1.0\""),
    )
    .unwrap();

    let dir = scaffold(
        work.path(),
        "next-gen",
        "strategy",
        &["--sdk-path", copy.join("sdk").to_str().unwrap()],
    );
    let plugins = work.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    install(&plugins, &cargo_build(&dir, "fuzzaug_next_gen"));
    let lib = plugins.join("libfuzzaug_next_gen.so");
    let err = fuzzaug(&["plugins", "--check", lib.to_str().unwrap()])
        .fails()
        .to_string();
    // Refused from its root module's declared version, before any of its functions is called.
    let refusal = format!(
        "{}: built against fuzzaug-sdk 2.1.0, but this fuzzaug loads only plugins built against fuzzaug-sdk 2.0.0 exactly (the SDK version is the ABI version). Rebuild the plugin against fuzzaug-sdk 2.0.0: point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version and rebuild",
        lib.canonicalize().unwrap().display()
    );
    assert!(err.starts_with(&format!("error: {refusal}")), "{err}");
    // On the search path it is listed as refused, the same way, and the others load.
    let out = fuzzaug(&["plugins", "--plugin-dir", plugins.to_str().unwrap()])
        .ok()
        .to_string();
    assert!(
        out.contains(&format!(
            "refused libraries (their components are not available):\n  {refusal}"
        )),
        "{out}"
    );
    assert!(out.contains("strategy   standard"), "{out}");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_tree(&e.path(), &dst);
            }
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

#[test]
fn bad_scaffold_requests_are_clear_errors() {
    let work = Scratch::new();
    let msg = fuzzaug(&["new-plugin", "My Plugin", "--kind", "strategy"])
        .fails()
        .to_string();
    assert!(
        msg.contains("plugin name `My Plugin`: use lowercase ASCII letters"),
        "{msg}"
    );
    let msg = fuzzaug(&["new-plugin", "rotation", "--kind", "transform"])
        .fails()
        .to_string();
    assert!(
        msg.contains("a transform named `rotation` already exists (")
            && msg.contains("libfuzzaug_spatial.so"),
        "{msg}"
    );
    let taken = work.write("keep.txt", "mine");
    let msg = fuzzaug(&[
        "new-plugin",
        "fresh",
        "--kind",
        "dataset",
        "--dir",
        taken.parent().unwrap().to_str().unwrap(),
    ])
    .fails()
    .to_string();
    assert!(
        msg.contains("exists and is not empty; choose another --dir"),
        "{msg}"
    );
    let msg = fuzzaug(&[
        "new-plugin",
        "fresh",
        "--kind",
        "dataset",
        "--dir",
        work.path().join("x").to_str().unwrap(),
        "--sdk-path",
        "/nonexistent",
    ])
    .fails()
    .to_string();
    assert!(
        msg.contains("/nonexistent does not hold fuzzaug-sdk"),
        "{msg}"
    );
    let out = fuzzaug(&["new-plugin", "x", "--kind", "strategy", "--sdk-rev", "abc"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--sdk-git"), "{}", out.stderr);
}
