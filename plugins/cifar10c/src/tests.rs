//! Tests on real `.npy` files, folders and tar archives written into temporary folders.
use crate::{
    dataset::{to_chw, IMAGE_BYTES, MEAN, STD},
    npy::{LABEL_DTYPES, MAGIC},
    params, Cifar10c, CLASSES, CORRUPTIONS,
};
use fuzzaug_sdk::{testing, Dataset, PluginError, Settings, Split};
use std::{
    fs,
    path::{Path, PathBuf},
};
use tempfile::TempDir;

/// A `.npy` file's bytes with header `dict` (padded with spaces and a newline to a multiple of
/// 64 bytes, as numpy does) in format `version` (1, 2 or 3), then `data`.
pub(crate) fn npy_file(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut text = dict.to_string();
    while !(prefix + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((text.len() as u16).to_le_bytes());
    } else {
        out.extend((text.len() as u32).to_le_bytes());
    }
    out.extend(text.as_bytes());
    out.extend(data);
    out
}

/// The header dict numpy writes for an array of `descr` and `shape`.
fn dict(descr: &str, fortran: bool, shape: &[u64]) -> String {
    let fortran = if fortran { "True" } else { "False" };
    format!(
        "{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {}, }}",
        crate::npy::shape_text(shape)
    )
}

/// Pixel (y, x, c) of image `i` of a test corruption file: distinct across images, rows,
/// columns and channels.
fn pixel(i: usize, y: usize, x: usize, c: usize) -> u8 {
    ((i * 31 + y * 7 + x * 3 + c * 101) % 256) as u8
}

/// `n` images channels last, as a corruption file stores them.
fn hwc(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * IMAGE_BYTES);
    for i in 0..n {
        for y in 0..32 {
            for x in 0..32 {
                for c in 0..3 {
                    out.push(pixel(i, y, x, c));
                }
            }
        }
    }
    out
}

/// Image `i` as the host wants it, C×H×W, written out by hand.
fn chw_image(i: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(IMAGE_BYTES);
    for c in 0..3 {
        for y in 0..32 {
            for x in 0..32 {
                out.push(pixel(i, y, x, c));
            }
        }
    }
    out
}

/// The label of image `i` of a test file.
fn label(i: usize) -> i64 {
    (i as i64 * 3 + 1) % 10
}

fn images_npy(n: usize) -> Vec<u8> {
    npy_file(1, &dict("|u1", false, &[n as u64, 32, 32, 3]), &hwc(n))
}

/// A labels file of `descr` holding `labels`.
fn labels_npy(descr: &str, labels: &[i64]) -> Vec<u8> {
    let bytes = usize::from(descr.as_bytes()[2] - b'0');
    let data: Vec<u8> = labels
        .iter()
        .flat_map(|l| l.to_le_bytes()[..bytes].to_vec())
        .collect();
    npy_file(1, &dict(descr, false, &[labels.len() as u64]), &data)
}

fn labels_of(n: usize) -> Vec<i64> {
    (0..n).map(label).collect()
}

/// A folder with `fog.npy` of `n` images and a uint8 `labels.npy`.
fn folder(n: usize) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fog.npy"), images_npy(n)).unwrap();
    fs::write(
        dir.path().join("labels.npy"),
        labels_npy("|u1", &labels_of(n)),
    )
    .unwrap();
    dir
}

/// The dataset on `path` with `extra` settings lines (corruption `fog`, severity 2 unless
/// `extra` sets them).
fn load_with(path: &Path, extra: &str) -> Result<Cifar10c, PluginError> {
    let mut text = format!("path = {:?}\n{extra}\n", path.display().to_string());
    if !extra.contains("corruption") {
        text.push_str("corruption = \"fog\"\n");
    }
    if !extra.contains("severity") {
        text.push_str("severity = 2\n");
    }
    let settings = Settings::parse(&text, &params())?;
    Cifar10c::new(&settings, &testing::context(0, "/configs"))
}

