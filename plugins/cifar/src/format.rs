//! The CIFAR binary record formats: counting, validating and decoding batch files, and reading
//! the class-name files.
use crate::source::Member;
use fuzzaug_sdk::{PluginError, SplitData};

/// Colour channels of a CIFAR image.
pub const CHANNELS: usize = 3;
/// Height and width of a CIFAR image, in pixels.
pub const SIDE: usize = 32;
/// Pixel bytes of one image: the R, G and B planes, each row-major 32×32, i.e. already C×H×W.
pub const IMAGE_BYTES: usize = CHANNELS * SIDE * SIDE;

/// One label byte of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelField {
    /// Byte offset of the label within the record.
    pub offset: usize,
    /// What the label is called in messages ("label", "fine label", ...).
    pub what: &'static str,
    /// Number of classes; valid values are `0..classes`.
    pub classes: usize,
}

/// The layout of one record of a CIFAR binary batch: label bytes, then [`IMAGE_BYTES`] pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFormat {
    /// The data set's name in messages ("CIFAR-10").
    pub dataset: &'static str,
    /// Every label byte of the record, in record order; the pixels follow the last one.
    pub fields: &'static [LabelField],
}

impl RecordFormat {
    /// Bytes before the pixels.
    pub fn label_bytes(&self) -> usize {
        self.fields.len()
    }

    /// Bytes of one record.
    pub fn record_bytes(&self) -> usize {
        self.label_bytes() + IMAGE_BYTES
    }
}

/// CIFAR-10: one label byte (0..=9), then the pixels: 3073 bytes.
pub const CIFAR10: RecordFormat = RecordFormat {
    dataset: "CIFAR-10",
    fields: &[LabelField {
        offset: 0,
        what: "label",
        classes: 10,
    }],
};

/// CIFAR-100: the coarse label byte (0..=19), the fine label byte (0..=99), then the pixels:
/// 3074 bytes.
pub const CIFAR100: RecordFormat = RecordFormat {
    dataset: "CIFAR-100",
    fields: &[
        LabelField {
            offset: 0,
            what: "coarse label",
            classes: 20,
        },
        LabelField {
            offset: 1,
            what: "fine label",
            classes: 100,
        },
    ],
};

/// The number of records in one batch file, after checking its size.
pub fn count_records(format: &RecordFormat, batch: &Member) -> Result<usize, PluginError> {
    let record = format.record_bytes();
    let size = batch.bytes.len();
    if size == 0 {
        return Err(PluginError::new(format!(
            "{}: the file is empty (expected {} records of {record} bytes)",
            batch.name, format.dataset
        )));
    }
    let (count, rest) = (size / record, size % record);
    if rest != 0 {
        return Err(PluginError::new(format!(
            "{}: size {size} is not a multiple of {record} bytes (one {} record)",
            batch.name, format.dataset
        )));
    }
    Ok(count)
}

