//! The batched augmentation engine with the real `spatial` and `photometric` plugins: exact
//! semantics on crafted images, clamping, the identity, and that no gene is a no-op.
use fuzzaug::{augment::Engine, setup::Components};
use fuzzaug_tests::Scratch;
use tch::{Device, Kind, Tensor};

use fuzzaug_tests::STUDY_GENES as GENES;

fn components() -> (Components, Scratch) {
    let dir = Scratch::new();
    let transforms: String = GENES
        .iter()
        .map(|g| format!("[[transforms]]\nname = \"{g}\"\n"))
        .collect();
    let cfg = dir.write("c.toml", &format!("name = \"a\"\n[dataset]\nname = \"shapes\"\ntrain_size = 10\ntest_size = 10\n{transforms}"));
    (
        fuzzaug_tests::experiment(&cfg)
            .unwrap()
            .components()
            .unwrap(),
        dir,
    )
}

/// The chromosome that is the identity except gene `name` = `value`.
fn only(engine_identity: &[f64], name: &str, value: f64) -> Vec<f64> {
    let mut c = engine_identity.to_vec();
    c[GENES.iter().position(|g| *g == name).unwrap()] = value;
    c
}

/// A 1×1×9×9 image, zero except `value` at (row, col).
fn dot(row: i64, col: i64, value: f64) -> Tensor {
    let t = Tensor::zeros([1, 1, 9, 9], (Kind::Float, Device::Cpu));
    let _ = t.get(0).get(0).get(row).get(col).fill_(value);
    t
}

fn at(t: &Tensor, row: i64, col: i64) -> f64 {
    t.double_value(&[0, 0, row, col])
}

#[test]
fn geometric_genes_move_pixels_as_documented() {
    let (parts, _d) = components();
    let e = Engine::new(&parts.genes, 9, 9);
    let id = e.identity();
    let apply = |img: &Tensor, gene: &str, v: f64| e.apply(img, &only(&id, gene, v), &[0]).unwrap();

    let out = apply(&dot(4, 4, 200.0), "translate_x", 1.0);
    assert!(
        (at(&out, 4, 5) - 200.0).abs() < 1e-3 && at(&out, 4, 4).abs() < 1e-3,
        "translate_x +1 moves one column right"
    );
    let out = apply(&dot(4, 4, 200.0), "translate_y", 1.0);
    assert!(
        (at(&out, 5, 4) - 200.0).abs() < 1e-3 && at(&out, 4, 4).abs() < 1e-3,
        "translate_y +1 moves one row down"
    );
    let out = apply(&dot(0, 4, 200.0), "rotation", 90.0);
    assert!(
        (at(&out, 4, 8) - 200.0).abs() < 1e-2,
        "rotation +90 turns the top-middle pixel to the right-middle (clockwise)"
    );
    // shear 0.5: x' = x + 0.5·y about the centre; (x, y) = (0, +2) → (1, +2): row 6, col 4 → col 5.
    let out = apply(&dot(6, 4, 200.0), "shear", 0.5);
    assert!((at(&out, 6, 5) - 200.0).abs() < 1e-3, "shear by hand");
    // zoom 2: (1, 0) → (2, 0); the output pixel between samples the input halfway.
    let out = apply(&dot(4, 5, 200.0), "zoom", 2.0);
    assert!(
        (at(&out, 4, 6) - 200.0).abs() < 1e-3 && (at(&out, 4, 5) - 100.0).abs() < 1e-3,
        "zoom by hand"
    );
}

#[test]
fn photometric_genes_and_clamping() {
    let (parts, _d) = components();
    let img = Tensor::from_slice(&[0.0f32, 10.0, 100.0, 200.0]).view([1, 1, 2, 2]);
    let e2 = Engine::new(&parts.genes, 2, 2);
    let id = e2.identity();
    let v = |gene: &str, x: f64| {
        Vec::<f32>::try_from(
            e2.apply(&img, &only(&id, gene, x), &[0])
                .unwrap()
                .flatten(0, -1),
        )
        .unwrap()
    };
    assert_eq!(v("brightness", 10.0), vec![10.0, 20.0, 110.0, 210.0]);
    assert_eq!(
        v("brightness", 100.0),
        vec![100.0, 110.0, 200.0, 255.0],
        "clamped at 255"
    );
    assert_eq!(
        v("brightness", -32.0),
        vec![0.0, 0.0, 68.0, 168.0],
        "clamped at 0"
    );
    let c = v("contrast", 1.2);
    for (got, want) in c.iter().zip([0.0f32, 0.0, 94.5, 214.5]) {
        assert!((got - want).abs() < 1e-3, "{c:?}");
    }
}

