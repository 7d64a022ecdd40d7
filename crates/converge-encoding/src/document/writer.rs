//! Streaming writers for a document chunk's columns: rows go in borrowed, one at a time
//! ([`ChangeColumnsWriter::push`], [`OpColumnsWriter::push`]), and [`write_document`] lays the
//! finished columns out exactly as [`DocumentChunk::encode`](super::DocumentChunk::encode) does
//! (it is built on these writers). A saver can therefore walk its own structures and write a
//! document without materialising a [`DocOp`](super::DocOp) per op.

use crate::chunk::{self, ChunkType};
use crate::columns::{
    BoolEncoder, BoolRuns, DeltaEncoder, DeltaRuns, RawBytes, RleEncoder, RleRuns, RleValue,
    skip_weighted,
};
use crate::error::DecodeError;
use crate::ids::{ActorId, ChangeHash, ElemId, KeyRef, ObjId, OpId};
use crate::leb128;
use crate::value::{Action, ValueRef};

use super::{EncodedColumns, change_col, op_col, write_column_data, write_column_specs};

/// One op row, borrowed (the fields of [`DocOp`](super::DocOp)). Strings that the column
/// encoders keep (`key`, `mark_name`) live for `'a`; the rest only for the call (`'s`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DocOpRef<'a, 's> {
    /// The op's id.
    pub id: OpId,
    /// The object it acts on.
    pub obj: ObjId,
    /// The key or element it addresses.
    pub key: KeyRef<'a>,
    /// Whether it inserts a new sequence element.
    pub insert: bool,
    /// What it does.
    pub action: Action,
    /// Its value.
    pub value: ValueRef<'s>,
    /// The ops that supersede it, sorted ascending.
    pub succ: &'s [OpId],
    /// For marks: whether the mark expands.
    pub expand: bool,
    /// For mark begins: the mark's name.
    pub mark_name: Option<&'a str>,
}

/// One change metadata row, borrowed (the fields of [`DocChange`](super::DocChange)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocChangeRef<'a, 's> {
    /// The author, an index into the document's actors.
    pub actor: u32,
    /// Per-actor sequence number.
    pub seq: u64,
    /// The counter of the change's last op.
    pub max_op: u64,
    /// Timestamp.
    pub time: i64,
    /// The commit message, if any.
    pub message: Option<&'a str>,
    /// Dependencies: indexes of earlier changes.
    pub deps: &'s [u32],
    /// Opaque trailing bytes of the change.
    pub extra_bytes: &'s [u8],
}

/// The change metadata columns of a document, written row by row.
#[derive(Debug, Default)]
pub struct ChangeColumnsWriter<'a> {
    actor: RleEncoder<u64>,
    seq: DeltaEncoder,
    max_op: DeltaEncoder,
    time: DeltaEncoder,
    message: RleEncoder<&'a str>,
    deps_count: RleEncoder<u64>,
    deps: DeltaEncoder,
    extra_meta: RleEncoder<u64>,
    extra_raw: Vec<u8>,
    any_message: bool,
}

impl<'a> ChangeColumnsWriter<'a> {
    /// No rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one change row.
    pub fn push(&mut self, c: &DocChangeRef<'a, '_>) {
        self.push_rows(std::slice::from_ref(c));
    }

    /// Appends change rows, column by column.
    pub fn push_rows(&mut self, rows: &[DocChangeRef<'a, '_>]) {
        for c in rows {
            self.actor.append_value(u64::from(c.actor));
        }
        for c in rows {
            self.seq.append_value(c.seq as i64);
        }
        for c in rows {
            self.max_op.append_value(c.max_op as i64);
        }
        for c in rows {
            self.time.append_value(c.time);
        }
        for c in rows {
            match c.message {
                Some(m) => {
                    self.any_message = true;
                    self.message.append_value(m);
                }
                None => self.message.append_null(),
            }
        }
        for c in rows {
            self.deps_count.append_value(c.deps.len() as u64);
        }
        for c in rows {
            for &d in c.deps {
                self.deps.append_value(i64::from(d));
            }
        }
        for c in rows {
            self.extra_meta
                .append_value(((c.extra_bytes.len() as u64) << 4) | 7);
            self.extra_raw.extend_from_slice(c.extra_bytes);
        }
    }

    /// Appends the next `n` change rows of `src` (kept columns of an earlier save), their
    /// actor indexes renumbered through `actors` (old index → new index, increasing, so that
    /// runs stay runs).
    pub fn copy_rows(
        &mut self,
        src: &mut ChangeColumnsSource<'a>,
        n: u64,
        actors: &[u32],
    ) -> Result<(), DecodeError> {
        let map = |v: u64| renumber(actors, v);
        self.actor.copy_from(&mut src.actor, n, map)?;
        self.seq.copy_from(&mut src.seq, n)?;
        self.max_op.copy_from(&mut src.max_op, n)?;
        self.time.copy_from(&mut src.time, n)?;
        self.any_message |= src.message.is_present();
        self.message.copy_exact(&mut src.message, n)?;
        let deps = self
            .deps_count
            .copy_weighted(&mut src.deps_count, n, |c| c)?;
        self.deps.copy_from(&mut src.deps, deps)?;
        let extra = self
            .extra_meta
            .copy_weighted(&mut src.extra_meta, n, |m| m >> 4)?;
        self.extra_raw.extend_from_slice(src.extra_raw.take(extra)?);
        Ok(())
    }

