//! Reading a config file, applying `--set` overrides, and deserialising it.
use super::{source::Source, Config, ConfigError};
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table, Value};

/// `s` as a TOML string literal, quoted and escaped (for `--set` values and generated files).
pub fn toml_string(s: &str) -> String {
    Value::from(s).to_string().trim().to_string()
}

/// Splits `key.path=value` into its key and its value as TOML (a bare word that is not valid
/// TOML is taken as a string, so `--set strategy.name=sensei` works without quotes).
pub fn parse_override(text: &str) -> Result<(String, Value), String> {
    let (key, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("`--set {text}`: expected KEY=VALUE, e.g. --set train.epochs=5"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!(
            "`--set {text}`: `{key}` is not a dotted key such as train.epochs"
        ));
    }
    let raw = raw.trim();
    let value = raw.parse::<Value>().unwrap_or_else(|_| Value::from(raw));
    Ok((key.to_string(), value))
}

/// Sets the dotted `key` of `doc` to `value`, or removes it when `value` is `None`. Tables on
/// the way are created; a list of tables (`[[transforms]]`) is addressed by index
/// (`transforms.0.range`) or by `*` for every entry (`transforms.*.step`). Errors start with
/// `label` (e.g. "`--set transforms.3.step`").
pub fn edit(
    doc: &mut DocumentMut,
    key: &str,
    value: Option<&Value>,
    label: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    edit_table(doc.as_table_mut(), &parts, value, label)
}

fn edit_table(
    table: &mut Table,
    parts: &[&str],
    value: Option<&Value>,
    label: &str,
) -> Result<(), String> {
    let Some((&part, rest)) = parts.split_first() else {
        return Err(format!("{label}: empty key"));
    };
    if rest.is_empty() {
        match value {
            Some(v) => {
                table.insert(part, Item::Value(v.clone()));
            }
            None => {
                table.remove(part);
            }
        }
        return Ok(());
    }
    let item = table.entry(part).or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    if let Some(inline) = item.as_inline_table_mut() {
        let owned = std::mem::take(inline);
        *item = Item::Table(owned.into_table());
    }
    if let Some(list) = item.as_array_of_tables_mut() {
        let n = list.len();
        let wrong = || {
            format!("{label}: `{part}` is a list of {n} tables; address an entry by its index 0..{n}, e.g. {part}.0.<key>")
        };
        let (&index, inner) = rest.split_first().ok_or_else(wrong)?;
        if inner.is_empty() {
            return Err(wrong());
        }
        if index == "*" {
            return list
                .iter_mut()
                .try_for_each(|t| edit_table(t, inner, value, label));
        }
        let entry = index
            .parse::<usize>()
            .ok()
            .and_then(|e| list.get_mut(e))
            .ok_or_else(wrong)?;
        return edit_table(entry, inner, value, label);
    }
    let next = item
        .as_table_mut()
        .ok_or_else(|| format!("{label}: `{part}` is not a table in the config"))?;
    edit_table(next, rest, value, label)
}

