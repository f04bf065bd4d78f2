//! `fuzzaug bench [--config CONFIG] [--device D] [--model M] [--strategy S]... [--json]`.
use crate::setup::PluginFlags;
use crate::{
    bench::{self, Options, Report},
    cli::BenchArgs,
    config,
    setup::Experiment,
};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Measures and prints the report.
pub fn run(args: &BenchArgs, cli: &PluginFlags) -> anyhow::Result<u8> {
    let mut overrides = args.overrides.set.clone();
    if let Some(d) = &args.device {
        overrides.push(format!("device={}", config::toml_string(d)));
    }
    if let Some(m) = &args.model {
        overrides.push(format!("model.arch={}", config::toml_string(m)));
    }
    // The built-in config is written to a temporary file so that it loads, validates and
    // reports errors exactly like a user's.
    let scratch;
    let path = match &args.config {
        Some(p) => p.clone(),
        None => {
            scratch = tempfile::tempdir().context("creating a temporary folder")?;
            let p = scratch.path().join("built-in-bench.toml");
            std::fs::write(&p, bench::DEFAULT_CONFIG)
                .with_context(|| format!("writing {}", p.display()))?;
            p
        }
    };
    let mut exp = Experiment::load(&path, &overrides, cli).with_context(|| match &args.config {
        Some(p) => format!("loading {}", p.display()),
        None => {
            "loading the built-in bench setup (`--config CONFIG` measures your own)".to_string()
        }
    })?;
    let strategies = if args.strategies.is_empty() {
        bench::all_strategies(&exp.registry)
    } else {
        args.strategies.clone()
    };
    let options = Options {
        strategies,
        repeats: args.repeats as usize,
        epoch_rounds: args.epochs as usize,
        project_epochs: args.project_epochs,
        project_images: args.project_images,
        precision_check: args.compare_precision.then_some((
            args.precision_samples as usize,
            args.precision_candidates as usize,
        )),
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) = ProgressStyle::with_template("bench {bar:30} {pos}/{len} epochs  {msg}") {
        bar.set_style(style);
    }
    let report = bench::run(&mut exp, &options, &bar)?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(0)
}

fn grouped(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The human-readable report.
fn table(r: &Report) -> String {
    let [c, h, w] = r.image;
    let mut s = format!(
        "fuzzaug {} bench: {} on {} ({} train images, {c}×{h}×{w}, {} classes), {} ({}), {} threads, {}, {}\n\n",
        r.fuzzaug,
        r.model,
        r.dataset,
        r.train_images,
        r.classes,
        r.device,
        r.hardware(),
        r.threads,
        r.precision,
        if r.channels_last { "channels-last" } else { "NCHW" },
    );
    if let Some(init) = &r.init {
        s += &format!("weights from {init}\n\n");
    }
    s += &format!(
        "augment  {:>9} images/s  ({} genes: {}; batches of {})\n",
        grouped(r.augment_images_per_second),
        r.genes.len(),
        r.genes.join(", "),
        r.batch_size
    );
    s += &format!(
        "score    {:>9} images/s  (no-grad forward, passes of {})\n",
        grouped(r.score_images_per_second),
        r.score_pass
    );
    s += &format!(
        "train    {:>9} images/s  (forward, backward and optimiser step, batches of {})\n",
        grouped(r.train_images_per_second),
        r.batch_size
    );
    s += &format!(
        "grid     {:>9} variants/s  (robust evaluation: {{lo, identity, hi}} per gene, built and classified)\n\n",
        grouped(r.grid_variants_per_second),
    );
    let projected = format!("{} epochs", r.project_epochs);
    s += &format!(
        "{:<12} {:>9} {:>7} {:>6} {:>7} {:>12} {:>12}\n",
        "strategy", "epoch s", "ratio", "k", "floor", "ratio/floor", projected
    );
    let mut names: Vec<&String> = r.epoch_ratio.keys().collect();
    bench::standard_first(&mut names);
    for n in names {
        let ratio = r.epoch_ratio[n];
        let floor = r.epoch_floor[n];
        s += &format!(
            "{:<12} {:>9.2} {:>7.2} {:>6.2} {:>7.2} {:>12.2} {:>12}\n",
            n,
            r.epoch_seconds[n],
            ratio,
            r.candidates_per_image[n],
            floor,
            ratio / floor,
            hours(r.projected_seconds[n])
        );
    }
    s += &format!(
        "\nk: candidates scored per training image per epoch; floor: 1 + k · train ÷ score images/s,\n\
         the cost of k extra no-grad forward passes on top of standard training.\n\
         {projected}: the median epoch × {} epochs of {} training images (h:mm:ss).\n",
        r.project_epochs,
        grouped(r.project_images as f64)
    );
    if let Some(p) = &r.precision_check {
        s += &precision_table(p);
    }
    s
}

/// Seconds as h:mm:ss.
fn hours(seconds: f64) -> String {
    let t = seconds.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// The `--compare-precision` section.
fn precision_table(p: &bench::PrecisionCheck) -> String {
    let ratio = |bf16: f64, fp32: f64| if fp32 > 0.0 { bf16 / fp32 } else { 0.0 };
    let row = |name: &str, fp32: f64, bf16: f64| {
        format!(
            "{name:<8} {:>9} {:>9} {:>8.2}×\n",
            grouped(fp32),
            grouped(bf16),
            ratio(bf16, fp32)
        )
    };
    let mut s = format!(
        "\n{:<8} {:>9} {:>9} {:>9}\n",
        "images/s", "fp32", "bf16", "bf16÷fp32"
    );
    s += &row(
        "score",
        p.fp32.score_images_per_second,
        p.bf16.score_images_per_second,
    );
    s += &row(
        "train",
        p.fp32.train_images_per_second,
        p.bf16.train_images_per_second,
    );
    s += &format!(
        "\nbf16 scoring of {} training images × {} candidates against fp32: Spearman {:.4} over all \
         candidates, {:.4} within a sample on average; the chosen (highest-fitness) candidate changes \
         for {:.1}% of samples, which keep {:.2}% of the fp32 choices' fitness.\n",
        p.samples,
        p.candidates,
        p.spearman,
        p.sample_spearman,
        100.0 * p.changed_choices,
        100.0 * p.chosen_fitness_kept
    );
    s
}
