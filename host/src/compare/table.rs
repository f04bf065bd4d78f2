//! The comparison table (`table.md`, `table.csv`). Runs are ranked only against runs measured
//! the same way: same dataset, robust grid and subset. Runs of other groups are listed with
//! their group letter, and best values are marked within each group.
use super::record::Record;
use std::collections::BTreeMap;

/// The CSV columns.
pub const COLUMNS: &[&str] = &[
    "run",
    "status",
    "group",
    "dataset",
    "model",
    "space",
    "strategy",
    "standard_acc",
    "robust_acc",
    "robust_grid",
    "robust_subset",
    "wall_time",
    "epochs",
    "device",
];

/// Comparability group of each run (`A`, `B`, … in order of first appearance) and the number
/// of groups.
pub fn groups(runs: &[Record]) -> (Vec<char>, usize) {
    let mut seen: BTreeMap<(String, u64, u64), char> = BTreeMap::new();
    let mut next = b'A';
    let letters = runs
        .iter()
        .map(|r| {
            *seen
                .entry((r.dataset.clone(), r.grid_size, r.subset))
                .or_insert_with(|| {
                    let c = next as char;
                    next = next.saturating_add(1);
                    c
                })
        })
        .collect();
    (letters, seen.len())
}

/// Whether run `i` holds the best value of `value` (higher is better unless `lower`) among
/// the runs of its group; never for a group of one.
fn best(
    runs: &[Record],
    group: &[char],
    i: usize,
    value: impl Fn(&Record) -> Option<f64>,
    lower: bool,
) -> bool {
    let mine = match value(&runs[i]) {
        Some(v) => v,
        None => return false,
    };
    let peers: Vec<f64> = (0..runs.len())
        .filter(|&j| group[j] == group[i])
        .filter_map(|j| value(&runs[j]))
        .collect();
    peers.len() > 1
        && peers
            .iter()
            .all(|&p| if lower { mine <= p } else { mine >= p })
}

fn acc(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.4}"))
}

/// `table.csv`.
pub fn csv(runs: &[Record]) -> String {
    let (group, _) = groups(runs);
    let keys = attack_keys(runs);
    let mut head: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    head.extend(keys.iter().map(|k| format!("robust_acc[{k}]")));
    let mut out = quoted(&head).join(",") + "\n";
    for (r, g) in runs.iter().zip(&group) {
        let mut cells = vec![
            r.name.clone(),
            r.status(),
            g.to_string(),
            r.dataset.clone(),
            r.model.clone(),
            r.space.to_string(),
            r.strategy.clone(),
            format!("{:.6}", r.test_acc),
            r.robust_acc.map_or(String::new(), |v| format!("{v:.6}")),
            r.grid_size.to_string(),
            r.subset.to_string(),
            r.wall_time(),
            format!("{}/{}", r.epochs_done, r.epochs_planned),
            r.device.clone(),
        ];
        cells.extend(
            keys.iter()
                .map(|k| attack(r, k).map_or(String::new(), |v| format!("{v:.6}"))),
        );
        out += &(quoted(&cells).join(",") + "\n");
    }
    out
}

/// CSV cells, quoted where they must be.
fn quoted(cells: &[String]) -> Vec<String> {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect()
}

