//! The IDX format of MNIST: a big-endian header (magic number, then one u32 per dimension)
//! followed by exactly the product of the dimensions in unsigned bytes.
//!
//! The header is read first and fixes the file's exact size, so the data is read with that
//! bound: a file (or gzip stream) that goes on past it is refused after one byte too many,
//! whatever its real size, and a header declaring more than [`MAX_FILE_BYTES`] is refused
//! before anything is allocated.
use crate::source::{Source, Stream};
use fuzzaug_sdk::PluginError;
use std::io::Read;

/// Magic number of a u8 array with 3 dimensions (images: count, rows, cols).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a u8 array with 1 dimension (labels: count).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The largest IDX file (header included, decompressed) this plugin reads: 2 GiB.
///
/// The whole file is held in memory, so the header's word is not taken on trust. The largest
/// IDX files in use are EMNIST ByClass's training images, 697,932 of 28×28 (0.55 GB); MNIST's
/// and Fashion-MNIST's are 47 MB. A header declaring more than 2 GiB is far likelier to be
/// corrupt (or hostile) than real, and the check comes before any allocation.
pub const MAX_FILE_BYTES: u64 = 1 << 31;

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

/// Opens and parses an images file (`magic 0x00000803`).
pub fn read_images(source: &Source) -> Result<Images, PluginError> {
    parse_images(source.open()?)
}

/// Opens and parses a labels file (`magic 0x00000801`); see [`parse_labels`].
pub fn read_labels(source: &Source, classes: usize, dataset: &str) -> Result<Vec<u8>, PluginError> {
    parse_labels(source.open()?, classes, dataset)
}

