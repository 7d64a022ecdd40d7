//! The document chunk (type 0, spec format.md §7): every change's metadata plus the ops of all
//! changes in document order, with deletions folded into successor lists.
//!
//! [`DocumentChunk::decode`] reads a chunk as the reference's loader does (canonical columns,
//! raw-DEFLATE columns inflated under a size limit, unknown columns ignored, optional head
//! indexes, nothing after them). [`DocumentChunk::encode`] writes exactly the reference's bytes
//! for the same content (§7.3 column set and elision; with `compress`, every column of at least
//! 256 bytes deflated). [`DocumentChunk::reconstruct_changes`] rebuilds the changes (§8).

mod changes;
mod ops;
mod reconstruct;
mod writer;

use std::io::Read;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::chunk::{self, Chunk, ChunkType};
use crate::columns::ColumnMetadata;
use crate::error::DecodeError;
use crate::ids::{ActorId, ChangeHash, ElemId, Key, KeyRef, ObjId, OpId};
use crate::leb128;
use crate::reader::Reader;
use crate::value::{Action, ScalarValue, ValueRef};

use crate::columns::{BoolDecoder, DeltaDecoder, RleDecoder, RleValue};

pub use changes::DocChanges;
pub use ops::{DocOpBlock, DocOps};
pub use reconstruct::{
    ActorRows, HeadsCheck, OpIdStats, OpRows, RebuiltChunk, RebuiltChunkSink, SideWork,
};
pub use writer::{
    ChangeColumnsSource, ChangeColumnsWriter, DocChangeRef, DocOpRef, DocumentColumnsWriter,
    OpColumnGroup, OpColumnsSource, OpColumnsWriter, write_document, write_document_columns,
};

/// The data of the column with normalized spec `spec` in a `(spec, data)` list.
pub(crate) fn column_data(cols: &[(u32, Vec<u8>)], spec: u32) -> Option<&[u8]> {
    cols.iter()
        .find(|(s, _)| *s == spec)
        .map(|(_, d)| d.as_slice())
}

/// The DEFLATE bit of a column spec.
const DEFLATE_BIT: u32 = 0x08;
/// Columns at least this long are deflated when compressing (spec format.md §7.6).
const DEFLATE_MIN_SIZE: usize = 256;

/// Change metadata column specs (spec format.md §7.2).
mod change_col {
    pub(super) const ACTOR: u32 = 0x01;
    pub(super) const SEQ: u32 = 0x03;
    pub(super) const MAX_OP: u32 = 0x13;
    pub(super) const TIME: u32 = 0x23;
    pub(super) const MESSAGE: u32 = 0x35;
    pub(super) const DEPS_COUNT: u32 = 0x40;
    pub(super) const DEPS: u32 = 0x43;
    pub(super) const EXTRA_META: u32 = 0x56;
    pub(super) const EXTRA_RAW: u32 = 0x57;
    pub(super) const ALL: [u32; 9] = [
        ACTOR, SEQ, MAX_OP, TIME, MESSAGE, DEPS_COUNT, DEPS, EXTRA_META, EXTRA_RAW,
    ];
}

/// Op column specs (spec format.md §7.3).
mod op_col {
    pub(super) const OBJ_ACTOR: u32 = 0x01;
    pub(super) const OBJ_COUNTER: u32 = 0x02;
    pub(super) const KEY_ACTOR: u32 = 0x11;
    pub(super) const KEY_COUNTER: u32 = 0x13;
    pub(super) const KEY_STRING: u32 = 0x15;
    pub(super) const ID_ACTOR: u32 = 0x21;
    pub(super) const ID_COUNTER: u32 = 0x23;
    pub(super) const INSERT: u32 = 0x34;
    pub(super) const ACTION: u32 = 0x42;
    pub(super) const VALUE_META: u32 = 0x56;
    pub(super) const VALUE_RAW: u32 = 0x57;
    pub(super) const SUCC_COUNT: u32 = 0x80;
    pub(super) const SUCC_ACTOR: u32 = 0x81;
    pub(super) const SUCC_COUNTER: u32 = 0x83;
    pub(super) const EXPAND: u32 = 0x94;
    pub(super) const MARK_NAME: u32 = 0xa5;
    pub(super) const ALL: [u32; 16] = [
        OBJ_ACTOR,
        OBJ_COUNTER,
        KEY_ACTOR,
        KEY_COUNTER,
        KEY_STRING,
        ID_ACTOR,
        ID_COUNTER,
        INSERT,
        ACTION,
        VALUE_META,
        VALUE_RAW,
        SUCC_COUNT,
        SUCC_ACTOR,
        SUCC_COUNTER,
        EXPAND,
        MARK_NAME,
    ];
}

/// Bounds on what decoding a document may allocate, against decompression bombs and run-length
/// bombs (a three-byte repeat run can claim 2⁶³ rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Most bytes all deflated columns of one chunk may inflate to, together.
    pub max_inflated_bytes: usize,
    /// Most changes, and separately most ops (and most successor entries), one chunk may hold.
    pub max_rows: usize,
}

impl Default for DocumentLimits {
    /// 512 MiB inflated, 16 Mi rows (the largest real document we know, `godot-thread`, has
    /// 9.4 Mi ops). A decoded op takes 40 bytes (more with its successors, a string or byte
    /// value, or a mark name), so the row limit bounds memory at a few GiB; lower it where
    /// untrusted input must stay smaller.
    fn default() -> Self {
        DocumentLimits {
            max_inflated_bytes: 512 << 20,
            max_rows: 16 << 20,
        }
    }
}

/// One change's metadata row in a document (spec format.md §7.2), owned: what
/// [`DocumentChunk::from_parts`] takes and [`DocChanges::to_vec`] gives (a decoded chunk keeps
/// its rows compactly, as [`DocChanges`]). The change's ops are stored with the document's
/// ops; its startOp is implied (§8).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DocChange {
    /// The author, an index into [`DocumentChunk::actors`].
    pub actor: u32,
    /// Per-actor sequence number, from 1.
    pub seq: u64,
    /// The counter of the change's last op (startOp − 1 for a change with no ops).
    pub max_op: u64,
    /// Timestamp as the author recorded it.
    pub time: i64,
    /// The commit message, if any. ([`DocChanges`] keeps each distinct text once: apps tag
    /// every change with the same few, essay.amrg 262,961 messages with 10 texts.)
    pub message: Option<Arc<str>>,
    /// Dependencies: indexes of earlier changes in [`DocumentChunk::changes`], in the order of
    /// the change's own deps. Inline up to two (most changes have one).
    pub deps: SmallVec<[u32; 2]>,
    /// Opaque trailing bytes of the change (e.g. an author footer).
    pub extra_bytes: Vec<u8>,
}

/// One stored op (spec format.md §7.3): every op of every change except deletions, with the
/// ids of the ops that overwrote, deleted or incremented it. Actor indexes are document-wide.
#[derive(Clone, Debug, PartialEq)]
pub struct DocOp {
    /// The op's id.
    pub id: OpId,
    /// The object it acts on.
    pub obj: ObjId,
    /// The key or element it addresses (for an insert: the element it is inserted after).
    pub key: Key,
    /// Whether it inserts a new sequence element.
    pub insert: bool,
    /// What it does.
    pub action: Action,
    /// Its value (null for make ops and mark ends).
    pub value: DocValue,
    /// The ops that supersede it, sorted ascending (inline up to two).
    pub succ: SmallVec<[OpId; 2]>,
    /// For marks: whether the mark expands at this boundary.
    pub expand: bool,
    /// For mark begins: the mark's name.
    pub mark_name: Option<Box<str>>,
}

/// A stored op's value: a [`ScalarValue`] in 16 bytes, with numbers and strings of up to 14
/// bytes (most often one text character) inline, so a decoded op owns no heap memory for them.
#[derive(Clone, Default)]
pub struct DocValue(Repr);

/// The most bytes a string value keeps inline.
const INLINE_STR: usize = 14;

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Null,
    Bool(bool),
    Uint(u64),
    Int(i64),
    F64(f64),
    Counter(i64),
    Timestamp(i64),
    /// A string of `len` bytes, valid UTF-8.
    SmallStr {
        len: u8,
        bytes: [u8; INLINE_STR],
    },
    /// Longer strings, bytes and unknown kinds.
    Boxed(Box<ScalarValue>),
}

impl DocValue {
    /// A string value.
    pub fn string(s: &str) -> DocValue {
        if s.len() <= INLINE_STR {
            let mut bytes = [0u8; INLINE_STR];
            if let Some(head) = bytes.get_mut(..s.len()) {
                head.copy_from_slice(s.as_bytes());
            }
            DocValue(Repr::SmallStr {
                len: s.len() as u8,
                bytes,
            })
        } else {
            DocValue(Repr::Boxed(Box::new(ScalarValue::Str(s.to_owned()))))
        }
    }