/// Every protocol column any run has, in order of first appearance.
fn attack_keys(runs: &[Record]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (k, _) in runs.iter().flat_map(|r| &r.attacks) {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys
}

fn attack(r: &Record, key: &str) -> Option<f64> {
    r.attacks.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// One cell of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// Whether it is the best value of its column within its group.
    pub best: bool,
}

/// The table's header and rows (shared by Markdown and HTML).
pub fn cells(runs: &[Record]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let (group, n_groups) = groups(runs);
    let keys = attack_keys(runs);
    let head = vec![
        "run",
        "dataset",
        "model",
        "space",
        "strategy",
        "standard acc",
        "robust acc",
        "robust grid × images",
        "wall time",
        "epochs",
        "device",
    ];
    let mut head: Vec<String> = if n_groups > 1 {
        [vec!["group"], head].concat()
    } else {
        head
    }
    .into_iter()
    .map(str::to_string)
    .collect();
    head.extend(keys.iter().map(|k| format!("robust acc, {k}")));
    let rows = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let m = |text: String, best: bool| Cell { text, best };
            let p = |text: String| Cell { text, best: false };
            let name = if r.finished {
                r.name.clone()
            } else {
                format!("{} ({})", r.name, r.status())
            };
            let mut row = vec![
                p(name),
                p(r.dataset.clone()),
                p(r.model.clone()),
                p(r.space.to_string()),
                p(r.strategy.clone()),
                m(
                    acc(Some(r.test_acc)),
                    best(runs, &group, i, |r| Some(r.test_acc), false),
                ),
                m(
                    acc(r.robust_acc),
                    best(runs, &group, i, |r| r.robust_acc, false),
                ),
                p(format!("{} × {}", r.grid_size, r.subset)),
                m(
                    r.wall_time(),
                    best(runs, &group, i, |r| Some(r.wall_seconds.round()), true),
                ),
                p(format!("{}/{}", r.epochs_done, r.epochs_planned)),
                p(r.device.clone()),
            ];
            for k in &keys {
                row.push(m(
                    acc(attack(r, k)),
                    best(runs, &group, i, |r| attack(r, k), false),
                ));
            }
            if n_groups > 1 {
                row.insert(0, p(group[i].to_string()));
            }
            row
        })
        .collect();
    (head, rows)
}

/// The note under the table when runs are not all comparable.
pub fn groups_note(runs: &[Record]) -> Option<String> {
    let (_, n) = groups(runs);
    (n > 1).then(|| {
        format!(
            "These runs fall into {n} groups measured differently (dataset, robust grid or robust \
             subset differ); they are not ranked against each other: best values are marked \
             within each group."
        )
    })
}

/// `table.md`.
pub fn markdown(runs: &[Record]) -> String {
    let (head, rows) = cells(runs);
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for row in rows {
        let texts: Vec<String> = row
            .into_iter()
            .map(|c| {
                let t = c.text.replace('|', "\\|");
                if c.best {
                    format!("**{t}**")
                } else {
                    t
                }
            })
            .collect();
        out += &format!("| {} |\n", texts.join(" | "));
    }
    out += "\nBest value per column in bold (highest accuracy, shortest wall time); \
            robust accuracy counts a test image only if every grid chromosome classifies it \
            correctly.\n";
    if let Some(note) = groups_note(runs) {
        out += &format!("\n{note}\n");
    }
    let seeds = over_seeds(runs);
    if !seeds.is_empty() {
        out += "\nOver seeds (runs that differ only in `seed`: mean ± standard deviation):\n\n\
                | runs | n | standard acc | robust acc |\n|---|---|---|---|\n";
        for s in seeds {
            out += &format!(
                "| {} | {} | {} | {} |\n",
                s.runs.join(", "),
                s.runs.len(),
                s.standard,
                s.robust
            );
        }
    }
    out
}

/// Runs that differ only in seed, aggregated.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedGroup {
    /// The runs' names.
    pub runs: Vec<String>,
    /// Standard accuracy, `mean ± std`.
    pub standard: String,
    /// Robust accuracy, `mean ± std` (over the runs that have one).
    pub robust: String,
}