/// Parses the contents of an images file (`magic 0x00000803`).
pub fn parse_images<R: Read>(stream: Stream<'_, R>) -> Result<Images, PluginError> {
    let source = stream.source();
    let (dims, pixels) = parse(stream, IMAGES_MAGIC, "images")?;
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

/// Parses the contents of a labels file (`magic 0x00000801`) and checks every label is below
/// `classes`; `dataset` names the set in the out-of-range message.
pub fn parse_labels<R: Read>(
    stream: Stream<'_, R>,
    classes: usize,
    dataset: &str,
) -> Result<Vec<u8>, PluginError> {
    let source = stream.source();
    let (_, labels) = parse(stream, LABELS_MAGIC, "labels")?;
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

/// Reads the header, checks it against `magic`, then reads exactly the data it declares and
/// checks that nothing follows; returns the dimensions and the data. `what` names the contents
/// ("images", "labels") in messages.
fn parse<R: Read>(
    mut stream: Stream<'_, R>,
    magic: u32,
    what: &str,
) -> Result<(Vec<usize>, Vec<u8>), PluginError> {
    let file = stream.source().show();
    // Sizes of the gzip's contents, not of the file on disk, so say which.
    let unit = if stream.source().gz {
        "decompressed bytes"
    } else {
        "bytes"
    };
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let words = |bytes: &[u8]| -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .collect()
    };

    let mut header = Vec::with_capacity(header_len);
    stream.read_up_to(&mut header, 4)?;
    let found = match words(&header)[..] {
        [found] => found,
        _ => {
            return Err(PluginError::new(format!(
                "{file}: truncated: {} {unit}, too short for the 4-byte IDX magic number",
                header.len()
            )))
        }
    };
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
    stream.read_up_to(&mut header, (header_len - 4) as u64)?;
    if header.len() < header_len {
        return Err(PluginError::new(format!(
            "{file}: truncated: {} {unit}, too short for the {header_len}-byte IDX {what} header",
            header.len()
        )));
    }
    let dims: Vec<u32> = words(&header[4..]);
    let shape = dims
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("×");
    // At most three u32 factors: u128 cannot overflow.
    let data_len = dims.iter().map(|&d| u128::from(d)).product::<u128>();
    let total = data_len + header_len as u128;
    let (data_len, total) = match (u64::try_from(data_len), u64::try_from(total)) {
        (Ok(d), Ok(t)) if t <= MAX_FILE_BYTES => (d, t),
        _ => {
            return Err(PluginError::new(format!(
                "{file}: the header declares {shape} {what}, a {total}-byte file, more than \
                 the {MAX_FILE_BYTES} bytes (2 GiB) this plugin reads; is the header corrupt?"
            )))
        }
    };
    let length_error = |found: u64, in_all: u64| {
        let problem = if found < data_len {
            "truncated"
        } else {
            "trailing bytes"
        };
        PluginError::new(format!(
            "{file}: {problem}: {shape} {what} need {data_len} data bytes after the \
             {header_len}-byte header, found {found} ({in_all} {unit} in all)"
        ))
    };
    // A raw file's size is known: a wrong one is reported exactly, and nothing is allocated.
    if let Some(len) = stream.disk_len() {
        if len != total {
            return Err(length_error(len.saturating_sub(header_len as u64), len));
        }
    }

    let too_big = || {
        PluginError::new(format!(
            "{file}: {shape} {what} ({data_len} bytes) do not fit in memory"
        ))
    };
    let mut data = Vec::new();
    data.try_reserve_exact(usize::try_from(data_len).map_err(|_| too_big())?)
        .map_err(|_| too_big())?;
    stream.read_up_to(&mut data, data_len)?;
    let found = data.len() as u64;
    if found < data_len {
        return Err(length_error(found, found + header_len as u64));
    }
    if !stream.at_end()? {
        return Err(PluginError::new(format!(
            "{file}: trailing bytes: the header declares {shape} {what}, a {total}-byte file \
             ({header_len}-byte header and {data_len} data bytes), but the {} goes on past \
             that (not read any further)",
            if stream.source().gz {
                "decompressed data"
            } else {
                "file"
            }
        )));
    }
    let dims = dims.into_iter().map(|d| d as usize).collect();
    Ok((dims, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{read::MultiGzDecoder, write::GzEncoder, Compression};
    use std::{
        cell::Cell,
        io::{self, Write},
        path::PathBuf,
        rc::Rc,
    };

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

    /// Parses `bytes` as the contents of raw file `/d/f` (its size on disk known) or, with
    /// `gz`, as the decompressed contents of `/d/f`.
    fn images(gz: bool, bytes: &[u8]) -> Result<Images, PluginError> {
        let s = src(gz);
        parse_images(Stream::new(&s, bytes, (!gz).then_some(bytes.len() as u64)))
    }

    fn labels(gz: bool, bytes: &[u8]) -> Result<Vec<u8>, PluginError> {
        let s = src(gz);
        parse_labels(
            Stream::new(&s, bytes, (!gz).then_some(bytes.len() as u64)),
            10,
            "MNIST",
        )
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        // The best level: zeros shrink about 1000-fold, against about 200-fold at the fastest.
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A reader that counts the bytes taken from it and fails once `limit` have been: a parser
    /// reading more than it should sees that error instead of finishing.
    struct Counted<R> {
        inner: R,
        pulled: Rc<Cell<u64>>,
        limit: u64,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let left = self.limit - self.pulled.get();
            if left == 0 {
                return Err(io::Error::other("read past the test's limit"));
            }
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self.inner.read(&mut buf[..want])?;
            self.pulled.set(self.pulled.get() + n as u64);
            Ok(n)
        }
    }

    #[test]
    fn parses_images_and_labels() {
        let mut bytes = header(IMAGES_MAGIC, &[2, 1, 3]);
        bytes.extend([1, 2, 3, 4, 5, 6]);
        assert_eq!(
            images(false, &bytes).unwrap(),
            Images {
                count: 2,
                rows: 1,
                cols: 3,
                pixels: vec![1, 2, 3, 4, 5, 6]
            }
        );
        assert_eq!(images(true, &bytes).unwrap().pixels, [1, 2, 3, 4, 5, 6]);
        let mut bytes = header(LABELS_MAGIC, &[3]);
        bytes.extend([9, 0, 4]);
        assert_eq!(labels(false, &bytes).unwrap(), [9, 0, 4]);
    }

    #[test]
    fn header_errors() {
        let e = images(false, &[0, 0, 8]).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: truncated: 3 bytes, too short for the 4-byte IDX magic number"
        );
        let e = images(true, &header(IMAGES_MAGIC, &[1, 1])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: truncated: 12 decompressed bytes, too short for the 16-byte IDX images header"
        );
        let e = labels(false, &header(IMAGES_MAGIC, &[0, 0, 0])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: wrong magic number: expected 0x00000801 (IDX labels: u8 with 1 dimension), \
             found 0x00000803; this is an IDX images file, is it misnamed?"
        );
        let e = images(false, &[0x1f, 0x8b, 8, 0, 0, 0]).unwrap_err();
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
        let e = labels(false, &bytes).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: trailing bytes: 4 labels need 4 data bytes after the 8-byte header, \
             found 5 (13 bytes in all)"
        );
        // Inside gzip data the total is not known without inflating it all, so it is not.
        let e = labels(true, &bytes).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: trailing bytes: the header declares 4 labels, a 12-byte file (8-byte header \
             and 4 data bytes), but the decompressed data goes on past that (not read any further)"
        );
        let e = labels(true, &bytes[..11]).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: truncated: 4 labels need 4 data bytes after the 8-byte header, \
             found 3 (11 decompressed bytes in all)"
        );
        let e = images(false, &header(IMAGES_MAGIC, &[0, 28, 28])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: holds no pixels: dimensions 0×28×28"
        );
    }

    #[test]
    fn absurd_declared_sizes_are_refused_before_reading_the_data() {
        // Far past any real IDX file: 2^96 bytes, which no 64-bit size holds.
        let e = images(true, &header(IMAGES_MAGIC, &[u32::MAX; 3])).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: the header declares 4294967295×4294967295×4294967295 images, a \
             79228162458924105385300197391-byte file, more than the 2147483648 bytes (2 GiB) \
             this plugin reads; is the header corrupt?"
        );
        // One byte over the cap.
        let dims = [1, 1, (MAX_FILE_BYTES - 15) as u32];
        let e = images(false, &header(IMAGES_MAGIC, &dims)).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: the header declares 1×1×2147483633 images, a 2147483649-byte file, more \
             than the 2147483648 bytes (2 GiB) this plugin reads; is the header corrupt?"
        );
        // The data after such a header is never touched: an endless stream ends at the header.
        let pulled = Rc::new(Cell::new(0));
        let endless = Counted {
            inner: io::Cursor::new(header(IMAGES_MAGIC, &[100_000, 256, 256])).chain(io::repeat(7)),
            pulled: pulled.clone(),
            limit: 1 << 20,
        };
        let s = src(false);
        let e = parse_images(Stream::new(&s, endless, None)).unwrap_err();
        assert!(
            e.message
                .starts_with("/d/f: the header declares 100000×256×256 images, a 6553600016-byte"),
            "{}",
            e.message
        );
        assert_eq!(pulled.get(), 16);
    }

    #[test]
    fn reading_stops_one_byte_past_the_declared_size() {
        // A pipe (no size on disk) that never ends after 2 labels: read 8 + 2 + 1 bytes.
        let pulled = Rc::new(Cell::new(0));
        let endless = Counted {
            inner: io::Cursor::new(header(LABELS_MAGIC, &[2])).chain(io::repeat(1)),
            pulled: pulled.clone(),
            limit: 1 << 20,
        };
        let s = src(false);
        let e = parse_labels(Stream::new(&s, endless, None), 10, "MNIST").unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: trailing bytes: the header declares 2 labels, a 10-byte file (8-byte header \
             and 2 data bytes), but the file goes on past that (not read any further)"
        );
        assert_eq!(pulled.get(), 11);
    }

    #[test]
    fn a_gzip_bomb_is_inflated_no_further_than_its_header_declares() {
        // 10 images of 28×28 declared, then 512 MiB of zeros: one member holding the header
        // and 8 MiB, then 63 members of 8 MiB each (about 8 KiB compressed apiece).
        let zeros = vec![0u8; 8 << 20];
        let mut first = header(IMAGES_MAGIC, &[10, 28, 28]);
        first.extend_from_slice(&zeros);
        let mut bomb = gzip(&first);
        let member = gzip(&zeros);
        for _ in 0..63 {
            bomb.extend_from_slice(&member);
        }
        assert!(bomb.len() < 1 << 20, "{} bytes compressed", bomb.len());
        // Inflating all of it would take the counted reader past its limit and fail the parse
        // with that reader's error.
        let pulled = Rc::new(Cell::new(0));
        let inflated = Counted {
            inner: MultiGzDecoder::new(bomb.as_slice()),
            pulled: pulled.clone(),
            limit: 1 << 20,
        };
        let s = src(true);
        let e = parse_images(Stream::new(&s, inflated, None)).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "/d/f: trailing bytes: the header declares 10×28×28 images, a 7856-byte file \
             (16-byte header and 7840 data bytes), but the decompressed data goes on past that \
             (not read any further)"
        );
        assert_eq!(pulled.get(), 7856 + 1);
    }
}
