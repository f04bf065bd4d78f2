//! `fuzzaug sweep`: a base config and axes expanded into one config per combination, written
//! under the sweep's folder and run here (`local`) or as a Slurm job array (`slurm`);
//! `status` follows it and `collect` builds its comparison.
//!
//! The sweep folder:
//! ```text
//! <dir>/sweep.json          the runs, their axis values and configs; the Slurm job id
//! <dir>/configs/<run>.toml  one standalone config per run (`fuzzaug run` takes it as is)
//! <dir>/runs/<run>/         the run directories
//! <dir>/logs/               one log per run (local) or per array task (Slurm)
//! <dir>/submit.sbatch       the job array script (Slurm)
//! ```
mod expand;
pub mod local;
pub mod slurm;
mod spec;
pub mod status;

pub use expand::{expand, RunPlan};
pub use spec::{Axis, AxisValue, Spec, SpecError};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One run as `sweep.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The run's name.
    pub name: String,
    /// Its config, absolute.
    pub config: PathBuf,
    /// (axis key, value), in axis order.
    pub values: Vec<(String, String)>,
}

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The sweep's name.
    pub name: String,
    /// The sweep file it came from.
    pub sweep_file: PathBuf,
    /// The runs, in expansion order (= Slurm array index).
    pub runs: Vec<RunEntry>,
    /// The job id of the submitted array, if any.
    #[serde(default)]
    pub slurm_job: Option<String>,
}

impl Manifest {
    /// The file in a sweep folder.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("sweep.json")
    }

    /// Reads a sweep folder's manifest.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = Self::path(dir);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a sweep folder: cannot read {} ({e}); `fuzzaug sweep SWEEP.toml` writes it",
                dir.display(),
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
    }

    /// Writes it atomically.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let path = Self::path(dir);
        crate::atomic::write(
            &path,
            (serde_json::to_string_pretty(self)? + "\n").as_bytes(),
        )
        .with_context(|| format!("writing {}", path.display()))
    }

    /// A run's directory.
    pub fn run_dir(dir: &Path, run: &str) -> PathBuf {
        dir.join("runs").join(run)
    }
}

/// Writes the sweep's configs and manifest (keeping a submitted job id); returns the manifest.
/// Each config is checked as `fuzzaug check` would, its plugins included, by `check`.
pub fn write(
    spec: &Spec,
    runs: &[RunPlan],
    check: impl Fn(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<Manifest> {
    let configs = spec.dir.join("configs");
    for d in [&configs, &spec.dir.join("logs"), &spec.dir.join("runs")] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let dir = std::path::absolute(&spec.dir)?;
    let previous = Manifest::read(&dir).ok();
    let mut entries = Vec::new();
    for r in runs {
        let path = dir.join("configs").join(format!("{}.toml", r.name));
        crate::atomic::write(&path, r.text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        check(&path).with_context(|| {
            format!(
                "run `{}` ({})",
                r.name,
                r.values
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        entries.push(RunEntry {
            name: r.name.clone(),
            config: path,
            values: r.values.clone(),
        });
    }
    let manifest = Manifest {
        name: spec.name.clone(),
        sweep_file: std::path::absolute(&spec.path)?,
        slurm_job: previous
            .filter(|p| p.runs == entries)
            .and_then(|p| p.slurm_job),
        runs: entries,
    };
    manifest.write(&dir)?;
    Ok(manifest)
}
