//! Bundles: a set of changes written column-wise like a document (automerge 0.12's
//! experimental `bundle`, spec format.md §9), for sending many changes in fewer bytes.

use std::collections::HashMap;

use converge_encoding::{
    Action, BundleChangeRow, BundleOpRow, ChangeHash, ChangeOpRef, ElemId, KeyRef, ObjId, OpId,
    encode_bundle,
};

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, HEAD, NONE};

/// An op of the bundle, before its ids are renumbered: a stored op (arena index) or a
/// deletion (its id, the object and the key or element it deletes at).
enum Row {
    Stored(u32, Vec<OpId>),
    Del(OpId, u32, u32, Vec<OpId>),
}

impl Document {
    /// The changes `hashes` as one bundle chunk (automerge 0.12's `bundle`, an
    /// experimental format: a set of changes stored column-wise as a document stores its
    /// ops, with their deletions and predecessors as changes keep them, so that many small
    /// changes take far fewer bytes than their change chunks). `load`, `load_incremental`
    /// and `apply_changes` of the bytes' changes read it, here and in automerge.
    ///
    /// The changes are written in the order they were applied (each after its deps), once
    /// however often `hashes` names them, their ops in document order; an unknown hash is
    /// [`DocError::UnknownChange`]. automerge 0.12 writes the same bytes, but where one
    /// key or element has several deletions among the changes, whose order it leaves to
    /// a hash map's (converge writes them by id).
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// for (i, c) in "hello".chars().enumerate() {
    ///     doc.splice_text(&text, i, 0, &c.to_string())?;
    /// }
    /// let changes = doc.get_changes(&[]);
    /// let hashes: Vec<_> = changes.iter().map(|c| c.hash()).collect();
    /// let bundle = doc.bundle(&hashes)?;
    /// let separate: usize = changes.iter().map(|c| c.bytes().len()).sum();
    /// assert!(bundle.len() < separate);
    /// let mut peer = Document::new();
    /// peer.load_incremental(&bundle)?;
    /// assert_eq!(peer.text(&text)?, "hello");
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn bundle(&self, hashes: &[ChangeHash]) -> Result<Vec<u8>, DocError> {
        self.bundle_found_by(hashes, false)
    }

