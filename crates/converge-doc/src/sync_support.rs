//! Read-only accessors for the sync protocol (converge-sync). They need the change queue and
//! the per-actor history index, which the rest of the public API does not expose, and must not
//! mutate the document (unlike [`Document::save`]).

use converge_encoding::{Change, ChangeHash};

use crate::doc::Document;

impl Document {
    /// The received change with this hash that waits in the queue for missing deps, if any.
    /// Applied changes are not queued (see [`Document::get_change_by_hash`]).
    pub fn queued_change(&self, hash: &ChangeHash) -> Option<&Change> {
        self.queue.iter().find(|c| c.hash() == *hash)
    }

    /// The hash of the applied change at `index` in application (topological) order, the
    /// order of [`Document::get_changes`] with no heads; `None` past the end. The sync
    /// protocol's compact mode probes the peer with changes at exponentially spaced depths.
    pub fn change_hash_at(&self, index: usize) -> Option<ChangeHash> {
        self.history.changes.get(index).map(|c| c.hash)
    }

    /// Number of changes waiting in the queue for missing deps.
    pub fn queued_count(&self) -> usize {
        self.queue.len()
    }

    /// For each actor (doc-wide index) the highest seq reachable from `heads`; unknown hashes
    /// are skipped. A full walk over the ancestors of `heads` (one bit per change); a
    /// per-change clock cache, as the reference keeps, would make this cheaper.
    /// Also returns the ancestor bitmap over change indexes.
    fn seq_clock(&self, heads: &[ChangeHash]) -> (Vec<u64>, Vec<bool>) {
        let h = &self.history;
        let mut clock = vec![0u64; h.by_actor.len()];
        let mut seen = vec![false; h.changes.len()];
        let mut stack: Vec<u32> = heads
            .iter()
            .filter_map(|x| h.by_hash.get(x).copied())
            .collect();
        while let Some(i) = stack.pop() {
            let Some(visited) = seen.get_mut(i as usize) else {
                continue;
            };
            if *visited {
                continue;
            }
            *visited = true;
            let Some(c) = h.changes.get(i as usize) else {
                continue;
            };
            if let Some(slot) = clock.get_mut(c.actor as usize) {
                *slot = (*slot).max(c.change.seq());
            }
            stack.extend_from_slice(&c.deps);
        }
        (clock, seen)
    }

    /// The reference's "changes since `heads`" (spec sync.md §3): all changes if `heads` is
    /// empty; otherwise, per actor, every change whose seq exceeds the highest seq reachable
    /// from the known hashes of `heads`. Hashes in application (topological) order.
    pub fn changes_since_clock(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        let h = &self.history;
        if heads.is_empty() {
            return h.changes.iter().map(|c| c.hash).collect();
        }
        // Common case (a peer that is up to date): every change is covered, no walk needed.
        if heads.len() == h.heads.len() && {
            let mut sorted = heads.to_vec();
            sorted.sort_unstable();
            sorted == h.head_hashes()
        } {
            return Vec::new();
        }
        let (clock, _) = self.seq_clock(heads);
        let mut out: Vec<u32> = Vec::new();
        for (actor, list) in h.by_actor.iter().enumerate() {
            let covered = clock.get(actor).copied().unwrap_or(0);
            let start = list.partition_point(|&i| {
                h.changes
                    .get(i as usize)
                    .is_some_and(|c| c.change.seq() <= covered)
            });
            out.extend_from_slice(list.get(start..).unwrap_or_default());
        }
        out.sort_unstable();
        out.iter()
            .filter_map(|&i| h.changes.get(i as usize).map(|c| c.hash))
            .collect()
    }

    /// The members of `candidates` that are applied and are ancestors of, or equal to, one of
    /// `heads` (unknown heads skipped).
    pub fn ancestors_among<'a>(
        &self,
        heads: &[ChangeHash],
        candidates: impl IntoIterator<Item = &'a ChangeHash>,
    ) -> Vec<ChangeHash> {
        let h = &self.history;
        if heads.is_empty() {
            return Vec::new();
        }
        let (_, seen) = self.seq_clock(heads);
        candidates
            .into_iter()
            .filter(|x| {
                h.by_hash
                    .get(*x)
                    .is_some_and(|&i| seen.get(i as usize).copied().unwrap_or(false))
            })
            .copied()
            .collect()
    }

    /// Exactly what [`Document::save`] returns (a compressed document chunk followed by the
    /// queued changes), without marking anything as saved, so it works on `&self`.
    pub fn save_snapshot(&self) -> Vec<u8> {
        let mut out = self.encode_document(true);
        for c in &self.queue {
            out.extend_from_slice(c.bytes());
        }
        out
    }
}
