//! Run-length encoding (spec format.md §4.1): repeat runs `sLEB(n) v`, literal runs
//! `sLEB(-n) v1..vn`, null runs `00 uLEB(n)`.

use crate::error::{CanonicalRule, DecodeError};
use crate::leb128;
use crate::reader::Reader;

/// A value that can be stored in an RLE column: `u64` (uLEB: actor, integer, group, value
/// metadata), `i64` (sLEB: the inner layer of delta columns) and `&str` (length-prefixed UTF-8).
pub trait RleValue<'a>: Copy + PartialEq {
    /// Reads one value with the lenient LEB128 reader; the flag says whether every LEB128
    /// number read was minimal.
    fn read(r: &mut Reader<'a>) -> Result<(Self, bool), DecodeError>;
    /// Writes one value canonically.
    fn write(self, out: &mut Vec<u8>);
    /// Skips `n` values. Returns their wrapping sum for `i64` (the deltas of a delta
    /// column), 0 for the other kinds.
    fn skip_values(r: &mut Reader<'a>, n: u64) -> Result<i64, DecodeError> {
        for _ in 0..n {
            Self::read(r)?;
        }
        Ok(0)
    }
}

/// Skips `n` LEB128 numbers by finding the bytes that end them (no value is built, so
/// numbers too large for 64 bits are not noticed: only for data that was decoded before).
fn skip_leb128(r: &mut Reader<'_>, n: u64) -> Result<i64, DecodeError> {
    if n == 0 {
        return Ok(0);
    }
    let mut seen = 0u64;
    for (i, &b) in r.rest().iter().enumerate() {
        if b < 0x80 {
            seen += 1;
            if seen == n {
                r.take(i + 1)?;
                return Ok(0);
            }
        }
    }
    Err(DecodeError::NotEnoughInput {
        offset: r.position(),
        needed: 1,
        remaining: 0,
    })
}

impl<'a> RleValue<'a> for u64 {
    fn read(r: &mut Reader<'a>) -> Result<(u64, bool), DecodeError> {
        let start = r.position();
        let v = r.uleb_lenient()?;
        Ok((v, r.position() - start == leb128::u64_len(v)))
    }
    fn write(self, out: &mut Vec<u8>) {
        leb128::write_u64(out, self);
    }
    fn skip_values(r: &mut Reader<'a>, n: u64) -> Result<i64, DecodeError> {
        skip_leb128(r, n)
    }
}

impl<'a> RleValue<'a> for i64 {
    fn read(r: &mut Reader<'a>) -> Result<(i64, bool), DecodeError> {
        let start = r.position();
        let v = r.sleb_lenient()?;
        Ok((v, r.position() - start == leb128::i64_len(v)))
    }
    fn write(self, out: &mut Vec<u8>) {
        leb128::write_i64(out, self);
    }
    fn skip_values(r: &mut Reader<'a>, n: u64) -> Result<i64, DecodeError> {
        // The sum is wanted (a delta column's running value), so the values are decoded.
        let mut sum = 0i64;
        for _ in 0..n {
            sum = sum.wrapping_add(r.sleb_lenient()?);
        }
        Ok(sum)
    }
}

impl<'a> RleValue<'a> for &'a str {
    fn read(r: &mut Reader<'a>) -> Result<(&'a str, bool), DecodeError> {
        let offset = r.position();
        let (len, minimal) = <u64 as RleValue>::read(r)?;
        let len = r.check_count("string length", len, 1, offset)?;
        let bytes = r.take(len)?;
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { offset })?;
        Ok((s, minimal))
    }
    fn write(self, out: &mut Vec<u8>) {
        leb128::write_u64(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
}

/// The run being yielded.
#[derive(Clone, Copy, Debug)]
enum Run<T> {
    None,
    Null(u64),
    Repeat(T, u64),
    /// Values left to read, and the last value read from this literal.
    Literal(u64, Option<T>),
}

/// The previous complete run, for the canonical checks.
#[derive(Clone, Copy, Debug)]
enum Prev<T> {
    None,
    Null,
    Repeat(T),
    Literal(T),
}

/// Streaming RLE decoder: yields `Ok(Some(v))` per value row and `Ok(None)` per null row; after
/// an error it yields that error once and then ends.
#[derive(Clone, Debug)]
pub struct RleDecoder<'a, T> {
    r: Reader<'a>,
    canonical: bool,
    run: Run<T>,
    prev: Prev<T>,
    overlong: bool,
    failed: bool,
}

