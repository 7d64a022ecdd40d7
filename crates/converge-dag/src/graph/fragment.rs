//! Fragments: automerge 0.12's experimental cut of a history into pieces named by head
//! hashes, for sync schemes that exchange whole pieces of history (sedimentree) rather than
//! change by change.
//!
//! A change's *level* is the number of zero bytes its hash starts with (one change in 256
//! has level 1 or more, one in 65,536 level 2 or more). A change of level ≥ 1 heads a
//! *cached* fragment: the changes below it down to the earlier fragments of at least its
//! level that it descends from (its *boundary*). Fragments of a lower level that a new one
//! descends from are dropped (superseded), as the reference drops them when it adds the
//! change. A change of level 0 that no cached fragment reaches is a *loose* fragment of its
//! own, its deps for boundary.
//!
//! The reference keeps its list of cached fragments up to date as changes arrive, one clock
//! per fragment. converge works the list out when it is first asked for (a load does not
//! pay for it) and keeps it, carried forward over the changes appended since at the next
//! call and dropped if the history shrinks (a rolled-back batch). The changes are added in
//! graph order, which is the reference's, so the list is its list. Clocks are compared as
//! the reference compares them: per actor, the highest seq among a change and its
//! ancestors.

use std::collections::VecDeque;
use std::ops::RangeBounds;

use converge_encoding::ChangeHash;

use super::ChangeGraph;

/// A section of the history named by its head hash (automerge 0.12's experimental
/// `Fragment`): see [`ChangeGraph::fragments`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// The change the fragment is named by, its newest.
    pub head: ChangeHash,
    /// The head's level: how many zero bytes its hash starts with.
    pub level: usize,
    /// Where the fragment stops: for a cached fragment the heads of the earlier fragments
    /// of at least its level that it descends from (newest first), for a loose one the
    /// change's deps.
    pub boundary: Vec<ChangeHash>,
    /// The members of level ≥ 1 other than the head.
    pub checkpoints: Vec<ChangeHash>,
    /// The changes of the fragment, the head first, then breadth first through deps (in
    /// each change's dep order) down to the boundary.
    pub members: Vec<ChangeHash>,
}

/// How many zero bytes `hash` starts with: the level of the fragment it heads.
pub fn fragment_level(hash: &ChangeHash) -> usize {
    hash.0.iter().take_while(|&&b| b == 0).count()
}

/// A cached fragment: its head, the heads of its boundary, and the head's seq clock.
#[derive(Clone, Debug)]
struct Cached {
    head: u32,
    deps: Vec<u32>,
    clock: Vec<u32>,
}

/// The cached fragments of the first `upto` changes, and the seq clock that covers them
/// all, as the graph keeps them between calls (see [`ChangeGraph`]'s `fragments` field).
#[derive(Debug, Default)]
pub(crate) struct FragmentCache {
    upto: usize,
    list: Vec<Cached>,
    top: Vec<u32>,
}

impl FragmentCache {
    /// Approximate heap bytes: a clock (a `u32` per actor) and the boundary of each listed
    /// fragment, and the clock over them all.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.list.capacity() * size_of::<Cached>()
            + self
                .list
                .iter()
                .map(|f| (f.clock.capacity() + f.deps.capacity()) * 4)
                .sum::<usize>()
            + self.top.capacity() * 4
    }
}

/// Whether seq clock `a` covers `b`: every actor's seq in `b` is at most its seq in `a`
/// (0 = none, covered by anything). Both are as long as the graph has actors; the
/// comparison runs over every actor without stopping early, which the compiler turns into
/// wide vector compares (a list of hundreds of fragments is compared with every new one,
/// across essay.amrg's 147 actors).
fn covers(a: &[u32], b: &[u32]) -> bool {
    let shared = a
        .iter()
        .zip(b)
        .fold(true, |all, (&have, &need)| all & (have >= need));
    shared
        && b.get(a.len()..)
            .is_none_or(|rest| rest.iter().all(|&s| s == 0))
}

