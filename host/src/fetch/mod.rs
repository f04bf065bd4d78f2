//! `fuzzaug fetch`: download a public dataset, verify it against pinned SHA-256 values, unpack
//! it, and say how to use it.
pub mod catalog;
mod download;
mod unpack;

pub use download::{part_path, sha256_of, Outcome};

use anyhow::Context;
use catalog::Unpack;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// What to fetch and from where.
pub struct Request<'a> {
    /// Dataset name (see [`catalog::CATALOG`]).
    pub dataset: &'a str,
    /// Destination folder (created).
    pub dir: &'a Path,
    /// Base URL replacing the official one.
    pub mirror: Option<&'a str>,
    /// SHA-256 overrides by file name (for mirrors that repackage).
    pub sha256: BTreeMap<String, String>,
    /// No progress bars.
    pub quiet: bool,
}

/// Fetches and unpacks; returns the `path` to put in the config.
pub fn fetch(req: &Request<'_>) -> anyhow::Result<PathBuf> {
    let entry = catalog::find(req.dataset).map_err(anyhow::Error::msg)?;
    if let Some(unknown) = req
        .sha256
        .keys()
        .find(|k| !entry.files.iter().any(|f| f.file == k.as_str()))
    {
        let names: Vec<&str> = entry.files.iter().map(|f| f.file).collect();
        anyhow::bail!(
            "--sha256 names `{unknown}`, which is not a file of {}: {}",
            entry.name,
            names.join(", ")
        );
    }
    std::fs::create_dir_all(req.dir).with_context(|| format!("creating {}", req.dir.display()))?;
    let base = match req.mirror {
        Some(m) if m.ends_with('/') => m.to_string(),
        Some(m) => format!("{m}/"),
        None => entry.base_url.to_string(),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    for f in entry.files {
        let url = format!("{base}{}", f.file);
        let dest = req.dir.join(f.file);
        let sha = req
            .sha256
            .get(f.file)
            .map(String::as_str)
            .unwrap_or(f.sha256)
            .to_ascii_lowercase();
        match download::fetch(&agent, &url, &dest, &sha, f.size, req.quiet)? {
            Outcome::AlreadyThere => {
                log::info!("{}: already downloaded and verified", dest.display())
            }
            Outcome::Downloaded { resumed_from: 0 } => {
                log::info!("{}: downloaded and verified", dest.display())
            }
            Outcome::Downloaded { resumed_from } => {
                log::info!(
                    "{}: resumed at byte {resumed_from}, downloaded and verified",
                    dest.display()
                )
            }
        }
        if let Unpack::TarGz(folder) = entry.unpack {
            unpack::tar_gz(&dest, req.dir, folder)?;
        }
    }
    Ok(match entry.unpack {
        Unpack::TarGz(folder) => req.dir.join(folder),
        Unpack::Keep => req.dir.to_path_buf(),
    })
}
