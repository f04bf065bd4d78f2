//! `config.toml` of a run: the config as resolved (after `--set`, defaults filled in) and a
//! `[fuzzaug]` table of provenance: the fuzzaug and libtorch that ran it, the config it was
//! started from, and each plugin library's path, SHA-256 and fingerprint. The file is itself a
//! valid config (the provenance table is ignored when it is used as one).
use crate::config::Config;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

/// One plugin library a run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginRecord {
    /// Where it was loaded from.
    pub path: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Its fingerprint (SDK and toolchain versions, ...).
    #[serde(flatten)]
    pub fingerprint: BTreeMap<String, String>,
}

/// The `[fuzzaug]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// fuzzaug's version.
    pub version: String,
    /// The libtorch it was built against.
    pub libtorch: String,
    /// The config file the run was started from (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The folder its relative paths resolve against (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_dir: Option<String>,
    /// Every plugin library loaded, by name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginRecord>,
}

/// The text of a run's `config.toml`.
pub fn to_text(config: &Config, provenance: &Provenance) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Table<'a> {
        fuzzaug: &'a Provenance,
    }
    Ok(format!(
        "{}\n# Provenance, written by fuzzaug (ignored when this file is used as a config).\n{}",
        toml::to_string(config).context("writing the resolved config")?,
        toml::to_string(&Table {
            fuzzaug: provenance
        })
        .context("writing the provenance")?
    ))
}

/// A run's `config.toml`, read back: the config and its provenance (absent in files not
/// written by `fuzzaug run`).
pub fn read(path: &Path) -> anyhow::Result<(Config, Option<Provenance>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let config: Config = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid config: {}", path.display(), e.message()))?;
    let provenance = match &config.fuzzaug {
        Some(t) => Some(t.clone().try_into().map_err(|e: toml::de::Error| {
            anyhow::anyhow!(
                "{}: unreadable [fuzzaug] table: {}",
                path.display(),
                e.message()
            )
        })?),
        None => None,
    };
    Ok((config, provenance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_a_config_and_its_provenance_reads_back() {
        let config: Config =
            toml::from_str("name = \"r\"\n[dataset]\nname = \"shapes\"\n").unwrap();
        let provenance = Provenance {
            version: "0.2.0".into(),
            libtorch: "2.11.0".into(),
            config: Some("/a/c.toml".into()),
            config_dir: Some("/a".into()),
            plugins: [(
                "shapes".to_string(),
                PluginRecord {
                    path: "/p/libfuzzaug_shapes.so".into(),
                    sha256: "ab".into(),
                    fingerprint: [("sdk".to_string(), "2.0.0".to_string())].into(),
                },
            )]
            .into(),
        };
        let text = to_text(&config, &provenance).unwrap();
        assert!(text.contains("[fuzzaug.plugins.shapes]\npath = \"/p/libfuzzaug_shapes.so\"\nsha256 = \"ab\"\nsdk = \"2.0.0\"\n"), "{text}");
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, &text).unwrap();
        let (back, prov) = read(&p).unwrap();
        assert_eq!(back.name, "r");
        assert_eq!(prov, Some(provenance));
        std::fs::write(&p, "name = 3\n").unwrap();
        assert!(read(&p)
            .unwrap_err()
            .to_string()
            .contains("not a valid config"));
    }
}