/// Raises `into` to `from` actor by actor.
fn merge(into: &mut [u32], from: &[u32]) {
    for (a, &b) in into.iter_mut().zip(from) {
        *a = (*a).max(b);
    }
}

impl ChangeGraph {
    /// The fragments of the history at levels in `levels`, oldest first, as automerge
    /// 0.12's `fragments`: the cached fragments (level ≥ 1) in graph order, then, if
    /// `levels` holds 0, the loose changes (level 0, reached from the heads, in sorted
    /// order as the reference takes them, without entering a cached fragment), the one
    /// found last first.
    pub fn fragments(&self, levels: impl RangeBounds<usize>) -> Vec<Fragment> {
        let mut seen = vec![false; self.hashes.len()];
        let (mut out, top) = self.with_cached_fragments(|cached, top| {
            let out: Vec<Fragment> = cached
                .iter()
                .filter(|f| self.level_of(f.head).is_some_and(|l| levels.contains(&l)))
                .map(|f| self.export(f, &mut seen))
                .collect();
            (out, top.to_vec())
        });
        if levels.contains(&0) {
            let seeds: Vec<u32> = self
                .head_indexes()
                .filter(|(h, _)| fragment_level(h) == 0)
                .map(|(_, idx)| idx.0)
                .collect();
            // The reference lists the loose changes as found, then turns the whole list
            // round (to oldest first).
            let loose = self.breadth_first_above(seeds, &top, &mut seen);
            out.extend(loose.into_iter().rev().filter_map(|n| self.loose(n)));
        }
        out
    }

    /// The fragment `head` names (automerge 0.12's `get_fragment`): a loose fragment for a
    /// change of level 0, the cached fragment for a change of level ≥ 1 that heads one
    /// (`None` where a fragment of a higher level superseded it), `None` for an unknown
    /// hash.
    pub fn fragment(&self, head: &ChangeHash) -> Option<Fragment> {
        let n = self.index.get(&self.hashes, head)?;
        if fragment_level(head) == 0 {
            return self.loose(n);
        }
        self.with_cached_fragments(|cached, _| {
            let at = cached.binary_search_by_key(&n, |f| f.head).ok()?;
            let mut seen = vec![false; self.hashes.len()];
            cached.get(at).map(|f| self.export(f, &mut seen))
        })
    }

    /// The level of change `n`'s hash.
    fn level_of(&self, n: u32) -> Option<usize> {
        self.hashes.get(n as usize).map(fragment_level)
    }

    /// Runs `f` on the cached fragments (in graph order) and the seq clock that covers
    /// them all, brought up to date first: the changes appended since the last call are
    /// added as the reference adds them (each of level >= 1 takes in the listed fragments
    /// of a lower level that its clock covers, and names those of its level or above).
    fn with_cached_fragments<R>(&self, f: impl FnOnce(&[Cached], &[u32]) -> R) -> R {
        // A thread that panicked while holding the lock may have left the list half brought
        // up to date: start it again then.
        let mut cache = self.fragments.lock().unwrap_or_else(|poisoned| {
            let mut cache = poisoned.into_inner();
            *cache = FragmentCache::default();
            self.fragments.clear_poison();
            cache
        });
        let FragmentCache { upto, list, top } = &mut *cache;
        top.resize(self.actors.len(), 0);
        for (n, hash) in self.hashes.iter().enumerate().skip(*upto) {
            let level = fragment_level(hash);
            if level == 0 {
                continue;
            }
            let clock = self.seq_clock_walk([n as u32]);
            let mut deps = Vec::new();
            let mut superseded = Vec::new();
            for (k, f) in list.iter().enumerate().rev() {
                if covers(&clock, &f.clock) {
                    if self.level_of(f.head).unwrap_or(0) >= level {
                        deps.push(f.head);
                    } else {
                        superseded.push(k);
                    }
                }
            }
            // Descending, so each removal leaves the others' places alone.
            for k in superseded {
                list.remove(k);
            }
            merge(top, &clock);
            list.push(Cached {
                head: n as u32,
                deps,
                clock,
            });
        }
        *upto = self.hashes.len();
        f(list, top)
    }

