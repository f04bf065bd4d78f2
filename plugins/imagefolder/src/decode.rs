//! Decoding image files into one N×C×H×W u8 buffer, in parallel.
use crate::scan::ImageFile;
use fuzzaug_sdk::PluginError;
use image::{
    imageops, imageops::FilterType, DynamicImage, GrayImage, ImageBuffer, ImageFormat, ImageReader,
    Pixel, RgbImage,
};
use std::{
    fs,
    io::Cursor,
    num::NonZeroUsize,
    panic,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, PoisonError,
    },
    thread,
};

/// The most pixels an image may have (32 Mpx, an 8192×4096 photograph); a larger one is
/// refused from its header, before it is decoded.
pub const MAX_PIXELS: u64 = 1 << 25;

/// Images per unit of work handed to a decoding thread, at most; small units balance the load
/// when image sizes vary, large ones keep the hand-out lock cold.
const MAX_CHUNK: usize = 64;

/// How the error messages name a decoder.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Pnm => "PPM",
        _ => "an image",
    }
}

/// Decodes `file` with the decoder of its extension, converts it to `channels` (3: RGB, alpha
/// dropped; 1: [`luma`]), resizes it to `size`×`size` with
/// `image::imageops::resize` and `FilterType::Triangle` (bilinear, aspect ratio not kept) unless
/// it already has that size, and writes it into `out` as channel planes.
pub fn load_image(
    file: &ImageFile,
    size: u32,
    channels: u32,
    out: &mut [u8],
) -> Result<(), PluginError> {
    let path = file.path.display();
    let bytes = fs::read(&file.path)
        .map_err(|e| PluginError::new(format!("{path}: cannot read the file: {e}")))?;
    decode_image(&bytes, file.format, &path.to_string(), size, channels, out)
}

/// [`load_image`] of a file's contents: decodes `bytes` as `format`, converts and resizes the
/// image, and writes it into `out` as channel planes; `path` names the file in messages.
pub fn decode_image(
    bytes: &[u8],
    format: ImageFormat,
    path: &str,
    size: u32,
    channels: u32,
    out: &mut [u8],
) -> Result<(), PluginError> {
    if bytes.is_empty() {
        return Err(PluginError::new(format!("{path}: empty file (0 bytes)")));
    }
    let cannot = |e: image::ImageError| {
        PluginError::new(format!(
            "{path}: cannot decode as {}: {e}",
            format_name(format)
        ))
    };
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    // The header's size, before a pixel is decoded: a few hundred bytes of JPEG can declare
    // 4101×63925 pixels, 262 MB to decode and seconds to resize.
    let (width, height) = reader().into_dimensions().map_err(cannot)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PluginError::new(format!(
            "{path}: {width}×{height} pixels, more than the {MAX_PIXELS} this dataset decodes \
             per image (is the file corrupt?)"
        )));
    }
    let image = reader().decode().map_err(cannot)?;
    // Converting before resizing makes grey images three times cheaper to resize.
    if channels == 1 {
        let grey = match image {
            DynamicImage::ImageLuma8(grey) => grey,
            other => luma(&other.to_rgb8()),
        };
        write_planes(grey, size, out);
    } else {
        write_planes(image.to_rgb8(), size, out);
    }
    Ok(())
}

/// Grey levels by Rec. 709 weights, rounded: Y = (2126 R + 7152 G + 722 B) / 10000. Written
/// out rather than left to `image`, whose conversion has changed between patch releases, so
/// the pixels do not depend on the version; a grey source keeps its values exactly.
pub fn luma(rgb: &RgbImage) -> GrayImage {
    let mut grey = GrayImage::new(rgb.width(), rgb.height());
    for (g, p) in grey.iter_mut().zip(rgb.as_raw().chunks_exact(3)) {
        let y = 2126 * u32::from(p[0]) + 7152 * u32::from(p[1]) + 722 * u32::from(p[2]);
        // At most 255, since the weights sum to 10000.
        *g = ((y + 5000) / 10000) as u8;
    }
    grey
}

