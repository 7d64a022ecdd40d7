//! The bundle chunk (type 3, spec format.md §9): a set of changes stored column-wise like a
//! document but with del ops and pred lists like changes. Experimental in the reference.
//!
//! Decoding rebuilds every change with [`Change::from_parts`], so each comes out with the bytes
//! and hash the reference gives it. Columns are read leniently (the reference does not check
//! bundles for canonical form); unknown change columns are rejected, unknown op columns
//! ignored.

use crate::change::{Change, ChangeOp, ChangeOpRef, ChangeParts};
use crate::chunk::{self, Chunk, ChunkType};
use crate::columns::{BoolDecoder, ColumnSpec, DeltaDecoder, RleDecoder};
use crate::document::DocumentLimits;
use crate::document::{actor_index, counter_u32, non_null};
use crate::error::DecodeError;
use crate::ids::{ActorId, ChangeHash, ElemId, Key, KeyRef, ObjId, OpId};
use crate::reader::Reader;
use crate::value::{Action, ScalarValue};

/// A decoded bundle: its external dependencies and its changes, in stored (topological) order.
#[derive(Clone, Debug)]
pub struct Bundle {
    deps: Vec<ChangeHash>,
    changes: Vec<Change>,
}

const DEFLATE_BIT: u32 = 0x08;

/// Change columns (spec format.md §9); anything else is rejected.
mod change_col {
    pub(super) const ACTOR: u32 = 0x01;
    pub(super) const SEQ: u32 = 0x03;
    pub(super) const START_OP: u32 = 0x13;
    pub(super) const MAX_OP: u32 = 0x23;
    pub(super) const TIME: u32 = 0x33;
    pub(super) const MESSAGE: u32 = 0x45;
    pub(super) const DEPS_COUNT: u32 = 0x50;
    pub(super) const DEPS: u32 = 0x53;
    pub(super) const EXTRA_LEN: u32 = 0x60;
    pub(super) const EXTRA_RAW: u32 = 0x67;
    pub(super) const ALL: [u32; 10] = [
        ACTOR, SEQ, START_OP, MAX_OP, TIME, MESSAGE, DEPS_COUNT, DEPS, EXTRA_LEN, EXTRA_RAW,
    ];
}

/// Op columns (spec format.md §9).
mod op_col {
    pub(super) const OBJ_ACTOR: u32 = 0x01;
    pub(super) const OBJ_COUNTER: u32 = 0x03;
    pub(super) const KEY_ACTOR: u32 = 0x11;
    pub(super) const KEY_COUNTER: u32 = 0x13;
    pub(super) const KEY_STRING: u32 = 0x15;
    pub(super) const ID_ACTOR: u32 = 0x21;
    pub(super) const ID_COUNTER: u32 = 0x23;
    pub(super) const INSERT: u32 = 0x34;
    pub(super) const ACTION: u32 = 0x42;
    pub(super) const VALUE_META: u32 = 0x56;
    pub(super) const VALUE_RAW: u32 = 0x57;
    pub(super) const PRED_COUNT: u32 = 0x70;
    pub(super) const PRED_ACTOR: u32 = 0x71;
    pub(super) const PRED_COUNTER: u32 = 0x73;
    pub(super) const EXPAND: u32 = 0x94;
    pub(super) const MARK_NAME: u32 = 0xa5;
    pub(super) const ID_COUNTER_INVERSE: u32 = 0xb3;
}

/// One change of a bundle being written ([`encode_bundle`]).
#[derive(Clone, Copy, Debug)]
pub struct BundleChangeRow<'a> {
    /// The author: an index into the bundle's actors.
    pub actor: u32,
    /// Its sequence number.
    pub seq: u64,
    /// The counter of its first op.
    pub start_op: u64,
    /// The counter of its last op (`start_op - 1` if it has none).
    pub max_op: u64,
    /// Its time.
    pub time: i64,
    /// Its message.
    pub message: Option<&'a str>,
    /// Its dependencies, in its own order: an index below the number of changes names an
    /// earlier change of the bundle; `changes + i` the bundle's external dep `i`.
    pub deps: &'a [u64],
    /// Its extra bytes.
    pub extra: &'a [u8],
}

