//! Saving again after a few edits: the kept columns of the last save, spliced.
//!
//! A save keeps the columns it wrote ([`Document::save`]) and where each op's row is in them
//! ([`SavedLayout`]). Later changes only ever add ops and successors: an old op keeps its
//! object, key, value and its place relative to the other old ops. So the next save's op
//! rows are the old rows, with the new ops' rows inserted and the rows of old ops that gained
//! a successor written again. [`Document::spliced_columns`] copies the old rows run by run
//! from the kept columns ([`OpColumnsWriter::copy_rows`]), encodes only the new and changed
//! rows, and appends the new changes' rows to the kept change columns. Its output is exactly
//! what encoding everything writes (checked by the tests here, and by a debug assertion on
//! every reuse of kept columns).
//!
//! Where a new op goes: right after the op that precedes it in document order (objects by
//! id, a map's keys ascending and each key's ops by id, a sequence's elements in order, each
//! followed by the other ops on it). Following "precedes" from a new op through other new ops
//! ends at an old op, whose row is known, or at the start of the document.

use std::collections::HashMap;
use std::sync::OnceLock;

use converge_encoding::{
    Action, ChangeColumnsWriter, EncodedColumns, ObjId, OpColumnsWriter, OpId,
};

use crate::bitset::BitSet;
use crate::doc::Document;
use crate::opset::{Body, HEAD, NONE, OpSet};
use crate::save::{Block, ObjCtx, authors, object_order};

/// Where the ops' rows are in kept columns.
///
/// Rows move down as rows are inserted before them, and rewriting a row per op after every
/// splice would cost more than the splice. So the rows of the ops present at some base (a
/// full encode, or a loaded chunk) stay as they were then, and one step function says how far
/// each base row has moved since: every insertion point of every later splice, mapped back
/// to the base row it went before. Ops added since the base (few) keep their current rows,
/// updated at each splice. When those grow past [`MAX_LATE`] or the step function past
/// [`MAX_STEPS`], every row is written out once and becomes the new base.
#[derive(Clone, Debug)]
pub(crate) struct SavedLayout {
    /// Arena length when the columns were kept: later ops are new to them.
    ops_len: u32,
    /// Op rows in the kept columns.
    rows: u32,
    /// The authors the kept columns number actors by (doc actor indexes, in bytewise order).
    authors: Vec<u32>,
    /// Ops below this arena index have their row in `base`.
    base_len: u32,
    /// The row at the base of each op below `base_len`.
    base: BaseRows,
    /// Rows at the base.
    base_rows: u32,
    /// How far base rows have moved: `(b, total)` ascending in `b`, where base rows from `b`
    /// on (up to the next entry) have moved down by `total` rows.
    moved: Vec<(u32, u32)>,
    /// The current row of each op from `base_len` on (`NONE`: none).
    late: Vec<u32>,
}

/// Where the ops below `base_len` were at the base.
#[derive(Clone, Debug)]
pub(crate) enum BaseRows {
    /// The op at arena index `i < base_rows` at row `i`, later ones without a row (a loaded
    /// chunk).
    Identity,
    /// The row of each op (`NONE`: no row, a deletion).
    Table(Vec<u32>),
    /// The ops' arena indexes in row order, in consecutive parts, as a full encode wrote
    /// them; turned into a table the first time a row is asked for (by the next save after
    /// edits, which not every document makes: a million-op table costs a save milliseconds
    /// of fresh pages).
    Order {
        parts: Vec<Vec<u32>>,
        table: OnceLock<Vec<u32>>,
    },
}

impl BaseRows {
    /// The base row of op `idx`, if it has one.
    fn row(&self, idx: u32, ops_len: u32, rows: u32) -> Option<u32> {
        match self {
            BaseRows::Identity => (idx < rows).then_some(idx),
            BaseRows::Table(t) => t.get(idx as usize).copied().filter(|&r| r != NONE),
            BaseRows::Order { parts, table } => table
                .get_or_init(|| {
                    let mut t = vec![NONE; ops_len as usize];
                    for (row, &i) in parts.iter().flatten().enumerate() {
                        if let Some(slot) = t.get_mut(i as usize) {
                            *slot = row as u32;
                        }
                    }
                    t
                })
                .get(idx as usize)
                .copied()
                .filter(|&r| r != NONE),
        }
    }
}

