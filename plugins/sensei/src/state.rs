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
        let end = self.at + N;
        let chunk = self.bytes.get(self.at..end).ok_or_else(|| {
            PluginError::new(format!(
                "`{}`: the checkpoint's strategy state is truncated ({} bytes, ended inside {what})",
                self.name,
                self.bytes.len()
            ))
        })?;
        self.at = end;
        Ok(chunk.try_into().expect("N bytes"))
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

/// Reads what [`encode`] wrote for a strategy of `shape`; `name` is the component's name.
pub fn decode(bytes: &[u8], shape: Shape, name: &str) -> Result<Snapshot, PluginError> {
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
    let count = r.u64("the population count")?;
    let mut populations = Vec::new();
    for _ in 0..count {
        let sample = r.u64("a population")?;
        if sample >= samples {
            return Err(r.fail(format!(
                "the checkpoint's SENSEI state names sample {sample}, but there are {samples}"
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
            for _ in 0..genes {
                codes.push(r.f64("a chromosome")?);
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

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        genes: 2,
        population: 3,
        samples: 10,
    };

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
}
