//! `summary.json`: a finished run's final figures and what it was.
use serde::{Deserialize, Serialize};

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Final standard accuracy.
    pub test_acc: f64,
    /// Fraction of the robust subset classified correctly under every grid chromosome.
    pub robust_acc: f64,
    /// Chromosomes in the robust grid.
    pub robust_grid_size: usize,
    /// Test images the robust accuracy was measured on.
    pub robust_subset: usize,
    /// Mean over images of the fraction of grid chromosomes classified correctly.
    pub robust_grid_acc: f64,
    /// Accuracy under one random chromosome per image.
    pub random_perturbation_acc: f64,
    /// Wall seconds of every epoch, over every session of the run.
    pub train_seconds: f64,
    /// Epochs trained.
    pub epochs: u32,
    /// `strategy.name`.
    pub strategy: String,
    /// `model.arch`.
    pub model: String,
    /// `dataset.name`.
    pub dataset: String,
    /// The device it ran on (`cpu`, `cuda(0)`).
    pub device: String,
    /// `seed`.
    pub seed: u64,
    /// Training images.
    pub train_images: u64,
    /// Test images.
    pub test_images: u64,
    /// The fuzzaug version that wrote it.
    pub fuzzaug: String,
    /// The checkpoint kept with `[train] keep_best`, when the run keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<BestCheckpoint>,
}

/// `summary.json`'s `best`: the epoch `checkpoints/best` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestCheckpoint {
    /// The metric (`robust_acc` or `test_acc`).
    pub metric: String,
    /// Its value at that epoch.
    pub value: f64,
    /// The epoch (1-based, as in `metrics.csv`).
    pub epoch: u32,
    /// The checkpoint's file name under `checkpoints/`.
    pub checkpoint: String,
}
