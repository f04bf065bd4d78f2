//! Robust accuracy: every test image under every combination of {lo, identity,
//! hi} of each gene (3^G chromosomes); an image counts only if all are classified correctly.
//! Also the mean per-image grid accuracy and the accuracy under one random chromosome per
//! image. Runs as large batched no-grad passes, batch-norm in eval mode.
use super::Session;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

/// Robust-evaluation figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Robust {
    /// Fraction of images classified correctly under every grid chromosome.
    pub robust_acc: f64,
    /// Mean over images of the fraction of grid chromosomes classified correctly.
    pub grid_acc: f64,
    /// Accuracy under one uniformly random chromosome per image.
    pub random_acc: f64,
    /// Chromosomes in the grid (3^G).
    pub grid_size: usize,
    /// Test images evaluated (the first N).
    pub subset: usize,
}

/// The 3^G grid chromosomes for genes of (lo, identity, hi), flat, identity-first per gene.
pub fn grid(genes: &[(f64, f64, f64)]) -> Vec<f64> {
    let mut out: Vec<Vec<f64>> = vec![Vec::new()];
    for &(lo, id, hi) in genes {
        out = out
            .into_iter()
            .flat_map(|c| [id, lo, hi].map(|v| [c.clone(), vec![v]].concat()))
            .collect();
    }
    out.concat()
}

impl Session {
    /// Robust accuracy on the first `subset` test images (all when `None`).
    pub fn robust(&self, subset: Option<u64>) -> anyhow::Result<Robust> {
        self.robust_until(subset, &|| false)
    }

    /// The robust evaluation's sizes on `subset`: (images, grid chromosomes, images per grid
    /// pass, images per random-perturbation pass).
    fn robust_plan(&self, subset: Option<u64>) -> (usize, usize, usize, usize) {
        let g = self.parts.genes.len();
        let k = 3usize.pow(g as u32).max(1);
        let n = subset.map_or(self.data.test.len() as usize, |s| {
            (s as usize).min(self.data.test.len() as usize)
        });
        let pass = super::forward_pass_size(self.device);
        (n, k, (pass / k).max(1), pass)
    }

    /// The size of [`Session::robust_until`] on `subset`: (test images, grid chromosomes,
    /// forward passes, which is how many times it polls its `stop`).
    pub fn robust_size(&self, subset: Option<u64>) -> (usize, usize, u64) {
        let (n, k, per_pass, pass) = self.robust_plan(subset);
        (n, k, (n.div_ceil(per_pass) + n.div_ceil(pass)) as u64)
    }

    /// [`Session::robust`], polling `stop` before each forward pass; a
    /// [`super::Stopped`] error when it says so.
    pub fn robust_until(
        &self,
        subset: Option<u64>,
        stop: &dyn Fn() -> bool,
    ) -> anyhow::Result<Robust> {
        let _guard = tch::no_grad_guard();
        let stopped = || super::Stopped {
            at: "during the robust evaluation".into(),
        };
        let specs: Vec<(f64, f64, f64)> = self
            .parts
            .genes
            .iter()
            .map(|g| (g.spec.lo, g.spec.identity, g.spec.hi))
            .collect();
        let grid = grid(&specs);
        let (n, k, per_pass, pass) = self.robust_plan(subset);
        anyhow::ensure!(
            grid.len() == k * specs.len(),
            "the robust grid has {} values for {} genes",
            grid.len(),
            specs.len()
        );
        let (mut robust, mut grid_hits) = (0i64, 0i64);
        let mut start = 0;
        while start < n {
            if stop() {
                return Err(stopped().into());
            }
            let m = per_pass.min(n - start);
            let owners: Vec<i64> = (start..start + m)
                .flat_map(|i| std::iter::repeat_n(i as i64, k))
                .collect();
            let chromosomes: Vec<f64> = std::iter::repeat_n(grid.as_slice(), m)
                .flatten()
                .copied()
                .collect();
            let ok = self
                .classify(&owners, &chromosomes)?
                .f_view([m as i64, k as i64])?;
            robust += ok
                .f_all_dim(1, false)?
                .f_sum(Kind::Int64)?
                .f_int64_value(&[])?;
            grid_hits += ok.f_sum(Kind::Int64)?.f_int64_value(&[])?;
            start += m;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed ^ 0x5EED_0F2A_B0B5);
        let mut random_ok = 0i64;
        let mut start = 0;
        while start < n {
            if stop() {
                return Err(stopped().into());
            }
            let m = pass.min(n - start);
            let owners: Vec<i64> = (start as i64..(start + m) as i64).collect();
            let chromosomes: Vec<f64> = (0..m)
                .flat_map(|_| {
                    self.parts
                        .genes
                        .iter()
                        .map(|gene| fuzzaug_sdk::random::uniform_value(&mut rng, &gene.spec))
                        .collect::<Vec<_>>()
                })
                .collect();
            random_ok += self
                .classify(&owners, &chromosomes)?
                .f_sum(Kind::Int64)?
                .f_int64_value(&[])?;
            start += m;
        }
        let nf = n.max(1) as f64;
        Ok(Robust {
            robust_acc: robust as f64 / nf,
            grid_acc: grid_hits as f64 / (nf * k as f64),
            random_acc: random_ok as f64 / nf,
            grid_size: k,
            subset: n,
        })
    }

    /// Whether test image `owners[i]` under chromosome i is classified correctly (bool tensor).
    fn classify(&self, owners: &[i64], chromosomes: &[f64]) -> anyhow::Result<Tensor> {
        let (x, labels) = self.variants(
            &self.data.test,
            owners,
            &[],
            chromosomes,
            crate::augment::seeds::EVALUATION,
        )?;
        Ok(self
            .model
            .forward_t(&x, false)
            .f_argmax(-1, false)?
            .f_eq_tensor(&labels)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_has_three_to_the_g_combinations_identity_first() {
        let g = grid(&[(-30.0, 0.0, 30.0), (-3.0, 0.0, 3.0)]);
        assert_eq!(g.len(), 9 * 2);
        assert_eq!(&g[..2], &[0.0, 0.0]);
        assert!(g.chunks(2).any(|c| c == [30.0, -3.0]));
        let seven: Vec<(f64, f64, f64)> = vec![(-1.0, 0.0, 1.0); 7];
        assert_eq!(grid(&seven).len() / 7, 2187);
        assert_eq!(grid(&seven[..4]).len() / 4, 81);
        assert_eq!(grid(&[]).len(), 0);
    }
}
