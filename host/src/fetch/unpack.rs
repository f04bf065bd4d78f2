//! Unpacking a verified `.tar.gz` (the tar crate refuses entries that would escape the folder).
use anyhow::{bail, Context};
use flate2::read::GzDecoder;
use std::{fs::File, path::Path};

/// Extracts `archive` into `dir` and checks that it produced `folder`.
pub fn tar_gz(archive: &Path, dir: &Path, folder: &str) -> anyhow::Result<()> {
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    tar::Archive::new(GzDecoder::new(file))
        .unpack(dir)
        .with_context(|| format!("unpacking {} into {}", archive.display(), dir.display()))?;
    if !dir.join(folder).is_dir() {
        bail!(
            "{} did not unpack into a folder `{folder}` in {}",
            archive.display(),
            dir.display()
        );
    }
    Ok(())
}
