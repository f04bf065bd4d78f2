//! Reading a config file, applying `--set` overrides, and deserialising it.
use super::{source::Source, Config, ConfigError};
use std::path::Path;
use toml_edit::{DocumentMut, InlineTable, Item, Table, TableLike, Value};

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
/// the way are created; a list of tables (`[[transforms]]`, or an array of inline tables) is
/// addressed by index (`transforms.0.range`) or by `*` for every entry (`transforms.*.step`).
/// The document keeps its layout: an inline table stays inline, and a replaced value keeps its
/// comment. Errors start with `label` (e.g. "`--set transforms.3.step`").
pub fn edit(
    doc: &mut DocumentMut,
    key: &str,
    value: Option<&Value>,
    label: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    edit_in(doc.as_table_mut(), false, &parts, value, label)
}

/// Edits `parts` under `table`, a standard table or (`inline`) an inline one. Inline tables are
/// edited where they are: turning one into a `[section]` would move the comments and keys
/// around it into a header and break the document.
fn edit_in(
    table: &mut dyn TableLike,
    inline: bool,
    parts: &[&str],
    value: Option<&Value>,
    label: &str,
) -> Result<(), String> {
    let Some((&part, rest)) = parts.split_first() else {
        return Err(format!("{label}: empty key"));
    };
    if rest.is_empty() {
        match value {
            Some(v) => set(table, inline, part, v),
            None => {
                table.remove(part);
            }
        }
        return Ok(());
    }
    if !table.contains_key(part) {
        let fresh = if inline {
            Item::Value(Value::InlineTable(InlineTable::new()))
        } else {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        };
        append(table, inline, part, fresh);
    }
    let not_table = || format!("{label}: `{part}` is not a table in the config");
    let item = table.get_mut(part).ok_or_else(not_table)?;
    match item {
        Item::Table(t) => edit_in(t, false, rest, value, label),
        Item::Value(Value::InlineTable(t)) => edit_in(t, true, rest, value, label),
        Item::ArrayOfTables(list) => {
            let n = list.len();
            let mut entries: Vec<&mut Table> = list.iter_mut().collect();
            each_entry(&mut entries, part, n, rest, label, |t, inner| {
                edit_in(&mut **t, false, inner, value, label)
            })
        }
        Item::Value(Value::Array(list)) if list.iter().all(Value::is_inline_table) => {
            let n = list.len();
            let mut entries: Vec<&mut InlineTable> = list
                .iter_mut()
                .filter_map(Value::as_inline_table_mut)
                .collect();
            each_entry(&mut entries, part, n, rest, label, |t, inner| {
                edit_in(&mut **t, true, inner, value, label)
            })
        }
        _ => Err(not_table()),
    }
}

/// Applies `f` to the entry of a list of `n` tables named by `rest[0]` (an index, or `*` for
/// all), with the key path after it.
fn each_entry<T>(
    entries: &mut [T],
    part: &str,
    n: usize,
    rest: &[&str],
    label: &str,
    mut f: impl FnMut(&mut T, &[&str]) -> Result<(), String>,
) -> Result<(), String> {
    let wrong = || {
        format!("{label}: `{part}` is a list of {n} tables; address an entry by its index 0..{n}, e.g. {part}.0.<key>")
    };
    let (&index, inner) = rest.split_first().ok_or_else(wrong)?;
    if inner.is_empty() {
        return Err(wrong());
    }
    if index == "*" {
        return entries.iter_mut().try_for_each(|t| f(t, inner));
    }
    let entry = index
        .parse::<usize>()
        .ok()
        .and_then(|i| entries.get_mut(i))
        .ok_or_else(wrong)?;
    f(entry, inner)
}

/// Sets `key` of `table` (`inline` or not) to `v`; a value that replaces another keeps its
/// spacing and comment.
fn set(table: &mut dyn TableLike, inline: bool, key: &str, v: &Value) {
    let mut v = v.clone();
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            *v.decor_mut() = old.decor().clone();
            *old = v;
        }
        Some(slot) => *slot = Item::Value(v),
        None => {
            v.decor_mut().clear();
            append(table, inline, key, Item::Value(v));
        }
    }
}

/// Adds `key` at the end of `table`. In an inline table, the space before `}` is the last
/// value's: it moves to the new last one.
fn append(table: &mut dyn TableLike, inline: bool, key: &str, mut item: Item) {
    if inline {
        let last = table.iter_mut().last().and_then(|(_, i)| i.as_value_mut());
        if let (Some(last), Some(new)) = (last, item.as_value_mut()) {
            let space = last.decor().suffix().and_then(|r| r.as_str()).unwrap_or("");
            if space.trim().is_empty() {
                new.decor_mut().set_suffix(space.to_string());
                last.decor_mut().set_suffix("");
            }
        }
    }
    table.insert(key, item);
}

