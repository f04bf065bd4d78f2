//! Checkpoint bytes of the GA: every population with its losses, the epoch's counters and the
//! random stream's position, in a versioned little-endian binary format:
//!
//! ```text
//! "FZSENSEI" | version u32 | genes u32 | population u32 | samples u64 | rng word pos u128
//! | skipped u64 | chosen fitness sum f64 | chosen count u64 | |gene| sums f64 × genes
//! | populated samples u64 | per sample: index u64, members u32,
//!   per member: scored u8 (0/1), loss f64, codes f64 × genes
//! ```
use crate::population::Member;
use fuzzaug_sdk::PluginError;

const MAGIC: &[u8; 8] = b"FZSENSEI";
/// The format this plugin writes and reads.
pub const VERSION: u32 = 1;

/// Per-epoch statistics so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub skipped: u64,
    pub chosen_sum: f64,
    pub chosen_n: u64,
    /// Σ |value − identity| of chosen chromosomes, per gene.
    pub gene_abs: Vec<f64>,
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
    if version != VERSION {
        return Err(r.fail(format!(
            "the checkpoint's SENSEI state has format version {version}; this plugin reads \
             version {VERSION}"
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
    };
    for _ in 0..genes {
        counters.gene_abs.push(r.f64("the counters")?);
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
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(SHAPE, &snapshot());
        assert_eq!(decode(&bytes, SHAPE, "sensei").unwrap(), snapshot());
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
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(decode(&v2, SHAPE, "sensei")
            .unwrap_err()
            .message
            .contains("format version 2"));
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
