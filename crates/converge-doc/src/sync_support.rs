//! Read-only accessors for the sync protocol (converge-sync). They need the change queue and
//! the per-actor history index, which the rest of the public API does not expose, and must not
//! mutate the document (unlike [`Document::save`]).

use bytes::Bytes;
use converge_encoding::{Change, ChangeHash};

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
        self.history.bytes(i).cloned()
    }

    /// The reference's "changes since `heads`" (spec sync.md §3): all changes if `heads` is
    /// empty; otherwise, per actor, every change whose seq exceeds the highest seq reachable
    /// from the known hashes of `heads`. Hashes in application (topological) order.
    pub fn changes_since_clock(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        let graph = &self.history.graph;
        // Common case (a peer that is up to date): every change is covered.
        if !heads.is_empty() && heads.len() == graph.heads().len() && {
            let mut sorted = heads.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            graph.heads_are(&sorted)
        } {
            return Vec::new();
        }
        graph.hashes_since(heads)
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

    /// Exactly what [`Document::save`] returns (a compressed document chunk followed by the
    /// queued changes), without marking anything as saved, so it works on `&self`.
    pub fn save_snapshot(&self) -> Vec<u8> {
        let mut out = self.encode_document(true);
        for c in self.history.queued_changes() {
            out.extend_from_slice(c.bytes());
        }
        out
    }
}
