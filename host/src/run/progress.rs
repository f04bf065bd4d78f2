//! What a person watching a run sees: a start-up header (config, device and threads, model and
//! its size, data, genes, strategy), one bar over the whole run's batches with the elapsed time
//! and the run's ETA, and the evaluation phases (test accuracy, robust grid) under their own
//! label. Every line and the bar name the run, so several configs run in turn stay apart.
use crate::{setup::Experiment, train::Session};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

/// The run's progress display.
pub struct Progress {
    /// The bar (hidden when quiet or when stderr is not a terminal).
    pub bar: ProgressBar,
    name: String,
    quiet: bool,
    batches_per_epoch: u64,
    /// When this session started, and the bar's position then.
    started: Instant,
    first_position: u64,
}

/// Seconds as h:mm:ss.
fn clock(secs: u64) -> String {
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
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
        Self {
            bar,
            name: name.to_string(),
            quiet,
            batches_per_epoch,
            started: Instant::now(),
            first_position: batches_per_epoch * u64::from(first_epoch),
        }
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
        self.bar.suspend(|| {
            for line in lines {
                log::info!("{line}");
            }
        });
    }

    /// The training bar over every batch of the run, positioned at epoch `epoch` (0-based) of
    /// `epochs`. The run's ETA counts from this session's start over the batches it has trained,
    /// so the evaluations between epochs are part of the estimate.
    pub fn training(&self, epochs: u32, epoch: u32) {
        self.bar.disable_steady_tick();
        let (started, first) = (self.started, self.first_position);
        let eta = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let done = state.pos().saturating_sub(first);
            let left = state.len().unwrap_or(0).saturating_sub(state.pos());
            let text = if done == 0 {
                "--:--:--".to_string()
            } else {
                let secs = started.elapsed().as_secs_f64() * left as f64 / done as f64;
                clock(secs as u64)
            };
            let _ = w.write_str(&text);
        };
        let template =
            "{prefix} {bar:30} {percent:>3}% | {run_elapsed} elapsed, run ETA {run_eta} | {msg}";
        let elapsed = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&clock(started.elapsed().as_secs()));
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            let style = style
                .with_key("run_eta", eta)
                .with_key("run_elapsed", elapsed)
                .progress_chars("=> ");
            self.bar.set_style(style);
        }
        self.bar.set_prefix(self.name.clone());
        self.bar
            .set_length(self.batches_per_epoch * u64::from(epochs));
        self.bar
            .set_position(self.batches_per_epoch * u64::from(epoch));
    }

    /// Turns the bar into the evaluation phase `label` of `steps` steps (0: a spinner) and
    /// returns it, to advance once per step; [`Progress::training`] turns it back.
    pub fn phase(&self, label: &str, steps: u64) -> ProgressBar {
        let template = if steps == 0 {
            "{prefix} {spinner} {msg}"
        } else {
            "{prefix} {bar:30} {pos}/{len} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_length(steps);
        self.bar.set_position(0);
        self.bar.set_message(label.to_string());
        if steps == 0 {
            self.bar.enable_steady_tick(Duration::from_millis(150));
        }
        self.bar.clone()
    }

    /// Ends an evaluation phase.
    pub fn end_phase(&self, _phase: ProgressBar) {
        self.bar.disable_steady_tick();
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
    fn clock_is_hours_minutes_seconds() {
        assert_eq!(clock(0), "0:00:00");
        assert_eq!(clock(3725), "1:02:05");
    }

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(94_762), "94,762");
        assert_eq!(thousands(23_528_522), "23,528,522");
    }
}
