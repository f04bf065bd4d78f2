//! Loading plugins from people one may not trust: what was checked is what is loaded, a library
//! that is no fuzzaug plugin (or one built to abort) is refused before any of its functions is
//! called, a failure with no error to return is contained, a stale library fails only what needs
//! it, and the SDK version rule holds both ways. One hostile fixture per failure, each asserting
//! fuzzaug's exit code and message.
use fuzzaug::plugins::{Library, PluginFile};
use fuzzaug_tests::{fixture, fuzzaug, fuzzaug_env, fuzzaug_with, plugin, Run, Scratch};
use serde_json::Value;
use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

/// `fuzzaug plugins --plugin-dir DIR`, which must succeed and list `file` as refused; its
/// standard output and error.
fn listed_as_refused(dir: &Path, file: &Path) -> (String, String) {
    let run = fuzzaug(&["plugins", "--plugin-dir", dir.to_str().unwrap()]);
    let out = run.ok().to_string();
    assert!(
        out.contains("refused libraries (their components are not available):"),
        "{out}"
    );
    let line = format!("  {}: ", file.display());
    assert!(
        out.contains(&line),
        "{file:?} not listed as refused:\n{out}"
    );
    assert!(
        run.stderr
            .contains(&format!("skipping plugin library: {}: ", file.display())),
        "{}",
        run.stderr
    );
    (out, run.stderr.clone())
}

/// `fuzzaug plugins --check FILE`, which must fail cleanly; its standard error.
fn check_fails(file: &Path, env: &[(&str, &str)]) -> String {
    let run = fuzzaug_env(
        &["plugins", "--check", file.to_str().unwrap()],
        None,
        "warn",
        env,
    );
    run.fails().to_string()
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_renamed_foreign_abi_stable_library_is_refused_without_calling_it() {
    let dir = Scratch::new();
    let f = dir.add(&fixture("foreign_abi"), "libfuzzaug_x.so");
    let err = check_fails(&f, &[]);
    assert!(
        err.starts_with(&format!(
            "error: {}: not a fuzzaug plugin: its abi_stable root module is `foreign module` (library `foreign`), not fuzzaug's `fuzzaug plugin` (library `fuzzaug`); nothing in it was called.",
            f.display()
        )),
        "{err}"
    );
    // The fixture's only function ends the process, saying so, when called.
    assert!(!err.contains("was called\n"), "{err}");
    let (out, stderr) = listed_as_refused(dir.path(), &f);
    assert!(out.contains("transform  rotation"), "{out}");
    assert!(!stderr.contains("fixture-foreign-abi:"), "{stderr}");
}

/// Builds `tests/fixtures/abort` as a cdylib with `-C panic=abort` (the workspace profiles say
/// unwind, and cargo allows no per-package `panic`), in the shared target folder; its path.
fn abort_fixture() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(&root)
        .args([
            "rustc",
            "--release",
            "-q",
            "-p",
            "fixture-abort",
            "--crate-type",
            "cdylib",
            "--",
            "-C",
            "panic=abort",
        ])
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the panic=abort fixture failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = target.join("release/libfixture_abort.so");
    assert!(lib.is_file(), "{} was not built", lib.display());
    lib
}

#[test]
fn a_library_built_with_panic_abort_is_refused_with_the_fix() {
    let dir = Scratch::new();
    let f = dir.add(&abort_fixture(), "libfuzzaug_abort.so");
    let err = check_fails(&f, &[]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: built with panic = \"abort\": a panic in it would end fuzzaug instead of becoming an error. Set `panic = \"unwind\"` (the default) in its Cargo profile (`[profile.release]`) and rebuild it",
            f.display()
        )
    );
    // A config asking for its dataset is told where it is and why it did not load; nothing in
    // it ran (its `info` would have aborted the process).
    let cfg = dir.write("c.toml", "name = \"a\"\n[dataset]\nname = \"fragile\"\n");
    let args = [
        "check",
        cfg.to_str().unwrap(),
        "--plugin-dir",
        dir.path().to_str().unwrap(),
    ];
    // (At log level `error`: the warning about the refused library would come first.)
    let run = fuzzaug_with(&args, None, "error");
    let err = run.fails();
    assert!(err.contains("unknown dataset `fragile`"), "{err}");
    assert!(
        err.contains(&format!(
            "`fragile` may be in {}, which was not loaded: {}: built with panic = \"abort\"",
            f.display(),
            f.display()
        )),
        "{err}"
    );
}

