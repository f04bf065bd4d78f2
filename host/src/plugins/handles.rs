//! Host-side handles on plugin objects: each call's `PluginError` becomes a [`CallError`] that
//! names the library and the method, so a failing or panicking plugin is reported, not fatal.
use abi_stable::std_types::{RResult, RSlice};
use fuzzaug_sdk::{
    dataset::DatasetObject, strategy::StrategyObject, transform::TransformObject, Chunk, Counter,
    DatasetInfo, Fitness, PluginError, Proposal, Split, TensorHandle, TransformInfo,
};
use std::{fmt, path::PathBuf};

/// Where a plugin object comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The component's name.
    pub component: String,
    /// The library file.
    pub library: PathBuf,
}

/// A plugin call that failed or panicked.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    /// The component and its library.
    pub origin: Box<Origin>,
    /// The method called.
    pub method: &'static str,
    /// What the plugin returned.
    pub error: Box<PluginError>,
}

impl CallError {
    /// An error of `method` of the component at `origin`.
    pub fn new(origin: &Origin, method: &'static str, error: PluginError) -> Self {
        Self {
            origin: Box::new(origin.clone()),
            method,
            error: Box::new(error),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lib = self.origin.library.display();
        if self.error.panicked {
            // The SDK's message already names the component and the method.
            write!(f, "plugin {lib}: {}", self.error.message)
        } else {
            write!(
                f,
                "`{}` ({lib}) failed in `{}`: {}",
                self.origin.component, self.method, self.error
            )
        }
    }
}

impl std::error::Error for CallError {}

fn call<T>(
    origin: &Origin,
    method: &'static str,
    r: RResult<T, PluginError>,
) -> Result<T, CallError> {
    r.into_result()
        .map_err(|error| CallError::new(origin, method, error))
}

/// A dataset component instance.
pub struct DatasetHandle {
    pub(crate) obj: DatasetObject,
    /// Where it comes from.
    pub origin: Origin,
}

impl DatasetHandle {
    /// Metadata and split sizes.
    pub fn info(&self) -> Result<DatasetInfo, CallError> {
        call(&self.origin, "info", self.obj.info())
    }

    /// Images `start .. start + count` of `split`.
    pub fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, CallError> {
        call(&self.origin, "read", self.obj.read(split, start, count))
    }
}

/// A transform component instance.
pub struct TransformHandle {
    pub(crate) obj: TransformObject,
    /// Where it comes from.
    pub origin: Origin,
}

impl TransformHandle {
    /// The gene's description and limits.
    pub fn info(&self) -> Result<TransformInfo, CallError> {
        call(&self.origin, "info", self.obj.info())
    }

    /// Geometric kind: six floats per value.
    pub fn matrices(&self, values: &[f64], height: u32, width: u32) -> Result<Vec<f32>, CallError> {
        call(
            &self.origin,
            "matrices",
            self.obj.matrices(RSlice::from_slice(values), height, width),
        )
        .map(|v| v.into_vec())
    }

    /// Photometric kind: gain and bias per value.
    pub fn gain_bias(&self, values: &[f64]) -> Result<Vec<f32>, CallError> {
        call(
            &self.origin,
            "gain_bias",
            self.obj.gain_bias(RSlice::from_slice(values)),
        )
        .map(|v| v.into_vec())
    }

    /// Tensor kind: transforms a float N×C×H×W batch on 0..255, one value and one seed per image.
    pub fn apply(
        &self,
        images: tch::Tensor,
        values: &[f64],
        seeds: &[u64],
    ) -> Result<tch::Tensor, CallError> {
        let handle = TensorHandle::from_tensor(images);
        call(
            &self.origin,
            "apply",
            self.obj.apply(
                handle,
                RSlice::from_slice(values),
                RSlice::from_slice(seeds),
            ),
        )
        .map(TensorHandle::into_tensor)
    }
}

/// A strategy component instance.
pub struct StrategyHandle {
    pub(crate) obj: StrategyObject,
    /// Where it comes from.
    pub origin: Origin,
}

impl StrategyHandle {
    /// Start of an epoch.
    pub fn begin_epoch(&mut self, epoch: u32) -> Result<(), CallError> {
        call(&self.origin, "begin_epoch", self.obj.begin_epoch(epoch))
    }

    /// Candidates for a batch.
    pub fn propose(&mut self, samples: &[u64]) -> Result<Proposal, CallError> {
        call(
            &self.origin,
            "propose",
            self.obj.propose(RSlice::from_slice(samples)),
        )
    }

    /// The chromosome each sample trains on.
    pub fn select(&mut self, scores: &fuzzaug_sdk::Scores<'_>) -> Result<Vec<f64>, CallError> {
        let r = self.obj.select(
            RSlice::from_slice(scores.fitness),
            RSlice::from_slice(scores.correct),
            RSlice::from_slice(scores.predicted),
            RSlice::from_slice(scores.labels),
        );
        call(&self.origin, "select", r).map(|v| v.into_vec())
    }

    /// Per-epoch statistics.
    pub fn take_counters(&mut self) -> Result<Vec<Counter>, CallError> {
        call(&self.origin, "take_counters", self.obj.take_counters()).map(|v| v.into_vec())
    }

    /// The search state, for a checkpoint.
    pub fn save_state(&self) -> Result<Vec<u8>, CallError> {
        call(&self.origin, "save_state", self.obj.save_state()).map(|v| v.into_vec())
    }

    /// Restores a saved search state.
    pub fn load_state(&mut self, state: &[u8]) -> Result<(), CallError> {
        call(
            &self.origin,
            "load_state",
            self.obj.load_state(RSlice::from_slice(state)),
        )
    }

    /// Current worst chromosome per sample.
    pub fn incumbents(&self, samples: &[u64]) -> Result<Vec<f64>, CallError> {
        call(
            &self.origin,
            "incumbents",
            self.obj.incumbents(RSlice::from_slice(samples)),
        )
        .map(|v| v.into_vec())
    }

    /// The fitness the strategy wants computed.
    pub fn fitness(&self) -> Result<Fitness, CallError> {
        call(&self.origin, "fitness", self.obj.fitness())
    }
}
