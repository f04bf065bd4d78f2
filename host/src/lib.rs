//! fuzzaug, the host: the CLI, config, plugin registry and (in later modules) the data,
//! augmentation, model, training, evaluation and report code that drives libtorch.
#![warn(missing_docs)]

pub mod atomic;
pub mod augment;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod data;
pub mod eval;
pub mod fetch;
pub mod global_rng;
pub mod models;
pub mod plugins;
pub mod report;
pub mod run;
pub mod rundir;
pub mod runtime;
pub mod scaffold;
pub mod setup;
pub mod sweep;
pub mod tensorboard;
pub mod train;
pub mod weights;
