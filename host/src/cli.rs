//! The command line.
use crate::rundir::Which;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// Train image classifiers that stay correct under natural perturbations.
#[derive(Debug, Parser)]
#[command(
    name = "fuzzaug",
    disable_version_flag = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print the fuzzaug version, the libtorch it runs on and whether CUDA is available.
    #[arg(short = 'V', long)]
    pub version: bool,

    /// Also load plugins from DIR (repeatable; searched before the config's `plugin_dirs`,
    /// FUZZAUG_PLUGIN_PATH and the executable's folder).
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub plugin_dirs: Vec<PathBuf>,

    /// Run plugin library NAME, or the library offering component NAME, in a child process of
    /// its own, so that a crash in it stops the run with an error instead of ending fuzzaug
    /// (repeatable; adds to the config's `[plugins] isolate`).
    #[arg(long = "isolate", value_name = "NAME", global = true)]
    pub isolate: Vec<String>,

    /// More log output (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses `args` (the program name first) as `fuzzaug` does, returning clap's message
    /// instead of exiting on an error: for tests and tools that do not depend on clap.
    pub fn parse_args<I, T>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Self as Parser>::try_parse_from(args).map_err(|e| e.to_string())
    }

    /// The name of every command as it is typed (`run`, `new-plugin`, ...).
    pub fn command_names() -> Vec<String> {
        <Self as CommandFactory>::command()
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_string())
            .collect()
    }
}

// Each command's `--help` ends with these examples: every `fuzzaug ...` line works as written
// from the repository root (after `make build`, and for `eval`, `export`, `compare` and
// `preview` after the quickstart runs); `tests/tests/cli.rs` parses every one of them.

const RUN_EXAMPLES: &str = "\
Examples:
  # SENSEI, then standard training, on the procedural shapes dataset (no download needed);
  # they write runs/quickstart/ and runs/quickstart-standard/:
  fuzzaug run configs/quickstart.toml configs/quickstart-standard.toml
  # Continue an interrupted run from its last checkpoint, with its own resolved config:
  fuzzaug run --resume runs/quickstart";

const EVAL_EXAMPLES: &str = "\
Examples:
  # Standard and robust accuracy of the quickstart run's last checkpoint, written to
  # runs/quickstart/eval/<threat>/eval.json:
  fuzzaug eval runs/quickstart
  # Query every variant, and keep the 16 most confident failures as failures.png:
  fuzzaug eval runs/quickstart --no-early-exit --failures 16";

const EXPORT_EXAMPLES: &str = "\
Examples:
  # The weights under PyTorch's state-dict names: runs/quickstart/export/last.safetensors
  fuzzaug export runs/quickstart --format safetensors
  # A self-contained TorchScript module, with 64 test images and their logits to check it by:
  fuzzaug export runs/quickstart --format torchscript --probe 64";

const CHECK_EXAMPLES: &str = "\
Examples:
  # Validate the quickstart config; prints the dataset's split sizes and classes:
  fuzzaug check configs/quickstart.toml
  # The same with overrides, as `fuzzaug run` would take them:
  fuzzaug check configs/quickstart.toml --set train.epochs=2 --set strategy.population=10";

const PLUGINS_EXAMPLES: &str = "\
Examples:
  # Every component on the search path, each transform with its gene's limits, identity,
  # unit, default range and step:
  fuzzaug plugins
  # Load one library only: its fingerprint and components, or why it is incompatible:
  fuzzaug plugins --check target/release/libfuzzaug_spatial.so";

const NEW_PLUGIN_EXAMPLES: &str = "\
Examples:
  # A worst-of-k strategy crate in ./rot-worst (README, \"Writing a plugin\"):
  fuzzaug new-plugin rot-worst --kind strategy
  # A geometric gene (a horizontal stretch) in another folder:
  fuzzaug new-plugin stretch --kind transform --dir /tmp/stretch";

const PREVIEW_EXAMPLES: &str = "\
Examples:
  # The first test images under rotation at -20 and +20 degrees (and, once the run has a
  # checkpoint, the variants SENSEI chose):
  fuzzaug preview configs/quickstart.toml --out preview.png";

