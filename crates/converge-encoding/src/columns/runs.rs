//! Run cursors: read a column run by run, to copy ranges of its rows into an encoder without
//! decoding and encoding each row (a repeat or null run of any length costs one append).
//!
//! They serve re-encoding a document whose earlier columns are kept (a save after an edit
//! copies the unchanged rows of the kept columns and encodes only the new ones). The copy is
//! exact: appending the pieces of rows `a..b` to an encoder leaves it in the state that
//! appending those rows one by one would, so the output stays canonical however the copied
//! ranges and new rows interleave.
//!
//! A cursor never panics: a column that ends early or holds a malformed run is a
//! [`DecodeError`]. An empty column reads as rows of nulls (`false` for booleans), which is
//! what the document layout means by a column it leaves out.

use super::{BoolEncoder, DeltaEncoder, RleEncoder, RleValue};
use crate::error::{CopyFault, DecodeError};
use crate::reader::Reader;

/// A stretch of rows of an RLE column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Piece<'a, T> {
    /// `n` null rows.
    Nulls(u64),
    /// `n` rows holding the value.
    Repeat(T, u64),
    /// One row of a literal run.
    Value(T),
    /// Three or more rows of a literal run, handed over only when asked for
    /// ([`RleRuns::take`]'s `bulk`): the first value, the encoded values after it but the last
    /// (`count` of them, at least one), and the last value. Neighbouring values differ.
    Literal {
        /// The first value.
        first: T,
        /// The middle values as the column encodes them.
        middle: &'a [u8],
        /// How many values `middle` holds.
        count: u64,
        /// Their wrapping sum, for a column of `i64` (deltas); else 0.
        middle_sum: i64,
        /// The last value.
        last: T,
    },
    /// Whole runs as the column encodes them, handed over only with `bulk` and only right
    /// after a run of values that was taken whole (so the encoder's pending run ends as the
    /// column's did, and nothing in `bytes` could merge with it).
    Encoded {
        /// The runs' bytes.
        bytes: &'a [u8],
        /// The wrapping sum of their values, for a column of `i64` (deltas); else 0.
        sum: i64,
    },
    /// The rest of the column as encoded, handed over only by [`RleRuns::take_to_end`] (on
    /// the terms of [`Piece::Encoded`]); nothing may be appended after it.
    Tail(&'a [u8]),
}

/// The error of a consumer handed a piece it did not ask for.
fn unexpected_piece() -> DecodeError {
    DecodeError::ColumnCopy {
        fault: CopyFault::UnexpectedPiece,
    }
}

#[derive(Clone, Copy, Debug)]
enum Run<T> {
    None,
    Null(u64),
    Repeat(T, u64),
    /// Values of a literal run still to read.
    Literal(u64),
}

/// Reads an RLE column's rows in [`Piece`]s.
#[derive(Clone, Debug)]
pub struct RleRuns<'a, T> {
    r: Reader<'a>,
    run: Run<T>,
    /// The column was left out: every row is null.
    absent: bool,
}

fn ended(r: &Reader<'_>) -> DecodeError {
    DecodeError::NotEnoughInput {
        offset: r.position(),
        needed: 1,
        remaining: 0,
    }
}

