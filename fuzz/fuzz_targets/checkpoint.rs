//! The checkpoint reader ([`checkpoint::from_bytes`]: magic, version, seal, sections, metadata
//! JSON, libtorch's tensor archive), on the CPU.
//!
//! Input: a flags byte, then the payload. Flags bit 0 clear: the payload is the checkpoint
//! file as it is. Set: the payload is the body after the magic and the version, and the magic,
//! the version and the SHA-256 seal are added here, so that mutations reach the sections.
#![no_main]
use fuzzaug::rundir::checkpoint;
use fuzzaug_fuzz::checkpoint::seal;
use fuzzaug_sdk::tch::Device;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let [flags, payload @ ..] = data else {
        return;
    };
    let file = if flags & 1 == 0 {
        payload.to_vec()
    } else {
        seal(payload)
    };
    let path = Path::new("/fuzz/checkpoints/last");
    if let Ok(c) = checkpoint::from_bytes(&file, path, Device::Cpu) {
        let _ = c.meta.differences(&c.meta);
        let _ = c.meta.check_normalization(&(vec![0.5], vec![0.25]), path);
        for t in c.model_tensors().values() {
            let _ = t.size();
        }
    }
});
