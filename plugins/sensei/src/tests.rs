//! Strategy-level tests: the per-batch round trip, selective augmentation, checkpoints.
use crate::config::{self, Config};
use crate::genes::{tests::specs, Genes};
use crate::selection::Rule;
use crate::Sensei;
use fuzzaug_sdk::prelude::*;

fn setup(specs: Vec<GeneSpec>) -> StrategySetup {
    StrategySetup {
        genes: specs.into(),
        num_samples: 20,
        num_classes: 4,
    }
}

fn cfg(population: usize, rule: Rule, mutation_rate: f64, threshold: Option<f64>) -> Config {
    Config {
        population,
        mutation_rate,
        rule,
        threshold,
        fitness: Fitness::CrossEntropy,
    }
}

/// A fake loss: larger far from the identity, different per sample.
fn fake_loss(specs: &[GeneSpec], sample: u64, values: &[f64]) -> f32 {
    let d: f64 = specs
        .iter()
        .zip(values)
        .map(|(g, v)| (v - g.identity).abs() / (g.hi - g.lo))
        .sum();
    (d * (1.0 + sample as f64 * 0.1) + 0.01) as f32
}

fn scores(specs: &[GeneSpec], samples: &[u64], p: &Proposal) -> Vec<f32> {
    let g = specs.len();
    let mut out = Vec::new();
    let mut at = 0;
    for (&s, &k) in samples.iter().zip(p.counts.iter()) {
        for _ in 0..k {
            out.push(fake_loss(specs, s, &p.genes[at..at + g]));
            at += g;
        }
    }
    out
}

fn rows(p: &Proposal, g: usize) -> Vec<Vec<f64>> {
    p.genes.chunks(g).map(<[f64]>::to_vec).collect()
}

#[test]
fn round_trip_over_several_batches() {
    let specs = specs();
    let g = specs.len();
    let identity: Vec<f64> = specs.iter().map(|s| s.identity).collect();
    for rule in [Rule::Elitism, Rule::Roulette, Rule::Tournament(5)] {
        let mut s = Sensei::new("sensei", cfg(10, rule, 0.6, None), &setup(specs.clone()), 9);
        assert_eq!(
            s.incumbents(&[3]).unwrap(),
            identity,
            "identity before any search"
        );
        let mut best_so_far = [0f32; 20];
        for epoch in 0..6 {
            s.begin_epoch(epoch).unwrap();
            for batch in [[0u64, 5, 7], [1, 19, 3]] {
                let p = s.propose(&batch).unwrap();
                assert_eq!(p.counts.as_slice(), &[10, 10, 10], "Q per sample");
                assert_eq!(p.genes.len(), 30 * g);
                let cands = rows(&p, g);
                if epoch == 0 {
                    for k in 0..3 {
                        assert_eq!(
                            cands[k * 10],
                            identity,
                            "initial population holds the identity"
                        );
                    }
                }
                for (i, c) in cands.iter().enumerate() {
                    for (j, (v, sp)) in c.iter().zip(&specs).enumerate() {
                        assert!((sp.lo..=sp.hi).contains(v), "candidate {i} gene {j}: {v}");
                    }
                    // No candidate repeats another of the same sample (3 genes, 61·7 grid
                    // points and a continuous gene: duplicates are avoidable).
                    let base = i / 10 * 10;
                    assert!(!cands[base..i].contains(c), "duplicate candidate {i}");
                }
                let f = scores(&specs, &batch, &p);
                let chosen = s.select(&f, &vec![true; f.len()]).unwrap();
                assert_eq!(chosen.len(), 3 * g);
                for (k, &sample) in batch.iter().enumerate() {
                    let block = &f[k * 10..(k + 1) * 10];
                    let top = block.iter().cloned().fold(f32::MIN, f32::max);
                    assert_eq!(fake_loss(&specs, sample, &chosen[k * g..(k + 1) * g]), top);
                    if rule == Rule::Elitism {
                        // Elitism never loses its best: the chosen loss never falls.
                        assert!(top >= best_so_far[sample as usize]);
                        best_so_far[sample as usize] = top;
                    }
                }
                // The incumbent is the top survivor, which survived with the highest loss
                // under elitism.
                let inc = s.incumbents(&batch).unwrap();
                if rule == Rule::Elitism {
                    assert_eq!(inc, chosen);
                }
            }
            let counters = s.take_counters().unwrap();
            let names: Vec<&str> = counters.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "skipped_robust",
                    "mean_chosen_fitness",
                    "mean_abs_gene_rotation",
                    "mean_abs_gene_translate",
                    "mean_abs_gene_zoom"
                ]
            );
            assert_eq!(counters[0].value, 0.0);
            assert!(counters[1].value > 0.01);
            assert!(counters[2].value > 0.0);
        }
    }
}

