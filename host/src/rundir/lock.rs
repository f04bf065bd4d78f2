//! One process per run directory: an exclusive `flock` on `.{name}.lock` beside the run
//! directory, held for the run's lifetime and released by the kernel when the process ends,
//! however it ends. The lock sits beside the directory rather than in it so that `--overwrite`
//! can swap a new directory in under the same lock.
use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read, Seek, Write},
    path::{Path, PathBuf},
};

/// The lock file of the run directory `dir`.
pub fn path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.with_file_name(format!(".{name}.lock"))
}

/// Another process holds a run directory.
#[derive(Debug, thiserror::Error)]
#[error("run directory {dir} is in use by another fuzzaug process{holder}; wait for it to end (one process writes a run at a time)", holder = pid.map(|p| format!(" (PID {p})")).unwrap_or_default(), dir = dir.display())]
pub struct Busy {
    /// The run directory.
    pub dir: PathBuf,
    /// The holder's PID, as it wrote it into the lock file.
    pub pid: Option<u32>,
}

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

fn pid_in(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

impl RunLock {
    /// Takes the lock of run directory `dir` (its parent folder must exist), or says who holds
    /// it.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        let p = path(dir);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", p.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Busy {
                    dir: dir.to_path_buf(),
                    pid: pid_in(&mut file),
                }
                .into())
            }
            Err(TryLockError::Error(e)) => {
                anyhow::bail!("cannot lock {}: {e}", p.display())
            }
        }
        let write = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.rewind()?;
            writeln!(f, "{}", std::process::id())?;
            f.sync_data()
        };
        write(&mut file).map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
        Ok(Self { _file: file })
    }
}

/// The PID of the live process that holds run directory `dir`, if one does (`Some(None)` when
/// it is held but the PID is unreadable). Never creates the lock file.
pub fn holder(dir: &Path) -> Option<Option<u32>> {
    let mut file = File::open(path(dir)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(pid_in(&mut file)),
        Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_naming_the_first() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("r");
        assert_eq!(holder(&run), None);
        assert!(!path(&run).exists(), "holder() creates nothing");
        let lock = RunLock::acquire(&run).unwrap();
        assert_eq!(path(&run), d.path().join(".r.lock"));
        assert_eq!(holder(&run), Some(Some(std::process::id())));
        let e = RunLock::acquire(&run).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "run directory {} is in use by another fuzzaug process (PID {}); wait for it to end (one process writes a run at a time)",
                run.display(),
                std::process::id()
            )
        );
        drop(lock);
        assert_eq!(holder(&run), None);
        RunLock::acquire(&run).unwrap();
    }
}
