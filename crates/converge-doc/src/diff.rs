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
//! [`Differ::walk`]): any other property shows alike in both and gives none. The events then
//! become patches ([`Builder`]): each gets the path of its object after, neighbouring
//! inserts, splices and deletions are joined, and an object that shows after where it was
//! hidden before (a conflict's loser that now wins) is reported whole.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use converge_encoding::{Action, ChangeHash, OpId, ScalarValue};

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, NONE, OpSet, View};
use crate::types::{ExId, Mark, ObjType, Prop, TextEncoding, Value, ValueWithId};

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

/// The active marks of one view while a text is walked: begin ops not yet ended.
#[derive(Default)]
struct MarkState {
    /// (begin id, name, value), ascending by id.
    active: Vec<(OpId, String, ScalarValue)>,
}

impl MarkState {
    fn begin(&mut self, ops: &OpSet, id: OpId, name: &str, value: ScalarValue) {
        let at = self
            .active
            .partition_point(|(a, _, _)| ops.cmp_id(*a, id).is_lt());
        if self.active.get(at).is_some_and(|(a, _, _)| *a == id) {
            return;
        }
        self.active.insert(at, (id, name.to_owned(), value));
    }

    fn end(&mut self, end: OpId) {
        let Some(counter) = end.counter.checked_sub(1) else {
            return;
        };
        let begin = OpId::new(counter, end.actor);
        if let Some(at) = self.active.iter().position(|(a, _, _)| *a == begin) {
            self.active.remove(at);
        }
    }

    /// Each name's value: that of its active begin with the greatest id (null included).
    fn current(&self) -> MarkSet {
        let mut out = MarkSet::new();
        for (_, name, value) in &self.active {
            out.insert(name.clone(), value.clone());
        }
        out
    }
}

/// The marks in force at a point of a text walked in two views, as automerge 0.12's text
/// diff keeps them (an empty set is none).
#[derive(Clone, Debug, PartialEq)]
enum MarkDiff {
    Nothing,
    After(MarkSet),
    Before(MarkSet),
    Both(MarkSet, MarkSet),
}

impl MarkDiff {
    fn of(before: MarkSet, after: MarkSet) -> MarkDiff {
        match (before.is_empty(), after.is_empty()) {
            (true, true) => MarkDiff::Nothing,
            (true, false) => MarkDiff::After(after),
            (false, true) => MarkDiff::Before(before),
            (false, false) => MarkDiff::Both(before, after),
        }
    }

    /// The marks a run of `diff` text starting here carries: inserted text those after,
    /// text in both views the changes, deleted text none.
    fn with(&self, diff: Diff) -> MarkDiff {
        match (diff, self) {
            (Diff::Add, MarkDiff::Both(_, m) | MarkDiff::After(m)) => MarkDiff::After(m.clone()),
            (Diff::Same, _) => self.clone(),
            _ => MarkDiff::Nothing,
        }
    }

