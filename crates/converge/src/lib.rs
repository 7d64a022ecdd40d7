//! # converge
//!
//! A fast, Automerge-compatible CRDT: JSON-like documents that many people edit offline and at
//! the same time, merged automatically, and the two-peer sync protocol that brings any two
//! copies to the same state. Files and sync messages are byte-compatible with automerge 0.12.
//!
//! Applications depend on this crate alone; it re-exports the public API of the layers below
//! (see `docs/ARCHITECTURE.md`):
//!
//! - documents: [`Document`], [`Transaction`], [`AutoCommit`] (edits gathered into one change
//!   until the history is needed, as automerge's `AutoCommit`), [`ExId`] / [`ROOT`],
//!   [`ObjType`], [`Value`], [`ValueTree`], [`ScalarValue`], [`Prop`], marks, blocks and
//!   [`Span`]s, cursors, patches ([`Patch`], [`PatchAction`]); transactions in a closure
//!   ([`Document::transact`]), state written back with few ops ([`Document::update_object`],
//!   [`Document::update_spans`], `update_text`), [`Document::rescue`] and
//!   [`Document::anonymize`] for documents that misbehave; a walk of every object
//!   ([`Document::iter`], [`DocIter`]); changes as one bundle chunk ([`Document::bundle`]);
//!   the history cut into [`Fragment`]s ([`Document::fragments`], experimental, as in
//!   automerge 0.12);
//! - history: [`Change`], [`ChangeHash`], [`ActorId`], [`Author`];
//! - sync: the [`sync`] module ([`sync::SyncState`], [`sync::SyncMessage`],
//!   [`sync::generate_sync_message`], [`sync::receive_sync_message`]; a state's
//!   [`sync::HaveStrategy`] says how our messages describe what we have: `Compact`, the
//!   default, sends far fewer Bloom-filter bytes than automerge and is accepted by automerge
//!   peers; `Reference` sends exactly what automerge sends);
//! - errors: [`DocError`], [`DecodeError`], [`sync::SyncDecodeError`], [`sync::ReceiveError`];
//! - the bytes themselves: the [`encoding`] module (chunks, columns, document chunks) for tools.
//!
//! ## Edit, save, load, merge and sync
//!
//! ```
//! use converge::sync::{self, SyncState};
//! use converge::{Document, ObjType, ROOT, ScalarValue, ValueTree};
//!
//! // Alice creates a document with a list and a text.
//! let mut alice = Document::new();
//! let mut tx = alice.transaction();
//! let todo = tx.put_object(&ROOT, "todo", ObjType::List).unwrap();
//! tx.insert(&todo, 0, ScalarValue::Str("buy milk".into())).unwrap();
//! let notes = tx.put_object(&ROOT, "notes", ObjType::Text).unwrap();
//! tx.splice_text(&notes, 0, 0, "hello").unwrap();
//! tx.commit().unwrap();
//!
//! // Saving and loading round-trips.
//! let bytes = alice.save();
//! let mut bob = Document::load(&bytes).unwrap().fork(); // a copy with its own actor
//! assert_eq!(bob.text(&notes).unwrap(), "hello");
//!
//! // Both edit concurrently...
//! alice.insert(&todo, 1, ScalarValue::Str("walk dog".into())).unwrap();
//! bob.splice_text(&notes, 5, 0, " world").unwrap();
//!
//! // ...and merging brings the edits together.
//! let mut carol = alice.fork();
//! carol.merge(&bob).unwrap();
//! assert_eq!(carol.text(&notes).unwrap(), "hello world");
//! assert_eq!(carol.length(&todo).unwrap(), 2);
//!
//! // The sync protocol does the same over any transport: exchange messages until neither
//! // side has anything to say.
//! let (mut alice_state, mut bob_state) = (SyncState::new(), SyncState::new());
//! for _round in 0..10 {
//!     let a = sync::generate_sync_message(&alice, &mut alice_state);
//!     let b = sync::generate_sync_message(&bob, &mut bob_state);
//!     if a.is_none() && b.is_none() {
//!         break;
//!     }
//!     if let Some(m) = a {
//!         // On a real wire: m.encode(), then SyncMessage::decode on the other side.
//!         let m = sync::SyncMessage::decode(&m.encode()).unwrap();
//!         sync::receive_sync_message(&mut bob, &mut bob_state, m).unwrap();
//!     }
//!     if let Some(m) = b {
//!         sync::receive_sync_message(&mut alice, &mut alice_state, m).unwrap();
//!     }
//! }
//! assert_eq!(alice.heads(), bob.heads());
//! let tree = alice.value_tree(&ROOT).unwrap();
//! let ValueTree::Map(root) = tree else { panic!("the root is a map") };
//! assert_eq!(root["notes"], ValueTree::Text("hello world".into()));
//! ```
//!
//! ## Without transactions: `AutoCommit`
//!
//! Edits on an [`AutoCommit`] gather into one pending change; reads see them, and whatever
//! needs the history (heads, saves, changes, merges, forks, syncs) commits them first, as
//! automerge's `AutoCommit` does. `sync()` commits and lends the document to the protocol:
//!
//! ```
//! use converge::sync::{SyncExt, SyncMessage, SyncState};
//! use converge::{AutoCommit, ObjType, ROOT};
//!
//! let mut alice = AutoCommit::new();
//! let notes = alice.put_object(&ROOT, "notes", ObjType::Text)?;
//! alice.splice_text(&notes, 0, 0, "hello")?;
//! let mut bob = AutoCommit::new();
//! let (mut to_bob, mut to_alice) = (SyncState::new(), SyncState::new());
//! loop {
//!     let a = alice.sync().generate_sync_message(&mut to_bob);
//!     let b = bob.sync().generate_sync_message(&mut to_alice);
//!     if a.is_none() && b.is_none() {
//!         break;
//!     }
//!     if let Some(m) = a {
//!         let m = SyncMessage::decode(&m.encode()).expect("our own message decodes");
//!         bob.sync().receive_sync_message(&mut to_alice, m).expect("bob applies it");
//!     }
//!     if let Some(m) = b {
//!         alice.sync().receive_sync_message(&mut to_bob, m).expect("alice applies it");
//!     }
//! }
//! assert_eq!(bob.text(&notes)?, "hello");
//! assert_eq!(alice.heads(), bob.heads());
//! # Ok::<(), converge::DocError>(())
//! ```
//!
//! ## Keeping a view in step: patches
//!
//! A UI showing a document applies patches instead of reading it again:
//! [`Document::diff`] gives those between two sets of heads, and
//! [`AutoCommit::diff_incremental`] those since its last call (its first call gives the
//! whole document). They are automerge's patches, and cost the edits, not the document:
//!
//! ```
//! use converge::{AutoCommit, ObjType, PatchAction, ROOT};
//!
//! let mut doc = AutoCommit::new();
//! let notes = doc.put_object(&ROOT, "notes", ObjType::Text)?;
//! doc.splice_text(&notes, 0, 0, "hello")?;
//! let _everything = doc.diff_incremental()?; // a view built from nothing
//! doc.splice_text(&notes, 5, 0, " world")?;
//! doc.update_text(&notes, "hello brave world")?; // a text box written back
//! let patches = doc.diff_incremental()?;
//! let inserted: Vec<&str> = patches
//!     .iter()
//!     .filter_map(|p| match &p.action {
//!         PatchAction::SpliceText { value, .. } => Some(value.as_str()),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(inserted, [" brave world"]);
//! # Ok::<(), converge::DocError>(())
//! ```
//!
//! See `examples/` for two peers syncing over a channel and over TCP.

