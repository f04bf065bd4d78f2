//! The `.npy` header reader of the `cifar10c` dataset ([`npy::read_header`]), then the
//! header's own sizes.
#![no_main]
use fuzzaug_cifar10c::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = data;
    if let Ok(header) = npy::read_header(&mut reader, "/fuzz/x.npy") {
        let _ = header.shape_text();
        for item in [1, 8] {
            let _ = header.data_bytes(item);
        }
        assert!(
            header.data_offset as usize <= data.len(),
            "data offset past what was read"
        );
    }
});
