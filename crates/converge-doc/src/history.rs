//! The changes a document holds: metadata per change, heads, per-actor seq, and clocks.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use converge_encoding::{Change, ChangeHash};

use crate::opset::Clock;

/// What the document remembers of one applied change.
#[derive(Clone, Debug)]
pub(crate) struct ChangeMeta {
    pub(crate) hash: ChangeHash,
    /// Doc-wide actor index of the author.
    pub(crate) actor: u32,
    pub(crate) max_op: u32,
    /// Indexes (into `History::changes`) of the deps, in the change's own dep order.
    pub(crate) deps: Vec<u32>,
    /// The change itself (its bytes as applied or committed). Boxed: a `Change` is 300 bytes
    /// and moving it around (and growing this vector) dominated applying small changes.
    pub(crate) change: Box<Change>,
}

/// Hashes a [`ChangeHash`] by its first eight bytes: SHA-256 output is already uniform, so
/// running SipHash over all 32 bytes again buys nothing. (Adversarial collisions would need
/// SHA-256 prefix collisions across changes a peer authored; the map stays correct, only
/// slower.)
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut buf = [0u8; 8];
        for (b, x) in buf.iter_mut().zip(bytes) {
            *b = *x;
        }
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(buf);
    }
}

/// A map keyed by change hash.
pub(crate) type HashIndex<V> = HashMap<ChangeHash, V, BuildHasherDefault<PrefixHasher>>;

/// All applied changes in application order (a topological order).
#[derive(Clone, Debug, Default)]
pub(crate) struct History {
    pub(crate) changes: Vec<ChangeMeta>,
    pub(crate) by_hash: HashIndex<u32>,
    /// Change indexes of the heads.
    pub(crate) heads: Vec<u32>,
    /// Per doc-wide actor index: change indexes in seq order.
    pub(crate) by_actor: Vec<Vec<u32>>,
}

impl History {
    /// Heads as hashes, sorted.
    pub(crate) fn head_hashes(&self) -> Vec<ChangeHash> {
        let mut out: Vec<ChangeHash> = self
            .heads
            .iter()
            .map(|&i| self.changes[i as usize].hash)
            .collect();
        out.sort_unstable();
        out
    }

    /// The next seq for an actor.
    pub(crate) fn next_seq(&self, actor: u32) -> u64 {
        self.by_actor
            .get(actor as usize)
            .map_or(0, |v| v.len() as u64)
            + 1
    }

    /// Records a change whose deps are all present.
    pub(crate) fn push(&mut self, meta: ChangeMeta) -> u32 {
        let idx = self.changes.len() as u32;
        self.heads.retain(|h| !meta.deps.contains(h));
        self.heads.push(idx);
        self.by_hash.insert(meta.hash, idx);
        let actor = meta.actor as usize;
        if self.by_actor.len() <= actor {
            self.by_actor.resize(actor + 1, Vec::new());
        }
        self.by_actor[actor].push(idx);
        self.changes.push(meta);
        idx
    }

    /// Forgets the changes from `len` on (batch rollback) and restores `heads`.
    pub(crate) fn truncate(&mut self, len: usize, heads: Vec<u32>) {
        while self.changes.len() > len {
            let Some(c) = self.changes.pop() else { break };
            self.by_hash.remove(&c.hash);
            if let Some(list) = self.by_actor.get_mut(c.actor as usize) {
                list.pop();
            }
        }
        self.heads = heads;
    }

    /// Change indexes of `heads`, or the first unknown hash.
    pub(crate) fn indexes(&self, heads: &[ChangeHash]) -> Result<Vec<u32>, ChangeHash> {
        heads
            .iter()
            .map(|h| self.by_hash.get(h).copied().ok_or(*h))
            .collect()
    }

    /// Marks every ancestor of `start` (inclusive) in a bitmap over change indexes.
    pub(crate) fn ancestors(&self, start: &[u32]) -> Vec<bool> {
        let mut seen = vec![false; self.changes.len()];
        let mut stack: Vec<u32> = start.to_vec();
        while let Some(i) = stack.pop() {
            let Some(slot) = seen.get_mut(i as usize) else {
                continue;
            };
            if *slot {
                continue;
            }
            *slot = true;
            stack.extend_from_slice(&self.changes[i as usize].deps);
        }
        seen
    }

    /// The clock covering exactly the ops of `heads` and their ancestors.
    pub(crate) fn clock(&self, heads: &[u32], actors: usize) -> Clock {
        let mut clock = vec![0u32; actors];
        for (i, inside) in self.ancestors(heads).into_iter().enumerate() {
            if inside {
                let c = &self.changes[i];
                if let Some(slot) = clock.get_mut(c.actor as usize) {
                    *slot = (*slot).max(c.max_op);
                }
            }
        }
        Clock(clock)
    }
}
