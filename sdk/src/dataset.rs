//! The dataset kind: metadata and a chunked read of u8 images, and author-side helpers for
//! datasets held in memory ([`SplitData`], [`Splits`]).
use crate::{
    component::{Param, ParamType},
    error::PluginError,
    guard,
};
use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RString, RVec},
    StableAbi,
};
use std::{fmt, ops::Range};

/// Which part of a dataset.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training images.
    Train,
    /// The held-out test images.
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test => "test",
        }
    }
}

/// What the host needs to know before reading a dataset.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    /// Class names; labels index into this list.
    pub classes: RVec<RString>,
    /// Channels per image (1 or 3).
    pub channels: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Image width in pixels.
    pub width: u32,
    /// Per-channel mean on the 0..1 scale, for normalisation.
    pub mean: RVec<f32>,
    /// Per-channel standard deviation on the 0..1 scale.
    pub std: RVec<f32>,
    /// Number of training images.
    pub train_len: u64,
    /// Number of test images.
    pub test_len: u64,
    /// Whether a horizontal mirror keeps every image's label (true for natural photographs
    /// such as CIFAR; false for digits, letters, signs or orientation classes). The host uses
    /// it as the default of `[train] hflip`.
    pub mirror_preserves_labels: bool,
}

impl DatasetInfo {
    /// Bytes of one image (C×H×W).
    pub fn image_bytes(&self) -> usize {
        self.channels as usize * self.height as usize * self.width as usize
    }

    /// The number of images in `split`.
    pub fn len(&self, split: Split) -> u64 {
        match split {
            Split::Train => self.train_len,
            Split::Test => self.test_len,
        }
    }
}

/// A run of consecutive images of one split.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct Chunk {
    /// u8 pixels, N×C×H×W, row-major.
    pub pixels: RVec<u8>,
    /// One class index per image.
    pub labels: RVec<u32>,
}

/// A dataset, as its author implements it.
pub trait Dataset: Send + 'static {
    /// Class names, geometry, normalisation and split sizes.
    fn info(&self) -> Result<DatasetInfo, PluginError>;
    /// Images `start .. start + count` of `split`. The host reads in chunks, so large sets can
    /// stream; `start + count` never exceeds the split's length.
    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError>;
}

/// Checks that images `start .. start + count` lie within a split of `len` images, as
/// [`Dataset::read`] must, without overflowing; returns that range.
///
/// The error reads "cannot read {count} {split} images from index {start}: the {split} split
/// has {len} images".
pub fn read_range(
    split: Split,
    start: u64,
    count: u64,
    len: u64,
) -> Result<Range<u64>, PluginError> {
    match start.checked_add(count) {
        Some(end) if end <= len => Ok(start..end),
        _ => {
            let name = split.as_str();
            Err(PluginError::new(format!(
                "cannot read {count} {name} images from index {start}: the {name} split has {len} images"
            )))
        }
    }
}

/// Class names as [`DatasetInfo::classes`] holds them.
pub fn classes<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> RVec<RString> {
    names
        .into_iter()
        .map(|n| RString::from(n.as_ref()))
        .collect()
}

/// The optional `train_limit` and `test_limit` settings (integers, default 0) of a dataset that
/// can keep only the leading images of each split; 0 means all. Read each with
/// [`Settings::limit`](crate::Settings::limit) and apply it with [`limited`].
pub fn limit_params() -> [Param; 2] {
    [
        Param::optional(
            "train_limit",
            ParamType::Integer,
            "0",
            "use only the first N training images; 0 = all",
        ),
        Param::optional(
            "test_limit",
            ParamType::Integer,
            "0",
            "use only the first N test images; 0 = all",
        ),
    ]
}

