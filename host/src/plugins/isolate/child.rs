//! The child side: `fuzzaug plugin-child LIB` loads one plugin library with every check of an
//! in-process load, then answers the host's requests on the socket it was given as stdin until
//! the host closes it. Whatever the plugin does to this process (a segfault, `exit`, an abort,
//! running out of memory) ends only this process.
use super::{
    protocol::{self, Bytes, Loaded, Ready, Request},
    wire::{read_frame, Decoder, Encoder, Wire},
    Socket,
};
use crate::plugins::library::Library;
use crate::plugins::objects::{DatasetObj, StrategyObj, TransformObj};
use abi_stable::std_types::RResult;
use fuzzaug_sdk::{PluginError, Scores, TransformKind};
use std::{
    collections::HashMap,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    path::Path,
};

/// An object the host built.
enum Object {
    Dataset(DatasetObj),
    Transform(TransformObj),
    Strategy(StrategyObj),
}

/// Takes the socket the host passed as stdin for the protocol, and points stdin at /dev/null
/// and stdout at stderr, so that a plugin reading stdin or printing cannot touch the stream.
/// Terminal signals are the host's to handle: it stops the run, then closes the socket.
fn take_socket() -> std::io::Result<Socket> {
    // SAFETY: plain descriptor calls on this process's own descriptors, before any other
    // thread exists in the child.
    unsafe {
        let fd = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let null = std::fs::File::open("/dev/null")?;
        if libc::dup2(null.as_raw_fd(), 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            libc::signal(sig, libc::SIG_IGN);
        }
        // Should the host die without closing the socket, do not outlive it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        Ok(Socket::from(OwnedFd::from_raw_fd(fd)))
    }
}

/// Serves the library at `path` (pinned to `pin` when given) until the host closes the
/// socket; the exit code of the child.
pub fn serve(path: &Path, pin: Option<&str>) -> anyhow::Result<u8> {
    let mut socket = take_socket()?;
    let (library, ready) = match Library::load(path, pin) {
        Ok(lib) => {
            let loaded = Loaded {
                sha256: lib.sha256.clone(),
                fingerprint: lib.fingerprint.clone(),
                components: lib.components.clone(),
            };
            (
                Some(lib),
                Ready {
                    version: protocol::VERSION,
                    library: Ok(loaded),
                },
            )
        }
        Err(e) => (
            None,
            Ready {
                version: protocol::VERSION,
                library: Err(e.to_string()),
            },
        ),
    };
    let mut e = Encoder::default();
    e.put(&ready);
    socket.send(&e.into_bytes())?;
    let Some(library) = library else {
        return Ok(1);
    };
    let mut server = Server {
        library,
        objects: HashMap::new(),
        next: 1,
    };
    while let Some(frame) = read_frame(&mut socket)? {
        let mut d = Decoder::new(&frame);
        let request: Request = d.get()?;
        d.finish()?;
        let answer = server.answer(request);
        socket.send(&answer)?;
    }
    Ok(0)
}

struct Server {
    library: Library,
    objects: HashMap<u64, Object>,
    next: u64,
}

fn no_object(id: u64, want: &str) -> PluginError {
    PluginError::new(format!(
        "isolation protocol: no {want} object {id} in the child"
    ))
}

fn encode<T: Wire>(r: RResult<T, PluginError>) -> Vec<u8> {
    protocol::reply(&r.into_result())
}

impl Server {
    fn keep(&mut self, obj: Object) -> u64 {
        let id = self.next;
        self.next += 1;
        self.objects.insert(id, obj);
        id
    }

    fn dataset(&mut self, id: u64) -> Result<&mut DatasetObj, PluginError> {
        match self.objects.get_mut(&id) {
            Some(Object::Dataset(o)) => Ok(o),
            _ => Err(no_object(id, "dataset")),
        }
    }

