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

/// A tensor-kind transform's answer is checked before use: another shape or dtype is an error
/// naming the transform, never a batch silently trained on.
#[test]
fn a_wrong_tensor_from_a_plugin_is_refused() {
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    dir.add(
        &fuzzaug_tests::fixture("bad_tensor"),
        "plugins/libfuzzaug_bad_tensor.so",
    );
    for (gene, expected) in [
        (
            "drops_an_image",
            "transform `drops_an_image` returned a Float tensor of shape [1, 3, 8, 8] on Cpu for a float batch of shape [2, 3, 8, 8] on Cpu",
        ),
        (
            "as_double",
            "transform `as_double` returned a Double tensor of shape [2, 3, 8, 8] on Cpu for a float batch of shape [2, 3, 8, 8] on Cpu",
        ),
    ] {
        let cfg = dir.write(
            "c.toml",
            &format!("name = \"b\"\nplugin_dirs = [\"plugins\"]\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 10\n[[transforms]]\nname = \"{gene}\"\n"),
        );
        let parts = fuzzaug_tests::experiment(&cfg)
            .unwrap()
            .components()
            .unwrap();
        let engine = fuzzaug::augment::Engine::new(&parts.genes, 8, 8);
        let x = Tensor::full([2, 3, 8, 8], 100.0, (Kind::Float, Device::Cpu));
        let err = engine.apply(&x, &[1.0, 1.0], &[0, 1]).unwrap_err().to_string();
        assert_eq!(err, expected);
    }
}
