//! A component's random stream, and uniform draws from a gene's space.
//!
//! Components never share the host's random numbers: each derives its own stream from the
//! run's seed ([`ComponentContext::seed`](crate::ComponentContext::seed)) and its name with
//! [`stream_seed`], seeds a generator of its choice with it (`ChaCha8Rng::seed_from_u64` in the
//! bundled strategies) and saves the generator's position in its state, so a resumed run
//! continues the same stream. [`uniform_value`] draws one value of a gene the way the bundled
//! strategies, the scaffold and the host's robust evaluation do.
//!
//! The SDK re-exports the `rand` it is built against as [`fuzzaug_sdk::rand`](crate::rand); use
//! that one (or the same 0.9 release) so that your generator implements the `Rng` these
//! functions take.
use crate::strategy::GeneSpec;
use rand::{distr::uniform::SampleRange, Rng};

/// Mixed into the run's seed before the name is hashed: ⌊2⁶⁴/φ⌋, the golden-ratio constant of
/// Fibonacci hashing (and of SplitMix64). Seed 0 and the empty name so still give a stream seed
/// with half its bits set rather than 0.
pub const STREAM_SEED_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The 64-bit FNV prime (2⁴⁰ + 2⁸ + 0xB3), by which [`stream_seed`] multiplies after folding in
/// each byte of the name (FNV-1a).
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

