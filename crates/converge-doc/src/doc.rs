//! [`Document`]: the public face of the op set and the change history.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use converge_encoding::{
    ActorId, Author, Change, ChangeHash, ChangeOpRef, ChangeParts, ElemId, KeyRef, ObjId, OpId,
};

use crate::error::DocError;
use crate::history::{ChangeData, History, LoadedChange};
use crate::opset::{HEAD, NONE, OpSet, View};
use crate::transaction::Transaction;
use crate::types::{ExId, ListItem, ObjType, Prop, TextEncoding, ValueTree, ValueWithId};

/// The largest commit buffer a document keeps between commits (a long transaction's change
/// is given back).
const COMMIT_CHUNK_KEEP: usize = 1 << 16;

/// Buffers a local commit fills and empties again, kept from commit to commit: a change per
/// keystroke would otherwise allocate and free each of them every time.
#[derive(Clone, Debug, Default)]
pub(crate) struct CommitScratch {
    /// The change chunk, encoded here before the history copies it.
    chunk: Vec<u8>,
    /// The change's header, its fields overwritten by each commit (with the dep hashes'
    /// buffer reused): built afresh per commit, one of its empty vectors was copied in
    /// 16-byte words right after 8-byte writes, a store-forwarding stall per keystroke.
    header: ChangeParts,
    /// The preds in change-local actor numbers.
    mapped_preds: Vec<OpId>,
    /// In the view of an isolated [`AutoCommit`](crate::AutoCommit) with edits pending: the
    /// deps of their change (change indexes of the isolation heads), which replace the heads
    /// and the author's previous change. Taken by the commit, dropped by a rollback or a
    /// commit of nothing: `Some` only while an isolated transaction is open.
    pub(crate) isolated_deps: Option<Vec<u32>>,
}

/// A CRDT document: a tree of maps, lists and texts rooted at a map ([`ExId::Root`]), plus the
/// changes that built it.
///
/// Edit through a [`Transaction`] ([`Document::transaction`]), or through the auto-committing
/// methods here (`put`, `splice_text`, ...), each of which makes one change.
#[derive(Clone, Debug)]
pub struct Document {
    pub(crate) ops: OpSet,
    /// Doc-wide index of the local actor.
    pub(crate) actor: u32,
    /// Applied changes and the queue of remote changes waiting for their deps.
    pub(crate) history: History,
    /// Number of changes (in application order) already written by a save.
    pub(crate) saved: usize,
    /// The object a local edit last resolved: (id, object index). Cleared whenever object
    /// indexes may be reused (rollbacks).
    pub(crate) obj_cache: Option<(ExId, u32)>,
    /// Scratch undo log of `apply_changes`, kept to avoid reallocating it per call.
    pub(crate) undo_log: crate::apply::BatchLog,
    /// The document's columns as the last save wrote them (or as a loaded document chunk
    /// held them, when they were exactly what a save writes), and the history length they
    /// are for. The columns are a function of the applied changes in order, and the history
    /// only grows, so they are current while its length is unchanged.
    pub(crate) saved_columns: Option<(usize, std::sync::Arc<converge_encoding::EncodedColumns>)>,
    /// Where each op's row is in `saved_columns`, so that the next save can splice them
    /// (`resave.rs`); the op set logs successor changes of the ops it covers.
    pub(crate) saved_layout: Option<crate::resave::SavedLayout>,
    /// The compressed document chunk the last `save` (or whole-document sync send) wrote,
    /// and the history length it is for (deflating is most of a save once the columns are
    /// kept).
    pub(crate) saved_chunk: KeptChunk,
    /// The bytes the document was loaded from, and the history length then, when they were
    /// one document chunk whose columns are exactly what a save writes: a whole-document
    /// sync send hands them on ([`Document::save_snapshot`]) instead of deflating the columns
    /// again (godot-thread.amrg's first save after a load, which does that, took 168 ms of
    /// CPU at 8410dea). Dropped by the first save or snapshot after the history grew.
    pub(crate) loaded_chunk: KeptChunk,
    /// Scratch buffers of local commits (kept from commit to commit unless a big change grew
    /// them).
    pub(crate) commit_scratch: CommitScratch,
    /// The author of local edits, written as a footer on the local actor's first change.
    pub(crate) author: Option<Author>,
    /// Whether a transaction is open (a [`Transaction`] alive, or an
    /// [`AutoCommit`](crate::AutoCommit)'s pending one), ops or not: reads at the current
    /// heads then take the clock, as automerge 0.12's do.
    pub(crate) tx_open: bool,
}

