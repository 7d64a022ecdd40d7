//! [`DocOps`]: a document chunk's stored ops, kept in 40 bytes each.
//!
//! A decoded [`DocOp`] owns its map key, successor list and mark name (104 bytes, more with
//! heap blocks); a document of millions of ops (godot-thread.amrg has 9.4M) held them all
//! while its changes were rebuilt, about 1 GB. Here an op is one fixed-size row: ids, a key
//! that is an element id or a span of its block's map keys (kept back to back), the value (a
//! number in the row, a string or byte string as a span of its block's text or byte arena),
//! and where its successors start in its block's flat successor list. Rows live in blocks
//! of [`BLOCK_ROWS`], so a loader can consume them a block at a time.

use crate::document::DocValue;
use crate::document::writer::DocOpRef;
use crate::ids::{ElemId, Key, KeyRef, ObjId, OpId};
use crate::value::{Action, ScalarValue, ValueRef};

use super::DocOp;

/// Rows per block: 40 MiB of rows, above the largest size glibc's malloc serves from its heap
/// (32 MiB), so that a block a loader has read and dropped goes back to the system at once.
/// (Tests use small blocks, so that their documents span several.)
#[cfg(not(test))]
pub(crate) const BLOCK_ROWS: usize = 1 << 20;
#[cfg(test)]
pub(crate) const BLOCK_ROWS: usize = 1 << 6;

/// What a row's `key` field holds.
const KEY_MAP: u8 = 0;
const KEY_HEAD: u8 = 1;
const KEY_ELEM: u8 = 2;
/// A map key kept apart, in the block's `long_keys` (see [`DocOpBlock`]).
const KEY_MAP_LONG: u8 = 3;

/// The most bytes of map keys a block keeps back to back (spans are 32-bit; this crate's
/// tests keep only 64, so that their keys take both ways).
const KEY_TEXT_MAX: usize = if cfg!(test) { 64 } else { u32::MAX as usize };

/// One op (40 bytes).
#[derive(Clone, Debug)]
struct Row {
    id: OpId,
    /// The object's id; unused for the root.
    obj: OpId,
    /// A sequence element's id, or for a map key its span in the block's `key_text` (start
    /// in `counter`, length in `actor`; for `KEY_MAP_LONG`, its index in `long_keys` in
    /// `counter`).
    key: OpId,
    /// The value, by its kind in `flags`: a number's 64 bits (low half first), a bool in the
    /// first word, or (start, length) of a string in the block's `text`, of bytes in its
    /// `bytes` (an unknown type's code is the byte before its span), or the index of a value
    /// in its `others`.
    value: [u32; 2],
    /// Where its successors start in the block's `succ` (they end where the next row's do).
    succ_start: u32,
    action: Action,
    /// How many successors it has, [`MANY`] for that many or more (then they end where the
    /// next row's start).
    succ_len: u8,
    /// `KEY_MAP`, `KEY_MAP_LONG`, `KEY_HEAD` or `KEY_ELEM`.
    key_kind: u8,
    /// Bit 0: insert; bit 1: expand; bit 2: the object is the root; bit 3: has a mark name;
    /// bits 4-7: the value's kind (`V_*`).
    flags: u8,
}

/// Value kinds (the high four bits of a row's `flags`).
const V_NULL: u8 = 0;
const V_BOOL: u8 = 1;
const V_UINT: u8 = 2;
const V_INT: u8 = 3;
const V_F64: u8 = 4;
const V_COUNTER: u8 = 5;
const V_TIMESTAMP: u8 = 6;
const V_STR: u8 = 7;
const V_BYTES: u8 = 8;
const V_UNKNOWN: u8 = 9;
/// A value whose span would not fit 32 bits, kept whole in the block's `others`.
const V_OTHER: u8 = 10;

const MANY: u8 = u8::MAX;

const INSERT: u8 = 1;
const EXPAND: u8 = 2;
const ROOT: u8 = 4;
const MARK: u8 = 8;

/// An op's id, what it addresses, and its successors: what grouping ops by key needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpHead<'a> {
    pub(crate) id: OpId,
    pub(crate) obj: ObjId,
    pub(crate) key: KeyRef<'a>,
    pub(crate) insert: bool,
    pub(crate) action: Action,
    pub(crate) succ: &'a [OpId],
}

