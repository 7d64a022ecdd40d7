//! Rich-text marks: begin/end boundary ops inserted into a text (zero width), and the read that
//! turns them back into spans.

use std::collections::BTreeMap;

use converge_encoding::{Action, ActorId, OpId, ScalarValue};

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, OpSet, View};
use crate::types::{ExId, Mark, Span, TextSpan};

impl OpSet {
    /// The marks of a text in `view`, as maximal spans sorted by (name, start), as automerge
    /// 0.12 lists them.
    pub(crate) fn marks(&self, obj: u32, view: View<'_>) -> Vec<Mark> {
        let Some(object) = self.objects.get(obj as usize) else {
            return Vec::new();
        };
        let Body::Seq { index, .. } = &object.body else {
            return Vec::new();
        };
        if !self.has_marks {
            // No mark op was ever applied: no spans (a walk of the paper document's text
            // took 3 ms to say so).
            return Vec::new();
        }
        let kind = object.kind;
        // The begins in force, by name (each name's value is that of its begin with the
        // greatest id); the value of a begin is its arena index.
        let mut active: ActiveMarks<'_, u32> = ActiveMarks::default();
        // Open spans: name → (value, start).
        let mut open: BTreeMap<&str, (ScalarValue, usize)> = BTreeMap::new();
        let mut out = Vec::new();
        let mut pos = 0usize;
        let in_view = |id: OpId| match view {
            View::Now => true,
            View::At(c) => c.covers(id),
        };
        // Whether a begin or end was passed since the spans were last brought in line with the
        // begins in force (at a visible element). Until one is, doing so is a no-op. (Done at
        // every element, it took 4.1 ms for 200 spans over 100,000 characters; automerge
        // 0.2 ms.)
        let mut changed = false;
        let now = matches!(view, View::Now);
        for (entries, width) in index.chunks() {
            // A chunk of visible elements only has no mark boundary (those have width 0):
            // with nothing to bring in line, only the position moves, by the chunk's width
            // (a text with few marks is passed over a chunk at a time).
            if now && !changed && entries.iter().all(|e| e.width > 0) {
                pos += width as usize;
                continue;
            }
            let mut rest = entries;
            while let Some((&e, after)) = rest.split_first() {
                rest = after;
                if now && e.width > 0 && !changed {
                    // A visible element, so no mark boundary: only the position moves, over
                    // it and the visible elements after it, up to the next of width 0.
                    let run = rest.iter().position(|e| e.width == 0).unwrap_or(rest.len());
                    let (visible, more) = rest.split_at(run);
                    pos +=
                        e.width as usize + visible.iter().map(|e| e.width as usize).sum::<usize>();
                    rest = more;
                    continue;
                }
                let op = &self.ops[e.op as usize];
                if op.action() == Action::Mark {
                    if !in_view(op.id) {
                        continue;
                    }
                    let Some(actor) = self.actors.get(op.id.actor as usize) else {
                        continue;
                    };
                    match self.mark_names.get(&e.op) {
                        Some(name) => active.begin(op.id, actor, name, e.op),
                        None => {
                            if let Some((begin, name)) = self.begin_of_end(op.id) {
                                active.end(begin, actor, name);
                            }
                        }
                    }
                    changed = true;
                    continue;
                }
                if !changed && now {
                    // Not visible (width 0): the position stays.
                    continue;
                }
                let winner = self
                    .element_ops(obj, e.op)
                    .rev()
                    .find(|&o| self.visible(o, view));
                let Some(w) = winner else { continue };
                let width = self.value_width(&self.ops[w as usize].value, kind) as usize;
                if !changed {
                    pos += width;
                    continue;
                }
                changed = false;
                // Only the names whose begins in force changed can change their spans: close
                // each one's span if its value changes or ends here, open one if it has a
                // value (not null) here and no span.
                active.take_touched(|name, begin| {
                    let value_here = begin.map(|&idx| self.scalar(&self.ops[idx as usize].value));
                    let same = matches!((&value_here, open.get(name)), (Some(v), Some((cur, _))) if v == cur);
                    if !same && let Some((value, start)) = open.remove(name) {
                        out.push(Mark {
                            start,
                            end: pos,
                            name: name.to_owned(),
                            value,
                        });
                    }
                    if let Some(value) = value_here
                        && value != ScalarValue::Null
                        && !open.contains_key(name)
                    {
                        open.insert(name, (value, pos));
                    }
                });
                pos += width;
            }
        }
        for (name, (value, start)) in open {
            out.push(Mark {
                start,
                end: pos,
                name: name.to_owned(),
                value,
            });
        }
        // As automerge 0.12 lists them: by name, then by position.
        out.sort_by(|a, b| (&a.name, a.start).cmp(&(&b.name, b.start)));
        out
    }
}

