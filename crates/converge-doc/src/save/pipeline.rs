//! A first compressed save on two threads, its deflating overlapping its encoding.
//!
//! A save that keeps no columns yet (a document built by editing, never saved or loaded)
//! encodes every op row, then deflates the columns. The deflating must go column after
//! column through one buffer, in the chunk's order, for the reference's bytes (see
//! `write_column_data` in converge-encoding), and it is most of such a save: rustcode's
//! 522,551-byte value column alone takes longer to deflate than encoding every row did on
//! two threads.
//!
//! So the op columns are written in their three groups ([`OpColumnGroup`]), each by its own
//! walk of the rows. This thread writes the keys group, then deflates the change columns
//! and the groups in order as they come; the helper thread writes the change columns, the
//! values group and the tails group meanwhile. Deflating the keys overlaps writing the
//! values, deflating the values overlaps writing the tails. What is left before the first
//! deflate is the keys group's walk. (Sharing that walk between the threads was tried: the
//! helper's values then came after the keys were deflated, and the saves were slower.)

use std::sync::mpsc;

use converge_encoding::{
    Action, ChangeColumnsWriter, DocOpRef, DocumentColumnsWriter, EncodedColumns, KeyRef,
    OpColumnGroup, OpColumnsWriter, OpId, ValueRef,
};

use super::{BLOCK, ObjCtx, Piece, RowPlan, RunSplitter, recycle};
use crate::doc::Document;
use crate::opset::Body;

/// What a pipelined save gives: the compressed chunk, its columns, and the op rows' arena
/// indexes in row order.
pub(super) struct Pipelined {
    pub(super) chunk: Vec<u8>,
    pub(super) columns: EncodedColumns,
    pub(super) order: Vec<u32>,
}

impl Document {
    /// The document chunk, deflated, written on this thread and a helper (see the module
    /// docs); `None` if the helper does not start or does not finish its part.
    pub(super) fn encode_and_deflate(&self, plan: &RowPlan<'_>) -> Option<Pipelined> {
        let (tx, rx) = mpsc::channel::<Vec<(u32, Vec<u8>)>>();
        let (order_tx, order_rx) = mpsc::channel::<Vec<u32>>();
        let ops = plan.ops;
        let helper = move || {
            let mut changes = ChangeColumnsWriter::new();
            self.push_change_rows(&mut changes, 0..self.history.len(), &plan.actor_pos);
            if tx.send(changes.finish()).is_err() {
                return;
            }
            let mut values = OpColumnsWriter::new();
            plan.visit_rows(&mut |_, idx| {
                if let Some(op) = ops.ops.get(idx as usize) {
                    values.push_value(ops.value_ref(&op.value));
                }
            });
            if tx.send(values.finish_group(OpColumnGroup::Values)).is_err() {
                return;
            }
            let mut tails = OpColumnsWriter::new();
            let mut succ: Vec<OpId> = Vec::new();
            let mut order = Vec::with_capacity(plan.op_rows);
            plan.visit_rows(&mut |ctx, idx| {
                let Some(op) = ops.ops.get(idx as usize) else {
                    return;
                };
                order.push(idx);
                succ.clear();
                succ.extend(ops.succ_iter(idx).map(|s| ctx.map_id(ops.succ_id(s))));
                if succ.len() > 1 {
                    succ.sort_unstable();
                }
                let mark_name = if ctx.has_name.contains(idx) {
                    ops.mark_names.get(&idx).map(String::as_str)
                } else {
                    None
                };
                tails.push_tail(&succ, op.expand(), mark_name);
            });
            if tx.send(tails.finish_group(OpColumnGroup::Tails)).is_ok() {
                let _ = order_tx.send(order);
            }
        };
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("converge-save".into())
                .spawn_scoped(scope, helper)
                .ok()?;
            let keys = plan.write_keys();
            let mut out = DocumentColumnsWriter::new(rx.recv().ok()?, true);
            out.push_op_columns(keys.finish_group(OpColumnGroup::Keys));
            // The values, then the tails.
            out.push_op_columns(rx.recv().ok()?);
            out.push_op_columns(rx.recv().ok()?);
            let order = order_rx.recv().ok()?;
            if let Err(panic) = helper.join() {
                std::panic::resume_unwind(panic);
            }
            let heads: Vec<_> = self.history.head_indexes().collect();
            let (chunk, columns) = out.finish(&self.author_ids(), &heads);
            Some(Pipelined {
                chunk,
                columns,
                order,
            })
        })
    }
}

