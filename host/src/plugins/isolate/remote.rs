//! A plugin object living in an isolated child: the methods of the SDK's object types, each one
//! request and reply. The host's handles call these exactly where they would call the object.
use super::{
    client::Isolated,
    protocol::{Bytes, Request},
};
use abi_stable::std_types::{RResult, RVec};
use fuzzaug_sdk::{
    Chunk, ComponentContext, Counter, DatasetInfo, Fitness, PluginError, Proposal, Split,
    StrategySetup, TransformInfo,
};
use std::sync::Arc;

/// An object in a child process, released there when dropped.
pub struct Remote {
    lib: Arc<Isolated>,
    id: u64,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({}, {})", self.lib.path().display(), self.id)
    }
}

impl Remote {
    fn made(lib: &Arc<Isolated>, request: &Request) -> RResult<Self, PluginError> {
        lib.call::<u64>(request).map(|id| Self {
            lib: Arc::clone(lib),
            id,
        })
    }

    /// Builds dataset `name` in the child.
    pub fn dataset(
        lib: &Arc<Isolated>,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
    ) -> RResult<Self, PluginError> {
        Self::made(
            lib,
            &Request::NewDataset {
                name: name.into(),
                settings: settings.into(),
                ctx: ctx.clone(),
            },
        )
    }

    /// Builds transform `name` in the child (geometric or photometric only).
    pub fn transform(
        lib: &Arc<Isolated>,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
    ) -> RResult<Self, PluginError> {
        Self::made(
            lib,
            &Request::NewTransform {
                name: name.into(),
                settings: settings.into(),
                ctx: ctx.clone(),
            },
        )
    }

    /// Builds strategy `name` in the child.
    pub fn strategy(
        lib: &Arc<Isolated>,
        name: &str,
        settings: &str,
        ctx: &ComponentContext,
        setup: &StrategySetup,
    ) -> RResult<Self, PluginError> {
        Self::made(
            lib,
            &Request::NewStrategy {
                name: name.into(),
                settings: settings.into(),
                ctx: ctx.clone(),
                setup: setup.clone(),
            },
        )
    }

    /// `Dataset::info`.
    pub fn dataset_info(&self) -> RResult<DatasetInfo, PluginError> {
        self.lib.call(&Request::DatasetInfo { id: self.id })
    }

    /// `Dataset::read`.
    pub fn read(&self, split: Split, start: u64, count: u64) -> RResult<Chunk, PluginError> {
        self.lib.call(&Request::Read {
            id: self.id,
            split,
            start,
            count,
        })
    }

    /// `Transform::info`.
    pub fn transform_info(&self) -> RResult<TransformInfo, PluginError> {
        self.lib.call(&Request::TransformInfo { id: self.id })
    }

    /// `Transform::matrices`.
    pub fn matrices(
        &self,
        values: &[f64],
        height: u32,
        width: u32,
    ) -> RResult<RVec<f32>, PluginError> {
        self.lib.call(&Request::Matrices {
            id: self.id,
            values: values.to_vec(),
            height,
            width,
        })
    }

    /// `Transform::gain_bias`.
    pub fn gain_bias(&self, values: &[f64]) -> RResult<RVec<f32>, PluginError> {
        self.lib.call(&Request::GainBias {
            id: self.id,
            values: values.to_vec(),
        })
    }

    /// `Strategy::begin_epoch`.
    pub fn begin_epoch(&self, epoch: u32) -> RResult<(), PluginError> {
        self.lib.call(&Request::BeginEpoch { id: self.id, epoch })
    }

    /// `Strategy::propose`.
    pub fn propose(&self, samples: &[u64]) -> RResult<Proposal, PluginError> {
        self.lib.call(&Request::Propose {
            id: self.id,
            samples: samples.to_vec(),
        })
    }

    /// `Strategy::select`.
    pub fn select(&self, scores: &fuzzaug_sdk::Scores<'_>) -> RResult<RVec<f64>, PluginError> {
        self.lib.call(&Request::Select {
            id: self.id,
            fitness: scores.fitness.to_vec(),
            correct: scores.correct.to_vec(),
            predicted: scores.predicted.to_vec(),
            labels: scores.labels.to_vec(),
        })
    }

    /// `Strategy::take_counters`.
    pub fn take_counters(&self) -> RResult<RVec<Counter>, PluginError> {
        self.lib.call(&Request::TakeCounters { id: self.id })
    }

    /// `Strategy::save_state`.
    pub fn save_state(&self) -> RResult<RVec<u8>, PluginError> {
        self.lib
            .call::<Bytes>(&Request::SaveState { id: self.id })
            .map(|b| b.0.into())
    }

    /// `Strategy::load_state`.
    pub fn load_state(&self, state: &[u8]) -> RResult<(), PluginError> {
        self.lib.call(&Request::LoadState {
            id: self.id,
            state: Bytes(state.to_vec()),
        })
    }

    /// `Strategy::incumbents`.
    pub fn incumbents(&self, samples: &[u64]) -> RResult<RVec<f64>, PluginError> {
        self.lib.call(&Request::Incumbents {
            id: self.id,
            samples: samples.to_vec(),
        })
    }

    /// `Strategy::fitness`.
    pub fn fitness(&self) -> RResult<Fitness, PluginError> {
        self.lib.call(&Request::Fitness { id: self.id })
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        // A dead child has dropped everything already; nothing to report.
        let _ = self.lib.call::<()>(&Request::Release { id: self.id });
    }
}
