//! The `cifar10c` component: its settings, loading one corruption at one severity, and the
//! in-memory dataset.
use crate::{
    npy::{self, Header, IntType},
    source::{self, Blob},
};
use fuzzaug_sdk::{
    dataset::{self, limit_params},
    settings::did_you_mean,
    Chunk, ComponentContext, Dataset, DatasetInfo, Param, ParamType, PluginError, Settings, Split,
    SplitData, Splits,
};
use std::path::PathBuf;

/// The 19 corruptions of CIFAR-10-C, as its files are named (`<name>.npy`): the 15 of the
/// benchmark (noise, blur, weather, digital), then the 4 held out for validation.
pub const CORRUPTIONS: [&str; 19] = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
    "speckle_noise",
    "gaussian_blur",
    "spatter",
    "saturate",
];

/// How many of [`CORRUPTIONS`] (the first ones) make up the benchmark's corruption error.
pub const BENCHMARK_CORRUPTIONS: usize = 15;

/// Severities per corruption file, stored one after another, severity 1 first.
pub const SEVERITIES: u64 = 5;

/// The CIFAR-10 class names, by label, as the official `batches.meta.txt` spells them (and so
/// as the `cifar10` component reports them on the official files).
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Image side in pixels.
pub const SIDE: usize = 32;
/// Colour channels.
pub const CHANNELS: usize = 3;
/// Bytes of one image.
pub const IMAGE_BYTES: usize = SIDE * SIDE * CHANNELS;

/// Per-channel mean on the 0..1 scale: the CIFAR-10 training statistics the `cifar10`
/// component reports, so a model trained there is normalised the same way here.
pub const MEAN: [f32; CHANNELS] = [0.4914, 0.4822, 0.4465];
/// Per-channel standard deviation on the 0..1 scale (as [`MEAN`]).
pub const STD: [f32; CHANNELS] = [0.2023, 0.1994, 0.2010];

/// The images dtype: unsigned bytes.
pub const IMAGES_DTYPE: &str = "|u1";