impl<'d> RowPlan<'d> {
    /// Calls `row` with each op row's object and arena index, in document order (every row:
    /// no [`RowPlan::keep`]).
    fn visit_rows<'p>(&'p self, row: &mut impl FnMut(&ObjCtx<'p>, u32)) {
        self.visit_objects(&mut |ctx, idx| {
            if let Some(idx) = idx {
                row(ctx, idx);
            }
        });
    }

    /// The keys group of every row.
    fn write_keys<'p>(&'p self) -> OpColumnsWriter<'p> {
        let mut keys = OpColumnsWriter::new();
        let mut block = KeyBlock::default();
        self.visit_objects(&mut |ctx, idx| match idx {
            Some(idx) => block.add(idx, ctx, &mut keys),
            None => block.flush(ctx, &mut keys),
        });
        keys
    }

    /// [`RowPlan::visit_rows`], with `None` after each object's last row.
    fn visit_objects<'p>(&'p self, row: &mut impl FnMut(&ObjCtx<'p>, Option<u32>)) {
        let ops = self.ops;
        for &obj in &self.objects {
            let Some(object) = ops.objects.get(obj as usize) else {
                continue;
            };
            let ctx = ObjCtx {
                ops,
                actor_pos: &self.actor_pos,
                has_name: &self.has_name,
                obj: self.obj_id(object.make_op),
                is_seq: object.kind.is_sequence(),
                keep: None,
            };
            match &object.body {
                Body::Map(map) => {
                    for &idx in map.values().flatten() {
                        row(&ctx, Some(idx));
                    }
                }
                Body::Seq { index, extra } => {
                    for e in index.iter_chunks(0..usize::MAX) {
                        row(&ctx, Some(e.op));
                        if self.has_extra.contains(e.op)
                            && let Some(more) = extra.get(&e.op)
                        {
                            for &idx in more {
                                row(&ctx, Some(idx));
                            }
                        }
                    }
                }
            }
            row(&ctx, None);
        }
    }
}

/// The keys pass's ops of one object, gathered in blocks; typed text goes to the writer as
/// runs (inserts, each after the one before and numbered one after it by the same actor,
/// setting a value: what their values, successors or marks are does not matter here).
#[derive(Default)]
struct KeyBlock<'a> {
    idxs: Vec<u32>,
    rows: Vec<DocOpRef<'a, 'a>>,
}

impl<'a> KeyBlock<'a> {
    fn add(&mut self, idx: u32, ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        self.idxs.push(idx);
        if self.idxs.len() >= BLOCK {
            self.flush(ctx, writer);
        }
    }

    fn flush(&mut self, ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        let mut idxs = std::mem::take(&mut self.idxs);
        if ctx.is_seq {
            let mut pieces = RunSplitter::default();
            while let Some(piece) = pieces.next(&idxs, |rest| key_run(rest, ctx)) {
                match piece {
                    Piece::Rows(r) => self.push_rows(idxs.get(r).unwrap_or_default(), ctx, writer),
                    Piece::Run(r) => {
                        let first = idxs.get(r.start).and_then(|&f| ctx.ops.ops.get(f as usize));
                        if let Some(first) = first {
                            writer.push_insert_run_keys(
                                ctx.obj,
                                ctx.elem(first.key),
                                ctx.map_id(first.id),
                                r.len() as u64,
                            );
                        }
                    }
                }
            }
        } else {
            self.push_rows(&idxs, ctx, writer);
        }
        idxs.clear();
        self.idxs = idxs;
    }

