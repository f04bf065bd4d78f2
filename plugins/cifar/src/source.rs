//! Where the files come from: the unpacked folder, its parent, or the official `.tar.gz` read in
//! one streaming pass.
//!
//! Every file is read with a bound ([`Wanted::max_bytes`]): a file, or an archive member, that is
//! larger is refused from its size on disk or in the tar header before any of it is read, and
//! the read itself stops one byte past the bound, so no file can take more memory than the
//! largest official one.
use flate2::read::GzDecoder;
use fuzzaug_sdk::PluginError;
use std::{
    fs::File,
    io::{self, BufReader, Read},
    path::Path,
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

/// A file to read, found by its bare name, and the most bytes it may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The bare file name (`data_batch_1.bin`).
    pub name: &'static str,
    /// The most bytes the file may hold; a larger one is refused, unread when its size says so.
    pub max_bytes: u64,
    /// Why that bound, completing "more than the N bytes …" in the message: "of the official
    /// CIFAR-10 data_batch_1.bin (10000 records of 3073 bytes)".
    pub bound: String,
}

impl Wanted {
    /// The error for a file larger than [`Self::max_bytes`]: `size` bytes by its metadata or
    /// tar header, or `None` when it only turned out larger while being read. `name` is the file
    /// as messages name it.
    fn too_big(&self, name: &str, size: Option<u64>) -> PluginError {
        let size = size.map_or_else(String::new, |s| format!("{s} bytes, "));
        PluginError::new(format!(
            "{name}: {size}more than the {} bytes {}",
            self.max_bytes, self.bound
        ))
    }
}

/// Reads `reader`, of `size` bytes by its header or metadata, into memory if that is at most
/// `wanted.max_bytes`; never reads more than one byte past the bound, and refuses the file when
/// that byte comes. `name` names the file in messages, `io_error` words a failed read.
fn read_bounded(
    mut reader: impl Read,
    size: u64,
    wanted: &Wanted,
    name: &str,
    io_error: impl Fn(io::Error) -> PluginError,
) -> Result<Vec<u8>, PluginError> {
    if size > wanted.max_bytes {
        return Err(wanted.too_big(name, Some(size)));
    }
    let no_room = || PluginError::new(format!("{name}: {size} bytes do not fit in memory"));
    let mut bytes = Vec::new();
    // At most `max_bytes` (154 MB for CIFAR-100's train.bin): fail with a message, not an abort.
    bytes
        .try_reserve_exact(usize::try_from(size).map_err(|_| no_room())?)
        .map_err(|_| no_room())?;
    // One byte past the bound tells a file that is larger than its size said (one that grew,
    // or a device).
    (&mut reader)
        .take(wanted.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > wanted.max_bytes {
        return Err(wanted.too_big(name, None));
    }
    Ok(bytes)
}

/// Reads the files `wanted`, returned in the order of `wanted`.
///
/// `path` is the unpacked folder, a folder holding it, or the `.tar.gz` archive, whose members are
/// matched by file name whatever folder they sit in.
pub fn read_members(
    path: &Path,
    layout: &Layout,
    wanted: &[Wanted],
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
            .map(|w| read_file(&dir, w, layout, wanted))
            .collect()
    } else {
        read_archive(path, wanted)
    }
}

fn read_file(
    dir: &Path,
    wanted: &Wanted,
    layout: &Layout,
    all: &[Wanted],
) -> Result<Member, PluginError> {
    let file = dir.join(wanted.name);
    let name = file.display().to_string();
    let cannot = |e: io::Error| PluginError::new(format!("{name}: cannot read: {e}"));
    let opened = File::open(&file).and_then(|f| Ok((f.metadata()?, f)));
    let (meta, f) = opened.map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            let names: Vec<&str> = all.iter().map(|w| w.name).collect();
            PluginError::new(format!(
                "{name}: no such file or directory ({} needs {} in one folder)",
                layout.dataset,
                names.join(", ")
            ))
        } else {
            cannot(e)
        }
    })?;
    // Only a regular file's size is its length (a pipe or device reports 0); the bounded read
    // catches the others.
    let size = if meta.is_file() { meta.len() } else { 0 };
    let bytes = read_bounded(BufReader::new(f), size, wanted, &name, cannot)?;
    Ok(Member { name, bytes })
}

