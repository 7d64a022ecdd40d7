//! The change graph: applied changes in dense, insertion (topological) order, plus the causal
//! queue of changes still waiting for dependencies.

use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};

use converge_encoding::{ActorId, ChangeHash};
use smallvec::SmallVec;

use crate::error::DagError;
use crate::hash_index::HashIndex;
use crate::heads::HeadSet;
use crate::narrow::{BlockedEnds, NarrowColumn, cloned_with_room};
use crate::queue::Queue;

mod fragment;
mod replay;

pub use fragment::{Fragment, fragment_level};
use replay::BatchWaits;

/// The metadata of one change that the graph needs, as a change decoder (or a local commit)
/// produces it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChangeMeta {
    /// The change's hash (its identity).
    pub hash: ChangeHash,
    /// The change's author.
    pub actor: ActorId,
    /// Position of the change among its actor's changes, from 1.
    pub seq: u64,
    /// Counter of the change's first op.
    pub start_op: u64,
    /// Counter of the change's last op (`start_op - 1` for a change without ops).
    pub max_op: u64,
    /// Hashes of the changes this one depends on, in the change's order.
    pub deps: Vec<ChangeHash>,
}

impl ChangeMeta {
    /// The metadata borrowed, for [`ChangeGraph::insert_batch_refs`].
    pub fn borrowed(&self) -> ChangeMetaRef<'_> {
        ChangeMetaRef {
            hash: self.hash,
            actor: &self.actor,
            seq: self.seq,
            start_op: self.start_op,
            max_op: self.max_op,
            deps: &self.deps,
        }
    }
}

/// [`ChangeMeta`] borrowed from wherever the caller keeps its changes (a decoded change holds
/// all of it), for [`ChangeGraph::insert_batch_refs`], which copies only what it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChangeMetaRef<'a> {
    /// The change's hash (its identity).
    pub hash: ChangeHash,
    /// The change's author.
    pub actor: &'a ActorId,
    /// Position of the change among its actor's changes, from 1.
    pub seq: u64,
    /// Counter of the change's first op.
    pub start_op: u64,
    /// Counter of the change's last op (`start_op - 1` for a change without ops).
    pub max_op: u64,
    /// Hashes of the changes this one depends on, in the change's order.
    pub deps: &'a [ChangeHash],
}

/// What a batch given to [`ChangeGraph::insert_batch_refs`] holds: anything the graph can
/// read a change's metadata from. A caller passes its own changes (a decoded
/// [`converge_encoding::Change`] holds all of it) without building a [`ChangeMetaRef`] per
/// change first.
pub trait AsChangeMeta {
    /// The change's metadata, borrowed.
    fn change_meta(&self) -> ChangeMetaRef<'_>;
}

impl AsChangeMeta for ChangeMetaRef<'_> {
    fn change_meta(&self) -> ChangeMetaRef<'_> {
        *self
    }
}

impl AsChangeMeta for ChangeMeta {
    fn change_meta(&self) -> ChangeMetaRef<'_> {
        self.borrowed()
    }
}

impl AsChangeMeta for converge_encoding::Change {
    fn change_meta(&self) -> ChangeMetaRef<'_> {
        ChangeMetaRef {
            hash: self.hash(),
            actor: self.actor(),
            seq: self.seq(),
            start_op: self.start_op(),
            max_op: self.max_op(),
            deps: self.deps(),
        }
    }
}

impl ChangeMetaRef<'_> {
    /// An owned copy.
    pub fn to_meta(&self) -> ChangeMeta {
        ChangeMeta {
            hash: self.hash,
            actor: self.actor.clone(),
            seq: self.seq,
            start_op: self.start_op,
            max_op: self.max_op,
            deps: self.deps.to_vec(),
        }
    }
}

/// A change that [`ChangeGraph::insert_batch_refs`] applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Its index in the graph.
    pub index: ChangeIdx,
    /// Its position in the batch, or `None` for a change that an earlier call parked.
    pub batch_position: Option<usize>,
}

/// Dense index of an applied change: its position in graph (insertion, topological) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeIdx(u32);

/// Where a [`ChangeGraph`] stood ([`ChangeGraph::mark`]): how many changes it had applied,
/// and their max op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphMark {
    len: usize,
    max_op: u64,
}

/// The causal queue as saved by [`ChangeGraph::queue_snapshot`] (the default is an empty
/// queue).
#[derive(Clone, Debug, Default)]
pub struct QueueSnapshot(Queue);

impl ChangeIdx {
    /// The index at `position` (lookups with it fail if no change is there).
    pub fn new(position: u32) -> Self {
        ChangeIdx(position)
    }

    /// The position, from 0.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// Dense index of an actor in a [`ChangeGraph`], in order of its first applied change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorIdx(u32);

impl ActorIdx {
    /// The actor index at `position` (lookups with it fail if no actor is there).
    pub fn new(position: u32) -> Self {
        ActorIdx(position)
    }

    /// The position, from 0.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// Per-actor highest seq (a "seq clock"), indexed by [`ActorIdx`]; 0 = none of its changes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Clock {
    seqs: Vec<u32>,
}

impl Clock {
    /// The highest seq of `actor` in the clock (0 if none).
    pub fn get(&self, actor: ActorIdx) -> u64 {
        self.seqs.get(actor.get()).map_or(0, |&s| u64::from(s))
    }

    /// `(actor, seq)` for every actor with a non-zero seq, in actor index order.
    pub fn iter(&self) -> impl Iterator<Item = (ActorIdx, u64)> + '_ {
        self.seqs
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s != 0)
            .map(|(a, &s)| (ActorIdx(a as u32), u64::from(s)))
    }
}

/// The most changes (applied plus queued) a graph holds: indexes are `u32` and `u32::MAX`
/// stays free as a sentinel.
const MAX_CHANGES: u64 = u32::MAX as u64 - 1;
/// The most dependency edges (applied plus queued).
const MAX_EDGES: u64 = u32::MAX as u64;
/// Minimum distance, in changes, between two clock checkpoints (see [`ChangeGraph`]).
const CHECKPOINT_INTERVAL: usize = 64;

/// Indexes of one change's deps.
type DepIndexes = SmallVec<[u32; 4]>;

/// Up to this many actors in a batch are told apart by a scan, more by a table.
const FEW_ACTORS: usize = 8;
/// Up to this many changes admitted from a batch are found by a scan, more by a table.
const FEW_CHANGES: usize = 8;

/// The changes of a batch that [`ChangeGraph::admit`] let through (not applied, not queued,
/// not earlier in the batch; no seq taken), in batch order; "admitted index" is the position
/// in this list.
struct Admitted {
    /// Their positions in the batch.
    positions: Vec<usize>,
    /// Their hashes, with a lookup from hash to admitted index.
    hashes: BatchHashes,
    /// Per admitted change, its actor's number among the batch's actors.
    actor: Vec<u32>,
    /// Per batch actor, its highest applied seq before the batch.
    applied_seq: Vec<u64>,
    /// (batch actor, seq, admitted index) of every admitted change, sorted.
    keys: Vec<(u32, u64, u32)>,
}

impl Admitted {
    fn with_capacity(n: usize) -> Self {
        Admitted {
            positions: Vec::with_capacity(n),
            hashes: BatchHashes::with_capacity(n),
            actor: Vec::with_capacity(n),
            applied_seq: Vec::new(),
            keys: Vec::with_capacity(n),
        }
    }
}

/// The hashes of the admitted changes of a batch, in order, found by a scan while they are
/// few and by a [`HashIndex`] beyond that.
struct BatchHashes {
    hashes: Vec<ChangeHash>,
    index: Option<HashIndex>,
    capacity: usize,
}

impl BatchHashes {
    fn with_capacity(capacity: usize) -> Self {
        BatchHashes {
            hashes: Vec::with_capacity(capacity),
            index: None,
            capacity,
        }
    }

    /// The admitted index of `hash`.
    fn get(&self, hash: &ChangeHash) -> Option<u32> {
        match &self.index {
            Some(index) => index.get(&self.hashes, hash),
            None => self.hashes.iter().position(|h| h == hash).map(|p| p as u32),
        }
    }

    /// The hash at an admitted index.
    fn at(&self, k: usize) -> Option<&ChangeHash> {
        self.hashes.get(k)
    }

    /// Appends `hash` unless it is there already; returns whether it was appended.
    fn push_new(&mut self, hash: ChangeHash) -> bool {
        match &mut self.index {
            Some(index) => {
                self.hashes.push(hash);
                let idx = (self.hashes.len() - 1) as u32;
                if index.insert_unless_present(&self.hashes, idx).is_some() {
                    self.hashes.pop();
                    return false;
                }
                true
            }
            None => {
                if self.hashes.contains(&hash) {
                    return false;
                }
                self.hashes.push(hash);
                if self.hashes.len() > FEW_CHANGES {
                    let mut index = HashIndex::with_capacity(self.capacity);
                    for i in 0..self.hashes.len() as u32 {
                        index.insert(&self.hashes, i);
                    }
                    self.index = Some(index);
                }
                true
            }
        }
    }
}

/// A dep of an admitted change, as [`ChangeGraph::release_batch`] resolves it.
#[derive(Clone, Copy)]
enum BatchDep {
    /// Applied before the batch, at this index.
    Applied(u32),
    /// The admitted change at this admitted index.
    Batch(u32),
    /// Neither: the change waits in the queue.
    Missing,
}

/// The graph of a document's changes, keyed by [`ChangeHash`], with its causal queue.
///
/// # Storage
/// Applied changes get dense indexes ([`ChangeIdx`]) in insertion order, which is a
/// topological order (a change is applied only after all its deps) and the order the reference
/// uses for "changes since heads" and for a document's changes. Each hash is stored once; the
/// hash → index table holds only `u32`s. Per change: actor index, seq, start op, max op, and
/// deps as `u32` indexes in one flat array (CSR). Per actor: the change index of each seq.
/// Heads are maintained on every insertion.
///
/// Every `CHECKPOINT_INTERVAL` (64) changes, or every *actors* changes if there are more
/// actors, the seq clock of the newest change is stored, which bounds the walk that computes a
/// clock (see [`Self::changes_since`]). A clock at heads near the current ones (a view at the
/// heads before the last change, a peer one keystroke behind) is found from the current
/// heads instead: every actor's last seq, lowered for the few changes the heads do not reach.
///
/// # Causal queue
/// [`Self::insert_batch`] mirrors the reference's `apply_changes`: duplicates are skipped, an
/// (actor, seq) clash is an error, the rest are parked and every parked change whose
/// dependencies are all applied is released, breadth-first from the batch's ready changes, in
/// arrival order (the reference's order, so documents list changes identically). A batch met
/// by an empty queue (the usual case: the changes of one sync message) is released with its
/// edges in vectors indexed by batch position, and only the changes left waiting enter the
/// queue's hash tables ([`Self::insert_batch_refs`] also skips copying the metadata).
///
/// # Cost
/// Insertion: amortized O(deps) hash-table operations, plus O(log heads) for the head set.
/// [`Self::heads`]: O(1) to start, sorted. [`Self::changes_since`]: O(answer log answer) plus
/// the clock walk, which visits only the changes near `heads` until every actor's clock is
/// settled (a checkpoint ends the walk on its branch), never the whole history in practice
/// (3 µs for 10,000 changes since a head of a 1,000,000-change linear history).
/// [`Self::missing_deps`]: O(queued deps). [`Self::not_ancestors_of`]: O(log of the walk)
/// for each change between the answer's lowest and the heads (all changes for no `heads`).
/// Nothing recurses; walks use explicit heaps or stacks.
///
/// # Contiguous seqs
/// Besides its deps, a change waits for its actor's previous seq. Every change the reference
/// writes depends (transitively) on its actor's previous change, so this never delays a
/// well-formed change; it guarantees that each actor's seqs in the graph are exactly `1..=n`,
/// which the reference assumes without checking.
#[derive(Debug)]
pub struct ChangeGraph {
    hashes: Vec<ChangeHash>,
    index: HashIndex,
    /// Per change: its interned actor, one byte a change while there are at most 256 actors.
    change_actor: NarrowColumn,
    /// Per change: its last op counter as a `u32` (op counters fit in practice, and the
    /// bytes matter at a change per keystroke), and its op count (`max - start + 1`) in a
    /// narrow column (one byte while changes have fewer than 256 ops); [`WIDE`] in
    /// `max_ops` for a change whose counters do not fit so, which are in `wide_ops`.
    op_counts: NarrowColumn,
    max_ops: Vec<u32>,
    /// (change index, start op, max op) of the changes marked [`WIDE`], by increasing index.
    wide_ops: Vec<(u32, u64, u64)>,
    /// Where each change's deps end in `dep_targets` (they start where the previous
    /// change's end).
    dep_ends: BlockedEnds,
    dep_targets: Vec<u32>,
    /// Bit `i`: change `i`'s one dep is change `i - 1`, which `dep_targets` leaves out (a
    /// linear run of changes, as an app that commits as it goes makes).
    chained: Vec<u64>,
    actors: Vec<ActorId>,
    actor_lookup: HashMap<ActorId, u32>,
    /// Per actor, the index of seq `s` at position `s - 1`.
    actor_changes: Vec<Vec<u32>>,
    heads: HeadSet,
    max_op: u64,
    /// (change index, seq clock of that change), by increasing index.
    checkpoints: Vec<(u32, Box<[u32]>)>,
    next_checkpoint: usize,
    queue: Queue,
    /// The fragments worked out so far (`fragment.rs`): nothing until they are first asked
    /// for, then carried forward over the changes appended since, and dropped when the
    /// history shrinks. Behind a lock because a read (`&self`) brings it up to date.
    fragments: std::sync::Mutex<fragment::FragmentCache>,
}

