//! What an existing run directory holds, what `run`, `--resume` and `--overwrite` may
//! do with it, and creating or replacing it without ever deleting a run first.
//!
//! Invariants: nothing in an existing run directory changes before the run is accepted (the
//! caller validates everything and takes the [`super::lock`] first); a directory with a
//! finished epoch, a summary or anything fuzzaug did not write is never removed except by
//! `--overwrite`, and then only after its replacement is in place.
use super::{last_checkpoint, CHECKPOINTS, CONFIG, LAST, METRICS_CSV, METRICS_JSONL, PLOTS};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// What the command line asked for an existing run directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked {
    /// `--resume`.
    pub resume: bool,
    /// `--overwrite`.
    pub overwrite: bool,
}

/// What an existing path holds, as far as starting a run there is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// Nothing there.
    Absent,
    /// An empty folder, or only what a start that finished no epoch leaves (the resolved
    /// config, metrics headers, empty checkpoint and plot folders): nothing worth keeping.
    Unstarted,
    /// A run with something in it; `held` says what, for messages.
    Started {
        /// Whether `checkpoints/last` exists.
        checkpoint: bool,
        /// What it holds, e.g. `summary.json, metrics.csv (3 epochs), notes.txt`.
        held: String,
    },
}

/// Rows after the header of a metrics file, or `None` when it is missing.
pub(super) fn rows(path: &Path, header: bool) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    Some(lines.saturating_sub(usize::from(header)))
}

/// Whether `dir` is a folder with nothing in it but temporary files of ours.
fn only_temp_files(dir: &Path) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.contains(".tmp-")) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Contents {
    /// Looks at `dir`.
    pub fn of(dir: &Path) -> anyhow::Result<Self> {
        if !dir.exists() {
            return Ok(Self::Absent);
        }
        if !dir.is_dir() {
            bail!(
                "{} exists and is not a run directory (it is not a folder); remove it or choose another `name`",
                dir.display()
            );
        }
        let mut held = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("reading {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let fuzzaugs_own = match name.as_str() {
                CONFIG => true,
                METRICS_CSV => rows(&path, true) == Some(0),
                METRICS_JSONL => rows(&path, false) == Some(0),
                CHECKPOINTS | PLOTS => path.is_dir() && only_temp_files(&path).unwrap_or(false),
                _ => name.starts_with('.') && name.contains(".tmp-"),
            };
            if fuzzaugs_own {
                continue;
            }
            held.push(match name.as_str() {
                METRICS_CSV => match rows(&path, true) {
                    Some(n) => format!("{name} ({n} epoch{})", if n == 1 { "" } else { "s" }),
                    None => name,
                },
                CHECKPOINTS if last_checkpoint(dir).is_file() => format!("{CHECKPOINTS}/{LAST}"),
                _ if path.is_dir() => format!("{name}/"),
                _ => name,
            });
        }
        if held.is_empty() {
            return Ok(Self::Unstarted);
        }
        Ok(Self::Started {
            checkpoint: last_checkpoint(dir).is_file(),
            held: held.join(", "),
        })
    }
}

/// What to do with the run directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Create it (nothing there, or nothing worth keeping).
    Fresh,
    /// Continue from its checkpoint.
    Resume,
    /// Build a new one beside it and swap it in (`--overwrite`).
    Replace,
}

/// Decides what `options` may do with `dir` holding `contents`, or refuses with what it holds
/// and how to proceed.
pub fn plan(dir: &Path, contents: &Contents, options: Asked) -> anyhow::Result<Plan> {
    let d = dir.display();
    Ok(match contents {
        Contents::Absent | Contents::Unstarted => Plan::Fresh,
        Contents::Started { .. } if options.overwrite => Plan::Replace,
        Contents::Started {
            checkpoint: true, ..
        } if options.resume => Plan::Resume,
        Contents::Started { held, .. } if options.resume => bail!(
            "--resume: {d} holds no checkpoint to resume from (it holds {held}); pass --overwrite to replace it, or choose another `name`"
        ),
        Contents::Started { held, .. } => bail!(
            "run directory {d} already exists (it holds {held}); pass --resume to continue it or --overwrite to replace it"
        ),
    })
}

