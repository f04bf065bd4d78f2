//! The gene space as the GA stores it: discrete genes (with a grid step) as grid indices held
//! exactly in an `f64`, continuous genes as their value. Equal codes mean equal chromosomes, so
//! duplicate checks are exact.
use fuzzaug_sdk::GeneSpec;
use rand::Rng;

/// One gene and how its values are coded.
#[derive(Debug, Clone)]
pub struct Gene {
    pub spec: GeneSpec,
    /// `Some((step, last index))` for a discrete gene.
    grid: Option<(f64, f64)>,
}

impl Gene {
    pub fn new(spec: GeneSpec) -> Self {
        let grid = spec
            .step
            .into_option()
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(|s| (s, ((spec.hi - spec.lo) / s).round().max(0.0)));
        Self { spec, grid }
    }

    /// The code of `value`: clamped to the range and, when discrete, snapped to the grid.
    pub fn encode(&self, value: f64) -> f64 {
        let v = value.clamp(self.spec.lo, self.spec.hi);
        match self.grid {
            Some((step, last)) => ((v - self.spec.lo) / step).round().clamp(0.0, last),
            None => v,
        }
    }

    /// The value a code stands for.
    pub fn decode(&self, code: f64) -> f64 {
        match self.grid {
            Some((step, _)) => (self.spec.lo + code * step).min(self.spec.hi),
            None => code,
        }
    }

    /// A uniform code (every grid point equally likely when discrete).
    pub fn uniform(&self, rng: &mut impl Rng) -> f64 {
        match self.grid {
            Some((_, last)) => rng.random_range(0..=last as u64) as f64,
            None if self.spec.hi > self.spec.lo => rng.random_range(self.spec.lo..=self.spec.hi),
            None => self.spec.lo,
        }
    }

    /// The code of the identity value.
    pub fn identity(&self) -> f64 {
        self.encode(self.spec.identity)
    }

    /// What is wrong with `code` as one of this gene's codes (a saved one, say), if anything:
    /// a discrete gene's code is a whole grid index `0 ..= last`, a continuous gene's a value
    /// in `[lo, hi]`, as [`Gene::encode`] makes them.
    pub fn bad_code(&self, code: f64) -> Option<String> {
        let name = &self.spec.name;
        match self.grid {
            Some((_, last)) if !(code >= 0.0 && code <= last && code.fract() == 0.0) => Some(
                format!("code {code} of gene `{name}`, which is no grid index 0 to {last}"),
            ),
            None if !(code >= self.spec.lo && code <= self.spec.hi) => Some(format!(
                "value {code} of gene `{name}`, outside its range [{}, {}]",
                self.spec.lo, self.spec.hi
            )),
            _ => None,
        }
    }
}

/// All genes, in chromosome order.
#[derive(Debug, Clone)]
pub struct Genes(pub Vec<Gene>);

impl Genes {
    pub fn new(specs: &[GeneSpec]) -> Self {
        Self(specs.iter().cloned().map(Gene::new).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn identity(&self) -> Vec<f64> {
        self.0.iter().map(Gene::identity).collect()
    }

    pub fn uniform(&self, rng: &mut impl Rng) -> Vec<f64> {
        self.0.iter().map(|g| g.uniform(rng)).collect()
    }

    /// Appends the values of the coded chromosome `codes` to `out`.
    pub fn decode_into(&self, codes: &[f64], out: &mut Vec<f64>) {
        out.extend(self.0.iter().zip(codes).map(|(g, &c)| g.decode(c)));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use fuzzaug_sdk::testing::gene;

    /// A test space: a discrete rotation (-30..30, grid 1), a discrete translation (-3..3, grid
    /// 1) and a continuous zoom (0.9..1.1).
    pub fn specs() -> Vec<GeneSpec> {
        vec![
            gene("rotation", -30.0, 30.0, 0.0)
                .with_step(1.0)
                .with_mutation(6.0, 12.0),
            gene("translate", -3.0, 3.0, 0.0)
                .with_step(1.0)
                .with_mutation(1.0, 2.0),
            gene("zoom", 0.9, 1.1, 1.0).with_mutation(0.05, 2.0 * 0.05),
        ]
    }

    #[test]
    fn saved_codes_must_be_grid_indices_or_values_in_range() {
        let genes = Genes::new(&specs());
        let (rot, zoom) = (&genes.0[0], &genes.0[2]);
        for ok in [0.0, 34.0, 60.0] {
            assert_eq!(rot.bad_code(ok), None);
        }
        for bad in [-1.0, 61.0, 2.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                rot.bad_code(bad),
                Some(format!(
                    "code {bad} of gene `rotation`, which is no grid index 0 to 60"
                ))
            );
        }
        assert_eq!(zoom.bad_code(1.05), None);
        assert_eq!(
            zoom.bad_code(f64::NAN),
            Some("value NaN of gene `zoom`, outside its range [0.9, 1.1]".into())
        );
        assert!(zoom.bad_code(1.2).is_some());
    }

    #[test]
    fn codes_round_trip_and_snap() {
        let genes = Genes::new(&specs());
        let rot = &genes.0[0];
        assert_eq!(rot.encode(-30.0), 0.0);
        assert_eq!(rot.encode(4.4), 34.0);
        assert_eq!(rot.encode(99.0), 60.0);
        assert_eq!(rot.decode(34.0), 4.0);
        assert_eq!(genes.identity(), vec![30.0, 3.0, 1.0]);
        let zoom = &genes.0[2];
        assert_eq!(zoom.encode(1.05), 1.05);
        assert_eq!(zoom.encode(2.0), 1.1);
    }
}
