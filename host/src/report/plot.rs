//! Line charts with plotters (PNG or SVG by file extension), with an embedded font so that
//! they render the same on any machine.
use anyhow::{anyhow, Context};
use plotters::prelude::*;
use std::{path::Path, sync::Once};

/// One line of a chart.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// Axis labels and title of a chart.
pub struct Labels<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// X axis label, with its unit.
    pub x: &'a str,
    /// Y axis label, with its unit.
    pub y: &'a str,
}

/// Registers the embedded font as `sans-serif` (once).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans (see assets/DejaVuSans.LICENSE): the bitmap backend needs a font and a
        // bare machine may have none.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        );
    });
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// A tick label without a trailing `.0` (epochs read 1, 2, 3, not 1.0, 2.0, 3.0).
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The legend's place: of six candidate boxes (about a third of the plot's height and width in
/// its corners and at mid-height), the one the lines cross least, sampled along each segment.
fn legend_corner(
    series: &[Series],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    let (w, h) = (x1 - x0, y1 - y0);
    let (right, left) = ((x1 - 0.38 * w, x1), (x0, x0 + 0.38 * w));
    let (top, mid, low) = (
        (y1 - 0.32 * h, y1),
        (y0 + 0.34 * h, y1 - 0.34 * h),
        (y0, y0 + 0.32 * h),
    );
    let candidates = [
        (UpperRight, right, top),
        (LowerRight, right, low),
        (MiddleRight, right, mid),
        (UpperLeft, left, top),
        (LowerLeft, left, low),
        (MiddleLeft, left, mid),
    ];
    let samples: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| {
            s.points.windows(2).flat_map(|p| {
                (0..=20).map(move |i| {
                    let t = f64::from(i) / 20.0;
                    (
                        p[0].0 + t * (p[1].0 - p[0].0),
                        p[0].1 + t * (p[1].1 - p[0].1),
                    )
                })
            })
        })
        .chain(series.iter().flat_map(|s| s.points.iter().copied()))
        .collect();
    let inside = |(xa, xb): (f64, f64), (ya, yb): (f64, f64)| {
        samples
            .iter()
            .filter(|(x, y)| (xa..=xb).contains(x) && (ya..=yb).contains(y))
            .count()
    };
    candidates
        .into_iter()
        .min_by_key(|(_, xs, ys)| inside(*xs, *ys))
        .map_or(UpperRight, |c| c.0)
}

/// Draws `series` into `path` (`.png` or `.svg`), written whole or not at all
/// ([`crate::atomic`]).
pub fn line_chart(path: &Path, labels: &Labels<'_>, series: &[Series]) -> anyhow::Result<()> {
    register_font();
    let svg = path.extension().is_some_and(|e| e == "svg");
    let draw = |tmp: &Path| {
        if svg {
            chart(
                SVGBackend::new(tmp, (900, 560)).into_drawing_area(),
                labels,
                series,
            )
        } else {
            chart(
                BitMapBackend::new(tmp, (900, 560)).into_drawing_area(),
                labels,
                series,
            )
        }
        .map_err(std::io::Error::other)
    };
    crate::atomic::write_with(path, draw).with_context(|| format!("drawing {}", path.display()))
}

fn chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    labels: &Labels<'_>,
    series: &[Series],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{err:?}");
    root.fill(&WHITE).map_err(e)?;
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(e)?;
    for (i, s) in series.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(e)?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(legend_corner(series, (x0, x1), (y0, y1)))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_legend_corner() {
        assert_eq!(tick(5.0), "5");
        assert_eq!(tick(5.5), "5.5");
        assert_eq!(tick(0.125), "0.125");
        assert_eq!(tick(-0.0), "0");
        let rising = Series {
            name: "a".into(),
            points: vec![(1.0, 0.1), (2.0, 0.9)],
        };
        let falling = Series {
            name: "b".into(),
            points: vec![(1.0, 2.0), (2.0, 0.2)],
        };
        // A rising line leaves the lower right free, a falling one the upper right.
        assert!(matches!(
            legend_corner(&[rising], (1.0, 2.0), (0.0, 1.0)),
            SeriesLabelPosition::LowerRight
        ));
        assert!(matches!(
            legend_corner(&[falling], (1.0, 2.0), (0.0, 2.0)),
            SeriesLabelPosition::UpperRight
        ));
    }

    #[test]
    fn draws_png_and_svg() {
        let d = tempfile::tempdir().unwrap();
        let s = vec![Series {
            name: "run".into(),
            points: vec![(1.0, 2.0), (2.0, 1.5), (3.0, 1.0)],
        }];
        let labels = Labels {
            title: "train loss",
            x: "epoch",
            y: "loss",
        };
        line_chart(&d.path().join("a.png"), &labels, &s).unwrap();
        line_chart(&d.path().join("a.svg"), &labels, &s).unwrap();
        let png = std::fs::read(d.path().join("a.png")).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        let svg = std::fs::read_to_string(d.path().join("a.svg")).unwrap();
        assert!(svg.contains("train loss") && svg.contains("epoch"));
    }
}
