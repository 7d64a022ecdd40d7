//! Rebuilding a document's changes from its stored ops (spec format.md §8).
//!
//! Linear apart from sorting: ops are grouped by (object, key) in one pass over the document
//! order, predecessor lists are rebuilt per group from a sorted list of successor entries, and
//! each change's ops are found by binary search in a per-actor index sorted by counter.

use crate::change::{Change, ChangeOpRef, ChangeParts, SPLIT_MIN_OPS};
use crate::error::DecodeError;
use crate::ids::KeyRef;
use crate::ids::{ActorId, ChangeHash, ElemId, ObjId, OpId};
use crate::value::Action;

use super::changes::DocChanges;
use super::ops::OpHead;
use super::{DocOps, DocumentChunk, ValueRef};
use std::collections::HashMap;

/// Whether [`DocumentChunk::reconstruct_changes_with`] checks the stored heads, like the
/// reference's `VerificationMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HeadsCheck {
    /// The heads of the reconstructed changes must equal the stored heads, element for element
    /// in sorted order (the reference's default).
    #[default]
    Check,
    /// Skip the comparison (`VerificationMode::DontCheck`).
    DontCheck,
}

/// A deletion rebuilt from successor lists: `del` ops are not stored in documents (§7.4).
/// 20 bytes: a document of many deletions has one per deleted element (egwalker's S3.am
/// about a million).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deletion {
    pub(crate) id: OpId,
    /// The first stored op of the group (object and map key, or sequence element) whose ops
    /// the deletion deletes: it shares that group's object and key.
    group: u32,
    /// Its preds are `Rebuilt::del_preds[pred_start..pred_start + pred_len]`, sorted.
    pred_start: u32,
    pred_len: u32,
}

/// The pred list of every stored op and the deletions (§8 step 2). Op `i` of the document is
/// stored op `i` for `i` below the number of stored ops, deletion `i - stored` after that.
pub(crate) struct Rebuilt {
    /// The stored ops before the first that has preds: they have none, and get no entry in
    /// `pred_starts` (a document without deletions or overwrites, like godot-thread's 9.4M
    /// ops, then needs no per-op table at all).
    leading: usize,
    /// Stored op `i ≥ leading`'s preds are `pred_ids[pred_starts[k]..pred_starts[k + 1]]`
    /// with `k = i - leading` (one flat list: a small vector per op took 24 bytes per op,
    /// most of them empty).
    pred_starts: Vec<u32>,
    pred_ids: Vec<OpId>,
    pub(crate) dels: Vec<Deletion>,
    /// The deletions' preds, back to back.
    del_preds: Vec<OpId>,
    /// The ids of the stored ops and deletions, gathered in the same pass for [`layout`]
    /// (and handed to the caller of [`DocumentChunk::reconstruct_each_chunk`]).
    ids: OpIdStats,
    /// The rows of the stored ops that make an object, ascending, with their action (for
    /// [`OpRows::made_objects`]).
    makes: Vec<(u32, Action)>,
}

/// What rebuilding a document's changes learned of its op ids, for a loader that indexes
/// them (so it need not read every op again to size its index).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpIdStats {
    /// Per document actor: the smallest and largest counter among its ids (stored ops, and
    /// deletions rebuilt from successor ids), and how many ids there are; `(u32::MAX, 0, 0)`
    /// for an actor with none.
    pub ranges: Vec<(u32, u32, u64)>,
    /// The number of successor ids the stored ops list.
    pub succ_ids: u64,
    /// The number of stored mark ops (begins and ends).
    pub mark_ops: u64,
}

impl OpIdStats {
    /// No ids yet, of `n_actors` document actors.
    pub fn new(n_actors: usize) -> OpIdStats {
        OpIdStats {
            ranges: vec![(u32::MAX, 0, 0); n_actors],
            succ_ids: 0,
            mark_ops: 0,
        }
    }

    /// Counts `id` in its actor's range (an actor out of range is left out).
    #[inline]
    pub fn note(&mut self, id: OpId) {
        if let Some(r) = self.ranges.get_mut(id.actor as usize) {
            r.0 = r.0.min(id.counter);
            r.1 = r.1.max(id.counter);
            r.2 += 1;
        }
    }
}

/// Where each stored op of a document chunk is, by id: the table a rebuild made to find each
/// change's ops ([`DocumentChunk::reconstruct_each_chunk_with_rows`]), handed on to a loader
/// that indexes the ops by id, so that it need not place every id again (godot-thread.amrg's
/// 9.4M: ~80 ms). Ids are in the chunk's actor numbering; a row is the op's position in the
/// chunk's ops.
#[derive(Clone, Debug)]
pub struct OpRows {
    /// Per chunk actor: its ids' indexes, stored ops first (below `stored`), then the
    /// deletions rebuilt from successor ids.
    by_actor: Vec<ActorOps>,
    /// The number of stored ops.
    stored: u32,
    /// See [`OpRows::made_objects`].
    makes: Vec<(u32, Action)>,
}

/// One actor's stored ops by counter, from [`OpRows::into_actor_rows`].
#[derive(Debug, PartialEq, Eq)]
pub enum ActorRows {
    /// The row of the op with counter `base + k` in `slots[k]`, `u32::MAX` where there is
    /// none.
    Table {
        /// The counter of the first slot.
        base: u32,
        /// The rows, by counter.
        slots: Vec<u32>,
    },
    /// `(counter, row)` pairs, ascending by counter.
    Pairs(Vec<(u32, u32)>),
}

impl OpRows {
    /// The row of the stored op with id `id` (its actor a chunk actor index), or `None` if no
    /// stored op has that id (a deletion's, or none at all).
    #[inline]
    pub fn row(&self, id: OpId) -> Option<u32> {
        let ops = self.by_actor.get(id.actor as usize)?;
        let i = if ops.counters.is_empty() {
            *ops.indices.get(id.counter.checked_sub(ops.lo)? as usize)?
        } else {
            let k = ops.counters.binary_search(&id.counter).ok()?;
            *ops.indices.get(k)?
        };
        (i < self.stored).then_some(i)
    }

    /// The rows of the ops that make an object (ascending), with their action: object `k` of
    /// the chunk, counting from 0 in row order, is made by the op at row `made_objects()[k]`
    /// (for a loader that builds its objects from two stretches of rows at once).
    pub fn made_objects(&self) -> &[(u32, Action)] {
        &self.makes
    }

    /// Per chunk actor, its stored ops' rows (deletions left out), without copying a dense
    /// actor's table.
    pub fn into_actor_rows(self) -> Vec<ActorRows> {
        let stored = self.stored;
        self.by_actor
            .into_iter()
            .map(|ops| {
                if ops.counters.is_empty() {
                    let mut slots = ops.indices;
                    for s in &mut slots {
                        if *s >= stored {
                            *s = u32::MAX;
                        }
                    }
                    ActorRows::Table {
                        base: ops.lo,
                        slots,
                    }
                } else {
                    ActorRows::Pairs(
                        ops.counters
                            .iter()
                            .zip(&ops.indices)
                            .filter(|&(_, &i)| i < stored)
                            .map(|(&c, &i)| (c, i))
                            .collect(),
                    )
                }
            })
            .collect()
    }
}

impl Rebuilt {
    /// The preds of deletion `d`, sorted.
    pub(crate) fn del_preds(&self, d: &Deletion) -> &[OpId] {
        let start = d.pred_start as usize;
        self.del_preds
            .get(start..start + d.pred_len as usize)
            .unwrap_or_default()
    }

    /// The preds of stored op `i`, sorted.
    pub(crate) fn preds(&self, i: usize) -> &[OpId] {
        let Some(k) = i.checked_sub(self.leading) else {
            return &[];
        };
        let start = self.pred_starts.get(k).copied().unwrap_or(0) as usize;
        let end = self.pred_starts.get(k + 1).copied().unwrap_or(0) as usize;
        self.pred_ids.get(start..end).unwrap_or_default()
    }
}

/// Rebuilds preds and deletions: one pass over the groups of the document order; per group,
/// its successor entries sorted by id are matched against its ops.
pub(crate) fn rebuild_ops(ops: &DocOps, n_actors: usize) -> Rebuilt {
    rebuild_range(ops, 0..ops.len(), n_actors)
}

/// Ops from which [`rebuild_ops_on_two_threads`] splits the pass.
const SPLIT_REBUILD_OPS: usize = if cfg!(test) { 64 } else { 1 << 18 };

/// [`rebuild_ops`] with the two halves of the ops (cut between groups) rebuilt on two
/// threads, for a caller with a core to spare, and joined: the same result. godot-thread's
/// 9.4M ops took 141 ms on one thread. One thread does it all if the ops are few, one
/// group holds the later half, or no thread starts.
pub(crate) fn rebuild_ops_on_two_threads(ops: &DocOps, n_actors: usize) -> Rebuilt {
    let n = ops.len();
    if n < SPLIT_REBUILD_OPS {
        return rebuild_ops(ops, n_actors);
    }
    let key = |i: usize| ops.head(i).map(|op| group_key(&op));
    let mut cut = n / 2;
    while cut < n && key(cut) == key(cut - 1) {
        cut += 1;
    }
    if cut >= n {
        return rebuild_ops(ops, n_actors);
    }
    let (first, second) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("converge-plan".into())
            .spawn_scoped(scope, || rebuild_range(ops, cut..n, n_actors));
        let first = rebuild_range(ops, 0..cut, n_actors);
        let second = match helper.map(|h| h.join()) {
            Ok(Ok(second)) => second,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => rebuild_range(ops, cut..n, n_actors),
        };
        (first, second)
    });
    join_rebuilt(first, second, cut)
}

/// The [`Rebuilt`] of ops `0..cut` and that of ops `cut..` as one.
fn join_rebuilt(mut first: Rebuilt, second: Rebuilt, cut: usize) -> Rebuilt {
    let preds_before = first.pred_ids.len() as u32;
    if preds_before == 0 {
        // No op of the first part has preds: the second's leading ops follow them.
        first.leading = cut + second.leading;
        first.pred_starts = second.pred_starts;
        first.pred_ids = second.pred_ids;
    } else {
        // The second part's leading ops have no preds: an empty range each.
        first
            .pred_starts
            .extend(std::iter::repeat_n(preds_before, second.leading));
        first.pred_starts.extend(
            second
                .pred_starts
                .iter()
                .skip(1)
                .map(|&end| end + preds_before),
        );
        first.pred_ids.extend_from_slice(&second.pred_ids);
    }
    let dels_before = first.del_preds.len() as u32;
    first.dels.extend(second.dels.iter().map(|d| Deletion {
        pred_start: d.pred_start + dels_before,
        ..*d
    }));
    first.del_preds.extend_from_slice(&second.del_preds);
    for (a, b) in first.ids.ranges.iter_mut().zip(&second.ids.ranges) {
        a.0 = a.0.min(b.0);
        a.1 = a.1.max(b.1);
        a.2 += b.2;
    }
    first.ids.succ_ids += second.ids.succ_ids;
    first.ids.mark_ops += second.ids.mark_ops;
    first.makes.extend_from_slice(&second.makes);
    first
}

