//! What a tensor-kind plugin hands back is checked before use (in its own test binary: the
//! leak measurement of `tensor_plugin.rs` must have its process to itself). The same cases
//! through the real binary are in `hostile_answers.rs`.
use fuzzaug_tests::Scratch;
use tch::{Device, Kind, Tensor};

/// The components of a config whose one gene is the `bad_tensor` fixture's `gene`.
fn parts(dir: &Scratch, gene: &str) -> fuzzaug::setup::Components {
    let cfg = dir.write(
        "c.toml",
        &format!("name = \"b\"\nplugin_dirs = [\"plugins\"]\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 10\n[[transforms]]\nname = \"{gene}\"\n"),
    );
    fuzzaug_tests::experiment(&cfg)
        .unwrap()
        .components()
        .unwrap()
}

fn scratch() -> (Scratch, String) {
    let dir = Scratch::new();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    let lib = dir.add(
        &fuzzaug_tests::fixture("bad_tensor"),
        "plugins/libfuzzaug_bad_tensor.so",
    );
    (dir, lib.display().to_string())
}

/// A tensor-kind transform's answer is checked before use: another shape (a batch of one
/// included, which would broadcast), another dtype, a null or undefined tensor is an error
/// naming the transform, its library, `apply` and what it returned, never a batch silently
/// trained on; so is a call that drew from or reseeded libtorch's global generator.
#[test]
fn a_wrong_tensor_from_a_plugin_is_refused() {
    let (dir, lib) = scratch();
    let same = "(it must return the same shape, Float, on the same device)";
    for (gene, problem) in [
        (
            "drops_an_image",
            format!("a Float tensor of shape [1, 3, 8, 8] on Cpu for a Float batch of shape [2, 3, 8, 8] on Cpu {same}"),
        ),
        (
            "keeps_one",
            format!("a Float tensor of shape [1, 3, 8, 8] on Cpu for a Float batch of shape [2, 3, 8, 8] on Cpu {same}"),
        ),
        (
            "as_double",
            format!("a Double tensor of shape [2, 3, 8, 8] on Cpu for a Float batch of shape [2, 3, 8, 8] on Cpu {same}"),
        ),
        ("null", "a null tensor pointer".to_string()),
        ("undefined", "an undefined tensor".to_string()),
        ("reseeds", GLOBAL_RNG.to_string()),
        ("draws", GLOBAL_RNG.to_string()),
    ] {
        let parts = parts(&dir, gene);
        let engine = fuzzaug::augment::Engine::new(&parts.genes, 8, 8);
        let x = Tensor::full([2, 3, 8, 8], 100.0, (Kind::Float, Device::Cpu));
        let err = engine.apply(&x, &[1.0, 1.0], &[0, 1]).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("transform `{gene}` ({lib}) answered `apply` with {problem}; the host refuses it")
        );
    }
}

const GLOBAL_RNG: &str = "libtorch's global random generator moved: the plugin drew from it or \
     reseeded it (a tensor transform must draw image i's randomness from seeds[i] alone)";

/// A tensor returned inside an autograd graph comes back detached: the right pixels, no
/// gradient tracking. (It also shows a quiet call is not mistaken for one that moved the
/// global generator: no test of this binary draws from it.)
#[test]
fn a_tensor_inside_a_graph_comes_back_detached() {
    let (dir, _) = scratch();
    let parts = parts(&dir, "with_grad");
    let x = Tensor::full([2, 3, 8, 8], 100.0, (Kind::Float, Device::Cpu));
    let out = parts.genes[0]
        .transform
        .apply(x.shallow_clone(), &[1.0, 1.0], &[0, 1])
        .unwrap();
    assert!(!out.requires_grad());
    assert_eq!(out.size(), vec![2, 3, 8, 8]);
    assert_eq!(f64::try_from((&out - &x).abs().max()).unwrap(), 0.0);
}
