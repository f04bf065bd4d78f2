//! Opening one plugin library and checking it.
//!
//! What is checked is what is loaded: the file is opened once, without following symbolic
//! links, and that descriptor is checked (a regular file owned by you or root, not writable by
//! others, in folders of which the same holds), hashed for the `[plugins] sha256` pin, checked
//! as ELF, and then handed to the dynamic loader as `/proc/self/fd/N` — never reopened by name.
//!
//! The dynamic loader runs the library's own initialisers when it maps the file; that cannot
//! be avoided. Nothing else in it runs before the checks of what it declares, all of them reads
//! of its static data: an abi_stable root module that is fuzzaug's (name and base name), with a
//! layout to check, of this SDK version exactly, and a panic-strategy marker saying it was
//! built with `panic = "unwind"`; then abi_stable checks the layout of every type it shares.
//! Only then is anything called: abi_stable's own setup in the library, its root-module
//! constructor, `fingerprint()` (compared field by field), `set_logger()` and `components()`.
use super::{
    isolate::{
        client::{Isolated, SpawnError},
        remote::Remote,
    },
    objects::{DatasetObj, StrategyObj, TransformObj},
};
use abi_stable::library::{
    AbiHeader, AbiHeaderRef, LibHeader, RootModule, ROOT_MODULE_LOADER_NAME_WITH_NUL,
};
use abi_stable::std_types::RResult;
use fuzzaug_sdk::{
    export::{PANIC_ABORT, PANIC_STRATEGY_SYMBOL, PANIC_UNWIND},
    fingerprint::Mismatch,
    logging::HostLogger,
    BuildFingerprint, ComponentContext, ComponentInfo, PluginError, PluginModRef, StrategySetup,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::{
    ffi::CString,
    fmt::Write as _,
    fs::File,
    io::Read,
    os::unix::{
        ffi::OsStrExt,
        fs::MetadataExt,
        io::{AsRawFd, FromRawFd},
    },
    path::{Component, Path, PathBuf},
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
    backend: Backend,
}

/// Where a library's code runs.
#[derive(Clone)]
enum Backend {
    /// Loaded into this process.
    InProcess(PluginModRef),
    /// Loaded into an isolated child process (`[plugins] isolate`).
    Isolated(Arc<Isolated>),
}

/// Why a library was refused. Every message starts with the file's (canonical) path.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("{0}: cannot read the plugin file: {1}")]
    Unreadable(PathBuf, std::io::Error),
    /// The file's last path component is a symbolic link (it was replaced after the search
    /// path resolved it).
    #[error("{0}: refusing to follow a symbolic link to a plugin file (it changed after the plugin search path resolved it); point the search path at the file itself")]
    Symlink(PathBuf),
    /// Not a regular file.
    #[error("{path}: not a plugin file: it is {kind}, not a regular file")]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// `a folder`, `a FIFO`...
        kind: &'static str,
    },
    /// The file belongs to another user.
    #[error("{path}: refusing to load a plugin file owned by uid {owner}: only files owned by you (uid {euid}) or root are loaded, as their owner decides what runs with your rights. Fix it with `chown {euid} {path}`, or copy the file into a folder of yours")]
    Owner {
        /// The file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        euid: u32,
    },
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
    /// A folder above the file belongs to another user.
    #[error("{path}: refusing to load a plugin from a folder owned by uid {owner}: {folder} is owned neither by you (uid {euid}) nor by root, so its owner could replace the file. Move the plugin into a folder of yours")]
    FolderOwner {
        /// The file.
        path: PathBuf,
        /// The folder.
        folder: PathBuf,
        /// The folder's owner.
        owner: u32,
        /// This process's effective uid.
        euid: u32,
    },
    /// A folder above the file is writable by other users.
    #[error("{path}: refusing to load a plugin from a folder writable by {who}: {folder} (mode {mode:o}) lets them replace {what}{sticky}. Fix it with `chmod go-w {folder}`, or move the plugin into a folder only you can write")]
    FolderWritable {
        /// The file.
        path: PathBuf,
        /// The folder.
        folder: PathBuf,
        /// `group`, `others` or `group and others`.
        who: &'static str,
        /// The folder's permission bits.
        mode: u32,
        /// What lies below it on the way to the file: `the file` or `{child}`.
        what: String,
        /// Why its sticky bit does not help, or empty.
        sticky: String,
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
    /// An abi_stable library whose root module is not fuzzaug's.
    #[error("{path}: not a fuzzaug plugin: its abi_stable root module is `{name}` (library `{base_name}`), not fuzzaug's `{}` (library `{}`); nothing in it was called. Remove it from the plugin search path, or name it other than libfuzzaug_*.so", <PluginModRef as RootModule>::NAME, <PluginModRef as RootModule>::BASE_NAME)]
    Foreign {
        /// The file.
        path: PathBuf,
        /// The root module's name.
        name: String,
        /// The root module's library base name.
        base_name: String,
    },
    /// A fuzzaug root module exported without its layout, which abi_stable then cannot check.
    #[error("{0}: refusing a plugin whose root module skips abi_stable's layout check (it was exported with `CheckTypeLayout::No`), so its types cannot be checked against this fuzzaug's. Export it with `fuzzaug_sdk::export_plugin!`, which keeps the check")]
    UncheckedLayout(PathBuf),
    /// Built against another SDK version.
    #[error("{path}: built against fuzzaug-sdk {found}, but this fuzzaug loads only plugins built against fuzzaug-sdk {host} exactly (the SDK version is the ABI version). Rebuild the plugin against fuzzaug-sdk {host}: point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version and rebuild (`make build` rebuilds the bundled plugins).", host = fuzzaug_sdk::SDK_VERSION)]
    SdkVersion {
        /// The file.
        path: PathBuf,
        /// The SDK version its root module declares.
        found: String,
    },
    /// Built with `panic = "abort"`.
    #[error("{0}: built with panic = \"abort\": a panic in it would end fuzzaug instead of becoming an error. Set `panic = \"unwind\"` (the default) in its Cargo profile (`[profile.release]`) and rebuild it")]
    PanicAbort(PathBuf),
    /// The panic-strategy marker is missing or unknown.
    #[error("{0}: {1}; rebuild it against fuzzaug-sdk {sdk}, the SDK of this fuzzaug, whose `export_plugin!` exports the marker", sdk = fuzzaug_sdk::SDK_VERSION)]
    PanicMarker(PathBuf, String),
    /// Built against something this host cannot run.
    #[error("{path}: plugin built for a different fuzzaug build:{details}\n{hint}")]
    Fingerprint {
        /// The file.
        path: PathBuf,
        /// One line per differing field.
        details: String,
        /// What to rebuild it against.
        hint: String,
    },
    /// abi_stable's layout check refused it.
    #[error("{0}: incompatible plugin ABI: the types it was built with differ from this fuzzaug's:\n{1}\nRebuild the plugin against fuzzaug-sdk {host_sdk}, the SDK of this fuzzaug (`make build` rebuilds the bundled plugins).", host_sdk = fuzzaug_sdk::SDK_VERSION)]
    Layout(PathBuf, String),
    /// abi_stable refused it otherwise (its header, its C ABI, its root module constructor).
    #[error("{0}: incompatible plugin ABI: {1}\nRebuild the plugin against fuzzaug-sdk {host_sdk}, the SDK of this fuzzaug (`make build` rebuilds the bundled plugins).", host_sdk = fuzzaug_sdk::SDK_VERSION)]
    Abi(PathBuf, String),
    /// The library's component list call failed.
    #[error("{0}: the plugin failed to list its components: {1}")]
    Components(PathBuf, String),
    /// It was to be loaded in an isolated child process, and the child refused it or did not
    /// come up (the message names the file).
    #[error(transparent)]
    Isolated(#[from] SpawnError),
}

/// `group`, `others`, `group and others`, or `None` when neither may write.
fn writers(mode: u32) -> Option<&'static str> {
    match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("group and others"),
        (true, false) => Some("group"),
        (false, true) => Some("others"),
        (false, false) => None,
    }
}

