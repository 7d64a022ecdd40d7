//! # converge-encoding
//!
//! The bottom layer of converge: every byte Automerge 0.12 writes, read into typed values, and
//! every typed value written back as exactly the bytes the reference would write
//! (spec: `shared/spec/format.md`).
//!
//! - [`leb128`]: strict and lenient readers, minimal writers.
//! - [`Reader`]: the one bounds-checked cursor all decoders use.
//! - Identifiers ([`ActorId`], [`ChangeHash`], [`OpId`], [`ObjId`], [`Key`], [`ElemId`]) and
//!   values ([`ScalarValue`], [`Action`]).
//!
//! ```
//! use converge_encoding::{leb128, Reader};
//! let mut out = Vec::new();
//! leb128::write_u64(&mut out, 300);
//! assert_eq!(out, [0xac, 0x02]);
//! assert_eq!(Reader::new(&out).uleb().unwrap(), 300);
//! ```
// Decoders must not panic on any input: these lints keep indexing, unwrap and panics out of
// non-test code. Tests opt back in locally.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod bundle;
mod change;
pub mod chunk;
pub mod columns;
mod cursor;
mod document;
mod error;
mod ids;
pub mod leb128;
mod load;
mod reader;
#[cfg(test)]
mod test_corpus;
mod value;

pub use bundle::{Bundle, BundleChangeRow, BundleOpRow, encode_bundle};
/// The shared byte buffer type that [`Change`] keeps its bytes in.
pub use bytes::Bytes;
pub use change::{
    Change, ChangeOp, ChangeOpRef, ChangeOpRefIter, ChangeOpRefs, ChangeOps, ChangeParts,
    MAX_CHANGE_OPS,
};
pub use cursor::{Cursor, CursorMove, ParseCursorError};
pub use document::{
    ActorRows, ChangeColumnsSource, ChangeColumnsWriter, DocChange, DocChangeRef, DocChanges,
    DocOp, DocOpBlock, DocOpRef, DocOps, DocValue, DocumentChunk, DocumentColumnsWriter,
    DocumentLimits, EncodedColumns, HeadsCheck, OpColumnGroup, OpColumnsSource, OpColumnsWriter,
    OpIdStats, OpRows, RebuiltChunk, RebuiltChunkSink, SideWork, write_document,
    write_document_columns,
};
pub use error::{CanonicalRule, CopyFault, DecodeError};
pub use ids::{ActorId, Author, ChangeHash, ElemId, Key, KeyRef, ObjId, OpId, ParseHexError};
pub use load::{DecodedPrefix, FileChunk, decode_chunk_prefix, decode_chunks};
pub use reader::Reader;
pub use value::{Action, ScalarValue, ValueRef};

/// Whether the machine has a second core for the calls that split their work in two (asked
/// once).
pub(crate) fn second_core() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}