    /// The columns (spec, data) in spec order, the message column only if some change has one.
    pub fn finish(self) -> Vec<(u32, Vec<u8>)> {
        use change_col::*;
        let mut cols = Vec::with_capacity(9);
        cols.push((ACTOR, self.actor.finish()));
        cols.push((SEQ, self.seq.finish()));
        cols.push((MAX_OP, self.max_op.finish()));
        cols.push((TIME, self.time.finish()));
        if self.any_message {
            cols.push((MESSAGE, self.message.finish()));
        }
        cols.push((DEPS_COUNT, self.deps_count.finish()));
        cols.push((DEPS, self.deps.finish()));
        cols.push((EXTRA_META, self.extra_meta.finish()));
        cols.push((EXTRA_RAW, self.extra_raw));
        cols
    }
}

/// The op columns of a document, written row by row in document order.
#[derive(Debug, Default)]
pub struct OpColumnsWriter<'a> {
    obj_actor: RleEncoder<u64>,
    obj_counter: RleEncoder<u64>,
    key_actor: RleEncoder<u64>,
    key_counter: DeltaEncoder,
    key_string: RleEncoder<&'a str>,
    id_actor: RleEncoder<u64>,
    id_counter: DeltaEncoder,
    insert: BoolEncoder,
    action: RleEncoder<u64>,
    value_meta: RleEncoder<u64>,
    value_raw: Vec<u8>,
    succ_count: RleEncoder<u64>,
    succ_actor: RleEncoder<u64>,
    succ_counter: DeltaEncoder,
    expand: BoolEncoder,
    mark_name: RleEncoder<&'a str>,
    any_obj: bool,
    any_key_actor: bool,
    any_key_counter: bool,
    any_key_string: bool,
    any_expand: bool,
    any_mark: bool,
}

impl<'a> OpColumnsWriter<'a> {
    /// No rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one op row.
    pub fn push(&mut self, op: &DocOpRef<'a, '_>) {
        self.push_rows(std::slice::from_ref(op));
    }

    /// Appends op rows, column by column (cheaper than one [`OpColumnsWriter::push`] per row
    /// for blocks of a few hundred rows or more).
    pub fn push_rows(&mut self, rows: &[DocOpRef<'a, '_>]) {
        self.push_key_rows(rows);
        for r in rows {
            self.value_columns(r.value);
        }
        for r in rows {
            self.tail_columns(r.succ, r.expand, r.mark_name);
        }
    }

    /// Appends the [`OpColumnGroup::Keys`] columns of op rows (their values, successors,
    /// expand flags and mark names are not read): a writer that writes only these, and
    /// others that write the other groups of the same rows, together write what one writer
    /// given the rows writes (see [`OpColumnsWriter::finish_group`]).
    pub fn push_key_rows(&mut self, rows: &[DocOpRef<'a, '_>]) {
        // Objects come in runs.
        let mut rest = rows;
        while let Some(first) = rest.first() {
            let run = rest.iter().take_while(|r| r.obj == first.obj).count();
            self.push_objects(first.obj, run as u64);
            rest = rest.get(run..).unwrap_or_default();
        }
        // Columns that read the same fields share a loop.
        for r in rows {
            match r.key {
                KeyRef::Map(s) => {
                    self.any_key_string = true;
                    self.key_actor.append_null();
                    self.key_counter.append_null();
                    self.key_string.append_value(s);
                }
                KeyRef::Seq(ElemId::Head) => {
                    self.any_key_counter = true;
                    self.key_actor.append_null();
                    self.key_counter.append_value(0);
                    self.key_string.append_null();
                }
                KeyRef::Seq(ElemId::Op(id)) => {
                    self.any_key_actor = true;
                    self.any_key_counter = true;
                    self.key_actor.append_value(u64::from(id.actor));
                    self.key_counter.append_value(i64::from(id.counter));
                    self.key_string.append_null();
                }
            }
        }
        for r in rows {
            self.id_actor.append_value(u64::from(r.id.actor));
            self.id_counter.append_value(i64::from(r.id.counter));
        }
        for r in rows {
            self.insert.append(r.insert);
            self.action.append_value(r.action.code());
        }
    }

    /// Appends the [`OpColumnGroup::Values`] columns of one op row: its value.
    // Not inlined into callers: copies of the column appends in every caller's loop made
    // the compiler stop inlining them into the save's run writer (a full encode of
    // rustcode 7.3 -> 10.5 ms).
    #[inline(never)]
    pub fn push_value(&mut self, value: ValueRef<'_>) {
        self.value_columns(value);
    }

    #[inline]
    fn value_columns(&mut self, value: ValueRef<'_>) {
        let meta = value.encode_raw(&mut self.value_raw);
        self.value_meta.append_value(meta);
    }

    /// Appends the [`OpColumnGroup::Tails`] columns of one op row: its successors (sorted
    /// ascending), expand flag and mark name.
    // Not inlined, as `push_value`.
    #[inline(never)]
    pub fn push_tail(&mut self, succ: &[OpId], expand: bool, mark_name: Option<&'a str>) {
        self.tail_columns(succ, expand, mark_name);
    }

