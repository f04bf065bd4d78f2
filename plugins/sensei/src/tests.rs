//! Strategy-level tests: the per-batch round trip, selective augmentation, the class-pair cap,
//! checkpoints.
use crate::config::{self, Config};
use crate::genes::{tests::specs, Genes};
use crate::selection::Rule;
use crate::Sensei;
use fuzzaug_sdk::prelude::*;

fn setup(specs: Vec<GeneSpec>) -> StrategySetup {
    fuzzaug_sdk::testing::setup(specs, 20, 4)
}

fn cfg(population: usize, rule: Rule, mutation_rate: f64, threshold: Option<f64>) -> Config {
    Config {
        population,
        mutation_rate,
        rule,
        threshold,
        class_pair_cap: None,
        fitness: Fitness::CrossEntropy,
    }
}

/// `s.select` for a batch of `samples` samples, every candidate classified correctly (class 0).
fn select(s: &mut Sensei, fitness: &[f32], samples: usize) -> Result<Vec<f64>, PluginError> {
    let n = fitness.len();
    s.select(&Scores {
        fitness,
        correct: &vec![true; n],
        predicted: &vec![0; n],
        labels: &vec![0; samples],
    })
}

/// `s.select` for proposal `p` with each candidate's predicted class and each sample's label.
fn select_classified(
    s: &mut Sensei,
    p: &Proposal,
    fitness: &[f32],
    predicted: &[u32],
    labels: &[u32],
) -> Vec<f64> {
    let correct: Vec<bool> = p
        .counts
        .iter()
        .zip(labels)
        .flat_map(|(&k, &l)| std::iter::repeat_n(l, k as usize))
        .zip(predicted)
        .map(|(l, &c)| l == c)
        .collect();
    s.select(&Scores {
        fitness,
        correct: &correct,
        predicted,
        labels,
    })
    .unwrap()
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
    split(&p.genes, g)
}

/// The chromosomes of a flat array of `g` genes each.
fn split(flat: &[f64], g: usize) -> Vec<Vec<f64>> {
    flat.chunks(g).map(<[f64]>::to_vec).collect()
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
                let chosen = select(&mut s, &f, 3).unwrap();
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
        select(&mut s, &f, 1).unwrap();
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
        select(&mut s, &f, 1).unwrap();
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
    select(&mut s, &f, 2).unwrap();
    let top2 = s.incumbents(&[2]).unwrap();
    assert_eq!(top2, p.genes[g..2 * g].to_vec());

    // Sample 2 is robust: only its top is proposed and trained on.
    let p = s.propose(&[2, 6]).unwrap();
    assert_eq!(p.counts.as_slice(), &[1, 4]);
    assert_eq!(p.genes[..g].to_vec(), top2);
    let chosen = select(&mut s, &[2e-4, 0.5, 0.1, 0.2, 0.3], 2).unwrap();
    assert_eq!(chosen[..g].to_vec(), top2);
    // Still robust: skipped again; its loss rises this time.
    let p = s.propose(&[2]).unwrap();
    assert_eq!(p.counts.as_slice(), &[1]);
    select(&mut s, &[0.7], 1).unwrap();
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
    select(&mut s, &[1e-6; 4], 1).unwrap();
    assert_eq!(s.propose(&[2]).unwrap().counts.as_slice(), &[4]);
}

