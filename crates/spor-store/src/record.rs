//! The stored record: one event in the global log, with its sequence number,
//! the hash of the record before it, and a checksum over all of it.
//!
//! ```text
//! magic 0x53 'S' | version 0x01 | seq u64 BE | prev_hash [32] | len u32 BE | payload [len] | crc32 u32 BE
//! ```
//!
//! The payload is the event's canonical interchange line (UTF-8 JSON), so the
//! log is readable by any later version without this code. The CRC-32 catches
//! every single-bit flip and every truncation (the length field must match);
//! the hash chain (SHA-256 of each whole record, carried by its successor)
//! catches a record rewritten with a valid checksum.

use std::io::Read;

use sha2::{Digest, Sha256};

const MAGIC: u8 = 0x53;
const VERSION: u8 = 0x01;
/// Bytes before the payload.
pub const HEADER: usize = 1 + 1 + 8 + 32 + 4;
/// Bytes after the payload (the CRC).
pub const TRAILER: usize = 4;

/// The longest payload accepted: the interchange line limit.
pub const MAX_PAYLOAD: usize = spor_domain::wire::MAX_LINE_BYTES;

/// A SHA-256 hash of a record; the genesis hash is all zeros.
pub type Hash = [u8; 32];

/// Why bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record is {0} bytes, shorter than a record can be")]
    Short(usize),
    #[error("record does not begin with the record marker")]
    Magic,
    #[error("record version {0} is unknown to this spor")]
    Version(u8),
    #[error("record length field says {declared} payload bytes, but {actual} are there")]
    Length { declared: usize, actual: usize },
    #[error("record checksum mismatch")]
    Checksum,
    #[error("record payload is not UTF-8")]
    Utf8,
}

/// A decoded record, borrowing its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub seq: u64,
    pub prev_hash: Hash,
    pub payload: &'a str,
}

/// Encodes a record. The payload is at most [`MAX_PAYLOAD`] bytes (checked
/// by the line parser before any event gets here).
pub fn encode(seq: u64, prev_hash: &Hash, payload: &str) -> Vec<u8> {
    assert!(
        payload.len() <= MAX_PAYLOAD,
        "payload over the line limit reached the codec"
    );
    let len = u32::try_from(payload.len()).expect("payload length bounded by MAX_PAYLOAD");
    let mut out = Vec::with_capacity(HEADER + payload.len() + TRAILER);
    out.push(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(prev_hash);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload.as_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Decodes and checks a record.
pub fn decode(bytes: &[u8]) -> Result<Record<'_>, RecordError> {
    if bytes.len() < HEADER + TRAILER {
        return Err(RecordError::Short(bytes.len()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - TRAILER);
    let crc = u32::from_be_bytes(crc.try_into().expect("split at 4 bytes from the end"));
    if crc32fast::hash(body) != crc {
        return Err(RecordError::Checksum);
    }
    if body[0] != MAGIC {
        return Err(RecordError::Magic);
    }
    if body[1] != VERSION {
        return Err(RecordError::Version(body[1]));
    }
    let seq = u64::from_be_bytes(body[2..10].try_into().expect("8 bytes"));
    let prev_hash: Hash = body[10..42].try_into().expect("32 bytes");
    let declared = u32::from_be_bytes(body[42..46].try_into().expect("4 bytes"));
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    let payload = &body[HEADER..];
    if declared != payload.len() {
        return Err(RecordError::Length {
            declared,
            actual: payload.len(),
        });
    }
    let payload = std::str::from_utf8(payload).map_err(|_| RecordError::Utf8)?;
    Ok(Record {
        seq,
        prev_hash,
        payload,
    })
}

/// The payload length a record header declares, after checking the marker,
/// the version and the limit (so a damaged length cannot ask for gigabytes).
pub fn payload_len(header: &[u8; HEADER]) -> Result<usize, RecordError> {
    if header[0] != MAGIC {
        return Err(RecordError::Magic);
    }
    if header[1] != VERSION {
        return Err(RecordError::Version(header[1]));
    }
    let declared = u32::from_be_bytes(header[42..46].try_into().expect("4 bytes"));
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    if declared > MAX_PAYLOAD {
        return Err(RecordError::Length {
            declared,
            actual: MAX_PAYLOAD,
        });
    }
    Ok(declared)
}

/// The offset of the first valid record anywhere in `bytes`, if any. Used to
/// tell a torn end of the log (nothing valid after it) from damage inside it.
pub fn find_any(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find(|&i| {
        let Some(header) = bytes
            .get(i..i + HEADER)
            .and_then(|h| <&[u8; HEADER]>::try_from(h).ok())
        else {
            return false;
        };
        let Ok(len) = payload_len(header) else {
            return false;
        };
        bytes
            .get(i..i + HEADER + len + TRAILER)
            .is_some_and(|r| decode(r).is_ok())
    })
}

/// The hash of a whole encoded record, carried by the next record.
pub fn hash(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// Reads one record's bytes into `buf` from a sequential reader, when at
/// most `left` bytes remain: a length that runs past them is an error, not a
/// read. Used by the log's open and the audit trail's walk.
pub fn read_one(reader: &mut impl Read, buf: &mut Vec<u8>, left: u64) -> Result<(), String> {
    let mut header = [0u8; HEADER];
    if left < u64::try_from(HEADER + TRAILER).unwrap_or(u64::MAX) {
        return Err(format!("{left} bytes left, too few for a record"));
    }
    reader.read_exact(&mut header).map_err(|e| e.to_string())?;
    let len = payload_len(&header).map_err(|e| e.to_string())?;
    let total = HEADER + len + TRAILER;
    if u64::try_from(total).unwrap_or(u64::MAX) > left {
        return Err(format!(
            "a record of {total} bytes, but only {left} are left"
        ));
    }
    buf.clear();
    buf.extend_from_slice(&header);
    buf.resize(total, 0);
    reader
        .read_exact(&mut buf[HEADER..])
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64) -> Vec<u8> {
        let payload = format!(
            r#"{{"id":"00000000-0000-4000-8000-{i:012}","participant":"p","unit":"0301","type":"started","date":"2006-03-01","data":{{}}}}"#
        );
        let mut prev = [0u8; 32];
        prev[0] = u8::try_from(i % 251).unwrap();
        encode(i, &prev, &payload)
    }

    #[test]
    fn a_record_round_trips() {
        let bytes = sample(7);
        let r = decode(&bytes).unwrap();
        assert_eq!(r.seq, 7);
        assert_eq!(r.prev_hash[0], 7);
        assert!(r.payload.contains("0301"));
    }

    /// I2: every single-bit flip and every truncation of 500 sample records
    /// is refused by the decoder.
    #[test]
    fn every_bit_flip_and_truncation_is_refused() {
        for i in 0..500 {
            let bytes = sample(i);
            for bit in 0..bytes.len() * 8 {
                let mut b = bytes.clone();
                b[bit / 8] ^= 1 << (bit % 8);
                assert!(
                    decode(&b).is_err(),
                    "record {i}, bit {bit} flipped was accepted"
                );
            }
            for len in 0..bytes.len() {
                assert!(
                    decode(&bytes[..len]).is_err(),
                    "record {i} cut to {len} was accepted"
                );
            }
        }
    }
}
