//! Component-level tests against files written in the real on-disk formats.
mod fixtures;

use crate::{cifar100_params, cifar10_params, format::IMAGE_BYTES, Cifar};
use fixtures::*;
use fuzzaug_sdk::{
    testing::{check_dataset, context},
    Dataset, PluginError, Settings, Split,
};
use std::{
    fs,
    path::Path,
    sync::{Mutex, Once},
    time::Instant,
};
use tempfile::TempDir;

const DIR10: &str = "cifar-10-batches-bin";
const DIR100: &str = "cifar-100-binary";

/// Builds `cifar10` from `settings`, relative paths resolving against `dir`.
fn cifar10(dir: &Path, settings: &str) -> Result<Cifar, PluginError> {
    Cifar::cifar10(
        &Settings::parse(settings, &cifar10_params())?,
        &context(0, dir),
    )
}

fn cifar100(dir: &Path, settings: &str) -> Result<Cifar, PluginError> {
    Cifar::cifar100(
        &Settings::parse(settings, &cifar100_params())?,
        &context(0, dir),
    )
}

/// A temp dir holding the small CIFAR-10 fixture in `cifar-10-batches-bin/`.
fn cifar10_dir() -> (TempDir, Cifar10Files) {
    let tmp = TempDir::new().unwrap();
    let f = cifar10_files();
    write_folder(&tmp.path().join(DIR10), &f.files);
    (tmp, f)
}

fn cifar100_dir() -> (TempDir, Cifar100Files) {
    let tmp = TempDir::new().unwrap();
    let f = cifar100_files();
    write_folder(&tmp.path().join(DIR100), &f.files);
    (tmp, f)
}

/// Asserts that `d` holds exactly `train` and `test`, taking label byte `field`.
fn assert_holds(d: &mut Cifar, train: &[Image], test: &[Image], field: usize) {
    for (split, images) in [(Split::Train, train), (Split::Test, test)] {
        let chunk = d.read(split, 0, images.len() as u64).unwrap();
        let (pixels, labels) = expected(images, field);
        assert_eq!(chunk.labels.as_slice(), labels.as_slice(), "{split:?}");
        assert!(
            chunk.pixels.as_slice() == pixels.as_slice(),
            "{split:?} pixels differ"
        );
    }
}

/// The log records of this test binary, as (level, message).
static LOGGED: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
        logged.push((record.level(), record.args().to_string()));
    }

    fn flush(&self) {}
}

/// The warnings logged so far that mention `dir`: tests run in parallel, each in its own
/// temporary folder, so this is what the test that owns `dir` caused.
fn warnings_about(dir: &Path) -> Vec<String> {
    init_capture();
    let dir = dir.display().to_string();
    let logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    logged
        .iter()
        .filter(|(level, m)| *level == log::Level::Warn && m.contains(&dir))
        .map(|(_, m)| m.clone())
        .collect()
}

/// Routes this binary's log records into [`LOGGED`]; call before loading anything.
fn init_capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn message(r: Result<Cifar, PluginError>) -> String {
    let e = r.unwrap_err();
    assert!(!e.panicked);
    e.message.to_string()
}

#[test]
fn cifar10_folder_loads_exactly() {
    let (tmp, f) = cifar10_dir();
    let mut d = cifar10(tmp.path(), "path = \"cifar-10-batches-bin\"").unwrap();
    let info = d.info().unwrap();
    let classes: Vec<&str> = info.classes.iter().map(|c| c.as_str()).collect();
    assert_eq!(classes, CIFAR10_CLASSES);
    assert_eq!((info.channels, info.height, info.width), (3, 32, 32));
    assert_eq!(info.image_bytes(), IMAGE_BYTES);
    assert_eq!(info.mean.as_slice(), [0.4914, 0.4822, 0.4465]);
    assert_eq!(info.std.as_slice(), [0.2023, 0.1994, 0.2010]);
    assert_eq!((info.train_len, info.test_len), (10, TEST_SIZE as u64));
    assert_holds(&mut d, &f.train, &f.test, 0);
    // Train keeps the batch order: image 3 is the second record of data_batch_2.bin.
    let third = d.read(Split::Train, 3, 1).unwrap();
    assert_eq!(third.pixels.as_slice(), pixels_of(4).as_slice());
    assert_eq!(third.labels.as_slice(), [2]);
}

