//! Bulk loading of a document chunk into an empty document.
//!
//! A document chunk lists its ops in document order (format.md §7.4), which is exactly the
//! order of our indexes: objects after the op that made them, map keys in order, sequence
//! elements in RGA order. So the op set is built by appending — no RGA search, no chunk
//! splits — and deletions are recreated from successor ids that are not stored ops (§8).
//! Each element gets the width of its insert op's value as it is appended; once visibility is
//! known at the end, hidden elements get 0 and elements with other ops are computed again.
//!
//! The result is built into a fresh [`OpSet`] and only installed if everything checks out;
//! otherwise the caller falls back to applying the reconstructed changes one by one (which
//! validates and reports a typed error).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use converge_encoding::{
    Action, ActorId, ActorRows, Change, ChangeHash, DocChanges, DocOpBlock, DocOps, DocumentChunk,
    ElemId, HeadsCheck, KeyRef, ObjId, OpId, OpIdStats, OpRows, RebuiltChunk, RebuiltChunkSink,
    ScalarValue, SideWork, ValueRef,
};

use crate::actor_ops::ActorOps;
use crate::arena::OpArena;
use crate::doc::Document;
use crate::error::DocError;
use crate::history::{ChangeData, History, LoadedChange};
use crate::opset::{
    Body, DEL, HEAD, NONE, NewOp, Object, Op, OpSet, StoredValue, U32, View, made_kind, room_after,
};
use crate::resave::{BaseRows, SavedLayout};
use crate::save::{MarkOrderCheck, authors, check_mark_order};
use crate::types::{ObjType, TextEncoding};

/// Multiplicative hash of an [`OpId`] (counter and actor are small integers, not adversarial
/// for a single load: a pathological file only makes the load slower).
#[derive(Default)]
struct OpIdHasher(u64);

impl Hasher for OpIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(32) ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap = HashMap<OpId, u32, BuildHasherDefault<OpIdHasher>>;

/// Arena index by op id while loading. Counters in a document are dense per actor, or
/// spread over the range by a few actors writing at once, so the usual case is one table per
/// actor indexed by `counter - min`; ids spread too thinly for that (many actors, each
/// writing now and then) get one slot per counter over all actors, and ids thin over all of
/// them too (a crafted file) a hash map.
enum IdIndex {
    /// Per actor: the smallest counter, and the arena index of each counter from it
    /// ([`NONE`] where absent).
    Dense(Vec<(u32, Vec<u32>)>),
    /// One slot per counter over all actors (counters are Lamport clocks: the actors' ids
    /// together cover the range densely even where each one's are spread thin): the arena
    /// index and actor of the first id with that counter, or ([`NONE`], 0). Ids that share
    /// a counter with it (other actors' concurrent ops) are in the map.
    ByCounter {
        base: u32,
        slots: Vec<(u32, u32)>,
        shared: IdMap,
        n_actors: usize,
    },
    /// The map and the number of actors.
    Hash(IdMap, usize),
    /// Complete from the start: the table the change rebuild made to find each change's
    /// ops, whose rows are the arena indexes (the build pushes one op per row, in row
    /// order, into an empty arena; or from its `start` on, for the later part of a build in
    /// two), with chunk actors being op set actors. Shared by the two parts of such a build.
    Rows(Arc<OpRows>),
}

impl IdIndex {
    /// An empty index for the op ids that `stats` describes (per chunk actor: the counter
    /// range and the number of ids, stored ops and deletions alike), with chunk actor `a`
    /// being actor `actor_map[a]` of the `n_actors` of the op set.
    fn new(stats: &OpIdStats, actor_map: &[u32], n_actors: usize, n_ops: usize) -> IdIndex {
        let mut ranges: Vec<(u32, u32)> = vec![(u32::MAX, 0); n_actors];
        let mut entries = 0u64;
        for (&(lo, hi, n), &a) in stats.ranges.iter().zip(actor_map) {
            if let Some(r) = ranges.get_mut(a as usize)
                && n > 0
            {
                r.0 = r.0.min(lo);
                r.1 = r.1.max(hi);
                entries += n;
            }
        }
        let span: u64 = ranges
            .iter()
            .filter(|r| r.0 <= r.1)
            .map(|r| u64::from(r.1 - r.0) + 1)
            .sum();
        // Dense while its tables take at most 16 bytes an id: less than the hash map, whose
        // 12-byte entries, control bytes and power-of-two capacity reserved for `n_ops` come
        // to 15-30 bytes an id. Several actors typing at once spread each one's counters over
        // the whole range (egwalker C2.am: 4 actors, 2.2 slots an id, 13.6 MB of map against
        // 5.3 MB of tables: its load 242-249 -> 163-177 ms).
        if span > 4 * entries + 1024 {
            // Many actors, each writing now and then: one slot per counter, at most 16 bytes
            // an id again. egwalker A2.am: 376 actors, 130 slots an id per actor but 0.63
            // over all of them (a third of its ids share a counter and go to the map);
            // A1.am: 205 actors, 14.5 and 0.95.
            let used = ranges.iter().filter(|r| r.0 <= r.1);
            let lo = used.clone().map(|r| r.0).min().unwrap_or(0);
            let hi = used.map(|r| r.1).max().unwrap_or(0);
            let all = u64::from(hi.saturating_sub(lo)) + 1;
            if all <= 2 * entries + 1024 {
                return IdIndex::ByCounter {
                    base: lo,
                    slots: vec![(NONE, 0); all as usize],
                    shared: IdMap::default(),
                    n_actors,
                };
            }
            let mut map = IdMap::default();
            map.reserve(n_ops);
            return IdIndex::Hash(map, n_actors);
        }
        IdIndex::Dense(
            ranges
                .iter()
                .map(|&(lo, hi)| {
                    if lo <= hi {
                        (lo, vec![NONE; (hi - lo) as usize + 1])
                    } else {
                        (0, Vec::new())
                    }
                })
                .collect(),
        )
    }

    fn get(&self, id: OpId) -> Option<u32> {
        match self {
            IdIndex::Dense(tables) => {
                let (base, slots) = tables.get(id.actor as usize)?;
                let slot = *slots.get(id.counter.checked_sub(*base)? as usize)?;
                (slot != NONE).then_some(slot)
            }
            IdIndex::ByCounter {
                base,
                slots,
                shared,
                ..
            } => {
                let (slot, actor) = *slots.get(id.counter.checked_sub(*base)? as usize)?;
                if slot == NONE {
                    None
                } else if actor == id.actor {
                    Some(slot)
                } else {
                    shared.get(&id).copied()
                }
            }
            IdIndex::Hash(map, _) => map.get(&id).copied(),
            IdIndex::Rows(rows) => rows.row(id),
        }
    }

    /// The rows of the ops that make an object, with their action, if this index knows
    /// them (see [`OpRows::made_objects`]).
    fn made_objects(&self) -> Option<&[(u32, Action)]> {
        match self {
            IdIndex::Rows(rows) => Some(rows.made_objects()),
            IdIndex::Dense(_) | IdIndex::ByCounter { .. } | IdIndex::Hash(..) => None,
        }
    }

    /// Records `id` at arena index `idx`; false if it was already there (or out of range).
    fn insert(&mut self, id: OpId, idx: u32) -> bool {
        match self {
            IdIndex::Dense(tables) => {
                let Some(slot) = tables.get_mut(id.actor as usize).and_then(|(base, slots)| {
                    slots.get_mut(id.counter.checked_sub(*base)? as usize)
                }) else {
                    return false;
                };
                if *slot != NONE {
                    return false;
                }
                *slot = idx;
                true
            }
            IdIndex::ByCounter {
                base,
                slots,
                shared,
                ..
            } => {
                let Some(slot) = id
                    .counter
                    .checked_sub(*base)
                    .and_then(|k| slots.get_mut(k as usize))
                else {
                    return false;
                };
                if slot.0 == NONE {
                    *slot = (idx, id.actor);
                    true
                } else if slot.1 == id.actor {
                    false
                } else {
                    shared.insert(id, idx).is_none()
                }
            }
            IdIndex::Hash(map, _) => map.insert(id, idx).is_none(),
            // The rebuild placed every id once (refusing a chunk with one twice), at its row.
            IdIndex::Rows(rows) => {
                debug_assert_eq!(rows.row(id), Some(idx));
                true
            }
        }
    }

