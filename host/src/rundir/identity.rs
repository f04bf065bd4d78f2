//! What makes two runs the same run: the whole training-relevant resolved config (model, data
//! and its settings, genes with range and step, strategy and its settings, optimiser, schedule,
//! epochs, batch size, precision, the flip as resolved, channels-last, seed). Where outputs go,
//! which device runs it, plugin search folders and how often evaluation runs may change
//! between the sessions of one run; nothing else may.
use crate::config::Config;
use serde_json::Value;

/// Top-level keys that do not change what is trained.
const NOT_TRAINING: &[&str] = &[
    "name",
    "output_dir",
    "plugin_dirs",
    "device",
    "eval",
    "plugins",
    "log",
    "fuzzaug",
];

/// The training-relevant part of `config`, with the flip as resolved for its dataset.
pub fn of(config: &Config, hflip: bool) -> anyhow::Result<Value> {
    let mut v = serde_json::to_value(config)?;
    if let Value::Object(m) = &mut v {
        for key in NOT_TRAINING {
            m.remove(*key);
        }
        if let Some(Value::Object(train)) = m.get_mut("train") {
            train.insert("hflip".into(), Value::Bool(hflip));
            // Which checkpoint is also kept as the best does not change what is trained.
            train.remove("keep_best");
        }
    }
    Ok(v)
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(Value::String(s)) => format!("\"{s}\""),
        Some(other) => other.to_string(),
    }
}

fn walk(key: &str, run: Option<&Value>, now: Option<&Value>, out: &mut Vec<String>) {
    match (run, now) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if key.is_empty() {
                    k.clone()
                } else {
                    format!("{key}.{k}")
                };
                walk(&sub, a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(&format!("{key}.{i}"), Some(x), Some(y), out);
            }
        }
        (a, b) if a != b => out.push(format!(
            "{key}: the run has {}, this config {}",
            show(a),
            show(b)
        )),
        _ => {}
    }
}

/// Every key in which `now` differs from `run`, as `key: the run has A, this config B`, in key
/// order (array elements by index: `transforms.1.range`).
pub fn differences(run: &Value, now: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk("", Some(run), Some(now), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        toml::from_str(&format!(
            "name = \"a\"\nseed = 7\n[dataset]\nname = \"shapes\"\n[[transforms]]\nname = \"rotation\"\nrange = [-10, 10]\nstep = 5\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn only_training_keys_count_and_each_difference_is_named() {
        let base = of(&config(""), false).unwrap();
        let mut other = config("[eval]\nrobust_every = 2\n");
        other.name = "b".into();
        other.device = "cuda".into();
        other.output_dir = "elsewhere".into();
        assert!(differences(&base, &of(&other, false).unwrap()).is_empty());

        let mut changed =
            config("[train]\nepochs = 4\noptimizer = { kind = \"adamw\", lr = 0.001 }\n");
        changed.seed = 8;
        changed.transforms[0].step = Some(10.0);
        changed
            .dataset
            .settings
            .insert("noise".into(), toml::Value::Float(0.1));
        let diffs = differences(&base, &of(&changed, true).unwrap());
        assert_eq!(
            diffs,
            vec![
                "dataset.noise: the run has nothing, this config 0.1",
                "seed: the run has 7, this config 8",
                "train.epochs: the run has 10, this config 4",
                "train.hflip: the run has false, this config true",
                "train.optimizer.betas: the run has nothing, this config [0.9,0.999]",
                "train.optimizer.eps: the run has nothing, this config 1e-8",
                "train.optimizer.kind: the run has \"sgd\", this config \"adamw\"",
                "train.optimizer.lr: the run has 0.05, this config 0.001",
                "train.optimizer.momentum: the run has 0.9, this config nothing",
                "train.optimizer.nesterov: the run has true, this config nothing",
                "train.optimizer.weight_decay: the run has 0.0001, this config 0.01",
                "transforms.0.step: the run has 5.0, this config 10.0",
            ]
        );
    }
}