/// One op of a bundle being written ([`encode_bundle`]), in document order; actor numbers
/// are indexes into the bundle's actors, and the preds are written in the order given (a
/// change sorts them; a bundle keeps the order in which the document lists them).
#[derive(Clone, Copy, Debug)]
pub struct BundleOpRow<'a> {
    /// The op's id.
    pub id: OpId,
    /// The op.
    pub op: ChangeOpRef<'a>,
}

/// Writes a bundle chunk (spec format.md §9): external `deps`, `actors` (those the rows
/// name), the change rows in topological order and the op rows in document order, each
/// column of at least 256 bytes deflated. The op ids' counters are not stored: their order
/// is (the id-counter-inverse column), from which a reader numbers each change's ops.
pub fn encode_bundle(
    deps: &[ChangeHash],
    actors: &[ActorId],
    changes: &[BundleChangeRow<'_>],
    ops: &[BundleOpRow<'_>],
) -> Vec<u8> {
    use crate::columns::{BoolEncoder, DeltaEncoder, StrEncoder, UintEncoder, ValueEncoder};
    let mut data = Vec::new();
    crate::leb128::write_u64(&mut data, deps.len() as u64);
    for d in deps {
        data.extend_from_slice(&d.0);
    }
    crate::leb128::write_u64(&mut data, actors.len() as u64);
    for a in actors {
        crate::leb128::write_u64(&mut data, a.as_bytes().len() as u64);
        data.extend_from_slice(a.as_bytes());
    }

    // Change columns.
    let (mut actor, mut seq, mut start_op, mut max_op, mut time) = (
        UintEncoder::new(),
        DeltaEncoder::new(),
        DeltaEncoder::new(),
        DeltaEncoder::new(),
        DeltaEncoder::new(),
    );
    let mut message = StrEncoder::new();
    let (mut dep_count, mut dep_index) = (UintEncoder::new(), DeltaEncoder::new());
    let (mut extra_len, mut extra) = (UintEncoder::new(), Vec::new());
    for c in changes {
        actor.append_value(u64::from(c.actor));
        seq.append_value(c.seq as i64);
        start_op.append_value(c.start_op as i64);
        max_op.append_value(c.max_op as i64);
        time.append_value(c.time);
        message.append(c.message);
        dep_count.append_value(c.deps.len() as u64);
        for &d in c.deps {
            dep_index.append_value(d as i64);
        }
        extra_len.append_value(c.extra.len() as u64);
        extra.extend_from_slice(c.extra);
    }
    let change_cols: Vec<(u32, Vec<u8>)> = vec![
        (change_col::ACTOR, actor.finish()),
        (change_col::SEQ, seq.finish()),
        (change_col::START_OP, start_op.finish()),
        (change_col::MAX_OP, max_op.finish()),
        (change_col::TIME, time.finish()),
        (change_col::MESSAGE, message.finish()),
        (change_col::DEPS_COUNT, dep_count.finish()),
        (change_col::DEPS, dep_index.finish()),
        (change_col::EXTRA_LEN, extra_len.finish()),
        (change_col::EXTRA_RAW, extra),
    ];

    // Op columns; the optional ones are left out when no row has a value for them.
    let (mut obj_actor, mut obj_ctr) = (UintEncoder::new(), DeltaEncoder::new());
    let (mut key_actor, mut key_ctr, mut key_str) =
        (UintEncoder::new(), DeltaEncoder::new(), StrEncoder::new());
    let (mut id_actor, mut insert, mut action) =
        (UintEncoder::new(), BoolEncoder::new(), UintEncoder::new());
    let mut value = ValueEncoder::new();
    let (mut pred_count, mut pred_actor, mut pred_ctr) =
        (UintEncoder::new(), UintEncoder::new(), DeltaEncoder::new());
    let (mut expand, mut mark_name) = (BoolEncoder::new(), StrEncoder::new());
    let (mut any_obj, mut any_key_actor, mut any_key_ctr, mut any_key_str) =
        (false, false, false, false);
    let (mut any_expand, mut any_mark) = (false, false);
    for row in ops {
        let op = &row.op;
        id_actor.append_value(u64::from(row.id.actor));
        match op.obj {
            ObjId::Root => {
                obj_actor.append_null();
                obj_ctr.append_null();
            }
            ObjId::Op(id) => {
                any_obj = true;
                obj_actor.append_value(u64::from(id.actor));
                obj_ctr.append_value(i64::from(id.counter));
            }
        }
        match op.key {
            KeyRef::Map(k) => {
                any_key_str = true;
                key_actor.append_null();
                key_ctr.append_null();
                key_str.append_value(k);
            }
            KeyRef::Seq(ElemId::Head) => {
                any_key_ctr = true;
                key_actor.append_null();
                key_ctr.append_value(0);
                key_str.append_null();
            }
            KeyRef::Seq(ElemId::Op(id)) => {
                any_key_actor = true;
                any_key_ctr = true;
                key_actor.append_value(u64::from(id.actor));
                key_ctr.append_value(i64::from(id.counter));
                key_str.append_null();
            }
        }
        insert.append(op.insert);
        action.append_value(op.action.code());
        value.append_ref(op.value);
        pred_count.append_value(op.pred.len() as u64);
        for p in op.pred {
            pred_actor.append_value(u64::from(p.actor));
            pred_ctr.append_value(i64::from(p.counter));
        }
        any_expand |= op.expand;
        expand.append(op.expand);
        any_mark |= op.mark_name.is_some();
        mark_name.append(op.mark_name);
    }
    // Each op's place in document order, listed by id (actor, then counter).
    let mut by_id: Vec<(u32, u32, usize)> = ops
        .iter()
        .enumerate()
        .map(|(pos, row)| (row.id.actor, row.id.counter, pos))
        .collect();
    by_id.sort_unstable();
    let mut inverse = DeltaEncoder::new();
    for (_, _, pos) in by_id {
        inverse.append_value(pos as i64);
    }
    let (value_meta, value_raw) = value.finish();
    let keep = |any: bool, bytes: Vec<u8>| if any { bytes } else { Vec::new() };
    let op_cols: Vec<(u32, Vec<u8>)> = vec![
        (op_col::OBJ_ACTOR, keep(any_obj, obj_actor.finish())),
        (op_col::OBJ_COUNTER, keep(any_obj, obj_ctr.finish())),
        (op_col::KEY_ACTOR, keep(any_key_actor, key_actor.finish())),
        (op_col::KEY_COUNTER, keep(any_key_ctr, key_ctr.finish())),
        (op_col::KEY_STRING, keep(any_key_str, key_str.finish())),
        (op_col::ID_ACTOR, id_actor.finish()),
        (op_col::INSERT, insert.finish()),
        (op_col::ACTION, action.finish()),
        (op_col::VALUE_META, value_meta),
        (op_col::VALUE_RAW, value_raw),
        (op_col::PRED_COUNT, pred_count.finish()),
        (op_col::PRED_ACTOR, pred_actor.finish()),
        (op_col::PRED_COUNTER, pred_ctr.finish()),
        (op_col::EXPAND, keep(any_expand, expand.finish())),
        (op_col::MARK_NAME, keep(any_mark, mark_name.finish())),
        (op_col::ID_COUNTER_INVERSE, inverse.finish()),
    ];

    // Each block's columns deflated into a buffer of its own, as the reference does (the
    // deflated bytes depend on how that buffer grows: `document::write_column_data`).
    for cols in [change_cols, op_cols] {
        let mut block = Vec::new();
        let specs = crate::document::write_column_data(&mut block, &cols, true);
        crate::document::write_column_specs(&mut data, &specs);
        data.extend_from_slice(&block);
    }
    let mut out = Vec::with_capacity(data.len() + 16);
    chunk::write_chunk(&mut out, ChunkType::Bundle, &data);
    out
}

/// A column block read into (normalized spec, inflated data).
struct Block {
    cols: Vec<(u32, Vec<u8>)>,
}

impl Block {
    fn specs(r: &mut Reader<'_>) -> Result<Vec<(u32, usize)>, DecodeError> {
        let n = r.count("columns", 2)?;
        let mut out: Vec<(u32, usize)> = Vec::with_capacity(n);
        for index in 0..n {
            let raw = r.uleb()?;
            let spec =
                u32::try_from(raw).map_err(|_| DecodeError::ColumnSpecTooLarge { value: raw })?;
            let offset = r.position();
            let len = r.uleb()?;
            let len = usize::try_from(len).map_err(|_| DecodeError::OutOfRange {
                field: "column length",
                value: len,
                offset,
            })?;
            // The order automerge 0.12 checks, as for changes and documents.
            if out.last().is_some_and(|&(p, _)| {
                ColumnSpec::from_raw(spec).order_key() < ColumnSpec::from_raw(p).order_key()
            }) {
                return Err(DecodeError::NotInNormalOrder { index, spec });
            }
            out.push((spec, len));
        }
        Ok(out)
    }

    fn data(
        r: &mut Reader<'_>,
        specs: &[(u32, usize)],
        budget: &mut usize,
    ) -> Result<Block, DecodeError> {
        let mut cols: Vec<(u32, Vec<u8>)> = Vec::with_capacity(specs.len());
        for &(spec, len) in specs {
            let bytes = r.take(len)?;
            let data = if spec & DEFLATE_BIT != 0 {
                let out = chunk::inflate_raw(bytes, *budget)?;
                *budget -= out.len();
                out
            } else {
                bytes.to_vec()
            };
            let normal = spec & !DEFLATE_BIT;
            cols.retain(|(s, _)| *s != normal);
            cols.push((normal, data));
        }
        Ok(Block { cols })
    }

    fn get(&self, spec: u32) -> &[u8] {
        crate::document::column_data(&self.cols, spec).unwrap_or_default()
    }

    fn has(&self, spec: u32) -> bool {
        self.cols.iter().any(|(s, _)| *s == spec)
    }
}

/// Next entry of a column; an exhausted (or absent) column reads as null.
fn next<T>(
    it: &mut impl Iterator<Item = Result<Option<T>, DecodeError>>,
) -> Result<Option<T>, DecodeError> {
    it.next().transpose().map(Option::flatten)
}

/// One change's metadata row.
struct Meta {
    actor: u32,
    seq: u64,
    start_op: u64,
    max_op: u64,
    time: i64,
    message: Option<String>,
    deps: Vec<u64>,
    extra: Vec<u8>,
}

/// One op with bundle actor indexes; its counter comes from the id-counter columns.
struct BundleOp {
    actor: u32,
    op: ChangeOp,
}

impl Bundle {
    /// The changes' dependencies outside the bundle.
    pub fn deps(&self) -> &[ChangeHash] {
        &self.deps
    }

    /// The changes, in stored (topological) order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Consumes the bundle, returning its changes.
    pub fn into_changes(self) -> Vec<Change> {
        self.changes
    }

    /// Decodes one whole bundle chunk (header included, checksum verified, nothing after it).
    pub fn decode(bytes: &[u8]) -> Result<Bundle, DecodeError> {
        let c = Chunk::parse(bytes)?;
        if c.chunk_type() != ChunkType::Bundle {
            return Err(DecodeError::WrongChunkType {
                expected: "bundle",
                found: c.chunk_type().byte(),
            });
        }
        if c.bytes().len() != bytes.len() {
            return Err(DecodeError::LeftoverData {
                len: bytes.len() - c.bytes().len(),
            });
        }
        c.verify_checksum()?;
        Self::decode_data(c.data(), DocumentLimits::default())
    }

    /// Decodes the data of a bundle chunk.
    pub fn decode_data(data: &[u8], limits: DocumentLimits) -> Result<Bundle, DecodeError> {
        let mut r = Reader::new(data);
        let n = r.count("bundle deps", ChangeHash::LEN)?;
        let mut deps = Vec::with_capacity(n);
        for _ in 0..n {
            deps.push(ChangeHash(r.take_array()?));
        }
        let n = r.count("actors", 1)?;
        let mut actors = Vec::with_capacity(n);
        for _ in 0..n {
            actors.push(ActorId::from_bytes(r.length_prefixed()?));
        }
        let mut budget = limits.max_inflated_bytes;
        let change_specs = Block::specs(&mut r)?;
        if let Some(&(spec, _)) = change_specs
            .iter()
            .find(|(s, _)| !change_col::ALL.contains(&(s & !DEFLATE_BIT)))
        {
            return Err(DecodeError::UnknownBundleColumn { spec });
        }
        let change_cols = Block::data(&mut r, &change_specs, &mut budget)?;
        let op_specs = Block::specs(&mut r)?;
        let op_cols = Block::data(&mut r, &op_specs, &mut budget)?;
        if !r.is_empty() {
            return Err(DecodeError::LeftoverData { len: r.remaining() });
        }
        let metas = decode_metas(&change_cols, actors.len(), limits)?;
        let ops = decode_ops(&op_cols, actors.len(), limits)?;
        let ids = op_ids(&op_cols, &metas, &ops)?;
        build(deps, &actors, metas, ops, ids)
    }
}

fn decode_metas(
    cols: &Block,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<Vec<Meta>, DecodeError> {
    use change_col::*;
    let mut actor = RleDecoder::<u64>::new(cols.get(ACTOR), false);
    let mut seq = DeltaDecoder::new(cols.get(SEQ), false);
    let mut start = DeltaDecoder::new(cols.get(START_OP), false);
    let mut max = DeltaDecoder::new(cols.get(MAX_OP), false);
    let mut time = DeltaDecoder::new(cols.get(TIME), false);
    let mut message = RleDecoder::<&str>::new(cols.get(MESSAGE), false);
    let mut deps_count = RleDecoder::<u64>::new(cols.get(DEPS_COUNT), false);
    let mut deps = DeltaDecoder::new(cols.get(DEPS), false);
    let mut extra_len = RleDecoder::<u64>::new(cols.get(EXTRA_LEN), false);
    let mut extra_raw = Reader::new(cols.get(EXTRA_RAW));
    let mut out = Vec::new();
    let mut items = 0u64;
    for (row, a) in (0u64..).zip(actor.by_ref()) {
        if row >= limits.max_rows as u64 {
            return Err(DecodeError::TooManyRows {
                what: "bundle changes",
                limit: limits.max_rows as u64,
            });
        }
        let a = actor_index(non_null(a?, "change actor", row)?, n_actors)?;
        let s = non_null(next(&mut seq)?, "change seq", row)?;
        let so = non_null(next(&mut start)?, "change startOp", row)?;
        let mo = non_null(next(&mut max)?, "change maxOp", row)?;
        let t = next(&mut time)?.unwrap_or(0);
        let msg = next(&mut message)?.map(str::to_owned);
        let dc = next(&mut deps_count)?.unwrap_or(0);
        items = items.saturating_add(dc);
        if items > limits.max_rows as u64 {
            return Err(DecodeError::TooManyRows {
                what: "bundle deps",
                limit: limits.max_rows as u64,
            });
        }
        let mut d = Vec::with_capacity(dc as usize);
        for _ in 0..dc {
            let dep = non_null(next(&mut deps)?, "change dep", row)?;
            d.push(
                u64::try_from(dep).map_err(|_| DecodeError::InvalidDepIndex {
                    change: row as usize,
                    dep: dep as u64,
                })?,
            );
        }
        let el = next(&mut extra_len)?.unwrap_or(0);
        let el = usize::try_from(el).unwrap_or(usize::MAX);
        let extra = extra_raw.take(el)?.to_vec();
        let range = |v: i64, field| {
            u64::try_from(v)
                .ok()
                .filter(|v| *v <= u64::from(u32::MAX))
                .ok_or(DecodeError::OutOfRange {
                    field,
                    value: v as u64,
                    offset: row as usize,
                })
        };
        out.push(Meta {
            actor: a,
            seq: range(s, "change seq")?,
            start_op: range(so, "change startOp")?,
            max_op: range(mo, "change maxOp")?,
            time: t,
            message: msg,
            deps: d,
            extra,
        });
    }
    Ok(out)
}

fn decode_ops(
    cols: &Block,
    n_actors: usize,
    limits: DocumentLimits,
) -> Result<Vec<BundleOp>, DecodeError> {
    use op_col::*;
    let mut obj_actor = RleDecoder::<u64>::new(cols.get(OBJ_ACTOR), false);
    let mut obj_counter = DeltaDecoder::new(cols.get(OBJ_COUNTER), false);
    let mut key_actor = RleDecoder::<u64>::new(cols.get(KEY_ACTOR), false);
    let mut key_counter = DeltaDecoder::new(cols.get(KEY_COUNTER), false);
    let mut key_string = RleDecoder::<&str>::new(cols.get(KEY_STRING), false);
    let mut id_actor = RleDecoder::<u64>::new(cols.get(ID_ACTOR), false);
    let mut insert = BoolDecoder::new(cols.get(INSERT), false);
    let mut action = RleDecoder::<u64>::new(cols.get(ACTION), false);
    let mut value_meta = RleDecoder::<u64>::new(cols.get(VALUE_META), false);
    let mut value_raw = Reader::new(cols.get(VALUE_RAW));
    let mut pred_count = RleDecoder::<u64>::new(cols.get(PRED_COUNT), false);
    let mut pred_actor = RleDecoder::<u64>::new(cols.get(PRED_ACTOR), false);
    let mut pred_counter = DeltaDecoder::new(cols.get(PRED_COUNTER), false);
    let mut expand = BoolDecoder::new(cols.get(EXPAND), false);
    let mut mark_name = RleDecoder::<&str>::new(cols.get(MARK_NAME), false);
    let mut out = Vec::new();
    let mut items = 0u64;
    for (row, code) in (0u64..).zip(action.by_ref()) {
        if row >= limits.max_rows as u64 {
            return Err(DecodeError::TooManyRows {
                what: "bundle ops",
                limit: limits.max_rows as u64,
            });
        }
        let code = non_null(code?, "action", row)?;
        let Some(act) = Action::from_code(code) else {
            return Err(DecodeError::UnknownAction { code, row });
        };
        let obj = match (next(&mut obj_actor)?, next(&mut obj_counter)?) {
            (None, None) => ObjId::Root,
            (Some(a), Some(c)) => ObjId::Op(OpId::new(
                counter_u32(c, "obj counter", row)?,
                actor_index(a, n_actors)?,
            )),
            _ => return Err(DecodeError::InvalidObjId { row }),
        };
        let key = match (
            next(&mut key_actor)?,
            next(&mut key_counter)?,
            next(&mut key_string)?,
        ) {
            (None, None, Some(s)) => Key::Map(s.to_owned()),
            (None, Some(0), None) => Key::Seq(ElemId::Head),
            (Some(a), Some(c), None) => Key::Seq(ElemId::Op(OpId::new(
                counter_u32(c, "key counter", row)?,
                actor_index(a, n_actors)?,
            ))),
            _ => return Err(DecodeError::InvalidKey { row }),
        };
        let actor = actor_index(non_null(next(&mut id_actor)?, "id actor", row)?, n_actors)?;
        let ins = insert.next().transpose()?.unwrap_or(false);
        let meta = non_null(next(&mut value_meta)?, "value metadata", row)?;
        let len = usize::try_from(meta >> 4).unwrap_or(usize::MAX);
        let value = ScalarValue::decode_raw(meta, value_raw.take(len)?, true)?;
        let pc = next(&mut pred_count)?.unwrap_or(0);
        items = items.saturating_add(pc);
        if items > limits.max_rows as u64 {
            return Err(DecodeError::TooManyRows {
                what: "bundle preds",
                limit: limits.max_rows as u64,
            });
        }
        let mut pred = Vec::with_capacity(pc as usize);
        for _ in 0..pc {
            let a = non_null(next(&mut pred_actor)?, "pred actor", row)?;
            let c = non_null(next(&mut pred_counter)?, "pred counter", row)?;
            pred.push(OpId::new(
                counter_u32(c, "pred counter", row)?,
                actor_index(a, n_actors)?,
            ));
        }
        let exp = expand.next().transpose()?.unwrap_or(false);
        let name = next(&mut mark_name)?.map(str::to_owned);
        out.push(BundleOp {
            actor,
            op: ChangeOp {
                obj,
                key,
                insert: ins,
                action: act,
                value,
                pred,
                expand: exp,
                mark_name: name,
            },
        });
    }
    Ok(out)
}

/// The counter and owning change of every op: from the explicit id-counter column if present,
/// else from the id-counter-inverse column walked in (actor, seq) change order.
fn op_ids(
    cols: &Block,
    metas: &[Meta],
    ops: &[BundleOp],
) -> Result<Vec<(u32, usize)>, DecodeError> {
    let n = ops.len();
    let mut ids: Vec<Option<(u32, usize)>> = vec![None; n];
    let mut order: Vec<usize> = (0..metas.len()).collect();
    order.sort_by_key(|&i| metas.get(i).map(|m| (m.actor, m.seq)));
    if cols.has(op_col::ID_COUNTER) {
        // Legacy: explicit counters; owners found by (actor, counter) range.
        let mut ctrs = DeltaDecoder::new(cols.get(op_col::ID_COUNTER), false);
        // Changes by (actor, startOp), to find each op's owner by binary search.
        let mut starts: Vec<(u32, u64, usize)> = metas
            .iter()
            .enumerate()
            .map(|(i, m)| (m.actor, m.start_op, i))
            .collect();
        starts.sort_unstable();
        for (row, (slot, op)) in ids.iter_mut().zip(ops).enumerate() {
            let c = counter_u32(
                non_null(next(&mut ctrs)?, "id counter", row as u64)?,
                "id counter",
                row as u64,
            )?;
            let k = starts.partition_point(|s| (s.0, s.1) <= (op.actor, u64::from(c)));
            let owner = k
                .checked_sub(1)
                .and_then(|k| starts.get(k))
                .filter(|s| s.0 == op.actor)
                .map(|s| s.2)
                .filter(|&o| metas.get(o).is_some_and(|m| u64::from(c) <= m.max_op));
            *slot = owner.map(|o| (c, o));
        }
    } else {
        let mut inverse = DeltaDecoder::new(cols.get(op_col::ID_COUNTER_INVERSE), false);
        for &ci in &order {
            let Some(m) = metas.get(ci) else { continue };
            for ctr in m.start_op..=m.max_op {
                let pos = non_null(next(&mut inverse)?, "id counter inverse", ctr)?;
                let slot = usize::try_from(pos)
                    .ok()
                    .and_then(|p| ids.get_mut(p))
                    .ok_or(DecodeError::MissingOps {
                        change: ci,
                        counter: ctr,
                    })?;
                if slot.is_some() {
                    return Err(DecodeError::DuplicateOpId {
                        counter: ctr as u32,
                        actor: m.actor,
                    });
                }
                *slot = Some((ctr as u32, ci));
            }
        }
    }
    ids.into_iter()
        .enumerate()
        .map(|(row, id)| id.ok_or(DecodeError::OrphanBundleOp { row: row as u64 }))
        .collect()
}

fn build(
    deps: Vec<ChangeHash>,
    actors: &[ActorId],
    metas: Vec<Meta>,
    ops: Vec<BundleOp>,
    ids: Vec<(u32, usize)>,
) -> Result<Bundle, DecodeError> {
    // Ops per change, in counter order.
    let mut per_change: Vec<Vec<(u32, ChangeOp)>> = (0..metas.len()).map(|_| Vec::new()).collect();
    for (op, (ctr, owner)) in ops.into_iter().zip(ids) {
        let meta = metas.get(owner);
        if meta.map(|m| m.actor) != Some(op.actor) {
            return Err(DecodeError::MissingOps {
                change: owner,
                counter: u64::from(ctr),
            });
        }
        if let Some(v) = per_change.get_mut(owner) {
            v.push((ctr, op.op));
        }
    }
    // Bundle actor index -> change-local actor number, for the change being built.
    let mut local: Vec<u32> = vec![u32::MAX; actors.len()];
    let n_changes = metas.len() as u64;
    let mut changes: Vec<Change> = Vec::with_capacity(metas.len());
    for (i, (m, mut ops)) in metas.into_iter().zip(per_change).enumerate() {
        ops.sort_by_key(|(c, _)| *c);
        let expected = (m.max_op + 1).saturating_sub(m.start_op);
        if ops.len() as u64 != expected {
            return Err(DecodeError::MissingOps {
                change: i,
                counter: m.start_op + ops.len() as u64,
            });
        }
        let mut dep_hashes = Vec::with_capacity(m.deps.len());
        for d in m.deps {
            let h = if d < n_changes {
                changes.get(d as usize).map(Change::hash)
            } else {
                deps.get((d - n_changes) as usize).copied()
            };
            dep_hashes.push(h.ok_or(DecodeError::InvalidDepIndex { change: i, dep: d })?);
        }
        let mut other_actors: Vec<ActorId> = Vec::new();
        let mut touched: Vec<usize> = vec![m.actor as usize];
        if let Some(l) = local.get_mut(m.actor as usize) {
            *l = 0;
        }
        let mut map = |id: OpId| -> OpId {
            let a = id.actor as usize;
            let Some(slot) = local.get_mut(a) else {
                return id;
            };
            if *slot == u32::MAX {
                other_actors.push(actors.get(a).cloned().unwrap_or_default());
                *slot = other_actors.len() as u32;
                touched.push(a);
            }
            OpId::new(id.counter, *slot)
        };
        let change_ops: Vec<ChangeOp> = ops
            .into_iter()
            .map(|(_, mut op)| {
                if let ObjId::Op(id) = op.obj {
                    op.obj = ObjId::Op(map(id));
                }
                if let Key::Seq(ElemId::Op(id)) = op.key {
                    op.key = Key::Seq(ElemId::Op(map(id)));
                }
                for p in &mut op.pred {
                    *p = map(*p);
                }
                op
            })
            .collect();
        for a in touched {
            if let Some(l) = local.get_mut(a) {
                *l = u32::MAX;
            }
        }
        changes.push(Change::from_parts(ChangeParts {
            actor: actors.get(m.actor as usize).cloned().unwrap_or_default(),
            seq: m.seq,
            start_op: m.start_op,
            time: m.time,
            message: m.message,
            deps: dep_hashes,
            other_actors,
            ops: change_ops,
            extra_bytes: m.extra,
        })?);
    }
    Ok(Bundle { deps, changes })
}