/// The keys whose value is a fixed number of numbers, with the shape to name in errors.
/// Serde reads a `[f64; 2]` from the first two elements of any longer list, and a length error
/// inside a tagged table (`train.optimizer`) would only point at the table.
const FIXED_LENGTH: &[(&str, usize, &str)] = &[
    ("transforms.*.range", 2, "[lo, hi]"),
    ("train.optimizer.betas", 2, "[beta1, beta2]"),
];

/// The error for a list at `key` of `got` numbers where `n` are needed.
pub(super) fn length_message(key: &str, n: usize, shape: &str, got: usize) -> String {
    format!("`{key}` must be exactly {n} numbers, {shape}; got {got}")
}

/// Refuses a list of the wrong length at any key of [`FIXED_LENGTH`], pointing at the key.
fn check_lengths(source: &Source) -> Result<(), ConfigError> {
    // Unparsable text is reported by the deserialisation that follows, with its location.
    let Ok(root) = source.text.parse::<toml::Table>() else {
        return Ok(());
    };
    for &(pattern, n, shape) in FIXED_LENGTH {
        let parts: Vec<&str> = pattern.split('.').collect();
        let mut lists = Vec::new();
        lists_at(&root, &parts, String::new(), &mut lists);
        if let Some((key, got)) = lists.into_iter().find(|(_, len)| *len != n) {
            return Err(source.error_at(&key, length_message(&key, n, shape, got)));
        }
    }
    Ok(())
}

