//! The `.npy` format of numpy (`np.save`), versions 1.0, 2.0 and 3.0: the magic string
//! `\x93NUMPY`, two version bytes, the header's length (a little-endian u16 in version 1.0, u32
//! in 2.0 and 3.0), the header (a Python dict literal with the keys `'descr'`, `'fortran_order'`
//! and `'shape'`, Latin-1 text in 1.0 and 2.0, UTF-8 in 3.0), then the array's bytes.
//!
//! Only the header is parsed here ([`read_header`]); what the array must be is the caller's
//! business. The header is read with a bound ([`MAX_HEADER_BYTES`]), and nothing past it.
use fuzzaug_sdk::PluginError;
use std::io::Read;

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header this plugin reads: numpy's own limit when loading (`max_header_size`,
/// 10,000 bytes). `np.save` writes a few dozen bytes for the arrays of CIFAR-10-C.
pub const MAX_HEADER_BYTES: u64 = 10_000;

/// The header of a `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version, (major, minor): (1, 0), (2, 0) or (3, 0).
    pub version: (u8, u8),
    /// The dtype, as numpy writes it (`'|u1'`, `'<i8'`, ...).
    pub descr: String,
    /// Whether the data is stored column-major.
    pub fortran_order: bool,
    /// The array's dimensions.
    pub shape: Vec<u64>,
    /// Bytes before the data: magic, version, length field and header text.
    pub data_offset: u64,
}

impl Header {
    /// The shape as Python writes a tuple: `(20, 32, 32, 3)`, `(20,)`, `()`.
    pub fn shape_text(&self) -> String {
        shape_text(&self.shape)
    }

    /// The number of data bytes the header declares for items of `item_bytes` bytes, or `None`
    /// when that overflows a u64 (no file holds that much).
    pub fn data_bytes(&self, item_bytes: u64) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(item_bytes, |n, &d| n.checked_mul(d))
    }
}