    /// The value, borrowed.
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match &self.0 {
            Repr::Null => ValueRef::Null,
            Repr::Bool(b) => ValueRef::Bool(*b),
            Repr::Uint(u) => ValueRef::Uint(*u),
            Repr::Int(i) => ValueRef::Int(*i),
            Repr::F64(f) => ValueRef::F64(*f),
            Repr::Counter(c) => ValueRef::Counter(*c),
            Repr::Timestamp(t) => ValueRef::Timestamp(*t),
            Repr::SmallStr { len, bytes } => ValueRef::Str(
                // Built only from a `&str` cut at its end, so always valid UTF-8.
                bytes
                    .get(..usize::from(*len))
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or_default(),
            ),
            Repr::Boxed(v) => ValueRef::from(&**v),
        }
    }

    /// The value as an owned [`ScalarValue`].
    pub fn to_scalar(&self) -> ScalarValue {
        match &self.0 {
            Repr::Boxed(v) => (**v).clone(),
            _ => ScalarValue::from(self.as_value_ref()),
        }
    }
}

impl From<ValueRef<'_>> for DocValue {
    /// Short strings inline; the rest as [`From<ScalarValue>`] does.
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Str(s) => DocValue::string(s),
            v => DocValue::from(ScalarValue::from(v)),
        }
    }
}

impl From<ScalarValue> for DocValue {
    fn from(v: ScalarValue) -> Self {
        DocValue(match v {
            ScalarValue::Null => Repr::Null,
            ScalarValue::Bool(b) => Repr::Bool(b),
            ScalarValue::Uint(u) => Repr::Uint(u),
            ScalarValue::Int(i) => Repr::Int(i),
            ScalarValue::F64(f) => Repr::F64(f),
            ScalarValue::Counter(c) => Repr::Counter(c),
            ScalarValue::Timestamp(t) => Repr::Timestamp(t),
            ScalarValue::Str(s) if s.len() <= INLINE_STR => return DocValue::string(&s),
            v => Repr::Boxed(Box::new(v)),
        })
    }
}

impl std::fmt::Debug for DocValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_value_ref().fmt(f)
    }
}

impl PartialEq for DocValue {
    fn eq(&self, other: &Self) -> bool {
        self.as_value_ref() == other.as_value_ref()
    }
}

impl PartialEq<ScalarValue> for DocValue {
    fn eq(&self, other: &ScalarValue) -> bool {
        self.as_value_ref() == ValueRef::from(other)
    }
}

/// A decoded document chunk (spec format.md §7.1).
#[derive(Clone, Debug, Default)]
pub struct DocumentChunk {
    /// Every actor that authored a change, sorted bytewise.
    pub actors: Vec<ActorId>,
    /// The heads, sorted bytewise.
    pub heads: Vec<ChangeHash>,
    /// Change metadata in document (topological) order, compactly.
    pub changes: DocChanges,
    /// Stored ops in document order (spec format.md §7.4), compactly.
    pub ops: DocOps,
    /// The index in [`DocumentChunk::changes`] of each head, or `None` when the chunk omitted
    /// them (older writers; never `None` without heads). Not validated on read, as in the
    /// reference.
    pub head_indexes: Option<Vec<u64>>,
    /// The columns as read, when they are exactly what [`write_document`] writes for these
    /// rows (see [`DocumentChunk::canonical_columns`]). Not part of equality.
    encoded: Option<Arc<EncodedColumns>>,
}

/// Equality of content: the columns kept from decoding do not take part.
impl PartialEq for DocumentChunk {
    fn eq(&self, other: &Self) -> bool {
        self.actors == other.actors
            && self.heads == other.heads
            && self.changes == other.changes
            && self.ops == other.ops
            && self.head_indexes == other.head_indexes
    }
}

/// A document's finished columns, uncompressed, in the layout [`write_document`] gives them:
/// change columns and op columns, each as (spec, data) in spec order, empty ones left out.
/// Kept by a saver so that saving an unchanged document again costs a copy (and the
/// deflating), not an encode; [`write_document_columns`] writes them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct EncodedColumns {
    changes: Vec<(u32, Vec<u8>)>,
    ops: Vec<(u32, Vec<u8>)>,
}

impl EncodedColumns {
    /// The columns of two finished writers.
    pub fn from_writers(changes: ChangeColumnsWriter<'_>, ops: OpColumnsWriter<'_>) -> Self {
        Self::from_finished(changes.finish(), ops.finish())
    }

    /// The columns of a change writer and of op writers that each wrote a part of the op
    /// rows (`parts` in row order, each with its row count, each writer started empty, actors
    /// numbered alike): the columns one op writer given all the rows would have written, so
    /// that threads can each write parts. Only the run headers of the middle parts' columns
    /// are read; the last part's bytes are copied unscanned once its first runs are joined.
    pub fn from_op_parts(
        changes: ChangeColumnsWriter<'_>,
        parts: Vec<(OpColumnsWriter<'_>, u64)>,
    ) -> Result<Self, DecodeError> {
        let mut parts = parts.into_iter();
        let Some((first, _)) = parts.next() else {
            return Ok(Self::from_writers(changes, OpColumnsWriter::new()));
        };
        let later: Vec<writer::FinishedPart> = parts
            .map(|(writer, rows)| (writer.finish(), rows))
            .collect();
        Ok(Self::from_finished(
            changes.finish(),
            first.finish_followed_by(&later)?,
        ))
    }

    /// Finished change and op columns, in spec order, without the empty ones (which the
    /// layout leaves out).
    pub(crate) fn from_finished(changes: Vec<(u32, Vec<u8>)>, ops: Vec<(u32, Vec<u8>)>) -> Self {
        let keep = |cols: Vec<(u32, Vec<u8>)>| -> Vec<(u32, Vec<u8>)> {
            cols.into_iter().filter(|(_, d)| !d.is_empty()).collect()
        };
        EncodedColumns {
            changes: keep(changes),
            ops: keep(ops),
        }
    }
}

impl std::fmt::Debug for EncodedColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lens = |cols: &[(u32, Vec<u8>)]| -> Vec<(u32, usize)> {
            cols.iter().map(|(s, d)| (*s, d.len())).collect()
        };
        f.debug_struct("EncodedColumns")
            .field("changes", &lens(&self.changes))
            .field("ops", &lens(&self.ops))
            .finish()
    }
}

/// The data of a set of columns, inflated where needed, keyed by normalized spec.
struct Columns {
    data: Vec<(u32, Vec<u8>)>,
}

impl Columns {
    /// Slices (and inflates) the columns listed in `specs` from `r`.
    fn read(
        r: &mut Reader<'_>,
        specs: &ColumnMetadata,
        inflated_budget: &mut usize,
        limit: usize,
    ) -> Result<Columns, DecodeError> {
        let mut data: Vec<(u32, Vec<u8>)> = Vec::new();
        for (spec, len) in specs.iter() {
            let bytes = r
                .take(len)
                .map_err(|_| DecodeError::ColumnDataOutOfBounds {
                    needed: len as u64,
                    remaining: r.remaining(),
                })?;
            let normal = spec.normalized().raw();
            let bytes = if spec.is_deflated() {
                inflate(bytes, inflated_budget, limit)?
            } else {
                bytes.to_vec()
            };
            // Equal normalized specs: the later one wins.
            data.retain(|(s, _)| *s != normal);
            data.push((normal, bytes));
        }
        Ok(Columns { data })
    }

    fn get(&self, spec: u32) -> Option<&[u8]> {
        column_data(&self.data, spec)
    }

    /// The columns in the writer's layout, if the non-empty columns among `known` are exactly
    /// `expected` (unknown columns, which the writer never writes, are dropped).
    fn into_layout(self, known: &[u32], expected: &[u32]) -> Option<Vec<(u32, Vec<u8>)>> {
        let mut cols: Vec<(u32, Vec<u8>)> = self
            .data
            .into_iter()
            .filter(|(s, d)| !d.is_empty() && known.contains(s))
            .collect();
        cols.sort_unstable_by_key(|(s, _)| *s);
        let specs = cols.iter().map(|(s, _)| *s);
        specs.eq(expected.iter().copied()).then_some(cols)
    }
}

/// What decoding a set of columns learned about whether they are laid out exactly as the
/// writer lays out the same rows: the canonical run layouts are enforced while decoding; this
/// records the rest (overlong numbers, value bytes, which optional columns are needed).
#[derive(Debug, PartialEq)]
struct Shape {
    /// Nothing seen that the writer would write differently.
    canonical: bool,
    /// The columns the writer would write for these rows, in spec order.
    expected: Vec<u32>,
}

/// Whether a value's raw bytes are what [`ValueRef::encode_raw`] writes for it (documents
/// tolerate trailing bytes after an integer, and bytes after a null or a boolean).
fn value_is_canonical(value: ValueRef<'_>, raw_len: usize) -> bool {
    match value {
        ValueRef::Null | ValueRef::Bool(_) => raw_len == 0,
        ValueRef::Uint(u) => raw_len == leb128::u64_len(u),
        ValueRef::Int(i) | ValueRef::Counter(i) | ValueRef::Timestamp(i) => {
            raw_len == leb128::i64_len(i)
        }
        ValueRef::F64(_) => raw_len == 8,
        ValueRef::Str(_) | ValueRef::Bytes(_) | ValueRef::Unknown { .. } => true,
    }
}

