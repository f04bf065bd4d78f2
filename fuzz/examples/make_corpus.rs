//! Writes the seed corpus of every target into `fuzz/corpus/<target>/`: a few small, valid
//! inputs in each target's encoding (see the targets' docs), made with the real writers where
//! fuzzaug has one (strategy states, checkpoints). With feature `host`, the `config` and
//! `checkpoint` seeds too.
use fuzzaug_fuzz::{gzip_best, join, strategy::Built};
use image::{GrayImage, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use std::{
    fs,
    io::Cursor,
    path::{Path, PathBuf},
};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap();
}

/// `bytes` prefixed by the target's leading option bytes.
fn with(head: &[u8], bytes: &[u8]) -> Vec<u8> {
    [head, bytes].concat()
}

/// A CIFAR record: the label bytes, then 3072 pixels.
fn record(labels: &[u8], seed: u32) -> Vec<u8> {
    let mut r = labels.to_vec();
    r.extend(
        (0..3072u32).map(|i| (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) as u8),
    );
    r
}

fn tar_of(folder: &str, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("{folder}/{name}"), bytes.as_slice())
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn cifar() {
    let dir = corpus("cifar");
    let names10 =
        b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".to_vec();
    let ten: Vec<(&str, Vec<u8>)> = vec![
        (
            "data_batch_1.bin",
            [record(&[0], 1), record(&[9], 2)].concat(),
        ),
        ("data_batch_2.bin", record(&[1], 3)),
        ("data_batch_3.bin", record(&[2], 4)),
        ("data_batch_4.bin", record(&[3], 5)),
        ("data_batch_5.bin", record(&[4], 6)),
        ("test_batch.bin", record(&[5], 7)),
        ("batches.meta.txt", names10),
    ];
    let parts: Vec<&[u8]> = ten.iter().map(|(_, b)| b.as_slice()).collect();
    seed(&dir, "cifar10-files", &with(&[0, 0], &join(&parts)));
    seed(
        &dir,
        "cifar10-files-limits",
        &with(&[0, 0x12], &join(&parts)),
    );
    let tar = tar_of("cifar-10-batches-bin", &ten);
    seed(&dir, "cifar10-tar", &with(&[1 << 2, 0], &tar));
    seed(
        &dir,
        "cifar10-tar-gz",
        &with(&[2 << 2, 0x11], &gzip_best(&tar)),
    );

    let fine: String = (0..100).map(|i| format!("fine{i}\n")).collect();
    let coarse: String = (0..20).map(|i| format!("coarse{i}\r\n")).collect();
    let train = [record(&[19, 99], 8), record(&[0, 0], 9)].concat();
    let test = record(&[7, 42], 10);
    seed(
        &dir,
        "cifar100-fine-files",
        &with(&[1, 0], &join(&[&train, &test, fine.as_bytes()])),
    );
    seed(
        &dir,
        "cifar100-coarse-files",
        &with(&[3, 0x21], &join(&[&train, &test, coarse.as_bytes()])),
    );
    let hundred = vec![
        ("train.bin", train),
        ("test.bin", test),
        ("fine_label_names.txt", fine.into_bytes()),
        ("coarse_label_names.txt", coarse.into_bytes()),
    ];
    seed(
        &dir,
        "cifar100-tar",
        &with(&[1 | 1 << 2, 0], &tar_of("cifar-100-binary", &hundred)),
    );
}

fn idx_file(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = std::iter::once(magic)
        .chain(dims.iter().copied())
        .flat_map(u32::to_be_bytes)
        .collect();
    out.extend_from_slice(data);
    out
}

