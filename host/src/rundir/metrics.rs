//! `metrics.csv` and `metrics.jsonl`: one row per epoch.
use anyhow::Context;
use serde_json::{json, Map, Value};
use std::{
    fs::OpenOptions,
    io::Write,
    path::{Path, PathBuf},
};

/// One contract column: its name (CSV header and JSONL key), its value, and its CSV decimals
/// (`None`: an integer).
struct Column {
    name: &'static str,
    value: fn(&Row) -> Value,
    decimals: Option<usize>,
}

/// The contract columns users and tools rely on, in order: the only place they are spelled.
const CONTRACT: [Column; 11] = [
    Column {
        name: "epoch",
        value: |r| json!(r.epoch),
        decimals: None,
    },
    Column {
        name: "lr",
        value: |r| json!(r.lr),
        decimals: Some(8),
    },
    Column {
        name: "train_loss",
        value: |r| json!(r.train_loss),
        decimals: Some(6),
    },
    Column {
        name: "train_acc",
        value: |r| json!(r.train_acc),
        decimals: Some(6),
    },
    Column {
        name: "test_loss",
        value: |r| json!(r.test_loss),
        decimals: Some(6),
    },
    Column {
        name: "test_acc",
        value: |r| json!(r.test_acc),
        decimals: Some(6),
    },
    Column {
        name: "robust_acc",
        value: |r| json!(r.robust_acc),
        decimals: Some(6),
    },
    Column {
        name: "epoch_seconds",
        value: |r| json!(r.epoch_seconds),
        decimals: Some(3),
    },
    Column {
        name: "train_images_per_second",
        value: |r| json!(r.train_images_per_second),
        decimals: Some(1),
    },
    Column {
        name: "scored_candidates",
        value: |r| json!(r.scored_candidates),
        decimals: None,
    },
    Column {
        name: SKIPPED_ROBUST,
        value: |r| json!(r.skipped),
        decimals: None,
    },
];

/// The strategy counter that fills the contract column of the same name: samples the strategy
/// did not search because they were already robust.
pub const SKIPPED_ROBUST: &str = "skipped_robust";

/// The JSONL key under which a row holds the strategy's counters (so that no counter name can
/// overwrite a column).
pub const STRATEGY_COUNTERS: &str = "strategy";

/// JSONL keys of a row's robust evaluation, beside the `robust_acc` column: the mean grid
/// accuracy, the random-perturbation accuracy, the grid's size and the images it ran on.
pub const ROBUST_DETAILS: [&str; 4] = [
    "robust_grid_acc",
    "random_perturbation_acc",
    "robust_grid_size",
    "robust_subset",
];

/// The JSONL key of a row's robust accuracy under each of the run's `[[eval.protocols]]`.
pub const PROTOCOLS: &str = "protocols";

/// The CSV columns, in order.
pub fn columns() -> Vec<&'static str> {
    CONTRACT.iter().map(|c| c.name).collect()
}

/// Columns that hold timings, which differ between otherwise identical runs.
pub const TIMING_COLUMNS: &[&str] = &["epoch_seconds", "train_images_per_second"];

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based epoch.
    pub epoch: u32,
    /// Learning rate at the epoch's start.
    pub lr: f64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_acc: f64,
    /// Test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_acc: f64,
    /// Robust accuracy, on epochs with a grid evaluation.
    pub robust_acc: Option<f64>,
    /// Wall time of the epoch's training.
    pub epoch_seconds: f64,
    /// Training throughput.
    pub train_images_per_second: f64,
    /// Candidates scored.
    pub scored_candidates: u64,
    /// Samples the strategy skipped as robust (its [`SKIPPED_ROBUST`] counter and column).
    pub skipped: u64,
    /// The host's further statistics (where the time went, robust-evaluation details), JSONL
    /// only.
    pub extra: Map<String, Value>,
    /// The strategy's counters, JSONL only, under [`STRATEGY_COUNTERS`].
    pub counters: Map<String, Value>,
}

impl Row {
    /// Records a robust evaluation (grid accuracy, random-perturbation accuracy, grid size,
    /// subset) in the row.
    pub fn set_robust(&mut self, robust_acc: f64, details: [Value; 4]) {
        self.robust_acc = Some(robust_acc);
        for (key, v) in ROBUST_DETAILS.into_iter().zip(details) {
            self.extra.insert(key.into(), v);
        }
    }

    /// Records the robust accuracy under each of the run's `[[eval.protocols]]` (JSONL only,
    /// under [`PROTOCOLS`]).
    pub fn set_protocols(&mut self, figures: impl IntoIterator<Item = (String, f64)>) {
        let m: Map<String, Value> = figures.into_iter().map(|(k, v)| (k, json!(v))).collect();
        self.extra.insert(PROTOCOLS.into(), Value::Object(m));
    }

