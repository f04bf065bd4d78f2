//! fuzzaug as a library: a config is loaded, overridden, validated and built into components
//! with plain values, no CLI type; its errors are the same located ones the CLI prints.
use fuzzaug::{plugins::SearchPath, setup::Experiment};
use fuzzaug_tests::{bin_dir, tiny_config, Scratch};

fn search_path() -> SearchPath {
    let mut path = SearchPath::default();
    path.push(bin_dir(), "the built plugins");
    path
}

#[test]
fn a_config_loads_and_builds_through_the_library_api() {
    let dir = Scratch::new();
    let cfg = dir.write("c.toml", &tiny_config(100, 2));
    let set = ["train.epochs=3".to_string(), "seed=5".to_string()];
    let exp = Experiment::load_in(&cfg, &set, &[], |_| search_path()).unwrap();
    assert_eq!((exp.config.train.epochs, exp.config.seed), (3, 5));
    exp.preflight().unwrap();
    let parts = exp.components().unwrap();
    assert_eq!(parts.dataset_info.train_len, 100);
    assert_eq!(parts.genes.len(), 1);
    assert_eq!(parts.genes[0].spec.name.as_str(), "rotation");

    let bad = ["train.epochs=0".to_string()];
    let err = Experiment::load_in(&cfg, &bad, &[], |_| search_path())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}:11:10 (--set train.epochs=0): `train.epochs` must be at least 1",
            cfg.display()
        )
    );
}