    /// Per actor, its ops' arena indexes by counter.
    fn into_by_actor(self) -> Vec<ActorOps> {
        match self {
            IdIndex::Dense(tables) => tables
                .into_iter()
                .map(|(base, slots)| ActorOps::from_table(base, slots))
                .collect(),
            IdIndex::ByCounter {
                base,
                slots,
                shared,
                n_actors,
            } => {
                // Read in counter order, so each actor's list is sorted but for the ids that
                // shared a counter.
                let mut by_actor: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_actors];
                for (k, &(idx, actor)) in slots.iter().enumerate() {
                    if idx != NONE
                        && let Some(list) = by_actor.get_mut(actor as usize)
                    {
                        list.push((base + k as u32, idx));
                    }
                }
                let mut unsorted = vec![false; n_actors];
                for (id, idx) in shared {
                    if let Some(list) = by_actor.get_mut(id.actor as usize) {
                        list.push((id.counter, idx));
                        if let Some(u) = unsorted.get_mut(id.actor as usize) {
                            *u = true;
                        }
                    }
                }
                by_actor
                    .into_iter()
                    .zip(unsorted)
                    .map(|(mut list, unsorted)| {
                        if unsorted {
                            list.sort_unstable();
                        }
                        ActorOps::from_pairs(list)
                    })
                    .collect()
            }
            IdIndex::Rows(rows) => Arc::try_unwrap(rows)
                .unwrap_or_else(|shared| OpRows::clone(&shared))
                .into_actor_rows()
                .into_iter()
                .map(|actor| match actor {
                    ActorRows::Table { base, slots } => ActorOps::from_table(base, slots),
                    ActorRows::Pairs(pairs) => ActorOps::from_pairs(pairs),
                })
                .collect(),
            IdIndex::Hash(map, n_actors) => {
                let mut by_actor: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_actors];
                for (id, idx) in map {
                    if let Some(list) = by_actor.get_mut(id.actor as usize) {
                        list.push((id.counter, idx));
                    }
                }
                by_actor
                    .into_iter()
                    .map(|mut list| {
                        list.sort_unstable();
                        ActorOps::from_pairs(list)
                    })
                    .collect()
            }
        }
    }
}

/// Where a bulk load's rebuilt changes go: straight into the new history, which also keeps
/// their hashes for the rebuild. Once a change is refused (the history is then dropped and
/// the chunk's changes decoded for the general path), later chunks are not kept, but their
/// hashes are, so the rebuild still finishes and checks the heads.
struct LoadSink<'c> {
    history: History,
    /// The chunk's change rows, and the next one to take.
    metas: &'c DocChanges,
    next: usize,
    doc_actor: &'c [u32],
    actors: &'c [ActorId],
    /// How many changes the history holds when one is refused.
    refused_at: Option<usize>,
    /// The hashes of the changes from the refused one on.
    after_refusal: Vec<ChangeHash>,
}

impl LoadSink<'_> {
    /// Records `rebuilt` in the history; false if it cannot be.
    fn record(&mut self, rebuilt: &RebuiltChunk<'_>) -> bool {
        let Some(meta) = self.metas.get(self.next) else {
            return false;
        };
        self.next += 1;
        let (Some(&actor), Some(actor_id)) = (
            self.doc_actor.get(meta.actor as usize),
            self.actors.get(meta.actor as usize),
        ) else {
            return false;
        };
        let change = LoadedChange {
            data: ChangeData {
                hash: rebuilt.hash,
                time: meta.time,
                message: meta.message,
                extra: meta.extra_bytes,
            },
            bytes: rebuilt.bytes,
            actor: actor_id,
            seq: meta.seq,
            start_op: rebuilt.start_op,
        };
        self.history
            .push_loaded(&change, actor, meta.max_op as u32, meta.deps)
            .is_ok()
    }
}

impl RebuiltChunkSink for LoadSink<'_> {
    fn push(&mut self, rebuilt: RebuiltChunk<'_>) {
        if self.refused_at.is_none() && !self.record(&rebuilt) {
            // A refused change adds nothing to the history.
            self.refused_at = Some(self.history.len());
        }
        if self.refused_at.is_some() {
            self.after_refusal.push(rebuilt.hash);
        }
    }

    fn hash(&self, index: usize) -> Option<ChangeHash> {
        match self.refused_at {
            Some(at) if index >= at => self.after_refusal.get(index - at).copied(),
            _ => (index < self.history.len()).then(|| self.history.hash(index)),
        }
    }
}

impl Document {
    /// Builds this (empty) document from a document chunk, reconstructing its changes one at
    /// a time straight into the history (each change is dropped once its bytes are kept, so
    /// the decoded changes are never all alive at once). `Ok(Err(changes))`: the document is
    /// untouched and these are the chunk's changes, for the general path, because the document
    /// is not empty or the chunk's ops do not fit together. `Err`: a mark end precedes its
    /// begin or lies in another object ([`DocError::InvalidMarkOrder`], reported first, as
    /// automerge refuses such a chunk), or the changes cannot be reconstructed or the stored
    /// heads do not match (the document is untouched either way).
    ///
    /// The history's tables are reserved for `later` more changes too: those of the file's
    /// chunks after this one, applied next (a table that grows copies itself, and the
    /// graph's hashes alone are 8 MB for essay.amrg's 262K changes).
    pub(crate) fn bulk_load_before(
        &mut self,
        mut chunk: DocumentChunk,
        later: usize,
        check: HeadsCheck,
        marks: MarkOrderCheck,
    ) -> Result<Result<(), Vec<Change>>, DocError> {
        let rows = scan_change_rows(&chunk);
        let rows = match rows {
            Some(rows)
                if self.ops.ops.is_empty()
                    && self.history.len() == 0
                    && self.history.queued_len() == 0 =>
            {
                rows
            }
            _ => {
                check_mark_order(&chunk, marks)?;
                return Ok(Err(chunk.reconstruct_changes_with(check)?));
            }
        };
        // The chunk's columns, kept as the save cache if the op set and history lay out
        // exactly as the chunk does: actors sorted and all authors (checked here), ops in our
        // document order (checked by `build`). (An empty message is kept as "", as automerge
        // 0.12 keeps it through a load, though a change chunk cannot tell it from none.)
        let columns = chunk
            .take_canonical_columns()
            .filter(|_| rows.all_authored && chunk.actors.windows(2).all(|w| w[0] < w[1]));
        let mut history = History::new();
        let mut first: HashMap<&converge_encoding::ActorId, u32> = HashMap::new();
        // `build` interns the chunk's actors in order: an actor's doc index is its first
        // position.
        let doc_actor: Vec<u32> = chunk
            .actors
            .iter()
            .map(|a| {
                let next = first.len() as u32;
                *first.entry(a).or_insert(next)
            })
            .collect();
        // With room for the edits that follow a load (see `room_after`).
        let changes = chunk.changes.len().saturating_add(later);
        let headroom = room_after(changes);
        history.reserve(
            changes.saturating_add(headroom),
            rows.deps.saturating_add(later).saturating_add(headroom),
        );
        // The changes' deps come as indexes: their hashes are placed in the graph's index
        // once they are all in (see `ChangeGraph::hold_index`).
        history.graph.hold_index();
        let mut sink = LoadSink {
            history,
            metas: &chunk.changes,
            next: 0,
            doc_actor: &doc_actor,
            actors: &chunk.actors,
            refused_at: None,
            after_refusal: Vec::new(),
        };
        // The op set is built beside the rebuild (on another thread, from the decoded ops
        // as they are) for a chunk of a few big changes (see `build_beside`), in slices where
        // a pipelined rebuild of many changes has time to spare (see `build_in_slices`);
        // otherwise after it, from the decoded ops consumed a block at a time.
        let encoding = self.ops.encoding;
        // Where the rebuild found each op, for a build after it.
        let mut rows = None;
        let (stats, built) = if build_beside(chunk.ops.len(), chunk.changes.len()) {
            let (actors, doc_ops) = (&chunk.actors, &chunk.ops);
            chunk.reconstruct_each_chunk_beside(check, &mut sink, || {
                let stats = id_stats(doc_ops, actors.len());
                Document::build(
                    encoding,
                    actors,
                    doc_ops.blocks(),
                    doc_ops.len(),
                    &stats,
                    None,
                )
            })
        } else if build_in_slices(&chunk) {
            let mut work = BuildInSlices::new(encoding, &chunk.actors, &chunk.ops);
            let stats = chunk.reconstruct_each_chunk_sharing(check, &mut sink, &mut work);
            let built = stats.is_ok().then(|| work.finish());
            (stats, built)
        } else {
            let rebuilt = chunk.reconstruct_each_chunk_with_rows(check, &mut sink);
            (
                rebuilt.map(|(stats, found)| {
                    rows = Some(found);
                    stats
                }),
                None,
            )
        };
        let LoadSink {
            mut history,
            refused_at,
            ..
        } = sink;
        history.graph.release_index();
        let refused = refused_at.is_some();
        // A misplaced mark end is reported before anything else, as the check used to run
        // first.
        let stats = match stats {
            Ok(stats) => stats,
            Err(e) => {
                check_mark_order(&chunk, marks)?;
                return Err(e.into());
            }
        };
        // The mark order check reads every op: only a chunk with mark ops needs it (the
        // rebuild counted them).
        if stats.mark_ops > 0 {
            check_mark_order(&chunk, marks)?;
        }
        if refused {
            return Ok(Err(chunk.reconstruct_changes()?));
        }
        // The change rows are in the history now; the op set is built from the ops alone.
        drop(first);
        chunk.changes = DocChanges::new();
        let chunk_ops = std::mem::take(&mut chunk.ops);
        let stored = chunk_ops.len();
        let built = match built {
            Some(built) => {
                drop(chunk_ops);
                built
            }
            None => build_after_rebuild(encoding, &chunk.actors, chunk_ops, &stats, rows),
        };
        let Some((ops, in_our_order)) = built else {
            return Ok(Err(history.changes_at(0..history.len()).collect()));
        };
        let local = self.ops.actors[self.actor as usize].clone();
        self.ops = ops;
        self.actor = self.ops.intern_actor(&local);
        self.ops.refresh_rank();
        self.history = history;
        self.obj_cache = None;
        self.saved_columns = columns
            .filter(|_| in_our_order)
            .map(|c| (self.history.len(), c));
        // The chunk's ops are the arena's first `stored` ops, in row order.
        self.saved_layout = self.saved_columns.as_ref().map(|_| {
            SavedLayout::new(
                self.ops.ops.len() as u32,
                stored as u32,
                authors(self),
                BaseRows::Identity,
            )
        });
        if self.saved_layout.is_some() {
            self.ops.start_logging();
        }
        self.saved_chunk.clear();
        Ok(Ok(()))
    }

