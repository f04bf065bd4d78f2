//! `[model] init`: start a run from weights, an exported `.safetensors` file or another run's
//! last checkpoint. Every variable of the model is either loaded from the source (same name,
//! same shape) or named in `reinit` and kept at its fresh initialisation; a variable the source
//! lacks, or has with another shape, is refused by name, so a model never starts half-loaded
//! without saying so.
use crate::rundir::{checkpoint, RunDir};
use anyhow::{bail, Context};
use std::{collections::HashMap, path::Path};
use tch::{nn, Tensor};

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loaded {
    /// Variables loaded from the source.
    pub loaded: Vec<String>,
    /// Source tensors the model has no variable for (or that `reinit` covers).
    pub skipped: Vec<String>,
    /// Variables left at their fresh initialisation, as `reinit` asked.
    pub reinitialised: Vec<String>,
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        write!(
            f,
            "loaded {} tensors; re-initialised: {}; skipped: {}",
            self.loaded.len(),
            list(&self.reinitialised),
            list(&self.skipped)
        )
    }
}

/// Whether `name` is `pattern` or lies under it (`fc` covers `fc.weight`, not `fc2.weight`).
fn covered(name: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| {
        name == p
            || name
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The named tensors of `source`: a run directory's last checkpoint (its model), a checkpoint
/// file (`RUN_DIR/checkpoints/best`), or a safetensors file.
fn tensors_of(source: &Path) -> anyhow::Result<HashMap<String, Tensor>> {
    let path = if source.is_dir() {
        RunDir::new(source).last_checkpoint()
    } else {
        source.to_path_buf()
    };
    if source.is_dir() && !path.is_file() {
        bail!(
            "{} holds no checkpoint ({} is missing): `init` takes a run directory that has \
             trained at least one epoch, a checkpoint file or a .safetensors file",
            source.display(),
            path.display()
        );
    }
    if checkpoint::is_checkpoint(&path) {
        return Ok(checkpoint::load(&path, tch::Device::Cpu)?.model_tensors());
    }
    let (tensors, _) = super::safetensors::read(source)?;
    Ok(tensors
        .into_iter()
        .filter(|(k, _)| !super::is_pytorch_only(k))
        .collect())
}

/// `[model] init` of `exp`, when it has one, loaded into `session`'s variables: the file or
/// run directory it names (relative to the config's folder) and what was loaded. Every command
/// that builds a session from a config calls it, so none silently measures fresh weights.
pub fn from_config(
    exp: &crate::setup::Experiment,
    session: &crate::train::Session,
) -> anyhow::Result<Option<(std::path::PathBuf, Loaded)>> {
    let Some(init) = &exp.config.model.init else {
        return Ok(None);
    };
    let source = crate::setup::relative_to(&exp.base_dir, init);
    let loaded = apply(&session.vs, &source, &exp.config.model.reinit)?;
    Ok(Some((source, loaded)))
}

/// Loads the variables of `vs` from `source`, except those `reinit` covers; refuses a missing
/// variable or a shape mismatch, naming the tensor and both shapes. Nothing is changed when it
/// refuses.
pub fn apply(vs: &nn::VarStore, source: &Path, reinit: &[String]) -> anyhow::Result<Loaded> {
    let src = source.display();
    let tensors = tensors_of(source).with_context(|| format!("`model.init` = {src}"))?;
    let mut out = Loaded::default();
    let mut plan = Vec::new();
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, var) in vars {
        if covered(&name, reinit) {
            out.reinitialised.push(name);
            continue;
        }
        let Some(saved) = tensors.get(&name) else {
            bail!(
                "`model.init`: {src} has no tensor `{name}`, which this model needs; name it (or \
                 its layer) in `model.reinit` to start it afresh"
            );
        };
        if saved.size() != var.size() {
            bail!(
                "`model.init`: tensor `{name}` is {:?} in {src} but {:?} in this model; name it \
                 (or its layer, e.g. `reinit = [\"fc\"]` for a head with another class count) in \
                 `model.reinit` to start it afresh",
                saved.size(),
                var.size()
            );
        }
        plan.push((name.clone(), var, saved));
        out.loaded.push(name);
    }
    let names: std::collections::HashSet<&str> = out
        .loaded
        .iter()
        .chain(&out.reinitialised)
        .map(String::as_str)
        .collect();
    out.skipped = tensors
        .keys()
        .filter(|k| !names.contains(k.as_str()) || covered(k, reinit))
        .cloned()
        .collect();
    out.skipped.sort();
    let names_all: Vec<String> = vs.variables().into_keys().collect();
    if let Some(p) = reinit.iter().find(|p| {
        !names_all
            .iter()
            .any(|n| covered(n, std::slice::from_ref(p)))
    }) {
        let mut layers: Vec<&str> = names_all
            .iter()
            .filter_map(|n| n.rsplit_once('.').map(|(layer, _)| layer))
            .collect();
        layers.sort();
        layers.dedup();
        bail!(
            "`model.reinit`: `{p}` names no variable of this model (a variable or its layer, \
             e.g. one of: {})",
            layers.join(", ")
        );
    }
    if out.loaded.is_empty() {
        bail!("`model.init`: {src} gave this model no tensor; everything is in `model.reinit`");
    }
    let _guard = tch::no_grad_guard();
    for (name, mut var, saved) in plan {
        var.f_copy_(saved)
            .with_context(|| format!("`model.init`: copying `{name}` from {src}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reinit_covers_a_layer_not_its_namesakes() {
        let p = vec!["fc".to_string()];
        assert!(covered("fc.weight", &p));
        assert!(covered("fc", &p));
        assert!(!covered("fc2.weight", &p));
        assert!(!covered("layer1.fc.weight", &p));
    }
}
