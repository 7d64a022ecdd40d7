//! Reads over the op set in a [`View`] (now, or as of a clock).

use std::collections::BTreeMap;

use converge_encoding::{OpId, ScalarValue};

use crate::error::DocError;
use crate::opset::{Body, OpSet, StoredValue, View};
use crate::seq::SeqIndex;
use crate::types::{ExId, ListItem, MapItem, ObjType, Prop, Value, ValueTree, ValueWithId};

impl OpSet {
    /// The object index of a public object id.
    pub(crate) fn obj_index(&self, obj: &ExId) -> Result<u32, DocError> {
        match obj {
            ExId::Root => Ok(0),
            ExId::Op { counter, actor } => {
                let not_found = || DocError::ObjectNotFound { obj: obj.clone() };
                let actor = self.actor_index(actor).ok_or_else(not_found)?;
                let idx = self
                    .find_op(OpId::new(*counter, actor))
                    .ok_or_else(not_found)?;
                match self.ops[idx as usize].value {
                    StoredValue::Object(o) => Ok(o.get()),
                    _ => Err(not_found()),
                }
            }
        }
    }

    /// The element an edit at visible index `index` of sequence `o` addresses now, and its
    /// cursor. As automerge 0.12 (its fast index seek): an index inside a multi-unit
    /// character (UTF-8/UTF-16 text) addresses the next character.
    pub(crate) fn element_for_edit(
        &self,
        o: u32,
        index: usize,
    ) -> Result<(u32, crate::seq::Cursor), DocError> {
        let length = self.length(o, View::Now);
        if let Body::Seq { index: seq, .. } = &self.objects[o as usize].body
            && let Some((c, before)) = seq.find_unit(index as u64)
        {
            if before < index as u64 {
                let next = before + u64::from(seq.entry(c).width);
                if let Some((c, _)) = seq.find_unit(next) {
                    return Ok((seq.entry(c).op, c));
                }
                return Err(DocError::IndexOutOfBounds { index, length });
            }
            return Ok((seq.entry(c).op, c));
        }
        Err(DocError::IndexOutOfBounds { index, length })
    }

