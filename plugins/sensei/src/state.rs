//! Checkpoint bytes of the GA: every population with its losses, the epoch's counters, the
//! epoch's per-class-pair counts of `class_pair_cap` and the random stream's position, in a
//! versioned little-endian binary format:
//!
//! ```text
//! "FZSENSEI" | version u32 | genes u32 | population u32 | samples u64 | rng word pos u128
//! | skipped u64 | chosen fitness sum f64 | chosen count u64 | |gene| sums f64 × genes
//! | class_pair_capped u64                                                  (version 2)
//! | populated samples u64 | per sample: index u64, members u32,
//!   per member: scored u8 (0/1), loss f64, codes f64 × genes
//! | class pairs u64 | per pair, ascending: true class u32, predicted class u32,
//!   images chosen u64                                                      (version 2)
//! ```
//!
//! Version 1 (written before `class_pair_cap` existed) lacks the two parts marked version 2; it
//! still loads, with no image redirected and no pair counted so far this epoch, which is what a
//! run of that plugin had.
//!
//! [`decode`] takes any bytes: whatever they hold, it returns a snapshot the strategy can run
//! on or an error saying what is wrong, and never panics nor allocates more than the bytes
//! themselves justify (every length field is checked against the run's shape, or read item by
//! item, before anything is reserved for it). Beyond the format it checks the values: every
//! code a grid index or a value in its gene's range, the counters finite and no larger than
//! one epoch can make them, samples in ascending order and in the training set, class pairs of
//! known classes, the random stream's position one ChaCha8 can reach.
use crate::genes::Genes;
use crate::population::Member;
use fuzzaug_sdk::PluginError;
use std::collections::BTreeMap;

const MAGIC: &[u8; 8] = b"FZSENSEI";
/// The format this plugin writes.
pub const VERSION: u32 = 2;
/// The oldest format it reads.
const OLDEST: u32 = 1;

/// Per-epoch training images chosen from misclassified candidates, by (true class, predicted
/// class); counted only while `class_pair_cap` is on.
pub type PairCounts = BTreeMap<(u32, u32), u64>;

/// Per-epoch statistics so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub skipped: u64,
    pub chosen_sum: f64,
    pub chosen_n: u64,
    /// Σ |value − identity| of chosen chromosomes, per gene.
    pub gene_abs: Vec<f64>,
    /// Samples `class_pair_cap` redirected to another chromosome.
    pub capped: u64,
}

/// ChaCha8's stream position counts 32-bit words in 2^64 blocks of 16: it stays below 2^68.
const WORD_POS_END: u128 = 1 << 68;

/// What the saved values are checked against, beyond the [`Shape`]: the run's genes (their
/// codes) and its number of classes (the class pairs).
#[derive(Debug, Clone, Copy)]
pub struct Bounds<'a> {
    pub genes: &'a Genes,
    pub classes: u32,
}

/// What must match between the saved state and the strategy loading it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub genes: usize,
    pub population: usize,
    pub samples: u64,
}

/// The whole search state.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub word_pos: u128,
    pub counters: Counters,
    /// (sample index, population), for every sample seen.
    pub populations: Vec<(u64, Vec<Member>)>,
    /// This epoch's counts for `class_pair_cap`.
    pub pairs: PairCounts,
}