/// An op id as a key ordered as [`OpSet::cmp_id`] orders ids (counter, then actor bytes),
/// whether or not the actor ranks are current.
type IdKey<'a> = (u32, &'a ActorId);

/// The mark begins in force at a point of a walk over a text, by name, each name's kept in
/// the order of their ids: its value there is that of the begin with the greatest id. A begin
/// or an end costs a logarithm of the begins in force, so a text where many marks overlap is
/// read in n log n (a list of the begins scanned at each boundary made 16,384 marks over
/// one range a quadratic read: 374 ms).
pub(crate) struct ActiveMarks<'a, V> {
    /// Each name's begins in force. An entry stays once made (at most one per name), so a
    /// name marked again and again does not allocate again.
    names: BTreeMap<&'a str, Named<'a, V>>,
    /// The names whose begins changed since [`ActiveMarks::take_touched`], each once.
    touched: Vec<&'a str>,
}

/// One name's begins in force, by id, with their values; and whether the name is in
/// [`ActiveMarks::touched`].
struct Named<'a, V> {
    begins: BTreeMap<IdKey<'a>, V>,
    touched: bool,
}

impl<V> Default for ActiveMarks<'_, V> {
    fn default() -> Self {
        ActiveMarks {
            names: BTreeMap::new(),
            touched: Vec::new(),
        }
    }
}

impl<'a, V> ActiveMarks<'a, V> {
    /// A begin `id` (by `actor`) of mark `name` with `value` comes into force.
    pub(crate) fn begin(&mut self, id: OpId, actor: &'a ActorId, name: &'a str, value: V) {
        let named = self.names.entry(name).or_insert_with(|| Named {
            begins: BTreeMap::new(),
            touched: false,
        });
        named.begins.insert((id.counter, actor), value);
        if !std::mem::replace(&mut named.touched, true) {
            self.touched.push(name);
        }
    }

    /// The begin `begin` (by `actor`) of mark `name` leaves force, if it is in force: its
    /// end was passed.
    pub(crate) fn end(&mut self, begin: OpId, actor: &'a ActorId, name: &'a str) {
        let Some(named) = self.names.get_mut(name) else {
            return;
        };
        if named.begins.remove(&(begin.counter, actor)).is_some()
            && !std::mem::replace(&mut named.touched, true)
        {
            self.touched.push(name);
        }
    }

