//! Line charts with plotters (PNG or SVG by file extension), with an embedded font so that
//! they render the same on any machine.
//!
//! Every chart of fuzzaug is drawn here, so that they all read the same way: whole-number epoch
//! ticks, accuracy from 0 to 1 unless asked otherwise, and one series style table
//! ([`PALETTE`], [`series_style`]) whose colours are colour-blind safe and whose dash patterns
//! and point markers tell the lines apart in greyscale too.
use anyhow::{anyhow, Context};
use plotters::{
    coord::{
        ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter},
        types::RangedCoordf64,
        Shift,
    },
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use std::{path::Path, sync::Once};

/// The colour type of [`PALETTE`].
pub use plotters::style::RGBColor;

/// One line of a chart.
pub struct Series {
    /// Legend label.
    pub name: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// How an axis chooses its range and ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// The data's range with a 5% margin, ticks at round values.
    Auto,
    /// From 0 to the data's largest value with a 5% margin (a learning rate).
    FromZero,
    /// Whole numbers (epochs): the data's range with a margin of half a unit or more, ticks
    /// only at whole multiples of 1, 2 or 5 × 10^k, at most 11 of them.
    Integer,
    /// A fixed range (see [`Scale::FRACTION`]), widened only if a value falls outside it.
    Fixed(f64, f64),
}

impl Scale {
    /// Accuracies and other fractions: 0 to 1.
    pub const FRACTION: Scale = Scale::Fixed(0.0, 1.0);
}

/// One axis: its label (with the unit) and its scale.
#[derive(Debug, Clone, Copy)]
pub struct Axis<'a> {
    /// The label, with its unit.
    pub label: &'a str,
    /// How the range and ticks are chosen.
    pub scale: Scale,
}

impl<'a> Axis<'a> {
    /// The epoch axis: whole-number ticks.
    pub fn epoch() -> Self {
        Axis {
            label: "epoch",
            scale: Scale::Integer,
        }
    }
}

/// Title and axes of a chart.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// The x axis.
    pub x: Axis<'a>,
    /// The y axis.
    pub y: Axis<'a>,
}

/// The line colours, in the order series take them: the Okabe–Ito colour-blind-safe palette
/// (Okabe & Ito, 2008) without its yellow (#F0E442), which is unreadable on white.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

/// A line's dash pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    /// Unbroken.
    Solid,
    /// 10 px on, 6 off.
    Dashed,
    /// 2 px on, 4 off.
    Dotted,
    /// 12 on, 4 off, 2 on, 4 off.
    DashDot,
}

const DASHES: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::DashDot];

impl Dash {
    /// Alternating on and off lengths in pixels; empty for a solid line.
    fn pattern(self) -> &'static [f64] {
        match self {
            Dash::Solid => &[],
            Dash::Dashed => &[10.0, 6.0],
            Dash::Dotted => &[2.0, 4.0],
            Dash::DashDot => &[12.0, 4.0, 2.0, 4.0],
        }
    }
}

/// A point marker's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// ●
    Circle,
    /// ■
    Square,
    /// ▲
    Triangle,
    /// ◆
    Diamond,
    /// ○
    OpenCircle,
    /// ×
    Cross,
    /// □
    OpenSquare,
}

const MARKERS: [Marker; 7] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::OpenCircle,
    Marker::Cross,
    Marker::OpenSquare,
];

/// How one series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStyle {
    /// Line and marker colour.
    pub colour: RGBColor,
    /// Dash pattern of the line.
    pub dash: Dash,
    /// Point marker.
    pub marker: Marker,
}

/// The style of the `i`-th series of a chart: colour and marker cycle through their seven, the
/// dash pattern through its four, so the first seven series differ in colour and marker (and
/// each pair in at least one of marker or dash, in greyscale too) and no two of the first 28
/// share all three.
pub fn series_style(i: usize) -> SeriesStyle {
    SeriesStyle {
        colour: PALETTE[i % PALETTE.len()],
        dash: DASHES[i % DASHES.len()],
        marker: MARKERS[i % MARKERS.len()],
    }
}

const STROKE: u32 = 2;
const MARKER_RADIUS: f64 = 4.5;
/// At most this many markers per series (every point of a short run, every k-th of a long one).
const MAX_MARKERS: usize = 12;

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