/// [`rebuild_ops`] of the ops in `range`, which starts and ends between groups: leading ops,
/// pred ranges and deletions' groups count from `range.start` (joined by [`join_rebuilt`]).
fn rebuild_range(ops: &DocOps, range: std::ops::Range<usize>, n_actors: usize) -> Rebuilt {
    let mut ids = OpIdStats::new(n_actors);
    // `pred_starts[0]` is where the preds of op `leading` start; each op from there on
    // pushes where its preds end.
    let mut leading = 0usize;
    let mut pred_starts: Vec<u32> = vec![0];
    let mut pred_ids: Vec<OpId> = Vec::new();
    // The preds found for one group's ops: (position in the group, pred), each op's sorted.
    let mut found_preds: Vec<(usize, OpId)> = Vec::new();
    // Every successor id is a pred, of a stored op or of a deletion, and there are at most
    // as many deletions: reserved up front (untouched room costs no memory), so that no
    // vector is copied as it doubles (egwalker S3.am: 1.1M deletions, 22 MB of them).
    let n_succ = ops.succ_count();
    pred_ids.reserve_exact(n_succ);
    let mut dels: Vec<Deletion> = Vec::with_capacity(n_succ);
    let mut del_preds: Vec<OpId> = Vec::with_capacity(n_succ);
    // (succ id, lister position, lister id) of one group, and (op id, position) of its ops.
    let mut entries: Vec<(OpId, usize, OpId)> = Vec::new();
    let mut members: Vec<(OpId, usize)> = Vec::new();
    // One group's ops.
    let mut group: Vec<OpHead<'_>> = Vec::new();
    let mut makes: Vec<(u32, Action)> = Vec::new();
    // Ops read by index, not through `heads().peekable()`: the adapters hand each head over
    // through a stack copy that stalls on the stores just made (a third of this pass on
    // godot's load).
    let (mut next, mut start) = (range.start, range.start);
    while let Some(first) = ops.head(next).filter(|_| next < range.end) {
        next += 1;
        let gk = group_key(&first);
        group.clear();
        group.push(first);
        while let Some(op) = ops.head(next).filter(|_| next < range.end) {
            if group_key(&op) != gk {
                break;
            }
            group.push(op);
            next += 1;
        }
        let len = group.len();
        entries.clear();
        members.clear();
        found_preds.clear();
        for (j, op) in group.iter().enumerate() {
            entries.extend(op.succ.iter().map(|s| (*s, start + j, op.id)));
            ids.succ_ids += op.succ.len() as u64;
            ids.mark_ops += u64::from(op.action == Action::Mark);
            ids.note(op.id);
            if op.action.is_make() {
                // Rows fit 32 bits (`DocumentLimits::max_rows`).
                makes.push(((start + j) as u32, op.action));
            }
        }
        // A group no op supersedes (a text's inserted characters, mostly) has no preds to
        // find and no deletions: only the bookkeeping below.
        if !entries.is_empty() {
            members.extend(group.iter().enumerate().map(|(j, op)| (op.id, start + j)));
            entries.sort_unstable_by_key(|e| (e.0, e.1));
            members.sort_unstable();
            for run in entries.chunk_by(|a, b| a.0 == b.0) {
                let Some(&(id, _, _)) = run.first() else {
                    continue;
                };
                let found = members
                    .binary_search_by_key(&id, |m| m.0)
                    .ok()
                    .and_then(|k| members.get(k))
                    .map(|m| m.1);
                match found {
                    Some(pos) => {
                        let from = found_preds.len();
                        found_preds
                            .extend(run.iter().filter(|e| e.1 < pos).map(|e| (pos - start, e.2)));
                        if let Some(p) = found_preds.get_mut(from..) {
                            p.sort_unstable();
                        }
                    }
                    None => {
                        let pred_start = del_preds.len();
                        del_preds.extend(run.iter().map(|e| e.2));
                        if let Some(pred) = del_preds.get_mut(pred_start..) {
                            pred.sort_unstable();
                        }
                        ids.note(id);
                        // Op and successor counts are below `DocumentLimits::max_rows` (16M by
                        // default; `pred_starts` makes the same assumption).
                        dels.push(Deletion {
                            id,
                            group: start as u32,
                            pred_start: pred_start as u32,
                            pred_len: (del_preds.len() - pred_start) as u32,
                        });
                    }
                }
            }
            // Each op of the group is matched by at most one run: ordering by position (stably)
            // keeps each op's preds sorted.
            found_preds.sort_by_key(|p| p.0);
        }
        let mut next = found_preds.iter().peekable();
        for j in 0..len {
            while let Some(&(_, pred)) = next.next_if(|p| p.0 == j) {
                pred_ids.push(pred);
            }
            if pred_ids.is_empty() {
                leading += 1;
            } else {
                if pred_starts.len() == 1 {
                    pred_starts.reserve_exact(range.len() - leading);
                }
                pred_starts.push(pred_ids.len() as u32);
            }
        }
        start += len;
    }
    Rebuilt {
        leading,
        pred_starts,
        pred_ids,
        dels,
        del_preds,
        ids,
        makes,
    }
}

/// What groups ops in §8 step 2: a map key, or a sequence element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum GroupKey<'a> {
    Key(KeyRef<'a>),
    Elem(OpId),
}

fn group_key<'a>(op: &OpHead<'a>) -> (ObjId, GroupKey<'a>) {
    if op.insert {
        (op.obj, GroupKey::Elem(op.id))
    } else {
        match op.key {
            KeyRef::Seq(ElemId::Op(e)) => (op.obj, GroupKey::Elem(e)),
            k => (op.obj, GroupKey::Key(k)),
        }
    }
}

/// Where each change's ops are: a range into its actor's op indexes (§8 steps 1, 3, 4
/// without the hashing). A change's ops run without a gap up to its maxOp, so its startOp
/// is `max_op + 1 - len` ([`ChangeLayout::start_op`]).
#[derive(Debug, PartialEq)]
pub(crate) struct ChangeLayout {
    /// Per change: the start and end of its range into `by_actor[actor].indices`. 8 bytes
    /// per change, not the 24 of a `usize` range and a startOp: the layout is alive
    /// throughout the rebuild, at its memory peak (6.2 MB for the paper's 259,779 changes
    /// before).
    pub(crate) changes: Vec<(u32, u32)>,
    /// Per document actor: its ops.
    pub(crate) by_actor: Vec<ActorOps>,
}

/// One actor's ops (stored ops and rebuilt deletions) by counter. Dense (counters of real
/// documents are): `indices[k]` is the op with counter `lo + k`, `u32::MAX` where there is
/// none, and `counters` is empty. Sparse (ids spread thinly, as in a crafted file):
/// `counters[k]` and `indices[k]` sorted by counter. Either way a change's ops are one range
/// of `indices`, all present.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ActorOps {
    lo: u32,
    counters: Vec<u32>,
    pub(crate) indices: Vec<u32>,
}

impl ChangeLayout {
    /// The op index range of a change, from its entry in `changes`.
    pub(crate) fn range(entry: (u32, u32)) -> std::ops::Range<usize> {
        entry.0 as usize..entry.1 as usize
    }

    /// The startOp of a change with maxOp `max_op`, from its entry in `changes`.
    pub(crate) fn start_op(entry: (u32, u32), max_op: u64) -> u64 {
        (max_op + 1).saturating_sub(u64::from(entry.1.saturating_sub(entry.0)))
    }
}

impl ActorOps {
    /// Whether this is the dense form (a sparse actor has `counters` filled beside `indices`;
    /// an actor without ops has neither).
    fn is_dense(&self) -> bool {
        self.counters.is_empty() && !self.indices.is_empty()
    }

    /// The range of `indices` holding the ops with counters in `from..=max_op`, and the first
    /// counter present; `Err(counter)` with the first missing counter if those ops do not
    /// run without a gap up to `max_op`.
    fn owned(&self, from: u64, max_op: u64) -> Result<(std::ops::Range<usize>, Option<u64>), u64> {
        if !self.counters.is_empty() {
            let lo = self.counters.partition_point(|&c| u64::from(c) < from);
            let hi = self.counters.partition_point(|&c| u64::from(c) <= max_op);
            let owned = self.counters.get(lo..hi).unwrap_or_default();
            let Some(&first) = owned.first() else {
                return Ok((lo..lo, None));
            };
            let first = u64::from(first);
            for (k, &c) in owned.iter().enumerate() {
                if u64::from(c) != first + k as u64 {
                    return Err(first + k as u64);
                }
            }
            let last = first + owned.len() as u64 - 1;
            if last != max_op {
                return Err(last + 1);
            }
            return Ok((lo..hi, Some(first)));
        }
        let base = u64::from(self.lo);
        let len = self.indices.len() as u64;
        // Slots from..=max_op, clamped to the table.
        let a = from.max(base) - base;
        let b = match max_op.checked_sub(base) {
            Some(b) => b.min(len.saturating_sub(1)),
            None => return Ok((0..0, None)),
        };
        if a > b || len == 0 {
            return Ok((0..0, None));
        }
        let (a, b) = (a as usize, b as usize);
        let slots = self.indices.get(a..=b).unwrap_or_default();
        let Some(k0) = slots.iter().position(|&i| i != u32::MAX) else {
            return Ok((0..0, None));
        };
        if let Some(gap) = slots.iter().skip(k0).position(|&i| i == u32::MAX) {
            return Err(base + (a + k0 + gap) as u64);
        }
        let last = base + b as u64;
        if last != max_op {
            return Err(last + 1);
        }
        Ok((a + k0..b + 1, Some(base + (a + k0) as u64)))
    }
}

/// Where one thread of [`place_ids`] puts an actor's op indexes.
enum IdTarget<'t> {
    /// The slots of counters `base..`, as many as the slice holds (a dense actor's table, or
    /// a part of it).
    Dense(&'t mut [u32], u32),
    /// A sparse actor's (counter, index) pairs, in id order.
    Sparse(&'t mut Vec<u32>, &'t mut Vec<u32>),
    /// Nothing for this thread.
    Skip,
}

