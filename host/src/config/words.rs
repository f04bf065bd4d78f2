//! Serde's deserialisation errors in the config reference's words: `expected an integer ≥ 1`
//! rather than `expected u32`, and an unknown key or value with a did-you-mean and the valid
//! ones of its table, at the key (or at the `--set` that supplied it).
use super::{
    source::{is_prefix, Source},
    validate::MINIMUM,
    ConfigError,
};
use fuzzaug_sdk::settings::did_you_mean;

/// Keys that are accepted but are not for people to write: a resolved config's provenance.
const HIDDEN: &[&str] = &["fuzzaug"];

/// The error for a failed deserialisation of `source.text` as a [`Config`](super::Config),
/// located at its key: in the file, or at the `--set` that supplied the value. For a config
/// only: the keys it suggests and the least values it names are the config's (a threat file's
/// `protocols` would be told about `[train]`).
pub fn explain(e: &toml::de::Error, source: &Source) -> ConfigError {
    let mut message = e.message().trim().to_string();
    if let Some(first) = message.get(..1) {
        message = first.to_lowercase() + &message[1..];
    }
    let span = e.span();
    let found = span.as_ref().and_then(|s| source.key_in_text(s.start));
    let location = source.locate(span);
    let (key, in_key) = match found {
        Some((k, in_key)) => (Some(k), in_key),
        None => (None, false),
    };
    // The table an unknown or missing key belongs to: the parent of a key, or the table whose
    // value the error spans (a tagged table such as `train.optimizer` is read as a whole).
    let table = || match (&key, in_key) {
        (Some(k), true) => k
            .rsplit_once('.')
            .map_or(String::new(), |(t, _)| t.to_string()),
        (Some(k), false) => k.clone(),
        (None, _) => String::new(),
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((name, valid)) = rest.split_once('`') {
            let valid: Vec<&str> = ticked(valid)
                .into_iter()
                .filter(|v| !HIDDEN.contains(v))
                .collect();
            let table = table();
            let message = format!(
                "unknown key `{name}` {}; {}{}",
                within(&table),
                elsewhere(name, &table),
                hint(name, &valid, "keys")
            );
            return ConfigError { location, message };
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((name, valid)) = rest.split_once('`') {
            let of = key.as_ref().map_or(String::new(), |k| format!(" of `{k}`"));
            let message = format!(
                "unknown value `{name}`{of}; {}",
                hint(name, &ticked(valid), "values")
            );
            return ConfigError { location, message };
        }
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some((name, "")) = rest.split_once('`') {
            let message = format!("missing key `{name}` {}", within(&table()));
            return ConfigError { location, message };
        }
    }
    if message.starts_with("data did not match any variant of untagged enum Points") {
        // Read inside a tagged protocol table: the error spans the protocol.
        let points = match &key {
            Some(k) if !in_key && !k.ends_with(".points") => format!("{k}.points"),
            Some(k) => k.clone(),
            None => "points".to_string(),
        };
        let location = if source.has(&points) {
            source.error_at(&points, "").location
        } else {
            location
        };
        let message =
            format!("`{points}`: expected an integer ≥ 2, or a table of them by gene name");
        return ConfigError { location, message };
    }
    let wrong = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((got, expected)) = wrong.and_then(|w| w.rsplit_once(", expected ")) {
        // A tagged table is read as a whole, so the error spans all of it: the value it is
        // about is the one entry of the table that matches what serde saw, if only one does.
        let inner = key
            .as_deref()
            .filter(|_| !in_key && got != "map")
            .and_then(|k| entry_matching(&source.text, k, got));
        let (key, location) = match inner {
            Some(k) => {
                let location = source.error_at(&k, "").location;
                (Some(k), location)
            }
            None => (key, location),
        };
        let least = key.as_deref().map_or(0, minimum);
        let message = format!(
            "{}expected {}, got {}",
            key.as_ref().map_or(String::new(), |k| format!("`{k}`: ")),
            expected_words(expected, got, least),
            got_words(got)
        );
        return ConfigError { location, message };
    }
    ConfigError { location, message }
}

/// `it is a key of [train]; ` when `name`, unknown in `table`, is a key of another table of
/// the config's own (the commonest slip: a key above or below the header it belongs under).
fn elsewhere(name: &str, table: &str) -> String {
    let homes: Vec<String> = core_tables()
        .into_iter()
        .filter(|(t, keys)| *t != table && keys.iter().any(|k| k == name))
        .map(|(t, _)| match t {
            "" => "the top level (above the first [table])".to_string(),
            t => format!("[{t}]"),
        })
        .collect();
    if homes.is_empty() {
        String::new()
    } else {
        format!("it is a key of {}; ", homes.join(" and "))
    }
}

/// The tables of the config whose keys are fuzzaug's (not a plugin's), with their keys as
/// serde lists them for a key they do not have.
fn core_tables() -> Vec<(&'static str, Vec<String>)> {
    fn keys<T: serde::de::DeserializeOwned>() -> Vec<String> {
        const PROBE: &str = "not_a_key_of_any_table";
        let Err(e) = toml::from_str::<T>(&format!("{PROBE} = 0")) else {
            return Vec::new();
        };
        let message = e.message().to_string();
        message
            .split_once(&format!("`{PROBE}`"))
            .map(|(_, valid)| ticked(valid).into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }
    use super::{Config, EvalConfig, LogConfig, ModelConfig, PluginsConfig, TrainConfig};
    vec![
        ("", keys::<Config>()),
        ("train", keys::<TrainConfig>()),
        ("model", keys::<ModelConfig>()),
        ("eval", keys::<EvalConfig>()),
        ("log", keys::<LogConfig>()),
        ("plugins", keys::<PluginsConfig>()),
    ]
}

/// `in [train]`, or `at the top level`.
fn within(table: &str) -> String {
    if table.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in [{table}]")
    }
}

/// `did you mean `x`? valid keys: a, b`, without the question when no name is near.
fn hint(name: &str, valid: &[&str], what: &str) -> String {
    if valid.is_empty() {
        return format!("this table takes no {what}");
    }
    let near = did_you_mean(name, valid)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    format!("{near}valid {what}: {}", valid.join(", "))
}

/// The names between backticks in serde's `expected one of `a`, `b`` (or `expected `a` or `b``).
fn ticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The least value the key's own check allows (0 for the keys [`MINIMUM`] does not list).
fn minimum(key: &str) -> u64 {
    let depth = key.split('.').count();
    MINIMUM
        .iter()
        .find(|(pattern, _)| pattern.split('.').count() == depth && is_prefix(pattern, key))
        .map_or(0, |&(_, least)| least)
}

/// What serde expected, in words. `got` is what it found, to tell a number too large for the
/// type from one below its least value.
fn expected_words(expected: &str, got: &str, least: u64) -> String {
    let max = match expected {
        "u8" => Some(u64::from(u8::MAX)),
        "u16" => Some(u64::from(u16::MAX)),
        "u32" => Some(u64::from(u32::MAX)),
        "u64" | "usize" => Some(u64::MAX),
        _ => None,
    };
    if let Some(max) = max {
        let too_large = got
            .strip_prefix("integer `")
            .and_then(|n| n.trim_end_matches('`').parse::<i128>().ok())
            .is_some_and(|n| n > i128::from(max));
        return if too_large {
            format!("an integer from {least} to {max}")
        } else {
            format!("an integer ≥ {least}")
        };
    }
    match expected {
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "a table".into(),
        "path string" => "a path (a string)".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e if e.starts_with("internally tagged enum ") => "a table with a `kind`".into(),
        e => e.into(),
    }
}

/// What serde found, in words: the value itself, or what kind of value it was.
fn got_words(got: &str) -> String {
    for kind in ["integer `", "floating point `", "boolean `"] {
        if let Some(v) = got.strip_prefix(kind).and_then(|v| v.strip_suffix('`')) {
            return v.to_string();
        }
    }
    if let Some(s) = got.strip_prefix("string ") {
        return s.to_string();
    }
    match got {
        "sequence" => "a list".into(),
        "map" => "a table".into(),
        other => other.into(),
    }
}

/// The dotted key of the one value under the table at `key` of `text` that serde's
/// description `got` (`integer `-1``, `string "x"`, …) fits; `None` when none or several do.
fn entry_matching(text: &str, key: &str, got: &str) -> Option<String> {
    let root: toml::Table = text.parse().ok()?;
    let mut at = toml::Value::Table(root);
    for part in key.split('.') {
        at = match at {
            toml::Value::Table(mut t) => t.remove(part)?,
            toml::Value::Array(mut a) => {
                let i = part.parse::<usize>().ok().filter(|&i| i < a.len())?;
                a.swap_remove(i)
            }
            _ => return None,
        };
    }
    let toml::Value::Table(table) = at else {
        return None;
    };
    let mut hits = Vec::new();
    for (k, v) in &table {
        matching(v, &format!("{key}.{k}"), got, &mut hits);
    }
    match hits.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn matching(v: &toml::Value, key: &str, got: &str, hits: &mut Vec<String>) {
    let fits = match v {
        toml::Value::Integer(i) => got == format!("integer `{i}`"),
        toml::Value::Float(f) => got
            .strip_prefix("floating point `")
            .and_then(|g| g.trim_end_matches('`').parse::<f64>().ok())
            .is_some_and(|g| g == *f || (g.is_nan() && f.is_nan())),
        toml::Value::Boolean(b) => got == format!("boolean `{b}`"),
        toml::Value::String(s) => got == format!("string {s:?}"),
        toml::Value::Array(_) => got == "sequence",
        _ => false,
    };
    if fits {
        hits.push(key.to_string());
    }
    match v {
        toml::Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                matching(e, &format!("{key}.{i}"), got, hits);
            }
        }
        toml::Value::Table(t) => {
            for (k, e) in t {
                matching(e, &format!("{key}.{k}"), got, hits);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain_text(text: &str) -> String {
        let source = Source::new("c.toml", text);
        let e = toml::from_str::<super::super::Config>(text).unwrap_err();
        explain(&e, &source).to_string()
    }

    #[test]
    fn integers_say_their_least_value() {
        let base = "name = \"a\"\n";
        assert_eq!(
            explain_text(&format!("{base}[train]\nepochs = -1\n")),
            "c.toml:3:10: `train.epochs`: expected an integer ≥ 1, got -1"
        );
        assert_eq!(
            explain_text(&format!("{base}[train]\nbatch_size = \"big\"\n")),
            "c.toml:3:14: `train.batch_size`: expected an integer ≥ 1, got \"big\""
        );
        assert_eq!(
            explain_text(&format!("{base}[train]\nepochs = 5000000000\n")),
            "c.toml:3:10: `train.epochs`: expected an integer from 1 to 4294967295, got 5000000000"
        );
        assert_eq!(
            explain_text(&format!("{base}seed = 1.5\n")),
            "c.toml:2:8: `seed`: expected an integer ≥ 0, got 1.5"
        );
        assert_eq!(
            explain_text(&format!("{base}[eval]\nrobust_subset = -3\n")),
            "c.toml:3:17: `eval.robust_subset`: expected an integer ≥ 1, got -3"
        );
    }

    #[test]
    fn a_value_inside_a_tagged_table_is_found_in_it() {
        let base = "name = \"a\"\n[train]\n";
        assert_eq!(
            explain_text(&format!(
                "{base}schedule = {{ kind = \"step\", every = -2 }}\n"
            )),
            "c.toml:3:37: `train.schedule.every`: expected an integer ≥ 1, got -2"
        );
        assert_eq!(
            explain_text(&format!(
                "{base}schedule = {{ kind = \"multistep\", milestones = [2, -4] }}\n"
            )),
            "c.toml:3:51: `train.schedule.milestones.1`: expected an integer ≥ 1, got -4"
        );
        assert_eq!(
            explain_text(&format!(
                "{base}optimizer = {{ kind = \"sgd\", lr = \"x\" }}\n"
            )),
            "c.toml:3:34: `train.optimizer.lr`: expected a number, got \"x\""
        );
        // Two entries that fit: the table it is.
        assert_eq!(
            explain_text(&format!(
                "{base}optimizer = {{ kind = \"sgd\", lr = true, nesterov = true }}\n"
            )),
            "c.toml:3:13: `train.optimizer`: expected a number, got true"
        );
        assert_eq!(
            explain_text(&format!("{base}optimizer = 3\n")),
            "c.toml:3:13: `train.optimizer`: expected a table with a `kind`, got 3"
        );
    }

    #[test]
    fn other_types_in_words() {
        let base = "name = \"a\"\n";
        for (line, want) in [
            (
                "[train]\nchannels_last = 1",
                "c.toml:3:17: `train.channels_last`: expected true or false, got 1",
            ),
            (
                "[log]\ntensorboard = \"yes\"",
                "c.toml:3:15: `log.tensorboard`: expected true or false, got \"yes\"",
            ),
            (
                "[dataset]\nname = \"shapes\"\nmean = [0.5, \"a\"]",
                "c.toml:4:14: `dataset.mean.1`: expected a number, got \"a\"",
            ),
            (
                "plugin_dirs = 3",
                "c.toml:2:15: `plugin_dirs`: expected a list, got 3",
            ),
            (
                "output_dir = 3",
                "c.toml:2:14: `output_dir`: expected a path (a string), got 3",
            ),
            ("train = 3", "c.toml:2:9: `train`: expected a table, got 3"),
            (
                "[model]\narch = 3",
                "c.toml:3:8: `model.arch`: expected a string, got 3",
            ),
        ] {
            assert_eq!(explain_text(&format!("{base}{line}\n")), want);
        }
    }

    #[test]
    fn unknown_keys_and_values_suggest_the_nearest() {
        assert_eq!(
            explain_text("name = \"a\"\n[log]\ntensorbord = true\n"),
            "c.toml:3:1: unknown key `tensorbord` in [log]; did you mean `tensorboard`? valid keys: tensorboard, image_every"
        );
        assert_eq!(
            explain_text("name = \"a\"\nsed = 1\n"),
            "c.toml:2:1: unknown key `sed` at the top level; did you mean `seed`? valid keys: name, seed, device, output_dir, plugin_dirs, dataset, model, train, transforms, strategy, eval, plugins, log"
        );
        assert_eq!(
            explain_text("name = \"a\"\n[train]\nprecision = \"bf61\"\n"),
            "c.toml:3:13: unknown value `bf61` of `train.precision`; did you mean `bf16`? valid values: fp32, bf16"
        );
        assert_eq!(
            explain_text("name = \"a\"\n[train]\nschedule = { kind = \"step\" }\n"),
            "c.toml:3:12: missing key `every` in [train.schedule]"
        );
    }

    #[test]
    fn a_key_of_another_table_says_which() {
        assert_eq!(
            explain_text("epochs = 3\nname = \"a\"\n"),
            "c.toml:1:1: unknown key `epochs` at the top level; it is a key of [train]; valid keys: name, seed, device, output_dir, plugin_dirs, dataset, model, train, transforms, strategy, eval, plugins, log"
        );
        assert_eq!(
            explain_text("name = \"a\"\n[log]\nimage_every = 1\nseed = 3\n"),
            "c.toml:4:1: unknown key `seed` in [log]; it is a key of the top level (above the first [table]); valid keys: tensorboard, image_every"
        );
        for (table, keys) in core_tables() {
            assert!(keys.len() >= 2 || table == "plugins", "{table}: {keys:?}");
        }
    }

    #[test]
    fn grid_points_are_located_in_their_protocol() {
        assert_eq!(
            explain_text("name = \"a\"\n[[eval.protocols]]\nkind = \"grid\"\npoints = \"x\"\n"),
            "c.toml:4:10: `eval.protocols.0.points`: expected an integer ≥ 2, or a table of them by gene name"
        );
    }

    #[test]
    fn every_listed_minimum_names_a_key_of_the_config() {
        assert_eq!(minimum("train.epochs"), 1);
        assert_eq!(minimum("train.schedule.milestones.3"), 1);
        assert_eq!(minimum("eval.protocols.0.k"), 1);
        assert_eq!(minimum("eval.robust_every"), 0);
        assert_eq!(minimum("train"), 0);
    }
}