fn load(path: &Path) -> Result<Cifar10c, PluginError> {
    load_with(path, "")
}

fn error(path: &Path, extra: &str) -> PluginError {
    match load_with(path, extra) {
        Ok(_) => panic!("{}: loaded with {extra:?}", path.display()),
        Err(e) => e,
    }
}

fn message(path: &Path) -> String {
    error(path, "").message.to_string()
}

fn show(p: PathBuf) -> String {
    p.display().to_string()
}

#[test]
fn each_severity_is_its_fifth_of_the_file_in_chw() {
    let dir = folder(20);
    for severity in 1..=5usize {
        let mut d = load_with(dir.path(), &format!("severity = {severity}")).unwrap();
        let info = testing::check_dataset(&mut d).unwrap();
        assert_eq!((info.train_len, info.test_len), (0, 4));
        assert_eq!((info.channels, info.height, info.width), (3, 32, 32));
        let classes: Vec<&str> = info.classes.iter().map(|c| c.as_str()).collect();
        assert_eq!(classes, CLASSES);
        assert_eq!(info.mean.as_slice(), MEAN);
        assert_eq!(info.std.as_slice(), STD);
        assert!(info.mirror_preserves_labels);
        let chunk = d.read(Split::Test, 0, 4).unwrap();
        let first = (severity - 1) * 4;
        let want: Vec<u8> = (first..first + 4).flat_map(chw_image).collect();
        assert_eq!(chunk.pixels.as_slice(), want, "severity {severity}");
        let labels: Vec<u32> = (first..first + 4).map(|i| label(i) as u32).collect();
        assert_eq!(chunk.labels.as_slice(), labels);
        assert!(d.read(Split::Train, 0, 0).unwrap().pixels.is_empty());
        assert!(d.read(Split::Train, 0, 1).is_err());
    }
}

#[test]
fn chw_conversion_moves_each_channel_to_its_plane() {
    assert_eq!(
        to_chw(&hwc(3)),
        [chw_image(0), chw_image(1), chw_image(2)].concat()
    );
    // One pixel by hand: (y 1, x 2, c 1) of image 0 sits at 1·1024 + 1·32 + 2.
    let chw = to_chw(&hwc(1));
    assert_eq!(chw[1024 + 32 + 2], pixel(0, 1, 2, 1));
    assert_eq!(hwc(1)[(32 + 2) * 3 + 1], pixel(0, 1, 2, 1));
    assert!(to_chw(&[]).is_empty());
}

#[test]
fn every_integer_dtype_numpy_writes_reads_as_labels() {
    let dir = folder(10);
    for descr in LABEL_DTYPES {
        fs::write(
            dir.path().join("labels.npy"),
            labels_npy(descr, &labels_of(10)),
        )
        .unwrap();
        let mut d = load(dir.path()).unwrap();
        let chunk = d.read(Split::Test, 0, 2).unwrap();
        assert_eq!(
            chunk.labels.as_slice(),
            [label(2) as u32, label(3) as u32],
            "{descr}"
        );
    }
}

#[test]
fn headers_of_versions_2_and_3_read_alike() {
    let dir = folder(10);
    let want = load(dir.path()).unwrap();
    for version in [2, 3] {
        fs::write(
            dir.path().join("fog.npy"),
            npy_file(version, &dict("|u1", false, &[10, 32, 32, 3]), &hwc(10)),
        )
        .unwrap();
        let labels = labels_of(10).iter().map(|&l| l as u8).collect::<Vec<_>>();
        fs::write(
            dir.path().join("labels.npy"),
            npy_file(version, &dict("|u1", false, &[10]), &labels),
        )
        .unwrap();
        assert_eq!(load(dir.path()).unwrap(), want, "version {version}");
    }
}

