//! Where the `.npy` files are: a folder holding them, a folder holding the unpacked
//! `CIFAR-10-C/` or the official `CIFAR-10-C.tar`, or that archive itself (not extracted: a
//! member of an uncompressed tar is a run of bytes of the archive, read in place).
//!
//! Every file is a [`Blob`], a byte range of a regular file on disk whose length is known before
//! anything is read, so each read is bounded by what the file holds and by what its header
//! declares.
use crate::npy;
use fuzzaug_sdk::PluginError;
use std::{
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

/// The folder the official archive unpacks to.
pub const FOLDER: &str = "CIFAR-10-C";

/// The official archive's file name (Zenodo record 2535967).
pub const ARCHIVE: &str = "CIFAR-10-C.tar";

/// The labels file, shared by every corruption file.
pub const LABELS: &str = "labels.npy";

/// One file's bytes on disk: a whole file, or a member of an uncompressed tar archive.
#[derive(Debug)]
pub struct Blob {
    /// The file as messages name it: its path, or the archive's path and the member's path.
    pub name: String,
    /// Bytes it holds (for a member, at most what the archive still holds of it).
    pub len: u64,
    file: File,
    start: u64,
}

impl Blob {
    /// A reader of the blob's bytes from `offset` on, which ends where the blob ends.
    pub fn reader_at(&mut self, offset: u64) -> Result<impl Read + '_, PluginError> {
        let name = &self.name;
        let left = self.len.saturating_sub(offset);
        self.file
            .seek(SeekFrom::Start(self.start.saturating_add(offset)))
            .map_err(|e| PluginError::new(format!("{name}: cannot read: {e}")))?;
        Ok((&mut self.file).take(left))
    }

    /// The `.npy` header at the start of the blob ([`npy::read_header`]).
    pub fn npy_header(&mut self) -> Result<npy::Header, PluginError> {
        let name = self.name.clone();
        npy::read_header(&mut self.reader_at(0)?, &name)
    }

    /// Exactly `count` bytes from `offset`, with `what` naming them in the message when the
    /// blob ends first (it was checked to hold them, so it changed while being read).
    pub fn read_exact_at(
        &mut self,
        offset: u64,
        count: u64,
        what: &str,
    ) -> Result<Vec<u8>, PluginError> {
        let name = self.name.clone();
        let no_room = || PluginError::new(format!("{name}: {count} bytes do not fit in memory"));
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(usize::try_from(count).map_err(|_| no_room())?)
            .map_err(|_| no_room())?;
        self.reader_at(offset)?
            .take(count)
            .read_to_end(&mut bytes)
            .map_err(|e| PluginError::new(format!("{name}: cannot read: {e}")))?;
        if (bytes.len() as u64) < count {
            return Err(PluginError::new(format!(
                "{name}: truncated: the file ended after {} of the {count} bytes of {what} from \
                 byte {offset} (did it change while being read?)",
                bytes.len()
            )));
        }
        Ok(bytes)
    }
}

/// The message for a `path` that is missing or unreadable.
fn not_there(path: &Path, e: &io::Error) -> PluginError {
    let what = if e.kind() == io::ErrorKind::NotFound {
        "no such file or directory".to_string()
    } else {
        format!("cannot open: {e}")
    };
    PluginError::new(format!(
        "{}: {what} (expected a folder holding {LABELS} and the corruption files, a folder \
         holding `{FOLDER}/` or `{ARCHIVE}`, or the archive itself)",
        path.display()
    ))
}

/// Opens the files `names` (bare file names), returned in that order, from `path`: the folder
/// holding them, a folder holding `CIFAR-10-C/` or `CIFAR-10-C.tar`, or the archive (whose
/// members are found by file name whatever folder they sit in).
pub fn open(path: &Path, names: &[&str]) -> Result<Vec<Blob>, PluginError> {
    let meta = std::fs::metadata(path).map_err(|e| not_there(path, &e))?;
    if !meta.is_dir() {
        return open_archive(path, names);
    }
    let nested = path.join(FOLDER);
    let archive = path.join(ARCHIVE);
    if !path.join(LABELS).exists() {
        if nested.is_dir() {
            return open_files(&nested, names);
        }
        if archive.is_file() {
            return open_archive(&archive, names);
        }
    }
    open_files(path, names)
}

fn open_files(dir: &Path, names: &[&str]) -> Result<Vec<Blob>, PluginError> {
    names
        .iter()
        .map(|n| {
            let file = dir.join(n);
            let name = file.display().to_string();
            let cannot = |e: io::Error| {
                if e.kind() == io::ErrorKind::NotFound {
                    PluginError::new(format!(
                        "{name}: no such file or directory (CIFAR-10-C needs {} in one folder)",
                        names.join(" and ")
                    ))
                } else {
                    PluginError::new(format!("{name}: cannot read: {e}"))
                }
            };
            let f = File::open(&file).map_err(cannot)?;
            let meta = f.metadata().map_err(cannot)?;
            if !meta.is_file() {
                return Err(PluginError::new(format!("{name}: not a regular file")));
            }
            Ok(Blob {
                name,
                len: meta.len(),
                file: f,
                start: 0,
            })
        })
        .collect()
}