    /// [`Document::bulk_load_before`] with no chunk after this one.
    #[cfg(test)]
    pub(crate) fn bulk_load(
        &mut self,
        chunk: DocumentChunk,
    ) -> Result<Result<(), Vec<Change>>, DocError> {
        self.bulk_load_before(chunk, 0, HeadsCheck::Check, MarkOrderCheck::Validate)
    }

    /// The op set of a chunk's ops, and whether the chunk lists them exactly in the order a
    /// save writes them (objects by id, map keys ascending and each key's ops together, a
    /// sequence element's other ops right after it, successors ascending, increments signed,
    /// make ops valueless), so that its columns are what a save would write.
    ///
    /// Blocks handed over owned are dropped as soon as they are read, so that the decoded ops
    /// and the op set are never both whole (godot-thread's 9.4M decoded ops are 450 MB); a
    /// build beside the rebuild borrows them. `n_ops` is their number and `stats` describes
    /// their ids (from the rebuild, or [`id_stats`]); `rows`, if given, is where the rebuild
    /// found each of these ops by id.
    pub(crate) fn build<B: std::borrow::Borrow<DocOpBlock>>(
        encoding: TextEncoding,
        actors: &[ActorId],
        blocks: impl Iterator<Item = B>,
        n_ops: usize,
        stats: &OpIdStats,
        rows: Option<Arc<OpRows>>,
    ) -> Option<(OpSet, bool)> {
        let mut builder = OpSetBuilder::new(encoding, actors, n_ops, stats, rows)?;
        for block in blocks {
            let block = block.borrow();
            builder.push_rows(block, 0..block.len())?;
        }
        builder.finish()
    }
}

/// [`Document::build`] a slice of rows at a time: pass 1 (the stored ops, in document order)
/// row by row, then [`OpSetBuilder::finish`] (successors and widths).
pub(crate) struct OpSetBuilder {
    set: OpSet,
    /// Chunk actor index → op set actor index.
    actor_map: Vec<u32>,
    ids: IdIndex,
    /// (stored op's arena index, successor id), for pass 2.
    pending: Vec<(u32, OpId)>,
    /// Whether the rows so far are in the order a save writes them.
    in_order: bool,
    /// The object of the previous op, its last map key and its last element (arena index
    /// and id).
    prev_obj: Option<Option<OpId>>,
    prev_key: Option<u32>,
    last_elem: u32,
    last_elem_id: OpId,
    /// The op set's number of that object.
    obj: u32,
    /// The first row pushed: 0, or for the later part of a build in two, where it starts.
    start: u32,
    /// What the later part of a build in two keeps for joining (`None` otherwise).
    later: Option<LaterPart>,
}

/// What the builder of the later part of a build in two ([`OpSetBuilder::later_part`])
/// keeps so that [`OpSetBuilder::join`] can put it after the earlier part: which of its ops
/// hold its own key ids or offsets into its own byte arena, and which objects made before
/// its first row it filled.
struct LaterPart {
    /// Arena indexes of its map ops (their key ids are its own until joined).
    keyed: Vec<u32>,
    /// Arena indexes of its ops whose value lies in its byte arena.
    in_bytes: Vec<u32>,
    /// Objects made by an op before its first row whose ops it pushed (their bodies are its).
    borrowed: Vec<u32>,
    /// The number of its first object made by one of its own rows.
    first_obj: u32,
}

impl OpSetBuilder {
    /// A builder for `n_ops` stored ops whose ids `stats` describes (from the rebuild, or
    /// [`id_stats`]), by the chunk's `actors`; `rows`, if given, is where the change rebuild
    /// found each of the chunk's ops by id, which then need not be placed again (it is
    /// used where the chunk's actors are the op set's, that is, all distinct).
    pub(crate) fn new(
        encoding: TextEncoding,
        actors: &[ActorId],
        n_ops: usize,
        stats: &OpIdStats,
        rows: Option<Arc<OpRows>>,
    ) -> Option<Self> {
        let mut set = OpSet::new(encoding);
        let actor_map: Vec<u32> = actors.iter().map(|a| set.intern_actor(a)).collect();
        set.refresh_rank();
        let same_actors = set.actors.len() == actor_map.len()
            && actor_map.iter().enumerate().all(|(i, &a)| a as usize == i);
        let ids = match rows {
            Some(rows) if same_actors => IdIndex::Rows(rows),
            _ => IdIndex::new(stats, &actor_map, set.actors.len(), n_ops),
        };
        let n_succ = usize::try_from(stats.succ_ids).ok()?;
        set.ops.reserve(n_ops);
        // Room for the successors the edits after the load link.
        set.succs
            .reserve_exact(n_succ.saturating_add(room_after(n_succ)));
        Some(OpSetBuilder::fresh(
            set,
            actor_map,
            ids,
            Vec::with_capacity(n_succ),
            0,
            None,
        ))
    }

    /// A builder of these parts, before its first row (`start`).
    fn fresh(
        set: OpSet,
        actor_map: Vec<u32>,
        ids: IdIndex,
        pending: Vec<(u32, OpId)>,
        start: u32,
        later: Option<LaterPart>,
    ) -> Self {
        OpSetBuilder {
            set,
            actor_map,
            ids,
            pending,
            in_order: true,
            prev_obj: None,
            prev_key: None,
            last_elem: NONE,
            last_elem_id: OpId::new(0, 0),
            obj: 0,
            start,
            later,
        }
    }