/// Puts each id's index where `targets` says (one target per actor), and returns, per
/// actor, the smallest counter whose slot was already taken.
fn place_ids(
    ids: impl Iterator<Item = OpId>,
    targets: &mut [IdTarget<'_>],
    n_actors: usize,
) -> Vec<Option<u32>> {
    let mut dup: Vec<Option<u32>> = vec![None; n_actors];
    for (i, id) in ids.enumerate() {
        let a = id.actor as usize;
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        match targets.get_mut(a) {
            Some(IdTarget::Dense(slots, base)) => {
                let Some(slot) = id
                    .counter
                    .checked_sub(*base)
                    .and_then(|k| slots.get_mut(k as usize))
                else {
                    continue;
                };
                if *slot == u32::MAX {
                    *slot = i;
                } else if let Some(d) = dup.get_mut(a) {
                    *d = Some(d.map_or(id.counter, |d| d.min(id.counter)));
                }
            }
            Some(IdTarget::Sparse(counters, indices)) => {
                counters.push(id.counter);
                indices.push(i);
            }
            Some(IdTarget::Skip) | None => {}
        }
    }
    dup
}

/// Ids from which [`layout`] places them on two threads, when asked to: each thread reads
/// every id and places those in its half of each dense actor's table (the writes, at random
/// into tables of megabytes, are the cost: 89 ms of godot-thread.amrg's 9.4M on one thread
/// when timed by phase at ffcb755; placed on two, its load went 906-1001 → 885-944 ms).
const SPLIT_LAYOUT_IDS: usize = if cfg!(test) { 64 } else { 1 << 20 };

fn layout(
    doc: &DocumentChunk,
    rebuilt: &Rebuilt,
    planning: Planning,
) -> Result<ChangeLayout, DecodeError> {
    let n_actors = doc.actors.len();
    let ids = || doc.ops.ids().chain(rebuilt.dels.iter().map(|d| d.id));
    // Counters are dense per actor in real documents: each actor's ids go to a table indexed
    // by `counter - min` (no sort); thinly spread ids are sorted instead.
    let mut by_actor: Vec<ActorOps> = rebuilt
        .ids
        .ranges
        .iter()
        .map(|&(lo, hi, n)| {
            if n > 0 && u64::from(hi - lo) < 2 * n + 1024 {
                ActorOps {
                    lo,
                    counters: Vec::new(),
                    indices: vec![u32::MAX; (hi - lo) as usize + 1],
                }
            } else {
                ActorOps::default()
            }
        })
        .collect();
    // Per actor: the smallest counter seen twice (dense actors).
    let n_ids = doc.ops.len() + rebuilt.dels.len();
    let two = planning == Planning::Spread && n_ids >= SPLIT_LAYOUT_IDS && crate::second_core();
    let mut first: Vec<IdTarget<'_>> = Vec::with_capacity(by_actor.len());
    // Only with `two`: the other thread's targets.
    let mut second: Vec<IdTarget<'_>> = Vec::new();
    for ops in by_actor.iter_mut() {
        let lo = ops.lo;
        if !ops.is_dense() {
            first.push(IdTarget::Sparse(&mut ops.counters, &mut ops.indices));
            if two {
                second.push(IdTarget::Skip);
            }
        } else if two {
            // Table lengths fit counters, so `mid` fits 32 bits.
            let mid = ops.indices.len() / 2;
            let (low, high) = ops.indices.split_at_mut(mid);
            first.push(IdTarget::Dense(low, lo));
            second.push(IdTarget::Dense(high, lo.saturating_add(mid as u32)));
        } else {
            first.push(IdTarget::Dense(&mut ops.indices, lo));
        }
    }
    let dup = if two {
        // Behind a lock only so that this thread can take the other halves if no thread
        // starts (each side locks it once).
        let second = std::sync::Mutex::new(second);
        let place_second = || {
            let mut targets = second.lock().unwrap_or_else(|e| e.into_inner());
            place_ids(ids(), &mut targets, n_actors)
        };
        let (mine, theirs) = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("converge-plan".into())
                .spawn_scoped(scope, place_second);
            let mine = place_ids(ids(), &mut first, n_actors);
            let theirs = match helper.map(|h| h.join()) {
                Ok(Ok(theirs)) => theirs,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                // No thread: this one places the other halves too.
                Err(_) => place_second(),
            };
            (mine, theirs)
        });
        mine.into_iter()
            .zip(theirs)
            .map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
            .collect()
    } else {
        place_ids(ids(), &mut first, n_actors)
    };
    drop(first);
    for (actor, ops) in by_actor.iter_mut().enumerate() {
        if ops.is_dense() {
            if let Some(&Some(counter)) = dup.get(actor) {
                return Err(DecodeError::DuplicateOpId {
                    counter,
                    actor: actor as u32,
                });
            }
            continue;
        }
        let mut pairs: Vec<(u32, u32)> = ops
            .counters
            .iter()
            .copied()
            .zip(ops.indices.iter().copied())
            .collect();
        pairs.sort_unstable();
        if let Some([a, _]) = pairs.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return Err(DecodeError::DuplicateOpId {
                counter: a.0,
                actor: actor as u32,
            });
        }
        ops.counters = pairs.iter().map(|p| p.0).collect();
        ops.indices = pairs.iter().map(|p| p.1).collect();
    }
    // Per actor: (last seq, last maxOp).
    let mut last: Vec<(u64, u64)> = vec![(0, 0); n_actors];
    let mut out = Vec::with_capacity(doc.changes.len());
    for (i, c) in doc.changes.iter().enumerate() {
        let mut dep_max = 0u64;
        for &d in c.deps {
            let dep_max_op = doc
                .changes
                .max_op(d as usize)
                .filter(|_| (d as usize) < i)
                .ok_or_else(|| DecodeError::InvalidDepIndex {
                    change: i,
                    dep: u64::from(d),
                })?;
            dep_max = dep_max.max(dep_max_op);
        }
        if dep_max > c.max_op {
            return Err(DecodeError::InvalidMaxOp {
                change: i,
                max_op: c.max_op,
                dep_max_op: dep_max,
            });
        }
        let actor = c.actor as usize;
        let Some((last_seq, last_max)) = last.get_mut(actor) else {
            return Err(DecodeError::ActorIndexOutOfRange {
                index: u64::from(c.actor),
                len: n_actors,
            });
        };
        if c.seq != *last_seq + 1 || c.max_op < *last_max {
            return Err(DecodeError::ChangesOutOfOrder {
                change: i,
                actor: c.actor,
                seq: c.seq,
            });
        }
        let est_start = dep_max.max(*last_max) + 1;
        *last_seq = c.seq;
        *last_max = c.max_op;
        let (range, first) = by_actor
            .get(actor)
            .map_or(Ok((0..0, None)), |ops| ops.owned(est_start, c.max_op))
            .map_err(|counter| DecodeError::MissingOps { change: i, counter })?;
        let entry = match (u32::try_from(range.start), u32::try_from(range.end)) {
            (Ok(start), Ok(end)) => (start, end),
            _ => {
                return Err(DecodeError::TooManyRows {
                    what: "ops of one actor",
                    limit: u64::from(u32::MAX),
                });
            }
        };
        // `owned` found the ops without a gap from `first` up to maxOp.
        debug_assert_eq!(
            ChangeLayout::start_op(entry, c.max_op),
            first.unwrap_or(c.max_op + 1)
        );
        out.push(entry);
    }
    Ok(ChangeLayout {
        changes: out,
        by_actor,
    })
}

/// A change rebuilt by [`DocumentChunk::reconstruct_each_chunk`]: its change chunk (borrowed
/// until the next change is built) and hash.
#[derive(Clone, Copy, Debug)]
pub struct RebuiltChunk<'a> {
    /// The change's hash.
    pub hash: ChangeHash,
    /// The whole change chunk, header included.
    pub bytes: &'a [u8],
    /// The change's start op.
    pub start_op: u64,
}

/// Where [`DocumentChunk::reconstruct_each_chunk`] hands the rebuilt chunks, in document
/// order. The sink also keeps their hashes: the rebuild needs earlier changes' hashes for
/// later changes' deps and for the heads check, and keeps no second copy of them (a loader's
/// history holds them anyway; for 262k changes the copy was 8 MB). A rebuild on two threads
/// pushes from either of them, one push at a time and in order, hence `Send`.
pub trait RebuiltChunkSink: Send {
    /// Takes the next rebuilt chunk.
    fn push(&mut self, chunk: RebuiltChunk<'_>);
    /// The hash of the `index`-th chunk pushed so far (`None` past the last). It must be the
    /// hash that chunk was pushed with.
    fn hash(&self, index: usize) -> Option<ChangeHash>;
}

/// Where a rebuilt change goes: encoded into a [`Change`], or only into chunk bytes.
trait Sink {
    /// Encodes the change of `parts` with the `n_ops` ops of `views`, hands it on and returns
    /// its hash.
    fn emit<'a, I: Iterator<Item = ChangeOpRef<'a>>>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
    ) -> Result<ChangeHash, DecodeError>;

    /// [`Sink::emit`] of a change whose rows from `later.0` on `later.1` gives on their own,
    /// for a sink that can write them on a second thread; others ignore `later`.
    fn emit_halves<'a, I, I2>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
        later: (usize, impl Fn() -> I2 + Sync),
    ) -> Result<ChangeHash, DecodeError>
    where
        I: Iterator<Item = ChangeOpRef<'a>>,
        I2: Iterator<Item = ChangeOpRef<'a>>,
    {
        let _ = later;
        self.emit(parts, n_ops, views)
    }

    /// The hash of the `index`-th change emitted.
    fn hash(&self, index: usize) -> Option<ChangeHash>;

    /// Puts into `out` the deps of the change that comes after the `built` ones emitted:
    /// `deps` are indexes of earlier changes (`layout` checked that they are), `out` gets
    /// their hashes in that order.
    fn fill_deps(&mut self, deps: &[u32], built: usize, out: &mut Vec<ChangeHash>) {
        out.clear();
        for &d in deps {
            if (d as usize) < built
                && let Some(dep) = self.hash(d as usize)
            {
                out.push(dep);
            }
        }
    }
}

struct ChangeSink<F> {
    sink: F,
    hashes: Vec<ChangeHash>,
}

impl<F: FnMut(Change)> Sink for ChangeSink<F> {
    fn emit<'a, I: Iterator<Item = ChangeOpRef<'a>>>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
    ) -> Result<ChangeHash, DecodeError> {
        let change = Change::from_op_refs(parts, n_ops, views)?;
        let hash = change.hash();
        (self.sink)(change);
        self.hashes.push(hash);
        Ok(hash)
    }

    fn hash(&self, index: usize) -> Option<ChangeHash> {
        self.hashes.get(index).copied()
    }
}

struct ChunkSink<'s, S: ?Sized> {
    sink: &'s mut S,
    buf: Vec<u8>,
}

impl<S: RebuiltChunkSink + ?Sized> ChunkSink<'_, S> {
    /// Hands the chunk just encoded into the buffer on; returns its hash.
    fn push_buf(&mut self, hash: ChangeHash, start_op: u64) -> ChangeHash {
        self.sink.push(RebuiltChunk {
            hash,
            bytes: &self.buf,
            start_op,
        });
        hash
    }
}

impl<S: RebuiltChunkSink + ?Sized> Sink for ChunkSink<'_, S> {
    fn emit<'a, I: Iterator<Item = ChangeOpRef<'a>>>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
    ) -> Result<ChangeHash, DecodeError> {
        let hash = Change::encode_chunk_into(parts, n_ops, views, &mut self.buf)?;
        Ok(self.push_buf(hash, parts.start_op))
    }

    fn emit_halves<'a, I, I2>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
        later: (usize, impl Fn() -> I2 + Sync),
    ) -> Result<ChangeHash, DecodeError>
    where
        I: Iterator<Item = ChangeOpRef<'a>>,
        I2: Iterator<Item = ChangeOpRef<'a>>,
    {
        let hash = Change::encode_chunk_into_halves(parts, n_ops, views, later, &mut self.buf)?;
        Ok(self.push_buf(hash, parts.start_op))
    }

    fn hash(&self, index: usize) -> Option<ChangeHash> {
        self.sink.hash(index)
    }
}

/// Work a loader does beside a pipelined rebuild, a slice at a time (see
/// [`DocumentChunk::reconstruct_each_chunk_sharing`]): building its op set, say.
pub trait SideWork: Send {
    /// Does the next slice (well under a millisecond's worth); false once nothing is left.
    fn step(&mut self) -> bool;
}

/// Side work shared by the pipeline's two threads: the one that would otherwise wait runs
/// the next slice (the encoder on a full channel, the hasher on an empty one), so the work
/// fills whichever thread has time to spare, whether encoding or hashing is the longer.
struct SharedWork<'w> {
    /// `None` once every slice ran.
    work: std::sync::Mutex<Option<&'w mut dyn SideWork>>,
}

impl<'w> SharedWork<'w> {
    fn new(work: &'w mut dyn SideWork) -> Self {
        SharedWork {
            work: std::sync::Mutex::new(Some(work)),
        }
    }

    /// Runs a slice unless the other thread is running one or none is left: whether it ran
    /// one.
    fn try_step(&self) -> bool {
        let Ok(mut work) = self.work.try_lock() else {
            return false;
        };
        let Some(w) = work.as_mut() else {
            return false;
        };
        if !w.step() {
            *work = None;
        }
        true
    }

    /// Runs slices until none is left (taking turns with the other thread, if it does too).
    fn finish(&self) {
        loop {
            let Ok(mut work) = self.work.lock() else {
                return;
            };
            let Some(w) = work.as_mut() else {
                return;
            };
            if !w.step() {
                *work = None;
            }
        }
    }
}

/// How a rebuild's plan is made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Planning {
    /// On the calling thread (the other core has work of its own).
    OneThread,
    /// With the preds rebuilt on two threads where that pays
    /// ([`rebuild_ops_on_two_threads`]).
    Spread,
}

/// What [`DocumentChunk::plan_rebuild`] found: the chunk's deletions and preds, and where
/// each change's ops are.
pub(crate) struct RebuildPlan {
    rebuilt: Rebuilt,
    layout: ChangeLayout,
}

/// Rebuilt chunks on their way from the encoder thread to the hashing one: the chunks back
/// to back, with zero checksums and placeholder deps.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    chunks: Vec<Unsealed>,
    /// Every chunk's deps, as indexes of earlier changes, back to back.
    deps: Vec<u32>,
    /// The hashes of the chunks the hasher sealed, in order (empty until it did).
    hashes: Vec<ChangeHash>,
}

/// Where one unsealed chunk of a [`Batch`] is.
struct Unsealed {
    /// Its end in the batch's bytes (it starts where the one before ends).
    end: usize,
    /// Its deps' end in the batch's deps.
    deps_end: usize,
    /// Where its first dep's hash goes, from its start.
    deps_at: usize,
    start_op: u64,
}

/// A wait of a pipeline thread on the other, spent spinning for up to [`Spin::LIMIT`]
/// before it blocks: a thread that blocks leaves its core idle, and waking it again costs the
/// other thread (a virtual machine's idle core is woken by an interrupt to it), once a batch.
struct Spin {
    since: Option<std::time::Instant>,
    rounds: u32,
}

impl Spin {
    /// How long a wait spins before it blocks.
    const LIMIT: std::time::Duration = std::time::Duration::from_micros(500);

    fn new() -> Self {
        Spin {
            since: None,
            rounds: 0,
        }
    }

    /// Whether to try again (after a pause in the spin) rather than block.
    fn again(&mut self) -> bool {
        std::hint::spin_loop();
        self.rounds += 1;
        if !self.rounds.is_multiple_of(64) {
            return true;
        }
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        since.elapsed() < Self::LIMIT
    }
}

/// A batch is sent once its chunks pass this size (about 64 paper keystrokes' changes of
/// ~110 bytes make 7 KiB; larger batches measured no faster). Fuzz builds send every change
/// alone, to reach the ordering of many batches with small inputs.
const BATCH_BYTES: usize = if cfg!(fuzzing) { 1 } else { 1 << 16 };