/// Decodes the records of `batches` in order: checks every label byte of every record, and keeps
/// the pixels and the label `field` (an index into `format.fields`) of the first `keep` records.
/// The batches must have passed [`count_records`], and `keep` must not exceed their total.
pub fn decode(
    format: &RecordFormat,
    field: usize,
    batches: &[Member],
    keep: usize,
) -> Result<SplitData, PluginError> {
    let record = format.record_bytes();
    let label_bytes = format.label_bytes();
    let chosen = format.fields.get(field).ok_or_else(|| {
        PluginError::new(format!(
            "bug: {} has no label field {field}",
            format.dataset
        ))
    })?;
    // One allocation of the final size: the pixels are copied once, straight into place.
    let mut pixels = Vec::with_capacity(keep * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(keep);
    for batch in batches {
        let records = batch.bytes.chunks_exact(record);
        if !records.remainder().is_empty() {
            return Err(PluginError::new(format!(
                "bug: {} was decoded before its size was checked",
                batch.name
            )));
        }
        for (index, rec) in records.enumerate() {
            check_labels(format, batch, index, rec)?;
            if labels.len() < keep {
                labels.push(u32::from(rec[chosen.offset]));
                pixels.extend_from_slice(&rec[label_bytes..]);
            }
        }
    }
    if labels.len() != keep {
        return Err(PluginError::new(format!(
            "bug: asked to keep {keep} {} images of {}",
            format.dataset,
            labels.len()
        )));
    }
    SplitData::new(pixels, labels, IMAGE_BYTES)
}

/// Checks every label byte of record `index` (counting from 0) of `batch`.
fn check_labels(
    format: &RecordFormat,
    batch: &Member,
    index: usize,
    rec: &[u8],
) -> Result<(), PluginError> {
    for f in format.fields {
        let value = rec[f.offset];
        if usize::from(value) >= f.classes {
            return Err(PluginError::new(format!(
                "{}: record {index} (counting from 0) has {} {value}, outside the allowed range 0..={}",
                batch.name,
                f.what,
                f.classes - 1
            )));
        }
    }
    Ok(())
}

/// The class names of a names file: one per line, empty lines ignored; exactly `expected` of
/// them.
pub fn class_names(file: &Member, expected: usize) -> Result<Vec<String>, PluginError> {
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        PluginError::new(format!(
            "{}: not a UTF-8 text file of class names ({e})",
            file.name
        ))
    })?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if names.len() != expected {
        return Err(PluginError::new(format!(
            "{}: holds {} class names, expected {expected} (one per line)",
            file.name,
            names.len()
        )));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, bytes: Vec<u8>) -> Member {
        Member {
            name: name.to_string(),
            bytes,
        }
    }

    fn record(format: &RecordFormat, labels: &[u8], fill: u8) -> Vec<u8> {
        let mut r = labels.to_vec();
        r.extend((0..IMAGE_BYTES).map(|i| (i as u8).wrapping_add(fill)));
        assert_eq!(r.len(), format.record_bytes());
        r
    }

    #[test]
    fn record_sizes() {
        assert_eq!(CIFAR10.record_bytes(), 3073);
        assert_eq!(CIFAR100.record_bytes(), 3074);
    }

    #[test]
    fn decode_keeps_a_prefix_but_checks_every_record() {
        let a = member(
            "a",
            [
                record(&CIFAR100, &[1, 50], 0),
                record(&CIFAR100, &[2, 60], 9),
            ]
            .concat(),
        );
        let b = member("b", record(&CIFAR100, &[3, 70], 7));
        let all = [a, b];
        assert_eq!(count_records(&CIFAR100, &all[0]).unwrap(), 2);
        let fine = decode(&CIFAR100, 1, &all, 3).unwrap();
        assert_eq!(fine.labels(), [50, 60, 70]);
        assert_eq!(fine.pixels().len(), 3 * IMAGE_BYTES);
        assert_eq!(fine.pixels()[IMAGE_BYTES..IMAGE_BYTES + 3], [9, 10, 11]);
        let coarse = decode(&CIFAR100, 0, &all, 2).unwrap();
        assert_eq!(coarse.labels(), [1, 2]);
        assert_eq!(coarse.pixels(), &fine.pixels()[..2 * IMAGE_BYTES]);

        // A bad label after the kept prefix is still an error.
        let bad = member("c", record(&CIFAR100, &[20, 1], 0));
        let e = decode(&CIFAR100, 1, &[all[0].clone(), bad], 1).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "c: record 0 (counting from 0) has coarse label 20, outside the allowed range 0..=19"
        );
    }

    #[test]
    fn names_ignore_empty_lines_and_line_endings() {
        let f = member("m", b"cat\r\n\r\ndog\n  \nfish\n\n".to_vec());
        assert_eq!(class_names(&f, 3).unwrap(), ["cat", "dog", "fish"]);
        let e = class_names(&f, 4).unwrap_err();
        assert_eq!(
            e.message.as_str(),
            "m: holds 3 class names, expected 4 (one per line)"
        );
        let e = class_names(&member("m", vec![0xff, b'\n']), 1).unwrap_err();
        assert!(
            e.message
                .starts_with("m: not a UTF-8 text file of class names"),
            "{}",
            e.message
        );
    }
}
