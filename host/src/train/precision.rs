//! bf16 mixed precision through libtorch's autocast. tch 0.24 only binds the deprecated CUDA
//! autocast switch, whose dtype defaults to fp16; the device-generic functions below are the
//! same libtorch 2.11.0 exports that PyTorch's `torch.autocast` uses. Their C++ signatures take
//! `int8_t` enums and a bool, so they are called with the C ABI under their mangled names; the
//! start-up check guarantees the libtorch they bind to is the one fuzzaug was built against.
use tch::Device;

#[allow(improper_ctypes)]
unsafe extern "C" {
    #[link_name = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"]
    fn set_autocast_enabled(device_type: i8, enabled: bool);
    #[link_name = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"]
    fn is_autocast_enabled(device_type: i8) -> bool;
    #[link_name = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"]
    fn set_autocast_dtype(device_type: i8, dtype: i8);
    #[link_name = "_ZN2at8autocast17increment_nestingEv"]
    fn increment_nesting() -> i32;
    #[link_name = "_ZN2at8autocast17decrement_nestingEv"]
    fn decrement_nesting() -> i32;
    #[link_name = "_ZN2at8autocast11clear_cacheEv"]
    fn clear_cache();
}

/// c10::DeviceType values.
fn device_type(device: Device) -> i8 {
    match device {
        Device::Cpu => 0,
        Device::Cuda(_) => 1,
        Device::Mps => 13,
        Device::Vulkan => 10,
    }
}

/// Runs `f` under bf16 autocast on `device` when `enabled`, else plainly.
pub fn bf16<T>(enabled: bool, device: Device, f: impl FnOnce() -> T) -> T {
    if !enabled {
        return f();
    }
    let dt = device_type(device);
    // c10::ScalarType::BFloat16 (tch maps Kind::BFloat16 to the same value).
    let bf16: i8 = 15;
    // SAFETY: plain-value arguments to exported libtorch functions (see the module docs).
    let prev = unsafe {
        let prev = is_autocast_enabled(dt);
        set_autocast_dtype(dt, bf16);
        set_autocast_enabled(dt, true);
        increment_nesting();
        prev
    };
    let out = f();
    // SAFETY: as above; restores the state found on entry.
    unsafe {
        if decrement_nesting() == 0 {
            clear_cache();
        }
        set_autocast_enabled(dt, prev);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn matmul_runs_in_bf16_inside_and_fp32_outside() {
        let a = Tensor::ones([4, 4], (Kind::Float, Device::Cpu));
        assert_eq!(
            bf16(true, Device::Cpu, || a.matmul(&a)).kind(),
            Kind::BFloat16
        );
        assert_eq!(a.matmul(&a).kind(), Kind::Float);
        assert_eq!(
            bf16(false, Device::Cpu, || a.matmul(&a)).kind(),
            Kind::Float
        );
    }
}
