//! Bad input that used to get through, or good input that used to be refused: lists of the
//! wrong length, `--set` into inline tables (the README's own example), errors in overridden
//! values, what `check` must find without running (the device, the output folder), and what a
//! config error says (a did-you-mean for a misspelt key, types in words, the `--set` named).
use fuzzaug_tests::{fuzzaug, fuzzaug_in, Scratch};
use std::{
    collections::BTreeMap,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
};

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A config on `shapes` that checks quickly (small splits, CPU).
const BASE: &str = "name = \"x\"\ndevice = \"cpu\"\n[dataset]\nname = \"shapes\"\ntrain_size = 20\ntest_size = 10\n";

/// `fuzzaug check exp.toml extra...` on `text`, run in a scratch folder so that messages read
/// `exp.toml:…`; the scratch folder comes back for inspection.
fn check_in(text: &str, extra: &[&str]) -> (fuzzaug_tests::Run, Scratch) {
    let dir = Scratch::new();
    dir.write("exp.toml", text);
    let mut args = vec!["check", "exp.toml"];
    args.extend_from_slice(extra);
    (fuzzaug_in(&args, Some(dir.path())), dir)
}

fn check_fails(text: &str, extra: &[&str]) -> String {
    check_in(text, extra).0.fails().to_string()
}

// --- 1. lists of a fixed length ---------------------------------------------------------------

#[test]
fn a_range_of_three_numbers_is_refused_at_its_key() {
    let gene = format!("{BASE}[[transforms]]\nname = \"rotation\"\nrange = [-20, 0, 20]\n");
    assert_eq!(
        check_fails(&gene, &[]),
        "error: exp.toml:9:9: `transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 3\n"
    );
    let one = format!("{BASE}[[transforms]]\nname = \"rotation\"\nrange = [20]\n");
    assert_eq!(
        check_fails(&one, &[]),
        "error: exp.toml:9:9: `transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 1\n"
    );
}

#[test]
fn a_range_of_three_numbers_from_set_names_the_argument() {
    let with_range = format!("{BASE}[[transforms]]\nname = \"rotation\"\nrange = [-20, 20]\n");
    assert_eq!(
        check_fails(&with_range, &["--set", "transforms.0.range=[-20,0,20]"]),
        "error: exp.toml:9:9 (--set transforms.0.range=[-20,0,20]): `transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 3\n"
    );
    let without = format!("{BASE}[[transforms]]\nname = \"rotation\"\n");
    assert_eq!(
        check_fails(&without, &["--set", "transforms.0.range=[-20,0,20]"]),
        "error: --set transforms.0.range=[-20,0,20]: `transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 3\n"
    );
    // Two numbers still go through.
    let (run, _dir) = check_in(&with_range, &["--set", "transforms.0.range=[-10,10]"]);
    assert!(
        run.ok().contains("gene      rotation [-10, 10] continuous"),
        "{}",
        run.stdout
    );
}

#[test]
fn adamw_betas_must_be_two_numbers() {
    let adamw = format!(
        "{BASE}[train]\noptimizer = {{ kind = \"adamw\", lr = 0.001, betas = [0.9, 0.99, 0.999] }}\n"
    );
    assert_eq!(
        check_fails(&adamw, &[]),
        "error: exp.toml:8:51: `train.optimizer.betas` must be exactly 2 numbers, [beta1, beta2]; got 3\n"
    );
    let plain = format!("{BASE}[train]\noptimizer = {{ kind = \"adamw\", lr = 0.001 }}\n");
    assert_eq!(
        check_fails(&plain, &["--set", "train.optimizer.betas=[0.9]"]),
        "error: --set train.optimizer.betas=[0.9]: `train.optimizer.betas` must be exactly 2 numbers, [beta1, beta2]; got 1\n"
    );
}

/// A sweep's configs are read by the same types: an axis value of three numbers is refused.
#[test]
fn a_sweep_axis_with_a_range_of_three_numbers_is_refused() {
    let dir = Scratch::new();
    let base = repo().join("configs/quickstart.toml");
    let spec = dir.write(
        "sweep.toml",
        &format!(
            "base = {:?}\n[axes]\n\"transforms.0.range\" = [[-10, 10], [-20, 0, 20]]\n",
            base.display().to_string()
        ),
    );
    let err = fuzzaug(&["sweep", spec.to_str().unwrap(), "--dry-run"])
        .fails()
        .to_string();
    assert_eq!(
        err,
        format!(
            "error: {}: axis `transforms.0.range` = [-20, 0, 20]: `range` must be exactly 2 numbers, [lo, hi]; got 3\n",
            spec.display()
        )
    );
}