/// Inflates a raw DEFLATE stream, charging its output to `budget`.
fn inflate(data: &[u8], budget: &mut usize, limit: usize) -> Result<Vec<u8>, DecodeError> {
    let out = chunk::inflate_raw(data, *budget).map_err(|e| match e {
        DecodeError::InflatedTooLarge { .. } => DecodeError::InflatedTooLarge { limit },
        e => e,
    })?;
    *budget -= out.len();
    Ok(out)
}

/// An optional column's decoder, or a fixed default when the column is absent.
struct Opt<D>(Option<D>);

/// Reads the next row of a present column, checking it has one.
fn row<T>(
    next: Result<Option<T>, DecodeError>,
    spec: u32,
    expected: u64,
    found: u64,
) -> Result<T, DecodeError> {
    // A `match`, not `ok_or`: building and dropping an unused error per row is measurable.
    match next? {
        Some(v) => Ok(v),
        None => Err(DecodeError::ColumnLengthMismatch {
            spec,
            expected,
            found,
        }),
    }
}

fn rle_u64<'a>(cols: &'a Columns, spec: u32) -> Opt<RleDecoder<'a, u64>> {
    Opt(cols.get(spec).map(|d| RleDecoder::new(d, true)))
}

fn rle_str<'a>(cols: &'a Columns, spec: u32) -> Opt<RleDecoder<'a, &'a str>> {
    Opt(cols.get(spec).map(|d| RleDecoder::new(d, true)))
}

fn delta<'a>(cols: &'a Columns, spec: u32) -> Opt<DeltaDecoder<'a>> {
    Opt(cols.get(spec).map(|d| DeltaDecoder::new(d, true)))
}

fn boolean<'a>(cols: &'a Columns, spec: u32) -> Opt<BoolDecoder<'a>> {
    Opt(cols.get(spec).map(|d| BoolDecoder::new(d, true)))
}

impl<D: Iterator<Item = Result<V, DecodeError>>, V> Opt<D> {
    /// Fails if the column holds more rows than the driving column's `n`.
    fn finish(&mut self, spec: u32, n: u64) -> Result<(), DecodeError> {
        if let Some(d) = &mut self.0
            && d.next().transpose()?.is_some()
        {
            return Err(DecodeError::ColumnLengthMismatch {
                spec,
                expected: n,
                found: n + 1,
            });
        }
        Ok(())
    }
}

impl<'a, T: RleValue<'a>> Opt<RleDecoder<'a, T>> {
    /// Whether a present column held an overlong LEB128 number.
    fn overlong(&self) -> bool {
        self.0.as_ref().is_some_and(RleDecoder::saw_overlong)
    }

    /// The next row; absent columns yield null. `i` is the row number for errors.
    fn next(&mut self, spec: u32, n: u64, i: u64) -> Result<Option<T>, DecodeError> {
        match &mut self.0 {
            None => Ok(None),
            Some(d) => row(d.next().transpose(), spec, n, i),
        }
    }
}

impl Opt<DeltaDecoder<'_>> {
    fn overlong(&self) -> bool {
        self.0.as_ref().is_some_and(DeltaDecoder::saw_overlong)
    }

    fn next(&mut self, spec: u32, n: u64, i: u64) -> Result<Option<i64>, DecodeError> {
        match &mut self.0 {
            None => Ok(None),
            Some(d) => row(d.next().transpose(), spec, n, i),
        }
    }
}

impl Opt<BoolDecoder<'_>> {
    fn overlong(&self) -> bool {
        self.0.as_ref().is_some_and(BoolDecoder::saw_overlong)
    }

    fn next(&mut self, spec: u32, n: u64, i: u64) -> Result<bool, DecodeError> {
        match &mut self.0 {
            None => Ok(false),
            Some(d) => row(d.next().transpose(), spec, n, i),
        }
    }
}

/// Counts the rows of a driving column without materialising them.
fn count_rows(data: Option<&[u8]>, limit: usize, what: &'static str) -> Result<u64, DecodeError> {
    let Some(data) = data else { return Ok(0) };
    // By runs: a run of 16 Mi rows in three bytes took 16 Mi steps (2.4 s of a fuzz input
    // under the fuzzer's instrumentation).
    match RleDecoder::<u64>::new(data, true).count_rows(limit as u64)? {
        Some(n) => Ok(n),
        None => Err(DecodeError::TooManyRows {
            what,
            limit: limit as u64,
        }),
    }
}

pub(crate) fn non_null<T>(v: Option<T>, column: &'static str, row: u64) -> Result<T, DecodeError> {
    match v {
        Some(v) => Ok(v),
        None => Err(DecodeError::UnexpectedNull { column, row }),
    }
}

pub(crate) fn actor_index(v: u64, actors: usize) -> Result<u32, DecodeError> {
    match u32::try_from(v) {
        Ok(i) if (i as usize) < actors => Ok(i),
        _ => Err(DecodeError::ActorIndexOutOfRange {
            index: v,
            len: actors,
        }),
    }
}

pub(crate) fn counter_u32(v: i64, field: &'static str, row: u64) -> Result<u32, DecodeError> {
    u32::try_from(v).map_err(|_| DecodeError::OutOfRange {
        field,
        value: v as u64,
        offset: row as usize,
    })
}

impl DocumentChunk {
    /// An empty document.
    pub fn new() -> Self {
        DocumentChunk {
            head_indexes: Some(Vec::new()),
            ..DocumentChunk::default()
        }
    }

    /// Builds a document from its parts, as a saver has them: actors (sorted), change metadata
    /// and ops in document order, and the heads with the index of each head's change. Heads are
    /// sorted bytewise and their indexes kept aligned.
    pub fn from_parts(
        actors: Vec<ActorId>,
        changes: Vec<DocChange>,
        ops: Vec<DocOp>,
        mut heads: Vec<(ChangeHash, usize)>,
    ) -> Self {
        heads.sort_by_key(|h| h.0);
        DocumentChunk {
            actors,
            heads: heads.iter().map(|(h, _)| *h).collect(),
            changes: DocChanges::from(changes),
            ops: DocOps::from(ops),
            head_indexes: Some(heads.iter().map(|(_, i)| *i as u64).collect()),
            encoded: None,
        }
    }

    /// The chunk's columns exactly as read (inflated), when they are the bytes
    /// [`write_document`] writes for these rows: canonical runs (enforced by decoding), no
    /// overlong numbers, values without slack bytes, and exactly the columns the writer
    /// includes. `None` for a chunk that was built rather than decoded, or written otherwise.
    /// A saver that lays out its rows as the chunk does (same actors, changes and ops in the
    /// same order) can keep these instead of encoding again.
    pub fn canonical_columns(&self) -> Option<&Arc<EncodedColumns>> {
        self.encoded.as_ref()
    }

    /// The columns the writer writes for this chunk's rows (what
    /// [`DocumentChunk::canonical_columns`] must equal when it is `Some`).
    pub fn encode_columns(&self) -> EncodedColumns {
        EncodedColumns::from_finished(encode_changes(&self.changes), encode_ops(&self.ops))
    }

    /// [`DocumentChunk::canonical_columns`], moved out of the chunk.
    pub fn take_canonical_columns(&mut self) -> Option<Arc<EncodedColumns>> {
        self.encoded.take()
    }

    /// Decodes one whole document chunk (header included) with the default limits; the
    /// checksum must match and nothing may follow the chunk.
    pub fn decode(chunk: &[u8]) -> Result<DocumentChunk, DecodeError> {
        Self::decode_with_limits(chunk, DocumentLimits::default())
    }

    /// [`DocumentChunk::decode`] with explicit limits.
    pub fn decode_with_limits(
        chunk: &[u8],
        limits: DocumentLimits,
    ) -> Result<DocumentChunk, DecodeError> {
        let parsed = Chunk::parse(chunk)?;
        if parsed.chunk_type() != ChunkType::Document {
            return Err(DecodeError::WrongChunkType {
                expected: "document",
                found: parsed.chunk_type().byte(),
            });
        }
        if parsed.bytes().len() != chunk.len() {
            return Err(DecodeError::LeftoverData {
                len: chunk.len() - parsed.bytes().len(),
            });
        }
        parsed.verify_checksum()?;
        Self::decode_data(parsed.data(), limits)
    }

