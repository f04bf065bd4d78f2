//! Tests on real IDX files (raw and gzip) written into temporary folders.
use super::*;
use flate2::{write::GzEncoder, Compression};
use fuzzaug_sdk::{testing, Dataset, Split};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};
use tempfile::TempDir;

/// The bytes of an IDX images file.
fn images_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes: Vec<u8> = [IMAGES_MAGIC, count, rows, cols]
        .into_iter()
        .flat_map(u32::to_be_bytes)
        .collect();
    bytes.extend_from_slice(pixels);
    bytes
}

/// The bytes of an IDX labels file.
fn labels_file(labels: &[u8]) -> Vec<u8> {
    let mut bytes: Vec<u8> = [LABELS_MAGIC, labels.len() as u32]
        .into_iter()
        .flat_map(u32::to_be_bytes)
        .collect();
    bytes.extend_from_slice(labels);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Writes `bytes` as `dir/name`, or gzipped as `dir/name.gz`.
fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) {
    if gz {
        fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
    } else {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

/// One split as the tests write it: `rows`×`cols` images, pixels image after image.
#[derive(Debug, Clone)]
struct Part {
    rows: u32,
    cols: u32,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Part {
    /// `labels.len()` distinct images whose pixels depend on `seed`, image and position.
    fn new(rows: u32, cols: u32, labels: &[u8], seed: u32) -> Self {
        let n = labels.len() as u32 * rows * cols;
        Self {
            rows,
            cols,
            pixels: (0..n)
                .map(|i| ((i * 37 + seed * 101) % 256) as u8)
                .collect(),
            labels: labels.to_vec(),
        }
    }

    /// Writes the images and labels files of split `prefix` (`train` or `t10k`).
    fn write(&self, dir: &Path, prefix: &str, gz: bool) {
        let count = self.labels.len() as u32;
        let images = images_file(count, self.rows, self.cols, &self.pixels);
        write(dir, &format!("{prefix}-images-idx3-ubyte"), &images, gz);
        write(
            dir,
            &format!("{prefix}-labels-idx1-ubyte"),
            &labels_file(&self.labels),
            gz,
        );
    }
}

/// A temporary config folder with the data set in its `data` subfolder.
struct Fixture {
    tmp: TempDir,
    train: Part,
    test: Part,
}

impl Fixture {
    /// Five 3×4 training images and three test images (rows ≠ cols, so a swap would show).
    fn new(gz: bool) -> Self {
        let tmp = TempDir::new().unwrap();
        fs::create_dir(tmp.path().join("data")).unwrap();
        let me = Self {
            tmp,
            train: Part::new(3, 4, &[3, 0, 9, 1, 7], 1),
            test: Part::new(3, 4, &[2, 8, 5], 2),
        };
        me.train.write(&me.data(), "train", gz);
        me.test.write(&me.data(), "t10k", gz);
        me
    }

    fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// `data/<name>` as messages show it.
    fn file(&self, name: &str) -> String {
        self.data().join(name).display().to_string()
    }

    /// Builds `variant` with `path = "data"` (relative to the config folder) and `extra`.
    fn load_variant(&self, variant: Variant, extra: &str) -> Result<Mnist, PluginError> {
        load(variant, self.tmp.path(), &format!("path = 'data'\n{extra}"))
    }

    fn load(&self, extra: &str) -> Result<Mnist, PluginError> {
        self.load_variant(MNIST, extra)
    }

    fn error(&self, extra: &str) -> PluginError {
        self.load(extra).unwrap_err()
    }
}

fn load(variant: Variant, config_dir: &Path, settings: &str) -> Result<Mnist, PluginError> {
    build(
        variant,
        &Settings::parse(settings, &params())?,
        &testing::context(0, config_dir),
    )
}

fn read_all(d: &mut Mnist, split: Split) -> (Vec<u8>, Vec<u32>) {
    let len = d.info().unwrap().len(split);
    let chunk = d.read(split, 0, len).unwrap();
    (chunk.pixels.to_vec(), chunk.labels.to_vec())
}

fn labels_u32(labels: &[u8]) -> Vec<u32> {
    labels.iter().map(|&l| u32::from(l)).collect()
}

/// Asserts a file-level error: no settings key, not a panic, exactly `message`.
fn assert_file_error(e: &PluginError, message: &str) {
    assert_eq!(e.message.as_str(), message);
    assert!(e.key.is_empty(), "key {}", e.key);
    assert!(!e.panicked);
}

#[test]
fn reads_raw_files_exactly() {
    let f = Fixture::new(false);
    let mut d = f.load("").unwrap();
    let info = d.info().unwrap();
    let classes: Vec<&str> = info.classes.iter().map(|c| c.as_str()).collect();
    assert_eq!(classes, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert_eq!((info.channels, info.height, info.width), (1, 3, 4));
    assert_eq!(
        (info.mean.as_slice(), info.std.as_slice()),
        (&[0.1307f32][..], &[0.3081f32][..])
    );
    assert_eq!((info.train_len, info.test_len), (5, 3));
    assert_eq!(
        read_all(&mut d, Split::Train),
        (f.train.pixels.clone(), labels_u32(&f.train.labels))
    );
    assert_eq!(
        read_all(&mut d, Split::Test),
        (f.test.pixels.clone(), labels_u32(&f.test.labels))
    );
}

#[test]
fn reads_gz_files_and_prefers_raw_ones() {
    let f = Fixture::new(true);
    let mut d = f.load("").unwrap();
    assert_eq!(read_all(&mut d, Split::Train).0, f.train.pixels);
    assert_eq!(read_all(&mut d, Split::Test).1, labels_u32(&f.test.labels));

    // A raw training-images file beside its .gz wins; the other three still come from .gz.
    let other = Part::new(3, 4, &[0; 5], 9);
    assert_ne!(other.pixels, f.train.pixels);
    let raw = images_file(5, 3, 4, &other.pixels);
    write(&f.data(), "train-images-idx3-ubyte", &raw, false);
    let mut d = f.load("").unwrap();
    assert_eq!(
        read_all(&mut d, Split::Train),
        (other.pixels, labels_u32(&f.train.labels))
    );
    assert_eq!(read_all(&mut d, Split::Test).0, f.test.pixels);
}

#[test]
fn fashion_mnist_has_its_classes_and_statistics() {
    let f = Fixture::new(false);
    let mut d = f.load_variant(FASHION_MNIST, "channels = 3").unwrap();
    let info = d.info().unwrap();
    let classes: Vec<&str> = info.classes.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        classes,
        [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot"
        ]
    );
    assert_eq!(info.mean.as_slice(), [0.2860f32; 3]);
    assert_eq!(info.std.as_slice(), [0.3530f32; 3]);
    assert_eq!(read_all(&mut d, Split::Test).1, [2, 8, 5]);
}

#[test]
fn absolute_paths_ignore_the_config_folder() {
    let f = Fixture::new(false);
    let settings = format!("path = '{}'", f.data().display());
    let d = load(MNIST, Path::new("/nonexistent"), &settings).unwrap();
    assert_eq!(d.info().unwrap().train_len, 5);
}

#[test]
fn chunked_reads_equal_one_read() {
    let f = Fixture::new(false);
    let mut d = f.load("channels = 3\nresize = 9").unwrap();
    for split in [Split::Train, Split::Test] {
        let (pixels, labels) = read_all(&mut d, split);
        let len = labels.len() as u64;
        let (mut p, mut l) = (Vec::new(), Vec::new());
        let mut start = 0;
        for count in [2, 0, 1, 3].into_iter().cycle() {
            let count = count.min(len - start);
            let chunk = d.read(split, start, count).unwrap();
            assert_eq!(chunk.pixels.len() as u64, count * 3 * 9 * 9);
            p.extend_from_slice(&chunk.pixels);
            l.extend_from_slice(&chunk.labels);
            start += count;
            if start == len {
                break;
            }
        }
        assert_eq!((p, l), (pixels, labels));
    }
}

#[test]
fn meets_the_dataset_contract() {
    let f = Fixture::new(false);
    for extra in ["", "channels = 3\nresize = 9\ntrain_limit = 2"] {
        let info = testing::check_dataset(&mut f.load(extra).unwrap()).unwrap();
        assert_eq!(info.test_len, 3, "{extra}");
    }
}

#[test]
fn limits_keep_the_leading_images() {
    let f = Fixture::new(false);
    let mut d = f.load("train_limit = 2\ntest_limit = 3").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.train_len, info.test_len), (2, 3));
    assert_eq!(
        read_all(&mut d, Split::Train),
        (f.train.pixels[..2 * 12].to_vec(), vec![3, 0])
    );
    assert_eq!(read_all(&mut d, Split::Test).0, f.test.pixels);
}

#[test]
fn three_channels_repeat_the_grey_plane() {
    let f = Fixture::new(false);
    let mut d = f.load("channels = 3").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.channels, info.height, info.width), (3, 3, 4));
    assert_eq!(info.mean.as_slice(), [0.1307f32; 3]);
    assert_eq!(info.std.as_slice(), [0.3081f32; 3]);
    let (pixels, labels) = read_all(&mut d, Split::Train);
    assert_eq!(labels, labels_u32(&f.train.labels));
    let want: Vec<u8> = f
        .train
        .pixels
        .chunks_exact(12)
        .flat_map(|plane| plane.repeat(3))
        .collect();
    assert_eq!(pixels, want);
}

