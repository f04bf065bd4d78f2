//! The checks of what plugins answer. Every value a plugin returns is checked here before the
//! host uses it; a refusal is a [`BadAnswer`] naming the plugin (component and library), the
//! method and the offending value with its index. The handles ([`super::StrategyHandle`],
//! [`super::TransformHandle`], [`super::DatasetHandle`]) call these checks, so that no caller
//! can use an unchecked answer and every caller refuses it with the same words.
use super::handles::{CallError, Origin};
use crate::rundir::metrics;
use fuzzaug_sdk::{Chunk, ComponentKind, Counter, DatasetInfo, GeneSpec, Proposal, Split};
use std::fmt;

/// The most candidates one `propose` may ask the host to build and score for a batch: Σk over
/// the batch's samples. A larger proposal is refused before the host allocates anything for it.
///
/// 2²² = 4,194,304 is far above what the bundled strategies ask (`w10`'s largest `k`, 1,000,
/// times a batch of 512 is 512,000; `sensei`'s largest population, 10,000, times a batch of 128
/// is 1,280,000) and still bounds the host's per-candidate bookkeeping (owner, mirror, seed,
/// fitness, verdict, predicted class: about 30 bytes each, 120 MiB in all) and a batch's
/// scoring time. The SDK's strategy docs and the README quote this number.
pub const MAX_CANDIDATES_PER_BATCH: usize = 1 << 22;

/// What a plugin call's answer is checked against for one gene of the search space.
pub trait GeneRange {
    /// The gene's space as the strategy was given it (name, `[lo, hi]`).
    fn spec(&self) -> &GeneSpec;
}

impl GeneRange for GeneSpec {
    fn spec(&self) -> &GeneSpec {
        self
    }
}

/// A plugin answered, but with something the host refuses to use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct BadAnswer {
    /// The component's kind.
    pub kind: ComponentKind,
    /// The component and its library.
    pub origin: Box<Origin>,
    /// The method whose answer it was.
    pub method: &'static str,
    /// What is wrong, naming the offending value and its index.
    pub problem: String,
}

impl BadAnswer {
    /// `problem` with the answer of `method` of the `kind` component at `origin`.
    pub fn new(
        kind: ComponentKind,
        origin: &Origin,
        method: &'static str,
        problem: String,
    ) -> Self {
        Self {
            kind,
            origin: Box::new(origin.clone()),
            method,
            problem,
        }
    }
}

