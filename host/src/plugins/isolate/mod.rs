//! Isolated mode: a plugin library loaded in a child process instead of in fuzzaug's own, so
//! that a crash, `exit` or abort in it ends the run with an error naming the plugin and the
//! call, the last checkpoint intact, instead of killing fuzzaug.
//!
//! The child ([`child::serve`]) is `fuzzaug plugin-child LIB`; the host ([`client::Isolated`])
//! talks to it over a Unix socket with the small versioned protocol of [`protocol`], whose
//! values are bytes, integers and floats ([`wire`]). Datasets, strategies and geometric and
//! photometric transforms can be isolated; tensor-kind transforms work on libtorch tensors in
//! the host's memory and cannot.
pub mod child;
pub mod client;
pub mod protocol;
pub mod remote;
pub mod wire;

use std::{
    io::{self, Read},
    os::{
        fd::{AsRawFd, OwnedFd},
        unix::net::UnixStream,
    },
};

/// One end of the socket between host and child. Writes never raise SIGPIPE (fuzzaug restores
/// its default disposition): a peer that is gone is an error, not the end of this process.
pub struct Socket(UnixStream);

impl Socket {
    /// A connected pair.
    pub fn pair() -> io::Result<(Self, Self)> {
        let (a, b) = UnixStream::pair()?;
        Ok((Self(a), Self(b)))
    }

    /// Writes one frame (see [`wire::write_frame`]).
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        if payload.len() > wire::MAX_FRAME {
            return Err(io::Error::other(wire::WireError::TooLong(payload.len())));
        }
        self.send_all(&(payload.len() as u64).to_le_bytes())?;
        self.send_all(payload)
    }

    fn send_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            // SAFETY: a valid descriptor and a valid buffer of that length.
            let n = unsafe {
                libc::send(
                    self.0.as_raw_fd(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            bytes = &bytes[n as usize..];
        }
        Ok(())
    }

    /// Closes both directions; the peer reads the end of the stream.
    pub fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl From<OwnedFd> for Socket {
    fn from(fd: OwnedFd) -> Self {
        Self(UnixStream::from(fd))
    }
}

impl From<Socket> for OwnedFd {
    fn from(s: Socket) -> Self {
        s.0.into()
    }
}