    /// A builder of the ops from row `start` on, to be joined after a builder of the rows
    /// before it ([`OpSetBuilder::join`]): the objects made before `start` are placeholders
    /// until one of its ops names them, and its key ids and byte arena are its own until
    /// joined. `rows` must be where the rebuild found the chunk's ops, and the chunk's
    /// `actors` all distinct (`None` otherwise).
    fn later_part(
        encoding: TextEncoding,
        actors: &[ActorId],
        start: u32,
        rows: Arc<OpRows>,
    ) -> Option<Self> {
        let mut set = OpSet::new(encoding);
        let actor_map: Vec<u32> = actors.iter().map(|a| set.intern_actor(a)).collect();
        if !actor_map.iter().enumerate().all(|(i, &a)| a as usize == i) {
            return None;
        }
        set.refresh_rank();
        // Objects are numbered in the order of their make ops, the root being 0.
        let first_obj = 1 + rows.made_objects().partition_point(|m| m.0 < start);
        set.objects
            .resize_with(first_obj, || Object::new(ObjType::Map, NONE));
        let filler = Op::new(
            (OpId::new(0, 0), 0, NONE),
            Action::Set,
            false,
            false,
            StoredValue::Null,
        );
        set.ops = OpArena::starting_at(start as usize, filler);
        let part = LaterPart {
            keyed: Vec::new(),
            in_bytes: Vec::new(),
            borrowed: Vec::new(),
            first_obj: u32::try_from(first_obj).ok()?,
        };
        Some(OpSetBuilder::fresh(
            set,
            actor_map,
            IdIndex::Rows(rows),
            Vec::new(),
            start,
            Some(part),
        ))
    }

    /// This builder (of the rows before `later.start`, all pushed) followed by `later` (of
    /// the rows from there on, all pushed), whose first row's object is `later_first`:
    /// what one builder of all the rows would be. `None` if they do not fit together.
    fn join(mut self, later: OpSetBuilder, later_first: Option<OpId>) -> Option<OpSetBuilder> {
        let OpSetBuilder {
            set: mut theirs,
            pending,
            in_order,
            prev_obj,
            prev_key,
            last_elem,
            last_elem_id,
            obj,
            start,
            later: part,
            ..
        } = later;
        let part = part?;
        if self.set.ops.len() != start as usize || self.set.objects.len() != part.first_obj as usize
        {
            return None;
        }
        // Key ids: the later part's own, interned here in its order.
        let remap: Vec<u32> = theirs.keys.iter().map(|k| self.set.intern_key(k)).collect();
        let base = u32::try_from(self.set.bytes.len()).ok()?;
        u32::try_from(self.set.bytes.len() + theirs.bytes.len()).ok()?;
        self.set.bytes.extend_from_slice(&theirs.bytes);
        let ops = std::mem::take(&mut self.set.ops);
        self.set.ops = ops.join(std::mem::take(&mut theirs.ops));
        for &i in &part.keyed {
            let op = self.set.ops.get_mut(i as usize)?;
            op.key = *remap.get(op.key as usize)?;
        }
        for &i in &part.in_bytes {
            let at = self.set.ops.get_mut(i as usize)?.value.arena_offset_mut()?;
            *at = U32::new(at.get().checked_add(base)?);
        }
        for &n in &part.borrowed {
            let filled = theirs.objects.get_mut(n as usize)?;
            let body = std::mem::replace(&mut filled.body, Body::Map(Default::default()));
            let mine = self.set.objects.get_mut(n as usize)?;
            // The earlier part must have pushed none of its ops: rows out of order (an
            // object's ops on both sides of the cut) are refused here, as they would be
            // where the later part reads an element the earlier pushed.
            let untouched = match &mine.body {
                Body::Map(map) => map.is_empty(),
                Body::Seq { index, extra } => index.len() == 0 && extra.is_empty(),
            };
            if mine.make_op != filled.make_op || mine.kind != filled.kind || !untouched {
                return None;
            }
            mine.body = body;
        }
        self.set
            .objects
            .extend(theirs.objects.drain(part.first_obj as usize..));
        self.set.mark_names.extend(theirs.mark_names.drain());
        self.set.has_marks |= theirs.has_marks;
        self.pending.extend(pending);
        // In order across the cut too: objects ascend (the cut falls between objects).
        self.in_order &= in_order && self.prev_obj.is_none_or(|p| p < later_first);
        (
            self.prev_obj,
            self.prev_key,
            self.last_elem,
            self.last_elem_id,
            self.obj,
        ) = (prev_obj, prev_key, last_elem, last_elem_id, obj);
        Some(self)
    }

    /// Pass 1 over rows `rows` of `block`, the next in document order. `None` if they do not
    /// fit together with the rows before (the build is then refused).
    pub(crate) fn push_rows(
        &mut self,
        block: &DocOpBlock,
        rows: std::ops::Range<usize>,
    ) -> Option<()> {
        // The scan's state in locals for the loop (written back at the end; a refused build
        // needs none of it).
        let (mut in_order, mut prev_obj, mut prev_key, mut last_elem, mut last_elem_id, mut obj) = (
            self.in_order,
            self.prev_obj,
            self.prev_key,
            self.last_elem,
            self.last_elem_id,
            self.obj,
        );
        let (set, ids, actor_map, pending, start, mut later) = (
            &mut self.set,
            &mut self.ids,
            &self.actor_map,
            &mut self.pending,
            self.start,
            self.later.as_mut(),
        );
        let map_id = |id: OpId| -> Option<OpId> {
            Some(OpId::new(id.counter, *actor_map.get(id.actor as usize)?))
        };
        // By index, not `block.iter()`: the iterator's adapters hand each op over through a
        // stack copy that stalls on the stores just made.
        for k in rows {
            let Some(op) = block.get(k) else { continue };
            let id = map_id(op.id)?;
            let this_obj = match op.obj {
                ObjId::Root => None,
                ObjId::Op(o) => Some(o),
            };
            if prev_obj != Some(this_obj) {
                in_order &= prev_obj.is_none_or(|p| p < this_obj);
                prev_obj = Some(this_obj);
                prev_key = None;
                last_elem = NONE;
                // With the rows in order so far (objects ascending), the object before is
                // complete: its keys' vector, or its last chunk of elements, gives its spare
                // room back for the next objects' (stephen.amrg held 42 % more key slots
                // than keys). Rows out of order may come back to it, and would then shrink
                // and grow it again at every change of object.
                if in_order {
                    match set.objects.get_mut(obj as usize).map(|o| &mut o.body) {
                        Some(Body::Map(map)) => map.shrink_to_fit(),
                        Some(Body::Seq { index, .. }) => index.shrink_last(),
                        None => {}
                    }
                }
                // An object's ops come together (or the rows are out of order, and then
                // each change of object looks it up again).
                obj = match op.obj {
                    ObjId::Root => 0,
                    ObjId::Op(o) => {
                        let make = ids.get(map_id(o)?)?;
                        if make >= start {
                            match set.ops.get(make as usize)?.value {
                                StoredValue::Object(o) => o.get(),
                                _ => return None,
                            }
                        } else {
                            // Made before the later part of a build in two starts.
                            let makes = ids.made_objects()?;
                            let k = makes.binary_search_by_key(&make, |m| m.0).ok()?;
                            let number = u32::try_from(k + 1).ok()?;
                            let made = set.objects.get_mut(number as usize)?;
                            if made.make_op != make {
                                *made = Object::new(made_kind(makes.get(k)?.1)?, make);
                                later.as_mut()?.borrowed.push(number);
                            }
                            number
                        }
                    }
                };
            }
            in_order &= op.succ.windows(2).all(|w| w[0] <= w[1]);
            let kind = set.objects.get(obj as usize)?.kind;
            let key = match (op.key, kind.is_sequence()) {
                (KeyRef::Map(k), false) if !op.insert => {
                    if let Some(p) = prev_key {
                        in_order &= set.keys.get(p as usize).is_some_and(|p| **p <= *k);
                    }
                    let key = set.intern_key(k);
                    prev_key = Some(key);
                    key
                }
                (KeyRef::Seq(ElemId::Head), true) if op.insert => HEAD,
                (KeyRef::Seq(ElemId::Op(e)), true) => {
                    let e = map_id(e)?;
                    if last_elem != NONE && e == last_elem_id {
                        // The element just before, an insert into this object: the rule
                        // in a sequence typed in order (each character after the last) and
                        // for an element's other ops (right after it).
                        last_elem
                    } else {
                        let e = ids.get(e)?;
                        let elem = set.ops.get(e as usize)?;
                        if !elem.insert() || elem.obj != obj {
                            return None;
                        }
                        e
                    }
                }
                _ => return None,
            };
            if kind.is_sequence() && !op.insert {
                in_order &= key == last_elem;
            }
            if op.action == Action::Del {
                return None;
            }
            if op.action.is_make() && op.value != ValueRef::Null {
                in_order = false; // a make op's value is saved as null
            }
            let value = match (op.action, op.value) {
                (Action::Inc, ValueRef::Uint(u)) => {
                    in_order = false; // saved as a signed increment
                    set.store_int(u as i64)
                }
                (Action::Inc, ValueRef::Int(i)) => set.store_int(i),
                (Action::Inc, _) => return None,
                (_, ValueRef::Str(s)) => set.store_str(s),
                (_, ValueRef::Null) => StoredValue::Null,
                (_, v) => set.store_value(&ScalarValue::from(v)),
            };
            let idx = set.push_bulk(NewOp {
                id,
                obj,
                key,
                insert: op.insert,
                action: op.action,
                value,
                expand: op.expand,
                mark_name: op.mark_name.map(String::from),
            });
            if !ids.insert(id, idx) {
                return None;
            }
            // (Only the later part of a build in two lists these; `value` is a copy.)
            if let Some(part) = later.as_mut() {
                if matches!(op.key, KeyRef::Map(_)) {
                    part.keyed.push(idx);
                }
                if value.in_byte_arena() {
                    part.in_bytes.push(idx);
                }
            }
            if op.insert {
                last_elem = idx;
                last_elem_id = id;
            }
            pending.extend(op.succ.iter().map(|&s| (idx, s)));
        }
        (
            self.in_order,
            self.prev_obj,
            self.prev_key,
            self.last_elem,
            self.last_elem_id,
            self.obj,
        ) = (in_order, prev_obj, prev_key, last_elem, last_elem_id, obj);
        Some(())
    }

