//! Checks of the config that need no plugin: numbers in range, names well formed.
use super::{source::Source, Config, ConfigError, OptimizerConfig, ScheduleConfig};
use crate::models;

/// The integer keys whose own check asks for more than their type does (`*`: any entry of a
/// list), with that least value: a value of the wrong type or sign is refused with
/// `expected an integer ≥ N` for them, `≥ 0` for the other unsigned ones. The checks are here
/// ([`validate`]) and, for `eval.protocols`, in the threat model's.
pub(super) const MINIMUM: &[(&str, u64)] = &[
    ("train.epochs", 1),
    ("train.batch_size", 1),
    ("train.schedule.every", 1),
    ("train.schedule.milestones.*", 1),
    ("eval.robust_subset", 1),
    ("eval.protocols.*.k", 1),
    ("eval.protocols.*.budget", 1),
];

/// Every problem of `config` that can be seen without loading plugins, in file order of keys.
pub fn validate(config: &Config, source: &Source) -> Result<(), ConfigError> {
    let err = |key: &str, msg: String| Err(source.error_at(key, msg));
    if config.name.is_empty() || config.name.contains(['/', '\\']) || config.name.starts_with('.') {
        return err(
            "name",
            format!(
                "`name` must be a plain folder name (no `/`, not starting with `.`), got {:?}",
                config.name
            ),
        );
    }
    if let Err(m) = parse_device(&config.device) {
        return err("device", m);
    }
    if config.model.torchscript.is_some() && source.has("model.arch") {
        return err(
            "model.arch",
            "give either `model.arch` (a built-in network) or `model.torchscript` (your own \
             module), not both"
                .into(),
        );
    }
    if config.model.torchscript.is_some() && config.model.init.is_some() {
        return err(
            "model.init",
            "`model.init` loads weights into a built-in network; a `model.torchscript` module \
             starts from the weights it was saved with"
                .into(),
        );
    }
    if config.model.torchscript.is_none() && !models::ARCHS.contains(&config.model.arch.as_str()) {
        let unknown = models::ModelError::Unknown {
            name: config.model.arch.clone(),
        };
        return err("model.arch", unknown.to_string());
    }
    let t = &config.train;
    if t.epochs == 0 {
        return err("train.epochs", "`train.epochs` must be at least 1".into());
    }
    if t.batch_size == 0 {
        return err(
            "train.batch_size",
            "`train.batch_size` must be at least 1".into(),
        );
    }
    validate_optimizer(&t.optimizer, source)?;
    validate_schedule(&t.schedule, t.epochs, source)?;
    for (i, tr) in config.transforms.iter().enumerate() {
        if let Some([lo, hi]) = tr.range {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return err(
                    &format!("transforms.{i}.range"),
                    format!(
                        "`range` of `{}` must be [lo, hi] with lo < hi, got [{lo}, {hi}]",
                        tr.name
                    ),
                );
            }
        }
        if let Some(step) = tr.step {
            if !(step.is_finite() && step > 0.0) {
                return err(
                    &format!("transforms.{i}.step"),
                    format!("`step` of `{}` must be positive, got {step}", tr.name),
                );
            }
        }
        if let Some(j) = config.transforms[..i]
            .iter()
            .position(|o| o.name == tr.name)
        {
            return err(
                &format!("transforms.{i}.name"),
                format!(
                    "transform `{}` is listed twice (entries {} and {}); each gene may appear once",
                    tr.name,
                    j + 1,
                    i + 1
                ),
            );
        }
    }
    if config.eval.robust_subset == Some(0) {
        return err(
            "eval.robust_subset",
            "`eval.robust_subset` must be at least 1 (omit it to use the whole test set)".into(),
        );
    }
    if config.plugins.only_pinned && config.plugins.sha256.is_empty() {
        return err(
            "plugins.only_pinned",
            "`plugins.only_pinned` loads only the libraries pinned in `[plugins] sha256`, but it pins none, so no plugin would load; pin the libraries this config uses (`fuzzaug plugins --json` shows each library's sha256)".into(),
        );
    }
    for (lib, hash) in &config.plugins.sha256 {
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return err(
                &format!("plugins.sha256.{lib}"),
                format!("the SHA-256 of `{lib}` must be 64 hex digits, got {hash:?}"),
            );
        }
    }
    Ok(())
}

/// A `device` value: `auto`, `cpu`, `cuda` (= `cuda:0`) or `cuda:N`. The one parser of device
/// strings; [`crate::train::device`] resolves it on the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The first CUDA device when there is one, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device N.
    Cuda(usize),
}

/// Parses a `device` value.
pub fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    match s {
        "auto" => Ok(DeviceSpec::Auto),
        "cpu" => Ok(DeviceSpec::Cpu),
        "cuda" => Ok(DeviceSpec::Cuda(0)),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse::<usize>().ok())
            .map(DeviceSpec::Cuda)
            .ok_or_else(|| format!("`device` must be auto, cpu, cuda or cuda:N, got {s:?}")),
    }
}