#[test]
fn mutation_and_crossover_generations() {
    let specs = specs();
    let g = specs.len();
    for (rate, crossing) in [(1.0, false), (0.0, true)] {
        let mut s = Sensei::new(
            "sensei",
            cfg(10, Rule::Elitism, rate, None),
            &setup(specs.clone()),
            1,
        );
        let p = s.propose(&[4]).unwrap();
        let f = scores(&specs, &[4], &p);
        s.select(&f, &[true; 10]).unwrap();
        let survivors = s.incumbents(&[4]).unwrap();
        let p = s.propose(&[4]).unwrap();
        let cands = rows(&p, g);
        assert_eq!(cands.len(), 10);
        // μ = 4 survivors first (top first), then λ = 6 children.
        assert_eq!(cands[0], survivors);
        for child in &cands[4..] {
            let differing = child.iter().zip(&cands[0]).filter(|(a, b)| a != b).count();
            if crossing {
                assert!(differing >= 1);
            } else {
                assert_eq!(differing, 2, "mutation changes 2 genes of the top");
            }
        }
    }
}

#[test]
fn one_gene_falls_back_to_mutation() {
    let specs = specs()[..1].to_vec();
    let mut s = Sensei::new(
        "sensei",
        cfg(6, Rule::Elitism, 0.0, None),
        &setup(specs.clone()),
        3,
    );
    for _ in 0..5 {
        let p = s.propose(&[0]).unwrap();
        assert_eq!(p.counts.as_slice(), &[6]);
        let f = scores(&specs, &[0], &p);
        s.select(&f, &[true; 6]).unwrap();
    }
    let p = s.propose(&[0]).unwrap();
    let top = p.genes[0];
    for &c in &p.genes[2..] {
        assert!([top + 6.0, top - 6.0, -top].contains(&c) || c == 30.0 || c == -30.0);
    }
}

#[test]
fn selective_augmentation_skips_robust_samples_and_resumes() {
    let specs = specs();
    let g = specs.len();
    let mut s = Sensei::new(
        "sensei",
        cfg(4, Rule::Elitism, 0.6, Some(1e-3)),
        &setup(specs.clone()),
        5,
    );
    // First sight: the whole initial population, scored tiny.
    let p = s.propose(&[2, 6]).unwrap();
    assert_eq!(p.counts.as_slice(), &[4, 4]);
    let mut f = vec![1e-4f32; 8];
    f[5] = 0.3; // sample 6 is not robust
    f[1] = 5e-4; // sample 2's top
    s.select(&f, &[true; 8]).unwrap();
    let top2 = s.incumbents(&[2]).unwrap();
    assert_eq!(top2, p.genes[g..2 * g].to_vec());

    // Sample 2 is robust: only its top is proposed and trained on.
    let p = s.propose(&[2, 6]).unwrap();
    assert_eq!(p.counts.as_slice(), &[1, 4]);
    assert_eq!(p.genes[..g].to_vec(), top2);
    let chosen = s.select(&[2e-4, 0.5, 0.1, 0.2, 0.3], &[true; 5]).unwrap();
    assert_eq!(chosen[..g].to_vec(), top2);
    // Still robust: skipped again; its loss rises this time.
    let p = s.propose(&[2]).unwrap();
    assert_eq!(p.counts.as_slice(), &[1]);
    s.select(&[0.7], &[false]).unwrap();
    let c = s.take_counters().unwrap();
    assert_eq!((c[0].name.as_str(), c[0].value), ("skipped_robust", 2.0));
    // No longer robust: a full generation again.
    let p = s.propose(&[2]).unwrap();
    assert_eq!(p.counts.as_slice(), &[4]);
    assert_eq!(p.genes[..g].to_vec(), top2, "the top survives first");

    // Off: never skipped.
    let mut s = Sensei::new(
        "sensei",
        cfg(4, Rule::Elitism, 0.6, None),
        &setup(specs.clone()),
        5,
    );
    s.propose(&[2]).unwrap();
    s.select(&[1e-6; 4], &[true; 4]).unwrap();
    assert_eq!(s.propose(&[2]).unwrap().counts.as_slice(), &[4]);
}

