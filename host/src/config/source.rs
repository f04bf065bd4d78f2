//! The config text as read, and the mapping from a key path to `file:line:column`, or to the
//! `--set` argument that supplied the value.
use std::{ops::Range, path::PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A config file's text after `--set` overrides, with what is needed to point at a key.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file as the user named it.
    pub path: PathBuf,
    /// The text that was parsed: the file with the `--set` overrides applied.
    pub text: String,
    /// The file as read; every `file:line:column` refers to it (the overrides may add lines
    /// to `text`, so its positions are not the file's).
    pub original: String,
    /// `--set` overrides applied, as (dotted key, value as typed), in command-line order.
    pub overrides: Vec<(String, String)>,
}

/// A problem with the config, pointing at where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// `file:line:column`, `file`, `--set key=value`, or `file:line:column (--set key=value)`
    /// for a key of the file that an override replaced.
    pub location: String,
    /// What is wrong and, where possible, what would be right.
    pub message: String,
}

/// Whether two key segments name the same thing: equal, or a `*` (every entry of a list) and
/// an index.
fn segment_matches(a: &str, b: &str) -> bool {
    a == b || (a == "*" && b.parse::<usize>().is_ok()) || (b == "*" && a.parse::<usize>().is_ok())
}

/// Whether dotted key `prefix` is `key` or one of its parents.
pub(super) fn is_prefix(prefix: &str, key: &str) -> bool {
    let (p, k): (Vec<&str>, Vec<&str>) = (prefix.split('.').collect(), key.split('.').collect());
    p.len() <= k.len() && p.iter().zip(&k).all(|(a, b)| segment_matches(a, b))
}

/// What a dotted key finds in a parsed document.
struct Lookup {
    /// The spans of the key and of the value at exactly the key, if it is there.
    exact: Option<(Range<usize>, Range<usize>)>,
    /// The span of the value at the deepest part of the key that is there.
    deepest: Option<Range<usize>>,
}

/// Looks dotted `key` up in `root` (list entries by index).
fn lookup(root: &DeTable<'_>, key: &str) -> Lookup {
    let mut deepest = None;
    let mut current: Option<&Spanned<DeValue<'_>>> = None;
    let mut table = Some(root);
    let mut key_span = 0..0;
    for part in key.split('.').filter(|p| !p.is_empty()) {
        let next = match (table, current.map(|c| c.get_ref())) {
            (Some(t), _) => t
                .iter()
                .find(|(k, _)| k.get_ref().as_ref() == part)
                .map(|(k, v)| {
                    key_span = k.span();
                    v
                }),
            // A list entry has no key of its own: its span stands for one.
            (None, Some(DeValue::Array(a))) => part
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i).inspect(|v| key_span = v.span())),
            _ => None,
        };
        let Some(next) = next else {
            return Lookup {
                exact: None,
                deepest,
            };
        };
        deepest = Some(next.span());
        current = Some(next);
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    Lookup {
        exact: current.map(|c| (key_span, c.span())),
        deepest,
    }
}

/// Whether byte `offset` lies in `span` (an empty span holds its own start).
fn holds(span: &Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

/// The deepest key or value of `table` (under dotted `at`) holding byte `offset`: its dotted
/// key and whether the offset is in the key rather than the value.
fn key_at(table: &DeTable<'_>, at: &str, offset: usize) -> Option<(String, bool)> {
    table.iter().find_map(|(k, v)| {
        let key = join(at, k.get_ref());
        if holds(&k.span(), offset) {
            return Some((key, true));
        }
        value_at(v, &key, offset)
    })
}

fn value_at(v: &Spanned<DeValue<'_>>, key: &str, offset: usize) -> Option<(String, bool)> {
    // Children first: a header table's span does not cover its keys.
    let inner = match v.get_ref() {
        DeValue::Table(t) => key_at(t, key, offset),
        DeValue::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, e)| value_at(e, &join(key, &i.to_string()), offset)),
        _ => None,
    };
    inner.or_else(|| holds(&v.span(), offset).then(|| (key.to_string(), false)))
}

fn join(at: &str, part: &str) -> String {
    if at.is_empty() {
        part.to_string()
    } else {
        format!("{at}.{part}")
    }
}

impl Source {
    /// A source read from `path` with no overrides.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            path: path.into(),
            original: text.clone(),
            text,
            overrides: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset of the file as read.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = &self.original;
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// `file:line:column` of the start of a byte range of the file as read.
    pub fn location_of(&self, span: Option<Range<usize>>) -> String {
        match span {
            Some(r) => {
                let (line, col) = self.line_col(r.start);
                format!("{}:{line}:{col}", self.path.display())
            }
            None => self.path.display().to_string(),
        }
    }