/// The deps of an isolated transaction's change (`AutoCommit::isolate`): the isolation
/// heads `deps` (change indexes), sorted by hash, and nothing else, as automerge 0.12's
/// `transaction_args` with heads. Out of line and cold: a local commit's path stays the one
/// every other transaction takes.
#[cold]
#[inline(never)]
fn isolated_deps_into(
    history: &crate::history::History,
    deps: Option<Vec<u32>>,
    hashes: &mut Vec<ChangeHash>,
    indexes: &mut smallvec::SmallVec<[u32; 4]>,
) {
    let mut deps: smallvec::SmallVec<[(ChangeHash, u32); 4]> = deps
        .unwrap_or_default()
        .into_iter()
        .map(|i| (history.hash(i as usize), i))
        .collect();
    deps.sort_unstable();
    hashes.extend(deps.iter().map(|&(h, _)| h));
    indexes.extend(deps.iter().map(|&(_, i)| i));
}

impl Default for Document {
    fn default() -> Self {
        Document::new()
    }
}

/// 16 random bytes from the standard library's randomly keyed hasher.
fn random_actor() -> ActorId {
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(chunk.as_ptr() as usize);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    ActorId::from_bytes(&bytes)
}

impl Document {
    /// An empty document with a random actor and code-point text indexes.
    pub fn new() -> Self {
        Document::with_actor(random_actor())
    }

    /// An empty document whose local edits are authored by `actor`.
    pub fn with_actor(actor: ActorId) -> Self {
        let mut ops = OpSet::new(TextEncoding::default());
        let actor = ops.intern_actor(&actor);
        Document {
            ops,
            actor,
            history: History::new(),
            saved: 0,
            obj_cache: None,
            undo_log: Default::default(),
            saved_columns: None,
            saved_layout: None,
            saved_chunk: KeptChunk::default(),
            loaded_chunk: KeptChunk::default(),
            commit_scratch: CommitScratch::default(),
            author: None,
            tx_open: false,
        }
    }

    /// Sets how text indexes and lengths are counted. Only allowed while the document has no
    /// text content (widths are cached per element); returns `false` otherwise.
    pub fn set_text_encoding(&mut self, encoding: TextEncoding) -> bool {
        if self.ops.ops.is_empty() {
            self.ops.encoding = encoding;
            true
        } else {
            false
        }
    }

    /// The text encoding in use.
    pub fn text_encoding(&self) -> TextEncoding {
        self.ops.encoding
    }

    /// The local actor.
    #[doc(alias = "get_actor")]
    pub fn actor(&self) -> &ActorId {
        &self.ops.actors[self.actor as usize]
    }