#[test]
fn path_may_be_the_folder_its_parent_absolute_or_relative() {
    let (tmp, _) = cifar10_dir();
    let reference = cifar10(tmp.path(), "path = \"cifar-10-batches-bin\"").unwrap();
    let abs = tmp.path().join(DIR10);
    for settings in [
        "path = \".\"".to_string(),
        format!("path = {:?}", abs.to_str().unwrap()),
        format!("path = {:?}", tmp.path().to_str().unwrap()),
    ] {
        assert_eq!(
            cifar10(tmp.path(), &settings).unwrap(),
            reference,
            "{settings}"
        );
    }
    // Relative to the config's folder, not to the working directory.
    let other = TempDir::new().unwrap();
    let e = message(cifar10(other.path(), "path = \"cifar-10-batches-bin\""));
    assert!(
        e.starts_with(&other.path().join(DIR10).display().to_string()),
        "{e}"
    );
}

#[test]
fn chunked_reads_equal_one_read() {
    let (tmp, _) = cifar10_dir();
    let mut d = cifar10(tmp.path(), "path = \".\"").unwrap();
    for split in [Split::Train, Split::Test] {
        let len = d.info().unwrap().len(split);
        let whole = d.read(split, 0, len).unwrap();
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        let mut start = 0;
        for count in [3, 0, 1, 4].into_iter().cycle() {
            let count = count.min(len - start);
            let chunk = d.read(split, start, count).unwrap();
            assert_eq!(chunk.labels.len() as u64, count);
            assert_eq!(chunk.pixels.len() as u64, count * IMAGE_BYTES as u64);
            pixels.extend_from_slice(&chunk.pixels);
            labels.extend_from_slice(&chunk.labels);
            start += count;
            if start == len {
                break;
            }
        }
        assert!(pixels == whole.pixels.as_slice());
        assert_eq!(labels, whole.labels.as_slice());
    }
}

#[test]
fn both_datasets_meet_the_dataset_contract() {
    let (tmp, _) = cifar10_dir();
    let info = check_dataset(&mut cifar10(tmp.path(), "path = \".\"").unwrap()).unwrap();
    assert_eq!((info.train_len, info.test_len), (10, 3));
    let (tmp, _) = cifar100_dir();
    let info = check_dataset(&mut cifar100(tmp.path(), "path = \".\"").unwrap()).unwrap();
    assert_eq!(info.classes.len(), 100);
}

#[test]
fn cifar10_archive_equals_the_folder() {
    let (tmp, f) = cifar10_dir();
    let folder = cifar10(tmp.path(), "path = \".\"").unwrap();
    // Members out of order, with an unrelated one, as in the official archive.
    let mut files = f.files.clone();
    files.reverse();
    files.insert(2, ("readme.html".into(), b"<html></html>".to_vec()));
    write_tar_gz(&tmp.path().join("cifar-10-binary.tar.gz"), DIR10, &files);
    let mut d = cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"").unwrap();
    assert_eq!(d, folder);
    assert_holds(&mut d, &f.train, &f.test, 0);
    // The folder prefix inside the archive does not matter.
    write_tar_gz(&tmp.path().join("other.tar.gz"), "some/where", &files);
    assert_eq!(
        cifar10(tmp.path(), "path = \"other.tar.gz\"").unwrap(),
        folder
    );
}

#[test]
fn limits_keep_a_prefix() {
    let (tmp, f) = cifar10_dir();
    let mut d = cifar10(tmp.path(), "path = \".\"\ntrain_limit = 4\ntest_limit = 1").unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.train_len, info.test_len), (4, 1));
    assert_holds(&mut d, &f.train[..4], &f.test[..1], 0);
    // A limit equal to the split's size is all of it.
    let d = cifar10(tmp.path(), "path = \".\"\ntrain_limit = 10\ntest_limit = 3").unwrap();
    assert_eq!(d, cifar10(tmp.path(), "path = \".\"").unwrap());

    let cases = [
        (
            "train_limit = 11",
            "train_limit",
            "`train_limit` is 11, but the train split of CIFAR-10 holds only 10 images",
        ),
        (
            "test_limit = -1",
            "test_limit",
            "`test_limit` must be 0 (all images) or a positive number of images, got -1",
        ),
        (
            "train_limit = -5",
            "train_limit",
            "`train_limit` must be 0 (all images) or a positive number of images, got -5",
        ),
    ];
    for (extra, key, msg) in cases {
        let e = cifar10(tmp.path(), &format!("path = \".\"\n{extra}")).unwrap_err();
        assert_eq!((e.key.as_str(), e.message.as_str()), (key, msg), "{extra}");
    }
}

