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
    /// A value whose raw bytes do not match its type (float not 8 bytes, integer bytes left over).
    #[error("value of type {type_code} has an invalid length {len}")]
    ValueLengthMismatch {
        /// The value's type code.
        type_code: u8,
        /// The length in its metadata.
        len: usize,
    },
}
