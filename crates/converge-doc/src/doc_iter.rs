//! A walk of every object below one ([`Document::iter`], automerge 0.12's `iter` /
//! `iter_at`): each object's contents as its reads report them, and the objects it holds
//! after it, smallest id first.

use std::collections::BTreeMap;

use converge_encoding::ChangeHash;

use crate::doc::{Document, HeadsView};
use crate::error::DocError;
use crate::types::{ExId, ListItem, MapItem, ObjType, Span, Value, ValueWithId};

/// One thing [`Document::iter`] reports: a part of an object's contents and the object.
#[derive(Clone, Debug, PartialEq)]
pub struct DocObjItem {
    /// The object this is part of.
    pub obj: ExId,
    /// What it is.
    pub item: DocItem,
}

/// A part of an object's contents, as the object's own reads report it.
#[derive(Clone, Debug, PartialEq)]
pub enum DocItem {
    /// A key of a map (or table), with its winning value ([`Document::map_range`]).
    Map(MapItem),
    /// An element of a list ([`Document::list_range`]).
    List(ListItem),
    /// A run of equally marked characters of a text, or a block ([`Document::spans`]).
    Text(Span),
}

impl DocObjItem {
    /// The key, for a map's item.
    pub fn key(&self) -> Option<&str> {
        match &self.item {
            DocItem::Map(m) => Some(&m.key),
            DocItem::List(_) | DocItem::Text(_) => None,
        }
    }

    /// The value, for a map's or list's item.
    pub fn value(&self) -> Option<&Value> {
        match &self.item {
            DocItem::Map(m) => Some(&m.value),
            DocItem::List(l) => Some(&l.value),
            DocItem::Text(_) => None,
        }
    }
}

/// The walk [`Document::iter`] returns. Each object's contents are read when the walk
/// reaches the object (one object's items at a time are held), so a walk that stops early
/// reads only what it reported.
pub struct DocIter<'a> {
    doc: &'a Document,
    at: HeadsView,
    /// Objects found (as values shown in the objects walked) and not yet walked, by id:
    /// (counter, actor bytes), the order of op ids. An object's id is greater than its
    /// parent's (the op that made it came after the parent was made), so taking the
    /// smallest each time walks every object in id order, each after its parent.
    queue: BTreeMap<(u32, &'a [u8]), u32>,
    /// The object being walked, and its items not yet reported.
    obj: ExId,
    items: std::vec::IntoIter<DocItem>,
    /// A read that failed (a block nested too deep to make its value tree): reported
    /// once, then the walk ends.
    failed: Option<DocError>,
}

impl std::fmt::Debug for DocIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocIter")
            .field("obj", &self.obj)
            .field("objects_queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl<'a> DocIter<'a> {
    fn new(doc: &'a Document, obj: u32, at: HeadsView) -> Self {
        let mut iter = DocIter {
            doc,
            at,
            queue: BTreeMap::new(),
            obj: ExId::Root,
            items: Vec::new().into_iter(),
            failed: None,
        };
        iter.walk(obj);
        iter
    }

    /// Reads object `o`'s items and queues the objects they show.
    fn walk(&mut self, o: u32) {
        let doc = self.doc;
        let ops = &doc.ops;
        let view = self.at.view();
        let mut found: Vec<u32> = Vec::new();
        let items: Vec<DocItem> = match ops.objects[o as usize].kind {
            ObjType::Map | ObjType::Table => ops
                .map_range(o, &(..), view)
                .into_iter()
                .map(DocItem::Map)
                .collect(),
            ObjType::List => ops
                .list_range(o, 0..usize::MAX, view)
                .into_iter()
                .map(DocItem::List)
                .collect(),
            ObjType::Text => match doc.spans_in(o, view, &mut found) {
                Ok(spans) => spans.into_iter().map(DocItem::Text).collect(),
                Err(e) => {
                    self.failed = Some(e);
                    Vec::new()
                }
            },
        };
        for item in &items {
            let shown = match item {
                DocItem::Map(MapItem { value, .. }) | DocItem::List(ListItem { value, .. }) => {
                    value
                }
                DocItem::Text(_) => continue,
            };
            if let Value::Object(_, id) = shown
                && let Ok(child) = ops.obj_index(id)
            {
                found.push(child);
            }
        }
        for child in found {
            let make = ops.objects[child as usize].make_op;
            let id = ops.ops[make as usize].id;
            let actor = ops.actors[id.actor as usize].as_bytes();
            self.queue.insert((id.counter, actor), child);
        }
        self.obj = ops.obj_id(o);
        self.items = items.into_iter();
    }
}

