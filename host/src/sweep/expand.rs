//! From a sweep spec to one config per combination of axis values, each with a stable name.
use super::spec::{AxisValue, Spec};
use crate::config::{self, Config};
use std::path::Path;
use toml_edit::{DocumentMut, Item, Value};

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// The run's name (its config's `name` and its run directory's).
    pub name: String,
    /// (axis key, value label), in axis order.
    pub values: Vec<(String, String)>,
    /// The run's config, as written to `configs/<name>.toml`.
    pub text: String,
}

/// Characters kept in run names; others become `-`.
fn sanitize(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').to_string()
}

/// The part of a run name an axis value contributes: the value alone for `….name` keys
/// (`w10`), else the key's last word and the value (`seed2`, `step-absent`).
fn name_part(key: &str, value: &AxisValue) -> String {
    let last = key
        .rsplit('.')
        .find(|p| *p != "*" && p.parse::<usize>().is_err())
        .unwrap_or(key);
    match value {
        AxisValue::Set(_) if last == "name" => sanitize(&value.label()),
        AxisValue::Set(_) => format!("{}{}", sanitize(last), sanitize(&value.label())),
        AxisValue::Absent => format!("{}-absent", sanitize(last)),
    }
}

/// Relative paths of the base config resolve against its folder; the generated configs live
/// elsewhere, so the known path keys (`dataset.path`, `[model]`'s files, `plugin_dirs`) are
/// made absolute.
fn absolute_paths(doc: &mut DocumentMut, base_dir: &Path) {
    let abs = |s: &str| -> Option<String> {
        let p = Path::new(s);
        p.is_relative()
            .then(|| std::path::absolute(base_dir.join(p)).unwrap_or_else(|_| base_dir.join(p)))
            .map(|p| p.display().to_string())
    };
    if let Some(path) = doc
        .get_mut("dataset")
        .and_then(Item::as_table_like_mut)
        .and_then(|t| t.get_mut("path"))
    {
        if let Some(a) = path.as_str().and_then(abs) {
            *path = Item::Value(Value::from(a));
        }
    }
    if let Some(model) = doc.get_mut("model").and_then(Item::as_table_like_mut) {
        for key in crate::setup::MODEL_FILES {
            if let Some(file) = model.get_mut(key) {
                if let Some(a) = file.as_str().and_then(abs) {
                    *file = Item::Value(Value::from(a));
                }
            }
        }
    }
    if let Some(list) = doc.get_mut("plugin_dirs").and_then(Item::as_array_mut) {
        for v in list.iter_mut() {
            if let Some(a) = v.as_str().and_then(abs) {
                *v = Value::from(a);
            }
        }
    }
}

fn apply(doc: &mut DocumentMut, key: &str, value: &AxisValue, label: &str) -> Result<(), String> {
    match value {
        AxisValue::Set(v) => config::edit(doc, key, Some(v), label),
        AxisValue::Absent => config::edit(doc, key, None, label),
    }
}

/// Every combination of the axes (the first axis varies slowest), as index lists.
fn combinations(sizes: &[usize]) -> Vec<Vec<usize>> {
    sizes.iter().fold(vec![Vec::new()], |acc, &n| {
        acc.into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |i| {
                    let mut p = prefix.clone();
                    p.push(i);
                    p
                })
            })
            .collect()
    })
}

/// The sweep's runs. Each axis is first checked alone against the base config, so that an
/// unknown key or a wrong type is reported for the axis that causes it.
pub fn expand(spec: &Spec) -> anyhow::Result<Vec<RunPlan>> {
    let text = std::fs::read_to_string(&spec.base).map_err(|e| {
        anyhow::anyhow!(
            "{}: base config {}: {e}",
            spec.path.display(),
            spec.base.display()
        )
    })?;
    let mut base: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        anyhow::anyhow!("{}: invalid TOML: {}", spec.base.display(), e.message())
    })?;
    absolute_paths(&mut base, &crate::setup::config_dir(&spec.base));
    for (key, value) in &spec.set {
        config::edit(&mut base, key, Some(value), &format!("set `{key}`"))
            .map_err(|m| anyhow::anyhow!("{}: {m}", spec.path.display()))?;
    }
    let runs_dir = std::path::absolute(spec.dir.join("runs"))?;
    let check = |doc: &DocumentMut, what: &str| -> anyhow::Result<()> {
        toml::from_str::<Config>(&doc.to_string())
            .map(drop)
            .map_err(|e| anyhow::anyhow!("{}: {what}: {}", spec.path.display(), e.message().trim()))
    };
    check(&base, "the base config with [set]")?;
    for axis in &spec.axes {
        for value in &axis.values {
            let mut doc = base.clone();
            let label = format!("axis `{}`", axis.key);
            apply(&mut doc, &axis.key, value, &label)
                .map_err(|m| anyhow::anyhow!("{}: {m}", spec.path.display()))?;
            check(&doc, &format!("{label} = {}", value.label()))?;
        }
    }
    let sizes: Vec<usize> = spec.axes.iter().map(|a| a.values.len()).collect();
    let mut runs: Vec<RunPlan> = Vec::new();
    for combo in combinations(&sizes) {
        let mut doc = base.clone();
        let mut parts = Vec::new();
        let mut values = Vec::new();
        for (axis, &i) in spec.axes.iter().zip(&combo) {
            let v = &axis.values[i];
            apply(&mut doc, &axis.key, v, &axis.key).map_err(anyhow::Error::msg)?;
            parts.push(name_part(&axis.key, v));
            values.push((axis.key.clone(), v.label()));
        }
        let name = parts.join("_");
        if let Some(twin) = runs.iter().find(|r| r.name == name) {
            anyhow::bail!(
                "{}: two runs would both be named `{name}` ({:?} and {:?}); make the axis values differ in letters or digits",
                spec.path.display(),
                twin.values,
                values
            );
        }
        doc.insert("name", Item::Value(Value::from(name.clone())));
        doc.insert(
            "output_dir",
            Item::Value(Value::from(runs_dir.display().to_string())),
        );
        let header = format!(
            "# Generated by `fuzzaug sweep {}` from {}: {}\n",
            spec.path.display(),
            spec.base.display(),
            values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        runs.push(RunPlan {
            name,
            values,
            text: header + &doc.to_string(),
        });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_vary_the_last_axis_fastest() {
        assert_eq!(
            combinations(&[2, 3]),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(combinations(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn names_read_like_the_values() {
        let set = |v: Value| AxisValue::Set(v);
        assert_eq!(name_part("strategy.name", &set(Value::from("w10"))), "w10");
        assert_eq!(name_part("seed", &set(Value::from(2))), "seed2");
        assert_eq!(
            name_part("transforms.*.step", &AxisValue::Absent),
            "step-absent"
        );
        assert_eq!(
            name_part("transforms.0.step", &set(Value::from(0.5))),
            "step0.5"
        );
        assert_eq!(
            name_part("model.arch", &set(Value::from("wrn-28-10"))),
            "archwrn-28-10"
        );
        assert_eq!(sanitize("a b/c"), "a-b-c");
    }
}