/// The finite values' (min, max), or None.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    lo.is_finite().then_some((lo, hi))
}

/// `data` widened by 5% of its span each side; a single value by 5% of itself.
fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.05
    } else {
        (lo.abs() * 0.05).max(1e-6)
    };
    (lo - pad, hi + pad)
}

/// The 1-2-5 step giving at most `max` intervals over `span`.
fn nice_step(span: f64, max: f64) -> f64 {
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let mut step = 10f64.powf((span / max).log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if span / (step * m) <= max + 1e-9 {
            step *= m;
            return step;
        }
    }
    step * 10.0
}

/// The multiples of `step` within `lo..=hi`.
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Ticks of an epoch (whole-number) axis over the data's `lo..=hi`: whole multiples of a 1-2-5
/// step, at most 11, never a fraction (3 epochs: 1, 2, 3; 300: 50, 100, ..., 300).
pub fn integer_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = (lo.ceil(), hi.floor());
    if hi < lo {
        return vec![lo.round()];
    }
    let step = nice_step(hi - lo, 10.0).max(1.0).round();
    multiples(lo, hi, step)
}

/// An axis's range, ticks and the decimals its labels show.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    range: (f64, f64),
    ticks: Vec<f64>,
    step: f64,
}

fn layout(scale: Scale, data: Option<(f64, f64)>) -> Layout {
    let (range, integer) = match (scale, data) {
        (Scale::Integer, Some((lo, hi))) => {
            let pad = ((hi - lo) * 0.05).max(0.5);
            ((lo - pad, hi + pad), true)
        }
        (Scale::Integer, None) => ((0.5, 1.5), true),
        (Scale::Fixed(a, b), data) => {
            let (lo, hi) = data.map_or((a, b), |(lo, hi)| (a.min(lo), b.max(hi)));
            // A little room so that markers at the bounds are not cut by the frame.
            let pad = (hi - lo) * 0.02;
            ((lo - pad, hi + pad), false)
        }
        (Scale::FromZero, Some((lo, hi))) => {
            let (lo, hi) = (lo.min(0.0), hi.max(0.0));
            let top = if lo == 0.0 && hi == 0.0 {
                1.0
            } else {
                padded((lo, hi)).1
            };
            // As for a fixed range: a little room below 0 for the markers there.
            let bottom = if lo < 0.0 {
                padded((lo, hi)).0
            } else {
                -(top * 0.02)
            };
            ((bottom, top), false)
        }
        (Scale::Auto, Some(d)) => (padded(d), false),
        (Scale::Auto | Scale::FromZero, None) => ((0.0, 1.0), false),
    };
    if integer {
        let (lo, hi) = data.unwrap_or((1.0, 1.0));
        let ticks = integer_ticks(lo, hi);
        let step = match ticks.as_slice() {
            [a, b, ..] => b - a,
            _ => 1.0,
        };
        return Layout { range, ticks, step };
    }
    let (lo, hi) = match scale {
        Scale::Fixed(a, b) => data.map_or((a, b), |(lo, hi)| (a.min(lo), b.max(hi))),
        _ => range,
    };
    let step = nice_step(hi - lo, 10.0);
    Layout {
        range,
        ticks: multiples(lo, hi, step),
        step,
    }
}

/// A tick label with the decimals `step` needs (0.0, 0.1, ..., 1.0; 50, 100; 0, 0.0005,
/// 0.0010; 0, 5e-5, 1.0e-4).
fn tick(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
    if v == 0.0 && decimals > 2 {
        return "0".into();
    }
    if decimals > 4 {
        let exponent = v.abs().log10().floor() as i64;
        let mantissa = decimals.saturating_sub((-exponent).max(0) as usize);
        return format!("{v:.mantissa$e}");
    }
    format!("{v:.decimals$}")
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

/// The pieces of `path` (pixel coordinates) that are "on" in `pattern`, carried across
/// vertices, so that a dash pattern runs on along the whole line.
fn dash_pieces(path: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if path.len() < 2 || pattern.is_empty() {
        return vec![path.to_vec()];
    }
    let mut pieces = Vec::new();
    let (mut k, mut left) = (0, pattern[0]);
    let mut current = vec![path[0]];
    for w in path.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        loop {
            let d = (b.0 - a.0).hypot(b.1 - a.1);
            let on = k % 2 == 0;
            if d <= left {
                left -= d;
                if on {
                    current.push(b);
                }
                break;
            }
            let t = left / d;
            a = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if on {
                current.push(a);
                pieces.push(std::mem::take(&mut current));
            } else {
                current = vec![a];
            }
            k = (k + 1) % pattern.len();
            left = pattern[k];
        }
    }
    if k % 2 == 0 && current.len() > 1 {
        pieces.push(current);
    }
    pieces
}