// --- 2. `--set` into inline tables ------------------------------------------------------------

/// The README's example, verbatim: `optimizer = { … }` follows a comment in the quickstart.
#[test]
fn the_readme_example_sets_the_learning_rate() {
    let out = fuzzaug_in(
        &[
            "check",
            "configs/quickstart.toml",
            "--set",
            "train.optimizer.lr=0.1",
        ],
        Some(repo()),
    );
    // The epoch count is the quickstart's own business (it has changed); the rate is the point.
    let train = out
        .ok()
        .lines()
        .find(|l| l.starts_with("  train     "))
        .unwrap_or_else(|| panic!("no train line in {}", out.stdout));
    assert!(
        train.ends_with(" epochs, batch 128, adamw lr 0.1, fp32, device auto"),
        "{}",
        out.stdout
    );
}

/// Whether a `.toml` file under `configs/` is a run config. Sweep specs (see `fuzzaug sweep`)
/// are not: they have a top-level `base` (the config they expand) or an `[axes]` table, which
/// no run config may have (unknown keys are refused).
fn is_run_config(table: &toml::Table) -> bool {
    !table.contains_key("base") && !table.contains_key("axes")
}

/// `--set train.optimizer.lr=0.1` takes effect on every shipped run config, whatever form its
/// `optimizer` takes (CIFAR-10 ones against a tiny fake CIFAR-10 folder).
#[test]
fn every_shipped_config_takes_a_learning_rate_from_set() {
    let data = Scratch::new();
    fuzzaug_tests::fake_cifar10(data.path());
    let mut checked = 0;
    for file in fuzzaug_tests::shipped_configs() {
        let text = std::fs::read_to_string(&file).unwrap();
        let table: toml::Table = text.parse().unwrap();
        if !is_run_config(&table) {
            continue;
        }
        let mut args = vec![
            "check".to_string(),
            file.display().to_string(),
            "--set".into(),
            "train.optimizer.lr=0.1".into(),
        ];
        if table["dataset"]["name"].as_str() == Some("cifar10") {
            args.push("--set".into());
            args.push(format!("dataset.path=\"{}\"", data.path().display()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = fuzzaug(&args);
        assert_eq!(
            out.code,
            Some(0),
            "{}: {}{}",
            file.display(),
            out.stdout,
            out.stderr
        );
        let train = out
            .stdout
            .lines()
            .find(|l| l.starts_with("  train "))
            .unwrap_or_else(|| panic!("{}: no train line in {}", file.display(), out.stdout));
        assert!(
            train.contains("sgd lr 0.1,") || train.contains("adamw lr 0.1,"),
            "{}: {train}",
            file.display()
        );
        checked += 1;
    }
    assert!(checked >= 22, "only {checked} run configs under configs/");
}

/// Keys of inline tables nested in inline tables, and keys an override adds to them.
#[test]
fn set_reaches_into_nested_inline_tables() {
    let dir = Scratch::new();
    let cfg = dir.write(
        "exp.toml",
        &format!(
            "{BASE}[train]\nepochs = 4\n# a comment before the inline table\noptimizer = {{ kind = \"sgd\", lr = 0.1, momentum = 0.9 }}  # and after\nschedule = {{ kind = \"cosine\" }}\n"
        ),
    );
    let sets = [
        "train.schedule.kind=step",
        "train.schedule.every=2",
        "train.schedule.gamma=0.5",
        "train.optimizer.nesterov=true",
    ];
    let overrides: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let exp = fuzzaug::setup::Experiment::load_in(&cfg, &overrides, &[], |_| {
        fuzzaug::plugins::SearchPath::default()
    })
    .unwrap();
    assert_eq!(
        exp.config.train.schedule,
        fuzzaug::config::ScheduleConfig::Step {
            every: 2,
            gamma: 0.5,
            warmup_epochs: 0
        }
    );
    assert_eq!(
        exp.config.train.optimizer,
        fuzzaug::config::OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0
        }
    );
    // The file's comments survive in the text that was parsed.
    assert!(
        exp.source.text.contains(
            "# a comment before the inline table\noptimizer = { kind = \"sgd\", lr = 0.1, momentum = 0.9, nesterov = true }  # and after\n"
        ),
        "{}",
        exp.source.text
    );
    // The binary agrees.
    let mut args = vec!["check", cfg.to_str().unwrap()];
    for s in &sets {
        args.extend(["--set", s]);
    }
    assert!(fuzzaug(&args).ok().contains(": OK\n"));
}

/// A sweep with a learning-rate axis over the quickstart (an inline `optimizer`) expands.
#[test]
fn a_sweep_over_the_learning_rate_of_an_inline_optimizer_expands() {
    let dir = Scratch::new();
    let base = repo().join("configs/quickstart.toml");
    let spec = dir.write(
        "sweep.toml",
        &format!(
            "base = {:?}\n[axes]\n\"train.optimizer.lr\" = [0.1, 0.01]\n",
            base.display().to_string()
        ),
    );
    let out = fuzzaug(&["sweep", spec.to_str().unwrap(), "--dry-run"]);
    let text = out.ok();
    assert!(text.contains("  0  lr0.1   0.1\n"), "{text}");
    assert!(text.contains("  1  lr0.01  0.01\n"), "{text}");
}

#[test]
fn errors_in_overridden_values_name_the_set_argument() {
    let quick = |set: &str| {
        fuzzaug_in(
            &["check", "configs/quickstart.toml", "--set", set],
            Some(repo()),
        )
        .fails()
        .to_string()
    };
    assert_eq!(
        quick("train.optimizer.lr=-1"),
        "error: configs/quickstart.toml:22:36 (--set train.optimizer.lr=-1): `train.optimizer.lr` must be a positive number, got -1\n"
    );
    assert_eq!(
        quick("train.photometric_clamp=bad"),
        "error: --set train.photometric_clamp=bad: unknown value `bad` of `train.photometric_clamp`; valid values: fused, per-gene\n"
    );
    assert_eq!(
        quick("train.schedule.kind=step"),
        "error: configs/quickstart.toml:23:12 (--set train.schedule.kind=step): missing key `every` in [train.schedule]\n"
    );
    assert_eq!(
        quick("train.optimizer.momentum=0.5"),
        "error: configs/quickstart.toml:22:13 (--set train.optimizer.momentum=0.5): unknown key `momentum` in [train.optimizer]; valid keys: lr, weight_decay, betas, eps\n"
    );
    assert_eq!(
        quick("train.schedule.every=0"),
        "error: configs/quickstart.toml:23:12 (--set train.schedule.every=0): unknown key `every` in [train.schedule]; valid keys: min_lr, warmup_epochs\n"
    );
}

/// An override that adds a line to `[train]` leaves the file's own line numbers alone.
#[test]
fn an_added_key_does_not_shift_the_locations_of_later_errors() {
    let text = format!("{BASE}[train]\nepochs = 2\n[eval]\nrobust_subset = 0\n");
    assert_eq!(
        check_fails(&text, &["--set", "train.batch_size=8"]),
        "error: exp.toml:10:17: `eval.robust_subset` must be at least 1 (omit it to use the whole test set)\n"
    );
    let text = format!("{BASE}[train]\nepochs = 2\n[eval]\nrobust_every = \"often\"\n");
    assert_eq!(
        check_fails(&text, &["--set", "train.batch_size=8"]),
        "error: exp.toml:10:16: `eval.robust_every`: expected an integer ≥ 0, got \"often\"\n"
    );
}

// --- 3. what only `run` found ----------------------------------------------------------------

#[test]
fn a_missing_cuda_device_is_found_by_check() {
    let text = BASE.replace("device = \"cpu\"", "device = \"cuda:7\"");
    let (run, _dir) = check_in(&text, &[]);
    let count = tch::Cuda::device_count();
    if count > 7 {
        run.ok();
        return;
    }
    let why = if tch::Cuda::is_available() {
        format!("this machine has {count} CUDA device(s)")
    } else {
        "CUDA is not available on this machine (`fuzzaug --version` tells what libtorch sees); use device = \"cpu\" or \"auto\"".to_string()
    };
    assert_eq!(
        run.fails(),
        format!("error: exp.toml:2:10: device `cuda:7`: {why}\n")
    );
    assert_eq!(
        check_fails(BASE, &["--set", "device=cuda:7"]),
        format!("error: exp.toml:2:10 (--set device=cuda:7): device `cuda:7`: {why}\n")
    );
}

/// [`BASE`] with `output_dir` on its line 3.
fn with_output_dir(dir: &str) -> String {
    BASE.replacen(
        "device = \"cpu\"\n",
        &format!("device = \"cpu\"\noutput_dir = {dir:?}\n"),
        1,
    )
}

#[test]
fn an_output_dir_that_is_a_file_is_found_by_check() {
    let dir = Scratch::new();
    dir.write("exp.toml", &with_output_dir("out"));
    dir.write("out", "not a folder");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "exp.toml"];
        args.extend_from_slice(extra);
        fuzzaug_in(&args, Some(dir.path()))
    };
    assert_eq!(
        check(&[]).fails(),
        "error: exp.toml:3:14: `output_dir` \"out\" is a file, not a folder\n"
    );
    // Under a file, no folder can be created, whoever runs it (root included).
    assert_eq!(
        check(&["--set", "output_dir=out/runs"]).fails(),
        "error: exp.toml:3:14 (--set output_dir=out/runs): `output_dir` \"out/runs\" cannot be created: \"out\" is a file, not a folder\n"
    );
    // The run directory itself, a file.
    std::fs::create_dir(dir.path().join("runs")).unwrap();
    dir.write("runs/x", "");
    assert_eq!(
        check(&["--set", "output_dir=runs"]).fails(),
        "error: exp.toml:3:14 (--set output_dir=runs): the run directory \"runs/x\" (`output_dir`/`name`) is a file, not a folder\n"
    );
    // The default output_dir, not in the file: the location is the file.
    std::fs::remove_file(dir.path().join("exp.toml")).unwrap();
    dir.write("exp.toml", BASE);
    assert_eq!(
        check(&[]).fails(),
        "error: exp.toml: the run directory \"runs/x\" (`output_dir`/`name`) is a file, not a folder\n"
    );
}

