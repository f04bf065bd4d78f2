//! End-to-end tests of the component on real PNG, JPEG and PPM files.
use super::*;
use fuzzaug_sdk::testing;
use image::{GrayImage, Luma, Rgb, RgbImage};
use std::{fs, path::Path};
use tempfile::TempDir;

fn build(settings: &str, config_dir: &Path) -> Result<ImageFolder, PluginError> {
    ImageFolder::from_settings(
        &Settings::parse(settings, &params())?,
        &testing::context(0, config_dir),
    )
}

fn open(root: &Path, extra: &str) -> Result<ImageFolder, PluginError> {
    build(
        &format!("path = {:?}\n{extra}", root.to_str().unwrap()),
        root,
    )
}

/// An 8×8 image whose pixel (x, y) is `[base + x, base + 8y, 255 - base]`.
fn pattern(base: u8) -> RgbImage {
    RgbImage::from_fn(8, 8, |x, y| {
        Rgb([base + x as u8, base + 8 * y as u8, 255 - base])
    })
}

/// `pattern(base)` as channel planes.
fn planes(base: u8) -> Vec<u8> {
    let img = pattern(base);
    (0..3)
        .flat_map(|c| img.pixels().map(move |p| p[c]).collect::<Vec<_>>())
        .collect()
}

fn save(root: &Path, rel: &str, img: &RgbImage) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    img.save(p).unwrap();
}

fn touch(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

/// Three classes in all three formats, plus files that must be ignored:
///
/// - train/circle: b.png = pattern(10), a.PNG = pattern(0) (so a.PNG loads first);
/// - train/arrow: x.ppm = pattern(20), y.jpg = solid (200, 40, 90);
/// - train/square: wide.png, 6×3 solid (1, 2, 3); tiny.ppm, 4×4 solid (250, 0, 128);
/// - test/arrow: t.ppm = pattern(30); test/square: u.png = pattern(40); no test/circle.
fn sample() -> TempDir {
    let dir = TempDir::new().unwrap();
    let r = dir.path();
    save(r, "train/circle/b.png", &pattern(10));
    save(r, "train/circle/a.PNG", &pattern(0));
    save(r, "train/arrow/x.ppm", &pattern(20));
    save(
        r,
        "train/arrow/y.jpg",
        &RgbImage::from_pixel(8, 8, Rgb([200, 40, 90])),
    );
    save(
        r,
        "train/square/wide.png",
        &RgbImage::from_pixel(6, 3, Rgb([1, 2, 3])),
    );
    save(
        r,
        "train/square/tiny.ppm",
        &RgbImage::from_pixel(4, 4, Rgb([250, 0, 128])),
    );
    save(r, "test/arrow/t.ppm", &pattern(30));
    save(r, "test/square/u.png", &pattern(40));
    touch(r, "train/circle/GT-circle.csv", b"Filename;ClassId\n");
    touch(r, "train/readme.txt", b"hello");
    touch(r, "train/arrow/.DS_Store", b"\0\0");
    touch(r, "test/GT-final_test.csv", b"Filename;ClassId\n");
    dir
}

fn solid(rgb: [u8; 3], plane: usize) -> Vec<u8> {
    rgb.iter().flat_map(|&v| vec![v; plane]).collect()
}

#[test]
fn reads_classes_labels_and_pixels() {
    let dir = sample();
    let mut d = open(dir.path(), "size = 8").unwrap();
    let info = d.info().unwrap();
    let classes: Vec<&str> = info.classes.iter().map(|c| c.as_str()).collect();
    assert_eq!(classes, ["arrow", "circle", "square"]);
    assert_eq!((info.channels, info.height, info.width), (3, 8, 8));
    assert_eq!((info.train_len, info.test_len), (6, 2));
    assert!(!info.mirror_preserves_labels, "off unless the user says so");
    let flips = open(dir.path(), "size = 8\nmirror_preserves_labels = true").unwrap();
    assert!(flips.info().unwrap().mirror_preserves_labels);
    assert_eq!(info.image_bytes(), 192);

    let train = d.read(Split::Train, 0, 6).unwrap();
    assert_eq!(train.labels.as_slice(), &[0, 0, 1, 1, 2, 2]);
    assert_eq!(train.pixels.len(), 6 * 192);
    let image = |i: usize| &train.pixels[i * 192..(i + 1) * 192];
    // Lossless formats at the target size come through exactly.
    assert_eq!(image(0), planes(20).as_slice());
    assert_eq!(image(2), planes(0).as_slice());
    assert_eq!(image(3), planes(10).as_slice());
    // JPEG is lossy: a solid block comes back close.
    for (got, want) in image(1).iter().zip(solid([200, 40, 90], 64)) {
        assert!(got.abs_diff(want) <= 3, "JPEG pixel {got}, wrote {want}");
    }
    // 4×4 and 6×3 images are resized to 8×8; solid colours survive the bilinear filter.
    assert_eq!(image(4), solid([250, 0, 128], 64).as_slice());
    assert_eq!(image(5), solid([1, 2, 3], 64).as_slice());

    let test = d.read(Split::Test, 0, 2).unwrap();
    assert_eq!(test.labels.as_slice(), &[0, 2]);
    assert_eq!(&test.pixels[..192], planes(30).as_slice());
    assert_eq!(&test.pixels[192..], planes(40).as_slice());
}

#[test]
fn resizing_gives_the_target_shape() {
    let dir = sample();
    let mut d = open(dir.path(), "size = 20").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.channels, info.height, info.width), (3, 20, 20));
    let train = d.read(Split::Train, 0, info.train_len).unwrap();
    assert_eq!(train.pixels.len(), 6 * 3 * 400);
    // A gradient stays a gradient: the red plane of pattern(20) grows along x.
    let red = &train.pixels[..400];
    assert!(red[0] < red[19] && red[380] < red[399], "{red:?}");
    assert!(red.iter().all(|&v| (20..=27).contains(&v)));
    // Solid images stay solid.
    assert_eq!(
        &train.pixels[4 * 1200..5 * 1200],
        solid([250, 0, 128], 400).as_slice()
    );
    assert_eq!(&train.pixels[5 * 1200..], solid([1, 2, 3], 400).as_slice());
    let default = open(dir.path(), "").unwrap();
    assert_eq!(default.info().unwrap().height, 32);
    assert_eq!(default.config().size, 32);
}

