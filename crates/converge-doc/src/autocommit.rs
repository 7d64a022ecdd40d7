//! [`AutoCommit`]: a document whose edits gather into one pending change until something
//! needs the history (heads, changes, saves, syncs, merges), as automerge 0.12's
//! `AutoCommit`.

use converge_encoding::{ActorId, Author, Change, ChangeHash};

use crate::doc::Document;
use crate::error::DocError;
use crate::transaction::{OpenTx, Transaction};
use crate::types::TextEncoding;

/// A [`Document`] that commits by itself: edits go into a pending transaction, opened by the
/// first edit, and become one change when [`AutoCommit::commit`] is called or when an
/// operation needs the history. These commit the pending edits first, as automerge 0.12's
/// `AutoCommit` does: [`heads`](Self::heads), [`save`](Self::save),
/// [`save_nocompress`](Self::save_nocompress), [`save_incremental`](Self::save_incremental),
/// [`save_after`](Self::save_after), [`empty_change`](Self::empty_change),
/// [`get_changes`](Self::get_changes), [`get_change_by_hash`](Self::get_change_by_hash),
/// [`missing_deps`](Self::missing_deps), [`apply_changes`](Self::apply_changes),
/// [`load_incremental`](Self::load_incremental), [`merge`](Self::merge) (both documents),
/// [`fork`](Self::fork), [`fork_at`](Self::fork_at), [`set_actor`](Self::set_actor),
/// [`set_author`](Self::set_author), [`document`](Self::document) and
/// [`sync`](Self::sync) (the document for the sync protocol, whose messages then carry the
/// edits). An implicit commit has no message and time 0; [`AutoCommit::commit_with`] gives
/// them.
///
/// Reads see the pending edits, as reads through a [`Transaction`] do; reads at heads (the
/// `_at` methods) see the changes under those heads only, never the pending edits.
///
/// An edit that fails changes nothing and leaves the pending edits as they were.
/// [`AutoCommit::rollback`] undoes them all. A clone has the same pending edits, and commits
/// them as the same change.
///
/// ```
/// use converge_doc::{AutoCommit, ObjType, ROOT};
///
/// let mut doc = AutoCommit::new();
/// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
/// doc.splice_text(&text, 0, 0, "hello")?;
/// doc.splice_text(&text, 5, 0, " world")?;
/// assert_eq!(doc.text(&text)?, "hello world"); // reads see the pending edits
/// assert_eq!(doc.pending_ops(), 12);
/// let heads = doc.heads(); // needs the history: the three edits become one change
/// assert_eq!(heads.len(), 1);
/// assert_eq!(doc.pending_ops(), 0);
/// assert_eq!(doc.get_changes(&[]).len(), 1);
/// # Ok::<(), converge_doc::DocError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct AutoCommit {
    doc: Document,
    /// The pending transaction, if an edit opened one since the last commit; its ops are in
    /// `doc`'s op set.
    open: Option<OpenTx>,
    /// The heads [`AutoCommit::diff_incremental`] reports changes since (none: from the
    /// empty document).
    diff_cursor: Vec<ChangeHash>,
    /// Where reads and edits happen while [`AutoCommit::isolate`]d; boxed, since most
    /// documents never are.
    isolation: Option<Box<Isolation>>,
}

/// An isolated [`AutoCommit`]'s heads and its view of the document at them.
#[derive(Clone, Debug)]
struct Isolation {
    /// The heads reads and edits see: those given to `isolate`, then the last isolated
    /// commit's.
    heads: Vec<ChangeHash>,
    /// The document at `heads` (a copy of the document at its own heads, else a `fork_at`),
    /// plus the pending isolated edits: edits edit it, reads read it, and each commit's
    /// change is applied to the whole document too. Made by the first edit: until then
    /// reads read the whole document at `heads` (a view at earlier heads costs a replay of
    /// the changes under them, which reads do not need).
    view: Option<Document>,
}

/// `doc` at `heads`, a view for isolated edits: at the document's own heads a copy (a fork
/// copies; a fork at heads applies every change again: 3.7 against 434 ms for the paper
/// document).
fn view_at_heads(doc: &Document, heads: &[ChangeHash]) -> Result<Document, DocError> {
    if doc.history.graph.heads_are(heads) {
        Ok(doc.fork())
    } else {
        doc.fork_at(heads)
    }
}

impl From<Document> for AutoCommit {
    fn from(doc: Document) -> Self {
        AutoCommit {
            doc,
            open: None,
            diff_cursor: Vec::new(),
            isolation: None,
        }
    }
}

/// The actor automerge 0.12 makes an isolated change with at `level` beyond 0: the bytes
/// `13 b2 23 09`, the level in LEB128, then the document's actor.
fn concurrency_actor(base: &ActorId, level: u64) -> ActorId {
    let mut bytes = vec![0x13, 0xb2, 0x23, 0x09];
    converge_encoding::leb128::write_u64(&mut bytes, level);
    bytes.extend_from_slice(base.as_bytes());
    ActorId::from_bytes(&bytes)
}

/// The max op of `actor`'s last change in `doc`, 0 if it made none.
fn last_max_op(doc: &Document, actor: &ActorId) -> u64 {
    doc.ops
        .actor_index(actor)
        .and_then(|a| doc.history.last_of_actor(a))
        .map_or(0, |i| doc.history.max_op(i))
}

/// The number of changes `actor` made in `doc`.
fn actor_seq(doc: &Document, actor: &ActorId) -> u64 {
    doc.ops
        .actor_index(actor)
        .map_or(0, |a| doc.history.actor_seq(a))
}

