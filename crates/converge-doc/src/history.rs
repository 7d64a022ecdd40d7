//! The changes a document holds: the change graph (hashes, deps, heads, per-actor seqs, the
//! causal queue; [`ChangeGraph`]) plus, per applied change, only what the graph does not keep
//! and the document needs: the change's bytes (a [`Change`] is decoded from them on demand),
//! its time, and its message and extra bytes (rare, kept sparsely).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bytes::Bytes;
use converge_dag::{ChangeGraph, ChangeIdx, ChangeRef, DagError, GraphMark, QueueSnapshot};
use converge_encoding::{ActorId, Change, ChangeHash};
use smallvec::SmallVec;

use crate::chunk_store::{ChunkStore, TailFields};
use crate::messages::Messages;
use crate::opset::Clock;

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

/// The history of a document: every applied change in application order (a topological
/// order), plus the changes queued for missing deps.
#[derive(Debug, Default)]
pub(crate) struct History {
    pub(crate) graph: ChangeGraph,
    /// Per change: the uncompressed change chunk, without what the graph holds.
    chunks: ChunkStore,
    /// The changes' timestamps up to the last one that is not 0 (the changes after it have
    /// time 0: a local commit's default, so a history of such changes keeps none, 8 bytes a
    /// change less).
    times: Vec<i64>,
    /// The changes whose running max op (the largest max op of their actor's changes up to
    /// them: the op clock entry of a view whose seq clock ends at the change) is not their
    /// own max op, as (change index, running max op) by increasing index. Empty for the
    /// histories automerge writes, where each actor's max ops increase (4 bytes a change
    /// less than a table of every change's).
    clock_max_op: Vec<(u32, u32)>,
    /// The messages of the changes that have one ("" included), each distinct text once.
    messages: Messages,
    /// (change index, extra bytes) for the changes that have some, by increasing index.
    extra: Vec<(u32, Box<[u8]>)>,
    /// Graph actor index → doc actor index.
    to_doc: Vec<u32>,
    /// Doc actor index → graph actor index (`u32::MAX`: no change yet).
    from_doc: Vec<u32>,
    /// Whether, for every applied change, its actor's previous change is one of its
    /// ancestors (always so for changes automerge writes). Then the ancestors of any heads
    /// among one actor's changes are exactly a prefix of its seqs, and clocks need no walk.
    seq_chain: bool,
    /// The changes parked in the graph's queue, by hash.
    queued: HashIndex<Change>,
    /// Scratch space for [`ChunkStore::push`].
    scratch: Vec<u8>,
}

/// A copy (of a fork) keeps room in the per-change timestamps for the changes that follow,
/// as the graph and the chunk store do in theirs (essay.amrg's 262,961 timestamps were copied
/// again by the first change after a fork).
impl Clone for History {
    fn clone(&self) -> Self {
        History {
            graph: self.graph.clone(),
            chunks: self.chunks.clone(),
            times: crate::opset::with_room(&self.times),
            clock_max_op: self.clock_max_op.clone(),
            messages: self.messages.clone(),
            extra: self.extra.clone(),
            to_doc: self.to_doc.clone(),
            from_doc: self.from_doc.clone(),
            seq_chain: self.seq_chain,
            queued: self.queued.clone(),
            scratch: self.scratch.clone(),
        }
    }
}

/// What the history keeps of a change besides the graph's fields and its bytes.
pub(crate) struct ChangeData<'a> {
    pub(crate) hash: ChangeHash,
    pub(crate) time: i64,
    pub(crate) message: Option<&'a str>,
    pub(crate) extra: &'a [u8],
}

/// A loaded document's change, borrowed: [`History::push_loaded`]'s input.
pub(crate) struct LoadedChange<'a> {
    pub(crate) data: ChangeData<'a>,
    pub(crate) bytes: &'a [u8],
    pub(crate) actor: &'a ActorId,
    pub(crate) seq: u64,
    pub(crate) start_op: u64,
}

/// Where a change that [`History::insert_from`] lets through comes from.
pub(crate) enum Ready {
    /// The caller's batch, at this position.
    Batch(usize),
    /// The queue, where an earlier call parked it (boxed: rare, and the list of these stays
    /// 16 bytes an entry).
    Queued(Box<Change>),
}

/// What [`History::mark`] saves to roll a batch back.
pub(crate) struct Mark {
    len: usize,
    graph: GraphMark,
    seq_chain: bool,
    queue: QueueMark,
    /// How many distinct message texts were stored.
    message_texts: usize,
}

/// What [`History::rollback`] does to the causal queue.
enum QueueMark {
    /// The queue was empty: empty it.
    Empty,
    /// The queue as it was (the batch may release queued changes).
    Saved(Box<(QueueSnapshot, HashIndex<Change>)>),
    /// The batch can release no queued change, so it can only park changes of its own:
    /// these, the ones it holds that were neither applied nor queued, are taken out again.
    /// (A copy of the queue per batch made a change per call quadratic in a queue that
    /// grows: 10,000 changes arriving newest first, one per call, took 18 s; and every
    /// change synced while changes waited for a lost one cost a copy of the queue.)
    Parked(Vec<ChangeHash>),
}

impl History {
    pub(crate) fn new() -> Self {
        History {
            seq_chain: true,
            ..History::default()
        }
    }

    // ---- per change ----

    /// Number of applied changes.
    pub(crate) fn len(&self) -> usize {
        self.chunks.len()
    }

