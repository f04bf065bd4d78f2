//! `checkpoints/last`: model, optimiser, strategy state, random-stream position and epoch in
//! one file, written atomically (temp file, fsync, rename, fsync of the folder) and sealed with
//! a SHA-256 so a truncated or corrupt file is refused with a clear message.
//!
//! Layout: magic, format version (u32 LE), then three length-prefixed (u64 LE) sections —
//! metadata JSON, tensors (libtorch's archive format), strategy state — and the SHA-256 of all
//! preceding bytes.
use crate::{config::Config, setup::Components};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{collections::HashMap, io::Cursor, path::Path};
use tch::{Device, Tensor};

/// The first bytes of every checkpoint.
pub const MAGIC: &[u8; 19] = b"FUZZAUG-CHECKPOINT\0";
/// The prefix of the model's variables among a checkpoint's tensors (the optimiser's are
/// `optim/...`).
const MODEL: &str = "model/";

/// The checkpoint tensor name of the model variable `name`.
pub fn model_key(name: &str) -> String {
    format!("{MODEL}{name}")
}

/// Whether the file at `path` starts like a fuzzaug checkpoint.
pub fn is_checkpoint(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == MAGIC)
}
/// The format version this fuzzaug writes and reads, after [`MAGIC`].
pub const VERSION: u32 = 1;

/// What a checkpoint says about the run that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Epochs completed.
    pub epoch: u32,
    /// `model.arch`.
    pub model: String,
    /// `dataset.name`.
    pub dataset: String,
    /// Training images.
    pub train_len: u64,
    /// Classes.
    pub classes: usize,
    /// Gene names in order.
    pub genes: Vec<String>,
    /// `strategy.name`.
    pub strategy: String,
    /// `seed`.
    pub seed: u64,
    /// Position of the run's random stream (u128 as text).
    pub rng_word_pos: String,
    /// The fuzzaug version that wrote it.
    pub fuzzaug: String,
    /// The run's training-relevant resolved config ([`super::identity`]); absent in
    /// checkpoints of fuzzaug before 0.2, which are compared on the fields above only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// Wall seconds of the finished epochs, over every session of the run.
    #[serde(default)]
    pub train_seconds: f64,
    /// The figures measured after the epoch it holds (absent before fuzzaug 0.2).
    #[serde(default)]
    pub figures: Figures,
    /// The per-channel (mean, std) the model was trained with, on the 0..1 scale (absent
    /// before fuzzaug 0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<(Vec<f32>, Vec<f32>)>,
}

/// The figures of the epoch a checkpoint holds: what `keep_best` compares and what an export
/// carries in its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    /// Standard test accuracy.
    pub test_acc: Option<f64>,
    /// Robust accuracy on the run's grid, when that epoch measured it.
    pub robust_acc: Option<f64>,
    /// Chromosomes of that grid.
    pub robust_grid_size: Option<usize>,
    /// Test images the grid was measured on.
    pub robust_subset: Option<usize>,
}

impl Meta {
    /// Refuses to feed the model inputs normalised otherwise than it was trained with:
    /// `now` is the (mean, std) the dataset and config give today.
    pub fn check_normalization(
        &self,
        now: &(Vec<f32>, Vec<f32>),
        path: &Path,
    ) -> anyhow::Result<()> {
        match &self.normalization {
            Some(trained) if trained != now => bail!(
                "{}: the model was trained on inputs normalised with mean {:?} and std {:?}, but \
                 the dataset and config give mean {:?} and std {:?} now (the training images or \
                 `[dataset] mean`/`std` changed); set them back, e.g. `--set 'dataset.mean={:?}' \
                 --set 'dataset.std={:?}'`",
                path.display(),
                trained.0,
                trained.1,
                now.0,
                now.1,
                trained.0,
                trained.1
            ),
            _ => Ok(()),
        }
    }

    /// The metadata of a run of `config` with `parts` after `epoch` epochs that took
    /// `train_seconds`, its random stream at `rng_word_pos`.
    pub fn of(
        config: &Config,
        parts: &Components,
        epoch: u32,
        rng_word_pos: u128,
        train_seconds: f64,
    ) -> anyhow::Result<Self> {
        let hflip = config
            .train
            .hflip_for(parts.dataset_info.mirror_preserves_labels);
        Ok(Self {
            epoch,
            model: config.model.name(),
            dataset: config.dataset.name.clone(),
            train_len: parts.dataset_info.train_len,
            classes: parts.dataset_info.classes.len(),
            genes: parts
                .genes
                .iter()
                .map(|g| g.spec.name.to_string())
                .collect(),
            strategy: config.strategy.name.clone(),
            seed: config.seed,
            rng_word_pos: rng_word_pos.to_string(),
            fuzzaug: env!("CARGO_PKG_VERSION").to_string(),
            config: Some(super::identity::of(config, hflip)?),
            train_seconds,
            figures: Figures::default(),
            normalization: Some(parts.normalization.clone()),
        })
    }