/// What `fstat` says about one path component.
#[derive(Debug, Clone, Copy)]
struct Stat {
    mode: u32,
    uid: u32,
}

impl Stat {
    fn of(file: &File) -> std::io::Result<Self> {
        let m = file.metadata()?;
        Ok(Self {
            mode: m.mode(),
            uid: m.uid(),
        })
    }
}

/// May `folder` (with `stat`) hold `child` (owned by `child_uid`) on the way to the plugin
/// `path`? Owned by `euid` or root, and not writable by others, except that a sticky folder
/// (`/tmp`) may be: there others cannot replace an entry owned by you or root.
fn judge_folder(
    path: &Path,
    folder: &Path,
    stat: Stat,
    child: &Path,
    child_uid: u32,
    euid: u32,
) -> Result<(), LoadError> {
    if stat.uid != euid && stat.uid != 0 {
        return Err(LoadError::FolderOwner {
            path: path.into(),
            folder: folder.into(),
            owner: stat.uid,
            euid,
        });
    }
    let Some(who) = writers(stat.mode) else {
        return Ok(());
    };
    let sticky = stat.mode & 0o1000 != 0;
    if sticky && (child_uid == euid || child_uid == 0) {
        return Ok(());
    }
    Err(LoadError::FolderWritable {
        path: path.into(),
        folder: folder.into(),
        who,
        mode: stat.mode & 0o7777,
        what: if child == path {
            "the file".to_string()
        } else {
            child.display().to_string()
        },
        sticky: if sticky {
            format!(
                " (its sticky bit protects only entries owned by you or root, and that one is owned by uid {child_uid})"
            )
        } else {
            String::new()
        },
    })
}