    fn transform(&mut self, id: u64) -> Result<&mut TransformObj, PluginError> {
        match self.objects.get_mut(&id) {
            Some(Object::Transform(o)) => Ok(o),
            _ => Err(no_object(id, "transform")),
        }
    }

    fn strategy(&mut self, id: u64) -> Result<&mut StrategyObj, PluginError> {
        match self.objects.get_mut(&id) {
            Some(Object::Strategy(o)) => Ok(o),
            _ => Err(no_object(id, "strategy")),
        }
    }

    /// One request's reply frame.
    fn answer(&mut self, request: Request) -> Vec<u8> {
        let lib = &self.library;
        match request {
            Request::NewDataset {
                name,
                settings,
                ctx,
            } => {
                let r = lib
                    .new_dataset(&name, &settings, &ctx)
                    .map(|o| self.keep(Object::Dataset(o)));
                encode(r)
            }
            Request::NewTransform {
                name,
                settings,
                ctx,
            } => {
                let r = lib
                    .new_transform(&name, &settings, &ctx)
                    .into_result()
                    .and_then(|o| match o.info().into_result()?.kind {
                        TransformKind::Tensor => Err(PluginError::new(
                            "a tensor-kind transform works on libtorch tensors in fuzzaug's own \
                             memory and cannot run isolated; remove it from `[plugins] isolate`",
                        )),
                        _ => Ok(self.keep(Object::Transform(o))),
                    });
                protocol::reply(&r)
            }
            Request::NewStrategy {
                name,
                settings,
                ctx,
                setup,
            } => {
                let r = lib
                    .new_strategy(&name, &settings, &ctx, &setup)
                    .map(|o| self.keep(Object::Strategy(o)));
                encode(r)
            }
            Request::Release { id } => {
                self.objects.remove(&id);
                encode(RResult::ROk(()))
            }
            other => self.call(other),
        }
    }

    /// A method call on an existing object.
    fn call(&mut self, request: Request) -> Vec<u8> {
        macro_rules! on {
            ($get:ident, $id:expr, |$o:ident| $body:expr) => {
                match self.$get($id) {
                    Ok($o) => encode($body),
                    Err(e) => encode::<()>(RResult::RErr(e)),
                }
            };
        }
        match request {
            Request::DatasetInfo { id } => on!(dataset, id, |o| o.info()),
            Request::Read {
                id,
                split,
                start,
                count,
            } => on!(dataset, id, |o| o.read(split, start, count)),
            Request::TransformInfo { id } => on!(transform, id, |o| o.info()),
            Request::Matrices {
                id,
                values,
                height,
                width,
            } => on!(transform, id, |o| o.matrices(&values, height, width)),
            Request::GainBias { id, values } => on!(transform, id, |o| o.gain_bias(&values)),
            Request::BeginEpoch { id, epoch } => on!(strategy, id, |o| o.begin_epoch(epoch)),
            Request::Propose { id, samples } => on!(strategy, id, |o| o.propose(&samples)),
            Request::Select {
                id,
                fitness,
                correct,
                predicted,
                labels,
            } => on!(strategy, id, |o| o.select(&Scores {
                fitness: &fitness,
                correct: &correct,
                predicted: &predicted,
                labels: &labels,
            })),
            Request::TakeCounters { id } => on!(strategy, id, |o| o.take_counters()),
            Request::SaveState { id } => on!(strategy, id, |o| o
                .save_state()
                .map(|v| Bytes(v.into_vec()))),
            Request::LoadState { id, state } => on!(strategy, id, |o| o.load_state(&state.0)),
            Request::Incumbents { id, samples } => on!(strategy, id, |o| o.incumbents(&samples)),
            Request::Fitness { id } => on!(strategy, id, |o| o.fitness()),
            Request::NewDataset { .. }
            | Request::NewTransform { .. }
            | Request::NewStrategy { .. }
            | Request::Release { .. } => self.answer(request),
        }
    }
}