/// The settings keys of the `cifar10c` component.
pub fn params() -> Vec<Param> {
    let [_, test_limit] = limit_params();
    vec![
        Param::required(
            "path",
            ParamType::String,
            &format!(
                "the folder of CIFAR-10-C .npy files, a folder holding `{}/` or `{}`, or the \
                 archive; relative to the config file",
                source::FOLDER,
                source::ARCHIVE
            ),
        ),
        Param::required(
            "corruption",
            ParamType::String,
            &format!("one of the 19 corruptions: {}", CORRUPTIONS.join(", ")),
        ),
        Param::required(
            "severity",
            ParamType::Integer,
            "the corruption's severity, 1 (mildest) to 5",
        ),
        test_limit,
    ]
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cifar10cConfig {
    /// Folder or archive, resolved against the config's folder.
    pub path: PathBuf,
    /// One of [`CORRUPTIONS`].
    pub corruption: &'static str,
    /// 1 to 5.
    pub severity: u64,
    /// Keep only this many test images; `None` = all of the severity.
    pub test_limit: Option<usize>,
}

impl Cifar10cConfig {
    /// Reads and checks the settings.
    pub fn from_settings(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let path = settings.path("path", ctx)?;
        let name: String = settings.value("corruption")?;
        let corruption = CORRUPTIONS
            .iter()
            .copied()
            .find(|c| *c == name)
            .ok_or_else(|| {
                let hint = did_you_mean(&name, &CORRUPTIONS)
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                PluginError::config(
                    "corruption",
                    format!(
                        "unknown corruption \"{name}\"; {hint}CIFAR-10-C has these 19: {}",
                        CORRUPTIONS.join(", ")
                    ),
                )
            })?;
        Ok(Self {
            path,
            corruption,
            severity: settings.integer_in("severity", 1..=SEVERITIES as i64)?,
            test_limit: settings.limit("test_limit")?,
        })
    }

    /// The corruption's file name.
    pub fn file_name(&self) -> String {
        format!("{}.npy", self.corruption)
    }
}

/// CIFAR-10-C at one corruption and severity, loaded and checked: the test split in memory,
/// N×C×H×W, and an empty training split.
#[derive(Debug, Clone, PartialEq)]
pub struct Cifar10c {
    splits: Splits,
}

impl Cifar10c {
    /// The component's constructor.
    pub fn new(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        Self::load(&Cifar10cConfig::from_settings(settings, ctx)?)
    }

    /// Reads and checks the corruption's file and `labels.npy`, keeping the images of the
    /// chosen severity (at most `test_limit` of them).
    pub fn load(config: &Cifar10cConfig) -> Result<Self, PluginError> {
        let file = config.file_name();
        let [mut images, mut labels] =
            <[Blob; 2]>::try_from(source::open(&config.path, &[&file, source::LABELS])?)
                .map_err(|_| PluginError::new("bug: source::open did not return two files"))?;
        let (image_header, count) = images_header(&mut images)?;
        let (label_header, label_type) = labels_header(&mut labels, count, &images.name)?;

        let per_severity = count / SEVERITIES;
        let source = format!("{} at severity {}", images.name, config.severity);
        let keep = dataset::limited(
            "test_limit",
            config.test_limit,
            per_severity as usize,
            &source,
        )?;
        let first = (config.severity - 1) * per_severity;

        // Every label of the file is checked, not only the severity's: they are few, and a bad
        // one anywhere means a damaged file.
        let label_bytes = label_type.bytes as u64;
        let data = labels.read_exact_at(label_header.data_offset, count * label_bytes, "labels")?;
        let mut all = Vec::with_capacity(count as usize);
        for (index, label) in label_type.values(&data).enumerate() {
            match u32::try_from(label) {
                Ok(l) if (l as usize) < CLASSES.len() => all.push(l),
                _ => {
                    return Err(PluginError::new(format!(
                        "{}: label {label} at index {index} is out of range (CIFAR-10 has {} \
                         classes, labels 0 to {})",
                        labels.name,
                        CLASSES.len(),
                        CLASSES.len() - 1
                    )))
                }
            }
        }
        let first_usize = first as usize;
        let kept_labels = all
            .get(first_usize..first_usize + keep)
            .ok_or_else(|| PluginError::new("bug: the severity lies outside the labels"))?
            .to_vec();

        let offset = image_header.data_offset + first * IMAGE_BYTES as u64;
        let what = format!("the images of severity {}", config.severity);
        let hwc = images.read_exact_at(offset, (keep * IMAGE_BYTES) as u64, &what)?;
        let test = SplitData::new(to_chw(&hwc), kept_labels, IMAGE_BYTES)?;
        let train = SplitData::new(Vec::new(), Vec::new(), IMAGE_BYTES)?;
        Ok(Self {
            splits: Splits { train, test },
        })
    }
}

/// Checks that the data bytes `header` declares for items of `item_bytes` are exactly what
/// `blob` holds after the header.
fn check_size(blob: &Blob, header: &Header, item_bytes: u64) -> Result<(), PluginError> {
    let have = blob.len.saturating_sub(header.data_offset);
    let shape = format!("shape {} of '{}'", header.shape_text(), header.descr);
    let off = header.data_offset;
    match header.data_bytes(item_bytes) {
        Some(need) if need == have => Ok(()),
        Some(need) => {
            let problem = if have < need {
                "truncated"
            } else {
                "trailing bytes"
            };
            Err(PluginError::new(format!(
                "{}: {problem}: {shape} needs {need} data bytes after the {off}-byte header, \
                 found {have} ({} bytes in all)",
                blob.name, blob.len
            )))
        }
        None => Err(PluginError::new(format!(
            "{}: truncated: {shape} declares more data bytes than any file holds, found {have} \
             after the {off}-byte header",
            blob.name
        ))),
    }
}

fn c_order(blob: &Blob, header: &Header) -> Result<(), PluginError> {
    if header.fortran_order {
        return Err(PluginError::new(format!(
            "{}: the array is stored in Fortran order (fortran_order: True); this plugin reads \
             C-order arrays, as np.save writes a C-contiguous array",
            blob.name
        )));
    }
    Ok(())
}

/// Reads and checks the header of a corruption file; returns it and its number of images.
fn images_header(blob: &mut Blob) -> Result<(Header, u64), PluginError> {
    let header = blob.npy_header()?;
    let name = &blob.name;
    if header.descr != IMAGES_DTYPE {
        return Err(PluginError::new(format!(
            "{name}: the images are of dtype '{}', not '{IMAGES_DTYPE}' (uint8) as CIFAR-10-C's \
             are",
            header.descr
        )));
    }
    c_order(blob, &header)?;
    let count = match header.shape[..] {
        [n, h, w, c] if (h, w, c) == (SIDE as u64, SIDE as u64, CHANNELS as u64) => n,
        _ => {
            return Err(PluginError::new(format!(
                "{name}: shape {} is not (N, {SIDE}, {SIDE}, {CHANNELS}): CIFAR-10-C's images are \
                 {SIDE}×{SIDE} RGB, channels last",
                header.shape_text()
            )))
        }
    };
    if count == 0 {
        return Err(PluginError::new(format!(
            "{name}: holds no images (shape {})",
            header.shape_text()
        )));
    }
    if !count.is_multiple_of(SEVERITIES) {
        return Err(PluginError::new(format!(
            "{name}: {count} images are not {SEVERITIES} severities of equal size (the count \
             must be a multiple of {SEVERITIES}; the official files hold 50000, 10000 per \
             severity)"
        )));
    }
    check_size(blob, &header, 1)?;
    Ok((header, count))
}

/// Reads and checks the header of `labels.npy`, which must hold `count` labels, one per image
/// of the corruption file `images`; returns it and the labels' type.
fn labels_header(
    blob: &mut Blob,
    count: u64,
    images: &str,
) -> Result<(Header, IntType), PluginError> {
    let header = blob.npy_header()?;
    let name = &blob.name;
    let label_type = IntType::of(&header.descr).ok_or_else(|| {
        PluginError::new(format!(
            "{name}: the labels are of dtype '{}'; labels must be little-endian integers, one of \
             {} (the official labels.npy is '|u1')",
            header.descr,
            npy::LABEL_DTYPES
                .iter()
                .map(|d| format!("'{d}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    c_order(blob, &header)?;
    let labels = match header.shape[..] {
        [n] => n,
        _ => {
            return Err(PluginError::new(format!(
                "{name}: shape {} is not (N,): labels are one integer per image",
                header.shape_text()
            )))
        }
    };
    if labels != count {
        return Err(PluginError::new(format!(
            "{name}: {labels} labels, but {images} holds {count} images (one label per image, \
             severity 1 first)"
        )));
    }
    check_size(blob, &header, label_type.bytes as u64)?;
    Ok((header, label_type))
}

/// Channels-last images (N×H×W×C, as CIFAR-10-C stores them) in the host's N×C×H×W layout.
pub fn to_chw(hwc: &[u8]) -> Vec<u8> {
    const PLANE: usize = SIDE * SIDE;
    let mut chw = vec![0u8; hwc.len()];
    for (src, dst) in hwc
        .chunks_exact(IMAGE_BYTES)
        .zip(chw.chunks_exact_mut(IMAGE_BYTES))
    {
        for (p, px) in src.chunks_exact(CHANNELS).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                dst[c * PLANE + p] = v;
            }
        }
    }
    chw
}

impl Dataset for Cifar10c {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: dataset::classes(CLASSES),
            channels: CHANNELS as u32,
            height: SIDE as u32,
            width: SIDE as u32,
            mean: MEAN.to_vec().into(),
            std: STD.to_vec().into(),
            // CIFAR-10-C is a test set only.
            train_len: 0,
            test_len: self.splits.len(Split::Test),
            // Corrupted photographs: a mirrored cat is still a cat.
            mirror_preserves_labels: true,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.splits.chunk(split, start, count)
    }
}
