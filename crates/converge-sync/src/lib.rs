//! # converge-sync
//!
//! The Automerge two-peer sync protocol (spec `shared/spec/sync.md`), byte-compatible with
//! automerge 0.12 peers: [`SyncMessage`] and [`SyncState`] with their exact wire forms, and
//! [`generate_sync_message`] / [`receive_sync_message`] run against any document implementing
//! [`SyncDoc`]. converge-doc's `Document` implements [`SyncDoc`]; with [`SyncExt`] in scope
//! the protocol reads as methods of the document:
//!
//! ```
//! use converge_doc::{Document, ROOT};
//! use converge_encoding::ScalarValue;
//! use converge_sync::{SyncExt, SyncState};
//!
//! let (mut a, mut b) = (Document::new(), Document::new());
//! a.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
//! b.put(&ROOT, "y", ScalarValue::Int(2)).unwrap();
//! let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
//! loop {
//!     let to_b = a.generate_sync_message(&mut sa);
//!     let to_a = b.generate_sync_message(&mut sb);
//!     if to_b.is_none() && to_a.is_none() {
//!         break;
//!     }
//!     if let Some(m) = to_b {
//!         b.receive_sync_message(&mut sb, m).unwrap();
//!     }
//!     if let Some(m) = to_a {
//!         a.receive_sync_message(&mut sa, m).unwrap();
//!     }
//! }
//! assert_eq!(a.heads(), b.heads());
//! ```
//!
//! ```
//! use converge_sync::{SyncMessage, SyncState};
//! // Two empty peers: the first message an automerge 0.12 peer sends.
//! let bytes = [0x42, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x02, 0x84];
//! let msg = SyncMessage::decode(&bytes).unwrap();
//! assert!(msg.heads.is_empty());
//! assert_eq!(msg.encode(), bytes);
//! let state = SyncState::decode(&SyncState::new().encode()).unwrap();
//! assert!(state.shared_heads.is_empty());
//! ```
// Decoders must not panic on any input: these lints keep indexing, unwrap and panics out of
// non-test code.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod doc_impl;
mod error;
mod have;
mod message;
mod protocol;
mod state;

pub use doc_impl::{ApplyChunksError, SyncExt, receive_sync_message_with_patches};
pub use error::{ReceiveError, SyncDecodeError};
pub use message::{
    Have, MESSAGE_TYPE_V1, MESSAGE_TYPE_V2, MessageFlags, MessageVersion, SyncMessage,
};
pub use protocol::{
    COMPACT_PROBE_THRESHOLD, MAX_CONSULTED_FILTERS, SyncDoc, compact_bloom_window,
    generate_sync_message, has_our_changes, in_sync, receive_sync_message,
};
pub use state::{Capabilities, HaveStrategy, STATE_TYPE, SyncState};
