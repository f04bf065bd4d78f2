//! Seeds of the randomness inside tensor-kind genes (noise). A variant's seed is a hash of what
//! identifies it: the run's seed, a context (the epoch while training, a fixed tag for
//! evaluation and previews), the image's index in its split and its chromosome. So the same
//! variant gets the same noise wherever it is built: in the scoring pass and again in the
//! training batch (what is scored is what is trained), in a resumed run, on any device.
//!
//! Also the seed of libtorch's global generator for each training step ([`step`]), which the
//! network's own randomness (dropout in a TorchScript model) draws from.

/// Context of the robust-grid evaluation of test images.
pub const EVALUATION: u64 = u64::MAX;
/// Context of `fuzzaug preview` pictures.
pub const PREVIEW: u64 = u64::MAX - 1;

/// One step of SplitMix64: a bijective, well-mixing map of 64-bit words.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn absorb(h: u64, word: u64) -> u64 {
    mix(h ^ word)
}

/// The seed of image `image` under `chromosome` in `context` of the run seeded `run`.
pub fn variant(run: u64, context: u64, image: u64, chromosome: &[f64]) -> u64 {
    let h = absorb(absorb(mix(run), context), image);
    // −0.0 and 0.0 build the same image; they get the same seed.
    chromosome
        .iter()
        .fold(h, |h, v| absorb(h, (v + 0.0).to_bits()))
}

/// One seed per image: image `owners[i]` under chromosome i (flat, `genes` values each).
pub fn variants(
    run: u64,
    context: u64,
    owners: &[i64],
    chromosomes: &[f64],
    genes: usize,
) -> Vec<u64> {
    owners
        .iter()
        .enumerate()
        .map(|(i, &o)| {
            let c = if genes == 0 {
                &[][..]
            } else {
                &chromosomes[i * genes..(i + 1) * genes]
            };
            variant(run, context, o as u64, c)
        })
        .collect()
}

/// The seed gene `gene` of a chromosome draws from, given the variant's seed.
pub fn for_gene(seed: u64, gene: usize) -> u64 {
    absorb(seed, gene as u64)
}

/// The seed of libtorch's global generator for batch `batch` of epoch `epoch` (0-based): set
/// before each training forward pass, so what that pass draws depends on the run's seed and
/// the step alone, not on what ran before it in this process (a resume starts a new process; a
/// tensor-kind plugin's call is watched with a probe seed of its own).
pub fn step(run: u64, epoch: u32, batch: usize) -> u64 {
    // A tag of its own keeps these seeds apart from the variants' ones.
    absorb(
        absorb(absorb(mix(run), STEP), u64::from(epoch)),
        batch as u64,
    )
}

/// Tag of [`step`] seeds.
const STEP: u64 = u64::MAX - 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_is_named_by_everything_that_identifies_it() {
        let base = variant(1, 3, 7, &[10.0, -2.0]);
        assert_eq!(base, variant(1, 3, 7, &[10.0, -2.0]));
        for other in [
            variant(2, 3, 7, &[10.0, -2.0]),
            variant(1, 4, 7, &[10.0, -2.0]),
            variant(1, 3, 8, &[10.0, -2.0]),
            variant(1, 3, 7, &[10.0, -1.0]),
            variant(1, 3, 7, &[-2.0, 10.0]),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(variant(0, 0, 0, &[0.0]), variant(0, 0, 0, &[-0.0]));
        assert_ne!(for_gene(base, 0), for_gene(base, 1));
        assert_ne!(step(1, 3, 7), step(1, 3, 8));
        assert_ne!(step(1, 3, 7), step(1, 4, 7));
        assert_ne!(step(1, 3, 7), step(2, 3, 7));
        assert_eq!(
            variants(1, 3, &[7, 9], &[10.0, -2.0, 1.0, 1.0], 2),
            vec![base, variant(1, 3, 9, &[1.0, 1.0])]
        );
    }
}
