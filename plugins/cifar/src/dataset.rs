//! The `cifar10` and `cifar100` components: settings, loading, and the in-memory dataset.
use crate::{
    format::{self, RecordFormat, CHANNELS, SIDE},
    source::{self, Layout, Member, Wanted},
};
use fuzzaug_sdk::{
    dataset::{self, limit_params},
    Chunk, ComponentContext, Dataset, DatasetInfo, Param, ParamType, PluginError, Settings, Split,
    SplitData, Splits,
};
use std::path::PathBuf;

/// What differs between CIFAR-10 and CIFAR-100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// The official folder and archive names.
    pub layout: Layout,
    /// The record layout of the batch files.
    pub format: RecordFormat,
    /// The training batch files, in order.
    pub train: &'static [&'static str],
    /// The test batch files, in order.
    pub test: &'static [&'static str],
    /// Records in each official training batch file.
    pub train_batch_records: usize,
    /// Records in each official test batch file.
    pub test_batch_records: usize,
    /// Per-channel mean, 0..1 scale.
    pub mean: [f32; CHANNELS],
    /// Per-channel standard deviation, 0..1 scale.
    pub std: [f32; CHANNELS],
}

/// CIFAR-10, binary version. Mean and std are the reference study's values.
pub const CIFAR10: Spec = Spec {
    layout: Layout {
        dataset: "CIFAR-10",
        folder: "cifar-10-batches-bin",
        archive: "cifar-10-binary.tar.gz",
    },
    format: format::CIFAR10,
    train: &[
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
    ],
    test: &["test_batch.bin"],
    train_batch_records: 10_000,
    test_batch_records: 10_000,
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.2023, 0.1994, 0.2010],
};

/// CIFAR-100, binary version.
pub const CIFAR100: Spec = Spec {
    layout: Layout {
        dataset: "CIFAR-100",
        folder: "cifar-100-binary",
        archive: "cifar-100-binary.tar.gz",
    },
    format: format::CIFAR100,
    train: &["train.bin"],
    test: &["test.bin"],
    train_batch_records: 50_000,
    test_batch_records: 10_000,
    mean: [0.5071, 0.4865, 0.4409],
    std: [0.2673, 0.2564, 0.2762],
};

/// The CIFAR-10 names file.
pub const CIFAR10_NAMES: &str = "batches.meta.txt";

/// The most bytes a class-names file may hold: the official ones are about a kilobyte at most
/// (100 short names), so 64 KiB leaves room for any list of names and none for a mistaken file.
pub const NAMES_MAX_BYTES: u64 = 64 << 10;

impl Spec {
    /// The files to read, in the order [`Cifar::from_members`] splits them, each bounded by the
    /// size of its official counterpart: a batch cannot be larger than the official one.
    pub fn wanted(&self, names_file: &'static str) -> Vec<Wanted> {
        let record = self.format.record_bytes();
        let batch = |name: &'static str, records: usize| Wanted {
            name,
            max_bytes: (records * record) as u64,
            bound: format!(
                "of the official {} {name} ({records} records of {record} bytes)",
                self.layout.dataset
            ),
        };
        let train = self
            .train
            .iter()
            .map(|&n| batch(n, self.train_batch_records));
        let test = self.test.iter().map(|&n| batch(n, self.test_batch_records));
        train
            .chain(test)
            .chain([Wanted {
                name: names_file,
                max_bytes: NAMES_MAX_BYTES,
                bound: "allowed for a class-names file (the official ones are about 1 KB at most)"
                    .to_string(),
            }])
            .collect()
    }
}

fn common_params(dataset: &str) -> Vec<Param> {
    let mut params = vec![Param::required(
        "path",
        ParamType::String,
        &format!(
            "the unpacked {dataset} binary folder, a folder holding it, or the official .tar.gz"
        ),
    )];
    params.extend(limit_params());
    params
}

/// The settings keys of the `cifar10` component.
pub fn cifar10_params() -> Vec<Param> {
    common_params("CIFAR-10")
}

/// The settings keys of the `cifar100` component.
pub fn cifar100_params() -> Vec<Param> {
    let mut params = common_params("CIFAR-100");
    params.push(Param::optional(
        "label",
        ParamType::String,
        "\"fine\"",
        "which CIFAR-100 label to train on: \"fine\" (100 classes) or \"coarse\" (20)",
    ));
    params
}

/// The validated settings of a CIFAR dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CifarConfig {
    /// Folder or archive, resolved against the config's folder.
    pub path: PathBuf,
    /// Which label byte of a record is the class (an index into the format's fields).
    pub field: usize,
    /// The file that names the classes of that label.
    pub names_file: &'static str,
    /// Keep only this many training images; `None` = all.
    pub train_limit: Option<usize>,
    /// Keep only this many test images; `None` = all.
    pub test_limit: Option<usize>,
}

impl CifarConfig {
    /// The `cifar10` settings.
    pub fn cifar10(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        Self::common(settings, ctx, 0, CIFAR10_NAMES)
    }

    /// The `cifar100` settings, `label` included.
    pub fn cifar100(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        let label: String = settings.value("label")?;
        let (field, names_file) = match label.as_str() {
            "coarse" => (0, "coarse_label_names.txt"),
            "fine" => (1, "fine_label_names.txt"),
            other => {
                return Err(PluginError::config(
                    "label",
                    format!("`label` must be \"fine\" or \"coarse\", got \"{other}\""),
                ))
            }
        };
        Self::common(settings, ctx, field, names_file)
    }

