//! SGD (momentum, Nesterov, L2 weight decay) and AdamW, written on tensors the host owns so
//! that every buffer is saved in checkpoints and a resumed run continues bit for bit. The
//! update rules are PyTorch's `torch.optim.SGD` and `torch.optim.AdamW`.
use crate::config::{OptimizerConfig, WeightDecayOn};
use anyhow::{bail, Context};
use std::collections::HashMap;
use tch::{nn::VarStore, Tensor};

/// Whether the variable `name` takes weight decay under `on`: every variable, or only the
/// kernels of convolutions and linear layers (`…weight` with two or more dimensions; batch-norm
/// weights and every bias are one-dimensional).
fn decays(on: WeightDecayOn, name: &str, t: &Tensor) -> bool {
    match on {
        WeightDecayOn::All => true,
        WeightDecayOn::Weights => name.ends_with("weight") && t.dim() >= 2,
    }
}

/// An optimiser over the trainable variables of a var store.
pub struct Optimizer {
    config: OptimizerConfig,
    /// (name, parameter), sorted by name.
    params: Vec<(String, Tensor)>,
    /// Whether weight decay applies to `params[i]`.
    decays: Vec<bool>,
    /// Per-parameter buffers by `kind/name` (`momentum`, `exp_avg`, `exp_avg_sq`).
    state: HashMap<String, Tensor>,
    steps: i64,
}

impl Optimizer {
    /// An optimiser for every trainable variable of `vs`, decaying those `decay_on` names.
    pub fn new(config: &OptimizerConfig, vs: &VarStore, decay_on: WeightDecayOn) -> Self {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let decays = params
            .iter()
            .map(|(name, t)| decays(decay_on, name, t))
            .collect();
        Self {
            config: config.clone(),
            params,
            decays,
            state: HashMap::new(),
            steps: 0,
        }
    }

    /// The base learning rate of the config.
    pub fn base_lr(&self) -> f64 {
        match self.config {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adamw { lr, .. } => lr,
        }
    }