/// Up to 2²⁰ consecutive ops of a [`DocOps`], with what they refer to.
#[derive(Clone, Debug, Default)]
pub struct DocOpBlock {
    rows: Vec<Row>,
    /// The rows' successors, back to back.
    succ: Vec<OpId>,
    /// Map keys, back to back (one string for the block, not an allocation per key);
    /// consecutive rows with the same key share one span.
    key_text: String,
    /// The span in `key_text` of the key pushed last, if it is there.
    last_key: Option<(u32, u32)>,
    /// Map keys whose span in `key_text` would not fit 32 bits (never, short of 4 GiB of
    /// keys in one block).
    long_keys: Vec<Box<str>>,
    /// (row, name) of the rows with a mark name, by row.
    mark_names: Vec<(u32, Box<str>)>,
    /// The rows' string values, back to back.
    text: String,
    /// The rows' byte-string and unknown-type values, back to back.
    bytes: Vec<u8>,
    /// Values too long for a 32-bit span (never, short of a 4 GiB block).
    others: Vec<ScalarValue>,
}

impl DocOpBlock {
    /// The number of ops in the block.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the block has no ops.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The block's `k`-th op.
    ///
    /// `get`, `head` and `value` are always inlined: a load reads every op through them,
    /// from the op set's build in two forms (beside the change rebuild or after it) and from
    /// the rebuild; left to the compiler's choice, a second form of the build made the first
    /// one 8-28 % slower (loads of many-change chunks 3-13 %); inlined, those loads are as
    /// fast as with one form (egwalker A2.am, C2.am).
    #[inline(always)]
    pub fn get(&self, k: usize) -> Option<DocOpRef<'_, '_>> {
        let head = self.head(k)?;
        let row = self.rows.get(k)?;
        let mark_name = if row.flags & MARK != 0 {
            self.mark_names
                .binary_search_by_key(&(k as u32), |m| m.0)
                .ok()
                .and_then(|i| self.mark_names.get(i))
                .map(|m| &*m.1)
        } else {
            None
        };
        Some(DocOpRef {
            id: head.id,
            obj: head.obj,
            key: head.key,
            insert: head.insert,
            action: head.action,
            value: self.value(row),
            succ: head.succ,
            expand: row.flags & EXPAND != 0,
            mark_name,
        })
    }