/// How many images a split keeps under `limit`, the value of the settings key `key` as
/// [`Settings::limit`](crate::Settings::limit) read it, when `available` images are there:
/// all of them without a limit, else the first `n`. A limit above `available` is an error
/// about `key` reading "`{key}` is {n}, but {source} holds only {available} images", where
/// `source` names what was counted (a file, "the train split of CIFAR-10").
pub fn limited(
    key: &str,
    limit: Option<usize>,
    available: usize,
    source: &str,
) -> Result<usize, PluginError> {
    match limit {
        None => Ok(available),
        Some(n) if n <= available => Ok(n),
        Some(n) => Err(PluginError::config(
            key,
            format!("`{key}` is {n}, but {source} holds only {available} images"),
        )),
    }
}

/// The smallest standard deviation [`ChannelStats`] reports: a channel that is constant over
/// the whole set would otherwise have a standard deviation of 0, which the host refuses to
/// divide by.
pub const MIN_STD: f64 = 1e-6;

/// Per-channel mean and population standard deviation of u8 images, on the 0..1 scale, as
/// [`DatasetInfo::mean`] and [`DatasetInfo::std`] want them; fed one run of whole images at a
/// time, so a dataset can measure images it renders or decodes in batches.
///
/// Sums are kept in integers, so the result is exact up to the final division and square
/// root (in f64, then rounded to f32) whatever order the images come in; the standard
/// deviation is at least [`MIN_STD`]. With no image added, the mean is 0 and the standard
/// deviation [`MIN_STD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStats {
    plane: usize,
    /// Σp per channel.
    sum: Vec<u128>,
    /// Σp² per channel.
    sum2: Vec<u128>,
    /// Pixels per channel so far.
    count: u128,
}

impl ChannelStats {
    /// Statistics of images of `channels` planes of `plane` pixels each (C×H×W, `plane` = H·W).
    pub fn new(channels: usize, plane: usize) -> Self {
        Self {
            plane,
            sum: vec![0; channels],
            sum2: vec![0; channels],
            count: 0,
        }
    }

    /// Adds `pixels`, whole images one after another (N×C×H×W); bytes after the last whole
    /// image are left out.
    pub fn add(&mut self, pixels: &[u8]) {
        let image = self.sum.len() * self.plane;
        if image == 0 {
            return;
        }
        for img in pixels.chunks_exact(image) {
            for (c, channel) in img.chunks_exact(self.plane).enumerate() {
                // Per-plane sums in u64 are exact (a plane would need 2⁴⁸ pixels to overflow)
                // and much faster than u128 or f64 per pixel.
                let (s, s2) = channel.iter().fold((0u64, 0u64), |(s, s2), &p| {
                    let p = u64::from(p);
                    (s + p, s2 + p * p)
                });
                self.sum[c] += u128::from(s);
                self.sum2[c] += u128::from(s2);
            }
            self.count += self.plane as u128;
        }
    }

    /// The per-channel (mean, standard deviation) of every image added so far.
    pub fn mean_std(&self) -> (Vec<f32>, Vec<f32>) {
        let n = self.count;
        if n == 0 {
            let c = self.sum.len();
            return (vec![0.0; c], vec![MIN_STD as f32; c]);
        }
        let scale = n as f64 * 255.0;
        self.sum
            .iter()
            .zip(&self.sum2)
            .map(|(&s, &s2)| {
                // n²·variance = n·Σp² − (Σp)², exact in integers (no cancellation), and never
                // negative by Cauchy–Schwarz.
                let n2_var = n * s2 - s * s;
                let mean = (s as f64 / scale) as f32;
                let std = ((n2_var as f64).sqrt() / scale).max(MIN_STD) as f32;
                (mean, std)
            })
            .unzip()
    }
}

/// The per-channel (mean, standard deviation) of `pixels`, a run of N×`channels`×`plane` u8
/// images: [`ChannelStats`] over all of them at once.
pub fn channel_stats(pixels: &[u8], channels: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let mut stats = ChannelStats::new(channels, plane);
    stats.add(pixels);
    stats.mean_std()
}

/// One split held in memory: u8 pixels N×C×H×W and one label per image. Author-side only
/// (it never crosses the boundary); [`SplitData::chunk`] serves [`Dataset::read`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SplitData {
    pixels: Vec<u8>,
    labels: Vec<u32>,
    image_bytes: usize,
}

