//! Columnar storage: column specs, the column metadata block, and the column codecs
//! (spec format.md §3, §4).
//!
//! A change or document stores its rows column by column. [`ColumnMetadata::read`] parses and
//! validates the metadata block; [`ColumnMetadata::take_data`] then slices each column's data
//! out of the input, giving [`Columns`], which hands out a column's bytes by [`ColumnSpec`]
//! (a missing column reads as empty).
//!
//! Codecs, each a streaming decoder (an iterator over `Result<_, DecodeError>` that allocates
//! nothing per value) paired with an encoder that writes exactly the reference's canonical form:
//!
//! | Column types | Decoder | Encoder |
//! |---|---|---|
//! | Actor, Integer, Group, ValueMetadata (uLEB) | [`UintDecoder`] | [`UintEncoder`] |
//! | String | [`StrDecoder`] | [`StrEncoder`] |
//! | DeltaInteger | [`DeltaDecoder`] | [`DeltaEncoder`] |
//! | Boolean | [`BoolDecoder`] | [`BoolEncoder`] |
//! | ValueMetadata + Value | [`ValueDecoder`] | [`ValueEncoder`] |
//!
//! Decoders read values with the *lenient* LEB128 reader, as the reference does. Each takes a
//! `canonical` flag: in canonical mode (document columns) every run layout the reference's
//! encoder would not have produced is rejected with [`DecodeError::NonCanonicalColumn`]
//! (overlong LEB128 is still accepted, as in the reference; [`RleDecoder::saw_overlong`] and
//! friends report it).

mod boolean;
mod delta;
mod rle;
mod runs;
mod value;

pub use boolean::{BoolDecoder, BoolEncoder};
pub use delta::{DeltaDecoder, DeltaEncoder};
pub(crate) use rle::{EncoderBuffers, RowsAhead};
pub use rle::{RleDecoder, RleEncoder, RleValue, StrDecoder, StrEncoder, UintDecoder, UintEncoder};
pub use runs::{BoolRuns, DeltaRuns, Piece, RawBytes, RleRuns, skip_weighted};
pub use value::{RawValue, ValueDecoder, ValueEncoder};

use smallvec::SmallVec;

use crate::error::DecodeError;
use crate::leb128;
use crate::reader::Reader;

/// The type of a column: the low three bits of its spec (§3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ColumnType {
    /// 0: RLE of per-row item counts; child columns with the same id follow.
    Group = 0,
    /// 1: RLE of actor indexes.
    Actor = 1,
    /// 2: RLE of unsigned integers.
    Integer = 2,
    /// 3: delta-encoded signed integers.
    DeltaInteger = 3,
    /// 4: alternating boolean run lengths.
    Boolean = 4,
    /// 5: RLE of strings.
    String = 5,
    /// 6: RLE of value metadata words.
    ValueMetadata = 6,
    /// 7: raw value bytes, sliced by the metadata column of the same id.
    Value = 7,
}

impl ColumnType {
    /// The type for the low three bits of `code`.
    pub fn from_bits(code: u32) -> ColumnType {
        match code & 7 {
            0 => ColumnType::Group,
            1 => ColumnType::Actor,
            2 => ColumnType::Integer,
            3 => ColumnType::DeltaInteger,
            4 => ColumnType::Boolean,
            5 => ColumnType::String,
            6 => ColumnType::ValueMetadata,
            _ => ColumnType::Value,
        }
    }
}

/// A column specification: `id << 4 | deflate << 3 | type` (§3.1).
///
/// Ordering and equality are those of the raw `u32`; compare [`ColumnSpec::normalized`] specs
/// to ignore the deflate bit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnSpec(u32);

impl ColumnSpec {
    const DEFLATE_BIT: u32 = 0b1000;

    /// A spec with the given id and type, not deflated.
    pub const fn new(id: u32, column_type: ColumnType) -> ColumnSpec {
        ColumnSpec((id << 4) | column_type as u32)
    }

    /// The spec for a raw `u32` as written in a metadata block.
    pub const fn from_raw(raw: u32) -> ColumnSpec {
        ColumnSpec(raw)
    }

    /// The raw `u32`.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The column id (bits 31..4).
    pub const fn id(self) -> u32 {
        self.0 >> 4
    }

    /// The column type (bits 2..0).
    pub fn column_type(self) -> ColumnType {
        ColumnType::from_bits(self.0)
    }

    /// Whether the column's data is raw DEFLATE (bit 3).
    pub const fn is_deflated(self) -> bool {
        self.0 & Self::DEFLATE_BIT != 0
    }