    /// Every number of the row by name, for loggers: the contract columns but `epoch` (absent
    /// when empty), the robust details, `protocols/<name>` and `strategy/<counter>`.
    pub fn scalars(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = CONTRACT
            .iter()
            .filter(|c| c.name != "epoch")
            .filter_map(|c| (c.value)(self).as_f64().map(|v| (c.name.to_string(), v)))
            .collect();
        for key in ROBUST_DETAILS {
            if let Some(v) = self.extra.get(key).and_then(Value::as_f64) {
                out.push((key.to_string(), v));
            }
        }
        let nested = |prefix: &str, m: Option<&Map<String, Value>>| {
            m.into_iter()
                .flatten()
                .filter_map(move |(k, v)| v.as_f64().map(|v| (format!("{prefix}/{k}"), v)))
                .collect::<Vec<_>>()
        };
        out.extend(nested(
            PROTOCOLS,
            self.extra.get(PROTOCOLS).and_then(Value::as_object),
        ));
        out.extend(nested(STRATEGY_COUNTERS, Some(&self.counters)));
        out
    }

    fn csv(&self) -> String {
        let cells: Vec<String> = CONTRACT
            .iter()
            .map(|c| match ((c.value)(self), c.decimals) {
                (Value::Null, _) => String::new(),
                (Value::Number(n), Some(d)) => format!("{:.*}", d, n.as_f64().unwrap_or(f64::NAN)),
                (v, _) => v.to_string(),
            })
            .collect();
        cells.join(",") + "\n"
    }

    fn json(&self) -> Value {
        let mut m: Map<String, Value> = CONTRACT
            .iter()
            .map(|c| (c.name.to_string(), (c.value)(self)))
            .collect();
        m.extend(self.extra.clone());
        m.insert(
            STRATEGY_COUNTERS.into(),
            Value::Object(self.counters.clone()),
        );
        Value::Object(m)
    }
}

/// Appends rows to both files of a run directory.
pub struct Metrics {
    csv: PathBuf,
    jsonl: PathBuf,
}

/// The metrics files of a run directory as they must be when its training (re)starts: the
/// rows of the finished epochs, nothing after. Checked by [`Metrics::prepare`] before the run
/// touches anything, written by [`Prepared::write`].
pub struct Prepared {
    metrics: Metrics,
    csv: String,
    json: String,
}

impl Metrics {
    /// The appender of `dir`'s files as they are.
    pub fn at(dir: &Path) -> Self {
        Self {
            csv: dir.join(super::METRICS_CSV),
            jsonl: dir.join(super::METRICS_JSONL),
        }
    }

    /// The files of `dir` keeping the rows of epochs `1..=keep_epochs` (a resumed run) and
    /// dropping what an interrupted run wrote after them; refused when a kept row is missing or
    /// out of order, since the run's history would then be incomplete.
    pub fn prepare(dir: &Path, keep_epochs: u32) -> anyhow::Result<Prepared> {
        let metrics = Self::at(dir);
        let keep = keep_epochs as usize;
        let csv_rows: Vec<String> = read_lines(&metrics.csv)?
            .into_iter()
            .skip(1)
            .take(keep)
            .collect();
        let json_rows: Vec<String> = read_lines(&metrics.jsonl)?.into_iter().take(keep).collect();
        for (file, rows) in [(&metrics.csv, &csv_rows), (&metrics.jsonl, &json_rows)] {
            let in_order = rows
                .iter()
                .enumerate()
                .take_while(|(i, r)| epoch_of(r) == Some(i + 1))
                .count();
            if in_order < keep {
                anyhow::bail!(
                    "{} does not hold the rows of the {keep} epochs the checkpoint has finished (it has {in_order} in order); the run's history would be incomplete, so it is not resumed",
                    file.display(),
                );
            }
        }
        let mut csv = columns().join(",") + "\n";
        for r in csv_rows {
            csv += &(r + "\n");
        }
        let json = json_rows.into_iter().map(|r| r + "\n").collect();
        Ok(Prepared { metrics, csv, json })
    }

    /// Appends one epoch: one write of whole lines to each file, synced, so that a crash
    /// leaves whole rows (a cut last row is dropped by the next [`Metrics::prepare`]).
    pub fn append(&self, row: &Row) -> anyhow::Result<()> {
        append(&self.csv, &row.csv())?;
        append(&self.jsonl, &(row.json().to_string() + "\n"))
    }
}