#[test]
fn selective_augmentation_is_off_by_default_and_on_when_enabled() {
    let specs = specs();
    for (text, skipped) in [
        ("", false),
        ("selective.enabled = false", false),
        ("selective.enabled = true", true),
    ] {
        let settings = Settings::parse(text, &config::params("elitism")).unwrap();
        let config = Config::from_settings(&settings).unwrap();
        let mut s = Sensei::new("sensei", config, &setup(specs.clone()), 5);
        s.propose(&[2]).unwrap();
        select(&mut s, &[1e-6; 10], 1).unwrap();
        let counts = s.propose(&[2]).unwrap().counts;
        assert_eq!(
            counts.as_slice(),
            [if skipped { 1 } else { 10 }],
            "{text:?}"
        );
    }
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
                select(s, &f, b.len()).unwrap();
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

        // A state whose values no search could have saved (a NaN code: the first member's
        // first code, after the header, the counters, the population count, the sample's
        // index and size and the member's flag and loss) is refused naming the value, and
        // the search goes on as it was.
        let before = b.save_state().unwrap();
        let at = 44 + 8 * (3 + specs.len() + 1) + 8 + 12 + 9;
        let mut bad = saved.clone();
        bad[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        let e = b.load_state(&bad).unwrap_err();
        assert!(
            e.message.starts_with(
                "`sensei-t`: the checkpoint's SENSEI state holds code NaN of gene `rotation`"
            ),
            "{}",
            e.message
        );
        assert_eq!(b.save_state().unwrap(), before);
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
        "`sensei-rw`: sample index 20 is outside the training set of 20 samples"
    );
    s.propose(&[1]).unwrap();
    assert_eq!(
        select(&mut s, &[0.5], 1).unwrap_err().message,
        "`sensei-rw` proposed 4 candidates but got 1 scores"
    );
    let scores = |predicted: &'static [u32], labels: &'static [u32]| Scores {
        fitness: &[0.5; 4],
        correct: &[true; 4],
        predicted,
        labels,
    };
    assert_eq!(
        s.select(&scores(&[0; 3], &[0])).unwrap_err().message,
        "`sensei-rw` got 4 scores but 3 predicted classes; expected one per candidate"
    );
    assert_eq!(
        s.select(&scores(&[0; 4], &[0, 1])).unwrap_err().message,
        "`sensei-rw` proposed a batch of 1 samples but got 2 labels; expected one per sample"
    );
    assert_eq!(
        s.select(&scores(&[0; 4], &[])).unwrap_err().message,
        "`sensei-rw` proposed a batch of 1 samples but got 0 labels; expected one per sample"
    );
    // Still pending after the refusals.
    assert_eq!(s.select(&scores(&[0; 4], &[0])).unwrap().len(), 3);
    // An empty batch round-trips.
    let p = s.propose(&[]).unwrap();
    assert!(p.counts.is_empty());
    assert!(select(&mut s, &[], 0).unwrap().is_empty());
    assert_eq!(
        select(&mut s, &[], 2).unwrap_err().message,
        "`sensei-rw` proposed a batch of 0 samples but got 2 labels; expected one per sample"
    );
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
    assert_eq!(default("selective.enabled"), "false");
    assert_eq!(default("class_pair_cap"), "0");
    // Decoded genes are on the grid.
    let genes = Genes::new(&crate::genes::tests::specs());
    assert_eq!(genes.len(), 3);
}

fn capped(cap: u64) -> Config {
    Config {
        class_pair_cap: Some(cap),
        ..cfg(4, Rule::Elitism, 0.6, None)
    }
}

/// The value of counter `name`, if reported.
fn counter(s: &mut Sensei, name: &str) -> Option<f64> {
    let c = s.take_counters().unwrap();
    c.iter().find(|c| c.name == name).map(|c| c.value)
}

#[test]
fn class_pair_cap_redirects_to_the_best_open_candidate_or_the_identity() {
    let specs = specs();
    let g = specs.len();
    let identity: Vec<f64> = specs.iter().map(|s| s.identity).collect();
    let mut s = Sensei::new("sensei", capped(1), &setup(specs.clone()), 21);
    let mut free = Sensei::new(
        "sensei",
        cfg(4, Rule::Elitism, 0.6, None),
        &setup(specs),
        21,
    );
    s.begin_epoch(0).unwrap();
    free.begin_epoch(0).unwrap();
    // Samples 0, 1, 2 are of class 0 (first sight: 4 candidates each).
    let p = s.propose(&[0, 1, 2]).unwrap();
    assert_eq!(free.propose(&[0, 1, 2]).unwrap(), p);
    let cands = rows(&p, g);
    #[rustfmt::skip]
    let (f, predicted) = (
        [0.1, 0.9, 0.5, 0.3,   0.2, 0.8, 0.6, 0.7,   0.9, 0.8, 0.05, 0.7],
        [0, 2, 3, 0,           0, 2, 2, 3,           2, 3, 0, 3],
    );
    let chosen = select_classified(&mut s, &p, &f, &predicted, &[0, 0, 0]);
    let uncapped = select_classified(&mut free, &p, &f, &predicted, &[0, 0, 0]);
    assert_eq!(
        split(&uncapped, g),
        [cands[1].clone(), cands[5].clone(), cands[8].clone()]
    );
    // Sample 0: its top (0.9, pair (0, 2)) is open and trains; (0, 2) is now full.
    // Sample 1: its top (0.8) is in (0, 2); the best open one is 0.7 in (0, 3), now full.
    // Sample 2: (0, 2) and (0, 3) are full; its only open candidate is the correct one (0.05).
    assert_eq!(
        split(&chosen, g),
        [cands[1].clone(), cands[7].clone(), cands[10].clone()]
    );

    // Sample 0 again (a generation without the identity) and sample 3, of class 1.
    let p = s.propose(&[0, 3]).unwrap();
    assert_eq!(free.propose(&[0, 3]).unwrap(), p, "the same search");
    let cands = rows(&p, g);
    assert!(!cands[..4].contains(&identity));
    let (f, predicted) = (
        [0.9, 0.1, 0.2, 0.3, 0.1, 0.2, 0.9, 0.3],
        [2, 3, 2, 3, 2, 2, 2, 2],
    );
    let chosen = select_classified(&mut s, &p, &f, &predicted, &[0, 1]);
    let uncapped = select_classified(&mut free, &p, &f, &predicted, &[0, 1]);
    assert_eq!(split(&uncapped, g), [cands[0].clone(), cands[6].clone()]);
    // Sample 0: every candidate lies in a full pair: the identity. Sample 3: (1, 2) is open.
    assert_eq!(split(&chosen, g), [identity.clone(), cands[6].clone()]);

    // The populations are those of the uncapped search.
    let all = [0, 1, 2, 3];
    assert_eq!(s.incumbents(&all).unwrap(), free.incumbents(&all).unwrap());
    assert_eq!(s.propose(&all).unwrap(), free.propose(&all).unwrap());
    assert_eq!(counter(&mut s, "class_pair_capped"), Some(3.0));
    assert_eq!(counter(&mut s, "class_pair_capped"), Some(0.0), "reset");
    assert_eq!(
        counter(&mut free, "class_pair_capped"),
        None,
        "off: not reported"
    );
}