impl AutoCommit {
    /// An empty document with a new random actor.
    pub fn new() -> Self {
        AutoCommit::from(Document::new())
    }

    /// An empty document whose edits are made by `actor`.
    pub fn with_actor(actor: ActorId) -> Self {
        AutoCommit::from(Document::with_actor(actor))
    }

    /// [`Document::load`], but counted as never saved, as automerge 0.12's `AutoCommit`
    /// does: the first [`AutoCommit::save_incremental`] holds every change.
    pub fn load(bytes: &[u8]) -> Result<Self, DocError> {
        AutoCommit::load_with_encoding(bytes, TextEncoding::CodePoint)
    }

    /// [`AutoCommit::load`] counting text in `encoding` ([`Document::load_with_encoding`]).
    pub fn load_with_encoding(bytes: &[u8], encoding: TextEncoding) -> Result<Self, DocError> {
        let mut doc = Document::load_with_encoding(bytes, encoding)?;
        doc.saved = 0;
        Ok(AutoCommit::from(doc))
    }

    /// [`Document::load_with_options`], counted as never saved (see [`AutoCommit::load`]).
    #[doc(alias = "load_with")]
    pub fn load_with_options(bytes: &[u8], options: crate::LoadOptions) -> Result<Self, DocError> {
        let mut doc = Document::load_with_options(bytes, options)?;
        doc.saved = 0;
        Ok(AutoCommit::from(doc))
    }

    /// [`Document::load_unverified_heads`], counted as never saved.
    pub fn load_unverified_heads(bytes: &[u8]) -> Result<Self, DocError> {
        let mut doc = Document::load_unverified_heads(bytes)?;
        doc.saved = 0;
        Ok(AutoCommit::from(doc))
    }

    // ---- isolation ----

    /// Commits the pending edits, then isolates the document at `heads`, as automerge
    /// 0.12's `isolate`: reads (other than those at heads) see the document as it was at
    /// `heads`, and edits are made there, each commit a change that depends on `heads`
    /// (then on the last isolated commit) only, applied to the whole document as a
    /// concurrent change would be. Changes that arrive meanwhile (`apply_changes`, `merge`,
    /// a sync) join the whole document, not the view; [`AutoCommit::heads`] gives the
    /// isolation heads, saves and syncs the whole document. [`AutoCommit::integrate`] ends it.
    ///
    /// The edits are the document's actor's if its last change is under `heads` (or it
    /// made none), otherwise another actor's derived from it (level 1, 2, ... as automerge
    /// derives them), so that each actor's changes stay a chain.
    ///
    /// Reads of an object made after `heads` read it as automerge reads it there (empty),
    /// but [`object_type`](Self::object_type) says it is not found and edits of it are
    /// refused ([`DocError::ObjectNotFound`]), where automerge edits it.
    ///
    /// Where converge differs from automerge 0.12 on purpose, each time because automerge's
    /// change names what its deps do not hold, so that a peer holding only the deps cannot
    /// apply it (automerge panics, tests/isolation.rs in converge-interop):
    /// - the edits of an object made after `heads`, above;
    /// - an insert next to a mark that a change beyond `heads` made: automerge anchors it on
    ///   the mark's op, converge on the element the view shows;
    /// - when the actor's last change beyond `heads` has no ops (an `empty_change`) and its
    ///   max op is under them, automerge makes the next change with the actor itself, its
    ///   seq after that change's though its deps do not hold it; converge moves on to a
    ///   derived actor.
    ///
    /// Also unlike automerge, `heads` must all be changes of the document
    /// ([`DocError::UnknownChange`] otherwise) and repeats count once. Isolating itself
    /// costs nothing (5 us, where automerge's takes 31-39 ms at half of the paper
    /// document's changes): until the first edit, reads read the whole document at
    /// `heads`. The first edit makes the view: a copy of the document
    /// ([`AutoCommit::fork`]) at its own heads, otherwise a fork at `heads`
    /// ([`AutoCommit::fork_at`], which loads a document chunk of the changes under them:
    /// 50-60 ms for half of the paper document's), kept until [`AutoCommit::integrate`];
    /// edits there are then cheaper than automerge's, which reads its whole document
    /// through a clock (a keystroke typed and committed: 5 us against 50-90 us), and
    /// integrating costs 0.1-0.25 ms against automerge's 33-40 ms (`isolate_probe` in
    /// converge-benches).
    ///
    /// ```
    /// use converge_doc::{AutoCommit, ROOT, Value};
    /// let title = |doc: &AutoCommit| doc.get(&ROOT, "title").map(|v| v.map(|v| v.value));
    /// let mut doc = AutoCommit::new();
    /// doc.put(&ROOT, "title", "draft")?;
    /// let draft = doc.heads();
    /// doc.put(&ROOT, "title", "final")?;
    /// doc.isolate(&draft)?;
    /// assert_eq!(title(&doc)?, Some(Value::Scalar("draft".into())));
    /// doc.put(&ROOT, "note", "written beside the final title")?;
    /// doc.integrate()?;
    /// assert_eq!(title(&doc)?, Some(Value::Scalar("final".into())));
    /// assert!(doc.get(&ROOT, "note")?.is_some());
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn isolate(&mut self, heads: &[ChangeHash]) -> Result<(), DocError> {
        self.commit()?;
        let mut heads = heads.to_vec();
        let mut seen = std::collections::HashSet::new();
        heads.retain(|h| seen.insert(*h));
        self.doc
            .history
            .indexes(&heads)
            .map_err(|hash| DocError::UnknownChange { hash })?;
        self.isolation = Some(Box::new(Isolation { heads, view: None }));
        Ok(())
    }

