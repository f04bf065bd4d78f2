//! `[model] torchscript = "model.pt"`: any PyTorch module exported with `torch.jit.script` or
//! `torch.jit.trace`, trained as tch's trainable `CModule`. Its parameters join the run's var
//! store (under the module's names with `.` written `_`, as tch registers them), so the
//! optimiser, weight decay and gradients treat them like a built-in network's. Buffers (a
//! BatchNorm's running statistics) stay inside the module, which is why a checkpoint of such a
//! run holds the whole module as saved after that epoch ([`Scripted::to_bytes`]) and a resume,
//! an evaluation or an export loads it back from there, not from the file the run started with.
use super::InputSpec;
use anyhow::{ensure, Context};
use std::{path::Path, sync::Mutex};
use tch::{nn, Device, Kind, TrainableCModule};

/// A TorchScript module as a network.
#[derive(Debug)]
pub struct Scripted {
    /// The module, and whether it is in training mode (switched only when a call asks for the
    /// other mode).
    inner: Mutex<(TrainableCModule, bool)>,
    /// Where it came from, for messages.
    origin: String,
}

impl Scripted {
    /// Loads the TorchScript file at `path` with its parameters under `vs`, and checks that it
    /// maps a batch of `spec` images to `[N, classes]` logits.
    pub fn load(path: &Path, vs: &nn::Path, spec: &InputSpec) -> anyhow::Result<Self> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {origin}"))?;
        let not_loadable = |e: tch::TchError| {
            anyhow::anyhow!(
                "{origin} is not a loadable TorchScript module (save one with \
                 `torch.jit.script(model).save(...)`): {}",
                first_line(&e.to_string())
            )
        };
        let module = TrainableCModule::load_data(&mut std::io::Cursor::new(&bytes), vs.clone())
            .map_err(not_loadable)?;
        Self::checked(module, &bytes, origin, vs.device(), spec)
    }

    /// Loads a module from the bytes [`Scripted::to_bytes`] gave, as a checkpoint holds them.
    pub fn from_bytes(
        bytes: &[u8],
        origin: &str,
        vs: &nn::Path,
        spec: &InputSpec,
    ) -> anyhow::Result<Self> {
        let module = TrainableCModule::load_data(&mut std::io::Cursor::new(bytes), vs.clone())
            .map_err(|e| {
                anyhow::anyhow!(
                    "{origin}: the TorchScript module it holds does not load: {}",
                    first_line(&e.to_string())
                )
            })?;
        Self::checked(module, bytes, origin.to_string(), vs.device(), spec)
    }

    /// `module` as a network, once it maps batches of 2 and 3 images of `spec` to logits in
    /// evaluation mode and, on a throwaway copy loaded from the same `bytes` (so that no
    /// BatchNorm statistic moves), in training mode too.
    fn checked(
        module: TrainableCModule,
        bytes: &[u8],
        origin: String,
        device: Device,
        spec: &InputSpec,
    ) -> anyhow::Result<Self> {
        let scratch = nn::VarStore::new(device);
        let copy = TrainableCModule::load_data(&mut std::io::Cursor::new(bytes), scratch.root())
            .map_err(|e| anyhow::anyhow!("{origin}: {}", first_line(&e.to_string())))?;
        let throwaway = Self {
            inner: Mutex::new((copy, false)),
            origin: origin.clone(),
        };
        throwaway.probe(spec, device, true)?;
        let net = Self {
            inner: Mutex::new((module, true)),
            origin,
        };
        net.probe(spec, device, false)?;
        Ok(net)
    }

    /// Checks the logits of batches of 2 and 3 zero images in mode `train`.
    fn probe(&self, spec: &InputSpec, device: Device, train: bool) -> anyhow::Result<()> {
        let net = self;
        let mode = if train { "training" } else { "evaluation" };
        // Two batch sizes, so that a trace which fixed its batch size is refused here rather
        // than failing mid-epoch on a smaller last batch.
        for n in [2, 3] {
            let probe = tch::Tensor::f_zeros(
                [n, spec.channels, spec.height, spec.width],
                (Kind::Float, device),
            )?;
            let out = tch::no_grad(|| net.forward(&probe, train))
                .with_context(|| format!("in {mode} mode"))?;
            ensure!(
                out.size() == [n, spec.classes],
                "{}: the module maps a batch of {n} images of {}×{}×{} to a tensor of shape \
                 {:?} in {mode} mode, but this dataset needs logits of shape [N, classes] = \
                 [{n}, {}]",
                net.origin,
                spec.channels,
                spec.height,
                spec.width,
                out.size(),
                spec.classes
            );
        }
        Ok(())
    }

    /// The forward pass in training or evaluation mode.
    pub fn forward(&self, xs: &tch::Tensor, train: bool) -> anyhow::Result<tch::Tensor> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| anyhow::anyhow!("{}: the module's lock is poisoned", self.origin))?;
        let (module, mode) = &mut *guard;
        if *mode != train {
            if train {
                module.f_set_train()?;
            } else {
                module.f_set_eval()?;
            }
            *mode = train;
        }
        module.forward_ts(&[xs]).map_err(|e| {
            anyhow::anyhow!(
                "{}: the module's forward fails: {}",
                self.origin,
                first_line(&e.to_string())
            )
        })
    }

    /// The module with its current parameters and buffers, as a TorchScript archive.
    pub fn to_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let guard = self
            .inner
            .lock()
            .map_err(|_| anyhow::anyhow!("{}: the module's lock is poisoned", self.origin))?;
        // libtorch names the archive's root folder after the file, so it gets a plain name.
        let dir = tempfile::tempdir().context("a temporary folder for the module")?;
        let path = dir.path().join("model.pt");
        guard
            .0
            .save(&path)
            .with_context(|| format!("{}: saving the module", self.origin))?;
        std::fs::read(&path).context("reading the saved module")
    }
}

/// The first line of a libtorch message (the rest is its C++ backtrace).
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

impl nn::ModuleT for Scripted {
    fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
        // ModuleT cannot return an error; the module was checked on a batch when it loaded, so a
        // failure here is a shape or device error of the caller, as with a built-in network.
        match self.forward(xs, train) {
            Ok(t) => t,
            Err(e) => panic!("{e:#}"),
        }
    }
}

/// A shared handle, so the session can run the network and the checkpointer save its module.
#[derive(Debug, Clone)]
pub struct Shared(pub std::sync::Arc<Scripted>);

impl nn::ModuleT for Shared {
    fn forward_t(&self, xs: &tch::Tensor, train: bool) -> tch::Tensor {
        self.0.forward_t(xs, train)
    }
}