fn positive(source: &Source, key: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(source.error_at(key, format!("`{key}` must be a positive number, got {v}")))
    }
}

fn in_unit(source: &Source, key: &str, v: f64, upper_inclusive: bool) -> Result<(), ConfigError> {
    let ok = v >= 0.0 && if upper_inclusive { v <= 1.0 } else { v < 1.0 };
    if ok {
        Ok(())
    } else {
        let bracket = if upper_inclusive { "]" } else { ")" };
        Err(source.error_at(key, format!("`{key}` must be in [0, 1{bracket}, got {v}")))
    }
}

fn validate_optimizer(o: &OptimizerConfig, source: &Source) -> Result<(), ConfigError> {
    let p = "train.optimizer";
    match *o {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            nesterov,
            weight_decay,
        } => {
            positive(source, &format!("{p}.lr"), lr)?;
            in_unit(source, &format!("{p}.momentum"), momentum, false)?;
            if nesterov && momentum == 0.0 {
                return Err(source.error_at(
                    &format!("{p}.nesterov"),
                    "Nesterov momentum needs `momentum` > 0",
                ));
            }
            if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
                return Err(source.error_at(
                    &format!("{p}.weight_decay"),
                    format!("`{p}.weight_decay` must be ≥ 0, got {weight_decay}"),
                ));
            }
        }
        OptimizerConfig::Adamw {
            lr,
            weight_decay,
            betas,
            eps,
        } => {
            positive(source, &format!("{p}.lr"), lr)?;
            positive(source, &format!("{p}.eps"), eps)?;
            in_unit(source, &format!("{p}.betas"), betas[0], false)?;
            in_unit(source, &format!("{p}.betas"), betas[1], false)?;
            if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
                return Err(source.error_at(
                    &format!("{p}.weight_decay"),
                    format!("`{p}.weight_decay` must be ≥ 0, got {weight_decay}"),
                ));
            }
        }
    }
    Ok(())
}

fn validate_schedule(s: &ScheduleConfig, epochs: u32, source: &Source) -> Result<(), ConfigError> {
    let p = "train.schedule";
    let warmup = match *s {
        ScheduleConfig::Constant { warmup_epochs } => warmup_epochs,
        ScheduleConfig::Step {
            every,
            gamma,
            warmup_epochs,
        } => {
            if every == 0 {
                return Err(source.error_at(
                    &format!("{p}.every"),
                    format!("`{p}.every` must be at least 1"),
                ));
            }
            in_unit(source, &format!("{p}.gamma"), gamma, true)?;
            warmup_epochs
        }
        ScheduleConfig::Multistep {
            ref milestones,
            gamma,
            warmup_epochs,
        } => {
            if milestones.windows(2).any(|w| w[0] >= w[1]) || milestones.first() == Some(&0) {
                return Err(source.error_at(&format!("{p}.milestones"), format!("`{p}.milestones` must be strictly increasing epochs ≥ 1, got {milestones:?}")));
            }
            in_unit(source, &format!("{p}.gamma"), gamma, true)?;
            warmup_epochs
        }
        ScheduleConfig::Cosine {
            min_lr,
            warmup_epochs,
        } => {
            if !(min_lr >= 0.0 && min_lr.is_finite()) {
                return Err(source.error_at(
                    &format!("{p}.min_lr"),
                    format!("`{p}.min_lr` must be ≥ 0, got {min_lr}"),
                ));
            }
            warmup_epochs
        }
    };
    if warmup >= epochs {
        return Err(source.error_at(
            &format!("{p}.warmup_epochs"),
            format!(
                "`{p}.warmup_epochs` ({warmup}) must be smaller than `train.epochs` ({epochs})"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`MINIMUM`] says what these checks refuse: one below the least value of each of its
    /// keys of `[train]` and `[eval]` is refused at that key (`eval.protocols` is checked with
    /// the threat model).
    #[test]
    fn the_listed_minimums_are_the_checks() {
        for (pattern, least) in MINIMUM {
            if pattern.starts_with("eval.protocols") {
                continue;
            }
            let below = least - 1;
            let (table, key) = pattern.split_once('.').unwrap();
            let line = match key {
                "schedule.every" => format!("schedule = {{ kind = \"step\", every = {below} }}"),
                "schedule.milestones.*" => {
                    format!("schedule = {{ kind = \"multistep\", milestones = [{below}] }}")
                }
                k => format!("{k} = {below}"),
            };
            let text = format!("name = \"a\"\n[{table}]\n{line}\n");
            let config: Config = toml::from_str(&text).unwrap();
            let source = Source::new("c.toml", text.as_str());
            let e = validate(&config, &source).unwrap_err();
            let key = pattern.trim_end_matches(".*");
            assert_eq!(
                e.location,
                source.error_at(key, "").location,
                "{pattern}: {e}"
            );
            assert!(e.message.contains(&format!("`{key}`")), "{pattern}: {e}");
        }
    }
}