impl SplitData {
    /// The split made of `labels.len()` images of `image_bytes` bytes each, stored one after
    /// the other in `pixels`. Fails when `pixels` does not hold exactly that many bytes.
    pub fn new(pixels: Vec<u8>, labels: Vec<u32>, image_bytes: usize) -> Result<Self, PluginError> {
        if labels.len().checked_mul(image_bytes) != Some(pixels.len()) {
            return Err(PluginError::new(format!(
                "bug: {} pixel bytes are not {} images of {image_bytes} bytes",
                pixels.len(),
                labels.len()
            )));
        }
        Ok(Self {
            pixels,
            labels,
            image_bytes,
        })
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Bytes of one image (C×H×W).
    pub fn image_bytes(&self) -> usize {
        self.image_bytes
    }

    /// All pixels, N×C×H×W.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// A copy of images `start .. start + count`, for [`Dataset::read`] of `split` (which names
    /// the split in the error); fails as [`read_range`] does when they are not all there.
    pub fn chunk(&self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        let range = read_range(split, start, count, self.len() as u64)?;
        // Both ends are at most `len`, which is a `usize`.
        let (start, end) = (range.start as usize, range.end as usize);
        let bytes = self.image_bytes;
        Ok(Chunk {
            pixels: RVec::from(&self.pixels[start * bytes..end * bytes]),
            labels: RVec::from(&self.labels[start..end]),
        })
    }
}

// Counts only: the pixels can be hundreds of megabytes.
impl fmt::Debug for SplitData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitData")
            .field("images", &self.labels.len())
            .field("image_bytes", &self.image_bytes)
            .field("pixel_bytes", &self.pixels.len())
            .finish()
    }
}

/// Both splits of a dataset held in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Splits {
    /// The training images.
    pub train: SplitData,
    /// The test images.
    pub test: SplitData,
}

impl Splits {
    /// The images of `split`.
    pub fn get(&self, split: Split) -> &SplitData {
        match split {
            Split::Train => &self.train,
            Split::Test => &self.test,
        }
    }

    /// The number of images of `split`, as [`DatasetInfo`] counts them.
    pub fn len(&self, split: Split) -> u64 {
        self.get(split).len() as u64
    }

    /// Images `start .. start + count` of `split`: [`Dataset::read`] of an in-memory dataset.
    pub fn chunk(&self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.get(split).chunk(split, start, count)
    }
}

/// The FFI-safe trait object the host holds; built by the SDK around a [`Dataset`].
#[sabi_trait]
pub trait AbiDataset: Send {
    /// See [`Dataset::info`].
    fn info(&self) -> RResult<DatasetInfo, PluginError>;
    /// See [`Dataset::read`].
    #[sabi(last_prefix_field)]
    fn read(&mut self, split: Split, start: u64, count: u64) -> RResult<Chunk, PluginError>;
}

/// A dataset object as it crosses the boundary.
pub type DatasetObject = AbiDataset_TO<'static, RBox<()>>;

pub(crate) struct Guarded {
    pub(crate) name: String,
    /// Dropped by hand, under [`guard::drop_guarded`]: the host's drop of the boundary object
    /// runs in an `extern "C"` function, where a panic would abort the host.
    pub(crate) inner: std::mem::ManuallyDrop<Box<dyn Dataset>>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: `inner` is taken once, here, and never touched again.
        let inner = unsafe { std::mem::ManuallyDrop::take(&mut self.inner) };
        guard::drop_guarded(&self.name, inner);
    }
}