/// Resizes `image` to `size`×`size` if needed and scatters its interleaved pixels into planes.
fn write_planes<P>(image: ImageBuffer<P, Vec<u8>>, size: u32, out: &mut [u8])
where
    P: Pixel<Subpixel = u8> + 'static,
{
    let image = if image.dimensions() == (size, size) {
        image
    } else {
        imageops::resize(&image, size, size, FilterType::Triangle)
    };
    let channels = usize::from(P::CHANNEL_COUNT);
    let plane = size as usize * size as usize;
    debug_assert_eq!(out.len(), channels * plane);
    for (i, pixel) in image.as_raw().chunks_exact(channels).enumerate() {
        for (c, &value) in pixel.iter().enumerate() {
            out[c * plane + i] = value;
        }
    }
}

/// Decodes `files` into one preallocated N×C×H×W buffer, image `i` at offset `i·C·H·W`, on all
/// available cores. Threads take consecutive runs of images from a shared queue and write them
/// into disjoint slices of the buffer, so the result does not depend on scheduling. On failure
/// the error of the first bad file in `files` order is returned, also independent of scheduling.
pub fn load_all(files: &[ImageFile], size: u32, channels: u32) -> Result<Vec<u8>, PluginError> {
    let image_bytes = channels as usize * size as usize * size as usize;
    let too_big = || {
        PluginError::new(format!(
            "{} images of {channels}×{size}×{size} bytes do not fit in memory",
            files.len()
        ))
    };
    let total = files.len().checked_mul(image_bytes).ok_or_else(too_big)?;
    let mut pixels = Vec::new();
    // An error the user can act on (a smaller `size`), instead of an abort.
    pixels.try_reserve_exact(total).map_err(|_| too_big())?;
    pixels.resize(total, 0);
    if files.is_empty() {
        return Ok(pixels);
    }

    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let per_chunk = (files.len() / (threads * 8)).clamp(1, MAX_CHUNK);
    let queue = Mutex::new(
        pixels
            .chunks_mut(per_chunk * image_bytes)
            .zip(files.chunks(per_chunk))
            .enumerate(),
    );
    // The lowest index that failed so far; runs past it need not be decoded.
    let first_failure = AtomicUsize::new(usize::MAX);
    let worker = || -> Option<(usize, PluginError)> {
        let mut failure = None;
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((k, (out, run))) = next else {
                return failure;
            };
            let start = k * per_chunk;
            // Runs come in increasing order, so every later one lies past the failure too. A
            // run starting at or before the lowest failure is still decoded: it may hold a
            // lower one.
            if start > first_failure.load(Ordering::Relaxed) {
                return failure;
            }
            for (i, (file, image)) in run
                .iter()
                .zip(out.chunks_exact_mut(image_bytes))
                .enumerate()
            {
                if let Err(e) = load_image(file, size, channels, image) {
                    first_failure.fetch_min(start + i, Ordering::Relaxed);
                    // A thread's runs ascend, so its first failure is its lowest.
                    failure = failure.or(Some((start + i, e)));
                    break;
                }
            }
        }
    };
    let n_threads = threads.min(files.len().div_ceil(per_chunk));
    let failures: Vec<(usize, PluginError)> = thread::scope(|s| {
        let handles: Vec<_> = (0..n_threads).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            // A decoder panic is re-raised here, where the SDK's guard turns it into an error.
            .filter_map(|h| h.join().unwrap_or_else(|p| panic::resume_unwind(p)))
            .collect()
    });
    match failures.into_iter().min_by_key(|(i, _)| *i) {
        Some((_, e)) => Err(e),
        None => Ok(pixels),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage, Rgba, RgbaImage};
    use std::path::Path;
    use tempfile::TempDir;

    fn file(path: &Path, format: ImageFormat) -> ImageFile {
        ImageFile {
            path: path.to_path_buf(),
            format,
            label: 0,
        }
    }

    fn load(f: &ImageFile, size: u32, channels: u32) -> Result<Vec<u8>, PluginError> {
        let mut out = vec![0; (channels * size * size) as usize];
        load_image(f, size, channels, &mut out).map(|_| out)
    }

    #[test]
    fn planes_of_an_image_at_the_target_size() {
        let dir = TempDir::new().unwrap();
        let img = RgbImage::from_fn(8, 8, |x, y| Rgb([x as u8 * 10, y as u8 * 20, 200]));
        for (name, format) in [("a.png", ImageFormat::Png), ("a.ppm", ImageFormat::Pnm)] {
            let p = dir.path().join(name);
            img.save(&p).unwrap();
            let px = load(&file(&p, format), 8, 3).unwrap();
            for y in 0..8 {
                for x in 0..8 {
                    let at = (y * 8 + x) as usize;
                    assert_eq!(
                        [px[at], px[64 + at], px[128 + at]],
                        [x as u8 * 10, y as u8 * 20, 200],
                        "{name} ({x}, {y})"
                    );
                }
            }
        }
    }

    #[test]
    fn grey_alpha_and_16_bit_inputs() {
        let dir = TempDir::new().unwrap();
        // Luma by Rec. 709 weights, rounded: red 255 → 54, green 255 → 182, blue 255 → 18.
        let p = dir.path().join("rgb.png");
        RgbImage::from_fn(8, 8, |x, _| match x % 3 {
            0 => Rgb([255, 0, 0]),
            1 => Rgb([0, 255, 0]),
            _ => Rgb([0, 0, 255]),
        })
        .save(&p)
        .unwrap();
        let px = load(&file(&p, ImageFormat::Png), 8, 1).unwrap();
        assert_eq!(&px[..4], &[54, 182, 18, 54]);

        // A grey PNG read as RGB repeats its value in all three planes.
        let p = dir.path().join("grey.png");
        GrayImage::from_pixel(8, 8, Luma([77])).save(&p).unwrap();
        let px = load(&file(&p, ImageFormat::Png), 8, 3).unwrap();
        assert!(px.iter().all(|&v| v == 77));

        // Alpha is dropped, not blended.
        let p = dir.path().join("rgba.png");
        RgbaImage::from_pixel(8, 8, Rgba([10, 20, 30, 0]))
            .save(&p)
            .unwrap();
        let px = load(&file(&p, ImageFormat::Png), 8, 3).unwrap();
        assert_eq!([px[0], px[64], px[128]], [10, 20, 30]);

        // 16-bit samples scale down to 8 bits.
        let p = dir.path().join("deep.png");
        ImageBuffer::<Luma<u16>, Vec<u16>>::from_pixel(8, 8, Luma([65535]))
            .save(&p)
            .unwrap();
        let px = load(&file(&p, ImageFormat::Png), 8, 1).unwrap();
        assert!(px.iter().all(|&v| v == 255));
    }

    #[test]
    fn resizing_keeps_uniform_colours() {
        let dir = TempDir::new().unwrap();
        let p = dir.path().join("wide.png");
        RgbImage::from_pixel(37, 5, Rgb([9, 99, 199]))
            .save(&p)
            .unwrap();
        for size in [8, 16, 40] {
            let px = load(&file(&p, ImageFormat::Png), size, 3).unwrap();
            let plane = (size * size) as usize;
            assert_eq!(px.len(), 3 * plane);
            assert!(px[..plane].iter().all(|&v| v == 9));
            assert!(px[plane..2 * plane].iter().all(|&v| v == 99));
            assert!(px[2 * plane..].iter().all(|&v| v == 199));
        }
    }

    #[test]
    fn bad_files_are_named() {
        let dir = TempDir::new().unwrap();
        let d = dir.path().display();
        let p = dir.path().join("empty.png");
        fs::write(&p, b"").unwrap();
        let e = load(&file(&p, ImageFormat::Png), 8, 3).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            format!("{d}/empty.png: empty file (0 bytes)")
        );

        let p = dir.path().join("noise.png");
        fs::write(&p, [0x13u8, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x42, 0x99]).unwrap();
        let e = load(&file(&p, ImageFormat::Png), 8, 3).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            format!("{d}/noise.png: cannot decode as PNG: Format error decoding Png: Invalid PNG signature.")
        );

        // A PNG cut short fails instead of yielding a partial image.
        let p = dir.path().join("cut.png");
        RgbImage::from_fn(16, 16, |x, y| Rgb([x as u8, y as u8, 3]))
            .save(&p)
            .unwrap();
        let bytes = fs::read(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let e = load(&file(&p, ImageFormat::Png), 8, 3).unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("{d}/cut.png: cannot decode as PNG: ")),
            "{}",
            e.message
        );

        let p = dir.path().join("text.ppm");
        fs::write(&p, b"hello").unwrap();
        let e = load(&file(&p, ImageFormat::Pnm), 8, 3).unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("{d}/text.ppm: cannot decode as PPM: ")),
            "{}",
            e.message
        );

        let p = dir.path().join("gone.jpg");
        let e = load(&file(&p, ImageFormat::Jpeg), 8, 3).unwrap_err();
        assert!(
            e.message
                .starts_with(&format!("{d}/gone.jpg: cannot read the file: ")),
            "{}",
            e.message
        );
    }

    /// Found by `fuzz/` (target `image`): a 383-byte JPEG declaring 4101×63925 grey pixels was
    /// decoded (262 MB) and resized (over 10 s). Its header now refuses it.
    #[test]
    fn an_image_larger_than_the_pixel_cap_is_refused_from_its_header() {
        let mut out = vec![0u8; 64];
        // An 8×8 grey JPEG whose frame header (SOF0: marker, length, precision, height, width)
        // is made to declare 4101×63925 pixels, as the fuzzer's was.
        let mut jpeg = Cursor::new(Vec::new());
        GrayImage::from_pixel(8, 8, Luma([9]))
            .write_to(&mut jpeg, ImageFormat::Jpeg)
            .unwrap();
        let mut jpeg = jpeg.into_inner();
        let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x10, 0x05, 0xf9, 0xb5]);
        let e = decode_image(&jpeg, ImageFormat::Jpeg, "big.jpg", 8, 1, &mut out).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "big.jpg: 63925×4101 pixels, more than the 33554432 this dataset decodes per image \
             (is the file corrupt?)"
        );
        // The same for a PPM header, and an image at the cap is decoded.
        let ppm = b"P5\n8193 4097\n255\n";
        let e = decode_image(ppm, ImageFormat::Pnm, "big.pgm", 8, 1, &mut out).unwrap_err();
        assert!(
            e.message.contains("8193×4097 pixels, more than"),
            "{}",
            e.message
        );
        let mut at_cap = b"P5\n8192 4096\n255\n".to_vec();
        at_cap.resize(at_cap.len() + (1 << 25), 7);
        decode_image(&at_cap, ImageFormat::Pnm, "cap.pgm", 8, 1, &mut out).unwrap();
        assert!(out.iter().all(|&v| v == 7));
    }

    /// `n` 8×8 images, image `i` filled with the grey level `i % 251`, with bad files at `bad`.
    fn many(dir: &Path, n: usize, bad: &[usize]) -> Vec<ImageFile> {
        (0..n)
            .map(|i| {
                let p = dir.join(format!("{i:04}.png"));
                if bad.contains(&i) {
                    fs::write(&p, b"not a png").unwrap();
                } else {
                    GrayImage::from_pixel(8, 8, Luma([(i % 251) as u8]))
                        .save(&p)
                        .unwrap();
                }
                file(&p, ImageFormat::Png)
            })
            .collect()
    }

    #[test]
    fn parallel_load_keeps_the_file_order() {
        let dir = TempDir::new().unwrap();
        let files = many(dir.path(), 300, &[]);
        let pixels = load_all(&files, 8, 1).unwrap();
        assert_eq!(pixels.len(), 300 * 64);
        for (i, image) in pixels.chunks_exact(64).enumerate() {
            assert!(image.iter().all(|&v| v == (i % 251) as u8), "image {i}");
        }
        assert!(load_all(&[], 8, 3).unwrap().is_empty());
    }

    #[test]
    fn parallel_load_reports_the_first_bad_file() {
        let dir = TempDir::new().unwrap();
        let files = many(dir.path(), 400, &[3, 217, 399]);
        for _ in 0..5 {
            let e = load_all(&files, 8, 1).unwrap_err();
            assert!(
                e.message.starts_with(&format!(
                    "{}/0003.png: cannot decode as PNG",
                    dir.path().display()
                )),
                "{}",
                e.message
            );
        }
        let e = load_all(&files[4..], 8, 1).unwrap_err();
        assert!(e.message.contains("/0217.png: "), "{}", e.message);
    }
}
