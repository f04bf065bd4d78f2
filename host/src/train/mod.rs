//! The training engine: a [`Session`] holds everything a run needs on the device (data, model,
//! optimiser, random stream, components) and trains it epoch by epoch.
mod epoch;
pub mod evaluate;
pub mod fitness;
mod observer;
pub mod optim;
pub mod precision;
pub mod robust;
pub mod schedule;

pub use epoch::{EpochStats, NonFinite, Scored, Stopped};
pub use evaluate::{evaluate, Accuracy};
pub use observer::Observer;
pub use robust::Robust;

use crate::{
    augment::Engine,
    config::Config,
    data::DeviceData,
    models::{self, InputSpec},
    setup::Components,
};
use anyhow::Context;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device};

/// Images per no-grad forward pass (scoring, evaluation). A GPU wants large passes; on a CPU
/// large batches fall out of cache: `small-cnn` scoring on a 2-core EPYC ran at 2,710 images/s
/// in passes of 128 against 1,387 in passes of 512 (README, "Performance").
pub fn forward_pass_size(device: Device) -> usize {
    match device {
        Device::Cpu => 128,
        _ => 4096,
    }
}

/// Runs `f` (a scoring pass) with cuDNN's benchmark mode off on CUDA, and turns it back on.
///
/// Benchmark mode times every algorithm for each new input shape and keeps the fastest. Training
/// batches have one shape, so that pays; scoring passes do not: selective augmentation changes
/// the candidate count from batch to batch, and in a `resnet18` sensei run on an H200 tuning the
/// new counts made epochs take up to 12.4 s instead of 0.8 s. With cuDNN's heuristics instead, the same 12-epoch
/// run (bf16, 5,000 stripes images) took 8.7 s over epochs 2 to 12 against 13.2 s with passes
/// padded to a few tuned sizes, and the run without selective augmentation scored as fast as
/// with tuned algorithms (8.8 s against 8.6 s): README, "What each strategy costs".
pub fn untuned<T>(device: Device, f: impl FnOnce() -> T) -> T {
    let cuda = device != Device::Cpu;
    if cuda {
        tch::Cuda::cudnn_set_benchmark(false);
    }
    let out = f();
    if cuda {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    out
}

/// Resolves a `device` value ([`crate::config::parse_device`]) on this machine.
pub fn device(spec: &str) -> anyhow::Result<Device> {
    use crate::config::DeviceSpec;
    let parsed = crate::config::parse_device(spec).map_err(anyhow::Error::msg)?;
    let count = || tch::Cuda::device_count() as usize;
    Ok(match parsed {
        DeviceSpec::Cpu => Device::Cpu,
        DeviceSpec::Auto => Device::cuda_if_available(),
        DeviceSpec::Cuda(n) if tch::Cuda::is_available() && n < count() => Device::Cuda(n),
        DeviceSpec::Cuda(_) if !tch::Cuda::is_available() => anyhow::bail!("device `{spec}`: CUDA is not available on this machine (`fuzzaug --version` tells what libtorch sees); use device = \"cpu\" or \"auto\""),
        DeviceSpec::Cuda(_) => anyhow::bail!("device `{spec}`: this machine has {} CUDA device(s)", count()),
    })
}

/// The checks of a config that need the machine (the device), done before any work:
/// returns the device to train on.
pub fn preflight(config: &Config) -> anyhow::Result<Device> {
    device(&config.device)
}

impl Session {
    /// Whether forward passes run under bf16 autocast.
    pub fn bf16(&self) -> bool {
        self.config.train.precision == crate::config::Precision::Bf16
    }
}

/// Everything a run trains with.
pub struct Session {
    /// The run's config.
    pub config: Config,
    /// Dataset, genes and strategy.
    pub parts: Components,
    /// The dataset on the device.
    pub data: DeviceData,
    /// The model's variables (parameters and batch-norm statistics).
    pub vs: nn::VarStore,
    /// The model.
    pub model: Box<dyn nn::ModuleT>,
    /// The TorchScript module the model is, with `[model] torchscript`.
    pub scripted: Option<std::sync::Arc<models::scripted::Scripted>>,
    /// The optimiser.
    pub optimizer: optim::Optimizer,
    /// The run's random stream (shuffling, flips, seeds of tensor transforms).
    pub rng: ChaCha8Rng,
    /// Where the tensors live.
    pub device: Device,
    /// The fitness the strategy asked for.
    pub fitness: fuzzaug_sdk::Fitness,
    /// Whether training images are mirrored (the config's `hflip`, else the dataset's answer).
    pub hflip: bool,
    /// The training labels on the host, for the strategy's [`fuzzaug_sdk::Scores`].
    pub train_labels: Vec<u32>,
    /// Sees every batch fed to the model (tests, debugging); none in a normal run.
    pub observer: std::cell::RefCell<Option<Box<dyn Observer>>>,
}

impl Session {
    /// Loads the data onto the device and builds the model and optimiser, all seeded by
    /// `config.seed`.
    pub fn new(config: &Config, mut parts: Components) -> anyhow::Result<Self> {
        let device = preflight(config)?;
        let info = parts.dataset_info.clone();
        let (mean, std) = parts.normalization.clone();
        let data = DeviceData::load(&mut parts.dataset, &info, &mean, &std, device)
            .context("loading the dataset")?;
        let vs = nn::VarStore::new(device);
        let spec = InputSpec::of(&info);
        let network = crate::global_rng::seeded(config.seed, || {
            models::network(
                &config.model.arch,
                parts.model_file.as_deref(),
                &vs.root(),
                &spec,
            )
        })?;
        let mut model = network.module;
        // A TorchScript module keeps the layout it was saved with.
        if config.train.channels_last && network.scripted.is_none() {
            models::layout::convert_variables(&vs)?;
            model = Box::new(models::layout::ChannelsLast(model));
        }
        if let Device::Cuda(_) = device {
            // Lets cuDNN time its algorithms once per input shape and keep the fastest.
            tch::Cuda::cudnn_set_benchmark(true);
        }
        let optimizer =
            optim::Optimizer::new(&config.train.optimizer, &vs, config.train.weight_decay_on);
        let fitness = parts.strategy.fitness()?;
        let hflip = config.train.hflip_for(info.mirror_preserves_labels);
        let train_labels = Vec::<i64>::try_from(data.train.labels.f_to_device(Device::Cpu)?)?
            .into_iter()
            .map(|l| l as u32)
            .collect();
        Ok(Self {
            config: config.clone(),
            parts,
            data,
            vs,
            model,
            scripted: network.scripted,
            optimizer,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            device,
            fitness,
            hflip,
            train_labels,
            observer: std::cell::RefCell::new(None),
        })
    }

    /// The shape of the network's input and output.
    pub fn input_spec(&self) -> InputSpec {
        InputSpec::of(&self.parts.dataset_info)
    }

    /// Replaces the TorchScript network with the module `bytes` hold (a checkpoint's: its
    /// buffers live in the module, not in the var store), with a fresh var store and optimiser
    /// over its parameters; the caller restores their values and the optimiser's state.
    pub fn install_scripted(&mut self, bytes: &[u8], origin: &str) -> anyhow::Result<()> {
        let vs = nn::VarStore::new(self.device);
        let s =
            models::scripted::Scripted::from_bytes(bytes, origin, &vs.root(), &self.input_spec())?;
        let network = models::Network::scripted(s);
        self.optimizer = optim::Optimizer::new(
            &self.config.train.optimizer,
            &vs,
            self.config.train.weight_decay_on,
        );
        self.model = network.module;
        self.scripted = network.scripted;
        self.vs = vs;
        Ok(())
    }

    /// The augmentation engine over the run's genes.
    pub fn engine(&self) -> Engine<'_> {
        Engine::of_run(&self.parts, &self.config.train)
    }

    /// The model's normalised inputs and the labels for images `owners[i]` of `split`, each
    /// mirrored where `flips[i]` (no flips when `flips` is empty), then under chromosome i with
    /// the tensor-kind seed of (`context`, owner, chromosome). The one builder of every batch the
    /// model sees (scoring, training, robust evaluation): a variant is a pure function of
    /// (image, flip, chromosome, context), whatever batch it is built in, so the image a sample
    /// trains on is the one that was scored for its chosen chromosome.
    pub fn variants(
        &self,
        split: &crate::data::Images,
        owners: &[i64],
        flips: &[bool],
        chromosomes: &[f64],
        context: u64,
    ) -> anyhow::Result<(tch::Tensor, tch::Tensor)> {
        let (pixels, labels) = self.variant_pixels(split, owners, flips, chromosomes, context)?;
        Ok((self.data.normalizer.apply(&pixels)?, labels))
    }

    /// [`Session::variants`] before normalisation: float pixels on the 0..255 scale (what a
    /// picture of the variant shows) and the labels.
    pub fn variant_pixels(
        &self,
        split: &crate::data::Images,
        owners: &[i64],
        flips: &[bool],
        chromosomes: &[f64],
        context: u64,
    ) -> anyhow::Result<(tch::Tensor, tch::Tensor)> {
        let idx = tch::Tensor::f_from_slice(owners)?.f_to_device(self.device)?;
        let (mut pixels, labels) = split.gather(&idx)?;
        if flips.iter().any(|&f| f) {
            anyhow::ensure!(
                flips.len() == owners.len(),
                "{} flips for {} images",
                flips.len(),
                owners.len()
            );
            let mask = tch::Tensor::f_from_slice(flips)?
                .f_view([-1, 1, 1, 1])?
                .f_to_device(self.device)?;
            pixels = pixels.f_flip([3])?.f_where_self(&mask, &pixels)?;
        }
        let engine = self.engine();
        let seeds = crate::augment::seeds::variants(
            self.config.seed,
            context,
            owners,
            chromosomes,
            engine.genes(),
        );
        Ok((engine.apply(&pixels, chromosomes, &seeds)?, labels))
    }

    /// The learning rate `progress` epochs into training.
    pub fn learning_rate(&self, progress: f64) -> f64 {
        schedule::learning_rate(
            &self.config.train.schedule,
            self.optimizer.base_lr(),
            progress,
            self.config.train.epochs,
        )
    }

    /// Standard accuracy on the test split.
    pub fn evaluate(&self) -> anyhow::Result<Accuracy> {
        evaluate(
            self.model.as_ref(),
            &self.data.test,
            &self.data.normalizer,
            self.parts.dataset_info.classes.len(),
            self.device,
        )
    }
}