    #[inline]
    fn tail_columns(&mut self, succ: &[OpId], expand: bool, mark_name: Option<&'a str>) {
        self.succ_count.append_value(succ.len() as u64);
        for s in succ {
            self.succ_actor.append_value(u64::from(s.actor));
            self.succ_counter.append_value(i64::from(s.counter));
        }
        self.any_expand |= expand;
        self.expand.append(expand);
        match mark_name {
            Some(m) => {
                self.any_mark = true;
                self.mark_name.append_value(m);
            }
            None => self.mark_name.append_null(),
        }
    }

    /// The object columns of `n` rows in `obj`.
    fn push_objects(&mut self, obj: ObjId, n: u64) {
        match obj {
            ObjId::Root => {
                self.obj_actor.append_nulls(n);
                self.obj_counter.append_nulls(n);
            }
            ObjId::Op(id) => {
                self.any_obj = true;
                self.obj_actor.append_value_n(u64::from(id.actor), n);
                self.obj_counter.append_value_n(u64::from(id.counter), n);
            }
        }
    }

    /// Appends a run of typed characters (or list elements) in one sequence object: one row
    /// for each of `ops`, row `i` being the op `(first.counter + i, first.actor)` that
    /// inserts (action `set`) the value `ops[i].0` after row `i - 1`'s op (row 0 after
    /// `after`), with the one successor `ops[i].1` or none, no mark name and no expand flag.
    /// The columns come out exactly as [`OpColumnsWriter::push_rows`] of those rows writes
    /// them, but the columns of ids, keys and flags are written as runs: a save of typed text
    /// costs a few appends a character instead of a dozen.
    pub fn push_insert_run(
        &mut self,
        obj: ObjId,
        after: ElemId,
        first: OpId,
        ops: impl IntoIterator<Item = (ValueRef<'a>, Option<OpId>)>,
    ) {
        let mut n = 0u64;
        for (value, succ) in ops {
            let meta = value.encode_raw(&mut self.value_raw);
            self.value_meta.append_value(meta);
            match succ {
                None => self.succ_count.append_value(0),
                Some(s) => {
                    self.succ_count.append_value(1);
                    self.succ_actor.append_value(u64::from(s.actor));
                    self.succ_counter.append_value(i64::from(s.counter));
                }
            }
            n += 1;
        }
        self.expand.append_n(false, n);
        self.mark_name.append_nulls(n);
        self.push_insert_run_keys(obj, after, first, n);
    }

    /// The [`OpColumnGroup::Keys`] columns of [`OpColumnsWriter::push_insert_run`] for a run
    /// of `n` rows (their values, successors, expand flags and mark names are written, by
    /// another writer or not at all, one row at a time).
    pub fn push_insert_run_keys(&mut self, obj: ObjId, after: ElemId, first: OpId, n: u64) {
        if n == 0 {
            return;
        }
        self.push_objects(obj, n);
        self.any_key_counter = true;
        match after {
            ElemId::Head => {
                self.key_actor.append_null();
                self.key_counter.append_value(0);
            }
            ElemId::Op(id) => {
                self.any_key_actor = true;
                self.key_actor.append_value(u64::from(id.actor));
                self.key_counter.append_value(i64::from(id.counter));
            }
        }
        let (actor, counter) = (u64::from(first.actor), i64::from(first.counter));
        if n > 1 {
            // Rows 1.. insert after rows 0..: keys `counter`, `counter + 1`, ...
            self.any_key_actor = true;
            self.key_actor.append_value_n(actor, n - 1);
            self.key_counter.append_value(counter);
            self.key_counter.append_delta_run(1, n - 2, (n - 2) as i64);
        }
        self.key_string.append_nulls(n);
        self.id_actor.append_value_n(actor, n);
        self.id_counter.append_value(counter);
        self.id_counter.append_delta_run(1, n - 1, (n - 1) as i64);
        self.insert.append_n(true, n);
        self.action.append_value_n(Action::Set.code(), n);
    }

    /// Appends the next `n` op rows of `src` (kept columns of an earlier save), their actor
    /// indexes renumbered through `actors` (old index → new index, increasing, so that runs
    /// stay runs). Appending a copied range leaves the writer exactly as pushing those rows
    /// would, so copied ranges and pushed rows may interleave freely.
    pub fn copy_rows(
        &mut self,
        src: &mut OpColumnsSource<'a>,
        n: u64,
        actors: &[u32],
    ) -> Result<(), DecodeError> {
        self.copy_op_rows(src, n, Some(actors), false)
    }

    /// [`OpColumnsWriter::copy_rows`] of the `n` rows `src` has left, the last thing written:
    /// once each column's pending run is settled, the rest of its bytes are copied without
    /// being scanned. Nothing may be pushed after.
    pub fn copy_rest(
        &mut self,
        src: &mut OpColumnsSource<'a>,
        n: u64,
        actors: &[u32],
    ) -> Result<(), DecodeError> {
        self.copy_op_rows(src, n, Some(actors), true)
    }

    fn copy_op_rows(
        &mut self,
        src: &mut OpColumnsSource<'a>,
        n: u64,
        actors: Option<&[u32]>,
        to_end: bool,
    ) -> Result<(), DecodeError> {
        // Columns copied as they are (actor columns too, when the renumbering is the
        // identity); to the end, their tails unscanned.
        fn exact<'a, T: RleValue<'a>>(
            enc: &mut RleEncoder<T>,
            src: &mut RleRuns<'a, T>,
            n: u64,
            to_end: bool,
        ) -> Result<(), DecodeError> {
            if to_end {
                enc.copy_to_end(src, n)
            } else {
                enc.copy_exact(src, n)
            }
        }
        fn delta(
            enc: &mut DeltaEncoder,
            src: &mut DeltaRuns<'_>,
            n: u64,
            to_end: bool,
        ) -> Result<(), DecodeError> {
            if to_end {
                enc.copy_to_end(src, n)
            } else {
                enc.copy_from(src, n)
            }
        }
        // No table: the same numbering on both sides.
        let same_actors =
            actors.is_none_or(|a| a.iter().enumerate().all(|(i, &a)| a as usize == i));
        let actors = actors.unwrap_or_default();
        let actor = |enc: &mut RleEncoder<u64>, src: &mut RleRuns<'a, u64>, n: u64| {
            if same_actors {
                exact(enc, src, n, to_end)
            } else {
                enc.copy_from(src, n, |v| renumber(actors, v))
            }
        };
        self.any_obj |= src.obj_actor.is_present();
        actor(&mut self.obj_actor, &mut src.obj_actor, n)?;
        exact(&mut self.obj_counter, &mut src.obj_counter, n, to_end)?;
        self.any_key_actor |= src.key_actor.is_present();
        actor(&mut self.key_actor, &mut src.key_actor, n)?;
        self.any_key_counter |= src.key_counter.is_present();
        delta(&mut self.key_counter, &mut src.key_counter, n, to_end)?;
        self.any_key_string |= src.key_string.is_present();
        exact(&mut self.key_string, &mut src.key_string, n, to_end)?;
        actor(&mut self.id_actor, &mut src.id_actor, n)?;
        delta(&mut self.id_counter, &mut src.id_counter, n, to_end)?;
        self.insert.copy_from(&mut src.insert, n)?;
        exact(&mut self.action, &mut src.action, n, to_end)?;
        let raw = self
            .value_meta
            .copy_weighted(&mut src.value_meta, n, |m| m >> 4)?;
        self.value_raw.extend_from_slice(src.value_raw.take(raw)?);
        let succ = self
            .succ_count
            .copy_weighted(&mut src.succ_count, n, |c| c)?;
        actor(&mut self.succ_actor, &mut src.succ_actor, succ)?;
        delta(&mut self.succ_counter, &mut src.succ_counter, succ, to_end)?;
        self.any_expand |= src.expand.is_present();
        self.expand.copy_from(&mut src.expand, n)?;
        self.any_mark |= src.mark_name.is_present();
        exact(&mut self.mark_name, &mut src.mark_name, n, to_end)?;
        Ok(())
    }

