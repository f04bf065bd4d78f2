//! Opening one plugin library and checking it before any of its code runs.
use abi_stable::library::{lib_header_from_path, LibraryError};
use fuzzaug_sdk::{
    fingerprint::Mismatch, logging::HostLogger, BuildFingerprint, ComponentInfo, PluginModRef,
};
use sha2::{Digest, Sha256};
use std::{
    fmt::Write as _,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

/// A loaded, checked plugin library. Never unloaded: its code may back live objects.
pub struct Library {
    /// Canonical path of the file.
    pub path: PathBuf,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// What it was built against.
    pub fingerprint: BuildFingerprint,
    /// Its components.
    pub components: Vec<ComponentInfo>,
    pub(crate) module: PluginModRef,
}

/// Why a library was refused. Every message starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{0}: cannot read the plugin file: {1}")]
    Unreadable(PathBuf, std::io::Error),
    /// The file is writable by other users.
    #[error("{path}: refusing to load a plugin file writable by {who} (mode {mode:o}); a plugin runs with your rights. Fix it with `chmod go-w {path}`")]
    Writable {
        /// The file.
        path: PathBuf,
        /// `group`, `others` or `group and others`.
        who: &'static str,
        /// Its permission bits.
        mode: u32,
    },
    /// Its SHA-256 differs from the one pinned in the config.
    #[error(
        "{path}: SHA-256 is {found}, but the config pins `{name}` to {expected} ([plugins] sha256)"
    )]
    Sha256 {
        /// The file.
        path: PathBuf,
        /// Library name.
        name: String,
        /// Pinned value.
        expected: String,
        /// Actual value.
        found: String,
    },
    /// The dynamic loader refused it (not ELF, truncated, missing symbols...).
    #[error("{0}: not a loadable shared library: {1}")]
    NotLoadable(PathBuf, String),
    /// A shared library, but not a fuzzaug plugin.
    #[error("{0}: not a fuzzaug plugin: it exports no fuzzaug root module (is it built with `fuzzaug_sdk::export_plugin!`?)")]
    NotAPlugin(PathBuf),
    /// Built against something this host cannot run.
    #[error("{path}: plugin built for a different fuzzaug build:{details}\nRebuild the plugin against fuzzaug-sdk {host_sdk}, the SDK of this fuzzaug (it was built against fuzzaug-sdk {plugin_sdk}): point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version and rebuild (`make build` rebuilds the bundled plugins).")]
    Fingerprint {
        /// The file.
        path: PathBuf,
        /// One line per differing field.
        details: String,
        /// The SDK version of this host.
        host_sdk: String,
        /// The SDK version the plugin was built against.
        plugin_sdk: String,
    },
    /// abi_stable refused it (layout or version check).
    #[error("{0}: incompatible plugin ABI: {1}\nRebuild the plugin against fuzzaug-sdk {host_sdk}, the SDK of this fuzzaug (`make build` rebuilds the bundled plugins).", host_sdk = fuzzaug_sdk::SDK_VERSION)]
    Abi(PathBuf, String),
    /// The library's component list call failed.
    #[error("{0}: the plugin failed to list its components: {1}")]
    Components(PathBuf, String),
}

fn check_permissions(path: &Path) -> Result<(), LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Unreadable(path.into(), e))?;
    let mode = meta.permissions().mode() & 0o7777;
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "group",
        (false, true) => "others",
        (false, false) => return Ok(()),
    };
    Err(LoadError::Writable {
        path: path.into(),
        who,
        mode,
    })
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of_digest(&Sha256::digest(bytes))
}