#[test]
fn an_output_dir_that_cannot_be_looked_at_is_found_by_check() {
    let long = "a".repeat(300);
    let err = check_fails(&with_output_dir(&long), &[]);
    assert_eq!(
        err,
        format!("error: exp.toml:3:14: `output_dir` \"{long}\": cannot inspect \"{long}/x\": File name too long (os error 36)\n")
    );
}

#[test]
fn a_read_only_output_dir_is_found_by_check() {
    let dir = Scratch::new();
    dir.write("exp.toml", &with_output_dir("ro/runs"));
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root (as in many containers) writes whatever the permission bits say: then a read-only
    // folder is no error, and only that assertion is skipped.
    let probe = ro.join("probe");
    if std::fs::write(&probe, "").is_ok() {
        std::fs::remove_file(&probe).unwrap();
        eprintln!(
            "skipped the read-only assertion: this process writes into a mode-0555 folder (root)"
        );
        fuzzaug_in(&["check", "exp.toml"], Some(dir.path())).ok();
    } else {
        assert_eq!(
            fuzzaug_in(&["check", "exp.toml"], Some(dir.path())).fails(),
            "error: exp.toml:3:14: `output_dir` \"ro/runs\" cannot be created: \"ro\" is not writable: Permission denied (os error 13)\n"
        );
        assert_eq!(
            fuzzaug_in(
                &["check", "exp.toml", "--set", "output_dir=ro"],
                Some(dir.path())
            )
            .fails(),
            "error: exp.toml:3:14 (--set output_dir=ro): `output_dir` \"ro\" is not writable: Permission denied (os error 13)\n"
        );
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    // procfs refuses new entries in /proc/sys to everyone, root included (read-only where it is
    // mounted so): the refusal is asserted whoever runs the test.
    let err = fuzzaug_in(
        &[
            "check",
            "exp.toml",
            "--set",
            "output_dir=/proc/sys/fuzzaug-runs",
        ],
        Some(dir.path()),
    )
    .fails()
    .to_string();
    let head = "error: exp.toml:3:14 (--set output_dir=/proc/sys/fuzzaug-runs): `output_dir` \"/proc/sys/fuzzaug-runs\" cannot be created: \"/proc/sys\" is not writable: ";
    assert!(
        [
            "Permission denied (os error 13)\n",
            "Read-only file system (os error 30)\n"
        ]
        .iter()
        .any(|why| err == format!("{head}{why}")),
        "{err}"
    );
}

/// Every file and folder under `root`, with its kind, size, mode and modification time.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (bool, u64, u32, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        }
        out.insert(
            p.strip_prefix(root).unwrap().to_path_buf(),
            (m.is_dir(), m.len(), m.mode(), m.mtime(), m.mtime_nsec()),
        );
    }
    out
}

