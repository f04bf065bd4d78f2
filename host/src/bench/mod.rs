//! `fuzzaug bench`: what augmentation, scoring and a training step cost on this
//! machine, and what one epoch of each strategy costs relative to `standard`, all on the same
//! model and data. Figures are medians over repeats after warm-up.
mod epochs;
mod micro;
pub mod precision;
pub mod timing;

pub use epochs::EpochRow;
pub use micro::Throughput;
pub use precision::PrecisionCheck;

use crate::{plugins::Registry, setup::Experiment, train::forward_pass_size};
use fuzzaug_sdk::ComponentKind;
use indicatif::ProgressBar;
use serde::Serialize;
use std::collections::BTreeMap;

/// The config measured when none is given: `small-cnn` on 1,000 `shapes` images with the six
/// genes of the reference study.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Strategies to time an epoch of; `standard` is always measured first (the ratios'
    /// denominator).
    pub strategies: Vec<String>,
    /// Timed calls of each throughput.
    pub repeats: usize,
    /// Timed epochs of each strategy (after one warm-up epoch).
    pub epoch_rounds: usize,
    /// Epochs of the projected run.
    pub project_epochs: u32,
    /// Training images of the projected run's epochs; None: the measured training set.
    pub project_images: Option<u64>,
    /// Training images and candidates per image of `--compare-precision`; None: not run.
    pub precision_check: Option<(usize, usize)>,
}

/// Everything `fuzzaug bench` measured; `--json` prints it as one object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// fuzzaug's version.
    pub fuzzaug: String,
    /// The libtorch it ran on.
    pub libtorch: String,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// The CPU model (from /proc/cpuinfo), for the record next to the figures.
    pub cpu: String,
    /// The GPU's name on a CUDA device (e.g. `NVIDIA H200`), null on the CPU.
    pub gpu: Option<String>,
    /// The network.
    pub model: String,
    /// The weights it started from (`[model] init`, resolved), or null: fresh weights.
    pub init: Option<String>,
    /// The dataset component.
    pub dataset: String,
    /// Training images of each timed epoch.
    pub train_images: i64,
    /// Channels, height, width of one image.
    pub image: [u32; 3],
    /// Classes of the dataset.
    pub classes: usize,
    /// Genes of the chromosomes augmented.
    pub genes: Vec<String>,
    /// Training batch size (also the augmentation batch).
    pub batch_size: u32,
    /// Images per no-grad forward pass when scoring.
    pub score_pass: usize,
    /// libtorch's intra-op threads.
    pub threads: i32,
    /// `fp32` or `bf16`.
    pub precision: String,
    /// Whether convolutions ran channels-last.
    pub channels_last: bool,
    /// Candidates built per second.
    pub augment_images_per_second: f64,
    /// Images per second of a no-grad forward pass.
    pub score_images_per_second: f64,
    /// Images per second of a training step.
    pub train_images_per_second: f64,
    /// Variants per second of a robust evaluation over the {lo, identity, hi} grid.
    pub grid_variants_per_second: f64,
    /// Median epoch seconds per strategy.
    pub epoch_seconds: BTreeMap<String, f64>,
    /// Epoch time per strategy divided by `standard`'s.
    pub epoch_ratio: BTreeMap<String, f64>,
    /// Candidates scored per training image per epoch.
    pub candidates_per_image: BTreeMap<String, f64>,
    /// The unavoidable ratio of each strategy: 1 + k · train ÷ score images/s.
    pub epoch_floor: BTreeMap<String, f64>,
    /// Epochs of the projected run.
    pub project_epochs: u32,
    /// Training images per epoch of the projected run.
    pub project_images: u64,
    /// Projected wall seconds of the run per strategy: its median epoch scaled linearly to
    /// `project_images` images, times `project_epochs`.
    pub projected_seconds: BTreeMap<String, f64>,
    /// fp32 against bf16 on this model (`--compare-precision`), or null.
    pub precision_check: Option<PrecisionCheck>,
}

impl Report {
    /// The hardware in words: the GPU and its host's CPU on CUDA, else the CPU.
    pub fn hardware(&self) -> String {
        match &self.gpu {
            Some(gpu) => format!("{gpu}; host CPU {}", self.cpu),
            None => self.cpu.clone(),
        }
    }
}

/// Every strategy on the search path, `standard` first.
pub fn all_strategies(registry: &Registry) -> Vec<String> {
    let mut names: Vec<String> = registry
        .components()
        .into_iter()
        .filter(|(c, _)| c.kind == ComponentKind::Strategy)
        .map(|(c, _)| c.name.to_string())
        .collect();
    standard_first(&mut names);
    names
}

/// Sorts strategy names by name with `standard` (the ratios' denominator) first.
pub fn standard_first<S: AsRef<str>>(names: &mut [S]) {
    names.sort_by_key(|n| (n.as_ref() != "standard", n.as_ref().to_string()));
}

/// `names` with `standard` first, each once, every one checked against the registry.
fn strategy_list(registry: &Registry, names: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = vec!["standard".to_string()];
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    for n in &out {
        registry.find(ComponentKind::Strategy, n)?;
    }
    Ok(out)
}