/// Decoder of an uLEB RLE column (Actor, Integer, Group, ValueMetadata).
pub type UintDecoder<'a> = RleDecoder<'a, u64>;
/// Decoder of a String column; strings are borrowed from the input.
pub type StrDecoder<'a> = RleDecoder<'a, &'a str>;
/// Encoder of an uLEB RLE column.
pub type UintEncoder = RleEncoder<u64>;
/// Encoder of a String column.
pub type StrEncoder<'s> = RleEncoder<&'s str>;

impl<'a, T: RleValue<'a>> RleDecoder<'a, T> {
    /// A decoder over one column's data. `canonical` rejects every layout the reference's
    /// encoder would not produce (document columns).
    pub fn new(data: &'a [u8], canonical: bool) -> Self {
        RleDecoder {
            r: Reader::new(data),
            canonical,
            run: Run::None,
            prev: Prev::None,
            overlong: false,
            failed: false,
        }
    }

    /// Whether any LEB128 number read so far was overlong (accepted, but not canonical).
    pub fn saw_overlong(&self) -> bool {
        self.overlong
    }

    /// Whether all input was consumed and no run is in progress.
    pub fn is_done(&self) -> bool {
        matches!(self.run, Run::None) && self.r.is_empty()
    }

    fn read_value(&mut self) -> Result<T, DecodeError> {
        let (v, minimal) = T::read(&mut self.r)?;
        self.overlong |= !minimal;
        Ok(v)
    }

    fn non_canonical(&self, offset: usize, rule: CanonicalRule) -> Result<(), DecodeError> {
        if self.canonical {
            Err(DecodeError::NonCanonicalColumn { offset, rule })
        } else {
            Ok(())
        }
    }

    /// Reads the next run header (and a repeat's value). `Ok(false)` at the end of input.
    fn next_run(&mut self) -> Result<bool, DecodeError> {
        loop {
            if self.r.is_empty() {
                return Ok(false);
            }
            let offset = self.r.position();
            let header = self.r.sleb_lenient()?;
            self.overlong |= self.r.position() - offset != leb128::i64_len(header);
            if header > 0 {
                let count = header.unsigned_abs();
                if count < 2 {
                    self.non_canonical(offset, CanonicalRule::RepeatBelowTwo)?;
                }
                let v = self.read_value()?;
                match self.prev {
                    Prev::Repeat(p) | Prev::Literal(p) if p == v => {
                        self.non_canonical(offset, CanonicalRule::MergeableRuns)?;
                    }
                    _ => {}
                }
                self.prev = Prev::Repeat(v);
                self.run = Run::Repeat(v, count);
                return Ok(true);
            } else if header < 0 {
                if matches!(self.prev, Prev::Literal(_)) {
                    self.non_canonical(offset, CanonicalRule::MergeableRuns)?;
                }
                self.run = Run::Literal(header.unsigned_abs(), None);
                return Ok(true);
            } else {
                let count_offset = self.r.position();
                let count = self.r.uleb_lenient()?;
                self.overlong |= self.r.position() - count_offset != leb128::u64_len(count);
                if count == 0 {
                    self.non_canonical(offset, CanonicalRule::EmptyNullRun)?;
                    continue;
                }
                if matches!(self.prev, Prev::Null) {
                    self.non_canonical(offset, CanonicalRule::MergeableRuns)?;
                }
                self.prev = Prev::Null;
                self.run = Run::Null(count);
                return Ok(true);
            }
        }
    }

    fn step(&mut self) -> Result<Option<Option<T>>, DecodeError> {
        loop {
            match self.run {
                Run::None => {
                    if !self.next_run()? {
                        return Ok(None);
                    }
                }
                Run::Null(n) => {
                    self.run = if n > 1 { Run::Null(n - 1) } else { Run::None };
                    return Ok(Some(None));
                }
                Run::Repeat(v, n) => {
                    self.run = if n > 1 {
                        Run::Repeat(v, n - 1)
                    } else {
                        Run::None
                    };
                    return Ok(Some(Some(v)));
                }
                Run::Literal(n, last) => {
                    let offset = self.r.position();
                    let v = self.read_value()?;
                    let equal_to_previous = match last {
                        Some(l) => l == v,
                        // The first value of a literal must differ from a preceding repeat.
                        None => matches!(self.prev, Prev::Repeat(p) if p == v),
                    };
                    if equal_to_previous {
                        let rule = if last.is_some() {
                            CanonicalRule::LiteralRepeats
                        } else {
                            CanonicalRule::MergeableRuns
                        };
                        self.non_canonical(offset, rule)?;
                    }
                    if n > 1 {
                        self.run = Run::Literal(n - 1, Some(v));
                    } else {
                        self.run = Run::None;
                        self.prev = Prev::Literal(v);
                    }
                    return Ok(Some(Some(v)));
                }
            }
        }
    }
}

