//! Host-side handles on plugin objects: each call's `PluginError` becomes a [`CallError`] that
//! names the library and the method, so a failing or panicking plugin is reported, not fatal;
//! and each answer the host goes on to use is checked first ([`super::answers`]), a refusal
//! being a [`BadAnswer`] that names the plugin, the method and the offending value.
use super::{
    answers::{self, AnswerError, BadAnswer, GeneRange},
    objects::{DatasetObj, StrategyObj, TransformObj},
};
use abi_stable::std_types::RResult;
use fuzzaug_sdk::{
    Chunk, ComponentKind, Counter, DatasetInfo, Fitness, PluginError, Proposal, Split,
    TensorHandle, TransformInfo,
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

/// `answer` when `check` finds nothing wrong with it, else the refusal of `method`'s answer.
fn checked<T>(
    kind: ComponentKind,
    origin: &Origin,
    method: &'static str,
    answer: T,
    check: impl FnOnce(&T) -> Result<(), String>,
) -> Result<T, AnswerError> {
    match check(&answer) {
        Ok(()) => Ok(answer),
        Err(problem) => Err(BadAnswer::new(kind, origin, method, problem).into()),
    }
}

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
    pub(crate) obj: DatasetObj,
    /// Where it comes from.
    pub origin: Origin,
}

impl DatasetHandle {
    /// Metadata and split sizes.
    pub fn info(&self) -> Result<DatasetInfo, CallError> {
        call(&self.origin, "info", self.obj.info())
    }

    /// Images `start .. start + count` of `split`, as the plugin answered: unchecked. The host
    /// reads through [`DatasetHandle::read_checked`].
    pub fn read(&mut self, split: Split, start: u64, count: u64) -> Result<Chunk, CallError> {
        call(&self.origin, "read", self.obj.read(split, start, count))
    }

    /// Images `start .. start + count` of `split`, checked against `info` (what the dataset
    /// said of itself): `count` images of its size, `count` labels below its class count.
    pub fn read_checked(
        &mut self,
        info: &DatasetInfo,
        split: Split,
        start: u64,
        count: u64,
    ) -> Result<Chunk, AnswerError> {
        let chunk = self.read(split, start, count)?;
        checked(ComponentKind::Dataset, &self.origin, "read", chunk, |c| {
            answers::chunk(c, info, split, start, count)
        })
    }
}

/// A transform component instance.
pub struct TransformHandle {
    pub(crate) obj: TransformObj,
    /// Where it comes from.
    pub origin: Origin,
}

impl TransformHandle {
    /// The gene's description and limits.
    pub fn info(&self) -> Result<TransformInfo, CallError> {
        call(&self.origin, "info", self.obj.info())
    }

    /// Geometric kind: six floats per value, checked (six per value, all finite).
    pub fn matrices(
        &self,
        values: &[f64],
        height: u32,
        width: u32,
    ) -> Result<Vec<f32>, AnswerError> {
        let m = call(
            &self.origin,
            "matrices",
            self.obj.matrices(values, height, width),
        )?
        .into_vec();
        checked(ComponentKind::Transform, &self.origin, "matrices", m, |m| {
            answers::matrices(m, values.len())
        })
    }

    /// Photometric kind: gain and bias per value, checked (a pair per value, all finite).
    pub fn gain_bias(&self, values: &[f64]) -> Result<Vec<f32>, AnswerError> {
        let gb = call(&self.origin, "gain_bias", self.obj.gain_bias(values))?.into_vec();
        checked(
            ComponentKind::Transform,
            &self.origin,
            "gain_bias",
            gb,
            |gb| answers::gain_bias(gb, values.len()),
        )
    }