/// In `max_ops`: the change's counters are in `wide_ops`.
const WIDE: u32 = u32::MAX;

/// A copy (of a fork, say) keeps room for the changes that follow it in its per-change
/// tables: cloned exactly, its first change copied them all again (a fork of the paper
/// document: 4.8 ms for its first put, then 0.002 ms).
impl Clone for ChangeGraph {
    fn clone(&self) -> Self {
        let room = self.hashes.len() / ROOM_AFTER_CLONE + 16;
        let edges = self.dep_targets.len() / ROOM_AFTER_CLONE + 16;
        ChangeGraph {
            hashes: cloned_with_room(&self.hashes, room),
            index: self.index.clone(),
            change_actor: self.change_actor.clone_with_room(room),
            op_counts: self.op_counts.clone_with_room(room),
            max_ops: cloned_with_room(&self.max_ops, room),
            wide_ops: self.wide_ops.clone(),
            dep_ends: self.dep_ends.clone_with_room(room),
            dep_targets: cloned_with_room(&self.dep_targets, edges),
            chained: cloned_with_room(&self.chained, room.div_ceil(64)),
            actors: self.actors.clone(),
            actor_lookup: self.actor_lookup.clone(),
            actor_changes: self
                .actor_changes
                .iter()
                .map(|seqs| cloned_with_room(seqs, seqs.len() / ROOM_AFTER_CLONE + 16))
                .collect(),
            heads: self.heads.clone(),
            max_op: self.max_op,
            checkpoints: self.checkpoints.clone(),
            next_checkpoint: self.next_checkpoint,
            queue: self.queue.clone(),
            // A copy works its fragments out again if asked (a fork rarely is).
            fragments: std::sync::Mutex::default(),
        }
    }
}

/// A clone of a graph has room for this fraction of its changes more (plus 16).
const ROOM_AFTER_CLONE: usize = 32;

/// What an applied change adds to the graph's per-change tables besides its hash and deps.
#[derive(Clone, Copy)]
struct ChangeRow {
    /// Interned actor.
    actor: u32,
    seq: u64,
    start_op: u64,
    max_op: u64,
}

impl Default for ChangeGraph {
    fn default() -> Self {
        ChangeGraph {
            hashes: Vec::new(),
            index: HashIndex::default(),
            change_actor: NarrowColumn::default(),
            op_counts: NarrowColumn::default(),
            max_ops: Vec::new(),
            wide_ops: Vec::new(),
            dep_ends: BlockedEnds::default(),
            dep_targets: Vec::new(),
            chained: Vec::new(),
            actors: Vec::new(),
            actor_lookup: HashMap::new(),
            actor_changes: Vec::new(),
            heads: HeadSet::default(),
            max_op: 0,
            checkpoints: Vec::new(),
            next_checkpoint: CHECKPOINT_INTERVAL - 1,
            queue: Queue::default(),
            fragments: std::sync::Mutex::default(),
        }
    }
}

/// Seqs of changes asked for mostly in application order, as a save or a scan of changes
/// asks: the graph keeps no seq per change (a change's seq is its place in its actor's
/// list), so a lone lookup is a binary search, but the cursor remembers where each actor's
/// last answer was and tries the place after it first. From [`ChangeGraph::seq_cursor`].
#[derive(Debug)]
pub struct SeqCursor<'a> {
    graph: &'a ChangeGraph,
    /// Per actor: the place in its list after the last change asked for.
    next: Vec<u32>,
}

impl SeqCursor<'_> {
    /// The seq of change `idx` (0 if the graph has none).
    pub fn seq(&mut self, idx: ChangeIdx) -> u64 {
        let graph = self.graph;
        let Some(actor) = graph.change_actor.get(idx.0 as usize).map(|a| a as usize) else {
            return 0;
        };
        if self.next.len() <= actor {
            self.next.resize(actor + 1, 0);
        }
        let Some(next) = self.next.get_mut(actor) else {
            return 0;
        };
        let list = graph
            .actor_changes
            .get(actor)
            .map_or(&[][..], Vec::as_slice);
        let seq = if list.get(*next as usize) == Some(&idx.0) {
            u64::from(*next) + 1
        } else {
            graph.change_seq(idx.0)
        };
        // A list's length fits a `u32`: it holds `u32` change indexes, all different.
        *next = seq as u32;
        seq
    }
}

/// One applied change, borrowed from its graph.
#[derive(Clone, Copy, Debug)]
pub struct ChangeRef<'a> {
    graph: &'a ChangeGraph,
    idx: u32,
    actor: &'a ActorId,
}

impl<'a> ChangeRef<'a> {
    /// The change's position in graph order.
    #[inline]
    pub fn index(&self) -> ChangeIdx {
        ChangeIdx(self.idx)
    }

    /// The change's hash.
    #[inline]
    pub fn hash(&self) -> ChangeHash {
        self.graph
            .hashes
            .get(self.idx as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The change's actor, as an index into the graph's actors.
    #[inline]
    pub fn actor_index(&self) -> ActorIdx {
        ActorIdx(self.graph.change_actor.get(self.idx as usize).unwrap_or(0))
    }

    /// The change's actor.
    #[inline]
    pub fn actor(&self) -> &'a ActorId {
        self.actor
    }

    /// The change's seq.
    #[inline]
    pub fn seq(&self) -> u64 {
        self.graph.change_seq(self.idx)
    }

    /// Counter of the change's first op.
    #[inline]
    pub fn start_op(&self) -> u64 {
        self.graph.op_range(self.idx).0
    }

    /// Counter of the change's last op.
    #[inline]
    pub fn max_op(&self) -> u64 {
        self.graph.op_range(self.idx).1
    }

    /// The change's deps as indexes, in the change's order.
    #[inline]
    pub fn dep_indexes(&self) -> impl ExactSizeIterator<Item = ChangeIdx> + 'a {
        self.graph.deps_of(self.idx).map(ChangeIdx)
    }

    /// The change's deps, in the change's order.
    #[inline]
    pub fn deps(&self) -> impl ExactSizeIterator<Item = ChangeHash> + 'a {
        let graph = self.graph;
        graph
            .deps_of(self.idx)
            .map(move |d| graph.hashes.get(d as usize).copied().unwrap_or_default())
    }
}

impl ChangeGraph {
    /// An empty graph with an empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    // ---------------------------------------------------------------------------------------
    // Insertion

    /// Inserts one change: [`Self::insert_batch`] of one.
    pub fn insert(&mut self, change: ChangeMeta) -> Result<Vec<ChangeIdx>, DagError> {
        Ok(self
            .insert_batch_refs(&[change.borrowed()])?
            .into_iter()
            .map(|a| a.index)
            .collect())
    }

    /// Inserts a batch of changes, as the reference's `apply_changes` does, and returns the
    /// changes applied as a result (from the batch or released from the queue), in the order
    /// they were applied.
    ///
    /// A change already applied, queued or earlier in the batch is skipped. A change whose
    /// (actor, seq) is taken gives [`DagError::DuplicateSeq`] and nothing of the batch is
    /// inserted; if the clash is with an applied change, queued changes of that actor with a
    /// higher seq, and queued changes depending on them, are discarded first, as the reference
    /// does.
    pub fn insert_batch(
        &mut self,
        changes: impl IntoIterator<Item = ChangeMeta>,
    ) -> Result<Vec<ChangeIdx>, DagError> {
        let changes: Vec<ChangeMeta> = changes.into_iter().collect();
        Ok(self
            .insert_batch_refs(&changes)?
            .into_iter()
            .map(|a| a.index)
            .collect())
    }

    /// [`Self::insert_batch`] of borrowed metadata, which is copied only for changes that are
    /// parked. Says for each applied change where it came from (its position in `changes`, or
    /// the queue), so that a caller keeping more per change finds it without a lookup.
    pub fn insert_batch_refs<M: AsChangeMeta>(
        &mut self,
        changes: &[M],
    ) -> Result<Vec<Applied>, DagError> {
        self.insert_refs(changes, true)
    }

    /// [`Self::insert_batch_refs`]; `in_batch` allows [`Self::release_batch`] (tests compare it
    /// with [`Self::release_through_queue`]).
    fn insert_refs<M: AsChangeMeta>(
        &mut self,
        changes: &[M],
        in_batch: bool,
    ) -> Result<Vec<Applied>, DagError> {
        if in_batch
            && let [one] = changes
            && self.queue.is_empty()
        {
            return self.insert_one(&one.change_meta());
        }
        let admitted = self.admit(changes)?;
        if in_batch && self.queue.is_empty() {
            Ok(self.release_batch(changes, &admitted))
        } else {
            Ok(self.release_through_queue(changes, &admitted))
        }
    }

    /// A batch of one change met by an empty queue (one-by-one delivery): the checks of
    /// [`Self::admit`] and the release, without the batch's bookkeeping. Nothing can be
    /// released after it, so it is applied if ready and parked otherwise.
    fn insert_one(&mut self, change: &ChangeMetaRef<'_>) -> Result<Vec<Applied>, DagError> {
        if self.contains(&change.hash) {
            return Ok(Vec::new());
        }
        let applied_seq = self.seq_for_actor(change.actor);
        // `<=` makes seq 0 a clash, as in the reference. (The queue is empty: nothing to
        // discard.)
        if change.seq <= applied_seq {
            return Err(duplicate(change));
        }
        self.check_capacity(1, change.deps.len() as u64)?;
        let waits_for_prev_seq = change.seq > 1 && applied_seq < change.seq - 1;
        match (!waits_for_prev_seq)
            .then(|| self.dep_indexes(change.deps))
            .flatten()
        {
            Some(deps) => {
                let actor = self.intern_ref(change.actor);
                let index = self.apply_interned(
                    change.hash,
                    ChangeRow {
                        actor,
                        seq: change.seq,
                        start_op: change.start_op,
                        max_op: change.max_op,
                    },
                    &deps,
                );
                Ok(vec![Applied {
                    index,
                    batch_position: Some(0),
                }])
            }
            None => {
                let missing = change
                    .deps
                    .iter()
                    .filter(|d| !self.contains(d))
                    .copied()
                    .collect();
                self.queue
                    .park(change.to_meta(), missing, waits_for_prev_seq);
                Ok(Vec::new())
            }
        }
    }

    /// The general release: parks every admitted change that is not ready (deps applied and
    /// its actor's previous seq applied), then applies the ready ones and releases parked
    /// changes whose last missing dependency was applied, breadth-first from the batch's
    /// ready changes, in arrival order (the reference's order).
    fn release_through_queue<M: AsChangeMeta>(
        &mut self,
        changes: &[M],
        admitted: &Admitted,
    ) -> Vec<Applied> {
        // Changes of this batch parked here, by hash: released, they keep their position.
        let mut parked_here: HashMap<ChangeHash, usize> = HashMap::new();
        // Ready changes carry their deps' indexes, looked up once.
        let mut ready: VecDeque<(ChangeMeta, DepIndexes, Option<usize>)> = VecDeque::new();
        for &pos in &admitted.positions {
            let Some(change) = changes.get(pos).map(M::change_meta) else {
                continue;
            };
            let waits_for_prev_seq =
                change.seq > 1 && self.seq_for_actor(change.actor) < change.seq - 1;
            let deps = (!waits_for_prev_seq)
                .then(|| self.dep_indexes(change.deps))
                .flatten();
            match deps {
                Some(deps) => ready.push_back((change.to_meta(), deps, Some(pos))),
                None => {
                    let missing = change
                        .deps
                        .iter()
                        .filter(|d| !self.contains(d))
                        .copied()
                        .collect();
                    parked_here.insert(change.hash, pos);
                    self.queue
                        .park(change.to_meta(), missing, waits_for_prev_seq);
                }
            }
        }

        let mut applied = Vec::new();
        while let Some((change, deps, batch_position)) = ready.pop_front() {
            let hash = change.hash;
            // The implicit previous-seq wait first: for a well-formed change it is never the
            // last thing satisfied, so the order of `ready` is the reference's.
            let by_seq = if self.queue.waiting_for_seq.is_empty() {
                None
            } else {
                self.queue
                    .waiting_for_seq
                    .remove(&(change.actor.clone(), change.seq))
            };
            applied.push(Applied {
                index: self.apply(change, &deps),
                batch_position,
            });
            let by_hash = if self.queue.waiting.is_empty() {
                None
            } else {
                self.queue.waiting.remove(&hash)
            };
            for dependent in by_seq.into_iter().chain(by_hash).flatten() {
                if self.queue.satisfy_one(&dependent)
                    && let Some(meta) = self.queue.take_ready(&dependent)
                {
                    // Every dep is applied now, so the lookup succeeds.
                    let deps = self.dep_indexes(&meta.deps).unwrap_or_default();
                    let position = parked_here.remove(&meta.hash);
                    ready.push_back((meta, deps, position));
                }
            }
        }
        applied
    }