#[test]
fn resize_resamples_bilinearly() {
    // 4×4 images whose every row is [0, 4, 8, 100], resized to 8×8 (scale 1/2). Output
    // columns sample source x = -0.25 (clamped to 0), 0.25, 0.75, ..., 3.25 (clamped to 3):
    //   0, 3/4·0 + 1/4·4 = 1, 1/4·0 + 3/4·4 = 3, 3/4·4 + 1/4·8 = 5, 7,
    //   3/4·8 + 1/4·100 = 31, 1/4·8 + 3/4·100 = 77, 100.
    // Every source row is the same, so every output row is too.
    let tmp = TempDir::new().unwrap();
    let row = [0u8, 4, 8, 100];
    let image: Vec<u8> = row.repeat(4);
    for prefix in ["train", "t10k"] {
        Part {
            rows: 4,
            cols: 4,
            pixels: image.repeat(2),
            labels: vec![1, 2],
        }
        .write(tmp.path(), prefix, false);
    }
    let mut d = load(MNIST, tmp.path(), "path = '.'\nresize = 8").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.height, info.width), (8, 8));
    let want_row = [0u8, 1, 3, 5, 7, 31, 77, 100];
    let (pixels, labels) = read_all(&mut d, Split::Test);
    assert_eq!(labels, [1, 2]);
    assert_eq!(pixels, want_row.repeat(8 * 2));
}

