//! The comparison figures, one line per run, each as PNG and SVG: training loss, test accuracy
//! and robust accuracy per epoch, and robust accuracy against training wall time.
use super::record::Record;
use crate::report::plot::{line_chart, Labels, Series};
use std::path::Path;

/// A figure: file stem, title, axes, and how to read a run's points.
struct Figure {
    stem: &'static str,
    title: &'static str,
    x: &'static str,
    y: &'static str,
    points: fn(&Record) -> Vec<(f64, f64)>,
}

const FIGURES: &[Figure] = &[
    Figure {
        stem: "train_loss",
        title: "Training loss",
        x: "epoch",
        y: "cross-entropy (nats)",
        points: |r| {
            r.epochs
                .iter()
                .map(|e| (f64::from(e.epoch), e.train_loss))
                .collect()
        },
    },
    Figure {
        stem: "test_acc",
        title: "Standard (test) accuracy",
        x: "epoch",
        y: "accuracy (fraction of test images)",
        points: |r| {
            r.epochs
                .iter()
                .map(|e| (f64::from(e.epoch), e.test_acc))
                .collect()
        },
    },
    Figure {
        stem: "robust_acc",
        title: "Robust accuracy",
        x: "epoch",
        y: "robust accuracy (fraction of test images)",
        points: |r| {
            r.epochs
                .iter()
                .filter_map(|e| Some((f64::from(e.epoch), e.robust_acc?)))
                .collect()
        },
    },
    Figure {
        stem: "robust_vs_time",
        title: "Robust accuracy against training time",
        x: "training wall time (minutes)",
        y: "robust accuracy (fraction of test images)",
        points: |r| {
            r.epochs
                .iter()
                .filter_map(|e| Some((e.elapsed / 60.0, e.robust_acc?)))
                .collect()
        },
    },
];

/// Writes every figure into `out` as `<stem>.png` and `<stem>.svg`; returns (stem, title) of
/// each figure written (a figure no run has points for is skipped).
pub fn write(out: &Path, runs: &[Record]) -> anyhow::Result<Vec<(&'static str, &'static str)>> {
    let mut written = Vec::new();
    for f in FIGURES {
        let series: Vec<Series> = runs
            .iter()
            .map(|r| Series {
                name: if r.finished {
                    r.name.clone()
                } else {
                    format!("{} (unfinished)", r.name)
                },
                points: (f.points)(r),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        let labels = Labels {
            title: f.title,
            x: f.x,
            y: f.y,
        };
        for ext in ["png", "svg"] {
            line_chart(&out.join(format!("{}.{ext}", f.stem)), &labels, &series)?;
        }
        written.push((f.stem, f.title));
    }
    Ok(written)
}