    /// [`Self::release_through_queue`] for a batch met by an empty queue: the same changes
    /// applied in the same order and the same ones parked (with the same waits, in the same
    /// arrival order), but the batch's dependency edges are followed in vectors indexed by
    /// admitted position instead of hash tables, and only the changes left waiting are
    /// copied into the queue.
    fn release_batch<M: AsChangeMeta>(
        &mut self,
        changes: &[M],
        admitted: &Admitted,
    ) -> Vec<Applied> {
        let n = admitted.positions.len();
        let change_at = |k: usize| {
            admitted
                .positions
                .get(k)
                .and_then(|&p| changes.get(p))
                .map(M::change_meta)
        };
        // What each admitted change waits for, and its deps, resolved.
        let mut waits = BatchWaits::new(n);
        let mut deps: Vec<BatchDep> = Vec::new();
        let mut dep_ends: Vec<usize> = Vec::with_capacity(n);
        for k in 0..n {
            let Some(change) = change_at(k) else {
                dep_ends.push(deps.len());
                continue;
            };
            // The previous admitted change is the usual dep (a linear history).
            let previous = k.checked_sub(1);
            let previous_hash = previous.and_then(|p| admitted.hashes.at(p));
            for d in change.deps {
                let local = match previous {
                    Some(p) if previous_hash == Some(d) => Some(p as u32),
                    _ => admitted.hashes.get(d),
                };
                let dep = match local {
                    Some(j) => {
                        waits.wait_for_dep(k as u32, j);
                        BatchDep::Batch(j)
                    }
                    None => match self.index.get(&self.hashes, d) {
                        Some(g) => BatchDep::Applied(g),
                        None => {
                            waits.wait_for_missing(k as u32);
                            BatchDep::Missing
                        }
                    },
                };
                deps.push(dep);
            }
            dep_ends.push(deps.len());
            let actor = admitted.actor.get(k).copied().unwrap_or(0);
            let applied_seq = admitted
                .applied_seq
                .get(actor as usize)
                .copied()
                .unwrap_or(0);
            if change.seq > 1 && applied_seq < change.seq - 1 {
                // The admitted change with the previous seq, usually the previous one.
                let prev = (actor, change.seq - 1);
                let previous_is_it = previous.is_some_and(|p| {
                    admitted.actor.get(p) == Some(&actor)
                        && change_at(p).is_some_and(|c| c.seq == prev.1)
                });
                let j = if previous_is_it {
                    previous.map(|p| p as u32)
                } else {
                    admitted
                        .keys
                        .binary_search_by(|&(a, s, _)| (a, s).cmp(&prev))
                        .ok()
                        .and_then(|p| admitted.keys.get(p))
                        .map(|&(_, _, j)| j)
                };
                waits.wait_for_seq(k as u32, j);
            }
        }

        let mut ready = waits.first_ready();
        let mut index_of = vec![u32::MAX; n];
        let mut applied = Vec::with_capacity(n);
        let len_before = self.hashes.len();
        let mut dep_indexes: DepIndexes = SmallVec::new();
        while let Some(k) = ready.pop_front() {
            let ku = k as usize;
            let Some(change) = change_at(ku) else {
                continue;
            };
            let start = ku
                .checked_sub(1)
                .and_then(|p| dep_ends.get(p))
                .copied()
                .unwrap_or(0);
            let end = dep_ends.get(ku).copied().unwrap_or(start);
            dep_indexes.clear();
            for dep in deps.get(start..end).unwrap_or_default() {
                match dep {
                    BatchDep::Applied(g) => dep_indexes.push(*g),
                    BatchDep::Batch(j) => {
                        dep_indexes.push(index_of.get(*j as usize).copied().unwrap_or(u32::MAX));
                    }
                    // A ready change has none.
                    BatchDep::Missing => {}
                }
            }
            let actor = self.intern_ref(change.actor);
            let index = self.append(
                change.hash,
                ChangeRow {
                    actor,
                    seq: change.seq,
                    start_op: change.start_op,
                    max_op: change.max_op,
                },
                &dep_indexes,
            );
            if let Some(slot) = index_of.get_mut(ku) {
                *slot = index.0;
            }
            applied.push(Applied {
                index,
                batch_position: admitted.positions.get(ku).copied(),
            });
            waits.release(k, &mut ready);
        }

        self.update_heads_after(len_before);

        // The rest waits in the queue, in arrival order.
        for k in waits.still_waiting() {
            let Some(change) = change_at(k) else {
                continue;
            };
            let missing = change
                .deps
                .iter()
                .filter(|d| !self.contains(d))
                .copied()
                .collect();
            let waits_for_prev_seq =
                change.seq > 1 && self.seq_for_actor(change.actor) < change.seq - 1;
            self.queue
                .park(change.to_meta(), missing, waits_for_prev_seq);
        }
        applied
    }

    /// Brings the heads up to date after changes were appended from position `from` on
    /// without touching them ([`Self::append`]): the new changes no new change depends on
    /// become heads, and heads a new change depends on stop being heads (what
    /// [`Self::apply_interned`] does one change at a time).
    fn update_heads_after(&mut self, from: usize) {
        let len = self.hashes.len();
        let mut depended = vec![false; len.saturating_sub(from)];
        let mut old_deps: Vec<u32> = Vec::new();
        for i in from..len {
            for d in self.deps_of(i as u32) {
                match (d as usize).checked_sub(from) {
                    Some(new) => {
                        if let Some(flag) = depended.get_mut(new) {
                            *flag = true;
                        }
                    }
                    None => old_deps.push(d),
                }
            }
        }
        for d in old_deps {
            if let Some(h) = self.hashes.get(d as usize) {
                self.heads.remove(h);
            }
        }
        for (i, &flag) in (from..len).zip(&depended) {
            if !flag && let Some(h) = self.hashes.get(i) {
                self.heads.insert(*h, i as u32);
            }
        }
    }