    /// This spec with the deflate bit cleared: the key columns are ordered and looked up by.
    pub const fn normalized(self) -> ColumnSpec {
        ColumnSpec(self.0 & !Self::DEFLATE_BIT)
    }

    /// What the ordering rule of a metadata block compares, as automerge 0.12 computes it:
    /// the spec's low byte without the deflate bit (`spec & 0xf7`). A column id of 16 or
    /// more therefore orders by its low four bits only; the reference accepts and refuses
    /// such blocks by this key, so converge does too.
    pub const fn order_key(self) -> u32 {
        self.0 & 0xf7
    }

    /// This spec with the deflate bit set.
    pub const fn deflated(self) -> ColumnSpec {
        ColumnSpec(self.0 | Self::DEFLATE_BIT)
    }
}

impl std::fmt::Debug for ColumnSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ColumnSpec(id {}, {:?}{})",
            self.id(),
            self.column_type(),
            if self.is_deflated() { ", deflated" } else { "" }
        )
    }
}

/// A parsed and validated column metadata block (§3.2): specs and data lengths, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMetadata {
    columns: SmallVec<[(ColumnSpec, usize); 16]>,
}

impl ColumnMetadata {
    /// Reads `uLEB(n)` then `n` × (`uLEB(spec)`, `uLEB(len)`), all strict, and checks the
    /// ordering, value-after-metadata and group rules of §3.2. Column data is not read: call
    /// [`ColumnMetadata::take_data`] where the chunk layout puts it.
    pub fn read(r: &mut Reader<'_>) -> Result<ColumnMetadata, DecodeError> {
        let n = r.count("columns", 2)?;
        let mut columns = SmallVec::with_capacity(n);
        let mut prev: Option<ColumnSpec> = None;
        let mut group_id: Option<u32> = None;
        for index in 0..n {
            let raw = r.uleb()?;
            let spec = ColumnSpec(
                u32::try_from(raw).map_err(|_| DecodeError::ColumnSpecTooLarge { value: raw })?,
            );
            let len = r.uleb()?;
            let len = usize::try_from(len).map_err(|_| DecodeError::OutOfRange {
                field: "column length",
                value: len,
                offset: r.position(),
            })?;
            if prev.is_some_and(|p| spec.order_key() < p.order_key()) {
                return Err(DecodeError::NotInNormalOrder {
                    index,
                    spec: spec.raw(),
                });
            }
            match spec.column_type() {
                ColumnType::Value => {
                    let follows_meta = prev.is_some_and(|p| {
                        p.column_type() == ColumnType::ValueMetadata && p.id() == spec.id()
                    });
                    if !follows_meta {
                        return Err(DecodeError::LoneValueColumn { spec: spec.raw() });
                    }
                }
                ColumnType::Group => {
                    if group_id == Some(spec.id()) {
                        return Err(DecodeError::NestedGroup { spec: spec.raw() });
                    }
                    group_id = Some(spec.id());
                }
                _ => {}
            }
            prev = Some(spec);
            columns.push((spec, len));
        }
        Ok(ColumnMetadata { columns })
    }

    /// The specs and data lengths, in metadata order.
    pub fn iter(&self) -> impl Iterator<Item = (ColumnSpec, usize)> + '_ {
        self.columns.iter().copied()
    }

    /// Sum of the declared data lengths (saturating).
    pub fn total_len(&self) -> usize {
        self.columns
            .iter()
            .fold(0usize, |acc, (_, len)| acc.saturating_add(*len))
    }

    /// Slices each column's data out of `r` (back-to-back, in metadata order).
    pub fn take_data<'a>(&self, r: &mut Reader<'a>) -> Result<Columns<'a>, DecodeError> {
        let mut columns = SmallVec::with_capacity(self.columns.len());
        for &(spec, len) in &self.columns {
            let offset = r.position();
            let data = r.take(len)?;
            columns.push(ColumnData { spec, offset, data });
        }
        Ok(Columns { columns })
    }
}

/// One column's data as sliced from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnData<'a> {
    /// The spec as written (deflate bit included).
    pub spec: ColumnSpec,
    /// Offset of the data within the reader it was taken from.
    pub offset: usize,
    /// The data (still compressed if the spec says deflated).
    pub data: &'a [u8],
}

/// The columns of one metadata block with their data, looked up by spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns<'a> {
    columns: SmallVec<[ColumnData<'a>; 16]>,
}