#[test]
fn resize_and_channels_combine() {
    // Non-square 3×4 sources become square 9×9 images, each plane resampled on its own.
    let f = Fixture::new(true);
    let mut d = f.load("resize = 9\nchannels = 3").unwrap();
    let r = Resizer::new(3, 4, 9, 9);
    let want: Vec<u8> = f
        .train
        .pixels
        .chunks_exact(12)
        .flat_map(|src| {
            let mut plane = vec![0; 81];
            r.apply(src, &mut plane);
            plane.repeat(3)
        })
        .collect();
    assert_eq!(read_all(&mut d, Split::Train).0, want);
}

#[test]
fn registers_two_datasets() {
    let list = components();
    let names: Vec<&str> = list.iter().map(|c| c.info().name.as_str()).collect();
    assert_eq!(names, ["mnist", "fashion-mnist"]);
    for c in &list {
        let keys: Vec<&str> = c.info().params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            keys,
            ["path", "resize", "channels", "train_limit", "test_limit"]
        );
    }
}

// ---- bad input ----

#[test]
fn missing_folder() {
    let f = Fixture::new(false);
    let e = load(MNIST, f.tmp.path(), "path = 'nope'").unwrap_err();
    assert_file_error(
        &e,
        &format!(
            "{}: no such file or directory (expected a folder holding the four MNIST IDX files, \
             e.g. train-images-idx3-ubyte, raw or .gz)",
            f.tmp.path().join("nope").display()
        ),
    );
    let e = load(
        FASHION_MNIST,
        f.tmp.path(),
        "path = 'data/train-images-idx3-ubyte'",
    )
    .unwrap_err();
    assert_file_error(
        &e,
        &format!(
            "{}: not a folder (expected a folder holding the four Fashion-MNIST IDX files, \
             e.g. train-images-idx3-ubyte, raw or .gz)",
            f.file("train-images-idx3-ubyte")
        ),
    );
}

#[test]
fn missing_file() {
    let f = Fixture::new(false);
    fs::remove_file(f.data().join("t10k-labels-idx1-ubyte")).unwrap();
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: no such file or directory, nor t10k-labels-idx1-ubyte.gz beside it \
             (expected the MNIST test labels, raw or gzip-compressed)",
            f.file("t10k-labels-idx1-ubyte")
        ),
    );
    let f = Fixture::new(true);
    fs::remove_file(f.data().join("train-images-idx3-ubyte.gz")).unwrap();
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: no such file or directory, nor train-images-idx3-ubyte.gz beside it \
             (expected the MNIST training images, raw or gzip-compressed)",
            f.file("train-images-idx3-ubyte")
        ),
    );
}