/// The seed of the random stream named `name` in a run seeded by `seed`: FNV-1a over the bytes
/// of `name`, starting from `seed ^ `[`STREAM_SEED_MIX`] instead of FNV's offset basis.
///
/// Name the stream after the component (`stream_seed(ctx.seed, "w10")`), so that two
/// components of one run, or the host and a component, never draw the same numbers. The value
/// is part of what makes a run reproducible: it never changes within SDK major version 2.
pub fn stream_seed(seed: u64, name: &str) -> u64 {
    name.bytes().fold(seed ^ STREAM_SEED_MIX, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// One uniformly random value of `gene`: on a discrete space (a positive, finite `step`) each
/// grid point `lo + i·step`, `i = 0 ..= round((hi − lo) / step)`, is equally likely; on a
/// continuous one the value is uniform in `[lo, hi]`. Never panics: a gene whose range is
/// empty or not finite (`hi < lo`, a NaN or infinite bound) gives `lo`.
///
/// It draws exactly as `rng.random_range(0..=points)` (grid) or `rng.random_range(lo..=hi)`
/// (continuous) does, so the values are those the bundled strategies have always drawn.
pub fn uniform_value<R: Rng + ?Sized>(rng: &mut R, gene: &GeneSpec) -> f64 {
    match gene.step.into_option() {
        Some(step) if step > 0.0 && step.is_finite() => {
            // A negative or NaN count saturates to 0: only `lo`.
            let points = ((gene.hi - gene.lo) / step).round() as u64;
            let index = rng.random_range(0..=points);
            gene.lo + step * index as f64
        }
        _ => (gene.lo..=gene.hi).sample_single(rng).unwrap_or(gene.lo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The derivation as plugins/baselines, plugins/sensei and the scaffold wrote it before the
    /// SDK had it, kept verbatim so the function provably derives the same seeds.
    fn written_out(seed: u64, name: &str) -> u64 {
        name.bytes().fold(seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        })
    }

    #[test]
    fn stream_seeds_are_the_ones_plugins_always_derived() {
        for seed in [0, 1, 3, 42, 1337, u64::MAX, 0x9E37_79B9_7F4A_7C15] {
            for name in [
                "",
                "random",
                "w10",
                "sensei",
                "sensei-rw",
                "sensei-t",
                "worst-rot",
            ] {
                assert_eq!(
                    stream_seed(seed, name),
                    written_out(seed, name),
                    "{seed} {name}"
                );
            }
        }
        // Pinned values, so that a change of the formula itself shows too.
        assert_eq!(stream_seed(0, ""), STREAM_SEED_MIX);
        assert_eq!(
            stream_seed(0, "a"),
            (STREAM_SEED_MIX ^ 0x61).wrapping_mul(FNV_PRIME)
        );
        assert_ne!(stream_seed(7, "random"), stream_seed(7, "w10"));
        assert_ne!(stream_seed(7, "w10"), stream_seed(8, "w10"));
    }

    fn gene(lo: f64, hi: f64, step: Option<f64>) -> GeneSpec {
        GeneSpec {
            name: "g".into(),
            lo,
            hi,
            identity: lo,
            step: step.into(),
            mutation_step: 1.0,
            low_loss_mutation_step: 1.0,
        }
    }

    /// The sampler as plugins/baselines (`space::uniform`), tests/fixtures/recording and the
    /// host wrote it, and the scaffold's (which drew the grid index as an i64), verbatim.
    fn baselines(rng: &mut ChaCha8Rng, spec: &GeneSpec) -> f64 {
        match spec.step.into_option() {
            Some(step) => {
                let points = ((spec.hi - spec.lo) / step).round() as u64;
                spec.lo + step * rng.random_range(0..=points) as f64
            }
            None => rng.random_range(spec.lo..=spec.hi),
        }
    }

    fn scaffold(rng: &mut ChaCha8Rng, gene: &GeneSpec) -> f64 {
        match gene.step.into_option() {
            Some(step) if step > 0.0 => {
                let steps = ((gene.hi - gene.lo) / step).round() as i64;
                gene.lo + step * rng.random_range(0..=steps) as f64
            }
            _ if gene.hi > gene.lo => rng.random_range(gene.lo..=gene.hi),
            _ => gene.lo,
        }
    }

    #[test]
    fn uniform_values_are_the_ones_the_copies_drew_bit_for_bit() {
        let genes = [
            gene(-30.0, 30.0, Some(1.0)),
            gene(-3.0, 3.0, Some(1.5)),
            gene(0.9, 1.1, Some(0.05)),
            gene(0.9, 1.1, None),
            gene(-20.0, 20.0, None),
            gene(0.0, 1e9, Some(1.0)),
        ];
        for seed in [0, 1, 99] {
            let (mut a, mut b, mut c) = (
                ChaCha8Rng::seed_from_u64(seed),
                ChaCha8Rng::seed_from_u64(seed),
                ChaCha8Rng::seed_from_u64(seed),
            );
            for i in 0..3000 {
                let g = &genes[i % genes.len()];
                let v = uniform_value(&mut a, g);
                assert_eq!(v.to_bits(), baselines(&mut b, g).to_bits(), "{g:?}");
                assert_eq!(v.to_bits(), scaffold(&mut c, g).to_bits(), "{g:?}");
            }
            // The streams stayed in step.
            assert_eq!(a.random::<u64>(), b.random::<u64>());
        }
    }

    #[test]
    fn grid_values_cover_the_grid_and_continuous_ones_the_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let g = gene(-3.0, 3.0, Some(1.5));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let v = uniform_value(&mut rng, &g);
            assert!((-3.0..=3.0).contains(&v));
            assert_eq!(((v + 3.0) / 1.5).fract(), 0.0, "{v} is off the grid");
            seen.insert((v * 10.0) as i64);
        }
        assert_eq!(seen.len(), 5, "-3, -1.5, 0, 1.5, 3 all drawn");
        let c = gene(0.9, 1.1, None);
        assert!((0..500).all(|_| (0.9..=1.1).contains(&uniform_value(&mut rng, &c))));
    }

    #[test]
    fn degenerate_genes_give_lo_without_panicking() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for g in [
            gene(2.0, 1.0, None),
            gene(f64::NAN, 1.0, None),
            gene(0.0, f64::INFINITY, None),
            gene(2.0, 1.0, Some(1.0)),
            gene(1.0, 1.0, Some(1.0)),
            gene(1.0, 1.0, None),
        ] {
            let v = uniform_value(&mut rng, &g);
            assert!(v == g.lo || (v.is_nan() && g.lo.is_nan()), "{g:?}: {v}");
        }
        // A step that is not positive and finite is no grid: the space is continuous.
        for step in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let v = uniform_value(&mut rng, &gene(-1.0, 1.0, Some(step)));
            assert!((-1.0..=1.0).contains(&v), "step {step}: {v}");
        }
    }
}
