//! The order in which a new graph would apply some of this graph's changes handed to it in
//! one batch ([`ChangeGraph::batch_order`]), worked out on indexes.

use std::collections::VecDeque;

use super::{ChangeGraph, ChangeIdx};

impl ChangeGraph {
    /// The order in which an empty graph's [`ChangeGraph::insert_batch`] would apply the
    /// changes `changes` of this graph handed to it in that order: each once its deps and
    /// its actor's previous seq are applied, those waiting released breadth-first in
    /// arrival order, as the reference's queue releases them. `None` if one of them would
    /// be left waiting (a dep or a previous seq not among them), or is unknown or repeated.
    ///
    /// What inserting them into a new graph would say, without the new graph: nothing is
    /// hashed or copied (for half of the paper document's changes, building a new graph
    /// took 47-154 ms on a busy machine, timed inside `fork_at` in session 42).
    pub fn batch_order(&self, changes: &[ChangeIdx]) -> Option<Vec<ChangeIdx>> {
        let n = changes.len();
        let mut position = vec![u32::MAX; self.hashes.len()];
        for (k, c) in changes.iter().enumerate() {
            let slot = position.get_mut(c.get())?;
            if *slot != u32::MAX {
                return None;
            }
            *slot = u32::try_from(k).ok()?;
        }
        let at = |i: u32| position.get(i as usize).copied().filter(|&j| j != u32::MAX);
        let mut waits = BatchWaits::new(n);
        for (k, c) in changes.iter().enumerate() {
            let k = k as u32;
            for d in self.deps_of(c.0) {
                waits.wait_for_dep(k, at(d)?);
            }
            let seq = self.change_seq(c.0);
            if seq > 1 {
                let actor = self.change_actor.get(c.get())? as usize;
                let previous = *self.actor_changes.get(actor)?.get(seq as usize - 2)?;
                waits.wait_for_seq(k, Some(at(previous)?));
            }
        }
        let mut ready = waits.first_ready();
        let mut order = Vec::with_capacity(n);
        while let Some(k) = ready.pop_front() {
            order.push(*changes.get(k as usize)?);
            waits.release(k, &mut ready);
        }
        (order.len() == n).then_some(order)
    }
}

/// What the changes of a batch wait for before they can be applied, by position in the
/// batch, and their release as changes are applied: the reference's queue, for a batch met
/// by an empty queue ([`ChangeGraph::batch_order`] and the batch insert).
pub(super) struct BatchWaits {
    /// Per change: how many of its waits are open (deps with multiplicity, missing ones
    /// included, and its actor's previous seq).
    open: Vec<u32>,
    /// Per change: the change with its actor's next seq that waits for it (`u32::MAX`: none).
    next_seq: Vec<u32>,
    /// (dep, change waiting for it), grouped by dep by [`BatchWaits::first_ready`], for each
    /// dep in arrival order: those of change `j` are `edges[edge_start[j]..edge_start[j + 1]]`.
    edges: Vec<(u32, u32)>,
    edge_start: Vec<usize>,
}

impl BatchWaits {
    /// `n` changes that wait for nothing yet.
    pub(super) fn new(n: usize) -> Self {
        BatchWaits {
            open: vec![0; n],
            next_seq: vec![u32::MAX; n],
            edges: Vec::new(),
            edge_start: Vec::new(),
        }
    }

    fn open_one(&mut self, k: u32) {
        if let Some(o) = self.open.get_mut(k as usize) {
            *o = o.saturating_add(1);
        }
    }

    /// Change `k` waits for change `j` of the batch, a dep.
    pub(super) fn wait_for_dep(&mut self, k: u32, j: u32) {
        self.edges.push((j, k));
        self.open_one(k);
    }

    /// Change `k` waits for a dep that is not in the batch (or the graph): for ever.
    pub(super) fn wait_for_missing(&mut self, k: u32) {
        self.open_one(k);
    }

    /// Change `k` waits for its actor's previous seq, change `j` of the batch (`None`: not in
    /// the batch, for ever).
    pub(super) fn wait_for_seq(&mut self, k: u32, j: Option<u32>) {
        self.open_one(k);
        if let Some(slot) = j.and_then(|j| self.next_seq.get_mut(j as usize)) {
            *slot = k;
        }
    }

    /// Once every wait is known: the changes that wait for nothing, in arrival order.
    pub(super) fn first_ready(&mut self) -> VecDeque<u32> {
        self.edges.sort_unstable();
        let n = self.open.len();
        self.edge_start = Vec::with_capacity(n + 1);
        let mut e = 0;
        for j in 0..=n as u32 {
            while self.edges.get(e).is_some_and(|&(d, _)| d < j) {
                e += 1;
            }
            self.edge_start.push(e);
        }
        (0..n as u32)
            .filter(|&k| self.open.get(k as usize) == Some(&0))
            .collect()
    }

    /// Change `k` was applied: what it releases goes to the back of `ready`, as the queue
    /// releases it (the change with its actor's next seq, then its dependents in arrival
    /// order).
    pub(super) fn release(&mut self, k: u32, ready: &mut VecDeque<u32>) {
        let ku = k as usize;
        let first = self.edge_start.get(ku).copied().unwrap_or(0);
        let end = self.edge_start.get(ku + 1).copied().unwrap_or(first);
        let dependents = self.edges.get(first..end).unwrap_or_default().iter();
        let by_seq = self.next_seq.get(ku).copied().filter(|&w| w != u32::MAX);
        for w in by_seq.into_iter().chain(dependents.map(|&(_, w)| w)) {
            if let Some(o) = self.open.get_mut(w as usize)
                && *o > 0
            {
                *o -= 1;
                if *o == 0 {
                    ready.push_back(w);
                }
            }
        }
    }

