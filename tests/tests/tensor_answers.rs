//! What a tensor-kind plugin hands back is checked before use (in its own test binary: the
//! leak measurement of `tensor_plugin.rs` must have its process to itself).
use fuzzaug_tests::Scratch;
use tch::{Device, Kind, Tensor};

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
