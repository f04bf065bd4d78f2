//! The dataset on the device: read once from the plugin in large chunks into one
//! u8 tensor per split (N×C×H×W, no per-image copies), moved to the device once; batches are
//! index gathers; normalisation happens on the device after augmentation.
use crate::plugins::DatasetHandle;
use anyhow::{bail, Context};
use fuzzaug_sdk::{DatasetInfo, Split};
use tch::{Device, Kind, Tensor};

/// Pixels per chunk read from the plugin (16 MiB): big enough that the per-call overhead
/// vanishes, small enough that a streaming plugin never holds a whole split twice.
const CHUNK_BYTES: usize = 16 << 20;

/// One split on the device.
pub struct Images {
    /// u8, N×C×H×W.
    pub pixels: Tensor,
    /// i64, N.
    pub labels: Tensor,
}

impl Images {
    /// Number of images.
    pub fn len(&self) -> i64 {
        self.labels.size()[0]
    }

    /// Whether the split is empty (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The images and labels at `index` (i64 indices on the same device): one gather each.
    pub fn gather(&self, index: &Tensor) -> anyhow::Result<(Tensor, Tensor)> {
        Ok((
            self.pixels.f_index_select(0, index)?,
            self.labels.f_index_select(0, index)?,
        ))
    }
}

/// The first per-channel mean that is not finite, if any.
pub fn bad_mean(mean: &[f32]) -> Option<f32> {
    mean.iter().copied().find(|x| !x.is_finite())
}

/// The first per-channel standard deviation that is not finite and above 0, if any: the one
/// rule for a usable std, wherever it comes from.
pub fn bad_std(std: &[f32]) -> Option<f32> {
    std.iter().copied().find(|x| !(x.is_finite() && *x > 0.0))
}

/// Per-channel normalisation `(x / 255 - mean) / std`, as tensors on the device.
pub struct Normalizer {
    scale: Tensor,
    shift: Tensor,
}

impl Normalizer {
    /// From per-channel mean and std on the 0..1 scale.
    pub fn new(mean: &[f32], std: &[f32], device: Device) -> anyhow::Result<Self> {
        if mean.len() != std.len() || mean.is_empty() {
            bail!(
                "normalisation needs one mean and one std per channel, got {} and {}",
                mean.len(),
                std.len()
            );
        }
        if let Some(m) = bad_mean(mean) {
            bail!("normalisation mean must be finite, got {m}");
        }
        if let Some(s) = bad_std(std) {
            bail!("normalisation std must be positive, got {s}");
        }
        // (x/255 - m)/s = x · 1/(255 s) - m/s: one fused multiply-add per pixel.
        let c = mean.len() as i64;
        let scale: Vec<f32> = std.iter().map(|s| 1.0 / (255.0 * s)).collect();
        let shift: Vec<f32> = mean.iter().zip(std).map(|(m, s)| -m / s).collect();
        let as_tensor = |v: &[f32]| -> anyhow::Result<Tensor> {
            Ok(Tensor::f_from_slice(v)?
                .f_view([1, c, 1, 1])?
                .f_to_device(device)?)
        };
        Ok(Self {
            scale: as_tensor(&scale)?,
            shift: as_tensor(&shift)?,
        })
    }

    /// Normalises a float or u8 N×C×H×W batch on the 0..255 scale into float32.
    pub fn apply(&self, images: &Tensor) -> anyhow::Result<Tensor> {
        let x = images.f_to_kind(Kind::Float)?;
        Ok(x.f_mul(&self.scale)?.f_add(&self.shift)?)
    }
}

/// Both splits of a dataset on a device.
pub struct DeviceData {
    /// The plugin's description of the data.
    pub info: DatasetInfo,
    /// Training images.
    pub train: Images,
    /// Test images.
    pub test: Images,
    /// The normalisation in use.
    pub normalizer: Normalizer,
}

impl DeviceData {
    /// Reads both splits from `dataset` onto `device`, normalising with `mean` and `std`.
    pub fn load(
        dataset: &mut DatasetHandle,
        info: &DatasetInfo,
        mean: &[f32],
        std: &[f32],
        device: Device,
    ) -> anyhow::Result<Self> {
        let train = load_split(dataset, info, Split::Train, device)?;
        let test = load_split(dataset, info, Split::Test, device)?;
        let normalizer = Normalizer::new(mean, std, device)?;
        Ok(Self {
            info: info.clone(),
            train,
            test,
            normalizer,
        })
    }
}

/// Reads one split through the plugin's chunked read, checking every chunk.
pub fn load_split(
    dataset: &mut DatasetHandle,
    info: &DatasetInfo,
    split: Split,
    device: Device,
) -> anyhow::Result<Images> {
    let name = dataset.origin.component.clone();
    let n = usize::try_from(info.len(split))?;
    if n == 0 {
        bail!("dataset `{name}` has an empty {} split", split.as_str());
    }
    let image = info.image_bytes();
    if image == 0 {
        bail!(
            "dataset `{name}` reports images of {}×{}×{} pixels",
            info.channels,
            info.height,
            info.width
        );
    }
    let shape = [
        n as i64,
        i64::from(info.channels),
        i64::from(info.height),
        i64::from(info.width),
    ];
    let pixels =
        Tensor::f_empty(shape, (Kind::Uint8, Device::Cpu)).context("allocating the dataset")?;
    // SAFETY: a freshly allocated contiguous u8 CPU tensor of exactly n·image bytes, written
    // only through this slice while `pixels` lives and is not otherwise accessed.
    let dst = unsafe { std::slice::from_raw_parts_mut(pixels.data_ptr().cast::<u8>(), n * image) };
    let mut labels: Vec<i64> = Vec::with_capacity(n);
    let per_chunk = (CHUNK_BYTES / image).max(1);
    let mut start = 0;
    while start < n {
        let count = per_chunk.min(n - start);
        // Checked by the handle: `count` images of this size, labels below the class count.
        let chunk = dataset.read_checked(info, split, start as u64, count as u64)?;
        dst[start * image..(start + count) * image].copy_from_slice(&chunk.pixels);
        labels.extend(chunk.labels.iter().map(|&l| i64::from(l)));
        start += count;
    }
    Ok(Images {
        pixels: pixels.f_to_device(device)?,
        labels: Tensor::f_from_slice(&labels)?.f_to_device(device)?,
    })
}