impl<'a, T: RleValue<'a>> RleRuns<'a, T> {
    /// A cursor at the first row of a column's data (empty data: a column of nulls).
    pub fn new(data: &'a [u8]) -> Self {
        RleRuns {
            r: Reader::new(data),
            run: Run::None,
            absent: data.is_empty(),
        }
    }

    /// Whether the column has data (some row is not null).
    pub fn is_present(&self) -> bool {
        !self.absent
    }

    /// Hands the next `n` rows to `f`, in order, as pieces that together cover exactly `n`
    /// rows; with `bulk`, three or more rows of a literal run come as one
    /// [`Piece::Literal`].
    pub fn take(
        &mut self,
        n: u64,
        bulk: bool,
        f: impl FnMut(Piece<'a, T>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.take_inner(n, bulk, false, f)
    }

    /// [`RleRuns::take`] with `bulk` of the `n` rows that are all the column has left: after
    /// a run of values taken whole, the rest comes as one [`Piece::Tail`], unscanned.
    pub fn take_to_end(
        &mut self,
        n: u64,
        f: impl FnMut(Piece<'a, T>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        self.take_inner(n, true, true, f)
    }

    fn take_inner(
        &mut self,
        mut n: u64,
        bulk: bool,
        to_end: bool,
        mut f: impl FnMut(Piece<'a, T>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        // Whether a run of values was read from its header and taken whole in this call.
        let (mut started_here, mut whole_run_taken) = (false, false);
        while n > 0 {
            match self.run {
                Run::None => {
                    if self.absent {
                        return f(Piece::Nulls(n));
                    }
                    if to_end && whole_run_taken && !self.r.is_empty() {
                        return f(Piece::Tail(self.r.take_rest()));
                    }
                    if bulk && whole_run_taken {
                        whole_run_taken = false;
                        let (bytes, rows, sum) = self.whole_runs(n)?;
                        if rows > 0 {
                            n -= rows;
                            f(Piece::Encoded { bytes, sum })?;
                            continue;
                        }
                    }
                    if self.r.is_empty() {
                        return Err(ended(&self.r));
                    }
                    started_here = true;
                    let header = self.r.sleb_lenient()?;
                    self.run = if header > 0 {
                        let (v, _) = T::read(&mut self.r)?;
                        Run::Repeat(v, header.unsigned_abs())
                    } else if header < 0 {
                        Run::Literal(header.unsigned_abs())
                    } else {
                        Run::Null(self.r.uleb_lenient()?)
                    };
                }
                Run::Null(k) => {
                    let t = k.min(n);
                    self.run = if k > t { Run::Null(k - t) } else { Run::None };
                    n -= t;
                    if t > 0 {
                        f(Piece::Nulls(t))?;
                    }
                }
                Run::Repeat(v, k) => {
                    let t = k.min(n);
                    self.run = if k > t {
                        Run::Repeat(v, k - t)
                    } else {
                        // Three or more: even with its first value re-based (a delta
                        // column), the run leaves a repeat pending.
                        whole_run_taken = started_here && t >= 3;
                        Run::None
                    };
                    n -= t;
                    if t > 0 {
                        f(Piece::Repeat(v, t))?;
                    }
                }
                Run::Literal(k) if bulk && k.min(n) >= 3 => {
                    let t = k.min(n);
                    let first = T::read(&mut self.r)?.0;
                    let start = self.r.position();
                    let middle_sum = T::skip_values(&mut self.r, t - 2)?;
                    let middle = self.r.consumed_since(start);
                    let last = T::read(&mut self.r)?.0;
                    self.run = if k > t {
                        Run::Literal(k - t)
                    } else {
                        // Its last value is the column's own even if its first was
                        // re-based.
                        whole_run_taken = started_here;
                        Run::None
                    };
                    n -= t;
                    f(Piece::Literal {
                        first,
                        middle,
                        count: t - 2,
                        middle_sum,
                        last,
                    })?;
                }
                Run::Literal(k) => {
                    // (A literal taken value by value has fewer than three values here, or
                    // no bulk was asked for; it does not count as a run taken whole: with
                    // its only value re-based, a delta column's literal may join what
                    // follows.)
                    self.run = if k > 1 {
                        Run::Literal(k - 1)
                    } else {
                        Run::None
                    };
                    if k > 0 {
                        let (v, _) = T::read(&mut self.r)?;
                        n -= 1;
                        f(Piece::Value(v))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Skips `n` rows.
    pub fn skip(&mut self, n: u64) -> Result<(), DecodeError> {
        self.take(n, true, |_| Ok(()))
    }

    /// From a run boundary: the whole runs ahead that hold fewer than `n` rows together,
    /// consumed. At least one row of the `n` is left for the caller to take row-wise, so
    /// that the last run is pending in the encoder; and the last whole run is not a literal,
    /// since a run cut short after it could join it (a repeat cut to one value).
    fn whole_runs(&mut self, n: u64) -> Result<(&'a [u8], u64, i64), DecodeError> {
        let start = self.r.position();
        let (mut rows, mut sum) = (0u64, 0i64);
        // Where the cursor, count and sum were before the last run, if it was a literal.
        let mut before_literal: Option<(Reader<'a>, u64, i64)> = None;
        loop {
            let mut ahead = self.r;
            if ahead.is_empty() {
                break;
            }
            let header = ahead.sleb_lenient()?;
            let (k, run_sum) = if header > 0 {
                let v = T::skip_values(&mut ahead, 1)?;
                (header.unsigned_abs(), v.wrapping_mul(header))
            } else if header < 0 {
                let k = header.unsigned_abs();
                (k, T::skip_values(&mut ahead, k)?)
            } else {
                (ahead.uleb_lenient()?, 0)
            };
            if rows.saturating_add(k) >= n {
                break;
            }
            before_literal = (header < 0).then_some((self.r, rows, sum));
            rows += k;
            sum = sum.wrapping_add(run_sum);
            self.r = ahead;
        }
        if let Some((r, before, before_sum)) = before_literal {
            self.r = r;
            rows = before;
            sum = before_sum;
        }
        Ok((self.r.consumed_since(start), rows, sum))
    }
}

impl<'a, T: RleValue<'a>> RleEncoder<T> {
    /// Appends the next `n` rows of `src`, each value passed through `map` (which must be
    /// one-to-one, so runs stay runs: an actor renumbering).
    pub fn copy_from(
        &mut self,
        src: &mut RleRuns<'a, T>,
        n: u64,
        map: impl Fn(T) -> Result<T, DecodeError>,
    ) -> Result<(), DecodeError> {
        src.take(n, false, |p| {
            match p {
                Piece::Nulls(k) => self.append_nulls(k),
                Piece::Repeat(v, k) => self.append_value_n(map(v)?, k),
                Piece::Value(v) => self.append_value(map(v)?),
                Piece::Literal { .. } | Piece::Encoded { .. } | Piece::Tail(_) => {
                    return Err(unexpected_piece());
                }
            }
            Ok(())
        })
    }

    /// Appends the next `n` rows of `src` as they are (literal runs copied as bytes).
    pub fn copy_exact(&mut self, src: &mut RleRuns<'a, T>, n: u64) -> Result<(), DecodeError> {
        src.take(n, true, |p| self.append_piece(p))
    }

    /// Appends the `n` rows `src` has left, the rest of its bytes copied unscanned once the
    /// pending run is settled; nothing may be appended after.
    pub fn copy_to_end(&mut self, src: &mut RleRuns<'a, T>, n: u64) -> Result<(), DecodeError> {
        src.take_to_end(n, |p| self.append_piece(p))
    }

    fn append_piece(&mut self, p: Piece<'a, T>) -> Result<(), DecodeError> {
        match p {
            Piece::Nulls(k) => self.append_nulls(k),
            Piece::Repeat(v, k) => self.append_value_n(v, k),
            Piece::Value(v) => self.append_value(v),
            Piece::Literal {
                first,
                middle,
                count,
                last,
                ..
            } => self.append_literal(first, middle, count, last)?,
            Piece::Encoded { bytes, .. } | Piece::Tail(bytes) => self.append_encoded(bytes),
        }
        Ok(())
    }
}

impl<'a> RleEncoder<u64> {
    /// [`RleEncoder::copy_from`] without a map, returning the sum of `weight(v)` over the
    /// copied non-null rows (the bytes or entries a grouped column holds for them).
    pub fn copy_weighted(
        &mut self,
        src: &mut RleRuns<'a, u64>,
        n: u64,
        weight: impl Fn(u64) -> u64,
    ) -> Result<u64, DecodeError> {
        take_weighted(src, n, weight, |p| match p {
            Piece::Nulls(k) => self.append_nulls(k),
            Piece::Repeat(v, k) => self.append_value_n(v, k),
            Piece::Value(v) => self.append_value(v),
            // `take_weighted` refuses these before handing anything on.
            Piece::Literal { .. } | Piece::Encoded { .. } | Piece::Tail(_) => {}
        })
    }
}

/// The sum of `weight(v)` over the next `n` rows of `src`, which are skipped.
pub fn skip_weighted<'a>(
    src: &mut RleRuns<'a, u64>,
    n: u64,
    weight: impl Fn(u64) -> u64,
) -> Result<u64, DecodeError> {
    take_weighted(src, n, weight, |_| {})
}

/// Hands the next `n` rows of `src` to `each` (no bulk pieces) and sums `weight(v)` over
/// the non-null ones.
fn take_weighted<'a>(
    src: &mut RleRuns<'a, u64>,
    n: u64,
    weight: impl Fn(u64) -> u64,
    mut each: impl FnMut(Piece<'a, u64>),
) -> Result<u64, DecodeError> {
    let mut sum = 0u64;
    src.take(n, false, |p| {
        match p {
            Piece::Literal { .. } | Piece::Encoded { .. } | Piece::Tail(_) => {
                return Err(unexpected_piece());
            }
            Piece::Nulls(_) => {}
            Piece::Repeat(v, k) => sum = sum.saturating_add(weight(v).saturating_mul(k)),
            Piece::Value(v) => sum = sum.saturating_add(weight(v)),
        }
        each(p);
        Ok(())
    })?;
    Ok(sum)
}

/// Reads a delta column's rows in runs of deltas, tracking the absolute value.
#[derive(Clone, Debug)]
pub struct DeltaRuns<'a> {
    inner: RleRuns<'a, i64>,
    current: i64,
}

impl<'a> DeltaRuns<'a> {
    /// A cursor at the first row of a delta column's data.
    pub fn new(data: &'a [u8]) -> Self {
        DeltaRuns {
            inner: RleRuns::new(data),
            current: 0,
        }
    }

    /// Whether the column has data.
    pub fn is_present(&self) -> bool {
        self.inner.is_present()
    }

    /// Skips `n` rows.
    pub fn skip(&mut self, n: u64) -> Result<(), DecodeError> {
        let current = &mut self.current;
        self.inner.take(n, true, |p| {
            match p {
                Piece::Nulls(_) => {}
                Piece::Repeat(d, k) => {
                    *current = current.wrapping_add(d.wrapping_mul(k as i64));
                }
                Piece::Value(d) => *current = current.wrapping_add(d),
                Piece::Literal {
                    first,
                    middle_sum,
                    last,
                    ..
                } => {
                    *current = current
                        .wrapping_add(first)
                        .wrapping_add(middle_sum)
                        .wrapping_add(last);
                }
                Piece::Encoded { sum, .. } => *current = current.wrapping_add(sum),
                Piece::Tail(_) => return Err(unexpected_piece()),
            }
            Ok(())
        })
    }
}

impl DeltaEncoder {
    /// Appends the next `n` rows of `src`: the first value is re-based on this encoder's
    /// running value, after which the deltas are the column's own.
    pub fn copy_from(&mut self, src: &mut DeltaRuns<'_>, n: u64) -> Result<(), DecodeError> {
        let DeltaRuns { inner, current } = src;
        inner.take(n, true, |p| self.append_delta_piece(p, current))
    }

    /// Appends the `n` rows `src` has left, the rest of its bytes copied unscanned once this
    /// encoder is level with the column; nothing may be appended after (the running value is
    /// not followed through the copied bytes).
    pub fn copy_to_end(&mut self, src: &mut DeltaRuns<'_>, n: u64) -> Result<(), DecodeError> {
        let DeltaRuns { inner, current } = src;
        inner.take_to_end(n, |p| self.append_delta_piece(p, current))
    }

    /// Appends one piece of a delta column whose running value before it is `current`
    /// (advanced past it).
    fn append_delta_piece(
        &mut self,
        p: Piece<'_, i64>,
        current: &mut i64,
    ) -> Result<(), DecodeError> {
        match p {
            Piece::Tail(bytes) => {
                // Only after a whole run of values: this encoder is level with the column.
                self.append_encoded_deltas(*current, bytes, *current)?;
            }
            Piece::Literal {
                first,
                middle,
                count,
                middle_sum,
                last,
            } => {
                // The first delta re-based, the others the column's own.
                let first_value = current.wrapping_add(first);
                *current = first_value.wrapping_add(middle_sum).wrapping_add(last);
                self.append_literal_deltas(first_value, middle, count, last, *current)?;
            }
            Piece::Encoded { bytes, sum } => {
                // Only after a whole run of values: this encoder is level with the column.
                let end = current.wrapping_add(sum);
                self.append_encoded_deltas(*current, bytes, end)?;
                *current = end;
            }
            Piece::Nulls(k) => self.append_nulls(k),
            Piece::Repeat(d, k) => {
                *current = current.wrapping_add(d);
                self.append_value(*current);
                if k > 1 {
                    // Now level with the source: the rest of the run is its own deltas.
                    let rest = d.wrapping_mul((k - 1) as i64);
                    self.append_delta_run(d, k - 1, rest);
                    *current = current.wrapping_add(rest);
                }
            }
            Piece::Value(d) => {
                *current = current.wrapping_add(d);
                self.append_value(*current);
            }
        }
        Ok(())
    }
}

/// Reads a boolean column's rows in runs.
#[derive(Clone, Debug)]
pub struct BoolRuns<'a> {
    r: Reader<'a>,
    value: bool,
    remaining: u64,
    next_value: bool,
    /// The column was left out: every row is `false`.
    absent: bool,
}

impl<'a> BoolRuns<'a> {
    /// A cursor at the first row of a boolean column's data (empty: all `false`).
    pub fn new(data: &'a [u8]) -> Self {
        BoolRuns {
            r: Reader::new(data),
            value: false,
            remaining: 0,
            next_value: false,
            absent: data.is_empty(),
        }
    }

    /// Whether the column has data.
    pub fn is_present(&self) -> bool {
        !self.absent
    }

    /// Hands the next `n` rows to `f` as `(value, count)` runs.
    pub fn take(&mut self, mut n: u64, mut f: impl FnMut(bool, u64)) -> Result<(), DecodeError> {
        while n > 0 {
            if self.remaining == 0 {
                if self.absent {
                    f(false, n);
                    return Ok(());
                }
                if self.r.is_empty() {
                    return Err(ended(&self.r));
                }
                self.remaining = self.r.uleb_lenient()?;
                self.value = self.next_value;
                self.next_value = !self.next_value;
                continue;
            }
            let t = self.remaining.min(n);
            self.remaining -= t;
            n -= t;
            f(self.value, t);
        }
        Ok(())
    }
}

impl BoolEncoder {
    /// Appends the next `n` rows of `src`.
    pub fn copy_from(&mut self, src: &mut BoolRuns<'_>, n: u64) -> Result<(), DecodeError> {
        src.take(n, |v, k| self.append_n(v, k))
    }
}

/// Reads the raw bytes of a grouped column (a value or extra-bytes column) in order.
#[derive(Clone, Debug)]
pub struct RawBytes<'a> {
    r: Reader<'a>,
}

impl<'a> RawBytes<'a> {
    /// A cursor at the first byte.
    pub fn new(data: &'a [u8]) -> Self {
        RawBytes {
            r: Reader::new(data),
        }
    }

    /// The bytes left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        self.r.take_rest()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| ended(&self.r))?;
        self.r.take(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use crate::columns::{BoolDecoder, DeltaDecoder, RleDecoder};

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// The rows as an RLE column, a delta column, and a boolean column of which are non-null.
    fn encode_three_ways(rows: &[Option<u64>]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (mut u, mut d, mut b) = (
            RleEncoder::<u64>::new(),
            DeltaEncoder::new(),
            BoolEncoder::new(),
        );
        for r in rows {
            u.append(*r);
            d.append(r.map(|v| v as i64));
            b.append(r.is_some());
        }
        (u.finish(), d.finish(), b.finish())
    }

    /// Random rows, cut into random ranges; each range is copied from the encoded column or
    /// skipped and replaced by fresh rows, and the result equals encoding the final rows one
    /// by one.
    #[test]
    fn copied_ranges_equal_encoding_row_by_row() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20000 {
            let len = (rng(&mut seed) % 80) as usize;
            let rows: Vec<Option<u64>> = (0..len)
                .map(|_| match rng(&mut seed) % 6 {
                    0 => None,
                    k => Some(k % 3 + 10 * (rng(&mut seed) % 2)),
                })
                .collect();
            let (u_data, d_data, b_data) = encode_three_ways(&rows);
            let (mut us, mut ds, mut bs) = (
                RleRuns::<u64>::new(&u_data),
                DeltaRuns::new(&d_data),
                BoolRuns::new(&b_data),
            );
            let (mut u2, mut d2, mut b2) = (
                RleEncoder::<u64>::new(),
                DeltaEncoder::new(),
                BoolEncoder::new(),
            );
            let mut expected: Vec<Option<u64>> = Vec::new();
            let mut at = 0;
            while at < len {
                let n = ((rng(&mut seed) % 9) as usize).min(len - at);
                if rng(&mut seed).is_multiple_of(3) {
                    us.skip(n as u64).unwrap();
                    ds.skip(n as u64).unwrap();
                    bs.take(n as u64, |_, _| {}).unwrap();
                    let fresh = Some(rng(&mut seed) % 3);
                    expected.push(fresh);
                    u2.append(fresh);
                    d2.append(fresh.map(|v| v as i64));
                    b2.append(true);
                } else {
                    let last = at + n == len;
                    match rng(&mut seed) % 3 {
                        0 => u2.copy_from(&mut us, n as u64, Ok).unwrap(),
                        1 if last => u2.copy_to_end(&mut us, n as u64).unwrap(),
                        _ => u2.copy_exact(&mut us, n as u64).unwrap(),
                    }
                    if last && rng(&mut seed).is_multiple_of(2) {
                        d2.copy_to_end(&mut ds, n as u64).unwrap();
                    } else {
                        d2.copy_from(&mut ds, n as u64).unwrap();
                    }
                    b2.copy_from(&mut bs, n as u64).unwrap();
                    expected.extend_from_slice(&rows[at..at + n]);
                }
                at += n;
            }
            let (u3, d3, b3) = encode_three_ways(&expected);
            assert_eq!(u2.finish(), u3);
            assert_eq!(d2.finish(), d3);
            assert_eq!(b2.finish(), b3);
        }
    }

    #[test]
    fn absent_columns_read_as_nulls_and_short_columns_fail() {
        let mut e = RleEncoder::<u64>::new();
        e.copy_from(&mut RleRuns::new(&[]), 3, Ok).unwrap();
        let data = e.finish();
        let rows: Vec<_> = RleDecoder::<u64>::new(&data, true).collect();
        assert_eq!(rows, vec![Ok(None), Ok(None), Ok(None)]);
        let mut b = BoolEncoder::new();
        b.copy_from(&mut BoolRuns::new(&[]), 2).unwrap();
        let data = b.finish();
        let rows: Vec<_> = BoolDecoder::new(&data, true).collect();
        assert_eq!(rows, vec![Ok(false), Ok(false)]);
        // two rows of 7, then asking for three
        let mut short = RleRuns::<u64>::new(&[2, 7]);
        assert!(short.skip(3).is_err());
        let mut short = DeltaRuns::new(&[2, 7]);
        assert!(DeltaEncoder::new().copy_from(&mut short, 3).is_err());
        let mut short = BoolRuns::new(&[1]);
        assert!(short.take(2, |_, _| {}).is_err());
        let rows: Vec<_> = DeltaDecoder::new(&[2, 7], true).collect();
        assert_eq!(rows.len(), 2);
    }
}
