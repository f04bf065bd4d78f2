//! The config loader with `--set` ([`load_text`]) and the plugin-free checks after it
//! ([`validate`]), as `fuzzaug check` and `run` call them.
//!
//! Input: UTF-8 text; the config file up to the first line `#--set`, then one `--set`
//! argument per line.
#![no_main]
use fuzzaug::config::{load_text, validate};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// The line that ends the file and starts the `--set` arguments.
const SETS: &str = "\n#--set\n";

fuzz_target!(|data: &[u8]| {
    // The loader reads the file as UTF-8 and refuses anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file, sets) = text.split_once(SETS).unwrap_or((text, ""));
    let overrides: Vec<String> = sets.lines().map(str::to_string).collect();
    let path = Path::new("/fuzz/config.toml");
    match load_text(path, file.to_string(), &overrides) {
        Ok((config, source)) => {
            let _ = validate(&config, &source);
        }
        Err(e) => {
            assert!(!e.message.is_empty(), "an empty message at {}", e.location);
        }
    }
});