#[test]
fn test_limit_keeps_the_first_images_of_the_severity() {
    let dir = folder(20);
    let mut d = load_with(dir.path(), "test_limit = 3\nseverity = 4").unwrap();
    assert_eq!(d.info().unwrap().test_len, 3);
    let chunk = d.read(Split::Test, 0, 3).unwrap();
    assert_eq!(
        chunk.pixels.as_slice(),
        (12..15).flat_map(chw_image).collect::<Vec<_>>()
    );
    let all = load_with(dir.path(), "test_limit = 4").unwrap();
    assert_eq!(all.info().unwrap().test_len, 4);
    let e = error(dir.path(), "test_limit = 5");
    assert_eq!(e.key, "test_limit");
    assert_eq!(
        e.message,
        format!(
            "`test_limit` is 5, but {} at severity 2 holds only 4 images",
            show(dir.path().join("fog.npy"))
        )
    );
    let e = error(dir.path(), "test_limit = -1");
    assert_eq!(
        (e.key.as_str(), e.message.as_str()),
        (
            "test_limit",
            "`test_limit` must be 0 (all images) or a positive number of images, got -1"
        )
    );
    // Only the test limit exists: there are no training images to limit.
    let e = Settings::parse(
        "path = \"x\"\ncorruption = \"fog\"\nseverity = 1\ntrain_limit = 1",
        &params(),
    )
    .unwrap_err();
    assert_eq!(e.key, "train_limit");
    assert!(
        e.message.starts_with("unknown key `train_limit`"),
        "{}",
        e.message
    );
}

#[test]
fn settings_are_checked() {
    let dir = folder(5);
    let list = CORRUPTIONS.join(", ");
    assert_eq!(CORRUPTIONS.len(), 19);
    let e = error(dir.path(), "corruption = \"gausian_noise\"");
    assert_eq!(e.key, "corruption");
    assert_eq!(
        e.message,
        format!(
            "unknown corruption \"gausian_noise\"; did you mean `gaussian_noise`? CIFAR-10-C has \
             these 19: {list}"
        )
    );
    let e = error(dir.path(), "corruption = \"rain\"");
    assert_eq!(
        e.message,
        format!("unknown corruption \"rain\"; CIFAR-10-C has these 19: {list}")
    );
    for severity in [0, 6, -1] {
        let e = error(dir.path(), &format!("severity = {severity}"));
        assert_eq!(
            (e.key.as_str(), e.message.to_string()),
            (
                "severity",
                format!("`severity` must be between 1 and 5, got {severity}")
            )
        );
    }
    let e = Settings::parse("path = \"x\"\nseverity = 1", &params()).unwrap_err();
    assert_eq!(
        e.message,
        format!("missing required key `corruption` (one of the 19 corruptions: {list})")
    );
    let e = Settings::parse("path = \"x\"\ncorruption = \"fog\"", &params()).unwrap_err();
    assert_eq!(
        e.message,
        "missing required key `severity` (the corruption's severity, 1 (mildest) to 5)"
    );
    let e = error(Path::new(""), "");
    assert_eq!(
        (e.key.as_str(), e.message.as_str()),
        ("path", "`path` must not be empty")
    );
    // A relative path is the config's folder's.
    let e = error(Path::new("data"), "");
    assert!(
        e.message.starts_with("/configs/data: no such file"),
        "{}",
        e.message
    );
}

#[test]
fn every_corruption_name_is_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("labels.npy"),
        labels_npy("|u1", &labels_of(5)),
    )
    .unwrap();
    for c in CORRUPTIONS {
        fs::write(dir.path().join(format!("{c}.npy")), images_npy(5)).unwrap();
        let d = load_with(dir.path(), &format!("corruption = \"{c}\"")).unwrap();
        assert_eq!(d.info().unwrap().test_len, 1, "{c}");
        fs::remove_file(dir.path().join(format!("{c}.npy"))).unwrap();
    }
}

/// Writes `bytes` as `name` in a fresh copy of the 20-image folder; returns the folder and the
/// file's path as messages show it.
fn with_file(name: &str, bytes: Vec<u8>) -> (TempDir, String) {
    let dir = folder(20);
    fs::write(dir.path().join(name), bytes).unwrap();
    let file = show(dir.path().join(name));
    (dir, file)
}

