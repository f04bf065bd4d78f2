//! The three throughputs every epoch is made of, each on the session's own model and data:
//! batched augmentation, scoring (no-grad forward) and the training step.
use super::timing::median_seconds;
use crate::train::{forward_pass_size, Session};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Images per second of each part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Candidates built per second: a batch of random chromosomes over every gene applied to
    /// u8 images (the affine resampling, the fused photometric gain and bias, tensor genes).
    pub augment: f64,
    /// Images per second of a no-grad forward pass in evaluation mode, with per-image fitness
    /// and correctness copied back (what scoring a strategy's candidates costs beyond building
    /// them).
    pub score: f64,
    /// Images per second of a training step: forward, loss, backward, optimiser update.
    pub train: f64,
    /// Variants per second of a robust evaluation: every {lo, identity, hi} chromosome of
    /// the genes built and classified for test images, no early exit.
    pub grid: f64,
}

/// Measures the session's throughputs in `repeats` interleaved rounds after 3 warm-up rounds.
/// Training steps change the session's model.
pub fn measure(session: &mut Session, repeats: usize) -> anyhow::Result<Throughput> {
    let device = session.device;
    let len = session.data.train.len().max(1) as usize;
    let batch = (session.config.train.batch_size as usize).min(len);
    let first = |n: usize| -> Vec<i64> { (0..n as i64).collect() };
    let idx = tch::Tensor::f_from_slice(&first(batch))?.f_to_device(device)?;
    let (pixels, _) = session.data.train.gather(&idx)?;

    let mut rng = ChaCha8Rng::seed_from_u64(session.config.seed);
    let chromosomes: Vec<f64> = (0..batch)
        .flat_map(|_| session.parts.genes.iter().map(|g| (g.spec.lo, g.spec.hi)))
        .map(|(lo, hi)| {
            if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            }
        })
        .collect();
    let identity = session.engine().identity();
    let pass = forward_pass_size(device).min(len);
    let (score_x, score_y) = session.variants(
        &session.data.train,
        &first(pass),
        &[],
        &identity.repeat(pass),
        0,
    )?;
    let (train_x, train_y) = session.variants(
        &session.data.train,
        &first(batch),
        &[],
        &identity.repeat(batch),
        0,
    )?;
    let seeds = vec![0; batch];
    let lr = session.learning_rate(0.0);
    let seconds = median_seconds(device, 3, 3, repeats, |part| match part {
        0 => session
            .engine()
            .apply(&pixels, &chromosomes, &seeds)
            .map(drop),
        1 => session.score_pass(&score_x, &score_y).map(drop),
        _ => {
            session.backward_on(&train_x, &train_y)?;
            session.optimizer.step(lr)
        }
    })?;
    let (augment, score, train) = (seconds[0], seconds[1], seconds[2]);
    // About 2,048 variants per measurement, whatever the grid's size.
    let grid_size = 3usize.pow(session.parts.genes.len() as u32);
    let images = (2048 / grid_size).clamp(1, session.data.test.len().max(1) as usize);
    let mut variants = 0;
    let grid = median_seconds(device, 1, 1, repeats.max(1), |_| {
        variants = crate::eval::full_grid(session, images)?;
        Ok(())
    })?[0];
    Ok(Throughput {
        augment: batch as f64 / augment,
        score: pass as f64 / score,
        train: batch as f64 / train,
        grid: variants as f64 / grid,
    })
}
