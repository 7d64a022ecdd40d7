//! Rebuilding a document's changes from its stored ops (spec format.md §8).
//!
//! Linear apart from sorting: ops are grouped by (object, key) in one pass over the document
//! order, predecessor lists are rebuilt per group from a sorted list of successor entries, and
//! each change's ops are found by binary search in a per-actor index sorted by counter.

use smallvec::SmallVec;

use crate::change::{Change, ChangeOp, ChangeParts};
use crate::error::DecodeError;
use crate::ids::{ChangeHash, ElemId, Key, ObjId, OpId};
use crate::value::{Action, ScalarValue};

use super::{DocOp, DocumentChunk};

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
#[derive(Clone, Debug)]
pub(crate) struct Deletion {
    pub(crate) id: OpId,
    pub(crate) obj: ObjId,
    /// The deleted element, or the index of a stored op whose (map) key the deletion shares.
    pub(crate) key: Result<usize, OpId>,
    pub(crate) pred: SmallVec<[OpId; 2]>,
}

/// The pred list of every stored op and the deletions (§8 step 2). Op `i` of the document is
/// stored op `i` for `i < preds.len()`, deletion `i - preds.len()` after that.
pub(crate) struct Rebuilt {
    pub(crate) preds: Vec<SmallVec<[OpId; 2]>>,
    pub(crate) dels: Vec<Deletion>,
}

/// Rebuilds preds and deletions: one pass over the groups of the document order; per group,
/// its successor entries sorted by id are matched against its ops.
pub(crate) fn rebuild_ops(ops: &[DocOp]) -> Rebuilt {
    let mut preds: Vec<SmallVec<[OpId; 2]>> = vec![SmallVec::new(); ops.len()];
    let mut dels: Vec<Deletion> = Vec::new();
    // (succ id, lister position, lister id) of one group, and (op id, position) of its ops.
    let mut entries: Vec<(OpId, usize, OpId)> = Vec::new();
    let mut members: Vec<(OpId, usize)> = Vec::new();
    let mut start = 0;
    while let Some(first) = ops.get(start) {
        let gk = group_key(first);
        let len = ops
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|op| group_key(op) == gk)
            .count()
            .max(1);
        let group = ops.get(start..start + len).unwrap_or_default();
        entries.clear();
        members.clear();
        for (j, op) in group.iter().enumerate() {
            entries.extend(op.succ.iter().map(|s| (*s, start + j, op.id)));
            members.push((op.id, start + j));
        }
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
                    if let Some(p) = preds.get_mut(pos) {
                        p.extend(run.iter().filter(|e| e.1 < pos).map(|e| e.2));
                        p.sort_unstable();
                    }
                }
                None => {
                    let mut pred: SmallVec<[OpId; 2]> = run.iter().map(|e| e.2).collect();
                    pred.sort_unstable();
                    dels.push(Deletion {
                        id,
                        obj: gk.0,
                        key: match gk.1 {
                            GroupKey::Elem(elem) => Err(elem),
                            GroupKey::Key(_) => Ok(start),
                        },
                        pred,
                    });
                }
            }
        }
        start += len;
    }
    Rebuilt { preds, dels }
}

/// What groups ops in §8 step 2: a map key, or a sequence element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum GroupKey<'a> {
    Key(&'a Key),
    Elem(OpId),
}

fn group_key(op: &DocOp) -> (ObjId, GroupKey<'_>) {
    if op.insert {
        (op.obj, GroupKey::Elem(op.id))
    } else {
        match &op.key {
            Key::Seq(ElemId::Op(e)) => (op.obj, GroupKey::Elem(*e)),
            k => (op.obj, GroupKey::Key(k)),
        }
    }
}

/// Where each change's ops are: a range into the per-actor index, and the startOp (§8 steps
/// 1, 3, 4 without the hashing).
pub(crate) struct ChangeLayout {
    /// Per change: (start_op, range into `by_actor[actor]`).
    pub(crate) changes: Vec<(u64, std::ops::Range<usize>)>,
    /// Per document actor: (counter, index into the rebuilt ops), sorted by counter.
    pub(crate) by_actor: Vec<Vec<(u32, usize)>>,
}

