//! Wall-clock medians of device work: the device is synchronised around every timed call, so
//! queued CUDA kernels are counted where they run.
use std::time::Instant;
use tch::Device;

/// Waits for the device's queued work (a no-op on CPU).
pub fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Median seconds of each of `parts` measurements: `f(i)` runs measurement i once. They run in
/// `repeats` interleaved rounds (0, 1, …, 0, 1, …) after `warmup` untimed rounds, so that a slow
/// spell of a shared machine slows them all alike and their ratios stay fair.
pub fn median_seconds(
    device: Device,
    parts: usize,
    warmup: usize,
    repeats: usize,
    mut f: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    for _ in 0..warmup {
        for i in 0..parts {
            f(i)?;
        }
    }
    synchronize(device);
    let mut times = vec![Vec::with_capacity(repeats); parts];
    for _ in 0..repeats.max(1) {
        for (i, t) in times.iter_mut().enumerate() {
            let start = Instant::now();
            f(i)?;
            synchronize(device);
            t.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(times.iter().map(|t| median(t)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn warmup_calls_are_not_timed_and_errors_stop() {
        let mut calls = Vec::new();
        let s = median_seconds(Device::Cpu, 2, 1, 3, |i| {
            calls.push(i);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, [0, 1, 0, 1, 0, 1, 0, 1]);
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|&t| t >= 0.0));
        let err = median_seconds(Device::Cpu, 1, 0, 3, |_| anyhow::bail!("boom")).unwrap_err();
        assert_eq!(err.to_string(), "boom");
    }
}
