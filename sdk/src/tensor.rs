//! Conversions between [`TensorHandle`] and `tch::Tensor` (feature `tensor`).
//!
//! Ownership: [`TensorHandle::from_tensor`] moves the tensor into the handle (no copy; the
//! receiver now owns it); [`TensorHandle::into_tensor`] moves it out again. To lend a tensor
//! without giving it up, pass `tensor.shallow_clone()`: a new handle to the same storage, so an
//! in-place operation in the plugin is seen by the caller. Autograd graphs cross as well.
use crate::transform::TensorHandle;
use std::ffi::c_void;
use tch::Tensor;

unsafe extern "C" fn free_tensor(ptr: *mut c_void) {
    // SAFETY: only installed by `from_tensor`, whose pointer came from a live `tch::Tensor`.
    unsafe { torch_sys::at_free(ptr.cast()) }
}

impl TensorHandle {
    /// Moves a tensor into a handle.
    pub fn from_tensor(mut tensor: Tensor) -> Self {
        let ptr = tensor.as_mut_ptr().cast::<c_void>();
        std::mem::forget(tensor);
        // SAFETY: `ptr` is the live tensor we just released, `free_tensor` frees it.
        unsafe { TensorHandle::from_raw(ptr, free_tensor) }
    }

    /// Moves the tensor out of a handle.
    ///
    /// The handle's free function is dropped along with it: libtorch is loaded once per
    /// process, so `tch`'s own drop frees the tensor identically.
    pub fn into_tensor(self) -> Tensor {
        let (ptr, _free) = self.into_raw();
        // SAFETY: `ptr` is a live `C_tensor*` owned by the handle, which we just consumed.
        unsafe { Tensor::from_ptr(ptr.cast()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_storage() {
        let t = Tensor::arange(6, (tch::Kind::Float, tch::Device::Cpu));
        let before = t.data_ptr();
        let back = TensorHandle::from_tensor(t.shallow_clone()).into_tensor();
        assert_eq!(back.data_ptr(), before);
        assert_eq!(back.size(), vec![6]);
        drop(TensorHandle::from_tensor(back)); // freed through the handle
        assert_eq!(t.double_value(&[5]), 5.0);
    }
}
