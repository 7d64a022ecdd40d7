//! Saving: the op set and history as a document chunk (spec format.md §7), ops in document
//! order (§7.4).

use bytes::Bytes;
use converge_encoding::{
    Action, Change, DocChange, DocOp, DocumentChunk, ElemId, FileChunk, Key, ObjId, OpId,
    ScalarValue, decode_chunks,
};

use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, HEAD, NONE, StoredValue};

impl Document {
    /// The document as the reference's `save()` writes it: one document chunk (columns of
    /// 256 bytes or more deflated), followed by the raw chunks of queued changes whose deps
    /// are missing. Marks everything as saved for [`Document::save_incremental`].
    pub fn save(&mut self) -> Vec<u8> {
        self.saved = self.history.len();
        let mut out = self.document_chunk().encode(true);
        for c in self.history.queued_changes() {
            out.extend_from_slice(c.bytes());
        }
        out
    }

    /// The document as the reference's `save_nocompress()` writes it (no orphans appended).
    pub fn save_nocompress(&self) -> Vec<u8> {
        self.document_chunk().encode(false)
    }

    /// The changes applied since the last `save` or `save_incremental`, as concatenated change
    /// chunks (empty if there are none).
    pub fn save_incremental(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for i in self.saved..self.history.len() {
            out.extend_from_slice(self.history.bytes(i).map_or(&[][..], |b| &b[..]));
        }
        self.saved = self.history.len();
        out
    }

    /// Loads a file: a document chunk and/or change chunks. Any decoding error fails the load.
    /// If the file holds changes whose deps are missing and no document chunk came first, the
    /// load fails with [`DocError::MissingDeps`]; orphans after a document chunk are queued.
    pub fn load(bytes: &[u8]) -> Result<Document, DocError> {
        let mut doc = Document::new();
        let chunks = decode_chunks(&Bytes::copy_from_slice(bytes))?;
        let first_is_doc = matches!(chunks.first(), Some((_, FileChunk::Document(_))));
        doc.apply_chunks(chunks)?;
        if !first_is_doc && doc.history.queued_len() > 0 {
            return Err(DocError::MissingDeps {
                missing: doc.missing_deps(&[]),
            });
        }
        doc.saved = doc.history.len();
        Ok(doc)
    }

    /// Applies the chunks of `bytes` (as written by `save` or `save_incremental`). On an empty
    /// document this is [`Document::load`] that keeps what decoded; otherwise decoding stops at
    /// the first bad chunk and what came before is applied. Returns the number of changes
    /// added.
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<usize, DocError> {
        let file = Bytes::copy_from_slice(bytes);
        let mut chunks = Vec::new();
        let mut split = converge_encoding::chunk::split_chunks(&file);
        while let Some(Ok(c)) = split.next() {
            let decoded = match c.chunk_type() {
                converge_encoding::chunk::ChunkType::Document => {
                    match DocumentChunk::decode(c.bytes()) {
                        Ok(d) => FileChunk::Document(d),
                        Err(_) => break,
                    }
                }
                converge_encoding::chunk::ChunkType::Change
                | converge_encoding::chunk::ChunkType::CompressedChange => {
                    match Change::decode(file.slice_ref(c.bytes())) {
                        Ok(ch) => FileChunk::Change(ch),
                        Err(_) => break,
                    }
                }
                _ => break,
            };
            chunks.push((0, decoded));
        }
        let before = self.history.len();
        self.apply_chunks(chunks)?;
        Ok(self.history.len() - before)
    }