#[test]
fn class_pair_cap_counts_reset_each_epoch() {
    let specs = specs();
    let g = specs.len();
    let identity: Vec<f64> = specs.iter().map(|s| s.identity).collect();
    let mut s = Sensei::new("sensei-t", capped(2), &setup(specs), 4);
    let f = [0.1, 0.4, 0.3, 0.2];
    let batch = |s: &mut Sensei, sample: u64| {
        let p = s.propose(&[sample]).unwrap();
        let chosen = select_classified(s, &p, &f, &[1; 4], &[0]);
        (chosen, rows(&p, g)[1].clone())
    };
    s.begin_epoch(0).unwrap();
    for sample in [0, 1] {
        let (chosen, top) = batch(&mut s, sample);
        assert_eq!(chosen, top, "sample {sample}: (0, 1) open");
    }
    for sample in [2, 3, 0] {
        assert_eq!(
            batch(&mut s, sample).0,
            identity,
            "sample {sample}: (0, 1) full"
        );
    }
    assert_eq!(counter(&mut s, "class_pair_capped"), Some(3.0));
    // The counts last the epoch, not the counters' period.
    assert_eq!(batch(&mut s, 4).0, identity);
    assert_eq!(counter(&mut s, "class_pair_capped"), Some(1.0));
    s.begin_epoch(1).unwrap();
    for sample in [2, 3] {
        let (chosen, top) = batch(&mut s, sample);
        assert_eq!(chosen, top, "epoch 1, sample {sample}: open again");
    }
    assert_eq!(batch(&mut s, 5).0, identity);
    assert_eq!(counter(&mut s, "class_pair_capped"), Some(1.0));
}

#[test]
fn class_pair_counts_survive_save_and_load() {
    let specs = specs();
    let g = specs.len();
    let identity: Vec<f64> = specs.iter().map(|s| s.identity).collect();
    let run = |s: &mut Sensei, samples: &[u64]| -> Vec<f64> {
        let p = s.propose(samples).unwrap();
        let n = p.counts.iter().sum::<u32>() as usize;
        // Every candidate predicted as class 3; the second one of each sample scores highest.
        let f: Vec<f32> = (0..n).map(|i| [0.5, 1.0, 0.3, 0.2][i % 4]).collect();
        select_classified(s, &p, &f, &vec![3; n], &vec![1; samples.len()])
    };
    let mut a = Sensei::new("sensei-rw", capped(2), &setup(specs.clone()), 8);
    a.begin_epoch(0).unwrap();
    run(&mut a, &[0]);
    let saved = a.save_state().unwrap();
    // One image left for (1, 3), then the identity.
    let after_a = run(&mut a, &[1, 2]);
    assert_eq!(after_a[g..], identity[..]);
    let counters_a = a.take_counters().unwrap();

    let mut b = Sensei::new("sensei-rw", capped(2), &setup(specs.clone()), 8);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state().unwrap(), saved);
    assert_eq!(run(&mut b, &[1, 2]), after_a);
    assert_eq!(b.take_counters().unwrap(), counters_a);

    // Without the counts (a new epoch), both samples would train on their tops.
    let mut c = Sensei::new("sensei-rw", capped(2), &setup(specs), 8);
    c.load_state(&saved).unwrap();
    c.begin_epoch(1).unwrap();
    let after_c = run(&mut c, &[1, 2]);
    assert_eq!(after_c[..g], after_a[..g]);
    assert_ne!(after_c[g..], identity[..]);
}