    /// Pass 2 (successors) and the widths: the op set, and whether the rows were in the
    /// order a save writes them. `None` if the successors do not fit.
    pub(crate) fn finish(self) -> Option<(OpSet, bool)> {
        let OpSetBuilder {
            mut set,
            actor_map,
            ids,
            pending,
            in_order,
            ..
        } = self;
        let map_id = |id: OpId| -> Option<OpId> {
            Some(OpId::new(id.counter, *actor_map.get(id.actor as usize)?))
        };
        // Pass 2: successors, in document order; ids that are not stored ops are deletions
        // (one entry in `dels` for each pred a deletion has: they are never looked up by id).
        let mut max_del = 0;
        // The objects some op of which gained a successor: only their elements' widths can
        // differ from those given at push time.
        let mut touched = vec![false; set.objects.len()];
        for (pred, s) in pending {
            let s = map_id(s)?;
            let succ = match ids.get(s) {
                Some(idx) => idx,
                None => {
                    let idx = DEL | u32::try_from(set.dels.len()).ok().filter(|&i| i < DEL)?;
                    set.dels.push(s);
                    max_del = max_del.max(s.counter);
                    idx
                }
            };
            if let Some(t) = set
                .ops
                .get(pred as usize)
                .and_then(|op| touched.get_mut(op.obj as usize))
            {
                *t = true;
            }
            set.link_succ(pred, succ);
        }
        let by_actor = ids.into_by_actor();
        set.max_op = by_actor
            .iter()
            .filter_map(|l| l.last())
            .map(|(c, _)| c)
            .max()
            .unwrap_or(0)
            .max(max_del);
        set.by_actor = by_actor;

        // Widths, now that visibility is known.
        for o in 0..set.objects.len() {
            let kind = set.objects[o].kind;
            if !kind.is_sequence() {
                continue;
            }
            let Body::Seq { mut index, extra } =
                std::mem::replace(&mut set.objects[o].body, Body::Map(Default::default()))
            else {
                continue;
            };
            if extra.is_empty() && !touched.get(o).is_some_and(|&t| t) {
                // Every element is its insert op, visible with its width (godot-thread's
                // 9.4M characters were each read from the arena again to check that).
                index.finish_bulk_unchanged();
                set.objects[o].body = Body::Seq { index, extra };
                continue;
            }
            index.finish_bulk(|e, width| {
                if extra.contains_key(&e) {
                    set.element_width_with(&extra, e, kind)
                } else if set.visible(e, View::Now) {
                    width
                } else {
                    0
                }
            });
            set.objects[o].body = Body::Seq { index, extra };
        }

        Some((set, in_order))
    }
}

/// The op id statistics [`Document::build`] needs, read from the decoded ops themselves, for a
/// build that starts before the rebuild knows them: per chunk actor, the counter range of its
/// stored ops' and successors' ids and a count of them that takes a successor that is also a
/// stored op twice (an upper bound: the count only chooses the id index's form), and the
/// number of successor ids. No mark count.
pub(crate) fn id_stats(ops: &DocOps, n_actors: usize) -> OpIdStats {
    let mut stats = OpIdStats::new(n_actors);
    for block in ops.blocks() {
        note_ids(&mut stats, block, 0..block.len());
    }
    stats
}

/// Notes the ids of rows `rows` of `block` in `stats` (see [`id_stats`]).
fn note_ids(stats: &mut OpIdStats, block: &DocOpBlock, rows: std::ops::Range<usize>) {
    for k in rows {
        let Some(op) = block.get(k) else { continue };
        stats.note(op.id);
        stats.succ_ids += op.succ.len() as u64;
        for &s in op.succ {
            stats.note(s);
        }
    }
}

/// Ops from which the op-set build after the change rebuild splits its rows between two
/// threads (see [`build_after_rebuild`]): 2^22, four blocks of decoded rows. Each thread
/// holds the block it is reading until it has read all of it, so a build in two holds one
/// block more at its peak than one thread does: godot-thread.amrg's (9 blocks) 535 →
/// 580 MB, for 17-20 % less load time; webstraits.amrg's (930K ops, 2 blocks) 71 → 87 MB
/// for 115 → 95 ms, not taken. (Allocating the later part's arena pages on the calling
/// thread, so that they came from the heap the load had freed into, changed nothing.)
const SPLIT_BUILD_OPS: usize = if cfg!(test) || cfg!(fuzzing) {
    64
} else {
    1 << 22
};

/// The op set of a chunk's decoded `ops` (see [`Document::build`]) after its change rebuild,
/// which found each op by id (`rows`, if it handed them on). Each block of decoded ops is
/// dropped once read. With many ops and a second core, the rows are cut between two
/// objects near the middle, the later part is built on a second thread
/// ([`OpSetBuilder::later_part`]) while this one builds the earlier, and the later is
/// joined after the earlier ([`OpSetBuilder::join`]): the op set one thread builds. The
/// block holding the cut is kept until both are done.
pub(crate) fn build_after_rebuild(
    encoding: TextEncoding,
    actors: &[ActorId],
    ops: DocOps,
    stats: &OpIdStats,
    rows: Option<OpRows>,
) -> Option<(OpSet, bool)> {
    let n = ops.len();
    let Some(rows) = rows else {
        return Document::build(encoding, actors, ops.into_blocks(), n, stats, None);
    };
    let cut = if n >= SPLIT_BUILD_OPS && crate::save::second_core() {
        object_cut(&ops)
    } else {
        None
    };
    let rows = Arc::new(rows);
    let Some((cut, later_first)) = cut else {
        return Document::build(encoding, actors, ops.into_blocks(), n, stats, Some(rows));
    };
    build_in_two(encoding, actors, ops, stats, rows, (cut, later_first))
}

