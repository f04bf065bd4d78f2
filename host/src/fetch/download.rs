//! One file over HTTP(S): resumable (a `.part` file and a Range request), verified by SHA-256
//! before it takes its final name; a file that fails the check is deleted.
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

/// Downloads `url` to `dest`, resuming `dest.part`, and checks `sha256`.
pub fn fetch(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    sha256: &str,
    size_hint: u64,
    quiet: bool,
) -> anyhow::Result<Outcome> {
    if dest.is_file() {
        let have = sha256_of(dest).with_context(|| format!("reading {}", dest.display()))?;
        if have == sha256 {
            return Ok(Outcome::AlreadyThere);
        }
        log::warn!(
            "{} exists but its SHA-256 is {have}, not {sha256}; downloading it again",
            dest.display()
        );
        std::fs::remove_file(dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    let part = part_path(dest);
    let mut offset = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = request.call().with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let mut file = match status {
        206 => OpenOptions::new().append(true).open(&part),
        200 => {
            if offset > 0 {
                log::info!("{url}: the server ignored the resume request; starting over");
                offset = 0;
            }
            File::create(&part)
        }
        416 if offset > 0 => OpenOptions::new().append(true).open(&part), // already complete
        _ => bail!(
            "GET {url}: HTTP {status} {}",
            response.status().canonical_reason().unwrap_or("")
        ),
    }
    .with_context(|| format!("opening {}", part.display()))?;
    if status != 416 {
        let total = response
            .body()
            .content_length()
            .map(|l| l + offset)
            .unwrap_or(size_hint);
        let pb = bar(
            total,
            offset,
            dest.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("download"),
            quiet,
        );
        let mut body = response.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut received = offset;
        loop {
            let n = body.read(&mut buf).with_context(|| {
                format!("download of {url} interrupted after {received} bytes; run the same command again to resume")
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
        bail!(
            "{url}: SHA-256 mismatch: expected {sha256}, got {got} ({len} bytes). The download was deleted; \
             run the command again, or check the --mirror"
        );
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("renaming {} to {}", part.display(), dest.display()))?;
    Ok(Outcome::Downloaded {
        resumed_from: offset,
    })
}