#[test]
fn each_fault_of_the_images_file_is_named() {
    let data = hwc(20);
    let cases: Vec<(Vec<u8>, String)> =
        vec![
        (
            npy_file(1, &dict("<f4", false, &[20, 32, 32, 3]), &data),
            "the images are of dtype '<f4', not '|u1' (uint8) as CIFAR-10-C's are".into(),
        ),
        (
            npy_file(1, &dict("<u1", false, &[20, 32, 32, 3]), &data),
            "the images are of dtype '<u1', not '|u1' (uint8) as CIFAR-10-C's are".into(),
        ),
        (
            npy_file(1, &dict("|u1", true, &[20, 32, 32, 3]), &data),
            "the array is stored in Fortran order (fortran_order: True); this plugin reads \
             C-order arrays, as np.save writes a C-contiguous array"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[20, 3, 32, 32]), &data),
            "shape (20, 3, 32, 32) is not (N, 32, 32, 3): CIFAR-10-C's images are 32×32 RGB, \
             channels last"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[20, 32, 32]), &data),
            "shape (20, 32, 32) is not (N, 32, 32, 3): CIFAR-10-C's images are 32×32 RGB, \
             channels last"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[0, 32, 32, 3]), &[]),
            "holds no images (shape (0, 32, 32, 3))".into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[21, 32, 32, 3]), &hwc(21)),
            "21 images are not 5 severities of equal size (the count must be a multiple of 5; \
             the official files hold 50000, 10000 per severity)"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[20, 32, 32, 3]), &data[..data.len() - 1]),
            "truncated: shape (20, 32, 32, 3) of '|u1' needs 61440 data bytes after the \
             128-byte header, found 61439 (61567 bytes in all)"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[20, 32, 32, 3]), &[&data[..], &[0]].concat()),
            "trailing bytes: shape (20, 32, 32, 3) of '|u1' needs 61440 data bytes after the \
             128-byte header, found 61441 (61569 bytes in all)"
                .into(),
        ),
        (
            // 2⁶⁴ − 1 images is a multiple of 5; their bytes overflow a u64.
            npy_file(1, &dict("|u1", false, &[u64::MAX, 32, 32, 3]), &data),
            "truncated: shape (18446744073709551615, 32, 32, 3) of '|u1' declares more data \
             bytes than any file holds, found 61440 after the 128-byte header"
                .into(),
        ),
        (
            b"PK\x03\x04".to_vec(),
            "not a .npy file: it does not start with the magic string \\x93NUMPY".into(),
        ),
        (
            [&MAGIC[..], &[4, 0]].concat(),
            ".npy format version 4.0 is not supported (this plugin reads versions 1.0, 2.0 and \
             3.0)"
                .into(),
        ),
    ];
    for (bytes, why) in cases {
        let (dir, file) = with_file("fog.npy", bytes);
        let e = error(dir.path(), "");
        assert_eq!(e.message, format!("{file}: {why}"));
        assert!(e.key.is_empty());
    }
}

