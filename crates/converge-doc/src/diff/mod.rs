//! Patches: what changed between two points of a document's history, reported as automerge
//! 0.12's `diff` reports it, so that a view kept in step with automerge's patches can be kept
//! in step with converge's.
//!
//! How a diff is made: the objects reached from the start (the root, or the object asked
//! for) are walked in id order, reading each op as shown "before" and "after" (two views:
//! op clocks, or the document now). Ops shown in either are compared per property (a map
//! key, a sequence element) and give at most one event each (a put, an insert, a delete, an
//! increment, a new conflict); a text gives runs of inserted, deleted and re-marked
//! characters. Objects shown after are walked in turn. Only what the changes between the two
//! views touch is read where that gives the same events (`Document::touched_objects`,
//! `walk.rs`): any other property shows alike in both and gives none. The events then
//! become patches (`builder.rs`): each gets the path of its object after, neighbouring
//! inserts, splices and deletions are joined, and an object that shows after where it was
//! hidden before (a conflict's loser that now wins) is reported whole.

mod builder;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use converge_encoding::{Action, ChangeHash, OpId, ScalarValue};

use crate::doc::Document;
use crate::error::DocError;
use crate::types::{ExId, Mark, Prop, ValueWithId};

use builder::Builder;
use walk::Differ;

/// One change to a document's state, on one object: what [`Document::diff`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    /// The object changed.
    pub obj: ExId,
    /// Where it sits: each object from the root down to it with the property holding the
    /// next (as [`Document::path_to_object`] reads it, after the change).
    pub path: Vec<(ExId, Prop)>,
    /// What changed.
    pub action: PatchAction,
}

/// What a [`Patch`] changes. Sequence indexes count the elements (texts: the document's text
/// units) as they are once the patches before have been applied.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PatchAction {
    /// A map key took a (new) value; `conflict` when other values are concurrent with it.
    PutMap {
        /// The key.
        key: String,
        /// The winning value and the op that wrote it.
        value: ValueWithId,
        /// Whether the key has concurrent values (read them with `get_all`).
        conflict: bool,
    },
    /// A sequence element took a (new) value.
    PutSeq {
        /// The element's index.
        index: usize,
        /// The winning value and the op that wrote it.
        value: ValueWithId,
        /// Whether the element has concurrent values.
        conflict: bool,
    },
    /// Elements inserted into a list, in order from `index`, each with its conflict flag.
    Insert {
        /// Where the first goes.
        index: usize,
        /// The values (and the ops that wrote them), each with whether it is in conflict.
        values: Vec<(ValueWithId, bool)>,
    },
    /// Characters inserted into a text.
    SpliceText {
        /// Where they go, in text units.
        index: usize,
        /// The characters.
        value: String,
        /// The marks on them (none: `None`).
        marks: Option<BTreeMap<String, ScalarValue>>,
    },
    /// A counter was incremented (or decremented) by `value` in all.
    Increment {
        /// Where the counter is.
        prop: Prop,
        /// The sum of the increments.
        value: i64,
    },
    /// A property's value is now in conflict with a concurrent one.
    Conflict {
        /// The property.
        prop: Prop,
    },
    /// A map key was deleted.
    DeleteMap {
        /// The key.
        key: String,
    },
    /// Elements (text units, in a text) were deleted.
    DeleteSeq {
        /// The first one's index.
        index: usize,
        /// How many.
        length: usize,
    },
    /// Marks changed on a text: a null value where a mark was removed.
    Mark {
        /// The ranges and their new values, by name.
        marks: Vec<Mark>,
    },
}

/// How one op compares between the two views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Diff {
    /// Shown in both.
    Same,
    /// Shown after only.
    Add,
    /// Shown before only.
    Del,
}

impl Diff {
    fn of(before: bool, after: bool) -> Option<Diff> {
        match (before, after) {
            (true, true) => Some(Diff::Same),
            (false, true) => Some(Diff::Add),
            (true, false) => Some(Diff::Del),
            (false, false) => None,
        }
    }

    fn shown(self) -> bool {
        self != Diff::Del
    }
}

/// Marks by name (a null value: removed).
type MarkSet = BTreeMap<String, ScalarValue>;