/// A shape as Python writes a tuple.
pub fn shape_text(shape: &[u64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        dims => {
            let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Reads up to `limit` more bytes of `reader` into `out`; fewer only where the data ends.
fn read_up_to(
    reader: &mut impl Read,
    out: &mut Vec<u8>,
    limit: u64,
    file: &str,
) -> Result<(), PluginError> {
    reader
        .take(limit)
        .read_to_end(out)
        .map(drop)
        .map_err(|e| PluginError::new(format!("{file}: cannot read: {e}")))
}

/// Reads and parses the header at the start of `reader`, the contents of `file` (its name in
/// messages). Reads at most 12 bytes and then the header length it declares, which must be at
/// most [`MAX_HEADER_BYTES`]; never anything of the data.
pub fn read_header(reader: &mut impl Read, file: &str) -> Result<Header, PluginError> {
    let mut start = Vec::with_capacity(12);
    read_up_to(reader, &mut start, 8, file)?;
    let seen = start.len().min(MAGIC.len());
    if start[..seen] != MAGIC[..seen] || start.is_empty() {
        return Err(PluginError::new(format!(
            "{file}: not a .npy file: it does not start with the magic string \\x93NUMPY"
        )));
    }
    if start.len() < 8 {
        return Err(PluginError::new(format!(
            "{file}: truncated: {} bytes, too short for the .npy magic string and version",
            start.len()
        )));
    }
    let version = (start[6], start[7]);
    let length_bytes = match version {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        (major, minor) => {
            return Err(PluginError::new(format!(
                "{file}: .npy format version {major}.{minor} is not supported (this plugin reads \
                 versions 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let prefix = 8 + length_bytes;
    read_up_to(reader, &mut start, length_bytes as u64, file)?;
    if start.len() < prefix {
        return Err(PluginError::new(format!(
            "{file}: truncated: {} bytes, too short for the {prefix}-byte start of a version \
             {}.0 .npy file",
            start.len(),
            version.0
        )));
    }
    let header_len = start[8..prefix]
        .iter()
        .rev()
        .fold(0u64, |n, &b| (n << 8) | u64::from(b));
    if header_len > MAX_HEADER_BYTES {
        return Err(PluginError::new(format!(
            "{file}: the .npy header declares a {header_len}-byte header, more than the \
             {MAX_HEADER_BYTES} bytes numpy itself reads (is the file corrupt?)"
        )));
    }
    let mut text = Vec::new();
    read_up_to(reader, &mut text, header_len, file)?;
    if (text.len() as u64) < header_len {
        return Err(PluginError::new(format!(
            "{file}: truncated: the .npy header declares a {header_len}-byte header after the \
             first {prefix} bytes, but the file ends after {} bytes",
            prefix + text.len()
        )));
    }
    let text = if version.0 == 3 {
        String::from_utf8(text).map_err(|_| {
            PluginError::new(format!(
                "{file}: the header of a version 3.0 .npy file is not UTF-8 text"
            ))
        })?
    } else {
        // Latin-1: every byte is the code point of its value.
        text.iter().map(|&b| char::from(b)).collect()
    };
    let (descr, fortran_order, shape) = header_fields(&text, version.0 < 3).map_err(|why| {
        PluginError::new(format!(
            "{file}: cannot read the .npy header {:?}: {why}",
            text.trim_end()
        ))
    })?;
    Ok(Header {
        version,
        descr,
        fortran_order,
        shape,
        data_offset: prefix as u64 + header_len,
    })
}

/// A Python literal of a `.npy` header.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    None,
    Int(i128),
    Tuple(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    /// What it is, for messages.
    fn kind(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Bool(_) => "a boolean",
            Self::None => "None",
            Self::Int(_) => "an integer",
            Self::Tuple(_) => "a tuple",
            Self::Dict(_) => "a dictionary",
        }
    }
}

/// The three fields of the header dict `text`; `python2_longs` accepts the `L` suffix that
/// numpy under Python 2 could write after integers (numpy itself accepts it in versions 1.0
/// and 2.0).
fn header_fields(text: &str, python2_longs: bool) -> Result<(String, bool, Vec<u64>), String> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        python2_longs,
    };
    let value = parser.value()?;
    parser.skip_space();
    if let Some(c) = parser.peek() {
        return Err(format!(
            "unexpected `{c}` at character {} after the dictionary",
            parser.at + 1
        ));
    }
    let Literal::Dict(entries) = value else {
        return Err(format!("the header is {}, not a dictionary", value.kind()));
    };
    const KEYS: [&str; 3] = ["descr", "fortran_order", "shape"];
    let mut found: [Option<Literal>; 3] = [None, None, None];
    for (key, value) in entries {
        let Literal::Str(key) = key else {
            return Err(format!("a key is {}, not a string", key.kind()));
        };
        let Some(slot) = KEYS.iter().position(|k| *k == key) else {
            return Err(format!(
                "unexpected key '{key}' (a .npy header holds exactly 'descr', 'fortran_order' \
                 and 'shape')"
            ));
        };
        if found[slot].replace(value).is_some() {
            return Err(format!("the key '{key}' appears twice"));
        }
    }
    let [descr, fortran, shape] = found;
    let missing = |key: &str| format!("no key '{key}'");
    let descr = match descr.ok_or_else(|| missing("descr"))? {
        Literal::Str(s) => s,
        other => {
            return Err(format!(
                "'descr' is {}, not a string (structured dtypes are not image data)",
                other.kind()
            ))
        }
    };
    let fortran = match fortran.ok_or_else(|| missing("fortran_order"))? {
        Literal::Bool(b) => b,
        other => {
            return Err(format!(
                "'fortran_order' is {}, not True or False",
                other.kind()
            ))
        }
    };
    let shape = match shape.ok_or_else(|| missing("shape"))? {
        Literal::Tuple(dims) => dims
            .into_iter()
            .map(|d| match d {
                Literal::Int(n) => u64::try_from(n)
                    .map_err(|_| format!("'shape' holds {n}, not a size of 0 or more")),
                other => Err(format!("'shape' holds {}, not an integer", other.kind())),
            })
            .collect::<Result<Vec<u64>, String>>()?,
        other => return Err(format!("'shape' is {}, not a tuple", other.kind())),
    };
    Ok((descr, fortran, shape))
}

/// A recursive-descent parser of the Python literals a `.npy` header can hold: strings,
/// `True`, `False`, `None`, integers, tuples and dicts.
struct Parser {
    chars: Vec<char>,
    at: usize,
    python2_longs: bool,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(c) => format!(
                "unexpected `{c}` at character {} (expected {wanted})",
                self.at + 1
            ),
            None => format!("the header ends where {wanted} was expected"),
        }
    }

    /// Skips whitespace, then takes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        let next = self.peek() == Some(c);
        if next {
            self.at += 1;
        }
        next
    }

    fn value(&mut self) -> Result<Literal, String> {
        self.skip_space();
        match self.peek() {
            Some(q @ ('\'' | '"')) => self.string(q),
            Some('{') => self.dict(),
            Some('(') => self.tuple(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_alphabetic() => self.word(),
            _ => Err(self.unexpected("a string, True, False, None, an integer or a tuple")),
        }
    }

    fn string(&mut self, quote: char) -> Result<Literal, String> {
        self.at += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err("a string is not closed".to_string()),
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(Literal::Str(s));
                }
                Some('\\') => {
                    self.at += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| "a string is not closed".to_string())?;
                    s.push(c);
                    self.at += 1;
                }
                Some(c) => {
                    s.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn word(&mut self) -> Result<Literal, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        match word.as_str() {
            "True" => Ok(Literal::Bool(true)),
            "False" => Ok(Literal::Bool(false)),
            "None" => Ok(Literal::None),
            _ => Err(format!(
                "unexpected `{word}` at character {} (expected a string, True, False, None, an \
                 integer or a tuple)",
                start + 1
            )),
        }
    }

    fn int(&mut self) -> Result<Literal, String> {
        let start = self.at;
        let negative = self.peek() == Some('-');
        if negative {
            self.at += 1;
            self.skip_space();
        }
        let digits_start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at == digits_start {
            return Err(self.unexpected("digits"));
        }
        let digits: String = self.chars[digits_start..self.at].iter().collect();
        if self.python2_longs && matches!(self.peek(), Some('L' | 'l')) {
            self.at += 1;
        }
        let n: i128 = digits
            .parse()
            .map_err(|_| format!("the integer at character {} is too large", start + 1))?;
        Ok(Literal::Int(if negative { -n } else { n }))
    }

    /// `(a, b, ...)`, `(a,)` and `()` are tuples; `(a)` is `a`, as in Python.
    fn tuple(&mut self) -> Result<Literal, String> {
        self.at += 1;
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(')') {
                break;
            }
            items.push(self.value()?);
            if self.eat(',') {
                comma = true;
            } else if self.eat(')') {
                break;
            } else {
                return Err(self.unexpected("`,` or `)`"));
            }
        }
        match (items.len(), comma) {
            (1, false) => Ok(items.remove(0)),
            _ => Ok(Literal::Tuple(items)),
        }
    }

    fn dict(&mut self) -> Result<Literal, String> {
        self.at += 1;
        let mut entries = Vec::new();
        loop {
            if self.eat('}') {
                break;
            }
            let key = self.value()?;
            if !self.eat(':') {
                return Err(self.unexpected("`:`"));
            }
            let value = self.value()?;
            entries.push((key, value));
            if self.eat(',') {
                continue;
            }
            if self.eat('}') {
                break;
            }
            return Err(self.unexpected("`,` or `}`"));
        }
        Ok(Literal::Dict(entries))
    }
}

/// The integer dtypes numpy writes on a little-endian machine, which labels may have.
pub const LABEL_DTYPES: [&str; 8] = ["|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"];

/// A little-endian integer dtype: its size in bytes and whether it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntType {
    /// Bytes per item: 1, 2, 4 or 8.
    pub bytes: usize,
    /// Whether values are two's complement.
    pub signed: bool,
}