#[test]
fn each_fault_of_the_labels_file_is_named() {
    let images = show(PathBuf::from("IMAGES"));
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            labels_npy(">i8", &labels_of(20)),
            "the labels are of dtype '>i8'; labels must be little-endian integers, one of '|u1', \
             '|i1', '<u2', '<i2', '<u4', '<i4', '<u8', '<i8' (the official labels.npy is '|u1')"
                .into(),
        ),
        (
            npy_file(1, &dict("<f8", false, &[20]), &[0; 160]),
            "the labels are of dtype '<f8'; labels must be little-endian integers, one of '|u1', \
             '|i1', '<u2', '<i2', '<u4', '<i4', '<u8', '<i8' (the official labels.npy is '|u1')"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", true, &[20]), &[0; 20]),
            "the array is stored in Fortran order (fortran_order: True); this plugin reads \
             C-order arrays, as np.save writes a C-contiguous array"
                .into(),
        ),
        (
            npy_file(1, &dict("|u1", false, &[20, 1]), &[0; 20]),
            "shape (20, 1) is not (N,): labels are one integer per image".into(),
        ),
        (
            labels_npy("|u1", &labels_of(19)),
            "19 labels, but IMAGES holds 20 images (one label per image, severity 1 first)".into(),
        ),
        (
            labels_npy("<i8", &labels_of(25)),
            "25 labels, but IMAGES holds 20 images (one label per image, severity 1 first)".into(),
        ),
        (
            npy_file(1, &dict("<i8", false, &[20]), &[0; 159]),
            "truncated: shape (20,) of '<i8' needs 160 data bytes after the 128-byte header, \
             found 159 (287 bytes in all)"
                .into(),
        ),
        (
            labels_npy(
                "|u1",
                &labels_of(20)
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| if i == 17 { 10 } else { l })
                    .collect::<Vec<_>>(),
            ),
            "label 10 at index 17 is out of range (CIFAR-10 has 10 classes, labels 0 to 9)".into(),
        ),
        (
            labels_npy(
                "<i8",
                &labels_of(20)
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| if i == 0 { -1 } else { l })
                    .collect::<Vec<_>>(),
            ),
            "label -1 at index 0 is out of range (CIFAR-10 has 10 classes, labels 0 to 9)".into(),
        ),
        (
            labels_npy("<u8", &[u64::MAX as i64; 20]),
            format!(
                "label {} at index 0 is out of range (CIFAR-10 has 10 classes, labels 0 to 9)",
                i64::MAX
            ),
        ),
    ];
    for (bytes, why) in cases {
        let (dir, file) = with_file("labels.npy", bytes);
        let images_file = show(dir.path().join("fog.npy"));
        let e = error(dir.path(), "");
        assert_eq!(
            e.message,
            format!("{file}: {}", why.replace(&images, &images_file))
        );
    }
}

#[test]
fn missing_files_and_paths_are_named() {
    let dir = folder(5);
    let e = message(&dir.path().join("nope"));
    assert_eq!(
        e,
        format!(
            "{}: no such file or directory (expected a folder holding labels.npy and the \
             corruption files, a folder holding `CIFAR-10-C/` or `CIFAR-10-C.tar`, or the \
             archive itself)",
            show(dir.path().join("nope"))
        )
    );
    let e = error(dir.path(), "corruption = \"snow\"").message;
    assert_eq!(
        e,
        format!(
            "{}: no such file or directory (CIFAR-10-C needs snow.npy and labels.npy in one \
             folder)",
            show(dir.path().join("snow.npy"))
        )
    );
    fs::remove_file(dir.path().join("labels.npy")).unwrap();
    assert_eq!(
        message(dir.path()),
        format!(
            "{}: no such file or directory (CIFAR-10-C needs fog.npy and labels.npy in one \
             folder)",
            show(dir.path().join("labels.npy"))
        )
    );
    let dir = folder(5);
    fs::remove_file(dir.path().join("fog.npy")).unwrap();
    fs::create_dir(dir.path().join("fog.npy")).unwrap();
    assert_eq!(
        message(dir.path()),
        format!("{}: not a regular file", show(dir.path().join("fog.npy")))
    );
}

