//! TensorBoard event files, written without TensorFlow: [`EventWriter`] appends scalar and image
//! summaries to a new `events.out.tfevents.*` file in a folder that `tensorboard --logdir` reads.
//!
//! An event file is a sequence of TFRecord records (length, CRCs, data), each holding one protobuf
//! [`proto::Event`]. The first event names the format version; the others carry summaries or
//! session logs.
use std::{
    fs::{File, OpenOptions},
    io::{self, Write as _},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use prost::Message;

use proto::{
    event::What,
    session_log::SessionStatus,
    summary::{value, Image, Value},
    Event, SessionLog, Summary,
};

pub mod proto;
mod record;
#[cfg(test)]
mod tests;

/// The version every event file starts with; TensorBoard's readers expect this one.
const FILE_VERSION: &str = "brain.Event:2";
/// `Summary.Image.colorspace` for RGB.
const RGB: i32 = 3;
/// How many file names `<stem>.<n>` to try before giving up on a folder.
const MAX_NAME_TRIES: u32 = 10_000;

/// What can go wrong writing an event file.
#[derive(Debug, thiserror::Error)]
pub enum TensorboardError {
    /// Creating, writing or syncing a file or folder failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`writing`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An earlier write failed, so the file may end in a cut record; appending after it would
    /// make the records that follow unreadable, so this writer refuses to.
    #[error("{}: an earlier write failed; no more events are written to this file", path.display())]
    Broken {
        /// The event file.
        path: PathBuf,
    },
    /// An image's size and pixel buffer do not fit together.
    #[error("image `{tag}`: {reason}")]
    BadImage {
        /// The image's tag.
        tag: String,
        /// What is wrong.
        reason: String,
    },
    /// PNG encoding failed.
    #[error("image `{tag}`: PNG encoding failed: {source}")]
    Png {
        /// The image's tag.
        tag: String,
        /// The cause.
        #[source]
        source: image::ImageError,
    },
}

/// Appends events to one new event file.
///
/// Each event is handed to the operating system as one whole record when it is written, so a
/// reader polling the file sees complete records; [`EventWriter::flush`] also makes them
/// durable. Values are not checked: a NaN or infinite scalar is written as it is, so that a
/// diverging run shows as one instead of as missing points.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: File,
    broken: bool,
}

impl EventWriter {
    /// Creates `dir` if missing and a new file in it named
    /// `events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>`, where `n` is the first number
    /// from 0 that no existing file has (an existing file is never overwritten, so two writers,
    /// or a resumed run, get files of their own). Writes and syncs the file-version event.
    pub fn create(dir: &Path) -> Result<Self, TensorboardError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("creating folder", dir, e))?;
        let (path, file) = open_new(dir, &file_stem())?;
        let mut writer = Self {
            path,
            file,
            broken: false,
        };
        writer.write(0, What::FileVersion(FILE_VERSION.to_string()))?;
        writer.flush()?;
        Ok(writer)
    }

    /// The event file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a session-start event at `step`; call it first in every session, the first one
    /// too, so that a resumed run does not show the epochs it logs again twice.
    ///
    /// TensorBoard's Python loader (`tensorboard --load_fast=false`, `EventAccumulator`) treats
    /// every START after the first one it reads in a run as a restart and drops the events it
    /// has read with a step at or after `step`, from this file and the folder's earlier ones:
    /// the epochs an interrupted session logged after its last checkpoint. The Rust data server
    /// (`--load_fast=auto`, the default where it is installed) ignores START; it drops a tag's
    /// points from step `s` on when that tag is logged at `s` again, so there the stale points
    /// go as the resumed session logs each tag again (as checked with TensorBoard 2.21).
    pub fn start_session(&mut self, step: i64) -> Result<(), TensorboardError> {
        let log = SessionLog {
            status: SessionStatus::Start as i32,
            ..SessionLog::default()
        };
        self.write(step, What::SessionLog(log))
    }

    /// Writes one scalar, as `f32` (the precision of TensorBoard's `simple_value`); non-finite
    /// values are written as they are.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<(), TensorboardError> {
        self.scalars(step, &[(tag, value)])
    }

    /// Writes several scalars of one step as one event, like [`EventWriter::scalar`] each.
    pub fn scalars(&mut self, step: i64, values: &[(&str, f64)]) -> Result<(), TensorboardError> {
        let value = values
            .iter()
            .map(|&(tag, v)| tagged(tag, value::Value::SimpleValue(v as f32)))
            .collect();
        self.write(step, What::Summary(Summary { value }))
    }

    /// Writes an image: `rgb` holds `height` rows of `width` RGB8 pixels, top row first. It is
    /// stored as a PNG. A buffer whose length is not `width * height * 3` is refused.
    pub fn image(
        &mut self,
        tag: &str,
        step: i64,
        rgb: &[u8],
        width: u32,
        height: u32,
    ) -> Result<(), TensorboardError> {
        let image = png_image(tag, rgb, width, height)?;
        let summary = Summary {
            value: vec![tagged(tag, value::Value::Image(image))],
        };
        self.write(step, What::Summary(summary))
    }

    /// Makes what was written durable (`sync_data`), e.g. once per epoch.
    pub fn flush(&mut self) -> Result<(), TensorboardError> {
        // Records go to the file unbuffered, so syncing is all that is left to do.
        self.file
            .sync_data()
            .map_err(|e| io_error("syncing", &self.path, e))
    }

    /// Appends one event at `step`, stamped with the current time.
    fn write(&mut self, step: i64, what: What) -> Result<(), TensorboardError> {
        if self.broken {
            return Err(TensorboardError::Broken {
                path: self.path.clone(),
            });
        }
        let event = Event {
            wall_time: wall_time(),
            step,
            what: Some(what),
        };
        let result = self.file.write_all(&record::frame(&event.encode_to_vec()));
        // A failed write may have left part of a record behind.
        self.broken = result.is_err();
        result.map_err(|e| io_error("writing", &self.path, e))
    }
}

