//! The CLI skeleton: version, the quickstart config, validation errors with locations, and the
//! commands not built yet.
use fuzzaug_tests::{fuzzaug, fuzzaug_in, Scratch};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn version_names_libtorch_and_cuda_without_ld_library_path() {
    let out = fuzzaug(&["--version"]);
    let text = out.ok();
    assert!(text.starts_with("fuzzaug 0.1.0\n"), "{text}");
    assert!(text.contains("\nlibtorch 2.11.0"), "{text}");
    assert!(text.contains("\nCUDA "), "{text}");
}

#[test]
fn quickstart_configs_pass_check() {
    for (file, strategy) in [
        ("configs/quickstart.toml", "sensei"),
        ("configs/quickstart-standard.toml", "standard"),
    ] {
        let text = fuzzaug_in(&["check", file], Some(repo())).ok().to_string();
        assert!(text.contains(&format!("{file}: OK")), "{text}");
        assert!(text.contains("dataset   shapes"), "{text}");
        assert!(
            text.contains("gene      rotation [-20, 20] step 1 (41 values)"),
            "{text}"
        );
        assert!(text.contains(&format!("strategy  {strategy} (")), "{text}");
    }
}

fn check(text: &str, extra: &[&str]) -> String {
    let dir = Scratch::new();
    let cfg = dir.write("exp.toml", text);
    let mut args = vec!["check", cfg.to_str().unwrap()];
    args.extend_from_slice(extra);
    let err = fuzzaug(&args).fails().to_string();
    err.replace(cfg.to_str().unwrap(), "exp.toml")
}

#[test]
fn a_misspelt_key_is_located() {
    let err = check("name = \"x\"\n\n[train]\nepoch = 3\n", &[]);
    assert!(
        err.starts_with(
            "error: exp.toml:4:1: unknown key `epoch` in [train]; did you mean `epochs`? valid keys: epochs, batch_size, "
        ),
        "{err}"
    );
}

#[test]
fn a_wrong_type_is_located() {
    let err = check("name = \"x\"\n[train]\nbatch_size = \"big\"\n", &[]);
    assert!(
        err.starts_with(
            "error: exp.toml:3:14: `train.batch_size`: expected an integer ≥ 1, got \"big\""
        ),
        "{err}"
    );
}

#[test]
fn an_unknown_strategy_lists_the_valid_ones() {
    let err = check("name = \"x\"\n[strategy]\nname = \"stadnard\"\n", &[]);
    assert!(err.starts_with("error: exp.toml:3:8: unknown strategy `stadnard`; did you mean `standard`? valid strategy names: random, sensei, sensei-rw, sensei-t, standard, w10"), "{err}");
}

#[test]
fn an_unknown_transform_and_dataset_are_located() {
    let err = check("name = \"x\"\n[[transforms]]\nname = \"rotate\"\n", &[]);
    assert!(
        err.starts_with(
            "error: exp.toml:3:8: unknown transform `rotate`; did you mean `rotation`?"
        ),
        "{err}"
    );
    let err = check("name = \"x\"\n[dataset]\nname = \"cifar11\"\n", &[]);
    assert!(
        err.contains("exp.toml:3:8: unknown dataset `cifar11`"),
        "{err}"
    );
}

#[test]
fn a_plugin_setting_error_points_at_its_key() {
    let err = check(
        "name = \"x\"\n[dataset]\nname = \"shapes\"\ntrain_sise = 10\n",
        &[],
    );
    assert!(err.starts_with("error: exp.toml:4:14: dataset `shapes`: unknown key `train_sise`; did you mean `train_size`?"), "{err}");
    let err = check(
        "name = \"x\"\n[dataset]\nname = \"shapes\"\ntrain_size = \"many\"\n",
        &[],
    );
    assert!(err.starts_with("error: exp.toml:4:14: dataset `shapes`: `train_size` must be an integer, found a string"), "{err}");
}

#[test]
fn semantic_errors_are_located() {
    let err = check("name = \"x\"\n[train]\nepochs = 0\n", &[]);
    assert_eq!(
        err.trim(),
        "error: exp.toml:3:10: `train.epochs` must be at least 1"
    );
    let err = check("name = \"x\"\n[model]\narch = \"resnet-18\"\n", &[]);
    assert!(
        err.starts_with("error: exp.toml:3:8: unknown model `resnet-18`; did you mean `resnet18`?"),
        "{err}"
    );
    let err = check(
        "name = \"x\"\n[[transforms]]\nname = \"rotation\"\nrange = [-200, 10]\n",
        &[],
    );
    assert!(
        err.starts_with(
            "error: exp.toml:4:9: range [-200, 10] of `rotation` is outside its limits [-180, 180]"
        ),
        "{err}"
    );
    let err = check(
        "name = \"x\"\n[[transforms]]\nname = \"rotation\"\n[[transforms]]\nname = \"rotation\"\n",
        &[],
    );
    assert!(
        err.starts_with("error: exp.toml:5:8: transform `rotation` is listed twice"),
        "{err}"
    );
}