impl fmt::Display for BadAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` ({}) answered `{}` with {}; the host refuses it",
            self.kind,
            self.origin.component,
            self.origin.library.display(),
            self.method,
            self.problem
        )
    }
}

/// A plugin call that failed, or whose answer the host refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    /// The plugin reported an error or panicked.
    #[error(transparent)]
    Failed(#[from] CallError),
    /// The plugin answered with something the host cannot use.
    #[error(transparent)]
    Refused(#[from] BadAnswer),
}

/// The slack a gene value may have beyond `[lo, hi]`: floating-point rounding of a grid point
/// (`lo + i·step` may land one ulp past `hi`), never a real excursion.
fn slack(spec: &GeneSpec) -> f64 {
    1e-9 * spec.lo.abs().max(spec.hi.abs()).max(spec.hi - spec.lo)
}

/// Checks flat chromosomes (`values`, `genes.len()` per `unit`, e.g. "candidate"): every value
/// finite and within its gene's `[lo, hi]`. The caller has checked the length.
fn chromosomes<G: GeneRange>(values: &[f64], genes: &[G], unit: &str) -> Result<(), String> {
    let per = genes.len();
    if per == 0 {
        return Ok(());
    }
    for (i, &v) in values.iter().enumerate() {
        let spec = genes[i % per].spec();
        let whose = format!("gene `{}` of {unit} {}", spec.name, i / per);
        if !v.is_finite() {
            return Err(format!(
                "gene value {v} at index {i} ({whose}): not a number"
            ));
        }
        let tol = slack(spec);
        if v < spec.lo - tol || v > spec.hi + tol {
            return Err(format!(
                "gene value {v} at index {i} ({whose}), outside the gene's range [{}, {}]",
                spec.lo, spec.hi
            ));
        }
    }
    Ok(())
}

/// A strategy's proposal for a batch of `samples` samples over `genes`: one count per sample,
/// no candidate when there is no gene, at most [`MAX_CANDIDATES_PER_BATCH`] candidates in all
/// (checked before the host allocates anything for them), Σcounts × genes values, each finite
/// and in its gene's range.
pub fn proposal<G: GeneRange>(p: &Proposal, samples: usize, genes: &[G]) -> Result<(), String> {
    if p.counts.len() != samples {
        return Err(format!(
            "{} counts for a batch of {samples} samples (one per sample)",
            p.counts.len()
        ));
    }
    if genes.is_empty() {
        if let Some((i, k)) = p.counts.iter().enumerate().find(|(_, k)| **k != 0) {
            return Err(format!(
                "count {k} at index {i}, but the run has no genes: every count must be 0"
            ));
        }
    }
    let mut total = 0usize;
    for (i, &k) in p.counts.iter().enumerate() {
        // At most the limit plus one u32 before the check: no overflow.
        total += k as usize;
        if total > MAX_CANDIDATES_PER_BATCH {
            return Err(format!(
                "count {k} at index {i}, which brings the batch to {total} candidates, over the \
                 limit of {MAX_CANDIDATES_PER_BATCH} per batch (a smaller `train.batch_size` or \
                 fewer candidates per sample keep within it)"
            ));
        }
    }
    let expected = total * genes.len();
    if p.genes.len() != expected {
        return Err(format!(
            "{} gene values for {total} candidates of {} genes (expected {expected})",
            p.genes.len(),
            genes.len()
        ));
    }
    chromosomes(&p.genes, genes, "candidate")
}

/// One chromosome per sample for `samples` samples (from `select` or `incumbents`): samples ×
/// genes values, each finite and in its gene's range.
pub fn per_sample<G: GeneRange>(values: &[f64], samples: usize, genes: &[G]) -> Result<(), String> {
    let expected = samples * genes.len();
    if values.len() != expected {
        return Err(format!(
            "{} gene values for {samples} samples of {} genes (expected {expected})",
            values.len(),
            genes.len()
        ));
    }
    chromosomes(values, genes, "sample")
}

/// A strategy's per-epoch counters: each named (not empty, not repeated, not a `metrics.csv`
/// column other than [`metrics::SKIPPED_ROBUST`], which fills the column of its name) and
/// finite; `skipped_robust` a whole number ≥ 0.
pub fn counters(list: &[Counter]) -> Result<(), String> {
    let columns = metrics::columns();
    for (i, c) in list.iter().enumerate() {
        let name = c.name.as_str();
        if name.is_empty() {
            return Err(format!("a counter with an empty name at index {i}"));
        }
        if name != metrics::SKIPPED_ROBUST && columns.contains(&name) {
            return Err(format!(
                "counter `{name}` at index {i}, the name of a metrics.csv column (only `{}` may \
                 fill one)",
                metrics::SKIPPED_ROBUST
            ));
        }
        if let Some(j) = list[..i].iter().position(|o| o.name == c.name) {
            return Err(format!(
                "counter `{name}` at index {i}, a repeat of index {j}"
            ));
        }
        let v = c.value;
        if !v.is_finite() {
            return Err(format!(
                "counter `{name}` at index {i} of value {v}: not a number"
            ));
        }
        if name == metrics::SKIPPED_ROBUST && !(v >= 0.0 && v.fract() == 0.0) {
            return Err(format!(
                "counter `{name}` at index {i} of value {v}: it counts samples, so it must be a \
                 whole number ≥ 0"
            ));
        }
    }
    Ok(())
}

/// A geometric transform's matrices for `n` values: six finite floats each.
pub fn matrices(m: &[f32], n: usize) -> Result<(), String> {
    if m.len() != 6 * n {
        return Err(format!(
            "{} matrix values for {n} values (expected six each, {})",
            m.len(),
            6 * n
        ));
    }
    match m.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((i, v)) => Err(format!(
            "matrix value {v} at index {i} (entry {} of the matrix of value {}): not a number",
            i % 6,
            i / 6
        )),
        None => Ok(()),
    }
}

/// A photometric transform's gains and biases for `n` values: a finite pair each.
pub fn gain_bias(gb: &[f32], n: usize) -> Result<(), String> {
    if gb.len() != 2 * n {
        return Err(format!(
            "{} gain/bias values for {n} values (expected a gain and a bias each, {})",
            gb.len(),
            2 * n
        ));
    }
    match gb.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((i, v)) => Err(format!(
            "{} {v} at index {i} (of value {}): not a number",
            if i % 2 == 0 { "gain" } else { "bias" },
            i / 2
        )),
        None => Ok(()),
    }
}

/// What a tensor-kind transform returned, against the batch it was given: the same shape,
/// float32, on the same device.
pub fn tensor(
    (size, kind, device): (&[i64], tch::Kind, tch::Device),
    (want_size, want_device): (&[i64], tch::Device),
) -> Result<(), String> {
    if size != want_size || kind != tch::Kind::Float || device != want_device {
        return Err(format!(
            "a {kind:?} tensor of shape {size:?} on {device:?} for a Float batch of shape \
             {want_size:?} on {want_device:?} (it must return the same shape, Float, on the \
             same device)"
        ));
    }
    Ok(())
}

/// A dataset's chunk for images `start .. start + count` of `split`: `count` images of
/// `info`'s size and `count` labels, each below the number of classes.
pub fn chunk(
    c: &Chunk,
    info: &DatasetInfo,
    split: Split,
    start: u64,
    count: u64,
) -> Result<(), String> {
    let what = format!("{count} {} images from index {start}", split.as_str());
    let image = info.image_bytes() as u64;
    let pixels = c.pixels.len() as u64;
    if count.checked_mul(image) != Some(pixels) {
        return Err(format!(
            "{pixels} pixel bytes for {what} (expected {image} per image)"
        ));
    }
    if c.labels.len() as u64 != count {
        return Err(format!("{} labels for {what}", c.labels.len()));
    }
    let classes = info.classes.len();
    match c
        .labels
        .iter()
        .enumerate()
        .find(|(_, l)| **l as usize >= classes)
    {
        Some((i, l)) => Err(format!(
            "label {l} at index {i} ({} image {}), but the dataset has {classes} classes",
            split.as_str(),
            start + i as u64
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gene(name: &str, lo: f64, hi: f64, identity: f64) -> GeneSpec {
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

    fn genes() -> Vec<GeneSpec> {
        vec![
            gene("rotation", -20.0, 20.0, 0.0),
            gene("zoom", 0.9, 1.1, 1.0),
        ]
    }

    fn prop(counts: &[u32], values: &[f64]) -> Proposal {
        Proposal {
            counts: counts.to_vec().into(),
            genes: values.to_vec().into(),
        }
    }

    #[test]
    fn proposals_are_checked_for_counts_limit_lengths_and_ranges() {
        let g = genes();
        assert_eq!(proposal(&prop(&[1, 0], &[10.0, 1.05]), 2, &g), Ok(()));
        assert_eq!(
            proposal(&prop(&[1], &[10.0, 1.05]), 2, &g).unwrap_err(),
            "1 counts for a batch of 2 samples (one per sample)"
        );
        assert_eq!(
            proposal(&prop(&[0, 3], &[]), 2, &Vec::<GeneSpec>::new()).unwrap_err(),
            "count 3 at index 1, but the run has no genes: every count must be 0"
        );
        assert_eq!(
            proposal(&prop(&[0, 0], &[]), 2, &Vec::<GeneSpec>::new()),
            Ok(())
        );
        let huge = [u32::MAX; 4];
        assert_eq!(
            proposal(&prop(&huge, &[]), 4, &g).unwrap_err(),
            "count 4294967295 at index 0, which brings the batch to 4294967295 candidates, over \
             the limit of 4194304 per batch (a smaller `train.batch_size` or fewer candidates \
             per sample keep within it)"
        );
        assert_eq!(
            proposal(&prop(&[2, 0], &[10.0, 1.05]), 2, &g).unwrap_err(),
            "2 gene values for 2 candidates of 2 genes (expected 4)"
        );
        assert_eq!(
            proposal(&prop(&[1, 1], &[10.0, 1.05, 1000.0, 1.0]), 2, &g).unwrap_err(),
            "gene value 1000 at index 2 (gene `rotation` of candidate 1), outside the gene's \
             range [-20, 20]"
        );
        assert_eq!(
            proposal(&prop(&[2], &[0.0, 1.0, 0.0, f64::NAN]), 1, &g).unwrap_err(),
            "gene value NaN at index 3 (gene `zoom` of candidate 1): not a number"
        );
    }

    #[test]
    fn a_grid_point_one_rounding_past_its_bound_is_taken() {
        // -0.3 + 6 × 0.1 is 0.3000000000000001 in f64.
        let g = vec![gene("shear", -0.3, 0.3, 0.0)];
        let top = -0.3 + 6.0 * 0.1;
        assert!(top > 0.3);
        assert_eq!(per_sample(&[top], 1, &g), Ok(()));
        assert!(per_sample(&[0.3001], 1, &g).is_err());
        assert!(per_sample(&[-0.3001], 1, &g).is_err());
        let fixed = vec![gene("still", 0.0, 0.0, 0.0)];
        assert_eq!(per_sample(&[0.0], 1, &fixed), Ok(()));
        assert!(per_sample(&[1e-300], 1, &fixed).is_err());
    }

    #[test]
    fn per_sample_chromosomes_are_checked() {
        let g = genes();
        assert_eq!(per_sample(&[0.0, 1.0, 20.0, 0.9], 2, &g), Ok(()));
        assert_eq!(
            per_sample(&[0.0, 1.0], 2, &g).unwrap_err(),
            "2 gene values for 2 samples of 2 genes (expected 4)"
        );
        assert_eq!(
            per_sample(&[0.0, 1.0, f64::INFINITY, 1.0], 2, &g).unwrap_err(),
            "gene value inf at index 2 (gene `rotation` of sample 1): not a number"
        );
        assert_eq!(
            per_sample(&[0.0, 0.5], 1, &g).unwrap_err(),
            "gene value 0.5 at index 1 (gene `zoom` of sample 0), outside the gene's range \
             [0.9, 1.1]"
        );
    }

    fn counter(name: &str, value: f64) -> Counter {
        Counter {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn counters_may_not_shadow_a_column_repeat_or_be_nan() {
        assert_eq!(
            counters(&[counter("skipped_robust", 3.0), counter("mean_x", 0.5)]),
            Ok(())
        );
        assert_eq!(
            counters(&[counter("mean_x", 0.5), counter("test_acc", 1.0)]).unwrap_err(),
            "counter `test_acc` at index 1, the name of a metrics.csv column (only \
             `skipped_robust` may fill one)"
        );
        assert_eq!(
            counters(&[counter("a", 1.0), counter("b", 1.0), counter("a", 2.0)]).unwrap_err(),
            "counter `a` at index 2, a repeat of index 0"
        );
        assert_eq!(
            counters(&[counter("a", f64::NAN)]).unwrap_err(),
            "counter `a` at index 0 of value NaN: not a number"
        );
        assert_eq!(
            counters(&[counter("", 1.0)]).unwrap_err(),
            "a counter with an empty name at index 0"
        );
        assert_eq!(
            counters(&[counter("skipped_robust", -1.0)]).unwrap_err(),
            "counter `skipped_robust` at index 0 of value -1: it counts samples, so it must be \
             a whole number ≥ 0"
        );
        assert!(counters(&[counter("skipped_robust", 2.5)]).is_err());
        // Every contract column but `skipped_robust` is refused.
        for column in metrics::columns() {
            assert_eq!(
                counters(&[counter(column, 1.0)]).is_ok(),
                column == metrics::SKIPPED_ROBUST,
                "{column}"
            );
        }
    }

    #[test]
    fn transform_answers_are_checked() {
        assert_eq!(matrices(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], 1), Ok(()));
        assert_eq!(
            matrices(&[1.0; 6], 2).unwrap_err(),
            "6 matrix values for 2 values (expected six each, 12)"
        );
        let mut m = [1.0f32; 12];
        m[8] = f32::NAN;
        assert_eq!(
            matrices(&m, 2).unwrap_err(),
            "matrix value NaN at index 8 (entry 2 of the matrix of value 1): not a number"
        );
        assert_eq!(gain_bias(&[1.0, 0.0], 1), Ok(()));
        assert_eq!(
            gain_bias(&[1.0, 0.0, f32::NAN, 0.0], 2).unwrap_err(),
            "gain NaN at index 2 (of value 1): not a number"
        );
        assert_eq!(
            gain_bias(&[1.0, f32::NEG_INFINITY], 1).unwrap_err(),
            "bias -inf at index 1 (of value 0): not a number"
        );
        assert_eq!(
            gain_bias(&[1.0], 1).unwrap_err(),
            "1 gain/bias values for 1 values (expected a gain and a bias each, 2)"
        );
    }

    #[test]
    fn tensors_must_keep_shape_kind_and_device() {
        use tch::{Device, Kind};
        let shape = [2i64, 3, 8, 8];
        assert_eq!(
            tensor((&shape, Kind::Float, Device::Cpu), (&shape, Device::Cpu)),
            Ok(())
        );
        assert_eq!(
            tensor(
                (&[1, 3, 8, 8], Kind::Float, Device::Cpu),
                (&shape, Device::Cpu)
            )
            .unwrap_err(),
            "a Float tensor of shape [1, 3, 8, 8] on Cpu for a Float batch of shape [2, 3, 8, 8] \
             on Cpu (it must return the same shape, Float, on the same device)"
        );
        assert!(tensor((&shape, Kind::Double, Device::Cpu), (&shape, Device::Cpu)).is_err());
        assert_eq!(
            tensor(
                (&shape, Kind::Float, Device::Cuda(0)),
                (&shape, Device::Cpu)
            )
            .unwrap_err(),
            "a Float tensor of shape [2, 3, 8, 8] on Cuda(0) for a Float batch of shape \
             [2, 3, 8, 8] on Cpu (it must return the same shape, Float, on the same device)"
        );
    }

    fn info() -> DatasetInfo {
        DatasetInfo {
            classes: fuzzaug_sdk::dataset::classes(["a", "b"]),
            channels: 1,
            height: 2,
            width: 2,
            mean: vec![0.5].into(),
            std: vec![0.25].into(),
            train_len: 4,
            test_len: 2,
            mirror_preserves_labels: false,
        }
    }

    fn data(pixels: usize, labels: &[u32]) -> Chunk {
        Chunk {
            pixels: vec![0u8; pixels].into(),
            labels: labels.to_vec().into(),
        }
    }

    #[test]
    fn chunks_are_checked_for_sizes_and_labels() {
        let i = info();
        assert_eq!(chunk(&data(8, &[0, 1]), &i, Split::Train, 2, 2), Ok(()));
        assert_eq!(
            chunk(&data(4, &[0, 1]), &i, Split::Train, 2, 2).unwrap_err(),
            "4 pixel bytes for 2 train images from index 2 (expected 4 per image)"
        );
        assert_eq!(
            chunk(&data(8, &[0]), &i, Split::Test, 0, 2).unwrap_err(),
            "1 labels for 2 test images from index 0"
        );
        assert_eq!(
            chunk(&data(8, &[1, 2]), &i, Split::Train, 2, 2).unwrap_err(),
            "label 2 at index 1 (train image 3), but the dataset has 2 classes"
        );
        // A count whose byte size overflows is refused, not wrapped.
        assert!(chunk(&data(0, &[]), &i, Split::Train, 0, u64::MAX).is_err());
    }

    /// The limit is quoted where strategy authors read it: the SDK's strategy docs and the
    /// README.
    #[test]
    fn the_candidate_limit_is_documented_with_its_value() {
        let quoted = "4,194,304";
        assert_eq!(
            quoted.replace(',', "").parse::<usize>().unwrap(),
            MAX_CANDIDATES_PER_BATCH
        );
        for (file, text) in [
            (
                "sdk/src/strategy.rs",
                include_str!("../../../sdk/src/strategy.rs"),
            ),
            ("README.md", include_str!("../../../README.md")),
        ] {
            assert!(
                text.contains(quoted),
                "{file} does not quote the limit {quoted}"
            );
        }
    }
}
