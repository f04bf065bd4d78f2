//! The model a command reads: a run directory (its `last` or `best` checkpoint) or a checkpoint
//! inside one, as `eval` and `export` take it.
use crate::rundir::{RunDir, Which};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The run directory and checkpoint that `target` names; `which` picks the checkpoint of a run
/// directory (default `last`) and is refused with a checkpoint file, which already is one.
/// `otherwise` ends the message for a target that is neither (what else the command takes).
pub fn run_checkpoint(
    target: &Path,
    which: Option<Which>,
    otherwise: &str,
) -> anyhow::Result<(RunDir, PathBuf)> {
    let (dir, ckpt) = if target.is_dir() {
        let dir = RunDir::new(target);
        let ckpt = dir.checkpoint(which.unwrap_or_default());
        (dir, ckpt)
    } else {
        if let Some(w) = which {
            bail!(
                "--which {} picks a checkpoint of a run directory, but {} is a checkpoint file \
                 already; give the run directory instead",
                w.name(),
                target.display()
            );
        }
        let dir = target
            .parent()
            .and_then(Path::parent)
            .map(RunDir::new)
            .filter(RunDir::looks_like_one)
            .with_context(|| {
                format!(
                    "{} is neither a run directory nor a checkpoint inside one{otherwise}",
                    target.display(),
                )
            })?;
        (dir, target.to_path_buf())
    };
    if !dir.looks_like_one() {
        bail!(
            "{} is not a run directory (`fuzzaug run` writes its config and checkpoints there)",
            dir.path().display()
        );
    }
    if !ckpt.is_file() {
        let why = if ckpt == dir.best_checkpoint() {
            "the run keeps a best checkpoint only with `[train] keep_best`"
        } else {
            "the run has not finished an epoch yet"
        };
        bail!(
            "{} has no checkpoint {} ({why})",
            dir.path().display(),
            ckpt.display()
        );
    }
    Ok((dir, ckpt))
}