    fn apply_chunks(&mut self, chunks: Vec<(usize, FileChunk)>) -> Result<(), DocError> {
        for (_, chunk) in chunks {
            match chunk {
                FileChunk::Document(d) => {
                    if d.heads.iter().all(|h| self.history.contains(h)) {
                        continue;
                    }
                    check_mark_order(&d)?;
                    let changes = d.reconstruct_changes()?;
                    if let Err(changes) = self.bulk_load(&d, changes) {
                        self.apply_changes(changes)?;
                    }
                }
                FileChunk::Change(c) => self.apply_changes([c])?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The document chunk: authors sorted bytewise, changes in application order, ops in
    /// document order with successor lists.
    pub(crate) fn document_chunk(&self) -> DocumentChunk {
        let ops = &self.ops;
        let history = &self.history;
        // Authors, sorted; doc actor index → position.
        let mut authors: Vec<u32> = (0..history.len()).map(|i| history.actor(i)).collect();
        authors.sort_unstable();
        authors.dedup();
        authors.sort_by(|&a, &b| ops.actors[a as usize].cmp(&ops.actors[b as usize]));
        let mut actor_pos = vec![u32::MAX; ops.actors.len()];
        for (pos, &a) in authors.iter().enumerate() {
            actor_pos[a as usize] = pos as u32;
        }
        let map_id = |id: OpId| OpId::new(id.counter, actor_pos[id.actor as usize]);

        let changes: Vec<DocChange> = (0..history.len())
            .map(|i| DocChange {
                actor: actor_pos[history.actor(i) as usize],
                seq: history.seq(i),
                max_op: history.max_op(i),
                time: history.time(i),
                message: history.message(i).map(str::to_owned),
                deps: history.deps(i),
                extra_bytes: history.extra_bytes(i).to_vec(),
            })
            .collect();

        // Objects: root, then by the OpId of their make op.
        let mut objects: Vec<u32> = (1..ops.objects.len() as u32).collect();
        objects.sort_by(|&a, &b| {
            let ia = ops.ops[ops.objects[a as usize].make_op as usize].id;
            let ib = ops.ops[ops.objects[b as usize].make_op as usize].id;
            ops.cmp_id(ia, ib)
        });
        let mut order: Vec<u32> = Vec::with_capacity(ops.ops.len());
        for obj in std::iter::once(0).chain(objects) {
            match &ops.objects[obj as usize].body {
                Body::Map(map) => {
                    for group in map.values() {
                        order.extend_from_slice(group);
                    }
                }
                Body::Seq { index, extra } => {
                    for e in index.iter() {
                        order.push(e.op);
                        if let Some(more) = extra.get(&e.op) {
                            order.extend_from_slice(more);
                        }
                    }
                }
            }
        }

        let doc_ops: Vec<DocOp> = order
            .into_iter()
            .map(|idx| {
                let op = &ops.ops[idx as usize];
                let make = ops.objects[op.obj as usize].make_op;
                let obj = if make == NONE {
                    ObjId::Root
                } else {
                    ObjId::Op(map_id(ops.ops[make as usize].id))
                };
                let key = if ops.objects[op.obj as usize].kind.is_sequence() {
                    if op.key == HEAD {
                        Key::Seq(ElemId::Head)
                    } else {
                        Key::Seq(ElemId::Op(map_id(ops.ops[op.key as usize].id)))
                    }
                } else {
                    Key::Map(ops.keys[op.key as usize].to_string())
                };
                let mut succ: Vec<OpId> = ops
                    .succ_iter(idx)
                    .map(|s| map_id(ops.ops[s as usize].id))
                    .collect();
                succ.sort_unstable();
                let value = match (op.action, &op.value) {
                    (Action::Inc, StoredValue::Int(i)) => ScalarValue::Int(*i),
                    (_, v) => ops.scalar(v),
                };
                DocOp {
                    id: map_id(op.id),
                    obj,
                    key,
                    insert: op.insert,
                    action: op.action,
                    value,
                    succ,
                    expand: op.expand,
                    mark_name: ops.mark_names.get(&idx).cloned(),
                }
            })
            .collect();

        let heads = history.head_indexes();
        let actors = authors
            .iter()
            .map(|&a| ops.actors[a as usize].clone())
            .collect();
        DocumentChunk::from_parts(actors, changes, doc_ops, heads)
    }
}

/// automerge 0.12's check of a document chunk (`MarkOrderValidator`): in document order, every
/// mark end (a mark op without a name, id `c@a`) must come after its begin (`(c-1)@a`, a mark
/// op with a name) in the same object.
fn check_mark_order(chunk: &DocumentChunk) -> Result<(), DocError> {
    let mut begins: std::collections::HashMap<OpId, &ObjId> = std::collections::HashMap::new();
    for op in &chunk.ops {
        if op.action != Action::Mark {
            continue;
        }
        if op.mark_name.is_some() {
            begins.insert(op.id, &op.obj);
            continue;
        }
        let begin = OpId::new(op.id.counter.wrapping_sub(1), op.id.actor);
        match begins.get(&begin) {
            Some(obj) if **obj == op.obj => {}
            Some(_) => {
                return Err(DocError::InvalidMarkOrder {
                    detail: format!(
                        "mark end {:?} references mark begin {begin:?} in a different object",
                        op.id
                    ),
                });
            }
            None => {
                return Err(DocError::InvalidMarkOrder {
                    detail: format!("mark end {:?} occurs before mark begin {begin:?}", op.id),
                });
            }
        }
    }
    Ok(())
}
