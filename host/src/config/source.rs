//! The config text as read, and the mapping from a key path to `file:line:column`.
use std::{ops::Range, path::PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A config file's text after `--set` overrides, with what is needed to point at a key.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file as the user named it.
    pub path: PathBuf,
    /// The text that was parsed.
    pub text: String,
    /// `--set` overrides applied, as (dotted key, value text).
    pub overrides: Vec<(String, String)>,
}

/// A problem with the config, pointing at where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// `file:line:column`, `file`, or `--set key=value`.
    pub location: String,
    /// What is wrong and, where possible, what would be right.
    pub message: String,
}

impl Source {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// `file:line:column` of a byte range's start.
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
    /// `transforms.1.range`). Points at the deepest part of the path that exists in the file,
    /// or at the `--set` that supplied it.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let location = match self
            .overrides
            .iter()
            .find(|(k, _)| key == k || key.starts_with(&format!("{k}.")))
        {
            Some((k, v)) => format!("{} (--set {k}={v})", self.location_of(self.span_of(key))),
            None => self.location_of(self.span_of(key)),
        };
        ConfigError {
            location,
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

    /// The span of the value at `key`, or of its deepest existing parent.
    pub fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let root = DeTable::parse(&self.text).ok()?;
        let mut best = None;
        let mut current: Option<&Spanned<DeValue<'_>>> = None;
        let mut table = Some(root.get_ref());
        for part in key.split('.').filter(|p| !p.is_empty()) {
            let next = match (table, current.map(|c| c.get_ref())) {
                (Some(t), _) => t
                    .iter()
                    .find(|(k, _)| k.get_ref().as_ref() == part)
                    .map(|(_, v)| v),
                (None, Some(DeValue::Array(a))) => {
                    part.parse::<usize>().ok().and_then(|i| a.get(i))
                }
                _ => None,
            };
            let Some(next) = next else { break };
            best = Some(next.span());
            current = Some(next);
            table = match next.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source {
            path: "c.toml".into(),
            text: text.into(),
            overrides: vec![],
        }
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
    fn names_the_override() {
        let mut s = src("[train]\nepochs = 0\n");
        s.overrides.push(("train.epochs".into(), "0".into()));
        assert_eq!(
            s.error_at("train.epochs", "m").to_string(),
            "c.toml:2:10 (--set train.epochs=0): m"
        );
    }
}