    /// What is reported: names whose value differs between the views (null where only
    /// before has one), nulls left out.
    fn reported(&self) -> MarkSet {
        let empty = MarkSet::new();
        let (before, after) = match self {
            MarkDiff::Nothing => (&empty, &empty),
            MarkDiff::After(a) => (&empty, a),
            MarkDiff::Before(b) => (b, &empty),
            MarkDiff::Both(b, a) => (b, a),
        };
        let mut out = MarkSet::new();
        for (k, v) in before {
            match after.get(k) {
                None if !matches!(v, ScalarValue::Null) => {
                    out.insert(k.clone(), ScalarValue::Null);
                }
                Some(a) if a != v => {
                    out.insert(k.clone(), a.clone());
                }
                _ => {}
            }
        }
        for (k, v) in after {
            if !before.contains_key(k) && !matches!(v, ScalarValue::Null) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

/// A run of text being gathered: its kind, characters and marks (those in force where it
/// started, as [`MarkDiff::with`] gives them).
struct Run {
    diff: Diff,
    text: String,
    /// What its marks report ([`MarkDiff::reported`]).
    reported: MarkSet,
    /// Whether its marks are [`MarkDiff::Nothing`].
    nothing: bool,
}

/// Where a text walk is: the marks in force in each view, the run being gathered and the
/// index (in units after) where it starts.
struct TextWalk {
    before_marks: MarkState,
    after_marks: MarkState,
    marks: InForce,
    run: Option<Run>,
    at: usize,
}

impl TextWalk {
    fn new() -> TextWalk {
        TextWalk {
            before_marks: MarkState::default(),
            after_marks: MarkState::default(),
            marks: InForce::new(),
            run: None,
            at: 0,
        }
    }
}

/// What runs of each kind starting at a point of a text report, kept as the walk passes
/// mark boundaries (made at every character, they were half a diff's time).
struct InForce {
    current: MarkDiff,
    same: MarkSet,
    add: MarkSet,
    none: MarkSet,
}

impl InForce {
    fn new() -> InForce {
        InForce {
            current: MarkDiff::Nothing,
            same: MarkSet::new(),
            add: MarkSet::new(),
            none: MarkSet::new(),
        }
    }

    fn set(&mut self, current: MarkDiff) {
        self.same = current.reported();
        self.add = current.with(Diff::Add).reported();
        self.current = current;
    }

    /// What a run of `diff` starting here reports.
    fn reported(&self, diff: Diff) -> &MarkSet {
        match diff {
            Diff::Same => &self.same,
            Diff::Add => &self.add,
            Diff::Del => &self.none,
        }
    }
}

/// The placeholder a text shows for an element that is not a string.
const PLACEHOLDER: &str = "\u{fffc}";

/// One diff in the making.
struct Differ<'a> {
    ops: &'a OpSet,
    /// `None`: reading an object whole (everything shown after is new).
    before: Option<View<'a>>,
    after: View<'a>,
    events: Vec<(u32, Event)>,
    /// Objects shown after that were hidden before, reported whole.
    expose: BTreeSet<ExId>,
    /// Whether to follow automerge 0.12 where its patches do not take a view to the state
    /// after (see [`Document::diff_as_automerge`]).
    quirks: bool,
}

impl<'a> Differ<'a> {
    fn diff_of(&self, op: u32) -> Option<Diff> {
        let before = self.before.is_some_and(|v| self.ops.visible(op, v));
        Diff::of(before, self.ops.visible(op, self.after))
    }

    /// Whether the op was made before the first view (so showing it now exposes it).
    fn predates(&self, op: u32) -> bool {
        match self.before {
            None => false,
            // Now: every op of the document (no transaction is open).
            Some(View::Now) => true,
            Some(View::At(c)) => c.covers(self.ops.ops[op as usize].id),
        }
    }

    /// A counter's increments between the views; 0 for any other op.
    fn increment(&self, op: u32) -> i64 {
        let o = &self.ops.ops[op as usize];
        if !self.ops.is_counter(o) {
            return 0;
        }
        let before = match self.before {
            Some(v) => self.ops.counter_value(op, v),
            None => self.ops.int_of(&o.value),
        };
        self.ops.counter_value(op, self.after).wrapping_sub(before)
    }

    /// The value an op shows after, with its id. In a diff's events a table reads as a map
    /// (automerge 0.12 reports them hydrated, and its hydrated values have no tables); read
    /// whole, as a table.
    fn value(&self, op: u32) -> ValueWithId {
        let value = match self.ops.op_value(op, self.after) {
            Value::Object(ObjType::Table, id) if self.before.is_some() => {
                Value::Object(ObjType::Map, id)
            }
            v => v,
        };
        ValueWithId {
            value,
            id: self.ops.ex_id(self.ops.ops[op as usize].id),
        }
    }

    /// The object an item shows after, if its value is one.
    fn child(&self, item: &Item) -> Option<u32> {
        if !item.diff.shown() {
            return None;
        }
        match self.ops.ops[item.op as usize].value {
            crate::opset::StoredValue::Object(o) => Some(o.get()),
            _ => None,
        }
    }

    fn push(&mut self, obj: u32, event: Event) {
        self.events.push((obj, event));
    }

    fn note_expose(&mut self, item: &Item) {
        if item.expose && self.child(item).is_some() {
            let id = self.ops.ex_id(self.ops.ops[item.op as usize].id);
            self.expose.insert(id);
        }
    }

    /// The ops of one property shown in either view, ascending by id.
    fn shown_ops(&self, group: impl Iterator<Item = u32>) -> Vec<(Diff, u32)> {
        group
            .filter_map(|op| self.diff_of(op).map(|d| (d, op)))
            .collect()
    }

    /// A map key's outcome (automerge's rules: the op with the greatest id shown in either
    /// view is reported, or, when it was deleted, the last shown one before it).
    fn map_item(&self, seq: &[(Diff, u32)]) -> Option<Item> {
        let mut last_is_same = false;
        let (mut num_new, mut num_old) = (0usize, 0usize);
        let mut last_visible: Option<Item> = None;
        for (i, &(diff, op)) in seq.iter().enumerate() {
            let expose = match diff {
                Diff::Del => {
                    num_old += 1;
                    last_is_same
                }
                Diff::Same => {
                    last_is_same = true;
                    num_new += 1;
                    num_old += 1;
                    false
                }
                Diff::Add => {
                    last_is_same = false;
                    num_new += 1;
                    self.predates(op)
                }
            };
            let inc = self.increment(op);
            let old_conflict = diff == Diff::Same && num_old > 1;
            let conflict = num_new > 1 && !old_conflict;
            if let Some(&(next, _)) = seq.get(i + 1) {
                if diff.shown() && next == Diff::Del {
                    last_visible = Some(Item::new(diff, op, inc, conflict, expose));
                }
                continue;
            }
            if diff == Diff::Del
                && let Some(mut last) = last_visible.take()
            {
                let newly_visible = last.diff == Diff::Same;
                last.reshow(expose || newly_visible);
                last.conflict = num_new > 1;
                return Some(last);
            }
            let mut item = Item::new(diff, op, inc, conflict, expose);
            if diff == Diff::Same && num_old > 1 && num_new == 1 {
                item.reshow(true);
            }
            return Some(item);
        }
        None
    }

    /// A list element's outcome, `index` its index after (automerge's rules, which differ
    /// from a map's in one case: a put shown before that was deleted is reported even when
    /// a greater op shows after).
    fn list_item(&self, seq: &[(Diff, u32)], index: usize) -> Option<Item> {
        let mut last_is_same = false;
        let (mut num_new, mut num_old) = (0usize, 0usize);
        let mut expose: bool;
        let mut last_visible: Option<Item> = None;
        let item = |diff: Diff, op: u32, inc: i64, conflict: bool, expose: bool, num_old: usize| {
            let mut item = Item::new(diff, op, inc, conflict, expose);
            item.update = item.diff == Diff::Add && num_old > 0;
            item.index = index;
            item
        };
        for (i, &(diff, op)) in seq.iter().enumerate() {
            match diff {
                Diff::Del => {
                    num_old += 1;
                    expose = last_is_same;
                }
                Diff::Same => {
                    last_is_same = true;
                    num_old += 1;
                    num_new += 1;
                    expose = false;
                }
                Diff::Add => {
                    last_is_same = false;
                    num_new += 1;
                    expose = self.predates(op);
                }
            }
            let inc = self.increment(op);
            let old_conflict = diff == Diff::Same && num_old > 1;
            let conflict = num_new > 1 && !old_conflict;
            if let Some(&(next, _)) = seq.get(i + 1) {
                if diff.shown() && next == Diff::Del {
                    last_visible = Some(item(diff, op, inc, conflict, expose, num_old));
                }
                continue;
            }
            if let Some(mut last) = last_visible.take() {
                let newly_visible = last.diff == Diff::Same;
                last.reshow(expose || newly_visible);
                last.update = true;
                last.conflict = num_new > 1;
                return Some(last);
            }
            let mut it = item(diff, op, inc, conflict, expose, num_old);
            if diff == Diff::Same && num_old > 1 && num_new == 1 {
                it.reshow(true);
                it.update = true;
            }
            return Some(it);
        }
        None
    }

    fn diff_map(&mut self, o: u32, children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(Body::Map(map)) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        for (key, group) in map.iter() {
            self.map_key(o, key, group, children);
        }
    }

    /// [`Differ::diff_map`] of the touched keys `keys` only (sorted).
    fn diff_map_keys(&mut self, o: u32, keys: &BTreeSet<String>, children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(Body::Map(map)) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        for key in keys {
            if let Some(group) = map.get(key) {
                self.map_key(o, key, group, children);
            }
        }
    }

    fn map_key(&mut self, o: u32, key: &str, group: &[u32], children: &mut Vec<u32>) {
        let seq = self.shown_ops(group.iter().copied());
        let Some(item) = self.map_item(&seq) else {
            return;
        };
        children.extend(self.child(&item));
        let key = key.to_string();
        match item.diff {
            Diff::Add => {
                self.note_expose(&item);
                let value = self.value(item.op);
                let conflict = item.conflict;
                self.push(
                    o,
                    Event::PutMap {
                        key,
                        value,
                        conflict,
                    },
                );
            }
            Diff::Same if item.inc != 0 => self.push(o, Event::IncrementMap { key, n: item.inc }),
            Diff::Same if item.conflict => self.push(o, Event::ConflictMap { key }),
            Diff::Same => {}
            Diff::Del => self.push(o, Event::DeleteMap { key }),
        }
    }

    fn diff_list(&mut self, o: u32, children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(Body::Seq { index, .. }) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        let mut at = 0usize;
        for e in index.iter() {
            if self.list_elem(o, e.op, at, children) {
                at += 1;
            }
        }
    }

    /// [`Differ::diff_list`] of the touched elements `elems` only (in sequence order), for a
    /// list whose state after is the document now: an element's index is the number shown
    /// before it now.
    fn diff_list_elems(&mut self, o: u32, elems: &[u32], children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(Body::Seq { index, .. }) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        for &elem in elems {
            if let Some(c) = index.locate(elem, &ops.ops) {
                self.list_elem(o, elem, index.units_before(c) as usize, children);
            }
        }
    }

    /// One list element walked in two views, at index `at` after; whether it shows after.
    fn list_elem(&mut self, o: u32, elem: u32, at: usize, children: &mut Vec<u32>) -> bool {
        let seq = self.shown_ops(self.ops.element_ops(o, elem));
        let Some(item) = self.list_item(&seq, at) else {
            return false;
        };
        children.extend(self.child(&item));
        let index = item.index;
        match item.diff {
            Diff::Add => {
                self.note_expose(&item);
                let value = self.value(item.op);
                let conflict = item.conflict;
                let event = if item.update {
                    Event::PutSeq {
                        index,
                        value,
                        conflict,
                    }
                } else {
                    Event::Insert {
                        index,
                        value,
                        conflict,
                    }
                };
                self.push(o, event);
            }
            Diff::Same if item.inc != 0 => self.push(o, Event::IncrementSeq { index, n: item.inc }),
            Diff::Same if item.conflict => self.push(o, Event::ConflictSeq { index }),
            Diff::Same => {}
            Diff::Del => self.push(o, Event::DeleteSeq { index, num: 1 }),
        }
        item.diff.shown()
    }

    /// The op an element shows in a view: its shown op with the greatest id (a mark: itself,
    /// once made).
    fn top(&self, o: u32, elem: u32, view: View<'_>) -> Option<u32> {
        let op = &self.ops.ops[elem as usize];
        if op.action() == Action::Mark {
            return match view {
                View::Now => Some(elem),
                View::At(c) => c.covers(op.id).then_some(elem),
            };
        }
        self.ops.element_winner(o, elem, view)
    }

    fn diff_text(&mut self, o: u32, children: &mut Vec<u32>) {
        let Some(Body::Seq { index, .. }) = self.ops.objects.get(o as usize).map(|x| &x.body)
        else {
            return;
        };
        let mut w = TextWalk::new();
        for e in index.iter() {
            self.text_elem(o, e.op, &mut w, children);
        }
        self.flush_run(o, &mut w.run, &mut w.at, self.ops.encoding);
    }

    /// [`Differ::diff_text`] of the touched elements `elems` only (in sequence order), for a
    /// text whose state after is the document now and none of whose marks changed: an
    /// element between two of them shows alike in both views, so it only ends a run and
    /// moves the index on; the text's mark ops are passed over in order on the way, so the
    /// marks in force are those of the whole walk.
    fn diff_text_elems(&mut self, o: u32, elems: &[u32], children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(Body::Seq { index, .. }) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        let mut marks = self.mark_ops(o).into_iter().peekable();
        let mut w = TextWalk::new();
        let mut end: Option<u64> = None;
        for &elem in elems {
            let Some(c) = index.locate(elem, &ops.ops) else {
                continue;
            };
            while let Some((_, m)) = marks.next_if(|&(at, _)| at < c) {
                self.text_elem(o, m, &mut w, children);
            }
            let before = index.units_before(c);
            if end != Some(before) {
                self.flush_run(o, &mut w.run, &mut w.at, ops.encoding);
                w.at = before as usize;
            }
            self.text_elem(o, elem, &mut w, children);
            end = Some(before + u64::from(index.entry(c).width));
        }
        self.flush_run(o, &mut w.run, &mut w.at, ops.encoding);
    }

    /// The mark ops of text `o` (each begin and the end made with it), in sequence order.
    fn mark_ops(&self, o: u32) -> Vec<(crate::seq::Cursor, u32)> {
        let ops = self.ops;
        let Some(Body::Seq { index, .. }) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return Vec::new();
        };
        if !ops.has_marks {
            return Vec::new();
        }
        let mut out = Vec::new();
        for &begin in ops.mark_names.keys() {
            if ops.ops[begin as usize].obj != o {
                continue;
            }
            out.extend(index.locate(begin, &ops.ops).map(|c| (c, begin)));
            let id = ops.ops[begin as usize].id;
            let end = id
                .counter
                .checked_add(1)
                .and_then(|counter| ops.find_op(OpId::new(counter, id.actor)))
                .filter(|&e| {
                    let x = &ops.ops[e as usize];
                    x.obj == o && x.action() == Action::Mark && !ops.mark_names.contains_key(&e)
                });
            if let Some(e) = end {
                out.extend(index.locate(e, &ops.ops).map(|c| (c, e)));
            }
        }
        out.sort_unstable();
        out
    }

    /// One element of a text walked in two views.
    fn text_elem(&mut self, o: u32, elem: u32, w: &mut TextWalk, children: &mut Vec<u32>) {
        let ops = self.ops;
        let encoding = ops.encoding;
        let top_before = self.before.and_then(|v| self.top(o, elem, v));
        let top_after = self.top(o, elem, self.after);
        let mut pair = [None, None];
        match (top_before, top_after) {
            (Some(b), Some(a)) if a == b => pair[0] = Some((Diff::Same, a)),
            (Some(b), Some(a)) => {
                let (first, second) = if ops
                    .cmp_id(ops.ops[b as usize].id, ops.ops[a as usize].id)
                    .is_lt()
                {
                    ((Diff::Del, b), (Diff::Add, a))
                } else {
                    ((Diff::Add, a), (Diff::Del, b))
                };
                pair = [Some(first), Some(second)];
            }
            (Some(b), None) => pair[0] = Some((Diff::Del, b)),
            (None, Some(a)) => pair[0] = Some((Diff::Add, a)),
            (None, None) => {}
        }
        for (diff, op) in pair.into_iter().flatten() {
            let x = &ops.ops[op as usize];
            match x.action() {
                Action::Mark => {
                    let name = ops.mark_names.get(&op);
                    let touch_before = diff != Diff::Add;
                    let touch_after = diff != Diff::Del;
                    for (touch, state) in [
                        (touch_before, &mut w.before_marks),
                        (touch_after, &mut w.after_marks),
                    ] {
                        if !touch {
                            continue;
                        }
                        match name {
                            Some(name) => state.begin(ops, x.id, name, ops.scalar(&x.value)),
                            None => state.end(x.id),
                        }
                    }
                    w.marks.set(MarkDiff::of(
                        w.before_marks.current(),
                        w.after_marks.current(),
                    ));
                }
                Action::MakeMap => {
                    self.flush_run(o, &mut w.run, &mut w.at, encoding);
                    let width = encoding.width(PLACEHOLDER);
                    match diff {
                        Diff::Add => {
                            let expose = self.predates(op);
                            if expose {
                                self.expose.insert(ops.ex_id(x.id));
                            }
                            let value = self.value(op);
                            self.push(
                                o,
                                Event::Insert {
                                    index: w.at,
                                    value,
                                    conflict: false,
                                },
                            );
                        }
                        Diff::Del => self.push(
                            o,
                            Event::DeleteSeq {
                                index: w.at,
                                num: width,
                            },
                        ),
                        Diff::Same => {}
                    }
                    if diff.shown() {
                        if let crate::opset::StoredValue::Object(c) = x.value {
                            children.push(c.get());
                        }
                        w.at += width;
                    }
                }
                Action::Del | Action::Inc => {}
                _ => {
                    let s = match x.action() {
                        Action::Set => ops.str_of(&x.value).unwrap_or(PLACEHOLDER),
                        _ => PLACEHOLDER,
                    };
                    // automerge 0.12 continues a run while the changes in force
                    // read as those the run started with, so a run of inserted text
                    // can carry no marks where its later characters have some.
                    let quirks = self.quirks;
                    let joins = |r: &Run| {
                        r.diff == diff
                            && if quirks {
                                r.reported == w.marks.same
                                    || (diff == Diff::Add
                                        && w.marks.current == MarkDiff::Nothing
                                        && r.nothing)
                            } else {
                                r.reported == *w.marks.reported(diff)
                            }
                    };
                    match &mut w.run {
                        Some(r) if joins(r) => r.text.push_str(s),
                        _ => {
                            self.flush_run(o, &mut w.run, &mut w.at, encoding);
                            w.run = Some(Run {
                                diff,
                                text: s.to_owned(),
                                reported: w.marks.reported(diff).clone(),
                                nothing: w.marks.current.with(diff) == MarkDiff::Nothing,
                            });
                        }
                    }
                }
            }
        }
    }

    fn flush_run(&mut self, o: u32, run: &mut Option<Run>, at: &mut usize, encoding: TextEncoding) {
        let Some(Run {
            diff,
            text,
            reported: marks,
            ..
        }) = run.take()
        else {
            return;
        };
        let marks = Some(marks).filter(|m| !m.is_empty());
        let width = encoding.width(&text);
        let index = *at;
        match diff {
            Diff::Add => {
                self.push(o, Event::Splice { index, text, marks });
                *at += width;
            }
            Diff::Same => {
                if let Some(marks) = marks {
                    // Joined to the event before when that is one of marks (of any object,
                    // as automerge 0.12 joins them).
                    let acc = match self.events.last_mut() {
                        Some((_, Event::Mark(acc))) => acc,
                        _ => {
                            self.events.push((o, Event::Mark(BTreeMap::new())));
                            match self.events.last_mut() {
                                Some((_, Event::Mark(acc))) => acc,
                                _ => return,
                            }
                        }
                    };
                    for (name, value) in marks {
                        let ranges = acc.entry(name).or_default();
                        match ranges.last_mut() {
                            Some((start, len, v)) if *v == value && *start + *len == index => {
                                *len += width;
                            }
                            _ => ranges.push((index, width, value)),
                        }
                    }
                }
                *at += width;
            }
            Diff::Del => self.push(o, Event::DeleteSeq { index, num: width }),
        }
    }

    /// Diffs the objects from `start`, in id order (an object's children have greater ids),
    /// into `self.events`. With `touched` (every object an op of the changes between the two
    /// views is in, or more), only those are read: any other object's ops show alike in
    /// both views and give no event; whether the walk would reach a touched object is
    /// found from its holders, each touched one having been walked before it.
    fn walk(&mut self, start: u32, recursive: bool, touched: Option<&HashMap<u32, Touch>>) {
        let ops = self.ops;
        let mut children = Vec::new();
        let Some(touched) = touched else {
            let mut pending: BTreeSet<(ExId, u32)> = BTreeSet::new();
            pending.insert((ops.obj_id(start), start));
            while let Some((_, o)) = pending.pop_first() {
                children.clear();
                self.diff_object(o, &mut children);
                if recursive {
                    for &c in &children {
                        pending.insert((ops.obj_id(c), c));
                    }
                }
            }
            return;
        };
        let mut order: Vec<(ExId, u32)> = touched
            .keys()
            .filter(|&&o| (o as usize) < ops.objects.len())
            .map(|&o| (ops.obj_id(o), o))
            .collect();
        order.sort_unstable();
        // Touched objects walked, and the objects their walks went on to.
        let mut walked: HashSet<u32> = HashSet::new();
        let mut went_to: HashSet<u32> = HashSet::new();
        let mut memo: HashMap<u32, bool> = HashMap::new();
        for (_, o) in order {
            let reached = {
                let mut ctx = Reach {
                    start,
                    recursive,
                    touched,
                    walked: &walked,
                    went_to: &went_to,
                    memo: &mut memo,
                };
                self.reached(o, &mut ctx)
            };
            if !reached {
                continue;
            }
            children.clear();
            match touched.get(&o) {
                Some(touch) => self.diff_touched(o, touch, &mut children),
                None => self.diff_object(o, &mut children),
            }
            walked.insert(o);
            went_to.extend(children.iter().copied());
        }
    }

    /// Diffs what changed in a touched object: its touched keys or elements where that reads
    /// alike (a list or a text needs the state after to be the document now, whose index
    /// gives the elements' places; a text whose marks changed is read whole), else the
    /// whole object.
    fn diff_touched(&mut self, o: u32, touch: &Touch, children: &mut Vec<u32>) {
        let ops = self.ops;
        let Some(object) = ops.objects.get(o as usize) else {
            return;
        };
        match (touch, &object.body) {
            (Touch::Keys(keys), Body::Map(_)) => self.diff_map_keys(o, keys, children),
            (Touch::Elems(elems), Body::Seq { index, .. }) if matches!(self.after, View::Now) => {
                let mut placed: Vec<(crate::seq::Cursor, u32)> = elems
                    .iter()
                    .filter_map(|&e| index.locate(e, &ops.ops).map(|c| (c, e)))
                    .collect();
                placed.sort_unstable();
                placed.dedup();
                let elems: Vec<u32> = placed.into_iter().map(|(_, e)| e).collect();
                if object.kind == ObjType::List {
                    self.diff_list_elems(o, &elems, children);
                } else {
                    self.diff_text_elems(o, &elems, children);
                }
            }
            _ => self.diff_object(o, children),
        }
    }

    fn diff_object(&mut self, o: u32, children: &mut Vec<u32>) {
        let Some(object) = self.ops.objects.get(o as usize) else {
            return;
        };
        match object.kind {
            ObjType::Map | ObjType::Table => self.diff_map(o, children),
            ObjType::List => self.diff_list(o, children),
            ObjType::Text => self.diff_text(o, children),
        }
    }

    /// Whether the full walk from `ctx.start` reaches object `o`.
    fn reached(&self, o: u32, ctx: &mut Reach<'_>) -> bool {
        if o == ctx.start {
            return true;
        }
        if !ctx.recursive {
            return false;
        }
        if let Some(&r) = ctx.memo.get(&o) {
            return r;
        }
        let ops = self.ops;
        let Some(make) = ops.objects.get(o as usize).map(|x| x.make_op) else {
            return false;
        };
        if make == NONE {
            return false; // the root, and the walk starts below it
        }
        let op = &ops.ops[make as usize];
        let parent = op.obj;
        let r = if let Some(touch) = ctx.touched.get(&parent) {
            // Walked before `o` (a smaller id) if it was reached; where the walk read the
            // property holding `o`, it says whether it went on to it, else the property
            // shows alike in both views.
            let read = match touch {
                Touch::All => true,
                Touch::Keys(keys) => keys.contains(&*ops.keys[op.key as usize]),
                Touch::Elems(elems) => {
                    let elem = if op.insert() { make } else { op.key };
                    elems.contains(&elem)
                }
            };
            ctx.walked.contains(&parent)
                && if read {
                    ctx.went_to.contains(&o)
                } else {
                    self.shows(parent, make)
                }
        } else {
            // Its ops show alike in both views: the walk goes on to the objects it shows.
            self.shows(parent, make) && self.reached(parent, ctx)
        };
        ctx.memo.insert(o, r);
        r
    }

    /// Whether object `parent` shows the op `make` (as its property's value) after.
    fn shows(&self, parent: u32, make: u32) -> bool {
        let ops = self.ops;
        let Some(object) = ops.objects.get(parent as usize) else {
            return false;
        };
        let op = &ops.ops[make as usize];
        match &object.body {
            Body::Map(map) => map.get(&ops.keys[op.key as usize]).is_some_and(|group| {
                group
                    .iter()
                    .copied()
                    .rev()
                    .find(|&x| ops.visible(x, self.after))
                    == Some(make)
            }),
            Body::Seq { .. } => {
                // In a text only a block (a map) is an object the walk goes on to.
                if object.kind == ObjType::Text && op.action() != Action::MakeMap {
                    return false;
                }
                let elem = if op.insert() { make } else { op.key };
                ops.element_winner(parent, elem, self.after) == Some(make)
            }
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

/// Turns events into patches: paths, joins, objects reported whole.
struct Builder<'a> {
    ops: &'a OpSet,
    after: View<'a>,
    patches: Vec<Patch>,
    /// The marks of the last splice pushed, `None` after any other push (automerge 0.12
    /// joins a splice to the one before when the two are equal).
    last_marks: Option<MarkSet>,
    /// Object → (its holder, the property there) after; `None`: not shown there.
    paths: HashMap<u32, Option<(u32, Prop)>>,
    /// Holders whose shown children were listed into `paths`.
    listed: BTreeSet<u32>,
}

impl<'a> Builder<'a> {
    fn new(ops: &'a OpSet, after: View<'a>) -> Self {
        Builder {
            ops,
            after,
            patches: Vec::new(),
            last_marks: None,
            paths: HashMap::new(),
            listed: BTreeSet::new(),
        }
    }

    /// Lists the objects `parent` shows after, with the property holding each.
    fn list_children(&mut self, parent: u32) {
        if !self.listed.insert(parent) {
            return;
        }
        let ops = self.ops;
        let Some(object) = ops.objects.get(parent as usize) else {
            return;
        };
        match &object.body {
            Body::Map(map) => {
                for (key, group) in map.iter() {
                    let winner = group
                        .iter()
                        .copied()
                        .rev()
                        .find(|&op| ops.visible(op, self.after));
                    if let Some(w) = winner
                        && let crate::opset::StoredValue::Object(c) = ops.ops[w as usize].value
                    {
                        self.paths
                            .insert(c.get(), Some((parent, Prop::Map(key.to_string()))));
                    }
                }
            }
            Body::Seq { index, .. } => {
                let text = object.kind == ObjType::Text;
                let mut at = 0usize;
                for e in index.iter() {
                    if ops.ops[e.op as usize].action() == Action::Mark {
                        continue;
                    }
                    let Some(w) = ops.element_winner(parent, e.op, self.after) else {
                        continue;
                    };
                    let op = &ops.ops[w as usize];
                    if let crate::opset::StoredValue::Object(c) = op.value
                        && (!text || op.action() == Action::MakeMap)
                    {
                        self.paths.insert(c.get(), Some((parent, Prop::Seq(at))));
                    }
                    at += ops.value_width(&op.value, object.kind) as usize;
                }
            }
        }
    }

    /// The object holding `o` after and the property there, if it shows `o`: read from
    /// the holder's index when the state after is the document now (a list's 100,000
    /// elements are not walked for one path), else from a walk of the holder listing all it
    /// shows.
    fn holder(&mut self, o: u32) -> Option<(u32, Prop)> {
        let ops = self.ops;
        let make = ops.objects.get(o as usize)?.make_op;
        if make == NONE {
            return None;
        }
        let op = &ops.ops[make as usize];
        let parent = op.obj;
        let object = ops.objects.get(parent as usize)?;
        match (&object.body, self.after) {
            (Body::Map(map), _) => {
                let key = &ops.keys[op.key as usize];
                let winner = map
                    .get(key)?
                    .iter()
                    .copied()
                    .rev()
                    .find(|&x| ops.visible(x, self.after));
                (winner == Some(make)).then(|| (parent, Prop::Map(key.to_string())))
            }
            (Body::Seq { index, .. }, View::Now) => {
                if object.kind == ObjType::Text && op.action() != Action::MakeMap {
                    return None;
                }
                let elem = if op.insert() { make } else { op.key };
                if ops.element_winner(parent, elem, View::Now) != Some(make) {
                    return None;
                }
                let c = index.locate(elem, &ops.ops)?;
                Some((parent, Prop::Seq(index.units_before(c) as usize)))
            }
            (Body::Seq { .. }, View::At(_)) => {
                self.list_children(parent);
                self.paths.get(&o).cloned().flatten()
            }
        }
    }

    /// The path of `obj` after, or `None` when it does not show there.
    fn path(&mut self, obj: u32) -> Option<Vec<(ExId, Prop)>> {
        let ops = self.ops;
        let mut path = Vec::new();
        let mut o = obj;
        while o != 0 {
            let entry = match self.paths.get(&o) {
                Some(e) => e.clone(),
                None => {
                    let e = self.holder(o);
                    self.paths.insert(o, e.clone());
                    e
                }
            };
            let (parent, prop) = entry?;
            path.push((ops.obj_id(parent), prop));
            o = parent;
        }
        path.reverse();
        Some(path)
    }

    fn push(&mut self, obj: u32, action: PatchAction) {
        if let Some(path) = self.path(obj) {
            self.patches.push(Patch {
                obj: self.ops.obj_id(obj),
                path,
                action,
            });
            self.last_marks = None;
        }
    }

    /// The last patch's action, when it is on `obj`.
    fn tail(&mut self, obj: &ExId) -> Option<&mut PatchAction> {
        match self.patches.last_mut() {
            Some(p) if p.obj == *obj => Some(&mut p.action),
            _ => None,
        }
    }

    fn insert(&mut self, obj: u32, index: usize, value: ValueWithId, conflict: bool) {
        let id = self.ops.obj_id(obj);
        if let Some(PatchAction::Insert {
            index: tail,
            values,
        }) = self.tail(&id)
            && (*tail..=*tail + values.len()).contains(&index)
        {
            values.insert(index - *tail, (value, conflict));
            return;
        }
        self.push(
            obj,
            PatchAction::Insert {
                index,
                values: vec![(value, conflict)],
            },
        );
    }

    fn splice(&mut self, obj: u32, index: usize, text: &str, marks: Option<MarkSet>) {
        let id = self.ops.obj_id(obj);
        let encoding = self.ops.encoding;
        let same_marks = self.last_marks == marks;
        if let Some(PatchAction::SpliceText {
            index: tail, value, ..
        }) = self.tail(&id)
            && same_marks
            && (*tail..=*tail + encoding.width(value)).contains(&index)
        {
            let at = byte_offset(value, index - *tail, encoding);
            value.insert_str(at, text);
            return;
        }
        let before = self.patches.len();
        self.push(
            obj,
            PatchAction::SpliceText {
                index,
                value: text.to_owned(),
                marks: marks.clone(),
            },
        );
        if self.patches.len() > before {
            self.last_marks = marks;
        }
    }

    fn delete_seq(&mut self, obj: u32, index: usize, length: usize) {
        let id = self.ops.obj_id(obj);
        let encoding = self.ops.encoding;
        let emptied;
        match self.tail(&id) {
            Some(PatchAction::SpliceText {
                index: tail, value, ..
            }) => {
                let range = *tail..*tail + encoding.width(value);
                if length > 0 && range.contains(&index) && range.contains(&(index + length - 1)) {
                    for _ in 0..length {
                        let at = byte_offset(value, index - *tail, encoding);
                        if at < value.len() {
                            value.remove(at);
                        }
                    }
                    emptied = value.is_empty();
                } else {
                    return self.push(obj, PatchAction::DeleteSeq { index, length });
                }
            }
            Some(PatchAction::Insert {
                index: tail,
                values,
            }) => {
                let range = *tail..*tail + values.len();
                if length > 0 && range.contains(&index) && range.contains(&(index + length - 1)) {
                    values.drain(index - *tail..index - *tail + length);
                    emptied = values.is_empty();
                } else {
                    return self.push(obj, PatchAction::DeleteSeq { index, length });
                }
            }
            Some(PatchAction::DeleteSeq {
                index: tail,
                length: tail_length,
            }) if index == *tail => {
                *tail_length += length;
                return;
            }
            _ => return self.push(obj, PatchAction::DeleteSeq { index, length }),
        }
        if emptied {
            self.patches.pop();
        }
    }

    fn flag_conflict(&mut self, obj: u32, prop: Prop) {
        let id = self.ops.obj_id(obj);
        match (self.tail(&id), &prop) {
            (Some(PatchAction::PutMap { key, conflict, .. }), Prop::Map(k)) if key == k => {
                *conflict = true;
            }
            (
                Some(PatchAction::PutSeq {
                    index, conflict, ..
                }),
                Prop::Seq(i),
            ) if index == i => {
                *conflict = true;
            }
            _ => self.push(obj, PatchAction::Conflict { prop }),
        }
    }

    fn mark(&mut self, obj: u32, marks: Vec<Mark>) {
        let id = self.ops.obj_id(obj);
        if let Some(PatchAction::Mark { marks: tail }) = self.tail(&id) {
            tail.extend(marks);
            return;
        }
        if !marks.is_empty() {
            self.push(obj, PatchAction::Mark { marks });
        }
    }

    fn event(&mut self, obj: u32, event: Event) {
        match event {
            Event::PutMap {
                key,
                value,
                conflict,
            } => self.push(
                obj,
                PatchAction::PutMap {
                    key,
                    value,
                    conflict,
                },
            ),
            Event::PutSeq {
                index,
                value,
                conflict,
            } => self.push(
                obj,
                PatchAction::PutSeq {
                    index,
                    value,
                    conflict,
                },
            ),
            Event::Insert {
                index,
                value,
                conflict,
            } => self.insert(obj, index, value, conflict),
            Event::DeleteMap { key } => self.push(obj, PatchAction::DeleteMap { key }),
            Event::DeleteSeq { index, num } => self.delete_seq(obj, index, num),
            Event::Splice { index, text, marks } => self.splice(obj, index, &text, marks),
            Event::IncrementMap { key, n } => self.push(
                obj,
                PatchAction::Increment {
                    prop: Prop::Map(key),
                    value: n,
                },
            ),
            Event::IncrementSeq { index, n } => self.push(
                obj,
                PatchAction::Increment {
                    prop: Prop::Seq(index),
                    value: n,
                },
            ),
            Event::ConflictMap { key } => self.flag_conflict(obj, Prop::Map(key)),
            Event::ConflictSeq { index } => self.flag_conflict(obj, Prop::Seq(index)),
            Event::Mark(acc) => {
                let marks = acc
                    .into_iter()
                    .flat_map(|(name, ranges)| {
                        ranges.into_iter().map(move |(start, len, value)| Mark {
                            start,
                            end: start + len,
                            name: name.clone(),
                            value,
                        })
                    })
                    .collect();
                self.mark(obj, marks);
            }
        }
    }

    /// Reports object `o` whole as it shows after (puts, inserts, splices), queueing the
    /// objects it holds into `queue`.
    fn flush_object(&mut self, o: u32, queue: &mut BTreeSet<ExId>) {
        let ops = self.ops;
        let Some(object) = ops.objects.get(o as usize) else {
            return;
        };
        let mut whole = Differ {
            ops,
            before: None,
            after: self.after,
            events: Vec::new(),
            expose: BTreeSet::new(),
            quirks: false,
        };
        let mut children = Vec::new();
        match object.kind {
            ObjType::Map | ObjType::Table => whole.diff_map(o, &mut children),
            ObjType::List => whole.diff_list(o, &mut children),
            ObjType::Text => whole.diff_text(o, &mut children),
        }
        for c in children {
            queue.insert(ops.obj_id(c));
        }
        // Read whole, a list's elements are inserts, a map's keys puts, a text's runs
        // splices (with their marks).
        for (obj, event) in whole.events {
            self.event(obj, event);
        }
    }
}

/// The byte offset of text unit `units` of `s` (its length if past the end).
fn byte_offset(s: &str, units: usize, encoding: TextEncoding) -> usize {
    let mut n = 0usize;
    for (at, ch) in s.char_indices() {
        if n >= units {
            return at;
        }
        n += encoding.char_width(ch);
    }
    s.len()
}

impl Document {
    /// What changed from `before` to `after` (two sets of heads, in either order: a diff
    /// back in history undoes), as patches that take a view of the document at `before` to
    /// its state at `after`: automerge 0.12's `diff`, patch for patch, but for one fix.
    /// automerge 0.12 gathers inserted text into one splice while the marks' *changes* read
    /// the same, so text typed inside a mark that existed before (or next to text marked
    /// alike) can be reported without its marks, and a view applying the patches loses
    /// them; converge starts a new splice where the marks differ
    /// ([`Document::diff_as_automerge`] keeps automerge's patches, for comparing with it).
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
