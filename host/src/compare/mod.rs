//! `fuzzaug compare`: reads finished (and unfinished) run directories and writes the comparison
//! table, figures and a self-contained HTML report (the figures the reference studies report).
pub mod figures;
pub mod html;
pub mod record;
pub mod table;

use anyhow::{bail, Context};
use record::Record;
use std::path::{Path, PathBuf};

/// What `write` produced.
#[derive(Debug)]
pub struct Report {
    /// The runs compared, in the order given.
    pub runs: Vec<Record>,
    /// Every file written.
    pub files: Vec<PathBuf>,
}

/// Loads `dirs` and writes `table.md`, `table.csv`, the figures and `report.html` into `out`;
/// `zoom` draws the accuracy axes over the runs' values instead of 0 to 1.
pub fn write(dirs: &[PathBuf], out: &Path, zoom: bool) -> anyhow::Result<Report> {
    if dirs.is_empty() {
        bail!("no run directories to compare");
    }
    let runs = dirs
        .iter()
        .map(|d| Record::load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    for (name, text) in [
        ("table.md", table::markdown(&runs)),
        ("table.csv", table::csv(&runs)),
    ] {
        let path = out.join(name);
        crate::atomic::write(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    let scale = if zoom {
        crate::report::plot::Scale::Auto
    } else {
        crate::report::plot::Scale::FRACTION
    };
    let drawn = figures::write(out, &runs, scale)?;
    for (stem, _) in &drawn {
        files.push(out.join(format!("{stem}.png")));
        files.push(out.join(format!("{stem}.svg")));
    }
    html::write(out, &runs, &drawn)?;
    files.push(out.join("report.html"));
    Ok(Report { runs, files })
}