#[test]
fn wrong_magic_number() {
    let f = Fixture::new(false);
    // The images file where the labels belong.
    fs::copy(
        f.data().join("train-images-idx3-ubyte"),
        f.data().join("train-labels-idx1-ubyte"),
    )
    .unwrap();
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: wrong magic number: expected 0x00000801 (IDX labels: u8 with 1 dimension), \
             found 0x00000803; this is an IDX images file, is it misnamed?",
            f.file("train-labels-idx1-ubyte")
        ),
    );
    // Some other file altogether.
    let f = Fixture::new(false);
    let mut bytes = images_file(3, 3, 4, &f.test.pixels);
    bytes[..4].copy_from_slice(&0xdead_beefu32.to_be_bytes());
    write(&f.data(), "t10k-images-idx3-ubyte", &bytes, false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: wrong magic number: expected 0x00000803 (IDX images: u8 with 3 dimensions), \
             found 0xdeadbeef",
            f.file("t10k-images-idx3-ubyte")
        ),
    );
}

#[test]
fn gzip_data_without_the_gz_suffix() {
    let f = Fixture::new(true);
    fs::rename(
        f.data().join("t10k-labels-idx1-ubyte.gz"),
        f.data().join("t10k-labels-idx1-ubyte"),
    )
    .unwrap();
    let e = f.error("");
    let prefix = format!(
        "{}: wrong magic number: expected 0x00000801 (IDX labels: u8 with 1 dimension), found 0x1f8b08",
        f.file("t10k-labels-idx1-ubyte")
    );
    assert!(e.message.starts_with(&prefix), "{}", e.message);
    assert!(
        e.message
            .ends_with("; this is gzip data, name it with a .gz suffix"),
        "{}",
        e.message
    );
}

#[test]
fn image_and_label_counts_differ() {
    let f = Fixture::new(false);
    write(
        &f.data(),
        "t10k-labels-idx1-ubyte",
        &labels_file(&[2, 8]),
        false,
    );
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: 3 images, but {} has 2 labels",
            f.file("t10k-images-idx3-ubyte"),
            f.file("t10k-labels-idx1-ubyte")
        ),
    );
}

#[test]
fn truncated_gz() {
    let f = Fixture::new(true);
    let path = f.data().join("train-images-idx3-ubyte.gz");
    let gz = fs::read(&path).unwrap();
    fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let e = f.error("");
    let prefix = format!(
        "{}: truncated gzip data: the compressed stream ends early, after ",
        path.display()
    );
    assert!(e.message.starts_with(&prefix), "{}", e.message);
    assert!(e.message.ends_with(" decompressed bytes"), "{}", e.message);
    // Only the 8-byte trailer (CRC and length) missing: all data decoded, still refused.
    fs::write(&path, &gz[..gz.len() - 8]).unwrap();
    assert_file_error(&f.error(""), &format!("{prefix}76 decompressed bytes"));
}

#[test]
fn corrupt_gz() {
    let f = Fixture::new(true);
    // An uncompressed IDX file given a .gz name.
    let raw = labels_file(&f.test.labels);
    fs::write(f.data().join("t10k-labels-idx1-ubyte.gz"), raw).unwrap();
    let e = f.error("");
    let prefix = format!(
        "{}: corrupt gzip data: ",
        f.file("t10k-labels-idx1-ubyte.gz")
    );
    assert!(e.message.starts_with(&prefix), "{}", e.message);
}

#[test]
fn truncated_raw_file() {
    let f = Fixture::new(false);
    let bytes = images_file(5, 3, 4, &f.train.pixels[..55]);
    write(&f.data(), "train-images-idx3-ubyte", &bytes, false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: truncated: 5×3×4 images need 60 data bytes after the 16-byte header, \
             found 55 (71 bytes in all)",
            f.file("train-images-idx3-ubyte")
        ),
    );
    // A header cut short.
    write(&f.data(), "train-images-idx3-ubyte", &bytes[..10], false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: truncated: 10 bytes, too short for the 16-byte IDX images header",
            f.file("train-images-idx3-ubyte")
        ),
    );
}

#[test]
fn truncated_data_inside_a_gz() {
    let f = Fixture::new(true);
    let mut bytes = labels_file(&f.test.labels);
    bytes.pop();
    write(&f.data(), "t10k-labels-idx1-ubyte", &bytes, true);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: truncated: 3 labels need 3 data bytes after the 8-byte header, \
             found 2 (10 decompressed bytes in all)",
            f.file("t10k-labels-idx1-ubyte.gz")
        ),
    );
}