impl Iterator for DocIter<'_> {
    type Item = Result<DocObjItem, DocError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.failed.take() {
                self.queue.clear();
                return Some(Err(e));
            }
            if let Some(item) = self.items.next() {
                return Some(Ok(DocObjItem {
                    obj: self.obj.clone(),
                    item,
                }));
            }
            let (_, next) = self.queue.pop_first()?;
            self.walk(next);
        }
    }
}

impl Document {
    /// Every object of the document, the root first, and what each holds, as automerge
    /// 0.12's `iter`: see [`Document::iter_at`].
    ///
    /// ```
    /// use converge_doc::{DocItem, Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "title", "notes")?;
    /// let list = doc.put_object(&ROOT, "items", ObjType::List)?;
    /// doc.insert(&list, 0, "milk")?;
    /// let walk: Vec<_> = doc.iter().collect::<Result<_, _>>()?;
    /// assert_eq!(walk.len(), 3); // the root's two keys, then the list's element
    /// assert_eq!(walk[0].key(), Some("items"));
    /// assert_eq!(walk[2].obj, list);
    /// assert!(matches!(walk[2].item, DocItem::List(_)));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn iter(&self) -> DocIter<'_> {
        DocIter::new(self, 0, HeadsView::Now)
    }

    /// Object `obj` and every object below it (now, or as of `heads`), as automerge 0.12's
    /// `iter_at`: the object's items, then those of each object they show, and so on, the
    /// objects in the order of their ids (each after the one that holds it). A map's items
    /// are its keys with their winning values ([`Document::map_range`]), a list's its
    /// elements ([`Document::list_range`]), a text's its spans ([`Document::spans`]; its
    /// blocks are walked as maps). Only winning values are followed: an object that lost
    /// a conflict, or was deleted, is not walked.
    ///
    /// Differences from automerge 0.12: an unknown object or heads are an error (automerge
    /// walks nothing, or reads the document now); a table is walked as a map (automerge
    /// walks it as a list); and an item is a `Result`, for the one read that can fail, the
    /// value tree of a block nested deeper than [`crate::MAX_TREE_DEPTH`] (then the walk
    /// ends).
    pub fn iter_at(
        &self,
        obj: &ExId,
        heads: Option<&[ChangeHash]>,
    ) -> Result<DocIter<'_>, DocError> {
        let at = match heads {
            Some(h) => self.view_at(h)?,
            None => HeadsView::Now,
        };
        let o = self.obj_index(obj)?;
        Ok(DocIter::new(self, o, at))
    }

    /// [`Document::iter_at`], with its error (if any) as the walk's one item.
    pub(crate) fn iter_reporting(&self, obj: &ExId, heads: Option<&[ChangeHash]>) -> DocIter<'_> {
        self.iter_at(obj, heads).unwrap_or_else(|e| DocIter {
            doc: self,
            at: HeadsView::Now,
            queue: BTreeMap::new(),
            obj: ExId::Root,
            items: Vec::new().into_iter(),
            failed: Some(e),
        })
    }

    /// The values an object shows (now), as automerge 0.12's `values`: a map's winning
    /// values in key order, a list's or text's elements in order (a text's characters
    /// one each, and its blocks), each with the id of the op that wrote it.
    ///
    /// automerge 0.12 also reports the anchors of a text's marks, as the strings
    /// `"markBegin"` and `"markEnd"`; converge reports the text's elements only.
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT, Value};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "b", 2)?;
    /// doc.put(&ROOT, "a", 1)?;
    /// let values: Vec<Value> = doc.values(&ROOT)?.into_iter().map(|v| v.value).collect();
    /// assert_eq!(values, [Value::Scalar(1i64.into()), Value::Scalar(2i64.into())]);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn values(&self, obj: &ExId) -> Result<Vec<ValueWithId>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.values_in(o, HeadsView::Now))
    }

    /// [`Document::values`] as of `heads`.
    pub fn values_at(
        &self,
        obj: &ExId,
        heads: &[ChangeHash],
    ) -> Result<Vec<ValueWithId>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.values_in(o, at))
    }

    fn values_in(&self, o: u32, at: HeadsView) -> Vec<ValueWithId> {
        let view = at.view();
        if self.ops.objects[o as usize].kind.is_map() {
            self.ops
                .map_range(o, &(..), view)
                .into_iter()
                .map(|MapItem { value, id, .. }| ValueWithId { value, id })
                .collect()
        } else {
            self.ops.list_values(o, view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExpandMark, ROOT};
    use converge_encoding::ScalarValue;

    #[test]
    fn objects_are_walked_in_id_order_each_after_its_holder() {
        let mut doc = Document::new();
        let a = doc.put_object(&ROOT, "a", ObjType::Map).unwrap();
        let list = doc.put_object(&ROOT, "list", ObjType::List).unwrap();
        let inner = doc.put_object(&a, "inner", ObjType::Map).unwrap();
        doc.put(&inner, "x", 1).unwrap();
        let text = doc.insert_object(&list, 0, ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hello").unwrap();
        doc.mark(
            &text,
            1..3,
            "bold",
            ScalarValue::Bool(true),
            ExpandMark::None,
        )
        .unwrap();
        let block = doc.split_block(&text, 5).unwrap();
        doc.put(&block, "type", "p").unwrap();
        let gone = doc.put_object(&ROOT, "gone", ObjType::Map).unwrap();
        doc.put(&gone, "y", 2).unwrap();
        doc.delete(&ROOT, "gone").unwrap();
        let walk: Vec<DocObjItem> = doc.iter().collect::<Result<_, _>>().unwrap();
        let objs: Vec<&ExId> = walk.iter().map(|i| &i.obj).collect();
        let mut order = objs.clone();
        order.dedup();
        assert_eq!(order, [&ROOT, &a, &list, &inner, &text, &block]);
        assert!(!objs.contains(&&gone));
        let spans = walk.iter().filter(|i| i.obj == text).count();
        assert_eq!(spans, 4, "h, ell (bold), o, the block");
        // From an object down, and at earlier heads.
        let heads = doc.heads();
        doc.put(&inner, "later", 3).unwrap();
        let below_a: Vec<_> = doc.iter_at(&a, Some(&heads)).unwrap().collect();
        assert_eq!(below_a.len(), 2, "a's key, inner's x (not later)");
        // A deleted object is still there to walk from.
        let below_gone: Vec<_> = doc.iter_at(&gone, None).unwrap().collect();
        assert_eq!(below_gone.len(), 1);
    }

    #[test]
    fn an_autocommit_walks_its_pending_edits_and_its_isolation() {
        let mut doc = crate::AutoCommit::new();
        doc.put(&ROOT, "a", 1).unwrap();
        let heads = doc.heads();
        doc.put(&ROOT, "b", 2).unwrap();
        let keys = |doc: &crate::AutoCommit| -> Vec<String> {
            doc.iter()
                .map(|i| i.unwrap().key().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(keys(&doc), ["a", "b"], "pending edits are walked");
        assert_eq!(doc.base_heads(), heads, "b is not committed yet");
        doc.isolate(&heads).unwrap();
        assert_eq!(keys(&doc), ["a"]);
        assert_eq!(doc.values(&ROOT).unwrap().len(), 1);
        doc.put(&ROOT, "c", 3).unwrap();
        assert_eq!(keys(&doc), ["a", "c"], "the isolated view, with its edit");
        assert_eq!(doc.base_heads(), heads);
        doc.integrate().unwrap();
        assert_eq!(keys(&doc), ["a", "b", "c"]);
    }

    #[test]
    fn values_are_the_winners_and_elements() {
        let mut doc = Document::new();
        doc.put(&ROOT, "c", ScalarValue::Counter(5)).unwrap();
        doc.increment(&ROOT, "c", 3).unwrap();
        let text = doc.put_object(&ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "ab").unwrap();
        doc.mark(&text, 0..1, "b", ScalarValue::Bool(true), ExpandMark::None)
            .unwrap();
        let heads = doc.heads();
        doc.put(&ROOT, "d", 1).unwrap();
        let root = doc.values(&ROOT).unwrap();
        assert_eq!(root.len(), 3);
        assert_eq!(root[0].value, Value::Scalar(ScalarValue::Counter(8)));
        assert_eq!(doc.values_at(&ROOT, &heads).unwrap().len(), 2);
        let chars: Vec<Value> = doc
            .values(&text)
            .unwrap()
            .into_iter()
            .map(|v| v.value)
            .collect();
        assert_eq!(
            chars,
            [
                Value::Scalar(ScalarValue::Str("a".into())),
                Value::Scalar(ScalarValue::Str("b".into()))
            ]
        );
    }
}