/// [`build_after_rebuild`] with the rows cut at `cut`, the first row of an object
/// (`later_first`, `None` for the root) that is not the object of the row before.
pub(crate) fn build_in_two(
    encoding: TextEncoding,
    actors: &[ActorId],
    ops: DocOps,
    stats: &OpIdStats,
    rows: Arc<OpRows>,
    (cut, later_first): (usize, Option<OpId>),
) -> Option<(OpSet, bool)> {
    let n = ops.len();
    let mut first = OpSetBuilder::new(encoding, actors, n, stats, Some(Arc::clone(&rows)))?;
    let later = OpSetBuilder::later_part(encoding, actors, u32::try_from(cut).ok()?, rows);
    let Some(later) = later else {
        // The chunk names an actor twice: one thread, as `Document::build` does.
        for block in ops.into_blocks() {
            first.push_rows(&block, 0..block.len())?;
        }
        return first.finish();
    };
    // The blocks before the one holding the cut, that one (shared if the cut falls inside
    // it), and those after it.
    let mut blocks: Vec<DocOpBlock> = ops.into_blocks().collect();
    let (mut at, mut holding) = (0usize, blocks.len());
    for (b, block) in blocks.iter().enumerate() {
        if cut < at + block.len() {
            holding = b;
            break;
        }
        at += block.len();
    }
    let off = cut - at;
    let mut after = blocks.split_off(holding.min(blocks.len()));
    let shared = if off > 0 && !after.is_empty() {
        Some(after.remove(0))
    } else {
        None
    };
    let job = std::sync::Mutex::new(Some((later, after)));
    let (mine, theirs) = std::thread::scope(|scope| {
        let shared = shared.as_ref();
        let job = &job;
        // Run once, by a second thread, or by this one if none starts.
        let build_later = move || -> Option<OpSetBuilder> {
            let (mut later, after) = job.lock().unwrap_or_else(|e| e.into_inner()).take()?;
            if let Some(block) = shared {
                later.push_rows(block, off..block.len())?;
            }
            for block in after {
                later.push_rows(&block, 0..block.len())?;
            }
            Some(later)
        };
        let helper = std::thread::Builder::new()
            .name("converge-build".into())
            .spawn_scoped(scope, build_later);
        let mine = (|| {
            for block in blocks {
                first.push_rows(&block, 0..block.len())?;
            }
            if let Some(block) = shared {
                first.push_rows(block, 0..off)?;
            }
            Some(())
        })();
        let theirs = match helper.map(|h| h.join()) {
            Ok(Ok(theirs)) => theirs,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => build_later(),
        };
        (mine, theirs)
    });
    mine?;
    first.join(theirs?, later_first)?.finish()
}

/// Where to cut a chunk's op rows for [`build_after_rebuild`]: the first row from the middle
/// on whose object is not that of the row before, within the third quarter of the rows, and
/// that object (`None` for the root). `None` if one object holds all those rows. (Preferring
/// the boundary just before the block boundary nearest the middle, so that the later part
/// holds little of the block the earlier part reads last, left godot-thread.amrg's peak
/// where it was and its parts less even: 792-816 → 839 ms.)
pub(crate) fn object_cut(ops: &DocOps) -> Option<(usize, Option<OpId>)> {
    let n = ops.len();
    let obj_of = |i: usize| {
        ops.get(i).map(|op| match op.obj {
            ObjId::Root => None,
            ObjId::Op(o) => Some(o),
        })
    };
    let mut k = n / 2;
    let mut prev = obj_of(k.checked_sub(1)?)?;
    while k < n - n / 4 {
        let this = obj_of(k)?;
        if this != prev {
            return Some((k, this));
        }
        prev = this;
        k += 1;
    }
    None
}

/// Whether a bulk load of a chunk of `ops` stored ops in `changes` changes builds the op set
/// beside the change rebuild, on the other core, from the decoded ops kept whole until both
/// are done (see [`DocumentChunk::reconstruct_each_chunk_beside`], which does so only where
/// the rebuild runs on one thread), rather than after it, consuming the decoded ops a block at
/// a time. The peak then holds the decoded ops and the op set together, so only for chunks of
/// a few big changes (4,096 ops a change or more: an import, a batch), whose rebuild encodes
/// each change on one thread, and whose load costs automerge three times our peak even then:
/// egwalker S3.am (2 changes, 1.23M ops) 328-336 → 236-239 ms for 130 → 229-237 MB of RSS
/// (automerge: 726), S1.am 117-125 → 73-75 ms, 57 → 81 MB (248), S2.am 71 → 97-112 MB (339).
/// A1.am (956 changes of 511 ops) gained 30 % too, but its peak went from 66 to 99-107 MB,
/// above automerge's 102: not done. Below 16K ops a thread costs more than it saves; above 2M
/// the decoded ops are too big to keep (godot-thread.amrg's 9.4M are ~450 MB, and the op set
/// built from them as much again).
fn build_beside(ops: usize, changes: usize) -> bool {
    (1 << 14..=1 << 21).contains(&ops) && ops >= changes.saturating_mul(4096)
}

/// Whether a bulk load of `chunk` builds its op set in slices on another thread while the
/// change rebuild makes its plan (one thread's work), and then on whichever thread of the
/// pipelined rebuild has time to spare (see [`DocumentChunk::reconstruct_each_chunk_sharing`]),
/// from the decoded ops kept whole until both are done, rather than after the rebuild,
/// consuming them a block at a time. That holds for a chunk of many changes (a pipelined
/// rebuild) whose decoded ops (40 bytes an op) are few beside what the load keeps of its
/// changes anyway (hash, chunk and graph entry, ~180 bytes a change): at most 2^18 ops, or
/// at most 2^20 and 8 a change.
///
/// Measured (`load_probe FILE 9`, interleaved with the build after the rebuild, peak RSS by
/// `doc_peak_memory`): the paper document (259,779 changes, 182K ops) 76-80 → 73-78 ms
/// (76.5 MB either way); essay.amrg (262,516 changes, 504K ops) 180-187 → 157-158 ms for
/// 107 → 135 MB (automerge: 331); egwalker C1.am (93,152 changes, 593K ops) 129-132 →
/// 101-103 ms for 73 → 81 MB (191); C2.am (134,477 changes, 568K ops) 148-151 → 116-119 ms
/// for 80 → 87 MB (219); monday-meeting-notes (15,529 changes of 69 actors) within noise.
/// egwalker A2.am (3,208 changes, 459K ops) also loaded 25 % faster so, but its peak went
/// from 56 to 73 MB, above automerge's 70: hence the bound per change.
fn build_in_slices(chunk: &DocumentChunk) -> bool {
    let ops = chunk.ops.len();
    chunk.rebuild_is_pipelined()
        && (ops <= 1 << 18
            || (ops <= SLICES_MAX_OPS && ops <= chunk.changes.len().saturating_mul(8)))
}

/// The most ops for which [`build_in_slices`] holds.
const SLICES_MAX_OPS: usize = 1 << 20;

/// Rows of decoded ops per slice of [`BuildInSlices`] (a fraction of a millisecond).
const SLICE_ROWS: usize = 4096;

/// [`Document::build`] as side work of a pipelined rebuild: the op id statistics
/// ([`id_stats`]), then pass 1, [`SLICE_ROWS`] rows a step; [`BuildInSlices::finish`] does
/// what is left.
struct BuildInSlices<'c> {
    encoding: TextEncoding,
    actors: &'c [ActorId],
    blocks: &'c [DocOpBlock],
    n_ops: usize,
    stats: OpIdStats,
    /// The next row: block, row in the block.
    at: (usize, usize),
    state: SliceState,
}

enum SliceState {
    /// Noting the ids.
    Stats,
    /// Pass 1.
    Building(OpSetBuilder),
    /// Pass 1 done: pass 2 and the widths are the next step.
    Built(OpSetBuilder),
    /// All done: the op set and whether the rows were in the order a save writes them.
    Done(OpSet, bool),
    /// The rows do not fit together: the build is refused.
    Refused,
}

impl<'c> BuildInSlices<'c> {
    fn new(encoding: TextEncoding, actors: &'c [ActorId], ops: &'c DocOps) -> Self {
        BuildInSlices {
            encoding,
            actors,
            blocks: ops.blocks().as_slice(),
            n_ops: ops.len(),
            stats: OpIdStats::new(actors.len()),
            at: (0, 0),
            state: SliceState::Stats,
        }
    }

    /// The next slice's rows, moving the cursor past them; `None` at the end.
    fn next_rows(&mut self) -> Option<(&'c DocOpBlock, std::ops::Range<usize>)> {
        let blocks = self.blocks;
        loop {
            let (b, row) = self.at;
            let block = blocks.get(b)?;
            if row >= block.len() {
                self.at = (b + 1, 0);
                continue;
            }
            let end = block.len().min(row + SLICE_ROWS);
            self.at = (b, end);
            return Some((block, row..end));
        }
    }

    /// Runs the steps left, then pass 2: the op set and whether the rows were in the order
    /// a save writes them, or `None` if they do not fit together.
    fn finish(mut self) -> Option<(OpSet, bool)> {
        while self.step() {}
        match self.state {
            SliceState::Done(set, in_order) => Some((set, in_order)),
            // `step` returns false only once done or refused.
            SliceState::Stats
            | SliceState::Building(_)
            | SliceState::Built(_)
            | SliceState::Refused => None,
        }
    }
}