impl<'a> Columns<'a> {
    /// The column with this normalized spec (the last one if the input repeats a spec).
    pub fn find(&self, spec: ColumnSpec) -> Option<ColumnData<'a>> {
        let norm = spec.normalized();
        self.columns
            .iter()
            .rev()
            .find(|c| c.spec.normalized() == norm)
            .copied()
    }

    /// The data of the column with this normalized spec; empty if there is none. Data of a
    /// deflated column is returned as stored.
    pub fn get(&self, spec: ColumnSpec) -> &'a [u8] {
        self.find(spec).map_or(&[][..], |c| c.data)
    }

    /// All columns in metadata order.
    pub fn iter(&self) -> impl Iterator<Item = ColumnData<'a>> + '_ {
        self.columns.iter().copied()
    }
}

/// Writes a column metadata block for `columns` (which must be in normalized order without
/// duplicates), omitting every column whose data is empty (§3.2). The data itself is not
/// written: see [`write_column_data`].
pub fn write_column_metadata(out: &mut Vec<u8>, columns: &[(ColumnSpec, &[u8])]) {
    debug_assert!(
        columns
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.0.normalized() < b.0.normalized()))
    );
    write_column_lengths(out, columns.iter().map(|&(spec, data)| (spec, data.len())));
}

/// [`write_column_metadata`] for columns given by their lengths (normalized order, no
/// duplicates; zero-length columns omitted), for a writer that knows them before it writes
/// the data.
#[inline]
pub fn write_column_lengths(
    out: &mut Vec<u8>,
    columns: impl Iterator<Item = (ColumnSpec, usize)> + Clone,
) {
    let n = columns.clone().filter(|&(_, len)| len > 0).count();
    leb128::write_u64(out, n as u64);
    for (spec, len) in columns.filter(|&(_, len)| len > 0) {
        leb128::write_u64(out, u64::from(spec.raw()));
        leb128::write_u64(out, len as u64);
    }
}

/// Appends the data of `columns` back to back (empty columns contribute nothing).
pub fn write_column_data(out: &mut Vec<u8>, columns: &[(ColumnSpec, &[u8])]) {
    for (_, data) in columns {
        out.extend_from_slice(data);
    }
}