#[test]
fn cifar100_fine_and_coarse() {
    let (tmp, f) = cifar100_dir();
    let mut fine = cifar100(tmp.path(), "path = \".\"").unwrap();
    let info = fine.info().unwrap();
    assert_eq!(info.classes.len(), 100);
    assert_eq!(info.classes[37].as_str(), "fine37");
    assert_eq!((info.channels, info.height, info.width), (3, 32, 32));
    assert_eq!(info.mean.as_slice(), [0.5071, 0.4865, 0.4409]);
    assert_eq!(info.std.as_slice(), [0.2673, 0.2564, 0.2762]);
    assert_eq!((info.train_len, info.test_len), (4, TEST_SIZE as u64));
    assert_holds(&mut fine, &f.train, &f.test, 1);
    assert_eq!(
        cifar100(tmp.path(), "path = \".\"\nlabel = \"fine\"").unwrap(),
        fine
    );

    let mut coarse = cifar100(
        tmp.path(),
        "path = \"cifar-100-binary\"\nlabel = \"coarse\"",
    )
    .unwrap();
    let info = coarse.info().unwrap();
    assert_eq!(info.classes.len(), 20);
    assert_eq!(info.classes[19].as_str(), "coarse19");
    assert_holds(&mut coarse, &f.train, &f.test, 0);

    // And from the archive, with a limit.
    write_tar_gz(
        &tmp.path().join("cifar-100-binary.tar.gz"),
        DIR100,
        &f.files,
    );
    let mut d = cifar100(
        tmp.path(),
        "path = \"cifar-100-binary.tar.gz\"\nlabel = \"coarse\"\ntest_limit = 2",
    )
    .unwrap();
    assert_holds(&mut d, &f.train, &f.test[..2], 0);
}

#[test]
fn cifar100_label_must_be_fine_or_coarse() {
    let (tmp, _) = cifar100_dir();
    let e = cifar100(tmp.path(), "path = \".\"\nlabel = \"x\"").unwrap_err();
    assert_eq!(e.key.as_str(), "label");
    assert_eq!(
        e.message.as_str(),
        "`label` must be \"fine\" or \"coarse\", got \"x\""
    );
}

#[test]
fn missing_folder() {
    let tmp = TempDir::new().unwrap();
    let e = message(cifar10(tmp.path(), "path = \"nowhere\""));
    assert_eq!(
        e,
        format!(
            "{}: no such file or directory (expected the unpacked CIFAR-10 folder \
             `cifar-10-batches-bin`, a folder holding it, or the archive `cifar-10-binary.tar.gz`)",
            tmp.path().join("nowhere").display()
        )
    );
}

#[test]
fn missing_batch_file() {
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("data_batch_3.bin");
    fs::remove_file(&file).unwrap();
    let e = message(cifar10(tmp.path(), "path = \".\""));
    assert_eq!(
        e,
        format!(
            "{}: no such file or directory (CIFAR-10 needs data_batch_1.bin, data_batch_2.bin, \
             data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin, \
             batches.meta.txt in one folder)",
            file.display()
        )
    );
    // CIFAR-100 names the label file it needs.
    let (tmp, _) = cifar100_dir();
    let file = tmp.path().join(DIR100).join("coarse_label_names.txt");
    fs::remove_file(&file).unwrap();
    assert!(cifar100(tmp.path(), "path = \".\"").is_ok());
    let e = message(cifar100(tmp.path(), "path = \".\"\nlabel = \"coarse\""));
    assert!(
        e.starts_with(&format!("{}: no such file or directory", file.display())),
        "{e}"
    );
}

