//! Local edits: a [`Transaction`] applies each op to the op set at once (reads see it) and
//! records its preds; `commit` turns the ops into one change, `rollback` (or drop) undoes them.

use converge_encoding::{Action, ChangeHash, OpId, ScalarValue};
use smallvec::SmallVec;

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, HEAD, Hint, NewOp, OpSet, StoredValue, View};
use crate::seq::Cursor;
use crate::types::{ExId, ExpandMark, ObjType, Prop};

/// An open set of local edits that becomes one change on [`Transaction::commit`].
///
/// Reads through the transaction see its edits (reads at heads do not). It offers the
/// document's reads only: a save, a fork or a clone of a document with pending ops would hold
/// ops that no change holds. Dropping it without committing rolls the edits back.
///
/// ```compile_fail
/// let mut doc = converge_doc::Document::new();
/// let tx = doc.transaction();
/// let bytes = tx.save_nocompress(); // not while edits are pending
/// ```
#[derive(Debug)]
pub struct Transaction<'a> {
    doc: &'a mut Document,
    open: OpenTx,
    done: bool,
}

/// What an open transaction knows apart from its document: where its ops, deletions and
/// value bytes start, and its ops' preds. A [`Transaction`] holds one while it borrows the
/// document; an [`AutoCommit`](crate::AutoCommit) keeps one between edits, with the pending
/// ops in its document's op set.
#[derive(Clone, Debug)]
pub(crate) struct OpenTx {
    start_op: u32,
    max_op_before: u32,
    ops_start: usize,
    /// Where the transaction's deletions start in `OpSet::dels`.
    dels_start: usize,
    bytes_len: usize,
    /// The pending ops' preds (arena indexes).
    preds: PredLog,
}

impl OpenTx {
    /// Opens a transaction on `doc`: its counters start after every op and every change's
    /// declared counters.
    pub(crate) fn begin(doc: &mut Document) -> OpenTx {
        let max_op_before = doc.ops.max_op;
        // A change without ops may declare counters past every op (automerge 0.12 counts
        // them): the new ops' counters start after them (`next_id` counts from here).
        doc.ops.max_op = doc.max_op();
        doc.tx_open = true;
        OpenTx {
            start_op: doc.ops.max_op.saturating_add(1),
            max_op_before,
            ops_start: doc.ops.ops.len(),
            dels_start: doc.ops.dels.len(),
            bytes_len: doc.ops.bytes.len(),
            preds: PredLog::default(),
        }
    }

    /// Opens an isolated transaction on `doc`, a view of a document at some heads
    /// (`AutoCommit::isolate`): its counters start after `max_op` (the whole document's) and
    /// its change depends on the changes `deps` (the isolation heads, in `doc`) only (kept
    /// by the view's commit scratch, so that the transactions of every other document carry
    /// nothing more).
    pub(crate) fn begin_isolated(doc: &mut Document, max_op: u32, deps: Vec<u32>) -> OpenTx {
        let mut open = OpenTx::begin(doc);
        if max_op > doc.ops.max_op {
            doc.ops.max_op = max_op;
            open.start_op = max_op.saturating_add(1);
        }
        doc.commit_scratch.isolated_deps = Some(deps);
        open
    }

    /// Number of ops so far.
    pub(crate) fn pending_ops(&self) -> usize {
        self.preds.len()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.rollback_inner();
        }
    }
}

/// Object, key, the ops visible there now (the preds), and the element's cursor if known.
type OpTarget = (u32, u32, SmallVec<[u32; 2]>, Hint);

fn make_action(kind: ObjType) -> Action {
    match kind {
        ObjType::Map => Action::MakeMap,
        ObjType::Table => Action::MakeTable,
        ObjType::List => Action::MakeList,
        ObjType::Text => Action::MakeText,
    }
}

impl<'a> Transaction<'a> {
    pub(crate) fn new(doc: &'a mut Document) -> Self {
        let open = OpenTx::begin(doc);
        Transaction::resume(doc, open)
    }

    /// The transaction `open` on `doc` again, as [`OpenTx::begin`] or [`Transaction::suspend`]
    /// left it (nothing else touched the document since).
    pub(crate) fn resume(doc: &'a mut Document, open: OpenTx) -> Self {
        Transaction {
            doc,
            open,
            done: false,
        }
    }

    /// Ends the borrow of the document without committing or rolling back: the ops stay
    /// applied, and [`Transaction::resume`] with what this returns goes on with them.
    pub(crate) fn suspend(mut self) -> OpenTx {
        self.done = true;
        let preds = std::mem::take(&mut self.open.preds);
        OpenTx { preds, ..self.open }
    }

