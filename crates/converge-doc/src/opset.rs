//! The op set: every op of the document in an arena, objects, and the per-object indexes that
//! make reads cheap. Local and remote edits both end in [`OpSet::apply`]; validation happens
//! before (see `apply.rs` / `transaction.rs`), so `apply` itself cannot fail.
//!
//! Invariants:
//! - `ops[i].id` is unique; `by_actor[a]` maps each of actor `a`'s op counters to its arena
//!   index, ascending by counter (as runs where both are consecutive, see `actor_ops.rs`).
//! - `Op::hidden` is true iff some successor hides the op (any successor, except increments of
//!   a counter). Successors are only ever added, so `hidden` only flips false → true (rollback
//!   recomputes it).
//! - For every sequence object, its [`SeqIndex`] holds every insert op of the object in RGA order
//!   with the element's current visible width.
//! - Actor indexes are doc-wide in arrival order; `rank[a]` is actor `a`'s position in bytewise
//!   order, so OpId order = (counter, rank); `by_rank` lists the actors ranked last in that
//!   order, and `actor_keys[a]` is actor `a`'s first eight bytes. While `ranked` is false
//!   (more than 64 actors arrived in one batch, see `intern_actor`) ranks are stale and ids
//!   compare by the actors' bytes (their keys first).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use converge_encoding::{Action, ActorId, OpId, ScalarValue, ValueRef};
use smallvec::SmallVec;

use crate::actor_ops::ActorOps;
use crate::keymap::{Group, KeyMap};
use crate::seq::{Cursor, Entry, SeqIndex};
use crate::types::{ObjType, TextEncoding};

/// The 128 ASCII characters, in order.
const ASCII: &str = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\
\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \
!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f";

/// "No index" marker for `u32` links.
pub(crate) const NONE: u32 = u32::MAX;
/// The key of an insert at the start of a sequence.
pub(crate) const HEAD: u32 = u32::MAX;

/// Strings up to this many bytes are stored inside the op (most text is one character, at
/// most four bytes).
const SMALL_STR: usize = 5;

/// A scalar stored without heap allocation, in 7 bytes: numbers that fit in 48 bits, and
/// strings up to [`SMALL_STR`] bytes, inline; wider numbers, longer strings and bytes in the
/// op set's byte arena. Make ops store the index of the object they created. Every field is
/// kept as bytes ([`W48`], [`U32`], [`Span`]), so the value has alignment 1, and with the
/// action packed into the op's flag byte [`Op`] takes 32 bytes (36 with a 9-byte value and
/// its own action byte, 40 with 4-byte aligned fields, 48 with 8).
///
/// Derived equality compares the representation (arena offsets), not the values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum StoredValue {
    Null,
    Bool(bool),
    Uint(W48),
    Int(W48),
    /// A float whose low 16 bits are zero: its top 48 bits.
    F64(W48),
    Counter(W48),
    Timestamp(W48),
    /// Numbers that do not fit in 48 bits: the offset of their 8 little-endian bytes in the
    /// byte arena.
    WideUint(U32),
    WideInt(U32),
    WideF64(U32),
    WideCounter(U32),
    WideTimestamp(U32),
    SmallStr {
        len: u8,
        bytes: [u8; SMALL_STR],
    },
    Str(Span),
    Bytes(Span),
    /// A value of an unknown type: the span holds the type code, then the value's bytes.
    Unknown(Span),
    /// [`Str`](Self::Str), [`Bytes`](Self::Bytes) and [`Unknown`](Self::Unknown) of 64 KiB
    /// or more: the offset in the byte arena of their length (4 little-endian bytes), then
    /// their bytes.
    LongStr(U32),
    LongBytes(U32),
    LongUnknown(U32),
    Object(U32),
}

impl StoredValue {
    /// Whether the value is a counter's.
    pub(crate) fn is_counter(&self) -> bool {
        matches!(self, StoredValue::Counter(_) | StoredValue::WideCounter(_))
    }

    /// Whether the value lies in the byte arena (see [`StoredValue::arena_offset_mut`]).
    pub(crate) fn in_byte_arena(mut self) -> bool {
        self.arena_offset_mut().is_some()
    }

    /// The offset in the byte arena that the value holds, if it holds one (for moving it
    /// when two byte arenas are joined).
    pub(crate) fn arena_offset_mut(&mut self) -> Option<&mut U32> {
        match self {
            StoredValue::WideUint(at)
            | StoredValue::WideInt(at)
            | StoredValue::WideF64(at)
            | StoredValue::WideCounter(at)
            | StoredValue::WideTimestamp(at)
            | StoredValue::LongStr(at)
            | StoredValue::LongBytes(at)
            | StoredValue::LongUnknown(at)
            | StoredValue::Str(Span(at, _))
            | StoredValue::Bytes(Span(at, _))
            | StoredValue::Unknown(Span(at, _)) => Some(at),
            StoredValue::Null
            | StoredValue::Bool(_)
            | StoredValue::Uint(_)
            | StoredValue::Int(_)
            | StoredValue::F64(_)
            | StoredValue::Counter(_)
            | StoredValue::Timestamp(_)
            | StoredValue::SmallStr { .. }
            | StoredValue::Object(_) => None,
        }
    }
}

/// A `u32` as little-endian bytes (alignment 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct U32([u8; 4]);

impl U32 {
    pub(crate) fn new(v: u32) -> U32 {
        U32(v.to_le_bytes())
    }
    pub(crate) fn get(self) -> u32 {
        u32::from_le_bytes(self.0)
    }
}

/// A range of the op set's byte arena shorter than 64 KiB: start and length (alignment 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span(U32, [u8; 2]);

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        let start = self.0.get() as usize;
        start..start + usize::from(u16::from_le_bytes(self.1))
    }
}

/// A 48-bit number as little-endian bytes (alignment 1): an unsigned one zero-extends to
/// 64 bits, a signed one sign-extends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct W48([u8; 6]);

impl W48 {
    /// `v` if it fits in 48 bits unsigned.
    fn from_u64(v: u64) -> Option<W48> {
        (v >> 48 == 0).then(|| W48::low_bytes(v))
    }
    /// `v` if it fits in 48 bits signed.
    fn from_i64(v: i64) -> Option<W48> {
        ((v << 16) >> 16 == v).then(|| W48::low_bytes(v as u64))
    }
    /// `v` if its low 16 bits are zero (its top 48 bits kept).
    fn from_f64(v: f64) -> Option<W48> {
        let bits = v.to_bits();
        (bits & 0xFFFF == 0).then(|| W48::low_bytes(bits >> 16))
    }
    fn low_bytes(v: u64) -> W48 {
        let [b0, b1, b2, b3, b4, b5, _, _] = v.to_le_bytes();
        W48([b0, b1, b2, b3, b4, b5])
    }
    fn u64(self) -> u64 {
        let [b0, b1, b2, b3, b4, b5] = self.0;
        u64::from_le_bytes([b0, b1, b2, b3, b4, b5, 0, 0])
    }
    fn i64(self) -> i64 {
        ((self.u64() << 16) as i64) >> 16
    }
    fn f64(self) -> f64 {
        f64::from_bits(self.u64() << 16)
    }
}

/// One op. Keys are interned: map ops hold a key id, sequence ops the arena index of the
/// element's insert op (or [`HEAD`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    pub(crate) id: OpId,
    pub(crate) obj: u32,
    pub(crate) key: u32,
    /// First node of the successor list in `OpSet::succs`, or [`NONE`].
    pub(crate) succ: u32,
    /// For insert ops: id of the [`SeqIndex`] chunk holding the element.
    pub(crate) chunk: u32,
    /// The action's code (the low three bits), [`Op::INSERT`], [`Op::EXPAND`] and
    /// [`Op::HIDDEN`]: one byte, so that the op is 32 bytes.
    bits: u8,
    pub(crate) value: StoredValue,
}

impl Op {
    /// The action's code.
    const ACTION: u8 = 7;
    /// An insert op (it creates a sequence element).
    const INSERT: u8 = 8;
    /// For marks: expand before (begin) / after (end).
    const EXPAND: u8 = 16;
    /// Some successor hides the op now (it is overwritten or deleted).
    const HIDDEN: u8 = 32;
    /// A mark begin (a mark op with a name, kept in `OpSet::mark_names`): a walk over a
    /// text's mark boundaries tells begins from ends without a hash lookup.
    const MARK_BEGIN: u8 = 64;

    /// A new op: no successors, no chunk, not hidden.
    pub(crate) fn new(
        (id, obj, key): (OpId, u32, u32),
        action: Action,
        insert: bool,
        expand: bool,
        value: StoredValue,
    ) -> Op {
        let mut bits = action as u8;
        if insert {
            bits |= Op::INSERT;
        }
        if expand {
            bits |= Op::EXPAND;
        }
        Op {
            id,
            obj,
            key,
            succ: NONE,
            chunk: NONE,
            bits,
            value,
        }
    }
    #[inline(always)]
    pub(crate) fn action(&self) -> Action {
        // Every 3-bit code is an action (7 is the last, `Mark`).
        Action::from_code(u64::from(self.bits & Op::ACTION)).unwrap_or(Action::Mark)
    }
    #[inline(always)]
    pub(crate) fn insert(&self) -> bool {
        self.bits & Op::INSERT != 0
    }
    pub(crate) fn expand(&self) -> bool {
        self.bits & Op::EXPAND != 0
    }
    #[inline(always)]
    pub(crate) fn hidden(&self) -> bool {
        self.bits & Op::HIDDEN != 0
    }
    pub(crate) fn set_action(&mut self, action: Action) {
        self.bits = (self.bits & !Op::ACTION) | action as u8;
    }
    /// Whether it is a mark begin (a mark op with a name).
    pub(crate) fn mark_begin(&self) -> bool {
        self.bits & Op::MARK_BEGIN != 0
    }
    pub(crate) fn set_hidden(&mut self, hidden: bool) {
        self.bits = (self.bits & !Op::HIDDEN) | if hidden { Op::HIDDEN } else { 0 };
    }
}

/// A successor link: the successor's arena index, or for a deletion [`DEL`] with its index
/// in `OpSet::dels`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SuccNode {
    pub(crate) op: u32,
    pub(crate) next: u32,
}

/// The mark of a successor that is a deletion: the low bits index `OpSet::dels`. Arena
/// indexes stay below it (2^31 ops of 32 bytes would be 64 GiB).
pub(crate) const DEL: u32 = 1 << 31;

/// The body of an object.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// Map or table: the non-delete ops of each key, ascending by OpId.
    /// (Keys are the op set's interned ones, shared: an object's key costs no string of
    /// its own.)
    Map(KeyMap),
    /// List or text.
    Seq {
        /// Boxed: a map's body (the common object) then takes 56 bytes, not 168.
        index: Box<SeqIndex>,
        /// Non-insert, non-delete ops addressing an element (puts, increments), by element.
        extra: HashMap<u32, SmallVec<[u32; 2]>>,
    },
}