    /// What the block's `k`-th op addresses, without its value.
    #[inline(always)]
    pub(crate) fn head(&self, k: usize) -> Option<OpHead<'_>> {
        let row = self.rows.get(k)?;
        let start = row.succ_start as usize;
        let end = if row.succ_len == MANY {
            self.rows
                .get(k + 1)
                .map_or(self.succ.len(), |next| next.succ_start as usize)
        } else {
            start + usize::from(row.succ_len)
        };
        let key = match row.key_kind {
            KEY_MAP => {
                let start = row.key.counter as usize;
                KeyRef::Map(
                    self.key_text
                        .get(start..start + row.key.actor as usize)
                        .unwrap_or_default(),
                )
            }
            KEY_MAP_LONG => KeyRef::Map(
                self.long_keys
                    .get(row.key.counter as usize)
                    .map_or("", |k| &**k),
            ),
            KEY_HEAD => KeyRef::Seq(ElemId::Head),
            _ => KeyRef::Seq(ElemId::Op(row.key)),
        };
        Some(OpHead {
            id: row.id,
            obj: if row.flags & ROOT != 0 {
                ObjId::Root
            } else {
                ObjId::Op(row.obj)
            },
            key,
            insert: row.flags & INSERT != 0,
            action: row.action,
            succ: self.succ.get(start..end).unwrap_or_default(),
        })
    }

    /// The block's ops in order.
    pub fn iter(&self) -> impl Iterator<Item = DocOpRef<'_, '_>> + '_ {
        (0..self.rows.len()).filter_map(move |k| self.get(k))
    }

    /// A row's value.
    #[inline(always)]
    fn value(&self, row: &Row) -> ValueRef<'_> {
        let [lo, hi] = row.value;
        let bits = u64::from(lo) | (u64::from(hi) << 32);
        // (Saturating: for a number `lo` and `hi` are its halves, and on a 32-bit target
        // their sum could overflow; a span `store_value` wrote never does.)
        let span = lo as usize..(lo as usize).saturating_add(hi as usize);
        match row.flags >> 4 {
            V_BOOL => ValueRef::Bool(lo != 0),
            V_UINT => ValueRef::Uint(bits),
            V_INT => ValueRef::Int(bits as i64),
            V_F64 => ValueRef::F64(f64::from_bits(bits)),
            V_COUNTER => ValueRef::Counter(bits as i64),
            V_TIMESTAMP => ValueRef::Timestamp(bits as i64),
            // Spans cut at the ends of whole strings: on char boundaries, so `get` only
            // checks them (no UTF-8 validation).
            V_STR => ValueRef::Str(self.text.get(span).unwrap_or_default()),
            V_BYTES => ValueRef::Bytes(self.bytes.get(span).unwrap_or_default()),
            V_UNKNOWN => ValueRef::Unknown {
                type_code: lo
                    .checked_sub(1)
                    .and_then(|t| self.bytes.get(t as usize))
                    .copied()
                    .unwrap_or_default(),
                bytes: self.bytes.get(span).unwrap_or_default(),
            },
            V_OTHER => self
                .others
                .get(lo as usize)
                .map_or(ValueRef::Null, ValueRef::from),
            _ => ValueRef::Null,
        }
    }

    /// `value` in row form: its kind and payload, its text or bytes appended to the block's.
    fn store_value(&mut self, value: ValueRef<'_>) -> (u8, [u32; 2]) {
        let split = |bits: u64| [bits as u32, (bits >> 32) as u32];
        // A span of `len` bytes starting at `start`, if both fit 32 bits.
        let span = |start: usize, len: usize| -> Option<[u32; 2]> {
            let end = start.checked_add(len)?;
            u32::try_from(end).ok()?;
            Some([start as u32, len as u32])
        };
        match value {
            ValueRef::Null => (V_NULL, [0, 0]),
            ValueRef::Bool(b) => (V_BOOL, [u32::from(b), 0]),
            ValueRef::Uint(u) => (V_UINT, split(u)),
            ValueRef::Int(i) => (V_INT, split(i as u64)),
            ValueRef::F64(f) => (V_F64, split(f.to_bits())),
            ValueRef::Counter(c) => (V_COUNTER, split(c as u64)),
            ValueRef::Timestamp(t) => (V_TIMESTAMP, split(t as u64)),
            ValueRef::Str(s) if let Some(at) = span(self.text.len(), s.len()) => {
                self.text.push_str(s);
                (V_STR, at)
            }
            ValueRef::Bytes(b) if let Some(at) = span(self.bytes.len(), b.len()) => {
                self.bytes.extend_from_slice(b);
                (V_BYTES, at)
            }
            ValueRef::Unknown { type_code, bytes }
                if let Some(at) = span(self.bytes.len() + 1, bytes.len()) =>
            {
                self.bytes.push(type_code);
                self.bytes.extend_from_slice(bytes);
                (V_UNKNOWN, at)
            }
            v => {
                self.others.push(ScalarValue::from(v));
                (V_OTHER, [self.others.len() as u32 - 1, 0])
            }
        }
    }

    fn push(&mut self, op: DocOpRef<'_, '_>) {
        let k = self.rows.len() as u32;
        let (key_kind, key) = match op.key {
            KeyRef::Map(s) => {
                let last = self.last_key.filter(|&(start, len)| {
                    let start = start as usize;
                    self.key_text.get(start..start + len as usize) == Some(s)
                });
                match last {
                    Some((start, len)) => (KEY_MAP, OpId::new(start, len)),
                    None => match u32::try_from(self.key_text.len()) {
                        Ok(start) if self.key_text.len() + s.len() <= KEY_TEXT_MAX => {
                            let len = s.len() as u32;
                            self.key_text.push_str(s);
                            self.last_key = Some((start, len));
                            (KEY_MAP, OpId::new(start, len))
                        }
                        _ => {
                            self.long_keys.push(s.into());
                            self.last_key = None;
                            (KEY_MAP_LONG, OpId::new(self.long_keys.len() as u32 - 1, 0))
                        }
                    },
                }
            }
            KeyRef::Seq(ElemId::Head) => (KEY_HEAD, OpId::default()),
            KeyRef::Seq(ElemId::Op(e)) => (KEY_ELEM, e),
        };
        let (obj, root) = match op.obj {
            ObjId::Root => (OpId::default(), ROOT),
            ObjId::Op(o) => (o, 0),
        };
        let mut flags = root;
        if op.insert {
            flags |= INSERT;
        }
        if op.expand {
            flags |= EXPAND;
        }
        if let Some(name) = op.mark_name {
            flags |= MARK;
            self.mark_names.push((k, name.into()));
        }
        let (kind, value) = self.store_value(op.value);
        flags |= kind << 4;
        self.rows.push(Row {
            id: op.id,
            obj,
            key,
            value,
            succ_start: self.succ.len() as u32,
            action: op.action,
            succ_len: u8::try_from(op.succ.len()).unwrap_or(MANY),
            key_kind,
            flags,
        });
        self.succ.extend_from_slice(op.succ);
    }
}

