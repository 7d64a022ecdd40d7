//! Boolean columns (spec format.md §4.3): alternating run lengths as uLEB, the first run
//! counting `false`s.

use crate::error::{CanonicalRule, DecodeError};
use crate::leb128;
use crate::reader::Reader;

/// Streaming decoder of a boolean column.
#[derive(Clone, Debug)]
pub struct BoolDecoder<'a> {
    r: Reader<'a>,
    canonical: bool,
    /// The value of the run being yielded.
    value: bool,
    remaining: u64,
    /// The value of the next run to read.
    next_value: bool,
    first_run: bool,
    overlong: bool,
    failed: bool,
}

impl<'a> BoolDecoder<'a> {
    /// A decoder over one column's data. In `canonical` mode a zero-length run is rejected
    /// unless it is the leading run and something follows it.
    pub fn new(data: &'a [u8], canonical: bool) -> Self {
        BoolDecoder {
            r: Reader::new(data),
            canonical,
            value: false,
            remaining: 0,
            next_value: false,
            first_run: true,
            overlong: false,
            failed: false,
        }
    }

    /// Whether any LEB128 number read so far was overlong.
    pub fn saw_overlong(&self) -> bool {
        self.overlong
    }

    /// Whether all input was consumed and no run is in progress.
    pub fn is_done(&self) -> bool {
        self.remaining == 0 && self.r.is_empty()
    }

    fn step(&mut self) -> Result<Option<bool>, DecodeError> {
        while self.remaining == 0 {
            if self.r.is_empty() {
                return Ok(None);
            }
            self.read_run()?;
        }
        self.remaining -= 1;
        Ok(Some(self.value))
    }

    /// The rows after the last one returned that its run still holds (see
    /// [`RowsAhead`](super::rle::RowsAhead)).
    pub(crate) fn rows_ahead(&self) -> super::rle::RowsAhead<bool> {
        use super::rle::RowsAhead;
        if self.failed {
            RowsAhead::Unknown
        } else if self.remaining > 0 {
            RowsAhead::Repeat(self.value, self.remaining)
        } else if self.r.is_empty() {
            RowsAhead::End
        } else {
            RowsAhead::Unknown
        }
    }

    /// Advances past `k` rows as `k` calls of `next` would (the same run state and checks,
    /// no run read ahead); a run costs one step however long. `Ok(None)` if the column has
    /// fewer than `k` rows. After an error the decoder must not be used.
    pub(crate) fn skip_rows(&mut self, mut k: u64) -> Result<Option<()>, DecodeError> {
        if self.failed {
            return Ok(None);
        }
        while k > 0 {
            if self.remaining == 0 {
                if self.r.is_empty() {
                    return Ok(None);
                }
                self.read_run()?;
                continue;
            }
            let t = self.remaining.min(k);
            self.remaining -= t;
            k -= t;
        }
        Ok(Some(()))
    }

    /// Reads the next run's length (the input is not empty).
    fn read_run(&mut self) -> Result<(), DecodeError> {
        let offset = self.r.position();
        let count = self.r.uleb_lenient()?;
        self.overlong |= self.r.position() - offset != leb128::u64_len(count);
        let first = std::mem::replace(&mut self.first_run, false);
        // Only a leading zero run that something follows is canonical.
        let leading_ok = first && !self.r.is_empty();
        if count == 0 && self.canonical && !leading_ok {
            return Err(DecodeError::NonCanonicalColumn {
                offset,
                rule: CanonicalRule::ZeroBooleanRun,
            });
        }
        self.value = self.next_value;
        self.next_value = !self.next_value;
        self.remaining = count;
        Ok(())
    }
}

impl BoolDecoder<'_> {
    /// [`Iterator::next`] past the inlined middle of a run.
    #[inline(never)]
    fn next_slow(&mut self) -> Option<Result<bool, DecodeError>> {
        // The end of the column (an absent column is one): what `step` would find.
        if self.failed || (self.remaining == 0 && self.r.is_empty()) {
            return None;
        }
        match self.step() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }
}

impl Iterator for BoolDecoder<'_> {
    type Item = Result<bool, DecodeError>;

    /// Inside a run (not its last row) this is a decrement, inlined into the caller's row
    /// loop. (A failed decoder has no rows left in its run.)
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining > 1 {
            self.remaining -= 1;
            return Some(Ok(self.value));
        }
        self.next_slow()
    }
}

/// Canonical boolean encoder.
#[derive(Clone, Debug, Default)]
pub struct BoolEncoder {
    out: Vec<u8>,
    value: bool,
    count: u64,
}

impl BoolEncoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one row.
    #[inline]
    pub fn append(&mut self, v: bool) {
        if v == self.value {
            self.count += 1;
        } else {
            leb128::write_u64(&mut self.out, self.count);
            self.value = v;
            self.count = 1;
        }
    }

    /// Appends `n` equal rows (as `n` calls of [`BoolEncoder::append`]).
    #[inline]
    pub fn append_n(&mut self, v: bool, n: u64) {
        if n == 0 {
            return;
        }
        if v == self.value {
            self.count += n;
        } else {
            leb128::write_u64(&mut self.out, self.count);
            self.value = v;
            self.count = n;
        }
    }

    fn flush(&mut self) {
        if self.count > 0 {
            leb128::write_u64(&mut self.out, self.count);
        }
    }

    /// Drops everything appended, keeping the buffer.
    pub fn clear(&mut self) {
        self.out.clear();
        self.value = false;
        self.count = 0;
    }

    /// Writes out the last run and returns the column data.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    /// Appends the column data to `out` and resets the encoder (keeping its buffer).
    pub fn finish_into(&mut self, out: &mut Vec<u8>) {
        self.flush();
        out.extend_from_slice(&self.out);
        self.out.clear();
        self.value = false;
        self.count = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    fn enc(rows: &[bool]) -> Vec<u8> {
        let mut e = BoolEncoder::new();
        rows.iter().for_each(|r| e.append(*r));
        e.finish()
    }

    fn dec(data: &[u8], canonical: bool) -> Result<Vec<bool>, DecodeError> {
        BoolDecoder::new(data, canonical).collect()
    }

    #[test]
    fn spec_examples() {
        let (f, t) = (false, true);
        assert_eq!(enc(&[f, f, t, t, t, f]), [0x02, 0x03, 0x01]);
        assert_eq!(enc(&[t, t, f]), [0x00, 0x02, 0x01]);
        assert_eq!(enc(&[f; 5]), [0x05]);
        assert_eq!(enc(&[]), [] as [u8; 0]);
        assert_eq!(dec(&[0x00, 0x02, 0x01], true).unwrap(), [t, t, f]);
        assert_eq!(dec(&[0x02, 0x03, 0x01], true).unwrap(), [f, f, t, t, t, f]);
    }

    #[test]
    fn canonical_rejections() {
        for data in [
            &[0x00][..],
            &[0x01, 0x00],
            &[0x01, 0x00, 0x01],
            &[0x00, 0x00],
        ] {
            assert!(
                matches!(
                    dec(data, true),
                    Err(DecodeError::NonCanonicalColumn {
                        rule: CanonicalRule::ZeroBooleanRun,
                        ..
                    })
                ),
                "{data:02x?}"
            );
        }
        assert_eq!(dec(&[0x01, 0x00, 0x01], false).unwrap(), [false, false]);
        assert!(dec(&[0x80], false).is_err());
    }
}