    /// The fields in which `other` (the current config) differs, as readable lines: every
    /// training-relevant key of the resolved config, and what the dataset reports.
    pub fn differences(&self, other: &Meta) -> Vec<String> {
        let whole = self.config.as_ref().zip(other.config.as_ref());
        let mut out = whole.map_or_else(Vec::new, |(run, now)| {
            super::identity::differences(run, now)
        });
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{what}: the run has {a}, this config {b}"));
            }
        };
        cmp(
            "training images",
            self.train_len.to_string(),
            other.train_len.to_string(),
        );
        cmp(
            "classes",
            self.classes.to_string(),
            other.classes.to_string(),
        );
        if whole.is_none() {
            cmp("model", self.model.clone(), other.model.clone());
            cmp("dataset", self.dataset.clone(), other.dataset.clone());
            cmp("genes", self.genes.join(", "), other.genes.join(", "));
            cmp("strategy", self.strategy.clone(), other.strategy.clone());
            cmp("seed", self.seed.to_string(), other.seed.to_string());
        }
        out
    }
}

impl Checkpoint {
    /// The model's variables by name (without the checkpoint's prefix).
    pub fn model_tensors(self) -> HashMap<String, Tensor> {
        self.tensors
            .into_iter()
            .filter_map(|(k, t)| k.strip_prefix(MODEL).map(|k| (k.to_string(), t)))
            .collect()
    }
}

/// A loaded checkpoint.
pub struct Checkpoint {
    /// Its metadata.
    pub meta: Meta,
    /// Named tensors (`model/...`, `optim/...`).
    pub tensors: HashMap<String, Tensor>,
    /// The strategy's state bytes.
    pub strategy: Vec<u8>,
}