/// Finds the members `names` in the uncompressed tar at `path` by walking its headers (seeking
/// over the data), and opens each as the run of archive bytes it occupies.
fn open_archive(path: &Path, names: &[&str]) -> Result<Vec<Blob>, PluginError> {
    let shown = path.display().to_string();
    let archive_error = |e: io::Error| {
        PluginError::new(format!(
            "{shown}: cannot read the .tar archive (truncated, corrupt, or not an uncompressed \
             tar?): {e}"
        ))
    };
    let open = || File::open(path).map_err(|e| not_there(path, &e));
    let mut file = open()?;
    let archive_len = file.metadata().map_err(archive_error)?.len();
    // Two likely mistakes get a plain answer rather than a tar parser's complaint.
    let mut start = Vec::with_capacity(npy::MAGIC.len());
    (&mut file)
        .take(npy::MAGIC.len() as u64)
        .read_to_end(&mut start)
        .map_err(archive_error)?;
    if start == npy::MAGIC {
        return Err(PluginError::new(format!(
            "{shown}: this is one .npy file; set `path` to the folder holding it, {LABELS} and \
             the other corruption files"
        )));
    }
    if start.starts_with(&[0x1f, 0x8b]) {
        return Err(PluginError::new(format!(
            "{shown}: this is gzip-compressed; {ARCHIVE} is an uncompressed tar (unpack it, or \
             gunzip it first)"
        )));
    }
    file.seek(SeekFrom::Start(0)).map_err(archive_error)?;
    let mut archive = tar::Archive::new(file);
    // (member path, data position in the archive, size by its header) per wanted name.
    let mut found: Vec<Option<(String, u64, u64)>> = vec![None; names.len()];
    for entry in archive.entries_with_seek().map_err(archive_error)? {
        let entry = entry.map_err(archive_error)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry.path().map_err(archive_error)?.into_owned();
        let Some(slot) = member
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| names.iter().position(|w| *w == n))
        else {
            continue;
        };
        let member = member.display().to_string();
        if let Some((first, _, _)) = &found[slot] {
            // Two candidates (say, two folders) leave no way to tell which one is meant.
            return Err(PluginError::new(format!(
                "{shown}: the archive holds more than one member named {} ({first} and {member})",
                names[slot]
            )));
        }
        found[slot] = Some((member, entry.raw_file_position(), entry.size()));
    }
    found
        .into_iter()
        .zip(names)
        .map(|(member, n)| {
            let (member, start, size) = member.ok_or_else(|| {
                PluginError::new(format!(
                    "{shown}: the archive has no member named {n} (in any folder)"
                ))
            })?;
            Ok(Blob {
                name: format!("{shown} (member {member})"),
                // A member cut short by a truncated archive holds only what is there.
                len: size.min(archive_len.saturating_sub(start)),
                file: open()?,
                start,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(bytes: &[u8]) -> (tempfile::TempDir, Blob) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LABELS), bytes).unwrap();
        let mut blobs = open(dir.path(), &[LABELS]).unwrap();
        (dir, blobs.remove(0))
    }

    #[test]
    fn reads_are_bounded_by_the_blob() {
        let (_dir, mut b) = blob(&[0, 1, 2, 3, 4, 5]);
        assert_eq!(b.len, 6);
        assert_eq!(b.read_exact_at(2, 3, "data").unwrap(), [2, 3, 4]);
        let mut rest = Vec::new();
        b.reader_at(4).unwrap().read_to_end(&mut rest).unwrap();
        assert_eq!(rest, [4, 5]);
        // Past the end: nothing, not an error.
        rest.clear();
        b.reader_at(99).unwrap().read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        let e = b.read_exact_at(4, 3, "the labels").unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "{}: truncated: the file ended after 2 of the 3 bytes of the labels from byte 4 \
                 (did it change while being read?)",
                b.name
            )
        );
        let e = b.read_exact_at(0, u64::MAX, "x").unwrap_err();
        assert_eq!(
            e.message,
            format!("{}: {} bytes do not fit in memory", b.name, u64::MAX)
        );
    }

    #[test]
    fn a_member_is_bounded_by_its_header_and_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let tar_path = dir.path().join(ARCHIVE);
        let mut builder = tar::Builder::new(File::create(&tar_path).unwrap());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        builder
            .append_data(&mut h, "CIFAR-10-C/labels.npy", &[9u8, 8, 7, 6, 5][..])
            .unwrap();
        builder.into_inner().unwrap();
        let mut b = open(&tar_path, &[LABELS]).unwrap().remove(0);
        assert_eq!(b.len, 5);
        assert_eq!(
            b.name,
            format!("{} (member CIFAR-10-C/labels.npy)", tar_path.display())
        );
        assert_eq!(b.read_exact_at(1, 4, "x").unwrap(), [8, 7, 6, 5]);
        // The next byte of the archive (padding) is not the member's.
        assert!(b.read_exact_at(1, 5, "x").is_err());
    }
}
