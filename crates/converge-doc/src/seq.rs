//! The element index of one list or text: every element (visible or not) in RGA order, chunked,
//! with a Fenwick tree over chunk widths so that "which element holds visible unit `i`" and
//! "where is element `e`" both cost O(log chunks + chunk size).
//!
//! An element is identified by the arena index of its insert op. Each entry carries the
//! element's current visible width (0 when deleted or for mark boundaries; 1 for a list item;
//! the string's length in the document's text encoding for text). The chunk an element lives
//! in is recorded in the op itself (`Op::chunk`), so locating an element is one lookup plus a
//! scan of at most [`MAX_CHUNK`] entries.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::arena::OpArena;
use crate::opset::NONE;

/// Entries per chunk before it splits in two.
const MAX_CHUNK: usize = 256;

/// How full a bulk load fills its chunks.
const BULK_FILL: usize = MAX_CHUNK * 3 / 4;

/// Makes room for one more entry: doubling, but never past the `MAX_CHUNK + 1` entries a
/// chunk holds before it splits (plain doubling took a full chunk to 512).
fn reserve_one(entries: &mut Vec<Entry>) {
    if entries.len() == entries.capacity() {
        let room = (MAX_CHUNK + 1).saturating_sub(entries.len()).max(1);
        let more = entries.capacity().max(4).min(room);
        entries.reserve_exact(more);
    }
}

/// One element slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Arena index of the element's insert op.
    pub(crate) op: u32,
    /// Visible width now.
    pub(crate) width: u32,
}

#[derive(Clone, Debug)]
struct Chunk {
    entries: Vec<Entry>,
    width: u64,
    /// At most the least op counter of its entries (`u32::MAX` when it has none): a chunk
    /// whose entries all have counters above an inserted element's is passed over whole by
    /// [`SeqIndex::skip_greater`]. Kept exact on inserts and splits; a removal may leave it
    /// below, which only passes over less.
    min_counter: u32,
    /// Its element with the least id, once [`SeqIndex::skip_greater`] has looked for it.
    least: LeastOp,
}

impl Default for Chunk {
    fn default() -> Self {
        Chunk {
            entries: Vec::new(),
            width: 0,
            min_counter: u32::MAX,
            least: LeastOp::default(),
        }
    }
}

/// The arena index of a chunk's element with the least id (counter, then actor), or
/// [`NONE`] while unknown: where many elements share the least counter (many actors'
/// first changes inserting at one place), [`SeqIndex::skip_greater`] passes over a chunk
/// whose least element is greater than the new one instead of asking about each element.
/// Found by a scan of the chunk when asked for (the actor order lives in the op set) and
/// kept in an atomic, as [`Hint`] is, so that `&self` lookups keep it and the document
/// stays `Sync`. An insert keeps it when the new element's counter is above the kept
/// element's, takes the new element when below, and forgets it on a tie; a split or a
/// removal forgets it.
#[derive(Debug)]
struct LeastOp(AtomicU32);

impl Default for LeastOp {
    fn default() -> Self {
        LeastOp(AtomicU32::new(NONE))
    }
}

impl Clone for LeastOp {
    fn clone(&self) -> Self {
        LeastOp(AtomicU32::new(self.get()))
    }
}

impl LeastOp {
    fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, op: u32) {
        self.0.store(op, Ordering::Relaxed);
    }
}

impl Chunk {
    /// Its element with the least id by `cmp` (kept once found), if it has any.
    fn least_op(&self, cmp: impl Fn(u32, u32) -> std::cmp::Ordering) -> Option<u32> {
        let kept = self.least.get();
        if kept != NONE {
            return Some(kept);
        }
        let least = self
            .entries
            .iter()
            .map(|e| e.op)
            .min_by(|&a, &b| cmp(a, b))?;
        self.least.set(least);
        Some(least)
    }

    /// Keeps its least element and least counter true of an element just put in it.
    fn note_counter(&mut self, op: u32, counter: u32, ops: &OpArena) {
        let least = self.least.get();
        if least != NONE {
            match counter.cmp(&ops[least as usize].id.counter) {
                std::cmp::Ordering::Less => self.least.set(op),
                std::cmp::Ordering::Equal => self.least.set(NONE),
                std::cmp::Ordering::Greater => {}
            }
        } else if counter < self.min_counter {
            self.least.set(op);
        }
        self.min_counter = self.min_counter.min(counter);
    }

