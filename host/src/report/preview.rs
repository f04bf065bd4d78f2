//! `fuzzaug preview`: a grid of sample images, one row per image, one column per perturbation,
//! with labels, so a user sees at a glance what the genes do.
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
    fn rgb(&self, x: usize, y: usize) -> RGBColor {
        let at = |c: usize| self.pixels[(c * self.height + y) * self.width + x];
        if self.channels >= 3 {
            RGBColor(at(0), at(1), at(2))
        } else {
            RGBColor(at(0), at(0), at(0))
        }
    }
}

const LABEL_W: i32 = 130;
const HEADER_H: i32 = 56;

/// Draws `rows` (each a list of pictures, one per column) with column and row labels.
pub fn render(
    path: &Path,
    columns: &[String],
    rows: &[(String, Vec<Picture>)],
) -> anyhow::Result<()> {
    let first = rows
        .first()
        .and_then(|r| r.1.first())
        .context("nothing to preview")?;
    let scale = (96 / first.width.max(first.height)).max(1) as i32;
    let (tw, th) = (first.width as i32 * scale, first.height as i32 * scale);
    let cell_w = tw.max(100) + 8;
    let cell_h = th + 8;
    let size = (
        (LABEL_W + cell_w * columns.len() as i32) as u32,
        (HEADER_H + cell_h * rows.len() as i32 + 4) as u32,
    );
    super::plot::register_font();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    let e = |err: DrawingAreaErrorKind<_>| anyhow!("drawing {}: {err:?}", path.display());
    root.fill(&WHITE).map_err(e)?;
    let style = ("sans-serif", 13).into_font().color(&BLACK);
    for (c, label) in columns.iter().enumerate() {
        let x = LABEL_W + c as i32 * cell_w + 4;
        for (i, line) in label.split('\n').enumerate() {
            root.draw_text(line, &style, (x, 8 + 16 * i as i32))
                .map_err(e)?;
        }
    }
    for (r, (label, pictures)) in rows.iter().enumerate() {
        let y0 = HEADER_H + r as i32 * cell_h;
        root.draw_text(label, &style, (6, y0 + th / 2 - 6))
            .map_err(e)?;
        for (c, p) in pictures.iter().enumerate() {
            let x0 = LABEL_W + c as i32 * cell_w + 4;
            for y in 0..p.height {
                for x in 0..p.width {
                    let colour = p.rgb(x, y);
                    let (px, py) = (x0 + x as i32 * scale, y0 + y as i32 * scale);
                    root.draw(&Rectangle::new(
                        [(px, py), (px + scale, py + scale)],
                        colour.filled(),
                    ))
                    .map_err(e)?;
                }
            }
        }
    }
    root.present().map_err(e)?;
    Ok(())
}
