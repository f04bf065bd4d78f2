//! A component's settings: its TOML table, checked against its declared [`Param`]s.
use crate::{
    component::{ComponentContext, Param, ParamType},
    error::PluginError,
};
use serde::de::DeserializeOwned;
use std::{ops::RangeInclusive, path::PathBuf};
use toml::{Table, Value};

/// The component's own table from the config (without `name`), already checked by the SDK:
/// every key is declared, every required key is present, every value has the declared type.
#[derive(Debug, Clone)]
pub struct Settings {
    table: Table,
    params: Vec<Param>,
}

impl Settings {
    /// Parses `text` (a TOML table) and checks it against `params`.
    pub fn parse(text: &str, params: &[Param]) -> Result<Self, PluginError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            PluginError::new(format!("settings are not valid TOML: {}", e.message()))
        })?;
        let me = Self {
            table,
            params: params.to_vec(),
        };
        me.check_table(&me.table, "")?;
        for p in &me.params {
            if p.is_required() && me.lookup(&p.name).is_none() {
                return Err(PluginError::config(
                    p.name.as_str(),
                    format!("missing required key `{}` ({})", p.name, p.doc),
                ));
            }
        }
        Ok(me)
    }

    fn check_table(&self, table: &Table, prefix: &str) -> Result<(), PluginError> {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if let Some(p) = self.params.iter().find(|p| p.name == path.as_str()) {
                check_type(&path, p, value)?;
            } else if let (Value::Table(sub), true) = (value, self.has_children(&path)) {
                self.check_table(sub, &path)?;
            } else {
                let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                let hint = match did_you_mean(&path, &names) {
                    Some(n) => format!("; did you mean `{n}`?"),
                    None if names.is_empty() => "; this component takes no settings".to_string(),
                    None => format!("; valid keys: {}", names.join(", ")),
                };
                return Err(PluginError::config(
                    path.as_str(),
                    format!("unknown key `{path}`{hint}"),
                ));
            }
        }
        Ok(())
    }

    fn has_children(&self, path: &str) -> bool {
        let prefix = format!("{path}.");
        self.params
            .iter()
            .any(|p| p.name.starts_with(prefix.as_str()))
    }

    fn lookup(&self, key: &str) -> Option<&Value> {
        let mut parts = key.split('.');
        let mut value = self.table.get(parts.next()?)?;
        for part in parts {
            value = value.as_table()?.get(part)?;
        }
        Some(value)
    }

    /// The value of `key` (dotted), or its declared default.
    pub fn value<T: DeserializeOwned>(&self, key: &str) -> Result<T, PluginError> {
        let value = match self.lookup(key) {
            Some(v) => v.clone(),
            None => {
                let p = self.params.iter().find(|p| p.name == key).ok_or_else(|| {
                    PluginError::new(format!("bug: `{key}` is not a declared setting"))
                })?;
                let doc: Table = format!("v = {}", p.default).parse().map_err(|_| {
                    PluginError::new(format!(
                        "bug: default of `{key}` is not TOML: {}",
                        p.default
                    ))
                })?;
                doc.get("v")
                    .cloned()
                    .ok_or_else(|| PluginError::new("bug: empty default"))?
            }
        };
        value
            .try_into()
            .map_err(|e: toml::de::Error| PluginError::config(key, e.message().to_string()))
    }

    /// The integer `key` (or its default), which must lie in `range` and fit in `T`; otherwise an
    /// error about `key` reading "`{key}` must be between {lo} and {hi}, got {value}".
    pub fn integer_in<T: TryFrom<i64>>(
        &self,
        key: &str,
        range: RangeInclusive<i64>,
    ) -> Result<T, PluginError> {
        let value: i64 = self.value(key)?;
        range
            .contains(&value)
            .then(|| T::try_from(value).ok())
            .flatten()
            .ok_or_else(|| {
                PluginError::config(
                    key,
                    format!(
                        "`{key}` must be between {} and {}, got {value}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// Whether the user set `key` (as opposed to leaving the default).
    pub fn is_set(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// The integer `key` (or its default) as a limit on a number of images, such as the
    /// `train_limit` and `test_limit` that [`limit_params`](crate::dataset::limit_params)
    /// declares: `None` for 0 (no limit, every image), `Some(n)` for a positive `n`. A negative
    /// value is an error about `key` reading "`{key}` must be 0 (all images) or a positive number
    /// of images, got {value}". [`dataset::limited`](crate::dataset::limited) applies the limit
    /// to the images there are.
    pub fn limit(&self, key: &str) -> Result<Option<usize>, PluginError> {
        let value: i64 = self.value(key)?;
        match usize::try_from(value) {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(PluginError::config(
                key,
                format!(
                    "`{key}` must be 0 (all images) or a positive number of images, got {value}"
                ),
            )),
        }
    }

    /// The string `key` (or its default) as a path, resolved against the config's folder by
    /// [`ComponentContext::resolve_path`]. An empty string is an error about `key` reading
    /// "`{key}` must not be empty".
    pub fn path(&self, key: &str, ctx: &ComponentContext) -> Result<PathBuf, PluginError> {
        let path: String = self.value(key)?;
        if path.is_empty() {
            return Err(PluginError::config(
                key,
                format!("`{key}` must not be empty"),
            ));
        }
        Ok(ctx.resolve_path(&path))
    }
}

fn check_type(path: &str, p: &Param, value: &Value) -> Result<(), PluginError> {
    let ok = match ParamType::parse(&p.ty) {
        Some(ParamType::Integer) => value.is_integer(),
        Some(ParamType::Float) => value.is_float() || value.is_integer(),
        Some(ParamType::String) => value.is_str(),
        Some(ParamType::Bool) => value.is_bool(),
        Some(ParamType::Array) => value.is_array(),
        None => true,
    };
    if ok {
        Ok(())
    } else {
        Err(PluginError::config(
            path,
            format!(
                "`{path}` must be {} {}, found {} {}",
                article(&p.ty),
                p.ty,
                article(value.type_str()),
                value.type_str()
            ),
        ))
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= c.len().max(word.len()).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Param> {
        vec![
            Param::optional("population", ParamType::Integer, "10", "population size"),
            Param::optional(
                "selective.threshold",
                ParamType::Float,
                "1e-3",
                "robust below this",
            ),
            Param::required("path", ParamType::String, "data folder"),
        ]
    }

    #[test]
    fn values_and_defaults() {
        let s = Settings::parse("path = \"x\"\nselective = { threshold = 2 }", &params()).unwrap();
        assert_eq!(s.value::<u32>("population").unwrap(), 10);
        assert_eq!(s.value::<f64>("selective.threshold").unwrap(), 2.0);
        assert_eq!(s.value::<String>("path").unwrap(), "x");
        assert!(s.is_set("path") && !s.is_set("population"));
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let e = Settings::parse("path = \"x\"\npopulaton = 3", &params()).unwrap_err();
        assert_eq!(e.key, "populaton");
        assert_eq!(
            e.message,
            "unknown key `populaton`; did you mean `population`?"
        );
        let e =
            Settings::parse("path = \"x\"\nselective = { treshold = 1 }", &params()).unwrap_err();
        assert_eq!(e.key, "selective.treshold");
        let e = Settings::parse("zzz = 1", &[]).unwrap_err();
        assert_eq!(
            e.message,
            "unknown key `zzz`; this component takes no settings"
        );
    }

    #[test]
    fn wrong_type_and_missing_key() {
        let e = Settings::parse("path = \"x\"\npopulation = \"ten\"", &params()).unwrap_err();
        assert_eq!(e.message, "`population` must be an integer, found a string");
        let e = Settings::parse("", &params()).unwrap_err();
        assert_eq!(e.key, "path");
        assert_eq!(e.message, "missing required key `path` (data folder)");
    }

    #[test]
    fn integers_in_a_range() {
        let params = [
            Param::optional("size", ParamType::Integer, "32", "side"),
            Param::optional("name", ParamType::String, "\"x\"", "a string"),
        ];
        let parse = |text: &str| Settings::parse(text, &params).unwrap();
        assert_eq!(parse("").integer_in::<u32>("size", 8..=512).unwrap(), 32);
        assert_eq!(
            parse("size = 8")
                .integer_in::<u32>("size", 8..=512)
                .unwrap(),
            8
        );
        assert_eq!(
            parse("size = 512")
                .integer_in::<usize>("size", 8..=512)
                .unwrap(),
            512
        );
        assert_eq!(
            parse("size = -3")
                .integer_in::<i64>("size", -5..=5)
                .unwrap(),
            -3
        );
        let cases = [
            ("size = 4", "`size` must be between 8 and 512, got 4"),
            ("size = 513", "`size` must be between 8 and 512, got 513"),
            ("size = -1", "`size` must be between 8 and 512, got -1"),
        ];
        for (text, message) in cases {
            let e = parse(text).integer_in::<u32>("size", 8..=512).unwrap_err();
            assert_eq!((e.key.as_str(), e.message.as_str()), ("size", message));
        }
        // In the range but not in `T`: the same message.
        let e = parse("size = 300")
            .integer_in::<u8>("size", 0..=1000)
            .unwrap_err();
        assert_eq!(e.message, "`size` must be between 0 and 1000, got 300");
        // Errors from reading the value pass through.
        let e = parse("").integer_in::<u32>("name", 0..=1).unwrap_err();
        assert_eq!(e.key, "name");
        let e = parse("").integer_in::<u32>("nope", 0..=1).unwrap_err();
        assert_eq!(e.message, "bug: `nope` is not a declared setting");
    }

    #[test]
    fn limits_are_none_for_all_and_refuse_negative_counts() {
        let params = crate::dataset::limit_params();
        let parse = |text: &str| Settings::parse(text, &params).unwrap();
        assert_eq!(parse("").limit("train_limit").unwrap(), None);
        assert_eq!(parse("train_limit = 0").limit("train_limit").unwrap(), None);
        assert_eq!(
            parse("test_limit = 7").limit("test_limit").unwrap(),
            Some(7)
        );
        assert_eq!(parse("test_limit = 7").limit("train_limit").unwrap(), None);
        for (text, key, value) in [
            ("test_limit = -1", "test_limit", -1),
            ("train_limit = -5", "train_limit", -5),
        ] {
            let e = parse(text).limit(key).unwrap_err();
            assert_eq!(e.key, key);
            assert_eq!(
                e.message,
                format!(
                    "`{key}` must be 0 (all images) or a positive number of images, got {value}"
                )
            );
        }
        let e = parse("").limit("nope").unwrap_err();
        assert_eq!(e.message, "bug: `nope` is not a declared setting");
    }

    #[test]
    fn paths_resolve_and_must_not_be_empty() {
        let ctx = ComponentContext {
            seed: 0,
            config_dir: "/configs".into(),
        };
        let s = Settings::parse("path = \"data/./x\"", &params()).unwrap();
        assert_eq!(
            s.path("path", &ctx).unwrap(),
            PathBuf::from("/configs/data/x")
        );
        let s = Settings::parse("path = \"/abs\"", &params()).unwrap();
        assert_eq!(s.path("path", &ctx).unwrap(), PathBuf::from("/abs"));
        let e = Settings::parse("path = \"\"", &params())
            .unwrap()
            .path("path", &ctx)
            .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            ("path", "`path` must not be empty")
        );
        // A setting of another type is refused by `value`.
        let e = Settings::parse("path = \"x\"", &params())
            .unwrap()
            .path("population", &ctx)
            .unwrap_err();
        assert_eq!(e.key, "population");
    }

    #[test]
    fn closest_name() {
        assert_eq!(
            did_you_mean("sensie", &["sensei", "standard", "w10"]),
            Some("sensei")
        );
        assert_eq!(did_you_mean("qqqqqq", &["sensei", "standard"]), None);
    }
}