pub(crate) fn layout(doc: &DocumentChunk, rebuilt: &Rebuilt) -> Result<ChangeLayout, DecodeError> {
    let n_actors = doc.actors.len();
    let mut by_actor: Vec<Vec<(u32, usize)>> = vec![Vec::new(); n_actors];
    let ids = doc
        .ops
        .iter()
        .map(|op| op.id)
        .chain(rebuilt.dels.iter().map(|d| d.id));
    for (i, id) in ids.enumerate() {
        if let Some(v) = by_actor.get_mut(id.actor as usize) {
            v.push((id.counter, i));
        }
    }
    for (actor, v) in by_actor.iter_mut().enumerate() {
        v.sort_unstable();
        if let Some([a, _]) = v.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return Err(DecodeError::DuplicateOpId {
                counter: a.0,
                actor: actor as u32,
            });
        }
    }
    // Per actor: (last seq, last maxOp).
    let mut last: Vec<(u64, u64)> = vec![(0, 0); n_actors];
    let mut out = Vec::with_capacity(doc.changes.len());
    for (i, c) in doc.changes.iter().enumerate() {
        let mut dep_max = 0u64;
        for &d in &c.deps {
            let dep = doc
                .changes
                .get(d as usize)
                .filter(|_| (d as usize) < i)
                .ok_or_else(|| DecodeError::InvalidDepIndex {
                    change: i,
                    dep: u64::from(d),
                })?;
            dep_max = dep_max.max(dep.max_op);
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
        let index = by_actor.get(actor).map(Vec::as_slice).unwrap_or_default();
        let lo = index.partition_point(|(ctr, _)| u64::from(*ctr) < est_start);
        let hi = index.partition_point(|(ctr, _)| u64::from(*ctr) <= c.max_op);
        let owned = index.get(lo..hi).unwrap_or_default();
        let start_op = match owned.first() {
            None => c.max_op + 1,
            Some((first, _)) => {
                let first = u64::from(*first);
                for (k, (ctr, _)) in owned.iter().enumerate() {
                    if u64::from(*ctr) != first + k as u64 {
                        return Err(DecodeError::MissingOps {
                            change: i,
                            counter: first + k as u64,
                        });
                    }
                }
                let last_ctr = first + owned.len() as u64 - 1;
                if last_ctr != c.max_op {
                    return Err(DecodeError::MissingOps {
                        change: i,
                        counter: last_ctr + 1,
                    });
                }
                first
            }
        };
        out.push((start_op, lo..hi));
    }
    Ok(ChangeLayout {
        changes: out,
        by_actor,
    })
}

impl DocumentChunk {
    /// Rebuilds every change of the document, in document order, with the bytes and hash the
    /// reference gives it (spec format.md §8), and checks the stored heads.
    pub fn reconstruct_changes(&self) -> Result<Vec<Change>, DecodeError> {
        self.reconstruct_changes_with(HeadsCheck::Check)
    }