#[test]
fn save_then_load_gives_identical_proposals() {
    let specs = specs();
    let run = |s: &mut Sensei, batches: &[[u64; 3]]| -> Vec<Proposal> {
        batches
            .iter()
            .map(|b| {
                let p = s.propose(b).unwrap();
                let f = scores(&specs, b, &p);
                s.select(&f, &vec![true; f.len()]).unwrap();
                p
            })
            .collect()
    };
    let batches = [[0, 1, 2], [3, 4, 5], [0, 1, 2], [3, 4, 5], [6, 1, 0]];
    for rule in [Rule::Elitism, Rule::Roulette, Rule::Tournament(3)] {
        let config = cfg(6, rule, 0.5, Some(0.05));
        let mut a = Sensei::new("sensei-t", config.clone(), &setup(specs.clone()), 77);
        run(&mut a, &batches[..3]);
        let saved = a.save_state().unwrap();
        let after_a = run(&mut a, &batches[3..]);
        let counters_a = a.take_counters().unwrap();

        // A fresh strategy (same run seed), loaded, continues identically.
        let mut b = Sensei::new("sensei-t", config.clone(), &setup(specs.clone()), 77);
        b.load_state(&saved).unwrap();
        assert_eq!(b.save_state().unwrap(), saved);
        let after_b = run(&mut b, &batches[3..]);
        assert_eq!(after_a, after_b);
        assert_eq!(counters_a, b.take_counters().unwrap());

        // State for another shape is refused.
        let mut c = Sensei::new(
            "sensei-t",
            cfg(8, rule, 0.5, None),
            &setup(specs.clone()),
            77,
        );
        assert!(c.load_state(&saved).is_err());
        let e = c.load_state(&saved[..saved.len() - 3]).unwrap_err();
        assert!(e.message.starts_with("`sensei-t`:"), "{}", e.message);
        assert!(c
            .load_state(&[0u8; 16])
            .unwrap_err()
            .message
            .contains("not SENSEI state"));
    }
}

#[test]
fn bad_calls_are_errors() {
    let specs = specs();
    let mut s = Sensei::new(
        "sensei-rw",
        cfg(4, Rule::Roulette, 0.6, None),
        &setup(specs),
        1,
    );
    assert_eq!(
        s.propose(&[20]).unwrap_err().message,
        "`sensei-rw`: sample 20 is out of range; the training set has 20 samples"
    );
    s.propose(&[1]).unwrap();
    assert_eq!(
        s.select(&[0.5], &[true]).unwrap_err().message,
        "`sensei-rw` proposed 4 candidates but got 1 scores"
    );
    // An empty batch round-trips.
    let p = s.propose(&[]).unwrap();
    assert!(p.counts.is_empty());
    assert!(s.select(&[], &[]).unwrap().is_empty());
}

#[test]
fn components_and_their_default_selection() {
    let comps = crate::components();
    let names: Vec<&str> = comps.iter().map(|c| c.info().name.as_str()).collect();
    assert_eq!(names, ["sensei", "sensei-rw", "sensei-t"]);
    for (comp, rule) in comps
        .iter()
        .zip([Rule::Elitism, Rule::Roulette, Rule::Tournament(5)])
    {
        let params: Vec<Param> = comp.info().params.to_vec();
        let settings = Settings::parse("", &params).unwrap();
        assert_eq!(Config::from_settings(&settings).unwrap().rule, rule);
    }
    // The defaults as documented.
    let params = config::params("elitism");
    let default = |k: &str| {
        params
            .iter()
            .find(|p| p.name == k)
            .unwrap()
            .default
            .to_string()
    };
    assert_eq!(default("population"), "10");
    assert_eq!(default("mutation_rate"), "0.6");
    assert_eq!(default("tournament_size"), "5");
    assert_eq!(default("selective.threshold"), "1e-3");
    // Decoded genes are on the grid.
    let genes = Genes::new(&crate::genes::tests::specs());
    assert_eq!(genes.len(), 3);
}