/// A new, empty run directory being built at a temporary path beside `dir`; [`Staged::commit`]
/// puts it in place.
pub struct Staged {
    /// Where it is built.
    pub path: PathBuf,
    target: PathBuf,
}

fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Cleans up after a process that died while replacing `dir` (call holding the lock): a
/// staging folder of a dead process is removed; an old run it had moved aside is put back when
/// the new one never reached its place, and removed when it did. Returns what it did, for logs.
pub fn recover(dir: &Path) -> anyhow::Result<Vec<String>> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(parent) = dir.parent().filter(|p| p.is_dir()) else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(parent)
        .with_context(|| format!("reading {}", parent.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let Some((what, pid)) = rest.split_once('-') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && crate::atomic::alive(pid) {
            continue;
        }
        let path = entry.path();
        match what {
            "new" => {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("removing the leftover {}", path.display()))?;
                done.push(format!(
                    "removed {}, left by a start that died",
                    path.display()
                ));
            }
            "old" if !dir.exists() => {
                std::fs::rename(&path, dir)
                    .with_context(|| format!("restoring {}", path.display()))?;
                done.push(format!(
                    "restored {} from {}: an --overwrite died before the new run was in place",
                    dir.display(),
                    path.display()
                ));
            }
            "old" => {
                std::fs::remove_dir_all(&path)
                    .with_context(|| format!("removing the replaced run {}", path.display()))?;
                done.push(format!(
                    "removed {}, a run already replaced",
                    path.display()
                ));
            }
            _ => {}
        }
    }
    Ok(done)
}

