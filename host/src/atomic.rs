//! Files written whole or not at all: into a temporary file beside the target, synced, renamed
//! over it, and the folder synced, so that a crash, a kill or a full disk leaves either the old
//! file or the new one, never a cut one.
//!
//! Temporary files are named `.{file}.tmp-{pid}` (with the target's extension kept, for writers
//! that choose a format by it), so that [`remove_stale`] can tell those of dead processes.
use std::{
    ffi::OsString,
    io::Write,
    path::{Path, PathBuf},
};

const TMP: &str = ".tmp-";

/// The temporary path this process writes `path` through.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(OsString::from).unwrap_or_default();
    let mut tmp = OsString::from(".");
    tmp.push(&name);
    tmp.push(format!("{TMP}{}", std::process::id()));
    if let Some(ext) = path.extension() {
        tmp.push(".");
        tmp.push(ext);
    }
    path.with_file_name(tmp)
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Lets `fill` write the file at the temporary path it is given (and sync it, or not: it is
/// synced here), then renames it over `path`. The temporary file is removed on failure.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = fill(&tmp)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path))
        .and_then(|()| sync_parent(path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Syncs the folder holding `path`, so that a rename into it survives a power cut.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => std::fs::File::open(".")?.sync_all(),
    }
}

/// The PID in a temporary file's name, if it is one of ours.
fn writer_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let at = rest.rfind(TMP)?;
    let digits: String = rest[at + TMP.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Whether process `pid` is alive on this machine.
pub fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temporary files of dead processes directly in `dir`; returns their paths.
/// Call it holding the lock of whatever `dir` belongs to, so no live writer is racing.
pub fn remove_stale(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(writer_pid) else {
            continue;
        };
        if (pid == std::process::id() || !alive(pid)) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_keep_the_extension_and_carry_the_pid() {
        let pid = std::process::id();
        assert_eq!(
            temp_path(Path::new("a/plots/loss.png")),
            PathBuf::from(format!("a/plots/.loss.png.tmp-{pid}.png"))
        );
        assert_eq!(
            temp_path(Path::new("state/last")),
            PathBuf::from(format!("state/.last.tmp-{pid}"))
        );
        assert_eq!(writer_pid(&format!(".loss.png.tmp-{pid}.png")), Some(pid));
        assert_eq!(writer_pid(".last.tmp-12"), Some(12));
        assert_eq!(writer_pid("last.tmp-12"), None);
        assert_eq!(writer_pid(".last"), None);
    }

    #[test]
    fn writes_replace_whole_and_failures_leave_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        write(&p, b"old").unwrap();
        write(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let e = write_with(&p, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("f.txt")], "no temp file left");
    }

    #[test]
    fn stale_temp_files_of_dead_processes_are_removed() {
        let d = tempfile::tempdir().unwrap();
        // PID 1 is alive in every container and machine; 4194305 is above Linux's PID limit.
        for name in [
            ".last.tmp-1",
            ".last.tmp-4194305",
            "keep.tmp-4194305",
            ".keep",
        ] {
            std::fs::write(d.path().join(name), b"x").unwrap();
        }
        let removed = remove_stale(d.path()).unwrap();
        assert_eq!(removed, vec![d.path().join(".last.tmp-4194305")]);
        assert!(d.path().join(".last.tmp-1").exists());
        assert!(d.path().join("keep.tmp-4194305").exists());
    }
}