/// The bytes of `snap`.
pub fn encode(shape: Shape, snap: &Snapshot) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(shape.genes as u32).to_le_bytes());
    out.extend_from_slice(&(shape.population as u32).to_le_bytes());
    out.extend_from_slice(&shape.samples.to_le_bytes());
    out.extend_from_slice(&snap.word_pos.to_le_bytes());
    let c = &snap.counters;
    out.extend_from_slice(&c.skipped.to_le_bytes());
    out.extend_from_slice(&c.chosen_sum.to_le_bytes());
    out.extend_from_slice(&c.chosen_n.to_le_bytes());
    for v in &c.gene_abs {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&c.capped.to_le_bytes());
    out.extend_from_slice(&(snap.populations.len() as u64).to_le_bytes());
    for (sample, members) in &snap.populations {
        out.extend_from_slice(&sample.to_le_bytes());
        out.extend_from_slice(&(members.len() as u32).to_le_bytes());
        for m in members {
            out.push(u8::from(m.loss.is_some()));
            out.extend_from_slice(&m.loss.unwrap_or(0.0).to_le_bytes());
            for v in &m.codes {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&(snap.pairs.len() as u64).to_le_bytes());
    for (&(truth, predicted), &n) in &snap.pairs {
        out.extend_from_slice(&truth.to_le_bytes());
        out.extend_from_slice(&predicted.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    name: &'a str,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self, what: &str) -> Result<[u8; N], PluginError> {
        let chunk: Option<[u8; N]> = self
            .at
            .checked_add(N)
            .and_then(|end| self.bytes.get(self.at..end))
            .and_then(|c| c.try_into().ok());
        let chunk = chunk.ok_or_else(|| {
            PluginError::new(format!(
                "`{}`: the checkpoint's strategy state is truncated ({} bytes, ended inside {what})",
                self.name,
                self.bytes.len()
            ))
        })?;
        self.at += N;
        Ok(chunk)
    }
    fn u8(&mut self, what: &str) -> Result<u8, PluginError> {
        Ok(self.take::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, PluginError> {
        self.take(what).map(u32::from_le_bytes)
    }
    fn u64(&mut self, what: &str) -> Result<u64, PluginError> {
        self.take(what).map(u64::from_le_bytes)
    }
    fn u128(&mut self, what: &str) -> Result<u128, PluginError> {
        self.take(what).map(u128::from_le_bytes)
    }
    fn f64(&mut self, what: &str) -> Result<f64, PluginError> {
        self.take(what).map(f64::from_le_bytes)
    }
    fn fail(&self, message: String) -> PluginError {
        PluginError::new(format!("`{}`: {message}", self.name))
    }
}

/// Reads what [`encode`] wrote for a strategy of `shape`, checking every value against
/// `bounds`; `name` is the component's name. Any bytes are safe to pass (see the module docs).
pub fn decode(
    bytes: &[u8],
    shape: Shape,
    bounds: Bounds<'_>,
    name: &str,
) -> Result<Snapshot, PluginError> {
    let mut r = Reader { bytes, at: 0, name };
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(r.fail(format!(
            "the checkpoint's strategy state ({} bytes) is not SENSEI state; was it saved by \
             another strategy?",
            bytes.len()
        )));
    }
    r.at = MAGIC.len();
    let version = r.u32("the header")?;
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state has format version {version}; this plugin reads \
             versions {OLDEST} to {VERSION}"
        )));
    }
    let genes = r.u32("the header")? as usize;
    let population = r.u32("the header")? as usize;
    let samples = r.u64("the header")?;
    let saved = Shape {
        genes,
        population,
        samples,
    };
    if saved != shape {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state is for {genes} genes, population {population} and \
             {samples} samples; this run has {} genes, population {} and {} samples",
            shape.genes, shape.population, shape.samples
        )));
    }
    let word_pos = r.u128("the header")?;
    if word_pos >= WORD_POS_END {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state puts its random stream at word {word_pos}, beyond \
             the end of a ChaCha8 stream (2^68 words)"
        )));
    }
    let mut counters = Counters {
        skipped: r.u64("the counters")?,
        chosen_sum: r.f64("the counters")?,
        chosen_n: r.u64("the counters")?,
        gene_abs: Vec::with_capacity(genes),
        capped: 0,
    };
    for _ in 0..genes {
        counters.gene_abs.push(r.f64("the counters")?);
    }
    if version >= 2 {
        counters.capped = r.u64("the counters")?;
    }
    check_counters(&r, &counters, samples)?;
    let count = r.u64("the population count")?;
    // Grown entry by entry: a count larger than the bytes hold ends at "truncated".
    let mut populations: Vec<(u64, Vec<Member>)> = Vec::new();
    for _ in 0..count {
        let sample = r.u64("a population")?;
        if sample >= samples {
            return Err(r.fail(format!(
                "the checkpoint's SENSEI state names sample {sample}, but there are {samples}"
            )));
        }
        if let Some(&(last, _)) = populations.last().filter(|(last, _)| *last >= sample) {
            return Err(r.fail(format!(
                "the checkpoint's SENSEI state is corrupt (sample {sample} after sample {last}: \
                 samples are saved once each, in ascending order)"
            )));
        }
        let n = r.u32("a population")? as usize;
        if n == 0 || n > population {
            return Err(r.fail(format!(
                "the checkpoint's SENSEI state holds {n} chromosomes for sample {sample}, \
                 expected 1 to {population}"
            )));
        }
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let scored = r.u8("a chromosome")?;
            let loss = r.f64("a chromosome")?;
            if scored > 1 {
                return Err(r.fail(format!(
                    "the checkpoint's SENSEI state is corrupt (flag {scored} at byte {})",
                    r.at - 9
                )));
            }
            let mut codes = Vec::with_capacity(genes);
            for gene in &bounds.genes.0 {
                let code = r.f64("a chromosome")?;
                if let Some(problem) = gene.bad_code(code) {
                    return Err(r.fail(format!(
                        "the checkpoint's SENSEI state holds {problem} in chromosome {} of \
                         sample {sample}",
                        members.len()
                    )));
                }
                codes.push(code);
            }
            members.push(Member {
                codes,
                loss: (scored == 1).then_some(loss),
            });
        }
        populations.push((sample, members));
    }
    let mut pairs = PairCounts::new();
    if version >= 2 {
        let count = r.u64("the class-pair count")?;
        let mut last = None;
        let mut paired = 0u64;
        for _ in 0..count {
            let truth = r.u32("a class pair")?;
            let predicted = r.u32("a class pair")?;
            let n = r.u64("a class pair")?;
            let pair = (truth, predicted);
            if truth == predicted || n == 0 || last.is_some_and(|l| l >= pair) {
                return Err(r.fail(format!(
                    "the checkpoint's SENSEI state is corrupt (class pair ({truth}, \
                     {predicted}) with {n} images at byte {})",
                    r.at - 16
                )));
            }
            let classes = bounds.classes;
            if truth >= classes || predicted >= classes {
                return Err(r.fail(format!(
                    "the checkpoint's SENSEI state counts class pair ({truth}, {predicted}), \
                     but the dataset has {classes} classes"
                )));
            }
            // Each sample trains once an epoch: no more images than samples in all.
            paired = paired.saturating_add(n);
            if paired > samples {
                return Err(r.fail(format!(
                    "the checkpoint's SENSEI state counts {paired} or more images in class \
                     pairs this epoch, but an epoch has {samples} samples"
                )));
            }
            last = Some(pair);
            pairs.insert(pair, n);
        }
    }
    if r.at != bytes.len() {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state has {} unexpected bytes at its end",
            bytes.len() - r.at
        )));
    }
    Ok(Snapshot {
        word_pos,
        counters,
        populations,
        pairs,
    })
}

