//! The training engine: a [`Session`] holds everything a run needs on the device (data, model,
//! optimiser, random stream, components) and trains it epoch by epoch.
mod epoch;
pub mod evaluate;
pub mod fitness;
pub mod optim;
pub mod precision;
pub mod robust;
pub mod schedule;

pub use epoch::{EpochStats, NonFinite, Stopped};
pub use evaluate::{evaluate, Accuracy};
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

/// Rows a no-grad pass of `n` images runs with on `device`; the rows past `n` are padding.
///
/// cuDNN's benchmark mode (on for CUDA) tunes every new input shape anew, about a quarter of a
/// second per shape for `resnet18` on an H200. Selective augmentation makes the candidate count
/// change from batch to batch, and with exact shapes a sensei epoch took 10 s instead of 0.8 s
/// until most counts had been seen. On CUDA passes are therefore rounded up to a ladder of four
/// sizes per octave (2^k · {1, 1.25, 1.5, 1.75}; at most 25% padding), so only a few shapes are
/// ever tuned. CPU passes keep their exact size: nothing is tuned there.
pub fn padded_pass_rows(device: Device, n: usize) -> usize {
    match device {
        Device::Cpu => n,
        _ => pass_ladder(n),
    }
}

/// The smallest size of the form 2^k · {1, 1.25, 1.5, 1.75} that holds `n` (`n` itself up to 8).
fn pass_ladder(n: usize) -> usize {
    if n <= 8 {
        return n;
    }
    let step = 1usize << (n.ilog2() - 2);
    n.div_ceil(step) * step
}

/// Resolves `auto`, `cpu`, `cuda` or `cuda:N`.
pub fn device(spec: &str) -> anyhow::Result<Device> {
    Ok(match spec {
        "cpu" => Device::Cpu,
        "auto" => Device::cuda_if_available(),
        "cuda" | "cuda:0" if tch::Cuda::is_available() => Device::Cuda(0),
        s => match s.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n < tch::Cuda::device_count() as usize => Device::Cuda(n),
            _ if !tch::Cuda::is_available() => anyhow::bail!("device `{s}`: CUDA is not available on this machine (`fuzzaug --version` tells what libtorch sees); use device = \"cpu\" or \"auto\""),
            _ => anyhow::bail!("device `{s}`: this machine has {} CUDA device(s)", tch::Cuda::device_count()),
        },
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
    /// The optimiser.
    pub optimizer: optim::Optimizer,
    /// The run's random stream (shuffling, flips, seeds of tensor transforms).
    pub rng: ChaCha8Rng,
    /// Where the tensors live.
    pub device: Device,
    /// The fitness the strategy asked for.
    pub fitness: fuzzaug_sdk::Fitness,
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
        tch::manual_seed(config.seed as i64);
        let vs = nn::VarStore::new(device);
        let spec = InputSpec {
            channels: i64::from(info.channels),
            height: i64::from(info.height),
            width: i64::from(info.width),
            classes: info.classes.len() as i64,
        };
        let mut model = models::build(&config.model.arch, &vs.root(), &spec)?;
        if config.train.channels_last {
            models::layout::convert_variables(&vs)?;
            model = Box::new(models::layout::ChannelsLast(model));
        }
        if let Device::Cuda(_) = device {
            // Lets cuDNN time its algorithms once per input shape and keep the fastest.
            tch::Cuda::cudnn_set_benchmark(true);
        }
        let optimizer = optim::Optimizer::new(&config.train.optimizer, &vs);
        let fitness = parts.strategy.fitness()?;
        Ok(Self {
            config: config.clone(),
            parts,
            data,
            vs,
            model,
            optimizer,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            device,
            fitness,
        })
    }

    /// The augmentation engine over the run's genes.
    pub fn engine(&self) -> Engine<'_> {
        Engine::new(
            &self.parts.genes,
            self.parts.dataset_info.height,
            self.parts.dataset_info.width,
        )
    }

    /// The model's normalised inputs and the labels for images `owners[i]` of `split`, each
    /// under chromosome i: the batch every no-grad pass (scoring, robust evaluation) feeds.
    pub fn variants(
        &self,
        split: &crate::data::Images,
        owners: &[i64],
        chromosomes: &[f64],
    ) -> anyhow::Result<(tch::Tensor, tch::Tensor)> {
        let idx = tch::Tensor::f_from_slice(owners)?.f_to_device(self.device)?;
        let (pixels, labels) = split.gather(&idx)?;
        let x = self
            .data
            .normalizer
            .apply(&self.engine().apply(&pixels, chromosomes, 0)?)?;
        Ok((x, labels))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_passes_round_up_to_a_short_ladder_and_cpu_passes_stay_exact() {
        assert_eq!(pass_ladder(128), 128);
        assert_eq!(pass_ladder(129), 160);
        assert_eq!(pass_ladder(1000), 1024);
        assert_eq!(pass_ladder(1280), 1280);
        assert_eq!(pass_ladder(4096), 4096);
        assert_eq!(pass_ladder(5), 5);
        let mut sizes = std::collections::BTreeSet::new();
        for n in 1..=4096 {
            let p = padded_pass_rows(Device::Cuda(0), n);
            assert!(p >= n && 4 * p <= 5 * n + 3, "{n} -> {p}");
            assert_eq!(padded_pass_rows(Device::Cpu, n), n);
            sizes.insert(p);
        }
        // Every candidate count of a batch of 128 with population 10 (128 to 1,280): 14 shapes.
        let batch: std::collections::BTreeSet<_> = (128..=1280).map(pass_ladder).collect();
        assert_eq!(batch.len(), 14, "{batch:?}");
        assert!(sizes.len() <= 8 + 4 * 10, "{}", sizes.len());
    }

    /// What makes the padding safe: in eval mode (batch-norm on running statistics) a row's
    /// output does not depend on the other rows of the pass, zero rows included.
    #[test]
    fn eval_mode_rows_do_not_see_the_padding() {
        for arch in ["small-cnn", "resnet18"] {
            let vs = nn::VarStore::new(Device::Cpu);
            let spec = InputSpec {
                channels: 3,
                height: 32,
                width: 32,
                classes: 10,
            };
            let model = models::build(arch, &vs.root(), &spec).unwrap();
            let x = tch::Tensor::randn([5, 3, 32, 32], (tch::Kind::Float, Device::Cpu));
            let exact = model.forward_t(&x, false);
            let padded = model
                .forward_t(&x.constant_pad_nd([0, 0, 0, 0, 0, 0, 0, 3]), false)
                .narrow(0, 0, 5);
            assert!(exact.allclose(&padded, 1e-5, 1e-5, false), "{arch}");
        }
    }
}
