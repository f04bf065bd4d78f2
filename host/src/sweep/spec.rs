//! The sweep file: a base config, fixed overrides and axes.
//!
//! ```toml
//! base = "../configs/quickstart.toml"   # relative to this file
//! name = "strategies"                   # default: the file's stem
//! dir = "strategies"                    # where configs, runs and logs go (default: the name),
//!                                       # relative to this file
//! [set]                                 # for every run, like --set
//! "train.epochs" = 2
//! [axes]                                # one run per combination, in this order
//! "strategy.name" = ["standard", "w10", "sensei"]
//! seed = [1, 2]
//! "transforms.*.step" = [1, { absent = true }]   # with a grid, and without (continuous)
//! ```
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

/// One value of an axis: a TOML value, or the key removed.
#[derive(Debug, Clone)]
pub enum AxisValue {
    /// The key set to this value.
    Set(Value),
    /// The key removed (e.g. a gene's `step`: a continuous space).
    Absent,
}

impl AxisValue {
    /// How the value reads in tables and run names.
    pub fn label(&self) -> String {
        match self {
            Self::Set(Value::String(s)) => s.value().clone(),
            Self::Set(v) => v.to_string().trim().to_string(),
            Self::Absent => "absent".to_string(),
        }
    }
}

/// One axis: a dotted config key and its values.
#[derive(Debug, Clone)]
pub struct Axis {
    /// The config key, e.g. `strategy.name` or `transforms.*.step`.
    pub key: String,
    /// Its values, in the file's order.
    pub values: Vec<AxisValue>,
}

/// A parsed sweep file.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The sweep file.
    pub path: PathBuf,
    /// The sweep's name.
    pub name: String,
    /// The base config.
    pub base: PathBuf,
    /// The sweep's folder.
    pub dir: PathBuf,
    /// Overrides for every run.
    pub set: Vec<(String, Value)>,
    /// The axes.
    pub axes: Vec<Axis>,
}

/// A problem with the sweep file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SpecError {
    /// The sweep file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn flatten(prefix: &str, item: &Item, out: &mut Vec<(String, Item)>) {
    // `[axes]` written with nested tables (`[axes.strategy] name = [...]`) reads like dotted keys.
    match item.as_table_like() {
        Some(t) if item.as_array().is_none() && !is_absent(item) => {
            for (k, v) in t.iter() {
                let key = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => out.push((prefix.to_string(), item.clone())),
    }
}

fn is_absent(item: &Item) -> bool {
    item.as_table_like()
        .and_then(|t| t.get("absent"))
        .and_then(Item::as_bool)
        == Some(true)
}

fn axis_value(v: &Value) -> AxisValue {
    match v.as_inline_table() {
        Some(t) if t.len() == 1 && t.get("absent").and_then(Value::as_bool) == Some(true) => {
            AxisValue::Absent
        }
        _ => AxisValue::Set(v.clone()),
    }
}

impl Spec {
    /// Reads and checks the sweep file (not yet the configs it makes).
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let err = |message: String| SpecError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(format!("cannot read the sweep file: {e}")))?;
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| err(format!("invalid TOML: {}", e.message())))?;
        for (key, _) in doc.iter() {
            if !["base", "name", "dir", "set", "axes"].contains(&key) {
                return Err(err(format!(
                    "unknown key `{key}`; a sweep file has base, name, dir, [set] and [axes]"
                )));
            }
        }
        let here = crate::setup::config_dir(path);
        let string = |key: &str| -> Result<Option<String>, SpecError> {
            match doc.get(key) {
                None => Ok(None),
                Some(i) => i
                    .as_str()
                    .map(|s| Some(s.to_string()))
                    .ok_or_else(|| err(format!("`{key}` must be a string"))),
            }
        };
        let base = string("base")?
            .ok_or_else(|| err("`base` (the config every run starts from) is missing".into()))?;
        let name = match string("name")? {
            Some(n) => n,
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "sweep".into()),
        };
        let dir = here.join(string("dir")?.unwrap_or_else(|| name.clone()));
        let mut set = Vec::new();
        if let Some(item) = doc.get("set") {
            if item.as_table_like().is_none() {
                return Err(err("`set` must be a table of config keys and values".into()));
            }
            let mut flat = Vec::new();
            flatten("", item, &mut flat);
            for (k, v) in flat {
                let v = v
                    .as_value()
                    .cloned()
                    .ok_or_else(|| err(format!("set `{k}`: not a value")))?;
                set.push((k, v));
            }
        }
        let mut axes = Vec::new();
        let item = doc
            .get("axes")
            .ok_or_else(|| err("`[axes]` is missing: a sweep needs at least one axis".into()))?;
        let mut flat = Vec::new();
        flatten("", item, &mut flat);
        for (key, v) in flat {
            let list = v.as_array().ok_or_else(|| {
                err(format!(
                    "axis `{key}` must be a list of values, e.g. {key} = [1, 2]"
                ))
            })?;
            if list.is_empty() {
                return Err(err(format!("axis `{key}` has no values")));
            }
            let values: Vec<AxisValue> = list.iter().map(axis_value).collect();
            for (i, a) in values.iter().enumerate() {
                if values[..i].iter().any(|b| b.label() == a.label()) {
                    return Err(err(format!("axis `{key}` lists `{}` twice", a.label())));
                }
            }
            axes.push(Axis { key, values });
        }
        if axes.is_empty() {
            return Err(err(
                "`[axes]` is empty: a sweep needs at least one axis".into()
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            name,
            base: here.join(base),
            dir,
            set,
            axes,
        })
    }
}