/// The kind of object a make action makes; `None` for any other action.
pub(crate) fn made_kind(action: Action) -> Option<ObjType> {
    match action {
        Action::MakeMap => Some(ObjType::Map),
        Action::MakeList => Some(ObjType::List),
        Action::MakeText => Some(ObjType::Text),
        Action::MakeTable => Some(ObjType::Table),
        _ => None,
    }
}

/// A composite object.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub(crate) kind: ObjType,
    /// Arena index of the make op, [`NONE`] for the root.
    pub(crate) make_op: u32,
    pub(crate) body: Body,
}

impl Object {
    /// An empty object of `kind` made by the op at arena index `make_op`.
    pub(crate) fn new(kind: ObjType, make_op: u32) -> Self {
        let body = if kind.is_map() {
            Body::Map(KeyMap::default())
        } else {
            Body::Seq {
                index: Box::default(),
                extra: HashMap::new(),
            }
        };
        Object {
            kind,
            make_op,
            body,
        }
    }
}

/// An op to add (already validated and resolved to arena indexes).
#[derive(Clone, Debug)]
pub(crate) struct NewOp {
    pub(crate) id: OpId,
    pub(crate) obj: u32,
    pub(crate) key: u32,
    pub(crate) insert: bool,
    pub(crate) action: Action,
    pub(crate) value: StoredValue,
    pub(crate) expand: bool,
    pub(crate) mark_name: Option<String>,
}

impl NewOp {
    /// A deletion of what `key` addresses in object `obj` (its preds are given separately).
    pub(crate) fn delete(id: OpId, obj: u32, key: u32) -> NewOp {
        NewOp {
            id,
            obj,
            key,
            insert: false,
            action: Action::Del,
            value: StoredValue::Null,
            expand: false,
            mark_name: None,
        }
    }
}

/// Where a sequence op lands, when the caller already knows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Hint {
    None,
    /// For an insert: the slot the new element goes to.
    InsertAt(Cursor),
    /// For a non-insert op: the cursor of its element.
    Element(Cursor),
}

/// A set of ops visible "as of" some heads: per actor, the largest counter included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Clock(pub(crate) Vec<u32>);

impl Clock {
    pub(crate) fn covers(&self, id: OpId) -> bool {
        id.counter <= self.0.get(id.actor as usize).copied().unwrap_or(0)
    }
}

/// The state a read looks at.
#[derive(Clone, Copy, Debug)]
pub(crate) enum View<'a> {
    Now,
    At(&'a Clock),
}

/// All ops and objects of a document.
#[derive(Debug)]
pub(crate) struct OpSet {
    pub(crate) ops: crate::arena::OpArena,
    /// The deletions, by id only: what a deletion does is in its successor links (every op
    /// it deletes names it), and nothing else refers to it. A whole op in the arena took
    /// 32 bytes more for each of them (egwalker S3.am has 1.1M beside its 1.23M stored ops).
    pub(crate) dels: Vec<OpId>,
    pub(crate) succs: Vec<SuccNode>,
    pub(crate) objects: Vec<Object>,
    pub(crate) actors: Vec<ActorId>,
    pub(crate) actor_ids: HashMap<ActorId, u32>,
    pub(crate) rank: Vec<u32>,
    /// Whether `rank` is current (see the module doc).
    pub(crate) ranked: bool,
    /// The actors `rank` was last made for (the first `by_rank.len()` actors: actors are
    /// only ever added), in bytewise order, so that ranking the actors added since sorts
    /// only them and merges.
    by_rank: Vec<u32>,
    /// Actors ranked as they were added since the last [`OpSet::refresh_rank`] (see
    /// [`OpSet::intern_actor`]).
    ranked_early: usize,
    /// Each actor's first eight bytes as a big-endian number (zeros past a shorter id):
    /// ordered as the ids are wherever two differ (a shorter id equal to a longer one's
    /// start pads to the same key), so ids compare by it first while ranks are stale.
    actor_keys: Vec<u64>,
    pub(crate) by_actor: Vec<ActorOps>,
    pub(crate) keys: Vec<Arc<str>>,
    pub(crate) key_ids: HashMap<Arc<str>, u32>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) mark_names: HashMap<u32, String>,
    pub(crate) max_op: u32,
    pub(crate) encoding: TextEncoding,
    /// Whether any mark op was ever applied (local inserts then check for sticky boundaries).
    pub(crate) has_marks: bool,
    /// Ops below this arena index whose successors changed are logged in `succ_changed` (the
    /// ops a save that kept its columns must write again); 0: not logging.
    pub(crate) log_below: u32,
    /// See `log_below`; may hold an op more than once.
    pub(crate) succ_changed: Vec<u32>,
    /// For the ops of one map key, or the other ops of one list element, that were written
    /// again and again (a field set on every keystroke, a counter incremented on every click):
    /// (object, key id or element) → the group's ops visible now, ascending by id, so that
    /// reading it now does not pass over the others. Without it a put on a key put 40,000
    /// times before read all 40,000 (117 µs, against automerge's 11), and so did each
    /// increment of a counter incremented as often. Made for a group when an op joins it and
    /// it holds [`NOW_VISIBLE_MIN`] ops or more ([`OpSet::add_to_group`]), kept exact as ops
    /// join it or are hidden ([`OpSet::link_succ`]), and forgotten whenever an op is shown
    /// again or taken out (a rollback); groups are never shortened otherwise.
    pub(crate) now_visible: HashMap<(u32, u32), SmallVec<[u32; 2]>>,
    /// Counter op → its value now, for counters whose increments' group keeps a
    /// [`OpSet::now_visible`] list (incremented 16 times or so): a read of a counter summed
    /// every increment (55 µs for 11,000). Made with the sum once, then each increment
    /// linked to the counter added ([`OpSet::link_succ`]); forgotten with `now_visible`.
    pub(crate) counter_now: HashMap<u32, i64>,
    /// Ops of remote changes that belong in the middle of a group of [`HOLD_MIN`] ops or
    /// more, by (object, key id or element), waiting to be merged in once ([`OpSet::hold_groups`]).
    /// Two peers who each put one key (or one list element, or incremented one counter)
    /// n times while apart made every op of the other's joining the middle of an n-op group:
    /// inserted one by one, moving the group's tail each time, a merge of 2 × 80,000 puts
    /// took 0.4 s and a few bytes of change whose runs claim 2^24 concurrent puts hours.
    /// Map keys' groups are not read while a batch is applied, so theirs wait to the batch's
    /// end; elements' widths are read after every op, so theirs wait to the change's end.
    held: HeldGroups,
}

/// See [`OpSet::held`].
#[derive(Clone, Debug, Default)]
struct HeldGroups {
    /// Whether ops may wait ([`OpSet::hold_groups`] to [`OpSet::release_groups`]).
    on: bool,
    /// Waiting ops of map keys' groups, in the order applied (changes of a batch come in
    /// causal order, not id order).
    keys: HashMap<(u32, u32), Vec<u32>>,
    /// Waiting ops of sequence elements' groups, all of the change being applied, so
    /// ascending by id.
    elements: HashMap<(u32, u32), Vec<u32>>,
}

impl HeldGroups {
    /// The waiting ops of map keys' groups, or of sequence elements'.
    fn waiting(&mut self, of_map: bool) -> &mut HashMap<(u32, u32), Vec<u32>> {
        if of_map {
            &mut self.keys
        } else {
            &mut self.elements
        }
    }
}

/// The shortest group [`OpSet::now_visible`] keeps a list for (a scan of fewer ops costs no
/// more than the look-ups).
const NOW_VISIBLE_MIN: usize = if cfg!(test) { 2 } else { 16 };