/// A document chunk's stored ops in document order (spec format.md §7.4), 40 bytes each
/// plus their successors, string and byte values, and map keys (see the module docs). Read
/// them as [`DocOpRef`]s; [`DocOps::to_vec`] gives owned [`DocOp`]s.
#[derive(Clone)]
pub struct DocOps {
    blocks: Vec<DocOpBlock>,
    len: usize,
    /// How many ops the builder expects in all: a new block reserves room for its share.
    expected: usize,
    /// The rows of the first block: [`BLOCK_ROWS`], unless the rows were decoded on two
    /// threads split inside the first block (see [`DocOps::append`]); every later block
    /// holds [`BLOCK_ROWS`] rows from there (the last one up to that).
    first: usize,
}

impl Default for DocOps {
    fn default() -> Self {
        DocOps {
            blocks: Vec::new(),
            len: 0,
            expected: 0,
            first: BLOCK_ROWS,
        }
    }
}

impl DocOps {
    /// No ops.
    pub fn new() -> Self {
        DocOps::default()
    }

    /// The block of the `i`-th op, and the op's row in it.
    #[inline(always)]
    fn locate(&self, i: usize) -> (usize, usize) {
        match i.checked_sub(self.first) {
            None => (0, i),
            Some(j) => (1 + j / BLOCK_ROWS, j % BLOCK_ROWS),
        }
    }

    /// No ops, with room planned for `n` (a block's rows are reserved as the block starts).
    pub fn with_capacity(n: usize) -> Self {
        DocOps {
            expected: n,
            ..DocOps::default()
        }
    }

    /// The number of ops.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no ops.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`-th op.
    #[inline]
    pub fn get(&self, i: usize) -> Option<DocOpRef<'_, '_>> {
        let (b, k) = self.locate(i);
        self.blocks.get(b)?.get(k)
    }

    /// The `i`-th op's head.
    #[inline]
    pub(crate) fn head(&self, i: usize) -> Option<OpHead<'_>> {
        let (b, k) = self.locate(i);
        self.blocks.get(b)?.head(k)
    }

    /// The ops' ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = OpId> + '_ {
        self.blocks.iter().flat_map(|b| b.rows.iter().map(|r| r.id))
    }

    /// The ops in order.
    pub fn iter(&self) -> impl Iterator<Item = DocOpRef<'_, '_>> + '_ {
        self.blocks.iter().flat_map(DocOpBlock::iter)
    }

    /// Appends an op.
    pub fn push(&mut self, op: DocOpRef<'_, '_>) {
        if self
            .blocks
            .last()
            .is_none_or(|b| b.rows.len() >= BLOCK_ROWS)
        {
            let mut block = DocOpBlock::default();
            block
                .rows
                .reserve_exact(self.expected.saturating_sub(self.len).min(BLOCK_ROWS));
            self.blocks.push(block);
        }
        if let Some(block) = self.blocks.last_mut() {
            block.push(op);
            self.len += 1;
        }
    }

    /// Appends `later`'s ops after these. Its blocks are taken as they are when these fill
    /// whole blocks (a decode split at a block boundary), or are one block of fewer rows
    /// (a decode split inside the first block: that block stays short); otherwise its ops
    /// are copied.
    pub(crate) fn append(&mut self, later: DocOps) {
        if later.len == 0 {
            return;
        }
        let regular = self.first == BLOCK_ROWS && later.first == BLOCK_ROWS;
        if regular && self.len.is_multiple_of(BLOCK_ROWS) {
            self.len += later.len;
            self.blocks.extend(later.blocks);
        } else if regular && self.blocks.len() == 1 {
            self.first = self.len;
            self.len += later.len;
            self.blocks.extend(later.blocks);
        } else {
            for op in later.iter() {
                self.push(op);
            }
        }
    }

    /// The ops as owned [`DocOp`]s.
    pub fn to_vec(&self) -> Vec<DocOp> {
        self.iter().map(DocOp::from).collect()
    }

    /// The number of successor ids of all the ops.
    pub fn succ_count(&self) -> usize {
        self.blocks.iter().map(|b| b.succ.len()).sum()
    }

    /// The blocks, in order.
    pub fn blocks(&self) -> std::slice::Iter<'_, DocOpBlock> {
        self.blocks.iter()
    }

    /// The blocks, in order, for a reader that drops each once it has read it.
    pub fn into_blocks(self) -> std::vec::IntoIter<DocOpBlock> {
        self.blocks.into_iter()
    }
}

