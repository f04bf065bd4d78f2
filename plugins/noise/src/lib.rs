//! Tensor-kind transforms: they receive the batch as a libtorch tensor handle (float N×C×H×W on
//! 0..255, on the host's device), work on it with tch, and hand a tensor back; no pixel is
//! copied across the boundary.
//!
//! - `gaussian_noise`: adds N(0, v²) noise per pixel, v on the 0..255 scale, in place, then
//!   clamps to 0..255. Image i's noise is drawn from its own stream seeded by `seeds[i]`, so an
//!   image gets the same noise whatever batch it is in and on whatever device (the host relies on
//!   that to train on exactly the image it scored), and libtorch's global generator, which the
//!   host seeds for dropout and initialisation, is never touched.
//! - `gaussian_blur`: a separable Gaussian blur of standard deviation v pixels (reflect padding);
//!   v = 0 leaves an image unchanged.
use fuzzaug_sdk::{prelude::*, tch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

fn torch(e: tch::TchError) -> PluginError {
    PluginError::new(format!("libtorch: {e}"))
}

/// Per-image values as an N×1×1×1 float tensor on `like`'s device, checked against `limits`.
fn per_image(
    values: &[f64],
    like: &Tensor,
    gene: &str,
    limits: [f64; 2],
) -> Result<Tensor, PluginError> {
    let n = like.size().first().copied().unwrap_or(0);
    if values.len() as i64 != n {
        return Err(PluginError::new(format!(
            "{gene}: {} values for {n} images",
            values.len()
        )));
    }
    if let Some(v) = values
        .iter()
        .find(|v| !(v.is_finite() && (limits[0]..=limits[1]).contains(*v)))
    {
        return Err(PluginError::new(format!(
            "{gene}: value {v} is outside [{}, {}]",
            limits[0], limits[1]
        )));
    }
    let v: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Tensor::f_from_slice(&v)
        .and_then(|t| t.f_view([n, 1, 1, 1]))
        .and_then(|t| t.f_to_device(like.device()))
        .map_err(torch)
}

/// One seed per image, or an error naming the gene.
fn check_seeds(seeds: &[u64], values: &[f64], gene: &str) -> Result<(), PluginError> {
    if seeds.len() == values.len() {
        Ok(())
    } else {
        Err(PluginError::new(format!(
            "{gene}: {} seeds for {} images",
            seeds.len(),
            values.len()
        )))
    }
}

/// Gaussian pixel noise, in place.
pub struct GaussianNoise;

impl GaussianNoise {
    /// `len` standard normal values from `seed`'s own stream (Box–Muller on ChaCha8).
    fn standard_normal(seed: u64, len: usize) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(len + 1);
        while out.len() < len {
            // u1 in (0, 1] keeps the logarithm finite.
            let u1 = 1.0 - rng.random::<f64>();
            let u2 = rng.random::<f64>();
            let r = (-2.0 * u1.ln()).sqrt();
            let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
            out.push((r * c) as f32);
            out.push((r * s) as f32);
        }
        out.truncate(len);
        out
    }

    /// N×C×H×W standard normal noise on `like`'s device: image i's from `seeds[i]`; images whose
    /// value is 0 get none drawn (they are left unchanged anyway).
    fn noise(like: &Tensor, values: &[f64], seeds: &[u64]) -> Result<Tensor, PluginError> {
        let size = like.size();
        let per_image: usize = size.iter().skip(1).map(|&d| d as usize).product();
        let mut all = Vec::with_capacity(per_image * values.len());
        for (&v, &seed) in values.iter().zip(seeds) {
            if v == 0.0 {
                all.resize(all.len() + per_image, 0.0);
            } else {
                all.extend(Self::standard_normal(seed, per_image));
            }
        }
        Tensor::f_from_slice(&all)
            .and_then(|t| t.f_view(size.as_slice()))
            .and_then(|t| t.f_to_device(like.device()))
            .map_err(torch)
    }
}

const NOISE_LIMITS: [f64; 2] = [0.0, 128.0];
const BLUR_LIMITS: [f64; 2] = [0.0, 8.0];

impl Transform for GaussianNoise {
    fn info(&self) -> TransformInfo {
        TransformInfo::new(
            "gaussian_noise",
            "std-dev (0..255 scale)",
            TransformKind::Tensor,
            NOISE_LIMITS,
            Space {
                range: [0.0, 8.0],
                identity: 0.0,
                step: 1.0,
                mutation: 2.0,
                low_loss_mutation: 2.0,
            },
        )
    }