/// What a diff of one property or text run records, before it becomes patches.
#[derive(Debug)]
enum Event {
    PutMap {
        key: String,
        value: ValueWithId,
        conflict: bool,
    },
    PutSeq {
        index: usize,
        value: ValueWithId,
        conflict: bool,
    },
    Insert {
        index: usize,
        value: ValueWithId,
        conflict: bool,
    },
    DeleteMap {
        key: String,
    },
    DeleteSeq {
        index: usize,
        num: usize,
    },
    Splice {
        index: usize,
        text: String,
        marks: Option<MarkSet>,
    },
    IncrementMap {
        key: String,
        n: i64,
    },
    IncrementSeq {
        index: usize,
        n: i64,
    },
    ConflictMap {
        key: String,
    },
    ConflictSeq {
        index: usize,
    },
    /// Ranges of changed marks, by name, each name's ranges in order.
    Mark(BTreeMap<String, Vec<(usize, usize, ScalarValue)>>),
}

/// The outcome of one property: the op reported and how.
struct Item {
    diff: Diff,
    op: u32,
    inc: i64,
    conflict: bool,
    expose: bool,
    /// Lists: a put on an element that was there (not an insert).
    update: bool,
    index: usize,
}

impl Item {
    fn new(diff: Diff, op: u32, inc: i64, conflict: bool, expose: bool) -> Item {
        let diff = if expose && diff == Diff::Same {
            Diff::Add
        } else {
            diff
        };
        Item {
            diff,
            op,
            inc,
            conflict,
            expose,
            update: false,
            index: 0,
        }
    }

    /// The op is reported again (a value it hid went away): put, exposing an object.
    fn reshow(&mut self, expose: bool) {
        self.expose |= expose;
        if self.expose && self.diff == Diff::Same {
            self.diff = Diff::Add;
        }
    }
}

/// What changed in a touched object: some keys, some elements (insert ops), or anything
/// (its marks: a mark's range spans elements no op of it names; or ops that could not be
/// placed).
#[derive(Debug)]
enum Touch {
    All,
    Keys(BTreeSet<String>),
    Elems(Vec<u32>),
}

/// What [`Differ::reached`] looks at.
struct Reach<'r> {
    start: u32,
    recursive: bool,
    touched: &'r HashMap<u32, Touch>,
    walked: &'r HashSet<u32>,
    went_to: &'r HashSet<u32>,
    memo: &'r mut HashMap<u32, bool>,
}

