//! Accuracy under common corruptions (CIFAR-10-C): the run's model on every corruption and
//! severity found in a folder laid out as published, read by the `cifar10c` dataset plugin,
//! normalised as the run normalises; and the mean over the 15 benchmark corruptions and five
//! severities, RobustBench's convention.
use crate::{data::load_split, setup::Experiment, train::Session};
use anyhow::{bail, Context};
use fuzzaug_sdk::Split;
use serde::Serialize;
use std::path::Path;

/// The dataset component that reads the published layout.
const COMPONENT: &str = "cifar10c";

/// The 15 corruptions whose mean over the five severities is the benchmark's corruption
/// accuracy (RobustBench's convention); others found (the 4 extra ones) are reported too.
pub const BENCHMARK: [&str; 15] = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
];
const SEVERITIES: u32 = 5;

/// One corruption at one severity.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The corruption.
    pub corruption: String,
    /// 1 (mildest) to 5.
    pub severity: u32,
    /// Test images.
    pub images: usize,
    /// Accuracy.
    pub accuracy: f64,
}

/// Every entry found and the means.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The folder.
    pub path: String,
    /// Each corruption and severity found, in the benchmark's order.
    pub entries: Vec<Entry>,
    /// Mean over the 15 benchmark corruptions × 5 severities, when all of them are there.
    pub benchmark_mean: Option<f64>,
    /// Mean over every entry.
    pub mean: f64,
}

/// The corruptions `path` holds: the `<name>.npy` files of the folder (or of the archive
/// `fuzzaug fetch` keeps) but `labels.npy`, the benchmark's first in its order, then the rest
/// by name.
fn found(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = if path.is_file() {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut archive = tar::Archive::new(file);
        let entries = archive
            .entries()
            .with_context(|| format!("reading {}", path.display()))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", path.display()))?;
            if let Some(stem) = npy_stem(&entry.path()?) {
                out.push(stem);
            }
        }
        out
    } else {
        std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(Result::ok)
            .filter_map(|e| npy_stem(&e.path()))
            .collect()
    };
    names.retain(|n| n != "labels");
    names.sort_by_key(|n| {
        (
            BENCHMARK.iter().position(|b| b == n).unwrap_or(usize::MAX),
            n.clone(),
        )
    });
    names.dedup();
    Ok(names)
}

fn npy_stem(p: &Path) -> Option<String> {
    (p.extension()? == "npy").then(|| p.file_stem()?.to_str().map(str::to_string))?
}

/// Evaluates `session`'s model on every corruption of `dir`.
pub fn evaluate(exp: &Experiment, session: &Session, dir: &Path) -> anyhow::Result<Report> {
    let classes = session.parts.dataset_info.classes.len();
    let mut entries = Vec::new();
    for name in found(dir)? {
        for severity in 1..=SEVERITIES {
            let mut settings = toml::Table::new();
            settings.insert("path".into(), dir.display().to_string().into());
            settings.insert("corruption".into(), name.clone().into());
            settings.insert("severity".into(), i64::from(severity).into());
            let mut dataset = exp
                .registry
                .dataset(COMPONENT, &settings, &exp.context())
                .with_context(|| format!("{} `{name}` at severity {severity}", dir.display()))?;
            let info = dataset.info()?;
            if info.classes.len() != classes {
                bail!(
                    "{}: {} classes, the model has {classes}",
                    dir.display(),
                    info.classes.len()
                );
            }
            let split = load_split(&mut dataset, &info, Split::Test, session.device)?;
            let acc = crate::train::evaluate::evaluate(
                session.model.as_ref(),
                &split,
                &session.data.normalizer,
                classes,
                session.device,
            )?;
            entries.push(Entry {
                corruption: name.to_string(),
                severity,
                images: split.len() as usize,
                accuracy: acc.accuracy,
            });
        }
    }
    if entries.is_empty() {
        bail!(
            "{} holds none of the CIFAR-10-C corruption files (`<corruption>.npy` beside `labels.npy`, e.g. {}.npy)",
            dir.display(),
            BENCHMARK[0]
        );
    }
    let mean = |e: &[&Entry]| e.iter().map(|x| x.accuracy).sum::<f64>() / e.len().max(1) as f64;
    let bench: Vec<&Entry> = entries
        .iter()
        .filter(|e| BENCHMARK.contains(&e.corruption.as_str()))
        .collect();
    let all: Vec<&Entry> = entries.iter().collect();
    Ok(Report {
        path: dir.display().to_string(),
        benchmark_mean: (bench.len() == BENCHMARK.len() * SEVERITIES as usize)
            .then(|| mean(&bench)),
        mean: mean(&all),
        entries,
    })
}