impl Prepared {
    /// Writes both files (atomically) and returns the appender.
    pub fn write(self) -> anyhow::Result<Metrics> {
        for (path, text) in [
            (&self.metrics.csv, &self.csv),
            (&self.metrics.jsonl, &self.json),
        ] {
            crate::atomic::write(path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(self.metrics)
    }
}

/// The epoch of a CSV row (first cell) or a JSONL row (`epoch` key).
fn epoch_of(row: &str) -> Option<usize> {
    if row.starts_with('{') {
        let v: Value = serde_json::from_str(row).ok()?;
        return v.get("epoch")?.as_u64().map(|e| e as usize);
    }
    row.split(',').next()?.trim().parse().ok()
}

fn read_lines(p: &Path) -> anyhow::Result<Vec<String>> {
    match std::fs::read_to_string(p) {
        Ok(t) => Ok(t.lines().map(str::to_string).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

fn append(p: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(p)
        .with_context(|| format!("opening {}", p.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", p.display()))?;
    f.sync_data()
        .with_context(|| format!("writing {}", p.display()))
}

/// The sum of `epoch_seconds` over the first `epochs` rows of a `metrics.csv` (0 when it is
/// unreadable).
pub fn epoch_seconds(csv: &Path, epochs: u32) -> f64 {
    let Ok((header, rows)) = read_csv(csv) else {
        return 0.0;
    };
    let Some(col) = header.iter().position(|h| h == "epoch_seconds") else {
        return 0.0;
    };
    rows.iter()
        .take(epochs as usize)
        .filter_map(|r| r.get(col)?.parse::<f64>().ok())
        .sum()
}

/// (grid size, subset) of the latest robust evaluation in a `metrics.jsonl`.
pub fn latest_robust_sizes(jsonl: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(jsonl).ok()?;
    text.lines().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        Some((
            v.get(ROBUST_DETAILS[2])?.as_u64()?,
            v.get(ROBUST_DETAILS[3])?.as_u64()?,
        ))
    })
}

/// Reads `metrics.csv` back as (header, rows of cells).
pub fn read_csv(path: &Path) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let lines = read_lines(path)?;
    let mut it = lines.into_iter();
    let header = it
        .next()
        .map(|h| h.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    Ok((
        header,
        it.map(|l| l.split(',').map(str::to_string).collect())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(epoch: u32) -> Row {
        Row {
            epoch,
            lr: 0.1,
            train_loss: 1.0,
            train_acc: 0.5,
            test_loss: 1.1,
            test_acc: 0.4,
            robust_acc: None,
            epoch_seconds: 2.0,
            train_images_per_second: 100.0,
            scored_candidates: 0,
            skipped: 0,
            extra: Map::new(),
            counters: Map::new(),
        }
    }

    #[test]
    fn a_cut_last_row_is_dropped_and_a_missing_row_refused() {
        let d = tempfile::tempdir().unwrap();
        let m = Metrics::prepare(d.path(), 0).unwrap().write().unwrap();
        for e in 1..=2 {
            m.append(&row(e)).unwrap();
        }
        // A crash while appending epoch 3 cut its row.
        append(&d.path().join("metrics.csv"), "3,0.1,1.0").unwrap();
        append(&d.path().join("metrics.jsonl"), "{\"epoch\":3,\"lr\"").unwrap();
        Metrics::prepare(d.path(), 2).unwrap().write().unwrap();
        assert_eq!(read_csv(&d.path().join("metrics.csv")).unwrap().1.len(), 2);
        let e = Metrics::prepare(d.path(), 3).err().unwrap().to_string();
        assert_eq!(
            e,
            format!(
                "{} does not hold the rows of the 3 epochs the checkpoint has finished (it has 2 in order); the run's history would be incomplete, so it is not resumed",
                d.path().join("metrics.csv").display()
            )
        );
    }

    #[test]
    fn resume_keeps_only_finished_epochs() {
        let d = tempfile::tempdir().unwrap();
        let m = Metrics::prepare(d.path(), 0).unwrap().write().unwrap();
        for e in 1..=3 {
            m.append(&row(e)).unwrap();
        }
        let (header, rows) = read_csv(&d.path().join("metrics.csv")).unwrap();
        assert_eq!(header, columns());
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0][6], "",
            "robust_acc is empty without a grid evaluation"
        );
        Metrics::prepare(d.path(), 2).unwrap().write().unwrap();
        assert_eq!(read_csv(&d.path().join("metrics.csv")).unwrap().1.len(), 2);
        assert_eq!(
            std::fs::read_to_string(d.path().join("metrics.jsonl"))
                .unwrap()
                .lines()
                .count(),
            2
        );
    }
}