    /// Calls `f` with each name whose begins changed since the last call and the value of
    /// its begin in force with the greatest id (none if none is).
    pub(crate) fn take_touched(&mut self, mut f: impl FnMut(&'a str, Option<&V>)) {
        for name in self.touched.drain(..) {
            if let Some(named) = self.names.get_mut(name) {
                named.touched = false;
                f(name, named.begins.last_key_value().map(|(_, v)| v));
            }
        }
    }
}

impl OpSet {
    /// The begin a mark end `end` closes (the op before it, by the same actor), and the
    /// begin's name, if that op is a mark begin.
    pub(crate) fn begin_of_end(&self, end: OpId) -> Option<(OpId, &str)> {
        let begin = OpId::new(end.counter.checked_sub(1)?, end.actor);
        let name = self.mark_names.get(&self.find_op(begin)?)?;
        Some((begin, name))
    }
}

impl Document {
    /// The marks of a text as maximal spans, sorted by name and then start, as automerge 0.12
    /// lists them.
    pub fn marks(&self, obj: &ExId) -> Result<Vec<Mark>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.marks(o, View::Now))
    }

    /// The marks on the element at `index` of a text (now, or as of `heads`), by name, as
    /// automerge 0.12's `get_marks`: `index` counts elements (characters), one each
    /// whatever their width in the text encoding; past the end there are none.
    ///
    /// ```
    /// use converge_doc::{Document, ExpandMark, ObjType, ROOT};
    /// use converge_encoding::ScalarValue;
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "hello")?;
    /// doc.mark(&text, 1..3, "bold", ScalarValue::Bool(true), ExpandMark::None)?;
    /// assert_eq!(doc.get_marks(&text, 2, None)?.len(), 1);
    /// assert!(doc.get_marks(&text, 3, None)?.is_empty());
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn get_marks(
        &self,
        obj: &ExId,
        index: usize,
        heads: Option<&[converge_encoding::ChangeHash]>,
    ) -> Result<BTreeMap<String, ScalarValue>, DocError> {
        let o = self.obj_index(obj)?;
        let at = match heads {
            Some(h) => self.view_at(h)?,
            None => crate::doc::HeadsView::Now,
        };
        let spans = self.ops.marks(o, at.view());
        // Where element `index` starts, in units: the widths of the elements before it (an
        // element may hold several characters: a cluster a peer counting grapheme clusters
        // wrote).
        let ops = &self.ops;
        let mut elements: Box<dyn Iterator<Item = usize>> =
            match (&at, &ops.objects[o as usize].body) {
                // Now, the index keeps each element's width (0 if none is shown).
                (crate::doc::HeadsView::Now, Body::Seq { index: seq, .. }) => {
                    Box::new(seq.visible_entries().map(|e| e.width as usize))
                }
                // At heads, each shown element's width as the index would keep it.
                _ => {
                    let kind = ops.objects[o as usize].kind;
                    Box::new(ops.seq_items(o, at.view()).map(move |(_, winner)| {
                        ops.value_width(&ops.ops[winner as usize].value, kind) as usize
                    }))
                }
            };
        let mut unit = 0;
        for width in elements.by_ref().take(index) {
            unit += width;
        }
        if elements.next().is_none() {
            return Ok(BTreeMap::new());
        }
        Ok(spans
            .into_iter()
            .filter(|m| m.start <= unit && unit < m.end)
            .map(|m| (m.name, m.value))
            .collect())
    }

    /// A text (now, or as of `heads`) as runs of characters that carry the same marks, in
    /// order, and its blocks (maps in the text, see
    /// [`Transaction::split_block`](crate::Transaction::split_block)) between them, as
    /// automerge 0.12's `spans` reports them.
    ///
    /// ```
    /// use converge_doc::{Document, ExpandMark, ObjType, ROOT, Span};
    /// use converge_encoding::ScalarValue;
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "hello world")?;
    /// doc.mark(&text, 6..11, "bold", ScalarValue::Bool(true), ExpandMark::None)?;
    /// let spans = doc.spans(&text, None)?;
    /// assert_eq!(spans.len(), 2);
    /// let Span::Text(world) = &spans[1] else { panic!() };
    /// assert_eq!((world.text.as_str(), world.marks.len()), ("world", 1));
    /// let block = doc.split_block(&text, 5)?; // a paragraph break, say
    /// doc.put(&block, "type", "paragraph")?;
    /// assert!(matches!(doc.spans(&text, None)?[1], Span::Block(_)));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn spans(
        &self,
        obj: &ExId,
        heads: Option<&[converge_encoding::ChangeHash]>,
    ) -> Result<Vec<Span>, DocError> {
        let o = self.obj_index(obj)?;
        let at = match heads {
            Some(h) => self.view_at(h)?,
            None => crate::doc::HeadsView::Now,
        };
        self.spans_in(o, at.view(), &mut Vec::new())
    }

    /// [`Document::spans`] of object `o` in `view`, with the objects of its blocks pushed
    /// to `blocks` in order (a document's walk visits them after the text).
    pub(crate) fn spans_in(
        &self,
        o: u32,
        view: View<'_>,
        blocks: &mut Vec<u32>,
    ) -> Result<Vec<Span>, DocError> {
        let marks = self.ops.marks(o, view);
        let ops = &self.ops;
        // The marks change only where a mark starts or ends: the set is made again there,
        // and a run is cut only where it differs.
        let mut bounds: Vec<usize> = marks.iter().flat_map(|m| [m.start, m.end]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut bounds = bounds.into_iter().peekable();
        let mut sweep = MarkSweep::new(&marks);
        // A text without placeholders has no block: its characters are read from `text`,
        // which is kept for reads now (the element walk took 2.4 ms for 100,000 characters,
        // the characters 1.5 ms); else its elements are walked.
        let text = ops.text(o, view);
        // (So is a text counted in grapheme clusters, whose elements are clusters.)
        let pieces: Box<dyn Iterator<Item = Piece<'_>>> = if text.contains('\u{fffc}')
            || ops.encoding == crate::TextEncoding::GraphemeCluster
        {
            Box::new(ops.seq_items(o, view).map(|(_, winner)| {
                let op = &ops.ops[winner as usize];
                match op.value {
                    crate::opset::StoredValue::Object(b) if op.action() == Action::MakeMap => {
                        Piece::Block(b.get())
                    }
                    ref v => Piece::Text(ops.str_of(v).unwrap_or("\u{fffc}")),
                }
            }))
        } else {
            Box::new(
                text.char_indices()
                    .map(|(i, c)| Piece::Text(text.get(i..i + c.len_utf8()).unwrap_or_default())),
            )
        };
        let encoding = ops.encoding;
        let mut out: Vec<Span> = Vec::new();
        let mut on = BTreeMap::new();
        let mut unit = 0;
        for piece in pieces {
            let mut recomputed = false;
            if bounds.next_if(|&b| b <= unit).is_some() {
                while bounds.next_if(|&b| b <= unit).is_some() {}
                sweep.advance(&marks, unit, &mut on);
                recomputed = true;
            }
            let s = match piece {
                Piece::Block(b) => {
                    blocks.push(b);
                    unit += encoding.width("\u{fffc}");
                    let block = ops
                        .tree(b, view)
                        .map_err(|depth| DocError::TooDeep { depth })?;
                    out.push(Span::Block(block));
                    continue;
                }
                Piece::Text(s) => s,
            };
            unit += encoding.width(s);
            match out.last_mut() {
                Some(Span::Text(last)) if !recomputed || last.marks == on => last.text.push_str(s),
                _ => out.push(Span::Text(TextSpan {
                    text: s.to_owned(),
                    marks: on.clone(),
                })),
            }
        }
        Ok(out)
    }

    /// [`Document::marks`] as of `heads`.
    pub fn marks_at(
        &self,
        obj: &ExId,
        heads: &[converge_encoding::ChangeHash],
    ) -> Result<Vec<Mark>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.marks(o, at.view()))
    }
}

