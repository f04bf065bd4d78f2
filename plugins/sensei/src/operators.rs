//! The GA's variation operators: mutation and crossover of coded chromosomes.
use crate::genes::{Gene, Genes};
use crate::population::{contains, Member};
use rand::seq::SliceRandom;
use rand::Rng;

/// Below this parent loss a mutation uses each gene's `low_loss_mutation_step`.
pub const LOW_LOSS: f64 = 1e-3;

/// Redraws of a mutated child that duplicates an existing chromosome.
const RETRIES: usize = 10;

/// How many genes one mutation changes: 2, or 1 when the chromosome has a single gene.
pub fn genes_per_mutation(genes: &Genes) -> usize {
    genes.len().min(2)
}

/// One gene moved +step, −step or mirrored about the identity (2·identity − value), each move
/// clamped to the range and snapped to the grid, drawn uniformly among the moves that change the
/// gene's code: a move that changes nothing (at a bound, or mirroring the identity) is never
/// drawn, and two moves that land on the same code still count as two. `None` when no move
/// changes the gene.
fn mutate_gene(gene: &Gene, code: f64, step: f64, rng: &mut impl Rng) -> Option<f64> {
    let value = gene.decode(code);
    let mut changing = [0.0; 3];
    let mut n = 0;
    for v in [value + step, value - step, 2.0 * gene.spec.identity - value] {
        let c = gene.encode(v);
        if c != code {
            changing[n] = c;
            n += 1;
        }
    }
    (n > 0).then(|| changing[rng.random_range(0..n)])
}

/// A copy of `parent` with [`genes_per_mutation`] distinct genes changed (fewer only when no
/// move can change the remaining genes, e.g. an empty range).
pub fn mutate_once(genes: &Genes, parent: &Member, rng: &mut impl Rng) -> Vec<f64> {
    let low = parent.loss.is_some_and(|l| l < LOW_LOSS);
    let mut order: Vec<usize> = (0..genes.len()).collect();
    order.shuffle(rng);
    let mut child = parent.codes.clone();
    let mut changed = 0;
    for gi in order {
        if changed == genes_per_mutation(genes) {
            break;
        }
        let gene = &genes.0[gi];
        let step = if low {
            gene.spec.low_loss_mutation_step
        } else {
            gene.spec.mutation_step
        };
        if let Some(c) = mutate_gene(gene, child[gi], step, rng) {
            child[gi] = c;
            changed += 1;
        }
    }
    child
}

/// A mutated child of `parent`, redrawn up to 10 times while it duplicates one of `existing`.
pub fn mutate(genes: &Genes, parent: &Member, existing: &[Member], rng: &mut impl Rng) -> Vec<f64> {
    let mut child = mutate_once(genes, parent, rng);
    for _ in 0..RETRIES {
        if !contains(existing, &child) {
            break;
        }
        child = mutate_once(genes, parent, rng);
    }
    child
}

/// The survivor (other than the top, `survivors[0]`) that differs from the top in the most
/// genes; the highest-loss one among ties.
pub fn partner(survivors: &[Member]) -> Option<&Member> {
    let top = survivors.first()?;
    let differing = |m: &Member| {
        m.codes
            .iter()
            .zip(&top.codes)
            .filter(|(a, b)| a != b)
            .count()
    };
    survivors[1..]
        .iter()
        .fold(None, |best: Option<&Member>, m| match best {
            Some(b) if differing(b) >= differing(m) => Some(b),
            _ => Some(m),
        })
}