    /// [`DocumentChunk::reconstruct_changes`], optionally without the heads check.
    pub fn reconstruct_changes_with(&self, check: HeadsCheck) -> Result<Vec<Change>, DecodeError> {
        let rebuilt = rebuild_ops(&self.ops);
        let layout = layout(self, &rebuilt)?;
        let n_actors = self.actors.len();
        let n_stored = self.ops.len();
        // Document actor index -> change-local actor number, for the change being built.
        let mut local: Vec<u32> = vec![u32::MAX; n_actors];
        let mut touched: Vec<usize> = Vec::new();
        let mut changes: Vec<Change> = Vec::with_capacity(self.changes.len());
        let mut referenced = vec![false; self.changes.len()];
        for (c, (start_op, range)) in self.changes.iter().zip(&layout.changes) {
            let author = c.actor as usize;
            let owned = layout
                .by_actor
                .get(author)
                .and_then(|v| v.get(range.clone()))
                .unwrap_or_default();
            let mut other_actors = Vec::new();
            if let Some(l) = local.get_mut(author) {
                *l = 0;
                touched.push(author);
            }
            let mut map = |id: OpId| -> Result<OpId, DecodeError> {
                let a = id.actor as usize;
                let slot = local
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
            let mut map_key = |key: &Key| -> Result<Key, DecodeError> {
                Ok(match key {
                    Key::Seq(ElemId::Op(id)) => Key::Seq(ElemId::Op(map(*id)?)),
                    k => k.clone(),
                })
            };
            let mut change_ops = Vec::with_capacity(owned.len());
            for &(_, i) in owned {
                let op = if let Some(op) = self.ops.get(i) {
                    let pred = rebuilt
                        .preds
                        .get(i)
                        .map(|p| p.as_slice())
                        .unwrap_or_default();
                    ChangeOp {
                        obj: map_obj(op.obj, &mut map_key)?,
                        key: map_key(&op.key)?,
                        insert: op.insert,
                        action: op.action,
                        value: op.value.clone(),
                        pred: map_preds(pred, &mut map_key)?,
                        expand: op.expand,
                        mark_name: op.mark_name.clone(),
                    }
                } else if let Some(d) = rebuilt.dels.get(i - n_stored) {
                    let key = match d.key {
                        Ok(j) => self.ops.get(j).map(|o| map_key(&o.key)).transpose()?,
                        Err(elem) => Some(map_key(&Key::Seq(ElemId::Op(elem)))?),
                    };
                    let Some(key) = key else { continue };
                    ChangeOp {
                        obj: map_obj(d.obj, &mut map_key)?,
                        key,
                        insert: false,
                        action: Action::Del,
                        value: ScalarValue::Null,
                        pred: map_preds(&d.pred, &mut map_key)?,
                        expand: false,
                        mark_name: None,
                    }
                } else {
                    continue;
                };
                change_ops.push(op);
            }
            for a in touched.drain(..) {
                if let Some(l) = local.get_mut(a) {
                    *l = u32::MAX;
                }
            }
            let mut deps = Vec::with_capacity(c.deps.len());
            for &d in &c.deps {
                if let Some(r) = referenced.get_mut(d as usize) {
                    *r = true;
                }
                // `layout` checked every dep is an earlier change.
                if let Some(dep) = changes.get(d as usize) {
                    deps.push(dep.hash());
                }
            }
            let change = Change::from_parts(ChangeParts {
                actor: self.actors.get(author).cloned().unwrap_or_default(),
                seq: c.seq,
                start_op: *start_op,
                time: c.time,
                message: c.message.clone(),
                deps,
                other_actors,
                ops: change_ops,
                extra_bytes: c.extra_bytes.clone(),
            })?;
            changes.push(change);
        }
        if check == HeadsCheck::Check {
            let mut computed: Vec<ChangeHash> = changes
                .iter()
                .zip(&referenced)
                .filter(|(_, r)| !**r)
                .map(|(c, _)| c.hash())
                .collect();
            computed.sort_unstable();
            if computed != self.heads {
                return Err(DecodeError::MismatchingHeads {
                    stored: self.heads.clone(),
                    computed,
                });
            }
        }
        Ok(changes)
    }
}

/// An object id in change-local actor numbers, through the key mapper.
fn map_obj(
    obj: ObjId,
    map_key: &mut impl FnMut(&Key) -> Result<Key, DecodeError>,
) -> Result<ObjId, DecodeError> {
    match obj {
        ObjId::Root => Ok(ObjId::Root),
        ObjId::Op(id) => match map_key(&Key::Seq(ElemId::Op(id)))? {
            Key::Seq(ElemId::Op(id)) => Ok(ObjId::Op(id)),
            _ => Ok(ObjId::Root),
        },
    }
}

/// A pred list in change-local actor numbers, through the key mapper.
fn map_preds(
    pred: &[OpId],
    map_key: &mut impl FnMut(&Key) -> Result<Key, DecodeError>,
) -> Result<Vec<OpId>, DecodeError> {
    pred.iter()
        .map(|p| match map_key(&Key::Seq(ElemId::Op(*p)))? {
            Key::Seq(ElemId::Op(id)) => Ok(id),
            _ => Ok(*p),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn op(counter: u32, key: Key, insert: bool, succ: Vec<OpId>) -> DocOp {
        DocOp {
            id: OpId::new(counter, 0),
            obj: ObjId::Root,
            key,
            insert,
            action: Action::Set,
            value: ScalarValue::Int(1),
            succ,
            expand: false,
            mark_name: None,
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
        let rebuilt = rebuild_ops(&ops);
        assert_eq!(rebuilt.dels.len(), 2);
        assert_eq!(rebuilt.preds[1].as_slice(), &[OpId::new(1, 0)]);
        let del3 = rebuilt
            .dels
            .iter()
            .find(|o| o.id == OpId::new(3, 0))
            .unwrap();
        assert_eq!(del3.key, Ok(0));
        assert_eq!(ops[0].key, k);
        assert_eq!(del3.pred.as_slice(), &[OpId::new(2, 0)]);
        let del5 = rebuilt
            .dels
            .iter()
            .find(|o| o.id == OpId::new(5, 0))
            .unwrap();
        assert_eq!(del5.key, Err(OpId::new(4, 0)));
    }
}
