//! The dataset on the device: chunked reads through the real `shapes` plugin into one u8 tensor
//! per split, gathers, and normalisation.
use fuzzaug::{
    data::{load_split, DeviceData, Normalizer},
    setup::Experiment,
};
use fuzzaug_sdk::Split;
use fuzzaug_tests::Scratch;
use tch::{Device, Kind, Tensor};

fn experiment(text: &str) -> (Experiment, Scratch) {
    let dir = Scratch::new();
    let cfg = dir.write("exp.toml", text);
    let exp = fuzzaug_tests::experiment(&cfg).unwrap();
    (exp, dir)
}

#[test]
fn shapes_loads_onto_the_device_exactly_as_the_plugin_reads_it() {
    let (exp, _d) = experiment("name = \"d\"\n[dataset]\nname = \"shapes\"\ntrain_size = 3000\ntest_size = 50\nsize = 16\n");
    let mut parts = exp.components().unwrap();
    let info = parts.dataset_info.clone();
    let (mean, std) = parts.normalization.clone();
    let data = DeviceData::load(&mut parts.dataset, &info, &mean, &std, Device::Cpu).unwrap();
    assert_eq!(data.train.pixels.size(), vec![3000, 3, 16, 16]);
    assert_eq!(data.train.pixels.kind(), Kind::Uint8);
    assert_eq!(data.test.len(), 50);
    // Compare a stretch against one direct read of the plugin.
    let direct = parts.dataset.read(Split::Train, 1234, 10).unwrap();
    let idx = Tensor::arange_start(1234, 1244, (Kind::Int64, Device::Cpu));
    let (px, lb) = data.train.gather(&idx).unwrap();
    let mut bytes = vec![0u8; direct.pixels.len()];
    let n = bytes.len();
    px.copy_data_u8(&mut bytes, n);
    assert_eq!(bytes, direct.pixels.as_slice());
    let labels: Vec<i64> = Vec::try_from(&lb).unwrap();
    assert_eq!(
        labels,
        direct
            .labels
            .iter()
            .map(|&l| i64::from(l))
            .collect::<Vec<_>>()
    );
    // Normalised with the dataset's statistics: per-channel mean ≈ 0 and std ≈ 1 on train.
    let x = data.normalizer.apply(&data.train.pixels).unwrap();
    let m = Vec::<f64>::try_from(x.mean_dim([0i64, 2, 3].as_slice(), false, Kind::Double)).unwrap();
    let s = Vec::<f64>::try_from(x.std_dim([0i64, 2, 3].as_slice(), true, false)).unwrap();
    for c in 0..3 {
        assert!(m[c].abs() < 0.05, "channel {c} mean {}", m[c]);
        assert!((s[c] - 1.0).abs() < 0.05, "channel {c} std {}", s[c]);
    }
}

#[test]
fn normalisation_override_is_checked_against_channels() {
    let (exp, _d) = experiment(
        "name = \"d\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\nmean = [0.5, 0.5]\n",
    );
    let err = exp.components().err().unwrap().to_string();
    assert!(
        err.ends_with(
            "exp.toml:5:8: `mean` needs one value per channel (3), but the config gives 2"
        ),
        "{err}"
    );
    let (exp, _d) = experiment(
        "name = \"d\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\nstd = [0.5, 0.0, 0.5]\n",
    );
    let err = exp.components().err().unwrap().to_string();
    assert!(
        err.ends_with("exp.toml:5:7: `std` values must be finite and positive, got 0"),
        "{err}"
    );
    let (exp, _d) = experiment(
        "name = \"d\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\nmean = [0.1, 0.2, 0.3]\n",
    );
    assert_eq!(
        exp.components().unwrap().normalization.0,
        vec![0.1, 0.2, 0.3]
    );
}

#[test]
fn normalizer_is_exact_and_refuses_bad_statistics() {
    let n = Normalizer::new(&[0.5, 0.0], &[0.25, 1.0], Device::Cpu).unwrap();
    let x = Tensor::from_slice(&[255u8, 0, 51, 255]).view([1, 2, 2, 1]);
    let y = Vec::<f32>::try_from(n.apply(&x).unwrap().flatten(0, -1)).unwrap();
    let want = [2.0, -2.0, 0.2, 1.0];
    for (a, b) in y.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{y:?}");
    }
    assert_eq!(
        Normalizer::new(&[0.5], &[0.0], Device::Cpu)
            .err()
            .unwrap()
            .to_string(),
        "normalisation std must be positive, got 0"
    );
    assert_eq!(
        Normalizer::new(&[0.5], &[], Device::Cpu)
            .err()
            .unwrap()
            .to_string(),
        "normalisation needs one mean and one std per channel, got 1 and 0"
    );
}

#[test]
fn an_empty_split_is_refused() {
    let (exp, _d) = experiment("name = \"d\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\n");
    let mut parts = exp.components().unwrap();
    let mut info = parts.dataset_info.clone();
    info.test_len = 0;
    let err = load_split(&mut parts.dataset, &info, Split::Test, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(err, "dataset `shapes` has an empty test split");
}