    /// The columns of this writer's rows followed by the rows of each of `later` (finished
    /// columns and their row count, of writers that started empty, actors numbered alike):
    /// exactly the columns of one writer given all the rows.
    pub(crate) fn finish_followed_by(
        self,
        later: &[FinishedPart],
    ) -> Result<Vec<(u32, Vec<u8>)>, DecodeError> {
        // Shortened to the later columns' borrow: the writer may keep a value of theirs.
        let mut this: OpColumnsWriter<'_> = self;
        let last = later.len().checked_sub(1);
        for (i, (cols, rows)) in later.iter().enumerate() {
            this.copy_op_rows(&mut op_source(cols), *rows, None, Some(i) == last)?;
        }
        Ok(this.finish())
    }

    /// The columns (spec, data) in spec order, optional columns only where needed (spec
    /// format.md §7.3).
    pub fn finish(self) -> Vec<(u32, Vec<u8>)> {
        use op_col::*;
        let mut cols = Vec::with_capacity(16);
        if self.any_obj {
            cols.push((OBJ_ACTOR, self.obj_actor.finish()));
            cols.push((OBJ_COUNTER, self.obj_counter.finish()));
        }
        if self.any_key_actor {
            cols.push((KEY_ACTOR, self.key_actor.finish()));
        }
        if self.any_key_counter {
            cols.push((KEY_COUNTER, self.key_counter.finish()));
        }
        if self.any_key_string {
            cols.push((KEY_STRING, self.key_string.finish()));
        }
        cols.push((ID_ACTOR, self.id_actor.finish()));
        cols.push((ID_COUNTER, self.id_counter.finish()));
        cols.push((INSERT, self.insert.finish()));
        cols.push((ACTION, self.action.finish()));
        cols.push((VALUE_META, self.value_meta.finish()));
        cols.push((VALUE_RAW, self.value_raw));
        cols.push((SUCC_COUNT, self.succ_count.finish()));
        cols.push((SUCC_ACTOR, self.succ_actor.finish()));
        cols.push((SUCC_COUNTER, self.succ_counter.finish()));
        if self.any_expand {
            cols.push((EXPAND, self.expand.finish()));
        }
        if self.any_mark {
            cols.push((MARK_NAME, self.mark_name.finish()));
        }
        cols
    }
}

impl OpColumnsWriter<'_> {
    /// The non-empty columns of `group` that [`OpColumnsWriter::finish`] gives, in spec
    /// order. Three writers given the same rows, each through the methods of one group,
    /// finish into the groups of the columns one writer given every column of those rows
    /// finishes into.
    pub fn finish_group(self, group: OpColumnGroup) -> Vec<(u32, Vec<u8>)> {
        let mut cols = self.finish();
        cols.retain(|(spec, data)| OpColumnGroup::of(*spec) == group && !data.is_empty());
        cols
    }
}

