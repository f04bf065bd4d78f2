//! The host side: one child process per isolated library, and the calls made through it. When
//! the child dies, every call fails with what ended it (the signal or exit status), naming the
//! library; the host never waits on a dead child.
use super::{
    protocol::{self, Loaded, Ready, Request},
    wire::{read_frame, Decoder, Encoder, Wire},
    Socket,
};
use abi_stable::std_types::RResult;
use fuzzaug_sdk::PluginError;
use std::{
    os::{fd::OwnedFd, unix::process::CommandExt, unix::process::ExitStatusExt},
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The hidden subcommand the child runs.
pub const CHILD_COMMAND: &str = "plugin-child";

/// Names the executable that serves isolated plugins (default: this one, when it is `fuzzaug`).
pub const EXE_ENV: &str = "FUZZAUG_EXE";

/// Why an isolated library could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// No `fuzzaug` executable to run the child with.
    #[error("{0}: cannot start the isolated plugin process: {1}")]
    Exe(PathBuf, String),
    /// The child started but did not come up.
    #[error("{path}: the isolated plugin process {what}")]
    Child {
        /// The library.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// The child died while loading the library: what ran in it at load (its initialisers,
    /// `fingerprint()`, `components()`) ended the process.
    #[error("{path}: loading it in a child process ended that process: {cause}")]
    Died {
        /// The library.
        path: PathBuf,
        /// How the child ended ([`describe_exit`]).
        cause: String,
    },
    /// The child refused the library (the loader's message, which names the file).
    #[error("{0}")]
    Refused(String),
}

struct Process {
    child: std::process::Child,
    socket: Socket,
    /// Why the child is gone, once it is.
    dead: Option<String>,
}

/// A running child process serving one library.
pub struct Isolated {
    path: PathBuf,
    process: Mutex<Process>,
}

impl std::fmt::Debug for Isolated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Isolated({})", self.path.display())
    }
}

/// The executable that serves isolated plugins.
fn child_exe() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(EXE_ENV) {
        return Ok(p.into());
    }
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    if me.file_name().is_some_and(|n| n == "fuzzaug") {
        Ok(me)
    } else {
        // A test binary or another program using the library: look beside it, as the
        // plugin search path does.
        me.parent()
            .map(|d| d.join("fuzzaug"))
            .filter(|p| p.is_file())
            .or_else(|| {
                me.parent()
                    .and_then(Path::parent)
                    .map(|d| d.join("fuzzaug"))
                    .filter(|p| p.is_file())
            })
            .ok_or_else(|| {
                format!(
                    "no `fuzzaug` executable beside {} (set {EXE_ENV})",
                    me.display()
                )
            })
    }
}

/// Describes how a child process ended, for the user.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let what = match sig {
            libc::SIGSEGV => "SIGSEGV, a segmentation fault",
            libc::SIGBUS => "SIGBUS, a bad memory access",
            libc::SIGABRT => "SIGABRT, an abort: `panic = \"abort\"`, `std::process::abort` or a failed allocation",
            libc::SIGKILL => "SIGKILL, most likely the kernel's out-of-memory killer",
            libc::SIGILL => "SIGILL, an illegal instruction",
            libc::SIGFPE => "SIGFPE, an arithmetic fault",
            _ => "a signal",
        };
        format!("killed by signal {sig} ({what})")
    } else {
        match status.code() {
            Some(c) => format!("exited with status {c} (the plugin ended the process, e.g. with `std::process::exit`)"),
            None => "ended".to_string(),
        }
    }
}

impl Process {
    /// Marks the child dead and says how it ended, waiting a moment for it to finish dying
    /// (a child that closed its socket but lives on is killed).
    fn bury(&mut self, cause: &str) -> String {
        if let Some(d) = &self.dead {
            return d.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
                Err(_) => break None,
            }
        };
        let why = match status {
            Some(s) => describe_exit(s),
            None => format!("vanished ({cause})"),
        };
        self.dead = Some(why.clone());
        why
    }
}

impl Isolated {
    /// Starts a child serving `path` (pinned to `pin`), and returns it with what the child
    /// found in the library.
    pub fn spawn(path: &Path, pin: Option<&str>) -> Result<(Arc<Self>, Loaded), SpawnError> {
        let exe = child_exe().map_err(|e| SpawnError::Exe(path.into(), e))?;
        let (host_end, child_end) =
            Socket::pair().map_err(|e| SpawnError::Exe(path.into(), e.to_string()))?;
        let mut cmd = Command::new(&exe);
        cmd.arg(CHILD_COMMAND).arg(path);
        if let Some(p) = pin {
            cmd.arg("--sha256").arg(p);
        }
        // Its own process group: Ctrl-C is the host's to handle, and the host ends the child.
        cmd.stdin(Stdio::from(OwnedFd::from(child_end)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| SpawnError::Exe(path.into(), format!("{}: {e}", exe.display())))?;
        // `cmd` holds this process's copy of the child's end: closed, a child that dies is
        // seen as the end of the stream.
        drop(cmd);
        let mut process = Process {
            child,
            socket: host_end,
            dead: None,
        };
        let ready = match read_frame(&mut process.socket) {
            Ok(Some(frame)) => {
                let mut d = Decoder::new(&frame);
                d.get::<Ready>()
                    .and_then(|r| d.finish().map(|()| r))
                    .map_err(|e| format!("sent a start message that does not decode: {e}"))
            }
            Ok(None) | Err(_) => {
                return Err(SpawnError::Died {
                    path: path.into(),
                    cause: process.bury("no start message"),
                })
            }
        };
        let ready = ready.map_err(|what| SpawnError::Child {
            path: path.into(),
            what,
        })?;
        if ready.version != protocol::VERSION {
            return Err(SpawnError::Child {
                path: path.into(),
                what: format!(
                    "speaks protocol version {}, this fuzzaug {} ({} is another build)",
                    ready.version,
                    protocol::VERSION,
                    exe.display()
                ),
            });
        }
        let loaded = ready.library.map_err(SpawnError::Refused)?;
        let me = Arc::new(Self {
            path: path.into(),
            process: Mutex::new(process),
        });
        Ok((me, loaded))
    }

    /// The library file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `request` and reads its reply; a dead child (now or before) is an error saying
    /// how it ended.
    pub fn call<T: Wire>(&self, request: &Request) -> RResult<T, PluginError> {
        let mut p = match self.process.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(d) = &p.dead {
            return RResult::RErr(died(d));
        }
        let mut e = Encoder::default();
        e.put(request);
        let frame = match p.socket.send(&e.into_bytes()) {
            Ok(()) => read_frame(&mut p.socket),
            Err(err) => Err(err),
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => return RResult::RErr(died(&p.bury(""))),
            Err(err) => return RResult::RErr(died(&p.bury(&err.to_string()))),
        };
        match protocol::read_reply::<T>(&frame) {
            Ok(r) => r.into(),
            Err(err) => RResult::RErr(PluginError::new(format!(
                "its isolated process sent a reply to `{}` that does not decode: {err}",
                request.method()
            ))),
        }
    }
}

/// The error of every call once the child is gone.
fn died(cause: &str) -> PluginError {
    PluginError::new(format!("its isolated process died: {cause}"))
}

impl Drop for Isolated {
    fn drop(&mut self) {
        let p = match self.process.get_mut() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if p.dead.is_none() {
            // Closing the socket ends the child's loop; reap it so no zombie is left.
            p.socket.shutdown();
            let _ = p.bury("");
        }
    }
}
