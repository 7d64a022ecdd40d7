//! Events become patches: paths after, joined inserts, splices and deletions, objects
//! reported whole.

use std::collections::{BTreeSet, HashMap};

use converge_encoding::Action;

use super::walk::Differ;
use super::{Event, MarkSet, Patch, PatchAction};
use crate::opset::{Body, NONE, OpSet, View};
use crate::types::{ExId, Mark, ObjType, Prop, TextEncoding, ValueWithId};

/// Turns events into patches: paths, joins, objects reported whole.
pub(super) struct Builder<'a> {
    ops: &'a OpSet,
    after: View<'a>,
    pub(super) patches: Vec<Patch>,
    /// The marks of the last splice pushed, `None` after any other push (automerge 0.12
    /// joins a splice to the one before when the two are equal).
    last_marks: Option<MarkSet>,
    /// Object → (its holder, the property there) after; `None`: not shown there.
    paths: HashMap<u32, Option<(u32, Prop)>>,
    /// Holders whose shown children were listed into `paths`.
    listed: BTreeSet<u32>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(ops: &'a OpSet, after: View<'a>) -> Self {
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
                            // One unit: a character, or a cluster.
                            if encoding == TextEncoding::GraphemeCluster {
                                let end = byte_offset(value, index - *tail + 1, encoding);
                                value.replace_range(at..end, "");
                            } else {
                                value.remove(at);
                            }
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

    pub(super) fn event(&mut self, obj: u32, event: Event) {
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
    pub(super) fn flush_object(&mut self, o: u32, queue: &mut BTreeSet<ExId>) {
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
    if encoding == TextEncoding::GraphemeCluster {
        use unicode_segmentation::UnicodeSegmentation;
        return s
            .grapheme_indices(true)
            .nth(units)
            .map_or(s.len(), |(at, _)| at);
    }
    let mut n = 0usize;
    for (at, ch) in s.char_indices() {
        if n >= units {
            return at;
        }
        n += encoding.char_width(ch);
    }
    s.len()
}