#[test]
fn batch_size_not_a_multiple_of_the_record() {
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("data_batch_4.bin");
    let mut bytes = fs::read(&file).unwrap();
    bytes.pop();
    fs::write(&file, &bytes).unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"")),
        format!(
            "{}: size 6145 is not a multiple of 3073 bytes (one CIFAR-10 record)",
            file.display()
        )
    );

    let (tmp, _) = cifar100_dir();
    let file = tmp.path().join(DIR100).join("test.bin");
    // Three CIFAR-10-sized records are not CIFAR-100 records.
    fs::write(&file, vec![0u8; 3 * 3073]).unwrap();
    assert_eq!(
        message(cifar100(tmp.path(), "path = \".\"")),
        format!(
            "{}: size 9219 is not a multiple of 3074 bytes (one CIFAR-100 record)",
            file.display()
        )
    );
}

#[test]
fn batch_size_not_a_multiple_of_the_record_in_an_archive() {
    let tmp = TempDir::new().unwrap();
    let mut f = cifar10_files();
    f.files[3].1.pop();
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(&archive, DIR10, &f.files);
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"")),
        format!(
            "{} (member {DIR10}/data_batch_4.bin): size 6145 is not a multiple of 3073 bytes \
             (one CIFAR-10 record)",
            archive.display()
        )
    );
}

/// The warning for `file` holding `records` records of `dataset` where the official `name`
/// holds `official`.
fn size_warning(file: &str, records: usize, dataset: &str, name: &str, official: usize) -> String {
    format!(
        "{file}: {records} {dataset} records, where the official {name} holds {official}; \
         loading them as they are (a smaller data set in the CIFAR format, or a copy cut short?)"
    )
}

#[test]
fn batches_of_another_size_than_the_official_load_with_a_warning_each() {
    init_capture();
    let (tmp, _) = cifar10_dir();
    let dir = tmp.path().join(DIR10);
    // data_batch_1.bin at exactly the official 10000 records (of zeros: label 0, black).
    let official = dir.join("data_batch_1.bin");
    fs::File::create(&official)
        .unwrap()
        .set_len(10_000 * 3073)
        .unwrap();
    let d = cifar10(tmp.path(), "path = \".\"").unwrap();
    assert_eq!(d.info().unwrap().train_len, 10_000 + 8);
    let sizes = [
        ("data_batch_2.bin", 3),
        ("data_batch_3.bin", 1),
        ("data_batch_4.bin", 2),
        ("data_batch_5.bin", 2),
        ("test_batch.bin", TEST_SIZE),
    ];
    let want: Vec<String> = sizes
        .iter()
        .map(|&(name, n)| {
            let file = dir.join(name).display().to_string();
            size_warning(&file, n, "CIFAR-10", name, 10_000)
        })
        .collect();
    assert_eq!(warnings_about(&dir), want);

    // In an archive, the warning names the archive and the member.
    let tmp = TempDir::new().unwrap();
    let f = cifar10_files();
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(&archive, DIR10, &f.files);
    cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"").unwrap();
    let warnings = warnings_about(tmp.path());
    assert_eq!(warnings.len(), 6, "{warnings:#?}");
    assert_eq!(
        warnings[0],
        size_warning(
            &format!("{} (member {DIR10}/data_batch_1.bin)", archive.display()),
            2,
            "CIFAR-10",
            "data_batch_1.bin",
            10_000
        )
    );

    // CIFAR-100's official train.bin holds 50000 records, its test.bin 10000.
    let (tmp, _) = cifar100_dir();
    let dir = tmp.path().join(DIR100);
    cifar100(tmp.path(), "path = \".\"").unwrap();
    assert_eq!(
        warnings_about(&dir),
        [
            size_warning(
                &dir.join("train.bin").display().to_string(),
                4,
                "CIFAR-100",
                "train.bin",
                50_000
            ),
            size_warning(
                &dir.join("test.bin").display().to_string(),
                TEST_SIZE,
                "CIFAR-100",
                "test.bin",
                10_000
            ),
        ]
    );
}

