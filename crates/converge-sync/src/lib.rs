//! # converge-sync
//!
//! The Automerge two-peer sync protocol (spec `shared/spec/sync.md`), byte-compatible with
//! automerge 0.12 peers: [`SyncMessage`] and [`SyncState`] with their exact wire forms, and
//! [`generate_sync_message`] / [`receive_sync_message`] run against any document implementing
//! [`SyncDoc`].
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

mod error;
mod message;
mod protocol;
mod state;

pub use error::{ReceiveError, SyncDecodeError};
pub use message::{
    Have, MESSAGE_TYPE_V1, MESSAGE_TYPE_V2, MessageFlags, MessageVersion, SyncMessage,
};
pub use protocol::{
    SyncDoc, generate_sync_message, has_our_changes, in_sync, receive_sync_message,
};
pub use state::{Capabilities, STATE_TYPE, SyncState};
