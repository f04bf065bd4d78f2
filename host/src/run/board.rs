//! `[log] tensorboard = true`: the run's metrics as TensorBoard event files under
//! `RUN_DIR/tb/`, one file per session. Every number of a metrics row is a scalar at its epoch
//! (tags are the metrics column names; `protocols/<name>` and `strategy/<counter>` for the
//! nested ones), and every `image_every` epochs an image grid shows the variants the strategy
//! holds for the first training images. A resumed session starts with TensorBoard's session
//! start at its first epoch and logs every tag again from there, so a resumed run shows each
//! epoch once.
use crate::report::preview::Picture;
use crate::{
    config::LogConfig,
    rundir::{metrics::Row, RunDir},
    tensorboard::EventWriter,
    train::Session,
};

/// Training images shown in the grid.
const SHOWN: u64 = 16;
/// Tiles per row of the grid.
const COLUMNS: usize = 4;
/// Small images are enlarged (nearest neighbour) to at least this many pixels a side.
const MIN_TILE: usize = 64;
/// The image tag.
const CHOSEN_TAG: &str = "chosen_variants";

/// The event writer of a run.
pub struct Board {
    writer: EventWriter,
    image_every: u32,
}

impl Board {
    /// The writer of a session of the run in `dir` whose first epoch is `first_epoch`
    /// (1-based), when `log` asks for TensorBoard.
    pub fn open(dir: &RunDir, log: &LogConfig, first_epoch: u32) -> anyhow::Result<Option<Self>> {
        if !log.tensorboard {
            return Ok(None);
        }
        let mut writer = EventWriter::create(&dir.tensorboard())?;
        writer.start_session(i64::from(first_epoch))?;
        writer.flush()?;
        Ok(Some(Self {
            writer,
            image_every: log.image_every,
        }))
    }

    /// Logs epoch `row.epoch` (1-based) of `session`, flushed so a reader sees it whole.
    pub fn epoch(&mut self, session: &Session, row: &Row) -> anyhow::Result<()> {
        let step = i64::from(row.epoch);
        let scalars = row.scalars();
        let pairs: Vec<(&str, f64)> = scalars.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        self.writer.scalars(step, &pairs)?;
        if self.image_every > 0 && row.epoch.is_multiple_of(self.image_every) {
            let (rgb, width, height) = chosen_grid(session, row.epoch - 1)?;
            self.writer.image(CHOSEN_TAG, step, &rgb, width, height)?;
        }
        self.writer.flush()?;
        Ok(())
    }
}

/// The first training images under the chromosomes the strategy holds for them after epoch
/// `epoch` (0-based), as one RGB grid.
fn chosen_grid(session: &Session, epoch: u32) -> anyhow::Result<(Vec<u8>, u32, u32)> {
    let n = SHOWN.min(session.data.train.len() as u64);
    let samples: Vec<u64> = (0..n).collect();
    let chromosomes = session
        .parts
        .incumbents(&session.config.strategy.name, &samples)?;
    let owners: Vec<i64> = (0..n as i64).collect();
    let (pixels, _) = session.variant_pixels(
        &session.data.train,
        &owners,
        &[],
        &chromosomes,
        u64::from(epoch),
    )?;
    Ok(tile(&crate::report::preview::pictures(&pixels)?))
}

/// Pictures of one size as an RGB grid of [`COLUMNS`] tiles a row, enlarged to at least
/// [`MIN_TILE`] pixels, with a one-pixel grey border; and its width and height.
fn tile(pictures: &[Picture]) -> (Vec<u8>, u32, u32) {
    let n = pictures.len();
    let (h, w) = pictures.first().map_or((1, 1), |p| (p.height, p.width));
    let scale = MIN_TILE.div_ceil(h.max(w)).max(1);
    let (th, tw) = (h * scale + 1, w * scale + 1);
    let cols = COLUMNS.min(n.max(1));
    let rows = n.div_ceil(cols).max(1);
    let (width, height) = (cols * tw + 1, rows * th + 1);
    let mut rgb = vec![128u8; width * height * 3];
    for (i, p) in pictures.iter().enumerate() {
        let (x0, y0) = ((i % cols) * tw + 1, (i / cols) * th + 1);
        for y in 0..h.min(p.height) * scale {
            for x in 0..w.min(p.width) * scale {
                let at = ((y0 + y) * width + x0 + x) * 3;
                let c = p.rgb(x / scale, y / scale);
                rgb[at..at + 3].copy_from_slice(&[c.0, c.1, c.2]);
            }
        }
    }
    (rgb, width as u32, height as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_enlarge_and_place_each_image() {
        // Two 1-channel 2×2 images: 0..4 and 10..14, and a 2-channel one, shown grey.
        let grey = |pixels: Vec<u8>, channels| Picture {
            channels,
            height: 2,
            width: 2,
            pixels,
        };
        let pictures = [
            grey(vec![0, 1, 2, 3], 1),
            grey(vec![10, 11, 12, 13], 1),
            grey(vec![20, 21, 22, 23, 30, 31, 32, 33], 2),
        ];
        let (rgb, w, h) = tile(&pictures);
        // 32× enlargement (64 / 2), two tiles in a row, borders.
        assert_eq!((w, h), (3 * 65 + 1, 65 + 1));
        let px = |x: usize, y: usize| &rgb[(y * w as usize + x) * 3..(y * w as usize + x) * 3 + 3];
        assert_eq!(px(0, 0), [128, 128, 128]);
        assert_eq!(px(1, 1), [0, 0, 0]);
        assert_eq!(px(1 + 32, 1), [1, 1, 1]);
        assert_eq!(px(1 + 32, 1 + 32), [3, 3, 3]);
        assert_eq!(px(66 + 1, 1 + 63), [12, 12, 12]);
        assert_eq!(px(131 + 1 + 32, 1 + 32), [23, 23, 23]);
    }
}
