//! libtorch's global random generators, which the model's initialisation and its dropout draw
//! from. The host seeds them itself ([`seeded`]: the run's seed before the model is built, a
//! per-step seed before each training forward pass) and watches them around every tensor-kind
//! plugin call ([`Watch`]): a plugin that draws from them (`randn_like`, `dropout`) or reseeds
//! them (`manual_seed`) builds images that depend on something besides (image, value, seed), so
//! the variant trained on would not be the one scored, and it would move the host's stream.
//!
//! `tch` gives no way to read a generator's state, so the watch sets a known seed before the
//! call and compares the first draws after it with the draws that seed gives untouched: any
//! draw or reseed by the plugin in between changes them. Every seeded use and every watched
//! call holds one process-wide lock, so two threads of one process (a test binary running
//! sessions side by side) never see each other's draws.
use std::sync::{Mutex, MutexGuard};
use tch::{Device, Kind, Tensor};

/// The seed set before a watched call.
const PROBE: i64 = 0x5EED_F00D;
/// Draws compared per device.
const DRAWS: i64 = 4;

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    // A panic elsewhere while holding the lock leaves no state behind worth refusing.
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` with libtorch's global generators seeded by `seed`, holding the lock: what `f`
/// draws depends on `seed` alone.
pub fn seeded<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let _lock = lock();
    tch::manual_seed(seed as i64);
    f()
}

/// A watched call in progress: holds the lock until it is read.
pub(crate) struct Watch {
    device: Device,
    expected: Vec<f64>,
    _lock: MutexGuard<'static, ()>,
}

/// The first draws of the CPU generator and, for a CUDA batch, of that device's generator.
fn draws(device: Device) -> Result<Vec<f64>, tch::TchError> {
    let mut v = Vec::with_capacity(2 * DRAWS as usize);
    let mut on = vec![Device::Cpu];
    if device.is_cuda() {
        on.push(device);
    }
    for d in on {
        let t = Tensor::f_rand([DRAWS], (Kind::Double, d))?.f_to_device(Device::Cpu)?;
        v.extend(Vec::<f64>::try_from(&t)?);
    }
    Ok(v)
}

impl Watch {
    /// Seeds the generators with the probe seed before a call on a batch on `device`.
    pub(crate) fn start(device: Device) -> Result<Self, tch::TchError> {
        let lock = lock();
        tch::manual_seed(PROBE);
        let expected = draws(device)?;
        tch::manual_seed(PROBE);
        Ok(Self {
            device,
            expected,
            _lock: lock,
        })
    }

    /// Whether the generators are as the probe seed left them: nothing drew from them and
    /// nothing reseeded them (to another seed) since [`Watch::start`].
    pub(crate) fn untouched(self) -> Result<bool, tch::TchError> {
        Ok(draws(self.device)? == self.expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// (That a quiet call passes is shown in `tensor_answers.rs` and `training_signal.rs`.)
    fn a_draw_or_a_reseed_is_seen() {
        let drawn = Watch::start(Device::Cpu).unwrap();
        let _ = Tensor::randn([1], (Kind::Float, Device::Cpu));
        assert!(!drawn.untouched().unwrap());
        let reseeded = Watch::start(Device::Cpu).unwrap();
        tch::manual_seed(7);
        assert!(!reseeded.untouched().unwrap());
    }
}