pub use converge_doc::{
    AutoCommit, ChangeMetadata, CommitOptions, Committed, CursorPosition, DocError, DocItem,
    DocIter, DocObjItem, Document, ExId, ExIdError, ExpandMark, Fragment, InvalidOpReason,
    IsolatedTransaction, ListItem, LoadOptions, MAX_TREE_DEPTH, MapItem, Mark, MarkOrderFault,
    ObjType, OnPartialLoad, Parent, Patch, PatchAction, Prop, ROOT, RolledBack, SaveOptions, Span,
    Stats, StringMigration, TextEncoding, TextSpan, Transaction, UpdateSpansConfig, Value,
    ValueTree, ValueWithId, VerificationMode,
};
pub use converge_encoding::{
    ActorId, Author, Bytes, Change, ChangeHash, Cursor, CursorMove, DecodeError, ParseCursorError,
    ParseHexError, ScalarValue,
};

/// The Automerge two-peer sync protocol: keep one [`SyncState`](sync::SyncState) per peer,
/// send what [`generate_sync_message`](sync::generate_sync_message) gives (encoded with
/// [`SyncMessage::encode`](sync::SyncMessage::encode)) and feed what arrives (decoded with
/// [`SyncMessage::decode`](sync::SyncMessage::decode)) to
/// [`receive_sync_message`](sync::receive_sync_message), until neither side has
/// anything to send.
pub mod sync {
    pub use converge_sync::{
        ApplyChunksError, Capabilities, Have, HaveStrategy, MESSAGE_TYPE_V1, MESSAGE_TYPE_V2,
        MessageFlags, MessageVersion, ReceiveError, STATE_TYPE, SyncDecodeError, SyncDoc, SyncExt,
        SyncMessage, SyncState, generate_sync_message, has_our_changes, in_sync,
        receive_sync_message, receive_sync_message_with_patches,
    };
}

/// The binary format, for tools that look at the bytes themselves (inspectors, converters):
/// the chunk envelope, column metadata, change and document chunks, bundles.
pub mod encoding {
    pub use converge_encoding::{
        Action, Bundle, BundleChangeRow, BundleOpRow, ChangeOp, ChangeOpRef, ChangeOpRefIter,
        ChangeOpRefs, ChangeOps, ChangeParts, DocChange, DocChangeRef, DocChanges, DocOp,
        DocOpBlock, DocOpRef, DocOps, DocValue, DocumentChunk, DocumentLimits, ElemId, FileChunk,
        Key, KeyRef, ObjId, OpId, Reader, ValueRef, chunk, columns, decode_chunks, encode_bundle,
        leb128,
    };
}

/// The README's code example, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
