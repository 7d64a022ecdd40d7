//! The causal queue: changes whose dependencies have not all arrived yet.
//!
//! Each parked change counts what it still waits for: every dependency (with multiplicity) not
//! yet applied, plus the previous seq of its own actor (see [`ChangeGraph`](crate::ChangeGraph)
//! on contiguous seqs). The reverse edges (`waiting`, `waiting_for_seq`) list dependents in
//! arrival order, which is what makes releases come out in the reference's order.

use std::collections::{HashMap, HashSet};

use converge_encoding::{ActorId, ChangeHash};

use crate::ChangeMeta;

#[derive(Clone, Debug)]
pub(crate) struct Parked {
    pub(crate) meta: ChangeMeta,
    /// Position in arrival order.
    pub(crate) arrival: u64,
    /// Dependencies (with multiplicity, plus the implicit previous seq) not yet applied.
    pub(crate) missing: u32,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    pub(crate) parked: HashMap<ChangeHash, Parked>,
    /// Missing dependency → parked changes waiting for it, in arrival order (a change appears
    /// once per occurrence of the dependency in its deps).
    pub(crate) waiting: HashMap<ChangeHash, Vec<ChangeHash>>,
    /// (actor, seq) not yet applied → the parked change with that actor and seq + 1.
    pub(crate) waiting_for_seq: HashMap<(ActorId, u64), Vec<ChangeHash>>,
    /// The (actor, seq) of every parked change.
    pub(crate) seqs: HashSet<(ActorId, u64)>,
    /// How many parked changes each actor has (actors with none are left out), so that a
    /// local change looks for queued claims on its seq only where there can be some.
    pub(crate) by_actor: HashMap<ActorId, u32>,
    pub(crate) next_arrival: u64,
    /// Total deps of parked changes (for the edge-capacity check).
    pub(crate) dep_count: u64,
}

impl Queue {
    /// Whether nothing is parked and nothing is waited for.
    pub(crate) fn is_empty(&self) -> bool {
        self.parked.is_empty()
            && self.waiting.is_empty()
            && self.waiting_for_seq.is_empty()
            && self.seqs.is_empty()
            && self.by_actor.is_empty()
    }

    /// Parks `meta`, waiting on `missing_deps` and, if `waits_for_prev_seq`, on the previous seq
    /// of its actor.
    pub(crate) fn park(
        &mut self,
        meta: ChangeMeta,
        missing_deps: Vec<ChangeHash>,
        waits_for_prev_seq: bool,
    ) {
        let hash = meta.hash;
        for dep in &missing_deps {
            self.waiting.entry(*dep).or_default().push(hash);
        }
        if waits_for_prev_seq {
            self.waiting_for_seq
                .entry((meta.actor.clone(), meta.seq.saturating_sub(1)))
                .or_default()
                .push(hash);
        }
        let missing = u32::try_from(missing_deps.len())
            .unwrap_or(u32::MAX)
            .saturating_add(u32::from(waits_for_prev_seq));
        self.seqs.insert((meta.actor.clone(), meta.seq));
        *self.by_actor.entry(meta.actor.clone()).or_default() += 1;
        self.dep_count += meta.deps.len() as u64;
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.parked.insert(
            hash,
            Parked {
                meta,
                arrival,
                missing,
            },
        );
    }

    /// Removes a change that became ready. Its entries in the reverse maps are already gone
    /// (each was removed when the dependency it stood for was applied).
    pub(crate) fn take_ready(&mut self, hash: &ChangeHash) -> Option<ChangeMeta> {
        let parked = self.parked.remove(hash)?;
        self.forget(&parked.meta);
        Some(parked.meta)
    }

    /// Removes a change that is not ready, with its entries in the reverse maps.
    pub(crate) fn discard(&mut self, hash: &ChangeHash) -> Option<ChangeMeta> {
        let parked = self.parked.remove(hash)?;
        let meta = parked.meta;
        for dep in &meta.deps {
            if let Some(list) = self.waiting.get_mut(dep) {
                list.retain(|h| h != hash);
                if list.is_empty() {
                    self.waiting.remove(dep);
                }
            }
        }
        let prev = (meta.actor.clone(), meta.seq.saturating_sub(1));
        if let Some(list) = self.waiting_for_seq.get_mut(&prev) {
            list.retain(|h| h != hash);
            if list.is_empty() {
                self.waiting_for_seq.remove(&prev);
            }
        }
        self.forget(&meta);
        Some(meta)
    }

    fn forget(&mut self, meta: &ChangeMeta) {
        self.seqs.remove(&(meta.actor.clone(), meta.seq));
        if let Some(n) = self.by_actor.get_mut(&meta.actor) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.by_actor.remove(&meta.actor);
            }
        }
        self.dep_count = self.dep_count.saturating_sub(meta.deps.len() as u64);
    }

    /// One of the things `hash` waits for has been applied; whether it is now ready.
    pub(crate) fn satisfy_one(&mut self, hash: &ChangeHash) -> bool {
        match self.parked.get_mut(hash) {
            Some(p) => {
                p.missing = p.missing.saturating_sub(1);
                p.missing == 0
            }
            None => false,
        }
    }

    /// Approximate heap bytes held (table entries and dependency lists).
    pub(crate) fn heap_bytes(&self) -> usize {
        let parked = self.parked.capacity() * (size_of::<(ChangeHash, Parked)>() + 1)
            + self
                .parked
                .values()
                .map(|p| p.meta.deps.capacity() * size_of::<ChangeHash>())
                .sum::<usize>();
        let waiting = self.waiting.capacity() * (size_of::<(ChangeHash, Vec<ChangeHash>)>() + 1)
            + self
                .waiting
                .values()
                .map(|l| l.capacity() * size_of::<ChangeHash>())
                .sum::<usize>();
        let seqs = (self.seqs.capacity() + self.by_actor.capacity())
            * (size_of::<(ActorId, u64)>() + 1)
            + self.waiting_for_seq.capacity()
                * (size_of::<((ActorId, u64), Vec<ChangeHash>)>() + 1 + size_of::<ChangeHash>());
        parked + waiting + seqs
    }
}