/// [`write_column_metadata`] followed by [`write_column_data`].
pub fn write_columns(out: &mut Vec<u8>, columns: &[(ColumnSpec, &[u8])]) {
    write_column_metadata(out, columns);
    write_column_data(out, columns);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn spec_bits() {
        let s = ColumnSpec::new(10, ColumnType::String);
        assert_eq!(s.raw(), 0xa5);
        assert_eq!(s.id(), 10);
        assert_eq!(s.column_type(), ColumnType::String);
        assert!(!s.is_deflated());
        assert_eq!(ColumnSpec::new(5, ColumnType::Value).deflated().raw(), 0x5f);
        assert_eq!(ColumnSpec::from_raw(0x5f).normalized().raw(), 0x57);
    }

    #[test]
    fn metadata_round_trip_omits_empty() {
        let a = ColumnSpec::new(1, ColumnType::String);
        let b = ColumnSpec::new(3, ColumnType::Boolean);
        let c = ColumnSpec::new(4, ColumnType::Integer);
        let mut out = Vec::new();
        write_columns(&mut out, &[(a, b"x"), (b, b""), (c, b"yz")]);
        assert_eq!(out, [2, 0x15, 1, 0x42, 2, b'x', b'y', b'z']);
        let mut r = Reader::new(&out);
        let meta = ColumnMetadata::read(&mut r).unwrap();
        let cols = meta.take_data(&mut r).unwrap();
        assert!(r.is_empty());
        assert_eq!(cols.get(a), b"x");
        assert_eq!(cols.get(b), b"");
        assert_eq!(cols.get(c), b"yz");
    }

    #[test]
    fn metadata_rules() {
        let read = |b: &[u8]| ColumnMetadata::read(&mut Reader::new(b));
        assert!(matches!(
            read(&[2, 0x42, 0, 0x15, 0]),
            Err(DecodeError::NotInNormalOrder { index: 1, .. })
        ));
        assert!(matches!(
            read(&[1, 0x57, 0]),
            Err(DecodeError::LoneValueColumn { .. })
        ));
        assert!(matches!(
            read(&[2, 0x46, 0, 0x57, 0]),
            Err(DecodeError::LoneValueColumn { .. })
        ));
        assert!(read(&[2, 0x56, 0, 0x57, 0]).is_ok());
        assert!(read(&[2, 0x5e, 0, 0x57, 0]).is_ok());
        // Order by the spec's low byte only, as automerge 0.12 (found by `make oracle-long`):
        // 0x146 (id 20) orders as 0x46, so it may precede 0x60 and may not follow it.
        assert!(read(&[2, 0xc6, 0x02, 0, 0x60, 0]).is_ok());
        assert!(matches!(
            read(&[2, 0x60, 0, 0xc6, 0x02, 0]),
            Err(DecodeError::NotInNormalOrder { index: 1, .. })
        ));
        assert!(matches!(
            read(&[2, 0x70, 0, 0x70, 0]),
            Err(DecodeError::NestedGroup { .. })
        ));
        assert!(matches!(
            read(&[1, 0x81, 0x00, 0]),
            Err(DecodeError::Leb128Overlong { .. })
        ));
        // data beyond the input
        let mut r = Reader::new(&[1, 0x42, 5, 1, 2]);
        let meta = ColumnMetadata::read(&mut r).unwrap();
        assert!(meta.take_data(&mut r).is_err());
    }

    /// Rows with long runs: each `(value, nulls, repeat)` adds `repeat % 5` rows of `value
    /// % 4` (so that neighbours are often equal) or, when `nulls`, that many nulls.
    fn runs(spec: &[(u8, bool, u8)]) -> Vec<Option<u64>> {
        let mut rows = Vec::new();
        for &(v, nulls, repeat) in spec {
            for _ in 0..repeat % 5 {
                rows.push((!nulls).then_some(u64::from(v % 4) * 1000));
            }
        }
        rows
    }

    /// Skipping `k` rows of a column leaves each decoder exactly where `k` calls of `next`
    /// do (what follows is the same, errors included) and folds the skipped values.
    #[test]
    fn skipping_rows_is_reading_them() {
        fn prop(spec: Vec<(u8, bool, u8)>, bits: Vec<bool>, cut: u8) -> bool {
            let rows = runs(&spec);
            let mut rle = UintEncoder::new();
            let mut delta = DeltaEncoder::new();
            for r in &rows {
                rle.append(*r);
                delta.append(r.map(|v| v as i64 - 1500));
            }
            let mut b = BoolEncoder::new();
            for &x in &bits {
                b.append(x);
            }
            let (mut rle, delta, b) = (rle.finish(), delta.finish(), b.finish());
            // A damaged copy too: the skip must fail where reading fails.
            let damaged = !rle.is_empty() && cut.is_multiple_of(3);
            if damaged {
                let at = usize::from(cut) % rle.len();
                rle[at] = rle[at].wrapping_add(cut | 1);
            }
            let mut ok = true;
            let len = rows.len().max(bits.len()) as u64;
            let cut = u64::from(cut);
            for k in [
                0,
                1,
                2,
                3,
                cut % (len + 1),
                len / 3,
                len / 2,
                len.saturating_sub(1),
                len,
                len + 1,
            ] {
                let mut read = UintDecoder::new(&rle, true);
                let mut read_sum = Some(0u64);
                for _ in 0..k {
                    match read.next() {
                        Some(Ok(v)) => read_sum = read_sum.map(|s| s + v.unwrap_or(0)),
                        _ => read_sum = None,
                    }
                }
                let mut skipped = UintDecoder::new(&rle, true);
                match skipped.skip_rows(k, 0u64, |acc, v, t| acc + v * t) {
                    Ok(Some(sum)) => {
                        ok &= read_sum == Some(sum);
                        ok &= read.collect::<Vec<_>>() == skipped.collect::<Vec<_>>();
                    }
                    _ => ok &= read_sum.is_none(),
                }
                let mut read = DeltaDecoder::new(&delta, true);
                let read_all = (0..k).all(|_| matches!(read.next(), Some(Ok(_))));
                let mut skipped = DeltaDecoder::new(&delta, true);
                match skipped.skip_rows(k) {
                    Ok(Some(())) => {
                        ok &= read_all && read.collect::<Vec<_>>() == skipped.collect::<Vec<_>>();
                    }
                    _ => ok &= !read_all,
                }
                let mut read = BoolDecoder::new(&b, true);
                let read_all = (0..k).all(|_| matches!(read.next(), Some(Ok(_))));
                let mut skipped = BoolDecoder::new(&b, true);
                match skipped.skip_rows(k) {
                    Ok(Some(())) => {
                        ok &= read_all && read.collect::<Vec<_>>() == skipped.collect::<Vec<_>>();
                    }
                    _ => ok &= !read_all,
                }
            }
            ok
        }
        quickcheck::QuickCheck::new()
            .tests(300)
            .quickcheck(prop as fn(Vec<(u8, bool, u8)>, Vec<bool>, u8) -> bool);
    }
}