/// A digest as lower-case hex.
pub fn sha256_hex_of_digest(digest: &[u8]) -> String {
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Opens the file with RTLD_NOW | RTLD_LOCAL: a missing symbol fails here rather than at some
/// later call, and the library's symbols never leak into the global namespace (a tch plugin
/// exports several). The handle is leaked on purpose: libraries are never unloaded.
fn preopen(path: &Path) -> Result<(), LoadError> {
    use libloading::os::unix::{Library as Raw, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: running a library's initialisers is what loading a plugin means; the file has
    // passed the permission check and comes from the user's search path.
    let lib = unsafe { Raw::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| LoadError::NotLoadable(path.into(), dl_message(&e.to_string(), path)))?;
    std::mem::forget(lib);
    Ok(())
}

/// dlerror repeats the path; keep only the reason.
fn dl_message(msg: &str, path: &Path) -> String {
    let p = path.display().to_string();
    msg.replace(&format!("{p}: "), "").trim().to_string()
}

impl Library {
    /// Loads and checks `path`: permissions, optional SHA-256 pin, dynamic loading, the build
    /// fingerprint (before calling anything else), abi_stable's version and layout checks, then
    /// hands it the host's logger and reads its component list.
    pub fn load(path: &Path, pinned_sha256: Option<&str>) -> Result<Self, LoadError> {
        check_permissions(path)?;
        let bytes = std::fs::read(path).map_err(|e| LoadError::Unreadable(path.into(), e))?;
        let sha256 = sha256_hex(&bytes);
        if let Some(expected) = pinned_sha256 {
            if !expected.eq_ignore_ascii_case(&sha256) {
                let name = super::search_path::library_name(path)
                    .unwrap_or("?")
                    .to_string();
                return Err(LoadError::Sha256 {
                    path: path.into(),
                    name,
                    expected: expected.into(),
                    found: sha256,
                });
            }
        }
        super::elf::check(&bytes).map_err(|m| LoadError::NotLoadable(path.into(), m))?;
        drop(bytes);
        preopen(path)?;
        let header = lib_header_from_path(path).map_err(|e| match e {
            LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin(path.into()),
            LibraryError::OpenError { err, .. } => {
                LoadError::NotLoadable(path.into(), dl_message(&err.to_string(), path))
            }
            other => LoadError::Abi(path.into(), other.to_string()),
        })?;
        // SAFETY: the fingerprint getter is the first field of every fuzzaug root module, of
        // every SDK version, and returns a type frozen for good; nothing else is touched before
        // the full layout check below.
        let unchecked: PluginModRef = unsafe { header.unchecked_layout::<PluginModRef>() }
            .map_err(|e| LoadError::Abi(path.into(), e.to_string()))?;
        let fingerprint = (unchecked.fingerprint())();
        let mismatches = BuildFingerprint::current().mismatches(&fingerprint);
        if !mismatches.is_empty() {
            return Err(LoadError::Fingerprint {
                path: path.into(),
                details: describe(&mismatches),
                host_sdk: fuzzaug_sdk::SDK_VERSION.to_string(),
                plugin_sdk: fingerprint.sdk.to_string(),
            });
        }
        let module = header.init_root_module::<PluginModRef>().map_err(|e| {
            let msg = format!(
                "built against fuzzaug-sdk {}, whose types differ from this host's: {}",
                fingerprint.sdk,
                first_lines(&e.to_string(), 12)
            );
            LoadError::Abi(path.into(), msg)
        })?;
        (module.set_logger())(HostLogger::of_this_process());
        let components = (module.components())()
            .into_result()
            .map_err(|e| LoadError::Components(path.into(), e.to_string()))?
            .into_vec();
        Ok(Self {
            path: path.into(),
            sha256,
            fingerprint,
            components,
            module,
        })
    }

    /// The library's name: `shapes` for `libfuzzaug_shapes.so`.
    pub fn name(&self) -> &str {
        super::search_path::library_name(&self.path).unwrap_or("?")
    }
}

fn describe(m: &[Mismatch]) -> String {
    m.iter()
        .map(|m| {
            format!(
                "\n  field `{}`: expected {}, found {}",
                m.field, m.expected, m.found
            )
        })
        .collect()
}

fn first_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    if lines.len() <= n {
        s.to_string()
    } else {
        format!(
            "{}\n  ... ({} more lines)",
            lines[..n].join("\n"),
            lines.len() - n
        )
    }
}
