//! Where an object sits: the objects and properties from it up to the root, as automerge
//! 0.12's `parents` and `path_to_object`.

use converge_encoding::ChangeHash;

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{NONE, View};
use crate::types::{ExId, Parent, Prop};

impl Document {
    /// The objects that hold `obj`, from its own holder up to the root's child (empty for
    /// the root), each with the property that holds the one before and whether it shows
    /// it now (a deleted object, or the loser of a conflict, is still reported, with
    /// `visible: false`).
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, Prop, ROOT};
    /// let mut doc = Document::new();
    /// let list = doc.put_object(&ROOT, "todo", ObjType::List)?;
    /// let item = doc.insert_object(&list, 0, ObjType::Map)?;
    /// let path: Vec<Prop> = doc.path_to_object(&item)?.into_iter().map(|(_, p)| p).collect();
    /// assert_eq!(path, [Prop::from("todo"), Prop::Seq(0)]);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn parents(&self, obj: &ExId) -> Result<Vec<Parent>, DocError> {
        self.parents_in(obj, View::Now)
    }

    /// [`Document::parents`] as of `heads` (an object they do not have yet is reported where
    /// it will be, not visible, as automerge 0.12 reports it). A holder's visibility is what
    /// [`Document::get_all_at`] shows there; automerge 0.12 sometimes reports an object
    /// hidden that its own `get_all_at` shows, and panics where it finds no element, so
    /// this read is not compared with it (`parents` is).
    pub fn parents_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<Parent>, DocError> {
        let at = self.view_at(heads)?;
        self.parents_in(obj, at.view())
    }

    /// The path from the root to `obj`: each holding object with the property that holds the
    /// next (the reverse of [`Document::parents`]).
    pub fn path_to_object(&self, obj: &ExId) -> Result<Vec<(ExId, Prop)>, DocError> {
        let mut path: Vec<(ExId, Prop)> = self
            .parents(obj)?
            .into_iter()
            .map(|p| (p.obj, p.prop))
            .collect();
        path.reverse();
        Ok(path)
    }

    fn parents_in(&self, obj: &ExId, view: View<'_>) -> Result<Vec<Parent>, DocError> {
        let ops = &self.ops;
        let not_found = || DocError::ObjectNotFound { obj: obj.clone() };
        let mut o = self.obj_index(obj)?;
        let mut out = Vec::new();
        loop {
            let make = ops.objects.get(o as usize).ok_or_else(not_found)?.make_op;
            if make == NONE {
                return Ok(out);
            }
            let op = &ops.ops[make as usize];
            let parent = op.obj;
            let kind = ops.objects[parent as usize].kind;
            let (prop, visible) = if kind.is_sequence() {
                let elem = if op.insert() { make } else { op.key };
                let index = self.index_of_op(parent, make, view).ok_or_else(not_found)?;
                (
                    Prop::Seq(index),
                    self.ops.element_winner(parent, elem, view) == Some(make),
                )
            } else {
                let key = Prop::Map(ops.keys[op.key as usize].to_string());
                let shown = ops.prop_ops(parent, &key, view)?;
                let visible = shown.last() == Some(&make);
                (key, visible)
            };
            out.push(Parent {
                obj: ops.obj_id(parent),
                kind,
                prop,
                visible,
            });
            o = parent;
        }
    }
}