/// The pipeline's last stage, shared by its two threads: hands the chunks the hasher sealed
/// to the sink, a batch at a time and in order, on whichever thread would otherwise wait
/// (most of a loader's work per change is the sink's, as much as the hashing).
struct Recorder<'s> {
    state: std::sync::Mutex<RecorderState<'s>>,
    /// Batches sealed and not yet handed over.
    waiting: std::sync::atomic::AtomicUsize,
    /// Batches sent to the hasher and not yet taken by it.
    unhashed: std::sync::atomic::AtomicUsize,
}

struct RecorderState<'s> {
    sink: &'s mut dyn RebuiltChunkSink,
    /// Batches the hasher sealed, in order.
    sealed: std::sync::mpsc::Receiver<Batch>,
    /// Where handed-over batches go, for the encoder to reuse.
    spare: std::sync::mpsc::Sender<Batch>,
    /// How many chunks went to the sink.
    recorded: usize,
}

impl RecorderState<'_> {
    /// Hands the sealed chunks of `batch` to the sink, in order, and passes it on for reuse.
    fn record(&mut self, batch: Batch) {
        let mut start = 0usize;
        for (c, &hash) in batch.chunks.iter().zip(&batch.hashes) {
            let Some(bytes) = batch.bytes.get(start..c.end) else {
                break;
            };
            self.sink.push(RebuiltChunk {
                hash,
                bytes,
                start_op: c.start_op,
            });
            self.recorded += 1;
            start = c.end;
        }
        // The encoder may be done with batches already.
        let _ = self.spare.send(batch);
    }
}

/// What [`Recorder::try_step`] did.
#[derive(PartialEq, Eq)]
enum RecordStep {
    /// Handed over a batch.
    Recorded,
    /// Nothing to do now: the other thread is at it, or no sealed batch is waiting.
    Idle,
    /// The hasher is done and every batch it sealed was handed over.
    Done,
}