#[cfg(test)]
std::thread_local! {
    /// Group entries moved or copied to make room for ops joining groups (tests count the
    /// work of a merge with it, not its time).
    pub(crate) static GROUP_MOVES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` entries moved for [`GROUP_MOVES`] (nothing outside tests).
#[inline(always)]
fn count_moves(_n: usize) {
    #[cfg(test)]
    GROUP_MOVES.with(|c| c.set(c.get() + _n as u64));
}

/// The shortest group whose ops from remote changes wait ([`OpSet::held`]) rather than
/// join its middle at once (a chosen bound, not a tuned one: moving fewer entries is a
/// short copy).
const HOLD_MIN: usize = if cfg!(test) { 2 } else { 64 };

/// A copy (of a fork, say) keeps room for the deletions and successor links that the edits
/// after it add: cloned exactly, the first of them copied the whole vector again (a fork of
/// egwalker S3.am: 2.0 ms for its second put, which overwrote the first).
impl Clone for OpSet {
    fn clone(&self) -> Self {
        OpSet {
            ops: self.ops.clone(),
            dels: with_room(&self.dels),
            succs: with_room(&self.succs),
            objects: self.objects.clone(),
            actors: self.actors.clone(),
            actor_ids: self.actor_ids.clone(),
            rank: self.rank.clone(),
            ranked: self.ranked,
            by_rank: self.by_rank.clone(),
            ranked_early: self.ranked_early,
            actor_keys: self.actor_keys.clone(),
            by_actor: self.by_actor.clone(),
            keys: self.keys.clone(),
            key_ids: self.key_ids.clone(),
            bytes: self.bytes.clone(),
            mark_names: self.mark_names.clone(),
            max_op: self.max_op,
            encoding: self.encoding,
            has_marks: self.has_marks,
            log_below: self.log_below,
            succ_changed: self.succ_changed.clone(),
            now_visible: self.now_visible.clone(),
            counter_now: self.counter_now.clone(),
            held: self.held.clone(),
        }
    }
}

/// A copy of `items` with [`room_after`] them before it grows: for the vectors a clone (a
/// fork) appends to, which `Vec::clone` sizes exactly.
pub(crate) fn with_room<T: Clone>(items: &[T]) -> Vec<T> {
    let mut copy = Vec::with_capacity(items.len().saturating_add(room_after(items.len())));
    copy.extend_from_slice(items);
    copy
}

/// The room a load or a clone leaves after `n` per-change or per-op entries for the edits
/// that follow (1/32 of them, plus 16): reserved exactly, the first edit after a load or a
/// fork grew and copied them all (the paper document's first put: 4.6 ms, then 0.002 ms).
/// (Plus 256 made a small document's tables hold 8 kB of room for 32-byte hashes alone.)
pub(crate) fn room_after(n: usize) -> usize {
    n / 32 + 16
}

/// Up to this many actors added since the last `refresh_rank`, `intern_actor` keeps `rank`
/// current itself.
const EAGER_RANK: usize = 64;

impl OpSet {
    pub(crate) fn new(encoding: TextEncoding) -> Self {
        OpSet {
            ops: crate::arena::OpArena::default(),
            dels: Vec::new(),
            succs: Vec::new(),
            objects: vec![Object {
                kind: ObjType::Map,
                make_op: NONE,
                body: Body::Map(KeyMap::default()),
            }],
            actors: Vec::new(),
            actor_ids: HashMap::new(),
            rank: Vec::new(),
            ranked: true,
            by_rank: Vec::new(),
            ranked_early: 0,
            actor_keys: Vec::new(),
            by_actor: Vec::new(),
            keys: Vec::new(),
            key_ids: HashMap::new(),
            bytes: Vec::new(),
            mark_names: HashMap::new(),
            max_op: 0,
            encoding,
            has_marks: false,
            log_below: 0,
            succ_changed: Vec::new(),
            now_visible: HashMap::new(),
            counter_now: HashMap::new(),
            held: HeldGroups::default(),
        }
    }

    /// The doc-wide index of `actor`, adding it if new.
    pub(crate) fn intern_actor(&mut self, actor: &ActorId) -> u32 {
        if let Some(&i) = self.actor_ids.get(actor) {
            return i;
        }
        let i = self.actors.len() as u32;
        self.actors.push(actor.clone());
        self.actor_ids.insert(actor.clone(), i);
        self.by_actor.push(ActorOps::default());
        let mut key = [0u8; 8];
        for (k, b) in key.iter_mut().zip(actor.as_bytes()) {
            *k = *b;
        }
        self.actor_keys.push(u64::from_be_bytes(key));
        // Ranking places the new actor among the others and rewrites every rank, time in
        // the number of actors: done at once for the first EAGER_RANK actors since the last
        // `refresh_rank` (a batch's end, so always for a document of few actors), so that a
        // remote change from a new actor compares ids by rank, not by bytes; past that only
        // once the batch is in, since a batch from thousands of new actors ranked them all
        // for each (20,000 actors: 3 s), comparing bytes meanwhile.
        self.ranked = false;
        if self.ranked_early < EAGER_RANK {
            self.ranked_early += 1;
            self.rank_now();
        }
        i
    }

    /// Makes `rank` current (a batch of remote changes is in, or a load).
    pub(crate) fn refresh_rank(&mut self) {
        self.rank_now();
        self.ranked_early = 0;
    }

    /// Makes `rank` current.
    fn rank_now(&mut self) {
        if !self.ranked {
            let order = self.actors_in_order();
            self.rank = Self::ranks_of(&order);
            self.by_rank = order;
            self.ranked = true;
        }
    }

    /// Each actor's position in bytewise order (a copy of `rank` when it is current).
    pub(crate) fn ranks(&self) -> Vec<u32> {
        if self.ranked {
            return self.rank.clone();
        }
        Self::ranks_of(&self.actors_in_order())
    }

    /// Every actor index in bytewise order of the actors: those added since `rank` was last
    /// made sorted alone and merged into `by_rank`. Re-sorting them all after every remote
    /// change, comparing ids by bytes until then, made a document that thousands of actors
    /// joined one change at a time spend most of its time comparing actor ids (4,000
    /// actors, their changes applied one by one: 529 ms, now 63 ms).
    fn actors_in_order(&self) -> Vec<u32> {
        let ranked = self.by_rank.len().min(self.actors.len());
        let by_bytes = |&a: &u32, &b: &u32| self.actors[a as usize].cmp(&self.actors[b as usize]);
        let mut added: Vec<u32> = (ranked as u32..self.actors.len() as u32).collect();
        added.sort_unstable_by(by_bytes);
        // Each added actor's place among the ranked ones by binary search (actor ids are
        // distinct): comparisons in the actors added, not in all of them.
        let mut order = Vec::with_capacity(self.actors.len());
        let mut from = 0;
        for a in added {
            let rest = self.by_rank.get(from..).unwrap_or_default();
            let at = from + rest.partition_point(|b| by_bytes(b, &a).is_lt());
            order.extend_from_slice(self.by_rank.get(from..at).unwrap_or_default());
            order.push(a);
            from = at;
        }
        order.extend_from_slice(self.by_rank.get(from..).unwrap_or_default());
        order
    }

    /// `rank` from the actor indexes in bytewise order.
    fn ranks_of(order: &[u32]) -> Vec<u32> {
        let mut rank = vec![0; order.len()];
        for (r, &a) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(a as usize) {
                *slot = r as u32;
            }
        }
        rank
    }

    /// The doc-wide index of a known actor. Small tables are scanned (cheaper than hashing).
    pub(crate) fn actor_index(&self, actor: &ActorId) -> Option<u32> {
        if self.actors.len() <= 8 {
            return self
                .actors
                .iter()
                .position(|a| a == actor)
                .map(|i| i as u32);
        }
        self.actor_ids.get(actor).copied()
    }

    pub(crate) fn intern_key(&mut self, key: &str) -> u32 {
        if let Some(&k) = self.key_ids.get(key) {
            return k;
        }
        let k = self.keys.len() as u32;
        let key: Arc<str> = key.into();
        self.keys.push(Arc::clone(&key));
        self.key_ids.insert(key, k);
        k
    }

    /// OpId order: counter, then actor bytes.
    #[inline]
    pub(crate) fn cmp_id(&self, a: OpId, b: OpId) -> Ordering {
        a.counter.cmp(&b.counter).then_with(|| {
            if self.ranked {
                let ra = self.rank.get(a.actor as usize).copied().unwrap_or(0);
                let rb = self.rank.get(b.actor as usize).copied().unwrap_or(0);
                ra.cmp(&rb)
            } else {
                self.cmp_actors_unranked(a.actor, b.actor)
            }
        })
    }

    /// Two actors' order while the ranks are stale. The ids' first eight bytes decide
    /// unless equal (the usual random ids differ there); a `memcmp` of two ids in every
    /// comparison was 30 % of a batch of 4,000 new actors' concurrent changes. Kept out of
    /// [`OpSet::cmp_id`], which is inlined into hot loops that mostly see current ranks.
    #[inline(never)]
    fn cmp_actors_unranked(&self, a: u32, b: u32) -> Ordering {
        let key = |x: u32| self.actor_keys.get(x as usize).copied().unwrap_or(0);
        key(a).cmp(&key(b)).then_with(|| {
            self.actors
                .get(a as usize)
                .cmp(&self.actors.get(b as usize))
        })
    }

    /// The arena index of the op with this id.
    pub(crate) fn find_op(&self, id: OpId) -> Option<u32> {
        self.by_actor.get(id.actor as usize)?.get(id.counter)
    }

    /// Stores a scalar without per-op heap allocation.
    pub(crate) fn store_value(&mut self, v: &ScalarValue) -> StoredValue {
        self.store_value_ref(ValueRef::from(v))
    }

    /// [`Self::store_value`] of a borrowed value (a remote change's op, read from its chunk).
    pub(crate) fn store_value_ref(&mut self, v: ValueRef<'_>) -> StoredValue {
        match v {
            ValueRef::Null => StoredValue::Null,
            ValueRef::Bool(b) => StoredValue::Bool(b),
            ValueRef::Uint(u) => match W48::from_u64(u) {
                Some(w) => StoredValue::Uint(w),
                None => StoredValue::WideUint(self.push_word(u)),
            },
            ValueRef::Int(i) => self.store_int(i),
            ValueRef::F64(f) => match W48::from_f64(f) {
                Some(w) => StoredValue::F64(w),
                None => StoredValue::WideF64(self.push_word(f.to_bits())),
            },
            ValueRef::Str(s) => self.store_str(s),
            ValueRef::Bytes(b) => match self.push_bytes(&[], b) {
                Ok(span) => StoredValue::Bytes(span),
                Err(at) => StoredValue::LongBytes(at),
            },
            ValueRef::Counter(c) => match W48::from_i64(c) {
                Some(w) => StoredValue::Counter(w),
                None => StoredValue::WideCounter(self.push_word(c as u64)),
            },
            ValueRef::Timestamp(t) => match W48::from_i64(t) {
                Some(w) => StoredValue::Timestamp(w),
                None => StoredValue::WideTimestamp(self.push_word(t as u64)),
            },
            ValueRef::Unknown { type_code, bytes } => match self.push_bytes(&[type_code], bytes) {
                Ok(span) => StoredValue::Unknown(span),
                Err(at) => StoredValue::LongUnknown(at),
            },
        }
    }

    /// A signed integer (also an increment's amount).
    pub(crate) fn store_int(&mut self, i: i64) -> StoredValue {
        match W48::from_i64(i) {
            Some(w) => StoredValue::Int(w),
            None => StoredValue::WideInt(self.push_word(i as u64)),
        }
    }

    /// The one-`char` string `ch` ([`Self::store_str`] of its UTF-8), its bytes assembled
    /// in a register and stored as one word. (Through `encode_utf8` and a copy of its length,
    /// the value was written byte by byte and read back as words, which the store buffer
    /// cannot forward: each keystroke's splice then waited for every earlier store to reach
    /// the cache, the previous commit's included.)
    pub(crate) fn char_value(ch: char) -> StoredValue {
        let c = ch as u32;
        let cont = |bits: u32| 0x80 | (bits & 0x3F);
        let (word, len) = if c < 0x80 {
            (c, 1)
        } else if c < 0x800 {
            (0xC0 | (c >> 6) | cont(c) << 8, 2)
        } else if c < 0x1_0000 {
            (0xE0 | (c >> 12) | cont(c >> 6) << 8 | cont(c) << 16, 3)
        } else {
            (
                0xF0 | (c >> 18) | cont(c >> 12) << 8 | cont(c >> 6) << 16 | cont(c) << 24,
                4,
            )
        };
        let [b0, b1, b2, b3] = word.to_le_bytes();
        StoredValue::SmallStr {
            len,
            bytes: [b0, b1, b2, b3, 0],
        }
    }

    pub(crate) fn store_str(&mut self, s: &str) -> StoredValue {
        if s.len() <= SMALL_STR {
            // Gathered in a register: bytes copied into a stack array and then read back as
            // one word stall the store buffer, once per op of a bulk load.
            let word = s
                .bytes()
                .rev()
                .fold(0u64, |word, b| word << 8 | u64::from(b));
            let [b0, b1, b2, b3, b4, _, _, _] = word.to_le_bytes();
            StoredValue::SmallStr {
                len: s.len() as u8,
                bytes: [b0, b1, b2, b3, b4],
            }
        } else {
            match self.push_bytes(&[], s.as_bytes()) {
                Ok(span) => StoredValue::Str(span),
                Err(at) => StoredValue::LongStr(at),
            }
        }
    }

    /// Appends `prefix` and `b` to the byte arena: their span, or if they are 64 KiB or
    /// more, the offset of their length (4 bytes, written before them).
    fn push_bytes(&mut self, prefix: &[u8], b: &[u8]) -> Result<Span, U32> {
        let start = self.bytes.len() as u32;
        let len = prefix.len() + b.len();
        let short = u16::try_from(len).ok();
        if short.is_none() {
            self.bytes.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.bytes.extend_from_slice(prefix);
        self.bytes.extend_from_slice(b);
        match short {
            Some(len) => Ok(Span(U32::new(start), len.to_le_bytes())),
            None => Err(U32::new(start)),
        }
    }

    /// Appends a number's 8 bytes to the byte arena; their offset.
    fn push_word(&mut self, v: u64) -> U32 {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&v.to_le_bytes());
        U32::new(start)
    }

    /// The number stored at `at` by [`Self::push_word`].
    fn word_at(&self, at: U32) -> u64 {
        let at = at.get() as usize;
        self.bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }

    /// The bytes stored at `at` by [`Self::push_bytes`] with their length before them.
    fn long_at(&self, at: U32) -> &[u8] {
        let at = at.get() as usize;
        let len = self
            .bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes) as usize;
        self.bytes.get(at + 4..at + 4 + len).unwrap_or_default()
    }

    /// The string of a stored string value.
    pub(crate) fn str_of<'a>(&'a self, v: &'a StoredValue) -> Option<&'a str> {
        std::str::from_utf8(self.str_bytes(v)?).ok()
    }

    /// The bytes of a stored string (UTF-8: strings are checked where they are decoded), or
    /// `None` if `v` is no string.
    pub(crate) fn str_bytes<'a>(&'a self, v: &'a StoredValue) -> Option<&'a [u8]> {
        match v {
            StoredValue::SmallStr { len, bytes } => bytes.get(..*len as usize),
            StoredValue::Str(span) => self.bytes.get(span.range()),
            StoredValue::LongStr(at) => Some(self.long_at(*at)),
            _ => None,
        }
    }

    /// A stored value back as a [`ScalarValue`] (make ops give `Null`).
    pub(crate) fn scalar(&self, v: &StoredValue) -> ScalarValue {
        ScalarValue::from(self.value_ref(v))
    }

    /// A stored value as the encoders write it, borrowed from the op set (make ops give
    /// `Null`).
    pub(crate) fn value_ref<'a>(&'a self, v: &'a StoredValue) -> ValueRef<'a> {
        let slice = |span: Span| -> &'a [u8] { self.bytes.get(span.range()).unwrap_or_default() };
        let unknown = |b: &'a [u8]| {
            let (type_code, bytes) = b.split_first().unwrap_or((&0, &[]));
            ValueRef::Unknown {
                type_code: *type_code,
                bytes,
            }
        };
        match *v {
            StoredValue::Null | StoredValue::Object(_) => ValueRef::Null,
            StoredValue::Bool(b) => ValueRef::Bool(b),
            StoredValue::Uint(u) => ValueRef::Uint(u.u64()),
            StoredValue::Int(i) => ValueRef::Int(i.i64()),
            StoredValue::F64(f) => ValueRef::F64(f.f64()),
            StoredValue::Counter(c) => ValueRef::Counter(c.i64()),
            StoredValue::Timestamp(t) => ValueRef::Timestamp(t.i64()),
            StoredValue::WideUint(at) => ValueRef::Uint(self.word_at(at)),
            StoredValue::WideInt(at) => ValueRef::Int(self.word_at(at) as i64),
            StoredValue::WideF64(at) => ValueRef::F64(f64::from_bits(self.word_at(at))),
            StoredValue::WideCounter(at) => ValueRef::Counter(self.word_at(at) as i64),
            StoredValue::WideTimestamp(at) => ValueRef::Timestamp(self.word_at(at) as i64),
            // One ASCII character (most text): sliced from a table, no UTF-8 check.
            StoredValue::SmallStr { len: 1, bytes } if bytes[0] < 0x80 => {
                let b = usize::from(bytes[0]);
                ValueRef::Str(ASCII.get(b..b + 1).unwrap_or_default())
            }
            StoredValue::SmallStr { .. } | StoredValue::Str(_) | StoredValue::LongStr(_) => {
                ValueRef::Str(self.str_of(v).unwrap_or_default())
            }
            StoredValue::Bytes(span) => ValueRef::Bytes(slice(span)),
            StoredValue::LongBytes(at) => ValueRef::Bytes(self.long_at(at)),
            StoredValue::Unknown(span) => unknown(slice(span)),
            StoredValue::LongUnknown(at) => unknown(self.long_at(at)),
        }
    }

    /// An increment's amount, or a counter's value as stored (0 for any other value).
    pub(crate) fn int_of(&self, v: &StoredValue) -> i64 {
        match self.value_ref(v) {
            ValueRef::Int(i) | ValueRef::Counter(i) => i,
            ValueRef::Uint(u) => u as i64,
            _ => 0,
        }
    }

    pub(crate) fn is_counter(&self, op: &Op) -> bool {
        op.action() == Action::Set && op.value.is_counter()
    }

    /// Whether adding successor `succ` hides `op`.
    fn hides(&self, op: &Op, succ: &Op) -> bool {
        !(succ.action() == Action::Inc && self.is_counter(op))
    }

    /// Whether op `succ` hides op `pred` (arena indexes; `succ` may be a deletion).
    pub(crate) fn hides_op(&self, pred: u32, succ: u32) -> bool {
        succ & DEL != 0 || self.hides(&self.ops[pred as usize], &self.ops[succ as usize])
    }

    /// The id of a successor (an arena index, or a deletion's [`DEL`] index).
    pub(crate) fn succ_id(&self, succ: u32) -> OpId {
        if succ & DEL != 0 {
            self.dels[(succ & !DEL) as usize]
        } else {
            self.ops[succ as usize].id
        }
    }

    /// The current width of an element whose puts are in `extra` (for when the object's body
    /// is taken out of `objects`).
    pub(crate) fn element_width_with(
        &self,
        extra: &HashMap<u32, SmallVec<[u32; 2]>>,
        elem: u32,
        kind: ObjType,
    ) -> u32 {
        let winner = std::iter::once(elem)
            .chain(extra.get(&elem).into_iter().flatten().copied())
            .filter(|&o| self.visible(o, View::Now))
            .max_by(|&a, &b| self.cmp_id(self.ops[a as usize].id, self.ops[b as usize].id));
        winner.map_or(0, |o| self.value_width(&self.ops[o as usize].value, kind))
    }

    /// Successors of an op (arena indexes, or [`DEL`] indexes for deletions; most recent
    /// first).
    pub(crate) fn succ_iter(&self, op: u32) -> impl Iterator<Item = u32> + '_ {
        let mut node = self.ops.get(op as usize).map_or(NONE, |o| o.succ);
        std::iter::from_fn(move || {
            let n = self.succs.get(node as usize)?;
            node = n.next;
            Some(n.op)
        })
    }

    /// Whether an op shows a value in `view`.
    pub(crate) fn visible(&self, idx: u32, view: View<'_>) -> bool {
        let Some(op) = self.ops.get(idx as usize) else {
            return false;
        };
        if !(op.action() == Action::Set || op.action().is_make()) {
            return false;
        }
        match view {
            View::Now => !op.hidden(),
            View::At(clock) => {
                clock.covers(op.id)
                    && !self.succ_iter(idx).any(|s| {
                        clock.covers(self.succ_id(s))
                            && (s & DEL != 0 || self.hides(op, &self.ops[s as usize]))
                    })
            }
        }
    }

    /// A counter's value in `view`: its initial value plus the increments visible there.
    pub(crate) fn counter_value(&self, idx: u32, view: View<'_>) -> i64 {
        let op = &self.ops[idx as usize];
        if !op.value.is_counter() {
            return 0;
        }
        if let View::Now = view
            && let Some(&total) = self.counter_now.get(&idx)
        {
            return total;
        }
        let mut total = self.int_of(&op.value);
        for s in self.succ_iter(idx) {
            let Some(s) = self.ops.get(s as usize) else {
                continue; // a deletion
            };
            if s.action() == Action::Inc
                && match view {
                    View::Now => true,
                    View::At(c) => c.covers(s.id),
                }
            {
                total = total.wrapping_add(self.int_of(&s.value));
            }
        }
        total
    }

    /// The ops of a sequence element in ascending OpId order: its insert op and the puts on it.
    pub(crate) fn element_ops(
        &self,
        obj: u32,
        elem: u32,
    ) -> impl DoubleEndedIterator<Item = u32> + '_ {
        // An iterator, not a small vector: moving one out of the call into a loop read it
        // back in 16-byte words right after it was written in 8-byte ones, a
        // store-forwarding stall per element on the local edit path.
        std::iter::once(elem).chain(self.other_ops(obj, elem).iter().copied())
    }

    /// The ops of element `elem` of `obj` other than its insert, ascending by id.
    fn other_ops(&self, obj: u32, elem: u32) -> &[u32] {
        match self.objects.get(obj as usize).map(|o| &o.body) {
            Some(Body::Seq { extra, .. }) if !extra.is_empty() => {
                extra.get(&elem).map_or(&[], |m| m.as_slice())
            }
            _ => &[],
        }
    }

    /// The op element `elem` of sequence `obj` shows in `view` (its shown op with the
    /// greatest id), if any.
    pub(crate) fn element_winner(&self, obj: u32, elem: u32, view: View<'_>) -> Option<u32> {
        let shown = self
            .element_ops_in(obj, elem, view)
            .rev()
            .find(|&o| self.visible(o, view));
        if self.held.elements.is_empty() {
            return shown;
        }
        // Ops waiting to join the element's group, ascending by id (one change's).
        let waiting = self
            .held
            .elements
            .get(&(obj, elem))
            .and_then(|w| w.iter().rev().copied().find(|&o| self.visible(o, view)));
        match (shown, waiting) {
            (Some(s), Some(w)) => Some(
                if self
                    .cmp_id(self.ops[s as usize].id, self.ops[w as usize].id)
                    .is_gt()
                {
                    s
                } else {
                    w
                },
            ),
            (s, w) => s.or(w),
        }
    }

    /// The current width of an element.
    fn element_width(&self, obj: u32, elem: u32, kind: ObjType) -> u32 {
        match self.element_winner(obj, elem, View::Now) {
            None => 0,
            Some(o) => self.value_width(&self.ops[o as usize].value, kind),
        }
    }

    /// The width of an element showing `v` in an object of `kind`: 1 in a list; in a text
    /// its string's units, or for any other value (an object, a number) those of the
    /// placeholder U+FFFC it reads as (3 in UTF-8, as automerge 0.12 counts it).
    pub(crate) fn value_width(&self, v: &StoredValue, kind: ObjType) -> u32 {
        if kind == ObjType::Text {
            return match self.str_of(v) {
                Some(s) => self.encoding.width(s) as u32,
                None => self.encoding.width("\u{fffc}") as u32,
            };
        }
        1
    }

    /// Pushes `new`'s record onto the arena (with the object it makes and its mark name, if
    /// any) and returns its index: the part of adding an op that [`OpSet::apply`] and a
    /// load's bulk build share. Never a deletion (kept as ids, not records).
    ///
    /// Always inlined: the bulk build builds `new` field by field just before, and passed
    /// through memory its id and value were read back as one 16-byte word before those
    /// stores had left the store buffer, a stall on every op.
    #[inline(always)]
    pub(crate) fn push_record(&mut self, new: &mut NewOp) -> u32 {
        debug_assert!(new.action != Action::Del);
        let idx = self.ops.len() as u32;
        let mut value = new.value;
        if let Some(kind) = made_kind(new.action) {
            value = StoredValue::Object(U32::new(self.objects.len() as u32));
            self.objects.push(Object::new(kind, idx));
        }
        if new.action == Action::Mark {
            self.has_marks = true;
        }
        let mut op = Op::new(
            (new.id, new.obj, new.key),
            new.action,
            new.insert,
            new.expand,
            value,
        );
        if let Some(name) = new.mark_name.take() {
            self.mark_names.insert(idx, name);
            op.bits |= Op::MARK_BEGIN;
        }
        self.ops.push(op);
        idx
    }

    /// Adds a validated op. Returns its arena index and, for an insert, the cursor of the new
    /// element.
    pub(crate) fn apply(
        &mut self,
        mut new: NewOp,
        preds: &[u32],
        hint: Hint,
    ) -> (u32, Option<Cursor>) {
        if new.action == Action::Del {
            return (self.apply_delete(new.id, preds, hint), None);
        }
        let mut inserted_at = None;
        let idx = self.push_record(&mut new);
        self.register_id(new.id, idx);
        self.max_op = self.max_op.max(new.id.counter);
        self.link_preds(preds, idx);
        let obj = new.obj;
        let kind = self.objects[obj as usize].kind;
        if new.insert {
            let slot = match hint {
                Hint::InsertAt(c) => c,
                _ => self.rga_slot(obj, new.key, new.id),
            };
            let width = if self.visible(idx, View::Now) {
                self.value_width(&self.ops[idx as usize].value, kind)
            } else {
                0
            };
            if let Body::Seq { index, .. } = &mut self.objects[obj as usize].body {
                inserted_at = Some(index.insert(slot, Entry { op: idx, width }, &mut self.ops));
            }
        } else if new.action != Action::Del {
            self.add_to_group(idx);
        }
        self.refresh_widths(idx, preds, hint);
        (idx, inserted_at)
    }

    /// Adds a deletion (see [`OpSet::dels`]); its [`DEL`] index.
    fn apply_delete(&mut self, id: OpId, preds: &[u32], hint: Hint) -> u32 {
        let idx = DEL | self.dels.len() as u32;
        self.dels.push(id);
        self.max_op = self.max_op.max(id.counter);
        self.link_preds(preds, idx);
        self.refresh_widths(idx, preds, hint);
        idx
    }

    /// Records `succ` (an arena or [`DEL`] index) as a successor of `pred`, hides `pred` if
    /// it does, and logs the change for a save that kept its columns.
    pub(crate) fn link_succ(&mut self, pred: u32, succ: u32) {
        if self.link_succ_only(pred, succ) {
            self.drop_from_now_visible(pred);
        }
    }

    /// [`OpSet::link_succ`] for each of `preds`. Past a few, the ones hidden leave their
    /// group's [`OpSet::now_visible`] list together, in one pass over it: taken out one by
    /// one, each moved the list's tail, and one put over 2^15 concurrent values (a change of
    /// a few bytes whose pred columns are runs) took 80 ms, 2^16 317 ms, 2^24 would take
    /// hours.
    fn link_preds(&mut self, preds: &[u32], succ: u32) {
        const ONE_BY_ONE: usize = 16;
        if preds.len() <= ONE_BY_ONE {
            for &p in preds {
                self.link_succ(p, succ);
            }
            return;
        }
        // A change's preds of one op are all at its place (checked when it was applied), so
        // this holds one group, or two for a sequence element's insert and puts.
        let mut groups: SmallVec<[(u32, u32); 2]> = SmallVec::new();
        for &p in preds {
            if self.link_succ_only(p, succ)
                && !self.now_visible.is_empty()
                && let Some(op) = self.ops.get(p as usize).filter(|op| !op.insert())
                && !groups.contains(&(op.obj, op.key))
            {
                groups.push((op.obj, op.key));
            }
        }
        for at in groups {
            if let Some(mut list) = self.now_visible.remove(&at) {
                count_moves(list.len());
                list.retain(|&mut o| self.visible(o, View::Now));
                self.now_visible.insert(at, list);
            }
        }
    }

    /// [`OpSet::link_succ`] but for taking a pred it hides out of its group's
    /// [`OpSet::now_visible`] list; whether it hid it.
    fn link_succ_only(&mut self, pred: u32, succ: u32) -> bool {
        let node = self.succs.len() as u32;
        let prev = self.ops[pred as usize].succ;
        self.succs.push(SuccNode {
            op: succ,
            next: prev,
        });
        self.ops[pred as usize].succ = node;
        if pred < self.log_below {
            self.log_succ_change(pred);
        }
        if self.hides_op(pred, succ) {
            self.ops[pred as usize].set_hidden(true);
            return true;
        }
        if !self.now_visible.is_empty() {
            self.add_to_counter_now(pred, succ);
        }
        false
    }

    /// Adds increment `inc` to [`OpSet::counter_now`] of counter `counter`: to its kept
    /// total, or, once the increments' group keeps a list of its visible ops (16 ops or
    /// more), to a total made then from every increment.
    fn add_to_counter_now(&mut self, counter: u32, inc: u32) {
        let Some(op) = self.ops.get(inc as usize) else {
            return;
        };
        let amount = self.int_of(&op.value);
        match self.counter_now.get_mut(&counter) {
            Some(total) => *total = total.wrapping_add(amount),
            None if self.now_visible.contains_key(&(op.obj, op.key)) => {
                let total = self.counter_value(counter, View::Now);
                self.counter_now.insert(counter, total);
            }
            None => {}
        }
    }

    /// Takes `pred`, just hidden, out of its group's [`OpSet::now_visible`] list.
    fn drop_from_now_visible(&mut self, pred: u32) {
        if self.now_visible.is_empty() {
            return;
        }
        // An element's insert op is in no group.
        let Some(op) = self.ops.get(pred as usize).filter(|op| !op.insert()) else {
            return;
        };
        // The list is in id order: found by binary search (a put over 4,000 conflicting
        // values hides them one after another).
        let (at, id) = ((op.obj, op.key), op.id);
        let found = self.now_visible.get(&at).and_then(|list| {
            list.binary_search_by(|&o| self.cmp_id(self.ops[o as usize].id, id))
                .ok()
        });
        if let Some(i) = found
            && let Some(list) = self.now_visible.get_mut(&at)
        {
            count_moves(list.len() - i);
            list.remove(i);
        }
    }

    /// The ops of `group`, the group of `(obj, key)` (a key id, or an element), that may be
    /// visible in `view`: now, the group's [`OpSet::now_visible`] list if it has one.
    pub(crate) fn group_in<'s>(
        &'s self,
        obj: u32,
        key: u32,
        group: &'s [u32],
        view: View<'_>,
    ) -> &'s [u32] {
        match view {
            View::Now if group.len() >= NOW_VISIBLE_MIN => self
                .now_visible
                .get(&(obj, key))
                .map_or(group, |list| list.as_slice()),
            _ => group,
        }
    }

    /// [`OpSet::group_in`] of map key `name`'s group `group`.
    pub(crate) fn map_group_in<'s>(
        &'s self,
        obj: u32,
        name: &str,
        group: &'s [u32],
        view: View<'_>,
    ) -> &'s [u32] {
        if group.len() < NOW_VISIBLE_MIN || self.now_visible.is_empty() {
            return group;
        }
        match self.key_ids.get(name) {
            Some(&key) => self.group_in(obj, key, group, view),
            None => group,
        }
    }

    /// [`OpSet::element_ops`] without the other ops that [`OpSet::now_visible`] knows are
    /// hidden in `view`.
    pub(crate) fn element_ops_in<'s>(
        &'s self,
        obj: u32,
        elem: u32,
        view: View<'_>,
    ) -> impl DoubleEndedIterator<Item = u32> + 's {
        let more = self.group_in(obj, elem, self.other_ops(obj, elem), view);
        std::iter::once(elem).chain(more.iter().copied())
    }

    /// Forgets [`OpSet::now_visible`] and [`OpSet::counter_now`] (an op shown again or
    /// taken out).
    fn forget_now_visible(&mut self) {
        if !self.now_visible.is_empty() {
            self.now_visible.clear();
        }
        if !self.counter_now.is_empty() {
            self.counter_now.clear();
        }
    }

    /// Takes the newest successor link off each of `preds` (those of the op or deletion
    /// `idx` being undone) and recomputes whether each is still hidden.
    fn unlink_newest_succ(&mut self, idx: u32, preds: &[u32]) {
        for &p in preds.iter().rev() {
            let head = self.ops[p as usize].succ;
            if let Some(node) = self.succs.get(head as usize).copied() {
                self.ops[p as usize].succ = node.next;
            }
        }
        for &p in preds {
            let hidden = self.succ_iter(p).any(|s| s != idx && self.hides_op(p, s));
            self.ops[p as usize].set_hidden(hidden);
        }
        self.forget_now_visible();
    }

    fn register_id(&mut self, id: OpId, idx: u32) {
        self.by_actor[id.actor as usize].insert(id.counter, idx);
    }

    fn add_to_group(&mut self, idx: u32) {
        let op = &self.ops[idx as usize];
        let (obj, key, id) = (op.obj, op.key, op.id);
        let is_map = matches!(self.objects[obj as usize].body, Body::Map(_));
        if self.held.on
            && let Some(list) = self.held.waiting(is_map).get_mut(&(obj, key))
        {
            list.push(idx);
            return;
        }
        let mut group = match &mut self.objects[obj as usize].body {
            Body::Map(map) => std::mem::take(map.group_mut(&self.keys[key as usize])),
            Body::Seq { extra, .. } => std::mem::take(extra.entry(key).or_default()),
        };
        let pos = group.partition_point(|&o| self.cmp_id(self.ops[o as usize].id, id).is_lt());
        let wait = self.held.on && pos < group.len() && group.len() >= HOLD_MIN;
        if wait {
            // The group's list of visible ops (if it keeps one) stays exact for the ops in
            // the group; the waiting ones join it when they join the group.
            self.held.waiting(is_map).insert((obj, key), vec![idx]);
        } else {
            count_moves(group.len() - pos);
            group.insert(pos, idx);
        }
        let len = group.len();
        self.put_group(obj, key, group);
        if wait {
            return;
        }
        if len >= NOW_VISIBLE_MIN {
            // A new op has no successor yet: it is visible iff it shows a value.
            let shown = self.visible(idx, View::Now);
            match self.now_visible.get(&(obj, key)) {
                Some(list) if shown => {
                    let at =
                        list.partition_point(|&o| self.cmp_id(self.ops[o as usize].id, id).is_lt());
                    if let Some(list) = self.now_visible.get_mut(&(obj, key)) {
                        list.insert(at, idx);
                    }
                }
                Some(_) => {}
                None => {
                    let list = self
                        .group_of(obj, key)
                        .iter()
                        .copied()
                        .filter(|&o| self.visible(o, View::Now))
                        .collect();
                    self.now_visible.insert((obj, key), list);
                }
            }
        }
    }

    /// The group of `(obj, key)` (a key id, or an element): its ops ascending by id.
    fn group_of(&self, obj: u32, key: u32) -> &[u32] {
        match &self.objects[obj as usize].body {
            Body::Map(map) => map
                .get(&self.keys[key as usize])
                .map_or(&[], |g| g.as_slice()),
            Body::Seq { extra, .. } => extra.get(&key).map_or(&[], |g| g.as_slice()),
        }
    }

    /// Puts `group` back as the group of `(obj, key)`, taken out by [`OpSet::add_to_group`].
    fn put_group(&mut self, obj: u32, key: u32, group: Group) {
        match &mut self.objects[obj as usize].body {
            Body::Map(map) => {
                if let Some(slot) = map.get_mut(&self.keys[key as usize]) {
                    *slot = group;
                }
            }
            Body::Seq { extra, .. } => {
                extra.insert(key, group);
            }
        }
    }

    /// From now on, ops of remote changes that belong in the middle of a long group wait
    /// ([`OpSet::held`]) until [`OpSet::settle_elements`] (elements' groups, after each
    /// change) or [`OpSet::release_groups`] (all, after the batch) merges them in.
    pub(crate) fn hold_groups(&mut self) {
        self.held.on = true;
    }

    /// Merges the waiting ops of sequence elements into their groups (the end of a change).
    pub(crate) fn settle_elements(&mut self) {
        if !self.held.elements.is_empty() {
            for ((obj, key), waiting) in std::mem::take(&mut self.held.elements) {
                self.merge_waiting(obj, key, waiting);
            }
        }
    }

    /// Merges every waiting op into its group and stops holding (the end of a batch, or
    /// before a refused batch is undone).
    pub(crate) fn release_groups(&mut self) {
        self.settle_elements();
        if !self.held.keys.is_empty() {
            for ((obj, key), waiting) in std::mem::take(&mut self.held.keys) {
                self.merge_waiting(obj, key, waiting);
            }
        }
        self.held.on = false;
    }

    /// Merges `waiting` into the group of `(obj, key)`, and those of them visible now into
    /// the group's [`OpSet::now_visible`] list if it keeps one.
    fn merge_waiting(&mut self, obj: u32, key: u32, mut waiting: Vec<u32>) {
        let ops = &self.ops;
        waiting.sort_unstable_by(|&a, &b| self.cmp_id(ops[a as usize].id, ops[b as usize].id));
        let group = self.take_group(obj, key);
        let group = self.merge_by_id(group, &waiting);
        self.put_group(obj, key, group);
        if let Some(list) = self.now_visible.remove(&(obj, key)) {
            waiting.retain(|&o| self.visible(o, View::Now));
            let list = self.merge_by_id(list, &waiting);
            self.now_visible.insert((obj, key), list);
        }
    }

    /// The group of `(obj, key)`, taken out (an empty one left in its place).
    fn take_group(&mut self, obj: u32, key: u32) -> Group {
        match &mut self.objects[obj as usize].body {
            Body::Map(map) => map
                .get_mut(&self.keys[key as usize])
                .map(std::mem::take)
                .unwrap_or_default(),
            Body::Seq { extra, .. } => extra.get_mut(&key).map(std::mem::take).unwrap_or_default(),
        }
    }

    /// Two lists of ops, each ascending by id, as one: `b`'s ops placed by binary search,
    /// inserted into `a` in place when they are few (moving `a`'s tail a few times costs
    /// less than a copy: a merge of two peers' 80,000 single-op changes putting one list
    /// element, settled after each change, took 1.2 s with a copy each and 0.45 s so),
    /// else `a`'s ops copied between them in runs.
    fn merge_by_id(&self, mut a: Group, b: &[u32]) -> Group {
        const IN_PLACE: usize = 16;
        if b.len() <= IN_PLACE {
            let mut from = 0;
            for &y in b {
                let id = self.ops[y as usize].id;
                let rest = a.get(from..).unwrap_or_default();
                let at = from
                    + rest.partition_point(|&x| self.cmp_id(self.ops[x as usize].id, id).is_lt());
                count_moves(a.len() - at);
                a.insert(at, y);
                from = at + 1;
            }
            return a;
        }
        count_moves(a.len() + b.len());
        let mut merged = SmallVec::with_capacity(a.len() + b.len());
        let mut rest = a.as_slice();
        for &y in b {
            let id = self.ops[y as usize].id;
            let at = rest.partition_point(|&x| self.cmp_id(self.ops[x as usize].id, id).is_lt());
            let (before, after) = rest.split_at(at);
            merged.extend_from_slice(before);
            merged.push(y);
            rest = after;
        }
        merged.extend_from_slice(rest);
        merged
    }

    /// Takes op `idx` out of its group (a rollback, newest op first: an op is looked for
    /// from the group's end, where the newest ops are; a rolled-back transaction that had
    /// put one key 40,000 times took 858 ms when each was looked for from the start).
    fn remove_from_group(&mut self, idx: u32) {
        self.forget_now_visible();
        let op = &self.ops[idx as usize];
        let (obj, key) = (op.obj, op.key);
        let name = self.keys.get(key as usize).cloned();
        let take = |g: &mut Group| {
            if let Some(at) = g.iter().rposition(|&o| o == idx) {
                g.remove(at);
            }
            g.is_empty()
        };
        match &mut self.objects[obj as usize].body {
            Body::Map(map) => {
                if let Some(name) = name
                    && let Some(g) = map.get_mut(&name)
                    && take(g)
                {
                    map.remove(&name);
                }
            }
            Body::Seq { extra, .. } => {
                if let Some(g) = extra.get_mut(&key)
                    && take(g)
                {
                    extra.remove(&key);
                }
            }
        }
    }

    /// The RGA slot of a new element inserted after `after` with id `id`: skip the following
    /// elements with greater ids.
    fn rga_slot(&self, obj: u32, after: u32, id: OpId) -> Cursor {
        let Body::Seq { index, .. } = &self.objects[obj as usize].body else {
            return (0, 0);
        };
        let start = if after == HEAD {
            None
        } else {
            index.locate(after, &self.ops)
        };
        index.skip_greater(
            start,
            id.counter,
            |op| self.cmp_id(self.ops[op as usize].id, id).is_gt(),
            |a, b| self.cmp_id(self.ops[a as usize].id, self.ops[b as usize].id),
        )
    }

    /// Recomputes the widths of the elements `idx` and its preds touch.
    fn refresh_widths(&mut self, idx: u32, preds: &[u32], hint: Hint) {
        // A deletion's element is its preds'.
        let (obj, own) = match self.ops.get(idx as usize) {
            Some(op) => (op.obj, (!op.insert()).then_some(op.key)),
            None => match preds.first() {
                Some(&p) => (self.ops[p as usize].obj, None),
                None => return,
            },
        };
        if !self.objects[obj as usize].kind.is_sequence() {
            return;
        }
        let mut elems: SmallVec<[(u32, u32); 2]> = SmallVec::new();
        if let Some(key) = own {
            elems.push((obj, key));
        }
        for &p in preds {
            let p_op = &self.ops[p as usize];
            let e = if p_op.insert() { p } else { p_op.key };
            if !elems.contains(&(p_op.obj, e)) {
                elems.push((p_op.obj, e));
            }
        }
        // By reference: moving the small vector into the loop stalled as `element_ops` did.
        for &(o, e) in elems.iter() {
            let Some(object) = self.objects.get(o as usize) else {
                continue;
            };
            let kind = object.kind;
            if !kind.is_sequence() || e == HEAD {
                continue;
            }
            let width = self.element_width(o, e, kind);
            let Body::Seq { index, .. } = &self.objects[o as usize].body else {
                continue;
            };
            let cursor = match hint {
                Hint::Element(c) if o == obj && index.entry(c).op == e => Some(c),
                _ => index.locate(e, &self.ops),
            };
            if let (Some(c), Body::Seq { index, .. }) = (cursor, &mut self.objects[o as usize].body)
            {
                index.set_width(c, width);
            }
        }
    }

    /// Logs that op `p` (below `log_below`) got a successor. A log that grows past a quarter
    /// of the logged ops is dropped and logging stops: a save then encodes everything, which
    /// is as cheap by then.
    fn log_succ_change(&mut self, p: u32) {
        if self.succ_changed.len() as u64 * 4 > u64::from(self.log_below) + 4096 {
            self.stop_logging();
        } else {
            self.succ_changed.push(p);
        }
    }

    /// Starts logging successor changes of the ops now in the arena (a save kept its columns).
    pub(crate) fn start_logging(&mut self) {
        self.log_below = self.ops.len() as u32;
        self.succ_changed.clear();
    }

    /// Stops logging and forgets the log.
    pub(crate) fn stop_logging(&mut self) {
        self.log_below = 0;
        self.succ_changed = Vec::new();
    }

    /// Removes the most recently applied op (transaction rollback): the last deletion if
    /// `del`, else the last arena op. `preds` must be the preds it was applied with.
    pub(crate) fn undo_last(&mut self, preds: &[u32], del: bool) {
        if del {
            self.undo_last_delete(preds);
            return;
        }
        let Some(op) = self.ops.last().cloned() else {
            return;
        };
        let idx = (self.ops.len() - 1) as u32;
        self.unlink_newest_succ(idx, preds);
        if op.insert() {
            if let Body::Seq { index, .. } = &self.objects[op.obj as usize].body
                && let Some(c) = index.locate(idx, &self.ops)
                && let Body::Seq { index, .. } = &mut self.objects[op.obj as usize].body
            {
                index.remove(c);
            }
        } else if op.action() != Action::Del {
            self.remove_from_group(idx);
        }
        // Widths of touched elements, computed as if the op were gone: mark it hidden-less by
        // removing it from the arena last.
        self.ops[idx as usize].set_action(Action::Del);
        self.refresh_widths(idx, preds, Hint::None);
        if op.action().is_make() {
            self.objects.pop();
        }
        self.mark_names.remove(&idx);
        if let Some(list) = self.by_actor.get_mut(op.id.actor as usize) {
            list.remove(idx);
        }
        self.ops.pop();
        self.succs.truncate(self.succs.len() - preds.len());
    }

    /// [`OpSet::undo_last`] of a deletion.
    fn undo_last_delete(&mut self, preds: &[u32]) {
        let idx = DEL | (self.dels.len() - 1) as u32;
        self.unlink_newest_succ(idx, preds);
        self.dels.pop();
        // Widths of touched elements, now that the deletion is gone.
        self.refresh_widths(idx, preds, Hint::None);
        self.succs.truncate(self.succs.len() - preds.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two peers who each put one map key, one list element and one counter, and inserted
    /// at the start of a list, N times while apart, merged in one batch: the entries moved
    /// to make room in groups, and the elements RGA's skip asks about, grow with N, not
    /// N² (counted, not timed). Before the waiting groups and the skip by least counters, a
    /// merge of N = 8,000 moved about N² / 2 entries per group and asked about as many
    /// elements.
    #[test]
    fn a_crowded_merge_does_work_linear_in_its_ops() {
        use crate::{Document, ROOT};
        const N: usize = 8_000;
        let mut base = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let list = base.put_object(&ROOT, "l", ObjType::List).unwrap();
        base.insert(&list, 0, ScalarValue::Int(0)).unwrap();
        base.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
        let mut peers: Vec<Document> = (2..=3u8)
            .map(|a| {
                let mut d = base.fork();
                d.set_actor(ActorId::from_bytes(&[a; 16]));
                d
            })
            .collect();
        for doc in &mut peers {
            let mut tx = doc.transaction();
            for i in 0..N {
                tx.put(&ROOT, "k", ScalarValue::Int(i as i64)).unwrap();
                tx.put(&list, 0, ScalarValue::Int(i as i64)).unwrap();
                tx.increment(&ROOT, "c", 1).unwrap();
                tx.insert(&list, 0, ScalarValue::Int(i as i64)).unwrap();
            }
            tx.commit().unwrap();
        }
        let mut merged = peers[0].clone();
        GROUP_MOVES.with(|c| c.set(0));
        crate::seq::SKIP_ASKS.with(|c| c.set(0));
        merged.merge(&peers[1]).unwrap();
        let moves = GROUP_MOVES.with(std::cell::Cell::get);
        let asks = crate::seq::SKIP_ASKS.with(std::cell::Cell::get);
        assert_eq!(merged.length(&list).unwrap(), 2 * N + 1);
        assert_eq!(merged.get_all(&ROOT, "k").unwrap().len(), 2);
        // Linear: a few times the ops merged (4N). Quadratic (before session 47): 63,992,000
        // entries moved and 32,004,000 elements asked about.
        assert!(moves < 64 * N as u64, "{moves} group entries moved");
        assert!(asks < 600 * N as u64, "{asks} elements asked about");
    }

    /// One put over N concurrent values of a key (an op with N preds) takes them out of the
    /// key's list of visible ops in one pass: entries moved grow with N, not N² (counted).
    #[test]
    fn one_put_over_many_values_does_work_linear_in_them() {
        use crate::{Document, ROOT};
        const N: usize = 2_000;
        let base = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let mut doc = base.clone();
        let changes: Vec<_> = (0..N)
            .map(|i| {
                let mut peer = base.fork();
                let mut actor = [0xa0; 16];
                actor[..8].copy_from_slice(&(i as u64).to_be_bytes());
                peer.set_actor(ActorId::from_bytes(&actor));
                peer.put(&ROOT, "k", ScalarValue::Int(i as i64)).unwrap();
                peer.get_last_local_change().unwrap()
            })
            .collect();
        doc.apply_changes(changes).unwrap();
        assert_eq!(doc.get_all(&ROOT, "k").unwrap().len(), N);
        GROUP_MOVES.with(|c| c.set(0));
        doc.put(&ROOT, "k", ScalarValue::Str("over all".into()))
            .unwrap();
        let moves = GROUP_MOVES.with(std::cell::Cell::get);
        assert_eq!(doc.get_all(&ROOT, "k").unwrap().len(), 1);
        // Linear: about N. One by one: about N² / 2 = 2 million.
        assert!(moves < 16 * N as u64, "{moves} entries moved");
    }

    #[test]
    fn char_values_are_the_stored_strings_of_every_char() {
        let mut set = OpSet::new(TextEncoding::default());
        let mut buf = [0u8; 4];
        for ch in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
            assert_eq!(
                OpSet::char_value(ch),
                set.store_str(ch.encode_utf8(&mut buf)),
                "{ch:?}"
            );
        }
    }

    /// Reads now read only a group's ops visible now (`now_visible`, kept here for groups of
    /// two ops or more), and counters' kept totals (`counter_now`): on a map key and a list
    /// element put again and again by three actors, and on a counter in each incremented
    /// again and again (and overwritten now and then), with merges, deletions and
    /// rolled-back transactions, every read now equals the read at the current heads (which
    /// walks the whole group) and the read of a fresh load.
    #[test]
    fn reads_now_of_the_visible_ops_agree_with_reads_at_the_heads() {
        use crate::{Document, Prop, ROOT};
        let mut docs: Vec<Document> = (1..=3u8)
            .map(|a| Document::with_actor(ActorId::from_bytes(&[a; 16])))
            .collect();
        let list = docs[0].put_object(&ROOT, "l", ObjType::List).unwrap();
        docs[0].insert(&list, 0, ScalarValue::Int(-1)).unwrap();
        docs[0].insert(&list, 1, ScalarValue::Counter(0)).unwrap();
        docs[0].put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
        let first = docs[0].clone();
        for d in &mut docs[1..] {
            d.merge(&first).unwrap();
        }
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let props = |list: &crate::ExId| -> [(crate::ExId, Prop); 4] {
            [
                (ROOT, Prop::from("k")),
                (list.clone(), Prop::from(0usize)),
                (ROOT, Prop::from("c")),
                (list.clone(), Prop::from(1usize)),
            ]
        };
        // Increments the counter at `prop`, or puts a new one if no value there is one.
        let bump = |doc: &mut Document, obj: &crate::ExId, prop: Prop| {
            if doc.increment(obj, prop.clone(), 3).is_err() {
                doc.put(obj, prop, ScalarValue::Counter(10)).unwrap();
            }
        };
        let (mut hidden_seen, mut shown_seen, mut totals_seen) = (0, 0, 0);
        for step in 0..900i64 {
            let r = next();
            let d = (r % 3) as usize;
            match (r / 3) % 12 {
                0..=2 => docs[d].put(&ROOT, "k", ScalarValue::Int(step)).unwrap(),
                3 | 4 => docs[d].put(&list, 0, ScalarValue::Int(step)).unwrap(),
                5 => {
                    let other = docs[((r / 36) % 3) as usize].clone();
                    docs[d].merge(&other).unwrap();
                }
                6 => {
                    let present = docs[d].get(&ROOT, "k").unwrap().is_some();
                    let mut tx = docs[d].transaction();
                    if present && r % 2 == 0 {
                        // A deletion alone: undoing it shows the key's op again.
                        tx.delete(&ROOT, "k").unwrap();
                    } else {
                        tx.put(&ROOT, "k", ScalarValue::Int(-step)).unwrap();
                        tx.put(&list, 0, ScalarValue::Int(-step)).unwrap();
                        let _ = tx.increment(&ROOT, "c", 1);
                        let _ = tx.increment(&list, 1, 1);
                    }
                    tx.rollback();
                }
                7 => {
                    if docs[d].get(&ROOT, "k").unwrap().is_some() {
                        docs[d].delete(&ROOT, "k").unwrap();
                    }
                }
                8 | 9 => bump(&mut docs[d], &ROOT, Prop::from("c")),
                10 => bump(&mut docs[d], &list, Prop::from(1usize)),
                _ => {
                    let prop = if r % 2 == 0 {
                        (ROOT, Prop::from("c"))
                    } else {
                        (list.clone(), Prop::from(1usize))
                    };
                    docs[d]
                        .put(&prop.0, prop.1, ScalarValue::Int(step))
                        .unwrap();
                }
            }
            let doc = &docs[d];
            let lists = doc.ops.now_visible.values();
            hidden_seen += usize::from(lists.clone().any(|l| l.is_empty()));
            shown_seen += usize::from(lists.clone().any(|l| !l.is_empty()));
            totals_seen += usize::from(!doc.ops.counter_now.is_empty());
            // Reads by the op clock at the current heads (`*_at(heads)` would read now).
            let clock = doc.clock_at(&doc.heads()).unwrap();
            let at = View::At(&clock);
            let loaded = (step % 50 == 0).then(|| Document::load(&doc.clone().save()).unwrap());
            for (obj, prop) in props(&list) {
                let now = doc.get_all(&obj, prop.clone()).unwrap();
                let o = doc.ops.obj_index(&obj).unwrap();
                assert_eq!(now, doc.ops.get_all(o, &prop, at).unwrap(), "step {step}");
                if let Some(loaded) = &loaded {
                    assert_eq!(now, loaded.get_all(&obj, prop).unwrap(), "step {step}");
                }
            }
            assert_eq!(doc.keys(&ROOT).unwrap(), doc.ops.keys(0, at));
            assert_eq!(doc.length(&ROOT).unwrap(), doc.ops.length(0, at));
            assert_eq!(
                doc.value_tree(&ROOT).unwrap(),
                doc.ops.tree(0, at).unwrap(),
                "step {step}"
            );
        }
        assert!(
            hidden_seen > 50 && shown_seen > 300 && totals_seen > 300,
            "the lists were used, for hidden groups ({hidden_seen}) and shown ones \
             ({shown_seen}), and counters' totals ({totals_seen})"
        );
    }

    /// A loaded document's successor links have room for the edits after the load, and a
    /// clone of its op set is the same op set with room for deletions and links.
    #[test]
    fn loads_and_clones_leave_room_for_edits() {
        let mut doc = crate::Document::new();
        let text = doc.put_object(&crate::ROOT, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hello world").unwrap();
        doc.splice_text(&text, 2, 5, "").unwrap();
        let loaded = crate::Document::load(&doc.save()).unwrap();
        let set = &loaded.ops;
        assert!(!set.succs.is_empty() && !set.dels.is_empty());
        assert!(set.succs.capacity() >= set.succs.len() + 16);
        let copy = set.clone();
        assert_eq!(format!("{set:?}"), format!("{copy:?}"));
        assert!(copy.succs.capacity() >= copy.succs.len() + 16);
        assert!(copy.dels.capacity() >= copy.dels.len() + 16);
    }

    #[test]
    fn ascii_table_is_the_ascii_characters() {
        assert_eq!(ASCII.len(), 128);
        for (i, b) in ASCII.bytes().enumerate() {
            assert_eq!(usize::from(b), i);
        }
    }

    #[test]
    fn op_id_order_uses_actor_bytes_not_arrival() {
        let mut ops = OpSet::new(TextEncoding::default());
        let b = ops.intern_actor(&ActorId::from_bytes(&[0xbb]));
        let a = ops.intern_actor(&ActorId::from_bytes(&[0xaa]));
        assert_eq!((b, a), (0, 1));
        assert!(ops.cmp_id(OpId::new(5, a), OpId::new(5, b)).is_lt());
        assert!(ops.cmp_id(OpId::new(6, b), OpId::new(5, a)).is_gt());
    }

    /// Past `EAGER_RANK` actors the ranks go stale until `refresh_rank` (after the first
    /// `EAGER_RANK` since the last one, ranked as they come); ids order by actor bytes
    /// either way, and the ranks, made by merging the actors added into those ranked
    /// before, are the actors' bytewise order: for 200 actors arriving at once, 150 more at
    /// once, and 100 more one at a time with a refresh after each (remote changes applied
    /// one by one).
    #[test]
    fn op_id_order_holds_with_stale_and_refreshed_ranks() {
        let mut ops = OpSet::new(TextEncoding::default());
        let mut ids: Vec<u32> = Vec::new();
        let check = |ops: &OpSet, ids: &[u32]| {
            for &a in ids {
                for &b in ids {
                    let bytes = ops.actors[a as usize].cmp(&ops.actors[b as usize]);
                    assert_eq!(ops.cmp_id(OpId::new(3, a), OpId::new(3, b)), bytes);
                }
            }
            assert_eq!(ops.ranks(), {
                let mut order: Vec<u32> = ids.to_vec();
                order.sort_by(|&a, &b| ops.actors[a as usize].cmp(&ops.actors[b as usize]));
                let mut rank = vec![0; order.len()];
                for (r, &a) in order.iter().enumerate() {
                    rank[a as usize] = r as u32;
                }
                rank
            });
        };
        // Actors arriving out of byte order, of several lengths.
        let actor = |i: u32| {
            let bytes = (i.wrapping_mul(2_654_435_761) % 1000).to_be_bytes();
            ActorId::from_bytes(&bytes[(i % 3) as usize..])
        };
        for (round, batch) in [(0u32, 200u32), (200, 150)] {
            ids.extend((round..round + batch).map(|i| ops.intern_actor(&actor(i))));
            assert!(!ops.ranked);
            check(&ops, &ids);
            ops.refresh_rank();
            assert!(ops.ranked);
            check(&ops, &ids);
        }
        for i in 350..450 {
            ids.push(ops.intern_actor(&actor(i)));
            assert!(ops.ranked, "one new actor is ranked at once");
            ops.refresh_rank();
        }
        check(&ops, &ids);
        // Ids that agree on their first eight bytes (or pad to the same eight), compared
        // while the ranks are stale: past 64 actors added since the last refresh.
        for i in 450..520 {
            ids.push(ops.intern_actor(&actor(i)));
        }
        for bytes in [
            &[0u8][..],
            &[0, 0],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[1, 2, 3, 4, 5, 6, 7, 8],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[1, 2, 3, 4, 5, 6, 7, 8, 0],
            &[1, 2, 3, 4, 5, 6, 7, 8, 0, 0],
            &[1, 2, 3, 4, 5, 6, 7],
        ] {
            ids.push(ops.intern_actor(&ActorId::from_bytes(bytes)));
        }
        assert!(!ops.ranked);
        check(&ops, &ids);
        ops.refresh_rank();
        check(&ops, &ids);
        assert_eq!(ids.len(), ops.actors.len());
    }

    /// Deletions live in `dels`, not in the arena: a transaction that interleaves them
    /// with other ops commits them in counter order and, rolled back, leaves the arena, the
    /// deletions and the successor links exactly as they were; so does a remote batch
    /// refused after a change of deletions.
    #[test]
    fn deletions_are_undone_with_their_ops() {
        use crate::doc::Document;
        use crate::types::{ObjType, ROOT};
        use converge_encoding::ActorId;

        let mut doc = Document::with_actor(ActorId::from_bytes(&[1]));
        let text = doc.put_object(&ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "abcdef").unwrap();
        doc.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        doc.splice_text(&text, 1, 1, "").unwrap();
        let sizes = |d: &Document| (d.ops.ops.len(), d.ops.dels.len(), d.ops.succs.len());
        let before = (sizes(&doc), doc.save_nocompress(), doc.ops.max_op);
        assert_eq!(before.0.1, 1);

        let mut tx = doc.transaction();
        tx.splice_text(&text, 0, 2, "xy").unwrap();
        tx.delete(&ROOT, "k").unwrap();
        tx.splice_text(&text, 3, 1, "z").unwrap();
        tx.put(&ROOT, "k", ScalarValue::Int(2)).unwrap();
        assert_eq!(tx.document().ops.dels.len(), 1 + 4);
        tx.rollback();
        assert_eq!((sizes(&doc), doc.save_nocompress(), doc.ops.max_op), before);

        // Committed, the change lists the ops in counter order, deletions where they fell.
        let mut tx = doc.transaction();
        tx.splice_text(&text, 0, 1, "x").unwrap();
        tx.delete(&ROOT, "k").unwrap();
        tx.commit().unwrap();
        let change = doc.get_changes(&[]).pop().unwrap();
        let actions: Vec<Action> = change.ops().map(|op| op.action).collect();
        assert_eq!(actions, [Action::Set, Action::Del, Action::Del]);
        let mut other = Document::new();
        other.apply_changes(doc.get_changes(&[])).unwrap();
        assert_eq!(other.save_nocompress(), doc.save_nocompress());

        // A remote batch: a change of deletions, then one that names an unknown object.
        let mut remote = other.fork();
        remote.splice_text(&text, 0, 3, "").unwrap();
        let deletes = remote.get_changes(&doc.heads());
        let bad = crate::test_changes::unknown_object_change(
            remote.actor().clone(),
            2,
            u64::from(remote.max_op()) + 1,
            remote.heads(),
            999,
        );
        let before = (sizes(&doc), doc.save_nocompress(), doc.ops.max_op);
        assert!(doc.apply_changes(deletes.into_iter().chain([bad])).is_err());
        assert_eq!((sizes(&doc), doc.save_nocompress(), doc.ops.max_op), before);
    }

    /// Every kind of value, at both sides of each inline limit (48 bits, a float's low 16
    /// bits, [`SMALL_STR`] bytes, 64 KiB), comes back as it was stored, and the representation
    /// is the one the limits call for.
    #[test]
    fn stored_values_round_trip() {
        let mut ops = OpSet::new(TextEncoding::default());
        let long = "é".repeat(40_000);
        let cases: Vec<(ScalarValue, bool)> = vec![
            (ScalarValue::Null, true),
            (ScalarValue::Bool(true), true),
            (ScalarValue::Uint(7), true),
            (ScalarValue::Uint((1 << 48) - 1), true),
            (ScalarValue::Uint(1 << 48), false),
            (ScalarValue::Uint(u64::MAX), false),
            (ScalarValue::Int(-7), true),
            (ScalarValue::Int(-(1 << 47)), true),
            (ScalarValue::Int((1 << 47) - 1), true),
            (ScalarValue::Int(1 << 47), false),
            (ScalarValue::Int(-(1 << 47) - 1), false),
            (ScalarValue::Int(i64::MIN), false),
            (ScalarValue::F64(1.25), true),
            (ScalarValue::F64(-1e10), true),
            (ScalarValue::F64(-1e300), false),
            (ScalarValue::F64(0.1), false),
            (ScalarValue::F64(f64::NAN), true),
            (
                ScalarValue::F64(f64::from_bits(0x7FF8_0000_0000_0001)),
                false,
            ),
            (ScalarValue::Str("x".into()), true),
            (ScalarValue::Str("😀".into()), true),
            (ScalarValue::Str("abcde".into()), true),
            (ScalarValue::Str("abcdef".into()), false),
            (ScalarValue::Str(long.clone()), false),
            (ScalarValue::Str(long[..65_534].to_string()), false),
            (ScalarValue::Bytes(vec![1, 2, 3]), false),
            (ScalarValue::Bytes(vec![7; 65_535]), false),
            (ScalarValue::Bytes(vec![7; 65_536]), false),
            (ScalarValue::Counter(3), true),
            (ScalarValue::Counter(i64::MAX), false),
            (ScalarValue::Timestamp(-1), true),
            (ScalarValue::Timestamp(1_764_000_000_000), true),
            (ScalarValue::Timestamp(i64::MIN), false),
            (
                ScalarValue::Unknown {
                    type_code: 12,
                    bytes: vec![9],
                },
                false,
            ),
            (
                ScalarValue::Unknown {
                    type_code: 12,
                    bytes: vec![9; 70_000],
                },
                false,
            ),
        ];
        let mut stored = Vec::new();
        for (v, inline) in &cases {
            let before = ops.bytes.len();
            let s = ops.store_value(v);
            assert_eq!(ops.bytes.len() == before, *inline, "{v:?} stored as {s:?}");
            stored.push(s);
        }
        // Read back after everything was stored (offsets stay valid as the arena grows).
        for ((v, _), s) in cases.iter().zip(&stored) {
            match (v, ops.scalar(s)) {
                (ScalarValue::F64(a), ScalarValue::F64(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                (v, back) => assert_eq!(&back, v),
            }
        }
        assert!(matches!(
            ops.store_value(&ScalarValue::Str(long[..65_534].to_string())),
            StoredValue::Str(_)
        ));
        assert!(matches!(
            ops.store_value(&ScalarValue::Str(long)),
            StoredValue::LongStr(_)
        ));
        let min = ops.store_value(&ScalarValue::Counter(i64::MIN));
        assert_eq!(ops.int_of(&min), i64::MIN);
        let small = ops.store_int(-5);
        assert_eq!(ops.int_of(&small), -5);
        assert_eq!(std::mem::size_of::<StoredValue>(), 7);
        assert_eq!(std::mem::size_of::<Op>(), 32);
    }
}
