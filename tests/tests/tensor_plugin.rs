//! A tensor-kind plugin (`noise`) through the real `.so`: the libtorch tensor crosses the
//! boundary without a copy (an in-place op keeps the host's storage) and nothing leaks over
//! 10,000 round trips.
use fuzzaug_tests::Scratch;
use tch::{Device, Kind, Tensor};

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

#[test]
fn tensors_cross_without_copies_or_leaks() {
    let dir = Scratch::new();
    let cfg = dir.write("c.toml", "name = \"n\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 10\n[[transforms]]\nname = \"gaussian_noise\"\n[[transforms]]\nname = \"gaussian_blur\"\n");
    let parts = fuzzaug_tests::experiment(&cfg)
        .unwrap()
        .components()
        .unwrap();
    assert_eq!(parts.genes[0].info.kind, fuzzaug_sdk::TransformKind::Tensor);
    let noise = &parts.genes[0].transform;
    let x = Tensor::full([2, 3, 8, 8], 100.0, (Kind::Float, Device::Cpu));
    let ptr = x.data_ptr();
    let out = noise
        .apply(x.shallow_clone(), &[4.0, 4.0], &[1, 2])
        .unwrap();
    assert_eq!(
        out.data_ptr(),
        ptr,
        "the in-place op kept the host's storage: no copy"
    );
    assert!(
        f64::try_from((&x - 100.0).abs().max()).unwrap() > 0.0,
        "the host sees the plugin's in-place change"
    );

    let small = Tensor::zeros([1, 1, 4, 4], (Kind::Float, Device::Cpu));
    for i in 0..1000 {
        let _ = noise.apply(small.shallow_clone(), &[1.0], &[i]).unwrap();
    }
    let before = resident_kib();
    for i in 0..10_000 {
        let _ = noise.apply(small.shallow_clone(), &[1.0], &[i]).unwrap();
    }
    let growth = resident_kib().saturating_sub(before);
    println!("resident memory growth over 10,000 round trips: {growth} KiB");
    assert!(
        growth < 1024,
        "resident memory grew by {growth} KiB over 10,000 round trips"
    );

    // A plugin error comes back as an error, naming the gene.
    let err = noise
        .apply(small.shallow_clone(), &[1.0, 2.0], &[0, 1])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("failed in `apply`: gaussian_noise: 2 values for 1 images"),
        "{err}"
    );
}