    /// Decodes the data of a document chunk (the bytes after the chunk header).
    pub fn decode_data(data: &[u8], limits: DocumentLimits) -> Result<DocumentChunk, DecodeError> {
        let mut r = Reader::new(data);
        let n_actors = r.count("actors", 1)?;
        let mut actors = Vec::with_capacity(n_actors);
        for _ in 0..n_actors {
            actors.push(ActorId::from_bytes(r.length_prefixed()?));
        }
        let n_heads = r.count("heads", ChangeHash::LEN)?;
        let mut heads = Vec::with_capacity(n_heads);
        for _ in 0..n_heads {
            heads.push(ChangeHash(r.take_array()?));
        }
        let change_specs = ColumnMetadata::read(&mut r)?;
        let op_specs = ColumnMetadata::read(&mut r)?;
        let mut budget = limits.max_inflated_bytes;
        let change_cols = Columns::read(
            &mut r,
            &change_specs,
            &mut budget,
            limits.max_inflated_bytes,
        )?;
        let op_cols = Columns::read(&mut r, &op_specs, &mut budget, limits.max_inflated_bytes)?;
        // With no heads there is nothing to omit: always `Some`, so decoding is canonical.
        let head_indexes = if r.is_empty() && n_heads > 0 {
            None
        } else {
            let mut idx = Vec::with_capacity(n_heads.min(r.remaining()));
            for _ in 0..n_heads {
                idx.push(r.uleb()?);
            }
            Some(idx)
        };
        if !r.is_empty() {
            return Err(DecodeError::LeftoverData { len: r.remaining() });
        }
        let ((changes, change_shape), (ops, op_shape)) =
            decode_rows(&change_cols, &op_cols, actors.len(), limits)?;
        let encoded = if change_shape.canonical && op_shape.canonical {
            match (
                change_cols.into_layout(&change_col::ALL, &change_shape.expected),
                op_cols.into_layout(&op_col::ALL, &op_shape.expected),
            ) {
                (Some(changes), Some(ops)) => Some(Arc::new(EncodedColumns { changes, ops })),
                _ => None,
            }
        } else {
            None
        };
        Ok(DocumentChunk {
            actors,
            heads,
            changes,
            ops,
            head_indexes,
            encoded,
        })
    }

    /// Encodes the whole chunk (header included) as the reference writes it: `save()` with
    /// `compress`, `save_nocompress()` without.
    pub fn encode(&self, compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        chunk::write_chunk(&mut out, ChunkType::Document, &self.encode_data(compress));
        out
    }

    /// Encodes the chunk data (the bytes after the header).
    pub fn encode_data(&self, compress: bool) -> Vec<u8> {
        writer::write_data(
            &self.actors,
            &self.heads,
            self.head_indexes.as_deref(),
            &encode_changes(&self.changes),
            &encode_ops(&self.ops),
            compress,
        )
    }
}

/// A document's change rows, and how canonical their columns are.
type DecodedChanges = (DocChanges, Shape);
/// A document's op rows, and how canonical their columns are.
type DecodedOps = (DocOps, Shape);

