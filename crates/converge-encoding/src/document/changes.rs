//! [`DocChanges`]: a document chunk's change metadata rows, kept in 32 bytes each.
//!
//! A decoded [`DocChange`] is 96 bytes: a shared message handle, an inline dependency
//! vector and a vector of extra bytes beside its numbers. A loader holds every row while it
//! rebuilds the changes, at its memory peak: for the paper document's 259,779 changes that
//! was 24.9 MB, a third of the peak heap. Here a row keeps its numbers (seq and max op in 32
//! bits), the index of its message among the distinct texts, and where its deps and extra
//! bytes start in two flat vectors (each ends where the next row's start). A row whose
//! numbers do not fit is kept whole beside the rows (never, short of 4 billion ops).

use std::collections::HashMap;
use std::sync::Arc;

use crate::document::writer::DocChangeRef;

use super::DocChange;

/// `Row::message` for a change without one.
const NO_MESSAGE: u32 = u32::MAX;
/// `Row::message` of a row kept whole in `DocChanges::wide` (its seq or max op would not fit
/// 32 bits, nor its deps or extra bytes the flat vectors' 32-bit offsets, or there are that
/// many distinct messages); `Row::actor` then holds its index there, and its spans are empty.
const WIDE: u32 = u32::MAX - 1;

/// One change row (32 bytes).
#[derive(Clone, Copy, Debug)]
struct Row {
    time: i64,
    seq: u32,
    max_op: u32,
    /// Where its deps start in `DocChanges::deps`; they end where the next row's start.
    deps: u32,
    /// Where its extra bytes start in `DocChanges::extra`; likewise.
    extra: u32,
    actor: u32,
    /// Its message's index in `DocChanges::messages`, or [`NO_MESSAGE`] or [`WIDE`].
    message: u32,
}

/// A document chunk's change metadata in document order (spec format.md §7.2), 32 bytes a
/// row plus 4 bytes a dep, the extra bytes, and each distinct message once. Read the rows
/// as [`DocChangeRef`]s; [`DocChanges::to_vec`] gives owned [`DocChange`]s.
#[derive(Clone, Default)]
pub struct DocChanges {
    rows: Vec<Row>,
    /// The rows' deps, back to back.
    deps: Vec<u32>,
    /// The rows' extra bytes, back to back.
    extra: Vec<u8>,
    /// Distinct messages (a text seen before is found in `known`, while that holds fewer
    /// than [`DocChanges::MAX_KNOWN`]; apps tag their changes with a few texts).
    messages: Vec<Arc<str>>,
    known: HashMap<Arc<str>, u32>,
    /// Rows that do not fit the flat vectors (never, short of 4 GiB of deps or extra bytes).
    wide: Vec<DocChange>,
}

impl DocChanges {
    /// Distinct texts remembered for sharing.
    const MAX_KNOWN: usize = 1024;

    /// No rows.
    pub fn new() -> Self {
        DocChanges::default()
    }

