//! The dataset: loads and checks both splits up front, then serves slices from memory.
use crate::{
    config::{MnistConfig, Variant, FILES},
    idx::{self, Images},
    resize::Resizer,
    source::{self, Source},
};
use fuzzaug_sdk::{dataset, Chunk, Dataset, DatasetInfo, PluginError, Split, SplitData, Splits};

/// An MNIST-format dataset held in memory, already resized and expanded to its channels.
#[derive(Debug, Clone)]
pub struct Mnist {
    variant: Variant,
    channels: usize,
    height: usize,
    width: usize,
    splits: Splits,
}

impl Mnist {
    /// Reads and validates the four files in `config.dir` and builds both splits, so that any
    /// problem with the data shows up here rather than during training.
    pub fn load(variant: Variant, config: &MnistConfig) -> Result<Self, PluginError> {
        let dir = &config.dir;
        let expected = format!(
            "expected a folder holding the four {} IDX files, e.g. {}, raw or .gz",
            variant.title, FILES[0].0
        );
        if !dir.exists() {
            return Err(PluginError::new(format!(
                "{}: no such file or directory ({expected})",
                dir.display()
            )));
        }
        if !dir.is_dir() {
            return Err(PluginError::new(format!(
                "{}: not a folder ({expected})",
                dir.display()
            )));
        }
        // Find all four before reading any, so a missing one is reported without delay.
        let mut sources = Vec::with_capacity(FILES.len());
        for (name, what) in FILES {
            sources.push(source::locate(
                dir,
                name,
                &format!("{} {what}", variant.title),
            )?);
        }

        let (train_images, train_labels) = load_pair(&sources[0], &sources[1], variant)?;
        let (test_images, test_labels) = load_pair(&sources[2], &sources[3], variant)?;
        let native = (train_images.rows, train_images.cols);
        if (test_images.rows, test_images.cols) != native {
            return Err(PluginError::new(format!(
                "{}: images are {}×{} pixels, but {} has {}×{}",
                sources[2].show(),
                test_images.rows,
                test_images.cols,
                sources[0].show(),
                native.0,
                native.1
            )));
        }

        let (height, width) = config.resize.map_or(native, |s| (s, s));
        let shape = Shape {
            channels: config.channels,
            height,
            width,
        };
        let train = build_split(
            &train_images,
            &train_labels,
            config.train_limit,
            shape,
            ("train_limit", &sources[0]),
        )?;
        let test = build_split(
            &test_images,
            &test_labels,
            config.test_limit,
            shape,
            ("test_limit", &sources[2]),
        )?;
        Ok(Self {
            variant,
            channels: config.channels,
            height,
            width,
            splits: Splits { train, test },
        })
    }
}

/// Reads an images file and its labels file and checks they agree.
fn load_pair(
    images: &Source,
    labels: &Source,
    variant: Variant,
) -> Result<(Images, Vec<u8>), PluginError> {
    let image_data = idx::read_images(images)?;
    let label_data = idx::read_labels(labels, variant.classes.len(), variant.title)?;
    if image_data.count != label_data.len() {
        return Err(PluginError::new(format!(
            "{}: {} images, but {} has {} labels",
            images.show(),
            image_data.count,
            labels.show(),
            label_data.len()
        )));
    }
    Ok((image_data, label_data))
}

/// The output geometry of every image.
#[derive(Debug, Clone, Copy)]
struct Shape {
    channels: usize,
    height: usize,
    width: usize,
}

/// Keeps the first `limit` images, resizes them to `shape` and repeats the grey plane into
/// every channel. `limit_of` names the limit's settings key and the images file for messages.
fn build_split(
    images: &Images,
    labels: &[u8],
    limit: Option<usize>,
    shape: Shape,
    limit_of: (&str, &Source),
) -> Result<SplitData, PluginError> {
    let (key, file) = limit_of;
    let n = dataset::limited(key, limit, images.count, &file.show())?;
    let plane = shape.height * shape.width;
    let image_bytes = shape.channels * plane;
    let too_big = || {
        PluginError::new(format!(
            "{}: {n} images of {}×{}×{} bytes do not fit in memory",
            limit_of.1.show(),
            shape.channels,
            shape.height,
            shape.width
        ))
    };
    let total = n.checked_mul(image_bytes).ok_or_else(too_big)?;
    let mut pixels = Vec::new();
    // Large resizes of the full set reach gigabytes: fail with a message, not an abort.
    pixels.try_reserve_exact(total).map_err(|_| too_big())?;
    pixels.resize(total, 0);

    let native = images.rows * images.cols;
    let resizer = ((shape.height, shape.width) != (images.rows, images.cols))
        .then(|| Resizer::new(images.rows, images.cols, shape.height, shape.width));
    for (src, dst) in images
        .pixels
        .chunks_exact(native)
        .zip(pixels.chunks_exact_mut(image_bytes))
    {
        match &resizer {
            Some(r) => r.apply(src, &mut dst[..plane]),
            None => dst[..plane].copy_from_slice(src),
        }
        for c in 1..shape.channels {
            dst.copy_within(..plane, c * plane);
        }
    }
    let labels = labels[..n].iter().map(|&l| u32::from(l)).collect();
    SplitData::new(pixels, labels, image_bytes)
}

impl Dataset for Mnist {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        let v = &self.variant;
        Ok(DatasetInfo {
            classes: dataset::classes(v.classes),
            channels: self.channels as u32,
            height: self.height as u32,
            width: self.width as u32,
            mean: vec![v.mean; self.channels].into(),
            std: vec![v.std; self.channels].into(),
            train_len: self.splits.len(Split::Train),
            test_len: self.splits.len(Split::Test),
            // A mirrored digit is not a natural variant of it (and 2/5-like pairs swap); the
            // standard protocol for both sets trains without flips.
            mirror_preserves_labels: false,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.splits.chunk(split, start, count)
    }
}
