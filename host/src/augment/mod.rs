//! The batched augmentation engine: for a batch of images and one chromosome
//! per image, all geometric genes compose into one matrix per image and the batch is resampled
//! once (`affine_grid` + `grid_sample`, bilinear, zero fill); photometric genes fuse into one
//! gain and bias per image, then a clamp to 0..255 (or, with `photometric_clamp = "per-gene"`,
//! one gain, bias and clamp per gene in turn); tensor-kind genes run last, each image with its
//! own seed ([`seeds`]). No per-image loop touches pixels.
pub mod affine;
pub mod seeds;

use crate::{config::PhotometricClamp, plugins::TransformHandle, setup::Gene};
use anyhow::{bail, Context};
use fuzzaug_sdk::TransformKind;
use tch::{Device, Kind, Tensor};

/// The genes of a run, ready to turn chromosomes into images.
pub struct Engine<'a> {
    genes: &'a [Gene],
    height: u32,
    width: u32,
    clamp: PhotometricClamp,
}

impl<'a> Engine<'a> {
    /// An engine for images of `height`×`width` and the run's genes.
    pub fn new(genes: &'a [Gene], height: u32, width: u32) -> Self {
        Self {
            genes,
            height,
            width,
            clamp: PhotometricClamp::Fused,
        }
    }

    /// The engine of a run: its components' genes and image size, clamping photometric genes
    /// as its `[train]` says. Training, scoring, evaluation and previews all build it here.
    pub fn of_run(parts: &'a crate::setup::Components, train: &crate::config::TrainConfig) -> Self {
        Self::new(
            &parts.genes,
            parts.dataset_info.height,
            parts.dataset_info.width,
        )
        .with_clamp(train.photometric_clamp)
    }

    /// The same engine clamping photometric genes as `clamp` says.
    pub fn with_clamp(self, clamp: PhotometricClamp) -> Self {
        Self { clamp, ..self }
    }

    /// The number of genes in a chromosome.
    pub fn genes(&self) -> usize {
        self.genes.len()
    }

    /// The identity chromosome.
    pub fn identity(&self) -> Vec<f64> {
        self.genes.iter().map(|g| g.spec.identity).collect()
    }

    /// Whether every chromosome in `chromosomes` (flat, N×G) is the identity.
    pub fn all_identity(&self, chromosomes: &[f64]) -> bool {
        let g = self.genes.len();
        g == 0
            || chromosomes.chunks(g).all(|c| {
                c.iter()
                    .zip(self.genes)
                    .all(|(v, gene)| *v == gene.spec.identity)
            })
    }

    /// One column of the chromosome matrix: gene `g` of every image.
    fn column(chromosomes: &[f64], genes: usize, g: usize) -> Vec<f64> {
        chromosomes.iter().skip(g).step_by(genes).copied().collect()
    }

    /// Applies one chromosome per image to `images` (u8 or float N×C×H×W on 0..255); returns
    /// float32 on 0..255 on the same device. `seeds` (one per image, see [`seeds::variant`])
    /// feed tensor-kind transforms: image i's output depends only on its pixels, chromosome and
    /// seed, never on the rest of the batch.
    pub fn apply(
        &self,
        images: &Tensor,
        chromosomes: &[f64],
        seeds: &[u64],
    ) -> anyhow::Result<Tensor> {
        let n = images.size().first().copied().unwrap_or(0) as usize;
        let g = self.genes.len();
        if chromosomes.len() != n * g {
            bail!(
                "{} gene values for {n} images of {g} genes",
                chromosomes.len()
            );
        }
        if seeds.len() != n {
            bail!("{} seeds for {n} images", seeds.len());
        }
        let mut x = images.f_to_kind(Kind::Float)?;
        if g == 0 || n == 0 || self.all_identity(chromosomes) {
            return Ok(x);
        }
        let device = images.device();
        x = self.geometric(&x, chromosomes, n, device)?;
        x = self.photometric(&x, chromosomes, n, device)?;
        for (i, gene) in self
            .genes
            .iter()
            .enumerate()
            .filter(|(_, g)| g.info.kind == TransformKind::Tensor)
        {
            let values = Self::column(chromosomes, g, i);
            let gene_seeds: Vec<u64> = seeds.iter().map(|&s| seeds::for_gene(s, i)).collect();
            // Checked by the handle: same shape, Float, same device, detached.
            x = gene.transform.apply(x, &values, &gene_seeds)?;
        }
        Ok(x)
    }