    fn common(
        settings: &Settings,
        ctx: &ComponentContext,
        field: usize,
        names_file: &'static str,
    ) -> Result<Self, PluginError> {
        Ok(Self {
            path: settings.path("path", ctx)?,
            field,
            names_file,
            train_limit: settings.limit("train_limit")?,
            test_limit: settings.limit("test_limit")?,
        })
    }
}

/// A CIFAR dataset, fully loaded and checked: both splits in memory, N×C×H×W.
#[derive(Debug, Clone, PartialEq)]
pub struct Cifar {
    classes: Vec<String>,
    mean: [f32; CHANNELS],
    std: [f32; CHANNELS],
    splits: Splits,
}

impl Cifar {
    /// The `cifar10` component's constructor.
    pub fn cifar10(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        Self::load(&CIFAR10, &CifarConfig::cifar10(settings, ctx)?)
    }

    /// The `cifar100` component's constructor.
    pub fn cifar100(settings: &Settings, ctx: &ComponentContext) -> Result<Self, PluginError> {
        Self::load(&CIFAR100, &CifarConfig::cifar100(settings, ctx)?)
    }

    /// Reads, checks and decodes every file of `spec` named by `config`.
    pub fn load(spec: &Spec, config: &CifarConfig) -> Result<Self, PluginError> {
        let wanted = spec.wanted(config.names_file);
        let members = source::read_members(&config.path, &spec.layout, &wanted)?;
        Self::from_members(spec, config, &members)
    }

    /// Checks and decodes `members`, the files [`Spec::wanted`] names, in its order
    /// (`config.path` is not read).
    pub fn from_members(
        spec: &Spec,
        config: &CifarConfig,
        members: &[Member],
    ) -> Result<Self, PluginError> {
        let field = spec.format.fields.get(config.field).ok_or_else(|| {
            PluginError::new(format!(
                "bug: {} has no label field {}",
                spec.layout.dataset, config.field
            ))
        })?;
        let wanted = spec.train.len() + spec.test.len() + 1;
        if members.len() != wanted {
            return Err(PluginError::new(format!(
                "bug: {} {} files given, {wanted} wanted",
                members.len(),
                spec.layout.dataset
            )));
        }
        let (train, rest) = members.split_at(spec.train.len());
        let (test, names) = rest.split_at(spec.test.len());
        let classes = names
            .first()
            .ok_or_else(|| PluginError::new("bug: the names file was not read"))
            .and_then(|f| format::class_names(f, field.classes))?;
        let train = load_split(spec, config, train, Split::Train)?;
        let test = load_split(spec, config, test, Split::Test)?;
        Ok(Self {
            classes,
            mean: spec.mean,
            std: spec.std,
            splits: Splits { train, test },
        })
    }
}

/// Checks and decodes the batches of one split, keeping the first `*_limit` images.
///
/// A batch holding another number of records than the official file is loaded as it is, with
/// a warning naming it: the format is also used for smaller data sets on purpose (the tests'
/// fixtures, `bench/twin.py write-data`), which cannot be told from a copy cut short at a
/// record boundary, so the warning leaves it to the user to say which. (More records than the
/// official file are refused when reading, see [`Spec::wanted`].)
fn load_split(
    spec: &Spec,
    config: &CifarConfig,
    batches: &[Member],
    split: Split,
) -> Result<SplitData, PluginError> {
    let (key, limit, files, official) = match split {
        Split::Train => (
            "train_limit",
            config.train_limit,
            spec.train,
            spec.train_batch_records,
        ),
        Split::Test => (
            "test_limit",
            config.test_limit,
            spec.test,
            spec.test_batch_records,
        ),
    };
    let mut total = 0;
    for (batch, file) in batches.iter().zip(files) {
        let records = format::count_records(&spec.format, batch)?;
        if records != official {
            log::warn!("{}", size_warning(spec, batch, file, records, official));
        }
        total += records;
    }
    let source = format!("the {} split of {}", split.as_str(), spec.layout.dataset);
    let keep = dataset::limited(key, limit, total, &source)?;
    format::decode(&spec.format, config.field, batches, keep)
}

/// The warning for `batch`, standing for the official `file`, holding `records` records where
/// the official one holds `official`.
fn size_warning(
    spec: &Spec,
    batch: &Member,
    file: &str,
    records: usize,
    official: usize,
) -> String {
    format!(
        "{}: {records} {} records, where the official {file} holds {official}; loading them as \
         they are (a smaller data set in the CIFAR format, or a copy cut short?)",
        batch.name, spec.layout.dataset
    )
}

impl Dataset for Cifar {
    fn info(&self) -> Result<DatasetInfo, PluginError> {
        Ok(DatasetInfo {
            classes: dataset::classes(&self.classes),
            channels: CHANNELS as u32,
            height: SIDE as u32,
            width: SIDE as u32,
            mean: self.mean.to_vec().into(),
            std: self.std.to_vec().into(),
            train_len: self.splits.len(Split::Train),
            test_len: self.splits.len(Split::Test),
            // Natural photographs: a mirrored cat is a cat.
            mirror_preserves_labels: true,
        })
    }

    fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, PluginError> {
        self.splits.chunk(split, start, count)
    }
}
