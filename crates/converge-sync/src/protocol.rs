//! `generate_sync_message` and `receive_sync_message`: the reference's algorithm
//! (spec sync.md §5, §6), run against any document that implements [`SyncDoc`]. The one
//! deliberate difference is the `have` list a [`HaveStrategy::Compact`] state writes
//! (`have.rs`, docs/sync-compact-have.md); what we answer to any `have` list is the
//! reference's, except that past [`MAX_CONSULTED_FILTERS`] distinct non-empty Bloom filters
//! (a list no real peer sends) the later ones are not consulted and what only they claim
//! is sent anyway.

use std::collections::{BTreeSet, HashSet};

use bytes::Bytes;
use converge_bloom::BloomFilter;
use converge_encoding::ChangeHash;

use crate::error::ReceiveError;
pub use crate::have::{COMPACT_PROBE_THRESHOLD, compact_bloom_window};
use crate::have::{compact_have, reference_have, sorted};
use crate::message::{Have, MessageFlags, MessageVersion, SyncMessage};
use crate::state::{Capabilities, HaveStrategy, SyncState};

/// What the sync protocol needs from a document. converge-doc's document implements it; the
/// protocol moves change bytes and never looks inside them.
pub trait SyncDoc {
    /// Why received changes could not be applied.
    type ApplyError: std::error::Error + 'static;

    /// The current heads, sorted.
    fn heads(&self) -> Vec<ChangeHash>;

    /// Whether the change has been applied (a change waiting in the causal queue has not).
    fn has_change(&self, hash: &ChangeHash) -> bool;

    /// How many changes have been applied.
    fn num_changes(&self) -> usize;

    /// The hash of the applied change at `index` in change-graph (application) order, the
    /// order of [`SyncDoc::changes_since`] with no heads; `None` past the end. Compact `have`
    /// lists probe the peer with changes at spaced depths in this order.
    fn change_hash_at(&self, index: usize) -> Option<ChangeHash>;

    /// The reference's "changes since heads" (spec sync.md §3): all changes when `heads` is
    /// empty; otherwise, per actor, every change whose seq exceeds the highest seq reachable
    /// from the known hashes of `heads`. In change-graph (insertion) order.
    fn changes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeHash>;

    /// How many changes [`SyncDoc::changes_since`] lists for `heads`. The default counts the
    /// list; a document that can count without listing should.
    fn count_changes_since(&self, heads: &[ChangeHash]) -> usize {
        self.changes_since(heads).len()
    }

    /// The deps of an applied change.
    fn change_deps(&self, hash: &ChangeHash) -> Vec<ChangeHash>;

    /// The changes since `heads` (as [`SyncDoc::changes_since`], in its order) that a peer
    /// lacks by the reference's rule (spec sync.md §5.1): each one `in_filter` rejects, and
    /// each one with a dep among those (the false-positive repair). The default does this
    /// with [`SyncDoc::changes_since`] and [`SyncDoc::change_deps`]; a document that can
    /// walk its own change indexes should.
    fn changes_to_send(
        &self,
        heads: &[ChangeHash],
        in_filter: &dyn Fn(&ChangeHash) -> bool,
    ) -> Vec<ChangeHash> {
        let mut to_send: Vec<ChangeHash> = Vec::new();
        // `to_send` as a set, built only once a lookup needs it (a change in a filter after
        // some lacking one).
        let mut lacking: HashSet<ChangeHash> = HashSet::new();
        for hash in self.changes_since(heads) {
            let send = !in_filter(&hash)
                || (!to_send.is_empty() && {
                    lacking.extend(to_send.get(lacking.len()..).unwrap_or_default());
                    self.change_deps(&hash).iter().any(|d| lacking.contains(d))
                });
            if send {
                to_send.push(hash);
            }
        }
        to_send
    }

    /// The canonical bytes of an applied change chunk.
    fn change_bytes(&self, hash: &ChangeHash) -> Option<Bytes>;