fn to_backend(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

/// A linear axis whose ticks are given (plotters' own choice of key points would put epoch
/// ticks at 2.5), labelled with the decimals its step needs.
struct Ticked {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
    step: f64,
}

impl Ticked {
    fn new(l: &Layout) -> Self {
        Ticked {
            inner: (l.range.0..l.range.1).into(),
            ticks: l.ticks.clone(),
            step: l.step,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Grid lines and labels at the ticks only; no finer lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for Ticked {
    fn format_ext(&self, value: &f64) -> String {
        tick(*value, self.step)
    }
}

type Area<DB> = DrawingArea<DB, Shift>;

/// A line through `path` (pixels) in `style`'s colour and dash pattern, the pattern running
/// on across vertices so that it does not depend on how the data is spaced.
fn draw_line<DB: DrawingBackend>(
    area: &Area<DB>,
    path: &[(f64, f64)],
    style: SeriesStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let shape = style.colour.stroke_width(STROKE);
    for piece in dash_pieces(path, style.dash.pattern()) {
        let mut points: Vec<(i32, i32)> = piece.into_iter().map(to_backend).collect();
        points.dedup();
        if points.len() == 1 {
            points.push(points[0]);
        }
        area.draw(&PathElement::new(points, shape))?;
    }
    Ok(())
}

/// `style`'s marker centred on the pixel (x, y).
fn draw_marker<DB: DrawingBackend>(
    area: &Area<DB>,
    (x, y): (i32, i32),
    style: SeriesStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let r = MARKER_RADIUS;
    let filled = style.colour.filled();
    let open = style.colour.stroke_width(STROKE);
    let at = |dx: f64, dy: f64| to_backend((f64::from(x) + dx, f64::from(y) + dy));
    let h = r * 0.85;
    let square = vec![at(-h, -h), at(h, -h), at(h, h), at(-h, h)];
    match style.marker {
        Marker::Circle => area.draw(&Circle::new((x, y), r as u32, filled)),
        Marker::OpenCircle => area.draw(&Circle::new((x, y), r as u32, open)),
        Marker::Square => area.draw(&Polygon::new(square, filled)),
        Marker::OpenSquare => {
            let mut closed = square.clone();
            closed.push(square[0]);
            area.draw(&PathElement::new(closed, open))
        }
        Marker::Triangle => area.draw(&Polygon::new(
            vec![at(0.0, -r * 1.15), at(r, r * 0.75), at(-r, r * 0.75)],
            filled,
        )),
        Marker::Diamond => area.draw(&Polygon::new(
            vec![at(0.0, -r * 1.2), at(r, 0.0), at(0.0, r * 1.2), at(-r, 0.0)],
            filled,
        )),
        Marker::Cross => {
            area.draw(&PathElement::new(vec![at(-r, -r), at(r, r)], open))?;
            area.draw(&PathElement::new(vec![at(-r, r), at(r, -r)], open))
        }
    }
}

/// The legend box in `plot` (pixel ranges) at `corner`: per series a stretch of its line with
/// its marker, and its name.
fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    (xs, ys): (std::ops::Range<i32>, std::ops::Range<i32>),
    corner: SeriesLabelPosition,
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    use SeriesLabelPosition::*;
    if series.is_empty() {
        return Ok(());
    }
    let font = TextStyle::from(("sans-serif", 16).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (pad, key, gap, row) = (10, 36, 8, 24);
    let mut text = 0;
    for s in series {
        text = text.max(area.estimate_text_size(&s.name, &font)?.0 as i32);
    }
    let (w, h) = (
        pad + key + gap + text + pad,
        pad + row * series.len() as i32,
    );
    let margin = 10;
    let left = match corner {
        UpperLeft | MiddleLeft | LowerLeft => xs.start + margin,
        _ => xs.end - margin - w,
    };
    let top = match corner {
        UpperLeft | UpperRight => ys.start + margin,
        MiddleLeft | MiddleRight => (ys.start + ys.end - h) / 2,
        _ => ys.end - margin - h,
    };
    area.draw(&Rectangle::new(
        [(left, top), (left + w, top + h)],
        WHITE.mix(0.9).filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(left, top), (left + w, top + h)],
        BLACK.stroke_width(1),
    ))?;
    for (i, s) in series.iter().enumerate() {
        let style = series_style(i);
        let y = top + pad / 2 + row * i as i32 + row / 2;
        let x = left + pad;
        draw_line(
            area,
            &[
                (f64::from(x), f64::from(y)),
                (f64::from(x + key), f64::from(y)),
            ],
            style,
        )?;
        draw_marker(area, (x + key / 2, y), style)?;
        area.draw(&Text::new(s.name.clone(), (x + key + gap, y), font.clone()))?;
    }
    Ok(())
}

/// Draws `series` into `path` (`.png` or `.svg`), written whole or not at all
/// ([`crate::atomic`]).
pub fn line_chart(path: &Path, spec: &Chart<'_>, series: &[Series]) -> anyhow::Result<()> {
    register_font();
    let svg = path.extension().is_some_and(|e| e == "svg");
    let draw = |tmp: &Path| {
        if svg {
            chart(
                SVGBackend::new(tmp, (900, 560)).into_drawing_area(),
                spec,
                series,
            )
        } else {
            chart(
                BitMapBackend::new(tmp, (900, 560)).into_drawing_area(),
                spec,
                series,
            )
        }
        .map_err(std::io::Error::other)
    };
    crate::atomic::write_with(path, draw).with_context(|| format!("drawing {}", path.display()))
}

fn chart<DB: DrawingBackend>(
    root: Area<DB>,
    spec: &Chart<'_>,
    series: &[Series],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{err:?}");
    root.fill(&WHITE).map_err(e)?;
    let x = layout(
        spec.x.scale,
        extent(series.iter().flat_map(|s| s.points.iter().map(|p| p.0))),
    );
    let y = layout(
        spec.y.scale,
        extent(series.iter().flat_map(|s| s.points.iter().map(|p| p.1))),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(spec.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(Ticked::new(&x), Ticked::new(&y))
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(spec.x.label)
        .y_desc(spec.y.label)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
        .draw()
        .map_err(e)?;
    let count = series.len().max(1);
    for (i, s) in series.iter().enumerate() {
        let style = series_style(i);
        let pixels: Vec<(i32, i32)> = s.points.iter().map(|p| chart.backend_coord(p)).collect();
        let path: Vec<(f64, f64)> = pixels
            .iter()
            .map(|&(px, py)| (f64::from(px), f64::from(py)))
            .collect();
        draw_line(&root, &path, style).map_err(e)?;
        // Markers on every point of a short run, on every k-th of a long one, spread so that
        // the series' markers do not sit on one another.
        let stride = s.points.len().div_ceil(MAX_MARKERS).max(1);
        let offset = i * stride / count;
        for (_, &p) in pixels
            .iter()
            .enumerate()
            .filter(|(j, _)| j % stride == offset)
        {
            draw_marker(&root, p, style).map_err(e)?;
        }
    }
    draw_legend(
        &root,
        chart.plotting_area().get_pixel_range(),
        legend_corner(series, x.range, y.range),
        series,
    )
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_ticks_are_whole_and_spaced_for_any_length() {
        assert_eq!(integer_ticks(1.0, 3.0), vec![1.0, 2.0, 3.0]);
        assert_eq!(integer_ticks(1.0, 2.0), vec![1.0, 2.0]);
        assert_eq!(integer_ticks(1.0, 1.0), vec![1.0]);
        assert_eq!(
            integer_ticks(1.0, 10.0),
            (1..=10).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            integer_ticks(1.0, 300.0),
            vec![50.0, 100.0, 150.0, 200.0, 250.0, 300.0]
        );
        assert_eq!(
            integer_ticks(1.0, 200.0),
            (1..=10).map(|k| f64::from(k * 20)).collect::<Vec<_>>()
        );
        for n in 1..=1000 {
            let t = integer_ticks(1.0, f64::from(n));
            assert!(!t.is_empty() && t.len() <= 11, "{n}: {t:?}");
            assert!(t.iter().all(|v| v.fract() == 0.0), "{n}: {t:?}");
            assert!(t.iter().all(|v| (1.0..=f64::from(n)).contains(v)), "{n}");
            let steps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(steps.windows(2).all(|s| s[0] == s[1]), "{n}: even");
            // Not too sparse either: at least 3 ticks once there are 3 epochs.
            assert!(t.len() >= n.min(3) as usize, "{n}: {t:?}");
        }
        // The axis itself: a short run gets half an epoch of room, and its labels read 1, 2, 3.
        let l = layout(Scale::Integer, Some((1.0, 3.0)));
        assert_eq!(l.range, (0.5, 3.5));
        let labels: Vec<String> = l.ticks.iter().map(|&v| tick(v, l.step)).collect();
        assert_eq!(labels, ["1", "2", "3"]);
        let l = layout(Scale::Integer, Some((1.0, 300.0)));
        let labels: Vec<String> = l.ticks.iter().map(|&v| tick(v, l.step)).collect();
        assert_eq!(labels, ["50", "100", "150", "200", "250", "300"]);
    }

    #[test]
    fn accuracy_spans_zero_to_one_and_other_axes_fit_their_data() {
        let l = layout(Scale::FRACTION, Some((0.61, 0.64)));
        assert!(l.range.0 < 0.0 && l.range.0 > -0.05 && l.range.1 > 1.0 && l.range.1 < 1.05);
        let labels: Vec<String> = l.ticks.iter().map(|&v| tick(v, l.step)).collect();
        assert_eq!(
            labels,
            ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"]
        );
        // Zoomed (Auto) accuracy fits the data.
        let l = layout(Scale::Auto, Some((0.61, 0.64)));
        assert!(l.range.0 > 0.6 && l.range.1 < 0.65, "{l:?}");
        assert!(l.ticks.iter().all(|t| (0.61..=0.65).contains(t)));
        // A learning rate from 0, small values labelled readably.
        let l = layout(Scale::FromZero, Some((1e-4, 5e-4)));
        assert!(l.range.0 < 0.0 && l.range.0 > -2e-5, "{l:?}");
        assert!(l.ticks.contains(&0.0));
        let labels: Vec<String> = l.ticks.iter().map(|&v| tick(v, l.step)).collect();
        assert_eq!(
            labels,
            ["0", "0.0001", "0.0002", "0.0003", "0.0004", "0.0005"]
        );
        let l = layout(Scale::FromZero, Some((1e-5, 5e-5)));
        let labels: Vec<String> = l.ticks.iter().map(|&v| tick(v, l.step)).collect();
        assert_eq!(labels, ["0", "1e-5", "2e-5", "3e-5", "4e-5", "5e-5"]);
        let l = layout(Scale::FromZero, Some((0.0, 0.0)));
        assert!(l.range.0 < 0.0 && l.range.1 == 1.0 && l.ticks.contains(&0.0));
        // A flat series still gets a range and ticks.
        let l = layout(Scale::Auto, Some((0.1, 0.1)));
        assert!(l.range.0 < 0.1 && l.range.1 > 0.1 && !l.ticks.is_empty());
        assert_eq!(tick(2.0, 0.5), "2.0");
        assert_eq!(tick(-0.0, 0.1), "0.0");
        assert_eq!(tick(1.5e-4, 5e-5), "1.5e-4");
    }

    /// WCAG contrast ratio of a colour against white.
    fn contrast_on_white(c: RGBColor) -> f64 {
        let lin = |v: u8| {
            let s = f64::from(v) / 255.0;
            if s <= 0.04045 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
        1.05 / (l + 0.05)
    }

    #[test]
    fn palette_is_okabe_ito_without_yellow_and_styles_are_distinct() {
        let hex: Vec<String> = PALETTE
            .iter()
            .map(|c| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2))
            .collect();
        let okabe_ito = [
            "#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7",
        ];
        let mut sorted = hex.clone();
        sorted.sort();
        let mut expected = okabe_ito.map(String::from).to_vec();
        expected.sort();
        assert_eq!(
            sorted, expected,
            "the seven Okabe–Ito colours other than yellow"
        );
        assert!(!hex.contains(&"#F0E442".to_string()));
        // Nothing as faint on white as the yellow (contrast 1.3:1) or plotters' old yellows.
        assert!(contrast_on_white(RGBColor(0xF0, 0xE4, 0x42)) < 1.5);
        for c in PALETTE {
            assert!(contrast_on_white(c) > 2.0, "{c:?}");
        }
        let styles: Vec<SeriesStyle> = (0..28).map(series_style).collect();
        for (i, a) in styles.iter().enumerate() {
            for (j, b) in styles.iter().enumerate().skip(i + 1) {
                assert!(
                    (a.colour, a.dash, a.marker) != (b.colour, b.dash, b.marker),
                    "series {i} and {j}"
                );
                if j < 7 {
                    // In greyscale, colour aside: the marker differs.
                    assert!(a.colour != b.colour && a.marker != b.marker, "{i}, {j}");
                }
                if j < 4 {
                    assert!(a.dash != b.dash, "{i}, {j}");
                }
            }
        }
        assert_eq!(series_style(0).dash, Dash::Solid);
    }

    #[test]
    fn dashes_run_on_across_vertices() {
        let solid = dash_pieces(&[(0.0, 0.0), (10.0, 0.0)], &[]);
        assert_eq!(solid, vec![vec![(0.0, 0.0), (10.0, 0.0)]]);
        // 10 on, 6 off along a line of 32 turning at 8: on 0..10, off 10..16, on 16..26, off.
        let pieces = dash_pieces(&[(0.0, 0.0), (8.0, 0.0), (32.0, 0.0)], &[10.0, 6.0]);
        assert_eq!(
            pieces,
            vec![
                vec![(0.0, 0.0), (8.0, 0.0), (10.0, 0.0)],
                vec![(16.0, 0.0), (26.0, 0.0)],
            ]
        );
        let on: f64 = dash_pieces(&[(0.0, 0.0), (0.0, 600.0)], Dash::Dotted.pattern())
            .iter()
            .map(|p| p.windows(2).map(|w| (w[1].1 - w[0].1).abs()).sum::<f64>())
            .sum();
        assert!(
            (on - 200.0).abs() < 1e-6,
            "a third of a dotted line is ink: {on}"
        );
    }

    #[test]
    fn legend_avoids_the_lines() {
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

    fn svg_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn draws_png_and_svg_with_whole_epochs_and_the_palette() {
        let d = tempfile::tempdir().unwrap();
        let s: Vec<Series> = (0..3)
            .map(|k| Series {
                name: format!("run{k}"),
                points: (1..=3)
                    .map(|e| (f64::from(e), 0.2 * f64::from(e) + 0.1 * f64::from(k)))
                    .collect(),
            })
            .collect();
        let spec = Chart {
            title: "Test accuracy",
            x: Axis::epoch(),
            y: Axis {
                label: "accuracy",
                scale: Scale::FRACTION,
            },
        };
        line_chart(&d.path().join("a.png"), &spec, &s).unwrap();
        line_chart(&d.path().join("a.svg"), &spec, &s).unwrap();
        let png = image::open(d.path().join("a.png")).unwrap().to_rgb8();
        assert_eq!(png.dimensions(), (900, 560));
        let colours: std::collections::HashSet<[u8; 3]> = png.pixels().map(|p| p.0).collect();
        for c in &PALETTE[..3] {
            assert!(colours.contains(&[c.0, c.1, c.2]), "{c:?} drawn");
        }
        let svg = std::fs::read_to_string(d.path().join("a.svg")).unwrap();
        let texts = svg_texts(&svg);
        for t in [
            "Test accuracy",
            "epoch",
            "accuracy",
            "1",
            "2",
            "3",
            "0.0",
            "1.0",
            "run2",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t} in {texts:?}");
        }
        assert!(
            !texts.iter().any(|t| t == "1.5" || t == "2.5"),
            "no fractional epoch: {texts:?}"
        );
        let hex = |c: &RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        for c in &PALETTE[..3] {
            assert!(
                svg.to_uppercase().contains(&hex(c)),
                "{} in the SVG",
                hex(c)
            );
        }
    }
}
