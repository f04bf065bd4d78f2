//! Learning-rate schedules (`train.schedule`), each with an optional linear warm-up.
use crate::config::ScheduleConfig;
use std::f64::consts::PI;

/// The learning rate at `progress` epochs into training (fractional within an epoch), for a
/// run of `epochs` epochs starting from `base`.
pub fn learning_rate(schedule: &ScheduleConfig, base: f64, progress: f64, epochs: u32) -> f64 {
    let epoch = progress.floor() as u32;
    let (decayed, warmup) = match *schedule {
        ScheduleConfig::Constant { warmup_epochs } => (base, warmup_epochs),
        ScheduleConfig::Step {
            every,
            gamma,
            warmup_epochs,
        } => (base * gamma.powi((epoch / every) as i32), warmup_epochs),
        ScheduleConfig::Multistep {
            ref milestones,
            gamma,
            warmup_epochs,
        } => {
            let passed = milestones.iter().filter(|&&m| m <= epoch).count();
            (base * gamma.powi(passed as i32), warmup_epochs)
        }
        ScheduleConfig::Cosine {
            min_lr,
            warmup_epochs,
        } => {
            let span = f64::from(epochs.saturating_sub(warmup_epochs).max(1));
            let t = ((progress - f64::from(warmup_epochs)) / span).clamp(0.0, 1.0);
            (
                min_lr + (base - min_lr) * 0.5 * (1.0 + (PI * t).cos()),
                warmup_epochs,
            )
        }
    };
    if warmup > 0 && progress < f64::from(warmup) {
        decayed * (progress / f64::from(warmup)).max(1e-3)
    } else {
        decayed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn step_and_multistep() {
        let s = ScheduleConfig::Step {
            every: 80,
            gamma: 0.1,
            warmup_epochs: 0,
        };
        assert!(close(learning_rate(&s, 0.05, 79.9, 200), 0.05));
        assert!(close(learning_rate(&s, 0.05, 80.0, 200), 0.005));
        assert!(close(learning_rate(&s, 0.05, 199.0, 200), 0.0005));
        let m = ScheduleConfig::Multistep {
            milestones: vec![81, 162],
            gamma: 0.1,
            warmup_epochs: 0,
        };
        assert!(close(learning_rate(&m, 0.1, 80.5, 200), 0.1));
        assert!(close(learning_rate(&m, 0.1, 81.0, 200), 0.01));
        assert!(close(learning_rate(&m, 0.1, 170.0, 200), 0.001));
    }

    #[test]
    fn cosine_with_warmup() {
        let c = ScheduleConfig::Cosine {
            min_lr: 0.0,
            warmup_epochs: 2,
        };
        assert!(close(learning_rate(&c, 1.0, 1.0, 12), 0.5));
        assert!(close(learning_rate(&c, 1.0, 2.0, 12), 1.0));
        assert!(close(learning_rate(&c, 1.0, 7.0, 12), 0.5));
        assert!(learning_rate(&c, 1.0, 12.0, 12).abs() < 1e-12);
        assert!(
            learning_rate(&c, 1.0, 0.0, 12) > 0.0,
            "warm-up never gives a zero step"
        );
    }

    #[test]
    fn constant() {
        assert!(close(
            learning_rate(
                &ScheduleConfig::Constant { warmup_epochs: 0 },
                0.3,
                55.5,
                100
            ),
            0.3
        ));
    }
}
