//! The messages between fuzzaug and the child process that hosts an isolated plugin library.
//!
//! Version [`VERSION`]: the child first sends a [`Ready`] frame (its version, and the library it
//! loaded or why it could not); then each [`Request`] frame from the host gets one reply frame,
//! a tag (0 = the call's value follows, 1 = a [`PluginError`] follows) and the value.
use super::wire::{Decoder, Encoder, Wire, WireError};
use abi_stable::std_types::{ROption, RString, RVec};
use fuzzaug_sdk::{
    BuildFingerprint, Chunk, ComponentContext, ComponentInfo, ComponentKind, Counter, DatasetInfo,
    Fitness, GeneSpec, Param, PluginError, Proposal, Split, StrategySetup, TransformInfo,
    TransformKind,
};

/// The protocol version both sides speak; the child is the same executable as the host, and
/// the handshake proves it.
pub const VERSION: u32 = 1;

/// What the child sends first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    /// The child's [`VERSION`].
    pub version: u32,
    /// The library it loaded, or why it refused it (the loader's message).
    pub library: Result<Loaded, String>,
}

/// A library the child loaded and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// What it was built against.
    pub fingerprint: BuildFingerprint,
    /// Its components.
    pub components: Vec<ComponentInfo>,
}

/// A call from the host. Objects live in the child and are named by the id their `New*` call
/// returned; every other variant is the SDK object method of the same name, its fields that
/// method's arguments.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Builds a dataset; answers its id.
    NewDataset {
        name: String,
        settings: String,
        ctx: ComponentContext,
    },
    /// Builds a transform; answers its id.
    NewTransform {
        name: String,
        settings: String,
        ctx: ComponentContext,
    },
    /// Builds a strategy; answers its id.
    NewStrategy {
        name: String,
        settings: String,
        ctx: ComponentContext,
        setup: StrategySetup,
    },
    /// Drops an object.
    Release {
        id: u64,
    },
    DatasetInfo {
        id: u64,
    },
    Read {
        id: u64,
        split: Split,
        start: u64,
        count: u64,
    },
    TransformInfo {
        id: u64,
    },
    Matrices {
        id: u64,
        values: Vec<f64>,
        height: u32,
        width: u32,
    },
    GainBias {
        id: u64,
        values: Vec<f64>,
    },
    BeginEpoch {
        id: u64,
        epoch: u32,
    },
    Propose {
        id: u64,
        samples: Vec<u64>,
    },
    Select {
        id: u64,
        fitness: Vec<f32>,
        correct: Vec<bool>,
        predicted: Vec<u32>,
        labels: Vec<u32>,
    },
    TakeCounters {
        id: u64,
    },
    SaveState {
        id: u64,
    },
    LoadState {
        id: u64,
        state: Bytes,
    },
    Incumbents {
        id: u64,
        samples: Vec<u64>,
    },
    Fitness {
        id: u64,
    },
}

impl Request {
    /// The plugin method the request calls, as messages name it.
    pub fn method(&self) -> &'static str {
        match self {
            Self::NewDataset { .. } | Self::NewTransform { .. } | Self::NewStrategy { .. } => "new",
            Self::Release { .. } => "drop",
            Self::DatasetInfo { .. } | Self::TransformInfo { .. } => "info",
            Self::Read { .. } => "read",
            Self::Matrices { .. } => "matrices",
            Self::GainBias { .. } => "gain_bias",
            Self::BeginEpoch { .. } => "begin_epoch",
            Self::Propose { .. } => "propose",
            Self::Select { .. } => "select",
            Self::TakeCounters { .. } => "take_counters",
            Self::SaveState { .. } => "save_state",
            Self::LoadState { .. } => "load_state",
            Self::Incumbents { .. } => "incumbents",
            Self::Fitness { .. } => "fitness",
        }
    }
}

/// Bytes copied whole rather than element by element (pixels, saved states).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Wire for Bytes {
    fn put(&self, e: &mut Encoder) {
        e.put(&(self.0.len() as u64));
        e.put_raw(&self.0);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let n = d.get::<u64>()?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        Ok(Self(d.take_raw(n, "bytes")?.to_vec()))
    }
    const MIN_SIZE: usize = 8;
}

impl Wire for () {
    fn put(&self, _: &mut Encoder) {}
    fn get(_: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(())
    }
    const MIN_SIZE: usize = 0;
}

