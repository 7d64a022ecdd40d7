//! LEB128, as automerge 0.12 reads and writes it (spec format.md §1.1).
//!
//! Writers always emit the minimal encoding. There are two readers because the reference has
//! two: the *strict* one (chunk headers, change header fields, raw integer values in changes,
//! everything in sync messages) rejects overlong encodings; the *lenient* one (RLE, delta and
//! boolean column data) accepts them. Both reject values that do not fit in 64 bits.

use crate::error::DecodeError;

/// Why a LEB128 read failed, before the caller attaches an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LebError {
    /// Input ended inside the number.
    Eof,
    /// A redundant final byte (strict reader only).
    Overlong,
    /// More than 64 bits.
    TooLarge,
}

impl LebError {
    pub(crate) fn at(self, offset: usize) -> DecodeError {
        match self {
            LebError::Eof => DecodeError::NotEnoughInput {
                offset,
                needed: 1,
                remaining: 0,
            },
            LebError::Overlong => DecodeError::Leb128Overlong { offset },
            LebError::TooLarge => DecodeError::Leb128TooLarge { offset },
        }
    }
}

/// Reads an unsigned LEB128; returns the value and the bytes consumed.
#[inline]
fn read_u64(input: &[u8], strict: bool) -> Result<(u64, usize), LebError> {
    // Most numbers in columns are one byte.
    if let Some(&byte) = input.first()
        && byte < 0x80
    {
        return Ok((u64::from(byte), 1));
    }
    let mut result: u64 = 0;
    for (i, &byte) in input.iter().enumerate() {
        let low = u64::from(byte & 0x7f);
        if i == 9 {
            // The 10th byte holds bit 63 only and must end the number.
            if byte > 1 {
                return Err(LebError::TooLarge);
            }
        }
        result |= low << (7 * i);
        if byte & 0x80 == 0 {
            if strict && i > 0 && byte == 0 {
                return Err(LebError::Overlong);
            }
            return Ok((result, i + 1));
        }
    }
    Err(LebError::Eof)
}

/// Reads a signed LEB128; returns the value and the bytes consumed.
#[inline]
fn read_i64(input: &[u8], strict: bool) -> Result<(i64, usize), LebError> {
    // Most numbers in columns are one byte: seven bits, sign-extended.
    if let Some(&byte) = input.first()
        && byte < 0x80
    {
        return Ok(((i64::from(byte) << 57) >> 57, 1));
    }
    let mut result: i64 = 0;
    let mut prev: u8 = 0;
    for (i, &byte) in input.iter().enumerate() {
        if i == 9 && byte != 0x00 && byte != 0x7f {
            return Err(LebError::TooLarge);
        }
        result |= i64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if strict && i > 0 {
                let prev_sign = prev & 0x40 != 0;
                if (byte == 0x00 && !prev_sign) || (byte == 0x7f && prev_sign) {
                    return Err(LebError::Overlong);
                }
            }
            let shift = 7 * (i + 1);
            if shift < 64 && byte & 0x40 != 0 {
                result |= -1i64 << shift;
            }
            return Ok((result, i + 1));
        }
        prev = byte;
    }
    Err(LebError::Eof)
}

/// Strict unsigned read (overlong rejected).
pub(crate) fn read_u64_strict(input: &[u8]) -> Result<(u64, usize), LebError> {
    read_u64(input, true)
}

/// Lenient unsigned read (overlong accepted).
pub(crate) fn read_u64_lenient(input: &[u8]) -> Result<(u64, usize), LebError> {
    read_u64(input, false)
}

/// Strict signed read (overlong rejected).
pub(crate) fn read_i64_strict(input: &[u8]) -> Result<(i64, usize), LebError> {
    read_i64(input, true)
}

/// Lenient signed read (overlong accepted).
pub(crate) fn read_i64_lenient(input: &[u8]) -> Result<(i64, usize), LebError> {
    read_i64(input, false)
}