/// What the rows after the last one a decoder returned hold, as far as the runs read so far
/// say, without reading more ([`RleDecoder::rows_ahead`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RowsAhead<T> {
    /// The rest of the run of the last row: `n` more rows of this value.
    Repeat(T, u64),
    /// The rest of a null run: `n` more nulls.
    Nulls(u64),
    /// Nothing left: every later row reads as absent (`None` from the iterator).
    End,
    /// A literal's next value, or a run not read yet.
    Unknown,
}

impl<'a, T: RleValue<'a>> RleDecoder<'a, T> {
    /// The rows after the last one returned that the run in progress already describes
    /// (see [`RowsAhead`]). Passing over them with [`Self::skip_rows`] reads nothing.
    pub(crate) fn rows_ahead(&self) -> RowsAhead<T> {
        match self.run {
            _ if self.failed => RowsAhead::Unknown,
            Run::Repeat(v, n) => RowsAhead::Repeat(v, n),
            Run::Null(n) => RowsAhead::Nulls(n),
            Run::None if self.r.is_empty() => RowsAhead::End,
            Run::None | Run::Literal(..) => RowsAhead::Unknown,
        }
    }
}

impl<'a, T: RleValue<'a>> RleDecoder<'a, T> {
    /// Advances past `k` rows, leaving the decoder exactly as `k` calls of `next` would (the
    /// same run state, the same checks of what it reads, no run header read ahead), and
    /// folds each value with the number of rows it spans into `acc` (nulls are not folded).
    /// A repeat or null run costs one step however long. `Ok(None)` if the column has fewer
    /// than `k` rows. After an error the decoder must not be used.
    pub(crate) fn skip_rows<A>(
        &mut self,
        mut k: u64,
        mut acc: A,
        mut fold: impl FnMut(A, T, u64) -> A,
    ) -> Result<Option<A>, DecodeError> {
        if self.failed {
            return Ok(None);
        }
        while k > 0 {
            match self.run {
                Run::None => {
                    if !self.next_run()? {
                        return Ok(None);
                    }
                }
                Run::Null(n) => {
                    let t = n.min(k);
                    self.run = if n > t { Run::Null(n - t) } else { Run::None };
                    k -= t;
                }
                Run::Repeat(v, n) => {
                    let t = n.min(k);
                    self.run = if n > t {
                        Run::Repeat(v, n - t)
                    } else {
                        Run::None
                    };
                    acc = fold(acc, v, t);
                    k -= t;
                }
                Run::Literal(..) => {
                    if let Some(Some(v)) = self.step()? {
                        acc = fold(acc, v, 1);
                    }
                    k -= 1;
                }
            }
        }
        Ok(Some(acc))
    }

    /// Counts the rows left, a repeat or null run in one step however long, with the checks
    /// `next` makes of what it reads: `Ok(Some(n))`, or `Ok(None)` as soon as more than
    /// `limit` rows are counted. After it the decoder must not be used.
    pub(crate) fn count_rows(&mut self, limit: u64) -> Result<Option<u64>, DecodeError> {
        let mut n: u64 = 0;
        loop {
            match self.run {
                Run::None => {
                    if !self.next_run()? {
                        return Ok(Some(n));
                    }
                }
                Run::Null(k) | Run::Repeat(_, k) => {
                    n = n.saturating_add(k);
                    self.run = Run::None;
                }
                Run::Literal(..) => {
                    self.step()?;
                    n += 1;
                }
            }
            if n > limit {
                return Ok(None);
            }
        }
    }

    /// [`Iterator::next`] past the inlined middle of a repeat or null run.
    #[inline(never)]
    fn next_slow(&mut self) -> Option<Result<Option<T>, DecodeError>> {
        if self.failed {
            return None;
        }
        // The end of the column (an absent column is one), and the first row of a column
        // that starts with a literal of one value (`7f`) or a null run of one (`00 01`), as
        // every column of a one-op change does: what `step` would do, without its loops and
        // checks, none of which can apply to a column's first run (a run of one is minimal,
        // and there is no earlier run to merge with). A change of one op spends most of its
        // decoding here, once per column.
        if let Run::None = self.run {
            match (self.r.rest(), &self.prev) {
                ([], _) => return None,
                ([0x7f, ..], Prev::None) => {
                    let _ = self.r.take(1);
                    return match self.read_value() {
                        Ok(v) => {
                            self.prev = Prev::Literal(v);
                            Some(Ok(Some(v)))
                        }
                        Err(e) => {
                            self.failed = true;
                            Some(Err(e))
                        }
                    };
                }
                ([0x00, 0x01, ..], Prev::None) => {
                    let _ = self.r.take(2);
                    self.prev = Prev::Null;
                    return Some(Ok(None));
                }
                _ => {}
            }
        }
        match self.step() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                self.run = Run::None;
                Some(Err(e))
            }
        }
    }
}

