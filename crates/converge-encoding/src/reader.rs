//! The one bounds-checked cursor through which every decoder reads untrusted bytes.
//!
//! Nothing in this crate slices input directly: decoders call [`Reader`] methods, each of which
//! checks the bytes that remain and returns [`DecodeError::NotEnoughInput`] instead of
//! panicking. Counts read from input go through [`Reader::check_count`] before anything is
//! allocated from them.

use crate::error::DecodeError;
use crate::leb128;

/// A cursor over a byte slice. Cheap to copy; copying it is how decoders look ahead.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether all input was consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unconsumed bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// The bytes consumed since position `start` (empty if `start` is not behind the cursor).
    pub fn consumed_since(&self, start: usize) -> &'a [u8] {
        self.data.get(start..self.pos).unwrap_or_default()
    }

    /// Consumes and returns the rest of the input.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.data.len();
        rest
    }

    /// Consumes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        // The error is built only on failure (`ok_or` would build and drop one per call).
        let not_enough = || DecodeError::NotEnoughInput {
            offset: self.pos,
            needed: n,
            remaining: self.remaining(),
        };
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(not_enough)?;
        let out = self.data.get(self.pos..end).ok_or_else(not_enough)?;
        self.pos = end;
        Ok(out)
    }

    /// Consumes exactly `N` bytes into an array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Consumes one byte.
    pub fn take_u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.take_array::<1>()?;
        Ok(b)
    }

    /// A sub-reader over the next `n` bytes, which this reader skips.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        Ok(Reader::new(self.take(n)?))
    }

    /// Strict unsigned LEB128 (overlong encodings rejected), see spec format.md §1.1.
    pub fn uleb(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let (v, n) = leb128::read_u64_strict(self.rest()).map_err(|e| e.at(start))?;
        self.pos += n;
        Ok(v)
    }

    /// Strict signed LEB128 (overlong encodings rejected).
    pub fn sleb(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        let (v, n) = leb128::read_i64_strict(self.rest()).map_err(|e| e.at(start))?;
        self.pos += n;
        Ok(v)
    }

    /// Strict unsigned LEB128 that must fit in a `u32`.
    pub fn uleb_u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let offset = self.pos;
        let v = self.uleb()?;
        u32::try_from(v).map_err(|_| DecodeError::OutOfRange {
            field,
            value: v,
            offset,
        })
    }

    /// Lenient unsigned LEB128 (overlong accepted, overflow rejected): column data only.
    pub fn uleb_lenient(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let (v, n) = leb128::read_u64_lenient(self.rest()).map_err(|e| e.at(start))?;
        self.pos += n;
        Ok(v)
    }

    /// Lenient signed LEB128: column data only.
    pub fn sleb_lenient(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        let (v, n) = leb128::read_i64_lenient(self.rest()).map_err(|e| e.at(start))?;
        self.pos += n;
        Ok(v)
    }

    /// Reads a count (strict uLEB) for a list whose items each take at least
    /// `min_item_bytes` bytes, and rejects it unless that many bytes remain. This is the guard
    /// that keeps every allocation sized by input proportional to the input.
    pub fn count(
        &mut self,
        what: &'static str,
        min_item_bytes: usize,
    ) -> Result<usize, DecodeError> {
        let offset = self.pos;
        let n = self.uleb()?;
        self.check_count(what, n, min_item_bytes, offset)
    }

    /// Checks that `n` items of at least `min_item_bytes` each can fit in what remains.
    pub fn check_count(
        &self,
        what: &'static str,
        n: u64,
        min_item_bytes: usize,
        offset: usize,
    ) -> Result<usize, DecodeError> {
        let limit = (self.remaining() / min_item_bytes.max(1)) as u64;
        if n > limit {
            return Err(DecodeError::CountTooLarge {
                what,
                count: n,
                limit,
                offset,
            });
        }
        usize::try_from(n).map_err(|_| DecodeError::CountTooLarge {
            what,
            count: n,
            limit,
            offset,
        })
    }

    /// A length-prefixed byte string (strict uLEB length).
    pub fn length_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let offset = self.pos;
        let n = self.uleb()?;
        let n = self.check_count("byte string length", n, 1, offset)?;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string (strict uLEB length).
    pub fn string(&mut self) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let bytes = self.length_prefixed()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_is_an_error() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.take(2).ok(), Some(&[1u8, 2][..]));
        assert!(matches!(
            r.take(2),
            Err(DecodeError::NotEnoughInput { offset: 2, .. })
        ));
        assert_eq!(r.take_u8().ok(), Some(3));
        assert!(r.is_empty());
    }

    #[test]
    fn count_is_checked_against_remaining() {
        let mut r = Reader::new(&[0x05, 0, 0]);
        assert!(matches!(
            r.count("items", 1),
            Err(DecodeError::CountTooLarge { count: 5, .. })
        ));
        let mut r = Reader::new(&[0x02, 0, 0]);
        assert_eq!(r.count("items", 1).ok(), Some(2));
    }
}
