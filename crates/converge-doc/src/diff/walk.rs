//! The walk of a diff: each object's ops read in two views, giving events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use converge_encoding::{Action, ActorId, OpId, ScalarValue};

use super::{Diff, Event, Item, MarkSet, Reach, Touch};
use crate::marks::ActiveMarks;
use crate::opset::{Body, NONE, OpSet, View};
use crate::types::{ExId, ObjType, Value, ValueWithId};

/// The marks in force in one view while a text is walked: each name's value is that of its
/// begin in force with the greatest id (null included).
#[derive(Default)]
struct MarkState<'a> {
    active: ActiveMarks<'a, ScalarValue>,
    /// Each name's value, as of the last [`MarkState::current`].
    current: MarkSet,
}

impl<'a> MarkState<'a> {
    fn begin(&mut self, id: OpId, actor: &'a ActorId, name: &'a str, value: ScalarValue) {
        self.active.begin(id, actor, name, value);
    }

    fn end(&mut self, begin: OpId, actor: &'a ActorId, name: &'a str) {
        self.active.end(begin, actor, name);
    }

    /// Each name's value here: only the names whose begins changed are looked at again.
    fn current(&mut self) -> &MarkSet {
        let current = &mut self.current;
        self.active.take_touched(|name, value| match value {
            Some(v) => match current.get_mut(name) {
                Some(kept) => *kept = v.clone(),
                None => {
                    current.insert(name.to_owned(), v.clone());
                }
            },
            None => {
                current.remove(name);
            }
        });
        &self.current
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
    /// Its width in text units: the sum of its elements' (in grapheme clusters, elements
    /// that join into one cluster still count one each).
    width: usize,
    /// What its marks report ([`MarkDiff::reported`]).
    reported: MarkSet,
    /// Whether its marks are [`MarkDiff::Nothing`].
    nothing: bool,
}

/// Where a text walk is: the marks in force in each view, the run being gathered and the
/// index (in units after) where it starts.
struct TextWalk<'a> {
    before_marks: MarkState<'a>,
    after_marks: MarkState<'a>,
    marks: InForce,
    /// Whether a mark op was passed since `marks` was last made: it is made again before a
    /// character reads it (made at every mark op, it made a text where n marks begin at
    /// one place a quadratic diff).
    marks_stale: bool,
    run: Option<Run>,
    at: usize,
}