/// Appends the minimal unsigned LEB128 encoding of `v`.
pub fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends the minimal signed LEB128 encoding of `v`.
pub fn write_i64(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Length in bytes of the minimal unsigned encoding of `v`.
pub fn u64_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Length in bytes of the minimal signed encoding of `v`.
pub fn i64_len(v: i64) -> usize {
    // Bits needed including the sign bit.
    let magnitude = if v < 0 { !v } else { v } as u64;
    let bits = 65 - magnitude.leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Strict unsigned read of a whole slice (for tests and callers holding a slice).
pub fn decode_u64_strict(input: &[u8]) -> Result<(u64, usize), DecodeError> {
    read_u64_strict(input).map_err(|e| e.at(0))
}

/// Strict signed read of a whole slice.
pub fn decode_i64_strict(input: &[u8]) -> Result<(i64, usize), DecodeError> {
    read_i64_strict(input).map_err(|e| e.at(0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    fn enc_u(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_u64(&mut out, v);
        out
    }
    fn enc_i(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_i64(&mut out, v);
        out
    }

    #[test]
    fn spec_examples() {
        assert_eq!(enc_i(0), [0x00]);
        assert_eq!(enc_i(-1), [0x7f]);
        assert_eq!(enc_i(63), [0x3f]);
        assert_eq!(enc_i(64), [0xc0, 0x00]);
        assert_eq!(enc_i(-64), [0x40]);
        assert_eq!(enc_i(-65), [0xbf, 0x7f]);
        assert_eq!(enc_i(128), [0x80, 0x01]);
        assert_eq!(enc_u(128), [0x80, 0x01]);
        assert_eq!(enc_u(u64::MAX).len(), 10);
        assert_eq!(enc_i(i64::MIN).len(), 10);
    }

    #[test]
    fn strict_rejects_overlong_lenient_accepts() {
        assert_eq!(read_u64_strict(&[0x81, 0x00]), Err(LebError::Overlong));
        assert_eq!(read_u64_lenient(&[0x81, 0x00]), Ok((1, 2)));
        assert_eq!(read_i64_strict(&[0xff, 0x7f]), Err(LebError::Overlong));
        assert_eq!(read_i64_lenient(&[0xff, 0x7f]), Ok((-1, 2)));
        assert_eq!(read_i64_strict(&[0x80, 0x00]), Err(LebError::Overlong));
        // 64 needs two bytes: c0 00 is minimal, not overlong.
        assert_eq!(read_i64_strict(&[0xc0, 0x00]), Ok((64, 2)));
        assert_eq!(read_i64_strict(&[0xbf, 0x7f]), Ok((-65, 2)));
    }

    #[test]
    fn too_large_and_truncated() {
        let mut eleven = vec![0xffu8; 10];
        eleven.push(0x01);
        assert_eq!(read_u64_lenient(&eleven), Err(LebError::TooLarge));
        let mut ten = vec![0xffu8; 9];
        ten.push(0x02);
        assert_eq!(read_u64_strict(&ten), Err(LebError::TooLarge));
        assert_eq!(read_u64_strict(&[0x80, 0x80]), Err(LebError::Eof));
        assert_eq!(read_u64_strict(&[]), Err(LebError::Eof));
    }

    quickcheck! {
        fn u64_round_trip(v: u64) -> bool {
            let e = enc_u(v);
            e.len() == u64_len(v) && read_u64_strict(&e) == Ok((v, e.len()))
        }
        fn i64_round_trip(v: i64) -> bool {
            let e = enc_i(v);
            e.len() == i64_len(v) && read_i64_strict(&e) == Ok((v, e.len()))
        }
        fn strict_accepts_only_minimal_u(bytes: Vec<u8>) -> bool {
            match read_u64_strict(&bytes) {
                Ok((v, n)) => enc_u(v) == bytes[..n],
                Err(_) => true,
            }
        }
        fn strict_accepts_only_minimal_i(bytes: Vec<u8>) -> bool {
            match read_i64_strict(&bytes) {
                Ok((v, n)) => enc_i(v) == bytes[..n],
                Err(_) => true,
            }
        }
    }
}
