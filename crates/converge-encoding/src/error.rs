//! The one error type of this layer. Every decoder in the crate returns [`DecodeError`].
//!
//! Offsets are byte positions relative to the slice the failing decoder was handed (for a
//! column, the column's data; for a chunk, the chunk's data).

/// Why bytes could not be decoded into a typed value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    #[error("not enough input at offset {offset}: needed {needed} byte(s), {remaining} remain")]
    NotEnoughInput {
        /// Where the read started.
        offset: usize,
        /// How many bytes the read needed.
        needed: usize,
        /// How many bytes remained.
        remaining: usize,
    },
    /// A LEB128 number with redundant trailing bytes where the reference reads strictly.
    #[error("overlong LEB128 at offset {offset}")]
    Leb128Overlong {
        /// Where the number started.
        offset: usize,
    },
    /// A LEB128 number that does not fit in 64 bits.
    #[error("LEB128 number larger than 64 bits at offset {offset}")]
    Leb128TooLarge {
        /// Where the number started.
        offset: usize,
    },
    /// A number outside the range its field allows.
    #[error("{field} = {value} is out of range (offset {offset})")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value read.
        value: u64,
        /// Where it was read.
        offset: usize,
    },
    /// A count that cannot be right: its items would not fit in the bytes that remain.
    #[error(
        "{what}: count {count} exceeds the limit {limit} the remaining input allows (offset {offset})"
    )]
    CountTooLarge {
        /// What was being counted.
        what: &'static str,
        /// The count read.
        count: u64,
        /// The largest count the remaining input allows.
        limit: u64,
        /// Where the count was read.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 in string at offset {offset}")]
    InvalidUtf8 {
        /// Where the string (its length prefix) started.
        offset: usize,
    },
    // ---- columns (spec format.md §3, §4); added by the column/change codecs ----
    /// Column specs in a metadata block are not in ascending normalized order (§3.2).
    #[error("column {index} (spec {spec:#x}) is not in normalized order")]
    NotInNormalOrder {
        /// Position of the offending column in the metadata block.
        index: usize,
        /// Its spec as written.
        spec: u32,
    },
    /// A column spec that does not fit in 32 bits.
    #[error("column spec {value:#x} does not fit in 32 bits")]
    ColumnSpecTooLarge {
        /// The value read.
        value: u64,
    },
    /// A Value column (type 7) that does not directly follow a ValueMetadata column of the
    /// same id.
    #[error("value column (spec {spec:#x}) without a preceding metadata column")]
    LoneValueColumn {
        /// The value column's spec.
        spec: u32,
    },
    /// A Group column inside a group of the same id.
    #[error("nested group column (spec {spec:#x})")]
    NestedGroup {
        /// The second group column's spec.
        spec: u32,
    },
    /// A change's pred group whose member columns (those of its id right after it) are
    /// neither none nor an actor (or integer) column followed by a delta column; automerge
    /// 0.12 refuses such a change as having mismatched columns.
    #[error("pred group (spec {spec:#x}) has members other than actor and counter columns")]
    MismatchedPredGroup {
        /// The group column's spec.
        spec: u32,
    },
    /// Column data that the canonical decoder rejects (document columns, §4.1, §4.3, §12).
    #[error("non-canonical column data at offset {offset}: {rule}")]
    NonCanonicalColumn {
        /// Where the offending run header started, relative to the column's data.
        offset: usize,
        /// Which canonical-form rule was broken.
        rule: CanonicalRule,
    },
    /// Kept column data could not be copied as asked (splicing a save).
    #[error("column copy failed: {fault}")]
    ColumnCopy {
        /// What went wrong.
        fault: CopyFault,
    },
    /// A null in a column (or a row) that must not be null.
    #[error("unexpected null in {column} at row {row}")]
    UnexpectedNull {
        /// The column.
        column: &'static str,
        /// The row.
        row: u64,
    },
    /// More rows (or group items) than this implementation is willing to decode.
    #[error("{what}: more than {limit} rows")]
    TooManyRows {
        /// What was being counted.
        what: &'static str,
        /// The limit.
        limit: u64,
    },

    // ---- chunks (§2) ----
    /// A chunk that does not start with the magic bytes `85 6f 4a 83`.
    #[error("invalid magic bytes at offset {offset}")]
    BadMagic {
        /// Offset of the chunk in the input.
        offset: usize,
    },
    /// A chunk type byte other than 0-3.
    #[error("unknown chunk type {chunk_type}")]
    UnknownChunkType {
        /// The type byte.
        chunk_type: u8,
    },
    /// A chunk of a different type than the decoder handles.
    #[error("expected a {expected} chunk, found chunk type {found}")]
    WrongChunkType {
        /// What the decoder handles.
        expected: &'static str,
        /// The type byte found.
        found: u8,
    },
    /// The stored checksum is not the first four bytes of the chunk hash.
    #[error("checksum mismatch: stored {stored:02x?}, computed {computed:02x?}")]
    BadChecksum {
        /// The checksum in the chunk header.
        stored: [u8; 4],
        /// The first four bytes of the computed hash.
        computed: [u8; 4],
    },
    /// Bytes after the end of the one chunk a decoder was given.
    #[error("{len} byte(s) of leftover data after the chunk")]
    LeftoverData {
        /// How many bytes were left over.
        len: usize,
    },
    /// A compressed chunk whose data is not a valid raw DEFLATE stream.
    #[error("invalid DEFLATE data")]
    InvalidDeflate,
    /// A compressed chunk or column that inflates beyond the allowed size.
    #[error("inflated data exceeds the limit of {limit} bytes")]
    InflatedTooLarge {
        /// The limit.
        limit: usize,
    },

    // ---- changes (§5, §6); also returned by `Change::from_parts` for invalid parts ----
    /// A change chunk with a DEFLATE-compressed column.
    #[error("change chunk has a compressed column (spec {spec:#x})")]
    CompressedChangeCols {
        /// The column's spec.
        spec: u32,
    },
    /// A field that must not be zero (`startOp`).
    #[error("{field} must not be zero")]
    UnexpectedZero {
        /// The field.
        field: &'static str,
    },
    /// An action code of 8 or more.
    #[error("unknown action {code} in op {row}")]
    UnknownAction {
        /// The code.
        code: u64,
        /// The op's row.
        row: u64,
    },
    /// An increment whose value is not an int or uint.
    #[error("increment with a non-numeric value in op {row}")]
    NonNumericInc {
        /// The op's row.
        row: u64,
    },
    /// A key that is not one of: map key, HEAD, element id (§5.1).
    #[error("invalid key in op {row}")]
    InvalidKey {
        /// The op's row.
        row: u64,
    },
    /// An object id with exactly one of actor and counter present.
    #[error("invalid object id in op {row}")]
    InvalidObjId {
        /// The op's row.
        row: u64,
    },
    /// An actor index beyond the actor table.
    #[error("actor index {index} out of range (table has {len} actor(s))")]
    ActorIndexOutOfRange {
        /// The index.
        index: u64,
        /// The size of the actor table.
        len: usize,
    },
    // ---- documents, bundles and files (§7-§10); added by the document codec ----
    /// A column with a different number of rows than the chunk's other columns.
    #[error("column (spec {spec:#x}) has {found} rows, expected {expected}")]
    ColumnLengthMismatch {
        /// The column's spec (normalized).
        spec: u32,
        /// The rows the driving column has.
        expected: u64,
        /// The rows this column has (at least).
        found: u64,
    },
    /// Column data extends past the end of the chunk.
    #[error("column data needs {needed} byte(s), {remaining} remain")]
    ColumnDataOutOfBounds {
        /// Total declared column bytes.
        needed: u64,
        /// Bytes available.
        remaining: usize,
    },
    /// A document change whose dependency index does not point at an earlier change.
    #[error("change {change} depends on change index {dep}, which is not an earlier change")]
    InvalidDepIndex {
        /// The change's position in the document.
        change: usize,
        /// The dependency index.
        dep: u64,
    },
    /// A document change whose maxOp is below one of its dependencies' maxOp (§8).
    #[error("change {change} has maxOp {max_op} below its dependency's maxOp {dep_max_op}")]
    InvalidMaxOp {
        /// The change's position in the document.
        change: usize,
        /// Its maxOp.
        max_op: u64,
        /// The larger maxOp of a dependency.
        dep_max_op: u64,
    },
    /// The two threads of a document's change rebuild fell out of step: a fault of this
    /// library, not of the input (the hasher sealed `sealed` of `changes` changes).
    #[error("the change rebuild sealed {sealed} of {changes} changes")]
    RebuildOutOfStep {
        /// Changes hashed and handed on.
        sealed: usize,
        /// Changes in the document.
        changes: usize,
    },
    /// A document change whose ops are not all stored (§8).
    #[error("change {change} is missing op counter {counter}")]
    MissingOps {
        /// The change's position in the document.
        change: usize,
        /// The first counter that is missing.
        counter: u64,
    },
    /// Two stored (or reconstructed) ops with the same id.
    #[error("duplicate op id {counter}@{actor}")]
    DuplicateOpId {
        /// The counter.
        counter: u32,
        /// The document actor index.
        actor: u32,
    },
    /// A document whose changes of one actor are not in seq order 1, 2, 3… or whose maxOp
    /// decreases (§8).
    #[error("change {change} (actor index {actor}, seq {seq}) is out of order")]
    ChangesOutOfOrder {
        /// The change's position in the document.
        change: usize,
        /// Its document actor index.
        actor: u32,
        /// Its seq.
        seq: u64,
    },
    /// The heads computed from the reconstructed changes differ from the stored heads (§8).
    #[error("mismatching heads: stored {stored:?}, computed {computed:?}")]
    MismatchingHeads {
        /// The heads stored in the document, in stored order.
        stored: Vec<crate::ChangeHash>,
        /// The heads of the reconstructed changes, sorted.
        computed: Vec<crate::ChangeHash>,
    },
    /// A bundle change column this version does not know (the reference rejects them, §9).
    #[error("unknown bundle change column (spec {spec:#x})")]
    UnknownBundleColumn {
        /// The column's spec as written.
        spec: u32,
    },
    /// A bundle op that no change of the bundle owns (§9).
    #[error("bundle op {row} belongs to no change")]
    OrphanBundleOp {
        /// The op's row.
        row: u64,
    },
    /// A chunk in a file failed to decode.
    #[error("chunk at offset {offset}: {source}")]
    InChunk {
        /// Offset of the chunk's first byte in the file.
        offset: usize,
        /// Why it failed.
        source: Box<DecodeError>,
    },
    /// A value whose raw bytes do not match its type (float not 8 bytes, integer bytes left over).
    #[error("value of type {type_code} has an invalid length {len}")]
    ValueLengthMismatch {
        /// The value's type code.
        type_code: u8,
        /// The length in its metadata.
        len: usize,
    },
}