impl Wire for RString {
    fn put(&self, e: &mut Encoder) {
        e.put(&self.to_string());
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(d.get::<String>()?.into())
    }
    const MIN_SIZE: usize = 8;
}

impl<T: Wire + Clone> Wire for RVec<T> {
    fn put(&self, e: &mut Encoder) {
        e.put(&self.to_vec());
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(d.get::<Vec<T>>()?.into())
    }
    const MIN_SIZE: usize = 8;
}

impl<T: Wire + Clone> Wire for ROption<T> {
    fn put(&self, e: &mut Encoder) {
        e.put(&self.clone().into_option());
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(d.get::<Option<T>>()?.into())
    }
}

impl<const N: usize> Wire for [f64; N] {
    fn put(&self, e: &mut Encoder) {
        for v in self {
            e.put(v);
        }
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let mut a = [0.0; N];
        for v in &mut a {
            *v = d.get()?;
        }
        Ok(a)
    }
    const MIN_SIZE: usize = 8 * N;
}

/// `Wire` for a struct, field by field in declaration order.
macro_rules! wire_struct {
    ($($t:ty { $($f:ident),* })*) => {$(
        impl Wire for $t {
            fn put(&self, e: &mut Encoder) {
                $(e.put(&self.$f);)*
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
                Ok(Self { $($f: d.get()?,)* })
            }
        }
    )*};
}

wire_struct! {
    Loaded { sha256, fingerprint, components }
    BuildFingerprint { sdk, abi_stable, tch, libtorch, cxx11_abi, target }
    ComponentInfo { kind, name, summary, params }
    Param { name, ty, default, doc }
    PluginError { message, key, panicked }
    ComponentContext { seed, config_dir }
    GeneSpec { name, lo, hi, identity, step, mutation_step, low_loss_mutation_step }
    StrategySetup { genes, num_samples, num_classes }
    DatasetInfo {
        classes, channels, height, width, mean, std, train_len, test_len, mirror_preserves_labels
    }
    TransformInfo {
        gene, unit, kind, limits, default_range, identity, default_step, mutation_step,
        low_loss_mutation_step
    }
    Proposal { counts, genes }
    Counter { name, value }
}

/// `Wire` for a field-less enum, by its position in `$v`.
macro_rules! wire_enum {
    ($($t:ident [$($v:ident),*])*) => {$(
        impl Wire for $t {
            fn put(&self, e: &mut Encoder) {
                let all = [$($t::$v),*];
                let tag = all.iter().position(|v| v == self).unwrap_or(0) as u8;
                e.put(&tag);
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
                let all = [$($t::$v),*];
                let tag: u8 = d.get()?;
                all.get(usize::from(tag)).copied().ok_or(WireError::Tag {
                    what: stringify!($t),
                    tag,
                })
            }
        }
    )*};
}

wire_enum! {
    ComponentKind [Dataset, Transform, Strategy]
    TransformKind [Geometric, Photometric, Tensor]
    Split [Train, Test]
    Fitness [CrossEntropy, BceSum]
}

impl Wire for Chunk {
    fn put(&self, e: &mut Encoder) {
        e.put(&(self.pixels.len() as u64));
        e.put_raw(&self.pixels);
        e.put(&self.labels);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let Bytes(pixels) = d.get()?;
        Ok(Self {
            pixels: pixels.into(),
            labels: d.get()?,
        })
    }
}

impl Wire for Ready {
    fn put(&self, e: &mut Encoder) {
        e.put(&self.version);
        match &self.library {
            Ok(l) => e.put(&0u8).put(l),
            Err(m) => e.put(&1u8).put(m),
        };
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let version = d.get()?;
        let library = match d.get::<u8>()? {
            0 => Ok(d.get()?),
            1 => Err(d.get()?),
            tag => return Err(WireError::Tag { what: "ready", tag }),
        };
        Ok(Self { version, library })
    }
}

/// Encodes a reply: the call's value, or the plugin's error.
pub fn reply<T: Wire>(r: &Result<T, PluginError>) -> Vec<u8> {
    let mut e = Encoder::default();
    match r {
        Ok(v) => e.put(&0u8).put(v),
        Err(err) => e.put(&1u8).put(err),
    };
    e.into_bytes()
}