/// The three groups of a document chunk's op columns, in the order the chunk stores (and
/// a compressed save deflates) them, so that a saver may write each group of its rows
/// apart, and deflate one group while it writes the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpColumnGroup {
    /// Object, key, id, insert and action columns ([`OpColumnsWriter::push_key_rows`],
    /// [`OpColumnsWriter::push_insert_run_keys`]).
    Keys,
    /// The value columns ([`OpColumnsWriter::push_value`]).
    Values,
    /// Successor, expand and mark name columns ([`OpColumnsWriter::push_tail`]).
    Tails,
}

impl OpColumnGroup {
    /// The group of the op column with normalized spec `spec`.
    fn of(spec: u32) -> Self {
        if spec < op_col::VALUE_META {
            OpColumnGroup::Keys
        } else if spec < op_col::SUCC_COUNT {
            OpColumnGroup::Values
        } else {
            OpColumnGroup::Tails
        }
    }
}

/// A document chunk written from columns that come in order, a group at a time: the change
/// columns, then the op columns group after group, each deflated as it comes (with
/// `compress`) into the one buffer the reference deflates into. Deflating the first groups
/// can thus overlap writing the later ones; the bytes are those of
/// [`write_document_columns`] for the same columns.
#[derive(Debug)]
pub struct DocumentColumnsWriter {
    data: Vec<u8>,
    change_specs: Vec<(u32, usize)>,
    op_specs: Vec<(u32, usize)>,
    columns: EncodedColumns,
    compress: bool,
}

impl DocumentColumnsWriter {
    /// Starts with the finished change columns (those of [`ChangeColumnsWriter::finish`]).
    pub fn new(changes: Vec<(u32, Vec<u8>)>, compress: bool) -> Self {
        let mut data = Vec::new();
        let columns = EncodedColumns::from_finished(changes, Vec::new());
        let change_specs = write_column_data(&mut data, &columns.changes, compress);
        DocumentColumnsWriter {
            data,
            change_specs,
            op_specs: Vec::new(),
            columns,
            compress,
        }
    }

    /// Appends the next op columns, in spec order (a group from
    /// [`OpColumnsWriter::finish_group`], the groups in order).
    pub fn push_op_columns(&mut self, mut cols: Vec<(u32, Vec<u8>)>) {
        cols.retain(|(_, data)| !data.is_empty());
        debug_assert!(
            cols.first()
                .zip(self.columns.ops.last())
                .is_none_or(|(next, last)| next.0 > last.0),
            "op columns out of spec order"
        );
        let specs = write_column_data(&mut self.data, &cols, self.compress);
        self.op_specs.extend(specs);
        self.columns.ops.extend(cols);
    }

    /// The whole chunk (header included) with `actors` (sorted bytewise) and `heads` (each
    /// with its change's index, any order), and the columns it was given.
    pub fn finish(
        self,
        actors: &[ActorId],
        heads: &[(ChangeHash, usize)],
    ) -> (Vec<u8>, EncodedColumns) {
        let mut heads = heads.to_vec();
        heads.sort_by_key(|h| h.0);
        let hashes: Vec<ChangeHash> = heads.iter().map(|h| h.0).collect();
        let indexes: Vec<u64> = heads.iter().map(|h| h.1 as u64).collect();
        let chunk_data = assemble(
            actors,
            &hashes,
            Some(&indexes),
            &self.change_specs,
            &self.op_specs,
            &self.data,
        );
        let mut out = Vec::new();
        chunk::write_chunk(&mut out, ChunkType::Document, &chunk_data);
        (out, self.columns)
    }
}

/// The finished columns (spec, data) of a writer that wrote a part of the rows, and how many
/// rows it wrote.
pub(crate) type FinishedPart = (Vec<(u32, Vec<u8>)>, u64);

/// An actor index through a renumbering table.
fn renumber(actors: &[u32], v: u64) -> Result<u64, DecodeError> {
    match usize::try_from(v).ok().and_then(|i| actors.get(i)) {
        Some(&a) => Ok(u64::from(a)),
        None => Err(DecodeError::ActorIndexOutOfRange {
            index: v,
            len: actors.len(),
        }),
    }
}

/// A column's data by spec, empty if the layout left it out.
fn column(cols: &[(u32, Vec<u8>)], spec: u32) -> &[u8] {
    super::column_data(cols, spec).unwrap_or_default()
}

/// Kept change columns, read row range by row range ([`ChangeColumnsWriter::copy_rows`]).
#[derive(Clone, Debug)]
pub struct ChangeColumnsSource<'a> {
    actor: RleRuns<'a, u64>,
    seq: DeltaRuns<'a>,
    max_op: DeltaRuns<'a>,
    time: DeltaRuns<'a>,
    message: RleRuns<'a, &'a str>,
    deps_count: RleRuns<'a, u64>,
    deps: DeltaRuns<'a>,
    extra_meta: RleRuns<'a, u64>,
    extra_raw: RawBytes<'a>,
}