    /// Clears every gradient.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) -> anyhow::Result<()> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        for ((name, p), &decays) in self.params.iter_mut().zip(&self.decays) {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            match self.config {
                OptimizerConfig::Sgd {
                    momentum,
                    nesterov,
                    weight_decay,
                    ..
                } => {
                    let weight_decay = if decays { weight_decay } else { 0.0 };
                    let mut d = if weight_decay != 0.0 {
                        g.f_add(&p.f_mul_scalar(weight_decay)?)?
                    } else {
                        g
                    };
                    if momentum != 0.0 {
                        let key = format!("momentum/{name}");
                        let buf = match self.state.get_mut(&key) {
                            Some(buf) => {
                                let _ = buf.f_mul_scalar_(momentum)?.f_add_(&d)?;
                                buf.shallow_clone()
                            }
                            None => {
                                let buf = d.f_detach_copy()?;
                                self.state.insert(key, buf.shallow_clone());
                                buf
                            }
                        };
                        d = if nesterov {
                            d.f_add(&buf.f_mul_scalar(momentum)?)?
                        } else {
                            buf
                        };
                    }
                    let _ = p.f_sub_(&d.f_mul_scalar(lr)?)?;
                }
                OptimizerConfig::Adamw {
                    weight_decay,
                    betas: [b1, b2],
                    eps,
                    ..
                } => {
                    if decays {
                        let _ = p.f_mul_scalar_(1.0 - lr * weight_decay)?;
                    }
                    let m = self
                        .state
                        .entry(format!("exp_avg/{name}"))
                        .or_insert_with(|| g.zeros_like());
                    let _ = m.f_mul_scalar_(b1)?.f_add_(&g.f_mul_scalar(1.0 - b1)?)?;
                    let m = m.shallow_clone();
                    let v = self
                        .state
                        .entry(format!("exp_avg_sq/{name}"))
                        .or_insert_with(|| g.zeros_like());
                    let _ = v
                        .f_mul_scalar_(b2)?
                        .f_add_(&g.f_mul(&g)?.f_mul_scalar(1.0 - b2)?)?;
                    let t = self.steps as i32;
                    let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                    let denom = v.f_div_scalar(c2)?.f_sqrt()?.f_add_scalar(eps)?;
                    let _ = p.f_sub_(&m.f_div(&denom)?.f_mul_scalar(lr / c1)?)?;
                }
            }
        }
        Ok(())
    }

    /// Every buffer, named for a checkpoint (`optim/<kind>/<param>`), plus the step count.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .state
            .iter()
            .map(|(k, t)| (format!("optim/{k}"), t.shallow_clone()))
            .collect();
        out.push(("optim/steps".into(), Tensor::from_slice(&[self.steps])));
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Restores what [`Optimizer::state_tensors`] saved.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>) -> anyhow::Result<()> {
        let steps = tensors
            .get("optim/steps")
            .context("the checkpoint has no optimiser step count")?;
        self.steps = steps.f_int64_value(&[0])?;
        self.state.clear();
        for (k, t) in tensors {
            if let Some(key) = k.strip_prefix("optim/").filter(|k| *k != "steps") {
                let param = key.split_once('/').map(|(_, p)| p).unwrap_or("");
                let Some((_, p)) = self.params.iter().find(|(n, _)| n == param) else {
                    bail!("the checkpoint's optimiser state names `{param}`, which this model does not have");
                };
                let buf = t.f_to_device(p.device())?;
                self.state.insert(key.to_string(), buf);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, Device, Kind};

    /// One parameter p = [1, -2], loss = Σ p², so grad = 2p.
    fn run(config: OptimizerConfig, steps: usize, lr: f64) -> Vec<f64> {
        let vs = VarStore::new(Device::Cpu);
        let p = vs.root().var_copy(
            "p",
            &Tensor::from_slice(&[1.0f64, -2.0]).to_kind(Kind::Float),
        );
        let mut opt = Optimizer::new(&config, &vs, WeightDecayOn::All);
        for _ in 0..steps {
            opt.zero_grad();
            (&p * &p).sum(Kind::Float).backward();
            opt.step(lr).unwrap();
        }
        Vec::<f64>::try_from(p.to_kind(Kind::Double)).unwrap()
    }

    #[test]
    fn sgd_nesterov_matches_pytorch() {
        // torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), 3 steps:
        // computed by hand with PyTorch's rule: d = g + wd p; b = m b + d; d = d + m b; p -= lr d.
        let mut p = [1.0f64, -2.0];
        let mut b = [0.0f64; 2];
        for step in 0..3 {
            for i in 0..2 {
                let d = 2.0 * p[i] + 0.01 * p[i];
                b[i] = if step == 0 { d } else { 0.9 * b[i] + d };
                p[i] -= 0.1 * (d + 0.9 * b[i]);
            }
        }
        let got = run(
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.01,
            },
            3,
            0.1,
        );
        for i in 0..2 {
            assert!((got[i] - p[i]).abs() < 1e-5, "{got:?} vs {p:?}");
        }
    }

    #[test]
    fn adamw_first_step_moves_by_lr() {
        // Adam's first bias-corrected step is lr · sign(g) (plus decoupled decay).
        let got = run(
            OptimizerConfig::Adamw {
                lr: 0.1,
                weight_decay: 0.0,
                betas: [0.9, 0.999],
                eps: 1e-8,
            },
            1,
            0.1,
        );
        assert!(
            (got[0] - 0.9).abs() < 1e-5 && (got[1] + 1.9).abs() < 1e-5,
            "{got:?}"
        );
    }

    #[test]
    fn weight_decay_on_weights_spares_biases_and_batch_norm() {
        // With no gradient but decay (loss 0·Σp), SGD moves a decayed p by −lr·wd·p only.
        let vs = VarStore::new(Device::Cpu);
        let root = vs.root();
        let kernel = (&root / "conv").var("weight", &[2, 2], nn::Init::Const(1.0));
        let bn = (&root / "bn").var("weight", &[2], nn::Init::Const(1.0));
        let bias = (&root / "conv").var("bias", &[2], nn::Init::Const(1.0));
        let cfg = OptimizerConfig::Sgd {
            lr: 0.5,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.1,
        };
        for (on, expected) in [
            (WeightDecayOn::All, [0.95, 0.95, 0.95]),
            (WeightDecayOn::Weights, [0.95, 1.0, 1.0]),
        ] {
            for t in [&kernel, &bn, &bias] {
                tch::no_grad(|| {
                    let _ = t.shallow_clone().fill_(1.0);
                });
            }
            let mut opt = Optimizer::new(&cfg, &vs, on);
            opt.zero_grad();
            ((&kernel.sum(Kind::Float) + bn.sum(Kind::Float) + bias.sum(Kind::Float)) * 0.0)
                .backward();
            opt.step(0.5).unwrap();
            let got: Vec<f64> = [&kernel, &bn, &bias]
                .iter()
                .map(|t| t.mean(Kind::Double).double_value(&[]))
                .collect();
            for (g, e) in got.iter().zip(expected) {
                assert!((g - e).abs() < 1e-6, "{on:?}: {got:?} vs {expected:?}");
            }
        }
    }

    #[test]
    fn state_round_trips() {
        let vs = VarStore::new(Device::Cpu);
        let p = vs.root().var("w", &[3], nn::Init::Const(1.0));
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
        };
        let mut a = Optimizer::new(&cfg, &vs, WeightDecayOn::All);
        (&p * 2.0).sum(Kind::Float).backward();
        a.step(0.1).unwrap();
        let saved: HashMap<String, Tensor> = a.state_tensors().into_iter().collect();
        let mut b = Optimizer::new(&cfg, &vs, WeightDecayOn::All);
        b.load_state(&saved).unwrap();
        assert_eq!(b.steps, 1);
        assert_eq!(b.state.len(), 1);
        let bad: HashMap<String, Tensor> = [
            ("optim/steps".to_string(), Tensor::from_slice(&[1i64])),
            (
                "optim/momentum/zzz".to_string(),
                Tensor::from_slice(&[1.0f32]),
            ),
        ]
        .into_iter()
        .collect();
        let e = b.load_state(&bad).unwrap_err().to_string();
        assert_eq!(
            e,
            "the checkpoint's optimiser state names `zzz`, which this model does not have"
        );
    }
}