    /// The document-independent form of an op id.
    pub(crate) fn ex_id(&self, id: OpId) -> ExId {
        ExId::Op {
            counter: id.counter,
            actor: self
                .actors
                .get(id.actor as usize)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The public id of an object index.
    pub(crate) fn obj_id(&self, obj: u32) -> ExId {
        match self.objects.get(obj as usize).map(|o| o.make_op) {
            Some(make) if make != crate::opset::NONE => self.ex_id(self.ops[make as usize].id),
            _ => ExId::Root,
        }
    }

    /// The value an op shows in `view`.
    pub(crate) fn op_value(&self, idx: u32, view: View<'_>) -> Value {
        let op = &self.ops[idx as usize];
        match op.value {
            StoredValue::Object(o) => {
                Value::Object(self.objects[o.get() as usize].kind, self.ex_id(op.id))
            }
            _ if self.is_counter(op) => {
                Value::Scalar(ScalarValue::Counter(self.counter_value(idx, view)))
            }
            ref v => Value::Scalar(self.scalar(v)),
        }
    }

    fn with_id(&self, idx: u32, view: View<'_>) -> ValueWithId {
        ValueWithId {
            value: self.op_value(idx, view),
            id: self.ex_id(self.ops[idx as usize].id),
        }
    }

    /// The visible ops of a property, ascending by OpId.
    pub(crate) fn prop_ops(
        &self,
        obj: u32,
        prop: &Prop,
        view: View<'_>,
    ) -> Result<Vec<u32>, DocError> {
        let object = &self.objects[obj as usize];
        match (&object.body, prop) {
            (Body::Map(map), Prop::Map(key)) => Ok(map
                .get(key.as_str())
                .map(|g| {
                    self.map_group_in(obj, key, g, view)
                        .iter()
                        .copied()
                        .filter(|&o| self.visible(o, view))
                        .collect()
                })
                .unwrap_or_default()),
            (Body::Seq { .. }, Prop::Seq(index)) => {
                let Some(elem) = self.element_at(obj, *index, view) else {
                    return Ok(Vec::new());
                };
                Ok(self
                    .element_ops_in(obj, elem, view)
                    .filter(|&o| self.visible(o, view))
                    .collect())
            }
            (Body::Map(_), Prop::Seq(_)) => Err(DocError::WrongObjectType {
                obj: self.obj_id(obj),
                found: object.kind,
                expected: "a list or text",
            }),
            (Body::Seq { .. }, Prop::Map(_)) => Err(DocError::WrongObjectType {
                obj: self.obj_id(obj),
                found: object.kind,
                expected: "a map or table",
            }),
        }
    }

    /// The element holding visible unit `index` in `view`.
    pub(crate) fn element_at(&self, obj: u32, index: usize, view: View<'_>) -> Option<u32> {
        let Body::Seq { index: seq, .. } = &self.objects.get(obj as usize)?.body else {
            return None;
        };
        match view {
            View::Now => seq.find_unit(index as u64).map(|(c, _)| seq.entry(c).op),
            View::At(_) => {
                let mut acc = 0usize;
                for (elem, winner) in self.seq_items(obj, view) {
                    let w = self.value_width(
                        &self.ops[winner as usize].value,
                        self.objects[obj as usize].kind,
                    ) as usize;
                    if index < acc + w {
                        return Some(elem);
                    }
                    acc += w;
                }
                None
            }
        }
    }

    /// Visible elements of a sequence in order, each with its winning op: read as they are
    /// walked (the paper document's text gathered them first, 1 MB of pairs for a 0.1 MB
    /// string).
    pub(crate) fn seq_items<'s>(
        &'s self,
        obj: u32,
        view: View<'s>,
    ) -> impl Iterator<Item = (u32, u32)> + 's {
        let seq = match self.objects.get(obj as usize).map(|o| &o.body) {
            Some(Body::Seq { index, extra }) => Some((index, extra.is_empty())),
            _ => None,
        };
        seq.into_iter().flat_map(move |(index, no_extra)| {
            index.iter().filter_map(move |e| {
                if matches!(view, View::Now) && e.width == 0 && no_extra {
                    return None;
                }
                Some((e.op, self.element_winner(obj, e.op, view)?))
            })
        })
    }

    pub(crate) fn get_all(
        &self,
        obj: u32,
        prop: &Prop,
        view: View<'_>,
    ) -> Result<Vec<ValueWithId>, DocError> {
        Ok(self
            .prop_ops(obj, prop, view)?
            .into_iter()
            .map(|o| self.with_id(o, view))
            .collect())
    }

    pub(crate) fn get(
        &self,
        obj: u32,
        prop: &Prop,
        view: View<'_>,
    ) -> Result<Option<ValueWithId>, DocError> {
        Ok(self
            .prop_ops(obj, prop, view)?
            .last()
            .map(|&o| self.with_id(o, view)))
    }

    /// Whether map key `name` (its ops `group`) of `obj` has a value in `view`; from the
    /// newest op: a key put again and again has its visible op last.
    fn key_shown(&self, obj: u32, name: &str, group: &[u32], view: View<'_>) -> bool {
        self.map_group_in(obj, name, group, view)
            .iter()
            .rev()
            .any(|&o| self.visible(o, view))
    }

    pub(crate) fn keys(&self, obj: u32, view: View<'_>) -> Vec<String> {
        match &self.objects[obj as usize].body {
            Body::Map(map) => map
                .iter()
                .filter(|(k, g)| self.key_shown(obj, k, g, view))
                .map(|(k, _)| k.to_string())
                .collect(),
            Body::Seq { .. } => Vec::new(),
        }
    }

