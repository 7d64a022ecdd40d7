//! The value metadata + raw value column pair (spec format.md §4.4).

use super::rle::{RleDecoder, RleEncoder};
use crate::error::DecodeError;
use crate::leb128;
use crate::reader::Reader;
use crate::value::{ScalarValue, ValueRef};

/// One value as stored: its metadata word and its raw bytes, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawValue<'a> {
    /// `(byte_len << 4) | type_code`.
    pub meta: u64,
    /// The raw bytes (for type codes 0-2, always empty: see [`ValueDecoder`]).
    pub bytes: &'a [u8],
}

impl RawValue<'_> {
    /// The 4-bit type code.
    pub fn type_code(&self) -> u8 {
        (self.meta & 0xf) as u8
    }

    /// Checks the bytes against the type without allocating: integers must be valid LEB128
    /// (with `strict_ints`, minimal and filling the length, as in changes), floats 8 bytes,
    /// strings UTF-8.
    pub fn validate(&self, strict_ints: bool) -> Result<(), DecodeError> {
        match self.type_code() {
            6 => std::str::from_utf8(self.bytes)
                .map(|_| ())
                .map_err(|_| DecodeError::InvalidUtf8 { offset: 0 }),
            7 | 10..=15 => Ok(()),
            _ => ValueRef::decode_raw(self.meta, self.bytes, strict_ints).map(|_| ()),
        }
    }

    /// The typed value (allocates for strings, bytes and unknown types).
    pub fn to_scalar(&self, strict_ints: bool) -> Result<ScalarValue, DecodeError> {
        ScalarValue::decode_raw(self.meta, self.bytes, strict_ints)
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        if self.type_code() == 6 {
            std::str::from_utf8(self.bytes).ok()
        } else {
            None
        }
    }
}

/// Streaming decoder of a (metadata, raw) column pair. A null metadata row is an error.
///
/// As in the reference, rows of type null/false/true consume no raw bytes whatever length
/// their metadata states. Trailing raw bytes are not checked here ([`ValueDecoder::raw_rest`]).
#[derive(Clone, Debug)]
pub struct ValueDecoder<'a> {
    meta: RleDecoder<'a, u64>,
    raw: Reader<'a>,
    strict_ints: bool,
    row: u64,
    failed: bool,
}

impl<'a> ValueDecoder<'a> {
    /// A decoder over the metadata column and the raw column. `canonical` applies to the
    /// metadata RLE; `strict_ints` selects the change rule for integer bytes
    /// ([`ScalarValue::decode_raw`]).
    pub fn new(meta: &'a [u8], raw: &'a [u8], canonical: bool, strict_ints: bool) -> Self {
        ValueDecoder {
            meta: RleDecoder::new(meta, canonical),
            raw: Reader::new(raw),
            strict_ints,
            row: 0,
            failed: false,
        }
    }

    /// The next value's metadata and bytes, validated as by [`RawValue::validate`].
    pub fn next_raw(&mut self) -> Option<Result<RawValue<'a>, DecodeError>> {
        if self.failed {
            return None;
        }
        let r = self.step();
        if let Some(Err(_)) = r {
            self.failed = true;
        }
        r
    }

    fn step(&mut self) -> Option<Result<RawValue<'a>, DecodeError>> {
        let meta = match self.meta.next()? {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Some(Err(DecodeError::UnexpectedNull {
                    column: "value metadata",
                    row: self.row,
                }));
            }
            Err(e) => return Some(Err(e)),
        };
        self.row += 1;
        let len = if meta & 0xf <= 2 { 0 } else { meta >> 4 };
        let Ok(len) = usize::try_from(len) else {
            return Some(Err(DecodeError::NotEnoughInput {
                offset: self.raw.position(),
                needed: usize::MAX,
                remaining: self.raw.remaining(),
            }));
        };
        let bytes = match self.raw.take(len) {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let v = RawValue { meta, bytes };
        Some(v.validate(self.strict_ints).map(|()| v))
    }

    /// The metadata rows after the last value returned that its run still holds (see
    /// [`RowsAhead`](super::rle::RowsAhead)).
    pub(crate) fn meta_rows_ahead(&self) -> super::rle::RowsAhead<u64> {
        if self.failed {
            super::rle::RowsAhead::Unknown
        } else {
            self.meta.rows_ahead()
        }
    }

    /// Passes over `k` values whose metadata repeats one that says no raw bytes (the caller
    /// checked with [`Self::meta_rows_ahead`]), as `k` calls of `next_raw` would.
    pub(crate) fn skip_empty_values(&mut self, k: u64) -> Result<Option<()>, DecodeError> {
        let skipped = self.meta.skip_rows(k, (), |(), _, _| ())?;
        if skipped.is_some() {
            self.row += k;
        }
        Ok(skipped)
    }

    /// Raw bytes not consumed so far.
    pub fn raw_rest(&self) -> &'a [u8] {
        self.raw.rest()
    }

    /// Whether any LEB128 number in the metadata column was overlong.
    pub fn saw_overlong(&self) -> bool {
        self.meta.saw_overlong()
    }

    /// Whether both columns were consumed completely.
    pub fn is_done(&self) -> bool {
        self.meta.is_done() && self.raw.is_empty()
    }
}