impl AbiDataset for Guarded {
    fn info(&self) -> RResult<DatasetInfo, PluginError> {
        guard::call(&self.name, "info", || self.inner.info())
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> RResult<Chunk, PluginError> {
        let Self { name, inner } = self;
        guard::call(name, "read", || inner.read(split, start, count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    /// Three 2-byte images: pixels 0..6, labels 7, 8, 9.
    fn three() -> SplitData {
        SplitData::new((0..6).collect(), vec![7, 8, 9], 2).unwrap()
    }

    #[test]
    fn read_range_checks_the_end_without_overflow() {
        assert_eq!(read_range(Split::Train, 0, 3, 3).unwrap(), 0..3);
        assert_eq!(read_range(Split::Test, 3, 0, 3).unwrap(), 3..3);
        let e = read_range(Split::Test, 2, 2, 3).unwrap_err();
        assert_eq!(
            e.message,
            "cannot read 2 test images from index 2: the test split has 3 images"
        );
        assert!(e.key.is_empty() && !e.panicked);
        let e = read_range(Split::Train, u64::MAX, 2, 10).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "cannot read 2 train images from index {}: the train split has 10 images",
                u64::MAX
            )
        );
        let e = read_range(Split::Train, 4, 0, 3).unwrap_err();
        assert_eq!(
            e.message,
            "cannot read 0 train images from index 4: the train split has 3 images"
        );
    }

    #[test]
    fn split_data_checks_its_size() {
        let d = three();
        assert_eq!((d.len(), d.is_empty(), d.image_bytes()), (3, false, 2));
        assert_eq!(d.pixels(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(d.labels(), [7, 8, 9]);
        assert!(SplitData::default().is_empty());
        assert!(SplitData::new(vec![], vec![], 0).unwrap().is_empty());
        assert_eq!(
            format!("{d:?}"),
            "SplitData { images: 3, image_bytes: 2, pixel_bytes: 6 }"
        );

        let e = SplitData::new(vec![0; 5], vec![1, 2, 3], 2).unwrap_err();
        assert_eq!(e.message, "bug: 5 pixel bytes are not 3 images of 2 bytes");
        assert!(e.key.is_empty());
        // labels × image_bytes overflows usize: a mismatch, not a panic.
        let e = SplitData::new(vec![], vec![0; 2], usize::MAX).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "bug: 0 pixel bytes are not 2 images of {} bytes",
                usize::MAX
            )
        );
    }

    #[test]
    fn chunks_copy_a_range() {
        let d = three();
        let c = d.chunk(Split::Train, 1, 2).unwrap();
        assert_eq!(c.pixels.as_slice(), [2, 3, 4, 5]);
        assert_eq!(c.labels.as_slice(), [8, 9]);
        let c = d.chunk(Split::Train, 3, 0).unwrap();
        assert!(c.pixels.is_empty() && c.labels.is_empty());
        let e = d.chunk(Split::Test, 1, 3).unwrap_err();
        assert_eq!(
            e.message,
            "cannot read 3 test images from index 1: the test split has 3 images"
        );
        let e = d.chunk(Split::Train, 1, u64::MAX).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "cannot read {} train images from index 1: the train split has 3 images",
                u64::MAX
            )
        );
    }

    #[test]
    fn splits_pick_by_split() {
        let s = Splits {
            train: three(),
            test: SplitData::new(vec![42], vec![0], 1).unwrap(),
        };
        assert_eq!((s.len(Split::Train), s.len(Split::Test)), (3, 1));
        assert_eq!(s.get(Split::Test).pixels(), [42]);
        assert_eq!(s.chunk(Split::Train, 2, 1).unwrap().labels.as_slice(), [9]);
        assert_eq!(s.chunk(Split::Test, 0, 1).unwrap().pixels.as_slice(), [42]);
        let e = s.chunk(Split::Test, 0, 2).unwrap_err();
        assert_eq!(
            e.message,
            "cannot read 2 test images from index 0: the test split has 1 images"
        );
    }

