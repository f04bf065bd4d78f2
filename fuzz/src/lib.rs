//! What the fuzz targets and the seed-corpus generator share: how one fuzz input encodes
//! several files, gzip, a scratch folder per process, and a panic hook that aborts with the
//! message (the SDK's guard replaces the hook libfuzzer installs).
use flate2::{write::GzEncoder, Compression, Crc};
use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Once,
};

pub mod strategy;

/// Checkpoint bytes for the `checkpoint` target and its seeds.
#[cfg(feature = "host")]
pub mod checkpoint {
    use fuzzaug::rundir::checkpoint::{MAGIC, VERSION};
    use sha2::{Digest, Sha256};

    /// A checkpoint file of `body` (the sections): the magic, the version, `body` and the
    /// SHA-256 seal of all of it.
    pub fn seal(body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(body);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// The body of checkpoint `file`: what [`seal`] adds, taken off; `None` for a file too
    /// short to hold it.
    pub fn body(file: &[u8]) -> Option<&[u8]> {
        file.get(MAGIC.len() + 4..file.len().checked_sub(32)?)
    }
}

/// Separates the files of one input.
pub const SEP: &[u8] = b"--8<--";

/// The first `n` parts of `data` split at [`SEP`]; missing parts are empty, and the last one
/// takes the rest.
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = data;
    while parts.len() + 1 < n {
        match find(rest) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEP.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts.resize(n, &[][..]);
    parts
}

/// Where [`SEP`] first starts in `hay` (comparing whole windows only where the first byte
/// matches: libfuzzer intercepts every comparison).
fn find(hay: &[u8]) -> Option<usize> {
    let last = hay.len().checked_sub(SEP.len())?;
    (0..=last).find(|&i| hay[i] == SEP[0] && &hay[i..i + SEP.len()] == SEP)
}

/// `parts` joined with [`SEP`]: the inverse of [`split`].
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(SEP)
}

/// `bytes` as a gzip file of stored (uncompressed) deflate blocks: valid gzip that any
/// decoder reads, made without a compressor (whose set-up would cost the targets more than the
/// code under test). The seeds hold truly compressed files for the decoders' other paths.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 32 + bytes.len() / 65535 * 5);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut blocks = bytes.chunks(65535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let len = block.len() as u16;
        out.push(u8::from(blocks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

/// `bytes` gzip-compressed at the best level (for seeds).
pub fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A folder of this process for the target `name`, created on first use: `/dev/shm` where it
/// exists (no disk writes), else the temporary folder.
pub fn scratch(name: &str) -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("fuzzaug-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes every panic print its message and abort, so libfuzzer reports it as a crash even when
/// the SDK's guard has replaced libfuzzer's own hook. Call once the guard has run (or at start).
pub fn abort_on_panic() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            eprintln!("panic: {info}");
            std::process::abort();
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_inverts_join() {
        let parts: [&[u8]; 3] = [b"a", b"", b"bc"];
        assert_eq!(split(&join(&parts), 3), parts);
        assert_eq!(split(b"a", 3), [&b"a"[..], b"", b""]);
        assert_eq!(split(&join(&parts), 2), [&b"a"[..], &join(&parts[1..])[..]]);
    }

    #[test]
    fn stored_gzip_decodes() {
        use std::io::Read;
        for n in [0, 1, 65535, 65536, 200_000] {
            let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gzip(&bytes)[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, bytes);
        }
    }
}