    fn apply(
        &self,
        images: TensorHandle,
        values: &[f64],
        seeds: &[u64],
    ) -> Result<TensorHandle, PluginError> {
        let mut x = images.into_tensor();
        let sigma = per_image(values, &x, "gaussian_noise", NOISE_LIMITS)?;
        check_seeds(seeds, values, "gaussian_noise")?;
        let noise = Self::noise(&x, values, seeds)?
            .f_mul(&sigma)
            .map_err(torch)?;
        // In place: the host's tensor keeps its storage.
        let _ = x
            .f_add_(&noise)
            .and_then(|mut t| t.f_clamp_(0.0, 255.0))
            .map_err(torch)?;
        Ok(TensorHandle::from_tensor(x))
    }
}

/// Gaussian blur with a per-image standard deviation.
pub struct GaussianBlur;

impl GaussianBlur {
    /// N×K normalised 1-D kernels of radius `radius` for the per-image sigmas.
    fn kernels(sigma: &Tensor, radius: i64) -> Result<Tensor, tch::TchError> {
        let n = sigma.size()[0];
        let offsets = Tensor::f_arange_start(-radius, radius + 1, (Kind::Float, sigma.device()))?
            .f_view([1, -1])?;
        let s = sigma.f_view([n, 1])?.f_clamp_min(1e-3)?;
        let k = offsets
            .f_square()?
            .f_div(&s.f_square()?.f_mul_scalar(2.0)?)?
            .f_neg()?
            .f_exp()?;
        k.f_div(&k.f_sum_dim_intlist([1i64].as_slice(), true, Kind::Float)?)
    }
}

impl Transform for GaussianBlur {
    fn info(&self) -> TransformInfo {
        TransformInfo::new(
            "gaussian_blur",
            "std-dev (pixels)",
            TransformKind::Tensor,
            BLUR_LIMITS,
            Space {
                range: [0.0, 1.5],
                identity: 0.0,
                step: 0.1,
                mutation: 0.2,
                low_loss_mutation: 0.2,
            },
        )
    }

    fn apply(
        &self,
        images: TensorHandle,
        values: &[f64],
        seeds: &[u64],
    ) -> Result<TensorHandle, PluginError> {
        let x = images.into_tensor();
        let sigma = per_image(values, &x, "gaussian_blur", BLUR_LIMITS)?;
        check_seeds(seeds, values, "gaussian_blur")?;
        let max = values.iter().copied().fold(0.0f64, f64::max);
        if max == 0.0 {
            return Ok(TensorHandle::from_tensor(x));
        }
        let size = x.size();
        let (n, c, h, w) = (size[0], size[1], size[2], size[3]);
        let radius = ((3.0 * max).ceil() as i64).min(h.min(w) - 1).max(1);
        let blur = || -> Result<Tensor, tch::TchError> {
            // One grouped convolution per axis: every (image, channel) plane gets its image's kernel.
            let k = Self::kernels(&sigma, radius)?.f_repeat_interleave_self_int(c, 0, None)?;
            let planes = x.f_reshape([1, n * c, h, w])?;
            let horizontal = planes
                .f_reflection_pad2d([radius, radius, 0, 0])?
                .f_conv2d::<Tensor>(
                    &k.f_view([n * c, 1, 1, 2 * radius + 1])?,
                    None,
                    [1, 1],
                    [0, 0],
                    [1, 1],
                    n * c,
                )?;
            let both = horizontal
                .f_reflection_pad2d([0, 0, radius, radius])?
                .f_conv2d::<Tensor>(
                    &k.f_view([n * c, 1, 2 * radius + 1, 1])?,
                    None,
                    [1, 1],
                    [0, 0],
                    [1, 1],
                    n * c,
                )?;
            both.f_reshape([n, c, h, w])
        };
        Ok(TensorHandle::from_tensor(blur().map_err(torch)?))
    }
}

fn components() -> Vec<Component> {
    vec![
        Component::transform(
            "gaussian_noise",
            "additive Gaussian pixel noise, std-dev on the 0..255 scale (tensor kind)",
            vec![],
            |_, _| Ok(GaussianNoise),
        ),
        Component::transform(
            "gaussian_blur",
            "Gaussian blur, std-dev in pixels (tensor kind)",
            vec![],
            |_, _| Ok(GaussianBlur),
        ),
    ]
}