/// A summary value named `tag`.
fn tagged(tag: &str, value: value::Value) -> Value {
    Value {
        tag: tag.to_string(),
        node_name: String::new(),
        value: Some(value),
    }
}

/// `rgb` as a PNG image summary, once its size is checked.
fn png_image(tag: &str, rgb: &[u8], width: u32, height: u32) -> Result<Image, TensorboardError> {
    let bad = |reason: String| TensorboardError::BadImage {
        tag: tag.to_string(),
        reason,
    };
    // In u128, as `width * height * 3` can overflow a u64.
    let expected = u128::from(width) * u128::from(height) * 3;
    if rgb.len() as u128 != expected {
        let len = rgb.len();
        return Err(bad(format!(
            "the RGB buffer holds {len} bytes, but {width}x{height} pixels need {expected} (width * height * 3)"
        )));
    }
    if width == 0 || height == 0 {
        return Err(bad(format!("{width}x{height} has no pixels")));
    }
    let (Ok(w), Ok(h)) = (i32::try_from(width), i32::try_from(height)) else {
        return Err(bad(format!("{width}x{height} is too large")));
    };
    Ok(Image {
        height: h,
        width: w,
        colorspace: RGB,
        encoded_image_string: encode_png(tag, rgb, width, height)?,
    })
}

/// PNG-encodes an RGB8 buffer in memory.
fn encode_png(tag: &str, rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, TensorboardError> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|source| TensorboardError::Png {
            tag: tag.to_string(),
            source,
        })?;
    Ok(png)
}

/// Opens `<dir>/<stem>.<n>` for the first `n` no file has yet; `create_new` makes the check and
/// the creation one step, so a racing writer cannot get the same file.
fn open_new(dir: &Path, stem: &str) -> Result<(PathBuf, File), TensorboardError> {
    let mut n = 0;
    loop {
        let path = dir.join(format!("{stem}.{n}"));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < MAX_NAME_TRIES => n += 1,
            Err(e) => return Err(io_error("creating", &path, e)),
        }
    }
}

/// `events.out.tfevents.<unix seconds>.<hostname>.<pid>`, the name TensorFlow gives event files
/// (TensorBoard only requires `tfevents` in it).
fn file_stem() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "events.out.tfevents.{secs}.{}.{}",
        hostname(),
        std::process::id()
    )
}

/// This machine's name, with characters unfit for a file name replaced by `_`.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// Seconds since the Unix epoch (0 on a clock set before it).
fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> TensorboardError {
    TensorboardError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The events of the file at `path`, with both CRCs of every record checked; for tests (also
/// other modules' tests that check what training logged).
#[cfg(test)]
pub(crate) fn read_events(path: &Path) -> Result<Vec<Event>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    record::unframe(&bytes)?
        .into_iter()
        .enumerate()
        .map(|(i, data)| Event::decode(data).map_err(|e| format!("record {i}: {e}")))
        .collect()
}