/// The epoch's counters as one epoch of `samples` samples can make them: each sample trains
/// once, so no count exceeds `samples`; the sums are finite, the per-gene ones ≥ 0.
fn check_counters(r: &Reader<'_>, c: &Counters, samples: u64) -> Result<(), PluginError> {
    for (what, n) in [
        ("skipped", c.skipped),
        ("chosen", c.chosen_n),
        ("class-pair capped", c.capped),
    ] {
        if n > samples {
            return Err(r.fail(format!(
                "the checkpoint's SENSEI state counts {n} {what} samples this epoch, but an \
                 epoch has {samples}"
            )));
        }
    }
    if !c.chosen_sum.is_finite() {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state sums the chosen fitness to {}, which is not a number",
            c.chosen_sum
        )));
    }
    if let Some((g, v)) = c
        .gene_abs
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
    {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state sums |value − identity| of gene {g} to {v}, which \
             must be a number ≥ 0"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuzzaug_sdk::testing::gene;
    use rand::{Rng, SeedableRng};

    const SHAPE: Shape = Shape {
        genes: 2,
        population: 3,
        samples: 10,
    };

    /// A discrete rotation (-30..30 by 1: codes 0 to 60) and a continuous zoom (0.9..1.1).
    fn genes() -> Genes {
        Genes::new(&[
            gene("rotation", -30.0, 30.0, 0.0).with_step(1.0),
            gene("zoom", 0.9, 1.1, 1.0),
        ])
    }

    /// [`super::decode`] with [`genes`] and 5 classes.
    fn decode(bytes: &[u8], shape: Shape, name: &str) -> Result<Snapshot, PluginError> {
        let genes = genes();
        let bounds = Bounds {
            genes: &genes,
            classes: 5,
        };
        super::decode(bytes, shape, bounds, name)
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            word_pos: 123_456_789_012_345,
            counters: Counters {
                skipped: 4,
                chosen_sum: 2.5,
                chosen_n: 7,
                gene_abs: vec![1.0, 0.25],
                capped: 3,
            },
            populations: vec![
                (
                    3,
                    vec![
                        Member {
                            codes: vec![1.0, 0.95],
                            loss: None,
                        },
                        Member {
                            codes: vec![4.0, 1.05],
                            loss: Some(0.5),
                        },
                    ],
                ),
                (
                    9,
                    vec![Member {
                        codes: vec![0.0, 1.0],
                        loss: Some(1e-5),
                    }],
                ),
            ],
            pairs: [((0, 2), 5), ((1, 0), 1), ((1, 3), 2)]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(SHAPE, &snapshot());
        assert_eq!(decode(&bytes, SHAPE, "sensei").unwrap(), snapshot());
    }

    /// The bytes version 1 wrote for `snap` (which must have no capped sample and no pair).
    fn encode_v1(snap: &Snapshot) -> Vec<u8> {
        assert_eq!((snap.counters.capped, snap.pairs.len()), (0, 0));
        let mut bytes = encode(SHAPE, snap);
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        // After the header (8 + 4 + 4 + 4 + 8 + 16), the counters (8 + 8 + 8 + 8 × genes).
        let capped = 44 + 24 + 8 * SHAPE.genes;
        bytes.drain(capped..capped + 8);
        bytes.truncate(bytes.len() - 8); // the pair count
        bytes
    }

    #[test]
    fn reads_version_1() {
        let mut snap = snapshot();
        snap.counters.capped = 0;
        snap.pairs.clear();
        let v1 = encode_v1(&snap);
        assert_eq!(v1.len(), encode(SHAPE, &snap).len() - 16);
        assert_eq!(decode(&v1, SHAPE, "sensei").unwrap(), snap);
    }

    #[test]
    fn rejects_corrupt_class_pairs() {
        let bytes = encode(SHAPE, &snapshot());
        let pair = |k: usize| bytes.len() - 16 * (3 - k);
        // A pair of equal classes.
        let mut same = bytes.clone();
        same[pair(0) + 4..pair(0) + 8].copy_from_slice(&0u32.to_le_bytes());
        // Out of order: (1, 3) before (1, 0).
        let mut order = bytes.clone();
        order[pair(1) + 4..pair(1) + 8].copy_from_slice(&4u32.to_le_bytes());
        // A pair with no image.
        let mut empty = bytes.clone();
        empty[pair(2) + 8..pair(2) + 16].copy_from_slice(&0u64.to_le_bytes());
        for (corrupt, at) in [(same, pair(0)), (order, pair(2)), (empty, pair(2))] {
            let e = decode(&corrupt, SHAPE, "sensei").unwrap_err();
            assert!(
                e.message
                    .starts_with("`sensei`: the checkpoint's SENSEI state is corrupt")
                    && e.message.ends_with(&format!("at byte {at})")),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn rejects_foreign_truncated_and_mismatched_bytes() {
        let bytes = encode(SHAPE, &snapshot());
        let e = decode(&[0u8; 16], SHAPE, "sensei").unwrap_err();
        assert_eq!(
            e.message,
            "`sensei`: the checkpoint's strategy state (16 bytes) is not SENSEI state; was it \
             saved by another strategy?"
        );
        assert!(decode(&[], SHAPE, "sensei").is_err());
        for cut in [10, 40, 70, bytes.len() - 1] {
            let e = decode(&bytes[..cut], SHAPE, "sensei-rw").unwrap_err();
            assert!(
                e.message.starts_with(&format!(
                    "`sensei-rw`: the checkpoint's strategy state is truncated ({cut} bytes"
                )),
                "{}",
                e.message
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, SHAPE, "sensei")
            .unwrap_err()
            .message
            .contains("1 unexpected bytes"));
        for v in [0, 3] {
            let mut other = bytes.clone();
            other[8] = v;
            assert_eq!(
                decode(&other, SHAPE, "sensei").unwrap_err().message,
                format!(
                    "`sensei`: the checkpoint's SENSEI state has format version {v}; this plugin \
                     reads versions 1 to 2"
                )
            );
        }
        let other = Shape {
            population: 10,
            ..SHAPE
        };
        assert!(decode(&bytes, other, "sensei")
            .unwrap_err()
            .message
            .contains("population 3"));
    }

    /// Offsets in [`snapshot`]'s encoding: after the header (44 bytes), the counters (skipped,
    /// chosen sum, chosen count, two gene sums, capped: 48), the population count (8), sample
    /// 3's index and size (12) and its first member's flag and loss (9), its codes.
    const COUNTERS: usize = 44;
    const FIRST_CODE: usize = 44 + 48 + 8 + 12 + 9;

    fn with(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        out[at..at + value.len()].copy_from_slice(value);
        out
    }

    #[test]
    fn rejects_values_no_search_could_have_saved() {
        let bytes = encode(SHAPE, &snapshot());
        let message = |b: &[u8]| decode(b, SHAPE, "sensei").unwrap_err().message;
        let f = |v: f64| v.to_le_bytes();
        for (code, problem) in [
            (
                f64::NAN,
                "code NaN of gene `rotation`, which is no grid index 0 to 60",
            ),
            (
                61.0,
                "code 61 of gene `rotation`, which is no grid index 0 to 60",
            ),
            (
                2.5,
                "code 2.5 of gene `rotation`, which is no grid index 0 to 60",
            ),
        ] {
            assert_eq!(
                message(&with(&bytes, FIRST_CODE, &f(code))),
                format!(
                    "`sensei`: the checkpoint's SENSEI state holds {problem} in chromosome 0 of \
                     sample 3"
                )
            );
        }
        assert_eq!(
            message(&with(&bytes, FIRST_CODE + 8, &f(1000.0))),
            "`sensei`: the checkpoint's SENSEI state holds value 1000 of gene `zoom`, outside \
             its range [0.9, 1.1] in chromosome 0 of sample 3"
        );
        assert_eq!(
            message(&with(&bytes, COUNTERS, &11u64.to_le_bytes())),
            "`sensei`: the checkpoint's SENSEI state counts 11 skipped samples this epoch, but \
             an epoch has 10"
        );
        assert_eq!(
            message(&with(&bytes, COUNTERS + 8, &f(f64::INFINITY))),
            "`sensei`: the checkpoint's SENSEI state sums the chosen fitness to inf, which is \
             not a number"
        );
        assert_eq!(
            message(&with(&bytes, COUNTERS + 32, &f(-1.0))),
            "`sensei`: the checkpoint's SENSEI state sums |value − identity| of gene 1 to -1, \
             which must be a number ≥ 0"
        );
        // The random stream's position, at the end of the header.
        assert!(message(&with(&bytes, 28, &(1u128 << 68).to_le_bytes()))
            .contains("beyond the end of a ChaCha8 stream"));
        // Sample 9's index, after sample 3's two members (2 × (9 + 16) bytes), made 3 again.
        let second = FIRST_CODE - 9 - 12 + 12 + 2 * 25;
        assert_eq!(
            message(&with(&bytes, second, &3u64.to_le_bytes())),
            "`sensei`: the checkpoint's SENSEI state is corrupt (sample 3 after sample 3: \
             samples are saved once each, in ascending order)"
        );
        // A class of a pair beyond the 5 classes, and pairs counting more images than samples.
        let pair = bytes.len() - 16;
        assert_eq!(
            message(&with(&bytes, pair + 4, &7u32.to_le_bytes())),
            "`sensei`: the checkpoint's SENSEI state counts class pair (1, 7), but the dataset \
             has 5 classes"
        );
        assert_eq!(
            message(&with(&bytes, pair + 8, &100u64.to_le_bytes())),
            "`sensei`: the checkpoint's SENSEI state counts 106 or more images in class pairs \
             this epoch, but an epoch has 10 samples"
        );
    }

    #[test]
    fn a_huge_length_field_ends_in_an_error_not_an_allocation() {
        let bytes = encode(SHAPE, &snapshot());
        let count_at = COUNTERS + 48;
        let mut huge = bytes[..count_at].to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        let e = decode(&huge, SHAPE, "sensei").unwrap_err();
        assert!(
            e.message
                .contains("the checkpoint's strategy state is truncated"),
            "{}",
            e.message
        );
        // A member count beyond the population.
        let e = decode(
            &with(&bytes, count_at + 16, &u32::MAX.to_le_bytes()),
            SHAPE,
            "sensei",
        )
        .unwrap_err();
        assert!(e
            .message
            .contains("holds 4294967295 chromosomes for sample 3, expected 1 to 3"));
    }

    /// Any bytes at all: random ones, and the real encoding with random bytes changed, cut or
    /// added. Each either decodes to a snapshot that passes the checks or is refused; none
    /// panics.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let bytes = encode(SHAPE, &snapshot());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
        let mut decoded = 0;
        for round in 0..20_000 {
            let input: Vec<u8> = match round % 4 {
                0 => (0..rng.random_range(0..300))
                    .map(|_| rng.random())
                    .collect(),
                1 => {
                    let mut b = bytes.clone();
                    for _ in 0..rng.random_range(1..4) {
                        let at = rng.random_range(0..b.len());
                        b[at] = rng.random();
                    }
                    b
                }
                2 => bytes[..rng.random_range(0..bytes.len())].to_vec(),
                _ => {
                    let mut b = bytes.clone();
                    let at = rng.random_range(0..b.len());
                    b.insert(at, rng.random());
                    b
                }
            };
            if decode(&input, SHAPE, "sensei").is_ok() {
                decoded += 1;
            }
        }
        // Some single-byte changes (in a loss, say) are still a valid state.
        assert!(decoded > 0);
    }
}