impl<'a, T: RleValue<'a>> Iterator for RleDecoder<'a, T> {
    type Item = Result<Option<T>, DecodeError>;

    /// Inside a repeat or null run (not its last row) this is a decrement, inlined into the
    /// caller's row loop; everything else (run headers, literals, the canonical checks, a
    /// run's last row) takes the out-of-line path. (A failed decoder's run is `None`.)
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.run {
            Run::Repeat(v, n) if *n > 1 => {
                *n -= 1;
                Some(Ok(Some(*v)))
            }
            Run::Null(n) if *n > 1 => {
                *n -= 1;
                Some(Ok(None))
            }
            _ => self.next_slow(),
        }
    }
}

/// Encoder state: what has been appended but not yet written.
#[derive(Clone, Copy, Debug)]
enum Pending<T> {
    Empty,
    Nulls(u64),
    /// One value that may start a repeat or a literal.
    Single(T),
    Repeat(T, u64),
    /// A literal: `lit_count` values already in the literal buffer, plus `last`.
    Literal(T),
}

/// Canonical RLE encoder (§4.1 rules 1-5). Append rows, then [`RleEncoder::finish`].
/// The output buffers are kept across [`RleEncoder::finish_into`] calls for reuse.
#[derive(Clone, Debug)]
pub struct RleEncoder<T> {
    out: Vec<u8>,
    lit: Vec<u8>,
    lit_count: u64,
    pending: Pending<T>,
}

impl<'s, T: RleValue<'s>> Default for RleEncoder<T> {
    fn default() -> Self {
        RleEncoder {
            out: Vec::new(),
            lit: Vec::new(),
            lit_count: 0,
            pending: Pending::Empty,
        }
    }
}

/// An [`RleEncoder`]'s two buffers, empty, kept to start another encoder without allocating
/// (one of a string column borrows its strings, so it cannot itself outlive them).
#[derive(Debug, Default)]
pub(crate) struct EncoderBuffers {
    out: Vec<u8>,
    lit: Vec<u8>,
}

impl EncoderBuffers {
    /// Bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.out.capacity() + self.lit.capacity()
    }
}