    /// The changes still waiting, in arrival order.
    pub(super) fn still_waiting(&self) -> impl Iterator<Item = usize> + '_ {
        self.open
            .iter()
            .enumerate()
            .filter(|&(_, &o)| o > 0)
            .map(|(k, _)| k)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use converge_encoding::{ActorId, ChangeHash};

    use crate::graph::{ChangeGraph, ChangeIdx, ChangeMeta};

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn hash(n: usize, seed: u64) -> ChangeHash {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&(n as u64).to_le_bytes());
        b[8..16].copy_from_slice(&seed.to_le_bytes());
        ChangeHash(b)
    }

    /// A random history of `n` changes by up to four actors: each depends on a few earlier
    /// changes, most often on its actor's previous one but not always (so that some
    /// changes wait for their previous seq rather than for a dep).
    fn history(seed: u64, n: usize) -> Vec<ChangeMeta> {
        let mut s = seed | 1;
        let mut seqs = [0u64; 4];
        let mut last: [Option<usize>; 4] = [None; 4];
        let mut out: Vec<ChangeMeta> = Vec::new();
        for i in 0..n {
            let a = (rng(&mut s) % 4) as usize;
            seqs[a] += 1;
            let mut deps: Vec<ChangeHash> = Vec::new();
            if let Some(p) = last[a]
                && !rng(&mut s).is_multiple_of(5)
            {
                deps.push(out[p].hash);
            }
            for _ in 0..rng(&mut s) % 3 {
                if i > 0 {
                    let d = out[(rng(&mut s) as usize) % i].hash;
                    if !deps.contains(&d) {
                        deps.push(d);
                    }
                }
            }
            out.push(ChangeMeta {
                hash: hash(i, seed),
                actor: ActorId::from_bytes(&[a as u8 + 1]),
                seq: seqs[a],
                start_op: 1,
                max_op: 0,
                deps,
            });
            last[a] = Some(i);
        }
        out
    }

    /// `batch_order` says what inserting the changes into a new graph does: the same order,
    /// or `None` where some change would be left waiting.
    #[test]
    fn batch_order_is_a_new_graphs_order() {
        let (mut some, mut none) = (0, 0);
        for seed in 1..400u64 {
            let changes = history(seed, 10 + (seed as usize % 60));
            let mut g = ChangeGraph::new();
            g.insert_batch(changes.iter().cloned()).unwrap();
            assert_eq!(g.len(), changes.len(), "seed {seed}: the history applies");
            let mut s = seed.wrapping_mul(0x9e37_79b9) | 1;
            for round in 0..6 {
                // The changes under a few random heads, walked as `fork_at` walks them,
                // then now and then shuffled a little.
                let mut starts: Vec<u32> = (0..1 + rng(&mut s) % 3)
                    .map(|_| (rng(&mut s) % g.len() as u64) as u32)
                    .collect();
                starts.dedup();
                let mut seen = vec![false; g.len()];
                let mut stack = Vec::new();
                for &i in &starts {
                    if !seen[i as usize] {
                        seen[i as usize] = true;
                        stack.push(i);
                    }
                }
                let mut order = Vec::new();
                while let Some(i) = stack.pop() {
                    for d in g.change(ChangeIdx(i)).unwrap().dep_indexes() {
                        if !seen[d.get()] {
                            seen[d.get()] = true;
                            stack.push(d.0);
                        }
                    }
                    order.push(ChangeIdx(i));
                }
                order.reverse();
                if round % 2 == 1 {
                    for _ in 0..order.len() / 4 {
                        let (x, y) = (
                            rng(&mut s) as usize % order.len(),
                            rng(&mut s) as usize % order.len(),
                        );
                        order.swap(x, y);
                    }
                }
                let mut fresh = ChangeGraph::new();
                let applied = fresh
                    .insert_batch(order.iter().map(|&i| {
                        let c = g.change(i).unwrap();
                        changes.iter().find(|m| m.hash == c.hash()).unwrap().clone()
                    }))
                    .unwrap();
                let expected: Option<Vec<ChangeHash>> = (applied.len() == order.len()).then(|| {
                    applied
                        .iter()
                        .map(|&i| fresh.change(i).unwrap().hash())
                        .collect()
                });
                let got: Option<Vec<ChangeHash>> = g
                    .batch_order(&order)
                    .map(|o| o.iter().map(|&i| g.change(i).unwrap().hash()).collect());
                assert_eq!(got, expected, "seed {seed}, round {round}");
                match got {
                    Some(_) => some += 1,
                    None => none += 1,
                }
            }
        }
        // Both outcomes were tried.
        assert!(
            some > 500 && none > 50,
            "{some} orders, {none} left waiting"
        );
    }

    /// A repeated or unknown change has no order.
    #[test]
    fn repeats_and_unknown_changes_have_none() {
        let changes = history(7, 20);
        let mut g = ChangeGraph::new();
        g.insert_batch(changes).unwrap();
        assert_eq!(g.batch_order(&[ChangeIdx(0), ChangeIdx(0)]), None);
        assert_eq!(g.batch_order(&[ChangeIdx(99)]), None);
        assert_eq!(g.batch_order(&[]), Some(Vec::new()));
    }
}