    /// The checks of [`Self::insert_batch`] before anything changes: drops duplicates, rejects
    /// clashes and overflow, and returns the changes to insert.
    fn admit<'a, M: AsChangeMeta>(&mut self, changes: &'a [M]) -> Result<Admitted, DagError> {
        let mut admitted = Admitted::with_capacity(changes.len());
        // The batch's actors: the previous change's first, then a scan while they are few,
        // then a table.
        let mut names: Vec<&'a ActorId> = Vec::new();
        let mut table: HashMap<&'a ActorId, u32> = HashMap::new();
        let mut last: Option<(&'a ActorId, u32)> = None;
        // The first change whose seq is taken: by an applied change (`true`) or a queued one.
        let mut refused: Option<(ChangeMetaRef<'a>, bool)> = None;
        let mut batch_deps = 0u64;
        for (pos, change) in changes.iter().map(M::change_meta).enumerate() {
            if self.contains(&change.hash)
                || (!self.queue.parked.is_empty() && self.queue.parked.contains_key(&change.hash))
                || !admitted.hashes.push_new(change.hash)
            {
                continue;
            }
            let actor = match last {
                Some((name, a)) if name == change.actor => a,
                _ => {
                    let found = if table.is_empty() {
                        names
                            .iter()
                            .position(|n| *n == change.actor)
                            .map(|p| p as u32)
                    } else {
                        table.get(change.actor).copied()
                    };
                    let a = found.unwrap_or_else(|| {
                        let a = names.len() as u32;
                        names.push(change.actor);
                        if names.len() > FEW_ACTORS {
                            if table.is_empty() {
                                table.extend(names.iter().enumerate().map(|(i, n)| (*n, i as u32)));
                            } else {
                                table.insert(change.actor, a);
                            }
                        }
                        admitted.applied_seq.push(self.seq_for_actor(change.actor));
                        a
                    });
                    last = Some((change.actor, a));
                    a
                }
            };
            let applied_seq = admitted
                .applied_seq
                .get(actor as usize)
                .copied()
                .unwrap_or(0);
            // `<=` makes seq 0 a clash, as in the reference.
            if change.seq <= applied_seq {
                refused = Some((change, true));
                break;
            }
            if !self.queue.seqs.is_empty()
                && self
                    .queue
                    .seqs
                    .contains(&(change.actor.clone(), change.seq))
            {
                refused = Some((change, false));
                break;
            }
            admitted
                .keys
                .push((actor, change.seq, admitted.positions.len() as u32));
            admitted.actor.push(actor);
            admitted.positions.push(pos);
            batch_deps += change.deps.len() as u64;
        }
        admitted.keys.sort_unstable();
        // The first admitted change whose (actor, seq) an earlier admitted change claims comes
        // before `refused`: it is the error.
        let clash = admitted
            .keys
            .windows(2)
            .filter_map(|w| match w {
                [x, y] if (x.0, x.1) == (y.0, y.1) => Some(y.2),
                _ => None,
            })
            .min();
        if let Some(change) = clash
            .and_then(|k| admitted.positions.get(k as usize))
            .and_then(|&p| changes.get(p))
        {
            return Err(duplicate(&change.change_meta()));
        }
        if let Some((change, by_applied)) = refused {
            if by_applied {
                self.discard_queued_from(change.actor, change.seq.saturating_add(1));
            }
            return Err(duplicate(&change));
        }
        self.check_capacity(admitted.positions.len(), batch_deps)?;
        Ok(admitted)
    }

    /// Refuses `changes` more changes with `deps` more dependency edges if the graph and
    /// queue together would then exceed the index space.
    fn check_capacity(&self, changes: usize, deps: u64) -> Result<(), DagError> {
        let count = (self.hashes.len() + self.queue.parked.len() + changes) as u64;
        if count > MAX_CHANGES {
            return Err(DagError::CapacityExceeded {
                what: "changes",
                count,
                limit: MAX_CHANGES,
            });
        }
        let edges = self.dep_targets.len() as u64 + self.queue.dep_count + deps;
        if edges > MAX_EDGES {
            return Err(DagError::CapacityExceeded {
                what: "dependency edges",
                count: edges,
                limit: MAX_EDGES,
            });
        }
        Ok(())
    }

    /// The indexes of `deps`, if all are applied.
    fn dep_indexes(&self, deps: &[ChangeHash]) -> Option<DepIndexes> {
        deps.iter()
            .map(|d| self.index.get(&self.hashes, d))
            .collect()
    }

    /// Appends a ready change to the graph. The caller has checked capacity, found the index
    /// of every dep (`deps`) and that `change.seq` is its actor's next seq.
    fn apply(&mut self, change: ChangeMeta, deps: &[u32]) -> ChangeIdx {
        let actor = self.intern(change.actor);
        self.apply_interned(
            change.hash,
            ChangeRow {
                actor,
                seq: change.seq,
                start_op: change.start_op,
                max_op: change.max_op,
            },
            deps,
        )
    }

    /// [`Self::apply`] with the actor already interned.
    fn apply_interned(&mut self, hash: ChangeHash, row: ChangeRow, deps: &[u32]) -> ChangeIdx {
        self.update_heads(hash, self.hashes.len() as u32, deps);
        self.append(hash, row, deps)
    }

    /// Makes `hash`, the change at index `idx`, a head and its deps (`deps`, indexes) no
    /// longer heads.
    fn update_heads(&mut self, hash: ChangeHash, idx: u32, deps: &[u32]) {
        self.heads.advance(hash, idx, deps, &self.hashes);
    }

    /// [`Self::apply_interned`] except for the heads, which the caller updates.
    fn append(&mut self, hash: ChangeHash, row: ChangeRow, deps: &[u32]) -> ChangeIdx {
        self.hashes.push(hash);
        // In the small table of new entries: a batch's next changes find it with one probe.
        self.index.push_recent(&self.hashes);
        self.append_indexed(row, deps)
    }

    /// [`Self::append`] for a change whose hash is already the last of `hashes` and in the
    /// index.
    fn append_indexed(&mut self, row: ChangeRow, deps: &[u32]) -> ChangeIdx {
        let ChangeRow {
            actor,
            seq,
            start_op,
            max_op,
        } = row;
        let idx = (self.hashes.len() - 1) as u32;
        let word = idx as usize / 64;
        if self.chained.len() <= word {
            self.chained.resize(word + 1, 0);
        }
        if Self::stored_edges(idx as usize, deps) == 0 && !deps.is_empty() {
            if let Some(w) = self.chained.get_mut(word) {
                *w |= 1 << (idx % 64);
            }
        } else {
            self.dep_targets.extend_from_slice(deps);
        }
        self.dep_ends.push(self.dep_targets.len() as u32);
        self.change_actor.push(actor);
        // Seqs are not kept: an actor's applied changes have seqs 1, 2, ... in order (a
        // change waits for its actor's previous seq), so a change's seq is its place in
        // its actor's list (`change_seq`).
        debug_assert_eq!(
            Some(seq),
            self.actor_changes
                .get(actor as usize)
                .map(|l| l.len() as u64 + 1)
        );
        let count = max_op
            .checked_add(1)
            .and_then(|end| end.checked_sub(start_op));
        match (u32::try_from(max_op), count.map(u32::try_from)) {
            (Ok(max), Some(Ok(count))) if max != WIDE => {
                self.op_counts.push(count);
                self.max_ops.push(max);
            }
            _ => {
                self.op_counts.push(0);
                self.max_ops.push(WIDE);
                self.wide_ops.push((idx, start_op, max_op));
            }
        }
        self.max_op = self.max_op.max(max_op);
        if let Some(list) = self.actor_changes.get_mut(actor as usize) {
            list.push(idx);
        }
        if idx as usize >= self.next_checkpoint {
            let clock = self.seq_clock_walk([idx]);
            self.checkpoints.push((idx, clock.into_boxed_slice()));
            self.next_checkpoint = idx as usize + CHECKPOINT_INTERVAL.max(self.actors.len());
        }
        ChangeIdx(idx)
    }

    /// The seq of change `idx` (0 if there is none): its place in its actor's list, which
    /// holds the actor's changes in seq order from seq 1 (see [`Self::append_indexed`]).
    /// The list's indexes increase from 0 or more, so the place is at most `idx`: the
    /// newest change, and any change of a history whose earlier changes are all its actor's
    /// (one author), is found at once, any other by a binary search below `idx`.
    fn change_seq(&self, idx: u32) -> u64 {
        let Some(list) = self
            .change_actor
            .get(idx as usize)
            .and_then(|a| self.actor_changes.get(a as usize))
        else {
            return 0;
        };
        if list.last() == Some(&idx) {
            return list.len() as u64;
        }
        let below = list.get(..=idx as usize).unwrap_or(list);
        if below.last() == Some(&idx) {
            return below.len() as u64;
        }
        below.binary_search(&idx).map_or(0, |at| at as u64 + 1)
    }

    /// The first and last op counters of change `idx` ((0, 0) if there is none).
    #[inline]
    fn op_range(&self, idx: u32) -> (u64, u64) {
        let i = idx as usize;
        match (self.max_ops.get(i), self.op_counts.get(i)) {
            (Some(&WIDE), _) => self
                .wide_ops
                .binary_search_by_key(&idx, |w| w.0)
                .ok()
                .and_then(|at| self.wide_ops.get(at))
                .map_or((0, 0), |w| (w.1, w.2)),
            (Some(&max), Some(count)) => (u64::from(max) + 1 - u64::from(count), u64::from(max)),
            _ => (0, 0),
        }
    }

    fn intern(&mut self, actor: ActorId) -> u32 {
        if let Some(&a) = self.actor_lookup.get(&actor) {
            return a;
        }
        let a = self.actors.len() as u32;
        self.actors.push(actor.clone());
        self.actor_lookup.insert(actor, a);
        self.actor_changes.push(Vec::new());
        a
    }

    /// [`Self::intern`] by reference, trying the newest change's actor first (runs of one
    /// actor are the common case in local commits and loads).
    fn intern_ref(&mut self, actor: &ActorId) -> u32 {
        match self.lookup_actor(actor) {
            Some(a) => a,
            None => self.intern(actor.clone()),
        }
    }

    /// How many dependency edges the graph stores for a change appended at index `idx` with
    /// `deps` (indexes of earlier changes): all of them, except that a single dep on the
    /// change just before is kept as a bit. [`Self::reserve`] takes their sum.
    pub fn stored_edges(idx: usize, deps: &[u32]) -> usize {
        match deps {
            [d] if idx.checked_sub(1) == Some(*d as usize) => 0,
            _ => deps.len(),
        }
    }

    /// Makes room for `changes` more applied changes with `deps` stored dependency edges in
    /// all ([`Self::stored_edges`]), so that appending them (a loaded document's changes,
    /// whose number is known) does not grow and copy the per-change tables again and again.
    /// The hash index still grows as
    /// it fills: while it is small its random probes stay in cache, and sizing it for the
    /// whole load at once made loading the paper document ~12 % slower (measured again with
    /// deferred placement and growth in slot order: no better).
    pub fn reserve(&mut self, changes: usize, deps: usize) {
        self.hashes.reserve_exact(changes);
        self.change_actor.reserve_exact(changes);
        self.op_counts.reserve_exact(changes);
        self.max_ops.reserve_exact(changes);
        self.dep_ends.reserve_exact(changes);
        self.dep_targets.reserve_exact(deps);
        let words = self.hashes.len().saturating_add(changes).div_ceil(64);
        self.chained
            .reserve_exact(words.saturating_sub(self.chained.len()));
    }

    /// Appends one change known to be ready, without the batch machinery of
    /// [`Self::insert_batch`]: for local commits and for loading a whole document, whose
    /// changes come with their deps as indexes. `deps` are positions of applied changes.
    ///
    /// `hash` must be the hash of a change by `actor` with `seq`, as every change hash is:
    /// the hash covers both, so an applied change with this hash has this actor and seq and
    /// the seq check refuses it. (The hash is therefore not looked up before its entry goes
    /// into the hash index's small table of new entries, see `HashIndex::push_recent`.)
    ///
    /// Refused with [`DagError::NotReady`] (and nothing changes) if the hash is queued, a dep
    /// is not applied, `seq` is not the actor's next seq (so also if the change is applied),
    /// or a queued change waits for this change or claims its (actor, seq): releasing queued
    /// changes is [`Self::insert_batch`]'s job. A local commit calls
    /// [`Self::discard_queued_from`] first, as the reference does.
    pub fn push_ready(
        &mut self,
        hash: ChangeHash,
        actor: &ActorId,
        seq: u64,
        start_op: u64,
        max_op: u64,
        deps: &[u32],
    ) -> Result<ChangeIdx, DagError> {
        let not_ready = |reason| DagError::NotReady { hash, reason };
        let len = self.hashes.len();
        if deps.iter().any(|&d| d as usize >= len) {
            return Err(not_ready("a dependency is not applied"));
        }
        let known = self.lookup_actor(actor);
        let applied = known
            .and_then(|a| self.actor_changes.get(a as usize))
            .map_or(0, |v| v.len() as u64);
        if seq != applied.saturating_add(1) {
            return Err(not_ready("the seq is not the actor's next"));
        }
        if !self.queue.parked.is_empty()
            && (self.queue.parked.contains_key(&hash)
                || self.queue.waiting.contains_key(&hash)
                || self.queue.seqs.contains(&(actor.clone(), seq))
                || self
                    .queue
                    .waiting_for_seq
                    .contains_key(&(actor.clone(), seq)))
        {
            return Err(not_ready("the queue holds or waits for the change"));
        }
        let changes = (len + self.queue.parked.len() + 1) as u64;
        if changes > MAX_CHANGES {
            return Err(DagError::CapacityExceeded {
                what: "changes",
                count: changes,
                limit: MAX_CHANGES,
            });
        }
        let edges = (self.dep_targets.len() + deps.len()) as u64 + self.queue.dep_count;
        if edges > MAX_EDGES {
            return Err(DagError::CapacityExceeded {
                what: "dependency edges",
                count: edges,
                limit: MAX_EDGES,
            });
        }
        // An applied change with this hash has the same actor and seq (the hash covers
        // both), so it failed the seq check above: the hash is new. While placement is held
        // (a bulk load) the check looks among the placed hashes only: scanning the held ones
        // on every push made a debug build's load quadratic in its changes (2.1 s for one
        // 4 KB fuzz input; the fuzzer replayed its corpus at 6 inputs a second).
        debug_assert!(
            if self.index.is_held() {
                self.index.get_placed(&self.hashes, &hash).is_none()
            } else {
                !self.contains(&hash)
            },
            "an applied hash passed the seq check"
        );
        let idx = self.hashes.len() as u32;
        self.hashes.push(hash);
        self.index.push_recent(&self.hashes);
        let actor = match known {
            Some(a) => a,
            None => self.intern(actor.clone()),
        };
        self.update_heads(hash, idx, deps);
        Ok(self.append_indexed(
            ChangeRow {
                actor,
                seq,
                start_op,
                max_op,
            },
            deps,
        ))
    }

    /// Forgets the applied changes from position `len` on (the newest ones), as if they had
    /// never been inserted: heads, per-actor lists, actors first seen in them, the hash
    /// index, the max op and clock checkpoints are restored. The queue is left alone (see
    /// [`Self::queue_snapshot`]). Used to roll back a batch the caller could not complete.
    /// Cost: O(removed changes and their deps) plus a scan of the dep edges after the oldest
    /// change that becomes a head again, and of the max ops of the changes that stay
    /// ([`Self::truncate_to`] skips that scan).
    pub fn truncate(&mut self, len: usize) {
        if self.truncate_all_but_max_op(len) {
            self.max_op = (0..self.max_ops.len() as u32)
                .map(|i| self.op_range(i).1)
                .max()
                .unwrap_or(0);
        }
    }

    /// Where the graph stands now, to go back to with [`Self::truncate_to`].
    pub fn mark(&self) -> GraphMark {
        GraphMark {
            len: self.hashes.len(),
            max_op: self.max_op,
        }
    }

    /// [`Self::truncate`] back to `mark`, which the graph gave while it held the changes it
    /// holds now up to `mark`'s length (it only grew since): the max op is the mark's, so
    /// no change that stays is read for it. Rolling back a refused batch so costs the
    /// batch, not the history (a document of 259,779 changes took 0.2 ms for its scan).
    pub fn truncate_to(&mut self, mark: GraphMark) {
        if self.truncate_all_but_max_op(mark.len) {
            self.max_op = mark.max_op;
        }
    }

    /// [`Self::truncate`] but for the max op; whether anything was removed.
    fn truncate_all_but_max_op(&mut self, len: usize) -> bool {
        let old = self.hashes.len();
        if len >= old {
            return false;
        }
        // Dropped changes may have taken in fragments that stay: worked out again if asked.
        *self
            .fragments
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            fragment::FragmentCache::default();
        self.index.truncate(&self.hashes, len as u32);
        // Deps of removed changes that stay: the candidates to become heads again.
        let mut candidates: Vec<u32> = Vec::new();
        for i in (len..old).rev() {
            if let Some(h) = self.hashes.get(i) {
                self.heads.remove(h);
            }
            candidates.extend(self.deps_of(i as u32).filter(|&d| (d as usize) < len));
            if let Some(a) = self.change_actor.get(i)
                && let Some(list) = self.actor_changes.get_mut(a as usize)
            {
                list.pop();
            }
        }
        // Actors are numbered in order of their first change: those left without changes
        // are the newest.
        while self.actor_changes.last().is_some_and(Vec::is_empty) {
            self.actor_changes.pop();
            if let Some(a) = self.actors.pop() {
                self.actor_lookup.remove(&a);
            }
        }
        let edges = self.dep_ends.start(len).unwrap_or(0) as usize;
        self.dep_targets.truncate(edges);
        self.dep_ends.truncate(len);
        self.chained.truncate(len.div_ceil(64));
        if let Some(last) = self.chained.last_mut()
            && !len.is_multiple_of(64)
        {
            *last &= (1u64 << (len % 64)) - 1;
        }
        self.hashes.truncate(len);
        self.change_actor.truncate(len);
        self.op_counts.truncate(len);
        self.max_ops.truncate(len);
        let wide = self.wide_ops.partition_point(|w| (w.0 as usize) < len);
        self.wide_ops.truncate(wide);
        candidates.sort_unstable();
        candidates.dedup();
        if let Some(&oldest) = candidates.first() {
            // A remaining dependent of a candidate comes after it in graph order.
            let depended: HashSet<u32> = (oldest + 1..len as u32)
                .flat_map(|i| self.deps_of(i))
                .filter(|d| candidates.binary_search(d).is_ok())
                .collect();
            for c in candidates {
                if !depended.contains(&c)
                    && let Some(h) = self.hashes.get(c as usize)
                {
                    self.heads.insert(*h, c);
                }
            }
        }
        self.checkpoints.retain(|(i, _)| (*i as usize) < len);
        self.next_checkpoint = match self.checkpoints.last() {
            Some((i, _)) => *i as usize + CHECKPOINT_INTERVAL.max(self.actors.len()),
            None => CHECKPOINT_INTERVAL - 1,
        };
        true
    }

    /// A copy of the causal queue, to put back with [`Self::restore_queue`] (rolling back a
    /// batch together with [`Self::truncate`]).
    pub fn queue_snapshot(&self) -> QueueSnapshot {
        QueueSnapshot(self.queue.clone())
    }

    /// Puts back a queue saved by [`Self::queue_snapshot`]. The caller restores the applied
    /// changes to what they were then (with [`Self::truncate`]) first.
    pub fn restore_queue(&mut self, snapshot: QueueSnapshot) {
        self.queue = snapshot.0;
    }

    /// Whether a queued change waits for the change `hash`, by `actor` with `seq` (as a dep,
    /// or as its actor's previous seq): only then can applying it release queued changes.
    pub fn is_waited_for(&self, hash: &ChangeHash, actor: &ActorId, seq: u64) -> bool {
        !self.queue.parked.is_empty()
            && (self.queue.waiting.contains_key(hash)
                || self
                    .queue
                    .waiting_for_seq
                    .contains_key(&(actor.clone(), seq)))
    }

    /// Takes one queued change out of the queue (whatever waits for it stays queued); `None`
    /// if it is not queued. Rolls back the parking of a batch that applied nothing.
    pub fn discard_queued(&mut self, hash: &ChangeHash) -> Option<ChangeMeta> {
        self.queue.discard(hash)
    }

    /// Discards queued changes of `actor` with seq `>= seq`, and queued changes that depend on
    /// them (transitively); returns them in arrival order. A local change that claims `seq`
    /// calls this, as the reference does, so incompatible queued branches cannot later clash.
    pub fn discard_queued_from(&mut self, actor: &ActorId, seq: u64) -> Vec<ChangeMeta> {
        if !self.queue.by_actor.contains_key(actor) {
            // No queued change of the actor: nothing claims its seqs (a local change
            // checked every queued change here, each commit, while a queue waited).
            return Vec::new();
        }
        let mut doomed: HashSet<ChangeHash> = self
            .queue
            .parked
            .values()
            .filter(|p| &p.meta.actor == actor && p.meta.seq >= seq)
            .map(|p| p.meta.hash)
            .collect();
        let mut todo: Vec<ChangeHash> = doomed.iter().copied().collect();
        while let Some(hash) = todo.pop() {
            if let Some(dependents) = self.queue.waiting.get(&hash) {
                for d in dependents {
                    if doomed.insert(*d) {
                        todo.push(*d);
                    }
                }
            }
        }
        let mut removed: Vec<(u64, ChangeMeta)> = doomed
            .iter()
            .filter_map(|h| {
                let arrival = self.queue.parked.get(h)?.arrival;
                Some((arrival, self.queue.discard(h)?))
            })
            .collect();
        removed.sort_by_key(|(arrival, _)| *arrival);
        removed.into_iter().map(|(_, meta)| meta).collect()
    }

    // ---------------------------------------------------------------------------------------
    // Lookups

    /// The number of applied changes.
    #[inline]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether no change is applied.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `hash` is applied (queued changes do not count).
    pub fn contains(&self, hash: &ChangeHash) -> bool {
        self.index.get(&self.hashes, hash).is_some()
    }

    /// The index of an applied change.
    pub fn index_of(&self, hash: &ChangeHash) -> Option<ChangeIdx> {
        self.index.get(&self.hashes, hash).map(ChangeIdx)
    }

    /// An applied change by index.
    #[inline]
    pub fn change(&self, idx: ChangeIdx) -> Option<ChangeRef<'_>> {
        let actor = self.change_actor.get(idx.get())?;
        Some(ChangeRef {
            graph: self,
            idx: idx.0,
            actor: self.actors.get(actor as usize)?,
        })
    }

    /// An applied change by hash.
    pub fn change_by_hash(&self, hash: &ChangeHash) -> Option<ChangeRef<'_>> {
        self.index_of(hash).and_then(|i| self.change(i))
    }

    /// The hashes of all applied changes, in graph order.
    #[inline]
    pub fn hashes(&self) -> &[ChangeHash] {
        &self.hashes
    }

    /// All applied changes in graph (insertion, topological) order.
    pub fn iter(&self) -> impl Iterator<Item = ChangeRef<'_>> + '_ {
        // `change` finds every index below `len`; the fallback is never taken.
        (0..self.hashes.len() as u32).map_while(|idx| self.change(ChangeIdx(idx)))
    }

    /// The heads (applied changes no applied change depends on), sorted.
    pub fn heads(&self) -> impl ExactSizeIterator<Item = ChangeHash> + '_ {
        self.heads.iter().map(|(h, _)| h)
    }

    /// Until [`Self::release_index`], the hashes of changes appended by
    /// [`Self::push_ready`] are not placed in the hash index but wait at its end, where a
    /// lookup finds them by a scan: for appending many changes whose deps come as indexes
    /// (a loaded document's), whose placement then costs one pass at the end instead of a
    /// random write into the table amid the work of every 64th change. Hold it only around
    /// such a run: lookups meanwhile are linear.
    pub fn hold_index(&mut self) {
        self.index.hold();
    }

    /// Ends [`Self::hold_index`], placing the held hashes.
    pub fn release_index(&mut self) {
        self.index.release(&self.hashes);
    }

    /// The heads with their indexes, sorted by hash.
    #[inline]
    pub fn head_indexes(&self) -> impl ExactSizeIterator<Item = (ChangeHash, ChangeIdx)> + '_ {
        self.heads.iter().map(|(h, idx)| (h, ChangeIdx(idx)))
    }

    /// Whether `heads` are exactly the current heads (in any order, without repeats).
    pub fn heads_are(&self, heads: &[ChangeHash]) -> bool {
        heads.len() == self.heads.len() && heads.iter().all(|h| self.heads.contains(h))
    }

    /// The largest max op of any applied change (0 if none).
    #[inline]
    pub fn max_op(&self) -> u64 {
        self.max_op
    }

    /// The actors of applied changes, by [`ActorIdx`].
    #[inline]
    pub fn actors(&self) -> &[ActorId] {
        &self.actors
    }

    /// An actor by index.
    #[inline]
    pub fn actor(&self, actor: ActorIdx) -> Option<&ActorId> {
        self.actors.get(actor.get())
    }

    /// The index of an actor with applied changes.
    pub fn actor_index(&self, actor: &ActorId) -> Option<ActorIdx> {
        self.lookup_actor(actor).map(ActorIdx)
    }

    /// The interned number of `actor`. The author of the newest change is checked first:
    /// runs of changes by one actor (local commits, loads) then skip hashing the actor.
    fn lookup_actor(&self, actor: &ActorId) -> Option<u32> {
        if let Some(last) = self.change_actor.last()
            && self.actors.get(last as usize) == Some(actor)
        {
            return Some(last);
        }
        self.actor_lookup.get(actor).copied()
    }

    /// The highest applied seq of `actor` (0 if none).
    pub fn seq_for_actor(&self, actor: &ActorId) -> u64 {
        self.lookup_actor(actor)
            .and_then(|a| self.actor_changes.get(a as usize))
            .map_or(0, |v| v.len() as u64)
    }

    /// The highest applied seq of an interned actor (0 if none): [`Self::seq_for_actor`]
    /// without comparing actor ids.
    pub fn seq_of(&self, actor: ActorIdx) -> u64 {
        self.actor_changes
            .get(actor.get())
            .map_or(0, |v| v.len() as u64)
    }

    /// A cursor that says the seqs of changes asked for mostly in application order (see
    /// [`SeqCursor`]).
    pub fn seq_cursor(&self) -> SeqCursor<'_> {
        SeqCursor {
            graph: self,
            next: Vec::new(),
        }
    }

    /// The applied change of `actor` with `seq`.
    pub fn change_at_seq(&self, actor: ActorIdx, seq: u64) -> Option<ChangeIdx> {
        let pos = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.actor_changes
            .get(actor.get())?
            .get(pos)
            .map(|&i| ChangeIdx(i))
    }

    /// Change `idx`'s deps, as indexes, in the change's order.
    #[inline]
    fn deps_of(&self, idx: u32) -> DepIter<'_> {
        let chained = self
            .chained
            .get(idx as usize / 64)
            .is_some_and(|w| w & (1 << (idx % 64)) != 0);
        if chained {
            return DepIter {
                prev: idx.checked_sub(1),
                rest: [].iter(),
            };
        }
        let i = idx as usize;
        let stored = match (self.dep_ends.start(i), self.dep_ends.end(i)) {
            (Some(start), Some(end)) => self
                .dep_targets
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        };
        DepIter {
            prev: None,
            rest: stored.iter(),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Queue

    /// Whether `hash` is parked in the queue.
    pub fn is_queued(&self, hash: &ChangeHash) -> bool {
        self.queue.parked.contains_key(hash)
    }

    /// The number of parked changes.
    pub fn queued_len(&self) -> usize {
        self.queue.parked.len()
    }

    /// The parked changes, in arrival order.
    pub fn queued(&self) -> Vec<&ChangeMeta> {
        let mut parked: Vec<_> = self.queue.parked.values().collect();
        parked.sort_by_key(|p| p.arrival);
        parked.into_iter().map(|p| &p.meta).collect()
    }

    /// The reference's `get_missing_deps(heads)`: sorted hashes that are neither applied nor
    /// queued, found walking back from every queued change and from `heads` through queued
    /// changes' deps.
    pub fn missing_deps(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        // Every dep of a queued change is reachable from it, and the queue's reverse map is
        // keyed by exactly the deps of queued changes that are not applied; those not queued
        // themselves are missing. Only `heads` need a walk.
        let mut missing: Vec<ChangeHash> = self
            .queue
            .waiting
            .keys()
            .filter(|h| !self.queue.parked.contains_key(*h))
            .copied()
            .collect();
        if !heads.is_empty() {
            missing.extend(self.missing_from(heads.to_vec()));
        }
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Missing deps reachable from `start` alone (sync.md §5 step 1, the `need` of a sync
    /// message): sorted hashes neither applied nor queued, walking from `start` through queued
    /// changes' deps. Unlike [`Self::missing_deps`], unrelated queued changes are ignored.
    pub fn missing_deps_from(&self, start: &[ChangeHash]) -> Vec<ChangeHash> {
        self.missing_from(start.to_vec())
    }

    fn missing_from(&self, mut stack: Vec<ChangeHash>) -> Vec<ChangeHash> {
        let mut missing = BTreeSet::new();
        let mut seen = HashSet::new();
        while let Some(hash) = stack.pop() {
            if self.contains(&hash) || !seen.insert(hash) {
                continue;
            }
            match self.queue.parked.get(&hash) {
                Some(p) => stack.extend(p.meta.deps.iter().copied()),
                None => {
                    missing.insert(hash);
                }
            }
        }
        missing.into_iter().collect()
    }

    // ---------------------------------------------------------------------------------------
    // Ancestry

    fn known_indexes(&self, heads: &[ChangeHash]) -> Vec<u32> {
        heads
            .iter()
            .filter_map(|h| self.index.get(&self.hashes, h))
            .collect()
    }

    /// The seq clock of the changes at `starts` and their ancestors.
    ///
    /// Walks back in decreasing index order (a max-heap; equal indexes pop together, which
    /// dedups without a visited set). A checkpoint's stored clock replaces the walk below it.
    /// An actor is settled once the index of its next seq (after the clock's) is above
    /// everything left to visit: indexes only decrease along deps, and an actor's indexes
    /// increase with seq, so nothing left can raise it. The walk stops when every actor is
    /// settled, so its cost is the width of the history near `starts`, not its depth.
    fn seq_clock_walk(&self, starts: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let actor_count = self.actors.len();
        let mut clock = vec![0u32; actor_count];
        let mut to_visit: BinaryHeap<u32> = starts.into_iter().collect();
        let next_index = |clock: &[u32], a: usize| -> u32 {
            let seq = clock.get(a).copied().unwrap_or(0) as usize;
            self.actor_changes
                .get(a)
                .and_then(|v| v.get(seq))
                .copied()
                .unwrap_or(u32::MAX)
        };
        // (index of the actor's next seq, actor); stale entries are skipped when popped.
        let mut settle: BinaryHeap<(u32, usize)> = (0..actor_count)
            .map(|a| (next_index(&clock, a), a))
            .collect();
        let mut settled = vec![false; actor_count];
        let mut unsettled = actor_count;
        let mut last = None;
        // `checkpoints[..cursor]` are those at or below the change visited last.
        let mut cursor = self.checkpoints.len();
        let raise = |clock: &mut [u32], settle: &mut BinaryHeap<(u32, usize)>, a, s| {
            if let Some(c) = clock.get_mut(a)
                && s > *c
            {
                *c = s;
                settle.push((next_index(clock, a), a));
            }
        };
        while unsettled > 0 {
            let Some(&top) = to_visit.peek() else { break };
            while let Some(&(key, a)) = settle.peek() {
                if key <= top {
                    break;
                }
                settle.pop();
                if key == next_index(&clock, a)
                    && let Some(done) = settled.get_mut(a)
                    && !*done
                {
                    *done = true;
                    unsettled -= 1;
                }
            }
            if unsettled == 0 {
                break;
            }
            to_visit.pop();
            if last == Some(top) {
                continue;
            }
            last = Some(top);
            let i = top as usize;
            let actor = self.change_actor.get(i).unwrap_or(0) as usize;
            // Within an actor a later change has a higher seq: this one raises the clock
            // only if it comes after the change of the clock's seq, and only then is its
            // seq looked up.
            let known = clock.get(actor).copied().unwrap_or(0) as usize;
            let not_higher = known
                .checked_sub(1)
                .and_then(|k| self.actor_changes.get(actor)?.get(k))
                .is_some_and(|&at| at >= top);
            if !not_higher {
                let seq = u32::try_from(self.change_seq(top)).unwrap_or(u32::MAX);
                raise(&mut clock, &mut settle, actor, seq);
            }
            // Changes are visited in decreasing order (a change's deps come before it), so
            // the checkpoints at or below it are found by moving one cursor down, not by a
            // binary search per change (3.4 % of essay.amrg's load, a walk per checkpoint).
            while let Some(below) = cursor.checked_sub(1)
                && self.checkpoints.get(below).is_some_and(|(i, _)| *i > top)
            {
                cursor = below;
            }
            let stored = cursor
                .checked_sub(1)
                .and_then(|at| self.checkpoints.get(at))
                .filter(|(i, _)| *i == top)
                .map(|(_, c)| &**c);
            match stored {
                Some(stored) => {
                    for (a, &s) in stored.iter().enumerate() {
                        raise(&mut clock, &mut settle, a, s);
                    }
                }
                None => to_visit.extend(self.deps_of(top)),
            }
        }
        clock
    }

    /// The seq clock of the changes at `starts` and their ancestors, by whichever of
    /// [`Self::seq_clock_near_heads`] and [`Self::seq_clock_walk`] applies. Only while the
    /// heads are current: [`Self::append`] leaves them to its caller, so the clocks it
    /// stores take the walk.
    fn seq_clock(&self, starts: Vec<u32>) -> Vec<u32> {
        match self.seq_clock_near_heads(&starts, self.near_budget()) {
            Some(clock) => clock,
            None => self.seq_clock_walk(starts),
        }
    }

    /// [`Self::seq_clock_walk`] found from the current heads, when few changes lie between
    /// them and `starts` (a view at the heads before the last change or two, or at the
    /// current heads): every actor's last seq, lowered for the changes that `starts` do not
    /// reach. Those are found as [`Self::not_ancestors_of`] finds them
    /// ([`Self::unreached_from_heads`]); the walk gives up (`None`) after `budget` entries
    /// ([`Self::near_budget`]), so a clock far back costs at most that more than the walk
    /// down from `starts`. With many actors that walk is the dearer one: it settles every
    /// actor (essay.amrg's 147: 7.4 µs a `get_at` at the heads before the last change, 8.5 µs
    /// at the current heads).
    ///
    /// An actor's seqs need not follow its deps (a change waits for its actor's previous
    /// seq, but need not name it), so its entry is its last change that is reached, looked
    /// for from its end, not its first unreached seq less one.
    fn seq_clock_near_heads(&self, starts: &[u32], budget: usize) -> Option<Vec<u32>> {
        if starts.is_empty() || self.heads.len() > budget {
            return None;
        }
        let mut unreached = self.unreached_from_heads(starts, budget)?;
        let mut clock = vec![0u32; self.actors.len()];
        for (slot, list) in clock.iter_mut().zip(&self.actor_changes) {
            *slot = list.len() as u32;
        }
        // Popped in decreasing order: ascending for the binary searches.
        unreached.reverse();
        for &i in &unreached {
            let a = self.change_actor.get(i as usize).unwrap_or(0) as usize;
            let (Some(slot), Some(list)) = (clock.get_mut(a), self.actor_changes.get(a)) else {
                continue;
            };
            while let Some(k) = slot.checked_sub(1)
                && list
                    .get(k as usize)
                    .is_some_and(|c| unreached.binary_search(c).is_ok())
            {
                *slot = k;
            }
        }
        Some(clock)
    }

    /// How many heap entries [`Self::seq_clock_near_heads`] pops before it gives up.
    fn near_budget(&self) -> usize {
        16 + 2 * self.actors.len()
    }

    /// The seq clock at `heads`: per actor, the highest seq among `heads` and their ancestors.
    /// Unknown hashes in `heads` are skipped.
    pub fn clock_at(&self, heads: &[ChangeHash]) -> Clock {
        Clock {
            seqs: self.seq_clock(self.known_indexes(heads)),
        }
    }

    /// The reference's "changes since heads" (`ChangeGraph::get_hashes`, sync.md §3): all
    /// changes if `heads` is empty; otherwise, with the clock at `heads` (unknown hashes
    /// skipped), every change whose seq exceeds its actor's entry, in graph order.
    ///
    /// For well-formed histories this is exactly the changes that are not ancestors of `heads`
    /// (see [`Self::not_ancestors_of`] for that set without the clock rule). Cost: the clock
    /// walk (see [`ChangeGraph`]) plus sorting the answer.
    pub fn changes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeIdx> {
        if heads.is_empty() {
            return (0..self.hashes.len() as u32).map(ChangeIdx).collect();
        }
        let clock = self.seq_clock(self.known_indexes(heads));
        let mut out: Vec<ChangeIdx> = Vec::new();
        for (a, list) in self.actor_changes.iter().enumerate() {
            let from = clock.get(a).copied().unwrap_or(0) as usize;
            out.extend(
                list.get(from..)
                    .unwrap_or_default()
                    .iter()
                    .map(|&i| ChangeIdx(i)),
            );
        }
        if self.actors.len() > 1 {
            out.sort_unstable();
        }
        out
    }

    /// How many changes [`Self::changes_since`] lists, without listing them.
    pub fn count_since(&self, heads: &[ChangeHash]) -> usize {
        if heads.is_empty() {
            return self.hashes.len();
        }
        let clock = self.seq_clock(self.known_indexes(heads));
        self.actor_changes
            .iter()
            .enumerate()
            .map(|(a, list)| {
                let from = clock.get(a).copied().unwrap_or(0) as usize;
                list.len().saturating_sub(from)
            })
            .sum()
    }

    /// [`Self::changes_since`] as hashes.
    pub fn hashes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        self.changes_since(heads)
            .into_iter()
            .filter_map(|i| self.hashes.get(i.get()).copied())
            .collect()
    }

    /// Every applied change that is neither one of `heads` nor an ancestor of one, in graph
    /// order (unknown hashes in `heads` are skipped). Exact, with no seq rule.
    ///
    /// Walks back from the graph's heads and from `heads` together, in decreasing index
    /// order (a max-heap of (index, reached from `heads`)): deps have smaller indexes, so
    /// when an index pops, everything that depends on it has popped, and whether `heads`
    /// reach it is known (that entry pops first). The walk ends when only changes that
    /// `heads` reach are left to visit: it costs the answer and the changes that
    /// `heads` reach above the answer's lowest change, not the history (for `heads` the
    /// current heads, nothing: 1.6 ms → 0.25 µs on the paper document's 259,779 changes,
    /// where a pass over every change used to run).
    pub fn not_ancestors_of(&self, heads: &[ChangeHash]) -> Vec<ChangeIdx> {
        let from = self.known_indexes(heads);
        if from.is_empty() {
            return (0..self.hashes.len() as u32).map(ChangeIdx).collect();
        }
        let mut out = self
            .unreached_from_heads(&from, usize::MAX)
            .unwrap_or_default();
        out.reverse();
        out.into_iter().map(ChangeIdx).collect()
    }

    /// The changes the current heads reach and `starts` do not, in decreasing order: a walk
    /// down from both at once, which ends when only changes that `starts` reach are left to
    /// visit (an entry reached from `starts` pops before the same change from the heads).
    /// `None` once `budget` entries have popped.
    fn unreached_from_heads(&self, starts: &[u32], budget: usize) -> Option<Vec<u32>> {
        let mut to_visit: BinaryHeap<(u32, bool)> = starts.iter().map(|&i| (i, true)).collect();
        // Entries not reached from `starts` still to pop: the walk ends when none is left.
        let mut open = self.heads.len();
        to_visit.extend(self.heads.iter().map(|(_, i)| (i, false)));
        let mut out = Vec::new();
        let mut last = None;
        let mut popped = 0usize;
        while open > 0 {
            let Some((i, reached)) = to_visit.pop() else {
                break;
            };
            popped += 1;
            if popped > budget {
                return None;
            }
            if !reached {
                open -= 1;
            }
            if last == Some(i) {
                continue;
            }
            last = Some(i);
            if reached {
                to_visit.extend(self.deps_of(i).map(|d| (d, true)));
            } else {
                out.push(i);
                let before = to_visit.len();
                to_visit.extend(self.deps_of(i).map(|d| (d, false)));
                open += to_visit.len() - before;
            }
        }
        Some(out)
    }

    /// Whether applied change `ancestor` is a strict ancestor of applied change `descendant`
    /// (false if either is unknown or they are equal). Walks only the changes between the two
    /// in graph order.
    pub fn is_ancestor(&self, ancestor: &ChangeHash, descendant: &ChangeHash) -> bool {
        let (Some(a), Some(d)) = (
            self.index.get(&self.hashes, ancestor),
            self.index.get(&self.hashes, descendant),
        ) else {
            return false;
        };
        if a >= d {
            return false;
        }
        let mut to_visit: BinaryHeap<u32> = self.deps_of(d).filter(|&i| i >= a).collect();
        let mut last = None;
        while let Some(i) = to_visit.pop() {
            if i == a {
                return true;
            }
            if last == Some(i) {
                continue;
            }
            last = Some(i);
            to_visit.extend(self.deps_of(i).filter(|&j| j >= a));
        }
        false
    }

    /// `heads` (the known ones) and all their ancestors, each once, in decreasing graph order.
    pub fn ancestry(&self, heads: &[ChangeHash]) -> Ancestry<'_> {
        Ancestry {
            graph: self,
            to_visit: self.known_indexes(heads).into(),
            last: None,
        }
    }

    /// Approximate heap bytes held by the applied changes (from the capacities of the
    /// vectors and tables; hash tables count one control byte per slot), excluding the queue.
    pub fn heap_bytes(&self) -> usize {
        let vecs = self.hashes.capacity() * size_of::<ChangeHash>()
            + self.index.heap_bytes()
            + self.change_actor.heap_bytes()
            + self.op_counts.heap_bytes()
            + self.max_ops.capacity() * 4
            + self.wide_ops.capacity() * size_of::<(u32, u64, u64)>()
            + self.dep_ends.heap_bytes()
            + self.dep_targets.capacity() * 4
            + self.chained.capacity() * 8;
        let actors = self.actors.capacity() * size_of::<ActorId>()
            + self.actor_lookup.capacity() * (size_of::<(ActorId, u32)>() + 1)
            + self
                .actor_changes
                .iter()
                .map(|v| v.capacity() * 4 + size_of::<Vec<u32>>())
                .sum::<usize>();
        let heads = self.heads.heap_bytes();
        let checkpoints = self.checkpoints.capacity() * size_of::<(u32, Box<[u32]>)>()
            + self
                .checkpoints
                .iter()
                .map(|(_, c)| c.len() * 4)
                .sum::<usize>();
        let fragments = self.fragments.lock().map_or(0, |cache| cache.heap_bytes());
        vecs + actors + heads + checkpoints + fragments
    }

    /// Approximate heap bytes held by the queue.
    pub fn queue_heap_bytes(&self) -> usize {
        self.queue.heap_bytes()
    }
}