/// Reads `path`, applies `overrides` (from `--set`), and deserialises the result.
/// Syntax errors, unknown keys and wrong types come back with the file, line and column.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Config, Source), ConfigError> {
    let unreadable = |e: std::io::Error| ConfigError {
        location: path.display().to_string(),
        message: format!("cannot read the config: {e}"),
    };
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let mut source = Source {
        path: path.to_path_buf(),
        text,
        overrides: Vec::new(),
    };
    if !overrides.is_empty() {
        let mut doc: DocumentMut = source.text.parse().map_err(|e: toml_edit::TomlError| {
            let loc = source.location_of(e.span());
            ConfigError {
                location: loc,
                message: format!("invalid TOML: {}", e.message()),
            }
        })?;
        for o in overrides {
            let (key, value) = parse_override(o).map_err(|m| source.error(m))?;
            let shown = value.to_string().trim().to_string();
            edit(&mut doc, &key, Some(&value), &format!("`--set {key}`"))
                .map_err(|m| source.error(m))?;
            source.overrides.push((key, shown));
        }
        source.text = doc.to_string();
    }
    let config = toml::from_str::<Config>(&source.text).map_err(|e| {
        let mut message = e.message().trim().to_string();
        if let Some(first) = message.get(..1) {
            message = first.to_lowercase() + &message[1..];
        }
        let location = match e.span() {
            Some(span) => source.location_of(Some(span.clone())),
            None => source.path.display().to_string(),
        };
        ConfigError { location, message }
    })?;
    Ok((config, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn overrides_replace_and_add_values() {
        let f =
            write("name = \"a\"\n[train]\nepochs = 3\noptimizer = { kind = \"sgd\", lr = 0.1 }\n");
        let sets = [
            "train.epochs=7".to_string(),
            "strategy.name=sensei".into(),
            "train.optimizer.lr=0.5".into(),
        ];
        let (c, s) = load(f.path(), &sets).unwrap();
        assert_eq!(c.train.epochs, 7);
        assert_eq!(c.strategy.name, "sensei");
        assert!(
            matches!(c.train.optimizer, crate::config::OptimizerConfig::Sgd { lr, .. } if lr == 0.5)
        );
        assert_eq!(
            s.overrides[0],
            ("train.epochs".to_string(), "7".to_string())
        );
    }

    #[test]
    fn overrides_reach_into_lists_of_tables() {
        let f = write("name = \"a\"\n[[transforms]]\nname = \"rotation\"\nrange = [-30, 30]\n");
        let (c, _) = load(f.path(), &["transforms.0.range=[-10, 10]".to_string()]).unwrap();
        assert_eq!(c.transforms[0].range, Some([-10.0, 10.0]));
        let e = load(f.path(), &["transforms.3.step=1".to_string()]).unwrap_err();
        assert_eq!(e.message, "`--set transforms.3.step`: `transforms` is a list of 1 tables; address an entry by its index 0..1, e.g. transforms.0.<key>");
    }

    #[test]
    fn edits_reach_every_entry_with_a_star_and_remove_keys() {
        let mut doc: DocumentMut = "[[t]]\na = 1\nb = 2\n[[t]]\na = 3\nb = 4\n"
            .parse()
            .unwrap();
        edit(&mut doc, "t.*.b", None, "x").unwrap();
        edit(&mut doc, "t.*.a", Some(&Value::from(9)), "x").unwrap();
        let back: toml::Table = toml::from_str(&doc.to_string()).unwrap();
        assert_eq!(back["t"].as_array().unwrap().len(), 2);
        for entry in back["t"].as_array().unwrap() {
            assert_eq!(entry.as_table().unwrap().len(), 1);
            assert_eq!(entry["a"].as_integer(), Some(9));
        }
        assert_eq!(
            edit(&mut doc, "t.*", None, "axis `t.*`").unwrap_err(),
            "axis `t.*`: `t` is a list of 2 tables; address an entry by its index 0..2, e.g. t.0.<key>"
        );
    }

    #[test]
    fn bad_override_syntax() {
        assert_eq!(
            parse_override("train.epochs").unwrap_err(),
            "`--set train.epochs`: expected KEY=VALUE, e.g. --set train.epochs=5"
        );
        assert!(parse_override("a..b=1")
            .unwrap_err()
            .contains("is not a dotted key"));
        let f = write("name = \"a\"\n");
        let e = load(f.path(), &["name.x=1".into()]).unwrap_err();
        assert_eq!(
            e.message,
            "`--set name.x`: `name` is not a table in the config"
        );
    }

    #[test]
    fn unknown_key_and_wrong_type_have_line_and_column() {
        let f = write("name = \"a\"\n[train]\nepochz = 3\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert!(e.location.ends_with(":3:1"), "{e}");
        assert!(
            e.message
                .starts_with("unknown field `epochz`, expected one of"),
            "{e}"
        );
        let f = write("name = \"a\"\n[train]\nepochs = \"many\"\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert!(e.location.ends_with(":3:10"), "{e}");
        assert!(
            e.message
                .contains("invalid type: string \"many\", expected u32"),
            "{e}"
        );
    }

    #[test]
    fn missing_file() {
        let e = load(Path::new("/nonexistent/x.toml"), &[]).unwrap_err();
        assert_eq!(e.location, "/nonexistent/x.toml");
        assert!(e.message.starts_with("cannot read the config: "), "{e}");
    }
}