/// Ops added since the base whose rows are kept one by one, at most (beyond this, and beyond
/// an eighth of the rows, the rows are written out again).
const MAX_LATE: usize = if cfg!(test) { 16 } else { 1 << 16 };
/// Entries of the step function, at most.
const MAX_STEPS: usize = if cfg!(test) { 8 } else { 4096 };

/// How far insertion points `steps` (ascending, with counts) move row `r` down.
fn shift(steps: &[(u32, u32)], r: u32) -> u32 {
    let i = steps.partition_point(|&(p, _)| p <= r);
    steps
        .get(..i)
        .map_or(0, |s| s.iter().map(|&(_, c)| c).sum())
}

impl SavedLayout {
    /// A layout with every row given by `base` (see [`BaseRows`]).
    pub(crate) fn new(ops_len: u32, rows: u32, authors: Vec<u32>, base: BaseRows) -> Self {
        SavedLayout {
            ops_len,
            rows,
            authors,
            base_len: ops_len,
            base,
            base_rows: rows,
            moved: Vec::new(),
            late: Vec::new(),
        }
    }

    /// How far base row `r` has moved.
    fn moved_by(&self, r: u32) -> u32 {
        let i = self.moved.partition_point(|&(b, _)| b <= r);
        i.checked_sub(1)
            .and_then(|i| self.moved.get(i))
            .map_or(0, |&(_, t)| t)
    }

    fn row(&self, idx: u32) -> Option<u32> {
        if idx >= self.ops_len {
            return None;
        }
        if idx >= self.base_len {
            let r = *self.late.get((idx - self.base_len) as usize)?;
            return (r != NONE).then_some(r);
        }
        let r = self.base.row(idx, self.base_len, self.base_rows)?;
        Some(r + self.moved_by(r))
    }

