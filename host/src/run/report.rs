//! The end of a run: its plots and its summary.
use crate::{
    report::plot::{line_chart, Axis, Chart, Scale, Series},
    rundir::{metrics, summary::Summary, RunDir},
    train::{Robust, Session},
};

/// `plots/train_loss.png`, `test_loss.png`, `test_acc.png` and `lr.png` from `metrics.csv`,
/// and `robust_acc.png` when robust evaluation runs: whole-number epoch ticks, accuracy from 0
/// to 1, the learning rate from 0.
pub fn plots(dir: &RunDir) -> anyhow::Result<()> {
    let (header, rows) = metrics::read_csv(&dir.metrics_csv())?;
    let column = |name: &str| -> Vec<(f64, f64)> {
        let Some(c) = header.iter().position(|h| h == name) else {
            return Vec::new();
        };
        rows.iter()
            .filter_map(|r| Some((r.first()?.parse().ok()?, r.get(c)?.parse().ok()?)))
            .collect()
    };
    let name = dir
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("run")
        .to_string();
    let accuracy = Axis {
        label: "accuracy (fraction of test images)",
        scale: Scale::FRACTION,
    };
    let loss = |label| Axis {
        label,
        scale: Scale::Auto,
    };
    for (file, col, title, y) in [
        (
            "train_loss.png",
            "train_loss",
            "Training loss",
            loss("cross-entropy (nats)"),
        ),
        (
            "test_loss.png",
            "test_loss",
            "Test loss",
            loss("cross-entropy (nats)"),
        ),
        ("test_acc.png", "test_acc", "Test accuracy", accuracy),
        (
            "robust_acc.png",
            "robust_acc",
            "Robust accuracy",
            Axis {
                label: "robust accuracy (fraction of test images)",
                ..accuracy
            },
        ),
        (
            "lr.png",
            "lr",
            "Learning rate",
            Axis {
                label: "learning rate",
                scale: Scale::FromZero,
            },
        ),
    ] {
        let points = column(col);
        if points.is_empty() {
            continue;
        }
        let chart = Chart {
            title,
            x: Axis::epoch(),
            y,
        };
        let series = [Series {
            name: name.clone(),
            points,
        }];
        line_chart(&dir.plots().join(file), &chart, &series)?;
    }
    Ok(())
}

/// The summary of a finished run of `session`.
pub fn summary(session: &Session, test_acc: f64, robust: &Robust, train_seconds: f64) -> Summary {
    let c = &session.config;
    Summary {
        test_acc,
        robust_acc: robust.robust_acc,
        robust_grid_size: robust.grid_size,
        robust_subset: robust.subset,
        robust_grid_acc: robust.grid_acc,
        random_perturbation_acc: robust.random_acc,
        train_seconds,
        epochs: c.train.epochs,
        strategy: c.strategy.name.clone(),
        model: c.model.name(),
        dataset: c.dataset.name.clone(),
        device: format!("{:?}", session.device).to_lowercase(),
        seed: c.seed,
        train_images: session.parts.dataset_info.train_len,
        test_images: session.parts.dataset_info.test_len,
        fuzzaug: env!("CARGO_PKG_VERSION").to_string(),
        best: None,
    }
}
