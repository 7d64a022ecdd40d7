//! Delta columns (spec format.md §4.2): RLE of signed differences between successive
//! non-null values, starting from 0. Nulls do not move the running value.
//!
//! The running value wraps on overflow in both directions, so every byte sequence the inner RLE
//! accepts decodes, and decoding then encoding gives back the same deltas.

use super::rle::{RleDecoder, RleEncoder};
use crate::error::DecodeError;

/// Streaming decoder of a delta column, yielding absolute values (`None` for null rows).
#[derive(Clone, Debug)]
pub struct DeltaDecoder<'a> {
    inner: RleDecoder<'a, i64>,
    current: i64,
}

impl<'a> DeltaDecoder<'a> {
    /// A decoder over one column's data; `canonical` as for [`RleDecoder::new`].
    pub fn new(data: &'a [u8], canonical: bool) -> Self {
        DeltaDecoder {
            inner: RleDecoder::new(data, canonical),
            current: 0,
        }
    }

    /// Whether any LEB128 number read so far was overlong.
    pub fn saw_overlong(&self) -> bool {
        self.inner.saw_overlong()
    }

    /// Whether all input was consumed and no run is in progress.
    pub fn is_done(&self) -> bool {
        self.inner.is_done()
    }

    /// The rows after the last one returned that the run in progress describes, as deltas
    /// (a repeat run of `d` moves the value by `d` a row), and the value they start from.
    pub(crate) fn rows_ahead(&self) -> (super::rle::RowsAhead<i64>, i64) {
        (self.inner.rows_ahead(), self.current)
    }

    /// Advances past `k` rows as `k` calls of `next` would (see [`RleDecoder::skip_rows`]):
    /// a repeat run of deltas moves the running value by their product. `Ok(None)` if the
    /// column has fewer than `k` rows.
    pub(crate) fn skip_rows(&mut self, k: u64) -> Result<Option<()>, DecodeError> {
        let moved = self.inner.skip_rows(k, self.current, |acc, d, t| {
            // Wrapping, as `t` wrapping additions of `d` would.
            acc.wrapping_add(d.wrapping_mul(t as i64))
        })?;
        Ok(moved.map(|current| self.current = current))
    }
}

impl Iterator for DeltaDecoder<'_> {
    type Item = Result<Option<i64>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.inner.next()? {
            Ok(Some(d)) => {
                self.current = self.current.wrapping_add(d);
                Ok(Some(self.current))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        })
    }
}

/// Canonical delta encoder: takes absolute values.
#[derive(Clone, Debug, Default)]
pub struct DeltaEncoder {
    inner: RleEncoder<i64>,
    current: i64,
}

impl DeltaEncoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one row (an absolute value, or null).
    #[inline]
    pub fn append(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.append_value(v),
            None => self.inner.append_null(),
        }
    }

    /// Appends a non-null row.
    #[inline]
    pub fn append_value(&mut self, v: i64) {
        self.inner.append_value(v.wrapping_sub(self.current));
        self.current = v;
    }

    /// Appends a null row.
    #[inline]
    pub fn append_null(&mut self) {
        self.inner.append_null();
    }

    /// Appends `n` null rows.
    pub fn append_nulls(&mut self, n: u64) {
        self.inner.append_nulls(n);
    }

    /// Appends a stretch of a literal run of deltas: the row whose value is `first_value`, then
    /// the rows of the encoded deltas `middle` (`count` of them) and `last`, ending at `end`.
    pub(crate) fn append_literal_deltas(
        &mut self,
        first_value: i64,
        middle: &[u8],
        count: u64,
        last: i64,
        end: i64,
    ) -> Result<(), DecodeError> {
        let first = first_value.wrapping_sub(self.current);
        self.inner.append_literal(first, middle, count, last)?;
        self.current = end;
        Ok(())
    }

    /// Appends whole runs of deltas as encoded, starting from the running value `from` (which
    /// must be this encoder's) and ending at `end`.
    pub(crate) fn append_encoded_deltas(
        &mut self,
        from: i64,
        bytes: &[u8],
        end: i64,
    ) -> Result<(), DecodeError> {
        if from != self.current {
            return Err(DecodeError::ColumnCopy {
                fault: crate::error::CopyFault::DeltaBase,
            });
        }
        self.inner.append_encoded(bytes);
        self.current = end;
        Ok(())
    }

    /// Appends `k` rows that each add `d` to the running value (`total` = `d * k`, wrapping).
    pub(crate) fn append_delta_run(&mut self, d: i64, k: u64, total: i64) {
        self.inner.append_value_n(d, k);
        self.current = self.current.wrapping_add(total);
    }

    /// Drops everything appended, keeping the buffers.
    pub fn clear(&mut self) {
        self.inner.clear();
        self.current = 0;
    }

    /// Writes out pending runs and returns the column data.
    pub fn finish(self) -> Vec<u8> {
        self.inner.finish()
    }

    /// Appends the column data to `out` and resets the encoder (keeping its buffers).
    pub fn finish_into(&mut self, out: &mut Vec<u8>) {
        self.inner.finish_into(out);
        self.current = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn spec_example() {
        let mut e = DeltaEncoder::new();
        for v in [5, 6, 1, 2, 3] {
            e.append_value(v);
        }
        let data = e.finish();
        assert_eq!(data, [0x7d, 0x05, 0x01, 0x7b, 0x02, 0x01]);
        let back: Vec<_> = DeltaDecoder::new(&data, true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, [Some(5), Some(6), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn nulls_keep_running_value() {
        let rows = [None, Some(0), Some(2)];
        let mut e = DeltaEncoder::new();
        rows.iter().for_each(|r| e.append(*r));
        let data = e.finish();
        // §6.8 key counter: [null, 0 (HEAD), 2]
        assert_eq!(data, [0x00, 0x01, 0x7e, 0x00, 0x02]);
        let back: Vec<_> = DeltaDecoder::new(&data, true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, rows);
    }
}
