//! The dataset kind: metadata and a chunked read of u8 images.
use crate::{error::PluginError, guard};
use abi_stable::{
    sabi_trait,
    std_types::{RBox, RResult, RString, RVec},
    StableAbi,
};

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
    pub(crate) inner: Box<dyn Dataset>,
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
