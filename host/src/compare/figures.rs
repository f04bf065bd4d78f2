//! The comparison figures, one line per run, each as PNG and SVG: training and test loss,
//! learning rate, test accuracy and robust accuracy per epoch, and robust accuracy against
//! training wall time.
use super::record::Record;
use crate::report::plot::{line_chart, Axis, Chart, Scale, Series};
use std::path::Path;

/// What a figure's y axis shows, which decides its scale.
#[derive(Clone, Copy)]
enum Quantity {
    Loss,
    Accuracy,
}

/// A figure: file stem, title, caption, axes, and how to read a run's points.
struct Figure {
    stem: &'static str,
    title: &'static str,
    /// What the report says under the figure: what it shows and how it was measured, not the
    /// title again (the title is drawn in the figure).
    caption: &'static str,
    x: Axis<'static>,
    y: &'static str,
    quantity: Quantity,
    points: fn(&Record) -> Vec<(f64, f64)>,
}

const MINUTES: Axis<'static> = Axis {
    label: "training wall time (minutes)",
    scale: Scale::Auto,
};

const EPOCH: Axis<'static> = Axis {
    label: "epoch",
    scale: Scale::Integer,
};

const FIGURES: &[Figure] = &[
    Figure {
        stem: "train_loss",
        title: "Training loss",
        caption: "Mean cross-entropy over each epoch's training batches, as the strategy \
                  augmented them; one line per run.",
        x: EPOCH,
        y: "cross-entropy (nats)",
        quantity: Quantity::Loss,
        points: |r| {
            r.epochs
                .iter()
                .map(|e| (f64::from(e.epoch), e.train_loss))
                .collect()
        },
    },
    Figure {
        stem: "test_loss",
        title: "Test loss",
        caption: "Mean cross-entropy on the unperturbed test images after each epoch; a \
                  rising line while training loss falls is overfitting.",
        x: EPOCH,
        y: "cross-entropy (nats)",
        quantity: Quantity::Loss,
        points: |r| {
            r.epochs
                .iter()
                .filter_map(|e| Some((f64::from(e.epoch), e.test_loss?)))
                .collect()
        },
    },
    Figure {
        stem: "lr",
        title: "Learning rate",
        caption: "The step size of each epoch's optimiser updates, as the schedule set it: \
                  runs compared on different schedules show it here.",
        x: EPOCH,
        y: "learning rate",
        quantity: Quantity::Loss,
        points: |r| {
            r.epochs
                .iter()
                .filter_map(|e| Some((f64::from(e.epoch), e.lr?)))
                .collect()
        },
    },
    Figure {
        stem: "test_acc",
        title: "Standard (test) accuracy",
        caption: "Fraction of the unperturbed test images classified correctly after each \
                  epoch; one line per run.",
        x: EPOCH,
        y: "accuracy (fraction of test images)",
        quantity: Quantity::Accuracy,
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
        caption: "Fraction of the evaluated test images classified correctly under every \
                  point of the robust grid, on the epochs that measured it; one line per run.",
        x: EPOCH,
        y: "robust accuracy (fraction of test images)",
        quantity: Quantity::Accuracy,
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
        caption: "The same robust accuracies placed at the training wall time each run had \
                  spent when it measured them: what a strategy's extra search costs.",
        x: MINUTES,
        y: "robust accuracy (fraction of test images)",
        quantity: Quantity::Accuracy,
        points: |r| {
            r.epochs
                .iter()
                .filter_map(|e| Some((e.elapsed / 60.0, e.robust_acc?)))
                .collect()
        },
    },
];

/// Writes every figure into `out` as `<stem>.png` and `<stem>.svg`, the accuracy axes on
/// `accuracy`: [`Scale::FRACTION`] (0 to 1, the default) or [`Scale::Auto`] (zoomed to the runs'
/// values, for runs a few points apart). Returns (stem, caption) of each figure written (a figure
/// no run has points for is skipped).
pub fn write(
    out: &Path,
    runs: &[Record],
    accuracy: Scale,
) -> anyhow::Result<Vec<(&'static str, &'static str)>> {
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
        let chart = Chart {
            title: f.title,
            x: f.x,
            y: Axis {
                label: f.y,
                scale: match f.quantity {
                    Quantity::Loss => Scale::Auto,
                    Quantity::Accuracy => accuracy,
                },
            },
        };
        for ext in ["png", "svg"] {
            line_chart(&out.join(format!("{}.{ext}", f.stem)), &chart, &series)?;
        }
        written.push((f.stem, f.caption));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_do_not_repeat_titles() {
        for f in FIGURES {
            let (caption, title) = (f.caption.to_lowercase(), f.title.to_lowercase());
            assert!(!caption.contains(&title), "{}: {}", f.stem, f.caption);
            assert!(caption.len() > title.len(), "{}: says more", f.stem);
        }
    }

    fn texts(svg: &str) -> Vec<String> {
        svg.split('>')
            .filter_map(|c| c.split('<').next())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// By default accuracy runs from 0 to 1; zoomed, the axis spans the runs' values only, and
    /// the loss and learning-rate figures are drawn either way.
    #[test]
    fn zoom_spans_the_values_and_every_figure_is_written() {
        let runs = [
            super::super::table::tests::run("a", "shapes", 3, 0.91, 0.52, 60.0),
            super::super::table::tests::run("b", "shapes", 3, 0.94, 0.55, 90.0),
        ];
        for (scale, zoomed) in [(Scale::FRACTION, false), (Scale::Auto, true)] {
            let dir = tempfile::tempdir().unwrap();
            let stems: Vec<&str> = write(dir.path(), &runs, scale)
                .unwrap()
                .iter()
                .map(|(s, _)| *s)
                .collect();
            assert_eq!(
                stems,
                [
                    "train_loss",
                    "test_loss",
                    "lr",
                    "test_acc",
                    "robust_acc",
                    "robust_vs_time"
                ]
            );
            let svg = std::fs::read_to_string(dir.path().join("test_acc.svg")).unwrap();
            let t = texts(&svg);
            let has = |x: &str| t.iter().any(|v| v == x);
            assert_eq!(has("0.0") && has("1.0"), !zoomed, "{t:?}");
            if zoomed {
                let ticks: Vec<f64> = t.iter().filter_map(|v| v.parse().ok()).collect();
                assert!(
                    ticks.iter().any(|&v| (0.9..=0.95).contains(&v)),
                    "a tick among the values: {t:?}"
                );
            }
        }
    }
}