    /// The missing deps reachable from `heads` (spec sync.md §5 step 1): a walk from `heads`
    /// that skips applied changes, continues through queued ones into their deps, and reports
    /// every other hash. Sorted.
    fn missing_deps_reachable(&self, heads: &[ChangeHash]) -> Vec<ChangeHash>;

    /// The members of `candidates` that are ancestors of, or equal to, one of `heads`
    /// (hashes of `heads` that are not applied are skipped).
    fn ancestors_among(
        &self,
        heads: &[ChangeHash],
        candidates: &BTreeSet<ChangeHash>,
    ) -> Vec<ChangeHash>;

    /// The whole document as `save()` writes it (a compressed document chunk, followed by
    /// queued changes), or any other bytes that load to exactly this document (converge's
    /// document hands on the document chunk it was loaded from while it is unchanged).
    fn save_document(&self) -> Vec<u8>;

    /// Applies any concatenation of chunks, as `load_incremental` does. On error the document
    /// must be unchanged. `bytes` is the message's buffer: a document may keep slices of it
    /// (`Bytes::slice_ref`) instead of copying.
    fn apply_chunks(&mut self, bytes: &Bytes) -> Result<(), Self::ApplyError>;
}

/// The next message to send to the peer of `state`, or `None` when there is nothing to say.
pub fn generate_sync_message<D: SyncDoc + ?Sized>(
    doc: &D,
    state: &mut SyncState,
) -> Option<SyncMessage> {
    let our_heads = doc.heads();

    // 1. need
    let need = if state.read_only {
        Vec::new()
    } else {
        doc.missing_deps_reachable(state.their_heads.as_deref().unwrap_or(&[]))
    };

    // 2. have: only when all we need is among their heads (otherwise ask explicitly).
    let their_heads_slice = state.their_heads.as_deref().unwrap_or(&[]);
    let have = if has_all_of(their_heads_slice, &need) {
        match state.have_strategy {
            HaveStrategy::Reference => vec![reference_have(doc, &state.shared_heads)],
            HaveStrategy::Compact => compact_have(doc, state, &our_heads),
        }
    } else {
        Vec::new()
    };

    // 3. reset when they claim a last sync we know nothing of.
    if let Some(first) = state.their_have.as_ref().and_then(|h| h.first())
        && first.last_sync.iter().any(|h| !doc.has_change(h))
    {
        return Some(reset_message(our_heads));
    }

    // 4. changes to send. A whole document counts as sending every change up to our heads
    // (`sent_document`, none for an empty document).
    let mut sent: Vec<ChangeHash> = Vec::new();
    let mut sent_document: Option<Vec<ChangeHash>> = None;
    let whole = || (!our_heads.is_empty()).then(|| our_heads.clone());
    let mut payload: Vec<Bytes> = Vec::new();
    let supports_v2 = state.peer_supports_v2();
    if !state.peer_read_only
        && let (Some(their_have), Some(their_need)) = (&state.their_have, &state.their_need)
    {
        {
            let send_doc = state.their_heads.as_ref().is_some_and(Vec::is_empty) && supports_v2;
            if send_doc {
                // Compact: a document of our current heads already on its way to a peer that
                // has never had a change is not sent again (the peer's message that still
                // shows no heads left before ours arrived). The reference sends it again.
                let in_flight = state.have_strategy == HaveStrategy::Compact
                    && state.sent_document.as_ref() == Some(&our_heads);
                if !in_flight {
                    sent_document = whole();
                    payload.push(Bytes::from(doc.save_document()));
                }
            } else {
                let mut hashes: Vec<ChangeHash> = hashes_to_send(doc, their_have, their_need)
                    .into_iter()
                    .filter(|h| !state.sent_hashes.contains(h))
                    .collect();
                if let Some(heads) = &state.sent_document
                    && !hashes.is_empty()
                {
                    let candidates: BTreeSet<ChangeHash> = hashes.iter().copied().collect();
                    let already: BTreeSet<ChangeHash> = doc
                        .ancestors_among(heads, &candidates)
                        .into_iter()
                        .collect();
                    hashes.retain(|h| !already.contains(h));
                }
                if hashes.len() > doc.num_changes() / 3 && supports_v2 {
                    sent_document = whole();
                    payload.push(Bytes::from(doc.save_document()));
                } else {
                    let chunks: Vec<Bytes> =
                        hashes.iter().filter_map(|h| doc.change_bytes(h)).collect();
                    if supports_v2 {
                        if !chunks.is_empty() {
                            payload.push(concat(&chunks));
                        }
                    } else {
                        payload = chunks;
                    }
                    sent = hashes;
                }
            }
        }
    }

    // 5. suppression
    if state.last_sent_heads == our_heads && state.have_responded {
        let they_are_current = state.their_heads.as_ref() == Some(&our_heads);
        if (they_are_current || state.read_only) && sent.is_empty() && sent_document.is_none() {
            return None;
        }
        if state.in_flight {
            return None;
        }
    }

    // 6. commit
    state.have_responded = true;
    state.last_sent_heads = our_heads.clone();
    if state.sent_hashes.is_empty() {
        // Built in bulk from sorted hashes (collecting sorted input costs one pass).
        sort_hashes(&mut sent);
        state.sent_hashes = sent.into_iter().collect();
    } else {
        state.sent_hashes.extend(sent);
    }
    if sent_document.is_some() {
        // Our heads only grow: the newer document covers the older one.
        state.sent_document = sent_document;
    }

    // 7. flags and heads
    let mut flags = MessageFlags::from_bits(MessageFlags::SUPPORTS_SYNC_RESET);
    if state.read_only {
        flags.set(MessageFlags::READ_ONLY);
    }
    let heads = if state.needs_reset {
        state.needs_reset = false;
        if state.peer_supports_reset() {
            flags.set(MessageFlags::SYNC_RESET);
            our_heads
        } else {
            Vec::new()
        }
    } else {
        our_heads
    };

    // 8. build
    state.in_flight = true;
    Some(SyncMessage {
        version: if supports_v2 {
            MessageVersion::V2
        } else {
            MessageVersion::V1
        },
        heads,
        need,
        have,
        changes: payload,
        flags: Some(flags),
    })
}