/// The lists at `parts` (with `*` for every entry of a list) under `table`, as (dotted key,
/// length).
fn lists_at(table: &toml::Table, parts: &[&str], at: String, out: &mut Vec<(String, usize)>) {
    let Some((&part, rest)) = parts.split_first() else {
        return;
    };
    let at = if at.is_empty() {
        part.to_string()
    } else {
        format!("{at}.{part}")
    };
    let Some(v) = table.get(part) else { return };
    match (v, rest.split_first()) {
        (toml::Value::Array(a), None) => out.push((at, a.len())),
        (toml::Value::Table(t), Some(_)) => lists_at(t, rest, at, out),
        (toml::Value::Array(a), Some((&"*", inner))) => {
            for (i, e) in a.iter().enumerate() {
                if let toml::Value::Table(t) = e {
                    lists_at(t, inner, format!("{at}.{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// Reads `path`, applies `overrides` (from `--set`), and deserialises the result.
/// Syntax errors, unknown keys and wrong types come back with the file, line and column, or
/// with the `--set` that supplied the value.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Config, Source), ConfigError> {
    let unreadable = |e: std::io::Error| ConfigError {
        location: path.display().to_string(),
        message: format!("cannot read the config: {e}"),
    };
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    load_text(path, text, overrides)
}

/// [`load`] of `text`, the contents of the config file `path` (which is not read).
pub fn load_text(
    path: &Path,
    text: String,
    overrides: &[String],
) -> Result<(Config, Source), ConfigError> {
    let mut source = Source::new(path, text);
    if !overrides.is_empty() {
        // The syntax is checked with `toml` first: toml_edit 0.23.10 panics ("all items have
        // spans") on some invalid files, such as `=={` then `.`, where it should report them.
        toml::from_str::<toml::Table>(&source.text).map_err(|e| ConfigError {
            location: source.location_of(e.span()),
            message: format!("invalid TOML: {}", e.message()),
        })?;
        let mut doc: DocumentMut = source.text.parse().map_err(|e: toml_edit::TomlError| {
            let loc = source.location_of(e.span());
            ConfigError {
                location: loc,
                message: format!("invalid TOML: {}", e.message()),
            }
        })?;
        for o in overrides {
            // An argument that cannot be applied is the argument's error, not the file's.
            let at_set = |label: &str, m: String| ConfigError {
                location: format!("--set {o}"),
                message: m
                    .strip_prefix(&format!("{label}: "))
                    .map_or(m.clone(), str::to_string),
            };
            let (key, value) = parse_override(o).map_err(|m| at_set(&format!("`--set {o}`"), m))?;
            // Errors name the argument as the user typed it.
            let typed = o.split_once('=').map_or("", |(_, v)| v.trim()).to_string();
            let label = format!("`--set {key}`");
            edit(&mut doc, &key, Some(&value), &label).map_err(|m| at_set(&label, m))?;
            source.overrides.push((key, typed));
        }
        source.text = doc.to_string();
    }
    check_lengths(&source)?;
    let config = toml::from_str::<Config>(&source.text).map_err(|e| super::explain(&e, &source))?;
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
        assert_eq!(e.to_string(), "--set transforms.3.step=1: `transforms` is a list of 1 tables; address an entry by its index 0..1, e.g. transforms.0.<key>");
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
            e.to_string(),
            "--set name.x=1: `name` is not a table in the config"
        );
        // The argument, not the file, is what is wrong.
        let e = load(f.path(), &["train".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set train: expected KEY=VALUE, e.g. --set train.epochs=5"
        );
    }

    /// Found by `fuzz/` (target `config`): with a `--set`, this invalid file made toml_edit
    /// 0.23.10 panic ("all items have spans") instead of reporting the error.
    #[test]
    fn a_file_that_panics_toml_edit_is_a_syntax_error_at_its_line() {
        let path = Path::new("configs/broken.toml");
        for text in ["=={\n.", "name = \"a\"\n=={\n.\n"] {
            let e = load_text(path, text.to_string(), &["t".into()]).unwrap_err();
            assert!(
                e.location.starts_with("configs/broken.toml:")
                    && e.message.starts_with("invalid TOML: "),
                "{e}"
            );
        }
        let e = load_text(path, "=={\n.".into(), &["train.epochs=2".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "configs/broken.toml:1:2: invalid TOML: extra `=`, expected nothing"
        );
    }

    #[test]
    fn unknown_key_and_wrong_type_have_line_and_column() {
        let f = write("name = \"a\"\n[train]\nepochz = 3\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert!(e.location.ends_with(":3:1"), "{e}");
        assert!(
            e.message.starts_with(
                "unknown key `epochz` in [train]; did you mean `epochs`? valid keys: epochs, "
            ),
            "{e}"
        );
        let f = write("name = \"a\"\n[train]\nepochs = \"many\"\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert!(e.location.ends_with(":3:10"), "{e}");
        assert!(
            e.message
                .contains("`train.epochs`: expected an integer ≥ 1, got \"many\""),
            "{e}"
        );
    }

    /// The README's own example: a comment before `optimizer = { … }` used to be moved into a
    /// `[train.optimizer]` header, which broke the document.
    #[test]
    fn an_inline_table_is_edited_in_place_with_its_comments() {
        let text = "[train]\nepochs = 3\n# the optimiser\noptimizer = { kind = \"adamw\", lr = 0.003 }  # fast\nhflip = false\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        edit(&mut doc, "train.optimizer.lr", Some(&Value::from(0.1)), "x").unwrap();
        edit(
            &mut doc,
            "train.optimizer.eps",
            Some(&Value::from(1e-6)),
            "x",
        )
        .unwrap();
        assert_eq!(
            doc.to_string(),
            "[train]\nepochs = 3\n# the optimiser\noptimizer = { kind = \"adamw\", lr = 0.1, eps = 0.000001 }  # fast\nhflip = false\n"
        );
    }

    #[test]
    fn edits_reach_nested_inline_tables_and_lists_of_inline_tables() {
        let mut doc: DocumentMut =
            "a = { b = { c = 1 } }\nt = [{ x = 1 }, { x = 2 }]\nl = [1, 2]\n"
                .parse()
                .unwrap();
        edit(&mut doc, "a.b.c", Some(&Value::from(2)), "x").unwrap();
        edit(&mut doc, "a.e.f", Some(&Value::from(3)), "x").unwrap();
        edit(&mut doc, "t.*.x", Some(&Value::from(7)), "x").unwrap();
        edit(&mut doc, "t.1.y", Some(&Value::from(8)), "x").unwrap();
        assert_eq!(
            doc.to_string(),
            "a = { b = { c = 2 }, e = { f = 3 } }\nt = [{ x = 7 }, { x = 7, y = 8 }]\nl = [1, 2]\n"
        );
        assert_eq!(
            edit(&mut doc, "t.2.x", None, "`--set t.2.x`").unwrap_err(),
            "`--set t.2.x`: `t` is a list of 2 tables; address an entry by its index 0..2, e.g. t.0.<key>"
        );
        assert_eq!(
            edit(&mut doc, "l.0.x", None, "`--set l.0.x`").unwrap_err(),
            "`--set l.0.x`: `l` is not a table in the config"
        );
        assert_eq!(
            edit(&mut doc, "a.b.c.d", None, "`--set a.b.c.d`").unwrap_err(),
            "`--set a.b.c.d`: `c` is not a table in the config"
        );
    }

    #[test]
    fn a_range_or_betas_of_the_wrong_length_is_refused_at_its_key() {
        let f = write("name = \"a\"\n[[transforms]]\nname = \"rotation\"\nrange = [-20, 0, 20]\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert_eq!(e.location, format!("{}:4:9", f.path().display()));
        assert_eq!(
            e.message,
            "`transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 3"
        );
        let f = write("name = \"a\"\n[[transforms]]\nname = \"rotation\"\n");
        let e = load(f.path(), &["transforms.0.range=[5]".into()]).unwrap_err();
        assert_eq!(e.to_string(), "--set transforms.0.range=[5]: `transforms.0.range` must be exactly 2 numbers, [lo, hi]; got 1");
        let f = write("name = \"a\"\n[train]\noptimizer = { kind = \"adamw\", lr = 0.1, betas = [0.9, 0.99, 0.5] }\n");
        let e = load(f.path(), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:3:49: `train.optimizer.betas` must be exactly 2 numbers, [beta1, beta2]; got 3",
                f.path().display()
            )
        );
    }

    /// Configs deserialised without [`load`] (sweeps, resolved configs) refuse them too.
    #[test]
    fn the_types_themselves_refuse_the_wrong_length() {
        let e = toml::from_str::<Config>(
            "name = \"a\"\n[[transforms]]\nname = \"r\"\nrange = [1, 2, 3]\n",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "`range` must be exactly 2 numbers, [lo, hi]; got 3"
        );
        let e = toml::from_str::<Config>(
            "name = \"a\"\n[train]\noptimizer = { kind = \"adamw\", lr = 0.1, betas = [0.9] }\n",
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "`betas` must be exactly 2 numbers, [beta1, beta2]; got 1"
        );
        let c = toml::from_str::<Config>("name = \"a\"\n[[transforms]]\nname = \"r\"\nrange = [-1, 2]\n[train]\noptimizer = { kind = \"adamw\", lr = 0.1, betas = [0.5, 0.6] }\n").unwrap();
        assert_eq!(c.transforms[0].range, Some([-1.0, 2.0]));
        assert!(
            matches!(c.train.optimizer, crate::config::OptimizerConfig::Adamw { betas, .. } if betas == [0.5, 0.6])
        );
    }

    /// An override that adds a line does not shift the file's line numbers in errors, and an
    /// error in an overridden value names the `--set`.
    #[test]
    fn errors_point_at_the_file_or_at_the_override() {
        let f = write("name = \"a\"\n[train]\nepochs = 3\n[[transforms]]\nname = \"rotation\"\nrange = [5, 1]\n[eval]\nrobust_every = \"x\"\n");
        let file = f.path().display().to_string();
        let e = load(f.path(), &["train.batch_size=64".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{file}:8:16: `eval.robust_every`: expected an integer ≥ 0, got \"x\"")
        );
        let f2 = write("name = \"a\"\n[train]\nepochs = 3\n[[transforms]]\nname = \"rotation\"\nrange = [5, 1]\n");
        let sets = ["train.batch_size=64".to_string()];
        let (c, s) = load(f2.path(), &sets).unwrap();
        let e = crate::config::validate(&c, &s).unwrap_err();
        assert_eq!(e.location, format!("{}:6:9", f2.path().display()));
        let e = load(f2.path(), &["train.batch_size=big".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set train.batch_size=big: `train.batch_size`: expected an integer ≥ 1, got \"big\""
        );
        let e = load(f2.path(), &["train.epochs=many".into()]).unwrap_err();
        let file = f2.path().display().to_string();
        assert_eq!(e.to_string(), format!("{file}:3:10 (--set train.epochs=many): `train.epochs`: expected an integer ≥ 1, got \"many\""));
        // A key an override adds to a tagged table is reported at the table, naming the --set.
        let f = write("name = \"a\"\n[train]\noptimizer = { kind = \"adamw\", lr = 0.1 }\n");
        let e = load(f.path(), &["train.optimizer.momentum=0.5".into()]).unwrap_err();
        assert_eq!(
            e.location,
            format!(
                "{}:3:13 (--set train.optimizer.momentum=0.5)",
                f.path().display()
            )
        );
        assert_eq!(
            e.message,
            "unknown key `momentum` in [train.optimizer]; valid keys: lr, weight_decay, betas, eps"
        );
    }

    #[test]
    fn missing_file() {
        let e = load(Path::new("/nonexistent/x.toml"), &[]).unwrap_err();
        assert_eq!(e.location, "/nonexistent/x.toml");
        assert!(e.message.starts_with("cannot read the config: "), "{e}");
    }
}
