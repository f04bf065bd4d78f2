//! Grid points of a gene and the grid's chromosomes.

/// `points` values of a gene over [lo, hi], identity included: evenly spaced over the range
/// when the identity is one end of it; otherwise an odd count, (points − 1)/2 evenly spaced
/// values on each side of the identity (so 3 is {lo, identity, hi}, and a symmetric range is
/// evenly spaced throughout).
pub fn axis(lo: f64, identity: f64, hi: f64, points: u32) -> Result<Vec<f64>, String> {
    if points < 2 {
        return Err(format!("`points` must be at least 2, got {points}"));
    }
    let n = f64::from(points - 1);
    if (identity - lo).abs() < 1e-12 || (identity - hi).abs() < 1e-12 {
        return Ok((0..points)
            .map(|i| lo + (hi - lo) * f64::from(i) / n)
            .collect());
    }
    if points.is_multiple_of(2) {
        return Err(format!(
            "{points} points over [{lo}, {hi}] would miss the identity {identity}; use an odd number"
        ));
    }
    let side = (points - 1) / 2;
    let below = (0..side).map(|i| lo + (identity - lo) * f64::from(i) / f64::from(side));
    let above = (0..=side).map(|i| identity + (hi - identity) * f64::from(i) / f64::from(side));
    Ok(below.chain(above).collect())
}

/// Every combination of one value per axis, flat (chromosome after chromosome), the first
/// axis varying slowest.
pub fn chromosomes(axes: &[Vec<f64>]) -> Vec<f64> {
    let mut out: Vec<Vec<f64>> = vec![Vec::new()];
    for axis in axes {
        out = out
            .into_iter()
            .flat_map(|c| {
                axis.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(*v);
                    c
                })
            })
            .collect();
    }
    out.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_hold_the_identity_and_span_the_range() {
        assert_eq!(axis(-30.0, 0.0, 30.0, 3).unwrap(), vec![-30.0, 0.0, 30.0]);
        let a = axis(-30.0, 0.0, 30.0, 31).unwrap();
        assert_eq!(
            (a.len(), a[0], a[15], a[30], a[16]),
            (31, -30.0, 0.0, 30.0, 2.0)
        );
        assert_eq!(
            axis(-3.0, 0.0, 3.0, 5).unwrap(),
            vec![-3.0, -1.5, 0.0, 1.5, 3.0]
        );
        // Asymmetric: evenly spaced on each side.
        assert_eq!(
            axis(0.9, 1.0, 1.2, 5).unwrap(),
            vec![0.9, 0.95, 1.0, 1.1, 1.2]
        );
        // Identity at an end: any count.
        assert_eq!(axis(0.0, 0.0, 1.0, 4).unwrap().len(), 4);
        assert_eq!(
            axis(-3.0, 0.0, 3.0, 4).unwrap_err(),
            "4 points over [-3, 3] would miss the identity 0; use an odd number"
        );
        assert_eq!(
            axis(-3.0, 0.0, 3.0, 1).unwrap_err(),
            "`points` must be at least 2, got 1"
        );
    }

    #[test]
    fn the_grid_is_every_combination() {
        let g = chromosomes(&[vec![1.0, 2.0], vec![10.0, 20.0, 30.0]]);
        assert_eq!(g.len(), 12);
        assert_eq!(&g[..4], &[1.0, 10.0, 1.0, 20.0]);
        assert_eq!(&g[10..], &[2.0, 30.0]);
    }
}