    /// The loose fragment of change `n`: itself, its deps for boundary.
    fn loose(&self, n: u32) -> Option<Fragment> {
        let head = *self.hashes.get(n as usize)?;
        Some(Fragment {
            head,
            level: fragment_level(&head),
            boundary: self.change(super::ChangeIdx(n))?.deps().collect(),
            checkpoints: Vec::new(),
            members: vec![head],
        })
    }

    /// A cached fragment as the reference exports it: its members found breadth first from
    /// the head down to the clock of its boundary.
    fn export(&self, f: &Cached, seen: &mut [bool]) -> Fragment {
        let head = self
            .hashes
            .get(f.head as usize)
            .copied()
            .unwrap_or_default();
        let clock = if f.deps.is_empty() {
            vec![0u32; self.actors.len()]
        } else {
            self.seq_clock_walk(f.deps.iter().copied())
        };
        let members: Vec<ChangeHash> = self
            .breadth_first_above(vec![f.head], &clock, seen)
            .into_iter()
            .filter_map(|n| self.hashes.get(n as usize).copied())
            .collect();
        Fragment {
            head,
            level: fragment_level(&head),
            boundary: f
                .deps
                .iter()
                .filter_map(|&d| self.hashes.get(d as usize).copied())
                .collect(),
            checkpoints: members
                .iter()
                .copied()
                .filter(|h| *h != head && fragment_level(h) > 0)
                .collect(),
            members,
        }
    }