    /// Changes the local actor for future edits.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.actor = self.ops.intern_actor(&actor);
        self.ops.refresh_rank();
    }

    /// Sets the author of local edits (automerge 0.12's `set_author`). When it differs from
    /// the current one the document takes a new random actor, whose first change carries the
    /// author in its extra bytes; an actor has one author for good.
    pub fn set_author(&mut self, author: Option<Author>) {
        if author != self.author {
            self.author = author;
            self.set_actor(random_actor());
        }
    }

    /// The author of local edits, if one was set.
    #[doc(alias = "get_author")]
    pub fn author(&self) -> Option<&Author> {
        self.author.as_ref()
    }

    /// Every author the document's changes name, sorted bytewise, without repeats.
    #[doc(alias = "get_authors")]
    pub fn authors(&self) -> Vec<Author> {
        let mut out: Vec<Author> = self
            .history
            .author_footers()
            .map(|(_, bytes)| Author::from_bytes(bytes))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The author of `actor`'s changes, if its first change named one.
    #[doc(alias = "get_author_for_actor")]
    pub fn author_for_actor(&self, actor: &ActorId) -> Option<Author> {
        let a = *self.ops.actor_ids.get(actor)?;
        self.history.author_of(a).map(Author::from_bytes)
    }

    /// The actors whose changes `author` made, sorted bytewise.
    #[doc(alias = "get_actors_for_author")]
    pub fn actors_for_author(&self, author: &Author) -> Vec<ActorId> {
        // Each actor's last footer is its author (`History::author_of`), in one pass.
        let mut last: std::collections::HashMap<u32, &[u8]> = std::collections::HashMap::new();
        for (a, bytes) in self.history.author_footers() {
            last.insert(a, bytes);
        }
        let mut out: Vec<ActorId> = last
            .into_iter()
            .filter(|&(_, bytes)| bytes == author.as_bytes())
            .filter_map(|(a, _)| self.ops.actors.get(a as usize).cloned())
            .collect();
        out.sort_unstable();
        out
    }

    /// The actor with doc-wide index `index` (the `actor` field of op ids this document hands
    /// out).
    pub fn actor_at(&self, index: u32) -> Option<&ActorId> {
        self.ops.actors.get(index as usize)
    }

    /// Starts a transaction.
    pub fn transaction(&mut self) -> Transaction<'_> {
        Transaction::new(self)
    }

    /// The current heads, sorted.
    #[doc(alias = "get_heads")]
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.history.head_hashes()
    }

    /// The largest op counter in the document: of its ops, or of its changes' declared
    /// ranges (a change without ops still takes the counters below its start op, as
    /// automerge 0.12 counts them), whichever is larger. The next local change starts
    /// after it.
    pub fn max_op(&self) -> u32 {
        let changes = u32::try_from(self.history.graph.max_op()).unwrap_or(u32::MAX);
        self.ops.max_op.max(changes)
    }

    /// Whether the document has no change, applied or queued (automerge 0.12's `is_empty`).
    pub fn is_empty(&self) -> bool {
        self.history.len() == 0 && self.history.queued_len() == 0
    }

    /// Number of changes applied.
    pub fn change_count(&self) -> usize {
        self.history.len()
    }

    /// Encodes a committed local transaction as a change and records it. The transaction's ops
    /// are the arena tail from `ops_start` and the deletions at the end of `OpSet::dels`,
    /// in counter order between them, their preds in `preds` (one entry per op).
    ///
    /// `ISOLATED`: the transaction of an isolated view (`AutoCommit::isolate`), whose deps
    /// are kept by the commit scratch. A parameter of the type, so that every other commit
    /// runs code without the test (a flag read here cost the paper trace's change per edit
    /// 3-4 %, in one A/B after another).
    pub(crate) fn commit_local<const ISOLATED: bool>(
        &mut self,
        start_op: u32,
        ops_start: usize,
        preds: &crate::transaction::PredLog,
        message: Option<String>,
        time: i64,
    ) -> Result<ChangeHash, DocError> {
        let author = self.actor;
        // The other actors the change names (its ops' objects, elements and preds), in doc
        // order; only these are copied (a document of 20,000 actors copied them all on every
        // commit: 230 µs a keystroke). Change-local actor numbers: 0 = author, then these in
        // order (the encoder sorts them bytewise and renumbers).
        let named = if self.ops.actors.len() > 1 {
            self.named_actors(author, ops_start, preds)
        } else {
            smallvec::SmallVec::new()
        };
        let local = |a: u32| -> u32 {
            if a == author {
                0
            } else {
                // Always found: `named` holds every actor the change's ids name.
                named.binary_search(&a).map_or(0, |p| p as u32 + 1)
            }
        };
        // Built only when there are any: the empty collect was 1.7 % of a change per edit.
        let other_actors: Vec<ActorId> = if named.is_empty() {
            Vec::new()
        } else {
            named
                .iter()
                .map(|&a| self.ops.actors[a as usize].clone())
                .collect()
        };
        let map_id = |id: OpId| OpId::new(id.counter, local(id.actor));
        // The ops are encoded straight from the op set, borrowed. So is an op's one pred
        // whose id reads the same with change-local actor numbers (every id of a document
        // whose author is its first actor and the only one the change names: the pred's
        // id in the arena is the slice). Other preds, renumbered, are gathered into one
        // buffer first (for the paper trace in one transaction that was 77,463 ids, 0.6 MB
        // at the commit, where the transaction's memory peaks).
        let ops = &self.ops;
        // Every id reads the same (no id to look at): the author is actor 0 and names no other.
        let all_same = author == 0 && named.is_empty();
        let borrows = |op_preds: &[u32]| match op_preds {
            [p] => {
                all_same || {
                    let id = ops.ops[*p as usize].id;
                    local(id.actor) == id.actor
                }
            }
            _ => false,
        };
        let mut mapped_preds = std::mem::take(&mut self.commit_scratch.mapped_preds);
        mapped_preds.clear();
        let to_map = || preds.iter().filter(|p| !borrows(p)).flatten();
        // Exactly: a long transaction's preds would otherwise grow by doubling at the commit.
        mapped_preds.reserve_exact(to_map().count());
        mapped_preds.extend(to_map().map(|&p| map_id(ops.ops[p as usize].id)));
        let mapped = &mapped_preds;
        let op_refs = || {
            let mut end = 0;
            // The next arena op of the transaction; op `i` is it if it has counter
            // `start_op + i`, else the transaction's next deletion.
            let mut next = ops_start;
            preds.iter().enumerate().map(move |(i, op_preds)| {
                let pred = match op_preds {
                    [p] if borrows(op_preds) => std::slice::from_ref(&ops.ops[*p as usize].id),
                    _ => {
                        let start = end;
                        end += op_preds.len();
                        &mapped[start..end]
                    }
                };
                let arena = ops
                    .ops
                    .get(next)
                    .filter(|op| op.id.counter == start_op + i as u32);
                // A deletion acts where its (first) pred is: the pred's object, and its key
                // or, for an insert, its element. Local deletions always have preds.
                let (idx, op) = match arena {
                    Some(op) => {
                        next += 1;
                        ((next - 1) as u32, op)
                    }
                    None => {
                        let p = op_preds.first().copied().unwrap_or(0);
                        (NONE, &ops.ops[p as usize])
                    }
                };
                let key_of = if idx == NONE && op.insert() {
                    op_preds.first().copied().unwrap_or(HEAD)
                } else {
                    op.key
                };
                let object = &ops.objects[op.obj as usize];
                let obj = if object.make_op == NONE {
                    ObjId::Root
                } else {
                    ObjId::Op(map_id(ops.ops[object.make_op as usize].id))
                };
                let key = if object.kind.is_sequence() {
                    if key_of == HEAD {
                        KeyRef::Seq(ElemId::Head)
                    } else {
                        KeyRef::Seq(ElemId::Op(map_id(ops.ops[key_of as usize].id)))
                    }
                } else {
                    KeyRef::Map(&ops.keys[key_of as usize])
                };
                if idx == NONE {
                    return ChangeOpRef::delete(obj, key, pred);
                }
                ChangeOpRef {
                    obj,
                    key,
                    insert: op.insert(),
                    action: op.action(),
                    value: ops.value_ref(&op.value),
                    pred,
                    expand: op.expand(),
                    mark_name: ops.mark_names.get(&idx).map(|m| &**m),
                }
            })
        };
        let seq = self.history.actor_seq(author) + 1;
        // The deps as indexes, their hashes copied straight from the graph into the header
        // (pushed as (hash, index) pairs, each pair was written to the stack and read back
        // as 16-byte words before those stores had drained: a store-forwarding stall per
        // commit).
        let header = &mut self.commit_scratch.header;
        header.deps.clear();
        let mut dep_indexes: smallvec::SmallVec<[u32; 4]> = smallvec::SmallVec::new();
        if ISOLATED {
            let deps = self.commit_scratch.isolated_deps.take();
            isolated_deps_into(&self.history, deps, &mut header.deps, &mut dep_indexes);
        } else {
            for (h, i) in self.history.head_indexes() {
                header.deps.push(h);
                dep_indexes.push(i as u32);
            }
        }
        // As automerge 0.12 (`transaction_args`): the author's previous change is always a
        // dep, even when it is an ancestor of the heads (after merging a change built on it);
        // not in an isolated transaction.
        if let Some(last) = self.history.last_of_actor(author)
            && !ISOLATED
            && !dep_indexes.iter().any(|&i| i as usize == last)
        {
            let mut deps: smallvec::SmallVec<[(ChangeHash, u32); 4]> = header
                .deps
                .iter()
                .copied()
                .zip(dep_indexes.iter().copied())
                .collect();
            deps.push((self.history.hash(last), last as u32));
            deps.sort_unstable();
            header.deps.clear();
            header.deps.extend(deps.iter().map(|&(h, _)| h));
            dep_indexes.clear();
            dep_indexes.extend(deps.iter().map(|&(_, i)| i));
        }
        // The same author commit after commit: copied only when it changes (the copy went
        // through the stack, and its read stalled on the stores just made).
        if header.actor != self.ops.actors[author as usize] {
            header.actor.clone_from(&self.ops.actors[author as usize]);
        }
        header.seq = seq;
        header.start_op = u64::from(start_op);
        header.time = time;
        header.message = message;
        header.other_actors = other_actors;
        // As automerge 0.12: an author is named on the actor's first change only.
        match &self.author {
            Some(author) if seq == 1 => header.extra_bytes = author.footer(),
            _ => header.extra_bytes.clear(),
        }
        // Encoded into a reused buffer and copied once into the history: no `Change`, and
        // none of its allocations, per commit.
        let mut chunk = std::mem::take(&mut self.commit_scratch.chunk);
        let hash = Change::encode_op_refs_into(header, preds.len(), op_refs, &mut chunk)?;
        let change = LoadedChange {
            data: ChangeData {
                hash,
                time,
                // As automerge 0.12: the author keeps an empty message as "" (its saves write
                // it), though the chunk cannot tell it from none (a peer reads none).
                message: header.message.as_deref(),
                extra: &header.extra_bytes,
            },
            bytes: &chunk,
            actor: &header.actor,
            seq,
            start_op: u64::from(start_op),
        };
        let pushed = self
            .history
            .push_loaded(&change, author, self.ops.max_op, &dep_indexes);
        let scratch = &mut self.commit_scratch;
        if chunk.capacity() <= COMMIT_CHUNK_KEEP {
            scratch.chunk = chunk;
        }
        if mapped_preds.capacity() * size_of::<OpId>() <= COMMIT_CHUNK_KEEP {
            scratch.mapped_preds = mapped_preds;
        }
        let header = &mut scratch.header;
        if header.deps.capacity() * size_of::<ChangeHash>() > COMMIT_CHUNK_KEEP {
            header.deps = Vec::new();
        }
        header.message = None;
        header.other_actors.clear();
        pushed.map_err(DocError::from)?;
        Ok(hash)
    }

    /// The doc actors other than `author` that the ops from `ops_start` name (their objects,
    /// elements and preds), sorted, without repeats. Out of line: a one-actor document's
    /// commits never call it.
    #[inline(never)]
    fn named_actors(
        &self,
        author: u32,
        ops_start: usize,
        preds: &crate::transaction::PredLog,
    ) -> smallvec::SmallVec<[u32; 8]> {
        let mut named: smallvec::SmallVec<[u32; 8]> = smallvec::SmallVec::new();
        // The arena ops' objects and keys, then the preds' (a deletion's object and key are
        // its preds': an inserted element is the pred itself, named with the preds below;
        // anything else names the same object and key as the op succeeding it).
        let preds_ops = preds.iter().flatten().map(|&p| p as usize);
        for (i, is_pred) in (ops_start..self.ops.ops.len())
            .map(|i| (i, false))
            .chain(preds_ops.map(|i| (i, true)))
        {
            let op = &self.ops.ops[i];
            let object = &self.ops.objects[op.obj as usize];
            if object.make_op != NONE {
                named.push(self.ops.ops[object.make_op as usize].id.actor);
            }
            if object.kind.is_sequence() && op.key != HEAD && !(is_pred && op.insert()) {
                named.push(self.ops.ops[op.key as usize].id.actor);
            }
        }
        named.extend(
            preds
                .iter()
                .flatten()
                .map(|&p| self.ops.ops[p as usize].id.actor),
        );
        named.retain(|a| *a != author);
        named.sort_unstable();
        named.dedup();
        named
    }

    /// The index of object `obj`: the one the last transaction edited (cached: an editor
    /// reads the text it writes to) without a lookup, any other through the op set's.
    pub(crate) fn obj_index(&self, obj: &ExId) -> Result<u32, DocError> {
        match &self.obj_cache {
            Some((id, o)) if id == obj => Ok(*o),
            _ => self.ops.obj_index(obj),
        }
    }

    /// What a read "at `heads`" looks at: the document now when `heads` are its current
    /// heads and no transaction is open (every op is then in a change they reach, and reads
    /// now use what the op set keeps for them: a text at the heads of a big document in its
    /// `text()` time, not a walk of every element), else the op clock at `heads`. Values
    /// read the same either way; automerge 0.12 also takes the clock while a transaction is
    /// open, even one without ops, and where its two ways differ (a cursor on an element
    /// deleted after every shown one), so does converge.
    pub(crate) fn view_at(&self, heads: &[ChangeHash]) -> Result<HeadsView, DocError> {
        let graph = &self.history.graph;
        // Ops no change holds exist only while a transaction is open.
        if !self.tx_open && graph.heads_are(heads) {
            return Ok(HeadsView::Now);
        }
        self.clock_at(heads).map(HeadsView::At)
    }

    /// The op clock at `heads`: the ops of the changes they reach.
    pub(crate) fn clock_at(&self, heads: &[ChangeHash]) -> Result<crate::opset::Clock, DocError> {
        let idx = self
            .history
            .indexes(heads)
            .map_err(|hash| DocError::UnknownChange { hash })?;
        Ok(self.history.clock(&idx, self.ops.actors.len()))
    }

    // ---- reads ----

    /// The winning value of a property (the one with the greatest op id), if any.
    pub fn get(&self, obj: &ExId, prop: impl Into<Prop>) -> Result<Option<ValueWithId>, DocError> {
        let o = self.obj_index(obj)?;
        self.ops.get(o, &prop.into(), View::Now)
    }

    /// Every concurrent value of a property, ascending by op id (the winner last).
    pub fn get_all(&self, obj: &ExId, prop: impl Into<Prop>) -> Result<Vec<ValueWithId>, DocError> {
        let o = self.obj_index(obj)?;
        self.ops.get_all(o, &prop.into(), View::Now)
    }

    /// The keys of a map or table that have a value, sorted bytewise (empty for sequences).
    pub fn keys(&self, obj: &ExId) -> Result<Vec<String>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.keys(o, View::Now))
    }

    /// Number of keys of a map, visible elements of a list, or text units of a text.
    pub fn length(&self, obj: &ExId) -> Result<usize, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.length(o, View::Now))
    }

    /// The visible values of a list (or text elements), in order.
    pub fn list_values(&self, obj: &ExId) -> Result<Vec<ValueWithId>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.list_values(o, View::Now))
    }

    /// The elements of a list or text at indexes `range`, as automerge 0.12's `list_range`:
    /// each with its index, winning value, the id of the op that wrote it, and whether other
    /// values conflict with it. Indexes count visible elements, one each (a text's too,
    /// whatever their width in the text encoding); indexes past the end are left out; a map
    /// has none. Two differences from automerge 0.12: on a text it reports characters only,
    /// where automerge also reports the anchor elements of its marks as items (a mark's
    /// value, then null); and an excluded start bound is taken as the index after it, where
    /// automerge takes the one before.
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let list = doc.put_object(&ROOT, "list", ObjType::List)?;
    /// doc.splice(&list, 0, 0, [1i64, 2, 3, 4].map(Into::into))?;
    /// let items = doc.list_range(&list, 1..3)?;
    /// assert_eq!(items.iter().map(|i| i.index).collect::<Vec<_>>(), [1, 2]);
    /// assert_eq!(items[0].value, converge_doc::Value::Scalar(2i64.into()));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn list_range(
        &self,
        obj: &ExId,
        range: impl std::ops::RangeBounds<usize>,
    ) -> Result<Vec<ListItem>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.list_range(o, index_range(range), View::Now))
    }

    /// The keys of a map in `range` (bytewise order) with their winning values, as automerge
    /// 0.12's `map_range` (empty for a list or text).
    ///
    /// ```
    /// use converge_doc::{Document, ROOT};
    /// let mut doc = Document::new();
    /// for key in ["apple", "banana", "cherry"] {
    ///     doc.put(&ROOT, key, 1)?;
    /// }
    /// let from_b = doc.map_range(&ROOT, "b".to_string()..)?;
    /// let keys: Vec<String> = from_b.into_iter().map(|i| i.key).collect();
    /// assert_eq!(keys, ["banana", "cherry"]);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn map_range(
        &self,
        obj: &ExId,
        range: impl std::ops::RangeBounds<String>,
    ) -> Result<Vec<crate::MapItem>, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.map_range(o, &range, View::Now))
    }

    /// [`Document::map_range`] as of `heads`.
    pub fn map_range_at(
        &self,
        obj: &ExId,
        range: impl std::ops::RangeBounds<String>,
        heads: &[ChangeHash],
    ) -> Result<Vec<crate::MapItem>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.map_range(o, &range, at.view()))
    }

    /// How many ops, changes and actors (those that made changes) the document holds
    /// (automerge 0.12's `stats`).
    pub fn stats(&self) -> crate::Stats {
        crate::Stats {
            num_ops: self.ops.ops.len() as u64,
            num_changes: self.history.len() as u64,
            // Those that made a change (or are making one), as automerge counts them: the
            // op set also knows actors only named (a set_actor, a peer's deps).
            num_actors: (0..self.ops.actors.len() as u32)
                .filter(|&a| self.history.actor_seq(a) > 0 || (self.tx_open && a == self.actor))
                .count() as u64,
        }
    }

    /// The content of a text object (non-string elements read as U+FFFC).
    pub fn text(&self, obj: &ExId) -> Result<String, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.text(o, View::Now))
    }

    /// The kind of an object.
    pub fn object_type(&self, obj: &ExId) -> Result<ObjType, DocError> {
        let o = self.obj_index(obj)?;
        Ok(self.ops.objects[o as usize].kind)
    }

    /// An object and everything below it as plain data.
    #[doc(alias = "hydrate")]
    pub fn value_tree(&self, obj: &ExId) -> Result<ValueTree, DocError> {
        let o = self.obj_index(obj)?;
        self.ops
            .tree(o, View::Now)
            .map_err(|depth| DocError::TooDeep { depth })
    }

    /// [`Document::get`] as of `heads`.
    pub fn get_at(
        &self,
        obj: &ExId,
        prop: impl Into<Prop>,
        heads: &[ChangeHash],
    ) -> Result<Option<ValueWithId>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        self.ops.get(o, &prop.into(), at.view())
    }

    /// [`Document::get_all`] as of `heads`.
    pub fn get_all_at(
        &self,
        obj: &ExId,
        prop: impl Into<Prop>,
        heads: &[ChangeHash],
    ) -> Result<Vec<ValueWithId>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        self.ops.get_all(o, &prop.into(), at.view())
    }

    /// [`Document::keys`] as of `heads`.
    pub fn keys_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<String>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.keys(o, at.view()))
    }

    /// [`Document::length`] as of `heads`.
    pub fn length_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<usize, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.length(o, at.view()))
    }

    /// [`Document::list_values`] as of `heads`.
    pub fn list_values_at(
        &self,
        obj: &ExId,
        heads: &[ChangeHash],
    ) -> Result<Vec<ValueWithId>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.list_values(o, at.view()))
    }

    /// [`Document::list_range`] as of `heads`.
    pub fn list_range_at(
        &self,
        obj: &ExId,
        range: impl std::ops::RangeBounds<usize>,
        heads: &[ChangeHash],
    ) -> Result<Vec<ListItem>, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.list_range(o, index_range(range), at.view()))
    }

    /// [`Document::text`] as of `heads`.
    pub fn text_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<String, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        Ok(self.ops.text(o, at.view()))
    }

    /// [`Document::value_tree`] as of `heads`.
    #[doc(alias = "hydrate")]
    pub fn value_tree_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<ValueTree, DocError> {
        let at = self.view_at(heads)?;
        let o = self.obj_index(obj)?;
        self.ops
            .tree(o, at.view())
            .map_err(|depth| DocError::TooDeep { depth })
    }

    // ---- auto-committing edits ----

    fn auto<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        let mut tx = self.transaction();
        match f(&mut tx) {
            Ok(v) => {
                tx.commit()?;
                Ok(v)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    /// Records a change without ops, whose deps are the current heads (and the local
    /// actor's last change), as automerge 0.12's `empty_change`: a merge point, or a
    /// message on its own.
    ///
    /// ```
    /// use converge_doc::{Document, ROOT};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "a", 1i64)?;
    /// let hash = doc.empty_change(Some("checkpoint".into()), 0)?;
    /// assert_eq!(doc.heads(), [hash]);
    /// assert_eq!(doc.get_change_by_hash(&hash).unwrap().num_ops(), 0);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    #[doc(alias = "empty_commit")]
    pub fn empty_change(
        &mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<ChangeHash, DocError> {
        self.transaction().commit_even_empty(message, time)
    }

    doc_edits!(auto, "as its own change");
}

/// The compressed document chunk for a history length. Behind a lock so that a
/// whole-document sync send, which has only `&self`, keeps the chunk it wrote for the next
/// one: a server that syncs one loaded document to many empty peers deflates it once.
#[derive(Debug, Default)]
pub(crate) struct KeptChunk(std::sync::Mutex<Option<(usize, bytes::Bytes)>>);

impl KeptChunk {
    /// The chunk, if it is for a history of `len` changes.
    pub(crate) fn get(&self, len: usize) -> Option<bytes::Bytes> {
        match &*self.lock() {
            Some((at, chunk)) if *at == len => Some(chunk.clone()),
            _ => None,
        }
    }

    /// Keeps `chunk` as the one for a history of `len` changes.
    pub(crate) fn set(&self, len: usize, chunk: bytes::Bytes) {
        *self.lock() = Some((len, chunk));
    }

    /// The chunk if it is for a history of `len` changes; a chunk for another length is
    /// dropped (for a history that only grows, it can never be used again).
    pub(crate) fn current_or_drop(&self, len: usize) -> Option<bytes::Bytes> {
        let mut kept = self.lock();
        match &*kept {
            Some((at, chunk)) if *at == len => Some(chunk.clone()),
            Some(_) => {
                *kept = None;
                None
            }
            None => None,
        }
    }

    /// Forgets the chunk.
    pub(crate) fn clear(&mut self) {
        *self
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(usize, bytes::Bytes)>> {
        // Nothing panics while holding the lock; a poisoned one still holds a valid value.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clone for KeptChunk {
    fn clone(&self) -> Self {
        KeptChunk(std::sync::Mutex::new(self.lock().clone()))
    }
}

/// `range` as a half-open range of indexes (saturating at `usize::MAX`).
fn index_range(range: impl std::ops::RangeBounds<usize>) -> std::ops::Range<usize> {
    use std::ops::Bound;
    let start = match range.start_bound() {
        Bound::Included(&n) => n,
        Bound::Excluded(&n) => n.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&n) => n.saturating_add(1),
        Bound::Excluded(&n) => n,
        Bound::Unbounded => usize::MAX,
    };
    start..end
}

/// What a read at some heads looks at (see [`Document::view_at`]).
#[derive(Debug)]
pub(crate) enum HeadsView {
    /// The document now.
    Now,
    /// The ops the clock covers.
    At(crate::opset::Clock),
}

impl HeadsView {
    pub(crate) fn view(&self) -> View<'_> {
        match self {
            HeadsView::Now => View::Now,
            HeadsView::At(clock) => View::At(clock),
        }
    }
}
