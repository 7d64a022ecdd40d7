//! Remote changes: validation, causal queue, application; and the change-history API
//! (`get_changes`, `fork`, `merge`, ...).
//!
//! A change is validated completely before any of it touches the op set, so a rejected change
//! leaves nothing behind. A batch (`apply_changes`) is atomic too: if a later change fails, the
//! earlier changes of the batch are undone.

use std::collections::HashSet;

use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOpRef, ElemId, KeyRef, ObjId, OpId, ValueRef,
};
use smallvec::SmallVec;

use converge_dag::{AsChangeMeta, ChangeGraph, ChangeIdx, ChangeMetaRef};

use crate::doc::Document;
use crate::error::{DocError, InvalidOpReason};
use crate::history::{History, Mark, Ready};
use crate::opset::{HEAD, Hint, NONE, NewOp, StoredValue, made_kind};
use crate::types::{ExId, ObjType};

/// What the graph reads a merge's changes from: the other document's graph, the missing
/// changes, their seqs (found once: the graph would look each up on every read) and their
/// deps (which that graph keeps as indexes), back to back.
struct MergeSource<'a> {
    graph: &'a ChangeGraph,
    missing: &'a [ChangeIdx],
    /// A seq is a place in a list of `u32` indexes: it fits a `u32`.
    seqs: Vec<u32>,
    deps: Vec<ChangeHash>,
    dep_ends: Vec<u32>,
    /// The author named if a missing change were not in the graph, which cannot happen:
    /// every one was found when the source was built.
    no_actor: ActorId,
}

impl<'a> MergeSource<'a> {
    /// The changes `missing` of `history`.
    fn new(history: &'a History, missing: &'a [ChangeIdx]) -> Result<Self, DocError> {
        let graph = &history.graph;
        let mut source = MergeSource {
            graph,
            missing,
            seqs: Vec::with_capacity(missing.len()),
            deps: Vec::new(),
            dep_ends: Vec::with_capacity(missing.len()),
            no_actor: ActorId::default(),
        };
        let mut seqs = graph.seq_cursor();
        for &i in missing {
            let Some(c) = graph.change(i) else {
                return Err(DocError::UnknownChange {
                    hash: history.hash(i.get()),
                });
            };
            source
                .deps
                .extend(c.dep_indexes().map(|d| history.hash(d.get())));
            // Saturating, as a `u32`: 2^32 deps of 32 bytes would not fit in memory.
            source
                .dep_ends
                .push(u32::try_from(source.deps.len()).unwrap_or(u32::MAX));
            source.seqs.push(seqs.seq(i) as u32);
        }
        Ok(source)
    }

    /// The changes as the graph reads them, in order.
    fn metas(&self) -> Vec<MergeMeta<'_>> {
        (0..self.missing.len() as u32)
            .map(|k| MergeMeta { source: self, k })
            .collect()
    }
}

/// The `k`th missing change of a merge, as the graph reads it (16 bytes: a merge holds one
/// per missing change while the graph orders them).
struct MergeMeta<'a> {
    source: &'a MergeSource<'a>,
    k: u32,
}

impl AsChangeMeta for MergeMeta<'_> {
    fn change_meta(&self) -> ChangeMetaRef<'_> {
        let s = self.source;
        let k = self.k as usize;
        let start = k
            .checked_sub(1)
            .and_then(|p| s.dep_ends.get(p))
            .map_or(0, |&e| e as usize);
        let end = s.dep_ends.get(k).map_or(start, |&e| e as usize);
        let deps = s.deps.get(start..end).unwrap_or_default();
        let seq = s.seqs.get(k).map_or(0, |&q| u64::from(q));
        match s.missing.get(k).and_then(|&i| s.graph.change(i)) {
            Some(c) => ChangeMetaRef {
                hash: c.hash(),
                actor: c.actor(),
                seq,
                start_op: c.start_op(),
                max_op: c.max_op(),
                deps,
            },
            None => ChangeMetaRef {
                hash: ChangeHash::default(),
                actor: &s.no_actor,
                seq,
                start_op: 0,
                max_op: 0,
                deps,
            },
        }
    }
}