impl TextWalk<'_> {
    fn new() -> Self {
        TextWalk {
            before_marks: MarkState::default(),
            after_marks: MarkState::default(),
            marks: InForce::new(),
            marks_stale: false,
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
pub(super) struct Differ<'a> {
    pub(super) ops: &'a OpSet,
    /// `None`: reading an object whole (everything shown after is new).
    pub(super) before: Option<View<'a>>,
    pub(super) after: View<'a>,
    pub(super) events: Vec<(u32, Event)>,
    /// Objects shown after that were hidden before, reported whole.
    pub(super) expose: BTreeSet<ExId>,
    /// Whether to follow automerge 0.12 where its patches do not take a view to the state
    /// after (see [`Document::diff_as_automerge`]).
    pub(super) quirks: bool,
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

    /// A list element's outcome, `index` its index after (automerge's rules, which with
    /// `quirks` differ from a map's in one case: a put shown before that was deleted is
    /// reported even when a greater op shows after).
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
            // automerge 0.12 reports the last op shown before a deleted one even when a
            // greater op shows after (a put that is not the winner after); converge's own
            // diff, like a map's, only when the greatest op was deleted.
            if (self.quirks || diff == Diff::Del)
                && let Some(mut last) = last_visible.take()
            {
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

    pub(super) fn diff_map(&mut self, o: u32, children: &mut Vec<u32>) {
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

    pub(super) fn diff_list(&mut self, o: u32, children: &mut Vec<u32>) {
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

    /// [`Differ::diff_list`] of the touched elements `elems` only (placed, in sequence order), for a
    /// list whose state after is the document now: an element's index is the number shown
    /// before it now.
    fn diff_list_elems(
        &mut self,
        o: u32,
        elems: &[(crate::seq::Cursor, u32)],
        children: &mut Vec<u32>,
    ) {
        let Some(Body::Seq { index, .. }) = self.ops.objects.get(o as usize).map(|x| &x.body)
        else {
            return;
        };
        for &(c, elem) in elems {
            self.list_elem(o, elem, index.units_before(c) as usize, children);
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

    pub(super) fn diff_text(&mut self, o: u32, children: &mut Vec<u32>) {
        let Some(Body::Seq { index, .. }) = self.ops.objects.get(o as usize).map(|x| &x.body)
        else {
            return;
        };
        let mut w = TextWalk::new();
        for e in index.iter() {
            self.text_elem(o, e.op, &mut w, children);
        }
        self.flush_run(o, &mut w.run, &mut w.at);
    }

    /// [`Differ::diff_text`] of the touched elements `elems` only (placed, in sequence order), for a
    /// text whose state after is the document now and none of whose marks changed: an
    /// element between two of them shows alike in both views, so it only ends a run and
    /// moves the index on; the text's mark ops are passed over in order on the way, so the
    /// marks in force are those of the whole walk.
    fn diff_text_elems(
        &mut self,
        o: u32,
        elems: &[(crate::seq::Cursor, u32)],
        children: &mut Vec<u32>,
    ) {
        let ops = self.ops;
        let Some(Body::Seq { index, .. }) = ops.objects.get(o as usize).map(|x| &x.body) else {
            return;
        };
        let mut marks = self.mark_ops(o).into_iter().peekable();
        let mut w = TextWalk::new();
        let mut end: Option<u64> = None;
        for &(c, elem) in elems {
            while let Some((_, m)) = marks.next_if(|&(at, _)| at < c) {
                self.text_elem(o, m, &mut w, children);
            }
            let before = index.units_before(c);
            if end != Some(before) {
                self.flush_run(o, &mut w.run, &mut w.at);
                w.at = before as usize;
            }
            self.text_elem(o, elem, &mut w, children);
            end = Some(before + u64::from(index.entry(c).width));
        }
        self.flush_run(o, &mut w.run, &mut w.at);
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
                    x.obj == o && x.action() == Action::Mark && !x.mark_begin()
                });
            if let Some(e) = end {
                out.extend(index.locate(e, &ops.ops).map(|c| (c, e)));
            }
        }
        out.sort_unstable();
        out
    }

    /// One element of a text walked in two views.
    fn text_elem(&mut self, o: u32, elem: u32, w: &mut TextWalk<'a>, children: &mut Vec<u32>) {
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
                    let begin = if name.is_none() {
                        ops.begin_of_end(x.id)
                    } else {
                        None
                    };
                    let Some(actor) = ops.actors.get(x.id.actor as usize) else {
                        continue;
                    };
                    let touch_before = diff != Diff::Add;
                    let touch_after = diff != Diff::Del;
                    for (touch, state) in [
                        (touch_before, &mut w.before_marks),
                        (touch_after, &mut w.after_marks),
                    ] {
                        if !touch {
                            continue;
                        }
                        match (name, begin) {
                            (Some(name), _) => {
                                state.begin(x.id, actor, name, ops.scalar(&x.value));
                            }
                            (None, Some((begin, name))) => state.end(begin, actor, name),
                            (None, None) => {}
                        }
                    }
                    w.marks_stale = true;
                }
                Action::MakeMap => {
                    self.flush_run(o, &mut w.run, &mut w.at);
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
                    if std::mem::take(&mut w.marks_stale) {
                        let before = w.before_marks.current().clone();
                        let after = w.after_marks.current().clone();
                        w.marks.set(MarkDiff::of(before, after));
                    }
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
                        Some(r) if joins(r) => {
                            r.text.push_str(s);
                            r.width += encoding.width(s);
                        }
                        _ => {
                            self.flush_run(o, &mut w.run, &mut w.at);
                            w.run = Some(Run {
                                diff,
                                text: s.to_owned(),
                                width: encoding.width(s),
                                reported: w.marks.reported(diff).clone(),
                                nothing: w.marks.current.with(diff) == MarkDiff::Nothing,
                            });
                        }
                    }
                }
            }
        }
    }

    fn flush_run(&mut self, o: u32, run: &mut Option<Run>, at: &mut usize) {
        let Some(Run {
            diff,
            text,
            width,
            reported: marks,
            ..
        }) = run.take()
        else {
            return;
        };
        let marks = Some(marks).filter(|m| !m.is_empty());
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
            // A deleted run counts as automerge 0.12 counts it: the units of its joined
            // text. They differ from the elements' only counting grapheme clusters, where
            // elements others wrote apart (a flag's two halves) join into one cluster:
            // automerge then reports fewer units deleted than the text lost.
            Diff::Del => self.push(
                o,
                Event::DeleteSeq {
                    index,
                    num: self.ops.encoding.width(&text),
                },
            ),
        }
    }

    /// Diffs the objects from `start`, in id order (an object's children have greater ids),
    /// into `self.events`. With `touched` (every object an op of the changes between the two
    /// views is in, or more), only those are read: any other object's ops show alike in
    /// both views and give no event; whether the walk would reach a touched object is
    /// found from its holders, each touched one having been walked before it.
    pub(super) fn walk(
        &mut self,
        start: u32,
        recursive: bool,
        touched: Option<&HashMap<u32, Touch>>,
    ) {
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
                if object.kind == ObjType::List {
                    self.diff_list_elems(o, &placed, children);
                } else {
                    self.diff_text_elems(o, &placed, children);
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