    /// The first base row at or after current row `q` (`base_rows` if none is).
    fn base_row_at(&self, q: u32) -> u32 {
        // Current rows of base rows increase with them: binary search.
        let (mut lo, mut hi) = (0u32, self.base_rows);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if mid + self.moved_by(mid) >= q {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// The layout of the spliced columns.
    pub(crate) fn apply(mut self, splice: Splice) -> SavedLayout {
        // A row order that was turned into a table (the splice asked for rows) keeps only
        // the table.
        if let BaseRows::Order { table, .. } = &mut self.base
            && let Some(table) = table.take()
        {
            self.base = BaseRows::Table(table);
        }
        // Base rows: each insertion point mapped back to the base row it went before.
        let mut added: Vec<(u32, u32)> = splice
            .steps
            .iter()
            .map(|&(q, n)| (self.base_row_at(q), n))
            .collect();
        // Late rows: moved in the old coordinates, then the new ops' rows.
        for r in self.late.iter_mut().filter(|r| **r != NONE) {
            *r += shift(&splice.steps, *r);
        }
        self.late
            .resize(splice.ops_len.saturating_sub(self.base_len) as usize, NONE);
        for &(idx, row) in &splice.new_rows {
            if let Some(slot) = idx
                .checked_sub(self.base_len)
                .and_then(|i| self.late.get_mut(i as usize))
            {
                *slot = row;
            }
        }
        // Merge the step functions: per-entry increments, summed again.
        let mut incr: Vec<(u32, u32)> = Vec::with_capacity(self.moved.len() + added.len());
        let mut before = 0;
        for &(b, t) in &self.moved {
            incr.push((b, t - before));
            before = t;
        }
        incr.append(&mut added);
        incr.sort_unstable_by_key(|&(b, _)| b);
        self.moved.clear();
        let mut total = 0;
        for (b, n) in incr {
            total += n;
            match self.moved.last_mut() {
                Some((last, t)) if *last == b => *t = total,
                _ => self.moved.push((b, total)),
            }
        }
        self.ops_len = splice.ops_len;
        self.rows = splice.rows;
        self.authors = splice.authors;
        if self.late.len() > MAX_LATE.max(self.rows as usize / 8) || self.moved.len() > MAX_STEPS {
            let table: Vec<u32> = (0..self.ops_len)
                .map(|i| self.row(i).unwrap_or(NONE))
                .collect();
            self = SavedLayout::new(
                self.ops_len,
                self.rows,
                std::mem::take(&mut self.authors),
                BaseRows::Table(table),
            );
        }
        self
    }
}

/// How a splice moved the rows (see [`SavedLayout::apply`]).
pub(crate) struct Splice {
    ops_len: u32,
    rows: u32,
    authors: Vec<u32>,
    /// Insertion points (the old row the new rows went before) with how many went in there,
    /// ascending.
    steps: Vec<(u32, u32)>,
    /// New ops and the rows they were written to.
    new_rows: Vec<(u32, u32)>,
}

/// The op that precedes another in document order, or `None` at the start of the document.
type Prev = Option<u32>;

/// Object order, computed once per splice if a new op is first in its object.
struct Objects {
    /// Position of each object in document order.
    position: Vec<u32>,
    /// Objects in document order.
    order: Vec<u32>,
}

impl Document {
    /// The columns of the document now, from the kept columns of the last save and the ops
    /// added since, with the layout of the result; `None` if there is nothing to splice
    /// (no kept columns or layout, too many changes since: encoding everything costs about
    /// the same then).
    pub(crate) fn spliced_columns(&self) -> Option<(EncodedColumns, Splice)> {
        let (kept_len, columns) = self.saved_columns.as_ref()?;
        let layout = self.saved_layout.as_ref()?;
        let ops = &self.ops;
        let n_ops = u32::try_from(ops.ops.len()).ok()?;
        if ops.log_below != layout.ops_len
            || n_ops < layout.ops_len
            || self.history.len() < *kept_len
        {
            return None;
        }
        let fresh = u64::from(n_ops - layout.ops_len) + ops.succ_changed.len() as u64;
        if fresh * 4 > u64::from(layout.rows) + 4096 {
            return None;
        }

        // Authors now, and the renumbering of the kept columns' actor indexes.
        let authors = authors(self);
        let mut actor_pos = vec![u32::MAX; ops.actors.len()];
        for (pos, &a) in authors.iter().enumerate() {
            *actor_pos.get_mut(a as usize)? = pos as u32;
        }
        let renumber: Vec<u32> = layout
            .authors
            .iter()
            .map(|&a| {
                actor_pos
                    .get(a as usize)
                    .copied()
                    .filter(|&p| p != u32::MAX)
            })
            .collect::<Option<_>>()?;

        // Old rows written again: ops that gained a successor.
        let mut replaced: Vec<(u32, u32)> = ops
            .succ_changed
            .iter()
            .filter_map(|&p| Some((layout.row(p)?, p)))
            .collect();
        replaced.sort_unstable();
        replaced.dedup();

        // New rows: (insertion point = the old row they go before, depth after the old row
        // that precedes them, arena index).
        let mut objects: Option<Objects> = None;
        let mut placed: HashMap<u32, (u32, u32)> = HashMap::new();
        let mut inserts: Vec<(u32, u32, u32)> = Vec::new();
        let mut chain: Vec<u32> = Vec::new();
        for idx in layout.ops_len..n_ops {
            if ops.ops.get(idx as usize)?.action() == Action::Del {
                continue;
            }
            if placed.contains_key(&idx) {
                continue;
            }
            // Walk back to an old op (or a placed new one, or the start).
            chain.clear();
            let mut cur = idx;
            let (point, mut depth) = loop {
                if let Some(&at) = placed.get(&cur) {
                    break at;
                }
                if cur < layout.ops_len {
                    break (layout.row(cur)? + 1, 0);
                }
                chain.push(cur);
                match prev_in_document(ops, cur, &mut objects)? {
                    Some(p) => cur = p,
                    None => break (0, 0),
                }
            };
            for &c in chain.iter().rev() {
                depth += 1;
                placed.insert(c, (point, depth));
                inserts.push((point, depth, c));
            }
        }
        inserts.sort_unstable();

        // The op rows: old ones copied, new and changed ones encoded.
        let mut has_name = BitSet::new(ops.ops.len());
        for &idx in ops.mark_names.keys() {
            has_name.insert(idx);
        }
        let mut writer = OpColumnsWriter::new();
        let mut src = columns.op_rows();
        let mut block = Block::default();
        let mut at = 0u32;
        let mut out_row = 0u32;
        let mut new_rows: Vec<(u32, u32)> = Vec::with_capacity(inserts.len());
        let (mut ins, mut rep) = (inserts.iter().peekable(), replaced.iter().peekable());
        loop {
            let (target, idx, is_insert) = match (ins.peek(), rep.peek()) {
                (None, None) => break,
                (Some(&&(p, _, i)), r) if r.is_none_or(|&&(r, _)| p <= r) => (p, i, true),
                (_, Some(&&(r, i))) => (r, i, false),
                // (Some, None) is the first arm.
                (Some(_), None) => return None,
            };
            let n = target.checked_sub(at)?;
            writer.copy_rows(&mut src, u64::from(n), &renumber).ok()?;
            out_row += n;
            at = target;
            if is_insert {
                ins.next();
                new_rows.push((idx, out_row));
            } else {
                rep.next();
                src.skip(1).ok()?;
                at += 1;
            }
            let ctx = obj_ctx(ops, &actor_pos, &has_name, idx)?;
            block.add(idx, &ctx, &mut writer);
            block.flush(&ctx, &mut writer);
            out_row += 1;
        }
        let n = layout.rows.checked_sub(at)?;
        writer.copy_rest(&mut src, u64::from(n), &renumber).ok()?;
        out_row += n;

        // The change rows: the kept ones, then the new changes'.
        let mut changes = ChangeColumnsWriter::new();
        changes
            .copy_rows(&mut columns.change_rows(), *kept_len as u64, &renumber)
            .ok()?;
        self.push_change_rows(&mut changes, *kept_len..self.history.len(), &actor_pos);

        // Insertion points with how many rows went in at each, ascending.
        let mut steps: Vec<(u32, u32)> = Vec::new();
        for &(p, _, _) in &inserts {
            match steps.last_mut() {
                Some((q, c)) if *q == p => *c += 1,
                _ => steps.push((p, 1)),
            }
        }
        let columns = EncodedColumns::from_writers(changes, writer);
        Some((
            columns,
            Splice {
                ops_len: n_ops,
                rows: out_row,
                authors,
                steps,
                new_rows,
            },
        ))
    }
}

/// What an op's row shares with its object's other rows.
fn obj_ctx<'a>(
    ops: &'a OpSet,
    actor_pos: &'a [u32],
    has_name: &'a BitSet,
    idx: u32,
) -> Option<ObjCtx<'a>> {
    let op = ops.ops.get(idx as usize)?;
    let object = ops.objects.get(op.obj as usize)?;
    let obj = match ops.ops.get(object.make_op as usize) {
        Some(make) if object.make_op != NONE => ObjId::Op(OpId::new(
            make.id.counter,
            *actor_pos.get(make.id.actor as usize)?,
        )),
        _ => ObjId::Root,
    };
    Some(ObjCtx {
        ops,
        actor_pos,
        has_name,
        obj,
        is_seq: object.kind.is_sequence(),
        keep: None,
    })
}