impl Recorder<'_> {
    /// Hands over the next sealed batch unless the other thread is at it or none is waiting.
    /// After a panic on the other thread while it held the sink, nothing is handed over
    /// (the scope resumes that panic).
    fn try_step(&self) -> RecordStep {
        use std::sync::TryLockError;
        use std::sync::mpsc::TryRecvError;
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::WouldBlock) => return RecordStep::Idle,
            Err(TryLockError::Poisoned(_)) => return RecordStep::Done,
        };
        match state.sealed.try_recv() {
            Ok(batch) => {
                state.record(batch);
                self.waiting
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                RecordStep::Recorded
            }
            Err(TryRecvError::Empty) => RecordStep::Idle,
            Err(TryRecvError::Disconnected) => RecordStep::Done,
        }
    }

    /// Hands over sealed batches, and runs slices of `side` while none is waiting, until
    /// the hasher is done and every batch was handed over; then runs the rest of `side`.
    /// With no side work left, it waits for the hasher's batches holding the sink (the
    /// other thread then leaves its batches to this one).
    fn finish(&self, side: Option<&SharedWork<'_>>) {
        loop {
            match self.try_step() {
                RecordStep::Recorded => {}
                RecordStep::Done => break,
                RecordStep::Idle => {
                    if side.is_some_and(SharedWork::try_step) {
                        continue;
                    }
                    let Ok(mut state) = self.state.lock() else {
                        break;
                    };
                    while let Ok(batch) = state.sealed.recv() {
                        state.record(batch);
                        self.waiting
                            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    break;
                }
            }
        }
        if let Some(side) = side {
            side.finish();
        }
    }

    /// Notes a batch about to be sent to the hasher (`true`) or taken by it (`false`).
    fn note_unhashed(&self, sent: bool) {
        use std::sync::atomic::Ordering;
        if sent {
            self.unhashed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.unhashed.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether the hasher keeps up with the encoder (few batches wait for it): then it
    /// hands over what it sealed at once, while the bytes are in its cache.
    fn hasher_keeps_up(&self) -> bool {
        self.unhashed.load(std::sync::atomic::Ordering::Relaxed) < Self::HASHER_BEHIND
    }

    /// Notes a batch sent to be handed over.
    fn note_sealed(&self) {
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether sealed batches pile up: more than [`Recorder::BEHIND`] wait.
    fn behind(&self) -> bool {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed) > Self::BEHIND
    }

    /// More sealed batches than this waiting, and the encoder hands one over per batch it
    /// sends: the paper document's hasher then has no time to. (Swept before the hasher
    /// took its share, `load_probe` min of two runs each: the paper document's load was
    /// alike from 2 to 16, 72-77 ms, and 79 ms with no such handing over; essay.amrg's,
    /// whose encoder is the slower, 157-159 ms at 2 against 148-151 with none.)
    const BEHIND: usize = 8;

    /// Fewer batches than this waiting to be hashed, and the hasher hands over each batch it
    /// seals at once (its bytes in cache); more, and it leaves them to the encoder.
    const HASHER_BEHIND: usize = 4;

    /// How many chunks went to the sink.
    fn recorded(&self) -> usize {
        self.state.lock().map_or(0, |s| s.recorded)
    }
}

/// The encoder thread's end of the pipeline: encodes each change into the current batch and
/// sends full batches on.
struct PipeSink<'s, 'w> {
    batch: Batch,
    to_hasher: std::sync::mpsc::SyncSender<Batch>,
    /// Work to do rather than wait for room in the channel: sealed chunks to hand over,
    /// then the side work.
    recorder: &'s Recorder<'s>,
    side: Option<&'s SharedWork<'w>>,
    /// Batches handed over, to be reused.
    spare: std::sync::mpsc::Receiver<Batch>,
    /// Placeholder dep hashes of the change being built.
    placeholders: usize,
    /// A batch is sent once its bytes pass this ([`BATCH_BYTES`]; tests send smaller ones).
    batch_bytes: usize,
}

impl PipeSink<'_, '_> {
    /// Sends the current batch on, handing over sealed chunks, or else running slices of the
    /// side work, while the channel is full. The hashing thread lets go of its end only once
    /// this thread has finished, or while it unwinds a panic that the scope then resumes, so
    /// a failed send needs no answer.
    fn send(&mut self) {
        use std::sync::mpsc::TrySendError;
        // The hasher hands over sealed batches when it would wait; if they pile up, it has
        // no time to, and this thread keeps the handing over abreast of the hashing.
        if self.recorder.behind() {
            self.recorder.try_step();
        }
        let mut next = self.spare.try_recv().unwrap_or_default();
        next.bytes.clear();
        next.chunks.clear();
        next.deps.clear();
        next.hashes.clear();
        let mut full = std::mem::replace(&mut self.batch, next);
        if full.chunks.is_empty() {
            return;
        }
        // Counted before it is sent, so that the hasher never takes it uncounted.
        self.recorder.note_unhashed(true);
        let mut spin = Spin::new();
        loop {
            match self.to_hasher.try_send(full) {
                Err(TrySendError::Full(batch)) => {
                    full = batch;
                    if self.recorder.try_step() == RecordStep::Recorded
                        || self.side.is_some_and(SharedWork::try_step)
                        || spin.again()
                    {
                        continue;
                    }
                    let _ = self.to_hasher.send(full);
                    return;
                }
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

/// One bit per change of `changes`, in two sets: the changes some change depends on, and
/// those some change `far` or more after them depends on (none when `far` is `usize::MAX`).
fn referenced_and_far(changes: &DocChanges, far: usize) -> (Vec<u64>, Vec<u64>) {
    let words = changes.len().div_ceil(64);
    let mut referenced = vec![0u64; words];
    let mut far_needed = vec![0u64; if far == usize::MAX { 0 } else { words }];
    for (i, deps) in changes.each_deps().enumerate() {
        for &d in deps {
            let d = d as usize;
            let bit = 1 << (d % 64);
            if let Some(word) = referenced.get_mut(d / 64) {
                *word |= bit;
            }
            if d.saturating_add(far) <= i
                && let Some(word) = far_needed.get_mut(d / 64)
            {
                *word |= bit;
            }
        }
    }
    (referenced, far_needed)
}

/// The hashes of earlier changes the hasher writes into later changes' deps: the last
/// [`DepHashes::RECENT`] in a ring, and older ones only if a change that far on depends on
/// them (found before hashing starts), so the pipeline keeps no copy of every hash (the sink
/// has them, on the other thread).
struct DepHashes {
    recent: Vec<ChangeHash>,
    /// One bit per change: whether a change [`DepHashes::RECENT`] or more after it depends
    /// on it.
    far_needed: Vec<u64>,
    far: HashMap<u32, ChangeHash>,
}

impl DepHashes {
    /// (4 in fuzz builds, whose inputs have a few changes.)
    const RECENT: usize = if cfg!(fuzzing) { 4 } else { 1 << 12 };

    /// The ring, and the bits of the changes needed from beyond it; also the bits of the
    /// changes some change depends on, for the heads check ([`referenced_and_far`]).
    fn new(changes: &DocChanges) -> (Self, Vec<u64>) {
        let (referenced, far_needed) = referenced_and_far(changes, Self::RECENT);
        let hashes = DepHashes {
            recent: vec![ChangeHash([0; 32]); Self::RECENT],
            far_needed,
            far: HashMap::new(),
        };
        (hashes, referenced)
    }

    /// Keeps the hash of change `index` (changes come in order).
    fn push(&mut self, index: usize, hash: ChangeHash) {
        if let Some(slot) = self.recent.get_mut(index % Self::RECENT) {
            *slot = hash;
        }
        if self
            .far_needed
            .get(index / 64)
            .is_some_and(|w| w >> (index % 64) & 1 == 1)
        {
            self.far.insert(index as u32, hash);
        }
    }

    /// The hash of change `dep`, a dep of change `index` (`dep < index`).
    fn get(&self, index: usize, dep: usize) -> ChangeHash {
        let hash = if dep + Self::RECENT > index {
            self.recent.get(dep % Self::RECENT).copied()
        } else {
            self.far.get(&(dep as u32)).copied()
        };
        hash.unwrap_or(ChangeHash([0; 32]))
    }
}

impl Sink for PipeSink<'_, '_> {
    fn emit<'a, I: Iterator<Item = ChangeOpRef<'a>>>(
        &mut self,
        parts: &ChangeParts,
        n_ops: usize,
        views: impl Fn() -> I,
    ) -> Result<ChangeHash, DecodeError> {
        let batch = &mut self.batch;
        let header = Change::encode_chunk_unsealed(parts, n_ops, views, &mut batch.bytes)?;
        // The data starts with the deps' count, then their hashes.
        let deps_at = header + crate::leb128::u64_len(self.placeholders as u64);
        batch.chunks.push(Unsealed {
            end: batch.bytes.len(),
            deps_end: batch.deps.len(),
            deps_at,
            start_op: parts.start_op,
        });
        if batch.bytes.len() >= self.batch_bytes {
            self.send();
        }
        // The hash is the hasher's to compute; the encoder only needs it for the deps.
        Ok(ChangeHash([0; 32]))
    }

    fn hash(&self, _: usize) -> Option<ChangeHash> {
        None
    }

    fn fill_deps(&mut self, deps: &[u32], built: usize, out: &mut Vec<ChangeHash>) {
        out.clear();
        for &d in deps {
            if (d as usize) < built {
                self.batch.deps.push(d);
                out.push(ChangeHash([0; 32]));
            }
        }
        self.placeholders = out.len();
    }
}

/// Whether a rebuild of `changes` changes is worth a second thread: the machine has a core
/// for it (asked once) and there are enough changes to amortize starting it.
fn pipeline_pays(changes: usize) -> bool {
    changes >= PIPELINE_MIN_CHANGES && crate::second_core()
}

/// Fewer changes than this are rebuilt on the calling thread alone. (Fuzz builds pipeline
/// from 2 changes, so that small inputs reach the pipeline's threads and its error paths.)
const PIPELINE_MIN_CHANGES: usize = if cfg!(fuzzing) { 2 } else { 2048 };

impl DocumentChunk {
    /// Rebuilds every change of the document, in document order, with the bytes and hash the
    /// reference gives it (spec format.md §8), and checks the stored heads.
    pub fn reconstruct_changes(&self) -> Result<Vec<Change>, DecodeError> {
        self.reconstruct_changes_with(HeadsCheck::Check)
    }

    /// [`DocumentChunk::reconstruct_changes`], optionally without the heads check.
    pub fn reconstruct_changes_with(&self, check: HeadsCheck) -> Result<Vec<Change>, DecodeError> {
        let mut changes = Vec::with_capacity(self.changes.len());
        self.reconstruct_each(check, |c| changes.push(c))?;
        Ok(changes)
    }

    /// [`DocumentChunk::reconstruct_changes_with`], handing each change to `sink` as soon as
    /// it is built (in document order) instead of collecting them: a loader that keeps only
    /// part of each change never holds them all. On an error (the heads check comes last)
    /// the changes already handed over must be discarded.
    pub fn reconstruct_each(
        &self,
        check: HeadsCheck,
        sink: impl FnMut(Change),
    ) -> Result<(), DecodeError> {
        let mut sink = ChangeSink {
            sink,
            hashes: Vec::with_capacity(self.changes.len()),
        };
        self.reconstruct_into(check, &mut sink).map(|_| ())
    }

    /// [`DocumentChunk::reconstruct_each`] for a loader that keeps only each change's chunk
    /// bytes and hash: no [`Change`] is built, and `sink` borrows the bytes from one buffer
    /// reused from change to change (so rebuilding allocates nothing per change), and keeps
    /// the hashes (see [`RebuiltChunkSink`]). Changes come in document order; on an error the
    /// ones already handed over must be discarded. Returns what the rebuild learned of the op
    /// ids.
    pub fn reconstruct_each_chunk(
        &self,
        check: HeadsCheck,
        sink: &mut impl RebuiltChunkSink,
    ) -> Result<OpIdStats, DecodeError> {
        self.reconstruct_each_chunk_planned(check, sink, Planning::Spread)
    }

    /// [`DocumentChunk::reconstruct_each_chunk`] that also hands over where each stored op is
    /// by id (the table the rebuild made to find each change's ops), for a loader that
    /// indexes the ops by id.
    pub fn reconstruct_each_chunk_with_rows(
        &self,
        check: HeadsCheck,
        sink: &mut impl RebuiltChunkSink,
    ) -> Result<(OpIdStats, OpRows), DecodeError> {
        let plan = self.plan_rebuild_with(Planning::Spread)?;
        self.rebuild_chunks(&plan, check, sink)?;
        let RebuildPlan { rebuilt, layout } = plan;
        let rows = OpRows {
            by_actor: layout.by_actor,
            // Rows fit 32 bits (`DocumentLimits::max_rows`, and `layout` placed them so).
            stored: u32::try_from(self.ops.len()).unwrap_or(u32::MAX),
            makes: rebuilt.makes,
        };
        Ok((rebuilt.ids, rows))
    }

    /// [`DocumentChunk::reconstruct_each_chunk`], its plan made as `planning` says.
    fn reconstruct_each_chunk_planned(
        &self,
        check: HeadsCheck,
        sink: &mut impl RebuiltChunkSink,
        planning: Planning,
    ) -> Result<OpIdStats, DecodeError> {
        let plan = self.plan_rebuild_with(planning)?;
        self.rebuild_chunks(&plan, check, sink)?;
        Ok(plan.rebuilt.ids)
    }

    /// Whether [`DocumentChunk::reconstruct_each_chunk`] rebuilds this chunk's changes on two
    /// threads, encoding on one and hashing on the other (enough changes, and a second core),
    /// so that [`DocumentChunk::reconstruct_each_chunk_sharing`] has time to share.
    pub fn rebuild_is_pipelined(&self) -> bool {
        pipeline_pays(self.changes.len())
    }

    /// [`DocumentChunk::reconstruct_each_chunk`] that runs slices of `side` on a second
    /// thread while this one makes the rebuild's plan (finding each change's ops: one
    /// thread's work), then on whichever of the pipelined rebuild's two threads would
    /// otherwise wait (see [`DocumentChunk::rebuild_is_pipelined`]): the encoder while the
    /// hasher is behind, the hasher while the encoder is, and both once their part is done.
    /// Slices may be left (if the machine has one core, the rebuild is not pipelined, or it
    /// fails); the caller runs the rest. A panic in `side` is resumed on the calling thread.
    pub fn reconstruct_each_chunk_sharing(
        &self,
        check: HeadsCheck,
        sink: &mut impl RebuiltChunkSink,
        side: &mut dyn SideWork,
    ) -> Result<OpIdStats, DecodeError> {
        let shared = SharedWork::new(side);
        let plan = self.plan_rebuild_sharing(&shared)?;
        self.rebuild_chunks_sharing(&plan, check, sink, Some(&shared))?;
        Ok(plan.rebuilt.ids)
    }

    /// [`DocumentChunk::plan_rebuild`] (one thread's work) while a second thread, if the
    /// machine has a second core, runs slices of `side` until the plan is made or no slice
    /// is left. A panic in `side` is resumed on the calling thread.
    fn plan_rebuild_sharing(&self, side: &SharedWork<'_>) -> Result<RebuildPlan, DecodeError> {
        use std::sync::atomic::{AtomicBool, Ordering};
        if !crate::second_core() {
            return self.plan_rebuild();
        }
        let planned = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("converge-side".into())
                .spawn_scoped(scope, || {
                    while !planned.load(Ordering::Relaxed) {
                        if !side.try_step() {
                            break;
                        }
                    }
                });
            let plan = self.plan_rebuild();
            planned.store(true, Ordering::Relaxed);
            // No thread could be started: the pipeline runs every slice.
            if let Ok(Err(panic)) = helper.map(|h| h.join()) {
                std::panic::resume_unwind(panic);
            }
            plan
        })
    }

    /// [`DocumentChunk::reconstruct_each_chunk`] with `beside` run on another thread while
    /// the changes are rebuilt, encoded and hashed on this one, so that a loader can build its
    /// op set from [`DocumentChunk::ops`] in the meantime instead of after. `beside` runs only
    /// where the rebuild would leave a core idle: the machine has a second core and the
    /// chunk has too few changes for the rebuild to pipeline its encoding and hashing on two
    /// threads itself (and a thread could be started). Its result is `None` otherwise, and
    /// then it did not run. It runs to the end even when the rebuild fails. A panic in
    /// `beside` is resumed on the calling thread.
    pub fn reconstruct_each_chunk_beside<T: Send>(
        &self,
        check: HeadsCheck,
        sink: &mut impl RebuiltChunkSink,
        beside: impl FnOnce() -> T + Send,
    ) -> (Result<OpIdStats, DecodeError>, Option<T>) {
        if !crate::second_core() || pipeline_pays(self.changes.len()) {
            return (self.reconstruct_each_chunk(check, sink), None);
        }
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("converge-beside".into())
                .spawn_scoped(scope, beside);
            // The other core runs `beside`: the plan is made on this one alone.
            let rebuilt = self.reconstruct_each_chunk_planned(check, sink, Planning::OneThread);
            let beside = match handle.map(|h| h.join()) {
                Ok(Ok(value)) => Some(value),
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                // No thread could be started: `beside` was dropped unrun.
                Err(_) => None,
            };
            (rebuilt, beside)
        })
    }

    /// The first steps of [`DocumentChunk::reconstruct_each_chunk`]: rebuilds the deletions
    /// and preds and finds each change's ops (refusing a chunk whose changes and ops do not
    /// fit together).
    pub(crate) fn plan_rebuild(&self) -> Result<RebuildPlan, DecodeError> {
        self.plan_rebuild_with(Planning::OneThread)
    }

    /// [`DocumentChunk::plan_rebuild`], its preds rebuilt on two threads if `planning` is
    /// [`Planning::Spread`] and the machine has a second core.
    fn plan_rebuild_with(&self, planning: Planning) -> Result<RebuildPlan, DecodeError> {
        let rebuilt = if planning == Planning::Spread && crate::second_core() {
            rebuild_ops_on_two_threads(&self.ops, self.actors.len())
        } else {
            rebuild_ops(&self.ops, self.actors.len())
        };
        let layout = layout(self, &rebuilt, planning)?;
        Ok(RebuildPlan { rebuilt, layout })
    }

    /// The rest of [`DocumentChunk::reconstruct_each_chunk`], with `plan` made by
    /// [`DocumentChunk::plan_rebuild`] for this chunk: encodes every change into `sink`, in
    /// document order, and checks the heads. With many changes, and a core to spare, a
    /// second thread encodes while this one hashes (see `encode_pipelined`).
    ///
    /// The sink is a trait object (one call per change) so that the whole rebuild is compiled
    /// here once, not again in each caller's crate for its sink type: there its code moved
    /// with unrelated changes to the caller (a closure of the op views left un-inlined made
    /// godot-thread's load 7 % slower after a change to converge-doc's op set alone).
    pub(crate) fn rebuild_chunks(
        &self,
        plan: &RebuildPlan,
        check: HeadsCheck,
        sink: &mut dyn RebuiltChunkSink,
    ) -> Result<(), DecodeError> {
        self.rebuild_chunks_sharing(plan, check, sink, None)
    }

    /// [`DocumentChunk::rebuild_chunks`], a pipelined rebuild's threads running slices of
    /// `side` where they would wait.
    fn rebuild_chunks_sharing(
        &self,
        plan: &RebuildPlan,
        check: HeadsCheck,
        sink: &mut dyn RebuiltChunkSink,
        side: Option<&SharedWork<'_>>,
    ) -> Result<(), DecodeError> {
        let (rebuilt, layout) = (&plan.rebuilt, &plan.layout);
        let pipelined = if pipeline_pays(self.changes.len()) {
            self.encode_pipelined(rebuilt, layout, sink, BATCH_BYTES, side)
        } else {
            None
        };
        let referenced = match pipelined {
            Some(done) => Some(done?),
            None => {
                let mut sink = ChunkSink {
                    sink: &mut *sink,
                    buf: Vec::new(),
                };
                self.encode_changes(rebuilt, layout, &mut sink)?;
                None
            }
        };
        self.check_heads_with(check, referenced, |i| sink.hash(i))
    }

    fn reconstruct_into(
        &self,
        check: HeadsCheck,
        sink: &mut impl Sink,
    ) -> Result<OpIdStats, DecodeError> {
        let plan = self.plan_rebuild_with(Planning::Spread)?;
        self.encode_changes(&plan.rebuilt, &plan.layout, sink)?;
        self.check_heads(check, |i| sink.hash(i))?;
        Ok(plan.rebuilt.ids)
    }

    /// Encodes every change, in document order, into `sink`.
    fn encode_changes(
        &self,
        rebuilt: &Rebuilt,
        layout: &ChangeLayout,
        sink: &mut impl Sink,
    ) -> Result<(), DecodeError> {
        let n_actors = self.actors.len();
        // Document actor index -> change-local actor number, for the change being built.
        let mut local: Vec<u32> = vec![u32::MAX; n_actors];
        let mut touched: Vec<usize> = Vec::new();
        // Later changes' deps point at earlier ones, whose hashes the sink keeps.
        let mut built = 0usize;
        // One set of parts, its buffers reused from change to change.
        let mut parts = ChangeParts {
            actor: ActorId::default(),
            seq: 0,
            start_op: 0,
            time: 0,
            message: None,
            deps: Vec::new(),
            other_actors: Vec::new(),
            ops: Vec::new(),
            extra_bytes: Vec::new(),
        };
        // Mapped preds of the change being built, in op order.
        let mut flat: Vec<OpId> = Vec::new();
        let mut last_author = None;
        for (c, &entry) in self.changes.iter().zip(&layout.changes) {
            let author = c.actor as usize;
            let owned: &[u32] = layout
                .by_actor
                .get(author)
                .and_then(|v| v.indices.get(ChangeLayout::range(entry)))
                .unwrap_or_default();
            parts.other_actors.clear();
            if let Some(l) = local.get_mut(author) {
                *l = 0;
                touched.push(author);
            }
            // First pass: give every actor the ops refer to its change-local number, and map
            // the preds. A document of one actor needs none: every id is the author's, local
            // number 0, and every index `layout` gave is an op (stored or rebuilt), so the
            // change has `owned.len()` ops. (That pass reads every op once more: for
            // godot-thread's 9.4M, ~1 GB.)
            let single_actor = n_actors == 1;
            let mut n_ops = if single_actor { owned.len() } else { 0 };
            // A big change's later half can be written on a second thread: it starts at
            // owned index `half`, at row and preds offset `later_start` (with one actor, row
            // `half` and no preds list; else found by the first pass).
            let half = owned.len() / 2;
            let split = owned.len() >= SPLIT_MIN_OPS;
            let mut later_start = (half, 0usize);
            if !single_actor {
                flat.clear();
                let other_actors = &mut parts.other_actors;
                let mut map = |id: OpId| -> Result<OpId, DecodeError> {
                    let a = id.actor as usize;
                    let slot =
                        local
                            .get_mut(a)
                            .ok_or_else(|| DecodeError::ActorIndexOutOfRange {
                                index: u64::from(id.actor),
                                len: n_actors,
                            })?;
                    if *slot == u32::MAX {
                        other_actors.push(self.actors.get(a).cloned().unwrap_or_default());
                        *slot = other_actors.len() as u32;
                        touched.push(a);
                    }
                    Ok(OpId::new(id.counter, *slot))
                };
                for (k, &i) in owned.iter().enumerate() {
                    if k == half {
                        later_start = (n_ops, flat.len());
                    }
                    let Some(op) = self.op_view(rebuilt, i as usize) else {
                        continue;
                    };
                    if let ObjId::Op(id) = op.obj {
                        map(id)?;
                    }
                    if let KeyRef::Seq(ElemId::Op(id)) = op.key {
                        map(id)?;
                    }
                    for p in op.pred {
                        flat.push(map(*p)?);
                    }
                    n_ops += 1;
                }
            }
            // Second: the ops in change-local numbers, as often as the encoder asks.
            // Through the vector, not a slice taken here: copying its pointer and length as
            // one 16-byte load right after the 8-byte store of its length cannot be forwarded
            // from the store buffer (the views closure captured the slice that way). A
            // one-actor document never touches `flat`.
            let (flat, local_ref) = (&flat, &local);
            // The ops from owned index `start` on, whose preds start at `pos` in `flat`.
            let views_from = |start: usize, pos: usize| OpViews {
                chunk: self,
                rebuilt,
                owned: owned.get(start..).unwrap_or_default().iter(),
                local: local_ref,
                flat,
                pos,
                single_actor,
            };
            let views = || views_from(0, 0);
            sink.fill_deps(c.deps, built, &mut parts.deps);
            // Runs of one author are the rule: the actor is copied only when it changes.
            if last_author != Some(author) {
                parts.actor = self.actors.get(author).cloned().unwrap_or_default();
                last_author = Some(author);
            }
            parts.seq = c.seq;
            parts.start_op = ChangeLayout::start_op(entry, c.max_op);
            parts.time = c.time;
            match &c.message {
                // The parts' buffer is reused from change to change.
                Some(m) => {
                    let text = parts.message.get_or_insert_with(String::new);
                    text.clear();
                    text.push_str(m);
                }
                None => parts.message = None,
            }
            parts.extra_bytes.clear();
            parts.extra_bytes.extend_from_slice(c.extra_bytes);
            let hash = if split {
                let (later_row, later_pos) = later_start;
                sink.emit_halves(
                    &parts,
                    n_ops,
                    views,
                    (later_row, || views_from(half, later_pos)),
                )
            } else {
                sink.emit(&parts, n_ops, views)
            };
            for a in touched.drain(..) {
                if let Some(l) = local.get_mut(a) {
                    *l = u32::MAX;
                }
            }
            hash?;
            built += 1;
        }
        Ok(())
    }

    /// [`DocumentChunk::encode_changes`] into `sink` on two threads: a spawned one encodes
    /// the changes with placeholder deps, this one writes in the deps' hashes and hashes each
    /// chunk, and the spawned one hands the sealed chunks to `sink` (which is most of what a
    /// loader does per change: it used to be this thread's, and this thread was the
    /// pipeline's bottleneck). A change's bytes hold its deps' hashes, so hashing is a
    /// chain; encoding is not, and the two overlap. Where one thread would wait for the
    /// other, and after its part, it runs slices of `side`. `None` if no thread could be
    /// started (nothing was encoded then).
    fn encode_pipelined(
        &self,
        rebuilt: &Rebuilt,
        layout: &ChangeLayout,
        sink: &mut dyn RebuiltChunkSink,
        batch_bytes: usize,
        side: Option<&SharedWork<'_>>,
    ) -> Option<Result<Vec<u64>, DecodeError>> {
        use std::sync::mpsc;
        // The recorder outlives the scope's threads. Its channel's sending end is moved into
        // the scope, as are both ends of the hasher's channel, so that a panic on this thread
        // drops them and the encoder's waits on them end.
        let (to_record, sealed) = mpsc::channel::<Batch>();
        let (give_back, spare) = mpsc::channel::<Batch>();
        let recorder = Recorder {
            state: std::sync::Mutex::new(RecorderState {
                sink,
                sealed,
                spare: give_back,
                recorded: 0,
            }),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            unhashed: std::sync::atomic::AtomicUsize::new(0),
        };
        let recorder = &recorder;
        std::thread::scope(move |scope| {
            // Room for 16 batches (~1 MB): with 4, the encoder of essay.amrg's changes waited
            // 12-20 ms on a full channel while the hasher ran a slice of side work it had
            // taken when its end was empty (`load_probe` against 4: 137-140 → 131-136 ms,
            // the peak ~1 MB higher).
            let (to_hasher, batches) = mpsc::sync_channel::<Batch>(16);
            let encoder = std::thread::Builder::new()
                .name("converge-rebuild".into())
                .spawn_scoped(scope, move || {
                    let mut pipe = PipeSink {
                        batch: Batch::default(),
                        to_hasher,
                        recorder,
                        side,
                        spare,
                        placeholders: 0,
                        batch_bytes,
                    };
                    let done = self.encode_changes(rebuilt, layout, &mut pipe);
                    pipe.send();
                    // The hasher's loop ends with the channel, before the work after.
                    drop(pipe);
                    recorder.finish(side.filter(|_| done.is_ok()));
                    done
                })
                .ok()?;
            let mut spin = Spin::new();
            let (mut hashes, referenced) = DepHashes::new(&self.changes);
            let mut sealed = 0usize;
            let mut failed = false;
            let mut deps: Vec<ChangeHash> = Vec::new();
            loop {
                use std::sync::mpsc::TryRecvError;
                let mut batch = match batches.try_recv() {
                    Ok(batch) => {
                        spin = Spin::new();
                        batch
                    }
                    Err(TryRecvError::Empty) => {
                        if recorder.try_step() == RecordStep::Recorded
                            || side.is_some_and(SharedWork::try_step)
                            || spin.again()
                        {
                            continue;
                        }
                        match batches.recv() {
                            Ok(batch) => {
                                spin = Spin::new();
                                batch
                            }
                            Err(_) => break,
                        }
                    }
                    Err(TryRecvError::Disconnected) => break,
                };
                recorder.note_unhashed(false);
                let mut start = 0usize;
                let mut deps_start = 0usize;
                for c in &batch.chunks {
                    if failed {
                        break;
                    }
                    let (end, deps_end) = (c.end, c.deps_end);
                    deps.clear();
                    deps.extend(
                        batch
                            .deps
                            .get(deps_start..deps_end)
                            .unwrap_or_default()
                            .iter()
                            .map(|&d| hashes.get(sealed, d as usize)),
                    );
                    let hash = batch.bytes.get_mut(start..end).and_then(|bytes| {
                        crate::chunk::seal_change_chunk(bytes, c.deps_at, deps.drain(..))
                    });
                    let Some(hash) = hash else {
                        // Not a chunk the encoder writes: the chunks after it are not
                        // sealed, and the rebuild fails out of step.
                        failed = true;
                        break;
                    };
                    hashes.push(sealed, hash);
                    batch.hashes.push(hash);
                    sealed += 1;
                    start = end;
                    deps_start = deps_end;
                }
                // The recorder lives until the scope ends.
                recorder.note_sealed();
                let _ = to_record.send(batch);
                if recorder.hasher_keeps_up() {
                    while recorder.try_step() == RecordStep::Recorded {}
                }
            }
            // The recorder is done once this end is gone and the last batches are handed over.
            drop(to_record);
            recorder.finish(side.filter(|_| sealed == self.changes.len()));
            let done = match encoder.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let recorded = recorder.recorded();
            // Every encoded chunk was sealed and handed over (a chunk the encoder wrote is
            // never short).
            let all_sealed = (recorded == self.changes.len()).then_some(()).ok_or(
                DecodeError::RebuildOutOfStep {
                    sealed: recorded,
                    changes: self.changes.len(),
                },
            );
            Some(done.and(all_sealed).map(|()| referenced))
        })
    }

    /// The heads of the rebuilt changes (those no change depends on), whose hashes `hash`
    /// gives, must be the stored heads.
    fn check_heads(
        &self,
        check: HeadsCheck,
        hash: impl Fn(usize) -> Option<ChangeHash>,
    ) -> Result<(), DecodeError> {
        self.check_heads_with(check, None, hash)
    }

    /// [`DocumentChunk::check_heads`] with the bits of the changes some change depends on
    /// found already ([`referenced_and_far`], by a pipelined rebuild's hasher while the
    /// encoder fills the first batches: reading every change row again after the rebuild
    /// took the paper document's load 1.7 ms).
    fn check_heads_with(
        &self,
        check: HeadsCheck,
        referenced: Option<Vec<u64>>,
        hash: impl Fn(usize) -> Option<ChangeHash>,
    ) -> Result<(), DecodeError> {
        if check == HeadsCheck::DontCheck {
            return Ok(());
        }
        let referenced =
            referenced.unwrap_or_else(|| referenced_and_far(&self.changes, usize::MAX).0);
        let mut computed: Vec<ChangeHash> = (0..self.changes.len())
            .filter(|&i| {
                referenced
                    .get(i / 64)
                    .is_none_or(|w| w >> (i % 64) & 1 == 0)
            })
            .filter_map(hash)
            .collect();
        computed.sort_unstable();
        if computed != self.heads {
            return Err(DecodeError::MismatchingHeads {
                stored: self.heads.clone(),
                computed,
            });
        }
        Ok(())
    }
}

/// The ops of a change being rebuilt, in change-local actor numbers: an explicit iterator,
/// not a `filter_map` closure, so that its `next` can be always inlined into the encoder's
/// row loops. As a closure it was inlined or not as the code around it happened to be
/// compiled (called out of line, godot-thread's load took 7-8 % longer).
struct OpViews<'d> {
    chunk: &'d DocumentChunk,
    rebuilt: &'d Rebuilt,
    /// The ops' indexes (stored ops, then the rebuilt deletions).
    owned: std::slice::Iter<'d, u32>,
    /// Document actor index -> change-local actor number; an actor outside the document
    /// maps to no actor, which the encoder refuses (the first pass refuses it earlier when
    /// there is one).
    local: &'d Vec<u32>,
    /// The change's mapped preds, in op order (unused with one actor).
    flat: &'d Vec<OpId>,
    /// Where the next op's preds start in `flat`.
    pos: usize,
    single_actor: bool,
}

impl<'d> OpViews<'d> {
    #[inline(always)]
    fn local_id(&self, id: OpId) -> OpId {
        OpId::new(
            id.counter,
            self.local
                .get(id.actor as usize)
                .copied()
                .unwrap_or(u32::MAX),
        )
    }
}

impl<'d> Iterator for OpViews<'d> {
    type Item = ChangeOpRef<'d>;

    #[inline(always)]
    fn next(&mut self) -> Option<ChangeOpRef<'d>> {
        loop {
            let &i = self.owned.next()?;
            let Some(mut op) = self.chunk.op_view(self.rebuilt, i as usize) else {
                continue;
            };
            if let ObjId::Op(id) = op.obj {
                op.obj = ObjId::Op(self.local_id(id));
            }
            if let KeyRef::Seq(ElemId::Op(id)) = op.key {
                op.key = KeyRef::Seq(ElemId::Op(self.local_id(id)));
            }
            if !self.single_actor {
                let end = self.pos + op.pred.len();
                op.pred = self.flat.get(self.pos..end).unwrap_or_default();
                self.pos = end;
            }
            return Some(op);
        }
    }
}

