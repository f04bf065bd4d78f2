//! Helpers for plugins' unit tests (feature `testing`): genes, setups and contexts built in one
//! line, and [`check_dataset`], the contract every [`Dataset`] must meet.
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! fuzzaug-sdk = { path = "...", features = ["testing"] }
//! ```
//!
//! ```ignore
//! use fuzzaug_sdk::testing::{self, gene};
//!
//! let setup = testing::setup(
//!     vec![
//!         gene("rotation", -30.0, 30.0, 0.0).with_step(1.0).with_mutation(6.0, 12.0),
//!         gene("zoom", 0.9, 1.1, 1.0),
//!     ],
//!     100,
//!     10,
//! );
//! let info = testing::check_dataset(&mut my_dataset)?;
//! ```
use crate::{
    component::ComponentContext,
    dataset::{Dataset, DatasetInfo, Split},
    strategy::{GeneSpec, StrategySetup},
};
use std::path::Path;

/// A continuous gene `name` over `[lo, hi]` with the given identity, a mutation step of 1 and a
/// low-loss mutation step of 1; [`GeneSpec::with_step`] and [`GeneSpec::with_mutation`] change
/// the rest.
pub fn gene(name: &str, lo: f64, hi: f64, identity: f64) -> GeneSpec {
    GeneSpec {
        name: name.into(),
        lo,
        hi,
        identity,
        step: None.into(),
        mutation_step: 1.0,
        low_loss_mutation_step: 1.0,
    }
}

/// Builder methods for tests (feature `testing`).
impl GeneSpec {
    /// The same gene on a grid of `step`.
    pub fn with_step(self, step: f64) -> Self {
        Self {
            step: Some(step).into(),
            ..self
        }
    }

    /// The same gene with mutation step `step`, and `low_loss` when the parent's loss is tiny.
    pub fn with_mutation(self, step: f64, low_loss: f64) -> Self {
        Self {
            mutation_step: step,
            low_loss_mutation_step: low_loss,
            ..self
        }
    }
}

/// A strategy's setup: `genes` in chromosome order, a training set of `num_samples` images of
/// `num_classes` classes.
pub fn setup(genes: Vec<GeneSpec>, num_samples: u64, num_classes: u32) -> StrategySetup {
    StrategySetup {
        genes: genes.into(),
        num_samples,
        num_classes,
    }
}

/// The context of a run seeded by `seed` whose config lies in `config_dir`.
pub fn context(seed: u64, config_dir: impl AsRef<Path>) -> ComponentContext {
    ComponentContext {
        seed,
        config_dir: config_dir.as_ref().to_string_lossy().as_ref().into(),
    }
}

/// How many images [`check_dataset`] reads at a time.
pub const CHECK_CHUNK: u64 = 64;

