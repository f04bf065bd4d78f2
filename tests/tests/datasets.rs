//! Each dataset plugin, built as a `.so` and loaded by the host, on small files written here in
//! the real on-disk format: pixel values, labels, class names and shapes arrive exactly; and
//! files that are too large, or inflate too far, are refused without taking the memory.
use fuzzaug::{data::DeviceData, setup::Components};
use fuzzaug_tests::{cifar_record, fake_cifar10, fuzzaug, ppm, Scratch};
use std::{
    io::Write,
    path::{Path, PathBuf},
};
use tch::{Device, Tensor};

/// The components a run of the dataset `dataset_toml` builds.
fn components(dir: &Scratch, dataset_toml: &str) -> Components {
    let cfg = dir.write(
        "c.toml",
        &format!("name = \"d\"\n[dataset]\n{dataset_toml}\n"),
    );
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    exp.components().unwrap()
}

fn load(dir: &Scratch, dataset_toml: &str) -> (DeviceData, Vec<String>) {
    let mut parts = components(dir, dataset_toml);
    let info = parts.dataset_info.clone();
    let (mean, std) = parts.normalization.clone();
    let data = DeviceData::load(&mut parts.dataset, &info, &mean, &std, Device::Cpu).unwrap();
    (data, info.classes.iter().map(|c| c.to_string()).collect())
}

/// The error of building the dataset `dataset_toml`, with its causes.
fn load_error(dir: &Scratch, dataset_toml: &str) -> String {
    let cfg = dir.write(
        "c.toml",
        &format!("name = \"d\"\n[dataset]\n{dataset_toml}\n"),
    );
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    match exp.components() {
        Ok(_) => panic!("{dataset_toml}: loaded"),
        Err(e) => format!("{e:#}"),
    }
}

fn bytes(t: &Tensor) -> Vec<u8> {
    let t = t.contiguous();
    let mut v = vec![0u8; t.numel()];
    let n = v.len();
    t.copy_data_u8(&mut v, n);
    v
}

fn labels(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t).unwrap()
}

#[test]
fn cifar10_folder_through_the_plugin() {
    let dir = Scratch::new();
    fake_cifar10(dir.path());
    let record = cifar_record;
    let (data, classes) = load(
        &dir,
        &format!("name = \"cifar10\"\npath = \"{}\"", dir.path().display()),
    );
    assert_eq!(classes[1], "car");
    assert_eq!(data.train.pixels.size(), vec![10, 3, 32, 32]);
    assert_eq!(
        labels(&data.train.labels),
        vec![1, 8, 2, 7, 3, 6, 4, 5, 5, 4]
    );
    let px = bytes(&data.train.pixels);
    assert_eq!(&px[..3072], &record(1, 10)[1..]);
    assert_eq!(&px[3072..6144], &record(8, 20)[1..]);
    assert_eq!(bytes(&data.test.pixels), record(7, 99)[1..].to_vec());
}

fn idx(path: &Path, magic: u32, dims: &[u32], data: &[u8]) {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&out).unwrap();
    gz.finish().unwrap();
}

#[test]
fn fashion_mnist_gz_through_the_plugin() {
    let dir = Scratch::new();
    let img = |n: u32, seed: u8| -> Vec<u8> {
        (0..n * 784)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
            .collect()
    };
    let p = dir.path();
    idx(
        &p.join("train-images-idx3-ubyte.gz"),
        0x803,
        &[3, 28, 28],
        &img(3, 1),
    );
    idx(
        &p.join("train-labels-idx1-ubyte.gz"),
        0x801,
        &[3],
        &[9, 0, 4],
    );
    idx(
        &p.join("t10k-images-idx3-ubyte.gz"),
        0x803,
        &[2, 28, 28],
        &img(2, 2),
    );
    idx(&p.join("t10k-labels-idx1-ubyte.gz"), 0x801, &[2], &[1, 1]);
    let (data, classes) = load(
        &dir,
        &format!("name = \"fashion-mnist\"\npath = \"{}\"", p.display()),
    );
    assert_eq!(classes[9], "Ankle boot");
    assert_eq!(data.train.pixels.size(), vec![3, 1, 28, 28]);
    assert_eq!(bytes(&data.train.pixels), img(3, 1));
    assert_eq!(labels(&data.train.labels), vec![9, 0, 4]);
    assert_eq!(bytes(&data.test.pixels), img(2, 2));
    // channels = 3 repeats the grey plane for models built for RGB.
    let (rgb, _) = load(
        &dir,
        &format!(
            "name = \"fashion-mnist\"\npath = \"{}\"\nchannels = 3",
            p.display()
        ),
    );
    assert_eq!(rgb.train.pixels.size(), vec![3, 3, 28, 28]);
    let first = bytes(&rgb.train.pixels.get(0));
    assert_eq!(&first[..784], &first[784..1568]);
}

