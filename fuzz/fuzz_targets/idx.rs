//! The IDX reader of the `mnist` and `fashion-mnist` datasets, raw and `.gz`, through
//! [`Mnist::load`] on a folder of the four files written from the input.
//!
//! Input: a flags byte, a settings byte, then the four files in [`FILES`] order joined by
//! [`fuzzaug_fuzz::SEP`].
//! - flags: two bits per file, lowest first: 0 = raw; 1 = gzip-compressed here and named
//!   `.gz`; 2 = named `.gz` as it is; 3 = raw, with a `.gz` beside it that must be ignored;
//! - settings bit 0: Fashion-MNIST; bits 1..2: `resize` none, 8, 13 or 32; bit 3: 3 channels;
//!   bit 4: `train_limit` 1; bit 5: `test_limit` 2.
#![no_main]
use fuzzaug_fuzz::{gzip, scratch, split};
use fuzzaug_mnist::{Mnist, MnistConfig, FASHION_MNIST, FILES, MNIST};
use libfuzzer_sys::fuzz_target;
use std::{fs, path::PathBuf, sync::OnceLock};

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| scratch("idx"))
}

fuzz_target!(|data: &[u8]| {
    let [flags, settings, payload @ ..] = data else {
        return;
    };
    let dir = dir();
    for (i, ((name, _), bytes)) in FILES.iter().zip(split(payload, 4)).enumerate() {
        let raw = dir.join(name);
        let gz = dir.join(format!("{name}.gz"));
        let _ = fs::remove_file(&raw);
        let _ = fs::remove_file(&gz);
        match (flags >> (2 * i)) & 3 {
            0 => fs::write(&raw, bytes).unwrap(),
            1 => fs::write(&gz, gzip(bytes)).unwrap(),
            2 => fs::write(&gz, bytes).unwrap(),
            _ => {
                fs::write(&raw, bytes).unwrap();
                fs::write(&gz, b"not gzip").unwrap();
            }
        }
    }
    let variant = if settings & 1 == 0 {
        MNIST
    } else {
        FASHION_MNIST
    };
    let config = MnistConfig {
        dir: dir.clone(),
        resize: [None, Some(8), Some(13), Some(32)][usize::from((settings >> 1) & 3)],
        channels: if settings & 8 == 0 { 1 } else { 3 },
        train_limit: (settings & 16 != 0).then_some(1),
        test_limit: (settings & 32 != 0).then_some(2),
    };
    if let Ok(mut mnist) = Mnist::load(variant, &config) {
        if let Err(e) = fuzzaug_sdk::testing::check_dataset(&mut mnist) {
            panic!("a loaded MNIST dataset breaks the contract: {e}");
        }
    }
});