impl SideWork for BuildInSlices<'_> {
    fn step(&mut self) -> bool {
        match &mut self.state {
            SliceState::Stats => match self.next_rows() {
                Some((block, rows)) => note_ids(&mut self.stats, block, rows),
                None => {
                    self.at = (0, 0);
                    self.state = match OpSetBuilder::new(
                        self.encoding,
                        self.actors,
                        self.n_ops,
                        &self.stats,
                        None,
                    ) {
                        Some(builder) => SliceState::Building(builder),
                        None => SliceState::Refused,
                    };
                }
            },
            SliceState::Building(_) => {
                let next = self.next_rows();
                let SliceState::Building(builder) = &mut self.state else {
                    return false;
                };
                match next {
                    Some((block, rows)) => {
                        if builder.push_rows(block, rows).is_none() {
                            self.state = SliceState::Refused;
                        }
                    }
                    None => {
                        let state = std::mem::replace(&mut self.state, SliceState::Refused);
                        if let SliceState::Building(builder) = state {
                            self.state = SliceState::Built(builder);
                        }
                    }
                }
            }
            SliceState::Built(_) => {
                let state = std::mem::replace(&mut self.state, SliceState::Refused);
                if let SliceState::Built(builder) = state
                    && let Some((set, in_order)) = builder.finish()
                {
                    self.state = SliceState::Done(set, in_order);
                }
            }
            SliceState::Done(..) | SliceState::Refused => return false,
        }
        true
    }
}

/// What the bulk load learns of a chunk's change rows in one pass over them.
struct ChangeRows {
    /// Every chunk actor authored a change.
    all_authored: bool,
    /// The dependency edges the graph will store for them (all deps but single deps on the
    /// previous change).
    deps: usize,
}

/// The change rows' [`ChangeRows`], if they can be taken as they are: one change per row,
/// actors in range, deps pointing backwards, max ops within 32 bits.
fn scan_change_rows(chunk: &DocumentChunk) -> Option<ChangeRows> {
    let mut authored = vec![false; chunk.actors.len()];
    let (mut rows, mut deps) = (0usize, 0usize);
    for (i, c) in chunk.changes.iter().enumerate() {
        *authored.get_mut(c.actor as usize)? = true;
        if !c.deps.iter().all(|&d| (d as usize) < i) || u32::try_from(c.max_op).is_err() {
            return None;
        }
        // The history starts empty, so change `i` goes to graph index `i`.
        deps += converge_dag::ChangeGraph::stored_edges(i, c.deps);
        rows += 1;
    }
    (rows == chunk.changes.len()).then(|| ChangeRows {
        all_authored: authored.iter().all(|&a| a),
        deps,
    })
}

impl OpSet {
    /// Adds an op in document order: like [`OpSet::apply`] but appending sequence elements
    /// (with their insert op's width, which the caller corrects once visibility is known) and
    /// group members at the end, and leaving ids and successors to the caller.
    ///
    /// Always inlined into its one caller, which builds `new` field by field just before:
    /// passed through memory, the op's id and value were read back as one 16-byte word
    /// before those stores had left the store buffer, a stall on every op (30 % of this
    /// function's samples on godot-thread's load).
    #[inline(always)]
    fn push_bulk(&mut self, mut new: NewOp) -> u32 {
        // (Never a deletion: those are kept as ids, in `dels`.)
        let idx = self.push_record(&mut new);
        let key = new.key;
        // An element's width if its insert op wins (read while its string is in cache);
        // `build` zeroes hidden ones and recomputes elements with other ops.
        let width = match self.objects.get(new.obj as usize) {
            Some(o) if new.insert && (new.action == Action::Set || new.action.is_make()) => {
                self.value_width(&self.ops[idx as usize].value, o.kind)
            }
            _ => 0,
        };
        let keys = &self.keys;
        match &mut self.objects[new.obj as usize].body {
            Body::Map(map) => {
                let name = &keys[key as usize];
                map.group_mut(name).push(idx);
            }
            Body::Seq { index, extra } => {
                if new.insert {
                    index.push_back_bulk(crate::seq::Entry { op: idx, width }, &mut self.ops);
                } else {
                    extra.entry(key).or_default().push(idx);
                }
            }
        }
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ExpandMark, ROOT};
    use converge_encoding::{ActorId, ScalarValue};

    /// The three id indexes agree, whatever the spread of the ids: each finds what was
    /// inserted, refuses a duplicate, misses an absent id, and hands back the same counters
    /// per actor; and `new` picks the one that fits.
    #[test]
    fn the_id_indexes_agree() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rng = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let n_actors = 6usize;
        // Lamport-like counters: mostly one actor a counter, some shared by two.
        let mut ids: Vec<OpId> = Vec::new();
        for counter in 10..3_000u32 {
            let a = (rng() % n_actors as u64) as u32;
            ids.push(OpId::new(counter, a));
            if rng() % 8 == 0 {
                ids.push(OpId::new(counter, (a + 1) % n_actors as u32));
            }
        }
        let mut ranges = vec![(u32::MAX, 0u32); n_actors];
        for id in &ids {
            let r = &mut ranges[id.actor as usize];
            r.0 = r.0.min(id.counter);
            r.1 = r.1.max(id.counter);
        }
        let dense = IdIndex::Dense(
            ranges
                .iter()
                .map(|&(lo, hi)| (lo, vec![NONE; (hi - lo) as usize + 1]))
                .collect(),
        );
        let by_counter = IdIndex::ByCounter {
            base: 10,
            slots: vec![(NONE, 0); 2_990],
            shared: IdMap::default(),
            n_actors,
        };
        let hash = IdIndex::Hash(IdMap::default(), n_actors);
        let mut lists = Vec::new();
        for mut index in [dense, by_counter, hash] {
            for (i, &id) in ids.iter().enumerate() {
                assert!(index.insert(id, i as u32));
            }
            for (i, &id) in ids.iter().enumerate() {
                assert_eq!(index.get(id), Some(i as u32));
                // (The map keeps the value given last: `build` gives up on a duplicate.)
                assert!(!index.insert(id, i as u32));
            }
            let taken: std::collections::HashSet<OpId> = ids.iter().copied().collect();
            for counter in 10..3_000u32 {
                for a in 0..n_actors as u32 {
                    let id = OpId::new(counter, a);
                    if !taken.contains(&id) {
                        assert_eq!(index.get(id), None);
                    }
                }
            }
            let by_actor: Vec<Vec<(u32, u32)>> = index
                .into_by_actor()
                .iter()
                .map(|ops| {
                    (0..3_000)
                        .filter_map(|c| ops.get(c).map(|i| (c, i)))
                        .collect()
                })
                .collect();
            lists.push(by_actor);
        }
        assert_eq!(lists[0], lists[1]);
        assert_eq!(lists[0], lists[2]);