#[test]
fn a_batch_larger_than_the_official_one_is_refused_unread() {
    // Sparse files: their size on disk is all it takes to refuse them.
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("data_batch_3.bin");
    fs::File::create(&file)
        .unwrap()
        .set_len(10_001 * 3073)
        .unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"")),
        format!(
            "{}: 30733073 bytes, more than the 30730000 bytes of the official CIFAR-10 \
             data_batch_3.bin (10000 records of 3073 bytes)",
            file.display()
        )
    );
    let (tmp, _) = cifar100_dir();
    let file = tmp.path().join(DIR100).join("train.bin");
    fs::File::create(&file)
        .unwrap()
        .set_len(50_000 * 3074 + 1)
        .unwrap();
    assert_eq!(
        message(cifar100(tmp.path(), "path = \".\"")),
        format!(
            "{}: 153700001 bytes, more than the 153700000 bytes of the official CIFAR-100 \
             train.bin (50000 records of 3074 bytes)",
            file.display()
        )
    );
    // A names file is a few hundred bytes.
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("batches.meta.txt");
    fs::write(&file, "cat\n".repeat(20_000)).unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"")),
        format!(
            "{}: 80000 bytes, more than the 65536 bytes allowed for a class-names file \
             (the official ones are about 1 KB at most)",
            file.display()
        )
    );
}

#[test]
fn an_archive_member_larger_than_the_official_batch_is_refused_unread() {
    // A tar header declaring a 1 TiB data_batch_1.bin with nothing after it: refused from the
    // header alone, where reading it would first inflate whatever followed.
    let tmp = TempDir::new().unwrap();
    let f = cifar10_files();
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(1 << 40);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(
        &mut header,
        format!("{DIR10}/data_batch_1.bin"),
        &f.files[0].1[..],
    )
    .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"")),
        format!(
            "{} (member {DIR10}/data_batch_1.bin): 1099511627776 bytes, more than the 30730000 \
             bytes of the official CIFAR-10 data_batch_1.bin (10000 records of 3073 bytes)",
            archive.display()
        )
    );

    // A real oversized member: 10001 records of zeros (30 MB, about 30 KB compressed).
    let mut files = f.files.clone();
    files[5].1 = vec![0; 10_001 * 3073];
    write_tar_gz(&archive, DIR10, &files);
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"")),
        format!(
            "{} (member {DIR10}/test_batch.bin): 30733073 bytes, more than the 30730000 \
             bytes of the official CIFAR-10 test_batch.bin (10000 records of 3073 bytes)",
            archive.display()
        )
    );
}

#[test]
fn empty_batch_file() {
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("test_batch.bin");
    fs::write(&file, b"").unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"")),
        format!(
            "{}: the file is empty (expected CIFAR-10 records of 3073 bytes)",
            file.display()
        )
    );
}

#[test]
fn label_out_of_range() {
    let (tmp, f) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("data_batch_2.bin");
    let mut bytes = fs::read(&file).unwrap();
    bytes[3073] = 10;
    fs::write(&file, &bytes).unwrap();
    let msg = format!(
        "{}: record 1 (counting from 0) has label 10, outside the allowed range 0..=9",
        file.display()
    );
    assert_eq!(message(cifar10(tmp.path(), "path = \".\"")), msg);
    // Also past a train_limit: no record goes unchecked.
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"\ntrain_limit = 1")),
        msg
    );
    // In an archive, the message names the archive and the member.
    let mut files = f.files.clone();
    files[1].1 = bytes;
    let archive = tmp.path().join("c10.tar.gz");
    write_tar_gz(&archive, DIR10, &files);
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"c10.tar.gz\"")),
        format!(
            "{} (member {DIR10}/data_batch_2.bin): record 1 (counting from 0) has label 10, \
             outside the allowed range 0..=9",
            archive.display()
        )
    );

    let (tmp, _) = cifar100_dir();
    let file = tmp.path().join(DIR100).join("train.bin");
    let mut bytes = fs::read(&file).unwrap();
    bytes[2 * 3074 + 1] = 100;
    fs::write(&file, &bytes).unwrap();
    // The fine label is checked even when training on the coarse one.
    assert_eq!(
        message(cifar100(tmp.path(), "path = \".\"\nlabel = \"coarse\"")),
        format!(
            "{}: record 2 (counting from 0) has fine label 100, outside the allowed range 0..=99",
            file.display()
        )
    );
}