/// Kept op columns, read row range by row range ([`OpColumnsWriter::copy_rows`]).
#[derive(Clone, Debug)]
pub struct OpColumnsSource<'a> {
    obj_actor: RleRuns<'a, u64>,
    obj_counter: RleRuns<'a, u64>,
    key_actor: RleRuns<'a, u64>,
    key_counter: DeltaRuns<'a>,
    key_string: RleRuns<'a, &'a str>,
    id_actor: RleRuns<'a, u64>,
    id_counter: DeltaRuns<'a>,
    insert: BoolRuns<'a>,
    action: RleRuns<'a, u64>,
    value_meta: RleRuns<'a, u64>,
    value_raw: RawBytes<'a>,
    succ_count: RleRuns<'a, u64>,
    succ_actor: RleRuns<'a, u64>,
    succ_counter: DeltaRuns<'a>,
    expand: BoolRuns<'a>,
    mark_name: RleRuns<'a, &'a str>,
}

impl OpColumnsSource<'_> {
    /// Skips the next `n` op rows (rows a writer replaces with new ones).
    pub fn skip(&mut self, n: u64) -> Result<(), DecodeError> {
        self.obj_actor.skip(n)?;
        self.obj_counter.skip(n)?;
        self.key_actor.skip(n)?;
        self.key_counter.skip(n)?;
        self.key_string.skip(n)?;
        self.id_actor.skip(n)?;
        self.id_counter.skip(n)?;
        self.insert.take(n, |_, _| {})?;
        self.action.skip(n)?;
        let raw = skip_weighted(&mut self.value_meta, n, |m| m >> 4)?;
        self.value_raw.take(raw)?;
        let succ = skip_weighted(&mut self.succ_count, n, |c| c)?;
        self.succ_actor.skip(succ)?;
        self.succ_counter.skip(succ)?;
        self.expand.take(n, |_, _| {})?;
        self.mark_name.skip(n)?;
        Ok(())
    }
}

impl EncodedColumns {
    /// A cursor at the first change row.
    pub fn change_rows(&self) -> ChangeColumnsSource<'_> {
        use change_col::*;
        let c = |spec| column(&self.changes, spec);
        ChangeColumnsSource {
            actor: RleRuns::new(c(ACTOR)),
            seq: DeltaRuns::new(c(SEQ)),
            max_op: DeltaRuns::new(c(MAX_OP)),
            time: DeltaRuns::new(c(TIME)),
            message: RleRuns::new(c(MESSAGE)),
            deps_count: RleRuns::new(c(DEPS_COUNT)),
            deps: DeltaRuns::new(c(DEPS)),
            extra_meta: RleRuns::new(c(EXTRA_META)),
            extra_raw: RawBytes::new(c(EXTRA_RAW)),
        }
    }

    /// A cursor at the first op row.
    pub fn op_rows(&self) -> OpColumnsSource<'_> {
        op_source(&self.ops)
    }
}

/// A cursor at the first row of op columns `cols`.
fn op_source(cols: &[(u32, Vec<u8>)]) -> OpColumnsSource<'_> {
    use op_col::*;
    let c = |spec| column(cols, spec);
    OpColumnsSource {
        obj_actor: RleRuns::new(c(OBJ_ACTOR)),
        obj_counter: RleRuns::new(c(OBJ_COUNTER)),
        key_actor: RleRuns::new(c(KEY_ACTOR)),
        key_counter: DeltaRuns::new(c(KEY_COUNTER)),
        key_string: RleRuns::new(c(KEY_STRING)),
        id_actor: RleRuns::new(c(ID_ACTOR)),
        id_counter: DeltaRuns::new(c(ID_COUNTER)),
        insert: BoolRuns::new(c(INSERT)),
        action: RleRuns::new(c(ACTION)),
        value_meta: RleRuns::new(c(VALUE_META)),
        value_raw: RawBytes::new(c(VALUE_RAW)),
        succ_count: RleRuns::new(c(SUCC_COUNT)),
        succ_actor: RleRuns::new(c(SUCC_ACTOR)),
        succ_counter: DeltaRuns::new(c(SUCC_COUNTER)),
        expand: BoolRuns::new(c(EXPAND)),
        mark_name: RleRuns::new(c(MARK_NAME)),
    }
}

/// A whole document chunk (header included) from its actors (sorted bytewise), its heads with
/// the index of each head's change (any order; written sorted by hash), and its finished
/// columns; with `compress`, columns of 256 bytes or more are deflated. Exactly the bytes of
/// [`DocumentChunk::encode`](super::DocumentChunk::encode) for the same content.
pub fn write_document(
    actors: &[ActorId],
    heads: &[(ChangeHash, usize)],
    changes: ChangeColumnsWriter<'_>,
    ops: OpColumnsWriter<'_>,
    compress: bool,
) -> Vec<u8> {
    write_document_columns(
        actors,
        heads,
        &EncodedColumns::from_writers(changes, ops),
        compress,
    )
}

/// [`write_document`] from columns finished earlier (kept from a previous save, or read by
/// [`DocumentChunk::canonical_columns`](super::DocumentChunk::canonical_columns)).
pub fn write_document_columns(
    actors: &[ActorId],
    heads: &[(ChangeHash, usize)],
    columns: &EncodedColumns,
    compress: bool,
) -> Vec<u8> {
    let mut heads = heads.to_vec();
    heads.sort_by_key(|h| h.0);
    let hashes: Vec<ChangeHash> = heads.iter().map(|h| h.0).collect();
    let indexes: Vec<u64> = heads.iter().map(|h| h.1 as u64).collect();
    let data = write_data(
        actors,
        &hashes,
        Some(&indexes),
        &columns.changes,
        &columns.ops,
        compress,
    );
    let mut out = Vec::new();
    chunk::write_chunk(&mut out, ChunkType::Document, &data);
    out
}