fn idx() {
    let dir = corpus("idx");
    let images = |n: u32, rows: u32, cols: u32| {
        let data: Vec<u8> = (0..n * rows * cols).map(|i| (i * 37 % 256) as u8).collect();
        idx_file(0x803, &[n, rows, cols], &data)
    };
    let labels = |l: &[u8]| idx_file(0x801, &[l.len() as u32], l);
    let small = [
        images(3, 6, 5),
        labels(&[0, 9, 4]),
        images(2, 6, 5),
        labels(&[1, 2]),
    ];
    let parts: Vec<&[u8]> = small.iter().map(Vec::as_slice).collect();
    seed(&dir, "raw", &with(&[0, 0], &join(&parts)));
    // Every file gzip-compressed by the target; Fashion-MNIST, resize 8, 3 channels, limits.
    seed(&dir, "gz-resized", &with(&[0x55, 0b11_1011], &join(&parts)));
    // .gz files as they are; resize 13.
    let gz: Vec<Vec<u8>> = small.iter().map(|f| gzip_best(f)).collect();
    let gz_parts: Vec<&[u8]> = gz.iter().map(Vec::as_slice).collect();
    seed(&dir, "gz-files", &with(&[0xaa, 0b100], &join(&gz_parts)));
    // Raw files with a stray .gz beside each; MNIST's own 28×28, resize 32.
    let mnist = [
        images(2, 28, 28),
        labels(&[3, 8]),
        images(1, 28, 28),
        labels(&[5]),
    ];
    let parts: Vec<&[u8]> = mnist.iter().map(Vec::as_slice).collect();
    seed(&dir, "raw-28x28", &with(&[0xff, 0b110], &join(&parts)));
}

fn encoded<P, C>(image: &ImageBuffer<P, C>, format: ImageFormat) -> Vec<u8>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn images() {
    let dir = corpus("image");
    // Settings: decoder in bits 0..1 (0 PNG, 1 JPEG, 2 PPM), bit 2 one channel, bits 3..5 size.
    let rgb = RgbImage::from_fn(8, 6, |x, y| Rgb([x as u8 * 30, y as u8 * 40, 200]));
    let grey = GrayImage::from_fn(5, 5, |x, y| Luma([(x * 50 + y) as u8]));
    let rgba = RgbaImage::from_pixel(3, 4, Rgba([10, 20, 30, 0]));
    let deep = ImageBuffer::<Luma<u16>, Vec<u16>>::from_pixel(4, 4, Luma([65535]));
    seed(
        &dir,
        "png-rgb",
        &with(&[3 << 3], &encoded(&rgb, ImageFormat::Png)),
    );
    seed(
        &dir,
        "png-grey-as-grey",
        &with(&[4 | 2 << 3], &encoded(&grey, ImageFormat::Png)),
    );
    seed(
        &dir,
        "png-rgba",
        &with(&[7 << 3], &encoded(&rgba, ImageFormat::Png)),
    );
    seed(
        &dir,
        "png-16bit",
        &with(&[4 | 1 << 3], &encoded(&deep, ImageFormat::Png)),
    );
    seed(
        &dir,
        "jpeg-rgb",
        &with(&[1 | 6 << 3], &encoded(&rgb, ImageFormat::Jpeg)),
    );
    seed(
        &dir,
        "jpeg-grey",
        &with(&[1 | 4], &encoded(&grey, ImageFormat::Jpeg)),
    );
    seed(
        &dir,
        "ppm-rgb",
        &with(&[2 | 3 << 3], &encoded(&rgb, ImageFormat::Pnm)),
    );
    seed(
        &dir,
        "pgm-grey",
        &with(&[2 | 4 | 5 << 3], &encoded(&grey, ImageFormat::Pnm)),
    );
    seed(
        &dir,
        "ppm-ascii",
        &with(&[2], b"P3\n2 2\n255\n255 0 0 0 255 0\n0 0 255 9 9 9\n"),
    );
}

/// A `.npy` file as numpy writes it: header padded to a multiple of 64 bytes.
fn npy_file(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut text = dict.to_string();
    while (prefix + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
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

fn npy() {
    let dir = corpus("npy");
    let images = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 32, 32, 3), }";
    seed(&dir, "images-v1", &npy_file(1, images, &[7; 64]));
    let labels = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
    seed(&dir, "labels-v2", &npy_file(2, labels, &[0; 24]));
    let scalar = "{'descr': '>u2', 'fortran_order': True, 'shape': (), }";
    seed(&dir, "scalar-v3", &npy_file(3, scalar, &[0, 1]));
}

fn load_state() {
    let dir = corpus("load_state");
    for index in 0..fuzzaug_fuzz::strategy::STRATEGIES.len() {
        let mut s = Built::new(index);
        let name = s.name;
        seed(
            &dir,
            &format!("{name}-new"),
            &with(&[index as u8], &s.save()),
        );
        s.exercise();
        s.exercise();
        seed(
            &dir,
            &format!("{name}-2-batches"),
            &with(&[index as u8], &s.save()),
        );
    }
}

