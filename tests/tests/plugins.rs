//! The plugin registry against real built libraries: listing, and every way a library can be
//! refused, each with its message and a clean exit.
use fuzzaug::plugins::{Library, Registry, RegistryError, SearchPath};
use fuzzaug_sdk::{ComponentContext, Split};
use fuzzaug_tests::{fixture, foreign_shared_library, fuzzaug, fuzzaug_with, plugin, Run, Scratch};
use serde_json::Value;
use std::{os::unix::fs::PermissionsExt, path::PathBuf};

#[test]
fn plugins_json_lists_the_bundled_components_with_their_libraries() {
    let out = fuzzaug(&["plugins", "--json"]);
    let v: Value = serde_json::from_str(out.ok()).expect("valid JSON");
    let comps = v["components"].as_array().unwrap();
    for (kind, name, lib) in [
        ("dataset", "shapes", "shapes"),
        ("transform", "rotation", "spatial"),
        ("strategy", "standard", "baselines"),
    ] {
        let c = comps
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {v}"));
        assert_eq!(c["kind"], kind);
        let expected = plugin(lib).canonicalize().unwrap();
        assert_eq!(c["library"].as_str().unwrap(), expected.to_str().unwrap());
        assert!(!c["summary"].as_str().unwrap().is_empty());
        assert!(c["parameters"].is_array());
    }
    let shapes = comps.iter().find(|c| c["name"] == "shapes").unwrap();
    assert!(shapes["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "train_size" && p["type"] == "integer"));
    let libs = v["libraries"].as_array().unwrap();
    assert!(libs
        .iter()
        .all(|l| l["fingerprint"]["sdk"] == "2.0.0" && l["sha256"].as_str().unwrap().len() == 64));
}

#[test]
fn plugins_text_listing_names_kind_and_library() {
    let out = fuzzaug(&["plugins"]);
    let text = out.ok();
    assert!(text.contains("transform  rotation"), "{text}");
    assert!(text.contains("libfuzzaug_spatial.so"), "{text}");
}

/// `fuzzaug plugins --plugin-dir DIR`, which must fail cleanly; its stderr.
fn list_failing(dir: &Scratch) -> String {
    fuzzaug(&["plugins", "--plugin-dir", dir.path().to_str().unwrap()])
        .fails()
        .to_string()
}

/// `fuzzaug plugins --plugin-dir DIR` with one bad library in DIR: the listing goes on (the
/// bundled components are listed), says the library was refused and why, and warns; the
/// listing's text about the refused library. `plugins --check` on it fails with the same
/// message.
fn list_refused(dir: &Scratch) -> String {
    let run = fuzzaug(&["plugins", "--plugin-dir", dir.path().to_str().unwrap()]);
    let out = run.ok();
    assert!(out.contains("transform  rotation"), "{out}");
    let (_, refused) = out
        .split_once("refused libraries (their components are not available):\n")
        .unwrap_or_else(|| panic!("no refused library listed:\n{out}"));
    assert!(
        run.stderr.starts_with("[WARN ] skipping plugin library: "),
        "{}",
        run.stderr
    );
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with(".so"))
        .unwrap();
    let check = fuzzaug(&["plugins", "--check", file.to_str().unwrap()]);
    let err = check.fails();
    let first = refused.lines().next().unwrap().trim_start();
    assert!(
        err.starts_with(&format!("error: {first}")),
        "{err}\n---\n{refused}"
    );
    refused.to_string()
}

#[test]
fn a_shared_library_that_is_not_a_plugin_is_refused() {
    let dir = Scratch::new();
    let f = dir.add(&foreign_shared_library(), "libfuzzaug_x.so");
    let err = list_refused(&dir);
    let path = f.canonicalize().unwrap();
    assert!(
        err.contains(&format!(
            "{}: not a fuzzaug plugin: it exports no fuzzaug root module",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn a_truncated_plugin_is_refused() {
    let dir = Scratch::new();
    let f = dir.add(&plugin("spatial"), "libfuzzaug_cut.so");
    let len = std::fs::metadata(&f).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    let err = list_refused(&dir);
    let path = f.canonicalize().unwrap();
    assert!(
        err.contains(&format!(
            "{}: not a loadable shared library: truncated file: its ",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn an_empty_plugin_file_is_refused() {
    let dir = Scratch::new();
    let f = dir.write("libfuzzaug_empty.so", "");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = list_refused(&dir);
    assert!(
        err.contains("libfuzzaug_empty.so: not a loadable shared library: "),
        "{err}"
    );
}

#[test]
fn a_plugin_with_a_wrong_fingerprint_is_refused_naming_each_field() {
    let dir = Scratch::new();
    let f = dir.add(&fixture("bad_fingerprint"), "libfuzzaug_stale.so");
    let err = list_refused(&dir);
    let path = f.canonicalize().unwrap();
    assert!(
        err.contains(&format!(
            "{}: plugin built for a different fuzzaug build:",
            path.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("field `tch`: expected 0.24.0, found 0.23.0"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "field `libtorch`: expected {}, found 2.10.0+cpu",
            fuzzaug::runtime::built_libtorch()
        )),
        "{err}"
    );
    // `plugins --check` reports the same for one library.
    let err = fuzzaug(&["plugins", "--check", f.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(err.contains("field `libtorch`"), "{err}");
}

#[test]
fn two_libraries_offering_one_component_are_refused_naming_both() {
    let dir = Scratch::new();
    let copy = dir.add(&plugin("spatial"), "libfuzzaug_spatial2.so");
    let err = list_failing(&dir);
    let a = copy.canonicalize().unwrap();
    let b = plugin("spatial").canonicalize().unwrap();
    assert!(
        err.contains(&format!(
            "component `rotation` is offered by two plugin libraries: {} and {}",
            a.display(),
            b.display()
        )),
        "{err}"
    );
}

#[test]
fn the_same_file_reached_twice_loads_once() {
    let bin = fuzzaug_tests::bin_dir();
    let out = fuzzaug(&["plugins", "--json", "--plugin-dir", bin.to_str().unwrap()]);
    let v: Value = serde_json::from_str(out.ok()).unwrap();
    let n = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "rotation")
        .count();
    assert_eq!(n, 1);
}

#[test]
fn group_or_world_writable_plugins_are_refused() {
    for (mode, who) in [
        (0o775, "group"),
        (0o757, "others"),
        (0o777, "group and others"),
    ] {
        let dir = Scratch::new();
        let f = dir.add(&plugin("baselines"), "libfuzzaug_open.so");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = list_refused(&dir);
        let path = f.canonicalize().unwrap();
        assert!(
            err.contains(&format!(
                "{}: refusing to load a plugin file writable by {who} (mode {mode:o})",
                path.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn a_missing_plugin_dir_is_an_error() {
    let err = fuzzaug(&["plugins", "--plugin-dir", "/nonexistent/plugins"])
        .fails()
        .to_string();
    assert!(
        err.contains("plugin folder /nonexistent/plugins (from --plugin-dir) cannot be read"),
        "{err}"
    );
}

/// `fuzzaug check` on a config using the `panicky` fixture, panicking in `panic_in`, with
/// `RUST_LOG=log`. Returns the run and the canonical path of the plugin file.
fn check_panicky(panic_in: &str, log: &str) -> (Run, PathBuf) {
    let dir = Scratch::new();
    let lib = dir.add(&fixture("panicky"), "libfuzzaug_panicky.so");
    let text = format!("name = \"p\"\n[dataset]\nname = \"panicky\"\npanic_in = \"{panic_in}\"\n");
    let cfg = dir.write("c.toml", &text);
    let args = [
        "check",
        cfg.to_str().unwrap(),
        "--plugin-dir",
        dir.path().to_str().unwrap(),
    ];
    (fuzzaug_with(&args, None, log), lib.canonicalize().unwrap())
}

#[test]
fn a_panicking_plugin_method_is_reported_through_the_cli() {
    let (run, lib) = check_panicky("info", "warn");
    let err = run.fails();
    let expected = format!(
        "plugin {}: `panicky` panicked in `info`: deliberate panic in info (at ",
        lib.display()
    );
    assert!(err.contains(&expected), "{err}");
}

#[test]
fn plugin_log_records_reach_the_host_logger() {
    let (out, _) = check_panicky("info", "debug");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("panicky dataset built; it will panic in `info`"),
        "{}",
        out.stderr
    );
    // The SDK's panic hook logs the panic at debug level instead of printing to stderr itself.
    assert!(
        out.stderr
            .contains("plugin panic: deliberate panic in info"),
        "{}",
        out.stderr
    );
    let (quiet, _) = check_panicky("info", "warn");
    assert!(
        !quiet.stderr.contains("panicky dataset built"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn a_panic_in_a_constructor_is_reported() {
    let (run, _) = check_panicky("new", "warn");
    let err = run.fails();
    assert!(
        err.contains("`panicky` panicked in `new`: deliberate panic in new"),
        "{err}"
    );
}

#[test]
fn after_a_plugin_panic_the_host_keeps_calling_it() {
    let dir = Scratch::new();
    let lib = dir.add(&fixture("panicky"), "libfuzzaug_panicky.so");
    let mut path = SearchPath::default();
    path.push(dir.path().to_path_buf(), "test");
    let registry = Registry::discover(&path, &Default::default()).unwrap();
    let ctx = ComponentContext {
        seed: 1,
        config_dir: ".".into(),
    };
    let settings: toml::Table = "panic_in = \"read\"".parse().unwrap();
    let mut ds = registry.dataset("panicky", &settings, &ctx).unwrap();
    for _ in 0..3 {
        let err = ds.read(Split::Train, 0, 2).unwrap_err();
        assert!(err.error.panicked);
        assert_eq!(err.method, "read");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "plugin {}: `panicky` panicked in `read`: deliberate panic in read (at ",
                lib.canonicalize().unwrap().display()
            )),
            "{text}"
        );
        // The next call on the same object still works.
        assert_eq!(ds.info().unwrap().train_len, 4);
    }
}

#[test]
fn library_load_reports_components_and_fingerprint() {
    let lib = Library::load(&plugin("shapes"), None).unwrap();
    assert_eq!(lib.name(), "shapes");
    assert_eq!(lib.fingerprint.sdk.as_str(), fuzzaug_sdk::SDK_VERSION);
    assert_eq!(
        lib.fingerprint.libtorch.as_str(),
        "none",
        "shapes needs no libtorch"
    );
    assert_eq!(lib.components.len(), 1);
}

#[test]
fn a_wrong_sha256_pin_is_refused() {
    let dir = Scratch::new();
    dir.add(&plugin("baselines"), "libfuzzaug_pinned.so");
    let mut path = SearchPath::default();
    path.push(dir.path().to_path_buf(), "test");
    let pins = [("pinned".to_string(), "0".repeat(64))]
        .into_iter()
        .collect();
    let err = match Registry::discover(&path, &pins) {
        Err(RegistryError::Load(e)) => e.to_string(),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a wrong pin must be refused"),
    };
    assert!(
        err.contains(&format!(
            "but the config pins `pinned` to {} ([plugins] sha256)",
            "0".repeat(64)
        )),
        "{err}"
    );
}

/// `rotation` as `plugins/spatial/src/lib.rs` declares it: limits ±180, identity 0, degrees,
/// default range ±30 with step 1, mutation step 6 (12 when the loss is tiny).
const ROTATION_LINE: &str = "gene rotation (geometric): limits -180..180, identity 0, unit degrees, default range -30..30, default step 1, mutation step 6 (12 when the loss is tiny)";

#[test]
fn plugins_text_shows_each_genes_limits_identity_unit_and_defaults() {
    let text = fuzzaug(&["plugins"]).ok().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("transform  rotation "))
        .unwrap_or_else(|| panic!("{text}"));
    // The component line, where it comes from, then its gene.
    assert!(lines[at + 1].trim_start().starts_with("from "), "{text}");
    assert_eq!(lines[at + 2].trim_start(), ROTATION_LINE, "{text}");
    assert!(lines[at + 2].starts_with(&" ".repeat(27)), "{text}");
    // Every transform has its gene line; no other kind has one.
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("transform ") {
            let name = l.split_whitespace().nth(1).unwrap();
            assert!(
                lines[i + 2]
                    .trim_start()
                    .starts_with(&format!("gene {name} (")),
                "{name}: {text}"
            );
        } else if l.trim_start().starts_with("gene ") {
            assert!(lines[i - 2].starts_with("transform "), "{text}");
        }
    }
    // A gene without a default step would say so: zoom's is 0.01, contrast's 0.025.
    assert!(text.contains("gene zoom (geometric): limits 0.25..4, identity 1, unit factor, default range 0.9..1.1, default step 0.01,"), "{text}");
}

#[test]
fn plugins_check_shows_the_genes_of_one_library() {
    let lib = plugin("spatial");
    let text = fuzzaug(&["plugins", "--check", lib.to_str().unwrap()])
        .ok()
        .to_string();
    assert!(
        text.lines().any(|l| l.trim_start() == ROTATION_LINE),
        "{text}"
    );
}

#[test]
fn plugins_json_shows_each_genes_limits_identity_unit_and_defaults() {
    let out = fuzzaug(&["plugins", "--json"]);
    let v: Value = serde_json::from_str(out.ok()).expect("valid JSON");
    let comps = v["components"].as_array().unwrap();
    let rotation = comps.iter().find(|c| c["name"] == "rotation").unwrap();
    assert_eq!(
        rotation["gene"],
        serde_json::json!({
            "name": "rotation",
            "kind": "geometric",
            "unit": "degrees",
            "limits": [-180.0, 180.0],
            "identity": 0.0,
            "default_range": [-30.0, 30.0],
            "default_step": 1.0,
            "mutation_step": 6.0,
            "low_loss_mutation_step": 12.0,
        }),
        "{rotation}"
    );
    // The other fields stay.
    assert_eq!(rotation["kind"], "transform");
    assert!(rotation["parameters"].is_array());
    // Only transforms have a gene; the library listing carries it too.
    for c in comps {
        assert_eq!(c.get("gene").is_some(), c["kind"] == "transform", "{c}");
    }
    let spatial = v["libraries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["path"]
                .as_str()
                .unwrap()
                .ends_with("libfuzzaug_spatial.so")
        })
        .unwrap();
    let lib_rotation = spatial["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rotation")
        .unwrap();
    assert_eq!(lib_rotation["gene"], rotation["gene"]);
}

#[test]
fn plugins_json_genes_are_what_each_transform_reports() {
    // Every bundled transform's listing equals the TransformInfo its plugin returns when the
    // host builds it for a config.
    let out = fuzzaug(&["plugins", "--json"]);
    let v: Value = serde_json::from_str(out.ok()).expect("valid JSON");
    let mut path = SearchPath::default();
    path.push(fuzzaug_tests::bin_dir(), "test");
    let registry = Registry::discover(&path, &Default::default()).unwrap();
    let ctx = ComponentContext {
        seed: 7,
        config_dir: ".".into(),
    };
    let transforms: Vec<&Value> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "transform")
        .collect();
    assert!(transforms.len() >= 9, "{transforms:?}");
    for c in transforms {
        let name = c["name"].as_str().unwrap();
        let info = registry
            .transform(name, &toml::Table::new(), &ctx)
            .unwrap()
            .info()
            .unwrap();
        let g = &c["gene"];
        assert_eq!(g["name"], info.gene.as_str(), "{c}");
        assert_eq!(g["unit"], info.unit.as_str(), "{c}");
        assert_eq!(g["kind"], info.kind.as_str(), "{c}");
        assert_eq!(g["limits"], serde_json::json!(info.limits), "{c}");
        assert_eq!(g["identity"], info.identity, "{c}");
        assert_eq!(
            g["default_range"],
            serde_json::json!(info.default_range),
            "{c}"
        );
        assert_eq!(
            g["default_step"],
            serde_json::json!(info.default_step.into_option()),
            "{c}"
        );
        assert_eq!(g["mutation_step"], info.mutation_step, "{c}");
        assert_eq!(
            g["low_loss_mutation_step"], info.low_loss_mutation_step,
            "{c}"
        );
    }
}