    pub(crate) fn hash(&self, i: usize) -> ChangeHash {
        self.graph.hashes().get(i).copied().unwrap_or_default()
    }

    /// Doc actor index of the author.
    pub(crate) fn actor(&self, i: usize) -> u32 {
        self.graph
            .change(ChangeIdx::new(i as u32))
            .and_then(|c| self.to_doc.get(c.actor_index().get()).copied())
            .unwrap_or(0)
    }

    /// The counters of change `i`'s first and last ops (the last is one below the first for
    /// a change without ops).
    pub(crate) fn op_range(&self, i: usize) -> (u64, u64) {
        self.graph
            .change(ChangeIdx::new(i as u32))
            .map_or((1, 0), |c| (c.start_op(), c.max_op()))
    }

    /// The largest max op among the deps of change `i` (0 without deps).
    pub(crate) fn deps_max_op(&self, i: usize) -> u64 {
        self.graph.change(ChangeIdx::new(i as u32)).map_or(0, |c| {
            c.dep_indexes()
                .map(|d| self.max_op(d.get()))
                .max()
                .unwrap_or(0)
        })
    }

    pub(crate) fn max_op(&self, i: usize) -> u64 {
        self.graph
            .change(ChangeIdx::new(i as u32))
            .map_or(0, |c| c.max_op())
    }

    /// Deps as change indexes, in the change's order.
    #[cfg(test)]
    pub(crate) fn deps(&self, i: usize) -> Vec<u32> {
        self.graph
            .change(ChangeIdx::new(i as u32))
            .map(|c| c.dep_indexes().map(|d| d.get() as u32).collect())
            .unwrap_or_default()
    }

    /// Appends the deps of change `i` (change indexes, in the change's order) to `out`.
    pub(crate) fn deps_into(&self, i: usize, out: &mut Vec<u32>) {
        if let Some(c) = self.graph.change(ChangeIdx::new(i as u32)) {
            out.extend(c.dep_indexes().map(|d| d.get() as u32));
        }
    }

    /// The messages of the changes that have one ("" included).
    pub(crate) fn messages(&self) -> &Messages {
        &self.messages
    }

    /// (change index, extra bytes) of the changes that have some, by increasing index.
    pub(crate) fn extras(&self) -> &[(u32, Box<[u8]>)] {
        &self.extra
    }

    /// (doc actor, author bytes) of each change whose extra bytes read as an author footer,
    /// in application order.
    pub(crate) fn author_footers(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.extra.iter().filter_map(|(i, e)| {
            Some((
                self.actor(*i as usize),
                converge_encoding::Author::read_footer(e)?,
            ))
        })
    }

    /// The author of a doc actor: the footer of its last change that has one (only its first
    /// change may have one, but a loaded document is not checked for that, and the reference's
    /// load keeps the last).
    pub(crate) fn author_of(&self, actor: u32) -> Option<&[u8]> {
        self.author_footers()
            .filter(|&(a, _)| a == actor)
            .last()
            .map(|(_, bytes)| bytes)
    }

    pub(crate) fn time(&self, i: usize) -> i64 {
        self.times.get(i).copied().unwrap_or(0)
    }

    pub(crate) fn message(&self, i: usize) -> Option<&str> {
        self.messages.get(i as u32)
    }

    pub(crate) fn extra_bytes(&self, i: usize) -> &[u8] {
        self.extra
            .binary_search_by_key(&(i as u32), |(j, _)| *j)
            .ok()
            .and_then(|pos| self.extra.get(pos))
            .map_or(&[], |(_, e)| &**e)
    }

    /// Change `i`'s running max op (see [`History::clock_max_op`]).
    fn running_max_op(&self, i: usize) -> u32 {
        if !self.clock_max_op.is_empty()
            && let Ok(at) = self
                .clock_max_op
                .binary_search_by_key(&(i as u32), |&(j, _)| j)
            && let Some(&(_, max)) = self.clock_max_op.get(at)
        {
            return max;
        }
        self.graph
            .change(ChangeIdx::new(i as u32))
            .map_or(0, |c| c.max_op() as u32)
    }

    /// Change `c`'s seq (given: the caller looked it up, or has a cursor), start op and time
    /// as the graph and the history keep them.
    fn tail_fields(&self, c: ChangeRef<'_>, seq: u64) -> TailFields {
        debug_assert_eq!(seq, c.seq(), "a given seq is the graph's");
        TailFields {
            seq,
            start_op: c.start_op(),
            time: self.time(c.index().get()),
        }
    }

    /// The uncompressed change chunk.
    pub(crate) fn bytes(&self, i: usize) -> Option<Bytes> {
        let c = self.graph.change(ChangeIdx::new(i as u32))?;
        self.chunk_of(c, c.seq())
    }

    /// Change `c`'s uncompressed chunk, its seq given.
    fn chunk_of(&self, c: ChangeRef<'_>, seq: u64) -> Option<Bytes> {
        let i = c.index().get();
        let deps: SmallVec<[ChangeHash; 4]> = c.deps().collect();
        let mut out = Vec::new();
        let message = self.messages.get(i as u32);
        let fields = self.tail_fields(c, seq);
        self.chunks
            .read_into(i, &c.hash(), &deps, c.actor(), &fields, message, &mut out)
            .then(|| Bytes::from(out))
    }

    /// Change `i`, decoded from its chunk (which was decoded in full once already); an
    /// author's empty message is remembered (the chunk cannot say it).
    pub(crate) fn change(&self, i: usize) -> Option<Change> {
        let c = self.graph.change(ChangeIdx::new(i as u32))?;
        self.decode_change(c, c.seq())
    }

