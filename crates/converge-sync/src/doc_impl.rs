//! [`SyncDoc`] for converge-doc's [`Document`], and [`SyncExt`], so that users write
//! `doc.generate_sync_message(&mut state)` / `doc.receive_sync_message(&mut state, msg)`.

use std::collections::{BTreeSet, HashSet};

use bytes::Bytes;
use converge_doc::{DocError, Document};
use converge_encoding::{ChangeHash, DecodeError, DecodedPrefix, decode_chunk_prefix};

use crate::error::ReceiveError;
use crate::message::SyncMessage;
use crate::protocol::{SyncDoc, generate_sync_message, receive_sync_message};
use crate::state::SyncState;

/// Why the changes of a sync message could not be applied to a [`Document`]. The document is
/// unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyChunksError {
    /// The document is empty and the first chunk does not decode (the reference refuses
    /// this too; on a non-empty document decoding stops silently at the first bad chunk).
    #[error("the first chunk does not decode: {0}")]
    Decode(#[source] DecodeError),
    /// The document refused a change (invalid ops, a reused (actor, seq), ...).
    #[error(transparent)]
    Doc(#[from] DocError),
}

impl SyncDoc for Document {
    type ApplyError = ApplyChunksError;

    fn heads(&self) -> Vec<ChangeHash> {
        Document::heads(self)
    }

    fn has_change(&self, hash: &ChangeHash) -> bool {
        Document::has_change(self, hash)
    }

    fn num_changes(&self) -> usize {
        self.change_count()
    }

    fn change_hash_at(&self, index: usize) -> Option<ChangeHash> {
        Document::change_hash_at(self, index)
    }

    fn changes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        self.changes_since_clock(heads)
    }

    fn count_changes_since(&self, heads: &[ChangeHash]) -> usize {
        self.count_changes_since_clock(heads)
    }

    fn change_deps(&self, hash: &ChangeHash) -> Vec<ChangeHash> {
        Document::change_deps(self, hash)
    }

    fn changes_to_send(
        &self,
        heads: &[ChangeHash],
        in_filter: &dyn Fn(&ChangeHash) -> bool,
    ) -> Vec<ChangeHash> {
        Document::changes_to_send(self, heads, in_filter)
    }

    fn change_bytes(&self, hash: &ChangeHash) -> Option<Bytes> {
        Document::change_bytes(self, hash)
    }

    fn missing_deps_reachable(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        let mut missing = BTreeSet::new();
        if self.queued_count() == 0 {
            // Nothing to walk through: the unknown heads are the answer.
            missing.extend(heads.iter().filter(|h| !SyncDoc::has_change(self, h)));
            return missing.into_iter().collect();
        }
        let mut seen: HashSet<ChangeHash> = HashSet::new();
        let mut stack: Vec<ChangeHash> = heads.to_vec();
        while let Some(h) = stack.pop() {
            if !seen.insert(h) || SyncDoc::has_change(self, &h) {
                continue;
            }
            match self.queued_change(&h) {
                Some(c) => stack.extend_from_slice(c.deps()),
                None => {
                    missing.insert(h);
                }
            }
        }
        missing.into_iter().collect()
    }

    fn ancestors_among(
        &self,
        heads: &[ChangeHash],
        candidates: &BTreeSet<ChangeHash>,
    ) -> Vec<ChangeHash> {
        Document::ancestors_among(self, heads, candidates)
    }

    fn save_document(&self) -> Vec<u8> {
        self.save_snapshot()
    }

    /// The decodable prefix of `bytes` is applied: decoding stops silently at the first bad
    /// chunk, except that an empty document refuses bytes whose very first chunk is bad (as
    /// the reference does).
    fn apply_chunks(&mut self, bytes: &Bytes) -> Result<(), ApplyChunksError> {
        let fresh = self.change_count() == 0 && self.queued_count() == 0;
        if fresh {
            // As `load_incremental` (which takes the fast bulk path for a whole document):
            // decoding stops at the first bad chunk, but a bad first chunk refuses the bytes.
            // Each chunk is decoded once. An empty document is cheap to copy: keep the copy
            // only if everything applied.
            let chunks = match decode_chunk_prefix(bytes) {
                DecodedPrefix {
                    chunks,
                    failure: Some((_, e)),
                    ..
                } if chunks.is_empty() => return Err(ApplyChunksError::Decode(e)),
                decoded => decoded.chunks.into_iter().map(|(_, c)| c).collect(),
            };
            let mut next = self.clone();
            next.apply_decoded_chunks(chunks)?;
            *self = next;
            return Ok(());
        }
        // One `apply_changes` batch, all or nothing, as the reference's `load_incremental`
        // (documents whose heads are all known are skipped, bundles' changes join).
        let decoded = decode_chunk_prefix(bytes);
        self.apply_decoded_chunks(decoded.chunks.into_iter().map(|(_, c)| c).collect())?;
        Ok(())
    }
}

/// The sync protocol as methods of any [`SyncDoc`] (in particular [`Document`]).
pub trait SyncExt: SyncDoc {
    /// The next message for the peer of `state`; see [`generate_sync_message`].
    fn generate_sync_message(&self, state: &mut SyncState) -> Option<SyncMessage> {
        generate_sync_message(self, state)
    }

    /// Applies a message from the peer of `state`; see [`receive_sync_message`].
    fn receive_sync_message(
        &mut self,
        state: &mut SyncState,
        message: SyncMessage,
    ) -> Result<(), ReceiveError<Self::ApplyError>> {
        receive_sync_message(self, state, message)
    }
}

impl<D: SyncDoc + ?Sized> SyncExt for D {}

/// [`receive_sync_message`] on a converge document, then the patches that take a view of it
/// from before the message to after ([`Document::diff`]; none when the message changed
/// nothing), as automerge 0.12's `receive_sync_message_log_patches` gives them to a UI.
///
/// ```
/// use converge_doc::{Document, PatchAction, ROOT};
/// use converge_sync::{SyncExt, SyncState, receive_sync_message_with_patches};
///
/// let mut alice = Document::new();
/// alice.put(&ROOT, "title", "notes")?;
/// let mut bob = Document::new();
/// let (mut to_bob, mut to_alice) = (SyncState::new(), SyncState::new());
/// let mut seen = Vec::new();
/// loop {
///     let a = alice.generate_sync_message(&mut to_bob);
///     let b = bob.generate_sync_message(&mut to_alice);
///     if a.is_none() && b.is_none() {
///         break;
///     }
///     if let Some(m) = a {
///         seen.extend(receive_sync_message_with_patches(&mut bob, &mut to_alice, m).unwrap());
///     }
///     if let Some(m) = b {
///         alice.receive_sync_message(&mut to_bob, m).unwrap();
///     }
/// }
/// assert!(matches!(&seen[..], [p] if matches!(&p.action, PatchAction::PutMap { key, .. } if key == "title")));
/// # Ok::<(), converge_doc::DocError>(())
/// ```
pub fn receive_sync_message_with_patches(
    doc: &mut Document,
    state: &mut SyncState,
    message: SyncMessage,
) -> Result<Vec<converge_doc::Patch>, ReceiveError<ApplyChunksError>> {
    let before = doc.heads();
    receive_sync_message(doc, state, message)?;
    let after = doc.heads();
    if before == after {
        return Ok(Vec::new());
    }
    // Both sets of heads are the document's own: a diff between them cannot fail.
    doc.diff(&before, &after)
        .map_err(|e| ReceiveError::Apply(ApplyChunksError::Doc(e)))
}
