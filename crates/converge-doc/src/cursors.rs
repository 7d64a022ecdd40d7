//! Cursors: positions in a list or text that follow their element as others edit around it,
//! as automerge 0.12's `get_cursor` / `get_cursor_position` (a [`Cursor`] names the op that
//! the element shows when the cursor is made).

use converge_encoding::{Action, ChangeHash, Cursor, CursorMove, OpId};

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, HEAD, View};
use crate::types::{ExId, ObjType};

/// Where [`Document::get_cursor`] puts a cursor: the start, the end, or the element at an
/// index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorPosition {
    /// Always position 0.
    Start,
    /// Always the sequence's length.
    End,
    /// The element at this index (in the text encoding's units for a text).
    Index(usize),
}

impl From<usize> for CursorPosition {
    fn from(index: usize) -> Self {
        CursorPosition::Index(index)
    }
}

impl Document {
    /// A cursor at `position` of list or text `obj` (now, or as of `heads`), which moves
    /// after its element if that is deleted ([`CursorMove::After`]).
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "world")?;
    /// let cursor = doc.get_cursor(&text, 1, None)?; // at the "o"
    /// doc.splice_text(&text, 0, 0, "hello ")?;
    /// assert_eq!(doc.get_cursor_position(&text, &cursor, None)?, 7);
    /// let kept = cursor.to_string().parse().expect("a cursor's text reads back");
    /// assert_eq!(doc.get_cursor_position(&text, &kept, None)?, 7);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn get_cursor(
        &self,
        obj: &ExId,
        position: impl Into<CursorPosition>,
        heads: Option<&[ChangeHash]>,
    ) -> Result<Cursor, DocError> {
        self.get_cursor_moving(obj, position, heads, CursorMove::After)
    }

    /// [`Document::get_cursor`], saying where the cursor goes if its element is deleted.
    ///
    /// The element at an index is the one holding that unit: an index inside a multi-unit
    /// character (UTF-16 or UTF-8 text) names that character.
    pub fn get_cursor_moving(
        &self,
        obj: &ExId,
        position: impl Into<CursorPosition>,
        heads: Option<&[ChangeHash]>,
        moves: CursorMove,
    ) -> Result<Cursor, DocError> {
        let at = heads.map(|h| self.view_at(h)).transpose()?;
        let view = at.as_ref().map_or(View::Now, |a| a.view());
        let o = self.sequence(obj)?;
        let index = match position.into() {
            CursorPosition::Start => return Ok(Cursor::Start),
            CursorPosition::End => return Ok(Cursor::End),
            CursorPosition::Index(i) => i,
        };
        let ops = &self.ops;
        let elem = ops
            .element_at(o, index, view)
            .ok_or_else(|| DocError::IndexOutOfBounds {
                index,
                length: ops.length(o, view),
            })?;
        // The element's winning op (the one with the greatest id shown there).
        let winner = ops
            .element_winner(o, elem, view)
            .ok_or(DocError::IndexOutOfBounds {
                index,
                length: ops.length(o, view),
            })?;
        let id = ops.ops[winner as usize].id;
        Ok(Cursor::Op {
            counter: u64::from(id.counter),
            actor: ops.actors[id.actor as usize].clone(),
            moves,
        })
    }

    /// Where `cursor` is in list or text `obj` now (or as of `heads`): the index of its
    /// element while that shows the cursor's op; once the op is gone (deleted, or
    /// overwritten), the index of the next element that was there when the cursor was made
    /// ([`CursorMove::After`], the length if none) or of the previous one
    /// ([`CursorMove::Before`], 0 if none), as automerge 0.12 resolves it.
    pub fn get_cursor_position(
        &self,
        obj: &ExId,
        cursor: &Cursor,
        heads: Option<&[ChangeHash]>,
    ) -> Result<usize, DocError> {
        let at = heads.map(|h| self.view_at(h)).transpose()?;
        self.cursor_position_in(obj, cursor, at.as_ref().map_or(View::Now, |a| a.view()))
    }

    /// [`Document::get_cursor_position`] through a clock that covers every op, pending ones
    /// included: the way automerge 0.12 reads an isolated document (`AutoCommit::isolate`),
    /// whose view holds what its clock covers.
    pub(crate) fn cursor_position_scoped(
        &self,
        obj: &ExId,
        cursor: &Cursor,
    ) -> Result<usize, DocError> {
        let all = crate::opset::Clock(vec![u32::MAX; self.ops.actors.len()]);
        self.cursor_position_in(obj, cursor, View::At(&all))
    }

    fn cursor_position_in(
        &self,
        obj: &ExId,
        cursor: &Cursor,
        view: View<'_>,
    ) -> Result<usize, DocError> {
        let o = self.sequence(obj)?;
        let ops = &self.ops;
        let (counter, actor, moves) = match cursor {
            Cursor::Start => return Ok(0),
            Cursor::End => return Ok(ops.length(o, view)),
            Cursor::Op {
                counter,
                actor,
                moves,
            } => (*counter, actor, *moves),
        };
        let invalid = || DocError::InvalidCursor {
            obj: obj.clone(),
            cursor: cursor.clone(),
        };
        let actor = ops.actor_index(actor).ok_or_else(invalid)?;
        let id = OpId::new(u32::try_from(counter).map_err(|_| invalid())?, actor);
        if let View::At(clock) = view
            && !clock.covers(id)
        {
            return Err(invalid());
        }
        let idx = ops.find_op(id).ok_or_else(invalid)?;
        let op = &ops.ops[idx as usize];
        if op.obj != o {
            return Err(invalid());
        }
        // The element: the op's own for an insert, the one it acts on otherwise.
        let elem = if op.insert() { idx } else { op.key };
        // As of heads, automerge 0.12 finds an element by walking to the first element
        // shown at or after it, and finds none past the last one shown; now, it reads the
        // index straight from its index.
        let index = self.index_of_op(o, idx, view).ok_or_else(invalid)?;
        if matches!(view, View::At(_)) && !self.shown_from(o, elem, view) {
            return Err(invalid());
        }
        // Whether an op "shows" where automerge 0.12 asks: now, it reads its index, where
        // an op shows if it is its element's winner (a conflict's loser does not) or a
        // mark's anchor; as of heads, it walks the elements, where every op shown counts.
        let shows = |x: u32| match view {
            View::Now => {
                let op = &ops.ops[x as usize];
                let elem = if op.insert() { x } else { op.key };
                op.action() == Action::Mark || self.ops.element_winner(o, elem, view) == Some(x)
            }
            View::At(_) => ops.visible(x, view),
        };
        if moves == CursorMove::After || index == 0 || shows(idx) {
            return Ok(index);
        }
        // Back through the elements each was inserted after, to one whose insert op shows
        // (the key of an op that is not an insert is its own element: it comes first).
        let mut key = op.key;
        while key != HEAD {
            let Some(found) = ops.ops.get(key as usize) else {
                break;
            };
            if matches!(view, View::At(_)) && !self.shown_from(o, key, view) {
                break;
            }
            if shows(key) {
                return self.units_before(o, key, view).ok_or_else(invalid);
            }
            key = found.key;
        }
        Ok(0)
    }

    /// Whether an element of sequence `o` at or after element `elem` shows in `view`.
    fn shown_from(&self, o: u32, elem: u32, view: View<'_>) -> bool {
        let ops = &self.ops;
        let Some(Body::Seq { index: seq, .. }) = ops.objects.get(o as usize).map(|x| &x.body)
        else {
            return false;
        };
        seq.iter()
            .skip_while(|e| e.op != elem)
            .any(|e| self.ops.element_winner(o, e.op, view).is_some())
    }

    /// The index of list or text `obj`, or the error for any other object.
    fn sequence(&self, obj: &ExId) -> Result<u32, DocError> {
        let o = self.obj_index(obj)?;
        DocError::expect_sequence(obj, self.ops.objects[o as usize].kind)?;
        Ok(o)
    }

    /// The index automerge 0.12 gives op `idx` of sequence `o` (an element's insert op, or
    /// an op on an element): the units before its element, and now also the element's own
    /// when the op the element shows comes before `idx` among the element's ops (by id, the
    /// insert op first), as its index counts shown ops up to the op's place; as of heads it
    /// walks the elements and gives the units before the element.
    pub(crate) fn index_of_op(&self, o: u32, idx: u32, view: View<'_>) -> Option<usize> {
        let ops = &self.ops;
        let op = ops.ops.get(idx as usize)?;
        let elem = if op.insert() { idx } else { op.key };
        let before = self.units_before(o, elem, view)?;
        if op.insert() || !matches!(view, View::Now) {
            return Some(before);
        }
        let kind = ops.objects.get(o as usize)?.kind;
        Some(match self.ops.element_winner(o, elem, view) {
            Some(w)
                if w != idx
                    && (w == elem
                        || ops.cmp_id(ops.ops[w as usize].id, op.id)
                            == std::cmp::Ordering::Less) =>
            {
                before + ops.value_width(&ops.ops[w as usize].value, kind) as usize
            }
            _ => before,
        })
    }

    /// The visible units of sequence `o` before element `elem` in `view`.
    pub(crate) fn units_before(&self, o: u32, elem: u32, view: View<'_>) -> Option<usize> {
        let ops = &self.ops;
        let object = ops.objects.get(o as usize)?;
        let Body::Seq { index: seq, .. } = &object.body else {
            return None;
        };
        if let View::Now = view {
            let at = seq.locate(elem, &ops.ops)?;
            return Some(seq.units_before(at) as usize);
        }
        let kind: ObjType = object.kind;
        let mut units = 0usize;
        for e in seq.iter() {
            if e.op == elem {
                return Some(units);
            }
            if let Some(w) = self.ops.element_winner(o, e.op, view) {
                units += ops.value_width(&ops.ops[w as usize].value, kind) as usize;
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use crate::types::ROOT;

    fn text(s: &str) -> (Document, ExId) {
        let mut doc = Document::new();
        let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, s).unwrap();
        (doc, text)
    }

    #[test]
    fn a_deleted_element_sends_its_cursors_before_or_after_it() {
        let (mut doc, text) = text("abcde");
        let after = doc.get_cursor(&text, 2, None).unwrap();
        let before = doc
            .get_cursor_moving(&text, 2, None, CursorMove::Before)
            .unwrap();
        doc.splice_text(&text, 1, 3, "").unwrap(); // "ae": at the "e", or at the "a"
        assert_eq!(doc.get_cursor_position(&text, &after, None).unwrap(), 1);
        assert_eq!(doc.get_cursor_position(&text, &before, None).unwrap(), 0);
        doc.splice_text(&text, 0, 1, "").unwrap(); // "e"
        assert_eq!(doc.get_cursor_position(&text, &after, None).unwrap(), 0);
        assert_eq!(doc.get_cursor_position(&text, &before, None).unwrap(), 0);
        assert_eq!(
            doc.get_cursor_position(&text, &Cursor::End, None).unwrap(),
            1
        );
    }

    #[test]
    fn cursors_read_at_heads() {
        let (mut doc, text) = text("abc");
        let heads = doc.heads();
        let c = doc.get_cursor(&text, 2, None).unwrap();
        doc.splice_text(&text, 0, 0, "xy").unwrap();
        assert_eq!(doc.get_cursor_position(&text, &c, None).unwrap(), 4);
        assert_eq!(doc.get_cursor_position(&text, &c, Some(&heads)).unwrap(), 2);
        // A cursor on an element the heads do not have names nothing there.
        let new = doc.get_cursor(&text, 0, None).unwrap();
        assert!(matches!(
            doc.get_cursor_position(&text, &new, Some(&heads)),
            Err(DocError::InvalidCursor { .. })
        ));
    }

    #[test]
    fn cursors_belong_to_their_sequence() {
        let (mut doc, text) = text("abc");
        let list = doc.put_object(&ROOT, "list", ObjType::List).unwrap();
        doc.insert(&list, 0, 1i64).unwrap();
        let c = doc.get_cursor(&text, 0, None).unwrap();
        assert!(matches!(
            doc.get_cursor_position(&list, &c, None),
            Err(DocError::InvalidCursor { .. })
        ));
        assert!(matches!(
            doc.get_cursor(&ROOT, 0, None),
            Err(DocError::WrongObjectType { .. })
        ));
        assert!(matches!(
            doc.get_cursor(&text, 3, None),
            Err(DocError::IndexOutOfBounds { .. })
        ));
        assert_eq!(
            doc.get_cursor(&text, CursorPosition::End, None).unwrap(),
            Cursor::End
        );
    }
}