/// `check` creates no run directory (nor anything else), where one does not exist yet and
/// where an output folder does.
#[test]
fn check_leaves_the_filesystem_as_it_was() {
    let dir = Scratch::new();
    dir.write(
        "exp.toml",
        &format!(
            "{}[[transforms]]\nname = \"rotation\"\n",
            with_output_dir("nested/runs")
        ),
    );
    std::fs::create_dir(dir.path().join("existing")).unwrap();
    let before = snapshot(dir.path());
    for extra in [&[][..], &["--set", "output_dir=existing"]] {
        let mut args = vec!["check", "exp.toml"];
        args.extend_from_slice(extra);
        fuzzaug_in(&args, Some(dir.path())).ok();
        assert_eq!(snapshot(dir.path()), before, "check {extra:?}");
    }
    assert!(!dir.path().join("nested").exists());
}

// --- 4. what a config error says --------------------------------------------------------------

/// `device = "cuda"` on a machine without CUDA: `run` refuses it before any work, at the key,
/// so `check` refuses it too, with the same words (it does not pass a config that `run` would
/// stop on). `auto` falls back to the CPU and passes.
#[test]
fn check_refuses_a_cuda_device_as_run_does() {
    let text = BASE.replace("device = \"cpu\"", "device = \"cuda\"");
    let (check, dir) = check_in(&text, &[]);
    let auto = BASE.replace("device = \"cpu\"", "device = \"auto\"");
    let (auto_check, _auto_dir) = check_in(&auto, &[]);
    assert!(
        auto_check.ok().contains(", device auto\n"),
        "{}",
        auto_check.stdout
    );
    if tch::Cuda::is_available() {
        check.ok();
        return;
    }
    let why = "exp.toml:2:10: device `cuda`: CUDA is not available on this machine (`fuzzaug --version` tells what libtorch sees); use device = \"cpu\" or \"auto\"";
    assert_eq!(check.fails(), format!("error: {why}\n"));
    let run = fuzzaug_in(&["run", "exp.toml"], Some(dir.path()));
    assert_eq!(
        run.fails(),
        format!("error: run x (exp.toml)\n  caused by: {why}\n")
    );
    // Nothing was written, by either.
    assert!(!dir.path().join("runs").exists());
    assert_eq!(
        check_fails(BASE, &["--set", "device=cuda"]),
        "error: exp.toml:2:10 (--set device=cuda): device `cuda`: CUDA is not available on this machine (`fuzzaug --version` tells what libtorch sees); use device = \"cpu\" or \"auto\"\n"
    );
}