/// The plugin file itself: a regular file owned by `euid` or root, not writable by others.
fn judge_file(path: &Path, file: &File, euid: u32) -> Result<Stat, LoadError> {
    let meta = file
        .metadata()
        .map_err(|e| LoadError::Unreadable(path.into(), e))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let kind = if ft.is_dir() {
            "a folder"
        } else if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_block_device() || ft.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(LoadError::NotRegular {
            path: path.into(),
            kind,
        });
    }
    if meta.uid() != euid && meta.uid() != 0 {
        return Err(LoadError::Owner {
            path: path.into(),
            owner: meta.uid(),
            euid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if let Some(who) = writers(mode) {
        return Err(LoadError::Writable {
            path: path.into(),
            who,
            mode,
        });
    }
    Ok(Stat {
        mode,
        uid: meta.uid(),
    })
}

/// `openat(dir, name, flags)` as a `File`.
fn open_at(dir: Option<&File>, name: &[u8], flags: libc::c_int) -> std::io::Result<File> {
    let name = CString::new(name).map_err(|_| std::io::Error::other("NUL byte in a path"))?;
    let dirfd = dir.map_or(libc::AT_FDCWD, AsRawFd::as_raw_fd);
    // SAFETY: `name` is a valid C string; the returned descriptor is owned by the `File`.
    let fd = unsafe { libc::openat(dirfd, name.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a freshly opened descriptor nobody else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Opens the absolute, canonical `path` component by component, never following a symbolic
/// link, checking each folder on the way and then the file, all through the descriptors
/// opened: the file returned is the one that was checked.
fn open_checked(path: &Path) -> Result<File, LoadError> {
    let unreadable = |e| LoadError::Unreadable(path.into(), e);
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    let mut names = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(n) => names.push(n),
            _ => {
                return Err(unreadable(std::io::Error::other(
                    "not an absolute, canonical path",
                )))
            }
        }
    }
    if !path.is_absolute() || names.is_empty() {
        return Err(unreadable(std::io::Error::other(
            "not an absolute, canonical path",
        )));
    }
    let dir_flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    let mut folder = PathBuf::from("/");
    let mut dir = open_at(None, b"/", dir_flags).map_err(unreadable)?;
    let mut dir_stat = Stat::of(&dir).map_err(unreadable)?;
    for (i, name) in names.iter().enumerate() {
        let child_path = folder.join(name);
        if i + 1 == names.len() {
            // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
            let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_NONBLOCK;
            let file = open_at(Some(&dir), name.as_bytes(), flags).map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    LoadError::Symlink(path.into())
                } else {
                    unreadable(e)
                }
            })?;
            let stat = judge_file(path, &file, euid)?;
            judge_folder(path, &folder, dir_stat, &child_path, stat.uid, euid)?;
            return Ok(file);
        }
        let child = open_at(Some(&dir), name.as_bytes(), dir_flags).map_err(|e| {
            LoadError::Unreadable(
                path.into(),
                std::io::Error::new(e.kind(), format!("folder {}: {e}", child_path.display())),
            )
        })?;
        let child_stat = Stat::of(&child).map_err(unreadable)?;
        judge_folder(path, &folder, dir_stat, &child_path, child_stat.uid, euid)?;
        (dir, dir_stat, folder) = (child, child_stat, child_path);
    }
    unreachable!("the loop returns at the last component")
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

/// dlerror repeats the name it was given; keep only the reason.
fn dl_message(msg: &str, name: &str) -> String {
    msg.replace(&format!("{name}: "), "").trim().to_string()
}

/// A plugin file opened once and checked (owner, permissions, SHA-256 pin, ELF headers), not
/// yet handed to the dynamic loader. [`PluginFile::load`] loads this very descriptor, whatever
/// happened to the path since.
pub struct PluginFile {
    /// Canonical path of the file (for messages; never reopened).
    pub path: PathBuf,
    /// SHA-256 of what was read from the descriptor, hex.
    pub sha256: String,
    file: File,
}

impl PluginFile {
    /// Opens `path` (canonicalised first) without following a symbolic link at its end, checks
    /// it and every folder above it, reads it through that descriptor, checks the SHA-256
    /// against `pinned_sha256` and the ELF headers.
    pub fn open(path: &Path, pinned_sha256: Option<&str>) -> Result<Self, LoadError> {
        let path = path
            .canonicalize()
            .map_err(|e| LoadError::Unreadable(path.into(), e))?;
        let mut file = open_checked(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| LoadError::Unreadable(path.clone(), e))?;
        let sha256 = sha256_hex(&bytes);
        if let Some(expected) = pinned_sha256 {
            if !expected.eq_ignore_ascii_case(&sha256) {
                let name = super::search_path::library_name(&path)
                    .unwrap_or("?")
                    .to_string();
                return Err(LoadError::Sha256 {
                    path,
                    name,
                    expected: expected.into(),
                    found: sha256,
                });
            }
        }
        super::elf::check(&bytes).map_err(|m| LoadError::NotLoadable(path.clone(), m))?;
        Ok(Self { path, sha256, file })
    }

    /// Hands the checked descriptor to the dynamic loader (`/proc/self/fd/N`, RTLD_NOW |
    /// RTLD_LOCAL: a missing symbol fails here rather than at some later call, and the
    /// library's symbols never leak into the global namespace), then checks what it declares
    /// before calling anything, and loads it: see the module documentation for the order.
    pub fn load(self) -> Result<Library, LoadError> {
        use libloading::os::unix::{Library as Raw, RTLD_LOCAL, RTLD_NOW};
        let Self { path, sha256, file } = self;
        let name = format!("/proc/self/fd/{}", file.as_raw_fd());
        // SAFETY: running a library's initialisers is what loading a plugin means; the file has
        // passed the ownership and permission checks and comes from the user's search path.
        let lib = unsafe { Raw::open(Some(&name), RTLD_NOW | RTLD_LOCAL) }.map_err(|e| {
            let reason = dl_message(&e.to_string(), &name);
            if !Path::new("/proc/self/fd").is_dir() {
                let why = format!("{reason} (plugins are loaded through /proc/self/fd, which is missing: is /proc mounted?)");
                return LoadError::NotLoadable(path.clone(), why);
            }
            LoadError::NotLoadable(path.clone(), reason)
        })?;
        // Libraries are never unloaded, and the loader knows this one by the name
        // `/proc/self/fd/N`: the descriptor stays open for good, so that the name is never
        // reused for another file.
        std::mem::forget(file);
        let lib = std::mem::ManuallyDrop::new(lib);
        let header = checked_header(&path, &lib)?;
        let header = header
            .upgrade()
            .map_err(|e| LoadError::Abi(path.clone(), e.to_string()))?;
        header
            .ensure_layout::<PluginModRef>()
            .map_err(|e| LoadError::Layout(path.clone(), layout_reason(&e.to_string())))?;
        let module = header
            .init_root_module::<PluginModRef>()
            .map_err(|e| LoadError::Abi(path.clone(), e.to_string()))?;
        let fingerprint = (module.fingerprint())();
        let host = BuildFingerprint::current();
        let mismatches = host.mismatches(&fingerprint);
        if !mismatches.is_empty() {
            return Err(LoadError::Fingerprint {
                path,
                details: describe(&mismatches),
                hint: rebuild_hint(&host, &fingerprint, &mismatches),
            });
        }
        (module.set_logger())(HostLogger::of_this_process());
        let components = (module.components())()
            .into_result()
            .map_err(|e| LoadError::Components(path.clone(), e.to_string()))?
            .into_vec();
        Ok(Library {
            path,
            sha256,
            fingerprint,
            components,
            backend: Backend::InProcess(module),
        })
    }
}

/// Finds the abi_stable header in `lib` and checks, reading only static data, that it is a
/// fuzzaug root module of this SDK version with a layout to check, built with
/// `panic = "unwind"`.
fn checked_header(
    path: &Path,
    lib: &libloading::os::unix::Library,
) -> Result<AbiHeaderRef, LoadError> {
    // SAFETY: abi_stable's root-module symbol is, in every abi_stable library, a static
    // `LibHeader` starting with an `AbiHeader` (what abi_stable's own loader assumes);
    // `is_valid` compares that header's constant fields with this abi_stable's before anything
    // else of it is read.
    let (raw, header) = unsafe {
        let name = ROOT_MODULE_LOADER_NAME_WITH_NUL.as_bytes();
        let raw: *const LibHeader = *lib
            .get::<*const LibHeader>(name)
            .map_err(|_| LoadError::NotAPlugin(path.into()))?;
        let header: AbiHeaderRef = *lib
            .get::<AbiHeaderRef>(name)
            .map_err(|_| LoadError::NotAPlugin(path.into()))?;
        (raw, header)
    };
    // SAFETY: as above: the symbol's address is that of the static header.
    let abi: &AbiHeader = unsafe { &*raw.cast::<AbiHeader>() };
    if !abi.is_valid() {
        let msg = format!(
            "its abi_stable header is not that of abi_stable {} (found {abi:?})",
            fuzzaug_sdk::fingerprint::ABI_STABLE_VERSION,
        );
        return Err(LoadError::Abi(path.into(), msg));
    }
    // SAFETY: what `AbiHeaderRef::upgrade` does, without its calls into the library: a valid
    // abi_stable header is the first field of a `#[repr(C)]` static `LibHeader`.
    let lib_header: &LibHeader = unsafe { &*raw };
    judge_header(path, lib_header)?;
    judge_panic_marker(path, lib)?;
    Ok(header)
}

/// A fuzzaug root module (name and base name), with a layout for abi_stable to check, of this
/// SDK version exactly.
fn judge_header(path: &Path, header: &LibHeader) -> Result<(), LoadError> {
    let consts = header.root_mod_consts();
    let (name, base_name) = (consts.name().as_str(), consts.base_name().as_str());
    if name != <PluginModRef as RootModule>::NAME
        || base_name != <PluginModRef as RootModule>::BASE_NAME
    {
        return Err(LoadError::Foreign {
            path: path.into(),
            name: name.into(),
            base_name: base_name.into(),
        });
    }
    if header.layout().is_none() {
        return Err(LoadError::UncheckedLayout(path.into()));
    }
    let version = consts.version_strings().version.as_str();
    if version
        != <PluginModRef as RootModule>::VERSION_STRINGS
            .version
            .as_str()
    {
        return Err(LoadError::SdkVersion {
            path: path.into(),
            found: version.into(),
        });
    }
    Ok(())
}

/// The marker `export_plugin!` exports: `panic = "unwind"` or refused.
fn judge_panic_marker(path: &Path, lib: &libloading::os::unix::Library) -> Result<(), LoadError> {
    let symbol = format!("{PANIC_STRATEGY_SYMBOL}\0");
    // SAFETY: the symbol, where it exists, is the SDK's `u8` static; it is only read.
    let value = unsafe {
        lib.get::<*const u8>(symbol.as_bytes())
            .ok()
            .map(|s| std::ptr::read_volatile(*s))
    };
    judge_panic_strategy(path, value)
}

/// The marker's value, `None` when the library exports none.
fn judge_panic_strategy(path: &Path, value: Option<u8>) -> Result<(), LoadError> {
    match value {
        Some(PANIC_UNWIND) => Ok(()),
        Some(PANIC_ABORT) => Err(LoadError::PanicAbort(path.into())),
        Some(v) => Err(LoadError::PanicMarker(
            path.into(),
            format!("its panic-strategy marker `{PANIC_STRATEGY_SYMBOL}` has the unknown value {v}"),
        )),
        // Every library of this SDK version exports it (the header check before this one
        // refused every other version): one without it was built by an earlier build of the
        // same SDK version, which nothing else tells apart.
        None => Err(LoadError::PanicMarker(
            path.into(),
            format!("it exports no panic-strategy marker (`{PANIC_STRATEGY_SYMBOL}`), so it was built with a fuzzaug-sdk from before the marker, and whether a panic in it would end fuzzaug cannot be told"),
        )),
    }
}

impl Library {
    /// Opens, checks and loads `path` ([`PluginFile::open`], then [`PluginFile::load`]).
    pub fn load(path: &Path, pinned_sha256: Option<&str>) -> Result<Self, LoadError> {
        PluginFile::open(path, pinned_sha256)?.load()
    }

    /// Starts an isolated child process that opens, checks and loads `path` exactly as
    /// [`Library::load`] does (pinned to `pinned_sha256`), and serves its components' calls:
    /// whatever the plugin does to its process, fuzzaug's goes on.
    pub fn isolated(path: &Path, pinned_sha256: Option<&str>) -> Result<Self, LoadError> {
        let (child, loaded) = Isolated::spawn(path, pinned_sha256)?;
        Ok(Self {
            path: path.to_path_buf(),
            sha256: loaded.sha256,
            fingerprint: loaded.fingerprint,
            components: loaded.components,
            backend: Backend::Isolated(child),
        })
    }

    /// The library's name: `shapes` for `libfuzzaug_shapes.so`.
    pub fn name(&self) -> &str {
        super::search_path::library_name(&self.path).unwrap_or("?")
    }

    /// Whether its code runs in an isolated child process.
    pub fn is_isolated(&self) -> bool {
        matches!(self.backend, Backend::Isolated(_))
    }

    /// Builds its dataset `name` from `settings` (TOML text).
    pub fn new_dataset(
        &self,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
    ) -> RResult<DatasetObj, PluginError> {
        match &self.backend {
            Backend::InProcess(m) => {
                (m.new_dataset())(name.into(), settings.into(), ctx).map(DatasetObj::Local)
            }
            Backend::Isolated(c) => Remote::dataset(c, name, settings, ctx).map(DatasetObj::Remote),
        }
    }

    /// Builds its transform `name` from `settings` (TOML text).
    pub fn new_transform(
        &self,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
    ) -> RResult<TransformObj, PluginError> {
        match &self.backend {
            Backend::InProcess(m) => {
                (m.new_transform())(name.into(), settings.into(), ctx).map(TransformObj::Local)
            }
            Backend::Isolated(c) => {
                Remote::transform(c, name, settings, ctx).map(TransformObj::Remote)
            }
        }
    }

    /// Builds its strategy `name` from `settings` (TOML text) for `setup`.
    pub fn new_strategy(
        &self,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
        setup: &StrategySetup,
    ) -> RResult<StrategyObj, PluginError> {
        match &self.backend {
            Backend::InProcess(m) => {
                (m.new_strategy())(name.into(), settings.into(), ctx, setup).map(StrategyObj::Local)
            }
            Backend::Isolated(c) => {
                Remote::strategy(c, name, settings, ctx, setup).map(StrategyObj::Remote)
            }
        }
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

/// What to rebuild the plugin against, for the fields that differ: the SDK (with abi_stable,
/// which the SDK pins), the torch (tch, libtorch, C++ ABI), the target.
fn rebuild_hint(host: &BuildFingerprint, plugin: &BuildFingerprint, m: &[Mismatch]) -> String {
    let differs = |f: &[&str]| m.iter().any(|m| f.contains(&m.field));
    let mut against = Vec::new();
    if plugin.sdk.starts_with("fingerprint() panicked") {
        against.push(format!(
            "fuzzaug-sdk {}, the SDK of this fuzzaug, with the fingerprint `export_plugin!` gives it (its own `fingerprint()` panicked)",
            host.sdk
        ));
    } else if differs(&["sdk", "abi_stable"]) {
        against.push(format!(
            "fuzzaug-sdk {}, the SDK of this fuzzaug (it was built against fuzzaug-sdk {}): point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version",
            host.sdk, plugin.sdk
        ));
    }
    if differs(&["tch", "libtorch", "cxx11_abi"]) {
        against.push(format!(
            "libtorch {} (C++ ABI {}, tch {}), the torch this fuzzaug was built with: build it with `LIBTORCH` pointing at that same torch (`python3 scripts/provision-libtorch.py` prints the folder fuzzaug uses)",
            host.libtorch, host.cxx11_abi, host.tch
        ));
    }
    if differs(&["target"]) {
        against.push(format!("target {}", host.target));
    }
    format!(
        "Rebuild the plugin against {} (`make build` rebuilds the bundled plugins).",
        against.join("; and against ")
    )
}

/// abi_stable's layout error is long: both layouts in full, then, last, what differs. Keep the
/// start (which type) and the end (why), dropping the middle of a long one.
fn layout_reason(s: &str) -> String {
    const HEAD: usize = 6;
    const TAIL: usize = 14;
    let lines: Vec<&str> = s.trim_end().lines().collect();
    if lines.len() <= HEAD + TAIL {
        return lines.join("\n");
    }
    format!(
        "{}\n  ... ({} lines left out) ...\n{}",
        lines[..HEAD].join("\n"),
        lines.len() - HEAD - TAIL,
        lines[lines.len() - TAIL..].join("\n")
    )
}

#[cfg(test)]
// The root modules below exist for their headers only; their accessors are never called.
#[allow(dead_code)]
mod tests {
    use super::*;
    use abi_stable::{
        library::{CheckTypeLayout, RootModuleResult},
        package_version_strings,
        sabi_types::VersionStrings,
        StableAbi,
    };
    use std::os::unix::fs::PermissionsExt;

    /// A root module of another shape under fuzzaug's names and version.
    #[repr(C)]
    #[derive(StableAbi)]
    #[sabi(kind(Prefix(prefix_ref = ImpostorRef)))]
    struct Impostor {
        #[sabi(last_prefix_field)]
        only: extern "C" fn() -> u8,
    }

    impl RootModule for ImpostorRef {
        abi_stable::declare_root_module_statics! {ImpostorRef}
        const BASE_NAME: &'static str = "fuzzaug";
        const NAME: &'static str = "fuzzaug plugin";
        const VERSION_STRINGS: VersionStrings = VersionStrings {
            version: abi_stable::std_types::RStr::from_str(fuzzaug_sdk::SDK_VERSION),
        };
    }

    /// The same shape under another library's names.
    #[repr(C)]
    #[derive(StableAbi)]
    #[sabi(kind(Prefix(prefix_ref = ForeignRef)))]
    struct Foreign {
        #[sabi(last_prefix_field)]
        only: extern "C" fn() -> u8,
    }

    impl RootModule for ForeignRef {
        abi_stable::declare_root_module_statics! {ForeignRef}
        const BASE_NAME: &'static str = "other";
        const NAME: &'static str = "other module";
        const VERSION_STRINGS: VersionStrings = package_version_strings!();
    }

    extern "C" fn never() -> RootModuleResult {
        unreachable!("the tests never construct a root module")
    }

    /// fuzzaug's root module as an older SDK would declare it.
    #[repr(C)]
    #[derive(StableAbi)]
    #[sabi(kind(Prefix(prefix_ref = OldRef)))]
    struct Old {
        #[sabi(last_prefix_field)]
        only: extern "C" fn() -> u8,
    }

    impl RootModule for OldRef {
        abi_stable::declare_root_module_statics! {OldRef}
        const BASE_NAME: &'static str = "fuzzaug";
        const NAME: &'static str = "fuzzaug plugin";
        const VERSION_STRINGS: VersionStrings = VersionStrings {
            version: abi_stable::std_types::RStr::from_str("1.4.0"),
        };
    }

    #[test]
    fn another_sdk_version_is_refused_from_the_header_alone() {
        // SAFETY: the constructor is never called.
        let h = unsafe { LibHeader::from_constructor::<OldRef>(never, CheckTypeLayout::Yes) };
        let e = judge_header(&path(), &h).unwrap_err().to_string();
        assert_eq!(e, "/p/libfuzzaug_x.so: built against fuzzaug-sdk 1.4.0, but this fuzzaug loads only plugins built against fuzzaug-sdk 2.0.0 exactly (the SDK version is the ABI version). Rebuild the plugin against fuzzaug-sdk 2.0.0: point its `fuzzaug-sdk` and `fuzzaug-build` dependencies at that version and rebuild (`make build` rebuilds the bundled plugins).");
    }

    fn path() -> PathBuf {
        "/p/libfuzzaug_x.so".into()
    }

    #[test]
    fn a_foreign_root_module_is_refused_by_name() {
        // SAFETY: the constructor is never called.
        let h = unsafe { LibHeader::from_constructor::<ForeignRef>(never, CheckTypeLayout::Yes) };
        let e = judge_header(&path(), &h).unwrap_err().to_string();
        assert!(
            e.starts_with("/p/libfuzzaug_x.so: not a fuzzaug plugin: its abi_stable root module is `other module` (library `other`), not fuzzaug's `fuzzaug plugin` (library `fuzzaug`); nothing in it was called."),
            "{e}"
        );
    }

    #[test]
    fn a_root_module_without_layout_is_refused() {
        // SAFETY: the constructor is never called.
        let h = unsafe { LibHeader::from_constructor::<PluginModRef>(never, CheckTypeLayout::No) };
        let e = judge_header(&path(), &h).unwrap_err().to_string();
        assert!(
            e.starts_with("/p/libfuzzaug_x.so: refusing a plugin whose root module skips abi_stable's layout check (it was exported with `CheckTypeLayout::No`)"),
            "{e}"
        );
        // SAFETY: as above.
        let ok =
            unsafe { LibHeader::from_constructor::<PluginModRef>(never, CheckTypeLayout::Yes) };
        judge_header(&path(), &ok).unwrap();
    }

    #[test]
    fn a_layout_mismatch_keeps_abi_stables_reason() {
        // SAFETY: the constructor is never called.
        let h = unsafe { LibHeader::from_constructor::<ImpostorRef>(never, CheckTypeLayout::Yes) };
        judge_header(&path(), &h).unwrap();
        let full = h.ensure_layout::<PluginModRef>().unwrap_err().to_string();
        let e = LoadError::Layout(path(), layout_reason(&full)).to_string();
        // abi_stable writes what differs last; the kept text ends with it.
        let last = full.trim_end().lines().last().unwrap().to_string();
        assert!(!last.trim().is_empty());
        assert!(e.contains(&last), "{e}\n---\n{full}");
        assert!(
            e.starts_with("/p/libfuzzaug_x.so: incompatible plugin ABI: the types it was built with differ from this fuzzaug's:\n"),
            "{e}"
        );
        assert!(e.contains("lines left out"), "{e}");
        assert!(
            e.ends_with("Rebuild the plugin against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug (`make build` rebuilds the bundled plugins)."),
            "{e}"
        );
    }

    #[test]
    fn layout_reason_keeps_short_texts_and_both_ends_of_long_ones() {
        assert_eq!(layout_reason("a\nb\n"), "a\nb");
        let long: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let r = layout_reason(&long);
        assert!(r.starts_with("line 0\n"), "{r}");
        assert!(r.contains("(20 lines left out)"), "{r}");
        assert!(r.ends_with("line 39"), "{r}");
    }

    fn fp(sdk: &str, libtorch: &str) -> BuildFingerprint {
        BuildFingerprint {
            sdk: sdk.into(),
            libtorch: libtorch.into(),
            ..BuildFingerprint::current()
        }
    }

    #[test]
    fn the_rebuild_hint_names_what_differs() {
        let host = fp("2.0.0", "2.11.0+cpu");
        let torch = fp("2.0.0", "2.10.0+cpu");
        let hint = rebuild_hint(&host, &torch, &host.mismatches(&torch));
        assert!(
            hint.starts_with("Rebuild the plugin against libtorch 2.11.0+cpu (C++ ABI "),
            "{hint}"
        );
        assert!(!hint.contains("fuzzaug-sdk"), "{hint}");
        let sdk = fp("2.1.0", "2.11.0+cpu");
        let hint = rebuild_hint(&host, &sdk, &host.mismatches(&sdk));
        assert!(
            hint.starts_with("Rebuild the plugin against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug (it was built against fuzzaug-sdk 2.1.0)"),
            "{hint}"
        );
        assert!(!hint.contains("libtorch"), "{hint}");
        let both = fp("2.1.0", "2.10.0+cpu");
        let hint = rebuild_hint(&host, &both, &host.mismatches(&both));
        assert!(
            hint.contains("fuzzaug-sdk 2.0.0")
                && hint.contains("; and against libtorch 2.11.0+cpu"),
            "{hint}"
        );
    }

    #[test]
    fn the_panic_strategy_marker_must_say_unwind() {
        judge_panic_strategy(&path(), Some(PANIC_UNWIND)).unwrap();
        let e = |v| judge_panic_strategy(&path(), v).unwrap_err().to_string();
        assert_eq!(e(Some(PANIC_ABORT)), "/p/libfuzzaug_x.so: built with panic = \"abort\": a panic in it would end fuzzaug instead of becoming an error. Set `panic = \"unwind\"` (the default) in its Cargo profile (`[profile.release]`) and rebuild it");
        assert_eq!(e(Some(7)), "/p/libfuzzaug_x.so: its panic-strategy marker `fuzzaug_panic_strategy` has the unknown value 7; rebuild it against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug, whose `export_plugin!` exports the marker");
        assert_eq!(e(None), "/p/libfuzzaug_x.so: it exports no panic-strategy marker (`fuzzaug_panic_strategy`), so it was built with a fuzzaug-sdk from before the marker, and whether a panic in it would end fuzzaug cannot be told; rebuild it against fuzzaug-sdk 2.0.0, the SDK of this fuzzaug, whose `export_plugin!` exports the marker");
        // Read through the loader: this test binary exports no marker.
        let me = libloading::os::unix::Library::this();
        assert_eq!(
            judge_panic_marker(&path(), &me).unwrap_err().to_string(),
            e(None)
        );
    }

    fn stat(mode: u32, uid: u32) -> Stat {
        Stat { mode, uid }
    }

    #[test]
    fn folders_must_be_owned_by_you_or_root_and_not_writable_by_others() {
        let (p, d, c) = (path(), Path::new("/p"), Path::new("/p/libfuzzaug_x.so"));
        let me = 1000;
        for ok in [
            stat(0o755, me),
            stat(0o755, 0),
            stat(0o1777, 0),
            stat(0o1770, me),
        ] {
            judge_folder(&p, d, ok, c, me, me).unwrap();
        }
        // A sticky folder protects root's entries too.
        judge_folder(&p, d, stat(0o1777, 0), c, 0, me).unwrap();
        let e = judge_folder(&p, d, stat(0o755, 1001), c, me, me)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/p/libfuzzaug_x.so: refusing to load a plugin from a folder owned by uid 1001: /p is owned neither by you (uid 1000) nor by root, so its owner could replace the file. Move the plugin into a folder of yours");
        let e = judge_folder(&p, d, stat(0o775, me), c, me, me)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/p/libfuzzaug_x.so: refusing to load a plugin from a folder writable by group: /p (mode 775) lets them replace the file. Fix it with `chmod go-w /p`, or move the plugin into a folder only you can write");
        let e = judge_folder(&p, d, stat(0o1777, 0), c, 1001, me)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/p/libfuzzaug_x.so: refusing to load a plugin from a folder writable by group and others: /p (mode 1777) lets them replace the file (its sticky bit protects only entries owned by you or root, and that one is owned by uid 1001). Fix it with `chmod go-w /p`, or move the plugin into a folder only you can write");
        let e = judge_folder(&p, Path::new("/"), stat(0o757, 0), d, me, me)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("folder writable by others: / (mode 757) lets them replace /p. Fix"),
            "{e}"
        );
    }

    /// A copy of this test binary (an ELF file, loadable or not does not matter here) in a
    /// private folder.
    fn elf_copy(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::copy(std::env::current_exe().unwrap(), &p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn what_is_hashed_and_loaded_is_the_descriptor_opened_not_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = elf_copy(dir.path(), "libfuzzaug_a.so");
        let original = sha256_hex(&std::fs::read(&a).unwrap());
        let opened = PluginFile::open(&a, Some(&original)).unwrap();
        // Replace the path by another file: a rename, as an attacker (or `cp` over it) would.
        let other = dir.path().join("other");
        std::fs::write(&other, b"\x7fELF not this one").unwrap();
        std::fs::rename(&other, &a).unwrap();
        assert_ne!(sha256_hex(&std::fs::read(&a).unwrap()), original);
        assert_eq!(opened.sha256, original);
        // The descriptor the loader is given still reads the original bytes.
        let via_fd = std::fs::read(format!("/proc/self/fd/{}", opened.file.as_raw_fd())).unwrap();
        assert_eq!(sha256_hex(&via_fd), original);
    }

    #[test]
    fn a_symbolic_link_at_the_end_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let dir_path = dir.path().canonicalize().unwrap();
        let a = elf_copy(&dir_path, "libfuzzaug_a.so");
        let link = dir_path.join("libfuzzaug_l.so");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        // `open` resolves a link it is given (messages name the target) ...
        assert_eq!(PluginFile::open(&link, None).unwrap().path, a);
        // ... but the descriptor is opened without following one, so a link swapped in after
        // resolving is refused.
        let e = open_checked(&link).unwrap_err().to_string();
        assert_eq!(e, format!("{}: refusing to follow a symbolic link to a plugin file (it changed after the plugin search path resolved it); point the search path at the file itself", link.display()));
    }

    #[test]
    fn group_writable_folders_and_foreign_owners_are_refused_through_the_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let dir_path = dir.path().canonicalize().unwrap();
        let open = dir_path.join("open");
        std::fs::create_dir(&open).unwrap();
        let a = elf_copy(&open, "libfuzzaug_a.so");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o775)).unwrap();
        let e = PluginFile::open(&a, None).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: refusing to load a plugin from a folder writable by group: {} (mode 775)",
                a.display(),
                open.display()
            )),
            "{e}"
        );
        // Sticky: fine for your own file.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        PluginFile::open(&a, None).unwrap();
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            // As root, give the file to someone else.
            std::os::unix::fs::chown(&a, Some(4321), None).unwrap();
            let e = PluginFile::open(&a, None).err().unwrap().to_string();
            assert!(
                e.starts_with(&format!(
                    "{}: refusing to load a plugin file owned by uid 4321: only files owned by you (uid 0) or root are loaded",
                    a.display()
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().canonicalize().unwrap().join("libfuzzaug_f.so");
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = PluginFile::open(&p, None).err().unwrap().to_string();
        assert_eq!(
            e,
            format!(
                "{}: not a plugin file: it is a FIFO, not a regular file",
                p.display()
            )
        );
    }
}
