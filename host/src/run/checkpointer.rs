//! Saving a session into a checkpoint ([`crate::rundir::checkpoint`]) and restoring one from it: the model's variables,
//! the optimiser's buffers, the strategy's state, the random stream's position, and what the
//! run is ([`crate::rundir::identity`]), so that only the same run resumes.
use crate::{config::Config, rundir::checkpoint, train::Session};
use anyhow::{bail, Context};
use std::path::Path;
use tch::{nn, Tensor};

/// The checkpoint tensor that holds a TorchScript network's whole module (u8 bytes of its
/// archive), whose buffers the var store does not have.
const SCRIPTED_MODULE: &str = "torchscript/module";

/// The bytes of the TorchScript module a checkpoint holds, if it holds one.
fn scripted_bytes(
    tensors: &std::collections::HashMap<String, Tensor>,
) -> anyhow::Result<Option<Vec<u8>>> {
    tensors
        .get(SCRIPTED_MODULE)
        .map(|t| Ok(Vec::<u8>::try_from(t.f_to_device(tch::Device::Cpu)?)?))
        .transpose()
}

/// A checkpoint of a TorchScript network puts its module in place of the session's, so that
/// its buffers come back too.
fn install_module(
    session: &mut Session,
    tensors: &std::collections::HashMap<String, Tensor>,
    path: &Path,
) -> anyhow::Result<()> {
    if let (Some(_), Some(bytes)) = (&session.scripted, scripted_bytes(tensors)?) {
        session.install_scripted(&bytes, &path.display().to_string())?;
    }
    Ok(())
}

/// The network of the checkpoint at `path`, fresh on the CPU in NCHW layout (what PyTorch users
/// load), for `config`'s dataset of `spec`; with the checkpoint's metadata.
pub fn load_network(
    config: &Config,
    spec: &crate::models::InputSpec,
    path: &Path,
) -> anyhow::Result<(nn::VarStore, crate::models::Network, checkpoint::Meta)> {
    let ckpt = checkpoint::load(path, tch::Device::Cpu)?;
    check_model(&ckpt.meta, config, spec.classes as usize, path)?;
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let network = match scripted_bytes(&ckpt.tensors)? {
        Some(bytes) => {
            crate::models::Network::scripted(crate::models::scripted::Scripted::from_bytes(
                &bytes,
                &path.display().to_string(),
                &vs.root(),
                spec,
            )?)
        }
        None => crate::models::network(&config.model.arch, None, &vs.root(), spec)?,
    };
    copy_model(&vs, &ckpt.tensors, path)?;
    Ok((vs, network, ckpt.meta))
}

fn meta(session: &Session, epoch: u32, train_seconds: f64) -> anyhow::Result<checkpoint::Meta> {
    checkpoint::Meta::of(
        &session.config,
        &session.parts,
        epoch,
        session.rng.get_word_pos(),
        train_seconds,
    )
}

/// Saves `session` after `epoch` epochs that took `train_seconds`, with that epoch's
/// `figures` (atomically).
pub fn save(
    session: &Session,
    path: &Path,
    epoch: u32,
    train_seconds: f64,
    figures: checkpoint::Figures,
) -> anyhow::Result<()> {
    let mut tensors: Vec<(String, tch::Tensor)> = session
        .vs
        .variables()
        .into_iter()
        .map(|(k, t)| (checkpoint::model_key(&k), t))
        .collect();
    tensors.extend(session.optimizer.state_tensors());
    if let Some(s) = &session.scripted {
        tensors.push((
            SCRIPTED_MODULE.to_string(),
            Tensor::from_slice(&s.to_bytes()?),
        ));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let strategy = session.parts.strategy.save_state()?;
    let mut meta = meta(session, epoch, train_seconds)?;
    meta.figures = figures;
    checkpoint::save(path, &meta, &tensors, &strategy)
}

/// Loads only the model's variables of a checkpoint into `session`, for evaluation: the
/// checkpoint must be of the same architecture, dataset and classes (the genes, strategy and
/// seed it was trained with do not matter). Returns the epochs it had trained.
pub fn load_model(session: &mut Session, path: &Path) -> anyhow::Result<u32> {
    let ckpt = checkpoint::load(path, session.device)?;
    let classes = session.parts.dataset_info.classes.len();
    check_model(&ckpt.meta, &session.config, classes, path)?;
    ckpt.meta
        .check_normalization(&session.parts.normalization, path)?;
    install_module(session, &ckpt.tensors, path)?;
    copy_model(&session.vs, &ckpt.tensors, path)?;
    Ok(ckpt.meta.epoch)
}

/// Refuses a checkpoint `m` that holds another network than `config` builds for a dataset of
/// `classes` classes.
fn check_model(
    m: &checkpoint::Meta,
    config: &Config,
    classes: usize,
    path: &Path,
) -> anyhow::Result<()> {
    let mut diffs = Vec::new();
    let model = config.model.name();
    if m.model != model {
        diffs.push(format!(
            "model: the checkpoint has {}, this config {model}",
            m.model
        ));
    }
    if m.dataset != config.dataset.name || m.classes != classes {
        diffs.push(format!(
            "dataset: the checkpoint has {} ({} classes), this config {} ({} classes)",
            m.dataset, m.classes, config.dataset.name, classes
        ));
    }
    if !diffs.is_empty() {
        bail!(
            "{} holds another model than this config builds:\n  {}",
            path.display(),
            diffs.join("\n  ")
        );
    }
    Ok(())
}

/// Copies the checkpoint's `model/*` tensors into the variables of `vs`.
fn copy_model(
    vs: &nn::VarStore,
    tensors: &std::collections::HashMap<String, tch::Tensor>,
    path: &Path,
) -> anyhow::Result<()> {
    let _guard = tch::no_grad_guard();
    for (name, mut var) in vs.variables() {
        let saved = tensors
            .get(&checkpoint::model_key(&name))
            .with_context(|| format!("{}: no tensor for `{name}`", path.display()))?;
        var.f_copy_(saved).with_context(|| {
            format!("{}: tensor `{name}` does not fit the model", path.display())
        })?;
    }
    Ok(())
}

/// Loads a checkpoint into `session` after checking it was written for the same run (every
/// training-relevant key of the resolved config); returns the epochs it had completed and the
/// seconds they took.
pub fn restore(session: &mut Session, path: &Path) -> anyhow::Result<(u32, f64)> {
    let ckpt = checkpoint::load(path, session.device)?;
    let diffs = ckpt.meta.differences(&meta(session, ckpt.meta.epoch, 0.0)?);
    if !diffs.is_empty() {
        bail!(
            "{} belongs to a different run than this config describes, so it is not resumed:\n  {}\nResume with the run's own config (`fuzzaug run --resume RUN_DIR` reads it from the run directory); to train further on other settings, start a new run",
            path.display(),
            diffs.join("\n  ")
        );
    }
    install_module(session, &ckpt.tensors, path)?;
    copy_model(&session.vs, &ckpt.tensors, path)?;
    session
        .optimizer
        .load_state(&ckpt.tensors)
        .with_context(|| format!("{}", path.display()))?;
    session.parts.strategy.load_state(&ckpt.strategy)?;
    let pos: u128 = ckpt
        .meta
        .rng_word_pos
        .parse()
        .with_context(|| format!("{}: bad random-stream position", path.display()))?;
    session.rng.set_word_pos(pos);
    Ok((ckpt.meta.epoch, ckpt.meta.train_seconds))
}