impl DocOp {
    /// The op, borrowed.
    pub fn as_ref(&self) -> DocOpRef<'_, '_> {
        DocOpRef {
            id: self.id,
            obj: self.obj,
            key: KeyRef::of(&self.key),
            insert: self.insert,
            action: self.action,
            value: self.value.as_value_ref(),
            succ: &self.succ,
            expand: self.expand,
            mark_name: self.mark_name.as_deref(),
        }
    }
}

impl From<DocOpRef<'_, '_>> for DocOp {
    fn from(op: DocOpRef<'_, '_>) -> Self {
        DocOp {
            id: op.id,
            obj: op.obj,
            key: match op.key {
                KeyRef::Map(s) => Key::Map(s.to_owned()),
                KeyRef::Seq(e) => Key::Seq(e),
            },
            insert: op.insert,
            action: op.action,
            value: DocValue::from(op.value),
            succ: op.succ.iter().copied().collect(),
            expand: op.expand,
            mark_name: op.mark_name.map(Box::from),
        }
    }
}

impl From<Vec<DocOp>> for DocOps {
    fn from(ops: Vec<DocOp>) -> Self {
        ops.into_iter().collect()
    }
}

impl FromIterator<DocOp> for DocOps {
    fn from_iter<I: IntoIterator<Item = DocOp>>(iter: I) -> Self {
        let mut out = DocOps::new();
        for op in iter {
            out.push(op.as_ref());
        }
        out
    }
}

impl PartialEq for DocOps {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for DocOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::value::ScalarValue;