fn mean_std(v: &[f64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    format!("{mean:.4} ± {:.4}", var.sqrt())
}

/// Every set of two or more runs that trained the same thing with different seeds.
pub fn over_seeds(runs: &[Record]) -> Vec<SeedGroup> {
    let mut keys: Vec<&str> = Vec::new();
    for r in runs {
        if !keys.contains(&r.seedless.as_str()) {
            keys.push(&r.seedless);
        }
    }
    keys.into_iter()
        .map(|k| runs.iter().filter(|r| r.seedless == k).collect::<Vec<_>>())
        .filter(|g| g.len() > 1)
        .map(|g| SeedGroup {
            runs: g.iter().map(|r| r.name.clone()).collect(),
            standard: mean_std(&g.iter().map(|r| r.test_acc).collect::<Vec<_>>()),
            robust: mean_std(&g.iter().filter_map(|r| r.robust_acc).collect::<Vec<_>>()),
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::compare::record::Epoch;

    /// A finished one-epoch run with these figures.
    pub(in crate::compare) fn run(
        name: &str,
        dataset: &str,
        grid: u64,
        test: f64,
        robust: f64,
        secs: f64,
    ) -> Record {
        Record {
            dir: name.into(),
            name: name.into(),
            dataset: dataset.into(),
            model: "small-cnn".into(),
            space: "discrete",
            strategy: name.into(),
            device: "cpu".into(),
            epochs_done: 2,
            epochs_planned: 2,
            finished: true,
            test_acc: test,
            robust_acc: Some(robust),
            grid_size: grid,
            subset: 100,
            wall_seconds: secs,
            epochs: vec![Epoch {
                epoch: 1,
                train_loss: 1.0,
                test_acc: test,
                robust_acc: Some(robust),
                test_loss: Some(1.2),
                lr: Some(0.1),
                elapsed: secs,
            }],
            config_text: String::new(),
            attacks: Vec::new(),
            seedless: name.into(),
        }
    }

    #[test]
    fn best_values_are_bold_and_wall_time_is_h_mm_ss() {
        let runs = [
            run("a", "shapes", 3, 0.9, 0.2, 3725.0),
            run("b", "shapes", 3, 0.8, 0.6, 59.6),
        ];
        let md = markdown(&runs);
        assert!(md.contains("| a | shapes | small-cnn | discrete | a | **0.9000** | 0.2000 | 3 × 100 | 1:02:05 | 2/2 | cpu |"), "{md}");
        assert!(md.contains("| b | shapes | small-cnn | discrete | b | 0.8000 | **0.6000** | 3 × 100 | **0:01:00** | 2/2 | cpu |"), "{md}");
        assert!(!md.contains("groups"), "{md}");
    }

    #[test]
    fn runs_measured_differently_are_grouped_not_ranked() {
        let runs = [
            run("a", "shapes", 3, 0.9, 0.2, 10.0),
            run("b", "cifar10", 3, 0.5, 0.1, 20.0),
            run("c", "shapes", 81, 0.95, 0.1, 30.0),
            run("d", "shapes", 3, 0.7, 0.4, 40.0),
        ];
        assert_eq!(groups(&runs), (vec!['A', 'B', 'C', 'A'], 3));
        let md = markdown(&runs);
        assert!(md.starts_with("| group | run |"), "{md}");
        // b and c are alone in their groups: nothing of theirs is marked best.
        assert!(
            md.contains("| B | b | cifar10 | small-cnn | discrete | b | 0.5000 | 0.1000 |"),
            "{md}"
        );
        assert!(
            md.contains("| C | c | shapes | small-cnn | discrete | c | 0.9500 | 0.1000 |"),
            "{md}"
        );
        assert!(
            md.contains("| A | a | shapes | small-cnn | discrete | a | **0.9000** | 0.2000 |"),
            "{md}"
        );
        assert!(md.contains("3 groups measured differently"), "{md}");
        let csv = csv(&runs);
        assert!(
            csv.lines()
                .nth(2)
                .unwrap()
                .starts_with("b,finished,B,cifar10,"),
            "{csv}"
        );
    }

    #[test]
    fn csv_quotes_cells_with_commas() {
        let mut r = run("x,y", "shapes", 3, 0.5, 0.5, 1.0);
        r.finished = false;
        r.epochs_done = 1;
        let csv = csv(&[r]);
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .starts_with("\"x,y\",unfinished (1/2 epochs),A,"),
            "{csv}"
        );
    }
}
