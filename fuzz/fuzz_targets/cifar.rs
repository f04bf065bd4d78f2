//! The CIFAR reader: batches, class names and limits ([`Cifar::from_members`]), from files
//! given directly or from a `.tar.gz` archive ([`source::read_archive_from`]).
//!
//! Input: a flags byte, a limits byte, then the payload.
//! - flags bit 0: CIFAR-10 (0) or CIFAR-100 (1); bit 1: CIFAR-100's coarse label;
//! - flags bits 2..3: 0 = the payload is the wanted files ([`Spec::wanted`]'s order) joined by
//!   [`fuzzaug_fuzz::SEP`]; 1 = a tar archive, gzip-compressed here; 2 or 3 = a `.tar.gz` as it
//!   is;
//! - limits: `train_limit` in the low nibble, `test_limit` in the high one (0 = all).
#![no_main]
use fuzzaug_cifar::{
    dataset::{CifarConfig, Spec, CIFAR10_NAMES},
    source::{self, Member},
    Cifar, CIFAR10, CIFAR100,
};
use fuzzaug_fuzz::{gzip, split};
use libfuzzer_sys::fuzz_target;
use std::{io::Cursor, path::Path};

fn limit(nibble: u8) -> Option<usize> {
    (nibble != 0).then_some(usize::from(nibble))
}

fuzz_target!(|data: &[u8]| {
    let [flags, limits, payload @ ..] = data else {
        return;
    };
    let (spec, field, names): (&Spec, usize, &'static str) = match flags & 3 {
        0 | 2 => (&CIFAR10, 0, CIFAR10_NAMES),
        1 => (&CIFAR100, 1, "fine_label_names.txt"),
        _ => (&CIFAR100, 0, "coarse_label_names.txt"),
    };
    let config = CifarConfig {
        path: "/fuzz/cifar".into(),
        field,
        names_file: names,
        train_limit: limit(limits & 15),
        test_limit: limit(limits >> 4),
    };
    let wanted = spec.wanted(names);
    let archive = Path::new("/fuzz/cifar.tar.gz");
    let members = match (flags >> 2) & 3 {
        0 => split(payload, wanted.len())
            .into_iter()
            .zip(&wanted)
            // The reader refuses a larger file before reading it.
            .filter(|(bytes, w)| bytes.len() as u64 <= w.max_bytes)
            .map(|(bytes, w)| Member {
                name: w.name.to_string(),
                bytes: bytes.to_vec(),
            })
            .collect(),
        1 => match source::read_archive_from(archive, Cursor::new(gzip(payload)), &wanted) {
            Ok(m) => m,
            Err(_) => return,
        },
        _ => match source::read_archive_from(archive, payload, &wanted) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    if members.len() != wanted.len() {
        return;
    }
    if let Ok(mut cifar) = Cifar::from_members(spec, &config, &members) {
        // What loads must meet the dataset contract.
        if let Err(e) = fuzzaug_sdk::testing::check_dataset(&mut cifar) {
            panic!("a loaded CIFAR dataset breaks the contract: {e}");
        }
    }
});
