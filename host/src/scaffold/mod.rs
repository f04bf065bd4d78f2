//! `fuzzaug new-plugin`: a complete, buildable plugin crate outside the workspace, from the
//! templates in `templates/` (one `lib.rs` per kind, the manifest, the build script the SDK
//! needs, a README).
use std::path::{Path, PathBuf};

/// What the plugin offers: the SDK's own component kinds.
pub use fuzzaug_sdk::ComponentKind as Kind;

fn lib_rs(kind: Kind) -> &'static str {
    match kind {
        Kind::Strategy => include_str!("templates/strategy.rs"),
        Kind::Transform => include_str!("templates/transform.rs"),
        Kind::Dataset => include_str!("templates/dataset.rs"),
    }
}

/// Dependencies beyond the SDK (the strategy's random stream).
fn deps(kind: Kind) -> &'static str {
    match kind {
        Kind::Strategy => "rand = \"0.9\"\nrand_chacha = \"0.9\"\n",
        _ => "",
    }
}

/// The README's "how to use it" paragraph.
fn usage(kind: Kind, name: &str) -> String {
    let (intro, snippet) = match kind {
        Kind::Strategy => (
            "Name it in a config's `[strategy]` table; its settings go in the same table:",
            format!("[strategy]\nname = \"{name}\"\nk = 4"),
        ),
        Kind::Transform => (
            "Add it as a gene in a config's `[[transforms]]` list:",
            format!("[[transforms]]\nname = \"{name}\"\nrange = [0.8, 1.2]\nstep = 0.05"),
        ),
        Kind::Dataset => (
            "Name it in a config's `[dataset]` table; its settings go in the same table:",
            format!("[dataset]\nname = \"{name}\"\ntrain_size = 1000"),
        ),
    };
    format!(
        "{intro}\n\n```toml\n{snippet}\n```\n\nthen `fuzzaug run CONFIG --plugin-dir ~/fuzzaug-plugins`."
    )
}

/// Where the generated crate gets `fuzzaug-sdk` and `fuzzaug-build` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A checkout's `sdk/` folder (its `build/` subfolder holds fuzzaug-build).
    Path(PathBuf),
    /// A git repository holding both crates, optionally pinned to a revision.
    Git {
        /// Repository URL.
        url: String,
        /// Commit, tag or branch; none = the default branch.
        rev: Option<String>,
    },
}

/// Why no crate was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// Not usable as a component and crate name.
    #[error("plugin name `{0}`: use lowercase ASCII letters, digits, `-` and `_`, starting with a letter (at most 64 characters), e.g. `my-strategy`")]
    BadName(String),
    /// The target folder holds files already.
    #[error("{0} exists and is not empty; choose another --dir or remove it")]
    Exists(PathBuf),
    /// `--sdk-path` does not hold the SDK.
    #[error("{0} does not hold fuzzaug-sdk (no Cargo.toml naming `fuzzaug-sdk` there, or no build/ with fuzzaug-build); pass --sdk-path with a fuzzaug checkout's sdk/ folder, or --sdk-git URL")]
    NoSdk(PathBuf),
    /// Writing failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The SDK folder this fuzzaug was built from (a checkout's `sdk/`), the default source.
pub fn built_sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk")
}

/// Checks `name` against the rules for component and crate names.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ScaffoldError::BadName(name.to_string()))
    }
}

/// `my-worst_k` → `MyWorstK`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The dependency specs of `fuzzaug-sdk` and `fuzzaug-build`.
fn dependency_specs(sdk: &SdkSource) -> Result<(String, String), ScaffoldError> {
    Ok(match sdk {
        SdkSource::Path(dir) => {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            let names = |p: &Path, crate_name: &str| {
                std::fs::read_to_string(p.join("Cargo.toml"))
                    .map(|t| t.contains(&format!("name = \"{crate_name}\"")))
                    .unwrap_or(false)
            };
            if !names(&dir, "fuzzaug-sdk") || !names(&dir.join("build"), "fuzzaug-build") {
                return Err(ScaffoldError::NoSdk(dir));
            }
            let dir = dir.canonicalize().unwrap_or(dir);
            let spec = |p: PathBuf| {
                format!(
                    "{{ path = {} }}",
                    crate::config::toml_string(&p.display().to_string())
                )
            };
            (spec(dir.clone()), spec(dir.join("build")))
        }
        SdkSource::Git { url, rev } => {
            let spec = format!(
                "{{ git = {}{} }}",
                crate::config::toml_string(url),
                rev.as_deref()
                    .map(|r| format!(", rev = {}", crate::config::toml_string(r)))
                    .unwrap_or_default()
            );
            (spec.clone(), spec)
        }
    })
}

/// `spec`, an inline dependency table as [`dependency_specs`] writes it (`{ path = "…" }`),
/// with the SDK's `testing` feature on: the `[dev-dependencies]` entry of the unit tests.
fn with_testing_feature(spec: &str) -> String {
    let open = spec.strip_suffix('}').unwrap_or(spec).trim_end();
    format!("{open}, features = [\"testing\"] }}")
}

