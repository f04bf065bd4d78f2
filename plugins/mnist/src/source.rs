//! Finding an IDX file as raw or `.gz`, and reading its (decompressed) bytes through a bounded
//! [`Stream`], so that no file, however it was made, can make the reader take more memory than
//! its header declares.
use flate2::read::MultiGzDecoder;
use fuzzaug_sdk::PluginError;
use std::{
    fs::File,
    io::{self, BufReader, Read},
    path::{Path, PathBuf},
};

/// One IDX file on disk, as found by [`locate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file's full path, as resolved; every message about its contents names it.
    pub path: PathBuf,
    /// Whether it is gzip-compressed (found with a `.gz` suffix).
    pub gz: bool,
}

impl Source {
    /// The path for messages.
    pub fn show(&self) -> String {
        self.path.display().to_string()
    }

    /// Opens the file for reading, through a gzip decoder when it is a `.gz`.
    pub fn open(&self) -> Result<Stream<'_, Box<dyn Read>>, PluginError> {
        let cannot = |e: io::Error| PluginError::new(format!("{}: cannot read: {e}", self.show()));
        let file = File::open(&self.path).map_err(cannot)?;
        let meta = file.metadata().map_err(cannot)?;
        let reader = BufReader::new(file);
        if self.gz {
            // Multi-member, so `cat a.gz b.gz` style files decode whole rather than stopping
            // early.
            Ok(Stream::new(
                self,
                Box::new(MultiGzDecoder::new(reader)),
                None,
            ))
        } else {
            // Only a regular file's size is its length (a pipe or device reports 0).
            let len = meta.is_file().then_some(meta.len());
            Ok(Stream::new(self, Box::new(reader), len))
        }
    }
}

/// The (decompressed) contents of a [`Source`], read only in bounded steps: every read says
/// how many bytes it wants at most, so memory follows what the IDX header declares, not what
/// the file holds.
pub struct Stream<'a, R> {
    source: &'a Source,
    inner: R,
    /// The size on disk of a raw regular file; `None` for gzip data, whose size is only known
    /// by inflating all of it.
    disk_len: Option<u64>,
    /// Bytes read so far, for messages about a stream that breaks off.
    got: u64,
}

impl<'a, R: Read> Stream<'a, R> {
    /// Reads `inner`, the contents of `source`; `disk_len` is the size of a raw file, if known.
    pub fn new(source: &'a Source, inner: R, disk_len: Option<u64>) -> Self {
        Self {
            source,
            inner,
            disk_len,
            got: 0,
        }
    }

    /// The file being read.
    pub fn source(&self) -> &'a Source {
        self.source
    }

    /// The size of the file on disk when it is a raw regular file.
    pub fn disk_len(&self) -> Option<u64> {
        self.disk_len
    }

    /// Appends at most `limit` bytes to `out`, fewer only where the data ends.
    pub fn read_up_to(&mut self, out: &mut Vec<u8>, limit: u64) -> Result<(), PluginError> {
        let before = out.len();
        let result = (&mut self.inner).take(limit).read_to_end(out);
        self.got += (out.len() - before) as u64;
        result.map(drop).map_err(|e| self.error(e))
    }

    /// Whether the data ends here. Reads at most one byte, and for gzip data checks the
    /// trailer's CRC and length on the way.
    pub fn at_end(&mut self) -> Result<bool, PluginError> {
        let mut probe = [0u8; 1];
        loop {
            match self.inner.read(&mut probe) {
                Ok(n) => {
                    self.got += n as u64;
                    return Ok(n == 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(e)),
            }
        }
    }

    fn error(&self, e: io::Error) -> PluginError {
        let file = self.source.show();
        if !self.source.gz {
            PluginError::new(format!("{file}: cannot read: {e}"))
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            PluginError::new(format!(
                "{file}: truncated gzip data: the compressed stream ends early, after {} decompressed bytes",
                self.got
            ))
        } else {
            PluginError::new(format!("{file}: corrupt gzip data: {e}"))
        }
    }
}

/// Finds `name` in `dir`, raw or as `name.gz`, preferring the raw file when both exist.
/// `what` says which file it is (e.g. "MNIST training images") for the not-found message.
pub fn locate(dir: &Path, name: &str, what: &str) -> Result<Source, PluginError> {
    let raw = dir.join(name);
    if raw.exists() {
        return Ok(Source {
            path: raw,
            gz: false,
        });
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.exists() {
        return Ok(Source { path: gz, gz: true });
    }
    Err(PluginError::new(format!(
        "{}: no such file or directory, nor {name}.gz beside it (expected the {what}, raw or gzip-compressed)",
        raw.display()
    )))
}
