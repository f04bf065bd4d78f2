//! The image decoding of the `imagefolder` dataset ([`decode_image`]: decode, convert,
//! resize, scatter into planes), on the bytes of one image file.
//!
//! Input: a settings byte, then the file. Settings bits 0..1: the decoder, PNG, JPEG or PPM
//! (3: PNG); bit 2: 1 channel (else 3); bits 3..5: the output side, one of 1, 2, 7, 8, 16, 31,
//! 32, 64.
#![no_main]
use fuzzaug_imagefolder::decode_image;
use image::ImageFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [settings, file @ ..] = data else {
        return;
    };
    let format = match settings & 3 {
        1 => ImageFormat::Jpeg,
        2 => ImageFormat::Pnm,
        _ => ImageFormat::Png,
    };
    let channels = if settings & 4 == 0 { 3 } else { 1 };
    let size = [1u32, 2, 7, 8, 16, 31, 32, 64][usize::from((settings >> 3) & 7)];
    let mut out = vec![0u8; (channels * size * size) as usize];
    let _ = decode_image(file, format, "/fuzz/image", size, channels, &mut out);
});
