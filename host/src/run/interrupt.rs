//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during a run: the first asks the run to stop at the next
//! forward pass boundary (between scoring passes, training batches and evaluation chunks),
//! leaving the last checkpoint as it is; a second one ends the process at once.
//!
//! The second signal ends the process with `_exit`: no destructors and no `atexit` handlers
//! run, because libtorch's threads are still working and tearing its statics down under them
//! crashes (a plain `exit` from the handler thread segfaulted). Every file fuzzaug writes is
//! written whole by rename, so ending anywhere leaves the last checkpoint intact.
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Once,
};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler (once per process; later calls do nothing).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let result = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                exit_now(b"\ninterrupted twice: exiting now; the last checkpoint is intact\n");
            }
            eprintln!(
                "\ninterrupt: stopping at the next pass (press Ctrl-C again to exit at once)"
            );
        });
        if let Err(e) = result {
            log::warn!("cannot install the interrupt handler: {e}");
        }
    });
}

/// Writes `message` to stderr without taking Rust's stderr lock (the main thread may hold it)
/// and ends the process at once.
fn exit_now(message: &[u8]) -> ! {
    // SAFETY: write(2) on fd 2 with a valid buffer, then _exit(2); neither touches Rust or
    // libtorch state.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(i32::from(EXIT_INTERRUPTED))
    }
}

/// Whether an interrupt arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// A run stopped by an interrupt.
#[derive(Debug, thiserror::Error)]
#[error("interrupted in epoch {epoch}, {at}; nothing of that epoch was saved. {kept}")]
pub struct Interrupted {
    /// 1-based epoch in progress.
    pub epoch: u32,
    /// Where it stopped, e.g. `after batch 3 of 10`.
    pub at: String,
    /// What the checkpoint holds and how to continue.
    pub kept: String,
}