    /// Tensor kind: transforms a float N×C×H×W batch on 0..255, one value and one seed per image.
    /// The answer is checked (a tensor, defined, of the batch's shape, Float, on its device) and
    /// detached from any autograd graph the plugin built; a call that drew from or reseeded
    /// libtorch's global generator is refused.
    pub fn apply(
        &self,
        images: tch::Tensor,
        values: &[f64],
        seeds: &[u64],
    ) -> Result<tch::Tensor, AnswerError> {
        let (size, device) = (images.size(), images.device());
        let refuse = |problem: String| -> AnswerError {
            BadAnswer::new(ComponentKind::Transform, &self.origin, "apply", problem).into()
        };
        let unreadable =
            |e: tch::TchError| refuse(format!("libtorch's global generator unreadable ({e})"));
        let handle = TensorHandle::from_tensor(images);
        let watch = crate::global_rng::Watch::start(device).map_err(unreadable)?;
        let out = call(&self.origin, "apply", self.obj.apply(handle, values, seeds))?;
        if !watch.untouched().map_err(unreadable)? {
            // Dropping `out` frees whatever it holds.
            return Err(refuse(
                "libtorch's global random generator moved: the plugin drew from it or reseeded \
                 it (a tensor transform must draw image i's randomness from seeds[i] alone)"
                    .into(),
            ));
        }
        if out.as_ptr().is_null() {
            // Dropping a null handle frees nothing.
            return Err(refuse("a null tensor pointer".into()));
        }
        let out = out.into_tensor();
        // An undefined tensor has no shape, kind nor device to ask for (tch would panic).
        if !out.defined() {
            return Err(refuse("an undefined tensor".into()));
        }
        let kind = out
            .f_kind()
            .map_err(|e| refuse(format!("a tensor of unknown element type ({e})")))?;
        answers::tensor((&out.size(), kind, out.device()), (&size, device)).map_err(refuse)?;
        out.f_detach()
            .map_err(|e| refuse(format!("a tensor that cannot be detached ({e})")))
    }
}

/// A strategy component instance.
pub struct StrategyHandle {
    pub(crate) obj: StrategyObj,
    /// Where it comes from.
    pub origin: Origin,
}

impl StrategyHandle {
    /// Start of an epoch.
    pub fn begin_epoch(&mut self, epoch: u32) -> Result<(), CallError> {
        call(&self.origin, "begin_epoch", self.obj.begin_epoch(epoch))
    }

    /// Candidates for a batch over `genes` (the genes the strategy was built for), checked:
    /// one count per sample, none without genes, at most
    /// [`answers::MAX_CANDIDATES_PER_BATCH`] in all, every gene value finite and in its range.
    pub fn propose<G: GeneRange>(
        &mut self,
        samples: &[u64],
        genes: &[G],
    ) -> Result<Proposal, AnswerError> {
        let p = call(&self.origin, "propose", self.obj.propose(samples))?;
        checked(ComponentKind::Strategy, &self.origin, "propose", p, |p| {
            answers::proposal(p, samples.len(), genes)
        })
    }

    /// The chromosome each sample of the batch (one per label of `scores`) trains on, checked
    /// against `genes`: one chromosome per sample, every value finite and in its range.
    pub fn select<G: GeneRange>(
        &mut self,
        scores: &fuzzaug_sdk::Scores<'_>,
        genes: &[G],
    ) -> Result<Vec<f64>, AnswerError> {
        let r = self.obj.select(scores);
        let chosen = call(&self.origin, "select", r)?.into_vec();
        checked(
            ComponentKind::Strategy,
            &self.origin,
            "select",
            chosen,
            |c| answers::per_sample(c, scores.labels.len(), genes),
        )
    }

    /// Per-epoch statistics, checked: named apart from the metrics columns and from each
    /// other, finite.
    pub fn take_counters(&mut self) -> Result<Vec<Counter>, AnswerError> {
        let list = call(&self.origin, "take_counters", self.obj.take_counters())?.into_vec();
        checked(
            ComponentKind::Strategy,
            &self.origin,
            "take_counters",
            list,
            |l| answers::counters(l),
        )
    }

    /// The search state, for a checkpoint.
    pub fn save_state(&self) -> Result<Vec<u8>, CallError> {
        call(&self.origin, "save_state", self.obj.save_state()).map(|v| v.into_vec())
    }

    /// Restores a saved search state.
    pub fn load_state(&mut self, state: &[u8]) -> Result<(), CallError> {
        call(&self.origin, "load_state", self.obj.load_state(state))
    }

    /// Current worst chromosome per sample, checked against `genes`: one per sample, every
    /// value finite and in its range.
    pub fn incumbents<G: GeneRange>(
        &self,
        samples: &[u64],
        genes: &[G],
    ) -> Result<Vec<f64>, AnswerError> {
        let held = call(&self.origin, "incumbents", self.obj.incumbents(samples))?.into_vec();
        checked(
            ComponentKind::Strategy,
            &self.origin,
            "incumbents",
            held,
            |h| answers::per_sample(h, samples.len(), genes),
        )
    }

    /// The fitness the strategy wants computed.
    pub fn fitness(&self) -> Result<Fitness, CallError> {
        call(&self.origin, "fitness", self.obj.fitness())
    }
}