const COMPARE_EXAMPLES: &str = "\
Examples:
  # table.md, table.csv, figures and report.html for the two quickstart runs:
  fuzzaug compare runs/quickstart runs/quickstart-standard --out report
  # Every run of the reference study:
  fuzzaug compare runs/study/* --out report";

const FETCH_EXAMPLES: &str = "\
Examples:
  # CIFAR-10 into data/ (what the configs under configs/study/ read):
  fuzzaug fetch cifar10 --dir data
  # MNIST's four IDX files, without a progress bar; prints the config snippet that reads them:
  fuzzaug fetch mnist --dir data/mnist --quiet";

const BENCH_EXAMPLES: &str = "\
Examples:
  # The built-in setup: small-cnn on 1,000 shapes images, every strategy on the search path:
  fuzzaug bench
  # The quickstart's setup, standard against sensei only, as JSON:
  fuzzaug bench --config configs/quickstart.toml --strategy sensei --epochs 1 --json";

const SWEEP_EXAMPLES: &str = "\
Examples:
  # With the sweep file of README \"Running on a cluster\" saved as
  # sweeps/cifar-strategies.toml: the table of runs it expands to, writing nothing:
  fuzzaug sweep sweeps/cifar-strategies.toml --dry-run
  # Run it here, two at a time (again after a crash: finished runs are skipped):
  fuzzaug sweep sweeps/cifar-strategies.toml --local -j 2
  # Each run's state, then the compare report of the finished runs:
  fuzzaug sweep status sweeps/cifar-strategies
  fuzzaug sweep collect sweeps/cifar-strategies --out report";

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train and evaluate, writing the run directory (several configs run one after another).
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Standard and robust accuracy of a saved model.
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// A trained model for PyTorch: safetensors weights under PyTorch's names, or TorchScript.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Validate a config (keys, types, ranges, components and their settings) and stop.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// List the components of every plugin on the search path, or check one library.
    #[command(after_help = PLUGINS_EXAMPLES)]
    Plugins(PluginsArgs),
    /// Scaffold an out-of-tree plugin crate.
    #[command(after_help = NEW_PLUGIN_EXAMPLES)]
    NewPlugin(NewPluginArgs),
    /// Draw sample images under the robust grid's perturbations and the strategy's choices.
    #[command(after_help = PREVIEW_EXAMPLES)]
    Preview(PreviewArgs),
    /// Tables and curves comparing several runs.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// Download a public dataset, verify its SHA-256 and unpack it.
    #[command(after_help = FETCH_EXAMPLES)]
    Fetch(FetchArgs),
    /// Throughput figures: augmentation, scoring, training step, epoch per strategy.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Expand a sweep of configs and run it here or as a Slurm job array.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(SweepArgs),
    /// Internal: serve one plugin library to the fuzzaug process that started this one
    /// (isolated mode, `[plugins] isolate`); not for use by hand.
    #[command(name = crate::plugins::isolate::client::CHILD_COMMAND, hide = true)]
    PluginChild(PluginChildArgs),
}

/// `fuzzaug plugin-child LIB [--sha256 HEX]`.
#[derive(Debug, Args)]
pub struct PluginChildArgs {
    /// The plugin library.
    pub library: PathBuf,
    /// Its pinned SHA-256.
    #[arg(long)]
    pub sha256: Option<String>,
}

/// `--set key.path=value`, repeatable.
#[derive(Debug, Args, Clone, Default)]
pub struct Overrides {
    /// Override a config value, e.g. --set train.epochs=5 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// `fuzzaug run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config files (or folders of them), run one after another; with --resume also run
    /// directories, continued with their own resolved config.
    #[arg(required = true, value_name = "CONFIG|RUN_DIR")]
    pub configs: Vec<PathBuf>,
    /// `--set` overrides.
    #[command(flatten)]
    pub overrides: Overrides,
    /// Continue from the run directory's last checkpoint (refused when it belongs to another
    /// run); a directory with no finished epoch starts afresh.
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing run directory (once the new run is checked; the old one is removed
    /// only after the new one is in place).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// No progress bars, only warnings and errors.
    #[arg(long)]
    pub quiet: bool,
    /// Train at most N epochs in this session, then stop (exit 0) with the run resumable by
    /// --resume: for schedulers' time limits.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub stop_after: Option<u32>,
}

/// `fuzzaug eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory or one of its checkpoints (the model, data and normalisation come from
    /// the run), or a config file with --checkpoint.
    #[arg(value_name = "RUN_DIR|CHECKPOINT|CONFIG")]
    pub target: PathBuf,
    /// The checkpoint file, when TARGET is a config.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The threat model: a TOML file with `[[transforms]]` (genes and ranges) and
    /// `[[protocols]]` (grid, worst-of-k, search). Default: the run's genes and `[eval]`.
    #[arg(long, value_name = "FILE")]
    pub threat: Option<PathBuf>,
    /// The folder `eval.json` goes to. Default: `RUN_DIR/eval/<threat name>/` (with a config and
    /// --checkpoint: `<checkpoint>.eval.json`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Query every variant of every image (slower; adds the mean per-image accuracy).
    #[arg(long)]
    pub no_early_exit: bool,
    /// Write the N most confidently misclassified variants (`failures.png`,
    /// `failures.jsonl`) beside `eval.json`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub failures: usize,
    /// Also the accuracy on every CIFAR-10-C corruption and severity in DIR (the published
    /// layout, or the archive `fuzzaug fetch cifar10c` keeps), and their mean.
    #[arg(long, value_name = "DIR")]
    pub corruptions: Option<PathBuf>,
    /// Rebuild failure N (1-based) of the `failures.jsonl` beside `eval.json`, classify it
    /// again and say whether the model still gets it wrong, instead of evaluating.
    #[arg(long, value_name = "N")]
    pub replay: Option<usize>,
    /// Which checkpoint of a run directory: `last` (default) or `best` (kept with
    /// `[train] keep_best`).
    #[arg(long, value_name = "best|last", value_parser = parse_which)]
    pub which: Option<Which>,
    /// `--set` overrides of the run's config.
    #[command(flatten)]
    pub overrides: Overrides,
}

fn parse_which(s: &str) -> Result<Which, String> {
    s.parse()
}

/// The formats `fuzzaug export` writes.
pub const EXPORT_FORMATS: &[&str] = &["safetensors", "torchscript"];

/// `fuzzaug export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run directory or one of its checkpoints.
    #[arg(value_name = "RUN_DIR|CHECKPOINT")]
    pub target: PathBuf,
    /// `safetensors`: the weights under PyTorch's state-dict names, with metadata;
    /// `torchscript`: a self-contained module taking images on 0..1.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(EXPORT_FORMATS))]
    pub format: String,
    /// The file to write. Default: `RUN_DIR/export/<checkpoint>.safetensors` (or `.pt`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Which checkpoint of a run directory: `last` (default) or `best`.
    #[arg(long, value_name = "best|last", value_parser = parse_which)]
    pub which: Option<Which>,
    /// Also write `<FILE stem>.probe.safetensors`: the first N test images (u8), their labels
    /// and fuzzaug's logits for them, to check the export against in PyTorch
    /// (`python/fuzzaug_models.py check`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub probe: Option<u64>,
    /// Replace FILE when it exists.
    #[arg(long)]
    pub overwrite: bool,
}

/// `fuzzaug check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The config file.
    pub config: PathBuf,
    /// `--set` overrides.
    #[command(flatten)]
    pub overrides: Overrides,
}

/// `fuzzaug plugins`.
#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Load only this library and report its fingerprint, components and any incompatibility.
    #[arg(long, value_name = "LIB.so")]
    pub check: Option<PathBuf>,
}

/// `strategy`, `transform` or `dataset`, as `--kind` takes it.
fn component_kind(s: &str) -> Result<fuzzaug_sdk::ComponentKind, String> {
    use fuzzaug_sdk::ComponentKind::{Dataset, Strategy, Transform};
    [Strategy, Transform, Dataset]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| "expected strategy, transform or dataset".to_string())
}

/// `fuzzaug new-plugin`.
#[derive(Debug, Args)]
pub struct NewPluginArgs {
    /// The component's name (lowercase letters, digits, `-`, `_`); the library becomes
    /// `libfuzzaug_<name>.so`.
    pub name: String,
    /// What the plugin offers: strategy, transform or dataset.
    #[arg(long, value_parser = component_kind)]
    pub kind: fuzzaug_sdk::ComponentKind,
    /// The crate's folder (created; must be empty or absent). Default: ./NAME.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Depend on the SDK in this folder (a fuzzaug checkout's `sdk/`). Default: the SDK this
    /// fuzzaug was built from.
    #[arg(long, value_name = "PATH", conflicts_with = "sdk_git")]
    pub sdk_path: Option<PathBuf>,
    /// Depend on the SDK in this git repository instead of a folder.
    #[arg(long, value_name = "URL")]
    pub sdk_git: Option<String>,
    /// The commit, tag or branch of --sdk-git to pin.
    #[arg(long, value_name = "REV", requires = "sdk_git")]
    pub sdk_rev: Option<String>,
}

/// `fuzzaug preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The config file.
    pub config: PathBuf,
    /// The PNG to write.
    #[arg(long)]
    pub out: PathBuf,
    /// `--set` overrides.
    #[command(flatten)]
    pub overrides: Overrides,
}

/// `fuzzaug compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run directories.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Zoom the accuracy axes to the runs' values instead of drawing them from 0 to 1 (for
    /// runs a few points apart).
    #[arg(long)]
    pub zoom: bool,
}

/// `fuzzaug fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// cifar10, cifar10c, cifar100, mnist or fashion-mnist.
    pub dataset: String,
    /// Where to put it (created if needed).
    #[arg(long)]
    pub dir: PathBuf,
    /// Base URL replacing the official one (the file names are appended).
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// Expect this SHA-256 for FILE instead of the pinned one (for mirrors that repackage).
    #[arg(long = "sha256", value_name = "FILE=HEX")]
    pub sha256: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `fuzzaug bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Measure this config's setup (model, dataset, genes, batch size, precision, device)
    /// instead of the built-in one (`small-cnn` on 1,000 `shapes` images, six genes).
    #[arg(long, value_name = "CONFIG")]
    pub config: Option<PathBuf>,
    /// `--set` overrides, applied to the config measured.
    #[command(flatten)]
    pub overrides: Overrides,
    /// Device to measure on (cpu, cuda, cuda:N, auto); overrides the config's.
    #[arg(long)]
    pub device: Option<String>,
    /// Model to measure; overrides the config's `model.arch`.
    #[arg(long)]
    pub model: Option<String>,
    /// Strategies to time an epoch of (repeatable or comma-separated; default: every strategy
    /// on the plugin search path). `standard` is always timed: it is the ratios' denominator.
    #[arg(long = "strategy", value_name = "NAME", value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// Timed calls of each throughput (after 3 warm-up calls).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Timed epochs of each strategy (after one warm-up epoch), run in interleaved rounds.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub epochs: u32,
    /// Project each strategy's run over this many epochs (the published CIFAR-10 runs: 200).
    #[arg(long, default_value_t = 200, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub project_epochs: u32,
    /// Project epochs of this many training images (linear in images; default: the measured
    /// training set), e.g. 50000 for CIFAR-10 measured on a smaller set of the same size.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub project_images: Option<u64>,
    /// Also time scoring and training in fp32 and in bf16 on this model, and score the same
    /// candidates in both to see what bf16 does to the search (rank agreement, changed
    /// choices). For a trained model, initialise it from a run: `--set model.init="RUN_DIR"`.
    #[arg(long)]
    pub compare_precision: bool,
    /// Training images whose candidates `--compare-precision` scores.
    #[arg(long, default_value_t = 1000, value_name = "N", requires = "compare_precision", value_parser = clap::value_parser!(u32).range(1..))]
    pub precision_samples: u32,
    /// Candidates per image `--compare-precision` scores (the identity and random chromosomes).
    #[arg(long, default_value_t = 10, value_name = "K", requires = "compare_precision", value_parser = clap::value_parser!(u32).range(2..))]
    pub precision_candidates: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `fuzzaug sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file, or `status DIR` / `collect DIR` for a sweep folder.
    #[arg(required = true, num_args = 1..=2, value_name = "SWEEP.toml | status DIR | collect DIR")]
    pub args: Vec<String>,
    /// Print the table of runs the sweep expands to; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the sweep on this machine (see -j).
    #[arg(long, conflicts_with_all = ["slurm", "dry_run"])]
    pub local: bool,
    /// Runs at a time with --local.
    #[arg(short = 'j', long = "jobs", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Submit the sweep as one Slurm job array (one task per run).
    #[arg(long, conflicts_with = "dry_run")]
    pub slurm: bool,
    /// Slurm partition.
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// Slurm generic resources per task, e.g. gpu:1.
    #[arg(long, requires = "slurm")]
    pub gres: Option<String>,
    /// Slurm time limit per task, e.g. 24:00:00.
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// Slurm memory per task, e.g. 32G.
    #[arg(long, requires = "slurm")]
    pub mem: Option<String>,
    /// Slurm CPUs per task.
    #[arg(long, requires = "slurm")]
    pub cpus_per_task: Option<u32>,
    /// Further sbatch options, e.g. --extra "--qos=low --account=lab".
    #[arg(long, requires = "slurm", allow_hyphen_values = true)]
    pub extra: Option<String>,
    /// `collect`: the report folder (default: DIR/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