impl DocumentChunk {
    /// Op `i` of the document (stored ops, then `rebuilt`'s deletions) in document actor
    /// numbers, preds unsorted; `None` for a deletion whose key cannot be found.
    fn op_view<'d>(&'d self, rebuilt: &'d Rebuilt, i: usize) -> Option<ChangeOpRef<'d>> {
        if let Some(op) = self.ops.get(i) {
            let pred = rebuilt.preds(i);
            return Some(ChangeOpRef {
                obj: op.obj,
                key: op.key,
                insert: op.insert,
                action: op.action,
                value: op.value,
                pred,
                expand: op.expand,
                mark_name: op.mark_name,
            });
        }
        let d = rebuilt.dels.get(i.checked_sub(self.ops.len())?)?;
        let (obj, group) = group_key(&self.ops.head(d.group as usize)?);
        let key = match group {
            GroupKey::Key(key) => key,
            GroupKey::Elem(elem) => KeyRef::Seq(ElemId::Op(elem)),
        };
        Some(ChangeOpRef {
            obj,
            key,
            insert: false,
            action: Action::Del,
            value: ValueRef::Null,
            pred: rebuilt.del_preds(d),
            expand: false,
            mark_name: None,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::document::DocOp;
    use crate::ids::Key;

    fn op(counter: u32, key: Key, insert: bool, succ: Vec<OpId>) -> DocOp {
        DocOp {
            id: OpId::new(counter, 0),
            obj: ObjId::Root,
            key,
            insert,
            action: Action::Set,
            value: crate::value::ScalarValue::Int(1).into(),
            succ: succ.into(),
            expand: false,
            mark_name: None,
        }
    }

    /// Keeps every rebuilt chunk.
    #[derive(Default)]
    struct Collect(Vec<(ChangeHash, Vec<u8>, u64)>);

    impl RebuiltChunkSink for Collect {
        fn push(&mut self, c: RebuiltChunk<'_>) {
            self.0.push((c.hash, c.bytes.to_vec(), c.start_op));
        }
        fn hash(&self, index: usize) -> Option<ChangeHash> {
            self.0.get(index).map(|c| c.0)
        }
    }

    /// Side work of `left` slices that counts the slices run.
    struct CountedSteps {
        left: usize,
        ran: usize,
    }

    impl SideWork for CountedSteps {
        fn step(&mut self) -> bool {
            if self.left == 0 {
                return false;
            }
            self.left -= 1;
            self.ran += 1;
            self.left > 0
        }
    }

    /// Rebuilds `doc`'s changes on one thread and on two (batches of `batch_bytes`) and
    /// asserts that they agree: the same encoding result, and where it succeeded the same
    /// chunks, hashes and start ops in order and the same heads verdict. Returns the
    /// encoding result, and the heads verdict inside it.
    fn rebuild_both_ways(
        doc: &DocumentChunk,
        plan: &RebuildPlan,
        batch_bytes: usize,
        what: &str,
    ) -> Result<Result<(), DecodeError>, DecodeError> {
        let mut one = Collect::default();
        let one_result = doc.encode_changes(
            &plan.rebuilt,
            &plan.layout,
            &mut ChunkSink {
                sink: &mut one,
                buf: Vec::new(),
            },
        );
        let mut two = Collect::default();
        let two_result = doc
            .encode_pipelined(&plan.rebuilt, &plan.layout, &mut two, batch_bytes, None)
            .expect("a thread starts");
        // The bits the hasher found of the changes depended on give the heads check's verdict.
        let two_verdict = two_result.as_ref().ok().map(|referenced| {
            doc.check_heads_with(HeadsCheck::Check, Some(referenced.clone()), |i| two.hash(i))
        });
        let two_result = two_result.map(|_| ());
        assert_eq!(one_result, two_result, "{what}");
        // With side work shared by the two threads: the same chunks, and every slice run
        // exactly once when the rebuild succeeds.
        let mut three = Collect::default();
        let mut steps = CountedSteps { left: 300, ran: 0 };
        let three_result = {
            let shared = SharedWork::new(&mut steps);
            doc.encode_pipelined(
                &plan.rebuilt,
                &plan.layout,
                &mut three,
                batch_bytes,
                Some(&shared),
            )
            .expect("a thread starts")
            .map(|_| ())
        };
        assert_eq!(one_result, three_result, "{what}");
        assert!(steps.ran + steps.left == 300 && (one_result.is_err() || steps.left == 0));
        one_result?;
        assert!(one.0 == two.0, "{what}: batches of {batch_bytes} bytes");
        assert!(
            one.0 == three.0,
            "{what}: batches of {batch_bytes} bytes, side work"
        );
        let verdict = doc.check_heads(HeadsCheck::Check, |i| one.hash(i));
        assert_eq!(
            verdict,
            doc.check_heads(HeadsCheck::Check, |i| two.hash(i)),
            "{what}"
        );
        assert_eq!(Some(&verdict), two_verdict.as_ref(), "{what}");
        Ok(verdict)
    }

    /// The hasher's dep hashes: recent ones from the ring, and a dep further back than the
    /// ring reaches (a long-lived branch merged at last) from the kept far ones; and the
    /// bits of the changes depended on, for the heads check.
    #[test]
    fn dep_hashes_reach_back_past_the_ring() {
        use crate::document::DocChange;
        let merge = DepHashes::RECENT + 50;
        let late = merge + DepHashes::RECENT + 5;
        let n = late + 10;
        let changes: DocChanges = (0..n)
            .map(|i| {
                let mut deps: smallvec::SmallVec<[u32; 2]> = smallvec::SmallVec::new();
                if i > 0 {
                    deps.push(i as u32 - 1);
                }
                if i == merge {
                    deps.push(3);
                }
                if i == late {
                    deps.push(merge as u32);
                }
                DocChange {
                    actor: 0,
                    seq: i as u64 + 1,
                    deps,
                    ..DocChange::default()
                }
            })
            .collect();
        let hash_of = |i: usize| ChangeHash(crate::chunk::sha256(&(i as u64).to_le_bytes()));
        let (mut hashes, referenced) = DepHashes::new(&changes);
        // Every change but the last is depended on.
        for i in 0..n {
            let bit = referenced[i / 64] >> (i % 64) & 1;
            assert_eq!(bit == 1, i + 1 < n, "{i}");
        }
        for i in 0..n {
            if let Some(deps) = changes.get(i).map(|c| c.deps.to_vec()) {
                for d in deps {
                    assert_eq!(hashes.get(i, d as usize), hash_of(d as usize), "{i} <- {d}");
                }
            }
            hashes.push(i, hash_of(i));
        }
        // Only the changes depended on from beyond the ring were kept aside.
        assert_eq!(hashes.far.len(), 2);
    }

    /// The pipelined rebuild (an encoder thread, hashing on this one) hands on exactly the
    /// chunks, hashes and start ops of the one-thread rebuild, in order, with batches of one
    /// change and of the real size, on every document chunk of the corpus (many
    /// actors and concurrent deps in egwalker's C1/C2 and essay.amrg, the fixtures'
    /// oddities), and fails where it fails.
    #[test]
    fn the_pipelined_rebuild_equals_the_one_thread_rebuild() {
        let mut compared = 0;
        for (path, doc) in corpus_document_chunks() {
            let Ok(plan) = doc.plan_rebuild() else {
                continue;
            };
            for batch_bytes in [1, BATCH_BYTES] {
                let _ = rebuild_both_ways(&doc, &plan, batch_bytes, &path);
            }
            compared += 1;
        }
        assert!(compared >= 15, "only {compared} document chunks found");
    }

    /// The document chunks of the corpus that decode, with the file each is from, but those
    /// of more than 2M ops (godot-thread's 9.4M ops in two changes would take most of a
    /// test's time).
    fn corpus_document_chunks() -> impl Iterator<Item = (String, DocumentChunk)> {
        crate::test_corpus::files().into_iter().flat_map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            crate::chunk::split_chunks(&bytes)
                .map_while(Result::ok)
                .filter(|c| c.chunk_type() == crate::chunk::ChunkType::Document)
                .filter_map(|c| DocumentChunk::decode(c.bytes()).ok())
                .filter(|doc| doc.ops.len() <= 2_000_000)
                .map(|doc| (name.clone(), doc))
                .collect::<Vec<_>>()
        })
    }

    /// Ids placed on two threads, each taking half of every dense actor's table, give the
    /// layout one thread gives, on every document chunk of the corpus.
    #[test]
    fn a_layout_made_on_two_threads_is_the_one_thread_layout() {
        let mut checked = 0;
        for (name, doc) in corpus_document_chunks() {
            let rebuilt = rebuild_ops(&doc.ops, doc.actors.len());
            let one = layout(&doc, &rebuilt, Planning::OneThread);
            let two = layout(&doc, &rebuilt, Planning::Spread);
            match (one, two) {
                (Ok(one), Ok(two)) => assert_eq!(one, two, "{name}"),
                (one, two) => assert_eq!(one.err(), two.err(), "{name}"),
            }
            checked += usize::from(doc.ops.len() + rebuilt.dels.len() >= SPLIT_LAYOUT_IDS);
        }
        assert!(checked >= 10, "{checked} chunks placed on two threads");
    }

    /// The rows a rebuild hands on find every stored op at its row, and no deletion, on every
    /// document chunk of the corpus (dense and sparse actors); as tables and pairs they list
    /// exactly the stored ops. The rebuild itself is the one without rows.
    #[test]
    fn the_rows_a_rebuild_hands_on_find_every_stored_op() {
        let (mut checked, mut sparse) = (0, 0);
        for (name, doc) in corpus_document_chunks() {
            let mut plain = Collect::default();
            let Ok(stats) = doc.reconstruct_each_chunk(HeadsCheck::Check, &mut plain) else {
                continue;
            };
            let mut with = Collect::default();
            let (with_stats, rows) = doc
                .reconstruct_each_chunk_with_rows(HeadsCheck::Check, &mut with)
                .unwrap();
            assert_eq!(stats, with_stats, "{name}");
            assert_eq!(plain.0, with.0, "{name}");
            for (k, id) in doc.ops.ids().enumerate() {
                assert_eq!(rows.row(id), Some(k as u32), "{name}: op {k}");
            }
            let makes: Vec<(u32, Action)> = (0..doc.ops.len())
                .filter_map(|k| doc.ops.head(k).map(|op| (k as u32, op.action)))
                .filter(|(_, a)| a.is_make())
                .collect();
            assert_eq!(rows.made_objects(), makes.as_slice(), "{name}");
            let dels = rebuild_ops(&doc.ops, doc.actors.len()).dels;
            for d in &dels {
                assert_eq!(rows.row(d.id), None, "{name}: deletion {:?}", d.id);
            }
            let mut listed: Vec<(u32, u32, u32)> = Vec::new();
            for (a, actor) in rows.into_actor_rows().into_iter().enumerate() {
                match actor {
                    ActorRows::Table { base, slots } => listed.extend(
                        (base..)
                            .zip(slots)
                            .filter(|&(_, r)| r != u32::MAX)
                            .map(|(c, r)| (r, a as u32, c)),
                    ),
                    ActorRows::Pairs(pairs) => {
                        sparse += 1;
                        assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "{name}");
                        listed.extend(pairs.into_iter().map(|(c, r)| (r, a as u32, c)));
                    }
                }
            }
            listed.sort_unstable();
            let stored: Vec<(u32, u32, u32)> = doc
                .ops
                .ids()
                .enumerate()
                .map(|(k, id)| (k as u32, id.actor, id.counter))
                .collect();
            assert_eq!(listed, stored, "{name}");
            checked += 1;
        }
        assert!(
            checked >= 15 && sparse >= 1,
            "{checked} chunks, {sparse} sparse actors"
        );
    }

