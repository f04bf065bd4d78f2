//! The byte encoding of the isolation protocol: little-endian fixed-width numbers, length-prefixed
//! strings and lists, each frame prefixed by its length. f64 and f32 travel as their bits, so a
//! NaN a plugin returns reaches the host's answer checks as the NaN it was.
use std::io::{self, Read, Write};

/// The largest frame either side accepts: a dataset chunk of 1 GiB plus its labels. A length
/// beyond it means a broken stream, not data, and is refused before anything is allocated.
pub const MAX_FRAME: usize = (1 << 30) + (1 << 28);

/// A frame or value that does not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// The frame ended inside a value.
    #[error("the message ended early: {what} needs {need} more bytes, {left} are left")]
    Short {
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        need: usize,
        /// Bytes the frame still holds.
        left: usize,
    },
    /// A tag byte that names no variant.
    #[error("unknown {what} tag {tag}")]
    Tag {
        /// The enum.
        what: &'static str,
        /// The byte read.
        tag: u8,
    },
    /// A string that is not UTF-8.
    #[error("a string that is not UTF-8")]
    Utf8,
    /// Bytes left over after the message.
    #[error("{0} bytes left over after the message")]
    Trailing(usize),
    /// A frame length over [`MAX_FRAME`].
    #[error("a frame of {0} bytes, more than the {MAX_FRAME} allowed")]
    TooLong(usize),
}

/// Writes values into a frame.
#[derive(Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends `v`.
    pub fn put<T: Wire>(&mut self, v: &T) -> &mut Self {
        v.put(self);
        self
    }

    /// Appends bytes as they are (the caller wrote their length).
    pub fn put_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn len(&mut self, n: usize) {
        self.put_raw(&(n as u64).to_le_bytes());
    }
}

/// Reads values from a frame, refusing to read past its end.
pub struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder over one frame.
    pub fn new(frame: &'a [u8]) -> Self {
        Self { rest: frame }
    }

    /// The next value.
    pub fn get<T: Wire>(&mut self) -> Result<T, WireError> {
        T::get(self)
    }

    /// Checks that the whole frame was read.
    pub fn finish(self) -> Result<(), WireError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(WireError::Trailing(n)),
        }
    }

    /// The next `n` bytes as they are.
    pub fn take_raw(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Short {
                what,
                need: n,
                left: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take_raw(N, what)?);
        Ok(a)
    }

    /// A length for `size`-byte elements, checked against what the frame still holds before
    /// anything is allocated for it.
    fn len(&mut self, size: usize, what: &'static str) -> Result<usize, WireError> {
        let n = u64::from_le_bytes(self.array(what)?);
        let need = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(size.max(1)))
            .unwrap_or(usize::MAX);
        if need > self.rest.len() {
            return Err(WireError::Short {
                what,
                need,
                left: self.rest.len(),
            });
        }
        Ok(n as usize)
    }
}

/// A value of the protocol.
pub trait Wire: Sized {
    /// Appends the value.
    fn put(&self, e: &mut Encoder);
    /// Reads one value.
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError>;
    /// The least number of bytes one value takes (for the length checks of lists).
    const MIN_SIZE: usize = 1;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, e: &mut Encoder) {
                e.put_raw(&self.to_le_bytes());
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
                Ok(<$t>::from_le_bytes(d.array(stringify!($t))?))
            }
            const MIN_SIZE: usize = std::mem::size_of::<$t>();
        }
    )*};
}
number!(u8, u32, u64, f32, f64);

impl Wire for bool {
    fn put(&self, e: &mut Encoder) {
        e.put_raw(&[u8::from(*self)]);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        match d.array::<1>("bool")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(WireError::Tag { what: "bool", tag }),
        }
    }
}