#[test]
fn meta_file_with_the_wrong_number_of_names() {
    let (tmp, _) = cifar10_dir();
    let file = tmp.path().join(DIR10).join("batches.meta.txt");
    fs::write(&file, CIFAR10_CLASSES[..9].join("\n")).unwrap();
    assert_eq!(
        message(cifar10(tmp.path(), "path = \".\"")),
        format!(
            "{}: holds 9 class names, expected 10 (one per line)",
            file.display()
        )
    );
    let (tmp, _) = cifar100_dir();
    let file = tmp.path().join(DIR100).join("fine_label_names.txt");
    fs::write(&file, "a\nb\n").unwrap();
    assert_eq!(
        message(cifar100(tmp.path(), "path = \".\"")),
        format!(
            "{}: holds 2 class names, expected 100 (one per line)",
            file.display()
        )
    );
}

#[test]
fn truncated_archive() {
    let tmp = TempDir::new().unwrap();
    let f = cifar10_files();
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(&archive, DIR10, &f.files);
    let bytes = fs::read(&archive).unwrap();
    // Cut mid-stream, just before the end (inside the trailer), and right after the header.
    for keep in [bytes.len() / 2, bytes.len() - 4, 20] {
        fs::write(&archive, &bytes[..keep]).unwrap();
        let e = message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\""));
        let prefix = format!(
            "{}: cannot read the .tar.gz archive (truncated or corrupt?): ",
            archive.display()
        );
        assert!(e.starts_with(&prefix), "cut at {keep}: {e}");
        eprintln!("cut at {keep}: {e}");
    }
    // Not gzip at all.
    fs::write(&archive, b"just some text").unwrap();
    let e = message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\""));
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the .tar.gz archive",
            archive.display()
        )),
        "{e}"
    );
}

#[test]
fn archive_without_a_needed_member() {
    let tmp = TempDir::new().unwrap();
    let mut f = cifar10_files();
    f.files.retain(|(name, _)| name != "data_batch_5.bin");
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(&archive, DIR10, &f.files);
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"")),
        format!(
            "{}: the archive has no member named data_batch_5.bin (in any folder)",
            archive.display()
        )
    );
}

#[test]
fn archive_with_a_member_twice() {
    let tmp = TempDir::new().unwrap();
    let f = cifar10_files();
    let mut files = f.files.clone();
    files.push(("copy/test_batch.bin".into(), f.files[5].1.clone()));
    let archive = tmp.path().join("cifar-10-binary.tar.gz");
    write_tar_gz(&archive, DIR10, &files);
    assert_eq!(
        message(cifar10(tmp.path(), "path = \"cifar-10-binary.tar.gz\"")),
        format!(
            "{}: the archive holds more than one member named test_batch.bin \
             (the second is {DIR10}/copy/test_batch.bin)",
            archive.display()
        )
    );
}

#[test]
fn empty_path_is_a_config_error() {
    let tmp = TempDir::new().unwrap();
    let e = cifar10(tmp.path(), "path = \"\"").unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.message.as_str()),
        ("path", "`path` must not be empty")
    );
}

/// Full-size CIFAR-10 of random bytes: the load must take well under a second in release.
/// Run with `cargo test --release -p fuzzaug-cifar -- --ignored --nocapture full_size`.
#[test]
#[ignore]
fn full_size_cifar10_loads_fast() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join(DIR10);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut files = Vec::new();
    for name in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()])
    {
        let mut bytes = vec![0u8; 10_000 * 3073];
        noise.fill(&mut bytes);
        for record in bytes.chunks_exact_mut(3073) {
            record[0] %= 10;
        }
        files.push((name, bytes));
    }
    files.push((
        "batches.meta.txt".into(),
        CIFAR10_CLASSES.join("\n").into_bytes(),
    ));
    write_folder(&dir, &files);

    let t = Instant::now();
    let mut d = cifar10(tmp.path(), "path = \"cifar-10-batches-bin\"").unwrap();
    let elapsed = t.elapsed();
    println!(
        "loaded 60000 CIFAR-10 records from the folder in {:.3} s",
        elapsed.as_secs_f64()
    );
    let info = d.info().unwrap();
    assert_eq!((info.train_len, info.test_len), (50_000, 10_000));
    let last = d.read(Split::Test, 9_999, 1).unwrap();
    assert_eq!(last.pixels.as_slice(), &files[5].1[9_999 * 3073 + 1..]);
    assert_eq!(u32::from(files[5].1[9_999 * 3073]), last.labels[0]);
}
