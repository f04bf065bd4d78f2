//! TFRecord framing, the container of event files: each record is its length (`u64` LE), the
//! masked CRC-32C of those 8 bytes (`u32` LE), the data, and the masked CRC-32C of the data.

/// Added after rotating, so that a CRC over bytes that embed CRCs stays well mixed.
const MASK_DELTA: u32 = 0xa282_ead8;

/// TFRecord's masked CRC-32C (Castagnoli) of `bytes`: `((crc >> 15) | (crc << 17)) + delta`.
pub(crate) fn masked_crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
        .rotate_right(15)
        .wrapping_add(MASK_DELTA)
}

/// `data` framed as one record.
pub(crate) fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// Splits `bytes` into the records' data, checking both CRCs of each; for tests.
#[cfg(test)]
pub(crate) fn unframe(mut bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut records = Vec::new();
    while !bytes.is_empty() {
        let (data, rest) =
            unframe_one(bytes).map_err(|e| format!("record {}: {e}", records.len()))?;
        records.push(data);
        bytes = rest;
    }
    Ok(records)
}

/// The first record's data and what follows it.
#[cfg(test)]
fn unframe_one(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let header = bytes.get(..12).ok_or("cut in the header")?;
    let (len, len_crc) = header.split_at(8);
    check_crc(len, len_crc, "length")?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().unwrap())).unwrap();
    let end = 12usize.checked_add(len).ok_or("length overflows")?;
    let data = bytes.get(12..end).ok_or("cut in the data")?;
    let crc = bytes.get(end..end + 4).ok_or("cut in the data CRC")?;
    check_crc(data, crc, "data")?;
    Ok((data, &bytes[end + 4..]))
}

#[cfg(test)]
fn check_crc(bytes: &[u8], crc: &[u8], what: &str) -> Result<(), String> {
    let stored = u32::from_le_bytes(crc.try_into().unwrap());
    let actual = masked_crc(bytes);
    if stored == actual {
        Ok(())
    } else {
        Err(format!(
            "{what} CRC mismatch: stored {stored:#010x}, computed {actual:#010x}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_and_mask_on_known_vector() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // The value TensorBoard's own `masked_crc32c(b"123456789")` gives.
        assert_eq!(masked_crc(b"123456789"), 0xC78A_B0E5);
        let crc = 0xE306_9283u32;
        // Spelled as the TFRecord format documents it, to check `rotate_right` against it.
        #[allow(clippy::manual_rotate)]
        let by_formula = ((crc >> 15) | (crc << 17)).wrapping_add(MASK_DELTA);
        assert_eq!(masked_crc(b"123456789"), by_formula);
    }

    #[test]
    fn frame_layout() {
        let framed = frame(b"abc");
        assert_eq!(framed.len(), 8 + 4 + 3 + 4);
        assert_eq!(&framed[..8], &3u64.to_le_bytes());
        assert_eq!(
            &framed[8..12],
            &masked_crc(&3u64.to_le_bytes()).to_le_bytes()
        );
        assert_eq!(&framed[12..15], b"abc");
        assert_eq!(&framed[15..], &masked_crc(b"abc").to_le_bytes());
    }

    #[test]
    fn frame_round_trip() {
        let items: [&[u8]; 3] = [b"", b"x", &[7u8; 1000]];
        let bytes: Vec<u8> = items.iter().flat_map(|d| frame(d)).collect();
        assert_eq!(unframe(&bytes).unwrap(), items);
    }

    #[test]
    fn corrupt_or_cut_record_is_detected() {
        let good = frame(b"hello");
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            assert!(unframe(&bad).is_err(), "flip at byte {at} went unnoticed");
        }
        for cut in 1..good.len() {
            assert!(
                unframe(&good[..cut]).is_err(),
                "cut at {cut} went unnoticed"
            );
        }
    }
}