/// Decodes the change rows and the op rows, on two threads when both are large and a core is
/// free (they are independent). A change error is reported before an op error, as when they
/// are decoded one after the other.
fn decode_rows(
    change_cols: &Columns,
    op_cols: &Columns,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<(DecodedChanges, DecodedOps), DecodeError> {
    use change_col::ACTOR;
    use op_col::ACTION;
    let n_changes = count_rows(change_cols.get(ACTOR), limits.max_rows, "changes")?;
    let n_ops = match count_rows(op_cols.get(ACTION), limits.max_rows, "ops") {
        Ok(n) => n,
        // One after the other, the changes decode (and may fail) before the ops are counted.
        Err(e) => {
            decode_changes(change_cols, n_changes, n_actors, limits)?;
            return Err(e);
        }
    };
    // One huge run of ops beside few changes (godot-thread.amrg: 9.4M ops, 2 changes): the
    // ops are split between two threads.
    if n_ops >= PARALLEL_OPS_ROWS && n_changes < PARALLEL_DECODE_ROWS && crate::second_core() {
        let changes = decode_changes(change_cols, n_changes, n_actors, limits)?;
        return Ok((
            changes,
            decode_ops_on_two_threads(op_cols, n_ops, n_actors, limits)?,
        ));
    }
    let both_large = n_changes.min(n_ops) >= PARALLEL_DECODE_ROWS;
    // The second thread decodes the change rows and then, if there are more op rows than
    // change rows, the op rows from where that evens out the rows each thread decodes (a
    // change row and an op row take about as long: essay.amrg's 262,516 change rows 11 ms,
    // its 504,363 op rows 24 ms).
    let m = joinable_split((n_changes + n_ops) / 2, n_ops);
    if both_large && m < n_ops && crate::second_core() {
        let split = decode_ops_split_beside(op_cols, n_ops, m, n_actors, limits, || {
            decode_changes(change_cols, n_changes, n_actors, limits)
        });
        if let Some((changes, ops)) = split {
            let changes = changes?;
            let ops = match ops {
                Some(ops) => ops,
                None => decode_ops(op_cols, n_ops, n_actors, limits),
            };
            return Ok((changes, ops?));
        }
    }
    if both_large && crate::second_core() {
        let decoded = std::thread::scope(|scope| {
            let changes = std::thread::Builder::new()
                .name("converge-decode".into())
                .spawn_scoped(scope, || {
                    decode_changes(change_cols, n_changes, n_actors, limits)
                })
                .ok()?;
            let ops = decode_ops(op_cols, n_ops, n_actors, limits);
            let changes = match changes.join() {
                Ok(changes) => changes,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            Some((changes, ops))
        });
        if let Some((changes, ops)) = decoded {
            return Ok((changes?, ops?));
        }
    }
    let changes = decode_changes(change_cols, n_changes, n_actors, limits)?;
    Ok((changes, decode_ops(op_cols, n_ops, n_actors, limits)?))
}

/// Rows of both kinds from which a document's change rows and op rows are decoded on two
/// threads (8,192 rows take about half a millisecond; the paper document's 259,779 change
/// rows are 32 bytes of runs, so bytes say nothing of the work).
const PARALLEL_DECODE_ROWS: u64 = 1 << 13;

/// Appends the non-empty columns' data to `out`, deflating those of at least 256 bytes when
/// `compress`, and returns each written column's spec and stored length.
///
/// The deflated bytes depend on how the output buffer grows, not only on the input and the
/// level: zlib-rs emits different (equally valid) streams for different output buffer sizes.
/// (Level 6 is zlib-rs's `deflate_medium`, which keeps the match it looked ahead for in a
/// local variable; when a block flush fills the output, it returns for more room and drops
/// that match, so the parse after the block depends on where the output slices ended.)
/// The reference deflates each column with `bufread::DeflateEncoder::read_to_end` into one
/// growing buffer holding all change columns and then all op columns, so this does exactly
/// the same to produce identical bytes.
pub(crate) fn write_column_data(
    out: &mut Vec<u8>,
    cols: &[(u32, Vec<u8>)],
    compress: bool,
) -> Vec<(u32, usize)> {
    let mut specs = Vec::with_capacity(cols.len());
    for (spec, data) in cols {
        if data.is_empty() {
            continue;
        }
        let (spec, data) = (*spec, data.as_slice());
        let start = out.len();
        if compress && data.len() >= DEFLATE_MIN_SIZE {
            let mut enc =
                flate2::bufread::DeflateEncoder::new(data, flate2::Compression::default());
            if enc.read_to_end(out).is_ok() {
                specs.push((spec | DEFLATE_BIT, out.len() - start));
                continue;
            }
            // Deflating into memory cannot fail; should it, store the column as is.
            out.truncate(start);
        }
        out.extend_from_slice(data);
        specs.push((spec, data.len()));
    }
    specs
}

pub(crate) fn write_column_specs(out: &mut Vec<u8>, cols: &[(u32, usize)]) {
    leb128::write_u64(out, cols.len() as u64);
    for (spec, len) in cols {
        leb128::write_u64(out, u64::from(*spec));
        leb128::write_u64(out, *len as u64);
    }
}

/// The `n` change rows of `cols` (`n` counted from the actor column).
fn decode_changes(
    cols: &Columns,
    n: u64,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<(DocChanges, Shape), DecodeError> {
    use change_col::*;
    // automerge 0.12 loads the extra-bytes metadata without a fill value, so a document
    // with changes must carry that column (its writer always does): absent or empty, it
    // refuses the document for too few rows, and so does converge.
    // The same holds for the deps' group column: automerge 0.12 takes one dep count per row
    // from it, with no fill, and refuses a document whose count of counts is short.
    for spec in [DEPS_COUNT, EXTRA_META] {
        if n > 0 && cols.get(spec).is_none_or(<[u8]>::is_empty) {
            return Err(DecodeError::ColumnLengthMismatch {
                spec,
                expected: n,
                found: 0,
            });
        }
    }
    let mut actor = rle_u64(cols, ACTOR);
    let mut seq = delta(cols, SEQ);
    let mut max_op = delta(cols, MAX_OP);
    let mut time = delta(cols, TIME);
    let mut message = rle_str(cols, MESSAGE);
    let mut deps_count = rle_u64(cols, DEPS_COUNT);
    let mut deps = delta(cols, DEPS);
    let mut extra_meta = rle_u64(cols, EXTRA_META);
    let mut extra_raw = Reader::new(cols.get(EXTRA_RAW).unwrap_or_default());
    let mut dep_items: u64 = 0;
    // Whether every row's time, dep count and extra metadata is what the writer writes.
    let (mut any_message, mut any_extra, mut metas_canonical) = (false, false, true);
    let mut out = DocChanges::with_capacity(n as usize);
    let mut d: Vec<u32> = Vec::new();
    for i in 0..n {
        let a = non_null(actor.next(ACTOR, n, i)?, "change actor", i)?;
        let s = non_null(seq.next(SEQ, n, i)?, "change seq", i)?;
        let m = non_null(max_op.next(MAX_OP, n, i)?, "change maxOp", i)?;
        // Null time, dep count or extra metadata rows read as their defaults, which the
        // writer writes as values.
        let t = time.next(TIME, n, i)?;
        metas_canonical &= t.is_some();
        let t = t.unwrap_or(0);
        let msg = message.next(MESSAGE, n, i)?;
        let dc = deps_count.next(DEPS_COUNT, n, i)?;
        metas_canonical &= dc.is_some();
        let dc = dc.unwrap_or(0);
        dep_items += dc;
        if dep_items > limits.max_rows as u64 {
            return Err(DecodeError::TooManyRows {
                what: "change deps",
                limit: limits.max_rows as u64,
            });
        }
        d.clear();
        for _ in 0..dc {
            let dep = non_null(deps.next(DEPS, dep_items, i)?, "change dep", i)?;
            let dep = u32::try_from(dep).map_err(|_| DecodeError::InvalidDepIndex {
                change: i as usize,
                dep: dep as u64,
            })?;
            d.push(dep);
        }
        let meta = extra_meta.next(EXTRA_META, n, i)?;
        metas_canonical &= meta.is_some_and(|m| m & 0xf == 7);
        let meta = meta.unwrap_or(7);
        let extra_len = usize::try_from(meta >> 4).unwrap_or(usize::MAX);
        let extra = extra_raw.take(extra_len)?;
        any_message |= msg.is_some();
        any_extra |= !extra.is_empty();
        out.push(&DocChangeRef {
            actor: actor_index(a, n_actors)?,
            seq: u32_field(s, "change seq", i)?,
            max_op: u32_field(m, "change maxOp", i)?,
            time: t,
            message: msg,
            // Sliced by the row's count: `&d` reads pointer and length as one 16-byte load,
            // which stalls on the length the last push just stored.
            deps: d.get(..dc as usize).unwrap_or_default(),
            extra_bytes: extra,
        });
    }
    actor.finish(ACTOR, n)?;
    seq.finish(SEQ, n)?;
    max_op.finish(MAX_OP, n)?;
    time.finish(TIME, n)?;
    message.finish(MESSAGE, n)?;
    deps_count.finish(DEPS_COUNT, n)?;
    deps.finish(DEPS, dep_items)?;
    extra_meta.finish(EXTRA_META, n)?;
    let overlong = actor.overlong()
        || seq.overlong()
        || max_op.overlong()
        || time.overlong()
        || message.overlong()
        || deps_count.overlong()
        || deps.overlong()
        || extra_meta.overlong();
    let mut expected = Vec::new();
    if n > 0 {
        expected.extend([ACTOR, SEQ, MAX_OP, TIME]);
        if any_message {
            expected.push(MESSAGE);
        }
        expected.push(DEPS_COUNT);
        if dep_items > 0 {
            expected.push(DEPS);
        }
        expected.push(EXTRA_META);
        if any_extra {
            expected.push(EXTRA_RAW);
        }
    }
    let shape = Shape {
        canonical: !overlong && metas_canonical && extra_raw.is_empty(),
        expected,
    };
    Ok((out, shape))
}

fn u32_field(v: i64, field: &'static str, row: u64) -> Result<u64, DecodeError> {
    Ok(u64::from(counter_u32(v, field, row)?))
}

/// Op rows from which they are decoded on two threads (when the changes are few): 65,536
/// rows take about 3 ms on one.
const PARALLEL_OPS_ROWS: u64 = if cfg!(test) { 72 } else { 1 << 16 };

/// [`decode_ops`], the rows split near the middle: a second thread skips its decoders to
/// that row (cheap: a repeat or null run is one step) and decodes the rest while this
/// thread decodes the rows before it. The result, the error included, is
/// [`decode_ops`]'s: the second thread's decoders start exactly where this thread's stop,
/// an error before the boundary is this thread's to report and comes first, and anything
/// unexpected falls back to one thread.
fn decode_ops_on_two_threads(
    cols: &Columns,
    n: u64,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<(DocOps, Shape), DecodeError> {
    // (S3.am's 1,230,872 ops used to be split at the block boundary, 2²⁰: this thread took
    // 52 ms for its 85 %; split in the middle, the two parts took 29 and 35 ms.)
    let m = joinable_split(n / 2, n);
    if m == 0 || m >= n {
        return decode_ops(cols, n, n_actors, limits);
    }
    decode_ops_split(cols, n, m, n_actors, limits)
        .unwrap_or_else(|| decode_ops(cols, n, n_actors, limits))
}

/// Where to split `n` op rows between two threads, near `target`: the parts are joined
/// without copying rows when the second starts inside the first block (which then stays
/// short, see `DocOps::append`) or at a block boundary, so a target past the first block
/// moves to the block boundary nearest to it. `n` or more: no split.
fn joinable_split(target: u64, n: u64) -> u64 {
    let block = ops::BLOCK_ROWS as u64;
    if target < block {
        target
    } else {
        ((target + block / 2) / block * block).min(n)
    }
}

/// Rows `0..m` here and `m..n` on a second thread (see [`decode_ops_on_two_threads`]).
/// `None` if no thread started or the second thread could not skip to row `m` although the
/// rows before it decoded.
fn decode_ops_split(
    cols: &Columns,
    n: u64,
    m: u64,
    n_actors: usize,
    limits: DocumentLimits,
) -> Option<Result<(DocOps, Shape), DecodeError>> {
    decode_ops_split_beside(cols, n, m, n_actors, limits, || ()).and_then(|((), ops)| ops)
}

/// [`decode_ops_split`] with `first` run on the second thread before its rows: `first`'s
/// result and the ops (`None` if the second thread could not skip to row `m` although the
/// rows before it decoded). `None` if no thread started; `first` did not run then.
fn decode_ops_split_beside<T: Send>(
    cols: &Columns,
    n: u64,
    m: u64,
    n_actors: usize,
    limits: DocumentLimits,
    first: impl FnOnce() -> T + Send,
) -> Option<(T, Option<Result<DecodedOps, DecodeError>>)> {
    let (before, later) = std::thread::scope(|scope| {
        let later = std::thread::Builder::new()
            .name("converge-decode".into())
            .spawn_scoped(scope, move || {
                let before = first();
                let rows = (|| {
                    let mut dec = OpDecoders::new(cols);
                    dec.skip_to(m)?;
                    let mut seen = OpsSeen::default();
                    let mut out = DocOps::with_capacity((n - m) as usize);
                    let done = dec.decode(m..n, n, n_actors, limits, &mut out, &mut seen);
                    Some((dec, seen, out, done))
                })();
                (before, rows)
            })
            .ok()?;
        let mut dec = OpDecoders::new(cols);
        let mut seen = OpsSeen::default();
        let mut out = DocOps::with_capacity(n as usize);
        let done = dec.decode(0..m, n, n_actors, limits, &mut out, &mut seen);
        let (before, later) = match later.join() {
            Ok(later) => later,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Some((before, ((dec, seen, out, done), later)))
    })?;
    let ((dec, seen, mut out, done), later) = later;
    if let Err(e) = done {
        return Some((before, Some(Err(e))));
    }
    let Some((later_dec, later_seen, later_out, later_done)) = later else {
        return Some((before, None));
    };
    if let Err(e) = later_done {
        return Some((before, Some(Err(e))));
    }
    out.append(later_out);
    let shape = later_dec.finish(n, &seen.and_then(later_seen), dec.overlong());
    Some((before, Some(shape.map(|shape| (out, shape)))))
}

/// The `n` op rows of `cols` (`n` counted from the action column).
fn decode_ops(
    cols: &Columns,
    n: u64,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<(DocOps, Shape), DecodeError> {
    let mut dec = OpDecoders::new(cols);
    let mut seen = OpsSeen::default();
    let mut out = DocOps::with_capacity(n as usize);
    dec.decode(0..n, n, n_actors, limits, &mut out, &mut seen)?;
    let shape = dec.finish(n, &seen, false)?;
    Ok((out, shape))
}

/// What the op rows decoded so far hold that decides the columns a writer would write, and
/// whether every value was canonical.
#[derive(Clone, Copy, Debug)]
struct OpsSeen {
    obj: bool,
    key_actor: bool,
    key_counter: bool,
    key_string: bool,
    expand: bool,
    mark: bool,
    values_canonical: bool,
}

impl Default for OpsSeen {
    fn default() -> Self {
        OpsSeen {
            obj: false,
            key_actor: false,
            key_counter: false,
            key_string: false,
            expand: false,
            mark: false,
            values_canonical: true,
        }
    }
}

impl OpsSeen {
    /// What both stretches of rows saw.
    fn and_then(self, later: OpsSeen) -> OpsSeen {
        OpsSeen {
            obj: self.obj || later.obj,
            key_actor: self.key_actor || later.key_actor,
            key_counter: self.key_counter || later.key_counter,
            key_string: self.key_string || later.key_string,
            expand: self.expand || later.expand,
            mark: self.mark || later.mark,
            values_canonical: self.values_canonical && later.values_canonical,
        }
    }
}

/// The decoders of a document's op columns, at some row.
struct OpDecoders<'a> {
    obj_actor: Opt<RleDecoder<'a, u64>>,
    obj_counter: Opt<RleDecoder<'a, u64>>,
    key_actor: Opt<RleDecoder<'a, u64>>,
    key_counter: Opt<DeltaDecoder<'a>>,
    key_string: Opt<RleDecoder<'a, &'a str>>,
    id_actor: Opt<RleDecoder<'a, u64>>,
    id_counter: Opt<DeltaDecoder<'a>>,
    insert: Opt<BoolDecoder<'a>>,
    action: Opt<RleDecoder<'a, u64>>,
    value_meta: Opt<RleDecoder<'a, u64>>,
    value_raw: Reader<'a>,
    succ_count: Opt<RleDecoder<'a, u64>>,
    succ_actor: Opt<RleDecoder<'a, u64>>,
    succ_counter: Opt<DeltaDecoder<'a>>,
    expand: Opt<BoolDecoder<'a>>,
    mark_name: Opt<RleDecoder<'a, &'a str>>,
    /// Successor rows before the current op row.
    succ_items: u64,
    /// Reused for each row's successors.
    succ: Vec<OpId>,
}

impl<'a> OpDecoders<'a> {
    /// Decoders at the first row.
    fn new(cols: &'a Columns) -> Self {
        use op_col::*;
        OpDecoders {
            obj_actor: rle_u64(cols, OBJ_ACTOR),
            obj_counter: rle_u64(cols, OBJ_COUNTER),
            key_actor: rle_u64(cols, KEY_ACTOR),
            key_counter: delta(cols, KEY_COUNTER),
            key_string: rle_str(cols, KEY_STRING),
            id_actor: rle_u64(cols, ID_ACTOR),
            id_counter: delta(cols, ID_COUNTER),
            insert: boolean(cols, INSERT),
            action: rle_u64(cols, ACTION),
            value_meta: rle_u64(cols, VALUE_META),
            value_raw: Reader::new(cols.get(VALUE_RAW).unwrap_or_default()),
            succ_count: rle_u64(cols, SUCC_COUNT),
            succ_actor: rle_u64(cols, SUCC_ACTOR),
            succ_counter: delta(cols, SUCC_COUNTER),
            expand: boolean(cols, EXPAND),
            mark_name: rle_str(cols, MARK_NAME),
            succ_items: 0,
            succ: Vec::new(),
        }
    }

    /// Moves every decoder from the first row to row `m`, as decoding rows `0..m` would
    /// leave them, without building those rows (a repeat or null run is one step). `None` if
    /// that fails: a column is short or malformed before row `m`, which decoding those rows
    /// reports.
    fn skip_to(&mut self, m: u64) -> Option<()> {
        fn rle<'a, T: RleValue<'a>>(d: &mut Opt<RleDecoder<'a, T>>, m: u64) -> Option<()> {
            match &mut d.0 {
                None => Some(()),
                Some(d) => d.skip_rows(m, (), |(), _, _| ()).ok()?,
            }
        }
        fn delta(d: &mut Opt<DeltaDecoder<'_>>, m: u64) -> Option<()> {
            match &mut d.0 {
                None => Some(()),
                Some(d) => d.skip_rows(m).ok()?,
            }
        }
        fn boolean(d: &mut Opt<BoolDecoder<'_>>, m: u64) -> Option<()> {
            match &mut d.0 {
                None => Some(()),
                Some(d) => d.skip_rows(m).ok()?,
            }
        }
        /// Skips `m` rows of a `u64` column, summing `weight(v) * rows` over its values.
        fn sum(d: &mut Opt<RleDecoder<'_, u64>>, m: u64, weight: fn(u64) -> u64) -> Option<u64> {
            match &mut d.0 {
                None => Some(0),
                Some(d) => d
                    .skip_rows(m, 0u64, |acc, v, t| {
                        acc.saturating_add(weight(v).saturating_mul(t))
                    })
                    .ok()?,
            }
        }
        rle(&mut self.obj_actor, m)?;
        rle(&mut self.obj_counter, m)?;
        rle(&mut self.key_actor, m)?;
        delta(&mut self.key_counter, m)?;
        rle(&mut self.key_string, m)?;
        rle(&mut self.id_actor, m)?;
        delta(&mut self.id_counter, m)?;
        boolean(&mut self.insert, m)?;
        rle(&mut self.action, m)?;
        // A value's raw bytes are as many as its metadata's high bits say.
        let raw = sum(&mut self.value_meta, m, |meta| meta >> 4)?;
        self.value_raw.take(usize::try_from(raw).ok()?).ok()?;
        let succ_items = sum(&mut self.succ_count, m, |count| count)?;
        rle(&mut self.succ_actor, succ_items)?;
        delta(&mut self.succ_counter, succ_items)?;
        self.succ_items = succ_items;
        boolean(&mut self.expand, m)?;
        rle(&mut self.mark_name, m)?;
        Some(())
    }

    /// Decodes the op rows `rows` (of `n`) into `out`, noting in `seen` what they hold. The
    /// decoders must be at the range's first row.
    fn decode(
        &mut self,
        rows: std::ops::Range<u64>,
        n: u64,
        n_actors: usize,
        limits: DocumentLimits,
        out: &mut DocOps,
        seen: &mut OpsSeen,
    ) -> Result<(), DecodeError> {
        use op_col::*;
        let OpDecoders {
            obj_actor,
            obj_counter,
            key_actor,
            key_counter,
            key_string,
            id_actor,
            id_counter,
            insert,
            action,
            value_meta,
            value_raw,
            succ_count,
            succ_actor,
            succ_counter,
            expand,
            mark_name,
            succ_items,
            succ,
        } = self;
        for i in rows {
            let obj = match (
                obj_actor.next(OBJ_ACTOR, n, i)?,
                obj_counter.next(OBJ_COUNTER, n, i)?,
            ) {
                (None, None) => ObjId::Root,
                (Some(a), Some(c)) => ObjId::Op(OpId::new(
                    u32::try_from(c).map_err(|_| DecodeError::OutOfRange {
                        field: "obj counter",
                        value: c,
                        offset: i as usize,
                    })?,
                    actor_index(a, n_actors)?,
                )),
                _ => return Err(DecodeError::InvalidObjId { row: i }),
            };
            let key = match (
                key_actor.next(KEY_ACTOR, n, i)?,
                key_counter.next(KEY_COUNTER, n, i)?,
                key_string.next(KEY_STRING, n, i)?,
            ) {
                (None, None, Some(s)) => KeyRef::Map(s),
                (None, Some(0), None) => KeyRef::Seq(ElemId::Head),
                (Some(a), Some(c), None) => KeyRef::Seq(ElemId::Op(OpId::new(
                    counter_u32(c, "key counter", i)?,
                    actor_index(a, n_actors)?,
                ))),
                _ => return Err(DecodeError::InvalidKey { row: i }),
            };
            let ia = non_null(id_actor.next(ID_ACTOR, n, i)?, "id actor", i)?;
            let ic = non_null(id_counter.next(ID_COUNTER, n, i)?, "id counter", i)?;
            let id = OpId::new(
                counter_u32(ic, "id counter", i)?,
                actor_index(ia, n_actors)?,
            );
            let ins = insert.next(INSERT, n, i)?;
            let code = non_null(action.next(ACTION, n, i)?, "action", i)?;
            let Some(act) = Action::from_code(code) else {
                return Err(DecodeError::UnknownAction { code, row: i });
            };
            let meta = non_null(value_meta.next(VALUE_META, n, i)?, "value metadata", i)?;
            let len = usize::try_from(meta >> 4).unwrap_or(usize::MAX);
            let raw = value_raw.take(len)?;
            let value_ref = ValueRef::decode_raw(meta, raw, false)?;
            seen.values_canonical &= value_is_canonical(value_ref, raw.len());
            let sc = non_null(succ_count.next(SUCC_COUNT, n, i)?, "succ count", i)?;
            *succ_items += sc;
            if *succ_items > limits.max_rows as u64 {
                return Err(DecodeError::TooManyRows {
                    what: "successors",
                    limit: limits.max_rows as u64,
                });
            }
            succ.clear();
            for _ in 0..sc {
                let a = non_null(
                    succ_actor.next(SUCC_ACTOR, *succ_items, i)?,
                    "succ actor",
                    i,
                )?;
                let c = non_null(
                    succ_counter.next(SUCC_COUNTER, *succ_items, i)?,
                    "succ counter",
                    i,
                )?;
                succ.push(OpId::new(
                    counter_u32(c, "succ counter", i)?,
                    actor_index(a, n_actors)?,
                ));
            }
            let exp = expand.next(EXPAND, n, i)?;
            let name = mark_name.next(MARK_NAME, n, i)?;
            seen.obj |= obj != ObjId::Root;
            match key {
                KeyRef::Map(_) => seen.key_string = true,
                KeyRef::Seq(ElemId::Head) => seen.key_counter = true,
                KeyRef::Seq(ElemId::Op(_)) => (seen.key_actor, seen.key_counter) = (true, true),
            }
            seen.expand |= exp;
            seen.mark |= name.is_some();
            out.push(DocOpRef {
                id,
                obj,
                key,
                insert: ins,
                action: act,
                value: value_ref,
                // Sliced by the row's count: `&succ` loads the vector's pointer and length
                // in one 16-byte read, which stalls on the length the last push stored.
                succ: succ.get(..sc as usize).unwrap_or_default(),
                expand: exp,
                mark_name: name,
            });
        }
        Ok(())
    }

    /// Checks that no column holds rows past the `n`-th (the decoders are past the last
    /// row) and says how canonical the columns are, given what all rows held (`seen`) and
    /// whether decoders that read earlier rows saw an overlong number.
    fn finish(
        mut self,
        n: u64,
        seen: &OpsSeen,
        overlong_before: bool,
    ) -> Result<Shape, DecodeError> {
        use op_col::*;
        let succ_items = self.succ_items;
        self.obj_actor.finish(OBJ_ACTOR, n)?;
        self.obj_counter.finish(OBJ_COUNTER, n)?;
        self.key_actor.finish(KEY_ACTOR, n)?;
        self.key_counter.finish(KEY_COUNTER, n)?;
        self.key_string.finish(KEY_STRING, n)?;
        self.id_actor.finish(ID_ACTOR, n)?;
        self.id_counter.finish(ID_COUNTER, n)?;
        self.insert.finish(INSERT, n)?;
        self.value_meta.finish(VALUE_META, n)?;
        self.succ_count.finish(SUCC_COUNT, n)?;
        self.succ_actor.finish(SUCC_ACTOR, succ_items)?;
        self.succ_counter.finish(SUCC_COUNTER, succ_items)?;
        self.expand.finish(EXPAND, n)?;
        self.mark_name.finish(MARK_NAME, n)?;
        let overlong = overlong_before || self.overlong();
        let mut expected = Vec::new();
        if n > 0 {
            if seen.obj {
                expected.extend([OBJ_ACTOR, OBJ_COUNTER]);
            }
            if seen.key_actor {
                expected.push(KEY_ACTOR);
            }
            if seen.key_counter {
                expected.push(KEY_COUNTER);
            }
            if seen.key_string {
                expected.push(KEY_STRING);
            }
            expected.extend([ID_ACTOR, ID_COUNTER, INSERT, ACTION, VALUE_META]);
            if self.value_raw.position() > 0 {
                expected.push(VALUE_RAW);
            }
            expected.push(SUCC_COUNT);
            if succ_items > 0 {
                expected.extend([SUCC_ACTOR, SUCC_COUNTER]);
            }
            if seen.expand {
                expected.push(EXPAND);
            }
            if seen.mark {
                expected.push(MARK_NAME);
            }
        }
        Ok(Shape {
            canonical: !overlong && seen.values_canonical && self.value_raw.is_empty(),
            expected,
        })
    }

    /// Whether any decoder read an overlong number.
    fn overlong(&self) -> bool {
        self.obj_actor.overlong()
            || self.obj_counter.overlong()
            || self.key_actor.overlong()
            || self.key_counter.overlong()
            || self.key_string.overlong()
            || self.id_actor.overlong()
            || self.id_counter.overlong()
            || self.insert.overlong()
            || self.action.overlong()
            || self.value_meta.overlong()
            || self.succ_count.overlong()
            || self.succ_actor.overlong()
            || self.succ_counter.overlong()
            || self.expand.overlong()
            || self.mark_name.overlong()
    }
}

fn encode_changes(changes: &DocChanges) -> Vec<(u32, Vec<u8>)> {
    let mut w = ChangeColumnsWriter::new();
    for c in changes.iter() {
        w.push(&c);
    }
    w.finish()
}

fn encode_ops(ops: &DocOps) -> Vec<(u32, Vec<u8>)> {
    let mut w = OpColumnsWriter::new();
    let mut rows = Vec::with_capacity(ops.len().min(1024));
    let mut all = ops.iter();
    loop {
        rows.clear();
        rows.extend(all.by_ref().take(1024));
        if rows.is_empty() {
            break;
        }
        w.push_rows(&rows);
    }
    w.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The op columns of a document chunk's data, and its actor count.
    fn op_columns(data: &[u8]) -> Option<(Columns, usize)> {
        let limits = DocumentLimits::default();
        let mut r = Reader::new(data);
        let n_actors = r.count("actors", 1).ok()?;
        for _ in 0..n_actors {
            r.length_prefixed().ok()?;
        }
        let n_heads = r.count("heads", ChangeHash::LEN).ok()?;
        r.take(n_heads * ChangeHash::LEN).ok()?;
        let change_specs = ColumnMetadata::read(&mut r).ok()?;
        let op_specs = ColumnMetadata::read(&mut r).ok()?;
        let mut budget = limits.max_inflated_bytes;
        Columns::read(
            &mut r,
            &change_specs,
            &mut budget,
            limits.max_inflated_bytes,
        )
        .ok()?;
        let ops = Columns::read(&mut r, &op_specs, &mut budget, limits.max_inflated_bytes).ok()?;
        Some((ops, n_actors))
    }

    /// Decoding a document's op rows on two threads, split at any block boundary, gives what
    /// one thread gives: the rows and the columns' shape, or the same error. Checked on every
    /// document chunk of the corpus and on copies of their op columns with bytes changed
    /// (each change a fault one of the threads, or the second thread's skip, meets).
    #[test]
    fn op_rows_split_between_two_threads_decode_as_on_one() {
        let files = crate::test_corpus::files();
        let limits = DocumentLimits::default();
        let block = ops::BLOCK_ROWS as u64;
        let (mut splits, mut faulty, mut skip_failed, mut errors) = (0, 0, 0, 0);
        let mut seed = 0x5eed_u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            for c in crate::chunk::split_chunks(&bytes).map_while(Result::ok) {
                if c.chunk_type() != ChunkType::Document {
                    continue;
                }
                let Some((mut cols, n_actors)) = op_columns(c.data()) else {
                    continue;
                };
                let Ok(n) = count_rows(cols.get(op_col::ACTION), limits.max_rows, "ops") else {
                    continue;
                };
                // (godot-thread's 9.4M ops and S3.am's take long to decode in a debug build.)
                if n > 300_000 {
                    continue;
                }
                let step = (n / 8).max(block).div_ceil(block) * block;
                let mut check = |cols: &Columns, m: u64| {
                    let one = decode_ops(cols, n, n_actors, limits);
                    errors += usize::from(one.is_err());
                    let two = decode_ops_split(cols, n, m, n_actors, limits);
                    match two {
                        Some(two) => {
                            assert_eq!(two, one, "{} split at {m} of {n}", path.display());
                            false
                        }
                        None => {
                            assert!(one.is_err(), "{}: skip failed at {m}", path.display());
                            true
                        }
                    }
                };
                let mut m = block;
                while m < n {
                    check(&cols, m);
                    splits += 1;
                    m += step;
                }
                // Inside the first block (it stays short), and inside a later one.
                for m in [1, n / 2, block / 2, block + 1, n - 1] {
                    if m > 0 && m < n {
                        check(&cols, m);
                        splits += 1;
                    }
                }
                if n < 2 * block || n > 200_000 {
                    continue;
                }
                // Faults: a changed byte in a random op column, split near it and elsewhere.
                for _ in 0..40 {
                    let k = (rand() as usize) % cols.data.len();
                    let Some((_, data)) = cols.data.get_mut(k) else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    let at = (rand() as usize) % data.len();
                    let old = data[at];
                    data[at] = rand() as u8;
                    for m in [
                        block,
                        (n / 2).div_ceil(block) * block,
                        (n - 1) / block * block,
                        n / 2,
                        block / 2,
                    ] {
                        if m > 0 && m < n {
                            skip_failed += usize::from(check(&cols, m));
                            faulty += 1;
                        }
                    }
                    if let Some((_, data)) = cols.data.get_mut(k) {
                        data[at] = old;
                    }
                }
            }
        }
        assert!(
            splits > 25 && faulty > 100 && errors > 50,
            "{splits} splits, {faulty} faulty, {errors} errors"
        );
        eprintln!(
            "{splits} splits, {faulty} with a fault, {errors} errors, {skip_failed} skips failed"
        );
    }

    #[test]
    fn empty_document() {
        let bytes = DocumentChunk::new().encode(true);
        assert_eq!(
            bytes,
            [
                0x85, 0x6f, 0x4a, 0x83, 0xb8, 0x1a, 0x95, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00
            ]
        );
        let doc = DocumentChunk::decode(&bytes).unwrap();
        assert_eq!(doc.changes.len(), 0);
        assert_eq!(doc.head_indexes, Some(vec![]));
    }

    fn hex(s: &str) -> Vec<u8> {
        crate::ids::from_hex(&s.split_whitespace().collect::<String>()).unwrap()
    }

    /// Spec format.md §7.5: the document holding example 6.7, saved without compression.
    #[test]
    fn worked_example_7_5() {
        let head: ChangeHash = "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
            .parse()
            .unwrap();
        let doc = DocumentChunk::from_parts(
            vec![ActorId::from_bytes(&[0xaa, 0xbb])],
            vec![DocChange {
                actor: 0,
                seq: 1,
                max_op: 1,
                time: 0,
                message: None,
                deps: SmallVec::new(),
                extra_bytes: vec![],
            }],
            vec![DocOp {
                id: OpId::new(1, 0),
                obj: ObjId::Root,
                key: Key::Map("k".into()),
                insert: false,
                action: Action::Set,
                value: ScalarValue::Int(1).into(),
                succ: SmallVec::new(),
                expand: false,
                mark_name: None,
            }],
            vec![(head, 0)],
        );
        let expected = hex("85 6f 4a 83 d5 ad ba a7 00 60
             01 02 aa bb
             01 3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797
             06 01 02 03 02 13 02 23 02 40 02 56 02
             08 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02
             7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
             7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00
             00");
        assert_eq!(doc.encode(false), expected);
        assert_eq!(doc.encode(true), expected);
        assert_eq!(DocumentChunk::decode(&expected).unwrap(), doc);
    }

    /// The worked example of §7.5 with one change column left out (its metadata entry and
    /// its data): decoding must refuse it for a column of 0 rows where 1 was expected.
    fn assert_refused_without(spec: u32, metadata: &str, data: &str) {
        let body = hex(&format!(
            "01 02 aa bb
             01 3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797
             {metadata}
             08 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02
             {data}
             7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00
             00"
        ));
        let mut chunk = Vec::new();
        crate::chunk::write_chunk(&mut chunk, crate::chunk::ChunkType::Document, &body);
        let result = DocumentChunk::decode(&chunk);
        assert!(
            matches!(
                result,
                Err(DecodeError::ColumnLengthMismatch { spec: s, expected: 1, found: 0 }) if s == spec
            ),
            "{result:?}"
        );
    }

    /// automerge 0.12 refuses a document whose changes lack the extra-bytes metadata column
    /// (it loads that column without a fill value).
    #[test]
    fn changes_without_the_extra_bytes_metadata_are_refused() {
        assert_refused_without(
            0x56,
            "05 01 02 03 02 13 02 23 02 40 02",
            "7f 00 7f 01 7f 01 7f 00 7f 00",
        );
    }

    /// As the extra-bytes metadata, the deps' group column has one row per change in
    /// automerge 0.12's reading, with no fill: a document with changes and without it is
    /// refused.
    #[test]
    fn changes_without_the_dep_counts_are_refused() {
        assert_refused_without(
            0x40,
            "05 01 02 03 02 13 02 23 02 56 02",
            "7f 00 7f 01 7f 01 7f 00 7f 07",
        );
    }

    /// A chunk the writer wrote keeps its columns, which write the same bytes again; one
    /// with the same rows laid out otherwise (an overlong number, an all-false optional
    /// column) decodes to equal rows but keeps none; an unknown column is dropped from what
    /// is kept.
    #[test]
    fn canonical_columns_are_kept_only_when_the_writer_would_write_them() {
        let expected = hex("85 6f 4a 83 d5 ad ba a7 00 60
             01 02 aa bb
             01 3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797
             06 01 02 03 02 13 02 23 02 40 02 56 02
             08 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02
             7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
             7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00
             00");
        let doc = DocumentChunk::decode(&expected).unwrap();
        let cols = doc.canonical_columns().expect("canonical").clone();
        assert_eq!(*cols, doc.encode_columns());
        let heads = vec![(doc.heads[0], 0)];
        for compress in [false, true] {
            assert_eq!(
                write_document_columns(&doc.actors, &heads, &cols, compress),
                doc.encode(compress)
            );
        }
        let data = |ops: &str| -> Vec<u8> {
            hex(&format!(
                "01 02 aa bb
                 01 3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797
                 06 01 02 03 02 13 02 23 02 40 02 56 02
                 {ops}
                 00"
            ))
        };
        let variants = [
            // the id actor as an overlong LEB128 number
            "08 15 03 21 03 23 02 34 01 42 02 56 02 57 01 80 01 02
             7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
             7f 01 6b 7f 80 00 7f 01 01 7f 01 7f 14 01 7f 00",
            // an expand column of one false
            "09 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02 94 01 01
             7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
             7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00 01",
        ];
        // An unknown column is dropped: the writer never writes one, so what is kept is still
        // exactly the writer's output.
        let unknown = DocumentChunk::decode_data(
            &data(
                "09 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02 f5 01 01
                 7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
                 7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00 01",
            ),
            DocumentLimits::default(),
        )
        .unwrap();
        assert_eq!(unknown.canonical_columns(), Some(&cols));
        assert!(
            DocumentChunk::decode_data(
                &data(
                    "08 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02
                 7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
                 7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00"
                ),
                DocumentLimits::default()
            )
            .unwrap()
            .canonical_columns()
            .is_some()
        );
        for ops in variants {
            let other = DocumentChunk::decode_data(&data(ops), DocumentLimits::default()).unwrap();
            assert_eq!(other, doc, "{ops}");
            assert!(other.canonical_columns().is_none(), "{ops}");
        }
    }

    #[test]
    fn worked_example_reconstructs_example_6_7() {
        let bytes = DocumentChunk::new().encode(false);
        assert!(
            DocumentChunk::decode(&bytes)
                .unwrap()
                .reconstruct_changes()
                .unwrap()
                .is_empty()
        );
        let doc = hex("85 6f 4a 83 d5 ad ba a7 00 60 01 02 aa bb
             01 3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797
             06 01 02 03 02 13 02 23 02 40 02 56 02
             08 15 03 21 02 23 02 34 01 42 02 56 02 57 01 80 01 02
             7f 00 7f 01 7f 01 7f 00 7f 00 7f 07
             7f 01 6b 7f 00 7f 01 01 7f 01 7f 14 01 7f 00 00");
        let changes = DocumentChunk::decode(&doc)
            .unwrap()
            .reconstruct_changes()
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].hash().to_hex(),
            "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
        );
        let expected_change = hex("85 6f 4a 83 33 67 48 1a 01 21 00 02 aa bb 01 01 00 00 00 06
             15 03 34 01 42 02 56 02 57 01 70 02 7f 01 6b 01 7f 01 7f 14 01 7f 00");
        assert_eq!(changes[0].bytes().as_ref(), expected_change.as_slice());
        // A wrong stored head is a typed error unless the check is skipped.
        let mut wrong = DocumentChunk::decode(&doc).unwrap();
        wrong.heads[0].0[0] ^= 1;
        assert!(matches!(
            wrong.reconstruct_changes(),
            Err(DecodeError::MismatchingHeads { .. })
        ));
        assert!(
            wrong
                .reconstruct_changes_with(HeadsCheck::DontCheck)
                .is_ok()
        );
    }

    /// Decoded changes with equal messages share one allocation, runs or not.
    #[test]
    fn equal_messages_share_one_allocation() {
        let texts = [Some("a"), Some("a"), None, Some("b"), Some("a"), Some("")];
        let changes = texts
            .iter()
            .enumerate()
            .map(|(i, m)| DocChange {
                actor: 0,
                seq: i as u64 + 1,
                max_op: 0,
                time: 0,
                message: m.map(Into::into),
                deps: i.checked_sub(1).map(|d| d as u32).into_iter().collect(),
                extra_bytes: Vec::new(),
            })
            .collect();
        let chunk = DocumentChunk::from_parts(
            vec![ActorId::from_bytes(&[1])],
            changes,
            Vec::new(),
            Vec::new(),
        );
        let decoded = DocumentChunk::decode(&chunk.encode(false)).unwrap();
        let got: Vec<Option<&str>> = decoded.changes.iter().map(|c| c.message).collect();
        assert_eq!(
            got,
            [Some("a"), Some("a"), None, Some("b"), Some("a"), Some("")]
        );
        let m = |i: usize| decoded.changes.get(i).unwrap().message.unwrap().as_ptr();
        assert!(m(0) == m(1) && m(0) == m(4));
        assert!(m(0) != m(3));
    }

    #[test]
    fn leftover_and_bad_checksum_are_errors() {
        let mut bytes = DocumentChunk::new().encode(false);
        bytes.push(0);
        assert!(DocumentChunk::decode(&bytes).is_err());
        let mut bytes = DocumentChunk::new().encode(false);
        bytes[4] ^= 1;
        assert!(matches!(
            DocumentChunk::decode(&bytes),
            Err(DecodeError::BadChecksum { .. })
        ));
    }
}
