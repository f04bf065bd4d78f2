//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during a run: the first asks the loop to stop after the
//! batch in flight, leaving the last checkpoint as it is; a second one exits at once.
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
                eprintln!("\ninterrupted twice: exiting now; the last checkpoint is intact");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            eprintln!("\ninterrupt: stopping after the current batch (press Ctrl-C again to exit at once)");
        });
        if let Err(e) = result {
            log::warn!("cannot install the interrupt handler: {e}");
        }
    });
}

/// Whether an interrupt arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// A run stopped by an interrupt.
#[derive(Debug, thiserror::Error)]
#[error("interrupted at epoch {epoch}, batch {batch}; nothing of that epoch was saved. {kept}")]
pub struct Interrupted {
    /// 1-based epoch in progress.
    pub epoch: u32,
    /// 1-based batch reached.
    pub batch: usize,
    /// What the checkpoint holds and how to continue.
    pub kept: String,
}