/// The files of a new plugin crate `name` of `kind`, as (relative path, contents).
pub fn files(
    name: &str,
    kind: Kind,
    sdk: &SdkSource,
) -> Result<Vec<(&'static str, String)>, ScaffoldError> {
    check_name(name)?;
    let (sdk_spec, build_spec) = dependency_specs(sdk)?;
    let lib = format!("fuzzaug_{}", name.replace('-', "_"));
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{kind}}", kind.as_str())
            .replace("{{crate}}", &format!("fuzzaug-{}", name.replace('_', "-")))
            .replace("{{lib}}", &lib)
            .replace("{{type}}", &type_name(name))
            .replace("{{sdk}}", &sdk_spec)
            .replace("{{sdk_testing}}", &with_testing_feature(&sdk_spec))
            .replace("{{build}}", &build_spec)
            .replace("{{deps}}", deps(kind))
            .replace("{{version}}", fuzzaug_sdk::SDK_VERSION)
            .replace("{{usage}}", &usage(kind, name))
    };
    Ok(vec![
        ("Cargo.toml", fill(include_str!("templates/Cargo.toml.in"))),
        ("build.rs", include_str!("templates/build.rs").to_string()),
        ("src/lib.rs", fill(lib_rs(kind))),
        ("README.md", fill(include_str!("templates/README.md.in"))),
        (
            ".gitignore",
            include_str!("templates/gitignore").to_string(),
        ),
    ])
}

/// Writes the crate into `dir` (created; it must not hold files yet); returns the files written.
pub fn write(
    dir: &Path,
    name: &str,
    kind: Kind,
    sdk: &SdkSource,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let files = files(name, kind, sdk)?;
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ScaffoldError::Exists(dir.to_path_buf()));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        let io = |source| ScaffoldError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, text).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "my-worst", "rot_k2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "My", "2x", "-a", "a b", "a/b", &"x".repeat(65)] {
            assert!(
                check_name(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("use lowercase ASCII"),
                "{bad}"
            );
        }
        assert_eq!(type_name("my-worst_k"), "MyWorstK");
    }

    #[test]
    fn every_placeholder_is_filled_and_git_sources_pin_both_crates() {
        let git = SdkSource::Git {
            url: "https://example.org/fuzzaug.git".into(),
            rev: Some("abc123".into()),
        };
        for kind in [Kind::Strategy, Kind::Transform, Kind::Dataset] {
            for (path, text) in files("my-thing", kind, &git).unwrap() {
                assert!(
                    !text.contains("{{"),
                    "{path} of {kind:?} keeps a placeholder"
                );
            }
        }
        let manifest = &files("my-thing", Kind::Strategy, &git).unwrap()[0].1;
        let doc: toml::Table = toml::from_str(manifest).unwrap();
        let dep = |section: &str, name: &str| doc[section][name].clone();
        let want: toml::Value = toml::from_str::<toml::Table>(
            "v = { git = \"https://example.org/fuzzaug.git\", rev = \"abc123\" }",
        )
        .unwrap()["v"]
            .clone();
        assert_eq!(dep("dependencies", "fuzzaug-sdk"), want);
        assert_eq!(dep("build-dependencies", "fuzzaug-build"), want);
        let mut testing = want.as_table().unwrap().clone();
        testing.insert(
            "features".into(),
            toml::Value::Array(vec!["testing".into()]),
        );
        assert_eq!(
            dep("dev-dependencies", "fuzzaug-sdk"),
            toml::Value::Table(testing)
        );
        assert_eq!(doc["lib"]["name"].as_str(), Some("fuzzaug_my_thing"));
        assert_eq!(doc["package"]["name"].as_str(), Some("fuzzaug-my-thing"));
        for pinned in ["tch", "torch-sys", "abi_stable"] {
            assert!(
                !doc["dependencies"].as_table().unwrap().contains_key(pinned),
                "the {pinned} pin comes from the SDK"
            );
        }
    }

    #[test]
    fn the_built_sdk_is_found_and_a_wrong_path_is_refused() {
        let (sdk, build) = dependency_specs(&SdkSource::Path(built_sdk_dir())).unwrap();
        assert!(
            sdk.starts_with("{ path = ") && build.contains("/sdk/build"),
            "{build}"
        );
        let err = dependency_specs(&SdkSource::Path("/nonexistent".into())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent does not hold fuzzaug-sdk"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_with_files_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let sdk = SdkSource::Path(built_sdk_dir());
        let err = write(dir.path(), "x", Kind::Dataset, &sdk).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("exists and is not empty; choose another --dir or remove it"));
        let fresh = dir.path().join("new");
        let written = write(&fresh, "x", Kind::Dataset, &sdk).unwrap();
        assert_eq!(written.len(), 5);
        assert!(fresh.join("src/lib.rs").is_file());
    }
}