fn read_archive(path: &Path, wanted: &[Wanted]) -> Result<Vec<Member>, PluginError> {
    let file = File::open(path)
        .map_err(|e| PluginError::new(format!("{}: cannot open: {e}", path.display())))?;
    read_archive_from(path, BufReader::new(file), wanted)
}

/// Reads the files `wanted` from `reader`, the bytes of the `.tar.gz` archive that messages name
/// `path`, in the order of `wanted`: one pass over the archive, keeping the wanted members; then
/// the rest of the gzip stream is drained so its length and CRC are checked and a truncated
/// download cannot pass.
pub fn read_archive_from(
    path: &Path,
    reader: impl Read,
    wanted: &[Wanted],
) -> Result<Vec<Member>, PluginError> {
    let archive_error = |e: io::Error| {
        PluginError::new(format!(
            "{}: cannot read the .tar.gz archive (truncated or corrupt?): {e}",
            path.display()
        ))
    };
    let mut archive = tar::Archive::new(GzDecoder::new(reader));
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
            .and_then(|n| wanted.iter().position(|w| w.name == n))
        else {
            continue;
        };
        let name = format!("{} (member {})", path.display(), member_path.display());
        if found[slot].is_some() {
            // Two candidates (say, two folders) leave no way to tell which one is meant.
            return Err(PluginError::new(format!(
                "{}: the archive holds more than one member named {} (the second is {})",
                path.display(),
                wanted[slot].name,
                member_path.display()
            )));
        }
        // The tar header's size, checked against the bound before a byte is inflated.
        let size = entry.size();
        let bytes = read_bounded(&mut entry, size, &wanted[slot], &name, archive_error)?;
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
        .map(|(member, w)| {
            member.ok_or_else(|| {
                PluginError::new(format!(
                    "{}: the archive has no member named {} (in any folder)",
                    path.display(),
                    w.name
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that counts the bytes taken from it.
    struct Counted<R> {
        inner: R,
        pulled: u64,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.pulled += n as u64;
            Ok(n)
        }
    }

    fn wanted(max_bytes: u64) -> Wanted {
        Wanted {
            name: "f",
            max_bytes,
            bound: "of a test file".into(),
        }
    }

    fn io_error(e: io::Error) -> PluginError {
        PluginError::new(format!("x: {e}"))
    }

    #[test]
    fn reads_up_to_the_bound() {
        let w = wanted(4);
        let bytes = read_bounded(&[1u8, 2, 3, 4][..], 4, &w, "x", io_error).unwrap();
        assert_eq!(bytes, [1, 2, 3, 4]);
        // A size under the bound is only where the allocation starts.
        let bytes = read_bounded(&[1u8, 2, 3][..], 0, &w, "x", io_error).unwrap();
        assert_eq!(bytes, [1, 2, 3]);
    }

    #[test]
    fn a_stream_longer_than_its_size_stops_one_byte_past_the_bound() {
        // Like a device, or a file that grew after its size was taken: size 0, no end.
        let mut endless = Counted {
            inner: io::repeat(0),
            pulled: 0,
        };
        let e = read_bounded(&mut endless, 0, &wanted(10), "x", io_error).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "x: more than the 10 bytes of a test file"
        );
        assert_eq!(endless.pulled, 11);
        // A declared size over the bound is refused without reading at all.
        let e = read_bounded(&mut endless, 11, &wanted(10), "x", io_error).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "x: 11 bytes, more than the 10 bytes of a test file"
        );
        assert_eq!(endless.pulled, 11);
    }

    #[test]
    fn read_errors_are_worded_by_the_caller() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let e = read_bounded(Broken, 3, &wanted(10), "x", io_error).unwrap_err();
        assert_eq!(e.message.as_str(), "x: disk on fire");
    }
}