    pub(crate) fn length(&self, obj: u32, view: View<'_>) -> usize {
        let object = &self.objects[obj as usize];
        match (&object.body, view) {
            // The keys `keys` lists, counted without copying them (2.1 ms for a map of
            // 20,000 keys; automerge 0.37 ms).
            (Body::Map(map), _) => map
                .iter()
                .filter(|(k, g)| self.key_shown(obj, k, g, view))
                .count(),
            (Body::Seq { index, .. }, View::Now) => index.width() as usize,
            (Body::Seq { .. }, View::At(_)) => self
                .seq_items(obj, view)
                .map(|(_, w)| self.value_width(&self.ops[w as usize].value, object.kind) as usize)
                .sum(),
        }
    }

    pub(crate) fn list_values(&self, obj: u32, view: View<'_>) -> Vec<ValueWithId> {
        self.seq_items(obj, view)
            .map(|(_, w)| self.with_id(w, view))
            .collect()
    }

    /// Of a property's ops (ascending by id), the one shown in `view` with the greatest id,
    /// and whether others are shown beside it (a conflict).
    fn winner_of(&self, ops: impl Iterator<Item = u32>, view: View<'_>) -> Option<(u32, bool)> {
        let mut shown = ops.filter(|&o| self.visible(o, view));
        let mut winner = shown.next()?;
        let mut conflict = false;
        for o in shown {
            winner = o;
            conflict = true;
        }
        Some((winner, conflict))
    }

    /// The keys of map `obj` in `range` that show a value in `view`, in order, each with its
    /// winning value; empty for a sequence.
    pub(crate) fn map_range(
        &self,
        obj: u32,
        range: &impl std::ops::RangeBounds<String>,
        view: View<'_>,
    ) -> Vec<MapItem> {
        let Some(Body::Map(map)) = self.objects.get(obj as usize).map(|o| &o.body) else {
            return Vec::new();
        };
        map.iter()
            .filter(|(k, _)| {
                use std::ops::Bound;
                let key: &str = k;
                let after_start = match range.start_bound() {
                    Bound::Included(s) => key >= s.as_str(),
                    Bound::Excluded(s) => key > s.as_str(),
                    Bound::Unbounded => true,
                };
                let before_end = match range.end_bound() {
                    Bound::Included(e) => key <= e.as_str(),
                    Bound::Excluded(e) => key < e.as_str(),
                    Bound::Unbounded => true,
                };
                after_start && before_end
            })
            .filter_map(|(k, g)| {
                let group = self.map_group_in(obj, k, g, view).iter().copied();
                let (winner, conflict) = self.winner_of(group, view)?;
                let ValueWithId { value, id } = self.with_id(winner, view);
                Some(MapItem {
                    key: k.to_string(),
                    value,
                    id,
                    conflict,
                })
            })
            .collect()
    }

    /// The visible elements of sequence `obj` at indexes `range` (each counts one) in
    /// `view`; empty for a map.
    pub(crate) fn list_range(
        &self,
        obj: u32,
        range: std::ops::Range<usize>,
        view: View<'_>,
    ) -> Vec<ListItem> {
        let mut out = Vec::new();
        if range.is_empty() {
            return out;
        }
        let item = |index: usize, elem: u32| -> Option<ListItem> {
            let (winner, conflict) = self.winner_of(self.element_ops_in(obj, elem, view), view)?;
            let ValueWithId { value, id } = self.with_id(winner, view);
            Some(ListItem {
                index,
                value,
                id,
                conflict,
            })
        };
        let Some(object) = self.objects.get(obj as usize) else {
            return out;
        };
        match (&object.body, view) {
            // A list now: each visible element is one unit wide, so the index finds the
            // first element at once.
            (Body::Seq { index: seq, .. }, View::Now) if object.kind == ObjType::List => {
                let mut at = seq.find_unit(range.start as u64).map(|(c, _)| c);
                let mut index = range.start;
                while let Some(c) = at
                    && index < range.end
                {
                    let e = seq.entry(c);
                    if e.width > 0 {
                        out.extend(item(index, e.op));
                        index += 1;
                    }
                    at = seq.next(c);
                }
            }
            (Body::Seq { .. }, _) => {
                for (index, (elem, _)) in self.seq_items(obj, view).enumerate() {
                    if index >= range.end {
                        break;
                    }
                    if index >= range.start {
                        out.extend(item(index, elem));
                    }
                }
            }
            (Body::Map(_), _) => {}
        }
        out
    }

