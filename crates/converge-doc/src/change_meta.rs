//! What each change says about itself, without its ops: automerge 0.12's `get_changes_meta`
//! and `get_change_meta_by_hash`, read from the history's tables (no change is decoded).

use std::collections::HashMap;

use converge_dag::ChangeIdx;
use converge_encoding::{ActorId, Author, ChangeHash};

use crate::doc::Document;

/// A change's header: who made it, where it sits, what it says (automerge 0.12's
/// `ChangeMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeMetadata {
    /// The change's hash.
    pub hash: ChangeHash,
    /// Its actor.
    pub actor: ActorId,
    /// The author the actor's changes name, if any (on every change of the actor, as
    /// automerge reports it, though only the first carries it).
    pub author: Option<Author>,
    /// Its place in its actor's changes, from 1.
    pub seq: u64,
    /// The counter of its first op.
    pub start_op: u64,
    /// The counter of its last op (one below `start_op` for a change without ops).
    pub max_op: u64,
    /// Its time (milliseconds since the epoch, by convention; 0 if none was given).
    pub time: i64,
    /// Its message.
    pub message: Option<String>,
    /// The changes it depends on, in its order.
    pub deps: Vec<ChangeHash>,
    /// Its extra bytes (an author footer included).
    pub extra: Vec<u8>,
}

impl Document {
    /// The metadata of the changes [`Document::get_changes`] gives for `since`, in the same
    /// order, without decoding them.
    pub fn get_changes_meta(&self, since: &[ChangeHash]) -> Vec<ChangeMetadata> {
        let wanted = self.history.graph.not_ancestors_of(since);
        let mut meta = Metas::new(self);
        wanted.into_iter().filter_map(|i| meta.of(i)).collect()
    }

    /// The metadata of the change with this hash, if the document has applied it.
    pub fn get_change_meta_by_hash(&self, hash: &ChangeHash) -> Option<ChangeMetadata> {
        let i = self.history.index_of(hash)?;
        Metas::new(self).of(ChangeIdx::new(i as u32))
    }
}

/// Reads metadata of changes of one document: the authors looked up once, seqs through a
/// cursor (mostly in application order).
struct Metas<'d> {
    doc: &'d Document,
    seqs: converge_dag::SeqCursor<'d>,
    authors: HashMap<u32, Author>,
}

impl<'d> Metas<'d> {
    fn new(doc: &'d Document) -> Self {
        Metas {
            doc,
            seqs: doc.history.graph.seq_cursor(),
            // The last footer of each actor, as `Document::author_for_actor` reads it.
            authors: doc
                .history
                .author_footers()
                .map(|(actor, bytes)| (actor, Author::from_bytes(bytes)))
                .collect(),
        }
    }

    fn of(&mut self, idx: ChangeIdx) -> Option<ChangeMetadata> {
        let history = &self.doc.history;
        let change = history.graph.change(idx)?;
        let i = idx.get();
        let actor = history.actor(i);
        Some(ChangeMetadata {
            hash: change.hash(),
            actor: change.actor().clone(),
            author: self.authors.get(&actor).cloned(),
            seq: self.seqs.seq(idx),
            start_op: change.start_op(),
            max_op: change.max_op(),
            time: history.time(i),
            message: history.message(i).map(str::to_owned),
            deps: change
                .dep_indexes()
                .map(|d| history.hash(d.get()))
                .collect(),
            extra: history.extra_bytes(i).to_vec(),
        })
    }
}