    fn least_counter(entries: &[Entry], ops: &OpArena) -> u32 {
        entries
            .iter()
            .map(|e| ops[e.op as usize].id.counter)
            .min()
            .unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
std::thread_local! {
    /// Elements [`SeqIndex::skip_greater`] asked its caller about (tests count the work of
    /// a merge with it, not its time).
    pub(crate) static SKIP_ASKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Chunk positions (in sequence order) per block of [`SeqIndex::block_min`].
const BLOCK: usize = 64;

/// A position in the index: (chunk position in sequence order, offset inside the chunk).
pub(crate) type Cursor = (usize, usize);

/// How many entries a lookup scans from the hint, either way, before it gives up and
/// descends the Fenwick tree.
const HINT_REACH: usize = 16;

/// The element the last lookup found, so that the next one, usually a keystroke beside it,
/// starts there instead of descending the Fenwick tree and summing its chunk from the start.
///
/// Packed in one word (offset 9 bits, chunk position 22 bits, units before the element 32
/// bits, a valid bit), so that a lookup through `&self` can record it: an atomic with relaxed
/// ordering is a plain load and store here, and keeps the document `Sync` (saves read it from
/// two threads; two lookups racing each store a hint that is true of the same unchanged
/// index). Mutations (`&mut self`) keep it true or clear it. A position or count too large
/// for its field is simply not recorded.
#[derive(Debug, Default)]
struct Hint(AtomicU64);

/// A hint's fields: the element's cursor and the visible units before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HintAt {
    pos: usize,
    off: usize,
    before: u64,
}

impl Hint {
    const VALID: u64 = 1 << 63;
    const OFF_BITS: u32 = 9;
    const POS_BITS: u32 = 22;

    fn pack(at: HintAt) -> u64 {
        let fits = at.off < 1 << Self::OFF_BITS
            && at.pos < 1 << Self::POS_BITS
            && at.before <= u64::from(u32::MAX);
        if !fits {
            return 0;
        }
        Self::VALID
            | at.before << (Self::OFF_BITS + Self::POS_BITS)
            | (at.pos as u64) << Self::OFF_BITS
            | at.off as u64
    }

    fn unpack(word: u64) -> Option<HintAt> {
        (word & Self::VALID != 0).then(|| HintAt {
            off: (word & ((1 << Self::OFF_BITS) - 1)) as usize,
            pos: ((word >> Self::OFF_BITS) & ((1 << Self::POS_BITS) - 1)) as usize,
            before: (word >> (Self::OFF_BITS + Self::POS_BITS)) & u64::from(u32::MAX),
        })
    }

    fn get(&self) -> Option<HintAt> {
        Self::unpack(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, at: HintAt) {
        self.0.store(Self::pack(at), Ordering::Relaxed);
    }

    /// Through `&mut`: no atomic access at all.
    fn get_mut(&mut self) -> Option<HintAt> {
        Self::unpack(*self.0.get_mut())
    }

    fn set_mut(&mut self, at: Option<HintAt>) {
        *self.0.get_mut() = at.map_or(0, Self::pack);
    }
}

impl Clone for Hint {
    fn clone(&self) -> Self {
        Hint(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

/// The elements of one sequence object (see module docs).
#[derive(Clone, Debug)]
pub(crate) struct SeqIndex {
    /// Chunks by id (ids are stable; `order` gives sequence order).
    chunks: Vec<Chunk>,
    /// Chunk ids in sequence order.
    order: Vec<u32>,
    /// Chunk id → position in `order`.
    position: Vec<u32>,
    /// Fenwick tree (1-based) over chunk widths in `order`.
    fenwick: Vec<u64>,
    /// Per [`BLOCK`] chunk positions in `order`, at most the least `min_counter` of those
    /// chunks (a block it does not cover yet, during a bulk load, is never passed over).
    /// Rebuilt with the Fenwick tree.
    block_min: Vec<u32>,
    /// The sum of all widths (asked for on every edit: a bounds check).
    total: u64,
    /// Number of elements, visible or not.
    len: usize,
    /// Where the last lookup ended (see [`Hint`]).
    hint: Hint,
    /// The cursor [`SeqIndex::insert`] last returned or [`SeqIndex::set_width`] was last
    /// given. Not kept true: [`SeqIndex::locate`] takes it, or the entry after or before
    /// it in its chunk, only when the entry there is the element asked for. So a run
    /// applied remotely (each insert naming the element inserted just before it, each
    /// deletion the element after or before the one deleted just before it) skips the
    /// scan of a chunk for each op.
    last_touched: Cursor,
}

impl Default for SeqIndex {
    fn default() -> Self {
        SeqIndex {
            chunks: vec![Chunk::default()],
            order: vec![0],
            position: vec![0],
            fenwick: vec![0, 0],
            block_min: vec![u32::MAX],
            total: 0,
            len: 0,
            hint: Hint::default(),
            last_touched: (0, 0),
        }
    }
}

impl SeqIndex {
    /// Total visible width.
    pub(crate) fn width(&self) -> u64 {
        debug_assert_eq!(self.total, self.prefix(self.order.len()));
        self.total
    }

    /// Sum of widths of the first `n` chunks in order.
    fn prefix(&self, mut n: usize) -> u64 {
        let mut sum = 0;
        while n > 0 {
            sum += self.fenwick.get(n).copied().unwrap_or(0);
            n &= n - 1;
        }
        sum
    }

    fn fenwick_add(&mut self, pos: usize, delta: i64) {
        self.total = self.total.wrapping_add_signed(delta);
        let mut i = pos + 1;
        while i < self.fenwick.len() {
            if let Some(slot) = self.fenwick.get_mut(i) {
                *slot = slot.wrapping_add_signed(delta);
            }
            i += i & i.wrapping_neg();
        }
    }

    /// The total, the chunks' positions, the Fenwick tree and the blocks' least counters
    /// made again from every chunk (after a bulk load).
    fn rebuild_fenwick(&mut self) {
        self.total = self.chunks.iter().map(|c| c.width).sum();
        self.rebuild_from(0);
    }

    fn chunk_at(&self, pos: usize) -> &Chunk {
        &self.chunks[self.order[pos] as usize]
    }

    /// The visible units before the element at a cursor.
    pub(crate) fn units_before(&self, (pos, off): Cursor) -> u64 {
        let in_chunk: u64 = self
            .chunk_at(pos)
            .entries
            .iter()
            .take(off)
            .map(|e| u64::from(e.width))
            .sum();
        self.prefix(pos) + in_chunk
    }

    /// The entry at a cursor.
    pub(crate) fn entry(&self, (pos, off): Cursor) -> Entry {
        self.chunk_at(pos).entries[off]
    }

    /// The element containing visible unit `index` and the number of units before it, or
    /// `None` past the end.
    pub(crate) fn find_unit(&self, index: u64) -> Option<(Cursor, u64)> {
        let found = self
            .hint
            .get()
            .and_then(|at| self.find_near(at, index))
            .or_else(|| self.find_far(index));
        if let Some(((pos, off), before)) = found {
            self.hint.set(HintAt { pos, off, before });
        }
        found
    }

    /// [`Self::find_unit`] by a scan of at most [`HINT_REACH`] entries from the hinted
    /// element, inside its chunk; `None` when the unit is not within reach.
    fn find_near(&self, at: HintAt, index: u64) -> Option<(Cursor, u64)> {
        let entries = &self.chunks.get(*self.order.get(at.pos)? as usize)?.entries;
        let mut before = at.before;
        if index >= before {
            let end = entries.len().min(at.off + HINT_REACH);
            for (off, e) in entries.get(at.off..end)?.iter().enumerate() {
                let w = u64::from(e.width);
                if index < before + w {
                    return Some(((at.pos, at.off + off), before));
                }
                before += w;
            }
        } else {
            let start = at.off.saturating_sub(HINT_REACH);
            for (off, e) in entries.get(start..at.off)?.iter().enumerate().rev() {
                let w = u64::from(e.width);
                before = before.checked_sub(w)?;
                if w > 0 && index >= before {
                    return Some(((at.pos, start + off), before));
                }
            }
        }
        None
    }

    /// [`Self::find_unit`] from the root: descends the Fenwick tree, then scans the chunk.
    fn find_far(&self, index: u64) -> Option<(Cursor, u64)> {
        // Fenwick descent: the first chunk position whose prefix exceeds `index`.
        let n = self.order.len();
        let mut pos = 0usize;
        let mut remaining = index;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fenwick[next] <= remaining {
                pos = next;
                remaining -= self.fenwick[next];
            }
            step >>= 1;
        }
        if pos >= n {
            return None;
        }
        let before_chunk = index - remaining;
        let entries = &self.chunk_at(pos).entries;
        // Skip whole blocks of 8 entries first: summing a block has no early exit, so it
        // compiles to straight-line code, and only the block holding the unit is scanned.
        let mut acc = 0u64;
        let mut base = 0usize;
        for block in entries.chunks_exact(8) {
            let sum: u64 = block.iter().map(|e| u64::from(e.width)).sum();
            if remaining < acc + sum {
                break;
            }
            acc += sum;
            base += 8;
        }
        for (off, e) in entries.iter().enumerate().skip(base) {
            let w = u64::from(e.width);
            if remaining < acc + w {
                return Some(((pos, off), before_chunk + acc));
            }
            acc += w;
        }
        None
    }

    /// The cursor of the element whose insert op is `op`.
    pub(crate) fn locate(&self, op: u32, ops: &OpArena) -> Option<Cursor> {
        let (pos, off) = self.last_touched;
        if let Some(entries) = self
            .order
            .get(pos)
            .and_then(|&id| self.chunks.get(id as usize))
            .map(|c| c.entries.as_slice())
        {
            for near in [off, off + 1, off.wrapping_sub(1)] {
                if entries.get(near).is_some_and(|e| e.op == op) {
                    return Some((pos, near));
                }
            }
        }
        let id = ops.get(op as usize)?.chunk;
        let pos = *self.position.get(id as usize)? as usize;
        let off = self.chunk_at(pos).entries.iter().position(|e| e.op == op)?;
        Some((pos, off))
    }

    /// The cursor after `c`, if any.
    pub(crate) fn next(&self, (pos, off): Cursor) -> Option<Cursor> {
        if off + 1 < self.chunk_at(pos).entries.len() {
            return Some((pos, off + 1));
        }
        let mut p = pos + 1;
        while p < self.order.len() {
            if !self.chunk_at(p).entries.is_empty() {
                return Some((p, 0));
            }
            p += 1;
        }
        None
    }

    /// The cursor before `c`, if any.
    pub(crate) fn prev(&self, (pos, off): Cursor) -> Option<Cursor> {
        if off > 0 {
            return Some((pos, off - 1));
        }
        (0..pos).rev().find_map(|p| {
            let n = self.chunk_at(p).entries.len();
            (n > 0).then(|| (p, n - 1))
        })
    }

    /// The last cursor, if the sequence has any element.
    pub(crate) fn last(&self) -> Option<Cursor> {
        self.prev((self.order.len(), 0))
    }

    /// The first cursor, if the sequence has any element.
    pub(crate) fn first(&self) -> Option<Cursor> {
        (0..self.order.len()).find_map(|p| (!self.chunk_at(p).entries.is_empty()).then_some((p, 0)))
    }

    /// The cursor at which an element inserted right after `c` (or at the start) would land.
    pub(crate) fn slot_after(&self, c: Option<Cursor>) -> Cursor {
        match c {
            Some((pos, off)) => (pos, off + 1),
            None => (0, 0),
        }
    }

    /// Where an element inserted right after `after` (or at the start) lands by RGA's rule:
    /// before the first element that follows `after` and that `greater` (called with the
    /// element's op) does not say to pass over. An element whose op counter is above
    /// `counter` must be one `greater` passes over; whole blocks and chunks of those are
    /// passed over by their least counters without asking, so that an element inserted
    /// after many concurrent ones with later counters (two peers who both typed at the
    /// same place, merged) costs about the chunks passed, not the elements.
    ///
    /// Where a chunk's least counter equals `counter`, its element with the least id (found
    /// with `cmp`, which orders two elements' ops by id, and kept) decides: if `greater`
    /// passes over it, the whole chunk is passed over.
    pub(crate) fn skip_greater(
        &self,
        after: Option<Cursor>,
        counter: u32,
        greater: impl Fn(u32) -> bool,
        cmp: impl Fn(u32, u32) -> std::cmp::Ordering,
    ) -> Cursor {
        let (mut pos, mut off) = self.slot_after(after);
        let mut last = after;
        while let Some(&id) = self.order.get(pos) {
            let chunk = &self.chunks[id as usize];
            if off == 0 {
                if pos % BLOCK == 0
                    && self
                        .block_min
                        .get(pos / BLOCK)
                        .is_some_and(|&m| m > counter)
                {
                    let block_end = (pos + BLOCK).min(self.order.len());
                    last = self.last_in(pos..block_end).or(last);
                    pos = block_end;
                    continue;
                }
                if chunk.min_counter > counter
                    || (chunk.min_counter == counter && chunk.least_op(&cmp).is_some_and(&greater))
                {
                    last = self.last_in(pos..pos + 1).or(last);
                    pos += 1;
                    continue;
                }
            }
            #[cfg(test)]
            SKIP_ASKS.with(|c| c.set(c.get() + u64::from(off < chunk.entries.len())));
            match chunk.entries.get(off) {
                Some(e) if greater(e.op) => {
                    last = Some((pos, off));
                    off += 1;
                }
                Some(_) => return (pos, off),
                None => {
                    pos += 1;
                    off = 0;
                }
            }
        }
        self.slot_after(last)
    }

    /// The last element in the chunks at positions `range`, if any.
    fn last_in(&self, range: std::ops::Range<usize>) -> Option<Cursor> {
        range.rev().find_map(|p| {
            let n = self.chunk_at(p).entries.len();
            (n > 0).then(|| (p, n - 1))
        })
    }

    /// Inserts `entry` at `slot` (as returned by [`Self::slot_after`] or a cursor: the new
    /// element goes before whatever is there). Records the chunk in `ops[entry.op]`.
    pub(crate) fn insert(&mut self, (pos, off): Cursor, entry: Entry, ops: &mut OpArena) -> Cursor {
        let id = self.order[pos];
        let chunk = &mut self.chunks[id as usize];
        reserve_one(&mut chunk.entries);
        chunk.entries.insert(off, entry);
        chunk.width += u64::from(entry.width);
        let counter = ops[entry.op as usize].id.counter;
        chunk.note_counter(entry.op, counter, ops);
        if let Some(min) = self.block_min.get_mut(pos / BLOCK) {
            *min = (*min).min(counter);
        }
        ops[entry.op as usize].chunk = id;
        self.len += 1;
        self.fenwick_add(pos, i64::from(entry.width));
        // The hinted element moves along if the new one went before it.
        let hint = self.hint.get_mut().map(|mut at| {
            if at.pos > pos || (at.pos == pos && at.off >= off) {
                at.before += u64::from(entry.width);
                at.off += usize::from(at.pos == pos);
            }
            at
        });
        self.hint.set_mut(hint);
        self.last_touched = if self.chunks[id as usize].entries.len() > MAX_CHUNK {
            self.overflow((pos, off), ops)
        } else {
            (pos, off)
        };
        self.last_touched
    }

    /// Makes room in the chunk at `pos`, one entry over [`MAX_CHUNK`] after an insert at
    /// `off`; returns the new element's cursor. Adding a chunk anywhere but at the end
    /// shifts every later chunk's position (O(chunks)), so a paste into the middle of a
    /// long text, which fills a chunk every few hundred elements, avoids it where it can:
    /// - the new element is the chunk's last and the next chunk has room: it moves there
    ///   (the same place in the sequence), and no chunk is added;
    /// - the new element follows the op made just before it (a run: a paste, a word
    ///   typed) and elements follow it: the chunk splits right after it, so that the run
    ///   goes on into the room at the end of the first half, then into the second half's
    ///   start, and fills both (a split in halves would leave the run's elements ahead of
    ///   the same tail again, and split again after half a chunk); the same where the
    ///   element after it is the op made just before it (a run backwards: items put at a
    ///   list's start one by one), which then goes on in the first part's room;
    /// - otherwise the chunk splits in halves.
    #[cold]
    #[inline(never)]
    fn overflow(&mut self, (pos, off): Cursor, ops: &mut OpArena) -> Cursor {
        let entries = &self.chunks[self.order[pos] as usize].entries;
        let len = entries.len();
        if off + 1 == len
            && self
                .order
                .get(pos + 1)
                .is_some_and(|&next| self.chunks[next as usize].entries.len() < MAX_CHUNK)
        {
            self.move_last_to_next(pos, ops);
            return (pos + 1, 0);
        }
        // The op made just before the new element's is the element before it (a run typed
        // forwards) or after it (a run typed backwards: items put at a list's start one
        // by one): either way the run goes on at the new element, which the cut leaves last
        // in the first part.
        let made_before = entries[off].op.wrapping_sub(1);
        let run = off + 1 < len
            && (off
                .checked_sub(1)
                .and_then(|b| entries.get(b))
                .map(|e| e.op)
                == Some(made_before)
                || entries[off + 1].op == made_before);
        let cut = if run { off + 1 } else { len / 2 };
        self.split(pos, cut, ops);
        if off >= cut {
            (pos + 1, off - cut)
        } else {
            (pos, off)
        }
    }

    /// Moves the last element of the chunk at `pos` to the start of the next chunk (which
    /// has room): the sequence is unchanged, and so are the units before every element.
    fn move_last_to_next(&mut self, pos: usize, ops: &mut OpArena) {
        let next_id = self.order[pos + 1];
        let chunk = &mut self.chunks[self.order[pos] as usize];
        let Some(e) = chunk.entries.pop() else {
            return;
        };
        let moved_from = chunk.entries.len();
        chunk.width -= u64::from(e.width);
        // (Its least counter may now be below the exact one, which only passes over less.)
        if chunk.least.get() == e.op {
            chunk.least.set(NONE);
        }
        let counter = ops[e.op as usize].id.counter;
        let next = &mut self.chunks[next_id as usize];
        reserve_one(&mut next.entries);
        next.entries.insert(0, e);
        next.width += u64::from(e.width);
        next.note_counter(e.op, counter, ops);
        if let Some(min) = self.block_min.get_mut((pos + 1) / BLOCK) {
            *min = (*min).min(counter);
        }
        ops[e.op as usize].chunk = next_id;
        self.fenwick_add(pos, -i64::from(e.width));
        self.fenwick_add(pos + 1, i64::from(e.width));
        let hint = self.hint.get_mut().map(|mut at| {
            if at.pos == pos && at.off == moved_from {
                at.pos += 1;
                at.off = 0;
            } else if at.pos == pos + 1 {
                at.off += 1;
            }
            at
        });
        self.hint.set_mut(hint);
    }

    /// Splits the chunk at `pos` before its entry `cut`: the entries from `cut` on go to a
    /// new chunk right after it.
    fn split(&mut self, pos: usize, cut: usize, ops: &mut OpArena) {
        let id = self.order[pos] as usize;
        let tail: Vec<Entry> = self.chunks[id].entries.split_off(cut);
        // The head keeps the room of a full chunk otherwise, and in a text typed at a cursor
        // it is never edited again: its spare half would stay allocated for good (0.9 of the
        // 2.4 MB of the paper trace's index). Shrinking a block happens in place. (Where a
        // run goes on at its end, it grows again: at most twice, see `reserve_one`.)
        self.chunks[id].entries.shrink_to_fit();
        let tail_width: u64 = tail.iter().map(|e| u64::from(e.width)).sum();
        self.chunks[id].width -= tail_width;
        self.chunks[id].min_counter = Chunk::least_counter(&self.chunks[id].entries, ops);
        self.chunks[id].least.set(NONE);
        let new_id = self.chunks.len() as u32;
        for e in &tail {
            ops[e.op as usize].chunk = new_id;
        }
        let min_counter = Chunk::least_counter(&tail, ops);
        self.chunks.push(Chunk {
            entries: tail,
            width: tail_width,
            min_counter,
            least: LeastOp::default(),
        });
        self.order.insert(pos + 1, new_id);
        let hint = self.hint.get_mut().map(|mut at| {
            if at.pos > pos {
                at.pos += 1;
            } else if at.pos == pos && at.off >= cut {
                at.pos += 1;
                at.off -= cut;
            }
            at
        });
        self.hint.set_mut(hint);
        self.position.push(0);
        if pos + 2 == self.order.len() {
            self.position[id] = pos as u32;
            self.position[new_id as usize] = pos as u32 + 1;
            // The new chunk is the last one (elements inserted at the end: typing at the end
            // of a text, or a paste applied remotely): the Fenwick tree grows by one node,
            // the blocks' least counters by at most one block, instead of both being made
            // again from every chunk (for a remote paste of 1,000,000 characters, 12 % of
            // its time). The chunk split keeps at most its least counter in its block.
            self.fenwick_add(pos, -(tail_width as i64));
            self.fenwick_push(tail_width);
            if (pos + 1).is_multiple_of(BLOCK) {
                self.block_min.push(min_counter);
            }
        } else {
            self.rebuild_from(pos);
        }
    }

    /// The chunks' positions, the Fenwick tree and the blocks' least counters made again
    /// for the chunks from position `pos` on, after a split of the chunk there moved every
    /// later chunk one position on, in one pass over those chunks. The nodes that cover only
    /// chunks before `pos` stay, and so does the total (a split moves units, it adds none).
    fn rebuild_from(&mut self, pos: usize) {
        let n = self.order.len();
        let first_block = pos / BLOCK;
        self.block_min.truncate(first_block);
        self.block_min.resize(n.div_ceil(BLOCK), u32::MAX);
        self.fenwick.resize(n + 1, 0);
        for (p, &id) in self.order.iter().enumerate().skip(first_block * BLOCK) {
            let chunk = &self.chunks[id as usize];
            let min = &mut self.block_min[p / BLOCK];
            *min = (*min).min(chunk.min_counter);
            if p >= pos {
                self.position[id as usize] = p as u32;
                self.fenwick[p + 1] = chunk.width;
            }
        }
        // Node `i` (1-based) holds the chunks (i - lowbit(i), i]: from node `s` on, each
        // is its chunk's width plus its children's nodes. Its children below `s` (kept) are
        // the nodes on the prefix path of `s - 1`: add them to their parents first, then
        // each node from `s` on to its parent, in order.
        let s = pos + 1;
        let mut j = s - 1;
        while j > 0 {
            let parent = j + (j & j.wrapping_neg());
            if (s..=n).contains(&parent) {
                self.fenwick[parent] += self.fenwick[j];
            }
            j &= j - 1;
        }
        for i in s..=n {
            let parent = i + (i & i.wrapping_neg());
            if parent <= n {
                self.fenwick[parent] += self.fenwick[i];
            }
        }
    }

    /// Appends the width of a new last chunk to the Fenwick tree.
    fn fenwick_push(&mut self, width: u64) {
        // The new node `m` (1-based) holds the chunks (m - lowbit(m), m].
        let m = self.fenwick.len();
        let below = self.prefix(m - 1) - self.prefix(m - (m & m.wrapping_neg()));
        self.fenwick.push(width + below);
        self.total += width;
    }

    /// Appends an element at the very end without maintaining the Fenwick tree (bulk load);
    /// call [`SeqIndex::finish_bulk`] when done. Chunks are filled to 3/4 so that later
    /// inserts do not split at once, and allocated for that much only (an edited chunk
    /// grows).
    pub(crate) fn push_back_bulk(&mut self, entry: Entry, ops: &mut OpArena) {
        let last = self.order.len() - 1;
        let mut id = self.order[last];
        if self.chunks[id as usize].entries.len() >= BULK_FILL {
            id = self.chunks.len() as u32;
            self.chunks.push(Chunk {
                entries: Vec::with_capacity(BULK_FILL),
                ..Chunk::default()
            });
            self.position.push(self.order.len() as u32);
            self.order.push(id);
        }
        let chunk = &mut self.chunks[id as usize];
        chunk.entries.push(entry);
        chunk.least.set(NONE);
        chunk.width += u64::from(entry.width);
        chunk.min_counter = chunk.min_counter.min(ops[entry.op as usize].id.counter);
        ops[entry.op as usize].chunk = id;
        self.len += 1;
        // An element appended at the end leaves any hint true; `finish_bulk` clears it.
    }

    /// Gives the last chunk's spare room back (a bulk load allocates a chunk for
    /// [`BULK_FILL`] entries; the last one is seldom full).
    pub(crate) fn shrink_last(&mut self) {
        if let Some(chunk) = self
            .order
            .last()
            .and_then(|&id| self.chunks.get_mut(id as usize))
        {
            chunk.entries.shrink_to_fit();
        }
    }

    /// Sets every element's width with `width(op, width given to push_back_bulk)` and
    /// rebuilds the Fenwick tree.
    pub(crate) fn finish_bulk(&mut self, mut width: impl FnMut(u32, u32) -> u32) {
        for chunk in &mut self.chunks {
            let mut total = 0u64;
            for e in &mut chunk.entries {
                e.width = width(e.op, e.width);
                total += u64::from(e.width);
            }
            chunk.width = total;
        }
        self.hint.set_mut(None);
        self.rebuild_fenwick();
    }

    /// [`SeqIndex::finish_bulk`] keeping every width given to `push_back_bulk`.
    pub(crate) fn finish_bulk_unchanged(&mut self) {
        self.hint.set_mut(None);
        self.rebuild_fenwick();
    }

    /// Removes the element at `cursor` (transaction rollback only).
    pub(crate) fn remove(&mut self, (pos, off): Cursor) {
        let chunk = &mut self.chunks[self.order[pos] as usize];
        let e = chunk.entries.remove(off);
        chunk.least.set(NONE);
        chunk.width -= u64::from(e.width);
        self.len -= 1;
        self.hint.set_mut(None);
        self.fenwick_add(pos, -i64::from(e.width));
    }

    /// Sets the width of the element at `cursor`.
    pub(crate) fn set_width(&mut self, (pos, off): Cursor, width: u32) {
        self.last_touched = (pos, off);
        let chunk = &mut self.chunks[self.order[pos] as usize];
        let old = chunk.entries[off].width;
        if old == width {
            return;
        }
        chunk.entries[off].width = width;
        chunk.width = chunk.width - u64::from(old) + u64::from(width);
        self.fenwick_add(pos, i64::from(width) - i64::from(old));
        // Units before the hinted element change if this one comes before it.
        let hint = self.hint.get_mut().map(|mut at| {
            if (at.pos, at.off) > (pos, off) {
                at.before = at.before - u64::from(old) + u64::from(width);
            }
            at
        });
        self.hint.set_mut(hint);
    }

    /// The number of elements, visible or not.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// All entries in sequence order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.iter_chunks(0..self.order.len())
    }

    /// The chunks in sequence order, each as its entries and their total width.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = (&[Entry], u64)> + '_ {
        self.order
            .iter()
            .filter_map(move |&id| self.chunks.get(id as usize))
            .map(|c| (c.entries.as_slice(), c.width))
    }

    /// The entries of visible width, in sequence order (chunks of width 0 are skipped whole).
    pub(crate) fn visible_entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.chunks()
            .filter(|&(_, width)| width > 0)
            .flat_map(|(entries, _)| entries.iter().copied().filter(|e| e.width > 0))
    }

    /// The number of elements in each chunk, in sequence order (chunk positions are the
    /// positions in this sequence).
    pub(crate) fn chunk_lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.order
            .iter()
            .map(move |&id| self.chunks.get(id as usize).map_or(0, |c| c.entries.len()))
    }

    /// The entries of the chunks at positions `range` (clamped), in sequence order.
    pub(crate) fn iter_chunks(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = Entry> + '_ {
        self.order
            .get(range.start.min(self.order.len())..range.end.min(self.order.len()))
            .unwrap_or_default()
            .iter()
            .flat_map(move |&id| self.chunks[id as usize].entries.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opset::{NONE, Op, StoredValue};
    use converge_encoding::{Action, OpId};
    use quickcheck::quickcheck;

    fn op() -> Op {
        Op::new(
            (OpId::new(1, 0), 0, NONE),
            Action::Set,
            true,
            false,
            StoredValue::Null,
        )
    }

    /// The element holding visible unit `unit` in the model, and the units before it.
    fn model_unit(model: &[Entry], unit: u64) -> Option<(Entry, u64)> {
        let mut before = 0u64;
        for e in model {
            let w = u64::from(e.width);
            if unit < before + w {
                return Some((*e, before));
            }
            before += w;
        }
        None
    }

    /// Random inserts (with widths 0..3) and width changes, checked against a plain vector;
    /// after each, a lookup near the previous one (as typing does, through the hint) or
    /// anywhere.
    fn check(script: Vec<(u16, u8, bool)>) -> bool {
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut model: Vec<Entry> = Vec::new();
        let mut last_unit = 0u64;
        for (pos, width, set) in script {
            let total: u64 = model.iter().map(|e| u64::from(e.width)).sum();
            let unit = match width % 4 {
                0 => u64::from(pos) % (total + 1),
                1 => last_unit.saturating_sub(u64::from(pos % 40)),
                _ => last_unit + u64::from(pos % 40),
            };
            let found = seq
                .find_unit(unit)
                .map(|(c, before)| (seq.entry(c), before));
            if found != model_unit(&model, unit) {
                return false;
            }
            last_unit = unit;
            if set && !model.is_empty() {
                let i = usize::from(pos) % model.len();
                let c = seq.locate(model[i].op, &ops).unwrap();
                seq.set_width(c, u32::from(width % 3));
                model[i].width = u32::from(width % 3);
                continue;
            }
            let i = usize::from(pos) % (model.len() + 1);
            let entry = Entry {
                op: ops.len() as u32,
                width: u32::from(width % 3),
            };
            ops.push(op());
            let slot = if i == 0 {
                seq.slot_after(None)
            } else {
                seq.slot_after(seq.locate(model[i - 1].op, &ops))
            };
            let c = seq.insert(slot, entry, &mut ops);
            if seq.entry(c) != entry {
                return false;
            }
            model.insert(i, entry);
        }
        seq.assert_consistent(&ops);
        let total: u64 = model.iter().map(|e| u64::from(e.width)).sum();
        if seq.width() != total || seq.iter().collect::<Vec<_>>() != model {
            return false;
        }
        // Every unit maps to the right element.
        let mut unit = 0u64;
        for e in &model {
            for _ in 0..e.width {
                match seq.find_unit(unit) {
                    Some((c, before)) if seq.entry(c) == *e && before <= unit => {}
                    _ => return false,
                }
                unit += 1;
            }
        }
        seq.find_unit(total).is_none()
    }

    /// Inserts an element of width 1 made by a new op with id `id` at `slot`.
    fn push_element(seq: &mut SeqIndex, ops: &mut OpArena, slot: Cursor, id: OpId) -> Cursor {
        let op = ops.len() as u32;
        ops.push(Op::new(
            (id, 0, NONE),
            Action::Set,
            true,
            false,
            StoredValue::Null,
        ));
        seq.insert(slot, Entry { op, width: 1 }, ops)
    }

    /// A xorshift generator: each call gives a number below its argument.
    fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        }
    }

    /// A hint on a later chunk stays true while earlier chunks grow and split: the same
    /// element is looked up after every insert at the start.
    #[test]
    fn a_hint_follows_its_element_across_splits_before_it() {
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut model: Vec<Entry> = Vec::new();
        let mut push = |seq: &mut SeqIndex, model: &mut Vec<Entry>, at_start: bool| {
            let entry = Entry {
                op: ops.len() as u32,
                width: 1,
            };
            ops.push(op());
            let slot = match model.last() {
                Some(last) if !at_start => seq.slot_after(seq.locate(last.op, &ops)),
                _ => seq.slot_after(None),
            };
            seq.insert(slot, entry, &mut ops);
            if at_start {
                model.insert(0, entry);
            } else {
                model.push(entry);
            }
        };
        for _ in 0..1000 {
            push(&mut seq, &mut model, false);
        }
        // Element 770 sits near the start of the last chunk (six full chunks of 128 before
        // it), so a hint left on the wrong chunk would name a real element there, not fall
        // back for being out of range.
        let target = model[770];
        for inserted in 0..700u64 {
            let unit = 770 + inserted;
            let found = seq
                .find_unit(unit)
                .map(|(c, before)| (seq.entry(c), before));
            assert_eq!(found, Some((target, unit)), "after {inserted} inserts");
            push(&mut seq, &mut model, true);
        }
    }

    /// Runs of elements, each inserted right after the one before (a paste, a word typed),
    /// at random places: at the start, in the middle, at the end, some inside runs
    /// pasted before, with widths changed between them. Chunks fill by moving an element
    /// to the next chunk and by splits after a run's element; the index stays the vector's
    /// and every table beside it stays true.
    #[test]
    fn runs_pasted_anywhere_keep_the_index_and_its_tables_true() {
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut model: Vec<Entry> = Vec::new();
        let mut next = xorshift(0x5851_f42d_4c95_7f2d);
        for round in 0..120 {
            let at = match next(4) {
                0 => 0,
                1 => model.len(),
                _ => next(model.len() as u64 + 1) as usize,
            };
            let run = [1usize, 3, 100, 255, 256, 257, 600][next(7) as usize];
            // Some runs go backwards: each element before the one inserted before it.
            let backwards = next(3) == 0;
            let mut slot = if at == 0 {
                seq.slot_after(None)
            } else {
                seq.slot_after(seq.locate(model[at - 1].op, &ops))
            };
            for k in 0..run {
                let entry = Entry {
                    op: ops.len() as u32,
                    width: next(3) as u32,
                };
                ops.push(op());
                let c = seq.insert(slot, entry, &mut ops);
                assert_eq!(seq.entry(c), entry, "round {round}, element {k}");
                assert_eq!(seq.locate(entry.op, &ops), Some(c));
                let i = if backwards { at } else { at + k };
                if let Some(before) = i.checked_sub(1).and_then(|b| model.get(b)) {
                    // The element before it, found beside it or by a scan of its chunk.
                    let b = seq.locate(before.op, &ops).expect("the element before");
                    assert_eq!(seq.entry(b), *before);
                }
                model.insert(i, entry);
                // Backwards, the next element goes where this one is, before it.
                slot = if backwards {
                    c
                } else {
                    seq.slot_after(Some(c))
                };
            }
            for _ in 0..next(5) {
                let i = next(model.len() as u64) as usize;
                let width = next(3) as u32;
                let c = seq.locate(model[i].op, &ops).expect("an element");
                seq.set_width(c, width);
                model[i].width = width;
                // Its neighbours, found beside it (or by a scan, across a chunk's end).
                for j in [i.wrapping_sub(1), i + 1] {
                    if let Some(e) = model.get(j) {
                        let at = seq.locate(e.op, &ops).expect("a neighbour");
                        assert_eq!(seq.entry(at), *e, "round {round}");
                    }
                }
            }
            seq.assert_consistent(&ops);
            assert_eq!(seq.iter().collect::<Vec<_>>(), model, "round {round}");
            let unit = next(seq.width() + 1);
            let found = seq
                .find_unit(unit)
                .map(|(c, before)| (seq.entry(c), before));
            assert_eq!(found, model_unit(&model, unit), "round {round}");
        }
        assert!(seq.order.len() > BLOCK, "{} chunks", seq.order.len());
    }

    #[test]
    fn matches_vector_model_across_splits() {
        let script: Vec<(u16, u8, bool)> = (0..3000u32)
            .map(|i| ((i * 7919 % 65521) as u16, (i % 5) as u8, i % 11 == 0))
            .collect();
        assert!(check(script));
    }

    /// Splits of the last chunk grow the Fenwick tree node by node; it stays the tree its
    /// definition gives, and the blocks' least counters stay at most the exact ones.
    #[test]
    fn splits_at_the_end_keep_the_tree_its_definition_gives() {
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut last = None;
        // Elements appended one after another (widths 0-2, counters not in order), so that
        // the last chunk splits again and again, across block boundaries.
        for i in 0..(MAX_CHUNK * 3 * BLOCK) as u32 {
            let op = ops.len() as u32;
            let counter = (i * 7919) % 100_003 + 1;
            ops.push(Op::new(
                (OpId::new(counter, 0), 0, NONE),
                Action::Set,
                true,
                false,
                StoredValue::Null,
            ));
            let slot = seq.slot_after(last);
            last = Some(seq.insert(slot, Entry { op, width: i % 3 }, &mut ops));
            if i.is_multiple_of(997) || seq.order.len().is_multiple_of(BLOCK) {
                seq.assert_tables(&format!("after {i}"));
            }
        }
        assert!(seq.order.len() > 2 * BLOCK);
    }

    #[test]
    fn skipping_past_equal_counters_lands_where_a_walk_does() {
        // Thousands of elements of one counter (many actors' first inserts at one place),
        // placed by RGA's rule, with removals and queries between the inserts so that the
        // chunks' kept least elements are found, kept, and forgotten.
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let key = |ops: &OpArena, op: u32| (ops[op as usize].id.counter, ops[op as usize].id.actor);
        // Where RGA puts `new` after element `after` of `all` (at the start if none): before
        // the first element after it that is not greater.
        let walk = |seq: &SeqIndex, ops: &OpArena, all: &[Entry], after: Option<usize>, new| {
            let start = after.map_or(0, |i| i + 1);
            let stop = all[start..]
                .iter()
                .position(|e| key(ops, e.op) <= new)
                .map_or(all.len(), |k| start + k);
            match all.get(stop) {
                Some(e) => seq.locate(e.op, ops).unwrap(),
                None => seq.slot_after(seq.last()),
            }
        };
        let mut queries = 0;
        for _ in 0..6_000 {
            // Mostly at the start by RGA's rule, so that a run of one counter lies in
            // descending order of actors, as in a document; now and then after another
            // element.
            let all: Vec<Entry> = seq.iter().collect();
            let after = (next(10) == 0 && !all.is_empty()).then(|| next(all.len() as u64) as usize);
            // Mostly counter 7; a few 6 and 8 among them.
            let counter = [6, 7, 7, 7, 7, 7, 7, 7, 7, 8][next(10) as usize];
            let id = OpId::new(counter, next(5_000) as u32);
            // And now and then anywhere (local inserts are placed by index, not by id).
            let slot = if next(10) == 0 && !all.is_empty() {
                let at = next(all.len() as u64) as usize;
                seq.locate(all[at].op, &ops).unwrap()
            } else {
                walk(&seq, &ops, &all, after, (id.counter, id.actor))
            };
            push_element(&mut seq, &mut ops, slot, id);
            if next(20) == 0 {
                let all: Vec<Entry> = seq.iter().collect();
                let c = seq.locate(all[next(all.len() as u64) as usize].op, &ops);
                seq.remove(c.unwrap());
            }
            if next(10) != 0 {
                continue;
            }
            let all: Vec<Entry> = seq.iter().collect();
            let after = (next(4) == 0).then(|| next(all.len() as u64) as usize);
            let new = (7, next(5_000) as u32);
            let from = after.map(|i| seq.locate(all[i].op, &ops).unwrap());
            let got = seq.skip_greater(
                from,
                new.0,
                |op| key(&ops, op) > new,
                |a, b| key(&ops, a).cmp(&key(&ops, b)),
            );
            let want = walk(&seq, &ops, &all, after, new);
            assert_eq!(seq.entry_or_end(got), seq.entry_or_end(want));
            queries += 1;
        }
        assert!(seq.order.len() > 20 && queries > 400, "{queries} queries");
    }

    /// `skip_greater`, which passes over whole chunks and blocks by their least counters,
    /// lands where a walk over every element does: on an index of more than 64 chunks
    /// whose counters fall from the start (as when a peer typed at the start), with
    /// elements of random counters put anywhere and some taken out again.
    #[test]
    fn skipping_by_least_counters_lands_where_a_walk_does() {
        let mut ops = OpArena::default();
        let mut seq = SeqIndex::default();
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let push = push_element;
        for counter in 1..=20_000u32 {
            push(&mut seq, &mut ops, (0, 0), OpId::new(counter, 0));
        }
        for _ in 0..1_000 {
            let all: Vec<Entry> = seq.iter().collect();
            let at = next(all.len() as u64) as usize;
            let slot = seq.slot_after(seq.locate(all[at].op, &ops));
            let id = OpId::new(next(25_000) as u32 + 1, next(3) as u32);
            push(&mut seq, &mut ops, slot, id);
        }
        for _ in 0..300 {
            let all: Vec<Entry> = seq.iter().collect();
            let c = seq
                .locate(all[next(all.len() as u64) as usize].op, &ops)
                .unwrap();
            seq.remove(c);
        }
        assert!(seq.order.len() > 2 * BLOCK);
        let all: Vec<Entry> = seq.iter().collect();
        let key = |op: u32| (ops[op as usize].id.counter, ops[op as usize].id.actor);
        for round in 0..400 {
            let after = (round % 4 != 0).then(|| next(all.len() as u64) as usize);
            let new = (next(25_000) as u32 + 1, next(3) as u32);
            let from = after.map(|i| seq.locate(all[i].op, &ops).unwrap());
            let got = seq.skip_greater(from, new.0, |op| key(op) > new, |a, b| key(a).cmp(&key(b)));
            let start = after.map_or(0, |i| i + 1);
            let stop = all[start..]
                .iter()
                .position(|e| key(e.op) <= new)
                .map_or(all.len(), |k| start + k);
            let want = match all.get(stop) {
                Some(e) => seq.locate(e.op, &ops).unwrap(),
                None => seq.slot_after(seq.last()),
            };
            // The same slot, or (past the end) the same place in the sequence.
            assert_eq!(
                seq.entry_or_end(got),
                seq.entry_or_end(want),
                "round {round}"
            );
        }
    }

    impl SeqIndex {
        /// The Fenwick tree, total and blocks' least counters as their definitions give
        /// them, from the chunks alone: node `i` (1-based) sums the widths of the chunks
        /// at positions (i - lowbit(i), i]; a block's counter is the least of its chunks'.
        fn exact_tables(&self) -> (Vec<u64>, u64, Vec<u32>) {
            let widths: Vec<u64> = self.chunks().map(|(_, w)| w).collect();
            let mut prefix = vec![0u64];
            for w in &widths {
                prefix.push(prefix.last().copied().unwrap_or(0) + w);
            }
            let mut fenwick = vec![0u64];
            fenwick
                .extend((1..=widths.len()).map(|i| prefix[i] - prefix[i - (i & i.wrapping_neg())]));
            let block_min = self
                .order
                .chunks(BLOCK)
                .map(|ids| {
                    let mins = ids.iter().map(|&id| self.chunks[id as usize].min_counter);
                    mins.min().unwrap_or(u32::MAX)
                })
                .collect();
            (fenwick, prefix.last().copied().unwrap_or(0), block_min)
        }

        /// Panics unless the Fenwick tree and total are [`Self::exact_tables`]' and each
        /// block's least counter is at most the exact one.
        fn assert_tables(&self, what: &str) {
            let (fenwick, total, block_min) = self.exact_tables();
            assert_eq!(self.fenwick, fenwick, "{what}");
            assert_eq!(self.total, total, "{what}");
            assert_eq!(self.block_min.len(), block_min.len(), "{what}");
            for (kept, exact) in self.block_min.iter().zip(&block_min) {
                assert!(
                    kept <= exact,
                    "{what}: block least counter {kept} > {exact}"
                );
            }
        }

        /// Panics unless every table kept beside the chunks is true of them: positions,
        /// widths, the Fenwick tree and the total as their definitions give them, least
        /// counters and the blocks' at most the exact ones, each element's op naming its
        /// chunk (and found by `locate` at each chunk's ends), the element count and the
        /// hint.
        fn assert_consistent(&self, ops: &OpArena) {
            let mut len = 0;
            for (p, &id) in self.order.iter().enumerate() {
                assert_eq!(self.position[id as usize] as usize, p, "position of {id}");
                let chunk = &self.chunks[id as usize];
                let width: u64 = chunk.entries.iter().map(|e| u64::from(e.width)).sum();
                assert_eq!(chunk.width, width, "width of chunk {id}");
                assert!(chunk.min_counter <= Chunk::least_counter(&chunk.entries, ops));
                for e in &chunk.entries {
                    assert_eq!(ops[e.op as usize].chunk, id, "chunk of op {}", e.op);
                }
                // (Every element's would make the quickcheck scripts slow.)
                let last = chunk.entries.len().saturating_sub(1);
                for off in [0, last].into_iter().filter(|&o| o < chunk.entries.len()) {
                    let op = chunk.entries[off].op;
                    assert_eq!(self.locate(op, ops), Some((p, off)), "op {op}");
                }
                len += chunk.entries.len();
            }
            assert_eq!(self.len, len);
            self.assert_tables("kept tables");
            if let Some(at) = self.hint.get() {
                assert!(at.off < self.chunk_at(at.pos).entries.len(), "hint {at:?}");
                assert_eq!(
                    self.units_before((at.pos, at.off)),
                    at.before,
                    "hint {at:?}"
                );
            }
        }

        /// The element at a slot, or `None` for a slot past its chunk's last element.
        fn entry_or_end(&self, (pos, off): Cursor) -> Option<Entry> {
            self.chunk_at(pos).entries.get(off).copied()
        }
    }

    quickcheck! {
        fn prop_matches_vector_model(script: Vec<(u16, u8, bool)>) -> bool {
            check(script)
        }
    }
}
