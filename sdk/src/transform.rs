//! The transform kind: one gene of the search space.
//!
//! Three kinds, told apart by [`TransformInfo::kind`]:
//! - **geometric**: for N gene values, N 2×3 matrices `[a, b, c, d, e, f]` mapping a point
//!   `(x, y)` of the input image to `(a·x + b·y + c, d·x + e·y + f)` in the output, in pixels,
//!   origin at the image centre, x to the right, y down. The host composes all geometric genes
//!   of a chromosome into one matrix and samples the image once.
//! - **photometric**: for N values, N pairs `[gain, bias]`: `out = gain · in + bias` on the
//!   0..255 scale, before clamping. The host fuses all photometric genes into one pair.
//! - **tensor**: takes a float N×C×H×W tensor on 0..255 and returns one of the same shape
//!   (plugins built with the SDK's `tensor` feature; see [`TensorHandle`]).
use crate::{error::PluginError, guard};
use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RSlice, RString, RVec},
    StableAbi,
};
use std::ffi::c_void;

/// How a transform acts on images.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransformKind {
    /// A 2×3 affine matrix per sample.
    Geometric,
    /// A gain and bias per sample.
    Photometric,
    /// An operation on a libtorch tensor.
    Tensor,
}

impl TransformKind {
    /// `geometric`, `photometric` or `tensor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Geometric => "geometric",
            Self::Photometric => "photometric",
            Self::Tensor => "tensor",
        }
    }
}

/// The gene a transform contributes and its limits.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct TransformInfo {
    /// The gene's name (normally the component's name).
    pub gene: RString,
    /// The unit of a value, for humans (`degrees`, `pixels`, `factor`).
    pub unit: RString,
    /// How the transform acts.
    pub kind: TransformKind,
    /// The widest range the transform accepts, `[lo, hi]`; configs must stay inside it.
    pub limits: [f64; 2],
    /// The range used when the config gives none.
    pub default_range: [f64; 2],
    /// The value that leaves the image unchanged.
    pub identity: f64,
    /// The grid step of the reference study's discrete space, if any.
    pub default_step: ROption<f64>,
    /// How far one mutation moves the gene.
    pub mutation_step: f64,
    /// The mutation step when the parent's loss is tiny (the sample already looks robust).
    pub low_loss_mutation_step: f64,
}

/// A gene's default discrete space (the reference study's): range, identity, grid step and
/// mutation steps. Author-side only; it does not cross the boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Space {
    /// Default `[lo, hi]`.
    pub range: [f64; 2],
    /// The value that leaves an image unchanged.
    pub identity: f64,
    /// Default grid step.
    pub step: f64,
    /// Mutation step.
    pub mutation: f64,
    /// Mutation step when the parent's loss is tiny.
    pub low_loss_mutation: f64,
}

impl TransformInfo {
    /// A gene of `kind`, unit `unit`, accepting values within `limits`, with default `space`.
    pub fn new(
        gene: &str,
        unit: &str,
        kind: TransformKind,
        limits: [f64; 2],
        space: Space,
    ) -> Self {
        Self {
            gene: gene.into(),
            unit: unit.into(),
            kind,
            limits,
            default_range: space.range,
            identity: space.identity,
            default_step: Some(space.step).into(),
            mutation_step: space.mutation,
            low_loss_mutation_step: space.low_loss_mutation,
        }
    }
}

/// An owned libtorch tensor crossing the boundary: the raw `C_tensor` pointer and the function
/// that frees it. Ownership moves with the value: whoever holds it last frees it (dropping a
/// handle calls `free`); [`TensorHandle::into_raw`] gives the pointer up without freeing.
/// libtorch is loaded once per process, so the pointer is valid in the host and every plugin,
/// and no pixel is copied. With the `tensor` feature, `tensor` converts to and from
/// `tch::Tensor`.
#[repr(C)]
#[derive(StableAbi)]
pub struct TensorHandle {
    ptr: *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
}

impl TensorHandle {
    /// Wraps a raw tensor pointer and the function that frees it.
    ///
    /// # Safety
    /// `ptr` must be a live `C_tensor*` that the caller owns, and `free` must free it.
    pub unsafe fn from_raw(ptr: *mut c_void, free: unsafe extern "C" fn(*mut c_void)) -> Self {
        Self { ptr, free }
    }

    /// The raw pointer; the handle still owns it.
    pub fn as_ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// Gives up ownership: returns the pointer and its free function without freeing.
    pub fn into_raw(self) -> (*mut c_void, unsafe extern "C" fn(*mut c_void)) {
        let me = std::mem::ManuallyDrop::new(self);
        (me.ptr, me.free)
    }
}

impl Drop for TensorHandle {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: the constructor's contract: `free` frees `ptr`, which we own.
            unsafe { (self.free)(self.ptr) }
        }
    }
}

fn wrong_kind(method: &str, kind: TransformKind) -> PluginError {
    PluginError::new(format!(
        "`{method}` called on a {} transform",
        kind.as_str()
    ))
}