impl<'s, T: RleValue<'s>> RleEncoder<T> {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty encoder writing into `buffers` (empty: made by `Default` or
    /// [`RleEncoder::into_buffers`]).
    pub(crate) fn with_buffers(buffers: EncoderBuffers) -> Self {
        let EncoderBuffers { out, lit } = buffers;
        RleEncoder {
            out,
            lit,
            lit_count: 0,
            pending: Pending::Empty,
        }
    }

    /// This encoder's buffers, emptied (whatever was appended and not finished is dropped).
    pub(crate) fn into_buffers(self) -> EncoderBuffers {
        let RleEncoder {
            mut out, mut lit, ..
        } = self;
        out.clear();
        lit.clear();
        EncoderBuffers { out, lit }
    }

    /// Appends one row.
    #[inline]
    pub fn append(&mut self, v: Option<T>) {
        match v {
            Some(v) => self.append_value(v),
            None => self.append_null(),
        }
    }

    /// Appends a non-null row.
    // Always inlined (its fast path is a compare and an add): with only `#[inline]` the
    // compiler left it out of line in the save's run writer (a full encode of rustcode
    // 7.1 -> 9.2 ms).
    #[inline(always)]
    pub fn append_value(&mut self, v: T) {
        // The common case, inlined at each call site: extending a repeat run.
        match &mut self.pending {
            Pending::Repeat(p, n) if *p == v => {
                *n += 1;
                return;
            }
            // Extending a literal run.
            Pending::Literal(last) if *last != v => {
                let prev = std::mem::replace(last, v);
                prev.write(&mut self.lit);
                self.lit_count += 1;
                return;
            }
            _ => {}
        }
        self.append_value_slow(v);
    }

    /// Appends `n` copies of a non-null row (as `n` calls of [`RleEncoder::append_value`]).
    pub fn append_value_n(&mut self, v: T, n: u64) {
        if n == 0 {
            return;
        }
        self.append_value(v);
        if n == 1 {
            return;
        }
        // A second equal value always leaves a repeat run of `v` pending.
        self.append_value(v);
        if let Pending::Repeat(_, m) = &mut self.pending {
            *m += n - 2;
        }
    }

    fn append_value_slow(&mut self, v: T) {
        self.pending = match self.pending {
            Pending::Empty => Pending::Single(v),
            Pending::Nulls(n) => {
                self.write_nulls(n);
                Pending::Single(v)
            }
            Pending::Single(p) if p == v => Pending::Repeat(p, 2),
            Pending::Single(p) => {
                p.write(&mut self.lit);
                self.lit_count = 1;
                Pending::Literal(v)
            }
            Pending::Repeat(p, n) if p == v => Pending::Repeat(p, n + 1),
            Pending::Repeat(p, n) => {
                self.write_repeat(p, n);
                Pending::Single(v)
            }
            Pending::Literal(last) if last == v => {
                self.write_literal();
                Pending::Repeat(v, 2)
            }
            Pending::Literal(last) => {
                last.write(&mut self.lit);
                self.lit_count += 1;
                Pending::Literal(v)
            }
        };
    }

    /// Appends the rows of a stretch of a canonical literal run: `first`, the `count` (at
    /// least one) encoded values of `middle`, then `last`; neighbouring values in `middle`
    /// and `last` differ. The middle values are copied as bytes.
    pub(crate) fn append_literal(
        &mut self,
        first: T,
        middle: &'s [u8],
        count: u64,
        last: T,
    ) -> Result<(), DecodeError> {
        let second = match count {
            0 => None,
            _ => Some(T::read(&mut Reader::new(middle))?.0),
        };
        self.append_value(first);
        if second.is_none_or(|s| s == first) {
            // Nothing in the middle, or `first` (from elsewhere: a re-based delta) runs on
            // into it: value by value.
            let mut r = Reader::new(middle);
            for _ in 0..count {
                let (v, _) = T::read(&mut r)?;
                self.append_value(v);
            }
            self.append_value(last);
            return Ok(());
        }
        match self.pending {
            Pending::Single(p) | Pending::Literal(p) => {
                p.write(&mut self.lit);
                self.lit_count += 1;
            }
            Pending::Repeat(p, n) => self.write_repeat(p, n),
            // `append_value` leaves one of the above.
            Pending::Empty | Pending::Nulls(_) => {
                return Err(DecodeError::ColumnCopy {
                    fault: crate::error::CopyFault::EncoderState,
                });
            }
        }
        self.lit.extend_from_slice(middle);
        self.lit_count += count;
        self.pending = Pending::Literal(last);
        Ok(())
    }

    /// Appends whole runs as encoded, none of which may merge with the pending run (see
    /// [`Piece::Encoded`](super::Piece::Encoded)).
    pub(crate) fn append_encoded(&mut self, bytes: &[u8]) {
        self.flush();
        self.out.extend_from_slice(bytes);
    }

    /// Appends a null row.
    #[inline]
    pub fn append_null(&mut self) {
        if let Pending::Nulls(n) = &mut self.pending {
            *n += 1;
            return;
        }
        self.flush();
        self.pending = Pending::Nulls(1);
    }

    /// Appends `n` null rows.
    pub fn append_nulls(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.pending = match self.pending {
            Pending::Nulls(m) => Pending::Nulls(m + n),
            _ => {
                self.flush();
                Pending::Nulls(n)
            }
        };
    }

    fn write_nulls(&mut self, n: u64) {
        self.out.push(0);
        leb128::write_u64(&mut self.out, n);
    }

    fn write_repeat(&mut self, v: T, n: u64) {
        leb128::write_i64(&mut self.out, n as i64);
        v.write(&mut self.out);
    }

    /// Writes the values in the literal buffer as one literal run.
    fn write_literal(&mut self) {
        if self.lit_count > 0 {
            leb128::write_i64(&mut self.out, -(self.lit_count as i64));
            self.out.extend_from_slice(&self.lit);
        }
        self.lit.clear();
        self.lit_count = 0;
    }

    fn flush(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::Empty) {
            Pending::Empty => {}
            Pending::Nulls(n) => self.write_nulls(n),
            Pending::Single(v) => {
                leb128::write_i64(&mut self.out, -1);
                v.write(&mut self.out);
            }
            Pending::Repeat(v, n) => self.write_repeat(v, n),
            Pending::Literal(last) => {
                last.write(&mut self.lit);
                self.lit_count += 1;
                self.write_literal();
            }
        }
    }