/// What validation resolved for one op: what applying it needs beside the op itself, and
/// what the ops after it in the change ask of it. (A change of a million ops holds these, 40
/// bytes each, and its preds while it is applied; its decoded ops are read again instead of
/// held, which took 96 bytes an op more.)
struct ResolvedOp<'a> {
    /// Map: the change op's key; sequence: element arena index or HEAD.
    key: ResolvedKey<'a>,
    /// The object's index.
    obj: u32,
    /// The op's arena index once applied ([`NONE`] for a deletion, which goes to
    /// `OpSet::dels`).
    arena: u32,
    /// Where its preds end in [`Resolved::preds`] (they start where the op before's end).
    preds_end: u32,
    /// The kind and future index of the object it makes, if it makes one.
    made: Option<(ObjType, u32)>,
    insert: bool,
}

// The size the docs give (ARCHITECTURE.md, "How a change flows").
const _: () = assert!(std::mem::size_of::<ResolvedOp<'static>>() <= 40);

/// What validation resolved for a change's ops.
struct Resolved<'a> {
    ops: SmallVec<[ResolvedOp<'a>; 1]>,
    /// The ops' preds as arena indexes, one op's after another's.
    preds: SmallVec<[u32; 2]>,
}

/// Changes of at most this many ops are decoded once to be validated and applied (their
/// ops held, 96 bytes each: 384 KiB at most); larger ones are decoded once for each pass.
/// A second decode costs a change about a quarter of its apply: 1,000,000 characters
/// pasted in changes of 500 or 4,000 ops applied in 0.38-0.39 s with 64 here, 0.29-0.30 s
/// with 4,096 (`doc_peak_memory write-paste-changes 1000000 F K`).
const HELD_OPS: usize = 4096;

enum ResolvedKey<'a> {
    Map(&'a str),
    Elem(u32),
}

/// Where an id points during validation: an op already in the doc, or an earlier op of the
/// change being validated (by its position).
#[derive(Clone, Copy)]
enum Target {
    Doc(u32),
    Change(usize),
}

/// The undo log of an `apply_changes` batch: the preds of every op applied, per op.
#[derive(Clone, Debug, Default)]
pub(crate) struct BatchLog {
    preds: Vec<u32>,
    /// Each op's end in `preds`, with [`BatchLog::DEL`] set for a deletion.
    pred_ends: Vec<u32>,
}

impl BatchLog {
    const DEL: u32 = 1 << 31;
}

impl Document {
    /// Applies remote changes. Changes whose deps are missing wait in a queue until the deps
    /// arrive; duplicates are ignored. If any change is invalid the whole batch is undone and
    /// the document is left exactly as it was, its queue included, with one exception taken
    /// from automerge 0.12: a change whose (actor, seq) an applied change already holds
    /// ([`DocError::DuplicateSeqNumber`]) also drops the queued changes of that actor from
    /// the next seq on, and those built on them.
    pub fn apply_changes(
        &mut self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<(), DocError> {
        let changes: Vec<Change> = changes.into_iter().collect();
        if changes.is_empty() {
            return Ok(());
        }
        if changes.iter().any(|c| !c.extra_bytes().is_empty()) {
            self.check_authors(
                changes
                    .iter()
                    .map(|c| (c.hash(), c.actor(), c.seq(), c.extra_bytes())),
            )?;
        }
        let mark = self.history.mark_for(&changes);
        // The graph orders the batch (duplicates skipped, changes with missing deps queued,
        // released changes in the reference's order); a refusal there leaves everything as
        // it was, except queued changes the reference drops too.
        let ready = self.history.insert(changes)?;
        self.apply_inserted(mark, ready.into_iter().map(Ok))
    }

    /// automerge 0.12's rules for incoming changes whose extra bytes name an author, checked
    /// before any change of the batch is applied or queued: its actor must have no author
    /// yet, from an applied or queued change or an earlier change of the batch
    /// (`DuplicateAuthor`), and it must be its actor's first change (the reference panics on
    /// any other when it applies it).
    /// Changes already applied or queued, and repeats within the batch, are skipped, as the
    /// reference skips them.
    fn check_authors<'c>(
        &self,
        batch: impl Iterator<Item = (ChangeHash, &'c ActorId, u64, &'c [u8])>,
    ) -> Result<(), DocError> {
        // Actors with an author: applied changes' (doc actor indexes), and queued changes'
        // and the batch's so far (actor ids). Built on the first authored change, in one pass
        // each, and hashed, so a batch of many authored changes costs linear time.
        let mut authored: Option<(HashSet<u32>, HashSet<ActorId>)> = None;
        let mut seen: HashSet<ChangeHash> = HashSet::new();
        for (hash, actor, seq, extra) in batch {
            if converge_encoding::Author::read_footer(extra).is_none()
                || self.history.contains(&hash)
                || self.history.queued_change(&hash).is_some()
                || !seen.insert(hash)
            {
                continue;
            }
            let (applied, authored) = authored.get_or_insert_with(|| {
                (
                    self.history.author_footers().map(|(a, _)| a).collect(),
                    self.history
                        .queued_changes()
                        .filter(|c| c.author().is_some())
                        .map(|c| c.actor().clone())
                        .collect(),
                )
            });
            let has_author = self
                .ops
                .actor_ids
                .get(actor)
                .is_some_and(|a| applied.contains(a));
            if has_author || authored.contains(actor) {
                return Err(DocError::DuplicateAuthor {
                    actor: actor.clone(),
                    seq,
                });
            }
            if seq != 1 {
                return Err(DocError::AuthorAfterFirstChange {
                    actor: actor.clone(),
                    seq,
                });
            }
            authored.insert(actor.clone());
        }
        Ok(())
    }

    /// Applies `ready`, the changes the history just inserted into the graph, in the graph's
    /// order. If one is refused (or cannot be produced), every op applied since `mark` is
    /// undone and the history rolled back to it.
    fn apply_inserted(
        &mut self,
        mark: Mark,
        ready: impl Iterator<Item = Result<Change, DocError>>,
    ) -> Result<(), DocError> {
        let ops_len = self.ops.ops.len();
        let dels_len = self.ops.dels.len();
        let max_op = self.ops.max_op;
        // The undo log is kept between calls so that applying many small batches does not
        // allocate it each time.
        let mut log = std::mem::take(&mut self.undo_log);
        log.preds.clear();
        log.pred_ends.clear();
        let mut result = Ok(());
        self.ops.hold_groups();
        for change in ready {
            if let Err(e) = change.and_then(|change| self.apply_ready(change, &mut log)) {
                result = Err(e);
                break;
            }
        }
        self.ops.release_groups();
        if result.is_err() {
            // Undo ops newest first, then the history entries.
            let n = log.pred_ends.len();
            for i in (0..n).rev() {
                let start = if i == 0 {
                    0
                } else {
                    (log.pred_ends[i - 1] & !BatchLog::DEL) as usize
                };
                let end = (log.pred_ends[i] & !BatchLog::DEL) as usize;
                let del = log.pred_ends[i] & BatchLog::DEL != 0;
                if let Some(p) = log.preds.get(start..end) {
                    self.ops.undo_last(p, del);
                }
            }
            debug_assert_eq!(self.ops.ops.len(), ops_len);
            debug_assert_eq!(self.ops.dels.len(), dels_len);
            // Applying only raises the largest counter: the one before the batch is the
            // answer (it was recomputed over every op of the document, so refusing a change
            // cost time in the document's size, not the batch's).
            self.ops.max_op = max_op;
            self.history.rollback(mark);
            self.obj_cache = None;
        }
        self.undo_log = log;
        self.ops.refresh_rank();
        result
    }

    /// Validates and applies a change whose deps are all present.
    fn apply_ready(&mut self, change: Change, log: &mut BatchLog) -> Result<(), DocError> {
        let hash = change.hash();
        // Actor numbers of the change → doc actor indexes (tentative for new actors).
        let mut new_actors: Vec<ActorId> = Vec::new();
        let mut actor_map: Vec<u32> = Vec::with_capacity(change.other_actors().len() + 1);
        for a in std::iter::once(change.actor()).chain(change.other_actors()) {
            let idx = match self.ops.actor_ids.get(a) {
                Some(&i) => i,
                None => match new_actors.iter().position(|n| n == a) {
                    Some(p) => (self.ops.actors.len() + p) as u32,
                    None => {
                        new_actors.push(a.clone());
                        (self.ops.actors.len() + new_actors.len() - 1) as u32
                    }
                },
            };
            actor_map.push(idx);
        }
        let author = actor_map.first().copied().unwrap_or(0);
        let start_op = change.start_op();
        if change.max_op() > u64::from(u32::MAX) || start_op == 0 {
            return Err(DocError::InvalidOp {
                change: hash,
                op_index: 0,
                reason: InvalidOpReason::CounterTooLarge,
            });
        }
        // Its ops come after everything it depends on (a change is applied right after the
        // graph placed it, so it is the history's next): a document chunk cannot hold a
        // change whose max op is below a dep's, and automerge 0.12 applies one and then
        // writes a save it cannot load.
        let deps_max_op = self.history.deps_max_op(self.history.len());
        if start_op <= deps_max_op {
            return Err(DocError::StartOpNotAfterDeps {
                change: hash,
                start_op,
                deps_max_op,
            });
        }
        let start_op = start_op as u32;
        // The author's greatest counter so far: its last stored op's, or its previous
        // change's max op (deletions are not in the id index).
        let last_op = self
            .ops
            .by_actor
            .get(author as usize)
            .and_then(|l| l.last())
            .map(|(c, _)| u64::from(c));
        let last_change = change
            .seq()
            .checked_sub(1)
            .and_then(|seq| self.history.max_op_at_seq(author, seq));
        // A change starts above every counter of its author's so far: with ops it would
        // repeat an op id; with none it would end (at its start op less one) below its
        // author's previous change, and a document chunk keeps each actor's max ops in order.
        if let Some(last) = last_op.max(last_change)
            && last >= u64::from(start_op)
        {
            return Err(if change.num_ops() > 0 {
                DocError::DuplicateOpId {
                    change: hash,
                    actor: change.actor().clone(),
                }
            } else {
                DocError::MaxOpBelowPrevious {
                    change: hash,
                    max_op: u64::from(start_op) - 1,
                    previous_max_op: last,
                }
            });
        }
        // Read twice, validated then applied. A small change's ops are decoded once and held
        // for both passes; a large one's are decoded again for the second rather than held
        // (96 bytes an op).
        let ops = change.op_refs();
        let args = (&actor_map[..], &new_actors[..], author, start_op);
        if ops.len() <= HELD_OPS {
            let held: SmallVec<[ChangeOpRef<'_>; 1]> = ops.iter().collect();
            self.validate_and_apply(&change, || held.iter().copied(), args, log)?;
        } else {
            self.validate_and_apply(&change, || ops.iter(), args, log)?;
        }
        drop(ops);
        self.history.record(change, author);
        Ok(())
    }

    /// Validates a change's ops (read by `pass`) and, if they are valid, applies them (read
    /// by `pass` again). `args`: the change's actor map, the actors it adds, its author and
    /// start op.
    fn validate_and_apply<'o, I: ExactSizeIterator<Item = ChangeOpRef<'o>>>(
        &mut self,
        change: &Change,
        pass: impl Fn() -> I,
        (actor_map, new_actors, author, start_op): (&[u32], &[ActorId], u32, u32),
        log: &mut BatchLog,
    ) -> Result<(), DocError> {
        let resolved = self.validate(change, pass(), actor_map, author, start_op)?;
        self.apply_resolved(pass(), resolved, new_actors, author, start_op, log);
        Ok(())
    }

    /// Applies a change's validated ops (`ops`, as [`Document::validate`] resolved them).
    fn apply_resolved<'o>(
        &mut self,
        ops: impl Iterator<Item = ChangeOpRef<'o>>,
        resolved: Resolved<'_>,
        new_actors: &[ActorId],
        author: u32,
        start_op: u32,
        log: &mut BatchLog,
    ) {
        for a in new_actors {
            self.ops.intern_actor(a);
        }
        let mut preds_start = 0;
        for (i, (op, r)) in ops.zip(&resolved.ops).enumerate() {
            let id = OpId::new(start_op + i as u32, author);
            let key = match r.key {
                ResolvedKey::Map(k) => self.ops.intern_key(k),
                ResolvedKey::Elem(e) => e,
            };
            let value = match (op.action, op.value) {
                (Action::Inc, ValueRef::Uint(u)) => self.ops.store_int(u as i64),
                (_, v) => self.ops.store_value_ref(v),
            };
            let preds_end = r.preds_end as usize;
            let preds = resolved.preds.get(preds_start..preds_end).unwrap_or(&[]);
            preds_start = preds_end;
            self.ops.apply(
                NewOp {
                    id,
                    obj: r.obj,
                    key,
                    insert: op.insert,
                    action: op.action,
                    value,
                    expand: op.expand,
                    mark_name: op.mark_name.map(str::to_owned),
                },
                preds,
                Hint::None,
            );
            log.preds.extend_from_slice(preds);
            let del = if op.action == Action::Del {
                BatchLog::DEL
            } else {
                0
            };
            log.pred_ends.push(log.preds.len() as u32 | del);
        }
        self.ops.settle_elements();
    }

    /// Checks every op of a change and resolves its references.
    fn validate<'o>(
        &self,
        change: &Change,
        ops: impl ExactSizeIterator<Item = ChangeOpRef<'o>>,
        actor_map: &[u32],
        author: u32,
        start_op: u32,
    ) -> Result<Resolved<'o>, DocError> {
        let hash = change.hash();
        let invalid = |op_index: usize, reason: InvalidOpReason| DocError::InvalidOp {
            change: hash,
            op_index,
            reason,
        };
        let mut next_obj = self.ops.objects.len() as u32;
        // The arena index the next op that is not a deletion will get.
        let mut next_idx = self.ops.ops.len() as u32;
        // Room for the ops up to a bound: a few bytes of runs can claim 2^24 ops that the
        // first of them already refuses.
        let mut out = Resolved {
            ops: SmallVec::with_capacity(ops.len().min(1 << 16)),
            preds: SmallVec::new(),
        };
        for (i, op) in ops.enumerate() {
            let map_id = |id: OpId| -> Result<OpId, DocError> {
                let actor = *actor_map
                    .get(id.actor as usize)
                    .ok_or_else(|| invalid(i, InvalidOpReason::ActorIndexOutOfRange))?;
                Ok(OpId::new(id.counter, actor))
            };
            let actor_bytes =
                |id: OpId| -> ActorId { change.actor_for(id.actor).cloned().unwrap_or_default() };
            // Where does a (mapped) id point?
            let locate = |mapped: OpId| -> Option<Target> {
                if mapped.actor == author && mapped.counter >= start_op {
                    let pos = (mapped.counter - start_op) as usize;
                    return (pos < i).then_some(Target::Change(pos));
                }
                self.ops.find_op(mapped).map(Target::Doc)
            };
            // Object.
            let (obj, kind) = match op.obj {
                ObjId::Root => (0u32, ObjType::Map),
                ObjId::Op(id) => {
                    let unknown = || DocError::UnknownObject {
                        change: hash,
                        obj: ExId::Op {
                            counter: id.counter,
                            actor: actor_bytes(id),
                        },
                    };
                    match locate(map_id(id)?) {
                        Some(Target::Doc(idx)) => match self.ops.ops[idx as usize].value {
                            StoredValue::Object(o) => {
                                (o.get(), self.ops.objects[o.get() as usize].kind)
                            }
                            _ => return Err(invalid(i, InvalidOpReason::NotAnObject)),
                        },
                        Some(Target::Change(pos)) => match out.ops.get(pos).and_then(|r| r.made) {
                            Some((kind, o)) => (o, kind),
                            None => return Err(invalid(i, InvalidOpReason::NotAnObject)),
                        },
                        None => return Err(unknown()),
                    }
                }
            };
            // Key.
            let key = match (op.key, kind.is_sequence()) {
                (KeyRef::Map(k), false) => {
                    if op.insert {
                        return Err(invalid(i, InvalidOpReason::InsertIntoMap));
                    }
                    ResolvedKey::Map(k)
                }
                (KeyRef::Seq(ElemId::Head), true) => {
                    if !op.insert {
                        return Err(invalid(i, InvalidOpReason::NotAnElement));
                    }
                    ResolvedKey::Elem(HEAD)
                }
                (KeyRef::Seq(ElemId::Op(id)), true) => {
                    let mapped = map_id(id)?;
                    let unknown = || DocError::UnknownElement {
                        change: hash,
                        counter: id.counter,
                        actor: actor_bytes(id),
                    };
                    match locate(mapped) {
                        Some(Target::Doc(idx)) => {
                            let e = &self.ops.ops[idx as usize];
                            if !e.insert() || e.obj != obj {
                                return Err(invalid(i, InvalidOpReason::NotAnElement));
                            }
                            ResolvedKey::Elem(idx)
                        }
                        Some(Target::Change(pos)) => {
                            // Resolved objects are equal exactly when their ids are.
                            let Some(e) = out.ops.get(pos) else {
                                return Err(invalid(i, InvalidOpReason::NotAnElement));
                            };
                            if !e.insert || e.obj != obj {
                                return Err(invalid(i, InvalidOpReason::NotAnElement));
                            }
                            ResolvedKey::Elem(e.arena)
                        }
                        None => return Err(unknown()),
                    }
                }
                _ => return Err(invalid(i, InvalidOpReason::KeyKindMismatch)),
            };
            if op.insert && !matches!(op.action, Action::Set | Action::Mark) && !op.action.is_make()
            {
                return Err(invalid(i, InvalidOpReason::NotAnElement));
            }
            // A deletion is kept only as its targets' successor (a document chunk has no
            // row for it), so one with no pred would vanish from a save, whose changes then
            // miss an op (automerge 0.12 applies it and writes such a save).
            if op.action == Action::Del && op.pred.is_empty() {
                return Err(invalid(i, InvalidOpReason::DeleteWithoutPred));
            }
            if op.action == Action::Inc && !matches!(op.value, ValueRef::Int(_) | ValueRef::Uint(_))
            {
                return Err(invalid(i, InvalidOpReason::NonNumericIncrement));
            }
            // Preds: ops at the same place (object, and map key or sequence element; an
            // insert makes a new element, so it has none). A pred elsewhere would put the op
            // into two places' histories, which no document chunk can write (automerge 0.12
            // panics on it).
            let element = match &key {
                ResolvedKey::Elem(e) if !op.insert => Some(*e),
                _ => None,
            };
            let elsewhere = || invalid(i, InvalidOpReason::PredElsewhere);
            for p in op.pred {
                let mapped = map_id(*p)?;
                match locate(mapped) {
                    Some(Target::Doc(idx)) => {
                        let pred = &self.ops.ops[idx as usize];
                        let same = pred.obj == obj
                            && !op.insert
                            && match (&key, pred.insert()) {
                                (ResolvedKey::Map(k), false) => self
                                    .ops
                                    .keys
                                    .get(pred.key as usize)
                                    .is_some_and(|pk| **pk == **k),
                                (ResolvedKey::Elem(_), true) => element == Some(idx),
                                (ResolvedKey::Elem(_), false) => element == Some(pred.key),
                                (ResolvedKey::Map(_), true) => false,
                            };
                        if !same {
                            return Err(elsewhere());
                        }
                        out.preds.push(idx)
                    }
                    // A deletion is nobody's pred (automerge 0.12 keeps no op for it either).
                    Some(Target::Change(pos))
                        if let Some(at) = out.ops.get(pos)
                            && at.arena != NONE =>
                    {
                        let same = at.obj == obj
                            && !op.insert
                            && match (&key, &at.key) {
                                (ResolvedKey::Map(k), ResolvedKey::Map(pk)) => k == pk,
                                (ResolvedKey::Elem(_), ResolvedKey::Elem(pe)) => {
                                    let pred_element = if at.insert { at.arena } else { *pe };
                                    element == Some(pred_element)
                                }
                                _ => false,
                            };
                        if !same {
                            return Err(elsewhere());
                        }
                        out.preds.push(at.arena)
                    }
                    Some(Target::Change(_)) | None => {
                        return Err(DocError::UnknownPred {
                            change: hash,
                            counter: p.counter,
                            actor: actor_bytes(*p),
                        });
                    }
                }
            }
            // Objects get their index when applied, in op order.
            let made = made_kind(op.action).map(|k| {
                next_obj += 1;
                (k, next_obj - 1)
            });
            let arena = if op.action == Action::Del {
                NONE
            } else {
                next_idx += 1;
                next_idx - 1
            };
            out.ops.push(ResolvedOp {
                key,
                obj,
                arena,
                // At most `MAX_CHANGE_OPS` preds in a change.
                preds_end: out.preds.len() as u32,
                made,
                insert: op.insert,
            });
        }
        Ok(out)
    }

    /// The changes not reachable from `since` (all changes for `since = []`), in application
    /// order. Unknown hashes in `since` are ignored.
    pub fn get_changes(&self, since: &[ChangeHash]) -> Vec<Change> {
        let wanted = self.history.graph.not_ancestors_of(since);
        let mut changes = Vec::with_capacity(wanted.len());
        changes.extend(
            self.history
                .changes_at(wanted.into_iter().map(ChangeIdx::get)),
        );
        changes
    }

    /// The change with this hash, if the document has applied it. Decoded from its stored
    /// bytes on each call (the bytes are shared, not copied): the document keeps no decoded
    /// changes, which would cost a few hundred bytes per change once asked for.
    pub fn get_change_by_hash(&self, hash: &ChangeHash) -> Option<Change> {
        let i = self.history.index_of(hash)?;
        self.history.change(i)
    }

    /// The newest change of this document's actor, if it made one (automerge 0.12's
    /// `get_last_local_change`).
    pub fn get_last_local_change(&self) -> Option<Change> {
        self.history.change(self.history.last_of_actor(self.actor)?)
    }

    /// The changes of `other` this document does not have, found by a depth-first walk back
    /// from `other`'s heads and returned in the reverse of the order found (close to an order
    /// they apply in), as automerge 0.12's `get_changes_added`.
    pub fn get_changes_added(&self, other: &Document) -> Vec<Change> {
        let mut stack = other.heads();
        let mut seen = std::collections::HashSet::new();
        let mut added = Vec::new();
        let mut deps = Vec::new();
        while let Some(hash) = stack.pop() {
            if self.history.contains(&hash) || !seen.insert(hash) {
                continue;
            }
            let Some(i) = other.history.index_of(&hash) else {
                continue;
            };
            added.push(i);
            deps.clear();
            other.history.deps_into(i, &mut deps);
            stack.extend(deps.iter().map(|&d| other.history.hash(d as usize)));
        }
        added
            .into_iter()
            .rev()
            .filter_map(|i| other.history.change(i))
            .collect()
    }

    /// The change that made op (or object) `id`, if it is in one (not the root, not an op
    /// of an open transaction).
    pub fn hash_for_opid(&self, id: &ExId) -> Option<ChangeHash> {
        let ExId::Op { counter, actor } = id else {
            return None;
        };
        let actor = self.ops.actor_index(actor)?;
        let counter = u64::from(*counter);
        // The actor's changes have increasing op counters: the first whose last op is at or
        // past `counter`.
        let (mut lo, mut hi) = (1u64, self.history.actor_seq(actor));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let i = self.history.change_at_seq(actor, mid)?;
            if self.history.op_range(i).1 < counter {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = self.history.change_at_seq(actor, lo)?;
        let (first, last) = self.history.op_range(i);
        (first..=last)
            .contains(&counter)
            .then(|| self.history.hash(i))
    }

    /// Hashes the document needs but does not have: deps of queued changes that are neither
    /// applied nor queued, and any of `heads` it does not know. Sorted.
    #[doc(alias = "get_missing_deps")]
    pub fn missing_deps(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        let mut out: Vec<ChangeHash> = self
            .history
            .queued_changes()
            .flat_map(|c| c.deps().iter().copied())
            .chain(heads.iter().copied())
            .filter(|h| !self.history.contains(h) && self.history.queued_change(h).is_none())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A copy of the document with a new random actor, never saved (its first
    /// [`Document::save_incremental`] holds every change, as a fork's does in automerge
    /// 0.12's `AutoCommit`).
    pub fn fork(&self) -> Document {
        let mut doc = self.clone();
        doc.set_actor(Document::new().actor().clone());
        doc.saved = 0;
        doc
    }

    /// Applies every change of `other` this document lacks. Returns the hashes applied, in
    /// the order they were applied (automerge 0.12's `merge` returns the heads after it).
    ///
    /// As one `apply_changes` of those changes (atomic), handed to it in the order
    /// automerge 0.12's merge hands them to its own (so that the history, and with it the
    /// order of changes in a saved document, is the reference's), but the graph orders
    /// them from their metadata, read from `other`'s graph, and each change is decoded from
    /// `other` only when its turn comes: a merge holds one decoded change at a time, not
    /// all of them.
    pub fn merge(&mut self, other: &Document) -> Result<Vec<ChangeHash>, DocError> {
        let graph = &other.history.graph;
        let missing = graph.not_ancestors_of(&self.heads());
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let missing = merge_order(graph, &missing);
        let source = MergeSource::new(&other.history, &missing)?;
        let metas = source.metas();
        let decode = |p: usize| {
            let i = missing.get(p).copied()?;
            let seq = source.seqs.get(p).copied()?;
            other.history.change_with_seq(i.get(), u64::from(seq))
        };
        // Only changes with extra bytes can name an author; `other` lists those.
        let extras = other.history.extras();
        if !extras.is_empty() {
            let extra_of = |i: usize| {
                extras
                    .binary_search_by_key(&(i as u32), |(j, _)| *j)
                    .ok()
                    .and_then(|pos| extras.get(pos))
                    .map_or(&[][..], |(_, e)| &**e)
            };
            self.check_authors(metas.iter().map(|m| {
                let meta = m.change_meta();
                let i = missing.get(m.k as usize).map_or(usize::MAX, |i| i.get());
                (meta.hash, meta.actor, meta.seq, extra_of(i))
            }))?;
        }
        let before = self.history.len();
        let mark = self.history.mark_for(&metas);
        let ready = self.history.insert_from(&metas, decode)?;
        drop(metas);
        self.apply_inserted(
            mark,
            ready.into_iter().map(|r| match r {
                Ready::Queued(change) => Ok(*change),
                Ready::Batch(p) => decode(p).ok_or_else(|| DocError::UnknownChange {
                    hash: missing
                        .get(p)
                        .map(|i| other.history.hash(i.get()))
                        .unwrap_or_default(),
                }),
            }),
        )?;
        Ok((before..self.history.len())
            .map(|i| self.history.hash(i))
            .collect())
    }
}

/// The changes `missing` of `graph` (every change of it that the receiving document lacks)
/// in the order automerge 0.12's `merge` hands them to its batch apply: as a depth-first
/// walk from `graph`'s heads finds them (a stack that starts with the heads sorted by hash,
/// the last popped first, and takes each new change's deps in the change's own order),
/// reversed. The walk stops at changes the receiver has; every change it lacks is reached,
/// since whatever depends on a lacking change is lacking too.
fn merge_order(graph: &ChangeGraph, missing: &[ChangeIdx]) -> Vec<ChangeIdx> {
    let mut wanted = crate::bitset::BitSet::new(graph.len());
    for i in missing {
        wanted.insert(i.get() as u32);
    }
    let mut found = crate::bitset::BitSet::new(graph.len());
    let mut order = Vec::with_capacity(missing.len());
    let mut stack: Vec<ChangeIdx> = graph.head_indexes().map(|(_, i)| i).collect();
    while let Some(i) = stack.pop() {
        let k = i.get() as u32;
        if !wanted.contains(k) || found.contains(k) {
            continue;
        }
        found.insert(k);
        order.push(i);
        if let Some(change) = graph.change(i) {
            stack.extend(change.dep_indexes());
        }
    }
    order.reverse();
    order
}