/// A tiny `shapes` run on CPU with `strategy` and `transforms` (TOML of `[[transforms]]`
/// tables), plugin folder `plugins`; the run and its directory.
fn tiny_run(dir: &Scratch, strategy: &str, transforms: &str, plugins: &Path) -> (Run, PathBuf) {
    let text = format!(
        "name = \"t\"\nseed = 3\ndevice = \"cpu\"\noutput_dir = \"runs\"\n\
         [dataset]\nname = \"shapes\"\ntrain_size = 64\ntest_size = 32\nsize = 16\n\
         [train]\nepochs = 2\nbatch_size = 32\n\
         {transforms}\n[strategy]\nname = \"{strategy}\"\n[eval]\nrobust_every = 0\nrobust_subset = 8\n"
    );
    let cfg = dir.write("c.toml", &text);
    let run = fuzzaug_with(
        &[
            "run",
            cfg.to_str().unwrap(),
            "--quiet",
            "--plugin-dir",
            plugins.to_str().unwrap(),
        ],
        Some(dir.path()),
        "warn",
    );
    (run, dir.path().join("runs/t"))
}

fn assert_intact(run_dir: &Path, epochs: usize) {
    for f in [
        "config.toml",
        "metrics.csv",
        "summary.json",
        "checkpoints/last",
    ] {
        assert!(run_dir.join(f).is_file(), "{f} missing in {run_dir:?}");
    }
    let rows = std::fs::read_to_string(run_dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 1 + epochs, "metrics.csv rows");
}

