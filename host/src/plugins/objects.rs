//! A plugin object wherever it lives: in fuzzaug's own process (the SDK's trait object) or in an
//! isolated child ([`Remote`]). Each method is the SDK method of the same name; the handles
//! call these and never care which it is.
use super::isolate::remote::Remote;
use abi_stable::std_types::{RResult, RSlice, RVec};
use fuzzaug_sdk::{
    dataset::DatasetObject, strategy::StrategyObject, transform::TransformObject, Chunk, Counter,
    DatasetInfo, Fitness, PluginError, Proposal, Scores, Split, TensorHandle, TransformInfo,
};

/// A dataset object.
pub enum DatasetObj {
    /// In this process.
    Local(DatasetObject),
    /// In an isolated child.
    Remote(Remote),
}

impl DatasetObj {
    pub(crate) fn info(&self) -> RResult<DatasetInfo, PluginError> {
        match self {
            Self::Local(o) => o.info(),
            Self::Remote(r) => r.dataset_info(),
        }
    }

    pub(crate) fn read(
        &mut self,
        split: Split,
        start: u64,
        count: u64,
    ) -> RResult<Chunk, PluginError> {
        match self {
            Self::Local(o) => o.read(split, start, count),
            Self::Remote(r) => r.read(split, start, count),
        }
    }
}

/// A transform object.
pub enum TransformObj {
    /// In this process.
    Local(TransformObject),
    /// In an isolated child (never of the tensor kind: the child refuses to build one).
    Remote(Remote),
}

impl TransformObj {
    pub(crate) fn info(&self) -> RResult<TransformInfo, PluginError> {
        match self {
            Self::Local(o) => o.info(),
            Self::Remote(r) => r.transform_info(),
        }
    }

    pub(crate) fn matrices(
        &self,
        values: &[f64],
        height: u32,
        width: u32,
    ) -> RResult<RVec<f32>, PluginError> {
        match self {
            Self::Local(o) => o.matrices(RSlice::from_slice(values), height, width),
            Self::Remote(r) => r.matrices(values, height, width),
        }
    }

    pub(crate) fn gain_bias(&self, values: &[f64]) -> RResult<RVec<f32>, PluginError> {
        match self {
            Self::Local(o) => o.gain_bias(RSlice::from_slice(values)),
            Self::Remote(r) => r.gain_bias(values),
        }
    }

    pub(crate) fn apply(
        &self,
        images: TensorHandle,
        values: &[f64],
        seeds: &[u64],
    ) -> RResult<TensorHandle, PluginError> {
        match self {
            Self::Local(o) => o.apply(
                images,
                RSlice::from_slice(values),
                RSlice::from_slice(seeds),
            ),
            Self::Remote(_) => RResult::RErr(PluginError::new(
                "bug: a tensor-kind transform cannot run isolated, yet one was asked to `apply`",
            )),
        }
    }
}

/// A strategy object.
pub enum StrategyObj {
    /// In this process.
    Local(StrategyObject),
    /// In an isolated child.
    Remote(Remote),
}

impl StrategyObj {
    pub(crate) fn begin_epoch(&mut self, epoch: u32) -> RResult<(), PluginError> {
        match self {
            Self::Local(o) => o.begin_epoch(epoch),
            Self::Remote(r) => r.begin_epoch(epoch),
        }
    }

    pub(crate) fn propose(&mut self, samples: &[u64]) -> RResult<Proposal, PluginError> {
        match self {
            Self::Local(o) => o.propose(RSlice::from_slice(samples)),
            Self::Remote(r) => r.propose(samples),
        }
    }

    pub(crate) fn select(&mut self, scores: &Scores<'_>) -> RResult<RVec<f64>, PluginError> {
        match self {
            Self::Local(o) => o.select(
                RSlice::from_slice(scores.fitness),
                RSlice::from_slice(scores.correct),
                RSlice::from_slice(scores.predicted),
                RSlice::from_slice(scores.labels),
            ),
            Self::Remote(r) => r.select(scores),
        }
    }

    pub(crate) fn take_counters(&mut self) -> RResult<RVec<Counter>, PluginError> {
        match self {
            Self::Local(o) => o.take_counters(),
            Self::Remote(r) => r.take_counters(),
        }
    }

    pub(crate) fn save_state(&self) -> RResult<RVec<u8>, PluginError> {
        match self {
            Self::Local(o) => o.save_state(),
            Self::Remote(r) => r.save_state(),
        }
    }

    pub(crate) fn load_state(&mut self, state: &[u8]) -> RResult<(), PluginError> {
        match self {
            Self::Local(o) => o.load_state(RSlice::from_slice(state)),
            Self::Remote(r) => r.load_state(state),
        }
    }

    pub(crate) fn incumbents(&self, samples: &[u64]) -> RResult<RVec<f64>, PluginError> {
        match self {
            Self::Local(o) => o.incumbents(RSlice::from_slice(samples)),
            Self::Remote(r) => r.incumbents(samples),
        }
    }

    pub(crate) fn fitness(&self) -> RResult<Fitness, PluginError> {
        match self {
            Self::Local(o) => o.fitness(),
            Self::Remote(r) => r.fitness(),
        }
    }
}