    /// [`History::change`] of a change whose seq the caller knows (from a
    /// [`converge_dag::SeqCursor`]: a scan of many changes).
    pub(crate) fn change_with_seq(&self, i: usize, seq: u64) -> Option<Change> {
        let c = self.graph.change(ChangeIdx::new(i as u32))?;
        self.decode_change(c, seq)
    }

    /// Changes `indexes` (in application order, mostly), decoded, their seqs found through
    /// one [`converge_dag::SeqCursor`].
    pub(crate) fn changes_at<'h>(
        &'h self,
        indexes: impl IntoIterator<Item = usize> + 'h,
    ) -> impl Iterator<Item = Change> + 'h {
        self.read_with_seqs(indexes, Self::decode_change)
    }

    /// The chunks of changes `indexes` (in application order, mostly), their seqs found
    /// through one [`converge_dag::SeqCursor`].
    pub(crate) fn bytes_at<'h>(
        &'h self,
        indexes: impl IntoIterator<Item = usize> + 'h,
    ) -> impl Iterator<Item = Bytes> + 'h {
        self.read_with_seqs(indexes, Self::chunk_of)
    }

    /// `read` of each of `indexes` with its seq, found through one cursor.
    fn read_with_seqs<'h, T: 'h>(
        &'h self,
        indexes: impl IntoIterator<Item = usize> + 'h,
        read: fn(&History, ChangeRef<'_>, u64) -> Option<T>,
    ) -> impl Iterator<Item = T> + 'h {
        let mut seqs = self.graph.seq_cursor();
        indexes.into_iter().filter_map(move |i| {
            let idx = ChangeIdx::new(i as u32);
            let c = self.graph.change(idx)?;
            read(self, c, seqs.seq(idx))
        })
    }

    /// Change `c`, decoded from its chunk, its seq given.
    fn decode_change(&self, c: ChangeRef<'_>, seq: u64) -> Option<Change> {
        let num_ops = (c.max_op() + 1).saturating_sub(c.start_op());
        let bytes = self.chunk_of(c, seq)?;
        let mut change =
            Change::decode_known(bytes, c.hash(), u32::try_from(num_ops).ok()?).ok()?;
        if self.has_empty_message(c.index().get()) {
            change.remember_empty_message();
        }
        Some(change)
    }

    pub(crate) fn index_of(&self, hash: &ChangeHash) -> Option<usize> {
        self.graph.index_of(hash).map(ChangeIdx::get)
    }

    pub(crate) fn contains(&self, hash: &ChangeHash) -> bool {
        self.graph.contains(hash)
    }

    // ---- graph-wide ----

    /// Heads as hashes, sorted.
    pub(crate) fn head_hashes(&self) -> Vec<ChangeHash> {
        self.graph.heads().collect()
    }

    /// Heads as (hash, change index), sorted by hash.
    pub(crate) fn head_indexes(&self) -> impl Iterator<Item = (ChangeHash, usize)> + '_ {
        self.graph.head_indexes().map(|(h, i)| (h, i.get()))
    }

    /// The graph actor of a doc actor, if it has changes.
    fn graph_actor(&self, actor: u32) -> Option<converge_dag::ActorIdx> {
        let g = *self.from_doc.get(actor as usize)?;
        (g != u32::MAX).then(|| converge_dag::ActorIdx::new(g))
    }

    /// The number of changes of a doc actor.
    pub(crate) fn actor_seq(&self, actor: u32) -> u64 {
        self.graph_actor(actor).map_or(0, |a| self.graph.seq_of(a))
    }

    /// The index of a doc actor's latest change.
    pub(crate) fn last_of_actor(&self, actor: u32) -> Option<usize> {
        self.change_at_seq(actor, self.actor_seq(actor))
    }

    /// The index of a doc actor's change with sequence number `seq`, if there is one.
    pub(crate) fn change_at_seq(&self, actor: u32, seq: u64) -> Option<usize> {
        let a = self.graph_actor(actor)?;
        self.graph.change_at_seq(a, seq).map(ChangeIdx::get)
    }

    /// The max op of a doc actor's change with sequence number `seq`, if there is one.
    pub(crate) fn max_op_at_seq(&self, actor: u32, seq: u64) -> Option<u64> {
        Some(self.max_op(self.change_at_seq(actor, seq)?))
    }

    /// Change indexes of `heads`, or the first unknown hash.
    pub(crate) fn indexes(&self, heads: &[ChangeHash]) -> Result<Vec<u32>, ChangeHash> {
        heads
            .iter()
            .map(|h| self.index_of(h).map(|i| i as u32).ok_or(*h))
            .collect()
    }

    /// Marks every ancestor of `start` (inclusive) in a bitmap over change indexes.
    pub(crate) fn ancestors(&self, start: &[u32]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let heads: Vec<ChangeHash> = start.iter().map(|&i| self.hash(i as usize)).collect();
        for i in self.graph.ancestry(&heads) {
            if let Some(s) = seen.get_mut(i.get()) {
                *s = true;
            }
        }
        seen
    }

    /// The op clock (per doc actor, the largest op counter) covering exactly the ops of
    /// `heads` and their ancestors.
    pub(crate) fn clock(&self, heads: &[u32], actors: usize) -> Clock {
        let mut clock = vec![0u32; actors];
        let hashes: Vec<ChangeHash> = heads.iter().map(|&i| self.hash(i as usize)).collect();
        if self.seq_chain {
            for (a, seq) in self.graph.clock_at(&hashes).iter() {
                let max = self
                    .graph
                    .change_at_seq(a, seq)
                    .map_or(0, |i| self.running_max_op(i.get()));
                if let Some(slot) = self
                    .to_doc
                    .get(a.get())
                    .and_then(|&d| clock.get_mut(d as usize))
                {
                    *slot = (*slot).max(max);
                }
            }
        } else {
            for i in self.graph.ancestry(&hashes) {
                let i = i.get();
                if let Some(slot) = clock.get_mut(self.actor(i) as usize) {
                    *slot = (*slot).max(self.max_op(i) as u32);
                }
            }
        }
        Clock(clock)
    }

    /// The members of `candidates` that are applied and are among `heads` or their ancestors.
    pub(crate) fn ancestors_among<'a>(
        &self,
        heads: &[ChangeHash],
        candidates: impl IntoIterator<Item = &'a ChangeHash>,
    ) -> Vec<ChangeHash> {
        if !self.seq_chain {
            let start: Vec<u32> = heads
                .iter()
                .filter_map(|h| self.index_of(h).map(|i| i as u32))
                .collect();
            let seen = self.ancestors(&start);
            return candidates
                .into_iter()
                .filter(|x| {
                    self.index_of(x)
                        .is_some_and(|i| seen.get(i).copied().unwrap_or(false))
                })
                .copied()
                .collect();
        }
        let clock = self.graph.clock_at(heads);
        candidates
            .into_iter()
            .filter(|x| {
                self.graph
                    .change_by_hash(x)
                    .is_some_and(|c| c.seq() <= clock.get(c.actor_index()))
            })
            .copied()
            .collect()
    }

    // ---- queue ----

    pub(crate) fn queued_change(&self, hash: &ChangeHash) -> Option<&Change> {
        self.queued.get(hash)
    }

    pub(crate) fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// The queued changes in arrival order.
    pub(crate) fn queued_changes(&self) -> impl Iterator<Item = &Change> + '_ {
        self.graph
            .queued()
            .into_iter()
            .filter_map(|m| self.queued.get(&m.hash))
    }

    // ---- recording ----

    /// Saves what [`History::rollback`] restores.
    pub(crate) fn mark(&self) -> Mark {
        let queue = if self.graph.queued_len() > 0 {
            QueueMark::Saved(Box::new((self.graph.queue_snapshot(), self.queued.clone())))
        } else {
            QueueMark::Empty
        };
        self.mark_with(queue)
    }

    /// [`History::mark`] before inserting `batch`, without a copy of the queue when the batch
    /// cannot release a queued change: when no change of the batch has all its deps applied
    /// (none can apply: the first to apply would need them), or when no queued change waits
    /// for a change of the batch (a release starts from an applied change something waits
    /// for, and the changes it releases are then the batch's own). The batch can then only
    /// park changes of its own, and a rollback takes them out of the queue again.
    pub(crate) fn mark_for<M: converge_dag::AsChangeMeta>(&self, batch: &[M]) -> Mark {
        let may_apply = || {
            batch
                .iter()
                .any(|c| c.change_meta().deps.iter().all(|d| self.graph.contains(d)))
        };
        let may_release = || {
            batch.iter().any(|c| {
                let c = c.change_meta();
                self.graph.is_waited_for(&c.hash, c.actor, c.seq)
            })
        };
        if self.graph.queued_len() == 0 || (may_apply() && may_release()) {
            return self.mark();
        }
        let new = batch
            .iter()
            .map(|c| c.change_meta().hash)
            .filter(|h| !self.graph.contains(h) && !self.graph.is_queued(h))
            .collect();
        self.mark_with(QueueMark::Parked(new))
    }

    fn mark_with(&self, queue: QueueMark) -> Mark {
        Mark {
            len: self.len(),
            graph: self.graph.mark(),
            seq_chain: self.seq_chain,
            queue,
            message_texts: self.messages.text_count(),
        }
    }

    /// Forgets everything recorded since `mark` (changes and queue).
    pub(crate) fn rollback(&mut self, mark: Mark) {
        let len = mark.len;
        self.graph.truncate_to(mark.graph);
        self.chunks.truncate(len);
        self.times.truncate(len);
        while self
            .clock_max_op
            .last()
            .is_some_and(|&(i, _)| i as usize >= len)
        {
            self.clock_max_op.pop();
        }
        self.messages.truncate(len, mark.message_texts);
        while self.extra.last().is_some_and(|(i, _)| *i as usize >= len) {
            self.extra.pop();
        }
        for &d in self
            .to_doc
            .get(self.graph.actors().len()..)
            .unwrap_or_default()
        {
            if let Some(slot) = self.from_doc.get_mut(d as usize) {
                *slot = u32::MAX;
            }
        }
        self.to_doc.truncate(self.graph.actors().len());
        self.seq_chain = mark.seq_chain;
        match mark.queue {
            QueueMark::Saved(saved) => {
                let (snapshot, queued) = *saved;
                self.graph.restore_queue(snapshot);
                self.queued = queued;
            }
            QueueMark::Empty => {
                self.graph.restore_queue(QueueSnapshot::default());
                self.queued.clear();
            }
            QueueMark::Parked(new) => {
                for hash in &new {
                    self.graph.discard_queued(hash);
                    self.queued.remove(hash);
                }
            }
        }
    }

    /// The graph's batch insert; on a refusal, the queued changes the graph dropped (a seq
    /// clash, as the reference) are dropped here too.
    fn insert_into_graph<M: converge_dag::AsChangeMeta>(
        &mut self,
        metas: &[M],
    ) -> Result<Vec<converge_dag::Applied>, DagError> {
        self.graph.insert_batch_refs(metas).inspect_err(|_| {
            if !self.queued.is_empty() {
                let graph = &self.graph;
                self.queued.retain(|h, _| graph.is_queued(h));
            }
        })
    }

    /// Inserts remote changes into the graph (the reference's causal queue: duplicates
    /// skipped, the rest parked until their deps arrive) and returns the changes ready to
    /// apply, in the order to apply them (already in the graph: the caller records each with
    /// [`History::record`] or rolls back).
    pub(crate) fn insert(&mut self, changes: Vec<Change>) -> Result<Vec<Change>, DagError> {
        let applied = self.insert_into_graph(&changes)?;
        // Usually the whole batch applies, in its own order: hand it back as it is.
        if applied.len() == changes.len()
            && applied
                .iter()
                .enumerate()
                .all(|(i, a)| a.batch_position == Some(i))
        {
            return Ok(changes);
        }
        // The whole batch applies in another order: put it in that order where it is (a
        // second vector of changes would be 192 bytes a change more at the apply's peak).
        let changes = if applied.len() == changes.len() {
            let order: Vec<usize> = applied.iter().filter_map(|a| a.batch_position).collect();
            match permuted(changes, &order) {
                Ok(changes) => return Ok(changes),
                // Some came from the queue: the general way.
                Err(changes) => changes,
            }
        } else {
            changes
        };
        let mut out = Vec::with_capacity(applied.len());
        let mut batch: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
        for a in &applied {
            let change = match a.batch_position {
                Some(p) => batch.get_mut(p).and_then(Option::take),
                None => self.queued.remove(&self.hash(a.index.get())),
            };
            // Always found: every applied change came from the batch or the queue.
            if let Some(change) = change {
                out.push(change);
            }
        }
        // The rest of the batch: duplicates, and changes parked for missing deps.
        let taken = applied
            .iter()
            .filter(|a| a.batch_position.is_some())
            .count();
        if taken < batch.len() {
            for c in batch.into_iter().flatten() {
                if self.graph.is_queued(&c.hash()) {
                    self.queued.entry(c.hash()).or_insert(c);
                }
            }
        }
        Ok(out)
    }

    /// [`History::insert`] for changes the caller decodes on demand (a merge takes them from
    /// the other document): the graph orders them from `metas`, and the result says where
    /// each change to apply comes from, in order: the caller's batch position, or this
    /// history's queue. A change of the batch that the graph parks is decoded with `decode`
    /// and queued.
    pub(crate) fn insert_from<M: converge_dag::AsChangeMeta>(
        &mut self,
        metas: &[M],
        decode: impl Fn(usize) -> Option<Change>,
    ) -> Result<Vec<Ready>, DagError> {
        let applied = self.insert_into_graph(metas)?;
        let mut taken = vec![false; metas.len()];
        let mut out = Vec::with_capacity(applied.len());
        for a in &applied {
            match a.batch_position {
                Some(p) => {
                    if let Some(t) = taken.get_mut(p) {
                        *t = true;
                    }
                    out.push(Ready::Batch(p));
                }
                None => {
                    // Always found: a change released from the queue is kept there.
                    if let Some(change) = self.queued.remove(&self.hash(a.index.get())) {
                        out.push(Ready::Queued(Box::new(change)));
                    }
                }
            }
        }
        // The rest of the batch: duplicates, and changes parked for missing deps.
        for (p, meta) in metas.iter().enumerate() {
            let hash = meta.change_meta().hash;
            if !taken.get(p).copied().unwrap_or(true)
                && self.graph.is_queued(&hash)
                && !self.queued.contains_key(&hash)
                && let Some(change) = decode(p)
            {
                self.queued.insert(hash, change);
            }
        }
        Ok(out)
    }

    /// Records the per-change data of the change the graph holds at index `len()` (inserted
    /// by [`History::insert`]), authored by doc actor `actor`.
    pub(crate) fn record(&mut self, change: Change, actor: u32) {
        let i = ChangeIdx::new(self.len() as u32);
        let max_op = self.graph.change(i).map_or(0, |c| c.max_op() as u32);
        self.record_at(i, change, actor, max_op);
    }

    /// Records the per-change data of the change the graph holds at `idx`: keeps
    /// [`History::seq_chain`] up to date (is the actor's previous change an ancestor?), maps
    /// the actor, and pushes the bytes, time and running max op.
    fn record_at(&mut self, idx: ChangeIdx, change: Change, actor: u32, max_op: u32) {
        let data = ChangeData {
            hash: change.hash(),
            time: change.time(),
            message: change.message(),
            extra: change.extra_bytes(),
        };
        // The change's seq is the one the graph holds for it (the graph took it from the
        // change): given, it need not be looked up.
        let seq = change.seq();
        self.prepare_record(idx, &data.hash, actor, max_op, seq);
        self.push_data(&data);
        self.push_bytes(idx, &change.into_bytes(), seq);
    }

    /// The bookkeeping of [`History::record_at`] before the data is pushed, including the
    /// change's running max op if it is not its own.
    fn prepare_record(
        &mut self,
        idx: ChangeIdx,
        hash: &ChangeHash,
        actor: u32,
        max_op: u32,
        seq: u64,
    ) {
        let Some(c) = self.graph.change(idx) else {
            if max_op != 0 {
                self.clock_max_op.push((idx.get() as u32, max_op));
            }
            return;
        };
        let graph_actor = c.actor_index().get();
        debug_assert_eq!(seq, c.seq(), "the graph holds the change's seq");
        let prev = (seq > 1)
            .then(|| self.graph.change_at_seq(c.actor_index(), seq - 1))
            .flatten();
        if self.seq_chain
            && let Some(prev) = prev
            && !c.dep_indexes().any(|d| d == prev)
            && !self.graph.is_ancestor(&self.hash(prev.get()), hash)
        {
            self.seq_chain = false;
        }
        let own = c.max_op() as u32;
        let running = prev.map_or(0, |p| self.running_max_op(p.get())).max(max_op);
        if running != own {
            self.clock_max_op.push((idx.get() as u32, running));
        }
        self.map_actor(graph_actor, actor);
    }

    fn map_actor(&mut self, graph_actor: usize, actor: u32) {
        if graph_actor == self.to_doc.len() {
            self.to_doc.push(actor);
            if self.from_doc.len() <= actor as usize {
                self.from_doc.resize(actor as usize + 1, u32::MAX);
            }
            if let Some(slot) = self.from_doc.get_mut(actor as usize) {
                *slot = graph_actor as u32;
            }
        }
    }

    /// Whether change `i` has the message "" (not none).
    fn has_empty_message(&self, i: usize) -> bool {
        self.messages.get(i as u32).is_some_and(str::is_empty)
    }

    /// Pushes a change's time, message and extra bytes (its bytes follow, by
    /// [`History::push_bytes`]).
    fn push_data(&mut self, change: &ChangeData<'_>) {
        let i = self.chunks.len() as u32;
        if change.time != 0 {
            self.times.resize(i as usize, 0);
            self.times.push(change.time);
        }
        if let Some(m) = change.message {
            self.messages.push(i, m);
        }
        if !change.extra.is_empty() {
            self.extra.push((i, change.extra.into()));
        }
    }

    /// Pushes the chunk of the change the graph holds at `idx`.
    fn push_bytes(&mut self, idx: ChangeIdx, chunk: &[u8], seq: u64) {
        let fields = self.graph.change(idx).map(|c| self.tail_fields(c, seq));
        let History {
            graph,
            chunks,
            scratch,
            messages,
            ..
        } = self;
        let message = messages.get(idx.get() as u32);
        match (graph.change(idx), fields) {
            (Some(c), Some(fields)) => {
                let deps: SmallVec<[ChangeHash; 4]> = c.deps().collect();
                chunks.push(
                    chunk,
                    &c.hash(),
                    &deps,
                    c.actor(),
                    &fields,
                    message,
                    scratch,
                );
            }
            // Not in the graph (cannot happen): kept whole.
            _ => chunks.push(
                chunk,
                &ChangeHash::default(),
                &[],
                &ActorId::default(),
                &TailFields {
                    seq: 0,
                    start_op: 0,
                    time: 0,
                },
                None,
                scratch,
            ),
        }
        // The chunk comes back as it was (its message from `messages`, if kept without).
        debug_assert!(self.bytes(idx.get()).as_deref() == Some(chunk));
    }

    /// Makes room for `changes` more changes with `deps` dependency edges in all (a loaded
    /// document's, whose numbers are known), so the per-change tables do not grow and copy
    /// again and again while they are pushed.
    pub(crate) fn reserve(&mut self, changes: usize, deps: usize) {
        self.graph.reserve(changes, deps);
        // Reserved, not touched: a history whose times are all 0 never writes them.
        self.times.reserve_exact(changes);
    }

    /// [`History::push_ready`] for a change of a loaded document given as its chunk bytes,
    /// hash and fields (nothing refused is kept: the caller falls back to decoding the
    /// changes).
    pub(crate) fn push_loaded(
        &mut self,
        change: &LoadedChange<'_>,
        actor: u32,
        max_op: u32,
        deps: &[u32],
    ) -> Result<(), DagError> {
        self.discard_queued_claims(change.actor, change.seq);
        let idx = self.graph.push_ready(
            change.data.hash,
            change.actor,
            change.seq,
            change.start_op,
            u64::from(max_op),
            deps,
        )?;
        self.prepare_record(idx, &change.data.hash, actor, max_op, change.seq);
        self.push_data(&change.data);
        // Our encoder wrote the chunk (a local commit, or a change rebuilt from a document
        // chunk): its start is the one the store leaves out.
        let actor_len = change.actor.as_bytes().len();
        // The chunk's seq, start op and time, which our encoder wrote as `write_fields` does,
        // are left out: the graph and the history keep them exactly.
        let fields = TailFields {
            seq: change.seq,
            start_op: change.start_op,
            time: change.data.time,
        };
        self.chunks.push_canonical(
            change.bytes,
            deps.len(),
            actor_len,
            Some(&fields),
            change.data.message,
        );
        // The chunk comes back as it was (debug builds check every push).
        debug_assert!(self.bytes(idx.get()).as_deref() == Some(change.bytes));
        Ok(())
    }

    /// As the reference: a change claiming (`actor`, `seq`) drops queued changes that claim
    /// it or build on such a claim.
    fn discard_queued_claims(&mut self, actor: &ActorId, seq: u64) {
        if self.graph.queued_len() > 0 {
            for meta in self.graph.discard_queued_from(actor, seq) {
                self.queued.remove(&meta.hash);
            }
        }
    }
}