#[test]
fn a_panic_in_drop_is_logged_and_the_run_completes() {
    let dir = Scratch::new();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::copy(
        fixture("contained"),
        plugins.join("libfuzzaug_contained.so"),
    )
    .unwrap();
    chmod(&plugins.join("libfuzzaug_contained.so"), 0o755);
    let transforms = "[[transforms]]\nname = \"rotation\"\nrange = [-10, 10]\nstep = 10\n\
                      [[transforms]]\nname = \"drop_bomb_gain\"\n";
    let (run, run_dir) = tiny_run(&dir, "drop_bomb", transforms, &plugins);
    run.ok();
    for who in ["drop_bomb", "drop_bomb_gain"] {
        let line = format!(
            "`{who}` panicked while being dropped: deliberate panic while dropping {who} (at "
        );
        assert!(run.stderr.contains(&line), "{who}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("panicked at"), "{}", run.stderr);
    assert_intact(&run_dir, 2);
    // The dataset kind too, through `check`.
    let cfg = dir.write(
        "d.toml",
        "name = \"d\"\n[dataset]\nname = \"drop_bomb_data\"\n",
    );
    let run = fuzzaug(&[
        "check",
        cfg.to_str().unwrap(),
        "--plugin-dir",
        plugins.to_str().unwrap(),
    ]);
    assert!(run.ok().contains(": OK"), "{}", run.stdout);
    assert!(
        run.stderr.contains("`drop_bomb_data` panicked while being dropped: deliberate panic while dropping drop_bomb_data (at "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_panic_while_formatting_a_log_record_drops_only_that_record() {
    let dir = Scratch::new();
    dir.add(&fixture("contained"), "libfuzzaug_contained.so");
    let cfg = dir.write("c.toml", "name = \"l\"\n[dataset]\nname = \"log_bomb\"\n");
    let run = fuzzaug(&[
        "check",
        cfg.to_str().unwrap(),
        "--plugin-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(run.ok().contains(": OK"), "{}", run.stdout);
    assert!(
        run.stderr.contains("a log record of the plugin (target `fixture_contained`) was dropped: formatting it panicked: deliberate panic while formatting a log record (at "),
        "{}",
        run.stderr
    );
    // The plugin's next record arrives: the panic ended neither the call nor the logger.
    assert!(
        run.stderr.contains("log_bomb is still answering"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_swapped_between_check_and_load_is_not_what_loads() {
    let dir = Scratch::new();
    let f = dir.add(&plugin("spatial"), "libfuzzaug_swapped.so");
    let spatial_sha = fuzzaug::plugins::sha256_hex(&std::fs::read(&f).unwrap());
    let checked = PluginFile::open(&f, Some(&spatial_sha)).unwrap();
    // Between the check and the load, the path comes to name another library (a rename is
    // atomic: what an attacker with write access, or `cp` onto a temporary and `mv`, does).
    let other = dir.add(&plugin("baselines"), "incoming");
    std::fs::rename(&other, &f).unwrap();
    let baselines_sha = fuzzaug::plugins::sha256_hex(&std::fs::read(&f).unwrap());
    assert_ne!(spatial_sha, baselines_sha);
    let lib = checked.load().unwrap();
    // What loads is what was checked and hashed: spatial's components, spatial's hash.
    assert_eq!(lib.sha256, spatial_sha);
    let names: Vec<&str> = lib.components.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"rotation"), "{names:?}");
    assert!(!names.contains(&"standard"), "{names:?}");
    // Loading the path now gets the new file, through its own checks.
    let now = Library::load(&f, None).unwrap();
    assert_eq!(now.sha256, baselines_sha);
    assert!(now.components.iter().any(|c| c.name.as_str() == "standard"));
}

#[test]
fn a_plugin_in_a_group_writable_folder_is_refused_and_a_sticky_one_is_fine() {
    let dir = Scratch::new();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    let f = open.join("libfuzzaug_open.so");
    std::fs::copy(plugin("baselines"), &f).unwrap();
    chmod(&f, 0o755);
    chmod(&open, 0o775);
    let folder = open.canonicalize().unwrap();
    let f = f.canonicalize().unwrap();
    let err = check_fails(&f, &[]);
    assert!(
        err.starts_with(&format!(
            "error: {}: refusing to load a plugin from a folder writable by group: {} (mode 775) lets them replace the file. Fix it with `chmod go-w {}`",
            f.display(),
            folder.display(),
            folder.display()
        )),
        "{err}"
    );
    let (out, _) = listed_as_refused(&folder, &f);
    assert!(out.contains("strategy   standard"), "{out}");
    assert!(out.contains("lets them replace the file"), "{out}");
    // A sticky folder (like /tmp) protects a file you own.
    chmod(&open, 0o1777);
    let out = fuzzaug(&["plugins", "--check", f.to_str().unwrap()]);
    assert!(
        out.ok().contains("compatible with this fuzzaug"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_symlinked_plugin_is_checked_and_listed_as_its_target() {
    let dir = Scratch::new();
    let links = dir.path().join("links");
    let real = dir.path().join("real");
    std::fs::create_dir(&links).unwrap();
    std::fs::create_dir(&real).unwrap();
    let target = real.join("libfuzzaug_real.so");
    std::fs::copy(fixture("panicky"), &target).unwrap();
    chmod(&target, 0o755);
    std::os::unix::fs::symlink(&target, links.join("libfuzzaug_link.so")).unwrap();
    let target = target.canonicalize().unwrap();
    // The checks apply to the target and its folders, not to the link's.
    chmod(&real, 0o775);
    let (out, _) = listed_as_refused(&links, &target);
    assert!(
        out.contains(&format!(
            "refusing to load a plugin from a folder writable by group: {}",
            real.canonicalize().unwrap().display()
        )),
        "{out}"
    );
    chmod(&real, 0o755);
    let run = fuzzaug(&["plugins", "--json", "--plugin-dir", links.to_str().unwrap()]);
    let v: Value = serde_json::from_str(run.ok()).unwrap();
    assert!(
        v["libraries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["path"] == target.to_str().unwrap()),
        "{v}"
    );
    assert_eq!(v["refused"], serde_json::json!([]));
}

/// The SHA-256 of a bundled plugin.
fn sha_of(name: &str) -> String {
    fuzzaug::plugins::sha256_hex(&std::fs::read(plugin(name)).unwrap())
}

#[test]
fn only_pinned_loads_nothing_but_the_pinned_libraries() {
    let dir = Scratch::new();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let neighbour = plugins.join("libfuzzaug_contained.so");
    std::fs::copy(fixture("contained"), &neighbour).unwrap();
    chmod(&neighbour, 0o755);
    let neighbour = neighbour.canonicalize().unwrap();
    let pins = format!(
        "[plugins]\nonly_pinned = true\nsha256 = {{ shapes = \"{}\", spatial = \"{}\", baselines = \"{}\" }}\n",
        sha_of("shapes"),
        sha_of("spatial"),
        sha_of("baselines")
    );
    let base = "name = \"p\"\nplugin_dirs = [\"plugins\"]\n[dataset]\nname = \"shapes\"\n\
                [[transforms]]\nname = \"rotation\"\n";
    let cfg = dir.write("c.toml", &format!("{base}{pins}"));
    let run = fuzzaug_with(&["check", cfg.to_str().unwrap()], None, "info");
    assert!(run.ok().contains(": OK"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "skipping plugin {}: `[plugins] only_pinned` is set and it has no pin in `[plugins] sha256`",
            neighbour.display()
        )),
        "{}",
        run.stderr
    );
    // Unpinned bundled plugins are skipped too: their components are not there.
    let cfg = dir.write(
        "w.toml",
        &format!("{base}[strategy]\nname = \"drop_bomb\"\n{pins}"),
    );
    let err = fuzzaug(&["check", cfg.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(err.contains("unknown strategy `drop_bomb`"), "{err}");
    assert!(
        err.contains(&format!(
            "`drop_bomb` may be in {}, which was not loaded: {}: skipped: `[plugins] only_pinned` loads only the libraries pinned in `[plugins] sha256`, and this one is not pinned",
            neighbour.display(),
            neighbour.display()
        )),
        "{err}"
    );
    // Without only_pinned, a pin does not stop the neighbour from loading.
    let cfg = dir.write(
        "n.toml",
        &format!(
            "{base}[strategy]\nname = \"drop_bomb\"\n[plugins]\nsha256 = {{ shapes = \"{}\" }}\n",
            sha_of("shapes")
        ),
    );
    let run = fuzzaug(&["check", cfg.to_str().unwrap()]);
    assert!(run.ok().contains("strategy  drop_bomb"), "{}", run.stdout);
    // only_pinned without a pin would load nothing: refused where it is written.
    let cfg = dir.write("e.toml", &format!("{base}[plugins]\nonly_pinned = true\n"));
    let err = fuzzaug(&["check", cfg.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(
        err.contains("`plugins.only_pinned` loads only the libraries pinned in `[plugins] sha256`, but it pins none, so no plugin would load"),
        "{err}"
    );
    assert!(err.contains("e.toml:"), "{err}");
}

#[test]
fn a_relative_plugin_path_from_the_environment_is_refused() {
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    let run = fuzzaug_env(
        &["plugins"],
        Some(dir.path()),
        "warn",
        &[("FUZZAUG_PLUGIN_PATH", "plugins")],
    );
    let err = run.fails();
    assert!(
        err.starts_with("error: FUZZAUG_PLUGIN_PATH entry `plugins` is a relative path, which would load whatever plugins the current folder holds; plugin folders from the environment must be absolute: use `$PWD/plugins` or the full path"),
        "{err}"
    );
    // The same folder, absolute, is fine.
    let abs = dir.path().join("plugins");
    let run = fuzzaug_env(
        &["plugins"],
        Some(dir.path()),
        "warn",
        &[("FUZZAUG_PLUGIN_PATH", abs.to_str().unwrap())],
    );
    run.ok();
}

/// A folder holding the `bad-fingerprint` fixture as `libfuzzaug_stale.so`, and a config using
/// `shapes` and `rotation` with strategy `strategy`.
fn stale_next_to_good_ones(strategy: &str, extra: &str) -> (Scratch, PathBuf, PathBuf) {
    let dir = Scratch::new();
    let stale = dir
        .add(&fixture("bad_fingerprint"), "libfuzzaug_stale.so")
        .canonicalize()
        .unwrap();
    let cfg = dir.write(
        "c.toml",
        &format!(
            "name = \"s\"\nplugin_dirs = [\".\"]\n[dataset]\nname = \"shapes\"\n\
             [[transforms]]\nname = \"rotation\"\n[strategy]\nname = \"{strategy}\"\n{extra}"
        ),
    );
    (dir, stale, cfg)
}

#[test]
fn a_stale_library_next_to_good_ones_fails_only_what_needs_it() {
    let (_dir, stale, cfg) = stale_next_to_good_ones("standard", "");
    let run = fuzzaug(&["check", cfg.to_str().unwrap()]);
    let out = run.ok();
    assert!(
        run.stderr.contains(&format!(
            "skipping plugin library: {}: plugin built for a different fuzzaug build:",
            stale.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        out.contains(&format!(
            "  not loaded {} (none of this config's components needs it: {}: plugin built for a different fuzzaug build:)",
            stale.display(),
            stale.display()
        )),
        "{out}"
    );
    // Asking for its component names it and why.
    let (_dir, stale, cfg) = stale_next_to_good_ones("stale", "");
    let err = fuzzaug_with(&["check", cfg.to_str().unwrap()], None, "error")
        .fails()
        .to_string();
    assert!(err.contains("unknown strategy `stale`; "), "{err}");
    assert!(
        err.contains(&format!(
            "`stale` may be in {}, which was not loaded: {}: plugin built for a different fuzzaug build:\n  field `tch`: expected 0.24.0, found 0.23.0",
            stale.display(),
            stale.display()
        )),
        "{err}"
    );
    // A pinned library that is refused stays an error, even unused.
    let sha = fuzzaug::plugins::sha256_hex(&std::fs::read(&stale).unwrap());
    let pin = format!("[plugins]\nsha256 = {{ stale = \"{sha}\" }}\n");
    let (_dir, stale, cfg) = stale_next_to_good_ones("standard", &pin);
    let err = fuzzaug(&["check", cfg.to_str().unwrap()])
        .fails()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "error: {}: plugin built for a different fuzzaug build:",
            stale.display()
        )),
        "{err}"
    );
}

#[test]
fn the_same_sdk_version_loads_and_another_is_refused_with_the_right_hint() {
    let dir = Scratch::new();
    let f = dir
        .add(&fixture("bad_fingerprint"), "libfuzzaug_stale.so")
        .canonicalize()
        .unwrap();
    let args = ["plugins", "--check", f.to_str().unwrap()];
    // The very fingerprint of this build: loads.
    let run = fuzzaug_env(&args, None, "warn", &[("FIXTURE_FINGERPRINT", "same")]);
    assert!(
        run.ok().contains("compatible with this fuzzaug"),
        "{}",
        run.stdout
    );
    // Another SDK version only: the hint is the SDK.
    let err = check_fails(&f, &[("FIXTURE_FINGERPRINT", "sdk")]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: plugin built for a different fuzzaug build:\n  field `sdk`: expected {sdk}, found 2.1.0\nRebuild the plugin against fuzzaug-sdk {sdk}, the SDK of this fuzzaug (it was built against fuzzaug-sdk 2.1.0): point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version (`make build` rebuilds the bundled plugins).",
            f.display(),
            sdk = fuzzaug_sdk::SDK_VERSION
        )
    );
    // Only the torch differs: the hint is the torch, not the SDK.
    let err = check_fails(&f, &[]);
    let torch = fuzzaug::runtime::built_libtorch();
    assert!(
        err.contains(&format!(
            "\nRebuild the plugin against libtorch {torch} (C++ ABI "
        )),
        "{err}"
    );
    assert!(!err.contains("fuzzaug-sdk"), "{err}");
}

#[test]
fn a_panic_in_fingerprint_is_a_refusal_not_an_abort() {
    let dir = Scratch::new();
    let f = dir
        .add(&fixture("bad_fingerprint"), "libfuzzaug_stale.so")
        .canonicalize()
        .unwrap();
    let err = check_fails(&f, &[("FIXTURE_FINGERPRINT", "panic")]);
    assert!(
        err.starts_with(&format!(
            "error: {}: plugin built for a different fuzzaug build:\n  field `sdk`: expected {}, found fingerprint() panicked: deliberate panic in fingerprint (at ",
            f.display(),
            fuzzaug_sdk::SDK_VERSION
        )),
        "{err}"
    );
    assert!(
        err.contains("\nRebuild the plugin against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug, with the fingerprint `export_plugin!` gives it"),
        "{err}"
    );
}