    /// No rows, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        DocChanges {
            rows: Vec::with_capacity(n),
            deps: Vec::with_capacity(n),
            ..DocChanges::default()
        }
    }

    /// The number of changes.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no changes.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Change `i`, borrowed.
    pub fn get(&self, i: usize) -> Option<DocChangeRef<'_, '_>> {
        self.view(i, self.rows.get(i)?)
    }

    /// The maxOp of change `i`, read from its row alone.
    pub fn max_op(&self, i: usize) -> Option<u64> {
        let row = self.rows.get(i)?;
        if row.message == WIDE {
            return self.wide.get(row.actor as usize).map(|c| c.max_op);
        }
        Some(u64::from(row.max_op))
    }

    /// Every change, borrowed, in order.
    pub fn iter(&self) -> impl Iterator<Item = DocChangeRef<'_, '_>> + '_ {
        // Every row has a view (`push` checked its spans and its wide index).
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| self.view(i, row))
    }

    /// Where the deps and the extra bytes of the row after row `i` start.
    fn next_starts(&self, i: usize) -> (usize, usize) {
        match self.rows.get(i + 1) {
            Some(next) => (next.deps as usize, next.extra as usize),
            None => (self.deps.len(), self.extra.len()),
        }
    }

    /// Row `i`'s deps, for a row not kept whole.
    fn deps_of(&self, i: usize, row: &Row) -> Option<&[u32]> {
        self.deps.get(row.deps as usize..self.next_starts(i).0)
    }

    /// Every change's deps (as indexes of earlier changes), in order.
    pub(crate) fn each_deps(&self) -> impl Iterator<Item = &[u32]> + '_ {
        self.rows.iter().enumerate().map(move |(i, row)| {
            let deps = if row.message == WIDE {
                self.wide.get(row.actor as usize).map(|c| c.deps.as_slice())
            } else {
                self.deps_of(i, row)
            };
            deps.unwrap_or_default()
        })
    }

    fn view(&self, i: usize, row: &Row) -> Option<DocChangeRef<'_, '_>> {
        if row.message == WIDE {
            return self.wide.get(row.actor as usize).map(DocChange::as_ref);
        }
        let (deps_end, extra_end) = self.next_starts(i);
        Some(DocChangeRef {
            actor: row.actor,
            seq: u64::from(row.seq),
            max_op: u64::from(row.max_op),
            time: row.time,
            message: match row.message {
                NO_MESSAGE => None,
                m => Some(self.messages.get(m as usize)?),
            },
            deps: self.deps.get(row.deps as usize..deps_end)?,
            extra_bytes: self.extra.get(row.extra as usize..extra_end)?,
        })
    }

    /// Appends a change.
    pub fn push(&mut self, c: &DocChangeRef<'_, '_>) {
        let (Ok(seq), Ok(max_op)) = (u32::try_from(c.seq), u32::try_from(c.max_op)) else {
            self.push_wide(c);
            return;
        };
        let spans = (
            span_after(self.deps.len(), c.deps.len()),
            span_after(self.extra.len(), c.extra_bytes.len()),
        );
        let message = match c.message {
            None => Some(NO_MESSAGE),
            Some(text) => self.message_index(text),
        };
        let (Some(deps), Some(extra), Some(message)) = (spans.0, spans.1, message) else {
            self.push_wide(c);
            return;
        };
        self.deps.extend_from_slice(c.deps);
        self.extra.extend_from_slice(c.extra_bytes);
        self.rows.push(Row {
            time: c.time,
            seq,
            max_op,
            deps,
            extra,
            actor: c.actor,
            message,
        });
    }

    /// Keeps `c` whole. Its spans are empty where the flat vectors end now, which is within
    /// 32 bits: only rows whose spans fit were appended to them.
    fn push_wide(&mut self, c: &DocChangeRef<'_, '_>) {
        let index = u32::try_from(self.wide.len()).unwrap_or(u32::MAX);
        self.wide.push(DocChange::from(*c));
        self.rows.push(Row {
            time: c.time,
            seq: 0,
            max_op: 0,
            deps: u32::try_from(self.deps.len()).unwrap_or(u32::MAX),
            extra: u32::try_from(self.extra.len()).unwrap_or(u32::MAX),
            actor: index,
            message: WIDE,
        });
    }

    /// The index of `text` in `messages`, added if it is not known; `None` if the index
    /// would not fit a row.
    fn message_index(&mut self, text: &str) -> Option<u32> {
        // Runs of one text are common: compare with the last row's before hashing.
        if let Some(last) = self.rows.last().map(|r| r.message)
            && self
                .messages
                .get(last as usize)
                .is_some_and(|m| **m == *text)
        {
            return Some(last);
        }
        if let Some(&i) = self.known.get(text) {
            return Some(i);
        }
        let i = u32::try_from(self.messages.len())
            .ok()
            .filter(|&i| i < WIDE)?;
        let shared: Arc<str> = text.into();
        if self.known.len() < Self::MAX_KNOWN {
            self.known.insert(Arc::clone(&shared), i);
        }
        self.messages.push(shared);
        Some(i)
    }

    /// The changes as owned [`DocChange`]s.
    pub fn to_vec(&self) -> Vec<DocChange> {
        self.iter().map(DocChange::from).collect()
    }
}

/// The start of `len` items appended after `end` items, if it and their end fit 32 bits.
fn span_after(end: usize, len: usize) -> Option<u32> {
    let start = u32::try_from(end).ok()?;
    start.checked_add(u32::try_from(len).ok()?)?;
    Some(start)
}

impl DocChange {
    /// The change row, borrowed.
    pub fn as_ref(&self) -> DocChangeRef<'_, '_> {
        DocChangeRef {
            actor: self.actor,
            seq: self.seq,
            max_op: self.max_op,
            time: self.time,
            message: self.message.as_deref(),
            deps: &self.deps,
            extra_bytes: &self.extra_bytes,
        }
    }
}

impl From<DocChangeRef<'_, '_>> for DocChange {
    fn from(c: DocChangeRef<'_, '_>) -> Self {
        DocChange {
            actor: c.actor,
            seq: c.seq,
            max_op: c.max_op,
            time: c.time,
            message: c.message.map(Arc::from),
            deps: c.deps.iter().copied().collect(),
            extra_bytes: c.extra_bytes.to_vec(),
        }
    }
}