impl Wire for String {
    fn put(&self, e: &mut Encoder) {
        e.len(self.len());
        e.put_raw(self.as_bytes());
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let n = d.len(1, "string")?;
        let bytes = d.take_raw(n, "string")?;
        String::from_utf8(bytes.to_vec()).map_err(|_| WireError::Utf8)
    }
    const MIN_SIZE: usize = 8;
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, e: &mut Encoder) {
        e.len(self.len());
        for v in self {
            v.put(e);
        }
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        let n = d.len(T::MIN_SIZE, "list")?;
        (0..n).map(|_| T::get(d)).collect()
    }
    const MIN_SIZE: usize = 8;
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, e: &mut Encoder) {
        match self {
            None => e.put(&0u8),
            Some(v) => e.put(&1u8).put(v),
        };
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        match u8::get(d)? {
            0 => Ok(None),
            1 => Ok(Some(T::get(d)?)),
            tag => Err(WireError::Tag {
                what: "option",
                tag,
            }),
        }
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, e: &mut Encoder) {
        e.put(&self.0).put(&self.1);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok((A::get(d)?, B::get(d)?))
    }
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
}

/// Writes one frame: its length, then its bytes, then flushes.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_FRAME {
        return Err(io::Error::other(WireError::TooLong(payload.len())));
    }
    w.write_all(&(payload.len() as u64).to_le_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of the stream (before a frame starts).
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 8];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let n = u64::from_le_bytes(len);
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            WireError::TooLong(n),
        ));
    }
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)?;
    Ok(Some(buf))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes and decodes `v`, which must come back equal with nothing left over.
    pub(crate) fn round<T: Wire + PartialEq + std::fmt::Debug>(v: T) {
        let mut e = Encoder::default();
        e.put(&v);
        let bytes = e.into_bytes();
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.get::<T>().unwrap(), v);
        d.finish().unwrap();
    }

    #[test]
    fn values_round_trip_bit_for_bit() {
        round(7u8);
        round(u64::MAX);
        round(-0.0f64);
        round(vec![1.5f64, f64::INFINITY, -3.0]);
        round(vec![0.25f32]);
        round(String::from("rotation °"));
        round(Some(vec![String::from("a"), String::new()]));
        round(None::<u32>);
        round((true, 3u32));
        let nan = f64::from_bits(0x7ff8_0000_0000_0123);
        let mut e = Encoder::default();
        e.put(&vec![nan]);
        let bytes = e.into_bytes();
        let back: Vec<f64> = Decoder::new(&bytes).get().unwrap();
        assert_eq!(back[0].to_bits(), nan.to_bits(), "a NaN keeps its bits");
    }

    #[test]
    fn short_bad_and_oversized_input_is_refused_without_allocating() {
        let mut d = Decoder::new(&[1, 2]);
        assert_eq!(
            d.get::<u32>().unwrap_err(),
            WireError::Short {
                what: "u32",
                need: 4,
                left: 2
            }
        );
        // A list claiming 2^60 elements in a 9-byte frame.
        let mut bytes = (1u64 << 60).to_le_bytes().to_vec();
        bytes.push(0);
        let e = Decoder::new(&bytes).get::<Vec<f64>>().unwrap_err();
        assert!(matches!(e, WireError::Short { what: "list", .. }), "{e}");
        assert_eq!(
            Decoder::new(&[2]).get::<bool>().unwrap_err().to_string(),
            "unknown bool tag 2"
        );
        let mut bytes = 2u64.to_le_bytes().to_vec();
        bytes.extend([0xff, 0xfe]);
        assert_eq!(
            Decoder::new(&bytes).get::<String>().unwrap_err(),
            WireError::Utf8
        );
        let mut d = Decoder::new(&[1, 0]);
        d.get::<u8>().unwrap();
        assert_eq!(
            d.finish().unwrap_err().to_string(),
            "1 bytes left over after the message"
        );
    }

    #[test]
    fn frames_round_trip_and_a_cut_or_huge_frame_is_an_error() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"hello");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r).unwrap().is_none(), "clean end");
        let cut = &buf[..10];
        let e = read_frame(&mut &cut[..]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let huge = u64::MAX.to_le_bytes();
        let e = read_frame(&mut &huge[..]).unwrap_err();
        assert!(e.to_string().starts_with("a frame of "), "{e}");
    }
}