/// A misspelt key of each of fuzzaug's own tables gets the nearest valid key and the list of
/// them, at the key; a key under the wrong header is told where it belongs.
#[test]
fn a_misspelt_core_key_gets_a_suggestion() {
    let cases = [
        (
            "sed = 1\n",
            "exp.toml:1:1: unknown key `sed` at the top level; did you mean `seed`? valid keys: name, seed, device, output_dir, plugin_dirs, dataset, model, train, transforms, strategy, eval, plugins, log",
        ),
        (
            "[train]\nepoch = 3\n",
            "exp.toml:8:1: unknown key `epoch` in [train]; did you mean `epochs`? valid keys: epochs, batch_size, optimizer, schedule, precision, hflip, photometric_clamp, weight_decay_on, channels_last, keep_best",
        ),
        (
            "[model]\narc = \"resnet18\"\n",
            "exp.toml:8:1: unknown key `arc` in [model]; did you mean `arch`? valid keys: arch, init, torchscript, reinit",
        ),
        (
            "[eval]\nrobust_evry = 1\n",
            "exp.toml:8:1: unknown key `robust_evry` in [eval]; did you mean `robust_every`? valid keys: robust_every, robust_subset, protocols",
        ),
        (
            "[log]\ntensorbord = true\n",
            "exp.toml:8:1: unknown key `tensorbord` in [log]; did you mean `tensorboard`? valid keys: tensorboard, image_every",
        ),
        (
            "[plugins]\nsha265 = {}\n",
            "exp.toml:8:1: unknown key `sha265` in [plugins]; did you mean `sha256`? valid keys: sha256, only_pinned, isolate",
        ),
        (
            "[train]\nseed = 1\n",
            "exp.toml:8:1: unknown key `seed` in [train]; it is a key of the top level (above the first [table]); valid keys: epochs, batch_size, optimizer, schedule, precision, hflip, photometric_clamp, weight_decay_on, channels_last, keep_best",
        ),
        (
            "[train]\noptimizer = { kind = \"sgd\", lr = 0.1, momentun = 0.9 }\n",
            "exp.toml:8:13: unknown key `momentun` in [train.optimizer]; did you mean `momentum`? valid keys: lr, momentum, nesterov, weight_decay",
        ),
    ];
    for (tail, want) in cases {
        // The top-level key goes before the tables.
        let text = if tail.starts_with('[') {
            format!("{BASE}{tail}")
        } else {
            format!("{tail}{BASE}")
        };
        assert_eq!(
            check_fails(&text, &[]),
            format!("error: {want}\n"),
            "{tail}"
        );
    }
    assert_eq!(
        check_fails(&format!("epochs = 3\n{BASE}"), &[]),
        "error: exp.toml:1:1: unknown key `epochs` at the top level; it is a key of [train]; valid keys: name, seed, device, output_dir, plugin_dirs, dataset, model, train, transforms, strategy, eval, plugins, log\n"
    );
    assert_eq!(
        check_fails(BASE, &["--set", "train.epoch=3"]),
        "error: --set train.epoch=3: unknown key `epoch` in [train]; did you mean `epochs`? valid keys: epochs, batch_size, optimizer, schedule, precision, hflip, photometric_clamp, weight_decay_on, channels_last, keep_best\n"
    );
    assert_eq!(
        check_fails(&format!("{BASE}[train]\nprecision = \"bf61\"\n"), &[]),
        "error: exp.toml:8:13: unknown value `bf61` of `train.precision`; did you mean `bf16`? valid values: fp32, bf16\n"
    );
}