/// Why kept column data could not be copied into an encoder (see [`DecodeError::ColumnCopy`]).
/// Only data that is not what the writer wrote gets here: a splice then encodes everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CopyFault {
    /// A cursor handed a copy a piece it did not ask for.
    #[error("a column cursor gave a piece its consumer cannot take")]
    UnexpectedPiece,
    /// A literal stretch arrived while the encoder held no value to continue.
    #[error("the encoder held no value before a literal stretch")]
    EncoderState,
    /// Encoded delta runs arrived while the encoder's running value differed from the
    /// column's.
    #[error("delta runs copied onto a different running value")]
    DeltaBase,
}

/// The canonical-form rule a column broke (see [`DecodeError::NonCanonicalColumn`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalRule {
    /// A repeat run of fewer than two values.
    #[error("repeat run with count < 2")]
    RepeatBelowTwo,
    /// A null run of length zero.
    #[error("zero-length null run")]
    EmptyNullRun,
    /// Two runs that the encoder would have written as one (null after null, repeat after a
    /// repeat of the same value, literal after literal, repeat after a literal ending in its
    /// value, literal starting with the previous repeat's value).
    #[error("adjacent mergeable runs")]
    MergeableRuns,
    /// A literal run containing two equal adjacent values.
    #[error("literal run contains equal adjacent values")]
    LiteralRepeats,
    /// A boolean run of length zero other than a leading one.
    #[error("zero-length boolean run")]
    ZeroBooleanRun,
}
