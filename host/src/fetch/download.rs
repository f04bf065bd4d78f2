//! One file over HTTP(S) or from a local mirror folder: an HTTP download resumes (a `.part`
//! file and a Range request), a local copy starts over; either is verified by SHA-256 before it
//! takes its final name, and a file that fails the check is deleted.
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::{
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
};

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The final file was already there with the right hash.
    AlreadyThere,
    /// Downloaded; `resumed_from` bytes came from an earlier partial download.
    Downloaded {
        /// Bytes kept from the `.part` file.
        resumed_from: u64,
    },
    /// Copied from a local mirror folder.
    Copied,
}

/// Why a file could not be fetched.
#[derive(Debug)]
pub enum Failure {
    /// The server could not be reached, answered with an HTTP error or dropped the
    /// connection: the case where placing the file by hand helps.
    Network(anyhow::Error),
    /// Anything else (local I/O, a SHA-256 mismatch).
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(crate::plugins::sha256_hex_of_digest(&h.finalize()))
}

/// The `.part` file beside `dest`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

/// Whether `dest` is already there with hash `sha256` (a stale `.part` beside it is then
/// removed). A `dest` with another hash is an error that keeps the file: fetch only ever
/// renames verified downloads to their final name, so a wrong one was put there by hand, or
/// the pinned hash changed, and deleting it would lose someone's copy. `expected_size` is the
/// published size, when known, for the message.
pub fn already_there(
    dest: &Path,
    sha256: &str,
    expected_size: Option<u64>,
) -> anyhow::Result<bool> {
    if !dest.is_file() {
        return Ok(false);
    }
    let have = sha256_of(dest).with_context(|| format!("reading {}", dest.display()))?;
    if have != sha256 {
        let len = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        let published = match expected_size {
            Some(size) => format!("; the published file has {size} bytes and SHA-256 {sha256}"),
            None => format!("; expected SHA-256 {sha256}"),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bail!(
            "{}: SHA-256 mismatch: this file has {len} bytes and SHA-256 {have}{published}. \
             It was left as it is: replace it with the published file, delete it to download it \
             again, or pin its hash with --sha256 {name}=HEX if it is a repackaged copy",
            dest.display()
        );
    }
    let part = part_path(dest);
    if part.exists() {
        log::info!(
            "{}: removing {}, a partial download of the verified file",
            dest.display(),
            part.display()
        );
        std::fs::remove_file(&part).with_context(|| format!("removing {}", part.display()))?;
    }
    Ok(true)
}

fn bar(total: u64, start: u64, label: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        pb.set_style(style);
    }
    pb.set_message(label.to_string());
    pb.set_position(start);
    pb
}

fn label(dest: &Path) -> &str {
    dest.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("download")
}

/// Downloads `url` to `dest`, resuming `dest.part`, and checks `sha256`. The caller has
/// checked that `dest` is not already there ([`already_there`]).
pub fn fetch(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    sha256: &str,
    size_hint: u64,
    quiet: bool,
) -> Result<Outcome, Failure> {
    let part = part_path(dest);
    let mut offset = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = request
        .call()
        .map_err(|e| Failure::Network(anyhow::Error::new(e).context(format!("GET {url}"))))?;
    let status = response.status().as_u16();
    let file = match status {
        206 => OpenOptions::new().append(true).open(&part),
        200 => {
            if offset > 0 {
                log::info!("{url}: the server ignored the resume request; starting over");
                offset = 0;
            }
            File::create(&part)
        }
        416 if offset > 0 => OpenOptions::new().append(true).open(&part), // already complete
        _ => {
            return Err(Failure::Network(anyhow::anyhow!(
                "GET {url}: HTTP {status} {}",
                response.status().canonical_reason().unwrap_or("")
            )))
        }
    };
    let mut file = file.with_context(|| format!("opening {}", part.display()))?;
    if status != 416 {
        let total = response
            .body()
            .content_length()
            .map(|l| l + offset)
            .unwrap_or(size_hint);
        let pb = bar(total, offset, label(dest), quiet);
        let mut body = response.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut received = offset;
        loop {
            let n = body.read(&mut buf).map_err(|e| {
                Failure::Network(anyhow::Error::new(e).context(format!(
                    "download of {url} interrupted after {received} bytes, kept in {}; \
                     run the same command again to resume",
                    part.display()
                )))
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n])
                .with_context(|| format!("writing {}", part.display()))?;
            received += n as u64;
            pb.set_position(received);
        }
        pb.finish_and_clear();
    }
    file.sync_all()
        .with_context(|| format!("writing {}", part.display()))?;
    drop(file);
    let got = sha256_of(&part).with_context(|| format!("reading {}", part.display()))?;
    if got != sha256 {
        let len = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        std::fs::remove_file(&part).with_context(|| format!("removing {}", part.display()))?;
        return Err(Failure::Other(anyhow::anyhow!(
            "{url}: SHA-256 mismatch: expected {sha256}, got {got} ({len} bytes). The download was deleted; \
             run the command again, or check the --mirror"
        )));
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("renaming {} to {}", part.display(), dest.display()))?;
    Ok(Outcome::Downloaded {
        resumed_from: offset,
    })
}

/// Copies `src` (a file of a local mirror folder) to `dest` through `dest.part`, hashing as it
/// goes, and checks `sha256`; on a mismatch nothing is left at `dest`. The caller has checked
/// that `src` is a file and that `dest` is not already there.
pub fn copy(src: &Path, dest: &Path, sha256: &str, quiet: bool) -> anyhow::Result<Outcome> {
    let part = part_path(dest);
    let mut from = File::open(src).with_context(|| format!("opening {}", src.display()))?;
    let total = from.metadata().map(|m| m.len()).unwrap_or(0);
    let mut to = File::create(&part).with_context(|| format!("creating {}", part.display()))?;
    let pb = bar(total, 0, label(dest), quiet);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut copied = 0u64;
    loop {
        let n = from
            .read(&mut buf)
            .with_context(|| format!("reading {}", src.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        to.write_all(&buf[..n])
            .with_context(|| format!("writing {}", part.display()))?;
        copied += n as u64;
        pb.set_position(copied);
    }
    pb.finish_and_clear();
    to.sync_all()
        .with_context(|| format!("writing {}", part.display()))?;
    drop(to);
    let got = crate::plugins::sha256_hex_of_digest(&h.finalize());
    if got != sha256 {
        std::fs::remove_file(&part).with_context(|| format!("removing {}", part.display()))?;
        let name = label(dest);
        bail!(
            "{}: SHA-256 mismatch: expected {sha256}, got {got} ({copied} bytes). The mirror's \
             {name} is not the file fuzzaug pins, and nothing was copied to {}; replace it in the \
             mirror, or pin its hash with --sha256 {name}=HEX if the mirror repackages",
            src.display(),
            dest.parent().unwrap_or(dest).display()
        );
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("renaming {} to {}", part.display(), dest.display()))?;
    Ok(Outcome::Copied)
}