fn section(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Writes a checkpoint to `path` atomically.
pub fn save(
    path: &Path,
    meta: &Meta,
    tensors: &[(String, Tensor)],
    strategy: &[u8],
) -> anyhow::Result<()> {
    let mut blob = Vec::new();
    Tensor::save_multi_to_stream(tensors, &mut blob).context("serialising the model")?;
    let mut out = Vec::with_capacity(blob.len() + strategy.len() + 4096);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    section(&mut out, &serde_json::to_vec(meta)?);
    section(&mut out, &blob);
    section(&mut out, strategy);
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    crate::atomic::write(path, &out)
        .with_context(|| format!("writing the checkpoint {}", path.display()))
}

/// Reads and verifies a checkpoint, placing its tensors on `device`.
pub fn load(path: &Path, device: Device) -> anyhow::Result<Checkpoint> {
    from_bytes(&read(path)?, path, device)
}

/// [`load`] of `bytes`, the contents of the checkpoint file `path` (which is not read).
pub fn from_bytes(bytes: &[u8], path: &Path, device: Device) -> anyhow::Result<Checkpoint> {
    let (meta, tensors, strategy) = sections(bytes, path)?;
    let p = path.display();
    let tensors = Tensor::load_multi_from_stream_with_device(Cursor::new(tensors), device)
        .with_context(|| format!("{p}: unreadable tensors"))?
        .into_iter()
        .collect();
    Ok(Checkpoint {
        meta,
        tensors,
        strategy,
    })
}

/// Reads and verifies a checkpoint's metadata, leaving its tensors unread.
pub fn load_meta(path: &Path) -> anyhow::Result<Meta> {
    Ok(sections(&read(path)?, path)?.0)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the checkpoint {}", path.display()))
}

/// The verified metadata, the tensors' bytes and the strategy's state of `bytes`, the
/// checkpoint at `path`.
fn sections(bytes: &[u8], path: &Path) -> anyhow::Result<(Meta, Vec<u8>, Vec<u8>)> {
    let p = path.display();
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        bail!("{p} is not a fuzzaug checkpoint");
    }
    if bytes.len() < MAGIC.len() + 4 + 32 {
        bail!("{p}: the checkpoint is truncated ({} bytes)", bytes.len());
    }
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(body).as_slice() != digest {
        bail!("{p}: the checkpoint is corrupt or truncated (its SHA-256 seal does not match; {} bytes)", bytes.len());
    }
    let version = u32::from_le_bytes(body[MAGIC.len()..MAGIC.len() + 4].try_into()?);
    if version != VERSION {
        bail!("{p}: checkpoint format version {version}, this fuzzaug reads version {VERSION}");
    }
    let mut at = MAGIC.len() + 4;
    let mut next = || -> anyhow::Result<&[u8]> {
        let len = body
            .get(at..at + 8)
            .with_context(|| format!("{p}: the checkpoint ends inside a section header"))?;
        let len = u64::from_le_bytes(len.try_into()?);
        // A length past the end may be any u64: compared, never added.
        let rest = body.len() - (at + 8);
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= rest)
            .with_context(|| format!("{p}: a section of {len} bytes runs past the end"))?;
        let s = &body[at + 8..at + 8 + len];
        at += 8 + len;
        Ok(s)
    };
    let meta: Meta = serde_json::from_slice(next()?)
        .with_context(|| format!("{p}: unreadable checkpoint metadata"))?;
    let tensors = next()?.to_vec();
    let strategy = next()?.to_vec();
    Ok((meta, tensors, strategy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            epoch: 3,
            model: "small-cnn".into(),
            dataset: "shapes".into(),
            train_len: 100,
            classes: 10,
            genes: vec!["rotation".into()],
            strategy: "standard".into(),
            seed: 1,
            rng_word_pos: "42".into(),
            fuzzaug: "0.1.0".into(),
            config: None,
            train_seconds: 1.5,
            figures: Figures {
                test_acc: Some(0.5),
                ..Figures::default()
            },
            normalization: Some((vec![0.5], vec![0.25])),
        }
    }

    #[test]
    fn round_trip_and_corruption() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("last");
        let t = vec![("model/w".to_string(), Tensor::from_slice(&[1.0f32, 2.0]))];
        save(&p, &meta(), &t, b"state").unwrap();
        let c = load(&p, Device::Cpu).unwrap();
        assert_eq!(c.meta, meta());
        assert_eq!(c.strategy, b"state");
        assert_eq!(
            Vec::<f32>::try_from(&c.tensors["model/w"]).unwrap(),
            vec![1.0, 2.0]
        );
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let e = load(&p, Device::Cpu).err().unwrap().to_string();
        assert!(
            e.contains("the checkpoint is corrupt or truncated (its SHA-256 seal does not match;"),
            "{e}"
        );
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        std::fs::write(&p, &flipped).unwrap();
        assert!(load(&p, Device::Cpu)
            .err()
            .unwrap()
            .to_string()
            .contains("corrupt or truncated"));
        std::fs::write(&p, b"hello").unwrap();
        assert!(load(&p, Device::Cpu)
            .err()
            .unwrap()
            .to_string()
            .ends_with("is not a fuzzaug checkpoint"));
        assert!(load(&d.path().join("none"), Device::Cpu)
            .err()
            .unwrap()
            .to_string()
            .starts_with("cannot read the checkpoint"));
    }

    /// Found by `fuzz/` (target `checkpoint`): a sealed file whose section length is near
    /// u64::MAX overflowed the offset arithmetic (a panic where overflow is checked, a wrapped
    /// offset elsewhere).
    #[test]
    fn a_section_length_past_the_end_is_refused_whatever_its_size() {
        let p = Path::new("runs/x/checkpoints/last");
        for len in [u64::MAX, u64::MAX - 30, 1 << 40, 9] {
            let mut file = MAGIC.to_vec();
            file.extend_from_slice(&VERSION.to_le_bytes());
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(b"{}");
            let digest = Sha256::digest(&file);
            file.extend_from_slice(&digest);
            let e = from_bytes(&file, p, Device::Cpu).err().unwrap();
            assert_eq!(
                e.to_string(),
                format!("runs/x/checkpoints/last: a section of {len} bytes runs past the end")
            );
        }
        // Valid metadata, then a body that ends inside the tensors' 8-byte length.
        let json = serde_json::to_vec(&meta()).unwrap();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&VERSION.to_le_bytes());
        file.extend_from_slice(&(json.len() as u64).to_le_bytes());
        file.extend_from_slice(&json);
        file.extend_from_slice(&[5, 0, 0]);
        let digest = Sha256::digest(&file);
        file.extend_from_slice(&digest);
        let e = from_bytes(&file, p, Device::Cpu).err().unwrap();
        assert_eq!(
            e.to_string(),
            "runs/x/checkpoints/last: the checkpoint ends inside a section header"
        );
    }

    #[test]
    fn inputs_normalised_otherwise_than_in_training_are_refused() {
        let m = meta();
        let p = Path::new("runs/x/checkpoints/last");
        m.check_normalization(&(vec![0.5], vec![0.25]), p).unwrap();
        let e = m
            .check_normalization(&(vec![0.4], vec![0.25]), p)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("runs/x/checkpoints/last: the model was trained on inputs normalised with mean [0.5] and std [0.25], but the dataset and config give mean [0.4] and std [0.25] now"),
            "{e}"
        );
        // A checkpoint from before fuzzaug recorded it is taken as it is.
        let old = Meta {
            normalization: None,
            ..meta()
        };
        old.check_normalization(&(vec![0.4], vec![0.25]), p)
            .unwrap();
    }

    #[test]
    fn differences_are_named() {
        let mut other = meta();
        other.model = "resnet18".into();
        other.dataset = "cifar10".into();
        assert_eq!(
            meta().differences(&other),
            vec![
                "model: the run has small-cnn, this config resnet18",
                "dataset: the run has shapes, this config cifar10"
            ]
        );
    }
}
