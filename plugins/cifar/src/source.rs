//! Where the files come from: the unpacked folder, its parent, or the official `.tar.gz` read in
//! one streaming pass.
use flate2::read::GzDecoder;
use fuzzaug_sdk::PluginError;
use std::{
    fs::File,
    io::{self, BufReader, Read},
    path::{Path, PathBuf},
};

/// The official packaging of one data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The data set's name in messages ("CIFAR-10").
    pub dataset: &'static str,
    /// The folder the official archive unpacks to (`cifar-10-batches-bin`).
    pub folder: &'static str,
    /// The official archive's file name (`cifar-10-binary.tar.gz`).
    pub archive: &'static str,
}

/// The contents of one file, with the name messages use for it: the full path of a file in a
/// folder, or the archive's path and the member's path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The file as messages name it.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Resolves a `path` setting against the config's folder (absolute paths stay as they are).
/// Rebuilding from `components()` drops inner `.` parts, so messages show `/data/cifar`, not
/// `/data/./cifar`; `..` stays, as removing it is only right without symlinks.
pub fn resolve(path: &str, config_dir: &str) -> PathBuf {
    Path::new(config_dir).join(path).components().collect()
}

/// Reads the files named `wanted` (bare file names), returned in the order of `wanted`.
///
/// `path` is the unpacked folder, a folder holding it, or the `.tar.gz` archive, whose members are
/// matched by file name whatever folder they sit in.
pub fn read_members(
    path: &Path,
    layout: &Layout,
    wanted: &[&str],
) -> Result<Vec<Member>, PluginError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        let what = if e.kind() == io::ErrorKind::NotFound {
            "no such file or directory".to_string()
        } else {
            format!("cannot open: {e}")
        };
        PluginError::new(format!(
            "{}: {what} (expected the unpacked {} folder `{}`, a folder holding it, or the archive `{}`)",
            path.display(),
            layout.dataset,
            layout.folder,
            layout.archive
        ))
    })?;
    if meta.is_dir() {
        let nested = path.join(layout.folder);
        let dir = if nested.is_dir() {
            nested
        } else {
            path.to_path_buf()
        };
        wanted
            .iter()
            .map(|name| read_file(&dir, name, layout, wanted))
            .collect()
    } else {
        read_archive(path, wanted)
    }
}

fn read_file(
    dir: &Path,
    name: &str,
    layout: &Layout,
    wanted: &[&str],
) -> Result<Member, PluginError> {
    let file = dir.join(name);
    let bytes = std::fs::read(&file).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            PluginError::new(format!(
                "{}: no such file or directory ({} needs {} in one folder)",
                file.display(),
                layout.dataset,
                wanted.join(", ")
            ))
        } else {
            PluginError::new(format!("{}: cannot read: {e}", file.display()))
        }
    })?;
    Ok(Member {
        name: file.display().to_string(),
        bytes,
    })
}

/// One pass over the archive, keeping the wanted members; then the rest of the gzip stream is
/// drained so its length and CRC are checked and a truncated download cannot pass.
fn read_archive(path: &Path, wanted: &[&str]) -> Result<Vec<Member>, PluginError> {
    let archive_error = |e: io::Error| {
        PluginError::new(format!(
            "{}: cannot read the .tar.gz archive (truncated or corrupt?): {e}",
            path.display()
        ))
    };
    let file = File::open(path)
        .map_err(|e| PluginError::new(format!("{}: cannot open: {e}", path.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut found: Vec<Option<Member>> = vec![None; wanted.len()];
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member_path = entry.path().map_err(archive_error)?.into_owned();
        let Some(slot) = member_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| wanted.iter().position(|w| *w == n))
        else {
            continue;
        };
        let name = format!("{} (member {})", path.display(), member_path.display());
        if found[slot].is_some() {
            // Two candidates (say, two folders) leave no way to tell which one is meant.
            return Err(PluginError::new(format!(
                "{}: the archive holds more than one member named {} (the second is {})",
                path.display(),
                wanted[slot],
                member_path.display()
            )));
        }
        let size = entry.size();
        // The size comes from the file: cap the up-front allocation, let `read_to_end` grow.
        let mut bytes = Vec::with_capacity(size.min(1 << 28) as usize);
        entry.read_to_end(&mut bytes).map_err(archive_error)?;
        if bytes.len() as u64 != size {
            return Err(archive_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "member {} ends after {} of its {size} bytes",
                    member_path.display(),
                    bytes.len()
                ),
            )));
        }
        found[slot] = Some(Member { name, bytes });
    }
    let mut gz = archive.into_inner();
    io::copy(&mut gz, &mut io::sink()).map_err(archive_error)?;
    found
        .into_iter()
        .zip(wanted)
        .map(|(member, name)| {
            member.ok_or_else(|| {
                PluginError::new(format!(
                    "{}: the archive has no member named {name} (in any folder)",
                    path.display()
                ))
            })
        })
        .collect()
}