impl From<Vec<DocChange>> for DocChanges {
    fn from(changes: Vec<DocChange>) -> Self {
        changes.into_iter().collect()
    }
}

impl FromIterator<DocChange> for DocChanges {
    fn from_iter<I: IntoIterator<Item = DocChange>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut out = DocChanges::with_capacity(iter.size_hint().0);
        for c in iter {
            out.push(&c.as_ref());
        }
        out
    }
}

impl PartialEq for DocChanges {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for DocChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn change(i: u64, message: Option<&str>, deps: &[u32], extra: &[u8]) -> DocChange {
        DocChange {
            actor: i as u32 % 3,
            seq: i + 1,
            max_op: i * 7,
            time: -(i as i64),
            message: message.map(Arc::from),
            deps: deps.iter().copied().collect(),
            extra_bytes: extra.to_vec(),
        }
    }

    /// Rows come back as they went in, with and without messages, deps and extra bytes.
    #[test]
    fn rows_round_trip() {
        let owned = vec![
            change(0, None, &[], &[]),
            change(1, Some("a"), &[0], &[]),
            change(2, Some("b"), &[0, 1], &[1, 2, 3]),
            change(3, Some("a"), &[2], &[4]),
            change(4, Some(""), &[0, 1, 2, 3], &[]),
            change(u64::from(u32::MAX) + 5, None, &[], &[9; 300]),
        ];
        let rows = DocChanges::from(owned.clone());
        assert_eq!(rows.len(), owned.len());
        assert_eq!(rows.to_vec(), owned);
        for (i, c) in owned.iter().enumerate() {
            assert_eq!(rows.get(i), Some(c.as_ref()));
        }
        assert_eq!(rows.get(owned.len()), None);
        assert_eq!(rows, DocChanges::from(owned));
        assert!(DocChanges::new().is_empty());
    }

    /// Equal messages are stored once.
    #[test]
    fn equal_messages_are_kept_once() {
        let rows: DocChanges = (0..10)
            .map(|i| change(i, Some(["x", "y"][i as usize % 2]), &[], &[]))
            .collect();
        assert_eq!(rows.messages.len(), 2);
        let text = |i: usize| rows.get(i).unwrap().message.unwrap().as_ptr();
        assert_eq!(text(0), text(8));
        assert_ne!(text(0), text(1));
    }

    /// A row whose spans would not fit 32 bits is kept whole, and reads back the same.
    #[test]
    fn wide_rows_read_back() {
        let mut rows = DocChanges::new();
        rows.push(&change(0, Some("m"), &[], &[1]).as_ref());
        let wide = change(1, Some("w"), &[0], &[2, 3]);
        rows.push_wide(&wide.as_ref());
        rows.push(&change(2, None, &[1], &[]).as_ref());
        assert_eq!(rows.get(1), Some(wide.as_ref()));
        assert_eq!(rows.iter().nth(1), Some(wide.as_ref()));
        assert_eq!(rows.get(2).unwrap().deps, &[1]);
        assert_eq!(span_after(u32::MAX as usize, 1), None);
        assert_eq!(span_after(5, 3), Some(5));
    }

    /// A row whose seq or max op does not fit 32 bits is kept whole, and the rows around it
    /// keep their spans.
    #[test]
    fn rows_with_large_numbers_are_kept_whole() {
        let mut big_op = change(7, Some("b"), &[0, 1], &[5, 6]);
        big_op.max_op = u64::from(u32::MAX) + 1;
        let mut big_seq = change(8, None, &[2], &[7]);
        big_seq.seq = u64::MAX;
        let owned = vec![
            change(0, Some("a"), &[], &[1]),
            change(1, None, &[0], &[]),
            big_op,
            change(3, Some("a"), &[1, 2], &[2, 3]),
            big_seq,
            change(5, None, &[3, 4], &[4]),
        ];
        let rows = DocChanges::from(owned.clone());
        assert_eq!(rows.wide.len(), 2);
        assert_eq!(rows.to_vec(), owned);
        for (i, c) in owned.iter().enumerate() {
            assert_eq!(rows.get(i), Some(c.as_ref()));
            assert_eq!(rows.max_op(i), Some(c.max_op));
        }
        let deps: Vec<&[u32]> = rows.each_deps().collect();
        let want: Vec<&[u32]> = owned.iter().map(|c| c.deps.as_slice()).collect();
        assert_eq!(deps, want);
    }

    #[test]
    fn a_row_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 32);
    }
}