/// `[dataset]` mixes fuzzaug's own keys (`mean`, `std`) with the plugin's: a misspelling of
/// fuzzaug's is told so (the plugin alone would list only its keys), while one close to a
/// plugin key (`sed` for `seed`, not `std`) is the plugin's to suggest.
#[test]
fn a_misspelt_dataset_mean_or_std_gets_a_suggestion() {
    let keys = "[dataset] takes `name`, `mean` and `std`, and the keys of dataset `shapes`: train_size, test_size, size, seed, noise";
    for (line, key, own) in [
        ("maen = [0.5, 0.5, 0.5]", "maen", "mean"),
        ("stdev = [0.2, 0.2, 0.2]", "stdev", "std"),
    ] {
        assert_eq!(
            check_fails(&format!("{BASE}{line}\n"), &[]),
            format!("error: exp.toml:7:{}: unknown key `{key}` in [dataset]; did you mean `{own}`? {keys}\n", key.len() + 4)
        );
    }
    assert_eq!(
        check_fails(&format!("{BASE}sed = 3\n"), &[]),
        "error: exp.toml:7:7: dataset `shapes`: unknown key `sed`; did you mean `seed`?\n"
    );
}

/// A value from `--set` is the argument's: a key the file lacks is located at the argument
/// alone (never at a line of the file, which may be blank or another key's), one the file has
/// at its line and the argument; an argument that cannot be applied at all is the argument's.
#[test]
fn an_error_in_a_set_value_names_the_override() {
    // [train] ends in blank lines: the added key would come after them.
    let text = format!("{BASE}[train]\nbatch_size = 8\n\n\n[eval]\nrobust_every = 1\n");
    for (set, want) in [
        (
            "train.epochs=0",
            "--set train.epochs=0: `train.epochs` must be at least 1",
        ),
        (
            "train.epochs=abc",
            "--set train.epochs=abc: `train.epochs`: expected an integer ≥ 1, got \"abc\"",
        ),
        (
            "train.epochs=-1",
            "--set train.epochs=-1: `train.epochs`: expected an integer ≥ 1, got -1",
        ),
        (
            "train.batch_size=-1",
            "exp.toml:8:14 (--set train.batch_size=-1): `train.batch_size`: expected an integer ≥ 1, got -1",
        ),
        (
            "train.batch_size=0",
            "exp.toml:8:14 (--set train.batch_size=0): `train.batch_size` must be at least 1",
        ),
        (
            "eval.robust_subset=-5",
            "--set eval.robust_subset=-5: `eval.robust_subset`: expected an integer ≥ 1, got -5",
        ),
        (
            "transforms.1.name=x",
            // `transforms.1` on a file without genes makes a table `transforms`.
            "--set transforms.1.name=x: `transforms`: expected a list, got a table",
        ),
        (
            "train",
            "--set train: expected KEY=VALUE, e.g. --set train.epochs=5",
        ),
    ] {
        assert_eq!(
            check_fails(&text, &["--set", set]),
            format!("error: {want}\n"),
            "--set {set}"
        );
    }
    let gene = format!("{BASE}[[transforms]]\nname = \"rotation\"\n");
    assert_eq!(
        check_fails(&gene, &["--set", "transforms.1.name=x"]),
        "error: --set transforms.1.name=x: `transforms` is a list of 1 tables; address an entry by its index 0..1, e.g. transforms.0.<key>\n"
    );
}