/// An uncompressed tar of `members` (path in the archive, bytes).
fn tar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append_data(&mut h, name, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

/// The official layout: a `CIFAR-10-C/` folder with a readme, two corruptions and the labels.
fn official_tar(n: usize) -> Vec<u8> {
    tar(&[
        ("CIFAR-10-C/README.txt", b"CIFAR-10-C".to_vec()),
        ("CIFAR-10-C/snow.npy", images_npy(5)),
        ("CIFAR-10-C/fog.npy", images_npy(n)),
        ("CIFAR-10-C/labels.npy", labels_npy("|u1", &labels_of(n))),
    ])
}

#[test]
fn the_archive_reads_in_place_as_the_folder_does() {
    let want = load(folder(20).path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("CIFAR-10-C.tar");
    fs::write(&archive, official_tar(20)).unwrap();
    // The archive itself, and the folder `fuzzaug fetch` leaves it in.
    let mut d = load(&archive).unwrap();
    assert_eq!(d, want);
    testing::check_dataset(&mut d).unwrap();
    assert_eq!(load(dir.path()).unwrap(), want);
    // The unpacked folder's parent.
    let parent = tempfile::tempdir().unwrap();
    let nested = parent.path().join("CIFAR-10-C");
    fs::create_dir(&nested).unwrap();
    fs::write(nested.join("fog.npy"), images_npy(20)).unwrap();
    fs::write(nested.join("labels.npy"), labels_npy("|u1", &labels_of(20))).unwrap();
    assert_eq!(load(parent.path()).unwrap(), want);
    assert_eq!(load(&nested).unwrap(), want);
}

#[test]
fn faults_of_the_archive_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("CIFAR-10-C.tar");
    let shown = show(archive.clone());
    let member = |m: &str| format!("{shown} (member CIFAR-10-C/{m})");

    fs::write(&archive, official_tar(20)).unwrap();
    assert_eq!(
        error(&archive, "corruption = \"frost\"").message,
        format!("{shown}: the archive has no member named frost.npy (in any folder)")
    );

    // Cut inside the fog member's pixels: its header declares more than the archive holds.
    let whole = tar(&[
        ("CIFAR-10-C/labels.npy", labels_npy("|u1", &labels_of(20))),
        ("CIFAR-10-C/fog.npy", images_npy(20)),
    ]);
    let fog_start = whole
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w == MAGIC)
        .map(|(i, _)| i)
        .nth(1)
        .unwrap();
    fs::write(&archive, &whole[..fog_start + 1000]).unwrap();
    assert_eq!(
        message(&archive),
        format!(
            "{}: truncated: shape (20, 32, 32, 3) of '|u1' needs 61440 data bytes after the \
             128-byte header, found 872 (1000 bytes in all)",
            member("fog.npy")
        )
    );

    // A member with a bad label is named as a member.
    let mut labels = labels_of(20);
    labels[3] = 12;
    fs::write(
        &archive,
        tar(&[
            ("CIFAR-10-C/fog.npy", images_npy(20)),
            ("CIFAR-10-C/labels.npy", labels_npy("|u1", &labels)),
        ]),
    )
    .unwrap();
    assert_eq!(
        message(&archive),
        format!(
            "{}: label 12 at index 3 is out of range (CIFAR-10 has 10 classes, labels 0 to 9)",
            member("labels.npy")
        )
    );

    fs::write(
        &archive,
        tar(&[
            ("CIFAR-10-C/fog.npy", images_npy(5)),
            ("copy/fog.npy", images_npy(5)),
        ]),
    )
    .unwrap();
    assert_eq!(
        message(&archive),
        format!(
            "{shown}: the archive holds more than one member named fog.npy (CIFAR-10-C/fog.npy \
             and copy/fog.npy)"
        )
    );

    // A single .npy file, a gzipped archive and other files are not the archive.
    let single = dir.path().join("fog.npy");
    fs::write(&single, images_npy(5)).unwrap();
    assert_eq!(
        message(&single),
        format!(
            "{}: this is one .npy file; set `path` to the folder holding it, labels.npy and the \
             other corruption files",
            show(single)
        )
    );
    let gz = dir.path().join("CIFAR-10-C.tar.gz");
    fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(
        message(&gz),
        format!(
            "{}: this is gzip-compressed; CIFAR-10-C.tar is an uncompressed tar (unpack it, or \
             gunzip it first)",
            show(gz)
        )
    );
    let text = dir.path().join("notes.txt");
    fs::write(&text, vec![b'x'; 600]).unwrap();
    let e = message(&text);
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the .tar archive (truncated, corrupt, or not an uncompressed tar?): ",
            show(text)
        )),
        "{e}"
    );
}
