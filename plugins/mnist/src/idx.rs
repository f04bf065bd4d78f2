//! The IDX format of MNIST: a big-endian header (magic number, then one u32 per dimension)
//! followed by exactly the product of the dimensions in unsigned bytes.
use crate::source::Source;
use fuzzaug_sdk::PluginError;

/// Magic number of a u8 array with 3 dimensions (images: count, rows, cols).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a u8 array with 1 dimension (labels: count).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// A validated images file: `count` images of `rows`×`cols` u8 pixels, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// `count × rows × cols` pixels.
    pub pixels: Vec<u8>,
}

/// Parses the bytes of an images file (`magic 0x00000803`).
pub fn parse_images(source: &Source, bytes: Vec<u8>) -> Result<Images, PluginError> {
    let (dims, pixels) = parse(source, bytes, IMAGES_MAGIC, "images")?;
    let [count, rows, cols] = [dims[0], dims[1], dims[2]];
    if count == 0 || rows == 0 || cols == 0 {
        return Err(PluginError::new(format!(
            "{}: holds no pixels: dimensions {count}×{rows}×{cols}",
            source.show()
        )));
    }
    Ok(Images {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Parses the bytes of a labels file (`magic 0x00000801`) and checks every label is below
/// `classes`; `dataset` names the set in the out-of-range message.
pub fn parse_labels(
    source: &Source,
    bytes: Vec<u8>,
    classes: usize,
    dataset: &str,
) -> Result<Vec<u8>, PluginError> {
    let (_, labels) = parse(source, bytes, LABELS_MAGIC, "labels")?;
    if let Some((index, &label)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| usize::from(l) >= classes)
    {
        return Err(PluginError::new(format!(
            "{}: label {label} at index {index} is out of range ({dataset} has {classes} classes, labels 0 to {})",
            source.show(),
            classes - 1
        )));
    }
    Ok(labels)
}

/// Checks the header against `magic` and the data length against the dimensions; returns the
/// dimensions and the data. `what` names the contents ("images", "labels") in messages.
fn parse(
    source: &Source,
    mut bytes: Vec<u8>,
    magic: u32,
    what: &str,
) -> Result<(Vec<usize>, Vec<u8>), PluginError> {
    let file = source.show();
    // Sizes of the gzip's contents, not of the file on disk, so say which.
    let unit = if source.gz {
        "decompressed bytes"
    } else {
        "bytes"
    };
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);

    if bytes.len() < 4 {
        return Err(PluginError::new(format!(
            "{file}: truncated: {} {unit}, too short for the 4-byte IDX magic number",
            bytes.len()
        )));
    }
    let found = word(0);
    if found != magic {
        let hint = if found == IMAGES_MAGIC || found == LABELS_MAGIC {
            let other = if found == IMAGES_MAGIC {
                "images"
            } else {
                "labels"
            };
            format!("; this is an IDX {other} file, is it misnamed?")
        } else if found >> 16 == 0x1f8b {
            "; this is gzip data, name it with a .gz suffix".to_string()
        } else {
            String::new()
        };
        return Err(PluginError::new(format!(
            "{file}: wrong magic number: expected 0x{magic:08x} (IDX {what}: u8 with {ndims} dimension{}), found 0x{found:08x}{hint}",
            if ndims == 1 { "" } else { "s" }
        )));
    }
    if bytes.len() < header {
        return Err(PluginError::new(format!(
            "{file}: truncated: {} {unit}, too short for the {header}-byte IDX {what} header",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (0..ndims).map(|d| word(4 + 4 * d) as usize).collect();
    // u128 cannot overflow for three u32 factors.
    let expected = dims.iter().map(|&d| d as u128).product::<u128>();
    let found = (bytes.len() - header) as u128;
    if found != expected {
        let shape = dims
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("×");
        let problem = if found < expected {
            "truncated"
        } else {
            "trailing bytes"
        };
        return Err(PluginError::new(format!(
            "{file}: {problem}: {shape} {what} need {expected} data bytes after the {header}-byte header, found {found} ({} {unit} in all)",
            bytes.len()
        )));
    }
    bytes.drain(..header);
    Ok((dims, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn src(gz: bool) -> Source {
        Source {
            path: PathBuf::from("/d/f"),
            gz,
        }
    }

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect()
    }

    #[test]
    fn parses_images_and_labels() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 1, 3]);
        bytes.extend([1, 2, 3, 4, 5, 6]);
        let images = parse_images(&src(false), bytes).unwrap();
        assert_eq!(
            images,
            Images {
                count: 2,
                rows: 1,
                cols: 3,
                pixels: vec![1, 2, 3, 4, 5, 6]
            }
        );
        let mut bytes = header(LABELS_MAGIC, &[3]);
        bytes.extend([9, 0, 4]);
        assert_eq!(
            parse_labels(&src(false), bytes, 10, "MNIST").unwrap(),
            [9, 0, 4]
        );
    }

    #[test]
    fn header_errors() {
        let e = parse_images(&src(false), vec![0, 0, 8]).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: truncated: 3 bytes, too short for the 4-byte IDX magic number"
        );
        let e = parse_images(&src(true), header(IMAGES_MAGIC, &[1, 1])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: truncated: 12 decompressed bytes, too short for the 16-byte IDX images header"
        );
        let e =
            parse_labels(&src(false), header(IMAGES_MAGIC, &[0, 0, 0]), 10, "MNIST").unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: wrong magic number: expected 0x00000801 (IDX labels: u8 with 1 dimension), \
             found 0x00000803; this is an IDX images file, is it misnamed?"
        );
        let e = parse_images(&src(false), vec![0x1f, 0x8b, 8, 0, 0, 0]).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: wrong magic number: expected 0x00000803 (IDX images: u8 with 3 dimensions), \
             found 0x1f8b0800; this is gzip data, name it with a .gz suffix"
        );
    }

    #[test]
    fn length_errors() {
        let mut bytes = header(LABELS_MAGIC, &[4]);
        bytes.extend([1, 2, 3, 4, 5]);
        let e = parse_labels(&src(false), bytes, 10, "MNIST").unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: trailing bytes: 4 labels need 4 data bytes after the 8-byte header, \
             found 5 (13 bytes in all)"
        );
        // Dimensions whose product overflows 64 bits are merely "truncated".
        let e = parse_images(&src(false), header(IMAGES_MAGIC, &[u32::MAX; 3])).unwrap_err();
        assert!(e.message.starts_with("/d/f: truncated: "), "{}", e.message);
        let e = parse_images(&src(false), header(IMAGES_MAGIC, &[0, 28, 28])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: holds no pixels: dimensions 0×28×28"
        );
    }
}