/// The message that tells a peer whose last sync we cannot place to start over (§5.2).
fn reset_message(our_heads: Vec<ChangeHash>) -> SyncMessage {
    SyncMessage {
        version: MessageVersion::V1,
        heads: our_heads,
        need: Vec::new(),
        have: vec![Have::default()],
        changes: Vec::new(),
        flags: Some(MessageFlags::from_bits(MessageFlags::SUPPORTS_SYNC_RESET)),
    }
}

fn concat(chunks: &[Bytes]) -> Bytes {
    if let [one] = chunks {
        return one.clone();
    }
    let mut out = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
    for c in chunks {
        out.extend_from_slice(c);
    }
    Bytes::from(out)
}

/// The changes a peer with this `have` and `need` lacks (spec sync.md §5.1), with the
/// false-positive repair: a change that depends on one the peer lacks is sent too.
fn hashes_to_send<D: SyncDoc + ?Sized>(
    doc: &D,
    have: &[Have],
    need: &[ChangeHash],
) -> Vec<ChangeHash> {
    // Each hash once: a need list naming one change many times would otherwise get as
    // many copies of it.
    let mut asked: HashSet<ChangeHash> = HashSet::new();
    let need_known = need
        .iter()
        .copied()
        .filter(move |h| asked.insert(*h) && doc.has_change(h));
    if have.is_empty() {
        return need_known.collect();
    }
    let mut last_sync: Vec<ChangeHash> = have
        .iter()
        .flat_map(|h| h.last_sync.iter().copied())
        .collect();
    last_sync.sort_unstable();
    last_sync.dedup();
    let filters = consulted_filters(have);
    let to_send = doc.changes_to_send(&last_sync, &|hash| filters.iter().any(|f| f.contains(hash)));
    let mut out: Vec<ChangeHash> = if need.is_empty() {
        Vec::new()
    } else {
        let lacking: HashSet<&ChangeHash> = to_send.iter().collect();
        need_known.filter(|h| !lacking.contains(h)).collect()
    };
    out.extend(to_send);
    out
}