/// Checks the contract of [`Dataset`] on `dataset` and returns its info, or says what breaks
/// it:
///
/// - `info` succeeds and describes a usable set: at least one class, no zero dimension, one
///   mean and one standard deviation per channel;
/// - every image of both splits reads, [`CHECK_CHUNK`] at a time, as many images as asked,
///   each of [`DatasetInfo::image_bytes`] bytes, with a label below the number of classes;
/// - a read of 0 images at the end of a split is an empty chunk, and reads past the end (one
///   image at the end, one more image than the split holds, 0 images one past the end, and a
///   start so large that `start + count` overflows) are refused with an error that names no
///   settings key.
///
/// It reads every image, so call it on small test data.
pub fn check_dataset<D: Dataset + ?Sized>(dataset: &mut D) -> Result<DatasetInfo, String> {
    let info = dataset.info().map_err(|e| format!("info failed: {e}"))?;
    let (c, h, w) = (info.channels, info.height, info.width);
    if info.classes.is_empty() {
        return Err("info lists no classes".into());
    }
    let image_bytes = (c as usize)
        .checked_mul(h as usize)
        .and_then(|b| b.checked_mul(w as usize))
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("info describes images of {c}×{h}×{w} pixels"))?;
    if info.mean.len() != c as usize || info.std.len() != c as usize {
        return Err(format!(
            "info gives {} means and {} standard deviations for {c} channels",
            info.mean.len(),
            info.std.len()
        ));
    }
    let classes = info.classes.len() as u64;
    for split in [Split::Train, Split::Test] {
        let name = split.as_str();
        let len = info.len(split);
        let mut start = 0;
        while start < len {
            let count = (len - start).min(CHECK_CHUNK);
            let range = format!("{name} images {start}..{}", start + count);
            let chunk = dataset
                .read(split, start, count)
                .map_err(|e| format!("reading {range} failed: {e}"))?;
            if chunk.labels.len() as u64 != count {
                return Err(format!(
                    "reading {range} gave {} labels",
                    chunk.labels.len()
                ));
            }
            let want = (count as usize).saturating_mul(image_bytes);
            if chunk.pixels.len() != want {
                return Err(format!(
                    "reading {range} gave {} pixel bytes, not {want} ({count} images of {c}×{h}×{w})",
                    chunk.pixels.len()
                ));
            }
            if let Some((i, l)) = chunk
                .labels
                .iter()
                .enumerate()
                .find(|(_, &l)| u64::from(l) >= classes)
            {
                return Err(format!(
                    "{name} image {} has label {l}, but there are {classes} classes",
                    start + i as u64
                ));
            }
            start += count;
        }
        match dataset.read(split, len, 0) {
            Ok(chunk) if chunk.pixels.is_empty() && chunk.labels.is_empty() => {}
            Ok(_) => {
                return Err(format!(
                    "reading 0 {name} images at index {len} gave images"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "reading 0 {name} images at index {len} failed: {e}"
                ))
            }
        }
        let mut past_the_end = vec![(len, 1), (u64::MAX, 2)];
        if let Some(more) = len.checked_add(1) {
            past_the_end.extend([(0, more), (more, 0)]);
        }
        for (start, count) in past_the_end {
            match dataset.read(split, start, count) {
                Err(e) if e.key.is_empty() => {}
                Err(e) => {
                    return Err(format!(
                    "reading {count} {name} images from index {start} (of {len}) was refused as a \
                         fault of the setting `{}`: {}",
                    e.key, e.message
                ))
                }
                Ok(_) => {
                    return Err(format!(
                    "reading {count} {name} images from index {start} succeeded, but the {name} \
                         split has {len}"
                ))
                }
            }
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        dataset::{classes, Chunk, SplitData, Splits},
        error::PluginError,
    };

    #[test]
    fn genes_setups_and_contexts() {
        let g = gene("rotation", -30.0, 30.0, 0.0);
        assert_eq!(
            (
                g.name.as_str(),
                g.lo,
                g.hi,
                g.identity,
                g.step.into_option()
            ),
            ("rotation", -30.0, 30.0, 0.0, None)
        );
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (1.0, 1.0));
        let g = g.with_step(1.0).with_mutation(6.0, 12.0);
        assert_eq!(g.step.into_option(), Some(1.0));
        assert_eq!((g.mutation_step, g.low_loss_mutation_step), (6.0, 12.0));
        let s = setup(vec![g.clone(), gene("zoom", 0.9, 1.1, 1.0)], 100, 10);
        assert_eq!((s.genes.len(), s.num_samples, s.num_classes), (2, 100, 10));
        assert_eq!(s.genes[0], g);
        let ctx = context(7, Path::new("/configs"));
        assert_eq!((ctx.seed, ctx.config_dir.as_str()), (7, "/configs"));
    }

    /// A dataset of `train` and `test` 1×1×2 images whose faults `fault` picks.
    struct Fake {
        splits: Splits,
        info: DatasetInfo,
        fault: Option<&'static str>,
    }

    fn fake(train: usize, test: usize, fault: Option<&'static str>) -> Fake {
        let split = |n: usize| SplitData::new(vec![7; 2 * n], vec![1; n], 2).unwrap();
        let info = DatasetInfo {
            classes: classes(["a", "b"]),
            channels: 1,
            height: 1,
            width: 2,
            mean: vec![0.5].into(),
            std: vec![0.25].into(),
            train_len: train as u64,
            test_len: test as u64,
            mirror_preserves_labels: false,
        };
        Fake {
            splits: Splits {
                train: split(train),
                test: split(test),
            },
            info,
            fault,
        }
    }

    impl Dataset for Fake {
        fn info(&self) -> Result<DatasetInfo, PluginError> {
            let mut info = self.info.clone();
            match self.fault {
                Some("info") => return Err(PluginError::new("no data")),
                Some("classes") => info.classes = Default::default(),
                Some("size") => info.height = 0,
                Some("huge") => {
                    (info.channels, info.height, info.width) = (u32::MAX, u32::MAX, u32::MAX)
                }
                Some("mean") => info.std = vec![0.1, 0.2].into(),
                Some("len") => info.test_len += 1,
                _ => {}
            }
            Ok(info)
        }

        fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
            let len = self.splits.len(split);
            match self.fault {
                Some("lenient") if start <= len => {
                    let start = start.min(len);
                    return self.splits.chunk(split, start, count.min(len - start));
                }
                Some("keyed") => {
                    if let Err(e) = self.splits.chunk(split, start, count) {
                        return Err(PluginError::config("train_limit", e.message.to_string()));
                    }
                }
                Some("empty-end") if start == len && count == 0 => {
                    return self.splits.chunk(split, 0, 1)
                }
                Some("failing-end") if start == len && count == 0 => {
                    return Err(PluginError::new("nothing to read"))
                }
                _ => {}
            }
            let mut chunk = self.splits.chunk(split, start, count)?;
            match self.fault {
                Some("labels") => {
                    chunk.labels.pop();
                }
                Some("pixels") => chunk.pixels.push(0),
                Some("label") if split == Split::Test && start == 0 => {
                    if let Some(l) = chunk.labels.get_mut(1) {
                        *l = 2;
                    }
                }
                _ => {}
            }
            Ok(chunk)
        }
    }

    #[test]
    fn a_sound_dataset_passes_and_its_info_comes_back() {
        for (train, test) in [(3, 2), (0, 0), (130, 64), (64, 1)] {
            let mut d = fake(train, test, None);
            let info = check_dataset(&mut d).unwrap();
            assert_eq!((info.train_len, info.test_len), (train as u64, test as u64));
        }
        // Through a trait object too.
        let mut boxed: Box<dyn Dataset> = Box::new(fake(2, 2, None));
        assert!(check_dataset(boxed.as_mut()).is_ok());
    }

    #[test]
    fn each_breach_of_the_contract_is_named() {
        let cases = [
            ("info", "info failed: no data".to_string()),
            ("classes", "info lists no classes".to_string()),
            ("size", "info describes images of 1×0×2 pixels".to_string()),
            (
                "huge",
                format!("info describes images of {0}×{0}×{0} pixels", u32::MAX),
            ),
            ("mean", "info gives 1 means and 2 standard deviations for 1 channels".to_string()),
            (
                "len",
                "reading test images 0..3 failed: cannot read 3 test images from index 0: the test \
                 split has 2 images"
                    .to_string(),
            ),
            ("labels", "reading train images 0..3 gave 2 labels".to_string()),
            (
                "pixels",
                "reading train images 0..3 gave 7 pixel bytes, not 6 (3 images of 1×1×2)".to_string(),
            ),
            ("label", "test image 1 has label 2, but there are 2 classes".to_string()),
            ("empty-end", "reading 0 train images at index 3 gave images".to_string()),
            (
                "failing-end",
                "reading 0 train images at index 3 failed: nothing to read".to_string(),
            ),
            (
                "lenient",
                "reading 1 train images from index 3 succeeded, but the train split has 3".to_string(),
            ),
            (
                "keyed",
                "reading 1 train images from index 3 (of 3) was refused as a fault of the setting \
                 `train_limit`: cannot read 1 train images from index 3: the train split has 3 images"
                    .to_string(),
            ),
        ];
        for (fault, message) in cases {
            let err = check_dataset(&mut fake(3, 2, Some(fault))).unwrap_err();
            assert_eq!(err, message, "{fault}");
        }
    }
}