#[test]
fn grey_images() {
    let dir = sample();
    let mut d = open(dir.path(), "size = 8\nchannels = 1").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.channels, info.mean.len(), info.std.len()), (1, 1, 1));
    let train = d.read(Split::Train, 0, 6).unwrap();
    assert_eq!(train.pixels.len(), 6 * 64);
    // Rec. 709 luma, rounded: (2126·250 + 722·128) / 10000 = 62.39.
    assert!(train.pixels[4 * 64..5 * 64].iter().all(|&v| v == 62));
    let img = pattern(20);
    for (i, p) in img.pixels().enumerate() {
        let y = 2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2]);
        let luma = (y + 5000) / 10000;
        assert_eq!(u32::from(train.pixels[i]), luma, "pixel {i}");
    }
}

#[test]
fn statistics_are_measured_exactly_on_the_training_images() {
    let dir = TempDir::new().unwrap();
    let r = dir.path();
    // Lossless files at the target size, so the pixels are known exactly.
    save(r, "train/a/1.png", &pattern(0));
    save(r, "train/b/2.ppm", &pattern(50));
    save(
        r,
        "train/b/3.png",
        &RgbImage::from_pixel(8, 8, Rgb([255, 0, 7])),
    );
    // Test images must not count.
    save(
        r,
        "test/a/t.png",
        &RgbImage::from_pixel(8, 8, Rgb([255, 255, 255])),
    );
    let d = open(r, "size = 8").unwrap();
    let info = d.info().unwrap();

    let mut all: Vec<u8> = planes(0);
    all.extend(planes(50));
    all.extend(solid([255, 0, 7], 64));
    for c in 0..3 {
        let values: Vec<f64> = all
            .chunks_exact(192)
            .flat_map(|img| {
                img[c * 64..(c + 1) * 64]
                    .iter()
                    .map(|&p| f64::from(p) / 255.0)
            })
            .collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        assert_eq!(info.mean[c], mean as f32, "mean of channel {c}");
        assert!(
            (f64::from(info.std[c]) - var.sqrt()).abs() < 1e-7,
            "std of channel {c}"
        );
    }
}