impl Iterator for ValueDecoder<'_> {
    type Item = Result<ScalarValue, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let strict = self.strict_ints;
        Some(self.next_raw()?.and_then(|v| v.to_scalar(strict)))
    }
}

/// Canonical encoder of a (metadata, raw) column pair.
#[derive(Clone, Debug, Default)]
pub struct ValueEncoder {
    meta: RleEncoder<u64>,
    raw: Vec<u8>,
}

impl ValueEncoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one value.
    pub fn append(&mut self, v: &ScalarValue) {
        let meta = v.encode_raw(&mut self.raw);
        self.meta.append_value(meta);
    }

    /// Appends one borrowed value.
    pub fn append_ref(&mut self, v: crate::value::ValueRef<'_>) {
        let meta = v.encode_raw(&mut self.raw);
        self.meta.append_value(meta);
    }

    /// Appends a string value without building a [`ScalarValue`].
    pub fn append_str(&mut self, s: &str) {
        self.raw.extend_from_slice(s.as_bytes());
        self.meta.append_value(((s.len() as u64) << 4) | 6);
    }

    /// Appends a value given as metadata word and raw bytes (`bytes.len()` must equal
    /// `meta >> 4`).
    pub fn append_raw(&mut self, v: RawValue<'_>) {
        debug_assert_eq!(v.bytes.len() as u64, v.meta >> 4);
        self.raw.extend_from_slice(v.bytes);
        self.meta.append_value(v.meta);
    }

    /// Appends an int value.
    pub fn append_int(&mut self, v: i64) {
        let len = leb128::i64_len(v) as u64;
        leb128::write_i64(&mut self.raw, v);
        self.meta.append_value((len << 4) | 4);
    }

    /// Appends the `n` rows of finished columns `meta` (from its cursor on) and `raw` (all
    /// of it: the bytes of those rows), as if they had been appended one by one.
    pub fn copy_rows(
        &mut self,
        meta: &mut super::RleRuns<'_, u64>,
        raw: &[u8],
        n: u64,
    ) -> Result<(), crate::error::DecodeError> {
        let bytes = self.meta.copy_weighted(meta, n, |m| m >> 4)?;
        if bytes != raw.len() as u64 {
            return Err(crate::error::DecodeError::ColumnLengthMismatch {
                spec: super::ColumnSpec::new(5, super::ColumnType::Value).raw(),
                expected: bytes,
                found: raw.len() as u64,
            });
        }
        self.raw.extend_from_slice(raw);
        Ok(())
    }

    /// Drops everything appended, keeping the buffers.
    pub fn clear(&mut self) {
        self.meta.clear();
        self.raw.clear();
    }

    /// Writes the metadata column to `meta` and the raw column to `raw`, and resets the
    /// encoder (keeping its buffers).
    pub fn finish_into(&mut self, meta: &mut Vec<u8>, raw: &mut Vec<u8>) {
        self.meta.finish_into(meta);
        raw.extend_from_slice(&self.raw);
        self.raw.clear();
    }

    /// Returns (metadata column, raw column).
    pub fn finish(mut self) -> (Vec<u8>, Vec<u8>) {
        let mut meta = Vec::new();
        let mut raw = Vec::new();
        self.finish_into(&mut meta, &mut raw);
        (meta, raw)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        let mut e = ValueEncoder::new();
        e.append(&ScalarValue::Null);
        e.append(&ScalarValue::Str("a".into()));
        e.append(&ScalarValue::Str("b".into()));
        let (meta, raw) = e.finish();
        assert_eq!(meta, [0x7f, 0x00, 0x02, 0x16]);
        assert_eq!(raw, b"ab");
        let back: Vec<_> = ValueDecoder::new(&meta, &raw, true, true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            back,
            [
                ScalarValue::Null,
                ScalarValue::Str("a".into()),
                ScalarValue::Str("b".into())
            ]
        );
    }

    #[test]
    fn rejections() {
        // null metadata
        assert!(matches!(
            ValueDecoder::new(&[0x00, 0x01], &[], false, true).next(),
            Some(Err(DecodeError::UnexpectedNull { .. }))
        ));
        // float of 4 bytes
        assert!(
            ValueDecoder::new(&[0x7f, 0x45], &[0; 4], false, true)
                .next()
                .unwrap()
                .is_err()
        );
        // raw column too short
        assert!(
            ValueDecoder::new(&[0x7f, 0x26], b"a", false, true)
                .next()
                .unwrap()
                .is_err()
        );
        // a null with a stated length consumes nothing
        let mut d = ValueDecoder::new(&[0x7f, 0x30], b"abc", false, true);
        assert_eq!(d.next(), Some(Ok(ScalarValue::Null)));
        assert_eq!(d.raw_rest(), b"abc");
    }
}
