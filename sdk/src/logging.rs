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
    if let Some(level) = u8_to_level(level) {
        log::logger().log(
            &log::Record::builder()
                .level(level)
                .target(target.as_str())
                .args(format_args!("{}", message.as_str()))
                .build(),
        );
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
        if self.enabled(record.metadata()) {
            let message = record.args().to_string();
            (self.0.log)(
                level_to_u8(record.level().to_level_filter()),
                record.target().into(),
                message.as_str().into(),
            );
        }
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
}