    #[test]
    fn a_row_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 40);
    }

    /// A value kept whole (its span would pass 32 bits, which a test cannot allocate) reads
    /// back from `others`.
    #[test]
    fn a_value_kept_whole_reads_back() {
        let mut block = DocOpBlock::default();
        block.push(op(1).as_ref());
        block.others.push(ScalarValue::Str("kept whole".into()));
        block.rows[0].flags = (block.rows[0].flags & 0x0f) | (V_OTHER << 4);
        block.rows[0].value = [0, 0];
        assert_eq!(block.get(0).unwrap().value, ValueRef::Str("kept whole"));
    }

    fn op(i: u32) -> DocOp {
        DocOp {
            id: OpId::new(i + 1, i % 3),
            obj: if i.is_multiple_of(5) {
                ObjId::Root
            } else {
                ObjId::Op(OpId::new(i, 1))
            },
            key: match i % 4 {
                0 => Key::Map(format!("k{}", i / 8)),
                1 => Key::Seq(ElemId::Head),
                _ => Key::Seq(ElemId::Op(OpId::new(i, 2))),
            },
            insert: i.is_multiple_of(2),
            action: if i.is_multiple_of(7) {
                Action::Mark
            } else {
                Action::Set
            },
            value: DocValue::from(match i % 12 {
                0 => ScalarValue::Str("a string longer than fourteen bytes".into()),
                1 => ScalarValue::Str(format!("é{i}")),
                2 => ScalarValue::Str(String::new()),
                3 => ScalarValue::Bytes(vec![i as u8; (i % 5) as usize]),
                4 => ScalarValue::Unknown {
                    type_code: 10 + (i % 6) as u8,
                    bytes: vec![7; (i % 4) as usize],
                },
                5 => ScalarValue::F64(f64::from(i) / 3.0),
                6 => ScalarValue::Counter(-i64::from(i)),
                7 => ScalarValue::Timestamp(i64::from(i) << 40),
                8 => ScalarValue::Bool(i % 24 == 8),
                9 => ScalarValue::Null,
                10 => ScalarValue::Uint(u64::MAX - u64::from(i)),
                _ => ScalarValue::Int(i64::from(i)),
            }),
            succ: (0..if i == 77 || i == BLOCK_ROWS as u32 - 1 {
                300
            } else {
                i % 3
            })
                .map(|s| OpId::new(i + 10 + s, 0))
                .collect(),
            expand: i.is_multiple_of(6),
            mark_name: (i.is_multiple_of(7)).then(|| format!("m{i}").into()),
        }
    }

    #[test]
    fn ops_read_back_as_pushed_across_blocks() {
        let n = 3 * BLOCK_ROWS as u32 + 10;
        let ops: Vec<DocOp> = (0..n).map(op).collect();
        let stored = DocOps::from(ops.clone());
        assert_eq!(stored.len(), ops.len());
        assert_eq!(stored.to_vec(), ops);
        assert!(stored.ids().eq(ops.iter().map(|o| o.id)));
        for i in [0, 1, 7, BLOCK_ROWS - 1, BLOCK_ROWS, ops.len() - 1] {
            assert_eq!(DocOp::from(stored.get(i).unwrap()), ops[i], "op {i}");
        }
        assert!(stored.get(ops.len()).is_none());
        let blocks: Vec<usize> = stored.clone().into_blocks().map(|b| b.len()).collect();
        assert_eq!(blocks, [BLOCK_ROWS, BLOCK_ROWS, BLOCK_ROWS, 10]);
        let mut refs = DocOps::new();
        for o in &ops {
            refs.push(o.as_ref());
        }
        assert_eq!(refs, stored);
    }

    /// Ops appended to others, as a decode split between two threads joins them, read back
    /// as pushed one by one wherever the split falls: at a block boundary (blocks taken as
    /// they are), inside the first block (which stays short) or inside a later one (copied).
    #[test]
    fn appended_ops_read_back_wherever_the_split_falls() {
        let n = 2 * BLOCK_ROWS + 9;
        let ops: Vec<DocOp> = (0..n as u32).map(op).collect();
        let whole = DocOps::from(ops.clone());
        for m in 0..=n {
            let mut first: DocOps = ops[..m].iter().cloned().collect();
            let later: DocOps = ops[m..].iter().cloned().collect();
            first.append(later);
            assert_eq!(first, whole, "split at {m}");
            for (i, o) in ops.iter().enumerate() {
                assert_eq!(
                    DocOp::from(first.get(i).unwrap()),
                    *o,
                    "op {i}, split at {m}"
                );
                assert_eq!(first.head(i).unwrap().id, o.id, "op {i}, split at {m}");
            }
            assert!(first.get(n).is_none() && first.head(n).is_none());
            let blocks: Vec<usize> = first.blocks().map(DocOpBlock::len).collect();
            assert_eq!(blocks.iter().sum::<usize>(), n);
            let short_first = m > 0 && m < BLOCK_ROWS;
            if short_first {
                let mut expected = vec![m];
                let later = n - m;
                expected.extend(
                    (0..later.div_ceil(BLOCK_ROWS))
                        .map(|b| (later - b * BLOCK_ROWS).min(BLOCK_ROWS)),
                );
                assert_eq!(blocks, expected, "split at {m}");
            } else {
                assert_eq!(blocks, [BLOCK_ROWS, BLOCK_ROWS, 9], "split at {m}");
            }
            // Ops pushed after the join go on where the last block ends.
            let extra = op(n as u32);
            first.push(extra.as_ref());
            assert_eq!(DocOp::from(first.get(n).unwrap()), extra, "split at {m}");
        }
    }
}