    #[test]
    fn class_lists() {
        let owned = vec!["cat".to_string(), "dog".to_string()];
        let from_owned = classes(&owned);
        assert_eq!(from_owned, classes(["cat", "dog"]));
        assert_eq!(from_owned.len(), 2);
        assert_eq!(from_owned[1].as_str(), "dog");
        assert!(classes(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn limits_keep_a_prefix_or_say_how_many_there_are() {
        assert_eq!(limited("train_limit", None, 10, "x").unwrap(), 10);
        assert_eq!(limited("train_limit", Some(4), 10, "x").unwrap(), 4);
        assert_eq!(limited("train_limit", Some(10), 10, "x").unwrap(), 10);
        assert_eq!(limited("test_limit", None, 0, "x").unwrap(), 0);
        let e = limited("test_limit", Some(11), 10, "the test split of CIFAR-10").unwrap_err();
        assert_eq!(e.key, "test_limit");
        assert_eq!(
            e.message,
            "`test_limit` is 11, but the test split of CIFAR-10 holds only 10 images"
        );
    }

    #[test]
    fn channel_statistics_are_exact() {
        // Two 1×2 RGB images: R = {0, 255, 255, 0}, G = 51 everywhere, B = {0, 0, 0, 255}.
        let pixels = [0, 255, 51, 51, 0, 0, /**/ 255, 0, 51, 51, 0, 255];
        let (mean, std) = channel_stats(&pixels, 3, 2);
        assert_eq!(mean, [0.5, 0.2, 0.25]);
        assert_eq!(std[0], 0.5);
        assert_eq!(std[1], MIN_STD as f32, "a constant channel gets the floor");
        // B: mean 1/4, E[x²] = 1/4, var = 3/16.
        assert_eq!(std[2], (3.0f64 / 16.0).sqrt() as f32);
        // Image by image, or with a partial image at the end: the same.
        let mut stats = ChannelStats::new(3, 2);
        stats.add(&pixels[..6]);
        stats.add(&[]);
        stats.add(&pixels[6..]);
        assert_eq!(stats.mean_std(), (mean.clone(), std.clone()));
        stats.add(&[9, 9, 9]);
        assert_eq!(stats.mean_std(), (mean, std));
    }

    #[test]
    fn channel_statistics_match_a_two_pass_computation() {
        let pixels: Vec<u8> = (0..5 * 2 * 49)
            .map(|i| ((i * 37 + i / 7) % 256) as u8)
            .collect();
        let (mean, std) = channel_stats(&pixels, 2, 49);
        for c in 0..2 {
            let values: Vec<f64> = pixels
                .chunks_exact(98)
                .flat_map(|img| img[c * 49..(c + 1) * 49].iter().map(|&p| p as f64 / 255.0))
                .collect();
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let v = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / values.len() as f64;
            assert!((f64::from(mean[c]) - m).abs() < 1e-7);
            assert!((f64::from(std[c]) - v.sqrt()).abs() < 1e-7);
        }
    }

    #[test]
    fn channel_statistics_of_nothing() {
        assert_eq!(
            channel_stats(&[], 3, 4),
            (vec![0.0; 3], vec![MIN_STD as f32; 3])
        );
        assert_eq!(channel_stats(&[1, 2], 0, 4), (vec![], vec![]));
        assert_eq!(
            channel_stats(&[1, 2], 1, 0),
            (vec![0.0], vec![MIN_STD as f32])
        );
        // Fewer bytes than one image.
        assert_eq!(
            channel_stats(&[200; 5], 2, 3),
            (vec![0.0; 2], vec![MIN_STD as f32; 2])
        );
    }

    #[test]
    fn limit_params_are_optional_integers_defaulting_to_all() {
        let [train, test] = limit_params();
        assert_eq!(
            (
                train.name.as_str(),
                train.ty.as_str(),
                train.default.as_str()
            ),
            ("train_limit", "integer", "0")
        );
        assert_eq!(train.doc, "use only the first N training images; 0 = all");
        assert_eq!(
            (test.name.as_str(), test.ty.as_str(), test.default.as_str()),
            ("test_limit", "integer", "0")
        );
        assert_eq!(test.doc, "use only the first N test images; 0 = all");
        let s = Settings::parse("test_limit = 5", &limit_params()).unwrap();
        assert_eq!(s.value::<i64>("train_limit").unwrap(), 0);
        assert_eq!(s.value::<i64>("test_limit").unwrap(), 5);
    }
}