fn duplicate(change: &ChangeMetaRef<'_>) -> DagError {
    DagError::DuplicateSeq {
        actor: change.actor.clone(),
        seq: change.seq,
        hash: change.hash,
    }
}

/// Iterator over changes and their ancestors; see [`ChangeGraph::ancestry`].
#[derive(Clone, Debug)]
pub struct Ancestry<'a> {
    graph: &'a ChangeGraph,
    to_visit: BinaryHeap<u32>,
    last: Option<u32>,
}

impl Iterator for Ancestry<'_> {
    type Item = ChangeIdx;

    fn next(&mut self) -> Option<ChangeIdx> {
        loop {
            let i = self.to_visit.pop()?;
            if self.last == Some(i) {
                continue;
            }
            self.last = Some(i);
            self.to_visit.extend(self.graph.deps_of(i));
            return Some(ChangeIdx(i));
        }
    }
}

/// A change's deps as indexes: the previous change where the graph keeps that it is the
/// only one (`ChangeGraph::chained`), else the stored ones.
#[derive(Clone, Debug)]
struct DepIter<'a> {
    prev: Option<u32>,
    rest: std::slice::Iter<'a, u32>,
}

impl Iterator for DepIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        self.prev.take().or_else(|| self.rest.next().copied())
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.prev.is_some()) + self.rest.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for DepIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u32) -> ChangeHash {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&n.to_le_bytes());
        b[31] = 0x5a;
        ChangeHash(b)
    }

    fn actor(n: u8) -> ActorId {
        ActorId::from_bytes(&[n])
    }

    fn meta(n: u32, a: u8, seq: u64, deps: &[u32]) -> ChangeMeta {
        ChangeMeta {
            hash: h(n),
            actor: actor(a),
            seq,
            start_op: seq,
            max_op: seq,
            deps: deps.iter().map(|&d| h(d)).collect(),
        }
    }

    /// Op counters past `u32` (kept beside the compact per-change table) read back exactly,
    /// beside narrow ones, and go with a truncation.
    #[test]
    fn wide_op_counters_read_back() {
        let mut g = ChangeGraph::new();
        let wide = u64::from(u32::MAX);
        let counters = [
            (1, 1),
            (2, wide),
            (wide, wide + 5),
            (wide + 6, 1 << 40),
            (1 << 41, 1 << 41),
            // A start past the max op plus one, and a max op of u64::MAX: kept wide.
            (1 << 42, 5),
            (7, u64::MAX),
        ];
        for (n, &(start_op, max_op)) in (1..).zip(&counters) {
            let deps: Vec<u32> = (n > 1).then_some(n - 1).into_iter().collect();
            let change = ChangeMeta {
                start_op,
                max_op,
                ..meta(n, 1, u64::from(n), &deps)
            };
            g.insert(change).unwrap();
        }
        for (n, &(start_op, max_op)) in (1..).zip(&counters) {
            let c = g.change_by_hash(&h(n)).unwrap();
            assert_eq!((c.start_op(), c.max_op()), (start_op, max_op));
        }
        assert_eq!(g.max_op(), u64::MAX);
        g.truncate(3);
        assert_eq!(g.max_op(), wide + 5);
        assert_eq!(g.change_by_hash(&h(3)).unwrap().start_op(), wide);
        let change = ChangeMeta {
            start_op: 7,
            max_op: 7,
            ..meta(9, 1, 4, &[3])
        };
        g.insert(change).unwrap();
        let c = g.change_by_hash(&h(9)).unwrap();
        assert_eq!((c.start_op(), c.max_op()), (7, 7));
        assert_eq!(g.max_op(), wide + 5);
    }

    fn idx_hashes(g: &ChangeGraph, idx: &[ChangeIdx]) -> Vec<ChangeHash> {
        idx.iter().map(|&i| g.change(i).unwrap().hash()).collect()
    }

    #[test]
    fn duplicate_is_a_no_op() {
        let mut g = ChangeGraph::new();
        assert_eq!(g.insert(meta(1, 1, 1, &[])).unwrap().len(), 1);
        assert!(g.insert(meta(1, 1, 1, &[])).unwrap().is_empty());
        assert_eq!(g.len(), 1);
        // Queued duplicates too.
        assert!(g.insert(meta(3, 1, 3, &[2])).unwrap().is_empty());
        assert!(g.insert(meta(3, 1, 3, &[2])).unwrap().is_empty());
        assert_eq!(g.queued_len(), 1);
    }

    #[test]
    fn reused_seq_is_an_error() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        let err = g.insert(meta(2, 1, 1, &[])).unwrap_err();
        assert_eq!(
            err,
            DagError::DuplicateSeq {
                actor: actor(1),
                seq: 1,
                hash: h(2)
            }
        );
        // Seq 0 always clashes, as in the reference.
        assert!(matches!(
            g.insert(meta(9, 7, 0, &[])),
            Err(DagError::DuplicateSeq { seq: 0, .. })
        ));
        // Clash with a queued change; the batch is not inserted at all.
        g.insert(meta(3, 1, 3, &[2])).unwrap();
        assert!(
            g.insert_batch([meta(10, 2, 1, &[]), meta(4, 1, 3, &[2])])
                .is_err()
        );
        assert!(!g.contains(&h(10)));
        assert_eq!(g.queued_len(), 1);
    }

    #[test]
    fn clash_with_applied_discards_the_queued_branch() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(3, 1, 3, &[2])).unwrap(); // actor 1 seq 3, waits for 2
        g.insert(meta(4, 2, 1, &[3])).unwrap(); // depends on the doomed branch
        g.insert(meta(5, 2, 2, &[9])).unwrap(); // unrelated
        assert_eq!(g.queued_len(), 3);
        assert!(g.insert(meta(6, 1, 1, &[])).is_err());
        let left: Vec<_> = g.queued().iter().map(|m| m.hash).collect();
        assert_eq!(left, [h(5)]);
    }

    #[test]
    fn release_order_is_breadth_first_in_arrival_order() {
        let mut g = ChangeGraph::new();
        // 2 and 3 wait on 1; 4 waits on 2.
        g.insert(meta(4, 2, 2, &[2])).unwrap();
        g.insert(meta(3, 3, 1, &[1])).unwrap();
        g.insert(meta(2, 2, 1, &[1])).unwrap();
        assert_eq!(g.missing_deps(&[]), [h(1)]);
        let applied = g.insert(meta(1, 1, 1, &[])).unwrap();
        assert_eq!(idx_hashes(&g, &applied), [h(1), h(3), h(2), h(4)]);
        assert_eq!(g.heads().collect::<Vec<_>>(), {
            let mut v = vec![h(3), h(4)];
            v.sort();
            v
        });
        assert_eq!(g.queued_len(), 0);
    }

    #[test]
    fn seq_gap_waits_for_the_previous_seq() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        // Deps satisfied, but seq 3 of actor 1 without seq 2: parked.
        assert!(g.insert(meta(3, 1, 3, &[1])).unwrap().is_empty());
        let applied = g.insert(meta(2, 1, 2, &[1])).unwrap();
        assert_eq!(idx_hashes(&g, &applied), [h(2), h(3)]);
    }

    #[test]
    fn missing_deps_walk_through_the_queue() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(3, 2, 1, &[2, 1])).unwrap(); // waits for 2
        g.insert(meta(5, 3, 1, &[4])).unwrap(); // waits for 4
        let mut all = vec![h(2), h(4)];
        all.sort();
        assert_eq!(g.missing_deps(&[]), all);
        assert_eq!(g.missing_deps_from(&[h(3)]), [h(2)]);
        assert_eq!(g.missing_deps_from(&[h(1), h(7)]), [h(7)]);
        let mut with_head = vec![h(2), h(4), h(8)];
        with_head.sort();
        assert_eq!(g.missing_deps(&[h(8)]), with_head);
    }

    /// `not_ancestors_of` is exact where the clock rule is not: an actor's second change that
    /// does not descend from its first (a crafted history) leaves the first out of its
    /// ancestry, and the walk from several heads finds each change once, in graph order.
    #[test]
    fn not_ancestors_of_is_exact_without_the_seq_rule() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(2, 2, 1, &[])).unwrap();
        // Actor 1's seq 2 depends only on actor 2's change.
        g.insert(meta(3, 1, 2, &[2])).unwrap();
        g.insert(meta(4, 2, 2, &[2])).unwrap();
        g.insert(meta(5, 3, 1, &[3, 4])).unwrap();
        assert_eq!(
            idx_hashes(&g, &g.not_ancestors_of(&[h(3)])),
            [h(1), h(4), h(5)]
        );
        assert_eq!(g.hashes_since(&[h(3)]), [h(4), h(5)], "the clock rule");
        assert_eq!(idx_hashes(&g, &g.not_ancestors_of(&[h(5)])), [h(1)]);
        assert!(g.not_ancestors_of(&[h(1), h(5)]).is_empty());
        assert_eq!(
            idx_hashes(&g, &g.not_ancestors_of(&[h(2)])),
            [h(1), h(3), h(4), h(5)]
        );
        assert_eq!(g.not_ancestors_of(&[]).len(), 5);
        assert_eq!(g.not_ancestors_of(&[h(99)]).len(), 5);
    }

    /// The clock found from the current heads equals the walk's down from the starts, for
    /// every change and every change's deps as starts, on histories where an actor's later
    /// seq may or may not depend on its earlier ones; and it is the path taken near heads.
    #[test]
    fn the_clock_near_the_heads_is_the_walks() {
        let mut g = ChangeGraph::new();
        // Actor 1's seq 2 depends on nothing: its seq 1 is not its ancestor.
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(2, 1, 2, &[])).unwrap();
        g.insert(meta(3, 2, 1, &[2])).unwrap();
        for (start, clock) in [(2, [2, 1]), (1, [2, 0]), (0, [1, 0])] {
            assert_eq!(g.seq_clock_near_heads(&[start], 99), Some(clock.to_vec()));
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(n)) as u32
        };
        for round in 0..40 {
            let mut g = ChangeGraph::new();
            let actors = 1 + round % 6;
            let mut seqs = vec![0u64; actors as usize];
            for n in 1..=120u32 {
                let a = next(actors);
                seqs[a as usize] += 1;
                let mut deps: Vec<u32> = Vec::new();
                // Mostly on the last change; one in eight on one of the eight before it,
                // which may leave the actor's previous seq out of its ancestry.
                match next(8) {
                    _ if n == 1 => {}
                    0 => deps.push(n - 1 - next((n - 1).min(8))),
                    _ => deps.push(n - 1),
                }
                // Now and then a merge of every head, which keeps the heads few and recent.
                if next(4) == 0 {
                    deps.extend(g.heads.iter().map(|(_, j)| j + 1));
                }
                deps.sort_unstable();
                deps.dedup();
                g.insert(meta(n, a as u8, seqs[a as usize], &deps)).unwrap();
            }
            assert_eq!(g.len(), 120, "every change applies (seqs in order)");
            let mut near = 0;
            for i in 0..120u32 {
                let mut starts = vec![i];
                let deps: Vec<u32> = g.deps_of(i).collect();
                starts.extend(g.heads.iter().map(|(_, j)| j).take(next(3) as usize));
                for s in [vec![i], deps, starts] {
                    let walk = g.seq_clock_walk(s.iter().copied());
                    if s.is_empty() {
                        continue;
                    }
                    let found = g.seq_clock_near_heads(&s, usize::MAX);
                    assert_eq!(found.as_ref(), Some(&walk), "{s:?}");
                    if g.seq_clock_near_heads(&s, g.near_budget()).is_some() {
                        near += 1;
                    }
                    assert_eq!(g.seq_clock(s), walk);
                }
            }
            assert!(near >= 3, "the near path was taken {near} times");
        }
    }

    #[test]
    fn queries_on_a_diamond() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(2, 1, 2, &[1])).unwrap();
        g.insert(meta(3, 2, 1, &[1])).unwrap();
        g.insert(meta(4, 1, 3, &[2, 3])).unwrap();
        assert_eq!(g.heads().collect::<Vec<_>>(), [h(4)]);
        assert!(g.is_ancestor(&h(1), &h(4)));
        assert!(g.is_ancestor(&h(3), &h(4)));
        assert!(!g.is_ancestor(&h(3), &h(2)));
        assert!(!g.is_ancestor(&h(4), &h(4)));
        assert_eq!(g.hashes_since(&[h(2)]), [h(3), h(4)]);
        assert_eq!(g.hashes_since(&[h(2), h(3)]), [h(4)]);
        assert_eq!(g.hashes_since(&[]).len(), 4);
        assert_eq!(g.hashes_since(&[h(99)]).len(), 4);
        assert_eq!(idx_hashes(&g, &g.not_ancestors_of(&[h(3)])), [h(2), h(4)]);
        let clock = g.clock_at(&[h(2)]);
        let a1 = g.actor_index(&actor(1)).unwrap();
        let a2 = g.actor_index(&actor(2)).unwrap();
        assert_eq!((clock.get(a1), clock.get(a2)), (2, 0));
        assert_eq!(g.clock_at(&[h(4)]).iter().count(), 2);
        let anc: Vec<_> = g.ancestry(&[h(2), h(3)]).collect();
        assert_eq!(idx_hashes(&g, &anc), [h(3), h(2), h(1)]);
        let c = g.change_by_hash(&h(4)).unwrap();
        assert_eq!(c.deps().collect::<Vec<_>>(), [h(2), h(3)]);
        assert_eq!((c.seq(), c.actor(), c.max_op()), (3, &actor(1), 3));
        assert_eq!(g.max_op(), 3);
        assert!(g.heads_are(&[h(4)]));
    }

    /// The release of a batch met by an empty queue (vectors) gives exactly what the queue's
    /// own release gives (hash tables): applied changes and their order, batch positions,
    /// errors, the graph, and the queue (contents, arrival order, what it waits for), on
    /// random batches with seq gaps, seq clashes, unknown and repeated deps, deps on later
    /// batch changes and duplicates.
    #[test]
    fn batch_release_matches_the_queue() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let mut fresh_batches = 0;
        for _trial in 0..3000 {
            let n = 1 + rnd(40);
            let actors = 1 + rnd(4);
            let mut seqs = vec![0u64; actors];
            let mut last: Vec<Option<u32>> = vec![None; actors];
            let mut all: Vec<ChangeMeta> = Vec::new();
            for i in 0..n as u32 {
                let a = rnd(actors);
                let mut seq = seqs[a] + 1;
                match rnd(20) {
                    0 => seq += 1,            // a gap
                    1 if seq > 1 => seq -= 1, // a clash
                    _ => {}
                }
                seqs[a] = seqs[a].max(seq);
                let mut deps: Vec<u32> = Vec::new();
                if let Some(l) = last[a]
                    && rnd(8) != 0
                {
                    deps.push(l);
                }
                for _ in 0..rnd(3) {
                    if i > 0 {
                        deps.push(rnd(i as usize) as u32);
                    }
                }
                if rnd(10) == 0 {
                    deps.push(1000 + i); // never inserted
                }
                if rnd(10) == 0
                    && let Some(&d) = deps.first()
                {
                    deps.push(d); // repeated
                }
                if rnd(15) == 0 && i + 1 < n as u32 {
                    deps.push(i + 1); // a later change
                }
                last[a] = Some(i);
                all.push(meta(i, a as u8, seq, &deps));
            }
            let prefix = rnd(n);
            let mut batch: Vec<ChangeMeta> = all[prefix..].to_vec();
            for i in (1..batch.len()).rev() {
                if rnd(3) == 0 {
                    batch.swap(i, rnd(i + 1));
                }
            }
            for _ in 0..rnd(3) {
                let d = all[rnd(n)].clone();
                let at = rnd(batch.len() + 1);
                batch.insert(at, d);
            }
            batch.truncate(1 + rnd(batch.len().max(1)));

            let mut graphs = [ChangeGraph::new(), ChangeGraph::new()];
            for g in &mut graphs {
                let refs: Vec<_> = all[..prefix].iter().map(ChangeMeta::borrowed).collect();
                let _ = g.insert_refs(&refs, false);
            }
            if graphs[0].queue.is_empty() {
                fresh_batches += 1;
            }
            let refs: Vec<_> = batch.iter().map(ChangeMeta::borrowed).collect();
            let [vectors, queue] = &mut graphs;
            let got = vectors.insert_refs(&refs, true);
            let want = queue.insert_refs(&refs, false);
            assert_eq!(got, want, "batch {batch:?} after {prefix} of {all:?}");
            assert_eq!(snapshot(vectors), snapshot(queue));
            let parked = |g: &ChangeGraph| g.queued().into_iter().cloned().collect::<Vec<_>>();
            assert_eq!(parked(vectors), parked(queue));
            let waiting = |g: &ChangeGraph| {
                let mut w: Vec<_> = g.queue.waiting.iter().collect();
                w.sort();
                let mut s: Vec<_> = g.queue.waiting_for_seq.iter().collect();
                s.sort();
                let mut q: Vec<_> = g.queue.seqs.iter().collect();
                q.sort();
                let p: Vec<_> = g
                    .queued()
                    .iter()
                    .map(|m| g.queue.parked[&m.hash].missing)
                    .collect();
                format!("{w:?} {s:?} {q:?} {p:?} {}", g.queue.dep_count)
            };
            assert_eq!(waiting(vectors), waiting(queue));
            // The two stay interchangeable: both take the rest of the history.
            let rest: Vec<_> = all.iter().map(ChangeMeta::borrowed).collect();
            assert_eq!(
                vectors.insert_refs(&rest, true),
                queue.insert_refs(&rest, false)
            );
            assert_eq!(snapshot(vectors), snapshot(queue));
        }
        assert!(fresh_batches > 1000, "{fresh_batches}");
    }

    /// Everything a query can see, for comparing graphs.
    fn snapshot(g: &ChangeGraph) -> impl PartialEq + std::fmt::Debug + use<> {
        // The head set's indexes are the changes' own.
        assert!(
            g.head_indexes()
                .all(|(h, i)| g.index_of(&h).map(ChangeIdx::get) == Some(i.get()))
        );
        assert_eq!(g.head_indexes().len(), g.heads().len());
        let changes: Vec<_> = g
            .iter()
            .map(|c| {
                (
                    c.hash(),
                    c.actor().clone(),
                    c.actor_index(),
                    c.seq(),
                    c.max_op(),
                    c.deps().collect::<Vec<_>>(),
                )
            })
            .collect();
        let clocks: Vec<_> = g.hashes().iter().map(|h| g.clock_at(&[*h])).collect();
        let seqs: Vec<_> = g.actors().iter().map(|a| g.seq_for_actor(a)).collect();
        (
            changes,
            g.heads().collect::<Vec<_>>(),
            g.actors().to_vec(),
            seqs,
            g.max_op(),
            clocks,
            g.missing_deps(&[]),
            g.queued_len(),
        )
    }

    #[test]
    fn truncate_restores_the_graph() {
        // A history with branches, several actors (the last ones first seen late) and more
        // changes than a checkpoint interval.
        let mut all = Vec::new();
        let mut seqs = [0u64; 4];
        let mut last = [None::<u32>; 4];
        for n in 1..=300u32 {
            let a = match n {
                0..=100 => (n % 2) as usize,
                101..=200 => (n % 3) as usize,
                _ => (n % 4) as usize,
            };
            seqs[a] += 1;
            let mut deps: Vec<u32> = last
                .iter()
                .flatten()
                .copied()
                .filter(|_| n % 5 != 0)
                .collect();
            if let Some(l) = last[a]
                && !deps.contains(&l)
            {
                deps.push(l);
            }
            all.push(meta(n, a as u8 + 1, seqs[a], &deps));
            last[a] = Some(n);
        }
        // One change per insert, so that graph order is the order of `all`.
        let build = |changes: &[ChangeMeta]| {
            let mut g = ChangeGraph::new();
            for m in changes {
                assert_eq!(g.insert(m.clone()).unwrap().len(), 1);
            }
            g
        };
        let full = build(&all);
        // Marks taken as the graph grew, for `truncate_to`.
        let mut marks = vec![ChangeGraph::new().mark()];
        let mut growing = ChangeGraph::new();
        for m in &all {
            growing.insert(m.clone()).unwrap();
            marks.push(growing.mark());
        }
        for len in [0usize, 1, 50, 64, 150, 201, 299] {
            let reference = build(&all[..len]);
            let mut g = full.clone();
            g.truncate(len);
            assert_eq!(snapshot(&g), snapshot(&reference), "truncate({len})");
            assert_eq!(g.max_op(), reference.max_op(), "truncate({len})");
            let mut to_mark = full.clone();
            to_mark.truncate_to(marks[len]);
            assert_eq!(
                snapshot(&to_mark),
                snapshot(&reference),
                "truncate_to({len})"
            );
            assert_eq!(to_mark.max_op(), reference.max_op(), "truncate_to({len})");
            for m in &all[..len] {
                assert!(g.contains(&m.hash));
            }
            for m in &all[len..] {
                assert!(!g.contains(&m.hash));
                assert!(g.change_by_hash(&m.hash).is_none());
            }
            // Inserting the rest again gives the full graph.
            for m in &all[len..] {
                g.insert(m.clone()).unwrap();
            }
            assert_eq!(snapshot(&g), snapshot(&full));
        }
    }

    /// A clone is the same graph (every field, as `Debug` prints them) with room in its
    /// per-change tables, and grows like the original.
    #[test]
    fn a_clone_is_equal_and_has_room() {
        let mut g = ChangeGraph::new();
        let mut all = Vec::new();
        for n in 1..=300u32 {
            let a = (n % 3) as u8 + 1;
            let deps: Vec<u32> = if n == 1 { vec![] } else { vec![n - 1] };
            all.push(meta(n, a, u64::from(n.div_ceil(3)), &deps));
        }
        for m in &all[..299] {
            g.insert(m.clone()).unwrap();
        }
        let mut copy = g.clone();
        assert_eq!(format!("{g:?}"), format!("{copy:?}"));
        assert!(copy.hashes.capacity() >= copy.hashes.len() + 16);
        assert!(copy.max_ops.capacity() >= copy.max_ops.len() + 16);
        g.insert(all[299].clone()).unwrap();
        copy.insert(all[299].clone()).unwrap();
        assert_eq!(format!("{g:?}"), format!("{copy:?}"));
    }

    /// Seqs asked of a cursor and looked up alone are the seqs the changes were made with,
    /// in any order of asking, on an interleaved history and on one author after another.
    #[test]
    fn a_seq_cursor_says_what_each_change_says() {
        let mut all = Vec::new();
        let mut seqs = [0u64; 3];
        for n in 1..=200u32 {
            let a = (n as usize * 7 / 3) % 3;
            seqs[a] += 1;
            let deps: Vec<u32> = if n == 1 { vec![] } else { vec![n - 1] };
            all.push(meta(n, a as u8 + 1, seqs[a], &deps));
        }
        let mut g = ChangeGraph::new();
        for m in &all {
            g.insert(m.clone()).unwrap();
        }
        let n = all.len() as u32;
        // In order, backwards, in strides, one index twice, and past the end.
        let asks = (0..n)
            .chain((0..n).rev())
            .chain((0..n).step_by(7))
            .chain([5, 5, n, n + 9]);
        let mut cursor = g.seq_cursor();
        for i in asks {
            let expected = all.get(i as usize).map_or(0, |m| m.seq);
            assert_eq!(cursor.seq(ChangeIdx(i)), expected, "change {i}, cursor");
            let alone = g.change(ChangeIdx(i)).map_or(0, |c| c.seq());
            assert_eq!(alone, expected, "change {i}, alone");
        }
        assert_eq!(seqs.iter().sum::<u64>(), u64::from(n));
        // One author after another: every change's place is its index or below it.
        let mut g = ChangeGraph::new();
        let mut one = Vec::new();
        for n in 1..=100u32 {
            let (a, seq) = if n <= 60 { (1, n) } else { (2, n - 60) };
            let deps: Vec<u32> = if n == 1 { vec![] } else { vec![n - 1] };
            one.push(meta(n, a, u64::from(seq), &deps));
            g.insert(one[one.len() - 1].clone()).unwrap();
        }
        for (i, m) in one.iter().enumerate() {
            assert_eq!(
                g.change(ChangeIdx(i as u32)).unwrap().seq(),
                m.seq,
                "change {i}"
            );
        }
    }

    /// A mostly linear history, whose single deps on the previous change the graph keeps as
    /// a bit: every change reads back its own deps, and truncations at and around word
    /// boundaries restore the graph.
    #[test]
    fn chained_deps_read_back_and_truncate() {
        let mut all = Vec::new();
        let mut seqs = [0u64; 2];
        for n in 1..=300u32 {
            let a = usize::from(n % 50 >= 40);
            seqs[a] += 1;
            let deps: Vec<u32> = match n {
                1 => vec![],
                _ if n % 13 == 0 && n > 3 => vec![n - 1, n - 3],
                _ if n % 29 == 0 => vec![n - 2, n - 1],
                _ => vec![n - 1],
            };
            all.push(meta(n, a as u8 + 1, seqs[a], &deps));
        }
        let build = |changes: &[ChangeMeta]| {
            let mut g = ChangeGraph::new();
            for m in changes {
                assert_eq!(g.insert(m.clone()).unwrap().len(), 1);
            }
            g
        };
        let full = build(&all);
        for m in &all {
            let c = full.change_by_hash(&m.hash).unwrap();
            assert_eq!(c.deps().collect::<Vec<_>>(), m.deps.to_vec());
            assert_eq!(c.dep_indexes().len(), m.deps.len());
        }
        assert!(full.chained.iter().any(|w| *w != 0));
        // Only the deps that are not a single previous change are stored.
        let stored: usize = all
            .iter()
            .enumerate()
            .filter(|(i, m)| !(*i > 0 && m.deps == [all[i - 1].hash]))
            .map(|(_, m)| m.deps.len())
            .sum();
        assert_eq!(full.dep_targets.len(), stored);
        for len in [0usize, 1, 2, 63, 64, 65, 128, 200, 299] {
            let reference = build(&all[..len]);
            let mut g = full.clone();
            g.truncate(len);
            assert_eq!(snapshot(&g), snapshot(&reference), "truncate({len})");
            for m in &all[len..] {
                g.insert(m.clone()).unwrap();
            }
            assert_eq!(snapshot(&g), snapshot(&full));
        }
        // One batch of all of them reads back the same.
        let mut batch = ChangeGraph::new();
        batch.insert_batch(all.clone()).unwrap();
        assert_eq!(snapshot(&batch), snapshot(&full));
    }

    #[test]
    fn queue_snapshot_rolls_back_a_release() {
        let mut g = ChangeGraph::new();
        g.insert(meta(1, 1, 1, &[])).unwrap();
        g.insert(meta(3, 2, 1, &[2])).unwrap();
        let saved = g.queue_snapshot();
        let before = snapshot(&g);
        let applied = g.insert(meta(2, 1, 2, &[1])).unwrap();
        assert_eq!(applied.len(), 2);
        assert_eq!(g.queued_len(), 0);
        g.truncate(1);
        g.restore_queue(saved);
        assert_eq!(snapshot(&g), before);
        assert_eq!(g.missing_deps(&[]), [h(2)]);
        // The rolled-back changes can be inserted again.
        assert_eq!(g.insert(meta(2, 1, 2, &[1])).unwrap().len(), 2);
        assert_eq!(g.heads().collect::<Vec<_>>(), [h(3)]);
    }

    #[test]
    fn push_ready_appends_like_insert() {
        let mut a = ChangeGraph::new();
        let mut b = ChangeGraph::new();
        let changes = [
            meta(1, 1, 1, &[]),
            meta(2, 2, 1, &[1]),
            meta(3, 1, 2, &[1]),
            meta(4, 1, 3, &[2, 3]),
        ];
        for m in &changes {
            a.insert(m.clone()).unwrap();
            let deps: Vec<u32> = m
                .deps
                .iter()
                .map(|d| b.index_of(d).unwrap().get() as u32)
                .collect();
            b.push_ready(m.hash, &m.actor, m.seq, m.start_op, m.max_op, &deps)
                .unwrap();
        }
        assert_eq!(snapshot(&a), snapshot(&b));
        let not_ready =
            |r: Result<ChangeIdx, DagError>| matches!(r, Err(DagError::NotReady { .. }));
        // Already applied (so its seq is not the next), wrong seq, unknown dep.
        assert!(not_ready(b.push_ready(h(4), &actor(1), 3, 4, 4, &[2, 3])));
        assert!(not_ready(b.push_ready(h(5), &actor(1), 5, 5, 5, &[3])));
        assert!(not_ready(b.push_ready(h(5), &actor(1), 4, 5, 5, &[4])));
        // A queued change waiting for (actor 1, seq 4).
        b.insert(meta(6, 1, 5, &[4])).unwrap();
        assert!(not_ready(b.push_ready(h(5), &actor(1), 4, 5, 5, &[3])));
        // Refusals leave nothing behind, and the applied duplicate keeps its index.
        assert_eq!(b.len(), 4);
        assert!(!b.contains(&h(5)));
        assert_eq!(b.index_of(&h(4)).map(ChangeIdx::get), Some(3));
        b.discard_queued_from(&actor(1), 4);
        assert_eq!(
            b.push_ready(h(5), &actor(1), 4, 5, 5, &[3]).unwrap().get(),
            4
        );
        assert_eq!(b.len(), 5);
    }
}