    /// Whether nothing has been appended since the last finish.
    pub fn is_empty(&self) -> bool {
        matches!(self.pending, Pending::Empty) && self.out.is_empty()
    }

    /// Drops everything appended, keeping the buffers.
    pub fn clear(&mut self) {
        self.out.clear();
        self.lit.clear();
        self.lit_count = 0;
        self.pending = Pending::Empty;
    }

    /// Writes out pending runs and returns the column data.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    /// Writes out pending runs, appends the column data to `out`, and resets the encoder
    /// (keeping its buffers).
    pub fn finish_into(&mut self, out: &mut Vec<u8>) {
        self.flush();
        out.extend_from_slice(&self.out);
        self.out.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    /// Counting by runs gives what counting row by row gives, errors included, on every
    /// short byte string of a seeded stream (most are not valid columns) and on long runs.
    #[test]
    fn counting_by_runs_is_counting_rows() {
        let by_rows = |data: &[u8], limit: u64| -> Result<Option<u64>, DecodeError> {
            let mut n = 0u64;
            for row in RleDecoder::<u64>::new(data, true) {
                row?;
                n += 1;
                if n > limit {
                    return Ok(None);
                }
            }
            Ok(Some(n))
        };
        let mut cases: Vec<Vec<u8>> = vec![vec![0x7f, 0x01], vec![0x00, 0x80, 0x01], vec![]];
        // Mostly small run headers and values, sometimes anything.
        cases.extend(seeded_columns(0x5eed, 20_000, 9, |_, seed, byte| {
            if seed & 3 == 0 { byte } else { byte % 6 + 0x7b }
        }));
        for data in &cases {
            for limit in [0, 3, 1000] {
                let a = RleDecoder::<u64>::new(data, true).count_rows(limit);
                let b = by_rows(data, limit);
                assert_eq!(
                    format!("{a:?}"),
                    format!("{b:?}"),
                    "{data:02x?} limit {limit}"
                );
            }
        }
    }

    /// The rows `next` yields (through the first-run shortcut of `next_slow` where it
    /// applies) are the rows `step` alone yields, with the same overlong flag and end state
    /// after each, and the same error: on every short byte string of a seeded stream, for
    /// each kind of value, canonical or not.
    #[test]
    fn the_first_run_shortcut_reads_what_the_general_steps_read() {
        fn rows<'a, T: RleValue<'a> + std::fmt::Debug>(
            data: &'a [u8],
            canonical: bool,
            general: bool,
        ) -> Vec<String> {
            let mut d = RleDecoder::<T>::new(data, canonical);
            let mut out = Vec::new();
            loop {
                let row = if general {
                    d.step().transpose()
                } else {
                    d.next()
                };
                match row {
                    Some(Ok(v)) => {
                        out.push(format!("{v:?} {} {}", d.saw_overlong(), d.is_done()));
                    }
                    Some(Err(e)) => {
                        out.push(format!("{e:?}"));
                        break;
                    }
                    None => break,
                }
            }
            out
        }
        let mut cases: Vec<Vec<u8>> = vec![
            vec![0x7f, 0x01],
            vec![0x7f, 0x01, 0x7f, 0x01],
            vec![0x00, 0x01],
            vec![0x00, 0x01, 0x00, 0x01],
            vec![0x7f, 0x80, 0x00],
            vec![0x7f, 0x02, 0x61, 0x62],
            vec![0x7f, 0x02, 0xff, 0xfe],
            vec![0x7f],
            vec![0x00],
            vec![],
        ];
        // Mostly the shortcut's first bytes, small headers and values; sometimes anything.
        cases.extend(seeded_columns(0xf1257, 30_000, 8, |i, seed, byte| {
            match (i, seed & 7) {
                (0, 0..=2) => 0x7f,
                (0, 3) => 0x00,
                (_, 0) => byte,
                _ => byte % 6 + 0x7b,
            }
        }));
        for data in &cases {
            for canonical in [true, false] {
                assert_eq!(
                    rows::<u64>(data, canonical, false),
                    rows::<u64>(data, canonical, true),
                    "u64 {data:02x?} {canonical}"
                );
                assert_eq!(
                    rows::<i64>(data, canonical, false),
                    rows::<i64>(data, canonical, true),
                    "i64 {data:02x?} {canonical}"
                );
                assert_eq!(
                    rows::<&str>(data, canonical, false),
                    rows::<&str>(data, canonical, true),
                    "str {data:02x?} {canonical}"
                );
            }
        }
    }

    /// `n` byte strings of up to `max_len - 1` bytes from a seeded stream, byte `i` of each
    /// chosen by `pick(i, seed, random byte)`.
    fn seeded_columns(
        mut seed: u64,
        n: usize,
        max_len: u64,
        pick: impl Fn(u64, u64, u8) -> u8,
    ) -> Vec<Vec<u8>> {
        let mut cases = Vec::with_capacity(n);
        for _ in 0..n {
            let mut data = Vec::new();
            for i in 0..(seed % max_len) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                data.push(pick(i, seed, (seed >> 56) as u8));
            }
            cases.push(data);
        }
        cases
    }