    /// Commits the pending edits and ends the isolation: reads and edits see the whole
    /// document again (automerge 0.12's `integrate`).
    pub fn integrate(&mut self) -> Result<(), DocError> {
        self.commit()?;
        self.isolation = None;
        Ok(())
    }

    /// Whether the document is isolated ([`AutoCommit::isolate`]).
    pub fn is_isolated(&self) -> bool {
        self.isolation.is_some()
    }

    /// The isolation heads, if isolated (no edit is committed for this).
    pub(crate) fn isolation_heads(&self) -> &[ChangeHash] {
        self.isolation.as_ref().map_or(&[], |i| &i.heads)
    }

    /// What the reads of the current state of `obj` read (see `doc_reads!`): the isolated
    /// view, if any; for an object it does not have but the whole document does (made after
    /// the isolation heads), the whole document at the isolation heads, where it reads as
    /// automerge 0.12 reads it there (empty).
    pub(crate) fn read_now(&self, obj: &crate::ExId) -> crate::doc_reads::ReadAt<'_> {
        use crate::doc_reads::ReadAt;
        let Some(i) = &self.isolation else {
            return ReadAt::Now(&self.doc);
        };
        let at_heads = self.open.is_none() && self.doc.history.graph.heads_are(&i.heads);
        match &i.view {
            // No edit yet: the whole document, at the isolation heads (or now, at its own).
            None if at_heads => ReadAt::Now(&self.doc),
            None => ReadAt::Heads(&self.doc, &i.heads),
            Some(view) if view.obj_index(obj).is_err() && self.doc.obj_index(obj).is_ok() => {
                ReadAt::Heads(&self.doc, &i.heads)
            }
            // automerge reads through the isolation's clock unless no edit is pending and
            // the isolation heads are the document's.
            Some(view) if at_heads => ReadAt::Now(view),
            Some(view) => ReadAt::Scoped(view),
        }
    }

    /// What the reads of `obj` at `heads` read (see `doc_reads!`): the whole document at
    /// them; for an object that pending isolated edits made (the whole document does not
    /// have it yet, and no change under any heads does), the view at the isolation heads,
    /// where it reads empty, as automerge 0.12 reads it at any heads.
    pub(crate) fn read_at<'h>(
        &'h self,
        obj: &crate::ExId,
        heads: &'h [ChangeHash],
    ) -> Result<(&'h Document, &'h [ChangeHash]), DocError> {
        match self
            .isolation
            .as_ref()
            .and_then(|i| Some((i.view.as_ref()?, &i.heads)))
        {
            Some((view, isolation_heads))
                if self.doc.obj_index(obj).is_err() && view.obj_index(obj).is_ok() =>
            {
                self.doc
                    .history
                    .indexes(heads)
                    .map_err(|hash| DocError::UnknownChange { hash })?;
                Ok((view, isolation_heads))
            }
            _ => Ok((&self.doc, heads)),
        }
    }

    /// Opens an isolated transaction on the view: the actor as automerge 0.12's
    /// `isolate_actor` picks it, counters after the whole document's.
    fn begin_isolated(doc: &Document, heads: &[ChangeHash], view: &mut Document) -> OpenTx {
        let base = doc.actor().clone();
        let mut actor = base.clone();
        for level in 1u64.. {
            let last = last_max_op(doc, &actor);
            // automerge's test is the max ops; a change without ops after the view's (an
            // `empty_change` made meanwhile) also moves on, since the view could not take
            // the next seq (see the note on `isolate`).
            if last == 0
                || (last_max_op(view, &actor) >= last
                    && actor_seq(view, &actor) == actor_seq(doc, &actor))
            {
                break;
            }
            actor = concurrency_actor(&base, level);
        }
        if view.actor() != &actor {
            view.set_actor(actor);
        }
        view.author.clone_from(&doc.author);
        let deps = heads
            .iter()
            .filter_map(|h| view.history.index_of(h).map(|i| i as u32))
            .collect();
        OpenTx::begin_isolated(view, doc.max_op(), deps)
    }

    /// Commits the pending edits (no message, time 0) and gives the document back.
    pub fn into_document(mut self) -> Document {
        self.close();
        self.doc
    }

    /// Commits the pending edits (no message, time 0) and lends the document, for what this
    /// type does not offer itself.
    pub fn document(&mut self) -> &Document {
        self.close();
        &self.doc
    }

    /// Commits the pending edits (no message, time 0) and lends the document for the sync
    /// protocol (converge-sync's `SyncExt` methods on it), as automerge 0.12's
    /// `AutoCommit::sync`: `doc.sync().generate_sync_message(&mut state)`.
    pub fn sync(&mut self) -> &mut Document {
        self.close();
        &mut self.doc
    }

    // ---- the pending transaction ----

    /// The number of pending ops (0 if no edit is pending).
    pub fn pending_ops(&self) -> usize {
        self.open.as_ref().map_or(0, OpenTx::pending_ops)
    }

    /// Commits the pending edits as one change with no message and time 0; `None` if there
    /// were none. See [`Transaction::commit`].
    pub fn commit(&mut self) -> Result<Option<ChangeHash>, DocError> {
        self.commit_with(None, 0)
    }

    /// Commits the pending edits as one change with a message and a time; `None` if there
    /// were none. See [`Transaction::commit_with`] (if the change cannot be encoded, the
    /// edits are rolled back and the error returned).
    pub fn commit_with(
        &mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<Option<ChangeHash>, DocError> {
        let Some(open) = self.open.take() else {
            return Ok(None);
        };
        let Some(isolation) = self.isolation.as_mut() else {
            return Transaction::resume(&mut self.doc, open).commit_with(message, time);
        };
        self.doc.tx_open = false;
        // (An open isolated transaction is on the view its first edit made.)
        let Some(view) = isolation.view.as_mut() else {
            return Ok(None);
        };
        let Some(hash) = Transaction::resume(view, open).commit_with(message, time)? else {
            return Ok(None);
        };
        let applied = match view.get_change_by_hash(&hash) {
            Some(change) => self.doc.apply_changes([change]),
            None => Err(DocError::UnknownChange { hash }),
        };
        match applied {
            Ok(()) => {
                isolation.heads = vec![hash];
                Ok(Some(hash))
            }
            Err(e) => {
                // The whole document refused the change (a corner the view cannot see):
                // the view goes back to the isolation heads, without it.
                isolation.view = Some(self.doc.fork_at(&isolation.heads)?);
                Err(e)
            }
        }
    }

    /// Commits the pending edits (no message, time 0), then records a change without ops
    /// ([`Document::empty_change`]), as automerge 0.12's `AutoCommit::empty_change`.
    #[doc(alias = "empty_commit")]
    pub fn empty_change(
        &mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<ChangeHash, DocError> {
        self.close();
        self.doc.empty_change(message, time)
    }

    /// Undoes the pending edits; returns how many ops were undone.
    pub fn rollback(&mut self) -> usize {
        self.open.take().map_or(0, |open| {
            let doc = match self.isolation.as_mut().and_then(|i| i.view.as_mut()) {
                Some(view) => {
                    self.doc.tx_open = false;
                    view
                }
                None => &mut self.doc,
            };
            Transaction::resume(doc, open).rollback()
        })
    }

    /// The implicit commit before an operation that needs the history. Its change has no
    /// message and time 0. A change that cannot be encoded (which no edit this type accepts
    /// makes) is rolled back, as [`Transaction::commit_with`] does.
    fn close(&mut self) {
        // The error's edits are rolled back: the document is as before them.
        let _ = self.commit();
    }

    /// Runs one edit in the pending transaction, opening it if none is.
    pub(crate) fn edit<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        let doc = match self.isolation.as_mut() {
            Some(isolation) => {
                let Isolation { heads, view } = &mut **isolation;
                let view = match view {
                    Some(view) => view,
                    None => view.insert(view_at_heads(&self.doc, heads)?),
                };
                let open = match self.open.take() {
                    Some(open) => open,
                    None => {
                        // The whole document's reads at its heads take the clock while the
                        // isolated edits are pending, as automerge's with its transaction
                        // open.
                        self.doc.tx_open = true;
                        AutoCommit::begin_isolated(&self.doc, heads, view)
                    }
                };
                self.open = Some(open);
                view
            }
            None => &mut self.doc,
        };
        let open = match self.open.take() {
            Some(open) => open,
            None => OpenTx::begin(doc),
        };
        let mut tx = Transaction::resume(doc, open);
        let out = f(&mut tx);
        self.open = Some(tx.suspend());
        out
    }

    // ---- edits ----

    doc_edits!(edit, "in the pending change");

    // ---- reads (the pending edits included; at heads, never) ----

    doc_reads!(read_now, read_at, doc);

    // ---- actors and settings ----

    /// Commits the pending edits, then [`Document::set_actor`]: later edits are `actor`'s.
    pub fn set_actor(&mut self, actor: ActorId) {
        self.close();
        self.doc.set_actor(actor);
    }

    /// [`Document::author`].
    #[doc(alias = "get_author")]
    pub fn author(&self) -> Option<&Author> {
        self.doc.author()
    }

    /// Commits the pending edits, then [`Document::set_author`].
    pub fn set_author(&mut self, author: Option<Author>) {
        self.close();
        self.doc.set_author(author);
    }

    /// [`Document::set_text_encoding`] (refused once the document, pending edits included,
    /// holds any op).
    pub fn set_text_encoding(&mut self, encoding: TextEncoding) -> bool {
        match self.isolation.as_mut() {
            Some(isolation) => {
                isolation
                    .view
                    .as_mut()
                    .is_none_or(|view| view.set_text_encoding(encoding))
                    && self.doc.set_text_encoding(encoding)
            }
            None => self.doc.set_text_encoding(encoding),
        }
    }

    // ---- history (the pending edits committed first) ----

    /// The heads the pending edits will depend on, without committing them (automerge
    /// 0.12's `base_heads`): the document's heads before them, or while isolated the
    /// isolation heads.
    pub fn base_heads(&self) -> Vec<ChangeHash> {
        match &self.isolation {
            Some(isolation) => isolation.heads.clone(),
            None => self.doc.heads(),
        }
    }

    /// Commits the pending edits, then [`Document::heads`]; while isolated, the isolation
    /// heads (those given to [`AutoCommit::isolate`], then the last isolated commit's).
    #[doc(alias = "get_heads")]
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.close();
        match &self.isolation {
            Some(isolation) => isolation.heads.clone(),
            None => self.doc.heads(),
        }
    }

    /// Commits the pending edits, then [`Document::get_changes`].
    pub fn get_changes(&mut self, since: &[ChangeHash]) -> Vec<Change> {
        self.close();
        self.doc.get_changes(since)
    }

    /// Commits the pending edits, then [`Document::bundle`].
    pub fn bundle(&mut self, hashes: &[ChangeHash]) -> Result<Vec<u8>, DocError> {
        self.close();
        self.doc.bundle(hashes)
    }

    /// Commits the pending edits, then [`Document::fragments`] (EXPERIMENTAL, as in
    /// automerge 0.12, whose `AutoCommit::fragments` leaves the pending edits out).
    pub fn fragments(
        &mut self,
        levels: impl std::ops::RangeBounds<usize>,
    ) -> Vec<converge_dag::Fragment> {
        self.close();
        self.doc.fragments(levels)
    }

    /// Commits the pending edits, then [`Document::get_fragment`] (EXPERIMENTAL).
    pub fn get_fragment(&mut self, head: &ChangeHash) -> Option<converge_dag::Fragment> {
        self.close();
        self.doc.get_fragment(head)
    }

    /// Commits the pending edits, then [`Document::bundle_fragments`] (EXPERIMENTAL).
    pub fn bundle_fragments(
        &mut self,
        fragments: impl IntoIterator<Item = converge_dag::Fragment>,
    ) -> Vec<Vec<u8>> {
        self.close();
        self.doc.bundle_fragments(fragments)
    }

    /// Commits the pending edits, then [`Document::get_change_by_hash`].
    pub fn get_change_by_hash(&mut self, hash: &ChangeHash) -> Option<Change> {
        self.close();
        self.doc.get_change_by_hash(hash)
    }

    /// Commits the pending edits, then [`Document::get_changes_meta`].
    pub fn get_changes_meta(&mut self, since: &[ChangeHash]) -> Vec<crate::ChangeMetadata> {
        self.close();
        self.doc.get_changes_meta(since)
    }

    /// Commits the pending edits, then [`Document::get_change_meta_by_hash`].
    pub fn get_change_meta_by_hash(&mut self, hash: &ChangeHash) -> Option<crate::ChangeMetadata> {
        self.close();
        self.doc.get_change_meta_by_hash(hash)
    }

    /// Commits the pending edits, then [`Document::get_last_local_change`].
    pub fn get_last_local_change(&mut self) -> Option<Change> {
        self.close();
        self.doc.get_last_local_change()
    }

    /// Commits the pending edits of both documents, then [`Document::get_changes_added`]:
    /// the changes of `other` this document does not have.
    pub fn get_changes_added(&mut self, other: &mut AutoCommit) -> Vec<Change> {
        self.close();
        other.close();
        self.doc.get_changes_added(&other.doc)
    }

    /// Commits the pending edits, then [`Document::hash_for_opid`].
    pub fn hash_for_opid(&mut self, id: &crate::ExId) -> Option<ChangeHash> {
        self.close();
        self.doc.hash_for_opid(id)
    }

    /// [`Document::stats`] of the whole document, pending ops included as automerge 0.12
    /// counts them (but for an isolated transaction's, which its view holds).
    pub fn stats(&self) -> crate::Stats {
        self.doc.stats()
    }

    /// [`Document::authors`].
    #[doc(alias = "get_authors")]
    pub fn authors(&self) -> Vec<Author> {
        self.doc.authors()
    }

    /// [`Document::author_for_actor`].
    #[doc(alias = "get_author_for_actor")]
    pub fn author_for_actor(&self, actor: &ActorId) -> Option<Author> {
        self.doc.author_for_actor(actor)
    }

    /// [`Document::actors_for_author`].
    #[doc(alias = "get_actors_for_author")]
    pub fn actors_for_author(&self, author: &Author) -> Vec<ActorId> {
        self.doc.actors_for_author(author)
    }

    /// Commits the pending edits, then [`Document::missing_deps`].
    #[doc(alias = "get_missing_deps")]
    pub fn missing_deps(&mut self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        self.close();
        self.doc.missing_deps(heads)
    }

    /// Commits the pending edits, then [`Document::apply_changes`].
    pub fn apply_changes(
        &mut self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<(), DocError> {
        self.close();
        self.doc.apply_changes(changes)
    }

    /// Commits the pending edits, then [`Document::load_incremental`].
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<usize, DocError> {
        self.close();
        self.doc.load_incremental(bytes)
    }

    /// Commits the pending edits of both documents, then [`Document::merge`].
    pub fn merge(&mut self, other: &mut AutoCommit) -> Result<Vec<ChangeHash>, DocError> {
        self.close();
        other.close();
        self.doc.merge(&other.doc)
    }

    /// Commits the pending edits, then [`Document::fork`] (a new random actor).
    pub fn fork(&mut self) -> AutoCommit {
        self.close();
        AutoCommit::from(self.doc.fork())
    }

    /// Commits the pending edits, then [`Document::anonymize`] (of the whole document, if
    /// isolated).
    pub fn anonymize(&mut self) -> Result<AutoCommit, DocError> {
        self.close();
        Ok(AutoCommit::from(self.doc.anonymize()?))
    }

    /// Commits the pending edits, then [`Document::anonymize_with_seed`].
    pub fn anonymize_with_seed(&mut self, seed: u64) -> Result<AutoCommit, DocError> {
        self.close();
        Ok(AutoCommit::from(self.doc.anonymize_with_seed(seed)?))
    }

    // ---- patches ----

    /// Commits the pending edits, then [`Document::diff`]: the patches that take a view of
    /// the document at `before` to `after`.
    pub fn diff(
        &mut self,
        before: &[ChangeHash],
        after: &[ChangeHash],
    ) -> Result<Vec<crate::Patch>, DocError> {
        self.close();
        self.doc.diff(before, after)
    }

    /// Commits the pending edits, then [`Document::apply_changes_with_patches`].
    #[doc(alias = "apply_changes_log_patches")]
    pub fn apply_changes_with_patches(
        &mut self,
        changes: impl IntoIterator<Item = converge_encoding::Change>,
    ) -> Result<Vec<crate::Patch>, DocError> {
        self.close();
        self.doc.apply_changes_with_patches(changes)
    }

    /// Commits the pending edits (both documents'), then [`Document::merge_with_patches`].
    #[doc(alias = "merge_and_log_patches")]
    pub fn merge_with_patches(
        &mut self,
        other: &mut AutoCommit,
    ) -> Result<Vec<crate::Patch>, DocError> {
        self.close();
        other.close();
        self.doc.merge_with_patches(&other.doc)
    }

    /// Commits the pending edits, then [`Document::load_incremental_with_patches`].
    #[doc(alias = "load_incremental_log_patches")]
    pub fn load_incremental_with_patches(
        &mut self,
        bytes: &[u8],
    ) -> Result<Vec<crate::Patch>, DocError> {
        self.close();
        self.doc.load_incremental_with_patches(bytes)
    }

    /// Commits the pending edits, then [`Document::current_state`].
    pub fn current_state(&mut self) -> Vec<crate::Patch> {
        self.close();
        self.doc.current_state()
    }

    /// Commits the pending edits, then [`Document::diff_obj`].
    pub fn diff_obj(
        &mut self,
        obj: &crate::ExId,
        before: &[ChangeHash],
        after: &[ChangeHash],
        recursive: bool,
    ) -> Result<Vec<crate::Patch>, DocError> {
        self.close();
        self.doc.diff_obj(obj, before, after, recursive)
    }

    /// The heads [`AutoCommit::diff_incremental`] reports changes since: those of its last
    /// call or of [`AutoCommit::update_diff_cursor`] (none at first, after
    /// [`AutoCommit::reset_diff_cursor`], a load or a fork).
    pub fn diff_cursor(&self) -> Vec<ChangeHash> {
        self.diff_cursor.clone()
    }

    /// Commits the pending edits and moves the diff cursor to the heads (left where it is
    /// while there are none, as automerge 0.12's).
    pub fn update_diff_cursor(&mut self) {
        let heads = self.heads();
        if !heads.is_empty() {
            self.diff_cursor = heads;
        }
    }

    /// Commits the pending edits and moves the diff cursor back to the empty document.
    pub fn reset_diff_cursor(&mut self) {
        self.close();
        self.diff_cursor.clear();
    }

    /// The patches since the diff cursor, then the cursor moved to the heads: what a view
    /// kept in step with the document applies to catch up (the first call reports the
    /// whole document), as automerge 0.12's `diff_incremental`.
    ///
    /// ```
    /// use converge_doc::{AutoCommit, PatchAction, ROOT};
    /// let mut doc = AutoCommit::new();
    /// doc.put(&ROOT, "n", 1)?;
    /// assert_eq!(doc.diff_incremental()?.len(), 1);
    /// assert!(doc.diff_incremental()?.is_empty());
    /// doc.delete(&ROOT, "n")?;
    /// let patches = doc.diff_incremental()?;
    /// assert!(matches!(&patches[0].action, PatchAction::DeleteMap { key } if key == "n"));
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn diff_incremental(&mut self) -> Result<Vec<crate::Patch>, DocError> {
        let heads = self.heads();
        let patches = self.doc.diff(&self.diff_cursor, &heads)?;
        self.update_diff_cursor();
        Ok(patches)
    }

    /// Commits the pending edits, then [`Document::fork_at`].
    pub fn fork_at(&mut self, heads: &[ChangeHash]) -> Result<AutoCommit, DocError> {
        self.close();
        self.doc.fork_at(heads).map(AutoCommit::from)
    }

    /// Commits the pending edits, then [`Document::save`].
    pub fn save(&mut self) -> Vec<u8> {
        self.close();
        self.doc.save()
    }

    /// Commits the pending edits, then [`Document::save_nocompress`]; counts as a save for
    /// [`AutoCommit::save_incremental`], as automerge 0.12's does.
    pub fn save_nocompress(&mut self) -> Vec<u8> {
        self.save_with_options(crate::SaveOptions {
            deflate: false,
            retain_orphans: true,
        })
    }

    /// Commits the pending edits, then [`Document::save_with_options`].
    pub fn save_with_options(&mut self, options: crate::SaveOptions) -> Vec<u8> {
        self.close();
        self.doc.save_with_options(options)
    }

    /// Commits the pending edits, then [`Document::save_and_verify`].
    pub fn save_and_verify(&mut self) -> Result<Vec<u8>, DocError> {
        self.close();
        self.doc.save_and_verify()
    }

    /// Commits the pending edits, then [`Document::save_after`].
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.close();
        self.doc.save_after(heads)
    }

    /// Commits the pending edits, then [`Document::save_incremental`].
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.close();
        self.doc.save_incremental()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use crate::types::{ExId, ObjType, ROOT, Value};

    fn actor(b: u8) -> ActorId {
        ActorId::from_bytes(&[b; 16])
    }

    /// A document with one committed change (`text` = "hi") and two pending edits.
    fn pending() -> (AutoCommit, ExId) {
        let mut doc = AutoCommit::with_actor(actor(1));
        let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hi").unwrap();
        doc.commit().unwrap();
        doc.put(&ROOT, "n", 1i64).unwrap();
        doc.splice_text(&text, 2, 0, "!").unwrap();
        (doc, text)
    }

    #[test]
    fn edits_gather_into_one_change_that_reads_see_before_it_is_made() {
        let (mut doc, text) = pending();
        assert_eq!(doc.pending_ops(), 2);
        assert_eq!(doc.text(&text).unwrap(), "hi!");
        assert_eq!(
            doc.get(&ROOT, "n").unwrap().map(|v| v.value),
            Some(Value::Scalar(1i64.into()))
        );
        assert_eq!(doc.heads().len(), 1);
        assert_eq!(doc.pending_ops(), 0);
        let changes = doc.get_changes(&[]);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].num_ops(), 2);
    }

    #[test]
    fn every_operation_that_needs_the_history_commits_first() {
        type Op = fn(&mut AutoCommit, &ExId);
        let ops: [(&str, Op); 17] = [
            ("heads", |d, _| drop(d.heads())),
            ("save", |d, _| drop(d.save())),
            ("save_nocompress", |d, _| drop(d.save_nocompress())),
            ("save_incremental", |d, _| drop(d.save_incremental())),
            ("get_changes", |d, _| drop(d.get_changes(&[]))),
            ("get_change_by_hash", |d, _| {
                drop(d.get_change_by_hash(&ChangeHash([0; 32])))
            }),
            ("missing_deps", |d, _| drop(d.missing_deps(&[]))),
            ("apply_changes", |d, _| d.apply_changes([]).unwrap()),
            ("load_incremental", |d, _| drop(d.load_incremental(&[]))),
            ("merge", |d, _| {
                drop(d.merge(&mut AutoCommit::with_actor(actor(9))).unwrap())
            }),
            ("fork", |d, _| drop(d.fork())),
            ("fork_at", |d, _| drop(d.fork_at(&[]).unwrap())),
            ("set_actor", |d, _| d.set_actor(actor(2))),
            ("set_author", |d, _| d.set_author(None)),
            ("document", |d, _| {
                let _ = d.document();
            }),
            ("sync", |d, _| {
                let _ = d.sync();
            }),
            ("commit", |d, _| {
                d.commit().unwrap();
            }),
        ];
        for (name, op) in ops {
            let (mut doc, text) = pending();
            op(&mut doc, &text);
            assert_eq!(doc.pending_ops(), 0, "{name}");
            assert_eq!(doc.text(&text).unwrap(), "hi!", "{name}");
            let doc = doc.into_document();
            assert_eq!(doc.change_count(), 2, "{name}");
        }
        // And giving the document back commits too.
        let (doc, _) = pending();
        assert_eq!(doc.into_document().change_count(), 2);
    }

    #[test]
    fn a_rollback_leaves_the_document_as_the_last_commit_left_it() {
        let (mut doc, text) = pending();
        let before = doc.save();
        let made = doc.put_object(&ROOT, "list", ObjType::List).unwrap();
        doc.put(&ROOT, "n", 2i64).unwrap();
        doc.splice_text(&text, 0, 1, "H").unwrap();
        assert_eq!(doc.rollback(), 4);
        assert_eq!(doc.pending_ops(), 0);
        assert_eq!(doc.rollback(), 0);
        assert_eq!(doc.text(&text).unwrap(), "hi!");
        assert!(doc.object_type(&made).is_err());
        assert_eq!(doc.save(), before);
        // The rolled-back counters are taken again.
        assert_eq!(doc.put_object(&ROOT, "list", ObjType::List).unwrap(), made);
    }

    #[test]
    fn a_failing_edit_keeps_the_pending_ones() {
        let (mut doc, text) = pending();
        assert!(doc.insert(&text, 99, "x").is_err());
        assert!(doc.increment(&ROOT, "n", 1).is_err());
        assert!(doc.put(&text, "key", 1i64).is_err());
        assert_eq!(doc.pending_ops(), 2);
        let hash = doc.commit().unwrap().unwrap();
        assert_eq!(doc.get_change_by_hash(&hash).unwrap().num_ops(), 2);
        // A first edit that fails opens nothing to commit.
        assert!(doc.insert(&text, 99, "x").is_err());
        assert_eq!(doc.commit().unwrap(), None);
    }

    #[test]
    fn reads_at_heads_leave_out_the_pending_edits() {
        let (mut doc, text) = pending();
        doc.rollback();
        let heads = doc.heads();
        doc.splice_text(&text, 0, 0, "oh, ").unwrap();
        doc.put(&ROOT, "n", 5i64).unwrap();
        assert_eq!(doc.text_at(&text, &heads).unwrap(), "hi");
        assert_eq!(doc.get_at(&ROOT, "n", &heads).unwrap(), None);
        assert_eq!(doc.keys_at(&ROOT, &heads).unwrap(), ["text"]);
        assert_eq!(doc.text(&text).unwrap(), "oh, hi");
    }

    #[test]
    fn a_commit_carries_its_message_and_time() {
        let (mut doc, _) = pending();
        let hash = doc.commit_with(Some("note".into()), 1_700_000_000_000);
        let change = doc.get_change_by_hash(&hash.unwrap().unwrap()).unwrap();
        assert_eq!(change.message(), Some("note"));
        assert_eq!(change.time(), 1_700_000_000_000);
        // The implicit commits have neither.
        doc.put(&ROOT, "n", 2i64).unwrap();
        let last = doc.get_changes(&[]).pop().unwrap();
        assert_eq!((last.message(), last.time()), (None, 0));
    }

    #[test]
    fn a_clone_commits_its_pending_edits_as_the_same_change() {
        let (mut doc, text) = pending();
        let mut copy = doc.clone();
        copy.splice_text(&text, 0, 0, "¡").unwrap();
        copy.rollback();
        assert_eq!(doc.pending_ops(), 2);
        assert_eq!(copy.pending_ops(), 0);
        let mut copy = doc.clone();
        assert_eq!(copy.commit().unwrap(), doc.commit().unwrap());
        assert_eq!(copy.save(), doc.save());
    }

    fn scalar(doc: &AutoCommit, obj: &ExId, key: &str) -> Option<Value> {
        doc.get(obj, key).unwrap().map(|v| v.value)
    }

    #[test]
    fn an_isolated_document_reads_and_edits_at_its_heads() {
        let mut doc = AutoCommit::with_actor(actor(1));
        doc.put(&ROOT, "title", "draft").unwrap();
        let draft = doc.heads();
        doc.put(&ROOT, "title", "final").unwrap();
        let list = doc.put_object(&ROOT, "list", ObjType::List).unwrap();
        doc.insert(&list, 0, 1i64).unwrap();
        let before = doc.heads();
        doc.isolate(&draft).unwrap();
        assert!(doc.is_isolated());
        assert_eq!(doc.heads(), draft);
        assert_eq!(
            scalar(&doc, &ROOT, "title"),
            Some(Value::Scalar("draft".into()))
        );
        // An object made after the heads reads empty there, and cannot be edited there.
        assert_eq!(doc.length(&list).unwrap(), 0);
        assert!(doc.object_type(&list).is_err());
        assert!(doc.insert(&list, 0, 2i64).is_err());
        assert_eq!(doc.pending_ops(), 0);
        // Reads at heads read the whole document.
        assert_eq!(doc.length_at(&list, &before).unwrap(), 1);
        // Edits made there: a change on the isolation heads, by an actor derived from the
        // document's (whose last change is not under them), applied to the whole document.
        doc.put(&ROOT, "note", "beside the draft").unwrap();
        let hash = doc.commit().unwrap().unwrap();
        assert_eq!(doc.heads(), vec![hash]);
        let change = doc.get_change_by_hash(&hash).unwrap();
        assert_eq!(change.deps(), &draft[..]);
        assert_eq!(change.actor(), &concurrency_actor(&actor(1), 1));
        assert_eq!(change.seq(), 1);
        assert_eq!(change.start_op(), 5);
        // The next one builds on it, by the same actor.
        doc.put(&ROOT, "note", "again").unwrap();
        let next = doc.commit().unwrap().unwrap();
        let change = doc.get_change_by_hash(&next).unwrap();
        assert_eq!((change.deps(), change.seq()), (&[hash][..], 2));
        // A rollback undoes the view's pending edits only.
        doc.put(&ROOT, "title", "gone").unwrap();
        assert_eq!(doc.rollback(), 1);
        assert_eq!(
            scalar(&doc, &ROOT, "title"),
            Some(Value::Scalar("draft".into()))
        );
        doc.integrate().unwrap();
        assert!(!doc.is_isolated());
        let mut heads = doc.heads();
        heads.sort();
        let mut expected = vec![before[0], next];
        expected.sort();
        assert_eq!(heads, expected);
        assert_eq!(
            scalar(&doc, &ROOT, "title"),
            Some(Value::Scalar("final".into()))
        );
        assert_eq!(
            scalar(&doc, &ROOT, "note"),
            Some(Value::Scalar("again".into()))
        );
        // The whole document saves and loads with every change.
        let loaded = AutoCommit::load(&doc.save()).unwrap();
        assert_eq!(
            loaded.value_tree(&ROOT).unwrap(),
            doc.value_tree(&ROOT).unwrap()
        );
    }

    #[test]
    fn changes_that_arrive_while_isolated_join_the_whole_document_only() {
        let mut doc = AutoCommit::with_actor(actor(1));
        doc.put(&ROOT, "n", 1i64).unwrap();
        let heads = doc.heads();
        let mut peer = doc.fork();
        peer.set_actor(actor(2));
        peer.put(&ROOT, "m", 2i64).unwrap();
        doc.isolate(&heads).unwrap();
        // At the document's own heads, the actor is its own.
        doc.put(&ROOT, "n", 3i64).unwrap();
        doc.merge(&mut peer).unwrap();
        assert_eq!(scalar(&doc, &ROOT, "m"), None);
        assert_eq!(scalar(&doc, &ROOT, "n"), Some(Value::Scalar(3i64.into())));
        let mine = doc.heads();
        assert_eq!(doc.get_change_by_hash(&mine[0]).unwrap().actor(), &actor(1));
        assert_eq!(doc.get_changes(&[]).len(), 3);
        doc.integrate().unwrap();
        assert_eq!(scalar(&doc, &ROOT, "m"), Some(Value::Scalar(2i64.into())));
        assert_eq!(doc.heads().len(), 2);
        // Unknown heads are refused, and leave the document as it was.
        assert!(matches!(
            doc.isolate(&[ChangeHash([7; 32])]),
            Err(DocError::UnknownChange { .. })
        ));
        assert!(!doc.is_isolated());
    }

    #[test]
    fn loads_and_forks_count_as_never_saved() {
        let (mut doc, _) = pending();
        let saved = doc.save();
        assert!(doc.save_incremental().is_empty());
        let all: usize = doc.get_changes(&[]).iter().map(|c| c.bytes().len()).sum();
        let mut loaded = AutoCommit::load(&saved).unwrap();
        assert_eq!(loaded.save_incremental().len(), all);
        assert!(loaded.save_incremental().is_empty());
        assert_eq!(doc.fork().save_incremental().len(), all);
        // A plain document from a load counts as saved.
        let mut plain = Document::load(&saved).unwrap();
        assert!(plain.save_incremental().is_empty());
    }
}
