//! What a person watching a run sees: a start-up header (config, device and threads, model and
//! its size, data, genes, strategy), one bar over the whole run's batches with the elapsed time
//! and the run's ETA, and the evaluation phases (test accuracy, robust grid) under their own
//! label. Every line and the bar name the run, so several configs run in turn stay apart.
use crate::{setup::Experiment, train::Session};
use indicatif::{ProgressBar, ProgressStyle};
use std::{io::IsTerminal, time::Duration};

/// The run's progress display.
pub struct Progress {
    /// The bar (hidden when quiet or when stderr is not a terminal).
    pub bar: ProgressBar,
    name: String,
    quiet: bool,
    batches_per_epoch: u64,
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Progress {
    /// The display of a run of `session` named `name` whose next epoch is `first_epoch`
    /// (0-based).
    pub fn new(name: &str, session: &Session, quiet: bool, first_epoch: u32) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        let batch = u64::from(session.config.train.batch_size.max(1));
        let batches_per_epoch = (session.data.train.len() as u64).div_ceil(batch);
        let p = Self {
            bar,
            name: name.to_string(),
            quiet,
            batches_per_epoch,
        };
        p.training(session.config.train.epochs, first_epoch);
        p.bar.reset_eta();
        p
    }

    /// The start-up header of a run of `exp` (unless quiet).
    pub fn header(&self, exp: &Experiment, session: &Session, first_epoch: u32) {
        if self.quiet {
            return;
        }
        let c = &session.config;
        let info = &session.parts.dataset_info;
        let params: u64 = session
            .vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as u64)
            .sum();
        let genes: Vec<String> = session
            .parts
            .genes
            .iter()
            .map(|g| format!("{} [{}, {}]", g.spec.name, g.spec.lo, g.spec.hi))
            .collect();
        let settings: Vec<String> = c
            .strategy
            .settings
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let strategy = if settings.is_empty() {
            c.strategy.name.clone()
        } else {
            format!("{} ({})", c.strategy.name, settings.join(", "))
        };
        let start = if first_epoch > 0 {
            format!(", resuming after epoch {first_epoch}")
        } else {
            String::new()
        };
        let lines = [
            format!(
                "run {} from {}: {} epochs of {} batches of {}{start}",
                self.name,
                exp.source.path.display(),
                c.train.epochs,
                self.batches_per_epoch,
                c.train.batch_size
            ),
            format!(
                "  device {:?}, {} CPU threads | model {}, {} parameters",
                session.device,
                tch::get_num_threads(),
                c.model.name(),
                thousands(params)
            )
            .to_lowercase(),
            format!(
                "  data {}: {} training and {} test images of {}×{}×{}, {} classes",
                c.dataset.name,
                thousands(info.train_len),
                thousands(info.test_len),
                info.channels,
                info.height,
                info.width,
                info.classes.len()
            ),
            format!(
                "  genes {} | strategy {strategy}",
                if genes.is_empty() {
                    "none".to_string()
                } else {
                    genes.join(", ")
                }
            ),
        ];
        for line in lines {
            log::info!("{line}");
        }
    }

    /// The training bar over every batch of the run, positioned at epoch `epoch` (0-based) of
    /// `epochs`.
    pub fn training(&self, epochs: u32, epoch: u32) {
        self.bar.disable_steady_tick();
        let template =
            "{prefix} {bar:30} {percent:>3}% | {elapsed_precise} elapsed, run ETA {eta_precise} | {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_prefix(self.name.clone());
        self.bar
            .set_length(self.batches_per_epoch * u64::from(epochs));
        self.bar
            .set_position(self.batches_per_epoch * u64::from(epoch));
    }

    /// An evaluation phase labelled `label` with `steps` steps (0: a spinner); returns a
    /// function to call once per step. The training bar comes back with [`Progress::training`].
    pub fn phase(&self, label: &str, steps: u64) -> ProgressBar {
        let phase = if self.bar.is_hidden() {
            ProgressBar::hidden()
        } else if steps == 0 {
            let p = ProgressBar::new_spinner();
            p.enable_steady_tick(Duration::from_millis(150));
            p
        } else {
            ProgressBar::new(steps)
        };
        let template = if steps == 0 {
            "{prefix} {spinner} {msg} | {elapsed_precise}"
        } else {
            "{prefix} {bar:30} {pos}/{len} {msg} | {elapsed_precise}, ETA {eta_precise}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            phase.set_style(style.progress_chars("=> "));
        }
        phase.set_prefix(self.name.clone());
        phase.set_message(label.to_string());
        // The phase bar takes the training bar's line while it runs.
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        phase
    }

    /// Ends a phase bar and gives the line back to the training bar.
    pub fn end_phase(&self, phase: ProgressBar) {
        phase.finish_and_clear();
        if !self.quiet && std::io::stderr().is_terminal() {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    /// A log line naming the run, printed above the bar (unless quiet).
    pub fn line(&self, text: &str) {
        if !self.quiet {
            self.bar.suspend(|| log::info!("{}: {text}", self.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(94_762), "94,762");
        assert_eq!(thousands(23_528_522), "23,528,522");
    }
}