    /// [`Document::bundle`], the ops found by a walk of the whole document if `walk` (else
    /// only for many changes: see below).
    fn bundle_found_by(&self, hashes: &[ChangeHash], walk: bool) -> Result<Vec<u8>, DocError> {
        let history = &self.history;
        let ops = &self.ops;
        let mut picked: Vec<usize> = hashes
            .iter()
            .map(|h| {
                history
                    .index_of(h)
                    .ok_or(DocError::UnknownChange { hash: *h })
            })
            .collect::<Result<_, _>>()?;
        picked.sort_unstable();
        picked.dedup();

        // The ops the changes made: each actor's (first, last) counters, sorted.
        let mut ranges: Vec<Vec<(u64, u64)>> = vec![Vec::new(); ops.actors.len()];
        for &i in &picked {
            if let Some(r) = ranges.get_mut(history.actor(i) as usize) {
                r.push(history.op_range(i));
            }
        }
        for r in &mut ranges {
            r.sort_unstable();
        }
        let made_here = |id: OpId| -> bool {
            let Some(r) = ranges.get(id.actor as usize) else {
                return false;
            };
            let c = u64::from(id.counter);
            let at = r.partition_point(|&(start, _)| start <= c);
            at > 0 && r.get(at - 1).is_some_and(|&(_, last)| c <= last)
        };

        // The ops in document order, each stored op with its predecessors; a key's or
        // element's deletions after its ops, by id.
        let mut rows: Vec<Row> = Vec::new();
        let mut preds: HashMap<OpId, Vec<OpId>> = HashMap::new();
        let mut group = |rows: &mut Vec<Row>, o: u32, key: u32, group: &[u32]| {
            preds.clear();
            for &idx in group {
                let op = &ops.ops[idx as usize];
                let own = preds.remove(&op.id).unwrap_or_default();
                for s in ops.succ_iter(idx) {
                    preds.entry(ops.succ_id(s)).or_default().push(op.id);
                }
                if made_here(op.id) {
                    rows.push(Row::Stored(idx, own));
                }
            }
            let mut dels: Vec<(OpId, Vec<OpId>)> =
                preds.drain().filter(|(id, _)| made_here(*id)).collect();
            dels.sort_by(|a, b| ops.cmp_id(a.0, b.0));
            rows.extend(dels.into_iter().map(|(id, p)| Row::Del(id, o, key, p)));
        };
        let mut seq_group: Vec<u32> = Vec::new();
        // A few changes of a big document: only the keys and elements they touch, found
        // from their ops (a walk of every op took 13.5 ms for the paper document's last 100
        // changes, against automerge's 0.12 ms).
        let picked_ops: u64 = picked
            .iter()
            .map(|&i| {
                let (start, last) = history.op_range(i);
                (last + 1).saturating_sub(start)
            })
            .sum();
        let rows_by_walk =
            walk || picked_ops.saturating_mul(8) >= (ops.ops.len() + ops.dels.len()) as u64;
        if !rows_by_walk {
            for (o, elem_or_key) in self.touched_groups(&picked) {
                match &ops.objects[o as usize].body {
                    Body::Map(map) => {
                        if let Some(g) = map.get(&ops.keys[elem_or_key as usize]) {
                            group(&mut rows, o, elem_or_key, g);
                        }
                    }
                    Body::Seq { extra, .. } => {
                        seq_group.clear();
                        seq_group.push(elem_or_key);
                        if let Some(more) = extra.get(&elem_or_key) {
                            seq_group.extend_from_slice(more);
                        }
                        group(&mut rows, o, elem_or_key, &seq_group);
                    }
                }
            }
        } else {
            for o in crate::save::object_order(ops) {
                match &ops.objects[o as usize].body {
                    Body::Map(map) => {
                        for g in map.values() {
                            if let Some(&first) = g.first() {
                                group(&mut rows, o, ops.ops[first as usize].key, g);
                            }
                        }
                    }
                    Body::Seq { index, extra } => {
                        for e in index.iter() {
                            seq_group.clear();
                            seq_group.push(e.op);
                            if let Some(more) = extra.get(&e.op) {
                                seq_group.extend_from_slice(more);
                            }
                            group(&mut rows, o, e.op, &seq_group);
                        }
                    }
                }
            }
        }

        // The actors named: the changes' authors, and the objects', elements' and
        // predecessors' of the ops; numbered in bytewise order.
        let mut named = vec![false; ops.actors.len()];
        let mut name = |id: OpId| {
            if let Some(n) = named.get_mut(id.actor as usize) {
                *n = true;
            }
        };
        for &i in &picked {
            name(OpId::new(0, history.actor(i)));
        }
        let obj_id = |o: u32| -> Option<OpId> {
            let make = ops.objects[o as usize].make_op;
            (make != NONE).then(|| ops.ops[make as usize].id)
        };
        let elem_id = |o: u32, key: u32| -> Option<OpId> {
            (ops.objects[o as usize].kind.is_sequence() && key != HEAD)
                .then(|| ops.ops[key as usize].id)
        };
        for row in &rows {
            let (o, key, pred) = match row {
                Row::Stored(idx, pred) => {
                    let op = &ops.ops[*idx as usize];
                    (op.obj, op.key, pred)
                }
                Row::Del(_, o, key, pred) => (*o, *key, pred),
            };
            obj_id(o).into_iter().for_each(&mut name);
            elem_id(o, key).into_iter().for_each(&mut name);
            pred.iter().copied().for_each(&mut name);
        }
        let mut actors: Vec<u32> = (0..ops.actors.len() as u32)
            .filter(|&a| named[a as usize])
            .collect();
        actors.sort_by(|&a, &b| ops.actors[a as usize].cmp(&ops.actors[b as usize]));
        let mut number = vec![u32::MAX; ops.actors.len()];
        for (n, &a) in actors.iter().enumerate() {
            number[a as usize] = n as u32;
        }
        let map = |id: OpId| OpId::new(id.counter, number[id.actor as usize]);

        // The changes, their deps numbered: earlier changes of the bundle by position,
        // others after them in the order first named.
        let mut position: HashMap<usize, u64> = HashMap::new();
        let mut external: Vec<ChangeHash> = Vec::new();
        let mut dep_numbers: Vec<Vec<u64>> = Vec::with_capacity(picked.len());
        let mut dep_buf = Vec::new();
        for (n, &i) in picked.iter().enumerate() {
            position.insert(i, n as u64);
            dep_buf.clear();
            history.deps_into(i, &mut dep_buf);
            let numbers = dep_buf
                .iter()
                .map(|&d| {
                    *position.entry(d as usize).or_insert_with(|| {
                        external.push(history.hash(d as usize));
                        (picked.len() + external.len() - 1) as u64
                    })
                })
                .collect();
            dep_numbers.push(numbers);
        }
        let change_rows: Vec<BundleChangeRow<'_>> = picked
            .iter()
            .zip(&dep_numbers)
            .map(|(&i, deps)| {
                let (start_op, max_op) = history.op_range(i);
                BundleChangeRow {
                    actor: number[history.actor(i) as usize],
                    seq: history
                        .graph
                        .change(converge_dag::ChangeIdx::new(i as u32))
                        .map_or(0, |c| c.seq()),
                    start_op,
                    max_op,
                    time: history.time(i),
                    message: history.message(i),
                    deps,
                    extra: history.extra_bytes(i),
                }
            })
            .collect();

        // The ops, renumbered (their preds in place).
        for row in &mut rows {
            let (Row::Stored(_, pred) | Row::Del(_, _, _, pred)) = row;
            for p in pred.iter_mut() {
                *p = map(*p);
            }
        }
        let op_rows: Vec<BundleOpRow<'_>> = rows
            .iter()
            .map(|row| {
                let (id, o, key, pred) = match row {
                    Row::Stored(idx, pred) => {
                        let op = &ops.ops[*idx as usize];
                        (op.id, op.obj, op.key, pred)
                    }
                    Row::Del(id, o, key, pred) => (*id, *o, *key, pred),
                };
                let obj = obj_id(o).map_or(ObjId::Root, |id| ObjId::Op(map(id)));
                let key = if ops.objects[o as usize].kind.is_sequence() {
                    KeyRef::Seq(elem_id(o, key).map_or(ElemId::Head, |id| ElemId::Op(map(id))))
                } else {
                    KeyRef::Map(&ops.keys[key as usize])
                };
                let op = match row {
                    Row::Stored(idx, _) => {
                        let op = &ops.ops[*idx as usize];
                        ChangeOpRef {
                            obj,
                            key,
                            insert: op.insert(),
                            action: op.action(),
                            value: ops.value_ref(&op.value),
                            pred,
                            expand: op.expand(),
                            mark_name: ops.mark_names.get(idx).map(String::as_str),
                        }
                    }
                    Row::Del(..) => ChangeOpRef::delete(obj, key, pred),
                };
                BundleOpRow { id: map(id), op }
            })
            .collect();
        let actor_ids: Vec<_> = actors
            .iter()
            .map(|&a| ops.actors[a as usize].clone())
            .collect();
        Ok(encode_bundle(&external, &actor_ids, &change_rows, &op_rows))
    }