/// The op before `idx` in document order (`Some(None)`: `idx` is first); `None` if the op
/// set does not hold together (the caller then encodes everything).
fn prev_in_document(ops: &OpSet, idx: u32, objects: &mut Option<Objects>) -> Option<Prev> {
    let op = ops.ops.get(idx as usize)?;
    let object = ops.objects.get(op.obj as usize)?;
    match &object.body {
        Body::Map(map) => {
            let key = ops.keys.get(op.key as usize)?;
            let group = map.get(key)?;
            let pos = group.iter().position(|&i| i == idx)?;
            if let Some(&p) = pos.checked_sub(1).and_then(|p| group.get(p)) {
                return Some(Some(p));
            }
            if let Some(&p) = map.before(key).rev().find_map(|(_, g)| g.last()) {
                return Some(Some(p));
            }
        }
        Body::Seq { index, extra } => {
            if !op.insert() {
                if op.key == HEAD {
                    return None;
                }
                let more = extra.get(&op.key)?;
                let pos = more.iter().position(|&i| i == idx)?;
                return Some(Some(match pos.checked_sub(1) {
                    Some(p) => *more.get(p)?,
                    None => op.key,
                }));
            }
            let c = index.locate(idx, &ops.ops)?;
            if let Some(p) = index.prev(c) {
                return Some(Some(last_of_element(index.entry(p).op, extra)));
            }
        }
    }
    last_before_object(ops, op.obj, objects)
}