    pub(crate) fn text(&self, obj: u32, view: View<'_>) -> String {
        if let (View::Now, Some(Body::Seq { index, extra })) =
            (view, self.objects.get(obj as usize).map(|o| &o.body))
            && extra.is_empty()
            && let Some(text) = self.text_now(index)
        {
            return text;
        }
        let mut out = String::new();
        for (_, w) in self.seq_items(obj, view) {
            match self.str_of(&self.ops[w as usize].value) {
                Some(s) => out.push_str(s),
                None => out.push('\u{fffc}'),
            }
        }
        out
    }

    /// [`OpSet::text`] now, of a sequence whose elements have no ops but their inserts: the
    /// chunks with no visible element skipped, the strings' bytes gathered and checked as
    /// UTF-8 once (a check per character made the paper document's text take 2.5 ms,
    /// automerge's 2.3). `None` if the bytes are not UTF-8, which no stored string can make
    /// (each was checked where it was decoded); the caller's walk would then write U+FFFC
    /// for each string that is not.
    fn text_now(&self, index: &SeqIndex) -> Option<String> {
        let mut bytes = Vec::with_capacity(index.width() as usize);
        for e in index.visible_entries() {
            let op = &self.ops[e.op as usize];
            if !self.visible(e.op, View::Now) {
                continue;
            }
            match self.str_bytes(&op.value) {
                Some(b) => bytes.extend_from_slice(b),
                None => bytes.extend_from_slice("\u{fffc}".as_bytes()),
            }
        }
        String::from_utf8(bytes).ok()
    }

    /// The value tree of `obj`, or `Err(depth)` if objects nest deeper than
    /// [`MAX_TREE_DEPTH`] below it (building, comparing and dropping a `ValueTree` recurse,
    /// so a document nested 100,000 deep, which loads fine, would overflow the stack).
    pub(crate) fn tree(&self, obj: u32, view: View<'_>) -> Result<ValueTree, usize> {
        self.tree_at(obj, view, 0)
    }

    fn tree_at(&self, obj: u32, view: View<'_>, depth: usize) -> Result<ValueTree, usize> {
        if depth > MAX_TREE_DEPTH {
            return Err(depth);
        }
        let object = &self.objects[obj as usize];
        let value_tree = |o: u32| match self.op_value(o, view) {
            Value::Scalar(s) => Ok(ValueTree::Scalar(s)),
            Value::Object(_, _) => match self.ops[o as usize].value {
                StoredValue::Object(child) => self.tree_at(child.get(), view, depth + 1),
                _ => Ok(ValueTree::Scalar(ScalarValue::Null)),
            },
        };
        Ok(match (&object.body, object.kind) {
            (Body::Map(map), _) => {
                let mut out = BTreeMap::new();
                for (k, g) in map {
                    let g = self.map_group_in(obj, k, g, view);
                    if let Some(&w) = g.iter().rev().find(|&&o| self.visible(o, view)) {
                        out.insert(k.to_string(), value_tree(w)?);
                    }
                }
                ValueTree::Map(out)
            }
            (Body::Seq { .. }, ObjType::Text) => ValueTree::Text(self.text(obj, view)),
            (Body::Seq { .. }, _) => ValueTree::List(
                self.seq_items(obj, view)
                    .map(|(_, w)| value_tree(w))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// How deep objects may nest below the one whose [`ValueTree`] is asked for. A tree is
/// built, compared and dropped by recursion; this bounds the stack all of that needs well
/// inside a 2 MiB thread stack (serde_json's own limit is 128).
pub const MAX_TREE_DEPTH: usize = 1_000;