/// The most distinct non-empty Bloom filters of a peer's `have` list that we consult. Every
/// candidate change is looked up in each, so a list of thousands of small filters made one
/// message cost seconds (1,000 filters, 7 kB, against the paper document's 259,779 changes:
/// 1.76 s; automerge 0.12 9.8 s). An automerge peer sends one filter, converge's compact
/// `have` at most one non-empty one.
pub const MAX_CONSULTED_FILTERS: usize = 8;

/// The filters of `have` worth consulting: each distinct one that is not empty (the empty
/// filter contains nothing), in order, the first [`MAX_CONSULTED_FILTERS`]. Past those, a
/// change only a later filter claims is sent anyway: the peer already has it and ignores
/// it, which costs bytes but never convergence.
fn consulted_filters(have: &[Have]) -> Vec<&BloomFilter> {
    let mut filters: Vec<&BloomFilter> = Vec::new();
    for h in have {
        if h.bloom.is_empty() || filters.contains(&&h.bloom) {
            continue;
        }
        if filters.len() == MAX_CONSULTED_FILTERS {
            break;
        }
        filters.push(&h.bloom);
    }
    filters
}

/// Applies a message from the peer of `state`. On error neither the document nor the state
/// has changed (the reference clears `in_flight` and processes flags before it fails; we do
/// not).
pub fn receive_sync_message<D: SyncDoc + ?Sized>(
    doc: &mut D,
    state: &mut SyncState,
    message: SyncMessage,
) -> Result<(), ReceiveError<D::ApplyError>> {
    let before_heads = doc.heads();

    // 3 (first half, the only fallible step): apply the changes.
    let applied = !message.changes.is_empty() && !state.read_only;
    if applied {
        let bytes = concat(&message.changes);
        doc.apply_chunks(&bytes).map_err(ReceiveError::Apply)?;
    }

    // 1.
    state.in_flight = false;

    // 2. flags
    if let Some(flags) = message.flags {
        state.their_capabilities = Some(Capabilities {
            message_v2: true,
            sync_reset: flags.contains(MessageFlags::SUPPORTS_SYNC_RESET),
        });
        if flags.contains(MessageFlags::SYNC_RESET) {
            state.sent_hashes.clear();
            state.sent_document = None;
        }
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }

    // 3 (second half)
    if applied {
        let heads_after = doc.heads();
        // (Sorted copies: a peer's message can make both lists long, and one lookup per
        // head in each was quadratic.)
        let before = sorted(before_heads.iter().copied());
        let shared_before = sorted(state.shared_heads.iter().copied());
        let mut shared: Vec<ChangeHash> = heads_after
            .iter()
            .filter(|h| before.binary_search(h).is_err() || shared_before.binary_search(h).is_ok())
            .copied()
            .collect();
        shared.sort_unstable();
        shared.dedup();
        state.shared_heads = shared;
    }

    // Their heads that we have (after applying the message's changes); used by 4 and 6.
    let known_heads: Vec<ChangeHash> = message
        .heads
        .iter()
        .copied()
        .filter(|h| doc.has_change(h))
        .collect();

    // 4. forget what they now have
    if !state.sent_hashes.is_empty() || state.sent_document.is_some() {
        if has_all_of(&known_heads, &doc.heads()) {
            // They have all we have. We only ever send (and so list here) changes we have,
            // so they are all ancestors of our heads: the walk below would remove them all.
            state.sent_hashes.clear();
            state.sent_document = None;
        } else {
            forget_acknowledged_document(doc, state, &known_heads);
            if !state.sent_hashes.is_empty() {
                let acknowledged = doc.ancestors_among(&known_heads, &state.sent_hashes);
                if acknowledged.len() == state.sent_hashes.len() {
                    state.sent_hashes.clear();
                } else {
                    for h in acknowledged {
                        state.sent_hashes.remove(&h);
                    }
                }
            }
        }
    }

    // 5.
    if message.changes.is_empty() && message.heads == before_heads {
        state.last_sent_heads = message.heads.clone();
    }

    // 6.
    if known_heads.len() == message.heads.len() {
        state.shared_heads = message.heads.clone();
        if message.heads.is_empty() {
            state.last_sent_heads = Vec::new();
            // The reference reads empty heads as "the peer lost all its data" and forgets
            // what it sent. Compact: a peer whose heads were empty before too lost nothing;
            // what we sent it may still be on its way (both sides speaking at once), so it
            // is remembered, and not sent again, until the peer names heads or the state is
            // reset (a reconnect decodes a persisted state, which keeps none of it).
            let had_nothing = state.their_heads.as_ref().is_some_and(Vec::is_empty);
            if !(had_nothing && state.have_strategy == HaveStrategy::Compact) {
                state.sent_hashes.clear();
                state.sent_document = None;
            }
        }
    } else {
        let mut shared = state.shared_heads.clone();
        shared.extend(known_heads);
        shared.sort_unstable();
        shared.dedup();
        state.shared_heads = shared;
    }

    // 7.
    state.their_have = Some(message.have);
    state.their_heads = Some(message.heads);
    state.their_need = Some(message.need);
    Ok(())
}