impl IntType {
    /// The type of `descr` when it is one of [`LABEL_DTYPES`].
    pub fn of(descr: &str) -> Option<Self> {
        LABEL_DTYPES.contains(&descr).then(|| Self {
            bytes: usize::from(descr.as_bytes()[2] - b'0'),
            signed: descr.as_bytes()[1] == b'i',
        })
    }

    /// The values of `data`, items of this type one after another; bytes after the last whole
    /// item are left out.
    pub fn values(self, data: &[u8]) -> impl Iterator<Item = i64> + '_ {
        data.chunks_exact(self.bytes).map(move |item| {
            let mut word = [0u8; 8];
            word[..item.len()].copy_from_slice(item);
            let raw = u64::from_le_bytes(word);
            let unused = 64 - 8 * self.bytes as u32;
            if self.signed {
                // Sign-extends the item's top bit.
                ((raw << unused) as i64) >> unused
            } else {
                // An unsigned value above i64::MAX is out of range anyway: saturate.
                i64::try_from(raw).unwrap_or(i64::MAX)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::npy_file as file;

    fn header(bytes: &[u8]) -> Result<Header, PluginError> {
        read_header(&mut &bytes[..], "/d/x.npy")
    }

    fn error(bytes: &[u8]) -> String {
        header(bytes).unwrap_err().message.to_string()
    }

    fn dict_error(dict: &str) -> String {
        error(&file(1, dict, &[]))
    }

    const IMAGES: &str = "{'descr': '|u1', 'fortran_order': False, 'shape': (20, 32, 32, 3), }";

    #[test]
    fn reads_the_three_versions() {
        for version in [1, 2, 3] {
            let bytes = file(version, IMAGES, &[1, 2, 3]);
            let h = header(&bytes).unwrap();
            assert_eq!(h.version, (version, 0));
            assert_eq!(h.descr, "|u1");
            assert!(!h.fortran_order);
            assert_eq!(h.shape, [20, 32, 32, 3]);
            assert_eq!(h.data_offset, 128, "version {version}");
            assert_eq!(h.data_offset as usize, bytes.len() - 3);
            assert_eq!(h.shape_text(), "(20, 32, 32, 3)");
            assert_eq!(h.data_bytes(1), Some(61_440));
            assert_eq!(h.data_bytes(8), Some(491_520));
        }
    }

    #[test]
    fn reads_nothing_past_the_header() {
        let bytes = file(1, IMAGES, &[7; 100]);
        let mut reader = &bytes[..];
        let h = read_header(&mut reader, "f").unwrap();
        assert_eq!(reader.len(), 100);
        assert_eq!(h.data_offset, 128);
    }

    #[test]
    fn python_literal_variants_numpy_accepts() {
        let parse = |dict: &str| {
            let h = header(&file(1, dict, &[])).unwrap();
            (h.descr, h.fortran_order, h.shape)
        };
        let want = ("<i8".to_string(), false, vec![50_000]);
        // Another key order, double quotes, no trailing comma, odd spacing.
        assert_eq!(
            parse("{\"shape\":(50000,),\"fortran_order\":False,\"descr\":\"<i8\"}"),
            want
        );
        assert_eq!(
            parse("{ 'descr' : '<i8' ,\n 'fortran_order' : False , 'shape' : ( 50000 , ) , }"),
            want
        );
        // Python 2 longs, in versions 1.0 and 2.0 only (as numpy).
        assert_eq!(
            parse("{'descr': '<i8', 'fortran_order': False, 'shape': (50000L,), }"),
            want
        );
        // A parenthesised value is the value; () is the empty tuple; escapes are kept.
        assert_eq!(
            parse("{'descr': ('<i8'), 'fortran_order': (False), 'shape': (), }"),
            ("<i8".to_string(), false, vec![])
        );
        assert_eq!(
            parse(r"{'descr': 'a\'b', 'fortran_order': True, 'shape': (1, 2)}"),
            ("a'b".to_string(), true, vec![1, 2])
        );
        let h = header(&file(
            1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (5,)}",
            &[],
        ))
        .unwrap();
        assert_eq!(h.shape_text(), "(5,)");
        assert_eq!(shape_text(&[]), "()");
        let v3 = file(
            3,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (5L,)}",
            &[],
        );
        assert_eq!(
            error(&v3),
            "/d/x.npy: cannot read the .npy header \"{'descr': '<i8', 'fortran_order': False, \
             'shape': (5L,)}\": unexpected `L` at character 53 (expected `,` or `)`)"
        );
    }

    #[test]
    fn the_start_of_the_file_is_checked() {
        let not_npy =
            "/d/x.npy: not a .npy file: it does not start with the magic string \\x93NUMPY";
        assert_eq!(error(b"PK\x03\x04 a zip file"), not_npy);
        assert_eq!(error(b""), not_npy);
        assert_eq!(error(b"\x93NUMPZ\x01\x00"), not_npy);
        assert_eq!(
            error(b"\x93NUM"),
            "/d/x.npy: truncated: 4 bytes, too short for the .npy magic string and version"
        );
        assert_eq!(
            error(b"\x93NUMPY\x01"),
            "/d/x.npy: truncated: 7 bytes, too short for the .npy magic string and version"
        );
        for (major, minor) in [(4, 0), (1, 1), (0, 0)] {
            let mut bytes = file(1, IMAGES, &[]);
            bytes[6..8].copy_from_slice(&[major, minor]);
            assert_eq!(
                error(&bytes),
                format!(
                    "/d/x.npy: .npy format version {major}.{minor} is not supported (this \
                     plugin reads versions 1.0, 2.0 and 3.0)"
                )
            );
        }
        assert_eq!(
            error(b"\x93NUMPY\x01\x00\x76"),
            "/d/x.npy: truncated: 9 bytes, too short for the 10-byte start of a version 1.0 .npy \
             file"
        );
        assert_eq!(
            error(b"\x93NUMPY\x02\x00\x76\x00\x00"),
            "/d/x.npy: truncated: 11 bytes, too short for the 12-byte start of a version 2.0 .npy \
             file"
        );
    }

    #[test]
    fn the_header_length_is_bounded_and_checked() {
        let mut huge = b"\x93NUMPY\x02\x00".to_vec();
        huge.extend(4_000_000_000u32.to_le_bytes());
        assert_eq!(
            error(&huge),
            "/d/x.npy: the .npy header declares a 4000000000-byte header, more than the 10000 \
             bytes numpy itself reads (is the file corrupt?)"
        );
        let bytes = file(1, IMAGES, &[]);
        assert_eq!(
            error(&bytes[..100]),
            "/d/x.npy: truncated: the .npy header declares a 118-byte header after the first 10 \
             bytes, but the file ends after 100 bytes"
        );
        let mut v3 = file(
            3,
            "{'descr': '|u1', 'fortran_order': False, 'shape': ()}",
            &[],
        );
        v3[20] = 0xff;
        assert_eq!(
            error(&v3),
            "/d/x.npy: the header of a version 3.0 .npy file is not UTF-8 text"
        );
        // The same byte is Latin-1 text in version 1.0 (and then not valid Python here).
        let mut v1 = file(
            1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': ()}",
            &[],
        );
        v1[18] = 0xff;
        assert!(
            error(&v1).contains("unexpected `ÿ` at character 9"),
            "{}",
            error(&v1)
        );
    }

    #[test]
    fn each_fault_of_the_dict_is_named() {
        let prefix = "/d/x.npy: cannot read the .npy header";
        let cases = [
            ("[1, 2]", "unexpected `[` at character 1 (expected a string, True, False, None, an integer or a tuple)"),
            ("(1, 2)", "the header is a tuple, not a dictionary"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (1,)} x", "unexpected `x` at character 57 after the dictionary"),
            ("{'descr': '|u1', 'fortran_order': False}", "no key 'shape'"),
            ("{'fortran_order': False, 'shape': (1,)}", "no key 'descr'"),
            ("{'descr': '|u1', 'shape': (1,)}", "no key 'fortran_order'"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), 'x': 1}", "unexpected key 'x' (a .npy header holds exactly 'descr', 'fortran_order' and 'shape')"),
            ("{'descr': '|u1', 'descr': '|u1'}", "the key 'descr' appears twice"),
            ("{1: 2}", "a key is an integer, not a string"),
            ("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,)}", "unexpected `[` at character 11 (expected a string, True, False, None, an integer or a tuple)"),
            ("{'descr': None, 'fortran_order': False, 'shape': (1,)}", "'descr' is None, not a string (structured dtypes are not image data)"),
            ("{'descr': '|u1', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' is an integer, not True or False"),
            ("{'descr': '|u1', 'fortran_order': false, 'shape': (1,)}", "unexpected `false` at character 35 (expected a string, True, False, None, an integer or a tuple)"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': 5}", "'shape' is an integer, not a tuple"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (5)}", "'shape' is an integer, not a tuple"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (5, -1)}", "'shape' holds -1, not a size of 0 or more"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (5, 'a')}", "'shape' holds a string, not an integer"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (5, 2 3)}", "unexpected `3` at character 57 (expected `,` or `)`)"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999999999999999999999999,)}", "the integer at character 52 is too large"),
            ("{'descr': '|u1', 'fortran_order': False, 'shape': (-,)}", "unexpected `,` at character 53 (expected digits)"),
            ("{'descr' '|u1'}", "unexpected `'` at character 10 (expected `:`)"),
            ("{'descr': '|u1' 'x'}", "unexpected `'` at character 17 (expected `,` or `}`)"),
            ("{'descr': '|u1", "a string is not closed"),
            ("{'descr': '|u1\\", "a string is not closed"),
            ("{'descr': ", "the header ends where a string, True, False, None, an integer or a tuple was expected"),
        ];
        for (dict, why) in cases {
            // The message shows the header without numpy's padding.
            assert_eq!(
                dict_error(dict),
                format!("{prefix} {:?}: {why}", dict.trim_end()),
                "{dict}"
            );
        }
    }

    #[test]
    fn shape_sizes_do_not_overflow() {
        let h = header(&file(
            1,
            "{'descr': '|u1', 'fortran_order': False, 'shape': (18446744073709551615, 2)}",
            &[],
        ))
        .unwrap();
        assert_eq!(h.data_bytes(1), None);
        assert_eq!(h.shape, [u64::MAX, 2]);
    }

    #[test]
    fn label_dtypes_decode_little_endian() {
        for descr in LABEL_DTYPES {
            let t = IntType::of(descr).unwrap();
            let mut data = Vec::new();
            for v in [0i64, 9, 3] {
                data.extend(&v.to_le_bytes()[..t.bytes]);
            }
            assert_eq!(t.values(&data).collect::<Vec<_>>(), [0, 9, 3], "{descr}");
        }
        assert_eq!(
            IntType::of("<i2").unwrap(),
            IntType {
                bytes: 2,
                signed: true
            }
        );
        let i1 = IntType::of("|i1").unwrap();
        assert_eq!(i1.values(&[0xff, 0x80]).collect::<Vec<_>>(), [-1, -128]);
        let u1 = IntType::of("|u1").unwrap();
        assert_eq!(u1.values(&[0xff, 0x80]).collect::<Vec<_>>(), [255, 128]);
        let i8 = IntType::of("<i8").unwrap();
        assert_eq!(i8.values(&(-7i64).to_le_bytes()).collect::<Vec<_>>(), [-7]);
        let u8 = IntType::of("<u8").unwrap();
        assert_eq!(
            u8.values(&u64::MAX.to_le_bytes()).collect::<Vec<_>>(),
            [i64::MAX]
        );
        let u4 = IntType::of("<u4").unwrap();
        assert_eq!(
            u4.values(&[1, 0, 0, 1, 2]).collect::<Vec<_>>(),
            [1 << 24 | 1]
        );
        for other in [">i8", "<f4", "|b1", "<u1x", "=i8", "i8", "<i3", ""] {
            assert_eq!(IntType::of(other), None, "{other}");
        }
    }
}