/// The floor of a strategy that scores `k` candidates per training image: its extra no-grad
/// forward passes on top of `standard`'s training.
pub fn floor(k: f64, train_per_second: f64, score_per_second: f64) -> f64 {
    if score_per_second > 0.0 {
        1.0 + k * train_per_second / score_per_second
    } else {
        1.0
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Measures the experiment's setup (its model, data, genes, batch size, precision and device).
pub fn run(exp: &mut Experiment, options: &Options, bar: &ProgressBar) -> anyhow::Result<Report> {
    let strategies = strategy_list(&exp.registry, &options.strategies)?;
    // Enough scheduled epochs that the timed ones stay inside the schedule.
    let epochs = exp.config.train.epochs.max(options.epoch_rounds as u32 + 1);
    exp.config.train.epochs = epochs;
    let mut sessions = epochs::sessions(exp, &strategies)?;
    // First, while the model is the one configured (`[model] init` for a trained one): the
    // throughput measurements train it.
    let precision_check = match options.precision_check {
        Some((samples, candidates)) => {
            bar.set_message("fp32 against bf16");
            Some(precision::measure(
                &mut sessions[0],
                samples,
                candidates,
                options.repeats,
            )?)
        }
        None => None,
    };
    bar.set_message("augmentation, scoring and training steps");
    let throughput = micro::measure(&mut sessions[0], options.repeats)?;
    let rows = epochs::measure(&mut sessions, options.epoch_rounds, bar)?;
    let s = &sessions[0];
    let base = rows[0].seconds;
    let info = &s.parts.dataset_info;
    let mut report = Report {
        fuzzaug: env!("CARGO_PKG_VERSION").to_string(),
        libtorch: crate::runtime::built_libtorch(),
        device: match s.device {
            tch::Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".to_string(),
        },
        cpu: cpu_model(),
        gpu: match s.device {
            tch::Device::Cuda(i) => crate::runtime::cuda_device_name(i),
            _ => None,
        },
        model: s.config.model.name(),
        init: s.config.model.init.as_ref().map(|i| {
            crate::setup::relative_to(&exp.base_dir, i)
                .display()
                .to_string()
        }),
        dataset: s.config.dataset.name.clone(),
        train_images: s.data.train.len(),
        image: [info.channels, info.height, info.width],
        classes: info.classes.len(),
        genes: s
            .parts
            .genes
            .iter()
            .map(|g| g.spec.name.to_string())
            .collect(),
        batch_size: s.config.train.batch_size,
        score_pass: forward_pass_size(s.device),
        threads: tch::get_num_threads(),
        precision: s.config.train.precision.as_str().to_string(),
        channels_last: s.config.train.channels_last,
        augment_images_per_second: throughput.augment,
        score_images_per_second: throughput.score,
        train_images_per_second: throughput.train,
        grid_variants_per_second: throughput.grid,
        epoch_seconds: BTreeMap::new(),
        epoch_ratio: BTreeMap::new(),
        candidates_per_image: BTreeMap::new(),
        epoch_floor: BTreeMap::new(),
        project_epochs: options.project_epochs,
        project_images: options
            .project_images
            .unwrap_or(s.data.train.len().max(0) as u64),
        projected_seconds: BTreeMap::new(),
        precision_check,
    };
    let scale = projection_scale(&report, options.project_epochs);
    for r in &rows {
        let k = r.candidates_per_image;
        report.epoch_seconds.insert(r.strategy.clone(), r.seconds);
        report.epoch_ratio.insert(
            r.strategy.clone(),
            if base > 0.0 { r.seconds / base } else { 0.0 },
        );
        report.candidates_per_image.insert(r.strategy.clone(), k);
        report.epoch_floor.insert(
            r.strategy.clone(),
            floor(k, throughput.train, throughput.score),
        );
        report
            .projected_seconds
            .insert(r.strategy.clone(), r.seconds * scale);
    }
    Ok(report)
}

/// What an epoch's seconds are multiplied by for the projected run: its images over the
/// measured ones (an epoch's cost is linear in its images), times its epochs.
fn projection_scale(report: &Report, epochs: u32) -> f64 {
    let measured = report.train_images.max(1) as f64;
    report.project_images as f64 / measured * f64::from(epochs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors() {
        assert_eq!(floor(0.0, 1000.0, 2000.0), 1.0);
        assert_eq!(floor(10.0, 1000.0, 2000.0), 6.0);
        assert_eq!(floor(4.0, 1000.0, 0.0), 1.0);
    }

    #[test]
    fn a_projection_scales_the_epoch_by_images_and_epochs() {
        let report = |train_images: i64, project_images: u64| Report {
            fuzzaug: String::new(),
            libtorch: String::new(),
            device: "cpu".into(),
            cpu: String::new(),
            gpu: None,
            model: String::new(),
            init: None,
            dataset: String::new(),
            train_images,
            image: [3, 32, 32],
            classes: 10,
            genes: Vec::new(),
            batch_size: 128,
            score_pass: 512,
            threads: 1,
            precision: "fp32".into(),
            channels_last: false,
            augment_images_per_second: 0.0,
            score_images_per_second: 0.0,
            train_images_per_second: 0.0,
            grid_variants_per_second: 0.0,
            epoch_seconds: BTreeMap::new(),
            epoch_ratio: BTreeMap::new(),
            candidates_per_image: BTreeMap::new(),
            epoch_floor: BTreeMap::new(),
            project_epochs: 200,
            project_images,
            projected_seconds: BTreeMap::new(),
            precision_check: None,
        };
        assert_eq!(projection_scale(&report(1000, 1000), 200), 200.0);
        assert_eq!(projection_scale(&report(1000, 50_000), 200), 10_000.0);
        assert_eq!(projection_scale(&report(1000, 500), 1), 0.5);
    }

    #[test]
    fn the_default_config_parses() {
        let c: crate::config::Config = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(c.model.arch, "small-cnn");
        assert_eq!(c.transforms.len(), 7);
    }
}