/// Step 4 for a whole document we sent (`state.sent_document`): kept while the peer names no
/// head we know, forgotten when its known heads cover the document's heads. When they cover
/// only part of it, the document's changes are listed in `sent_hashes` after all, as if they
/// had been listed when sent, and the rest of step 4 then removes the acknowledged ones.
fn forget_acknowledged_document<D: SyncDoc + ?Sized>(
    doc: &D,
    state: &mut SyncState,
    known_heads: &[ChangeHash],
) {
    let Some(heads) = state.sent_document.take() else {
        return;
    };
    if known_heads.is_empty() {
        state.sent_document = Some(heads);
        return;
    }
    let tips: BTreeSet<ChangeHash> = heads.iter().copied().collect();
    if doc.ancestors_among(known_heads, &tips).len() == tips.len() {
        return;
    }
    let all: BTreeSet<ChangeHash> = doc.changes_since(&[]).into_iter().collect();
    let document: BTreeSet<ChangeHash> = doc.ancestors_among(&heads, &all).into_iter().collect();
    state.sent_hashes.extend(document);
}

/// Sorts hashes in their order (bytewise), comparing the first 16 bytes as one integer
/// first: a byte-slice comparison per step costs several times more.
fn sort_hashes(hashes: &mut [ChangeHash]) {
    let prefix = |h: &ChangeHash| {
        let mut b = [0u8; 16];
        for (out, x) in b.iter_mut().zip(h.as_bytes()) {
            *out = *x;
        }
        u128::from_be_bytes(b)
    };
    hashes.sort_unstable_by(|a, b| prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b)));
}

/// Whether `theirs` (a peer's list, of any length and order) names every hash of `ours`.
/// By binary search in a sorted copy: a scan of `theirs` per hash was quadratic, 7.5 s for
/// a message naming 100,000 unknown heads.
fn has_all_of(theirs: &[ChangeHash], ours: &[ChangeHash]) -> bool {
    if ours.is_empty() {
        return true;
    }
    let theirs = sorted(theirs.iter().copied());
    ours.iter().all(|h| theirs.binary_search(h).is_ok())
}

/// Whether the peer of `state` has everything we have (`shared_heads` equals our heads).
pub fn has_our_changes<D: SyncDoc + ?Sized>(doc: &D, state: &SyncState) -> bool {
    state.shared_heads == doc.heads()
}

/// Whether both sides hold the same heads and nothing is in flight.
pub fn in_sync<D: SyncDoc + ?Sized>(doc: &D, state: &SyncState) -> bool {
    let ours = doc.heads();
    !state.in_flight && state.their_heads.as_ref() == Some(&ours) && state.shared_heads == ours
}
