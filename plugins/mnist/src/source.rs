//! Finding an IDX file as raw or `.gz` and reading its (decompressed) bytes.
use flate2::read::MultiGzDecoder;
use fuzzaug_sdk::PluginError;
use std::{
    fs,
    io::{self, Read},
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

    /// The file's bytes, decompressed when it is a `.gz`.
    pub fn read(&self) -> Result<Vec<u8>, PluginError> {
        let raw = fs::read(&self.path)
            .map_err(|e| PluginError::new(format!("{}: cannot read: {e}", self.show())))?;
        if !self.gz {
            return Ok(raw);
        }
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
        // Multi-member, so `cat a.gz b.gz` style files decode whole rather than stopping early.
        match MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(PluginError::new(format!(
                "{}: truncated gzip data: the compressed stream ends early, after {} decompressed bytes",
                self.show(),
                out.len()
            ))),
            Err(e) => Err(PluginError::new(format!(
                "{}: corrupt gzip data: {e}",
                self.show()
            ))),
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
