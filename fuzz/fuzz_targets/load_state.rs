//! `load_state` of the bundled strategies (`standard`, `random`, `w10`, `sensei`, `sensei-rw`,
//! `sensei-t`), called as the host calls it: through the plugin's root module and the SDK's
//! guard, on a strategy built for a small search space.
//!
//! Input: a byte choosing the strategy ([`fuzzaug_fuzz::STRATEGIES`], modulo their number),
//! then the state bytes. A state that loads must then behave: its incumbents, a proposal and a
//! selection are well formed, every gene value finite and within its `[lo, hi]`, and what it
//! saves loads again into a fresh strategy and saves the same bytes.
#![no_main]
use fuzzaug_fuzz::strategy::{self, Built};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [choice, state @ ..] = data else {
        return;
    };
    let mut s = Built::new(usize::from(*choice));
    let loaded = s.load_state(state);
    if strategy::ok_or_panic(&s, "load_state", loaded).is_none() {
        return;
    }
    s.exercise();
});
