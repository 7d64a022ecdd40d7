//! # converge-doc
//!
//! The converge CRDT document: objects (maps, lists, texts, tables), conflict resolution,
//! local transactions, remote changes, reads now and at past heads.
//!
//! ```
//! use converge_doc::{Document, ObjType, ROOT};
//!
//! let mut doc = Document::new();
//! let mut tx = doc.transaction();
//! let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
//! tx.splice_text(&text, 0, 0, "hello").unwrap();
//! tx.commit().unwrap();
//! assert_eq!(doc.text(&text).unwrap(), "hello");
//! ```
//!
//! See `DESIGN.md` in this crate for the data structures and their invariants.

#[macro_use]
mod doc_reads;
mod actor_ops;
mod anonymize;
mod apply;
mod arena;
mod autocommit;
mod bitset;
mod bundle;
mod change_meta;
mod chunk_store;
mod cursors;
mod diff;
mod doc;
mod doc_iter;
mod error;
mod fork;
mod fragments;
mod history;
mod isolated;
mod keymap;
mod load;
mod marks;
mod messages;
mod obj_id;
mod opset;
mod options;
mod parents;
mod read;
mod resave;
mod save;
mod seq;
mod sync_support;
#[cfg(test)]
#[allow(clippy::panic)] // tests: a crafted change that does not encode is a broken test
mod test_changes;
mod text_diff;
mod transact;
mod transaction;
mod types;
mod update_object;
mod update_spans;

pub use autocommit::AutoCommit;
pub use change_meta::ChangeMetadata;
pub use converge_dag::{Fragment, fragment_level};
pub use cursors::CursorPosition;
pub use diff::{Patch, PatchAction};
pub use doc::Document;
pub use doc_iter::{DocItem, DocIter, DocObjItem};
pub use error::{DocError, InvalidOpReason, MarkOrderFault};
pub use isolated::IsolatedTransaction;
pub use obj_id::ExIdError;
pub use options::{LoadOptions, OnPartialLoad, SaveOptions, StringMigration, VerificationMode};
pub use read::MAX_TREE_DEPTH;
pub use transact::{CommitOptions, Committed, RolledBack};
pub use transaction::Transaction;
pub use types::{
    ExId, ExpandMark, ListItem, MapItem, Mark, ObjType, Parent, Prop, ROOT, Span, Stats,
    TextEncoding, TextSpan, Value, ValueTree, ValueWithId,
};
pub use update_spans::UpdateSpansConfig;
