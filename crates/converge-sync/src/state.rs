//! The per-peer sync state (spec sync.md §2, §4).

use std::collections::BTreeSet;

use converge_encoding::{ChangeHash, Reader};

use crate::error::SyncDecodeError;
use crate::message::{Have, read_hashes, write_hashes};

/// Type byte of a persisted sync state.
pub const STATE_TYPE: u8 = 0x43;

/// What one peer knows about another: keep one per peer, and persist it with
/// [`SyncState::encode`] between sessions to make the next sync cheaper.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SyncState {
    /// Heads both sides are known to have.
    pub shared_heads: Vec<ChangeHash>,
    /// Our heads when we last sent a message.
    pub last_sent_heads: Vec<ChangeHash>,
    /// Heads from their last message.
    pub their_heads: Option<Vec<ChangeHash>>,
    /// Their last `need`.
    pub their_need: Option<Vec<ChangeHash>>,
    /// Their last `have`.
    pub their_have: Option<Vec<Have>>,
    /// Changes sent this session and not yet acknowledged.
    pub sent_hashes: BTreeSet<ChangeHash>,
    /// Our heads when we last sent our whole document, until the peer acknowledges them:
    /// every change up to these heads counts as sent, as if it were in
    /// [`SyncState::sent_hashes`] (a document of 260k changes is not listed change by
    /// change; that list was the largest part of such a session's cost after the load).
    pub sent_document: Option<Vec<ChangeHash>>,
    /// We sent a message and have not received one since.
    pub in_flight: bool,
    /// We have sent at least one message.
    pub have_responded: bool,
    /// What the peer supports, known once it sent a message (`None` before).
    pub their_capabilities: Option<Capabilities>,
    /// We do not apply incoming changes.
    pub read_only: bool,
    /// The peer said it does not apply incoming changes.
    pub peer_read_only: bool,
    /// Our next message must signal a reset.
    pub needs_reset: bool,
    /// How we describe what we have (not persisted: a decoded state uses the default,
    /// [`HaveStrategy::Compact`]).
    pub have_strategy: HaveStrategy,
}

/// How [`crate::generate_sync_message`] writes the `have` list of a message, and whether it
/// sends a whole document again while one is on its way to an empty peer. Both are
/// understood by automerge 0.12 peers (docs/sync-compact-have.md); only what we send differs,
/// never how we answer what the peer sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HaveStrategy {
    /// Few bytes: a Bloom filter only of our changes the peer may have and cannot otherwise
    /// exclude, and a second `Have` whose `last_sync` names changes of ours (our heads, the
    /// peer's own hashes we know, or probes at exponentially spaced depths) so that the peer
    /// skips their ancestors. Never more `have` bytes than [`HaveStrategy::Reference`].
    /// A whole document of our current heads sent to a peer that has never had a change is
    /// not sent again while the peer still shows no heads (its message left before the
    /// document arrived, as when both sides speak at once); a reconnect, which restores the
    /// state from its persisted form, sends it again if it was lost.
    #[default]
    Compact,
    /// Exactly what automerge 0.12 sends: one `Have` with the shared heads and a Bloom filter
    /// of every change since them (spec sync.md §5 step 2).
    Reference,
}

/// What a peer said it supports, derived from its flags section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// It accepts V2 messages (it sent a flags section).
    pub message_v2: bool,
    /// It understands the SYNC_RESET flag.
    pub sync_reset: bool,
}

impl SyncState {
    /// A fresh state for a new peer.
    pub fn new() -> Self {
        SyncState::default()
    }

    /// A fresh state whose messages describe what we have as `strategy` says.
    pub fn with_strategy(strategy: HaveStrategy) -> Self {
        SyncState {
            have_strategy: strategy,
            ..SyncState::default()
        }
    }

    /// A fresh state that never applies incoming changes and says so to the peer.
    pub fn new_read_only() -> Self {
        SyncState {
            read_only: true,
            ..SyncState::default()
        }
    }

    /// Turns read-only mode on or off, as the reference does: turning it on re-announces the
    /// flag (clears `in_flight` and `have_responded`); turning it off resets the whole state
    /// (keeping what the peer supports) and asks the peer for a reset.
    pub fn set_read_only(&mut self, read_only: bool) {
        if read_only {
            self.read_only = true;
            self.in_flight = false;
            self.have_responded = false;
        } else if self.read_only {
            let their_capabilities = self.their_capabilities;
            let have_strategy = self.have_strategy;
            *self = SyncState {
                their_capabilities,
                have_strategy,
                needs_reset: true,
                ..SyncState::default()
            };
        }
    }

    /// Whether the peer said it will not apply our changes.
    pub fn is_peer_read_only(&self) -> bool {
        self.peer_read_only
    }

    /// Whether the peer accepts V2 messages.
    pub fn peer_supports_v2(&self) -> bool {
        self.their_capabilities.is_some_and(|c| c.message_v2)
    }

    /// Whether the peer understands SYNC_RESET.
    pub fn peer_supports_reset(&self) -> bool {
        self.their_capabilities.is_some_and(|c| c.sync_reset)
    }

    /// The persisted form: `43 || list of shared_heads`. Only the shared heads survive.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 32 * self.shared_heads.len());
        out.push(STATE_TYPE);
        write_hashes(&mut out, &self.shared_heads);
        out
    }

    /// Reads a persisted state: a fresh state with the stored shared heads and
    /// `their_have = Some([])`, as the reference restores it. Trailing bytes are ignored.
    /// The [`HaveStrategy`] is not persisted: the result has the default; set
    /// [`SyncState::have_strategy`] afterwards to keep another.
    pub fn decode(bytes: &[u8]) -> Result<SyncState, SyncDecodeError> {
        let mut r = Reader::new(bytes);
        let found = r.take_u8().map_err(|source| SyncDecodeError::Malformed {
            field: "state type",
            source,
        })?;
        if found != STATE_TYPE {
            return Err(SyncDecodeError::WrongType {
                found,
                expected: &[STATE_TYPE],
            });
        }
        let shared_heads = read_hashes(&mut r, "shared_heads")?;
        Ok(SyncState {
            shared_heads,
            their_have: Some(Vec::new()),
            ..SyncState::default()
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn state_round_trip() {
        let mut s = SyncState::new();
        s.shared_heads = vec![ChangeHash([0x21; 32])];
        s.in_flight = true;
        let bytes = s.encode();
        assert_eq!(bytes.len(), 34);
        assert_eq!(&bytes[..2], &[0x43, 0x01]);
        let back = SyncState::decode(&bytes).unwrap();
        assert_eq!(back.shared_heads, s.shared_heads);
        assert_eq!(back.their_have, Some(vec![]));
        assert!(!back.in_flight);
        assert!(SyncState::decode(&[0x42, 0x00]).is_err());
        assert!(SyncState::decode(&[0x43, 0x02]).is_err());
        assert!(SyncState::decode(&[0x43, 0x00, 0xff]).is_ok());
    }
}
