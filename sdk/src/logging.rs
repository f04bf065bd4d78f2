//! Logging across the boundary. Each library has its own copy of the `log` crate's statics, so
//! a plugin's `log::info!` would go nowhere; the host hands every plugin a [`HostLogger`] when
//! it loads it, and the SDK installs a `log::Log` in the plugin that forwards to it.
use abi_stable::{std_types::RStr, StableAbi};
use std::sync::OnceLock;

/// The host's log sink: a function taking a level (1 = error … 5 = trace), the record's target
/// and its message, plus the most verbose level the host wants.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct HostLogger {
    /// Writes one record through the host's logger.
    pub log: extern "C" fn(level: u8, target: RStr<'_>, message: RStr<'_>),
    /// 0 = off, 1 = error … 5 = trace.
    pub max_level: u8,
}

fn level_to_u8(level: log::LevelFilter) -> u8 {
    level as usize as u8
}

fn u8_to_level(level: u8) -> Option<log::Level> {
    [
        log::Level::Error,
        log::Level::Warn,
        log::Level::Info,
        log::Level::Debug,
        log::Level::Trace,
    ]
    .get(usize::from(level).checked_sub(1)?)
    .copied()
}

fn u8_to_filter(level: u8) -> log::LevelFilter {
    u8_to_level(level).map_or(log::LevelFilter::Off, |l| l.to_level_filter())
}

extern "C" fn host_sink(level: u8, target: RStr<'_>, message: RStr<'_>) {
    sink_into(log::logger(), level, target.as_str(), message.as_str());
}

/// Host side of the callback: writes one record into `logger`. It runs inside an `extern "C"`
/// function called from the plugin, where an unwinding panic (of the host's logger) would
/// abort the process: it is caught and the record dropped.
fn sink_into(logger: &dyn log::Log, level: u8, target: &str, message: &str) {
    if let Some(level) = u8_to_level(level) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            logger.log(
                &log::Record::builder()
                    .level(level)
                    .target(target)
                    .args(format_args!("{message}"))
                    .build(),
            )
        }));
    }
}

impl HostLogger {
    /// Host side: a logger forwarding plugin records into this process's `log` logger.
    pub fn of_this_process() -> Self {
        Self {
            log: host_sink,
            max_level: level_to_u8(log::max_level()),
        }
    }
}

struct Forward(HostLogger);

impl log::Log for Forward {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= u8_to_filter(self.0.max_level)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Formatting runs the plugin's `Display` impls, anywhere it logs: in a `Drop`, on a
        // thread of its own, inside an entry point. A panic there drops the record and says so,
        // instead of unwinding into the caller (or, outside an entry point, aborting the host).
        let (level, message) = match crate::guard::catch(|| record.args().to_string()) {
            Ok(message) => (record.level(), message),
            Err(text) => (
                log::Level::Warn,
                format!(
                    "a log record of the plugin (target `{}`) was dropped: formatting it panicked: {text}",
                    record.target()
                ),
            ),
        };
        (self.0.log)(
            level_to_u8(level.to_level_filter()),
            record.target().into(),
            message.as_str().into(),
        );
    }

    fn flush(&self) {}
}

/// Plugin side: routes this library's `log` records to the host. The first call wins.
pub fn install(host: HostLogger) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if log::set_boxed_logger(Box::new(Forward(host))).is_ok() {
            log::set_max_level(u8_to_filter(host.max_level));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip() {
        for l in [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ] {
            assert_eq!(u8_to_level(level_to_u8(l.to_level_filter())), Some(l));
        }
        assert_eq!(u8_to_filter(0), log::LevelFilter::Off);
    }

    /// A host logger that panics, and one that counts what it was given.
    struct Panicking;
    impl log::Log for Panicking {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, _: &log::Record<'_>) {
            panic!("the host's logger broke");
        }
        fn flush(&self) {}
    }

    #[test]
    fn a_panicking_host_logger_does_not_unwind_into_the_plugin() {
        // Would abort the test process if the panic escaped an `extern "C"` function.
        sink_into(&Panicking, 3, "t", "m");
        host_sink(3, "t".into(), "m".into());
    }

    static SEEN: std::sync::Mutex<Vec<(u8, String)>> = std::sync::Mutex::new(Vec::new());

    extern "C" fn record_sink(level: u8, _target: RStr<'_>, message: RStr<'_>) {
        SEEN.lock().unwrap().push((level, message.to_string()));
    }

    struct Bad;
    impl std::fmt::Display for Bad {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("display bomb")
        }
    }

    #[test]
    fn a_record_whose_formatting_panics_is_dropped_and_reported() {
        let fwd = Forward(HostLogger {
            log: record_sink,
            max_level: 5,
        });
        log::Log::log(
            &fwd,
            &log::Record::builder()
                .level(log::Level::Info)
                .target("plug")
                .args(format_args!("{}", Bad))
                .build(),
        );
        log::Log::log(
            &fwd,
            &log::Record::builder()
                .level(log::Level::Info)
                .target("plug")
                .args(format_args!("fine"))
                .build(),
        );
        let seen = SEEN.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, 2);
        assert!(
            seen[0].1.starts_with("a log record of the plugin (target `plug`) was dropped: formatting it panicked: display bomb (at "),
            "{seen:?}"
        );
        assert_eq!(seen[1], (3, "fine".to_string()));
    }
}