/// The last row op of a sequence element: its last other op, or its insert.
fn last_of_element(e: u32, extra: &HashMap<u32, smallvec::SmallVec<[u32; 2]>>) -> u32 {
    extra.get(&e).and_then(|m| m.last().copied()).unwrap_or(e)
}

/// The last row op of the objects before `obj` in document order.
fn last_before_object(ops: &OpSet, obj: u32, objects: &mut Option<Objects>) -> Option<Prev> {
    let objects = objects.get_or_insert_with(|| {
        let order: Vec<u32> = object_order(ops).collect();
        let mut position = vec![0u32; ops.objects.len()];
        for (pos, &o) in order.iter().enumerate() {
            if let Some(slot) = position.get_mut(o as usize) {
                *slot = pos as u32;
            }
        }
        Objects { position, order }
    });
    let pos = *objects.position.get(obj as usize)? as usize;
    for &o in objects.order.get(..pos)?.iter().rev() {
        let last = match &ops.objects.get(o as usize)?.body {
            Body::Map(map) => map.values().rev().find_map(|g| g.last().copied()),
            Body::Seq { index, extra } => index
                .last()
                .map(|c| last_of_element(index.entry(c).op, extra)),
        };
        if last.is_some() {
            return Some(last);
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::KeyMap;
    use crate::types::{ExpandMark, ObjType, ROOT};
    use converge_encoding::{ActorId, ScalarValue};

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// The save after a splice writes what a fresh encode writes.
    fn check(doc: &mut Document, what: &str) {
        let spliced = doc.spliced_columns();
        let saved = doc.save();
        let mut fresh = doc.fork();
        fresh.saved_columns = None;
        fresh.saved_layout = None;
        fresh.saved_chunk.clear();
        assert_eq!(saved, fresh.save(), "{what}");
        if let Some((columns, _)) = spliced {
            assert!(columns == doc.encode_columns(), "{what}: spliced columns");
        }
        // and the layout the save kept places every op where a fresh encode does
        let kept = doc.saved_layout.as_ref().unwrap();
        let (_, layout) = fresh.encode_columns_and_layout();
        for idx in 0..doc.ops.ops.len() as u32 {
            assert_eq!(kept.row(idx), layout.row(idx), "{what}: row of op {idx}");
        }
    }

    /// Random edits of every kind by several actors, a save after each batch; every save
    /// equals a fresh encode.
    #[test]
    fn spliced_saves_equal_fresh_encodes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut spliced = 0;
        let mut large_maps = 0;
        for round in 0..40 {
            let mut a = Document::with_actor(ActorId::from_bytes(&[0x50, round]));
            let t = a.put_object(&ROOT, "text", ObjType::Text).unwrap();
            a.splice_text(&t, 0, 0, "hello wörld, again").unwrap();
            let l = a.put_object(&ROOT, "list", ObjType::List).unwrap();
            for i in 0..5 {
                a.insert(&l, i, ScalarValue::Counter(i as i64)).unwrap();
            }
            let m = a.put_object(&ROOT, "map", ObjType::Map).unwrap();
            a.put(&m, "k", ScalarValue::Int(1)).unwrap();
            let mut b = a.fork();
            b.set_actor(ActorId::from_bytes(&[
                if round % 2 == 0 { 0x10 } else { 0x90 },
                round,
            ]));
            // From a loaded document (identity layout) or from a save.
            if round % 3 == 0 {
                let bytes = a.save();
                a = Document::load(&bytes).unwrap();
                a.set_actor(ActorId::from_bytes(&[0x50, round]));
            } else {
                a.save();
            }
            for step in 0..25 {
                for doc in [&mut a, &mut b] {
                    let edits = 1 + rng(&mut seed) % 3;
                    for _ in 0..edits {
                        let len = doc.length(&t).unwrap();
                        match rng(&mut seed) % 11 {
                            0 | 1 => {
                                let at = (rng(&mut seed) as usize) % (len + 1);
                                doc.splice_text(&t, at, 0, "xé").unwrap();
                            }
                            2 if len > 0 => {
                                let at = (rng(&mut seed) as usize) % len;
                                doc.splice_text(&t, at, 1, "").unwrap();
                            }
                            3 => {
                                // Enough keys that the map outgrows a small `KeyMap`.
                                for _ in 0..8 {
                                    let k = format!("k{}", rng(&mut seed) % 48);
                                    if rng(&mut seed).is_multiple_of(5) {
                                        let _ = doc.delete(&m, &*k);
                                    } else {
                                        doc.put(&m, &*k, ScalarValue::Int(step)).unwrap();
                                    }
                                }
                            }
                            4 => {
                                let k = ["b", "q"][(rng(&mut seed) % 2) as usize];
                                doc.put(&ROOT, k, ScalarValue::Str("v".into())).unwrap();
                            }
                            5 if doc.length(&l).unwrap() > 0 => {
                                let n = doc.length(&l).unwrap();
                                // Not every item is a counter.
                                let _ = doc.increment(&l, (rng(&mut seed) as usize) % n, 2);
                            }
                            6 if doc.length(&l).unwrap() > 0 => {
                                let n = doc.length(&l).unwrap();
                                doc.delete(&l, (rng(&mut seed) as usize) % n).unwrap();
                            }
                            7 => {
                                let n = doc.length(&l).unwrap();
                                let at = (rng(&mut seed) as usize) % (n + 1);
                                doc.insert(&l, at, ScalarValue::Uint(7)).unwrap();
                            }
                            8 => {
                                let k = format!("o{}", rng(&mut seed) % 3);
                                let o = doc.put_object(&ROOT, &*k, ObjType::Map).unwrap();
                                doc.put(&o, "x", ScalarValue::Null).unwrap();
                            }
                            9 if len > 2 => {
                                doc.mark(
                                    &t,
                                    0..2,
                                    "bold",
                                    ScalarValue::Bool(true),
                                    ExpandMark::Both,
                                )
                                .unwrap();
                            }
                            _ => {
                                let n = doc.length(&l).unwrap();
                                let at = (rng(&mut seed) as usize) % (n + 1);
                                let o = doc.insert_object(&l, at, ObjType::Text).unwrap();
                                doc.splice_text(&o, 0, 0, "in").unwrap();
                            }
                        }
                    }
                }
                if rng(&mut seed).is_multiple_of(2) {
                    a.merge(&b).unwrap();
                }
                if rng(&mut seed).is_multiple_of(3) {
                    b.merge(&a).unwrap();
                }
                spliced += usize::from(a.spliced_columns().is_some());
                large_maps += a
                    .ops
                    .objects
                    .iter()
                    .filter(|o| matches!(&o.body, Body::Map(KeyMap::Large(_))))
                    .count();
                check(&mut a, &format!("round {round} step {step} a"));
                if rng(&mut seed).is_multiple_of(4) {
                    check(&mut b, &format!("round {round} step {step} b"));
                }
            }
        }
        assert!(spliced > 500, "only {spliced} saves spliced");
        assert!(large_maps > 0, "no map outgrew a small key map");
    }

    /// A transaction rolled back after a save leaves nothing to write again.
    #[test]
    fn rollback_after_a_save_splices_nothing() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1]));
        a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        let first = a.save();
        let mut tx = a.transaction();
        tx.put(&ROOT, "k", ScalarValue::Int(2)).unwrap();
        tx.rollback();
        a.put(&ROOT, "j", ScalarValue::Int(3)).unwrap();
        check(&mut a, "after rollback");
        assert_ne!(a.save(), first);
    }
}