impl Document {
    /// What changed from `before` to `after` (two sets of heads, in either order: a diff
    /// back in history undoes), as patches that take a view of the document at `before` to
    /// its state at `after`: automerge 0.12's `diff`, patch for patch, but where its patches
    /// would take a view elsewhere. automerge 0.12 gathers inserted text into one splice
    /// while the marks' *changes* read the same, so text typed inside a mark that existed
    /// before (or next to text marked alike) can be reported without its marks; converge
    /// starts a new splice where the marks differ. And for a list element it reports the
    /// last value shown before a deleted one even when a greater one shows after; converge
    /// reports the winner, as for a map key ([`Document::diff_as_automerge`] keeps
    /// automerge's patches, for comparing with it).
    /// The whole document is compared; see [`Document::diff_obj`] for one object.
    ///
    /// ```
    /// use converge_doc::{Document, PatchAction, ROOT};
    /// let mut doc = Document::new();
    /// let before = doc.heads();
    /// doc.put(&ROOT, "title", "notes")?;
    /// let patches = doc.diff(&before, &doc.heads())?;
    /// assert!(matches!(&patches[0].action, PatchAction::PutMap { key, .. } if key == "title"));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn diff(
        &self,
        before: &[ChangeHash],
        after: &[ChangeHash],
    ) -> Result<Vec<Patch>, DocError> {
        self.diff_from(0, before, after, true, false)
    }

    /// [`Document::apply_changes`], and the patches that take a view of the document from
    /// before to after (its [`Document::diff`] between the heads before and after): automerge
    /// 0.12's `apply_changes_log_patches`.
    ///
    /// ```
    /// use converge_doc::{Document, PatchAction, ROOT};
    /// let mut doc = Document::new();
    /// let mut peer = doc.fork();
    /// peer.put(&ROOT, "title", "notes")?;
    /// let patches = doc.apply_changes_with_patches(peer.get_changes(&[]))?;
    /// assert!(matches!(&patches[0].action, PatchAction::PutMap { key, .. } if key == "title"));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    #[doc(alias = "apply_changes_log_patches")]
    pub fn apply_changes_with_patches(
        &mut self,
        changes: impl IntoIterator<Item = converge_encoding::Change>,
    ) -> Result<Vec<Patch>, DocError> {
        let before = self.heads();
        self.apply_changes(changes)?;
        self.patches_since(&before)
    }

    /// [`Document::merge`], and the patches it made (automerge 0.12's
    /// `merge_and_log_patches`); see [`Document::apply_changes_with_patches`].
    #[doc(alias = "merge_and_log_patches")]
    pub fn merge_with_patches(&mut self, other: &Document) -> Result<Vec<Patch>, DocError> {
        let before = self.heads();
        self.merge(other)?;
        self.patches_since(&before)
    }

    /// [`Document::load_incremental`], and the patches it made (automerge 0.12's
    /// `load_incremental_log_patches`); see [`Document::apply_changes_with_patches`].
    #[doc(alias = "load_incremental_log_patches")]
    pub fn load_incremental_with_patches(&mut self, bytes: &[u8]) -> Result<Vec<Patch>, DocError> {
        let before = self.heads();
        self.load_incremental(bytes)?;
        self.patches_since(&before)
    }

    /// The diff from `before` (heads this document had) to now.
    fn patches_since(&self, before: &[ChangeHash]) -> Result<Vec<Patch>, DocError> {
        let after = self.heads();
        if after.as_slice() == before {
            return Ok(Vec::new());
        }
        self.diff(before, &after)
    }

    /// The patches that build the document's current state from an empty one: automerge
    /// 0.12's `current_state`, which is [`Document::diff`] from no heads to the current ones.
    ///
    /// ```
    /// use converge_doc::{Document, PatchAction, ROOT};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "title", "notes")?;
    /// let patches = doc.current_state();
    /// assert!(matches!(&patches[0].action, PatchAction::PutMap { key, .. } if key == "title"));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn current_state(&self) -> Vec<Patch> {
        // A diff fails only for unknown heads, and these are the document's.
        self.diff(&[], &self.heads()).unwrap_or_default()
    }

    /// [`Document::diff`] of object `obj`, and of the objects in it when `recursive`.
    pub fn diff_obj(
        &self,
        obj: &ExId,
        before: &[ChangeHash],
        after: &[ChangeHash],
        recursive: bool,
    ) -> Result<Vec<Patch>, DocError> {
        let o = self.obj_index(obj)?;
        self.diff_from(o, before, after, recursive, false)
    }

    /// The objects the ops of the changes between `before` and `after` (in one's history
    /// and not the other's) are in, when they are few (`None`: read every object; a diff
    /// over much of the history reads everything anyway). Those changes are each actor's
    /// whose op counters lie between the two clocks' counters for it.
    fn touched_objects(
        &self,
        before: &[ChangeHash],
        after: &[ChangeHash],
    ) -> Result<Option<HashMap<u32, Touch>>, DocError> {
        let (b, a) = (self.clock_at(before)?, self.clock_at(after)?);
        let history = &self.history;
        // Past this many ops in those changes, a walk of everything is cheaper.
        let budget = (self.ops.ops.len() / 16).max(64);
        let mut spent = 0usize;
        let mut changes = Vec::new();
        for actor in 0..self.ops.actors.len() as u32 {
            let x = b.0.get(actor as usize).copied().unwrap_or(0);
            let y = a.0.get(actor as usize).copied().unwrap_or(0);
            let (lo, hi) = (u64::from(x.min(y)), u64::from(x.max(y)));
            if lo == hi {
                continue;
            }
            let mut seq = history.actor_seq(actor);
            while let Some(i) = history.change_at_seq(actor, seq) {
                seq -= 1;
                let (first, last) = history.op_range(i);
                if last <= lo {
                    break;
                }
                if first > hi {
                    continue;
                }
                spent += (last + 1).saturating_sub(first) as usize;
                if spent > budget {
                    return Ok(None);
                }
                changes.push(i);
            }
        }
        let mut touched: HashMap<u32, Touch> = HashMap::new();
        let ops = &self.ops;
        for i in changes {
            let Some(change) = history.change(i) else {
                return Ok(None);
            };
            // The doc's index of a change-local actor.
            let actor_of = |local: u32| change.actor_for(local).and_then(|a| ops.actor_index(a));
            let Some(author) = actor_of(0) else {
                return Ok(None);
            };
            // The ops of a change are mostly in one object: resolved once.
            let mut last: Option<(converge_encoding::ObjId, u32)> = None;
            for (k, op) in change.ops().enumerate() {
                let o = match (op.obj, last) {
                    (converge_encoding::ObjId::Root, _) => 0,
                    (obj, Some((prev, o))) if obj == prev => o,
                    (obj @ converge_encoding::ObjId::Op(id), _) => {
                        let found = actor_of(id.actor)
                            .and_then(|a| ops.find_op(OpId::new(id.counter, a)))
                            .and_then(|x| match ops.ops[x as usize].value {
                                crate::opset::StoredValue::Object(o) => Some(o.get()),
                                _ => None,
                            });
                        let Some(o) = found else {
                            return Ok(None);
                        };
                        last = Some((obj, o));
                        o
                    }
                };
                // The key or element the op is on.
                let elem = match &op.key {
                    converge_encoding::Key::Map(name) => {
                        match touched
                            .entry(o)
                            .or_insert_with(|| Touch::Keys(BTreeSet::new()))
                        {
                            Touch::Keys(keys) => {
                                keys.insert(name.clone());
                            }
                            t => *t = Touch::All,
                        }
                        continue;
                    }
                    _ if op.action == Action::Mark => None,
                    _ if op.insert => u32::try_from(change.start_op() + k as u64)
                        .ok()
                        .and_then(|counter| ops.find_op(OpId::new(counter, author))),
                    converge_encoding::Key::Seq(converge_encoding::ElemId::Op(id)) => {
                        actor_of(id.actor).and_then(|a| ops.find_op(OpId::new(id.counter, a)))
                    }
                    converge_encoding::Key::Seq(converge_encoding::ElemId::Head) => None,
                };
                let entry = touched.entry(o).or_insert_with(|| Touch::Elems(Vec::new()));
                match (entry, elem) {
                    (Touch::Elems(elems), Some(e)) => elems.push(e),
                    (t, _) => *t = Touch::All,
                }
            }
        }
        Ok(Some(touched))
    }

    /// [`Document::diff_obj`] with automerge 0.12's patches exactly, also where they do not
    /// take a view to the state after (see [`Document::diff`]): for comparing with automerge
    /// (converge-interop's tests do), not for keeping a view.
    pub fn diff_as_automerge(
        &self,
        obj: &ExId,
        before: &[ChangeHash],
        after: &[ChangeHash],
        recursive: bool,
    ) -> Result<Vec<Patch>, DocError> {
        let o = self.obj_index(obj)?;
        self.diff_from(o, before, after, recursive, true)
    }

    fn diff_from(
        &self,
        start: u32,
        before: &[ChangeHash],
        after: &[ChangeHash],
        recursive: bool,
        quirks: bool,
    ) -> Result<Vec<Patch>, DocError> {
        // The document now where heads are the current ones (reads it keeps indexes for).
        let before_view = self.view_at(before)?;
        let after_view = self.view_at(after)?;
        let ops = &self.ops;
        let mut differ = Differ {
            ops,
            before: Some(before_view.view()),
            after: after_view.view(),
            events: Vec::new(),
            expose: BTreeSet::new(),
            quirks,
        };
        let touched = self.touched_objects(before, after)?;
        differ.walk(start, recursive, touched.as_ref());
        let Differ {
            mut events,
            expose: mut queue,
            ..
        } = differ;
        // Objects' events in id order (the walk made them in it; stable).
        events.sort_by_cached_key(|(o, _)| ops.obj_id(*o));
        let mut builder = Builder::new(ops, after_view.view());
        for (o, event) in events {
            let id = ops.obj_id(o);
            while let Some(first) = queue.first().cloned() {
                if first >= id {
                    break;
                }
                queue.pop_first();
                if let Ok(x) = ops.obj_index(&first) {
                    builder.flush_object(x, &mut queue);
                }
            }
            if queue.first() == Some(&id) {
                continue;
            }
            builder.event(o, event);
        }
        while let Some(first) = queue.pop_first() {
            if let Ok(x) = ops.obj_index(&first) {
                builder.flush_object(x, &mut queue);
            }
        }
        Ok(builder.patches)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed edit is a broken test
mod tests {
    use super::*;
    use crate::types::{ExpandMark, ROOT};
    use crate::types::{ObjType, Value};
    use converge_encoding::ActorId;

    fn actions(patches: &[Patch]) -> Vec<&PatchAction> {
        patches.iter().map(|p| &p.action).collect()
    }

    fn scalar(v: &ValueWithId) -> &ScalarValue {
        match &v.value {
            Value::Scalar(s) => s,
            Value::Object(..) => panic!("an object"),
        }
    }

    #[test]
    fn puts_and_deletes_of_map_keys() {
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1]));
        doc.put(&ROOT, "a", 1).unwrap();
        let one = doc.heads();
        doc.put(&ROOT, "a", 2).unwrap();
        doc.put(&ROOT, "b", "x").unwrap();
        doc.delete(&ROOT, "a").unwrap();
        let now = doc.heads();
        let forward = doc.diff(&one, &now).unwrap();
        assert_eq!(
            actions(&forward),
            [
                &PatchAction::DeleteMap { key: "a".into() },
                &PatchAction::PutMap {
                    key: "b".into(),
                    value: doc.get(&ROOT, "b").unwrap().unwrap(),
                    conflict: false
                }
            ]
        );
        // Back in history: "a" shows again, "b" goes.
        let back = doc.diff(&now, &one).unwrap();
        assert!(
            matches!(back[0].action, PatchAction::PutMap { ref key, ref value, .. } if key == "a" && *scalar(value) == ScalarValue::Int(1))
        );
        assert_eq!(back[1].action, PatchAction::DeleteMap { key: "b".into() });
        assert!(doc.diff(&now, &now).unwrap().is_empty());
    }

    #[test]
    fn a_conflict_appears_and_the_loser_shows_whole_when_the_winner_goes() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1]));
        let mut b = Document::with_actor(ActorId::from_bytes(&[2]));
        let list = a.put_object(&ROOT, "x", ObjType::List).unwrap();
        a.insert(&list, 0, "kept").unwrap();
        b.put(&ROOT, "x", "scalar").unwrap();
        let start = a.heads();
        a.merge(&b).unwrap();
        let merged = a.heads();
        // b's put (actor 2) wins; the conflict is reported on it.
        let patches = a.diff(&start, &merged).unwrap();
        assert!(
            matches!(&patches[..], [Patch { action: PatchAction::PutMap { key, conflict: true, .. }, .. }] if key == "x")
        );
        // Deleting the winner only: the list shows again, reported whole.
        let winner = a.get_all(&ROOT, "x").unwrap();
        assert_eq!(winner.len(), 2);
        let mut tx = a.transaction();
        tx.put(&ROOT, "y", 0).unwrap();
        tx.commit().unwrap();
        let before = a.heads();
        b.delete(&ROOT, "x").unwrap();
        a.merge(&b).unwrap();
        let patches = a.diff(&before, &a.heads()).unwrap();
        assert!(
            matches!(&patches[0].action, PatchAction::PutMap { key, value, conflict: false }
            if key == "x" && matches!(value.value, Value::Object(ObjType::List, _)))
        );
        assert_eq!(patches[1].obj, list);
        assert_eq!(patches[1].path, [(ROOT, Prop::Map("x".into()))]);
        assert!(
            matches!(&patches[1].action, PatchAction::Insert { index: 0, values } if values.len() == 1)
        );
    }

    #[test]
    fn text_splices_deletions_and_marks() {
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1]));
        let text = doc.put_object(&ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hello").unwrap();
        let before = doc.heads();
        doc.splice_text(&text, 5, 0, " world").unwrap();
        doc.splice_text(&text, 0, 1, "H").unwrap();
        doc.mark(&text, 0..5, "bold", true.into(), ExpandMark::None)
            .unwrap();
        let patches = doc.diff(&before, &doc.heads()).unwrap();
        let bold: BTreeMap<String, ScalarValue> = [("bold".to_string(), true.into())].into();
        assert_eq!(
            actions(&patches),
            [
                // "H" goes in before the "h" it replaces.
                &PatchAction::SpliceText {
                    index: 0,
                    value: "H".into(),
                    marks: Some(bold.clone())
                },
                &PatchAction::DeleteSeq {
                    index: 1,
                    length: 1
                },
                &PatchAction::Mark {
                    marks: vec![Mark {
                        start: 1,
                        end: 5,
                        name: "bold".into(),
                        value: true.into()
                    }]
                },
                &PatchAction::SpliceText {
                    index: 5,
                    value: " world".into(),
                    marks: None
                },
            ]
        );
        // Read whole from nothing: one splice per run of equal marks.
        let all = doc.diff(&[], &doc.heads()).unwrap();
        assert_eq!(all.len(), 3);
        assert!(
            matches!(&all[1].action, PatchAction::SpliceText { index: 0, value, marks: Some(m) } if value == "Hello" && *m == bold)
        );
        assert_eq!(all[1].path, [(ROOT, Prop::Map("t".into()))]);
    }

    #[test]
    fn typing_into_marked_text_reads_only_the_typed_characters() {
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1]));
        let text = doc.put_object(&ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"abcdefghij".repeat(50))
            .unwrap();
        doc.mark(&text, 3..8, "bold", true.into(), ExpandMark::Both)
            .unwrap();
        doc.mark(&text, 200..300, "link", "x".into(), ExpandMark::None)
            .unwrap();
        let before = doc.heads();
        doc.splice_text(&text, 5, 1, "XY").unwrap();
        doc.splice_text(&text, 250, 0, "Z").unwrap();
        let after = doc.heads();
        // After is now: the touched elements only (with the marks passed over on the way).
        let fast = doc.diff(&before, &after).unwrap();
        // After is not now: the text is read whole.
        doc.put(&ROOT, "later", 1).unwrap();
        let whole = doc.diff(&before, &after).unwrap();
        assert_eq!(fast, whole);
        let bold: BTreeMap<String, ScalarValue> = [("bold".to_string(), true.into())].into();
        let link: BTreeMap<String, ScalarValue> = [("link".to_string(), "x".into())].into();
        assert_eq!(
            actions(&fast),
            [
                &PatchAction::SpliceText {
                    index: 5,
                    value: "XY".into(),
                    marks: Some(bold)
                },
                &PatchAction::DeleteSeq {
                    index: 7,
                    length: 1
                },
                &PatchAction::SpliceText {
                    index: 250,
                    value: "Z".into(),
                    marks: Some(link)
                },
            ]
        );
    }

    #[test]
    fn list_inserts_join_and_deletions_join() {
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1]));
        let list = doc.put_object(&ROOT, "l", ObjType::List).unwrap();
        for i in 0..4 {
            doc.insert(&list, i, i as i64).unwrap();
        }
        let before = doc.heads();
        let mut tx = doc.transaction();
        tx.delete(&list, 1).unwrap();
        tx.delete(&list, 1).unwrap();
        tx.insert(&list, 2, "x").unwrap();
        tx.insert(&list, 3, "y").unwrap();
        tx.commit().unwrap();
        let patches = doc.diff(&before, &doc.heads()).unwrap();
        assert_eq!(
            patches[0].action,
            PatchAction::DeleteSeq {
                index: 1,
                length: 2
            }
        );
        assert!(
            matches!(&patches[1].action, PatchAction::Insert { index: 2, values } if values.len() == 2)
        );
        assert_eq!(patches.len(), 2);
        // Unknown heads are an error.
        let unknown = ChangeHash([7; 32]);
        assert!(matches!(
            doc.diff(&[unknown], &before),
            Err(DocError::UnknownChange { .. })
        ));
    }
}
