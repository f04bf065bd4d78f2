//! Each dataset plugin, built as a `.so` and loaded by the host, on small files written here in
//! the real on-disk format: pixel values, labels, class names and shapes arrive exactly.
use fuzzaug::data::DeviceData;
use fuzzaug_tests::{cifar_record, fake_cifar10, ppm, Scratch};
use std::{io::Write, path::Path};
use tch::{Device, Tensor};

fn load(dir: &Scratch, dataset_toml: &str) -> (DeviceData, Vec<String>) {
    let cfg = dir.write(
        "c.toml",
        &format!("name = \"d\"\n[dataset]\n{dataset_toml}\n"),
    );
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    let mut parts = exp.components().unwrap();
    let info = parts.dataset_info.clone();
    let (mean, std) = parts.normalization.clone();
    let data = DeviceData::load(&mut parts.dataset, &info, &mean, &std, Device::Cpu).unwrap();
    (data, info.classes.iter().map(|c| c.to_string()).collect())
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
    let root = dir.path().join("signs");
    for d in ["train/stop", "train/yield", "test/yield"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let pattern = |seed: u8| -> Vec<u8> {
        (0..192u8)
            .map(|i| i.wrapping_mul(5).wrapping_add(seed))
            .collect()
    };
    ppm(&root.join("train/stop/a.ppm"), 8, 8, &pattern(1));
    ppm(&root.join("train/yield/b.ppm"), 8, 8, &pattern(2));
    ppm(&root.join("test/yield/c.ppm"), 8, 8, &pattern(3));
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