#[test]
fn trailing_bytes() {
    let f = Fixture::new(false);
    let mut bytes = images_file(3, 3, 4, &f.test.pixels);
    bytes.extend([0, 0]);
    write(&f.data(), "t10k-images-idx3-ubyte", &bytes, false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: trailing bytes: 3×3×4 images need 36 data bytes after the 16-byte header, \
             found 38 (54 bytes in all)",
            f.file("t10k-images-idx3-ubyte")
        ),
    );
}

#[test]
fn label_out_of_range() {
    let f = Fixture::new(false);
    let labels = labels_file(&[3, 0, 9, 10, 7]);
    write(&f.data(), "train-labels-idx1-ubyte", &labels, false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: label 10 at index 3 is out of range (MNIST has 10 classes, labels 0 to 9)",
            f.file("train-labels-idx1-ubyte")
        ),
    );
}

#[test]
fn train_and_test_sizes_differ() {
    let f = Fixture::new(false);
    Part::new(3, 5, &[2, 8, 5], 2).write(&f.data(), "t10k", false);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: images are 3×5 pixels, but {} has 3×4",
            f.file("t10k-images-idx3-ubyte"),
            f.file("train-images-idx3-ubyte")
        ),
    );
}

#[test]
fn empty_images_file() {
    let f = Fixture::new(false);
    write(
        &f.data(),
        "train-images-idx3-ubyte",
        &images_file(0, 3, 4, &[]),
        false,
    );
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: holds no pixels: dimensions 0×3×4",
            f.file("train-images-idx3-ubyte")
        ),
    );
}

#[test]
fn bad_settings_name_their_key() {
    let f = Fixture::new(false);
    let cases = [
        (
            "resize = 4",
            "resize",
            "`resize` must be 0 (keep the native size) or between 8 and 256, got 4".to_string(),
        ),
        (
            "resize = 257",
            "resize",
            "`resize` must be 0 (keep the native size) or between 8 and 256, got 257".to_string(),
        ),
        (
            "resize = -8",
            "resize",
            "`resize` must be 0 (keep the native size) or between 8 and 256, got -8".to_string(),
        ),
        (
            "channels = 2",
            "channels",
            "`channels` must be 1 (grey) or 3 (grey repeated), got 2".to_string(),
        ),
        (
            "channels = 0",
            "channels",
            "`channels` must be 1 (grey) or 3 (grey repeated), got 0".to_string(),
        ),
        (
            "test_limit = -1",
            "test_limit",
            "`test_limit` must be 0 (all images) or a positive number of images, got -1"
                .to_string(),
        ),
        (
            "train_limit = 6",
            "train_limit",
            format!(
                "`train_limit` is 6, but {} holds only 5 images",
                f.file("train-images-idx3-ubyte")
            ),
        ),
    ];
    for (text, key, message) in cases {
        let e = f.error(text);
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            (key, message.as_str()),
            "{text}"
        );
        assert!(!e.panicked);
    }
    // Types and unknown keys are the SDK's job.
    assert_eq!(f.error("channels = '3'").key.as_str(), "channels");
    assert_eq!(
        f.error("resise = 32").message.as_str(),
        "unknown key `resise`; did you mean `resize`?"
    );
    assert_eq!(
        load(MNIST, f.tmp.path(), "").unwrap_err().key.as_str(),
        "path"
    );
    let e = load(MNIST, f.tmp.path(), "path = ''").unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.message.as_str()),
        ("path", "`path` must not be empty")
    );
}

#[test]
fn gzip_bomb_is_refused_at_its_declared_size() {
    // The header declares 5 images of 3×4; 64 MiB of zeros follow, about 64 KiB gzipped.
    let f = Fixture::new(true);
    let mut bytes = images_file(5, 3, 4, &f.train.pixels);
    bytes.resize(bytes.len() + (64 << 20), 0);
    write(&f.data(), "train-images-idx3-ubyte", &bytes, true);
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: trailing bytes: the header declares 5×3×4 images, a 76-byte file (16-byte \
             header and 60 data bytes), but the decompressed data goes on past that \
             (not read any further)",
            f.file("train-images-idx3-ubyte.gz")
        ),
    );
}

#[test]
fn absurd_declared_size_is_refused() {
    let f = Fixture::new(false);
    let bytes = images_file(70_000, 256, 256, &[]);
    write(&f.data(), "t10k-images-idx3-ubyte", &bytes, true);
    fs::remove_file(f.data().join("t10k-images-idx3-ubyte")).unwrap();
    assert_file_error(
        &f.error(""),
        &format!(
            "{}: the header declares 70000×256×256 images, a 4587520016-byte file, more than \
             the 2147483648 bytes (2 GiB) this plugin reads; is the header corrupt?",
            f.file("t10k-images-idx3-ubyte.gz")
        ),
    );
}