/// `v` reordered so that item `i` is the one at `order[i]`, in place; `v` as it was if
/// `order` is not a permutation of its positions.
fn permuted<T>(mut v: Vec<T>, order: &[usize]) -> Result<Vec<T>, Vec<T>> {
    let n = v.len();
    if order.len() != n {
        return Err(v);
    }
    let mut seen = vec![false; n];
    for &p in order {
        match seen.get_mut(p) {
            Some(s) if !*s => *s = true,
            _ => return Err(v),
        }
    }
    // Each cycle of the permutation once: walk it, swapping each item into place. `seen`
    // now marks the positions still to place.
    for start in 0..n {
        if !seen.get(start).copied().unwrap_or(false) {
            continue;
        }
        let mut i = start;
        loop {
            if let Some(s) = seen.get_mut(i) {
                *s = false;
            }
            let j = order.get(i).copied().unwrap_or(start);
            if j == start {
                break;
            }
            v.swap(i, j);
            i = j;
        }
    }
    Ok(v)
}

#[cfg(test)]
mod clone_tests {
    use converge_encoding::ScalarValue;

    /// A history's clone is the same history (as `Debug` prints it) with room for the
    /// timestamps and chunk ends of the changes after it.
    #[test]
    fn a_cloned_history_is_equal_and_has_room() {
        let mut doc = crate::Document::new();
        for i in 0..300 {
            let mut tx = doc.transaction();
            tx.put(&crate::ROOT, "k", ScalarValue::Int(i)).unwrap();
            tx.commit_with(None, 1_700_000_000 + i).unwrap();
        }
        let history = &doc.history;
        let copy = history.clone();
        assert_eq!(format!("{history:?}"), format!("{copy:?}"));
        assert_eq!(copy.times.len(), 300);
        assert!(copy.times.capacity() >= copy.times.len() + 16);
        assert!(copy.chunks.ends_room() >= 16);
    }
}