/// Decodes a reply frame holding a `T`.
pub fn read_reply<T: Wire>(frame: &[u8]) -> Result<Result<T, PluginError>, WireError> {
    let mut d = Decoder::new(frame);
    let r = match d.get::<u8>()? {
        0 => Ok(d.get()?),
        1 => Err(d.get()?),
        tag => return Err(WireError::Tag { what: "reply", tag }),
    };
    d.finish()?;
    Ok(r)
}

impl Wire for Request {
    fn put(&self, e: &mut Encoder) {
        match self {
            Self::NewDataset {
                name,
                settings,
                ctx,
            } => e.put(&0u8).put(name).put(settings).put(ctx),
            Self::NewTransform {
                name,
                settings,
                ctx,
            } => e.put(&1u8).put(name).put(settings).put(ctx),
            Self::NewStrategy {
                name,
                settings,
                ctx,
                setup,
            } => e.put(&2u8).put(name).put(settings).put(ctx).put(setup),
            Self::Release { id } => e.put(&3u8).put(id),
            Self::DatasetInfo { id } => e.put(&4u8).put(id),
            Self::Read {
                id,
                split,
                start,
                count,
            } => e.put(&5u8).put(id).put(split).put(start).put(count),
            Self::TransformInfo { id } => e.put(&6u8).put(id),
            Self::Matrices {
                id,
                values,
                height,
                width,
            } => e.put(&7u8).put(id).put(values).put(height).put(width),
            Self::GainBias { id, values } => e.put(&8u8).put(id).put(values),
            Self::BeginEpoch { id, epoch } => e.put(&9u8).put(id).put(epoch),
            Self::Propose { id, samples } => e.put(&10u8).put(id).put(samples),
            Self::Select {
                id,
                fitness,
                correct,
                predicted,
                labels,
            } => e
                .put(&11u8)
                .put(id)
                .put(fitness)
                .put(correct)
                .put(predicted)
                .put(labels),
            Self::TakeCounters { id } => e.put(&12u8).put(id),
            Self::SaveState { id } => e.put(&13u8).put(id),
            Self::LoadState { id, state } => e.put(&14u8).put(id).put(state),
            Self::Incumbents { id, samples } => e.put(&15u8).put(id).put(samples),
            Self::Fitness { id } => e.put(&16u8).put(id),
        };
    }

    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(match d.get::<u8>()? {
            0 => Self::NewDataset {
                name: d.get()?,
                settings: d.get()?,
                ctx: d.get()?,
            },
            1 => Self::NewTransform {
                name: d.get()?,
                settings: d.get()?,
                ctx: d.get()?,
            },
            2 => Self::NewStrategy {
                name: d.get()?,
                settings: d.get()?,
                ctx: d.get()?,
                setup: d.get()?,
            },
            3 => Self::Release { id: d.get()? },
            4 => Self::DatasetInfo { id: d.get()? },
            5 => Self::Read {
                id: d.get()?,
                split: d.get()?,
                start: d.get()?,
                count: d.get()?,
            },
            6 => Self::TransformInfo { id: d.get()? },
            7 => Self::Matrices {
                id: d.get()?,
                values: d.get()?,
                height: d.get()?,
                width: d.get()?,
            },
            8 => Self::GainBias {
                id: d.get()?,
                values: d.get()?,
            },
            9 => Self::BeginEpoch {
                id: d.get()?,
                epoch: d.get()?,
            },
            10 => Self::Propose {
                id: d.get()?,
                samples: d.get()?,
            },
            11 => Self::Select {
                id: d.get()?,
                fitness: d.get()?,
                correct: d.get()?,
                predicted: d.get()?,
                labels: d.get()?,
            },
            12 => Self::TakeCounters { id: d.get()? },
            13 => Self::SaveState { id: d.get()? },
            14 => Self::LoadState {
                id: d.get()?,
                state: d.get()?,
            },
            15 => Self::Incumbents {
                id: d.get()?,
                samples: d.get()?,
            },
            16 => Self::Fitness { id: d.get()? },
            tag => {
                return Err(WireError::Tag {
                    what: "request",
                    tag,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::isolate::wire::tests::round;

    fn ctx() -> ComponentContext {
        ComponentContext {
            seed: 7,
            config_dir: "/cfg".into(),
        }
    }

    #[test]
    fn every_request_round_trips() {
        let setup = StrategySetup {
            genes: vec![GeneSpec {
                name: "rotation".into(),
                lo: -30.0,
                hi: 30.0,
                identity: 0.0,
                step: ROption::RSome(1.0),
                mutation_step: 6.0,
                low_loss_mutation_step: 12.0,
            }]
            .into(),
            num_samples: 100,
            num_classes: 10,
        };
        let all = [
            Request::NewDataset {
                name: "shapes".into(),
                settings: "size = 16\n".into(),
                ctx: ctx(),
            },
            Request::NewTransform {
                name: "rotation".into(),
                settings: String::new(),
                ctx: ctx(),
            },
            Request::NewStrategy {
                name: "sensei".into(),
                settings: "population = 4\n".into(),
                ctx: ctx(),
                setup,
            },
            Request::Release { id: 3 },
            Request::DatasetInfo { id: 1 },
            Request::Read {
                id: 1,
                split: Split::Test,
                start: 5,
                count: 9,
            },
            Request::TransformInfo { id: 2 },
            Request::Matrices {
                id: 2,
                values: vec![1.0, -2.5],
                height: 32,
                width: 30,
            },
            Request::GainBias {
                id: 2,
                values: vec![0.5],
            },
            Request::BeginEpoch { id: 4, epoch: 11 },
            Request::Propose {
                id: 4,
                samples: vec![1, 2, 3],
            },
            Request::Select {
                id: 4,
                fitness: vec![0.5, f32::NAN],
                correct: vec![true, false],
                predicted: vec![3, 4],
                labels: vec![3],
            },
            Request::TakeCounters { id: 4 },
            Request::SaveState { id: 4 },
            Request::LoadState {
                id: 4,
                state: Bytes(vec![1, 2, 3]),
            },
            Request::Incumbents {
                id: 4,
                samples: vec![9],
            },
            Request::Fitness { id: 4 },
        ];
        for r in all {
            let mut e = Encoder::default();
            e.put(&r);
            let bytes = e.into_bytes();
            let back: Request = Decoder::new(&bytes).get().unwrap();
            // NaN != NaN: compare the encodings.
            let mut e2 = Encoder::default();
            e2.put(&back);
            assert_eq!(e2.into_bytes(), bytes, "{}", r.method());
        }
        assert_eq!(
            Decoder::new(&[99])
                .get::<Request>()
                .unwrap_err()
                .to_string(),
            "unknown request tag 99"
        );
    }

    #[test]
    fn answers_round_trip() {
        round(DatasetInfo {
            classes: fuzzaug_sdk::dataset::classes(["a", "b"]),
            channels: 3,
            height: 2,
            width: 4,
            mean: vec![0.5, 0.4, 0.3].into(),
            std: vec![0.2; 3].into(),
            train_len: 10,
            test_len: 4,
            mirror_preserves_labels: true,
        });
        round(Chunk {
            pixels: vec![0, 255, 7].into(),
            labels: vec![1].into(),
        });
        round(Proposal {
            counts: vec![2, 0].into(),
            genes: vec![1.0, 2.0].into(),
        });
        round(vec![Counter {
            name: "skipped_robust".into(),
            value: 3.0,
        }]);
        round(Fitness::BceSum);
        round(Ready {
            version: VERSION,
            library: Err("no such file".into()),
        });
        round(Ready {
            version: VERSION,
            library: Ok(Loaded {
                sha256: "ab".into(),
                fingerprint: BuildFingerprint::current(),
                components: vec![ComponentInfo {
                    kind: ComponentKind::Strategy,
                    name: "x".into(),
                    summary: "y".into(),
                    params: vec![Param::optional(
                        "k",
                        fuzzaug_sdk::ParamType::Integer,
                        "3",
                        "doc",
                    )]
                    .into(),
                }],
            }),
        });
        let ok = reply::<u64>(&Ok(5));
        assert_eq!(read_reply::<u64>(&ok).unwrap(), Ok(5));
        let err = reply::<u64>(&Err(PluginError::config("k", "bad")));
        assert_eq!(
            read_reply::<u64>(&err).unwrap(),
            Err(PluginError::config("k", "bad"))
        );
        assert_eq!(
            read_reply::<u64>(&[2]).unwrap_err().to_string(),
            "unknown reply tag 2"
        );
        assert_eq!(
            Decoder::new(&[3]).get::<Split>().unwrap_err().to_string(),
            "unknown Split tag 3"
        );
    }
}