#[cfg(feature = "host")]
fn config() {
    let dir = corpus("config");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sets = |lines: &[&str]| format!("\n#--set\n{}", lines.join("\n"));
    let quickstart = fs::read_to_string(root.join("configs/quickstart.toml")).unwrap();
    seed(&dir, "quickstart", quickstart.as_bytes());
    let edited = quickstart.clone()
        + &sets(&[
            "train.epochs=2",
            "strategy.name=w10",
            "transforms.*.step=1",
            "transforms.0.range=[-10, 10]",
            "train.optimizer.lr=0.5",
        ]);
    seed(&dir, "quickstart-sets", edited.as_bytes());
    let standard = fs::read_to_string(root.join("configs/quickstart-standard.toml")).unwrap();
    seed(&dir, "quickstart-standard", standard.as_bytes());
    let study = root.join("configs/study/reimpl-resnet50-cifar-discrete-sensei.toml");
    let study = fs::read_to_string(study).unwrap();
    let with_sets = study + &sets(&["eval.robust_subset=10", "dataset.train_limit=5"]);
    seed(&dir, "study-sets", with_sets.as_bytes());
    let inline = "name = \"a\"\n[train]\nepochs = 3\n# opt\noptimizer = { kind = \"adamw\", lr = 0.003 }  # fast\n[[transforms]]\nname = \"rotation\"\nrange = [-30, 30]\n";
    seed(
        &dir,
        "inline-tables",
        (inline.to_string() + &sets(&["train.optimizer.eps=1e-6", "transforms.0.step=5"]))
            .as_bytes(),
    );
}

#[cfg(feature = "host")]
fn checkpoint() {
    use fuzzaug::rundir::checkpoint::{self, Figures, Meta};
    use fuzzaug_fuzz::checkpoint::body;
    use fuzzaug_sdk::tch::Tensor;
    let dir = corpus("checkpoint");
    let meta = Meta {
        epoch: 3,
        model: "small-cnn".into(),
        dataset: "shapes".into(),
        train_len: 6,
        classes: 3,
        genes: vec!["rotation".into(), "zoom".into()],
        strategy: "sensei".into(),
        seed: 1,
        rng_word_pos: "42".into(),
        fuzzaug: "0.1.0".into(),
        config: Some(serde_json::json!({"train": {"epochs": 3}, "genes": ["rotation", "zoom"]})),
        train_seconds: 1.5,
        figures: Figures {
            test_acc: Some(0.5),
            robust_acc: Some(0.25),
            robust_grid_size: Some(4),
            robust_subset: Some(6),
        },
        normalization: Some((vec![0.5], vec![0.25])),
    };
    let tensors = vec![
        (
            "model/w".to_string(),
            Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]),
        ),
        ("model/b".to_string(), Tensor::from_slice(&[0.5f32])),
        ("optim/step".to_string(), Tensor::from_slice(&[7i64])),
    ];
    let mut s = Built::new(3);
    s.exercise();
    let state = s.save();
    let tmp = std::env::temp_dir().join(format!("fuzzaug-make-corpus-{}", std::process::id()));
    fs::create_dir_all(&tmp).unwrap();
    let path = tmp.join("last");
    checkpoint::save(&path, &meta, &tensors, &state).unwrap();
    let file = fs::read(&path).unwrap();
    checkpoint::from_bytes(&file, &path, fuzzaug_sdk::tch::Device::Cpu).unwrap();
    seed(&dir, "sensei", &with(&[0], &file));
    seed(&dir, "sensei-body", &with(&[1], body(&file).unwrap()));
    let old = Meta {
        config: None,
        normalization: None,
        ..meta
    };
    checkpoint::save(&path, &old, &tensors[..1], b"").unwrap();
    let file = fs::read(&path).unwrap();
    seed(&dir, "before-0.2-body", &with(&[1], body(&file).unwrap()));
    fs::remove_dir_all(&tmp).unwrap();
}

fn main() {
    cifar();
    idx();
    images();
    npy();
    load_state();
    #[cfg(feature = "host")]
    {
        config();
        checkpoint();
    }
}