    /// The document chunk of monday-meeting-notes (15,529 changes of one or a few ops, 69
    /// actors): enough changes for the rebuild to pipeline.
    fn monday_meeting_notes() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/automerge-corpus/real-docs/monday-meeting-notes.automerge"
        );
        let bytes = std::fs::read(path).unwrap();
        let chunk = crate::chunk::split_chunks(&bytes).next().unwrap().unwrap();
        chunk.bytes().to_vec()
    }

    /// The sharing rebuild (side work on a helper thread beside the plan, then on whichever
    /// pipeline thread would wait) hands on exactly what the plain rebuild does and runs
    /// every slice once, however many there are (from one to 200,000).
    #[test]
    fn side_work_runs_beside_the_plan_and_the_pipeline() {
        let doc = DocumentChunk::decode(&monday_meeting_notes()).unwrap();
        assert!(doc.rebuild_is_pipelined());
        let mut plain = Collect::default();
        let plain_stats = doc
            .reconstruct_each_chunk(HeadsCheck::Check, &mut plain)
            .unwrap();
        for slices in [1, 7, 300, 200_000] {
            let mut shared = Collect::default();
            let mut steps = CountedSteps {
                left: slices,
                ran: 0,
            };
            let stats = doc
                .reconstruct_each_chunk_sharing(HeadsCheck::Check, &mut shared, &mut steps)
                .unwrap();
            assert_eq!(stats, plain_stats);
            assert!(shared.0 == plain.0, "{slices} slices");
            assert_eq!((steps.ran, steps.left), (slices, 0));
        }
    }

    /// A panic in the side work comes out of the sharing rebuild on the calling thread,
    /// whether the slice that panics runs beside the plan, in the pipeline, or after it
    /// (which one depends on timing; each was seen), and the other threads end: the call
    /// returns.
    #[test]
    fn a_panic_in_side_work_is_resumed_on_the_caller() {
        /// Side work that never runs out, and panics at its `at`-th slice. A slice takes
        /// some 50 µs, so that the later panics come after the plan (about a millisecond).
        struct PanicAt(usize);
        impl SideWork for PanicAt {
            fn step(&mut self) -> bool {
                if self.0 == 0 {
                    panic!("side work fails");
                }
                self.0 -= 1;
                std::thread::sleep(std::time::Duration::from_micros(50));
                true
            }
        }
        let doc = DocumentChunk::decode(&monday_meeting_notes()).unwrap();
        for at in [0, 5, 200, 2_000] {
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut sink = Collect::default();
                let mut work = PanicAt(at);
                let _ = doc.reconstruct_each_chunk_sharing(HeadsCheck::Check, &mut sink, &mut work);
            }));
            let payload = caught.expect_err("the side work's panic comes out");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"side work fails"),
                "slice {at}"
            );
        }
    }

    /// The same on mutated documents of many changes: monday-meeting-notes (15,529 changes
    /// of one or a few ops), re-encoded without deflate, with bytes of its columns flipped.
    /// Whatever decodes is rebuilt alike on one thread and two: the same chunks and hashes,
    /// the same error where it fails, the same heads verdict.
    #[test]
    fn mutated_documents_rebuild_alike_on_one_and_two_threads() {
        let plain = DocumentChunk::decode(&monday_meeting_notes())
            .unwrap()
            .encode(false);
        let data = crate::chunk::Chunk::parse(&plain).unwrap().data().to_vec();
        assert!(
            DocumentChunk::decode_data(&data, Default::default())
                .unwrap()
                .changes
                .len()
                >= 2048
        );
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut decoded, mut failed, mut heads_refused) = (0, 0, 0);
        for round in 0..150 {
            let mut mutated = data.clone();
            // Past the actor and heads tables, which would only fail decoding.
            for _ in 0..1 + round % 3 {
                let at = 200 + (next() as usize) % (mutated.len() - 200);
                mutated[at] ^= 1 << (next() % 8);
            }
            let Ok(doc) = DocumentChunk::decode_data(&mutated, Default::default()) else {
                continue;
            };
            let Ok(plan) = doc.plan_rebuild() else {
                continue;
            };
            decoded += 1;
            match rebuild_both_ways(&doc, &plan, BATCH_BYTES, &format!("round {round}")) {
                Err(_) => failed += 1,
                Ok(verdict) => heads_refused += usize::from(verdict.is_err()),
            }
        }
        println!("{decoded} decoded, {failed} failed to encode, {heads_refused} heads refused");
        assert!(
            decoded >= 30 && heads_refused >= 10,
            "{decoded} / {heads_refused}"
        );
    }

    #[test]
    fn duplicate_ids_are_reported_dense_or_sparse() {
        let k = Key::Map("k".into());
        // Dense counters (table path), then counters far apart (sorted path): the smallest
        // duplicated counter is reported either way.
        // With enough other ids, on two threads too (the duplicates in either half).
        for (far, more) in [(0u32, 0u32), (1 << 20, 0), (0, 200), (1 << 20, 200)] {
            let mut ops = vec![
                op(5 + far, k.clone(), false, vec![]),
                op(1, k.clone(), false, vec![]),
                op(5 + far, k.clone(), false, vec![]),
                op(3, k.clone(), false, vec![]),
                op(3, k.clone(), false, vec![]),
            ];
            ops.extend((0..more).map(|c| op(10 + c, k.clone(), false, vec![])));
            if more > 0 {
                ops.push(op(150, k.clone(), false, vec![]));
            }
            let doc = DocumentChunk {
                actors: vec![crate::ids::ActorId::from_bytes(&[1])],
                ops: ops.into(),
                ..DocumentChunk::default()
            };
            let rebuilt = rebuild_ops(&doc.ops, doc.actors.len());
            for planning in [Planning::OneThread, Planning::Spread] {
                assert!(matches!(
                    layout(&doc, &rebuilt, planning),
                    Err(DecodeError::DuplicateOpId {
                        counter: 3,
                        actor: 0
                    })
                ));
            }
        }
    }

    /// A dense table and a sorted list find the same ranges of ops and the same first missing
    /// counter, for every set of up to 8 counters and every span asked for.
    #[test]
    fn dense_and_sparse_actor_ops_agree() {
        let base = 3u32;
        for mask in 0u32..256 {
            let present: Vec<u32> = (0..8)
                .filter(|k| mask >> k & 1 == 1)
                .map(|k| base + k)
                .collect();
            let Some(&lo) = present.first() else {
                continue;
            };
            let hi = *present.last().unwrap();
            let mut dense = ActorOps {
                lo,
                counters: Vec::new(),
                indices: vec![u32::MAX; (hi - lo + 1) as usize],
            };
            for (i, &c) in present.iter().enumerate() {
                dense.indices[(c - lo) as usize] = i as u32 + 100;
            }
            let sparse = ActorOps {
                lo: 0,
                counters: present.clone(),
                indices: (0..present.len() as u32).map(|i| i + 100).collect(),
            };
            for from in 0u64..14 {
                for max_op in from.saturating_sub(1)..14 {
                    let d = dense.owned(from, max_op);
                    let s = sparse.owned(from, max_op);
                    let ops =
                        |a: &ActorOps, r: &Result<(std::ops::Range<usize>, Option<u64>), u64>| {
                            r.clone()
                                .map(|(range, first)| (a.indices[range].to_vec(), first))
                        };
                    assert_eq!(
                        ops(&dense, &d),
                        ops(&sparse, &s),
                        "mask {mask:08b} {from}..={max_op}"
                    );
                }
            }
        }
    }

    #[test]
    fn deletions_and_preds_are_rebuilt() {
        let k = Key::Map("k".into());
        let ops = vec![
            op(1, k.clone(), false, vec![OpId::new(2, 0)]),
            op(2, k.clone(), false, vec![OpId::new(3, 0)]),
            op(4, Key::Seq(ElemId::Head), true, vec![OpId::new(5, 0)]),
        ];
        let stored = DocOps::from(ops.clone());
        let rebuilt = rebuild_ops(&stored, 1);
        assert_eq!(rebuilt.dels.len(), 2);
        assert_eq!(rebuilt.preds(1), &[OpId::new(1, 0)]);
        // Op 0 comes before the first op with preds: it has no entry of its own.
        assert_eq!(rebuilt.leading, 1);
        assert!(rebuilt.preds(0).is_empty() && rebuilt.preds(2).is_empty());
        let del3 = rebuilt
            .dels
            .iter()
            .find(|o| o.id == OpId::new(3, 0))
            .unwrap();
        assert_eq!(del3.group, 0);
        assert_eq!(ops[0].key, k);
        assert_eq!(rebuilt.del_preds(del3), &[OpId::new(2, 0)]);
        let del5 = rebuilt
            .dels
            .iter()
            .find(|o| o.id == OpId::new(5, 0))
            .unwrap();
        assert_eq!(del5.group, 2);
        assert_eq!(
            group_key(&stored.head(del5.group as usize).unwrap()).1,
            GroupKey::Elem(OpId::new(4, 0))
        );
    }

    /// The preds and deletions rebuilt on two threads are those rebuilt on one, field for
    /// field, on every document chunk of the corpus (deletions and overwrites on either side
    /// of the cut, or only on one) and on ops whose middle group is long (the cut moves to
    /// its end) or holds the later half (no cut).
    #[test]
    fn preds_rebuilt_on_two_threads_are_those_rebuilt_on_one() {
        fn same(ops: &DocOps, n_actors: usize, what: &str) {
            let (one, two) = (
                rebuild_ops(ops, n_actors),
                rebuild_ops_on_two_threads(ops, n_actors),
            );
            assert_eq!(one.leading, two.leading, "{what}");
            assert!(one.pred_starts == two.pred_starts, "{what}");
            assert!(one.pred_ids == two.pred_ids, "{what}");
            assert!(one.dels == two.dels, "{what}");
            assert!(one.del_preds == two.del_preds, "{what}");
            assert_eq!(one.ids, two.ids, "{what}");
        }
        let mut compared = 0;
        for (path, doc) in corpus_document_chunks() {
            same(&doc.ops, doc.actors.len(), &path);
            compared += 1;
        }
        assert!(compared >= 15, "only {compared} document chunks found");
        // One long group across the middle, overwrites before it, deletions after it.
        let k = Key::Map("k".into());
        let mut ops: Vec<DocOp> = (1..=40u32)
            .map(|c| op(c, Key::Map(format!("a{c:02}")), false, vec![]))
            .collect();
        ops.extend((41..=140u32).map(|c| op(c, k.clone(), false, vec![OpId::new(c + 1, 0)])));
        ops.extend((0..60u32).map(|i| {
            let id = 200 + 2 * i;
            op(id, Key::Seq(ElemId::Head), true, vec![OpId::new(id + 1, 0)])
        }));
        same(&DocOps::from(ops.clone()), 1, "long middle group");
        // The later half is one group: no cut.
        let tail: Vec<DocOp> = (1..=200u32)
            .map(|c| op(c, k.clone(), false, vec![OpId::new(c + 1, 0)]))
            .collect();
        same(&DocOps::from(tail), 1, "one group");
        // Preds only after the cut.
        let mut late: Vec<DocOp> = (1..=100u32)
            .map(|c| op(c, Key::Map(format!("b{c:03}")), false, vec![]))
            .collect();
        late.extend(ops.iter().skip(40).cloned());
        same(&DocOps::from(late), 1, "preds after the cut");
    }

    /// Groups and deletions that span the boundaries of `DocOps` blocks (64 rows in tests):
    /// one map key overwritten 150 times, each value superseding the one before and the last
    /// deleted, then 150 inserted elements, every third deleted.
    #[test]
    fn groups_spanning_blocks_are_rebuilt() {
        let n = 150u32;
        let k = Key::Map("k".into());
        let mut ops: Vec<DocOp> = (1..=n)
            .map(|c| op(c, k.clone(), false, vec![OpId::new(c + 1, 0)]))
            .collect();
        // The last overwrite's successor (n + 1) is not stored: a deletion.
        let base = n + 2;
        ops.extend((0..n).map(|i| {
            let id = base + 2 * i;
            let succ = if i.is_multiple_of(3) {
                vec![OpId::new(id + 1, 0)]
            } else {
                vec![]
            };
            op(id, Key::Seq(ElemId::Head), true, succ)
        }));
        let stored = DocOps::from(ops.clone());
        assert!(stored.len() > 3 * super::super::ops::BLOCK_ROWS);
        let rebuilt = rebuild_ops(&stored, 1);
        for c in 2..=n as usize {
            assert_eq!(
                rebuilt.preds(c - 1),
                &[OpId::new(c as u32 - 1, 0)],
                "op {c}"
            );
        }
        assert!(rebuilt.preds(0).is_empty());
        let del = |id: u32| {
            rebuilt
                .dels
                .iter()
                .find(|d| d.id == OpId::new(id, 0))
                .copied()
        };
        let last = del(n + 1).unwrap();
        assert_eq!(last.group, 0);
        assert_eq!(rebuilt.del_preds(&last), &[OpId::new(n, 0)]);
        assert_eq!(
            rebuilt.dels.len(),
            1 + (0..n).filter(|i| i.is_multiple_of(3)).count()
        );
        for i in (0..n).filter(|i| i.is_multiple_of(3)) {
            let d = del(base + 2 * i + 1).unwrap();
            assert_eq!(d.group as usize, (n + i) as usize);
            assert_eq!(
                group_key(&stored.head(d.group as usize).unwrap()).1,
                GroupKey::Elem(OpId::new(base + 2 * i, 0))
            );
        }
    }
}