#[test]
fn image_folder_through_the_plugin() {
    let dir = Scratch::new();
    let pattern = |seed: u8| -> Vec<u8> {
        (0..192u8)
            .map(|i| i.wrapping_mul(5).wrapping_add(seed))
            .collect()
    };
    let root = signs(&dir, [&pattern(1), &pattern(2), &pattern(3)]);
    std::fs::write(root.join("train/stop/notes.txt"), "ignored").unwrap();
    let (data, classes) = load(
        &dir,
        &format!(
            "name = \"imagefolder\"\npath = \"{}\"\nsize = 8",
            root.display()
        ),
    );
    assert_eq!(classes, vec!["stop", "yield"]);
    assert_eq!(data.train.pixels.size(), vec![2, 3, 8, 8]);
    assert_eq!(labels(&data.train.labels), vec![0, 1]);
    // Interleaved RGB in the file, channel planes on the device.
    let planes = |rgb: &[u8]| -> Vec<u8> {
        (0..3)
            .flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(bytes(&data.train.pixels.get(1)), planes(&pattern(2)));
    assert_eq!(bytes(&data.test.pixels), planes(&pattern(3)));
    assert_eq!(labels(&data.test.labels), vec![1]);
}

/// `signs/` in `dir`: the 8×8 PPM images train/stop/a.ppm, train/yield/b.ppm and
/// test/yield/c.ppm with the interleaved RGB `pixels`, in that order.
fn signs(dir: &Scratch, pixels: [&[u8]; 3]) -> PathBuf {
    let root = dir.path().join("signs");
    for (file, rgb) in ["train/stop/a.ppm", "train/yield/b.ppm", "test/yield/c.ppm"]
        .into_iter()
        .zip(pixels)
    {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        ppm(&path, 8, 8, rgb);
    }
    root
}

/// The normalisation (mean, std) a run of the dataset `dataset_toml` would use.
fn normalisation(dir: &Scratch, dataset_toml: &str) -> (Vec<f32>, Vec<f32>) {
    components(dir, dataset_toml).normalization
}

/// `imagefolder` measures its mean and std on the training images, and a config's
/// `[dataset] mean` and `std`, the host's override for every dataset, replace them.
#[test]
fn image_folder_normalisation_is_measured_unless_the_config_sets_it() {
    let dir = Scratch::new();
    // R is 255 in one training image and 0 in the other; G and B are the same in both.
    let root = signs(
        &dir,
        [&[255, 0, 51].repeat(64), &[0, 0, 51].repeat(64), &[9; 192]],
    );
    let dataset = format!(
        "name = \"imagefolder\"\npath = \"{}\"\nsize = 8",
        root.display()
    );
    let floor = fuzzaug_sdk::dataset::MIN_STD as f32;
    assert_eq!(
        normalisation(&dir, &dataset),
        (vec![0.5, 0.0, 0.2], vec![0.5, floor, floor])
    );
    let set = format!("{dataset}\nmean = [0.25, 0.5, 0.75]\nstd = [0.1, 0.2, 0.3]");
    assert_eq!(
        normalisation(&dir, &set),
        (vec![0.25, 0.5, 0.75], vec![0.1, 0.2, 0.3])
    );
    // Only one of them: the other stays the dataset's.
    assert_eq!(
        normalisation(&dir, &format!("{dataset}\nstd = [0.1, 0.2, 0.3]")),
        (vec![0.5, 0.0, 0.2], vec![0.1, 0.2, 0.3])
    );
    // `fuzzaug check` shows the values a run would use.
    let cfg = dir.write("check.toml", &format!("name = \"d\"\n[dataset]\n{set}\n"));
    let out = fuzzaug(&["check", cfg.to_str().unwrap()]);
    assert!(
        out.ok()
            .contains("normalise mean [0.25, 0.5, 0.75], std [0.1, 0.2, 0.3] (0..1 scale)"),
        "{}",
        out.stdout
    );
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .unwrap();
    kb.trim().parse::<u64>().unwrap() * 1024
}

/// A gzip of `bytes` at the best level (zeros shrink about 1000-fold).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A 1 MB `.gz` declaring 10 MNIST images of 28×28 and inflating to 1 GiB: the header and
/// 8 MiB of zeros, then 127 more gzip members of 8 MiB of zeros each.
#[test]
fn an_mnist_gzip_bomb_is_refused_at_its_declared_size_in_bounded_memory() {
    let dir = Scratch::new();
    let p = dir.path();
    let img = |n: u32| vec![7u8; n as usize * 784];
    idx(
        &p.join("train-labels-idx1-ubyte.gz"),
        0x801,
        &[10],
        &[3; 10],
    );
    idx(
        &p.join("t10k-images-idx3-ubyte.gz"),
        0x803,
        &[2, 28, 28],
        &img(2),
    );
    idx(&p.join("t10k-labels-idx1-ubyte.gz"), 0x801, &[2], &[1, 1]);
    let images = p.join("train-images-idx3-ubyte.gz");
    idx(&images, 0x803, &[10, 28, 28], &img(10));
    let toml = format!("name = \"mnist\"\npath = \"{}\"", p.display());
    // Once with good files first, so that the libraries and the plugin are in memory before
    // the peak is taken.
    let (data, _) = load(&dir, &toml);
    assert_eq!(data.train.pixels.size(), vec![10, 1, 28, 28]);

    let zeros = vec![0u8; 8 << 20];
    let mut first: Vec<u8> = [0x803u32, 10, 28, 28]
        .into_iter()
        .flat_map(u32::to_be_bytes)
        .collect();
    first.extend_from_slice(&zeros);
    let mut bomb = gzip(&first);
    let member = gzip(&zeros);
    for _ in 0..127 {
        bomb.extend_from_slice(&member);
    }
    assert!(bomb.len() < 2 << 20, "{} bytes compressed", bomb.len());
    std::fs::write(&images, &bomb).unwrap();

    let before = peak_rss();
    let err = load_error(&dir, &toml);
    let grew = peak_rss() - before;
    // Inflating it all would take at least 1 GiB.
    assert!(grew < 256 << 20, "peak memory grew by {grew} bytes: {err}");
    assert!(
        err.contains(&format!(
            "{}: trailing bytes: the header declares 10×28×28 images, a 7856-byte file \
             (16-byte header and 7840 data bytes), but the decompressed data goes on past that \
             (not read any further)",
            images.display()
        )),
        "{err}"
    );
}

/// CIFAR-10 batches of fewer records than the official 10,000 (the tests' and benchmarks' own
/// small data sets) load, and the host's log says so for each file.
#[test]
fn small_cifar10_batches_load_with_a_warning_in_the_host_log() {
    let dir = Scratch::new();
    let root = fake_cifar10(dir.path());
    let cfg = dir.write(
        "c.toml",
        &format!(
            "name = \"d\"\n[dataset]\nname = \"cifar10\"\npath = \"{}\"\n",
            root.display()
        ),
    );
    let out = fuzzaug(&["check", cfg.to_str().unwrap()]);
    assert!(out.ok().contains("train 10 / test 1"), "{}", out.stdout);
    for (name, records) in (1..=5)
        .map(|b| (format!("data_batch_{b}.bin"), 2))
        .chain([("test_batch.bin".to_string(), 1)])
    {
        let warning = format!(
            "{}: {records} CIFAR-10 records, where the official {name} holds 10000; loading \
             them as they are (a smaller data set in the CIFAR format, or a copy cut short?)",
            root.join(&name).display()
        );
        assert!(out.stderr.contains(&warning), "{name}:\n{}", out.stderr);
    }
}

/// A batch that is not a whole number of records is refused, however small.
#[test]
fn a_cifar10_batch_cut_inside_a_record_is_refused() {
    let dir = Scratch::new();
    let root = fake_cifar10(dir.path());
    let file = root.join("data_batch_2.bin");
    let mut data = std::fs::read(&file).unwrap();
    data.truncate(3073 + 100);
    std::fs::write(&file, data).unwrap();
    let err = load_error(
        &dir,
        &format!("name = \"cifar10\"\npath = \"{}\"", root.display()),
    );
    assert!(
        err.contains(&format!(
            "{}: size 3173 is not a multiple of 3073 bytes (one CIFAR-10 record)",
            file.display()
        )),
        "{err}"
    );
}

/// A `.tar.gz` whose tar header gives test_batch.bin 1 TiB is refused from the header, before
/// anything is inflated into memory.
#[test]
fn a_cifar10_archive_member_past_the_official_size_is_refused() {
    let dir = Scratch::new();
    let archive = dir.path().join("cifar-10-binary.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(1 << 40);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(
        &mut header,
        "cifar-10-batches-bin/test_batch.bin",
        &cifar_record(1, 2)[..],
    )
    .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    let err = load_error(
        &dir,
        &format!("name = \"cifar10\"\npath = \"{}\"", archive.display()),
    );
    assert!(
        err.contains(&format!(
            "{} (member cifar-10-batches-bin/test_batch.bin): 1099511627776 bytes, more than \
             the 30730000 bytes of the official CIFAR-10 test_batch.bin (10000 records of 3073 \
             bytes)",
            archive.display()
        )),
        "{err}"
    );
}
