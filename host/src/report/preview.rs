//! `fuzzaug preview`: a grid of sample images, one row per image, one column per perturbation,
//! with labels, so a user sees at a glance what the genes do; optionally a strip of the variants
//! a strategy chose.
use anyhow::{anyhow, Context};
use plotters::prelude::*;
use std::path::Path;

/// One image: channels × height × width, u8 (1 or 3 channels).
pub struct Picture {
    /// Channels (1 = grey, 3 = RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// C×H×W pixels.
    pub pixels: Vec<u8>,
}

impl Picture {
    /// The colour of pixel (x, y): RGB from the first three channels, grey from the first of
    /// fewer.
    pub fn rgb(&self, x: usize, y: usize) -> RGBColor {
        let at = |c: usize| self.pixels[(c * self.height + y) * self.width + x];
        if self.channels >= 3 {
            RGBColor(at(0), at(1), at(2))
        } else {
            RGBColor(at(0), at(0), at(0))
        }
    }
}

/// A labelled row of pictures under the grid, each with its own caption (e.g. the variants a
/// strategy chose for a few training samples).
pub struct Strip {
    /// Shown left of the row.
    pub title: String,
    /// (caption, picture); captions may hold several lines.
    pub cells: Vec<(String, Picture)>,
}

const LABEL_W: i32 = 130;
/// Width of a caption character at the captions' font size, roughly.
const CHAR_W: i32 = 7;
const HEADER_H: i32 = 56;
const LINE_H: i32 = 16;

/// Draws `rows` (each a list of pictures, one per column) with column and row labels, and
/// `strip` below them when given.
pub fn render(
    path: &Path,
    columns: &[String],
    rows: &[(String, Vec<Picture>)],
    strip: Option<&Strip>,
) -> anyhow::Result<()> {
    let first = rows
        .first()
        .and_then(|r| r.1.first())
        .context("nothing to preview")?;
    let scale = (96 / first.width.max(first.height)).max(1) as i32;
    let longest = rows
        .iter()
        .flat_map(|r| r.0.lines())
        .map(|l| l.chars().count() as i32)
        .max()
        .unwrap_or(0);
    let label_w = LABEL_W.max(CHAR_W * longest + 12);
    let (tw, th) = (first.width as i32 * scale, first.height as i32 * scale);
    let cell_w = tw.max(100) + 8;
    let cell_h = th + 8;
    let strip_lines = strip.map_or(0, |s| {
        s.cells
            .iter()
            .map(|(c, _)| c.lines().count() as i32)
            .max()
            .unwrap_or(0)
    });
    let strip_h = strip.map_or(0, |_| 12 + LINE_H * strip_lines + cell_h);
    let strip_cols = strip.map_or(0, |s| s.cells.len());
    let size = (
        (label_w + cell_w * columns.len().max(strip_cols) as i32) as u32,
        (HEADER_H + cell_h * rows.len() as i32 + 4 + strip_h) as u32,
    );
    super::plot::register_font();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    let e = |err: DrawingAreaErrorKind<_>| anyhow!("drawing {}: {err:?}", path.display());
    root.fill(&WHITE).map_err(e)?;
    let style = ("sans-serif", 13).into_font().color(&BLACK);
    for (c, label) in columns.iter().enumerate() {
        let x = label_w + c as i32 * cell_w + 4;
        for (i, line) in label.split('\n').enumerate() {
            root.draw_text(line, &style, (x, 8 + 16 * i as i32))
                .map_err(e)?;
        }
    }
    let draw = |p: &Picture, x0: i32, y0: i32| -> anyhow::Result<()> {
        for y in 0..p.height {
            for x in 0..p.width {
                let (px, py) = (x0 + x as i32 * scale, y0 + y as i32 * scale);
                root.draw(&Rectangle::new(
                    [(px, py), (px + scale, py + scale)],
                    p.rgb(x, y).filled(),
                ))
                .map_err(e)?;
            }
        }
        Ok(())
    };
    for (r, (label, pictures)) in rows.iter().enumerate() {
        let y0 = HEADER_H + r as i32 * cell_h;
        let lines: Vec<&str> = label.split('\n').collect();
        let top = y0 + (th - LINE_H * lines.len() as i32).max(0) / 2;
        for (i, line) in lines.iter().enumerate() {
            root.draw_text(line, &style, (6, top + LINE_H * i as i32))
                .map_err(e)?;
        }
        for (c, p) in pictures.iter().enumerate() {
            draw(p, label_w + c as i32 * cell_w + 4, y0)?;
        }
    }
    if let Some(strip) = strip {
        let top = HEADER_H + cell_h * rows.len() as i32 + 12;
        let y0 = top + LINE_H * strip_lines;
        for (i, line) in strip.title.lines().enumerate() {
            root.draw_text(line, &style, (6, y0 + i as i32 * LINE_H))
                .map_err(e)?;
        }
        for (c, (caption, p)) in strip.cells.iter().enumerate() {
            let x0 = label_w + c as i32 * cell_w + 4;
            for (i, line) in caption.lines().enumerate() {
                root.draw_text(line, &style, (x0, top + i as i32 * LINE_H))
                    .map_err(e)?;
            }
            draw(p, x0, y0)?;
        }
    }
    root.present().map_err(e)?;
    Ok(())
}

/// The images of a float or u8 N×C×H×W batch on the 0..255 scale, rounded and clamped.
pub fn pictures(batch: &tch::Tensor) -> anyhow::Result<Vec<Picture>> {
    let out = batch
        .f_round()?
        .f_clamp(0.0, 255.0)?
        .f_to_kind(tch::Kind::Uint8)?
        .f_to_device(tch::Device::Cpu)?;
    let size = out.size();
    let (c, h, w) = match size.as_slice() {
        [_, c, h, w] => (*c as usize, *h as usize, *w as usize),
        other => anyhow::bail!("bug: an image batch of shape {other:?}"),
    };
    (0..size[0])
        .map(|i| {
            let one = out.f_get(i)?.f_contiguous()?;
            let mut pixels = vec![0u8; one.numel()];
            let len = pixels.len();
            one.f_copy_data_u8(&mut pixels, len)?;
            Ok(Picture {
                channels: c,
                height: h,
                width: w,
                pixels,
            })
        })
        .collect()
}