/// A transform, as its author implements it. Implement the method matching
/// [`TransformInfo::kind`]; the others keep their default, which returns an error.
pub trait Transform: Send + Sync + 'static {
    /// The gene's description and limits.
    fn info(&self) -> TransformInfo;

    /// Geometric kind: six floats per value (see the module docs) for an image of this size.
    /// The host checks the answer before use: exactly six per value, every one finite.
    fn matrices(&self, values: &[f64], height: u32, width: u32) -> Result<Vec<f32>, PluginError> {
        let _ = (values, height, width);
        Err(wrong_kind("matrices", self.info().kind))
    }

    /// Photometric kind: `[gain, bias]` per value. The host checks the answer before use: one
    /// pair per value, every gain and bias finite.
    fn gain_bias(&self, values: &[f64]) -> Result<Vec<f32>, PluginError> {
        let _ = values;
        Err(wrong_kind("gain_bias", self.info().kind))
    }

    /// Tensor kind: transforms a float N×C×H×W batch on 0..255, one value and one seed per
    /// image. A random transform must draw image i's randomness from `seeds[i]` alone, never
    /// from the batch's composition or libtorch's global generator: the host rebuilds the image
    /// a sample trains on in another batch than the one that scored it, and relies on the same
    /// (image, value, seed) giving the same pixels.
    ///
    /// The host checks the answer before use: a defined tensor (not a null handle, not
    /// `Tensor::new()`) of the input's shape, `Kind::Float`, on the input's device; it then
    /// detaches it, so an autograd graph built here never reaches the model's gradients.
    ///
    /// Leave libtorch's global state alone: never call `tch::manual_seed` (or the CUDA seed
    /// functions) nor draw from the global generator (`randn_like`, `rand`, `dropout`,
    /// `bernoulli` without a generator of your own). Such draws depend on what ran before, not
    /// on the seeds, so the image trained on would not be the one scored. The host enforces
    /// it: it sets the global generators (the CPU's and the batch's CUDA device's) to a known
    /// seed before this call and checks their next draws after it; a call that drew from or
    /// reseeded them is refused, naming the plugin. Draw from a generator of your own seeded by
    /// `seeds[i]` instead (as the `noise` plugin does).
    fn apply(
        &self,
        images: TensorHandle,
        values: &[f64],
        seeds: &[u64],
    ) -> Result<TensorHandle, PluginError> {
        let _ = (images, values, seeds);
        Err(wrong_kind("apply", self.info().kind))
    }
}

/// The FFI-safe trait object the host holds; built by the SDK around a [`Transform`].
#[sabi_trait]
pub trait AbiTransform: Send + Sync {
    /// See [`Transform::info`].
    fn info(&self) -> RResult<TransformInfo, PluginError>;
    /// See [`Transform::matrices`].
    fn matrices(
        &self,
        values: RSlice<'_, f64>,
        height: u32,
        width: u32,
    ) -> RResult<RVec<f32>, PluginError>;
    /// See [`Transform::gain_bias`].
    fn gain_bias(&self, values: RSlice<'_, f64>) -> RResult<RVec<f32>, PluginError>;
    /// See [`Transform::apply`].
    #[sabi(last_prefix_field)]
    fn apply(
        &self,
        images: TensorHandle,
        values: RSlice<'_, f64>,
        seeds: RSlice<'_, u64>,
    ) -> RResult<TensorHandle, PluginError>;
}

/// A transform object as it crosses the boundary.
pub type TransformObject = AbiTransform_TO<'static, RBox<()>>;

pub(crate) struct Guarded {
    pub(crate) name: String,
    /// Dropped by hand, under [`guard::drop_guarded`]: the host's drop of the boundary object
    /// runs in an `extern "C"` function, where a panic would abort the host.
    pub(crate) inner: std::mem::ManuallyDrop<Box<dyn Transform>>,
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: `inner` is taken once, here, and never touched again.
        let inner = unsafe { std::mem::ManuallyDrop::take(&mut self.inner) };
        guard::drop_guarded(&self.name, inner);
    }
}

impl AbiTransform for Guarded {
    fn info(&self) -> RResult<TransformInfo, PluginError> {
        guard::call(&self.name, "info", || Ok(self.inner.info()))
    }

    fn matrices(
        &self,
        values: RSlice<'_, f64>,
        height: u32,
        width: u32,
    ) -> RResult<RVec<f32>, PluginError> {
        guard::call(&self.name, "matrices", || {
            self.inner
                .matrices(values.as_slice(), height, width)
                .map(RVec::from)
        })
    }

    fn gain_bias(&self, values: RSlice<'_, f64>) -> RResult<RVec<f32>, PluginError> {
        guard::call(&self.name, "gain_bias", || {
            self.inner.gain_bias(values.as_slice()).map(RVec::from)
        })
    }

    fn apply(
        &self,
        images: TensorHandle,
        values: RSlice<'_, f64>,
        seeds: RSlice<'_, u64>,
    ) -> RResult<TensorHandle, PluginError> {
        guard::call(&self.name, "apply", || {
            self.inner
                .apply(images, values.as_slice(), seeds.as_slice())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_fills_every_field_from_the_space() {
        let space = Space {
            range: [-3.0, 3.0],
            identity: 0.0,
            step: 1.0,
            mutation: 1.0,
            low_loss_mutation: 2.0,
        };
        let i = TransformInfo::new(
            "shift",
            "pixels",
            TransformKind::Geometric,
            [-9.0, 9.0],
            space,
        );
        assert_eq!(
            (i.gene.as_str(), i.unit.as_str(), i.kind),
            ("shift", "pixels", TransformKind::Geometric)
        );
        assert_eq!(
            (i.limits, i.default_range, i.identity),
            ([-9.0, 9.0], [-3.0, 3.0], 0.0)
        );
        assert_eq!(
            (
                i.default_step.into_option(),
                i.mutation_step,
                i.low_loss_mutation_step
            ),
            (Some(1.0), 1.0, 2.0)
        );
    }
}