#[test]
fn set_overrides_are_applied_and_named_in_errors() {
    let err = check(
        "name = \"x\"\n[train]\nepochs = 3\n",
        &["--set", "train.epochs=0"],
    );
    assert!(
        err.starts_with(
            "error: exp.toml:3:10 (--set train.epochs=0): `train.epochs` must be at least 1"
        ),
        "{err}"
    );
    let err = check("name = \"x\"\n", &["--set", "train"]);
    assert!(
        err.starts_with("error: --set train: expected KEY=VALUE"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file_is_reported() {
    let err = fuzzaug(&["check", "/nonexistent/exp.toml"])
        .fails()
        .to_string();
    assert!(
        err.starts_with(
            "error: /nonexistent/exp.toml: cannot read the config: No such file or directory"
        ),
        "{err}"
    );
}

#[test]
fn invalid_toml_is_located() {
    let err = check("name = \"x\"\n[train\n", &[]);
    assert!(err.starts_with("error: exp.toml:2:"), "{err}");
}

#[test]
fn no_arguments_prints_help() {
    let out = fuzzaug(&[]);
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("Usage: fuzzaug"), "{}", out.stderr);
}

#[test]
fn wrong_libtorch_version_is_a_clear_provisioning_error() {
    let fake = Scratch::new();
    std::fs::create_dir_all(fake.path().join("lib")).unwrap();
    std::fs::create_dir_all(fake.path().join("include")).unwrap();
    fake.write("version.py", "__version__ = '2.10.0+cpu'\n");
    let out = std::process::Command::new("python3")
        .arg(repo().join("scripts/provision-libtorch.py"))
        .env("LIBTORCH", fake.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds libtorch 2.10.0+cpu, but fuzzaug (tch 0.24.0) needs exactly 2.11.0"),
        "{err}"
    );
}

#[test]
fn a_step_that_does_not_divide_the_range_is_located() {
    let err = check(
        "name = \"x\"\n[[transforms]]\nname = \"zoom\"\nrange = [0.9, 1.1]\nstep = 0.03\n",
        &[],
    );
    assert!(
        err.starts_with(
            "error: exp.toml:5:8: step 0.03 of `zoom` does not divide its range [0.9, 1.1]"
        ),
        "{err}"
    );
}

#[test]
fn preview_draws_every_gene_at_its_bounds() {
    let dir = Scratch::new();
    let genes: String = ["rotation", "translate_x", "shear", "brightness"]
        .iter()
        .map(|g| format!("[[transforms]]\nname = \"{g}\"\n"))
        .collect();
    let cfg = dir.write(
        "p.toml",
        &format!(
            "name = \"p\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 6\n{genes}"
        ),
    );
    let png = dir.path().join("p.png");
    let out = fuzzaug(&[
        "preview",
        cfg.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    // original + 2 per gene + 4 grid corners
    assert!(
        out.ok().contains("(4 images × 13 perturbations)"),
        "{}",
        out.stdout
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");
    let err = fuzzaug(&[
        "preview",
        cfg.to_str().unwrap(),
        "--out",
        "/nonexistent/dir/p.png",
    ])
    .fails()
    .to_string();
    assert!(err.contains("writing /nonexistent/dir/p.png"), "{err}");
}

/// Every config shipped under `configs/` (the study's included) passes `check`; CIFAR-10
/// configs against a tiny fake CIFAR-10 folder.
#[test]
fn every_shipped_config_passes_check() {
    let data = Scratch::new();
    fuzzaug_tests::fake_cifar10(data.path());
    let files = fuzzaug_tests::shipped_configs();
    assert!(files.len() >= 22, "{} configs", files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let config: toml::Table = text.parse().unwrap();
        let mut args = vec!["check".to_string(), file.display().to_string()];
        if config["dataset"]["name"].as_str() == Some("cifar10") {
            args.push("--set".into());
            args.push(format!("dataset.path=\"{}\"", data.path().display()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = fuzzaug(&args);
        assert!(
            out.code == Some(0) && out.stdout.contains(": OK"),
            "{}: {}{}",
            file.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            text.lines().next().is_some_and(|l| l.starts_with('#')),
            "{} says in a comment what it is",
            file.display()
        );
    }
}

/// `fuzzaug … | head` ends quietly, as Unix tools do, instead of panicking on the closed pipe.
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' plugins | true",
            fuzzaug_tests::fuzzaug_bin().display()
        ))
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}

/// `[train] hflip` defaults to what the dataset says about mirrors, and `check` says which
/// applies and why.
#[test]
fn the_mirror_default_comes_from_the_dataset_and_check_says_so() {
    let dir = Scratch::new();
    let data = fuzzaug_tests::fake_cifar10(dir.path());
    let checked = |text: &str| {
        let cfg = dir.write("m.toml", text);
        fuzzaug(&["check", cfg.to_str().unwrap()]).ok().to_string()
    };
    let shapes = "name = \"m\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 10\n";
    let out = checked(shapes);
    assert!(
        out.contains(
            "hflip     off (the default of `shapes`, whose labels do not survive a mirror)"
        ),
        "{out}"
    );
    let out = checked(&format!("{shapes}[train]\nhflip = true\n"));
    assert!(out.contains("hflip     on (set by `train.hflip`)"), "{out}");
    let out = checked(&format!(
        "name = \"m\"\n[dataset]\nname = \"cifar10\"\npath = \"{}\"\n",
        data.display()
    ));
    assert!(
        out.contains("hflip     on (the default of `cifar10`, whose labels survive a mirror)"),
        "{out}"
    );
}

#[test]
fn a_mutation_step_that_cannot_move_the_gene_on_its_grid_is_located() {
    let err = check(
        "name = \"x\"\n[[transforms]]\nname = \"brightness\"\nrange = [-32, 32]\nstep = 16\nmutation_step = 4\n",
        &[],
    );
    assert!(
        err.starts_with("error: exp.toml:6:17: mutation_step 4 of `brightness` is 0.25 grid steps of 16: ±step would round back onto the gene's value; use a whole number of grid steps"),
        "{err}"
    );
    // The transform's default step (4) on that grid: the error points at `step`.
    let err = check(
        "name = \"x\"\n[[transforms]]\nname = \"brightness\"\nrange = [-32, 32]\nstep = 16\n",
        &[],
    );
    assert!(
        err.starts_with("error: exp.toml:5:8: mutation_step 4 of `brightness` (the transform's default; set `mutation_step` to change it) is 0.25 grid steps of 16"),
        "{err}"
    );
}

/// The example command lines at the end of `fuzzaug COMMAND --help`: the lines after
/// `Examples:`, each a `# ...` comment or a command line (asserted), the command lines split
/// into words.
fn help_examples(command: &str) -> Vec<Vec<String>> {
    let help = fuzzaug(&[command, "--help"]).ok().to_string();
    let (_, block) = help
        .split_once("\nExamples:\n")
        .unwrap_or_else(|| panic!("`fuzzaug {command} --help` has no Examples: block:\n{help}"));
    let mut lines = Vec::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        assert!(
            line.starts_with(&format!("fuzzaug {command}")),
            "`fuzzaug {command} --help`: after Examples: only comments and `fuzzaug {command}` lines, found {line:?}"
        );
        // Words split on white space: the examples need no shell quoting.
        assert!(
            !line.contains(['\'', '"', '\\', '$', '`']),
            "`fuzzaug {command} --help`: {line:?} needs a shell to split it"
        );
        lines.push(line.split_whitespace().map(String::from).collect());
    }
    lines
}

#[test]
fn every_commands_help_ends_with_examples_that_parse() {
    let commands = fuzzaug::cli::Cli::command_names();
    for c in [
        "run",
        "eval",
        "export",
        "check",
        "plugins",
        "new-plugin",
        "preview",
        "compare",
        "fetch",
        "bench",
        "sweep",
    ] {
        assert!(commands.iter().any(|n| n == c), "{c} not in {commands:?}");
    }
    for command in &commands {
        let examples = help_examples(command);
        assert!(
            (1..=4).contains(&examples.len()),
            "`fuzzaug {command} --help` has {} examples",
            examples.len()
        );
        for argv in examples {
            if let Err(e) = fuzzaug::cli::Cli::parse_args(&argv) {
                panic!("the example `{}` does not parse:\n{e}", argv.join(" "));
            }
        }
    }
}

#[test]
fn sweep_help_shows_the_status_and_collect_forms() {
    let examples = help_examples("sweep");
    for form in ["status", "collect"] {
        assert!(
            examples.iter().any(|argv| argv[2] == form),
            "no `fuzzaug sweep {form}` example in {examples:?}"
        );
    }
    // The forms parse as the sweep folder they name, not as a sweep file.
    let sweep = &examples.iter().find(|a| a[2] == "status").unwrap();
    let cli = fuzzaug::cli::Cli::parse_args(sweep.iter()).unwrap();
    match cli.command {
        Some(fuzzaug::cli::Command::Sweep(s)) => assert_eq!(s.args[0], "status"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_examples_name_files_the_repository_ships() {
    // Every `configs/...` path an example names exists, so the examples work as written from
    // the repository root.
    for command in fuzzaug::cli::Cli::command_names() {
        for argv in help_examples(&command) {
            for word in argv.iter().filter(|w| w.starts_with("configs/")) {
                assert!(
                    repo().join(word).exists(),
                    "`{}` names {word}, which the repository lacks",
                    argv.join(" ")
                );
            }
        }
    }
}

#[test]
fn a_wrong_example_would_not_parse() {
    // The parse the examples go through rejects what clap rejects.
    let e = fuzzaug::cli::Cli::parse_args(["fuzzaug", "export", "runs/x", "--format", "onnx"])
        .unwrap_err();
    assert!(e.contains("onnx"), "{e}");
    assert!(fuzzaug::cli::Cli::parse_args(["fuzzaug", "run", "--no-such-flag", "c.toml"]).is_err());
}