/// serde's type names (`u32`, `f64`, `a boolean`) become the words of the config reference,
/// with the key's own least value, at the value.
#[test]
fn wrong_types_are_said_in_plain_words() {
    let cases = [
        (
            "[train]\nepochs = -1\n",
            "exp.toml:8:10: `train.epochs`: expected an integer ≥ 1, got -1",
        ),
        (
            "[train]\nbatch_size = 2.5\n",
            "exp.toml:8:14: `train.batch_size`: expected an integer ≥ 1, got 2.5",
        ),
        (
            "[train]\nepochs = 5000000000\n",
            "exp.toml:8:10: `train.epochs`: expected an integer from 1 to 4294967295, got 5000000000",
        ),
        (
            "[log]\nimage_every = -1\n",
            "exp.toml:8:15: `log.image_every`: expected an integer ≥ 0, got -1",
        ),
        (
            "[eval]\nrobust_subset = \"all\"\n",
            "exp.toml:8:17: `eval.robust_subset`: expected an integer ≥ 1, got \"all\"",
        ),
        (
            "[train]\nchannels_last = 1\n",
            "exp.toml:8:17: `train.channels_last`: expected true or false, got 1",
        ),
        (
            "[train]\noptimizer = { kind = \"sgd\", lr = \"fast\" }\n",
            "exp.toml:8:34: `train.optimizer.lr`: expected a number, got \"fast\"",
        ),
        (
            "[train]\nschedule = { kind = \"step\", every = -2 }\n",
            "exp.toml:8:37: `train.schedule.every`: expected an integer ≥ 1, got -2",
        ),
        (
            "[[eval.protocols]]\nkind = \"worst-of-k\"\nk = -1\n",
            "exp.toml:9:5: `eval.protocols.0.k`: expected an integer ≥ 1, got -1",
        ),
        (
            "[[transforms]]\nname = \"rotation\"\nstep = \"one\"\n",
            "exp.toml:9:8: `transforms.0.step`: expected a number, got \"one\"",
        ),
    ];
    for (tail, want) in cases {
        assert_eq!(
            check_fails(&format!("{BASE}{tail}"), &[]),
            format!("error: {want}\n"),
            "{tail}"
        );
    }
    assert_eq!(
        check_fails(&format!("seed = -1\n{BASE}"), &[]),
        "error: exp.toml:1:8: `seed`: expected an integer ≥ 0, got -1\n"
    );
    assert_eq!(
        check_fails(BASE, &["--set", "seed=-1"]),
        "error: --set seed=-1: `seed`: expected an integer ≥ 0, got -1\n"
    );
}