/// The chunk data (the bytes after the header) from finished columns.
pub(super) fn write_data(
    actors: &[ActorId],
    heads: &[ChangeHash],
    head_indexes: Option<&[u64]>,
    change_cols: &[(u32, Vec<u8>)],
    op_cols: &[(u32, Vec<u8>)],
    compress: bool,
) -> Vec<u8> {
    // One growing buffer for all column data, as the reference deflates into (see
    // `write_column_data`).
    let mut data = Vec::new();
    let change_specs = write_column_data(&mut data, change_cols, compress);
    let op_specs = write_column_data(&mut data, op_cols, compress);
    assemble(actors, heads, head_indexes, &change_specs, &op_specs, &data)
}

/// The chunk data from its parts: the column data written (and deflated) already.
fn assemble(
    actors: &[ActorId],
    heads: &[ChangeHash],
    head_indexes: Option<&[u64]>,
    change_specs: &[(u32, usize)],
    op_specs: &[(u32, usize)],
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64 + 33 * heads.len());
    leb128::write_u64(&mut out, actors.len() as u64);
    for a in actors {
        leb128::write_u64(&mut out, a.as_bytes().len() as u64);
        out.extend_from_slice(a.as_bytes());
    }
    leb128::write_u64(&mut out, heads.len() as u64);
    for h in heads {
        out.extend_from_slice(h.as_bytes());
    }
    write_column_specs(&mut out, change_specs);
    write_column_specs(&mut out, op_specs);
    out.extend_from_slice(data);
    if let Some(idx) = head_indexes {
        for i in idx {
            leb128::write_u64(&mut out, *i);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::value::ScalarValue;

    /// A small deterministic generator.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// The bulk appends write what the same appends one by one write.
    #[test]
    fn bulk_appends_match_single_appends() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let (mut one, mut bulk) = (RleEncoder::<u64>::new(), RleEncoder::<u64>::new());
            let (mut b1, mut b2) = (BoolEncoder::new(), BoolEncoder::new());
            let (mut d1, mut d2) = (DeltaEncoder::new(), DeltaEncoder::new());
            for _ in 0..(rng(&mut seed) % 12) {
                let v = rng(&mut seed) % 3;
                let n = rng(&mut seed) % 4;
                let null = rng(&mut seed).is_multiple_of(4);
                let flag = v == 0;
                for _ in 0..n {
                    if null {
                        one.append_null();
                        d1.append_null();
                    } else {
                        one.append_value(v);
                        d1.append_value(v as i64);
                    }
                    b1.append(flag);
                }
                if null {
                    bulk.append_nulls(n);
                    d2.append_nulls(n);
                } else {
                    bulk.append_value_n(v, n);
                    for _ in 0..n {
                        d2.append_value(v as i64);
                    }
                }
                b2.append_n(flag, n);
            }
            assert_eq!(one.finish(), bulk.finish());
            assert_eq!(b1.finish(), b2.finish());
            assert_eq!(d1.finish(), d2.finish());
        }
    }

    /// A run of inserts written as a run writes the columns its rows pushed one by one
    /// write, between any other rows; so do three writers that each write one group of the
    /// same rows' columns, and a chunk written a group at a time is the chunk of the whole.
    #[test]
    fn insert_runs_and_column_groups_match_their_rows() {
        const STRS: [&str; 4] = ["a", "b", "é", "日本"];
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for round in 0..2_000 {
            let (mut rows_w, mut runs_w) = (OpColumnsWriter::new(), OpColumnsWriter::new());
            // The same rows, each group of columns by its own writer.
            let mut groups = Groups::default();
            let mut rows: Vec<DocOpRef<'static, 'static>> = Vec::new();
            // Some rounds write enough for columns to be deflated.
            let repeats = if round % 50 == 0 { 300 } else { 1 };
            for _ in 0..(rng(&mut seed) % 6) * repeats {
                let obj = match rng(&mut seed) % 3 {
                    0 => ObjId::Root,
                    k => ObjId::Op(OpId::new(k as u32, (k % 2) as u32)),
                };
                let actor = (rng(&mut seed) % 3) as u32;
                let counter = (rng(&mut seed) % 50) as u32 + 1;
                if rng(&mut seed).is_multiple_of(2) {
                    // Rows of other shapes: a map put, a deleted element, an element put.
                    let key = match rng(&mut seed) % 3 {
                        0 => KeyRef::Map(STRS[(counter % 2) as usize]),
                        1 => KeyRef::Seq(ElemId::Head),
                        _ => KeyRef::Seq(ElemId::Op(OpId::new(counter, actor))),
                    };
                    let row = DocOpRef {
                        id: OpId::new(counter, actor),
                        obj,
                        key,
                        insert: rng(&mut seed).is_multiple_of(2),
                        action: Action::Set,
                        value: ValueRef::Uint(counter.into()),
                        succ: if counter.is_multiple_of(3) {
                            const SUCC: [OpId; 1] = [OpId::new(60, 1)];
                            &SUCC
                        } else {
                            &[]
                        },
                        expand: counter.is_multiple_of(5),
                        mark_name: counter.is_multiple_of(7).then_some("bold"),
                    };
                    rows_w.push(&row);
                    runs_w.push(&row);
                    groups.push_rows(std::slice::from_ref(&row));
                    continue;
                }
                let after = match rng(&mut seed) % 2 {
                    0 => ElemId::Head,
                    _ => ElemId::Op(OpId::new(counter, (actor + 1) % 3)),
                };
                let n = rng(&mut seed) % 6;
                const SUCCS: [[OpId; 1]; 3] =
                    [[OpId::new(70, 0)], [OpId::new(71, 0)], [OpId::new(70, 2)]];
                let run: Vec<(ValueRef<'static>, Option<OpId>)> = (0..n)
                    .map(|_| {
                        let succ = SUCCS.get(rng(&mut seed) as usize % 5).map(|s| s[0]);
                        (ValueRef::Str(STRS[(rng(&mut seed) % 4) as usize]), succ)
                    })
                    .collect();
                rows.clear();
                let mut key = after;
                for (i, (v, succ)) in run.iter().enumerate() {
                    let id = OpId::new(counter + i as u32, actor);
                    rows.push(DocOpRef {
                        id,
                        obj,
                        key: KeyRef::Seq(key),
                        insert: true,
                        action: Action::Set,
                        value: *v,
                        succ: SUCCS
                            .iter()
                            .find(|s| Some(s[0]) == *succ)
                            .map_or(&[], |s| s.as_slice()),
                        expand: false,
                        mark_name: None,
                    });
                    key = ElemId::Op(id);
                }
                rows_w.push_rows(&rows);
                groups.push_run(obj, after, OpId::new(counter, actor), &rows);
                runs_w.push_insert_run(obj, after, OpId::new(counter, actor), run);
            }
            let expected = rows_w.finish();
            assert_eq!(expected, runs_w.finish());
            groups.check(expected);
        }
    }

    /// Three writers, each writing one [`OpColumnGroup`] of the rows pushed.
    #[derive(Default)]
    struct Groups {
        keys: OpColumnsWriter<'static>,
        values: OpColumnsWriter<'static>,
        tails: OpColumnsWriter<'static>,
    }

    impl Groups {
        fn push_rows(&mut self, rows: &[DocOpRef<'static, 'static>]) {
            self.keys.push_key_rows(rows);
            self.push_values_and_tails(rows);
        }

        fn push_run(
            &mut self,
            obj: ObjId,
            after: ElemId,
            first: OpId,
            rows: &[DocOpRef<'static, 'static>],
        ) {
            self.keys
                .push_insert_run_keys(obj, after, first, rows.len() as u64);
            self.push_values_and_tails(rows);
        }

        fn push_values_and_tails(&mut self, rows: &[DocOpRef<'static, 'static>]) {
            for r in rows {
                self.values.push_value(r.value);
                self.tails.push_tail(r.succ, r.expand, r.mark_name);
            }
        }

        /// The groups, in order, are `expected` without its empty columns; a chunk written
        /// a group at a time is the chunk of `expected`, compressed or not.
        fn check(self, expected: Vec<(u32, Vec<u8>)>) {
            let keys = self.keys.finish_group(OpColumnGroup::Keys);
            let values = self.values.finish_group(OpColumnGroup::Values);
            let tails = self.tails.finish_group(OpColumnGroup::Tails);
            let joined: Vec<_> = [keys.clone(), values.clone(), tails.clone()].concat();
            let non_empty: Vec<_> = expected
                .iter()
                .filter(|(_, d)| !d.is_empty())
                .cloned()
                .collect();
            assert_eq!(joined, non_empty);
            let actors = [ActorId::from_bytes(&[1; 16]), ActorId::from_bytes(&[2; 16])];
            let heads = [(ChangeHash([7; 32]), 0)];
            let changes = || {
                let mut c = ChangeColumnsWriter::new();
                c.push(&DocChangeRef {
                    actor: 1,
                    seq: 1,
                    max_op: 70,
                    time: 0,
                    message: Some("m"),
                    deps: &[],
                    extra_bytes: &[],
                });
                c
            };
            for compress in [false, true] {
                let whole = write_document_columns(
                    &actors,
                    &heads,
                    &EncodedColumns::from_finished(changes().finish(), expected.clone()),
                    compress,
                );
                let mut w = DocumentColumnsWriter::new(changes().finish(), compress);
                w.push_op_columns(keys.clone());
                w.push_op_columns(values.clone());
                w.push_op_columns(tails.clone());
                let (chunk, columns) = w.finish(&actors, &heads);
                assert_eq!(chunk, whole);
                assert_eq!(
                    columns,
                    EncodedColumns::from_finished(changes().finish(), expected.clone())
                );
            }
        }
    }

    #[test]
    fn value_refs_encode_as_scalars() {
        let values = [
            ScalarValue::Null,
            ScalarValue::Bool(false),
            ScalarValue::Bool(true),
            ScalarValue::Uint(300),
            ScalarValue::Int(-5),
            ScalarValue::F64(1.5),
            ScalarValue::Str("a".into()),
            ScalarValue::Str("".into()),
            ScalarValue::Str("héllo".into()),
            ScalarValue::Bytes(vec![1, 2]),
            ScalarValue::Counter(7),
            ScalarValue::Timestamp(-1),
            ScalarValue::Unknown {
                type_code: 12,
                bytes: vec![9],
            },
        ];
        for v in &values {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert_eq!(v.encode_raw(&mut a), ValueRef::from(v).encode_raw(&mut b));
            assert_eq!(a, b);
        }
    }
}