        // Which one `new` picks: dense per actor up to 4 slots an id; then one slot per
        // counter up to 2 slots an id over all actors; else the map.
        let pick = |ranges: Vec<(u32, u32, u64)>| {
            let stats = OpIdStats {
                ranges,
                succ_ids: 0,
                mark_ops: 0,
            };
            let map: Vec<u32> = (0..stats.ranges.len() as u32).collect();
            match IdIndex::new(&stats, &map, stats.ranges.len(), 0) {
                IdIndex::Dense(_) => "dense",
                IdIndex::ByCounter { .. } => "by counter",
                IdIndex::Hash(..) => "hash",
                IdIndex::Rows(_) => "rows",
            }
        };
        assert_eq!(pick(vec![(1, 100_000, 100_000)]), "dense");
        assert_eq!(pick(vec![(1, 100_000, 30_000); 3]), "dense");
        assert_eq!(pick(vec![(1, 100_000, 1_000); 100]), "by counter");
        assert_eq!(pick(vec![(1, 1_000_000, 1_000); 100]), "hash");
    }

    /// A chunk of few changes and many ops has its op set built beside the change rebuild
    /// (where the machine has a second core): it loads to what was saved, and stored heads
    /// that do not match still refuse it, the document untouched.
    /// A chunk of many changes (a pipelined rebuild) has its op set built in slices by the
    /// rebuild's threads, and loads as it does otherwise.
    #[test]
    fn a_chunk_of_many_changes_loads_with_its_op_set_built_in_slices() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[3]));
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        let mut b = a.fork();
        b.set_actor(ActorId::from_bytes(&[4]));
        for i in 0..3_000usize {
            let (doc, at) = if i % 3 == 0 {
                (&mut b, 0)
            } else {
                (&mut a, i / 2)
            };
            let len = doc.length(&t).unwrap();
            let at = at.min(len);
            let del = usize::from(i % 4 == 1 && at < len);
            doc.splice_text(&t, at, del, "héllo wörld").unwrap();
            if i % 500 == 499 {
                a.merge(&b).unwrap();
                b.merge(&a).unwrap();
            }
        }
        a.merge(&b).unwrap();
        let chunk = a.document_chunk();
        assert!(chunk.changes.len() > 3_000 && chunk.ops.len() > SLICE_ROWS * 4);
        assert_eq!(build_in_slices(&chunk), chunk.rebuild_is_pipelined());
        // The slices build what the one-piece build does.
        let work = BuildInSlices::new(TextEncoding::default(), &chunk.actors, &chunk.ops);
        let (sliced, in_order) = work_finish(work);
        let stats = id_stats(&chunk.ops, chunk.actors.len());
        let (whole, whole_in_order) = Document::build(
            TextEncoding::default(),
            &chunk.actors,
            chunk.ops.blocks(),
            chunk.ops.len(),
            &stats,
            None,
        )
        .unwrap();
        assert_eq!(in_order, whole_in_order);
        assert_eq!(sliced.ops.len(), whole.ops.len());

        let mut bulk = Document::with_actor(ActorId::from_bytes(&[9]));
        assert!(matches!(bulk.bulk_load(chunk), Ok(Ok(()))));
        assert_eq!(bulk.text(&t), a.text(&t));
        assert_eq!(bulk.heads(), a.heads());
        assert_eq!(bulk.value_tree(&ROOT), a.value_tree(&ROOT));
        assert_eq!(bulk.save_nocompress(), a.save_nocompress());
        let (mut x, mut y) = (bulk.fork(), a.fork());
        x.splice_text(&t, 3, 1, "z").unwrap();
        y.splice_text(&t, 3, 1, "z").unwrap();
        assert_eq!(x.text(&t), y.text(&t));
    }

    /// Steps `work` to its end one slice at a time, then finishes it.
    fn work_finish(mut work: BuildInSlices<'_>) -> (OpSet, bool) {
        let mut steps = 0;
        while work.step() {
            steps += 1;
        }
        assert!(steps > 4);
        work.finish().unwrap()
    }

    #[test]
    fn a_chunk_of_few_changes_and_many_ops_loads_with_its_op_set_built_beside() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[3]));
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        let text: String = (0..20_000u32)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let mut tx = a.transaction();
        tx.splice_text(&t, 0, 0, &text).unwrap();
        tx.splice_text(&t, 100, 5_000, "é").unwrap();
        tx.commit().unwrap();
        a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        let chunk = a.document_chunk();
        assert!(build_beside(chunk.ops.len(), chunk.changes.len()));

        let mut bulk = Document::with_actor(ActorId::from_bytes(&[9]));
        assert!(matches!(bulk.bulk_load(chunk.clone()), Ok(Ok(()))));
        assert_eq!(bulk.text(&t), a.text(&t));
        assert_eq!(bulk.heads(), a.heads());
        assert_eq!(bulk.value_tree(&ROOT), a.value_tree(&ROOT));
        assert_eq!(bulk.save_nocompress(), a.save_nocompress());

        let mut bad = chunk;
        bad.heads = vec![ChangeHash([7; 32])];
        let mut empty = Document::with_actor(ActorId::from_bytes(&[9]));
        assert!(empty.bulk_load(bad).is_err());
        assert!(empty.heads().is_empty());
        assert_eq!(empty.value_tree(&ROOT), Document::new().value_tree(&ROOT));
    }

    /// Once the bulk load's sink refuses a change (here: it runs out of change rows after
    /// two of four), it keeps no more chunks but still every hash, from the history before
    /// the refusal and its own list after: the rebuild finds later deps and passes the
    /// heads check, and the loader falls back to the general path.
    #[test]
    fn the_load_sink_keeps_hashes_after_a_refusal() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1]));
        for i in 0..4 {
            a.put(&ROOT, "k", ScalarValue::Int(i)).unwrap();
        }
        let chunk = a.document_chunk();
        let rebuilt = chunk.reconstruct_changes().unwrap();
        for (rows, refused_at) in [(2, Some(2)), (0, Some(0)), (4, None)] {
            let mut history = History::new();
            history.reserve(4, 4);
            let metas: DocChanges = chunk
                .changes
                .iter()
                .take(rows)
                .map(converge_encoding::DocChange::from)
                .collect();
            let mut sink = LoadSink {
                history,
                metas: &metas,
                next: 0,
                doc_actor: &[0],
                actors: &chunk.actors,
                refused_at: None,
                after_refusal: Vec::new(),
            };
            chunk
                .reconstruct_each_chunk(HeadsCheck::Check, &mut sink)
                .unwrap();
            assert_eq!(sink.refused_at, refused_at);
            assert_eq!(sink.history.len(), refused_at.unwrap_or(4));
            for (i, change) in rebuilt.iter().enumerate() {
                assert_eq!(sink.hash(i), Some(change.hash()), "{rows} rows, change {i}");
            }
            assert_eq!(sink.hash(4), None);
        }
    }

    #[test]
    fn bulk_load_matches_applying_changes() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1]));
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        a.splice_text(&t, 0, 0, "hello world").unwrap();
        let mut tx = a.transaction();
        tx.splice_text(&t, 3, 4, "").unwrap();
        tx.commit_with(Some("cut".to_owned()), 1_700_000_000_000)
            .unwrap();
        a.mark(&t, 1..3, "b", ScalarValue::Bool(true), ExpandMark::After)
            .unwrap();
        let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
        a.insert(&l, 0, ScalarValue::Counter(1)).unwrap();
        a.increment(&l, 0, 2).unwrap();
        a.put(&l, 0, ScalarValue::Int(9)).unwrap();
        let mut b = a.fork();
        a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        b.put(&ROOT, "k", ScalarValue::Int(2)).unwrap();
        b.delete(&t, 0).unwrap();
        a.merge(&b).unwrap();

        let chunk = a.document_chunk();
        let changes = chunk.reconstruct_changes().unwrap();
        let mut bulk = Document::with_actor(ActorId::from_bytes(&[9]));
        assert!(matches!(bulk.bulk_load(chunk.clone()), Ok(Ok(()))));
        let mut applied = Document::with_actor(ActorId::from_bytes(&[9]));
        applied.apply_changes(changes.clone()).unwrap();
        assert_eq!(bulk.value_tree(&ROOT), a.value_tree(&ROOT));
        assert_eq!(bulk.value_tree(&ROOT), applied.value_tree(&ROOT));
        assert_eq!(bulk.marks(&t), applied.marks(&t));
        assert_eq!(bulk.get_all(&ROOT, "k"), applied.get_all(&ROOT, "k"));
        assert_eq!(bulk.save_nocompress(), applied.save_nocompress());
        assert_eq!(bulk.heads(), a.heads());
        assert_eq!(bulk.max_op(), a.max_op());
        // The history keeps each change's rebuilt chunk, time and message as decoding it does.
        assert_eq!(bulk.get_changes(&[]), changes);
        for (kept, change) in bulk.get_changes(&[]).iter().zip(&changes) {
            assert_eq!(kept.message(), change.message());
            assert_eq!(kept.time(), change.time());
        }
        let h = a.get_changes(&[])[3].hash();
        assert_eq!(bulk.text_at(&t, &[h]), a.text_at(&t, &[h]));
        // and it keeps working as a document
        bulk.splice_text(&t, 0, 0, "X").unwrap();
        b.merge(&bulk).unwrap();
        assert_eq!(b.text(&t), bulk.text(&t));
        // a non-empty document refuses
        let chunk = a.document_chunk();
        let changes = chunk.reconstruct_changes().unwrap();
        assert_eq!(bulk.bulk_load(chunk).unwrap().unwrap_err(), changes);
    }
}