    fn enc_u(rows: &[Option<u64>]) -> Vec<u8> {
        let mut e = UintEncoder::new();
        rows.iter().for_each(|r| e.append(*r));
        e.finish()
    }

    fn dec_u(data: &[u8], canonical: bool) -> Result<Vec<Option<u64>>, DecodeError> {
        UintDecoder::new(data, canonical).collect()
    }

    #[test]
    fn spec_examples() {
        let s = |v: u64| Some(v);
        assert_eq!(
            enc_u(&[s(1), s(1), s(1), s(2), s(3)]),
            [0x03, 0x01, 0x7e, 0x02, 0x03]
        );
        assert_eq!(enc_u(&[s(1), s(2), s(2)]), [0x7f, 0x01, 0x02, 0x02]);
        assert_eq!(enc_u(&[None, None, s(5)]), [0x00, 0x02, 0x7f, 0x05]);
        assert_eq!(enc_u(&[]), [] as [u8; 0]);
        let mut e = StrEncoder::new();
        for v in ["a", "a", "b"] {
            e.append_value(v);
        }
        assert_eq!(e.finish(), [0x02, 0x01, 0x61, 0x7f, 0x01, 0x62]);
        // the header is signed: a repeat of 64 is `c0 00`
        assert_eq!(enc_u(&[s(7); 64]), [0xc0, 0x00, 0x07]);
        let lit: Vec<_> = (0..64).map(s).collect();
        assert_eq!(enc_u(&lit)[0], 0x40);
        for data in [
            &[0x03, 0x01, 0x7e, 0x02, 0x03][..],
            &[0x7f, 0x01, 0x02, 0x02],
            &[0x00, 0x02, 0x7f, 0x05],
        ] {
            assert_eq!(enc_u(&dec_u(data, true).unwrap()), data);
        }
        let strs: Vec<_> = StrDecoder::new(&[0x02, 0x01, 0x61, 0x7f, 0x01, 0x62], true)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(strs, [Some("a"), Some("a"), Some("b")]);
    }