#[test]
fn photometric_genes_clamp_fused_or_one_after_another() {
    let (parts, _d) = components();
    let img = Tensor::from_slice(&[240.0f32, 100.0]).view([1, 1, 1, 2]);
    let mut c = Engine::new(&parts.genes, 1, 2).identity();
    c[5] = 32.0; // brightness
    c[6] = 0.8; // contrast
    let run = |clamp| {
        let e = Engine::new(&parts.genes, 1, 2).with_clamp(clamp);
        Vec::<f32>::try_from(e.apply(&img, &c, &[0]).unwrap().flatten(0, -1)).unwrap()
    };
    // Fused: 0.8·(240 + 32 − 127.5) + 127.5 = 243.1, one clamp at the end.
    let fused = run(fuzzaug::config::PhotometricClamp::Fused);
    // Per gene, as the reference: 240 + 32 clamps to 255 first, then 0.8·(255 − 127.5) + 127.5.
    let per_gene = run(fuzzaug::config::PhotometricClamp::PerGene);
    for (got, want) in [(fused[0], 243.1f32), (per_gene[0], 229.5)] {
        assert!(
            (got - want).abs() < 1e-3,
            "fused {fused:?}, per gene {per_gene:?}"
        );
    }
    // Nothing clamps for 100: both orders agree (0.8·(132 − 127.5) + 127.5 = 131.1).
    assert!((fused[1] - 131.1).abs() < 1e-3 && (per_gene[1] - 131.1).abs() < 1e-3);
}

#[test]
fn the_identity_returns_the_input_and_every_bound_changes_an_image() {
    let (parts, _d) = components();
    let e = Engine::new(&parts.genes, 16, 16);
    tch::manual_seed(3);
    let img = (Tensor::rand([4, 3, 16, 16], (Kind::Float, Device::Cpu)) * 255.0).round();
    let id = e.identity();
    let same = e.apply(&img, &id.repeat(4), &[0; 4]).unwrap();
    assert!(f64::try_from((&same - &img).abs().max()).unwrap() < 1e-5);
    for (g, gene) in parts.genes.iter().enumerate() {
        for bound in [gene.spec.lo, gene.spec.hi] {
            let mut c = id.clone();
            c[g] = bound;
            let out = e.apply(&img, &c.repeat(4), &[0; 4]).unwrap();
            let diff = f64::try_from((&out - &img).abs().max()).unwrap();
            assert!(
                diff > 1.0,
                "{} = {bound} leaves the image unchanged (max diff {diff})",
                gene.spec.name
            );
        }
    }
}

/// A measurement, not a check (run with `--ignored --nocapture`): candidates per second for a
/// batch of 10,000 32×32×3 images under random 7-gene chromosomes, on the CPU.
#[test]
#[ignore]
fn augmentation_throughput() {
    let (parts, _d) = components();
    let e = Engine::new(&parts.genes, 32, 32);
    let n = 10_000usize;
    let img = (Tensor::rand([n as i64, 3, 32, 32], (Kind::Float, Device::Cpu)) * 255.0)
        .to_kind(Kind::Uint8);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    let chromosomes: Vec<f64> = (0..n)
        .flat_map(|_| {
            parts
                .genes
                .iter()
                .map(|g| fuzzaug_sdk::random::uniform_value(&mut rng, &g.spec))
                .collect::<Vec<_>>()
        })
        .collect();
    let _ = e.apply(&img, &chromosomes, &vec![0; n]).unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let out = e.apply(&img, &chromosomes, &vec![0; n]).unwrap();
        assert_eq!(out.size(), vec![n as i64, 3, 32, 32]);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "augmentation: {:.0} candidates/s (median of 5, batch {n}, 7 genes, {} threads)",
        n as f64 / times[2],
        tch::get_num_threads()
    );
}