    /// The keys and elements changes `picked` (history indexes) hold ops at, in document
    /// order, as (object, key index or element's insert op): from each change's ops, an op
    /// at its own place, a deletion at its target's.
    fn touched_groups(&self, picked: &[usize]) -> Vec<(u32, u32)> {
        let ops = &self.ops;
        let mut found: Vec<(u32, u32)> = Vec::new();
        let place = |idx: u32| -> (u32, u32) {
            let op = &ops.ops[idx as usize];
            let at = if ops.objects[op.obj as usize].kind.is_sequence() && op.insert() {
                idx
            } else {
                op.key
            };
            (op.obj, at)
        };
        for &i in picked {
            // The ops the op set holds are found by id; a counter it does not hold is a
            // deletion, found at its target's place from the change's own ops.
            let author = self.history.actor(i);
            let (start, last) = self.history.op_range(i);
            let mut deletes = false;
            for counter in start..=last {
                match u32::try_from(counter)
                    .ok()
                    .and_then(|c| ops.find_op(OpId::new(c, author)))
                {
                    Some(idx) => found.push(place(idx)),
                    None => deletes = true,
                }
            }
            if !deletes {
                continue;
            }
            let Some(change) = self.history.change(i) else {
                continue;
            };
            let doc_actor = |local: u32| -> Option<u32> {
                match local {
                    0 => Some(author),
                    n => ops.actor_index(change.other_actors().get(n as usize - 1)?),
                }
            };
            for op in change.ops().filter(|op| op.action == Action::Del) {
                let target = op
                    .pred
                    .first()
                    .and_then(|p| ops.find_op(OpId::new(p.counter, doc_actor(p.actor)?)));
                found.extend(target.map(place));
            }
        }
        found.sort_unstable();
        found.dedup();
        // Objects by id (the root first), then keys bytewise, elements in sequence order.
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        enum Place<'a> {
            Key(&'a str),
            Elem(Option<crate::seq::Cursor>),
        }
        // (The object's id as (counter, actor bytes), the place in it, what was found.)
        type Keyed<'a> = ((u32, &'a [u8]), Place<'a>, (u32, u32));
        let mut keyed: Vec<Keyed<'_>> = found
            .into_iter()
            .map(|(o, at)| {
                let object = &ops.objects[o as usize];
                let id = match object.make_op {
                    NONE => (0, &[][..]),
                    make => {
                        let id = ops.ops[make as usize].id;
                        (id.counter, ops.actors[id.actor as usize].as_bytes())
                    }
                };
                let place = match &object.body {
                    Body::Map(_) => Place::Key(&ops.keys[at as usize]),
                    Body::Seq { index, .. } => Place::Elem(index.locate(at, &ops.ops)),
                };
                (id, place, (o, at))
            })
            .collect();
        keyed.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        keyed.into_iter().map(|(_, _, found)| found).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExpandMark, ObjType, ROOT};
    use converge_encoding::{ActorId, ScalarValue};

    /// The ops of a few changes found from their own ops are those a walk of the document
    /// finds: every run of consecutive changes of a history of two actors editing a map, a
    /// list and a marked text (conflicts, deletions, counters), merged now and then.
    #[test]
    fn a_few_changes_bundle_as_a_walk_finds_them() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let text = a.put_object(&ROOT, "text", ObjType::Text).unwrap();
        let list = a.put_object(&ROOT, "list", ObjType::List).unwrap();
        a.put(&ROOT, "n", ScalarValue::Counter(0)).unwrap();
        let mut b = a.fork();
        b.set_actor(ActorId::from_bytes(&[2; 16]));
        let mut seed = 7u64;
        for step in 0..120usize {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (seed >> 33) as usize;
            let d = if r.is_multiple_of(2) { &mut a } else { &mut b };
            let len = d.length(&text).unwrap();
            match r / 2 % 7 {
                0 => d
                    .put(&ROOT, format!("k{}", r % 3).as_str(), step as i64)
                    .unwrap(),
                1 => d
                    .delete(&ROOT, format!("k{}", r % 3).as_str())
                    .unwrap_or(()),
                2 => d.increment(&ROOT, "n", 1).unwrap(),
                3 => d
                    .splice_text(
                        &text,
                        r % (len + 1),
                        (r / 5 % 2).min(len - r % (len + 1)),
                        "ab",
                    )
                    .unwrap(),
                4 if len > 1 => d
                    .mark(
                        &text,
                        0..len / 2,
                        "bold",
                        ScalarValue::Bool(true),
                        ExpandMark::After,
                    )
                    .unwrap(),
                5 => {
                    let n = d.length(&list).unwrap();
                    d.insert(&list, r % (n + 1), step as i64).unwrap();
                }
                _ => {
                    let n = d.length(&list).unwrap();
                    if n > 0 {
                        d.delete(&list, r % n).unwrap();
                    }
                }
            }
            if r.is_multiple_of(5) {
                a.merge(&b).unwrap();
                b.merge(&a).unwrap();
            }
        }
        a.merge(&b).unwrap();
        let hashes: Vec<ChangeHash> = a.get_changes(&[]).iter().map(|c| c.hash()).collect();
        for len in 1..4 {
            for start in 0..hashes.len().saturating_sub(len) {
                let picked = &hashes[start..start + len];
                assert_eq!(
                    a.bundle_found_by(picked, false).unwrap(),
                    a.bundle_found_by(picked, true).unwrap(),
                    "changes {start}..{}",
                    start + len
                );
            }
        }
    }
}