    fn of_kind(&self, kind: TransformKind) -> impl Iterator<Item = (usize, &TransformHandle)> {
        self.genes
            .iter()
            .enumerate()
            .filter(move |(_, g)| g.info.kind == kind)
            .map(|(i, g)| (i, &g.transform))
    }

    fn geometric(
        &self,
        x: &Tensor,
        chromosomes: &[f64],
        n: usize,
        device: Device,
    ) -> anyhow::Result<Tensor> {
        let g = self.genes.len();
        let mut maps = vec![affine::IDENTITY; n];
        for (i, t) in self.of_kind(TransformKind::Geometric) {
            // Checked by the handle: six finite floats per image.
            let m = t.matrices(&Self::column(chromosomes, g, i), self.height, self.width)?;
            for (acc, own) in maps.iter_mut().zip(m.chunks_exact(6)) {
                let own: affine::Affine = std::array::from_fn(|k| f64::from(own[k]));
                *acc = affine::then(acc, &own);
            }
        }
        if maps.iter().all(affine::is_identity) {
            return Ok(x.shallow_clone());
        }
        let mut theta = Vec::with_capacity(6 * n);
        for (i, m) in maps.iter().enumerate() {
            let t = affine::theta(m, self.height, self.width).with_context(|| {
                format!("the geometric genes of image {i} compose into a singular map {m:?}")
            })?;
            theta.extend_from_slice(&t);
        }
        let theta = Tensor::f_from_slice(&theta)?
            .f_view([n as i64, 2, 3])?
            .f_to_device(device)?;
        let size = x.size();
        let grid = Tensor::f_affine_grid_generator(&theta, size.as_slice(), false)?;
        // bilinear (0), zeros padding (0), align_corners = false
        Ok(x.f_grid_sampler_2d(&grid, 0, 0, false)?)
    }

    fn photometric(
        &self,
        x: &Tensor,
        chromosomes: &[f64],
        n: usize,
        device: Device,
    ) -> anyhow::Result<Tensor> {
        let g = self.genes.len();
        let mut gain = vec![1.0f64; n];
        let mut bias = vec![0.0f64; n];
        let mut any = false;
        let mut x = x.shallow_clone();
        let to = |v: &[f64]| -> anyhow::Result<Tensor> {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Ok(Tensor::f_from_slice(&v)?
                .f_view([n as i64, 1, 1, 1])?
                .f_to_device(device)?)
        };
        for (i, t) in self.of_kind(TransformKind::Photometric) {
            // Checked by the handle: a finite gain and bias per image.
            let gb = t.gain_bias(&Self::column(chromosomes, g, i))?;
            match self.clamp {
                PhotometricClamp::Fused => {
                    for ((ga, bi), pair) in
                        gain.iter_mut().zip(bias.iter_mut()).zip(gb.chunks_exact(2))
                    {
                        // (g2, b2) ∘ (g1, b1) = (g2 g1, g2 b1 + b2)
                        *ga *= f64::from(pair[0]);
                        *bi = f64::from(pair[0]) * *bi + f64::from(pair[1]);
                    }
                }
                PhotometricClamp::PerGene => {
                    let (own_gain, own_bias): (Vec<f64>, Vec<f64>) = gb
                        .chunks_exact(2)
                        .map(|p| (f64::from(p[0]), f64::from(p[1])))
                        .unzip();
                    x = x
                        .f_mul(&to(&own_gain)?)?
                        .f_add(&to(&own_bias)?)?
                        .f_clamp(0.0, 255.0)?;
                }
            }
            any = true;
        }
        if !any || self.clamp == PhotometricClamp::PerGene {
            return Ok(x);
        }
        Ok(x.f_mul(&to(&gain)?)?
            .f_add(&to(&bias)?)?
            .f_clamp(0.0, 255.0)?)
    }
}