    /// The changes from `seeds` breadth first through deps (each change's deps in its
    /// order), entering only changes whose seq is above `clock`'s for their actor; the seeds
    /// themselves always (the reference's `bfs_until_clock`). `seen` (one flag per
    /// change, all false) is left as it was found: a walk of a few members does not clear a
    /// flag per change of the history.
    fn breadth_first_above(&self, seeds: Vec<u32>, clock: &[u32], seen: &mut [bool]) -> Vec<u32> {
        let mut queue: VecDeque<u32> = VecDeque::with_capacity(seeds.len());
        for s in seeds {
            if let Some(slot) = seen.get_mut(s as usize)
                && !*slot
            {
                *slot = true;
                queue.push_back(s);
            }
        }
        let mut out = Vec::new();
        while let Some(n) = queue.pop_front() {
            out.push(n);
            for d in self.deps_of(n) {
                let Some(slot) = seen.get_mut(d as usize) else {
                    continue;
                };
                if *slot {
                    continue;
                }
                let actor = self.change_actor.get(d as usize).unwrap_or(0) as usize;
                let above = clock
                    .get(actor)
                    .is_none_or(|&c| u64::from(c) < self.change_seq(d));
                if above {
                    *slot = true;
                    queue.push_back(d);
                }
            }
        }
        // Every change flagged was queued, so is in `out`.
        for &n in &out {
            if let Some(slot) = seen.get_mut(n as usize) {
                *slot = false;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use converge_encoding::ActorId;

    use super::*;
    use crate::ChangeMeta;

    /// A hash of `level` leading zero bytes, told apart by `n`.
    fn hash(level: usize, n: u8) -> ChangeHash {
        let mut h = [0xffu8; 32];
        for b in h.iter_mut().take(level) {
            *b = 0;
        }
        h[31] = n;
        ChangeHash(h)
    }

    /// Appends the `i`th change (seq `i + 1`, one op) of the one actor, `hash`, on `dep`.
    fn append(graph: &mut ChangeGraph, i: usize, hash: ChangeHash, dep: Option<ChangeHash>) {
        graph
            .insert(ChangeMeta {
                hash,
                actor: ActorId::from_bytes(&[1; 16]),
                seq: i as u64 + 1,
                start_op: i as u64 + 1,
                max_op: i as u64 + 1,
                deps: dep.into_iter().collect(),
            })
            .unwrap();
    }

    /// One actor's chain of changes with the given hashes.
    fn chain(hashes: &[ChangeHash]) -> ChangeGraph {
        let mut graph = ChangeGraph::new();
        for (i, h) in hashes.iter().enumerate() {
            append(&mut graph, i, *h, i.checked_sub(1).map(|p| hashes[p]));
        }
        graph
    }

    #[test]
    fn a_higher_level_takes_in_the_lower_ones_below_it() {
        // a(1) b(0) c(1) d(0) e(2) f(0) g(1) h(0)
        let h = [
            hash(1, 1),
            hash(0, 2),
            hash(1, 3),
            hash(0, 4),
            hash(2, 5),
            hash(0, 6),
            hash(1, 7),
            hash(0, 8),
        ];
        let graph = chain(&h);
        let all = graph.fragments(..);
        let summary: Vec<(ChangeHash, Vec<ChangeHash>, Vec<ChangeHash>)> = all
            .iter()
            .map(|f| (f.head, f.boundary.clone(), f.members.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                // e took in a and c (level 1 below level 2): everything from e down.
                (h[4], vec![], vec![h[4], h[3], h[2], h[1], h[0]]),
                // g stops at e (level 2 >= 1).
                (h[6], vec![h[4]], vec![h[6], h[5]]),
                // h is loose: no fragment holds it.
                (h[7], vec![h[6]], vec![h[7]]),
            ]
        );
        assert_eq!(all[0].checkpoints, [h[2], h[0]]);
        assert_eq!(all[0].level, 2);
        // a and c were taken in: no fragment of theirs now.
        assert_eq!(graph.fragment(&h[0]), None);
        assert_eq!(graph.fragment(&h[2]), None);
        assert_eq!(graph.fragment(&h[6]).as_ref(), Some(&all[1]));
        // A change of level 0 is a fragment of its own, inside a cached one or not.
        assert_eq!(graph.fragment(&h[1]).map(|f| f.members), Some(vec![h[1]]));
        assert_eq!(graph.fragment(&hash(0, 99)), None);
        // Levels select.
        assert_eq!(graph.fragments(2..).len(), 1);
        assert_eq!(graph.fragments(0..1).len(), 1);
        assert!(graph.fragments(0..0).is_empty());
    }

    /// The kept list follows the history: carried forward over appended changes, and
    /// worked out again after a truncation, even to the same length with another change.
    #[test]
    fn the_kept_list_follows_the_history() {
        let h: Vec<ChangeHash> = (0..12u8)
            .map(|i| hash(usize::from(i % 3 == 0), i))
            .collect();
        let mut graph = chain(&h[..6]);
        let _ = graph.fragments(..);
        for (i, x) in h.iter().enumerate().skip(6) {
            append(&mut graph, i, *x, Some(h[i - 1]));
        }
        assert_eq!(graph.fragments(..), chain(&h).fragments(..));
        // Back to 9 changes, then a change of level 2 in place of the tenth.
        graph.truncate(9);
        let other = hash(2, 200);
        append(&mut graph, 9, other, Some(h[8]));
        let mut fresh = h[..9].to_vec();
        fresh.push(other);
        let expected = chain(&fresh).fragments(..);
        assert_eq!(graph.fragments(..), expected);
        assert_eq!(expected.len(), 1, "the level-2 change took in the rest");
    }

    #[test]
    fn clocks_cover_actor_by_actor() {
        assert!(covers(&[3, 2], &[3, 0]));
        assert!(covers(&[3, 2], &[0, 0]));
        assert!(!covers(&[3, 2], &[4, 0]));
        assert!(!covers(&[0, 2], &[1, 2]));
        assert!(covers(&[1], &[1, 0]));
        assert!(!covers(&[1], &[1, 1]));
    }
}
