//! Read-only accessors for the sync protocol (converge-sync). They need the change queue and
//! the per-actor history index, which the rest of the public API does not expose, and must not
//! mutate the document (unlike [`Document::save`]).

use bytes::Bytes;
use converge_encoding::{Change, ChangeHash};

use crate::bitset::BitSet;
use crate::doc::Document;

impl Document {
    /// The received change with this hash that waits in the queue for missing deps, if any.
    /// Applied changes are not queued (see [`Document::get_change_by_hash`]).
    pub fn queued_change(&self, hash: &ChangeHash) -> Option<&Change> {
        self.history.queued_change(hash)
    }

    /// The hash of the applied change at `index` in application (topological) order, the
    /// order of [`Document::get_changes`] with no heads; `None` past the end. The sync
    /// protocol's compact mode probes the peer with changes at exponentially spaced depths.
    pub fn change_hash_at(&self, index: usize) -> Option<ChangeHash> {
        self.history.graph.hashes().get(index).copied()
    }

    /// Number of changes waiting in the queue for missing deps.
    pub fn queued_count(&self) -> usize {
        self.history.queued_len()
    }

    /// Whether the change has been applied (queued changes do not count); as
    /// `get_change_by_hash(hash).is_some()` without decoding the change.
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.history.contains(hash)
    }

    /// The deps of an applied change, in the change's order (empty if it is not applied).
    pub fn change_deps(&self, hash: &ChangeHash) -> Vec<ChangeHash> {
        self.history
            .graph
            .change_by_hash(hash)
            .map(|c| c.deps().collect())
            .unwrap_or_default()
    }

    /// The bytes of an applied change (the uncompressed chunk, as [`Change::bytes`]).
    pub fn change_bytes(&self, hash: &ChangeHash) -> Option<Bytes> {
        let i = self.history.index_of(hash)?;
        self.history.bytes(i)
    }

    /// The reference's "changes since `heads`" (spec sync.md §3): all changes if `heads` is
    /// empty; otherwise, per actor, every change whose seq exceeds the highest seq reachable
    /// from the known hashes of `heads`. Hashes in application (topological) order.
    pub fn changes_since_clock(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        if self.are_heads(heads) {
            return Vec::new();
        }
        self.history.graph.hashes_since(heads)
    }

    /// Whether `heads` are exactly the current heads (then no change is "since" them). The
    /// common case of a peer that is up to date, answered without a clock walk.
    fn are_heads(&self, heads: &[ChangeHash]) -> bool {
        let graph = &self.history.graph;
        !heads.is_empty() && heads.len() == graph.heads().len() && {
            let mut sorted = heads.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            graph.heads_are(&sorted)
        }
    }

    /// Of the changes [`Document::changes_since_clock`] returns for `heads` (in that order),
    /// those a sync peer lacks by the reference's rule (spec sync.md §5.1): each one
    /// `in_filter` rejects, and each one with a dep among those. Deps are followed as change
    /// indexes, marked in a bitmap over the range the candidates span.
    pub fn changes_to_send(
        &self,
        heads: &[ChangeHash],
        in_filter: impl Fn(&ChangeHash) -> bool,
    ) -> Vec<ChangeHash> {
        if self.are_heads(heads) {
            return Vec::new();
        }
        let graph = &self.history.graph;
        let candidates = graph.changes_since(heads);
        // Candidates come in increasing index order.
        let base = candidates.first().map_or(0, |i| i.get());
        let span = candidates.last().map_or(0, |i| i.get() + 1 - base);
        // Bit `i - base`: change `i` is lacking.
        let mut lacking = BitSet::new(span);
        let offset = |i: usize| i.checked_sub(base).and_then(|o| u32::try_from(o).ok());
        let mut out = Vec::new();
        for idx in candidates {
            let Some(change) = graph.change(idx) else {
                continue;
            };
            let hash = change.hash();
            let send = !in_filter(&hash)
                || (!out.is_empty()
                    && change
                        .dep_indexes()
                        .any(|d| offset(d.get()).is_some_and(|o| lacking.contains(o))));
            if send {
                if let Some(o) = offset(idx.get()) {
                    lacking.insert(o);
                }
                out.push(hash);
            }
        }
        out
    }

    /// How many hashes [`Document::changes_since_clock`] returns for `heads`, without listing
    /// them.
    pub fn count_changes_since_clock(&self, heads: &[ChangeHash]) -> usize {
        if self.are_heads(heads) {
            return 0;
        }
        self.history.graph.count_since(heads)
    }

    /// The members of `candidates` that are applied and are ancestors of, or equal to, one of
    /// `heads` (unknown heads skipped).
    pub fn ancestors_among<'a>(
        &self,
        heads: &[ChangeHash],
        candidates: impl IntoIterator<Item = &'a ChangeHash>,
    ) -> Vec<ChangeHash> {
        if heads.is_empty() {
            return Vec::new();
        }
        self.history.ancestors_among(heads, candidates)
    }

    /// The whole document as [`Document::save`] writes it (a compressed document chunk
    /// followed by the queued changes), without marking anything as saved, so it works on
    /// `&self`. A document loaded from one document chunk whose columns are exactly what a
    /// save writes, and unchanged since, hands on the bytes it was loaded from instead: the
    /// same changes, columns and heads, though another writer's deflate may have compressed
    /// them to other bytes than a save would (a file automerge 0.12 saved is byte for byte
    /// what a save writes).
    pub fn save_snapshot(&self) -> Vec<u8> {
        if let Some(loaded) = self.loaded_chunk.current_or_drop(self.history.len()) {
            let mut out = loaded.to_vec();
            for c in self.history.queued_changes() {
                out.extend_from_slice(c.bytes());
            }
            return out;
        }
        let mut out = self.encode_document(true);
        for c in self.history.queued_changes() {
            out.extend_from_slice(c.bytes());
        }
        out
    }
}