impl Staged {
    /// Creates the skeleton (checkpoint and plot folders) beside `dir`.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let path = sibling(dir, "new");
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing the leftover {}", path.display()))?;
        }
        for sub in [CHECKPOINTS, PLOTS] {
            let d = path.join(sub);
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create the run directory {}", d.display()))?;
        }
        Ok(Self {
            path,
            target: dir.to_path_buf(),
        })
    }

    /// Moves the new directory to its place. What was there (an unstarted skeleton, or the old
    /// run under `--overwrite`) is first renamed aside, then removed once the new one is in
    /// place: at every moment the old run or the new one is whole at its path.
    pub fn commit(self) -> anyhow::Result<()> {
        let target = &self.target;
        let aside = sibling(target, "old");
        let had_old = target.exists();
        if had_old {
            std::fs::rename(target, &aside).with_context(|| {
                format!("moving {} aside to {}", target.display(), aside.display())
            })?;
        }
        if let Err(e) = std::fs::rename(&self.path, target) {
            if had_old {
                let _ = std::fs::rename(&aside, target);
            }
            return Err(e).with_context(|| format!("moving the new run into {}", target.display()));
        }
        crate::atomic::sync_parent(target)
            .with_context(|| format!("syncing {}", target.display()))?;
        if had_old {
            std::fs::remove_dir_all(&aside)
                .with_context(|| format!("removing the replaced run {}", aside.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Not committed (an error on the way): leave nothing behind.
        if self.path.exists() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(resume: bool, overwrite: bool) -> Asked {
        Asked { resume, overwrite }
    }

    #[test]
    fn contents_tell_a_skeleton_from_a_run() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("r");
        assert_eq!(Contents::of(&run).unwrap(), Contents::Absent);
        std::fs::create_dir_all(run.join(CHECKPOINTS)).unwrap();
        std::fs::create_dir_all(run.join(PLOTS)).unwrap();
        std::fs::write(run.join(CONFIG), "name = \"r\"\n").unwrap();
        std::fs::write(run.join(METRICS_CSV), "epoch,lr\n").unwrap();
        std::fs::write(run.join(METRICS_JSONL), "").unwrap();
        std::fs::write(run.join(CHECKPOINTS).join(".last.tmp-4194305"), "x").unwrap();
        assert_eq!(Contents::of(&run).unwrap(), Contents::Unstarted);
        std::fs::write(run.join(METRICS_CSV), "epoch,lr\n1,0.1\n2,0.1\n").unwrap();
        std::fs::write(run.join("notes.txt"), "mine").unwrap();
        assert_eq!(
            Contents::of(&run).unwrap(),
            Contents::Started {
                checkpoint: false,
                held: "metrics.csv (2 epochs), notes.txt".into()
            }
        );
        std::fs::write(last_checkpoint(&run), "x").unwrap();
        assert_eq!(
            Contents::of(&run).unwrap(),
            Contents::Started {
                checkpoint: true,
                held: "checkpoints/last, metrics.csv (2 epochs), notes.txt".into()
            }
        );
        let file = d.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(
            Contents::of(&file).unwrap_err().to_string(),
            format!(
                "{} exists and is not a run directory (it is not a folder); remove it or choose another `name`",
                file.display()
            )
        );
    }

    #[test]
    fn plans_refuse_what_would_lose_a_run() {
        let dir = Path::new("runs/r");
        let held = |checkpoint| Contents::Started {
            checkpoint,
            held: "summary.json".into(),
        };
        for o in [opts(false, false), opts(true, false), opts(false, true)] {
            assert_eq!(plan(dir, &Contents::Absent, o).unwrap(), Plan::Fresh);
            assert_eq!(plan(dir, &Contents::Unstarted, o).unwrap(), Plan::Fresh);
        }
        assert_eq!(
            plan(dir, &held(true), opts(true, false)).unwrap(),
            Plan::Resume
        );
        assert_eq!(
            plan(dir, &held(false), opts(false, true)).unwrap(),
            Plan::Replace
        );
        assert_eq!(
            plan(dir, &held(false), opts(true, false)).unwrap_err().to_string(),
            "--resume: runs/r holds no checkpoint to resume from (it holds summary.json); pass --overwrite to replace it, or choose another `name`"
        );
        assert_eq!(
            plan(dir, &held(true), opts(false, false)).unwrap_err().to_string(),
            "run directory runs/r already exists (it holds summary.json); pass --resume to continue it or --overwrite to replace it"
        );
    }

    #[test]
    fn a_staged_directory_replaces_the_old_one_whole() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("r");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("old.txt"), "old").unwrap();
        let staged = Staged::new(&run).unwrap();
        std::fs::write(staged.path.join(CONFIG), "new").unwrap();
        assert!(
            run.join("old.txt").exists(),
            "nothing changes before commit"
        );
        staged.commit().unwrap();
        assert!(!run.join("old.txt").exists());
        assert_eq!(std::fs::read_to_string(run.join(CONFIG)).unwrap(), "new");
        assert!(run.join(CHECKPOINTS).is_dir() && run.join(PLOTS).is_dir());
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no staging or aside folder is left");
        // Dropped without commit: the staging folder goes, the run stays.
        let staged = Staged::new(&run).unwrap();
        let path = staged.path.clone();
        drop(staged);
        assert!(!path.exists() && run.join(CONFIG).exists());
    }

    #[test]
    fn a_replacement_cut_off_by_a_kill_is_undone_or_finished() {
        let d = tempfile::tempdir().unwrap();
        let run = d.path().join("r");
        let dead = 4_194_305; // above Linux's PID limit: never alive
                              // Killed between moving the old run aside and moving the new one in: the old comes back.
        std::fs::create_dir(d.path().join(format!(".r.old-{dead}"))).unwrap();
        std::fs::write(d.path().join(format!(".r.old-{dead}/notes.txt")), "mine").unwrap();
        std::fs::create_dir(d.path().join(format!(".r.new-{dead}"))).unwrap();
        let done = recover(&run).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        assert_eq!(
            std::fs::read_to_string(run.join("notes.txt")).unwrap(),
            "mine"
        );
        // Killed after the new one was in place: the old one goes.
        std::fs::create_dir(d.path().join(format!(".r.old-{dead}"))).unwrap();
        recover(&run).unwrap();
        assert!(run.join("notes.txt").exists());
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        // A live process's folders are left alone (PID 1 is alive everywhere).
        std::fs::create_dir(d.path().join(".r.new-1")).unwrap();
        assert!(recover(&run).unwrap().is_empty());
        assert!(d.path().join(".r.new-1").exists());
    }
}