/// Which of a text's marks (maximal spans, as [`OpSet::marks`] gives them) are in force at
/// the positions a read passes, in order: the marks that ended by a position leave, those
/// that started by it and have not ended come in. One name's spans do not overlap, so each
/// name has at most one mark in force. (Filtering every mark at every bound made a text
/// with many marks a quadratic read.)
struct MarkSweep<'m> {
    /// Mark indexes by start, and by end.
    by_start: Vec<usize>,
    by_end: Vec<usize>,
    /// How many of each have been passed.
    started: usize,
    ended: usize,
    /// The mark in force of each name in force.
    from: BTreeMap<&'m str, usize>,
}

impl<'m> MarkSweep<'m> {
    fn new(marks: &[Mark]) -> Self {
        let mut by_start: Vec<usize> = (0..marks.len()).collect();
        by_start.sort_by_key(|&m| marks[m].start);
        let mut by_end = by_start.clone();
        by_end.sort_by_key(|&m| marks[m].end);
        MarkSweep {
            by_start,
            by_end,
            started: 0,
            ended: 0,
            from: BTreeMap::new(),
        }
    }

    /// Brings `on` (name → value) in line with the marks in force at `unit`, at or after
    /// the last position asked for.
    #[inline(never)]
    fn advance(&mut self, marks: &'m [Mark], unit: usize, on: &mut BTreeMap<String, ScalarValue>) {
        while let Some(&m) = self.by_end.get(self.ended)
            && marks[m].end <= unit
        {
            self.ended += 1;
            if self.from.get(marks[m].name.as_str()) == Some(&m) {
                self.from.remove(marks[m].name.as_str());
                on.remove(&marks[m].name);
            }
        }
        while let Some(&m) = self.by_start.get(self.started)
            && marks[m].start <= unit
        {
            self.started += 1;
            if unit < marks[m].end {
                self.from.insert(marks[m].name.as_str(), m);
                on.insert(marks[m].name.clone(), marks[m].value.clone());
            }
        }
    }
}

/// A piece of a text as `spans` reads it: characters, or a block (a map object).
enum Piece<'a> {
    Text(&'a str),
    Block(u32),
}
