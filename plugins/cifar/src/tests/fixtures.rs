//! Writes small CIFAR files in the real on-disk formats, and remembers what was written.
use crate::format::IMAGE_BYTES;
use flate2::{write::GzEncoder, Compression};
use std::{fs, path::Path};

/// The official CIFAR-10 class names, as `batches.meta.txt` lists them.
pub const CIFAR10_CLASSES: [&str; 10] = [
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

/// Training batch sizes of the small CIFAR-10 fixture; uneven on purpose.
pub const BATCH_SIZES: [usize; 5] = [2, 3, 1, 2, 2];
/// Test images of the small fixtures.
pub const TEST_SIZE: usize = 3;

/// The distinct pixels of image `seed`: no two fixture images share a plane.
pub fn pixels_of(seed: u32) -> Vec<u8> {
    (0..IMAGE_BYTES as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)).rotate_left(7) as u8)
        .collect()
}

/// One image as a test expects it back.
#[derive(Debug, Clone)]
pub struct Image {
    /// The record's label bytes, in record order.
    pub labels: Vec<u8>,
    /// C×H×W pixels.
    pub pixels: Vec<u8>,
}

impl Image {
    pub fn new(labels: &[u8], seed: u32) -> Self {
        Self {
            labels: labels.to_vec(),
            pixels: pixels_of(seed),
        }
    }

    pub fn record(&self) -> Vec<u8> {
        [self.labels.as_slice(), &self.pixels].concat()
    }
}

/// The records of `images`, one after the other: a batch file's bytes.
pub fn batch(images: &[Image]) -> Vec<u8> {
    images.iter().flat_map(Image::record).collect()
}

/// The expected pixels and labels of `images`, taking label byte `field`.
pub fn expected(images: &[Image], field: usize) -> (Vec<u8>, Vec<u32>) {
    (
        images.iter().flat_map(|i| i.pixels.clone()).collect(),
        images.iter().map(|i| u32::from(i.labels[field])).collect(),
    )
}

/// The small CIFAR-10 fixture: its files (name, bytes), training images and test images.
pub struct Cifar10Files {
    pub files: Vec<(String, Vec<u8>)>,
    pub train: Vec<Image>,
    pub test: Vec<Image>,
}

pub fn cifar10_files() -> Cifar10Files {
    let mut files = Vec::new();
    let mut train = Vec::new();
    let mut k = 0u32;
    for (b, &size) in BATCH_SIZES.iter().enumerate() {
        let images: Vec<Image> = (0..size)
            .map(|_| {
                k += 1;
                Image::new(&[(k * 3 % 10) as u8], k)
            })
            .collect();
        files.push((format!("data_batch_{}.bin", b + 1), batch(&images)));
        train.extend(images);
    }
    let test: Vec<Image> = (0..TEST_SIZE as u32)
        .map(|k| Image::new(&[((k * 7 + 1) % 10) as u8], 100 + k))
        .collect();
    files.push(("test_batch.bin".into(), batch(&test)));
    // The official file ends with an empty line.
    files.push((
        "batches.meta.txt".into(),
        format!("{}\n\n", CIFAR10_CLASSES.join("\n")).into_bytes(),
    ));
    Cifar10Files { files, train, test }
}

/// The small CIFAR-100 fixture: records carry (coarse, fine).
pub struct Cifar100Files {
    pub files: Vec<(String, Vec<u8>)>,
    pub train: Vec<Image>,
    pub test: Vec<Image>,
}

pub fn cifar100_files() -> Cifar100Files {
    let image = |k: u32, seed: u32| Image::new(&[(k * 3 % 20) as u8, (k * 37 % 100) as u8], seed);
    let train: Vec<Image> = (0..4).map(|k| image(k, k)).collect();
    let test: Vec<Image> = (4..4 + TEST_SIZE as u32)
        .map(|k| image(k, 50 + k))
        .collect();
    let names = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| format!("{prefix}{i}\n"))
            .collect::<String>()
            .into_bytes()
    };
    let files = vec![
        ("train.bin".into(), batch(&train)),
        ("test.bin".into(), batch(&test)),
        ("fine_label_names.txt".into(), names("fine", 100)),
        ("coarse_label_names.txt".into(), names("coarse", 20)),
    ];
    Cifar100Files { files, train, test }
}

/// Writes `files` into `dir` (created).
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) {
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Writes a gzip-compressed tar of `files` (member path, bytes), with a folder entry first,
/// as the official archives have.
pub fn write_tar_gz(path: &Path, folder: &str, files: &[(String, Vec<u8>)]) {
    let gz = GzEncoder::new(fs::File::create(path).unwrap(), Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_size(0);
    dir.set_mode(0o755);
    dir.set_cksum();
    tar.append_data(&mut dir, folder, std::io::empty()).unwrap();
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("{folder}/{name}"), bytes.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

/// A generator of pseudo-random bytes (xorshift64*), for the big timing fixture.
pub struct Noise(pub u64);

impl Noise {
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
