//! The plugin search path: `--plugin-dir`, the config's `plugin_dirs`, `FUZZAUG_PLUGIN_PATH`,
//! then the folder of the `fuzzaug` executable.
use std::path::{Path, PathBuf};

/// Colon-separated plugin folders from the environment.
pub const PLUGIN_PATH_ENV: &str = "FUZZAUG_PLUGIN_PATH";

/// Where to look for `libfuzzaug_*.so`, in order, each folder with where it came from.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    dirs: Vec<(PathBuf, String)>,
    /// Entries refused when the path was built, reported by [`SearchPath::libraries`].
    refused: Vec<String>,
}

impl SearchPath {
    /// The standard path: `cli_dirs`, then `config_dirs`, then the environment, then the
    /// executable's folder.
    pub fn standard(cli_dirs: &[PathBuf], config_dirs: &[PathBuf]) -> Self {
        let mut me = Self::default();
        for d in cli_dirs {
            me.push(d.clone(), "--plugin-dir");
        }
        for d in config_dirs {
            me.push(d.clone(), "plugin_dirs in the config");
        }
        if let Some(env) = std::env::var_os(PLUGIN_PATH_ENV) {
            for d in std::env::split_paths(&env).filter(|d| !d.as_os_str().is_empty()) {
                if d.is_relative() {
                    // Its meaning would change with the working folder, and what it points at
                    // runs as code.
                    me.refused.push(format!(
                        "{PLUGIN_PATH_ENV} entry `{}` is a relative path, which would load whatever plugins the current folder holds; plugin folders from the environment must be absolute: use `$PWD/{}` or the full path",
                        d.display(),
                        d.display()
                    ));
                    continue;
                }
                me.push(d, PLUGIN_PATH_ENV);
            }
        }
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            me.push(dir, "the fuzzaug executable's folder");
        }
        me
    }

    /// Appends a folder.
    pub fn push(&mut self, dir: PathBuf, origin: &str) {
        self.dirs.push((dir, origin.to_string()));
    }

    /// The folders, in search order, with their origin.
    pub fn dirs(&self) -> &[(PathBuf, String)] {
        &self.dirs
    }

    /// Every `libfuzzaug_*.so` in the folders, canonicalised (a symbolic link is replaced by
    /// its target, on which every check is made) and without repeats, in search order (sorted
    /// by name within a folder). A folder the user named that does not exist is an error; one
    /// from the environment is skipped with a warning; a relative folder from the environment
    /// is an error. A file that cannot be canonicalised (a dangling link) is returned as it is,
    /// for the loader to refuse with its reason.
    pub fn libraries(&self) -> Result<Vec<PathBuf>, String> {
        if let Some(first) = self.refused.first() {
            return Err(first.clone());
        }
        let mut out: Vec<PathBuf> = Vec::new();
        for (dir, origin) in &self.dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if origin == PLUGIN_PATH_ENV => {
                    log::warn!(
                        "skipping plugin folder {} from {origin}: {e}",
                        dir.display()
                    );
                    continue;
                }
                Err(e) => {
                    return Err(format!(
                        "plugin folder {} (from {origin}) cannot be read: {e}",
                        dir.display()
                    ))
                }
            };
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_plugin_file_name(p))
                .collect();
            found.sort();
            for p in found {
                let canonical = p.canonicalize().unwrap_or(p);
                if !out.contains(&canonical) {
                    out.push(canonical);
                }
            }
        }
        Ok(out)
    }
}

/// `libfuzzaug_<name>.so`.
pub fn is_plugin_file_name(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.starts_with("libfuzzaug_") && n.ends_with(".so") && n.len() > "libfuzzaug_.so".len()
    })
}

/// The library name of a plugin file: `sensei` for `libfuzzaug_sensei.so`.
pub fn library_name(p: &Path) -> Option<&str> {
    p.file_name()?
        .to_str()?
        .strip_prefix("libfuzzaug_")?
        .strip_suffix(".so")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_dedups_and_orders() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for n in [
            "libfuzzaug_b.so",
            "libfuzzaug_a.so",
            "libother.so",
            "libfuzzaug_.so",
            "libfuzzaug_c.so.bak",
        ] {
            std::fs::write(a.path().join(n), b"").unwrap();
        }
        std::os::unix::fs::symlink(
            a.path().join("libfuzzaug_a.so"),
            b.path().join("libfuzzaug_z.so"),
        )
        .unwrap();
        let mut sp = SearchPath::default();
        sp.push(a.path().into(), "--plugin-dir");
        sp.push(b.path().into(), "--plugin-dir");
        sp.push(a.path().into(), "--plugin-dir");
        let libs = sp.libraries().unwrap();
        let names: Vec<_> = libs
            .iter()
            .map(|p| library_name(p).unwrap().to_string())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_dangling_link_is_listed_for_the_loader_to_refuse() {
        let a = tempfile::tempdir().unwrap();
        let dangling = a.path().join("libfuzzaug_gone.so");
        std::os::unix::fs::symlink(a.path().join("nowhere.so"), &dangling).unwrap();
        let mut sp = SearchPath::default();
        sp.push(a.path().into(), "--plugin-dir");
        assert_eq!(sp.libraries().unwrap(), [dangling]);
    }

    #[test]
    fn missing_user_folder_is_an_error() {
        let mut sp = SearchPath::default();
        sp.push("/nonexistent/plugins".into(), "--plugin-dir");
        let e = sp.libraries().unwrap_err();
        assert!(
            e.starts_with(
                "plugin folder /nonexistent/plugins (from --plugin-dir) cannot be read: "
            ),
            "{e}"
        );
    }
}