    doc_reads!(read_now, read_at, doc);

    /// What the reads of the current state read: the document (see `doc_reads!`).
    fn read_now(&self, _obj: &ExId) -> crate::doc_reads::ReadAt<'_> {
        crate::doc_reads::ReadAt::Now(self.doc)
    }

    /// What the reads at `heads` read: the document at them (see `doc_reads!`).
    #[allow(clippy::unnecessary_wraps)] // reason: the signature `doc_reads!` calls
    fn read_at<'h>(
        &'h self,
        _obj: &ExId,
        heads: &'h [ChangeHash],
    ) -> Result<(&'h Document, &'h [ChangeHash]), DocError> {
        Ok((self.doc, heads))
    }

    /// The document's heads: those of its changes, which the pending edits are not part of
    /// yet (to read at with the `_at` reads), and which the change will depend on
    /// (automerge 0.12's `base_heads`).
    #[doc(alias = "base_heads")]
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.heads()
    }

    /// The document, pending ops and all (the crate's tests look inside it).
    #[cfg(test)]
    pub(crate) fn document(&self) -> &Document {
        self.doc
    }

    /// Number of ops so far.
    pub fn pending_ops(&self) -> usize {
        self.open.preds.len()
    }

    fn next_id(&self) -> Result<OpId, DocError> {
        // (A match, not `ok_or`: that built and dropped the error on every op.)
        match self.doc.ops.max_op.checked_add(1) {
            Some(counter) => Ok(OpId::new(counter, self.doc.actor)),
            None => Err(DocError::CounterOverflow),
        }
    }

    fn push(&mut self, new: NewOp, preds: &[u32], hint: Hint) -> (u32, Option<Cursor>) {
        let out = self.doc.ops.apply(new, preds, hint);
        self.open.preds.push(preds);
        out
    }

    fn object(&mut self, obj: &ExId) -> Result<(u32, ObjType), DocError> {
        let o = match &self.doc.obj_cache {
            Some((id, o)) if id == obj => *o,
            _ => {
                let o = self.doc.ops.obj_index(obj)?;
                self.doc.obj_cache = Some((obj.clone(), o));
                o
            }
        };
        Ok((o, self.doc.ops.objects[o as usize].kind))
    }

    /// Refuses an object that is not a text.
    fn text_object(&mut self, obj: &ExId) -> Result<u32, DocError> {
        let (o, kind) = self.object(obj)?;
        if kind != ObjType::Text {
            return Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: kind,
                expected: "a text",
            });
        }
        Ok(o)
    }

    fn seq_object(&mut self, obj: &ExId) -> Result<u32, DocError> {
        let (o, kind) = self.object(obj)?;
        DocError::expect_sequence(obj, kind)?;
        Ok(o)
    }

    /// The element at visible index `index` and its cursor.
    fn element(&self, o: u32, index: usize) -> Result<(u32, Cursor), DocError> {
        self.doc.ops.element_for_edit(o, index)
    }

    /// The slot for a new element at visible index `index` and the element it follows.
    ///
    /// The new element goes right after the visible element before `index`, except that in a
    /// text with marks it moves past following mark boundaries that are "sticky" towards it: a
    /// begin that expands before, or an end that does not expand after (skipping deleted
    /// elements, and boundary pairs that open and close there).
    fn insert_slot(&self, o: u32, index: usize) -> Result<(u32, Cursor), DocError> {
        let object = &self.doc.ops.objects[o as usize];
        let Body::Seq { index: seq, .. } = &object.body else {
            return Err(DocError::IndexOutOfBounds { index, length: 0 });
        };
        let length = seq.width() as usize;
        let reference = if index == 0 {
            None
        } else {
            match seq.find_unit(index as u64 - 1) {
                Some((c, _)) if index <= length => Some(c),
                _ => return Err(DocError::IndexOutOfBounds { index, length }),
            }
        };
        if self.doc.ops.has_marks
            && object.kind == ObjType::Text
            && let Some(c) = self.sticky_mark(o, reference)
        {
            return Ok((seq.entry(c).op, seq.slot_after(Some(c))));
        }
        Ok(match reference {
            Some(c) => (seq.entry(c).op, seq.slot_after(Some(c))),
            None => (HEAD, seq.slot_after(None)),
        })
    }

    /// The last sticky mark boundary between `reference` and the next visible element.
    fn sticky_mark(&self, o: u32, reference: Option<Cursor>) -> Option<Cursor> {
        let ops = &self.doc.ops;
        let Body::Seq { index: seq, .. } = &ops.objects[o as usize].body else {
            return None;
        };
        let mut found: Vec<(bool, OpId, Cursor)> = Vec::new();
        let mut cur = match reference {
            Some(c) => seq.next(c),
            None => seq.first(),
        };
        while let Some(c) = cur {
            let e = seq.entry(c);
            if e.width > 0 {
                break;
            }
            let op = &ops.ops[e.op as usize];
            if op.action() == Action::Mark {
                let is_begin = op.mark_begin();
                if !is_begin {
                    let begin = OpId::new(op.id.counter.wrapping_sub(1), op.id.actor);
                    // From the back: an end most often closes the begin found last.
                    if let Some(j) = found.iter().rposition(|&(b, id, _)| b && id == begin) {
                        found.truncate(j);
                        cur = seq.next(c);
                        continue;
                    }
                }
                if is_begin == op.expand() {
                    found.push((is_begin, op.id, c));
                }
            } else if ops.visible(e.op, View::Now) {
                break;
            }
            cur = seq.next(c);
        }
        found.last().map(|&(_, _, c)| c)
    }

    fn insert_mark_op(
        &mut self,
        o: u32,
        slot: (u32, Cursor),
        value: StoredValue,
        mark_name: Option<String>,
        expand: bool,
    ) -> Result<Cursor, DocError> {
        let id = self.next_id()?;
        let (after, slot) = slot;
        let (_, cursor) = self.push(
            NewOp {
                id,
                obj: o,
                key: after,
                insert: true,
                action: Action::Mark,
                value,
                expand,
                mark_name,
            },
            &[],
            Hint::InsertAt(slot),
        );
        Ok(cursor.unwrap_or(slot))
    }

    /// Marks text units `range` with `name = value`.
    pub fn mark(
        &mut self,
        obj: &ExId,
        range: std::ops::Range<usize>,
        name: &str,
        value: ScalarValue,
        expand: ExpandMark,
    ) -> Result<(), DocError> {
        let o = self.text_object(obj)?;
        let length = self.doc.ops.length(o, View::Now);
        if range.start > range.end || range.end > length {
            return Err(DocError::IndexOutOfBounds {
                index: range.end.max(range.start),
                length,
            });
        }
        if range.start == range.end && expand == ExpandMark::None {
            return Ok(());
        }
        let value = self.doc.ops.store_value(&value);
        let begin_slot = self.insert_slot(o, range.start)?;
        let begin =
            self.insert_mark_op(o, begin_slot, value, Some(name.to_owned()), expand.before())?;
        let after_begin = |this: &Self| -> (u32, Cursor) {
            match &this.doc.ops.objects[o as usize].body {
                Body::Seq { index, .. } => (index.entry(begin).op, index.slot_after(Some(begin))),
                Body::Map(_) => (HEAD, (0, 0)),
            }
        };
        let end_slot = if range.start == range.end {
            after_begin(self)
        } else {
            let s = self.insert_slot(o, range.end)?;
            if s.1 > begin { s } else { after_begin(self) }
        };
        self.insert_mark_op(o, end_slot, StoredValue::Null, None, expand.after())?;
        Ok(())
    }

    /// Removes mark `name` from text units `range` (a mark with a null value).
    pub fn unmark(
        &mut self,
        obj: &ExId,
        range: std::ops::Range<usize>,
        name: &str,
        expand: ExpandMark,
    ) -> Result<(), DocError> {
        self.mark(obj, range, name, ScalarValue::Null, expand)
    }

    fn visible_ops_of_element(&self, o: u32, elem: u32) -> SmallVec<[u32; 2]> {
        self.doc
            .ops
            .element_ops_in(o, elem, View::Now)
            .filter(|&op| self.doc.ops.visible(op, View::Now))
            .collect()
    }

    /// Where a non-insert op on `prop` goes: (object, key, preds now visible, hint).
    fn target(&mut self, obj: &ExId, prop: &Prop) -> Result<OpTarget, DocError> {
        let (o, kind) = self.object(obj)?;
        match prop {
            // automerge 0.12 does not index tables as objects: its transactions refuse to edit
            // them (`NotAnObject`) and it panics when a remote change does. Refuse here too, so
            // that no change we write crashes a reference peer.
            Prop::Map(_) if kind == ObjType::Table => Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: kind,
                expected: "a map (automerge 0.12 cannot edit tables)",
            }),
            Prop::Map(key) if kind.is_map() => {
                let preds = self
                    .doc
                    .ops
                    .prop_ops(o, prop, View::Now)?
                    .into_iter()
                    .collect();
                let k = self.doc.ops.intern_key(key);
                Ok((o, k, preds, Hint::None))
            }
            Prop::Seq(index) if kind.is_sequence() => {
                let (elem, c) = self.element(o, *index)?;
                Ok((
                    o,
                    elem,
                    self.visible_ops_of_element(o, elem),
                    Hint::Element(c),
                ))
            }
            Prop::Map(_) => Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: kind,
                expected: "a map or table",
            }),
            Prop::Seq(_) => Err(DocError::WrongObjectType {
                obj: obj.clone(),
                found: kind,
                expected: "a list or text",
            }),
        }
    }

    fn put_op(
        &mut self,
        obj: &ExId,
        prop: Prop,
        action: Action,
        value: StoredValue,
    ) -> Result<OpId, DocError> {
        let id = self.next_id()?;
        let (o, key, preds, hint) = self.target(obj, &prop)?;
        self.push(
            NewOp {
                id,
                obj: o,
                key,
                insert: false,
                action,
                value,
                expand: false,
                mark_name: None,
            },
            &preds,
            hint,
        );
        Ok(id)
    }

    /// Sets `prop` of `obj` to a scalar, overwriting the values visible now.
    pub fn put(
        &mut self,
        obj: &ExId,
        prop: impl Into<Prop>,
        value: impl Into<ScalarValue>,
    ) -> Result<(), DocError> {
        let value = value.into();
        let prop = prop.into();
        let id = self.next_id()?;
        let (o, key, mut preds, hint) = self.target(obj, &prop)?;
        // As automerge 0.12 (`resolve_action`): putting the value the winner already has writes
        // nothing, or, if other values conflict with it, only deletes those. A counter's value
        // is its current one, increments included (the reference compares the value its
        // visible-op iterator has brought up to date).
        let mut action = Action::Set;
        if let Some(&w) = preds.last() {
            let ops = &self.doc.ops;
            let winner = &ops.ops[w as usize];
            let current = if winner.value.is_counter() {
                ScalarValue::Counter(ops.counter_value(w, View::Now))
            } else {
                ops.scalar(&winner.value)
            };
            if winner.action() == Action::Set && current == value {
                if preds.len() == 1 {
                    return Ok(());
                }
                preds.pop();
                action = Action::Del;
            }
        }
        let stored = if action == Action::Set {
            self.doc.ops.store_value(&value)
        } else {
            StoredValue::Null
        };
        self.push(
            NewOp {
                id,
                obj: o,
                key,
                insert: false,
                action,
                value: stored,
                expand: false,
                mark_name: None,
            },
            &preds,
            hint,
        );
        Ok(())
    }

    /// Sets `prop` of `obj` to a new empty object; returns its id.
    pub fn put_object(
        &mut self,
        obj: &ExId,
        prop: impl Into<Prop>,
        kind: ObjType,
    ) -> Result<ExId, DocError> {
        let id = self.put_op(obj, prop.into(), make_action(kind), StoredValue::Null)?;
        Ok(self.doc.ops.ex_id(id))
    }

    fn insert_op(
        &mut self,
        obj: &ExId,
        index: usize,
        action: Action,
        value: StoredValue,
    ) -> Result<OpId, DocError> {
        let id = self.next_id()?;
        let o = self.seq_object(obj)?;
        let (after, slot) = self.insert_slot(o, index)?;
        self.push(
            NewOp {
                id,
                obj: o,
                key: after,
                insert: true,
                action,
                value,
                expand: false,
                mark_name: None,
            },
            &[],
            Hint::InsertAt(slot),
        );
        Ok(id)
    }

    /// Inserts a scalar into a list or text at visible index `index`.
    pub fn insert(
        &mut self,
        obj: &ExId,
        index: usize,
        value: impl Into<ScalarValue>,
    ) -> Result<(), DocError> {
        let value = self.doc.ops.store_value(&value.into());
        self.insert_op(obj, index, Action::Set, value)?;
        Ok(())
    }

    /// Inserts a new empty object into a list at `index`; returns its id.
    pub fn insert_object(
        &mut self,
        obj: &ExId,
        index: usize,
        kind: ObjType,
    ) -> Result<ExId, DocError> {
        let id = self.insert_op(obj, index, make_action(kind), StoredValue::Null)?;
        Ok(self.doc.ops.ex_id(id))
    }

    /// Deletes a map key (a no-op if it has no value) or a sequence element.
    pub fn delete(&mut self, obj: &ExId, prop: impl Into<Prop>) -> Result<(), DocError> {
        let id = self.next_id()?;
        let (o, key, preds, hint) = match self.target(obj, &prop.into()) {
            // As automerge 0.12: an index inside the last (multi-unit) character of a text
            // deletes nothing, without an error.
            Err(DocError::IndexOutOfBounds { index, length }) if index < length => {
                return Ok(());
            }
            r => r?,
        };
        if preds.is_empty() {
            return Ok(());
        }
        self.push(NewOp::delete(id, o, key), &preds, hint);
        Ok(())
    }

    /// Adds `by` to the counter at `prop`.
    pub fn increment(
        &mut self,
        obj: &ExId,
        prop: impl Into<Prop>,
        by: i64,
    ) -> Result<(), DocError> {
        let id = self.next_id()?;
        let (o, key, preds, hint) = self.target(obj, &prop.into())?;
        // As automerge 0.12: one visible counter suffices, and the increment succeeds every
        // visible op (so it also supersedes the scalars that conflict with the counter).
        if !preds
            .iter()
            .any(|&p| self.doc.ops.is_counter(&self.doc.ops.ops[p as usize]))
        {
            return Err(DocError::NotACounter { obj: obj.clone() });
        }
        let value = self.doc.ops.store_int(by);
        self.push(
            NewOp {
                id,
                obj: o,
                key,
                insert: false,
                action: Action::Inc,
                value,
                expand: false,
                mark_name: None,
            },
            &preds,
            hint,
        );
        Ok(())
    }

    /// Deletes `del` visible units at `pos` (whole elements), returning the units deleted.
    fn delete_units(&mut self, o: u32, mut pos: usize, del: usize) -> Result<(), DocError> {
        // As automerge 0.12 (`inner_splice`): an element that starts before `pos` (a
        // multi-unit character cut by `pos`) is skipped, not deleted; the end of the sequence
        // ends the deletion.
        let mut deleted = 0usize;
        while deleted < del {
            let found = match &self.doc.ops.objects[o as usize].body {
                Body::Seq { index, .. } => index
                    .find_unit(pos as u64)
                    .map(|(c, before)| (index.entry(c), c, before as usize)),
                Body::Map(_) => None,
            };
            let Some((entry, c, before)) = found else {
                break;
            };
            let width = entry.width as usize;
            if before < pos {
                pos = before + width;
                continue;
            }
            let elem = entry.op;
            let preds = self.visible_ops_of_element(o, elem);
            let id = self.next_id()?;
            self.push(NewOp::delete(id, o, elem), &preds, Hint::Element(c));
            deleted += width.max(1);
        }
        Ok(())
    }

    /// The unit index where an insert at `pos` really lands: `pos`, or the end of the
    /// multi-unit character that `pos` cuts.
    fn insert_boundary(&self, o: u32, pos: usize) -> usize {
        if pos == 0 {
            return 0;
        }
        match &self.doc.ops.objects[o as usize].body {
            Body::Seq { index, .. } => match index.find_unit(pos as u64 - 1) {
                Some((c, before)) => before as usize + index.entry(c).width as usize,
                None => pos,
            },
            Body::Map(_) => pos,
        }
    }

    /// Inserts consecutive elements after the slot for `pos`.
    fn insert_run(
        &mut self,
        o: u32,
        pos: usize,
        values: impl Iterator<Item = StoredValue>,
    ) -> Result<(), DocError> {
        let (mut after, mut slot) = self.insert_slot(o, pos)?;
        for value in values {
            let id = self.next_id()?;
            let (idx, cursor) = self.push(
                NewOp {
                    id,
                    obj: o,
                    key: after,
                    insert: true,
                    action: Action::Set,
                    value,
                    expand: false,
                    mark_name: None,
                },
                &[],
                Hint::InsertAt(slot),
            );
            after = idx;
            if let (Some(c), Body::Seq { index, .. }) =
                (cursor, &self.doc.ops.objects[o as usize].body)
            {
                slot = index.slot_after(Some(c));
            }
        }
        Ok(())
    }

    /// Deletes `del` elements at `pos` of a list or text and inserts `values` there.
    pub fn splice(
        &mut self,
        obj: &ExId,
        pos: usize,
        del: usize,
        values: impl IntoIterator<Item = ScalarValue>,
    ) -> Result<(), DocError> {
        let o = self.seq_object(obj)?;
        self.check_splice(o, pos, del)?;
        let stored: Vec<StoredValue> = values
            .into_iter()
            .map(|v| self.doc.ops.store_value(&v))
            .collect();
        self.insert_then_delete(o, pos, del, stored.into_iter())
    }

    /// Fails (before any op is written) unless `pos..pos + del` is inside the sequence.
    fn check_splice(&self, o: u32, pos: usize, del: usize) -> Result<(), DocError> {
        let length = self.doc.ops.length(o, View::Now);
        match pos.checked_add(del) {
            Some(end) if end <= length => Ok(()),
            _ => Err(DocError::IndexOutOfBounds {
                index: pos.saturating_add(del),
                length,
            }),
        }
    }

    /// A splice as automerge 0.12 writes it: the new elements first (at `pos`), then the
    /// deletions of the `del` units that follow them, so that op counters (and so the change's
    /// bytes and hash) are the reference's.
    fn insert_then_delete(
        &mut self,
        o: u32,
        pos: usize,
        del: usize,
        values: impl ExactSizeIterator<Item = StoredValue>,
    ) -> Result<(), DocError> {
        self.insert_then_delete_iter(o, pos, del, values.len() == 0, values)
    }

    /// [`Self::insert_then_delete`] for an iterator that knows only whether it is empty.
    fn insert_then_delete_iter(
        &mut self,
        o: u32,
        pos: usize,
        del: usize,
        no_values: bool,
        values: impl Iterator<Item = StoredValue>,
    ) -> Result<(), DocError> {
        if no_values {
            return self.delete_units(o, pos, del);
        }
        // Where the deletion starts once the values are in (only a deletion needs it: a
        // lookup fewer for a plain insert, a keystroke).
        let at = (del > 0).then(|| self.insert_boundary(o, pos));
        let before = self.doc.ops.length(o, View::Now);
        self.insert_run(o, pos, values)?;
        match at {
            Some(at) => {
                let inserted = self.doc.ops.length(o, View::Now) - before;
                self.delete_units(o, at + inserted, del)
            }
            None => Ok(()),
        }
    }

    /// Inserts a block into text `obj` at `index`: a map (give it keys with `put`, such as
    /// the block's type) standing in the text as one placeholder character (U+FFFC), which
    /// [`Document::spans`](crate::Document::spans) reports as a block; automerge 0.12's
    /// `split_block`, for rich-text editors that split a text into paragraphs and the like.
    pub fn split_block(&mut self, obj: &ExId, index: usize) -> Result<ExId, DocError> {
        self.text_object(obj)?;
        self.insert_object(obj, index, ObjType::Map)
    }

    /// Deletes the element at `index` of text `obj` (a block: see
    /// [`Transaction::split_block`]) as automerge 0.12's `join_block` does: only the value
    /// the element shows is deleted (a plain `delete` also deletes the values concurrent
    /// with it).
    pub fn join_block(&mut self, obj: &ExId, index: usize) -> Result<(), DocError> {
        let o = self.text_object(obj)?;
        // The element holding unit `index` (an index inside a character of several units
        // addresses that character, as automerge's `join_block` finds it; a `delete` there
        // addresses the next one).
        let found = match &self.doc.ops.objects[o as usize].body {
            Body::Seq { index: seq, .. } => seq
                .find_unit(index as u64)
                .map(|(c, _)| (seq.entry(c).op, c)),
            Body::Map(_) => None,
        };
        let shown = found.and_then(|(elem, c)| {
            let winner = self.doc.ops.element_winner(o, elem, View::Now)?;
            Some((elem, c, winner))
        });
        let Some((elem, c, winner)) = shown else {
            return Err(DocError::IndexOutOfBounds {
                index,
                length: self.doc.ops.length(o, View::Now),
            });
        };
        let id = self.next_id()?;
        self.push(NewOp::delete(id, o, elem), &[winner], Hint::Element(c));
        Ok(())
    }

    /// [`Transaction::join_block`] then [`Transaction::split_block`] at `index`: a new,
    /// empty block in place of the one there (automerge 0.12's `replace_block`).
    pub fn replace_block(&mut self, obj: &ExId, index: usize) -> Result<ExId, DocError> {
        self.join_block(obj, index)?;
        self.split_block(obj, index)
    }

    /// Makes text `obj` read `new` with as few edits as it takes (a shortest edit script
    /// over extended grapheme clusters: Myers' diff), as splices from the start; what is
    /// kept keeps its identity, so edits others make to it meanwhile merge in. This is
    /// automerge 0.12's `update_text`, change for change: a cluster (a letter and its
    /// accents, a flag, a joined emoji) is kept or replaced whole.
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "the quick fox")?;
    /// doc.update_text(&text, "the quick brown fox")?;
    /// assert_eq!(doc.text(&text)?, "the quick brown fox");
    /// // One change of six inserted characters: the rest was kept.
    /// assert_eq!(doc.get_changes(&[]).last().map(|c| c.num_ops()), Some(6));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn update_text(&mut self, obj: &ExId, new: &str) -> Result<(), DocError> {
        use unicode_segmentation::UnicodeSegmentation;
        let o = self.text_object(obj)?;
        let old_text = self.doc.ops.text(o, View::Now);
        // Grapheme clusters, as automerge 0.12 diffs them (an accent stays with its letter,
        // a flag's two regional indicators together).
        let old: Vec<&str> = old_text.graphemes(true).collect();
        let new: Vec<&str> = new.graphemes(true).collect();
        let encoding = self.doc.ops.encoding;
        let width =
            |clusters: &[&str]| -> usize { clusters.iter().map(|s| encoding.width(s)).sum() };
        let mut at = 0usize;
        for edit in crate::text_diff::diff(&old, &new) {
            match edit {
                crate::text_diff::Edit::Equal { old: i, len } => {
                    at += width(old.get(i..i + len).unwrap_or_default());
                }
                crate::text_diff::Edit::Delete { old: i, len } => {
                    let units = width(old.get(i..i + len).unwrap_or_default());
                    self.splice_text(obj, at, units, "")?;
                }
                crate::text_diff::Edit::Insert { new: j, len } => {
                    let clusters = new.get(j..j + len).unwrap_or_default();
                    self.splice_text(obj, at, 0, &clusters.concat())?;
                    at += width(clusters);
                }
            }
        }
        Ok(())
    }

    /// Deletes `del` text units at `pos` and inserts `text` there, one element per `char`
    /// (per grapheme cluster in [`TextEncoding::GraphemeCluster`](crate::TextEncoding)).
    pub fn splice_text(
        &mut self,
        obj: &ExId,
        pos: usize,
        del: usize,
        text: &str,
    ) -> Result<(), DocError> {
        let o = self.text_object(obj)?;
        self.check_splice(o, pos, del)?;
        // Straight from the text: collecting the values first (a `SmallVec`) and moving the
        // collection read back as words what had been written as 9-byte values, a store the
        // store buffer cannot forward (a stall per keystroke).
        if self.doc.ops.encoding == crate::TextEncoding::GraphemeCluster {
            // One element per cluster, as automerge 0.12 stores them in this encoding.
            use unicode_segmentation::UnicodeSegmentation;
            let clusters: Vec<StoredValue> = text
                .graphemes(true)
                .map(|g| self.doc.ops.store_str(g))
                .collect();
            return self.insert_then_delete_iter(
                o,
                pos,
                del,
                text.is_empty(),
                clusters.into_iter(),
            );
        }
        let chars = text.chars().map(OpSet::char_value);
        self.insert_then_delete_iter(o, pos, del, text.is_empty(), chars)
    }

    /// Commits the edits as one change with no message and time 0. Returns the change's hash,
    /// or `None` if there were no edits.
    pub fn commit(self) -> Result<Option<ChangeHash>, DocError> {
        self.commit_with(None, 0)
    }

    /// Commits with a message and a time (milliseconds since the epoch by convention). If the
    /// change cannot be encoded the edits are rolled back and the error returned.
    pub fn commit_with(
        mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<Option<ChangeHash>, DocError> {
        if self.open.preds.len() == 0 {
            self.done = true;
            self.doc.ops.max_op = self.open.max_op_before;
            self.doc.tx_open = false;
            // (An isolated transaction's deps go with it, as a commit takes them.)
            self.doc.commit_scratch.isolated_deps = None;
            return Ok(None);
        }
        self.commit_even_empty(message, time).map(Some)
    }

    /// Commits the edits as one change even if there are none (automerge 0.12's
    /// `empty_change`); see [`Transaction::commit_with`].
    pub(crate) fn commit_even_empty(
        mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<ChangeHash, DocError> {
        let (start_op, ops_start) = (self.open.start_op, self.open.ops_start);
        let hash = if self.doc.commit_scratch.isolated_deps.is_some() {
            self.doc
                .commit_local::<true>(start_op, ops_start, &self.open.preds, message, time)?
        } else {
            self.doc
                .commit_local::<false>(start_op, ops_start, &self.open.preds, message, time)?
        };
        self.done = true;
        self.doc.tx_open = false;
        Ok(hash)
    }

    /// Undoes the edits; returns how many ops were undone.
    pub fn rollback(mut self) -> usize {
        self.done = true;
        self.rollback_inner()
    }

    fn rollback_inner(&mut self) -> usize {
        let n = self.open.preds.len();
        while let Some(preds) = self.open.preds.pop() {
            // The newer of the two last ops (a transaction's counters only grow), if it is
            // the transaction's.
            let ops = &self.doc.ops;
            let last_op = ops
                .ops
                .last()
                .filter(|_| ops.ops.len() > self.open.ops_start);
            let last_del = ops.dels.get(self.open.dels_start..).and_then(|d| d.last());
            let del = match (last_op, last_del) {
                (Some(op), Some(d)) => d.counter > op.id.counter,
                (None, Some(_)) => true,
                _ => false,
            };
            self.doc.ops.undo_last(&preds, del);
        }
        self.doc.ops.bytes.truncate(self.open.bytes_len);
        self.doc.obj_cache = None;
        self.doc.ops.max_op = self.open.max_op_before;
        self.doc.tx_open = false;
        self.doc.commit_scratch.isolated_deps = None;
        n
    }
}

/// The preds of a transaction's pending ops, in op order: all of them in one vector, and each
/// op's count in one byte (a count of [`PredLog::LONG`] or more is kept aside in `long`).
/// Most ops have no pred (inserts) or one (deletes, overwrites), so this is a byte an op
/// where a vector of ends was four: 0.8 MB less for the paper trace in one transaction.
#[derive(Clone, Debug, Default)]
pub(crate) struct PredLog {
    /// Inline for a keystroke's transaction, as `counts`: a deletion has one pred, which
    /// was allocated and freed on every deleting keystroke (77,463 times for the paper
    /// trace with a change per edit; no time measurably, but no reason either).
    preds: SmallVec<[u32; 2]>,
    /// Inline for a keystroke's transaction, so that a change per edit allocates nothing
    /// here.
    counts: SmallVec<[u8; 8]>,
    /// `(op, count)` for the ops whose count is `LONG` or more, ascending by op.
    long: Vec<(u32, u32)>,
}

impl PredLog {
    const LONG: u8 = u8::MAX;

    pub(crate) fn len(&self) -> usize {
        self.counts.len()
    }

    fn push(&mut self, preds: &[u32]) {
        match u8::try_from(preds.len()) {
            Ok(n) if n < Self::LONG => self.counts.push(n),
            _ => {
                self.long
                    .push((self.counts.len() as u32, preds.len() as u32));
                self.counts.push(Self::LONG);
            }
        }
        self.preds.extend_from_slice(preds);
    }

    fn count(&self, op: usize, short: u8) -> usize {
        if short < Self::LONG {
            return usize::from(short);
        }
        self.long
            .binary_search_by_key(&(op as u32), |&(o, _)| o)
            .ok()
            .and_then(|i| self.long.get(i))
            .map_or(0, |&(_, n)| n as usize)
    }

    /// The last op's preds, removed.
    fn pop(&mut self) -> Option<SmallVec<[u32; 2]>> {
        let short = self.counts.pop()?;
        let n = self.count(self.counts.len(), short);
        if short == Self::LONG {
            self.long.pop();
        }
        let start = self.preds.len().saturating_sub(n);
        Some(self.preds.drain(start..).collect())
    }

    /// Each op's preds, in op order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let mut start = 0;
        self.counts.iter().enumerate().map(move |(op, &short)| {
            let end = start + self.count(op, short);
            let preds = self.preds.get(start..end).unwrap_or_default();
            start = end;
            preds
        })
    }
}

#[cfg(test)]
mod pred_log_tests {
    use super::PredLog;

    #[test]
    fn pred_log_gives_back_what_was_pushed_long_counts_included() {
        let lists: Vec<Vec<u32>> = (0..600u32)
            .map(|i| {
                (0..[0, 1, 1, 2, 254, 255, 300][i as usize % 7])
                    .map(|k| i * 1000 + k)
                    .collect()
            })
            .collect();
        let mut log = PredLog::default();
        for l in &lists {
            log.push(l);
        }
        assert_eq!(log.len(), lists.len());
        assert!(log.iter().eq(lists.iter().map(Vec::as_slice)));
        for l in lists.iter().rev() {
            assert_eq!(log.pop().as_deref(), Some(l.as_slice()));
        }
        assert!(log.pop().is_none() && log.preds.is_empty() && log.long.is_empty());
    }
}