#[cfg(test)]
mod permuted_tests {
    use super::permuted;

    #[test]
    fn a_permutation_reorders_in_place_and_anything_else_gives_back_the_input() {
        let v: Vec<u32> = (0..7).map(|i| i * 10).collect();
        for order in [
            vec![0, 1, 2, 3, 4, 5, 6],
            vec![6, 5, 4, 3, 2, 1, 0],
            vec![1, 2, 0, 4, 3, 6, 5],
            vec![3, 0, 6, 1, 5, 2, 4],
        ] {
            let expected: Vec<u32> = order.iter().map(|&p| v[p]).collect();
            assert_eq!(permuted(v.clone(), &order), Ok(expected), "{order:?}");
        }
        for order in [
            vec![0, 1, 2],
            vec![0, 1, 2, 3, 4, 5, 5],
            vec![0, 1, 2, 3, 4, 5, 7],
        ] {
            assert_eq!(permuted(v.clone(), &order), Err(v.clone()), "{order:?}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use crate::{Document, ROOT};

    /// The queue's parked changes, in arrival order, and what they wait for.
    fn queue_state(h: &History) -> (Vec<ChangeHash>, Vec<ChangeHash>) {
        let parked = h.graph.queued().iter().map(|m| m.hash).collect();
        (parked, h.graph.missing_deps(&[]))
    }

    /// A local change drops the queued changes that claim its actor's seq or build on one
    /// (as automerge 0.12), and only those: the queue's count of parked changes per actor
    /// lets a commit skip the search when its actor has none queued.
    #[test]
    fn a_local_change_drops_only_queued_claims_on_its_seq() {
        use converge_encoding::ActorId;
        let (x, y) = (ActorId::from_bytes(&[0x0a]), ActorId::from_bytes(&[0x0b]));
        let mut a = Document::with_actor(x.clone());
        let mut c = Document::with_actor(y.clone());
        for i in 0..3i64 {
            a.put(&ROOT, "k", i).unwrap();
            c.put(&ROOT, "j", i).unwrap();
        }
        let (xs, ys) = (a.get_changes(&[]), c.get_changes(&[]));
        let mut b = Document::with_actor(x);
        // X's third (waits for its second) and Y's third (waits for its second).
        b.apply_changes([xs[2].clone(), ys[2].clone()]).unwrap();
        assert_eq!(b.queued_count(), 2);
        assert_eq!(b.history.graph.queued().len(), 2);
        // A commit here: actor X's seq 1.
        b.put(&ROOT, "mine", 1i64).unwrap();
        assert_eq!(
            b.queued_count(),
            1,
            "X's seq 3 claimed seq 1's future: dropped"
        );
        assert!(b.queued_change(&ys[2].hash()).is_some());
        assert!(b.queued_change(&xs[2].hash()).is_none());
        // More commits with only Y's change queued: it stays, and still applies when its
        // deps come.
        b.put(&ROOT, "mine", 2i64).unwrap();
        assert_eq!(b.queued_count(), 1);
        b.apply_changes(ys[..2].iter().cloned()).unwrap();
        assert_eq!(b.queued_count(), 0);
        assert_eq!(b.history.graph.queued().len(), 0);
    }

    /// A batch that applies changes no queued change waits for is marked without a copy
    /// of the queue; when one of its changes is refused, the rollback leaves the queue as it
    /// was: the changes it parked (one waiting on a queued change) taken out, the others
    /// untouched, the applied ones gone.
    #[test]
    fn a_refused_batch_that_releases_nothing_leaves_the_queue() {
        use converge_encoding::ActorId;
        let (x, y) = (ActorId::from_bytes(&[0x0a]), ActorId::from_bytes(&[0x0b]));
        let mut a = Document::with_actor(x);
        let mut c = Document::with_actor(y);
        for i in 0..4i64 {
            a.put(&ROOT, "k", i).unwrap();
            c.put(&ROOT, "j", i).unwrap();
        }
        let (xs, ys) = (a.get_changes(&[]), c.get_changes(&[]));
        let mut b = Document::new();
        b.apply_changes([xs[2].clone()]).unwrap();
        let before = queue_state(&b.history);
        // An op on an object nobody made: refused when applied.
        let bad = crate::test_changes::unknown_object_change(
            ActorId::from_bytes(&[0x0c]),
            1,
            1,
            vec![],
            77,
        );
        // Y's first two apply, X's fourth waits for its third (queued), then the refusal.
        let batch = vec![ys[0].clone(), ys[1].clone(), xs[3].clone(), bad];
        assert!(matches!(
            &b.history.mark_for(&batch).queue,
            QueueMark::Parked(new) if new.len() == 4
        ));
        assert!(b.apply_changes(batch).is_err());
        assert_eq!(queue_state(&b.history), before);
        assert_eq!(b.history.queued_len(), 1);
        assert_eq!((b.change_count(), b.heads()), (0, vec![]));
        // A batch with a change the queue waits for copies it.
        assert!(matches!(
            b.history.mark_for(&xs[..2]).queue,
            QueueMark::Saved(_)
        ));
        b.apply_changes(xs.iter().chain(&ys).cloned()).unwrap();
        assert_eq!(b.history.queued_len(), 0);
        assert_eq!(b.change_count(), 8);
    }

    /// A merge marks its batch as `apply_changes` does: without a copy of the queue when no
    /// queued change waits for the other document's changes, with one when one does (and
    /// then the merge releases it).
    #[test]
    fn a_merge_copies_the_queue_only_when_it_may_release() {
        use converge_encoding::ActorId;
        let mut a = Document::with_actor(ActorId::from_bytes(&[0x0a]));
        let mut z = Document::with_actor(ActorId::from_bytes(&[0x0f]));
        for i in 0..3i64 {
            a.put(&ROOT, "k", i).unwrap();
            z.put(&ROOT, "z", i).unwrap();
        }
        let (xs, zs) = (a.get_changes(&[]), z.get_changes(&[]));
        let mut b = Document::new();
        // Z's last waits for Z's second: a merge of `a` releases nothing.
        b.apply_changes([zs[2].clone()]).unwrap();
        b.merge(&a).unwrap();
        assert_eq!((b.change_count(), b.queued_count()), (3, 1));
        assert!(b.queued_change(&zs[2].hash()).is_some());
        // A document whose queued change waits for `a`'s third: the merge releases it.
        let mut c = Document::new();
        c.apply_changes(xs[..1].iter().cloned()).unwrap();
        a.put(&ROOT, "k", 9i64).unwrap();
        let last = a.get_changes(&[]).pop().unwrap();
        c.apply_changes([last]).unwrap();
        assert_eq!(c.queued_count(), 1);
        c.merge(&a).unwrap();
        assert_eq!((c.change_count(), c.queued_count()), (4, 0));
        assert_eq!(c.heads(), a.heads());
        // Z's first two release Z's third in b.
        b.merge(&z).unwrap();
        assert_eq!((b.change_count(), b.queued_count()), (6, 0));
    }

    /// A batch none of whose changes has its deps applied is marked without a copy of the
    /// queue; rolling it back takes its new changes out of the queue again, and leaves the
    /// queue as it was (the insert applies nothing, so no apply can fail after it: this is
    /// the rollback's own test).
    #[test]
    fn a_batch_that_can_apply_nothing_rolls_back_its_parking() {
        let mut a = Document::new();
        for i in 0..5i64 {
            a.put(&ROOT, "k", i).unwrap();
        }
        let all = a.get_changes(&[]);
        let mut b = Document::new();
        b.apply_changes([all[4].clone()]).unwrap();
        let before = queue_state(&b.history);
        assert_eq!(before.0, [all[4].hash()]);
        // The third and the fourth (one already queued: not taken out on a rollback).
        let batch = vec![all[2].clone(), all[3].clone(), all[4].clone()];
        let mark = b.history.mark_for(&batch);
        assert!(matches!(&mark.queue, QueueMark::Parked(new) if new.len() == 2));
        assert!(b.history.insert(batch).unwrap().is_empty());
        assert_eq!(b.history.queued_len(), 3);
        b.history.rollback(mark);
        assert_eq!(queue_state(&b.history), before);
        assert_eq!(b.history.queued_len(), 1);
        assert!(b.history.queued_change(&all[2].hash()).is_none());
        // A batch whose first change has its deps (none) applied, with the change the
        // queued one waits for, copies the queue; without it, not.
        assert!(matches!(
            b.history.mark_for(&all[..4]).queue,
            QueueMark::Saved(_)
        ));
        assert!(matches!(
            b.history.mark_for(&all[..3]).queue,
            QueueMark::Parked(_)
        ));
        // Everything still arrives: newest first, one per call.
        for c in all[..4].iter().rev() {
            b.apply_changes([c.clone()]).unwrap();
        }
        assert_eq!(b.history.queued_len(), 0);
        assert_eq!(b.get_changes(&[]), all);
        assert_eq!(b.save(), a.save());
    }
}