/// `count` crossover children of `top` and `partner`: each takes a distinct, non-empty, non-full
/// random subset of genes from `partner` and the rest from `top`. A child that duplicates one of
/// `existing` or an earlier child, or one for which no unused subset is left, is a mutation of
/// `top` instead. Needs at least 2 genes.
pub fn crossover(
    genes: &Genes,
    top: &Member,
    partner: &Member,
    count: usize,
    existing: &[Member],
    rng: &mut impl Rng,
) -> Vec<Vec<f64>> {
    let g = genes.len();
    debug_assert!(g >= 2, "crossover needs 2 genes");
    let subsets = if g >= 63 { u64::MAX } else { (1u64 << g) - 2 };
    let mut used: Vec<Vec<bool>> = Vec::new();
    let mut seen: Vec<Member> = existing.to_vec();
    let mut children = Vec::with_capacity(count);
    for _ in 0..count {
        let child = if (used.len() as u64) < subsets {
            let mask = loop {
                let mask: Vec<bool> = (0..g).map(|_| rng.random_bool(0.5)).collect();
                let n = mask.iter().filter(|&&b| b).count();
                if n > 0 && n < g && !used.contains(&mask) {
                    break mask;
                }
            };
            let child: Vec<f64> = (0..g)
                .map(|i| {
                    if mask[i] {
                        partner.codes[i]
                    } else {
                        top.codes[i]
                    }
                })
                .collect();
            used.push(mask);
            if contains(&seen, &child) {
                mutate(genes, top, &seen, rng)
            } else {
                child
            }
        } else {
            mutate(genes, top, &seen, rng)
        };
        seen.push(Member {
            codes: child.clone(),
            loss: None,
        });
        children.push(child);
    }
    children
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genes::tests::specs;
    use fuzzaug_sdk::testing::gene;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn member(codes: Vec<f64>, loss: Option<f64>) -> Member {
        Member { codes, loss }
    }

    fn on_grid_and_in_range(genes: &Genes, codes: &[f64]) {
        let mut values = Vec::new();
        genes.decode_into(codes, &mut values);
        for (g, v) in genes.0.iter().zip(values) {
            assert!((g.spec.lo..=g.spec.hi).contains(&v), "{v} out of range");
            if let Some(step) = g.spec.step.into_option() {
                let k = (v - g.spec.lo) / step;
                assert!((k - k.round()).abs() < 1e-9, "{v} off the grid");
            }
        }
    }

    #[test]
    fn mutation_changes_exactly_two_genes_in_range_and_on_the_grid() {
        let genes = Genes::new(&specs());
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for trial in 0..2000 {
            // Parents everywhere, bounds included, some with a tiny loss.
            let parent = member(
                genes.uniform(&mut rng),
                Some(if trial % 3 == 0 { 1e-5 } else { 0.7 }),
            );
            let child = mutate_once(&genes, &parent, &mut rng);
            let changed = child
                .iter()
                .zip(&parent.codes)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(changed, 2);
            on_grid_and_in_range(&genes, &child);
        }
    }

    #[test]
    fn mutation_moves_by_the_step_or_mirrors() {
        let genes = Genes::new(&specs()[..1]);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let rot = &genes.0[0];
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            for (loss, step) in [(0.5, 6.0), (1e-4, 12.0)] {
                let parent = member(vec![rot.encode(10.0)], Some(loss));
                let child = mutate_once(&genes, &parent, &mut rng);
                let v = rot.decode(child[0]);
                assert!([10.0 + step, 10.0 - step, -10.0].contains(&v), "{v}");
                seen.insert(v as i64);
            }
        }
        assert_eq!(seen.len(), 5, "all three moves with both steps");
        // A single gene: exactly one changes, clamped at the bound.
        let parent = member(vec![rot.encode(28.0)], Some(0.5));
        for _ in 0..50 {
            let v = rot.decode(mutate_once(&genes, &parent, &mut rng)[0]);
            assert!([30.0, 22.0, -28.0].contains(&v), "{v}");
        }
    }

    /// Draws per situation in the χ² tests.
    const DRAWS: u64 = 60_000;

    /// χ² critical values at p = 0.001 for 1 and 2 degrees of freedom.
    fn critical(df: usize) -> f64 {
        match df {
            1 => 10.83,
            2 => 13.82,
            _ => unreachable!("df {df}"),
        }
    }

    /// Draws `mutate_gene` [`DRAWS`] times at `value`, classifies each child by the move that
    /// produced it (+step, −step, mirror) and tests by χ² that the moves flagged in `changing`
    /// are drawn equally often and the others never. Returns a line describing the outcome and
    /// whether it passed.
    fn move_frequencies(gene: &Gene, value: f64, changing: [bool; 3], seed: u64) -> (String, bool) {
        let step = gene.spec.mutation_step;
        let code = gene.encode(value);
        assert_eq!(gene.decode(code), value, "the test point is on the grid");
        let moves =
            [value + step, value - step, 2.0 * gene.spec.identity - value].map(|v| gene.encode(v));
        assert_eq!(
            moves.map(|c| c != code),
            changing,
            "{} at {value}: the moves give codes {moves:?} from {code}",
            gene.spec.name
        );
        for a in 0..3 {
            for b in a + 1..3 {
                if changing[a] && changing[b] {
                    assert_ne!(moves[a], moves[b], "ambiguous test point {value}");
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut counts = [0u64; 3];
        for _ in 0..DRAWS {
            let child = mutate_gene(gene, code, step, &mut rng).expect("a move changes the gene");
            // Unambiguous: the changing moves give distinct codes, the others the parent's.
            let k = moves
                .iter()
                .position(|&c| c == child)
                .unwrap_or_else(|| panic!("{child} is none of the moves {moves:?}"));
            counts[k] += 1;
        }
        let open = changing.iter().filter(|&&c| c).count();
        let expected = DRAWS as f64 / open as f64;
        let chi2: f64 = (0..3)
            .filter(|&i| changing[i])
            .map(|i| (counts[i] as f64 - expected).powi(2) / expected)
            .sum();
        let df = open - 1;
        let never = (0..3).all(|i| changing[i] || counts[i] == 0);
        let pass = never && chi2 < critical(df);
        let line = format!(
            "{} at {value}: (+step, −step, mirror) = {counts:?}, expected {expected:.0} for each \
             of {changing:?}; χ² = {chi2:.3} (df {df}, critical {} at p = 0.001) {}",
            gene.spec.name,
            critical(df),
            if pass { "ok" } else { "FAIL" }
        );
        (line, pass)
    }

    #[test]
    fn mutation_draws_each_changing_move_equally_often() {
        let genes = Genes::new(&specs());
        // Discrete rotation −30..30 (grid 1, identity 0, step 6); continuous zoom 0.9..1.1
        // (identity 1, step 0.05). Which of (+step, −step, mirror) change the gene:
        let (rot, zoom) = (&genes.0[0], &genes.0[2]);
        let situations = [
            (rot, 0.0, [true, true, false]), // identity: mirroring changes nothing
            (rot, 30.0, [false, true, true]), // hi: +step clamps back to 30
            (rot, -30.0, [true, false, true]), // lo: −step clamps back to −30
            (rot, 10.0, [true, true, true]), // inside: 16, 4, −10
            (zoom, 1.0, [true, true, false]), // identity
            (zoom, 1.1, [false, true, true]), // hi
            (zoom, 0.9, [true, false, true]), // lo
            (zoom, 1.02, [true, true, true]), // inside: 1.07, 0.97, 0.98
        ];
        let mut report = Vec::new();
        let mut pass = true;
        for (i, &(gene, value, changing)) in situations.iter().enumerate() {
            let (line, ok) = move_frequencies(gene, value, changing, 1000 + i as u64);
            println!("{line}");
            report.push(line);
            pass &= ok;
        }
        assert!(pass, "moves not uniform:\n{}", report.join("\n"));
    }

    #[test]
    fn mutation_is_uniform_over_moves_not_values() {
        // At −3 with step 6: +step and the mirror both give 3, −step gives −9: 3 is drawn 2/3.
        let genes = Genes::new(&specs()[..1]);
        let rot = &genes.0[0];
        let code = rot.encode(-3.0);
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let mut three = 0u64;
        for _ in 0..DRAWS {
            let v = rot.decode(mutate_gene(rot, code, 6.0, &mut rng).unwrap());
            assert!(v == 3.0 || v == -9.0, "{v}");
            three += u64::from(v == 3.0);
        }
        let n = DRAWS as f64;
        let observed = [three as f64, n - three as f64];
        let chi2: f64 = observed
            .iter()
            .zip([2.0 * n / 3.0, n / 3.0])
            .map(|(o, e)| (o - e).powi(2) / e)
            .sum();
        println!("rotation at -3, (3, −9) = {observed:?}, expected 2/3, 1/3; χ² = {chi2:.3}");
        assert!(
            chi2 < critical(1),
            "(3, −9) = {observed:?}, expected 2/3 and 1/3 of {DRAWS}; χ² = {chi2:.3}"
        );
    }

    #[test]
    fn mutation_is_none_when_no_move_changes_the_gene() {
        let spec = gene("g", 1.0, 1.0, 1.0).with_step(1.0);
        let genes = Genes::new(&[spec]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(mutate_gene(&genes.0[0], 0.0, 1.0, &mut rng), None);
    }

    #[test]
    fn mutation_avoids_duplicates_when_it_can() {
        let spec = gene("g", -2.0, 2.0, 0.0).with_step(1.0);
        let genes = Genes::new(&[spec]);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let parent = member(vec![genes.0[0].encode(1.0)], Some(1.0));
        // From 1: +1 → 2, −1 → 0, mirror → −1. Only −1 is new.
        let existing: Vec<Member> = [1.0, 2.0, 0.0]
            .iter()
            .map(|&v| member(vec![genes.0[0].encode(v)], None))
            .collect();
        for _ in 0..20 {
            let child = mutate(&genes, &parent, &existing, &mut rng);
            assert_eq!(genes.0[0].decode(child[0]), -1.0);
        }
    }

    #[test]
    fn crossover_children_mix_both_parents_and_are_neither() {
        let genes = Genes::new(&specs());
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for _ in 0..300 {
            let top = member(genes.uniform(&mut rng), Some(2.0));
            let mut other = genes.uniform(&mut rng);
            // Make the partner differ in every gene.
            for (i, g) in genes.0.iter().enumerate() {
                if other[i] == top.codes[i] {
                    other[i] = g.encode(g.decode(top.codes[i]) + 1.0);
                    if other[i] == top.codes[i] {
                        other[i] = g.encode(g.decode(top.codes[i]) - 1.0);
                    }
                }
            }
            let partner = member(other, Some(1.0));
            let existing = vec![top.clone(), partner.clone()];
            let children = crossover(&genes, &top, &partner, 6, &existing, &mut rng);
            assert_eq!(children.len(), 6);
            let mut crossed = 0;
            for c in &children {
                assert_ne!(c, &top.codes);
                assert_ne!(c, &partner.codes);
                on_grid_and_in_range(&genes, c);
                let from_either = c
                    .iter()
                    .enumerate()
                    .all(|(i, v)| *v == top.codes[i] || *v == partner.codes[i]);
                crossed += usize::from(from_either);
            }
            // 3 genes: 6 distinct proper subsets, all used, all distinct children.
            assert_eq!(crossed, 6);
            for (i, c) in children.iter().enumerate() {
                assert!(!children[..i].contains(c));
            }
        }
    }

    #[test]
    fn crossover_falls_back_to_mutation_for_duplicates_and_exhausted_subsets() {
        let genes = Genes::new(&specs());
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let top = member(genes.identity(), Some(1.0));
        // Partner differs from the top in one gene only: every crossover child is a duplicate.
        let mut codes = genes.identity();
        codes[0] += 1.0;
        let partner = member(codes, Some(0.5));
        let existing = vec![top.clone(), partner.clone()];
        let children = crossover(&genes, &top, &partner, 8, &existing, &mut rng);
        for c in &children {
            let changed = c.iter().zip(&top.codes).filter(|(a, b)| a != b).count();
            assert_eq!(changed, 2, "a mutation of the top");
        }
    }

    #[test]
    fn partner_differs_most() {
        let m = |c: [f64; 3]| member(c.to_vec(), Some(1.0));
        let s = vec![
            m([0.0, 0.0, 0.0]),
            m([1.0, 0.0, 0.0]),
            m([1.0, 1.0, 0.0]),
            m([0.0, 2.0, 2.0]),
        ];
        assert_eq!(partner(&s).unwrap().codes, vec![1.0, 1.0, 0.0]);
        assert!(partner(&s[..1]).is_none());
    }
}