fuzzaug_sdk::export_plugin!(components);

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn noise_is_in_place_reproducible_and_clamped() {
        let x = Tensor::full([2, 1, 4, 4], 250.0, (Kind::Float, Device::Cpu));
        let ptr = x.data_ptr();
        let out = GaussianNoise
            .apply(
                TensorHandle::from_tensor(x.shallow_clone()),
                &[0.0, 20.0],
                &[7, 8],
            )
            .unwrap()
            .into_tensor();
        assert_eq!(out.data_ptr(), ptr, "in place: same storage");
        assert_eq!(
            out.get(0).double_value(&[0, 0, 0]),
            250.0,
            "sigma 0 changes nothing"
        );
        assert!(f64::try_from(out.max()).unwrap() <= 255.0);
        let again = GaussianNoise
            .apply(
                TensorHandle::from_tensor(Tensor::full(
                    [2, 1, 4, 4],
                    250.0,
                    (Kind::Float, Device::Cpu),
                )),
                &[0.0, 20.0],
                &[7, 8],
            )
            .unwrap()
            .into_tensor();
        assert!(
            f64::try_from((&again - &out).abs().max()).unwrap() < 1e-6,
            "same seed, same noise"
        );
    }

    #[test]
    fn blur_keeps_constants_spreads_a_dot_and_zero_is_identity() {
        let c = Tensor::full([1, 3, 8, 8], 100.0, (Kind::Float, Device::Cpu));
        let out = GaussianBlur
            .apply(TensorHandle::from_tensor(c), &[1.0], &[0])
            .unwrap()
            .into_tensor();
        assert!(f64::try_from((out - 100.0).abs().max()).unwrap() < 1e-3);
        let dot = Tensor::zeros([2, 1, 9, 9], (Kind::Float, Device::Cpu));
        let _ = dot.get(0).get(0).get(4).get(4).fill_(100.0);
        let _ = dot.get(1).get(0).get(4).get(4).fill_(100.0);
        let out = GaussianBlur
            .apply(TensorHandle::from_tensor(dot), &[1.0, 0.0], &[0, 1])
            .unwrap()
            .into_tensor();
        assert!(out.double_value(&[0, 0, 4, 4]) < 50.0 && out.double_value(&[0, 0, 4, 5]) > 5.0);
        assert!(
            (f64::try_from(out.get(0).sum(Kind::Double)).unwrap() - 100.0).abs() < 1e-3,
            "mass is kept"
        );
        assert_eq!(
            out.double_value(&[1, 0, 4, 4]),
            100.0,
            "sigma 0 leaves its image unchanged"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let x = Tensor::zeros([1, 1, 4, 4], (Kind::Float, Device::Cpu));
        let e = GaussianNoise
            .apply(
                TensorHandle::from_tensor(x.shallow_clone()),
                &[1.0, 2.0],
                &[0, 1],
            )
            .err()
            .unwrap();
        assert_eq!(e.message, "gaussian_noise: 2 values for 1 images");
        let e = GaussianBlur
            .apply(TensorHandle::from_tensor(x.shallow_clone()), &[-1.0], &[0])
            .err()
            .unwrap();
        assert_eq!(e.message, "gaussian_blur: value -1 is outside [0, 8]");
        let e = GaussianNoise
            .apply(TensorHandle::from_tensor(x), &[1.0], &[0, 1])
            .err()
            .unwrap();
        assert_eq!(e.message, "gaussian_noise: 2 seeds for 1 images");
    }

    fn noisy(images: &Tensor, values: &[f64], seeds: &[u64]) -> Tensor {
        GaussianNoise
            .apply(TensorHandle::from_tensor(images.copy()), values, seeds)
            .unwrap()
            .into_tensor()
    }

    #[test]
    fn an_image_gets_its_own_seed_s_noise_in_any_batch() {
        let x = Tensor::full([3, 2, 5, 5], 100.0, (Kind::Float, Device::Cpu));
        let batch = noisy(&x, &[4.0, 4.0, 4.0], &[11, 12, 13]);
        // Image 1 alone, then first in another batch: the same pixels, bit for bit.
        let alone = noisy(&x.narrow(0, 1, 1), &[4.0], &[12]);
        let other = noisy(&x.narrow(0, 0, 2), &[4.0, 2.0], &[12, 99]);
        assert!(alone.get(0).equal(&batch.get(1)));
        assert!(other.get(0).equal(&batch.get(1)));
        assert!(
            !batch.get(0).equal(&batch.get(1)),
            "other seeds, other noise"
        );
        // The noise has the asked-for spread.
        let big = Tensor::full([1, 3, 64, 64], 128.0, (Kind::Float, Device::Cpu));
        let std = (noisy(&big, &[10.0], &[5]) - 128.0)
            .std(true)
            .double_value(&[]);
        assert!((std - 10.0).abs() < 0.3, "std {std}");
    }

    #[test]
    fn libtorch_s_global_generator_is_left_alone() {
        tch::manual_seed(42);
        let expected = Tensor::randn([8], (Kind::Float, Device::Cpu));
        tch::manual_seed(42);
        let x = Tensor::full([2, 1, 4, 4], 100.0, (Kind::Float, Device::Cpu));
        let _ = noisy(&x, &[3.0, 3.0], &[1, 2]);
        let after = Tensor::randn([8], (Kind::Float, Device::Cpu));
        assert!(
            after.equal(&expected),
            "the plugin drew from or reseeded the global generator"
        );
    }
}