    #[test]
    fn canonical_rejections() {
        let rule = |data: &[u8]| match dec_u(data, true) {
            Err(DecodeError::NonCanonicalColumn { rule, .. }) => Some(rule),
            _ => None,
        };
        // repeat of one
        assert_eq!(rule(&[0x01, 0x05]), Some(CanonicalRule::RepeatBelowTwo));
        // zero-length null run
        assert_eq!(rule(&[0x00, 0x00]), Some(CanonicalRule::EmptyNullRun));
        // null after null
        assert_eq!(
            rule(&[0x00, 0x01, 0x00, 0x01]),
            Some(CanonicalRule::MergeableRuns)
        );
        // repeat after repeat of the same value
        assert_eq!(
            rule(&[0x02, 0x05, 0x02, 0x05]),
            Some(CanonicalRule::MergeableRuns)
        );
        // literal after literal
        assert_eq!(
            rule(&[0x7f, 0x01, 0x7f, 0x02]),
            Some(CanonicalRule::MergeableRuns)
        );
        // literal followed by a repeat of its last value
        assert_eq!(
            rule(&[0x7e, 0x01, 0x02, 0x02, 0x02]),
            Some(CanonicalRule::MergeableRuns)
        );
        // literal starting with the previous repeat's value
        assert_eq!(
            rule(&[0x02, 0x02, 0x7f, 0x02]),
            Some(CanonicalRule::MergeableRuns)
        );
        // literal with equal adjacent values
        assert_eq!(
            rule(&[0x7e, 0x03, 0x03]),
            Some(CanonicalRule::LiteralRepeats)
        );
        // all of these are accepted leniently
        for data in [
            &[0x01, 0x05][..],
            &[0x00, 0x00],
            &[0x00, 0x01, 0x00, 0x01],
            &[0x7e, 0x03, 0x03],
            &[0x02, 0x02, 0x7f, 0x02],
        ] {
            assert!(dec_u(data, false).is_ok());
        }
        // overlong values are accepted even canonically, but reported
        let mut d = UintDecoder::new(&[0x7f, 0x81, 0x00], true);
        assert_eq!(d.next(), Some(Ok(Some(1))));
        assert!(d.saw_overlong());
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        assert!(dec_u(&[0x7e, 0x01], false).is_err());
        assert!(dec_u(&[0x05], false).is_err());
        assert!(dec_u(&[0x00], false).is_err());
        let mut d = StrDecoder::new(&[0x7f, 0x05, b'a'], false);
        assert!(d.next().unwrap().is_err());
        assert!(d.next().is_none());
        assert!(
            StrDecoder::new(&[0x7f, 0x01, 0xff], false)
                .next()
                .unwrap()
                .is_err()
        );
    }
}