    /// Writes the key columns of the ops `idxs` as rows.
    fn push_rows(&mut self, idxs: &[u32], ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        if idxs.is_empty() {
            return;
        }
        let ops = ctx.ops;
        let mut rows = recycle(std::mem::take(&mut self.rows));
        rows.extend(
            idxs.iter()
                .filter_map(|&idx| ops.ops.get(idx as usize))
                .map(|op| DocOpRef {
                    id: ctx.map_id(op.id),
                    obj: ctx.obj,
                    key: if ctx.is_seq {
                        KeyRef::Seq(ctx.elem(op.key))
                    } else {
                        KeyRef::Map(ops.keys.get(op.key as usize).map_or("", |k| k))
                    },
                    insert: op.insert(),
                    action: op.action(),
                    value: ValueRef::Null,
                    succ: &[],
                    expand: false,
                    mark_name: None,
                }),
        );
        writer.push_key_rows(&rows);
        self.rows = recycle(rows);
    }
}

/// How many of the first ops of `idxs` form a run whose key columns
/// [`OpColumnsWriter::push_insert_run_keys`] writes: inserts setting a value, each after
/// the one before and numbered one after it by the same actor.
fn key_run(idxs: &[u32], ctx: &ObjCtx<'_>) -> usize {
    let ops = &ctx.ops.ops;
    let Some((&first_idx, rest)) = idxs.split_first() else {
        return 0;
    };
    let Some(first) = ops.get(first_idx as usize) else {
        return 0;
    };
    if !(first.insert() && first.action() == Action::Set) {
        return 0;
    }
    let (mut prev, mut prev_id) = (first_idx, first.id);
    for (k, &idx) in rest.iter().enumerate() {
        let Some(op) = ops.get(idx as usize) else {
            return k + 1;
        };
        if !(op.key == prev
            && op.id.actor == prev_id.actor
            && op.id.counter == prev_id.counter.wrapping_add(1)
            && op.insert()
            && op.action() == Action::Set)
        {
            return k + 1;
        }
        (prev, prev_id) = (idx, op.id);
    }
    idxs.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::save::tests::mixed_document;
    use crate::types::{ObjType, ROOT};

    /// The chunk, columns and row order of a pipelined save are those of the one-thread
    /// encode and write.
    #[test]
    fn a_pipelined_save_is_the_one_thread_save() {
        for seed in [1, 2, 0x5eed] {
            for steps in [0, 1, 30, 1500] {
                let doc = mixed_document(seed, steps);
                let plan = RowPlan::new(&doc);
                let (columns, rows, order) = doc.encode_columns_cut(&plan, &[], true);
                let done = doc.encode_and_deflate(&plan).expect("a helper thread");
                assert!(done.columns == columns, "seed {seed}, {steps} steps");
                assert_eq!(done.order.len(), rows as usize);
                assert_eq!(done.order, order.concat());
                assert_eq!(done.chunk, doc.write_columns(&columns, true));
            }
        }
    }

    /// A save of a document large enough for the pipeline writes what the one-thread save
    /// writes, and keeps a layout that the next save after edits splices correctly.
    #[test]
    fn saves_after_a_pipelined_first_save_stay_exact() {
        let mut doc = mixed_document(7, 12_000);
        let plan = RowPlan::new(&doc);
        assert!(
            plan.op_rows >= super::super::SPLIT_MIN_ROWS,
            "{} rows",
            plan.op_rows
        );
        drop(plan);
        let expected = doc.write_columns(&doc.encode_columns(), true);
        // A whole-document sync send of a document never saved goes this way too.
        assert_eq!(doc.clone().encode_document(true), expected);
        assert_eq!(doc.save(), expected);
        let text = doc.get(&ROOT, "text").unwrap().unwrap().id;
        doc.splice_text(&text, 5, 3, "edited").unwrap();
        let list = doc.put_object(&ROOT, "late", ObjType::List).unwrap();
        doc.insert(&list, 0, 1u64).unwrap();
        let expected = doc.write_columns(&doc.encode_columns(), true);
        assert_eq!(doc.save(), expected);
        assert_eq!(Document::load(&expected).unwrap().heads(), doc.heads());
    }
}