    /// An error about the value at `key` (dotted; array elements by index, e.g.
    /// `transforms.1.range`). Points at the `--set` that supplied it (with the file's own
    /// line of the key where it has one), else at the deepest part of the path that exists in
    /// the file.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            location: self.key_location(key, false),
            message: message.into(),
        }
    }

    /// An error not tied to one key.
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            location: self.path.display().to_string(),
            message: message.into(),
        }
    }

    /// The location of a byte range of the parsed text (`text`, e.g. from a deserialisation
    /// error): as `file:line:column` of the same key in the file, or as the `--set` that
    /// supplied it.
    pub fn locate(&self, span: Option<Range<usize>>) -> String {
        if self.overrides.is_empty() {
            // `text` is the file.
            return self.location_of(span);
        }
        let found = span.and_then(|s| {
            let root = DeTable::parse(&self.text).ok()?;
            key_at(root.get_ref(), "", s.start)
        });
        match found {
            Some((key, in_key)) => self.key_location(&key, in_key),
            None => self.path.display().to_string(),
        }
    }

    /// The dotted key of the parsed text (`text`) whose key or value holds byte `offset`, and
    /// whether the offset is in the key rather than the value.
    pub(super) fn key_in_text(&self, offset: usize) -> Option<(String, bool)> {
        let root = DeTable::parse(&self.text).ok()?;
        key_at(root.get_ref(), "", offset)
    }

    /// The span of the value at `key` in the file as read, or of its deepest existing parent.
    pub fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let root = DeTable::parse(&self.original).ok()?;
        lookup(root.get_ref(), key).deepest
    }

    /// Whether the config, overrides included, gives `key` itself (not a default).
    pub fn has(&self, key: &str) -> bool {
        DeTable::parse(&self.text)
            .ok()
            .is_some_and(|root| lookup(root.get_ref(), key).exact.is_some())
    }

    /// The spans of the key and of the value at exactly `key` in the file as read.
    fn exact_span(&self, key: &str) -> Option<(Range<usize>, Range<usize>)> {
        let root = DeTable::parse(&self.original).ok()?;
        lookup(root.get_ref(), key).exact
    }

    /// Where the value (or, with `in_key`, the key) at `key` of the parsed text comes from.
    fn key_location(&self, key: &str, in_key: bool) -> String {
        let exact = self
            .exact_span(key)
            .map(|(k, v)| if in_key { k } else { v });
        // The last override wins, so it is the one to name.
        let covering = self.overrides.iter().rev().find(|(k, _)| is_prefix(k, key));
        if let Some((k, v)) = covering {
            return match exact {
                Some(span) => format!("{} (--set {k}={v})", self.location_of(Some(span))),
                None => format!("--set {k}={v}"),
            };
        }
        // An override inside this table: an error about the table as a whole (a tagged table
        // such as `train.optimizer` reports an unknown or missing key there) may be its doing.
        let inside = self.overrides.iter().rev().find(|(k, _)| is_prefix(key, k));
        match (exact, inside) {
            (Some(span), Some((k, v))) => {
                format!("{} (--set {k}={v})", self.location_of(Some(span)))
            }
            (Some(span), None) => self.location_of(Some(span)),
            // A table the file lacks, created by an override of one of its keys.
            (None, Some((k, v))) => format!("--set {k}={v}"),
            (None, None) => self.location_of(self.span_of(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source::new("c.toml", text)
    }

    #[test]
    fn points_at_nested_keys_and_array_elements() {
        let s = src("name = \"x\"\n[strategy]\nname = \"sensei\"\npopulation = 3\n\n[[transforms]]\nname = \"a\"\n[[transforms]]\nname = \"b\"\nrange = [1, 2]\n");
        assert_eq!(
            s.error_at("strategy.population", "m").location,
            "c.toml:4:14"
        );
        assert_eq!(
            s.error_at("transforms.1.range", "m").location,
            "c.toml:10:9"
        );
        // missing key: falls back to its table
        assert_eq!(s.error_at("strategy.selective", "m").location, "c.toml:2:1");
        assert_eq!(s.error_at("nothing.here", "m").location, "c.toml");
    }

    #[test]
    fn keys_match_with_a_star_for_any_index() {
        assert!(is_prefix("transforms.*.step", "transforms.2.step"));
        assert!(is_prefix("transforms.2", "transforms.*.step"));
        assert!(is_prefix("train", "train.epochs"));
        assert!(!is_prefix("train.epochs", "train"));
        assert!(!is_prefix("transforms.*.step", "transforms.name.step"));
        assert!(!is_prefix("train.epoch", "train.epochs"));
    }

    #[test]
    fn finds_the_key_at_an_offset() {
        let text = "a = 1\n[t]\nb = { c = [1, 2] }\n[[l]]\nd = 3\n";
        let root = DeTable::parse(text).unwrap();
        let at = |needle: &str| key_at(root.get_ref(), "", text.find(needle).unwrap());
        assert_eq!(at("a ="), Some(("a".into(), true)));
        assert_eq!(at("1\n"), Some(("a".into(), false)));
        assert_eq!(at("c ="), Some(("t.b.c".into(), true)));
        assert_eq!(at("2]"), Some(("t.b.c.1".into(), false)));
        assert_eq!(at("{"), Some(("t.b".into(), false)));
        assert_eq!(at("3"), Some(("l.0.d".into(), false)));
    }

    #[test]
    fn a_key_that_only_an_override_supplies_is_located_at_the_override() {
        let mut s = src("[train]\nepochs = 3\n");
        s.overrides.push(("train.optimizer.lr".into(), "-1".into()));
        assert_eq!(
            s.error_at("train.optimizer.lr", "m").location,
            "--set train.optimizer.lr=-1"
        );
        // a table the override created
        assert_eq!(
            s.error_at("train.optimizer", "m").location,
            "--set train.optimizer.lr=-1"
        );
        assert_eq!(s.error_at("train.epochs", "m").location, "c.toml:2:10");
        // the last of two overrides of a key is the one in effect
        s.overrides.push(("train.epochs".into(), "0".into()));
        s.overrides.push(("train".into(), "{ epochs = 5 }".into()));
        assert_eq!(
            s.error_at("train.epochs", "m").location,
            "c.toml:2:10 (--set train={ epochs = 5 })"
        );
    }

    #[test]
    fn names_the_override() {
        let mut s = src("[train]\nepochs = 0\n");
        s.overrides.push(("train.epochs".into(), "0".into()));
        assert_eq!(
            s.error_at("train.epochs", "m").to_string(),
            "c.toml:2:10 (--set train.epochs=0): m"
        );
    }
}
