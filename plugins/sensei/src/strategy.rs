//! The SENSEI strategy: one generation of a per-sample genetic search each time a sample's batch
//! comes up.
//!
//! Each sample trains on its highest-fitness candidate, unless `class_pair_cap` (the original
//! SENSEI's per-epoch cap on images of one (true class, predicted class) pair) is on. Then, per
//! epoch (the counts reset in `begin_epoch`), the plugin counts the training images chosen from
//! misclassified candidates, per pair (true class = `scores.labels[i]` of the sample, predicted
//! class = `scores.predicted[j]` of the chosen candidate, predicted ≠ true); correctly classified
//! choices are never counted nor capped. When the highest-fitness candidate lies in a pair that
//! has reached the cap, the sample trains on its highest-fitness candidate whose pair is still
//! open (a correctly classified candidate is always open), or on the identity chromosome (the
//! unperturbed image, not counted) when none is open; the epoch's `class_pair_capped` counter
//! counts those samples. Samples are taken in batch order. The cap changes only which image
//! trains: the population update (survivors, losses) is that of the uncapped search.
use crate::config::Config;
use crate::genes::Genes;
use crate::operators;
use crate::population::{self, Member};
use crate::selection;
use crate::state::{self, Counters, PairCounts, Shape, Snapshot};
use fuzzaug_sdk::{
    prelude::*,
    strategy::{argmax, check_samples},
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What one sample of the batch last proposed awaits.
#[derive(Debug)]
struct Pending {
    sample: usize,
    /// Point-wise robust this epoch: only the top chromosome was proposed.
    skipped: bool,
    candidates: Vec<Vec<f64>>,
}

/// The GA shared by `sensei`, `sensei-rw` and `sensei-t`.
pub struct Sensei {
    name: String,
    cfg: Config,
    genes: Genes,
    /// μ and λ.
    mu: usize,
    lambda: usize,
    num_samples: u64,
    /// The dataset's number of classes (what a saved class pair is checked against).
    num_classes: u32,
    rng: ChaCha8Rng,
    /// q_i by sample index, highest loss first; empty until the sample is first seen.
    populations: Vec<Vec<Member>>,
    pending: Vec<Pending>,
    counters: Counters,
    /// This epoch's images per (true, predicted) class pair, while `class_pair_cap` is on.
    pairs: PairCounts,
}

impl Sensei {
    /// A strategy named `name` (for messages) over `setup`, seeded by `seed`.
    pub fn new(name: &str, cfg: Config, setup: &StrategySetup, seed: u64) -> Self {
        let genes = Genes::new(&setup.genes);
        let mu = population::survivors(cfg.population);
        Self {
            name: name.to_string(),
            lambda: cfg.population - mu,
            mu,
            num_samples: setup.num_samples,
            num_classes: setup.num_classes,
            rng: ChaCha8Rng::seed_from_u64(seed),
            populations: vec![Vec::new(); setup.num_samples as usize],
            pending: Vec::new(),
            counters: Counters {
                gene_abs: vec![0.0; genes.len()],
                ..Counters::default()
            },
            pairs: PairCounts::new(),
            genes,
            cfg,
        }
    }

    fn shape(&self) -> Shape {
        Shape {
            genes: self.genes.len(),
            population: self.cfg.population,
            samples: self.num_samples,
        }
    }

    /// The candidates of one sample for this batch.
    fn breed(&mut self, sample: usize, mutation: bool) -> Pending {
        let Self {
            cfg,
            genes,
            rng,
            populations,
            mu,
            lambda,
            ..
        } = self;
        let q = &mut populations[sample];
        if q.is_empty() {
            *q = population::initial(genes, cfg.population, rng);
        }
        let top = &q[0];
        let robust = match (cfg.threshold, top.loss) {
            (Some(t), Some(l)) => l < t,
            _ => false,
        };
        if robust {
            return Pending {
                sample,
                skipped: true,
                candidates: vec![top.codes.clone()],
            };
        }
        let mut candidates: Vec<Vec<f64>> = q.iter().map(|m| m.codes.clone()).collect();
        if q.len() <= *mu {
            // A generation: λ children of the survivors.
            let children = match operators::partner(q) {
                Some(partner) if !mutation && genes.len() >= 2 => {
                    operators::crossover(genes, top, partner, *lambda, q, rng)
                }
                _ => {
                    let mut seen = q.clone();
                    (0..*lambda)
                        .map(|_| {
                            let child = operators::mutate(genes, top, &seen, rng);
                            seen.push(Member {
                                codes: child.clone(),
                                loss: None,
                            });
                            child
                        })
                        .collect()
                }
            };
            candidates.extend(children);
        }
        // Otherwise the initial population, all unscored: score it as it is.
        Pending {
            sample,
            skipped: false,
            candidates,
        }
    }

    /// Adds a chosen chromosome to the epoch's statistics (those with a non-finite loss are
    /// left out of all of them, so every mean has the same count).
    fn record(&mut self, codes: &[f64], loss: f64) {
        if !loss.is_finite() {
            return;
        }
        self.counters.chosen_sum += loss;
        self.counters.chosen_n += 1;
        for ((sum, gene), &code) in self
            .counters
            .gene_abs
            .iter_mut()
            .zip(&self.genes.0)
            .zip(codes)
        {
            *sum += (gene.decode(code) - gene.spec.identity).abs();
        }
    }
}

/// The first index of the highest loss (NaN never wins unless all are NaN: then the first).
fn best(losses: &[f64]) -> usize {
    argmax(losses).unwrap_or(0)
}

/// Like [`best`] among the indices `allowed` accepts; `None` when it accepts none.
fn best_of(losses: &[f64], allowed: impl Fn(usize) -> bool) -> Option<usize> {
    let open = losses
        .iter()
        .enumerate()
        .map(|(i, &l)| if allowed(i) { l } else { f64::NAN });
    argmax(open).or_else(|| (0..losses.len()).find(|&i| allowed(i)))
}

impl Strategy for Sensei {
    fn begin_epoch(&mut self, _epoch: u32) -> Result<(), PluginError> {
        self.pairs.clear();
        Ok(())
    }

    fn propose(&mut self, samples: &[u64]) -> Result<Proposal, PluginError> {
        check_samples(&self.name, samples, self.num_samples)?;
        let mutation = self.rng.random::<f64>() < self.cfg.mutation_rate;
        self.pending = samples
            .iter()
            .map(|&s| self.breed(s as usize, mutation))
            .collect();
        let mut genes = Vec::new();
        let mut counts = Vec::with_capacity(samples.len());
        for p in &self.pending {
            counts.push(p.candidates.len() as u32);
            for c in &p.candidates {
                self.genes.decode_into(c, &mut genes);
            }
        }
        Ok(Proposal {
            counts: counts.into(),
            genes: genes.into(),
        })
    }

    fn select(&mut self, scores: &Scores<'_>) -> Result<Vec<f64>, PluginError> {
        let fitness = scores.fitness;
        let expected: usize = self.pending.iter().map(|p| p.candidates.len()).sum();
        if fitness.len() != expected {
            return Err(PluginError::new(format!(
                "`{}` proposed {expected} candidates but got {} scores",
                self.name,
                fitness.len()
            )));
        }
        if scores.predicted.len() != fitness.len() {
            return Err(PluginError::new(format!(
                "`{}` got {} scores but {} predicted classes; expected one per candidate",
                self.name,
                fitness.len(),
                scores.predicted.len()
            )));
        }
        if scores.labels.len() != self.pending.len() {
            return Err(PluginError::new(format!(
                "`{}` proposed a batch of {} samples but got {} labels; expected one per sample",
                self.name,
                self.pending.len(),
                scores.labels.len()
            )));
        }
        let mut chosen = Vec::with_capacity(self.pending.len() * self.genes.len());
        let mut at = 0;
        for (p, &label) in std::mem::take(&mut self.pending)
            .into_iter()
            .zip(scores.labels)
        {
            let k = p.candidates.len();
            let losses: Vec<f64> = fitness[at..at + k].iter().map(|&f| f64::from(f)).collect();
            let predicted = &scores.predicted[at..at + k];
            at += k;
            let b = best(&losses);
            let pick = match self.cfg.class_pair_cap {
                None => Some(b),
                Some(cap) => {
                    let pairs = &self.pairs;
                    let open = |j: usize| {
                        predicted[j] == label
                            || pairs.get(&(label, predicted[j])).copied().unwrap_or(0) < cap
                    };
                    let pick = if open(b) {
                        Some(b)
                    } else {
                        self.counters.capped += 1;
                        best_of(&losses, open)
                    };
                    if let Some(j) = pick.filter(|&j| predicted[j] != label) {
                        *self.pairs.entry((label, predicted[j])).or_insert(0) += 1;
                    }
                    pick
                }
            };
            match pick {
                Some(j) => {
                    self.genes.decode_into(&p.candidates[j], &mut chosen);
                    self.record(&p.candidates[j], losses[j]);
                }
                // Unscored: left out of the chosen statistics.
                None => chosen.extend(self.genes.0.iter().map(|g| g.spec.identity)),
            }
            let q = &mut self.populations[p.sample];
            if p.skipped {
                self.counters.skipped += 1;
                q[0].loss = Some(losses[0]);
            } else {
                let keep = selection::survivors(self.cfg.rule, &losses, self.mu, &mut self.rng);
                *q = keep
                    .into_iter()
                    .map(|i| Member {
                        codes: p.candidates[i].clone(),
                        loss: Some(losses[i]),
                    })
                    .collect();
            }
            population::sort(q);
        }
        Ok(chosen)
    }

    fn take_counters(&mut self) -> Result<Vec<Counter>, PluginError> {
        let fresh = Counters {
            gene_abs: vec![0.0; self.genes.len()],
            ..Counters::default()
        };
        let c = std::mem::replace(&mut self.counters, fresh);
        let mean = |sum: f64, n: u64| if n == 0 { 0.0 } else { sum / n as f64 };
        let mut out = vec![
            Counter {
                name: "skipped_robust".into(),
                value: c.skipped as f64,
            },
            Counter {
                name: "mean_chosen_fitness".into(),
                value: mean(c.chosen_sum, c.chosen_n),
            },
        ];
        out.extend(self.genes.0.iter().zip(&c.gene_abs).map(|(g, &s)| Counter {
            name: format!("mean_abs_gene_{}", g.spec.name).into(),
            value: mean(s, c.chosen_n),
        }));
        if self.cfg.class_pair_cap.is_some() {
            out.push(Counter {
                name: "class_pair_capped".into(),
                value: c.capped as f64,
            });
        }
        Ok(out)
    }

    fn save_state(&self) -> Result<Vec<u8>, PluginError> {
        let populations = self
            .populations
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.is_empty())
            .map(|(i, q)| (i as u64, q.clone()))
            .collect();
        let snap = Snapshot {
            word_pos: self.rng.get_word_pos(),
            counters: self.counters.clone(),
            populations,
            pairs: self.pairs.clone(),
        };
        Ok(state::encode(self.shape(), &snap))
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), PluginError> {
        // Checked whole before anything is replaced: a refused state leaves the search as it
        // was.
        let bounds = state::Bounds {
            genes: &self.genes,
            classes: self.num_classes,
        };
        let snap = state::decode(bytes, self.shape(), bounds, &self.name)?;
        let mut populations = vec![Vec::new(); self.num_samples as usize];
        for (sample, q) in snap.populations {
            populations[sample as usize] = q;
        }
        self.populations = populations;
        self.rng.set_word_pos(snap.word_pos);
        self.counters = snap.counters;
        self.pairs = snap.pairs;
        self.pending.clear();
        Ok(())
    }

    fn fitness(&self) -> Fitness {
        self.cfg.fitness
    }

    fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, PluginError> {
        let mut out = Vec::with_capacity(samples.len() * self.genes.len());
        for &s in samples {
            match self.populations.get(s as usize).and_then(|q| q.first()) {
                Some(top) => self.genes.decode_into(&top.codes, &mut out),
                None => out.extend(self.genes.0.iter().map(|g| g.spec.identity)),
            }
        }
        Ok(out)
    }
}