#[test]
fn chunked_reads_equal_one_read() {
    let dir = TempDir::new().unwrap();
    let r = dir.path();
    // Enough images that every core decodes some.
    for i in 0..150u32 {
        let class = ["c0", "c1", "c2"][(i % 3) as usize];
        let grey = GrayImage::from_pixel(5 + i % 4, 9, Luma([i as u8]));
        let p = r.join(format!("train/{class}/{i:03}.png"));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        grey.save(p).unwrap();
    }
    save(r, "test/c1/t.png", &pattern(1));
    let mut d = open(r, "size = 8\nchannels = 1").unwrap();
    let whole = d.read(Split::Train, 0, 150).unwrap();
    assert_eq!(whole.labels.iter().filter(|&&l| l == 2).count(), 50);
    // Class c0 holds 000, 003, ..., 147 in name order, each solid after resizing.
    for (k, image) in whole.pixels.chunks_exact(64).take(50).enumerate() {
        assert!(image.iter().all(|&v| v == (3 * k) as u8), "image {k}");
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut start = 0;
    for count in [7, 0, 13, 1, 29].into_iter().cycle() {
        let count = count.min(150 - start);
        let chunk = d.read(Split::Train, start, count).unwrap();
        assert_eq!(chunk.pixels.len() as u64, count * 64);
        pixels.extend_from_slice(&chunk.pixels);
        labels.extend_from_slice(&chunk.labels);
        start += count;
        if start == 150 {
            break;
        }
    }
    assert_eq!(pixels.as_slice(), whole.pixels.as_slice());
    assert_eq!(labels.as_slice(), whole.labels.as_slice());
    // Deterministic across loads.
    let again = open(r, "size = 8\nchannels = 1")
        .unwrap()
        .read(Split::Train, 0, 150)
        .unwrap();
    assert_eq!(again, whole);
}

#[test]
fn meets_the_dataset_contract() {
    let dir = sample();
    for extra in ["size = 8", "size = 12\nchannels = 1"] {
        let info = testing::check_dataset(&mut open(dir.path(), extra).unwrap()).unwrap();
        assert_eq!((info.train_len, info.test_len), (6, 2), "{extra}");
    }
}

#[test]
fn relative_path_resolves_against_the_config_folder() {
    let dir = TempDir::new().unwrap();
    let data = sample();
    let link = dir.path().join("gtsrb");
    std::os::unix::fs::symlink(data.path(), &link).unwrap();
    let d = build("path = \"gtsrb\"\nsize = 8", dir.path()).unwrap();
    assert_eq!(d.config().path, link);
    assert_eq!(d.info().unwrap().train_len, 6);
    let e = build("path = \"nope\"", dir.path()).unwrap_err();
    assert_eq!(
        e.message.as_str(),
        format!(
            "{}/nope: no such directory (expected a dataset folder with train/ and test/ sub-folders)",
            dir.path().display()
        )
    );
}

/// The error of opening `root` with `extra` settings, as (key, message).
fn error(root: &Path, extra: &str) -> (String, String) {
    let Err(e) = open(root, extra) else {
        panic!("the dataset should be refused");
    };
    assert!(!e.panicked);
    (e.key.to_string(), e.message.to_string())
}

#[test]
fn bad_settings() {
    let dir = sample();
    let r = dir.path();
    let Err(e) = build("size = 8", r) else {
        panic!("a missing `path` should be refused");
    };
    assert_eq!(
        (e.key.as_str(), e.message.as_str()),
        (
            "path",
            "missing required key `path` (folder holding train/<class>/ and test/<class>/ image folders)"
        )
    );
    assert_eq!(
        error(r, "size = 4"),
        (
            "size".into(),
            "`size` must be between 8 and 512, got 4".into()
        )
    );
    assert_eq!(
        error(r, "channels = 2"),
        (
            "channels".into(),
            "`channels` must be 1 (grey) or 3 (RGB), got 2".into()
        )
    );
}

#[test]
fn missing_train_folder() {
    let dir = TempDir::new().unwrap();
    save(dir.path(), "test/a/x.png", &pattern(0));
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/train: no such directory (expected a folder with one sub-folder of training images per class)")
    );
}

#[test]
fn empty_splits() {
    let dir = TempDir::new().unwrap();
    touch(dir.path(), "train/labels.csv", b"x");
    save(dir.path(), "test/a/x.png", &pattern(0));
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/train: no images (expected one sub-folder per class holding .png, .jpg, .jpeg or .ppm files)")
    );
    let dir = TempDir::new().unwrap();
    save(dir.path(), "train/a/x.png", &pattern(0));
    fs::create_dir_all(dir.path().join("test")).unwrap();
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/test: no images (expected one sub-folder per class holding .png, .jpg, .jpeg or .ppm files)")
    );
}

#[test]
fn class_folder_without_images() {
    let dir = sample();
    touch(dir.path(), "train/empty/notes.txt", b"nothing here");
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!(
            "{r}/train/empty: class folder `empty` holds no images (.png, .jpg, .jpeg or .ppm)"
        )
    );
}

#[test]
fn undecodable_image() {
    let dir = sample();
    touch(
        dir.path(),
        "train/circle/c.png",
        &[0x5a, 0x11, 0xf0, 0x0d, 0x42, 0x42, 0x99, 0x01, 0x77],
    );
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/train/circle/c.png: cannot decode as PNG: Format error decoding Png: Invalid PNG signature.")
    );
    // A PNG named .jpg goes to the JPEG decoder, which refuses it.
    let dir = sample();
    fs::rename(
        dir.path().join("test/square/u.png"),
        dir.path().join("test/square/u.jpg"),
    )
    .unwrap();
    let (_, message) = error(dir.path(), "");
    let prefix = format!(
        "{}/test/square/u.jpg: cannot decode as JPEG: ",
        dir.path().display()
    );
    assert!(message.starts_with(&prefix), "{message}");
}

#[test]
fn zero_byte_image() {
    let dir = sample();
    touch(dir.path(), "test/arrow/zero.ppm", b"");
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/test/arrow/zero.ppm: empty file (0 bytes)")
    );
}

#[test]
fn unknown_test_class() {
    let dir = sample();
    save(dir.path(), "test/triangle/t.png", &pattern(0));
    let r = dir.path().display();
    assert_eq!(
        error(dir.path(), "").1,
        format!("{r}/test/triangle: class folder `triangle` has no counterpart in {r}/train (which has 3 classes)")
    );
}

#[test]
fn one_component_is_exported() {
    let list = components();
    assert_eq!(list.len(), 1);
    let info = list[0].info();
    assert_eq!(info.name.as_str(), "imagefolder");
    assert_eq!(info.params.len(), 4);
}
