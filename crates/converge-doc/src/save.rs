//! Saving: the op set and history as a document chunk (spec format.md §7), ops in document
//! order (§7.4).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use converge_encoding::{
    Action, ActorId, Change, ChangeColumnsWriter, ChangeHash, DecodeError, DecodedPrefix,
    DocChangeRef, DocOpRef, DocumentChunk, ElemId, EncodedColumns, FileChunk, HeadsCheck, KeyRef,
    ObjId, OpColumnsWriter, OpId, ValueRef, decode_chunks, write_document_columns,
};

use crate::bitset::BitSet;
use crate::doc::Document;
use crate::error::DocError;
use crate::opset::{Body, HEAD, NONE, Op, OpSet};
use crate::resave::{BaseRows, SavedLayout};
use crate::types::TextEncoding;

mod pipeline;

impl Document {
    /// The document as the reference's `save()` writes it: one document chunk (columns of
    /// 256 bytes or more deflated), followed by the raw chunks of queued changes whose deps
    /// are missing. Marks everything as saved for [`Document::save_incremental`].
    ///
    /// The encoded columns and the compressed chunk are kept, so saving again (or syncing the
    /// whole document to an empty peer) before anything changes copies the chunk. A loaded
    /// document chunk's columns are kept too when they are exactly what a save writes, so the
    /// first save after such a load only deflates them. After changes, a save splices the kept
    /// columns: it copies the unchanged rows run by run and encodes only the new ops and the
    /// ops that gained a successor (then deflates). The bytes are the same either way.
    ///
    /// A save that encodes every row (nothing kept yet, as for a document built by editing)
    /// writes a large document's rows on two threads when the machine has a second core;
    /// they end before `save` returns.
    pub fn save(&mut self) -> Vec<u8> {
        self.save_with_options(crate::SaveOptions::default())
    }

    /// [`Document::save`]'s document chunk, without the queued changes.
    pub(crate) fn save_document_chunk(&mut self) -> Vec<u8> {
        let len = self.history.len();
        self.saved = len;
        // The file the document was loaded from stays for whole-document sync sends while it
        // is current; after changes it is never used again.
        self.loaded_chunk.current_or_drop(len);
        match self.kept_chunk() {
            Some(chunk) => chunk.to_vec(),
            None => {
                let (columns, layout) = match &self.saved_columns {
                    Some((kept, columns)) if *kept == len => {
                        (Arc::clone(columns), self.saved_layout.take())
                    }
                    _ => match self.spliced_columns() {
                        Some((columns, splice)) => (
                            Arc::new(columns),
                            self.saved_layout.take().map(|l| l.apply(splice)),
                        ),
                        None => {
                            let plan = RowPlan::new(self);
                            if let Some((out, columns, layout)) = self.pipelined_save(&plan) {
                                return self.keep_saved(len, out, columns, Some(layout));
                            }
                            let (columns, layout) = self.encode_columns_and_layout_of(&plan);
                            (Arc::new(columns), Some(layout))
                        }
                    },
                };
                let out = self.write_columns(&columns, true);
                self.keep_saved(len, out, columns, layout)
            }
        }
    }

    /// A first save's chunk and columns on two threads ([`pipeline`]), when the document
    /// has enough rows for that and the machine a second core (also for a whole-document
    /// sync send of a document with no columns kept).
    fn pipelined_save(
        &self,
        plan: &RowPlan<'_>,
    ) -> Option<(Vec<u8>, Arc<EncodedColumns>, SavedLayout)> {
        if plan.op_rows < SPLIT_MIN_ROWS || !second_core() {
            return None;
        }
        let done = self.encode_and_deflate(plan)?;
        let layout = self.row_layout(done.order.len() as u32, vec![done.order]);
        Some((done.chunk, Arc::new(done.columns), layout))
    }

    /// Keeps what a save wrote: its chunk (`out`, returned), columns and row layout.
    fn keep_saved(
        &mut self,
        len: usize,
        out: Vec<u8>,
        columns: Arc<EncodedColumns>,
        layout: Option<SavedLayout>,
    ) -> Vec<u8> {
        self.saved_columns = Some((len, columns));
        self.saved_layout = layout;
        self.ops.start_logging();
        self.saved_chunk.set(len, Bytes::copy_from_slice(&out));
        out
    }

    /// The document as the reference's `save_nocompress()` writes it: [`Document::save`]
    /// with no column deflated (queued changes appended too). It does not count as a save
    /// for [`Document::save_incremental`] (an [`AutoCommit`](crate::AutoCommit)'s does, as
    /// automerge 0.12's).
    pub fn save_nocompress(&self) -> Vec<u8> {
        let mut out = self.encode_document(false);
        self.append_queued(&mut out);
        out
    }

    /// Appends the raw chunks of the queued changes (whose deps are missing), as a save
    /// that retains orphans writes them after the document chunk.
    pub(crate) fn append_queued(&self, out: &mut Vec<u8>) {
        for c in self.history.queued_changes() {
            out.extend_from_slice(c.bytes());
        }
    }

    /// The document chunk, compressed or not: the kept chunk or columns if they are current.
    /// A compressed chunk written here is kept (as `save` keeps its own), so a whole-document
    /// sync send to the next empty peer copies it.
    pub(crate) fn encode_document(&self, compress: bool) -> Vec<u8> {
        match self.kept_chunk() {
            Some(chunk) if compress => chunk.to_vec(),
            _ => {
                let out = match self.kept_or_spliced_columns() {
                    Some(columns) => self.write_columns(&columns, compress),
                    None => {
                        let plan = RowPlan::new(self);
                        match compress.then(|| self.pipelined_save(&plan)).flatten() {
                            Some((out, _, _)) => out,
                            None => {
                                let (columns, _, _) = self.encode_columns_into(&plan, false);
                                self.write_columns(&columns, compress)
                            }
                        }
                    }
                };
                if compress {
                    self.saved_chunk
                        .set(self.history.len(), Bytes::copy_from_slice(&out));
                }
                out
            }
        }
    }

    /// The compressed chunk the last save (or whole-document send) wrote, if the history has
    /// not grown since.
    fn kept_chunk(&self) -> Option<Bytes> {
        let chunk = self.saved_chunk.get(self.history.len())?;
        debug_assert!(
            *chunk == self.write_columns(&self.document_columns(), true),
            "kept chunk differs from the encoded one"
        );
        Some(chunk)
    }

    /// The document's columns: the kept ones while the history has not grown since they were
    /// kept, else encoded now.
    fn document_columns(&self) -> Arc<EncodedColumns> {
        self.kept_or_spliced_columns()
            .unwrap_or_else(|| Arc::new(self.encode_columns()))
    }

    /// The kept columns while the history has not grown since they were kept, else the kept
    /// columns spliced with the ops since, if that is cheaper than encoding every row.
    fn kept_or_spliced_columns(&self) -> Option<Arc<EncodedColumns>> {
        match &self.saved_columns {
            Some((len, columns)) if *len == self.history.len() => {
                // Tests and fuzzing run with debug assertions: the kept columns must be
                // exactly what encoding the op set gives.
                debug_assert!(
                    **columns == self.encode_columns(),
                    "kept columns differ from the encoded ones"
                );
                Some(Arc::clone(columns))
            }
            _ => self.spliced_columns().map(|(columns, _)| Arc::new(columns)),
        }
    }

    /// A document chunk of `columns` with this document's authors and heads.
    fn write_columns(&self, columns: &EncodedColumns, compress: bool) -> Vec<u8> {
        write_document_columns(
            &self.author_ids(),
            &self.history.head_indexes().collect::<Vec<_>>(),
            columns,
            compress,
        )
    }

    /// The authors' actor ids, sorted bytewise (a document chunk's actors).
    fn author_ids(&self) -> Vec<ActorId> {
        authors(self)
            .iter()
            .map(|&a| self.ops.actors[a as usize].clone())
            .collect()
    }

    /// The changes applied since the last `save` or `save_incremental`, as concatenated change
    /// chunks (empty if there are none). A document from [`Document::load`] counts as saved
    /// then; one from [`Document::fork`] or [`Document::fork_at`] as never saved. (An
    /// [`AutoCommit`](crate::AutoCommit) counts a loaded document as never saved, as
    /// automerge 0.12's `AutoCommit` does.)
    pub fn save_incremental(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in self.history.bytes_at(self.saved..self.history.len()) {
            out.extend_from_slice(&chunk);
        }
        self.saved = self.history.len();
        out
    }

    /// The changes not reachable from `heads` (all of them for `heads = []`; unknown hashes
    /// are ignored), as concatenated change chunks in application order: automerge 0.12's
    /// `save_after`, what a peer at `heads` lacks, to append to a file or hand to
    /// [`Document::load_incremental`].
    ///
    /// ```
    /// use converge_doc::{Document, ROOT};
    /// let mut doc = Document::new();
    /// doc.put(&ROOT, "a", 1i64)?;
    /// let mut copy = Document::load(&doc.save())?;
    /// let heads = doc.heads();
    /// doc.put(&ROOT, "b", 2i64)?;
    /// copy.load_incremental(&doc.save_after(&heads))?;
    /// assert_eq!(copy.heads(), doc.heads());
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        let wanted = self.history.graph.not_ancestors_of(heads);
        let mut out = Vec::new();
        for chunk in self.history.bytes_at(wanted.into_iter().map(|i| i.get())) {
            out.extend_from_slice(&chunk);
        }
        out
    }

    /// Loads a file: any concatenation of document, change and bundle chunks, applied as
    /// automerge 0.12 applies them (a leading document chunk in bulk, the changes of all
    /// other chunks as one batch). Any decoding error fails the load.
    /// If the file holds changes whose deps are missing and no document chunk came first, the
    /// load fails with [`DocError::MissingDeps`]; orphans after a document chunk are queued.
    ///
    /// A file of many chunks, or a document chunk of many changes, is decoded and rebuilt
    /// partly on a second thread when the machine has a second core; the thread ends before
    /// this returns, and the result is the one-thread result.
    ///
    /// Text counts in code points; [`Document::load_with_encoding`] loads a document that
    /// counts otherwise (UTF-16 code units for JavaScript peers).
    pub fn load(bytes: &[u8]) -> Result<Document, DocError> {
        Document::load_with_encoding(bytes, TextEncoding::CodePoint)
    }

    /// [`Document::load`] into a document whose text indexes and lengths count in
    /// `encoding` (the file does not say: every encoding reads the same bytes), as automerge
    /// 0.12's `LoadOptions::text_encoding`.
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT, TextEncoding};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "text", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "😀!")?;
    /// let loaded = Document::load_with_encoding(&doc.save(), TextEncoding::Utf16)?;
    /// assert_eq!(loaded.length(&text)?, 3); // a surrogate pair and one unit
    /// assert_eq!(doc.length(&text)?, 2); // two code points
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn load_with_encoding(bytes: &[u8], encoding: TextEncoding) -> Result<Document, DocError> {
        Document::load_checked(
            bytes,
            encoding,
            HeadsCheck::Check,
            MarkOrderCheck::Validate,
            false,
        )
    }

    /// [`Document::load_with_encoding`], a leading document chunk's heads checked or not;
    /// with `partial`, a chunk after the first that does not decode ends the file, and
    /// missing deps do not fail the load (see [`crate::LoadOptions`]).
    pub(crate) fn load_checked(
        bytes: &[u8],
        encoding: TextEncoding,
        check: HeadsCheck,
        marks: MarkOrderCheck,
        partial: bool,
    ) -> Result<Document, DocError> {
        let mut doc = Document::new();
        doc.ops.encoding = encoding;
        let file = Bytes::copy_from_slice(bytes);
        let chunks: Vec<FileChunk> = if partial {
            chunks_after_a_first(converge_encoding::decode_chunk_prefix(&file))?
        } else {
            decode_chunks(&file)?.into_iter().map(|(_, c)| c).collect()
        };
        let first_is_doc = matches!(chunks.first(), Some(FileChunk::Document(_)));
        let one_chunk = chunks.len() == 1;
        // The stored heads, where the load does not check them against the changes.
        let unchecked_heads = match (check, chunks.first()) {
            (HeadsCheck::DontCheck, Some(FileChunk::Document(d))) => Some(d.heads.clone()),
            _ => None,
        };
        doc.apply_chunks(chunks, check, marks)?;
        // The file is one document chunk whose columns the document kept (exactly what a
        // save writes, which decoding checked): it stands for the document as loaded. (Not
        // if its stored heads are not the document's, which a load that does not check them
        // lets through: a save writes the heads of the changes.)
        let len = doc.history.len();
        if first_is_doc
            && one_chunk
            && doc.history.queued_len() == 0
            && doc.saved_columns.as_ref().is_some_and(|(at, _)| *at == len)
            && unchecked_heads.is_none_or(|stored| stored == doc.heads())
        {
            doc.loaded_chunk.set(len, file);
        }
        if !first_is_doc && !partial && doc.history.queued_len() > 0 {
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
        let decoded = converge_encoding::decode_chunk_prefix(&file);
        // Into an empty document the first chunk must decode, as a load's (automerge 0.12
        // loads then); into a document with changes a bad first chunk adds nothing.
        let chunks = if self.is_empty() {
            chunks_after_a_first(decoded)?
        } else {
            decoded.chunks.into_iter().map(|(_, c)| c).collect()
        };
        self.apply_decoded_chunks(chunks)
    }

    /// [`Document::load_incremental`] for chunks already decoded, in file order (a sync
    /// message's receiver decodes them to check them before touching the document; this
    /// spares decoding them twice). Returns the number of changes added.
    pub fn apply_decoded_chunks(&mut self, chunks: Vec<FileChunk>) -> Result<usize, DocError> {
        let before = self.history.len();
        self.apply_chunks(chunks, HeadsCheck::Check, MarkOrderCheck::Validate)?;
        Ok(self.history.len() - before)
    }

    /// Applies a file's chunks as automerge 0.12's `load` and `load_incremental` do: a
    /// document chunk that comes first, into an empty document, is loaded in bulk; the changes
    /// of every other chunk (change chunks, bundles, and document chunks whose heads are not
    /// all known) go into one `apply_changes` batch, so they are applied in the order the
    /// reference applies them (its causal queue's), not chunk by chunk.
    ///
    /// `check` says whether a leading document chunk loaded in bulk has its stored heads
    /// checked; other document chunks never do (automerge 0.12 checks only that one).
    fn apply_chunks(
        &mut self,
        chunks: Vec<FileChunk>,
        check: HeadsCheck,
        marks: MarkOrderCheck,
    ) -> Result<(), DocError> {
        let mut batch: Vec<Change> = Vec::new();
        // The changes of the chunks after the first, for a bulk load of the first to make
        // room for (an upper bound: a later document chunk may repeat changes).
        let later: usize = chunks
            .iter()
            .skip(1)
            .map(|c| match c {
                FileChunk::Document(d) => d.changes.len(),
                FileChunk::Change(_) => 1,
                FileChunk::Bundle(b) => b.changes().len(),
                _ => 0,
            })
            .sum();
        let mut rest = chunks.into_iter();
        if let Some(FileChunk::Document(_)) = rest.as_slice().first()
            && let Some(FileChunk::Document(d)) = rest.next()
        {
            self.take_document_chunk(*d, true, later, (check, marks), &mut batch)?;
        }
        if rest
            .as_slice()
            .iter()
            .all(|c| matches!(c, FileChunk::Change(_)))
        {
            // A file of change chunks (incremental saves, a sync message of changes): their
            // changes are taken out in place, in the chunks' own vector, rather than copied
            // into a second one beside it (for the paper document's 259,779 changes the two
            // were 50 and 52 MB).
            let changes: Vec<Change> = rest
                .filter_map(|c| match c {
                    FileChunk::Change(c) => Some(c),
                    _ => None,
                })
                .collect();
            if batch.is_empty() {
                batch = changes;
            } else {
                batch.extend(changes);
            }
        } else {
            for chunk in rest {
                match chunk {
                    FileChunk::Document(d) => {
                        self.take_document_chunk(*d, false, later, (check, marks), &mut batch)?
                    }
                    FileChunk::Change(c) => batch.push(c),
                    // automerge 0.12 (`Automerge::bundle` writes them) loads a bundle's
                    // changes as if they came as change chunks.
                    FileChunk::Bundle(b) => batch.extend(b.into_changes()),
                    // No other kind decodes today (`FileChunk` may grow).
                    _ => {}
                }
            }
        }
        self.apply_changes(batch)?;
        self.ops.refresh_rank();
        Ok(())
    }

    /// A document chunk of a file, the file's `first` chunk or not: skipped if every head is
    /// known; loaded in bulk if it comes first into an empty document (room made for `later`
    /// changes); else its changes rebuilt into `batch`.
    fn take_document_chunk(
        &mut self,
        d: DocumentChunk,
        first: bool,
        later: usize,
        (check, marks): (HeadsCheck, MarkOrderCheck),
        batch: &mut Vec<Change>,
    ) -> Result<(), DocError> {
        if d.heads.iter().all(|h| self.history.contains(h)) {
            return Ok(());
        }
        let empty =
            self.ops.ops.is_empty() && self.history.len() == 0 && self.history.queued_len() == 0;
        if first && empty {
            // (Rebuilt changes remember a message the chunk gives as "", as automerge 0.12
            // keeps it through an incremental load.)
            if let Err(changes) = self.bulk_load_before(d, later, check, marks)? {
                self.apply_changes(changes)?;
            }
        } else {
            check_mark_order(&d, marks)?;
            batch.extend(d.reconstruct_changes_with(HeadsCheck::DontCheck)?);
        }
        Ok(())
    }

    /// The document's columns, encoded straight from the op set and history: authors sorted
    /// bytewise, changes in application order, ops in document order with successor lists
    /// (the columns of [`Document::document_chunk`]`.encode(compress)`, without building it).
    pub(crate) fn encode_columns(&self) -> EncodedColumns {
        self.encode_columns_into(&RowPlan::new(self), false).0
    }

    /// [`Document::encode_columns`], and where each op's row is in them.
    #[cfg(test)]
    pub(crate) fn encode_columns_and_layout(&self) -> (EncodedColumns, SavedLayout) {
        self.encode_columns_and_layout_of(&RowPlan::new(self))
    }

    /// [`Document::encode_columns_and_layout`] by `plan`.
    fn encode_columns_and_layout_of(&self, plan: &RowPlan<'_>) -> (EncodedColumns, SavedLayout) {
        let (columns, count, parts) = self.encode_columns_into(plan, true);
        (columns, self.row_layout(count, parts))
    }

    /// The layout of `count` op rows whose arena indexes in row order are `parts`, one
    /// after another.
    fn row_layout(&self, count: u32, parts: Vec<Vec<u32>>) -> SavedLayout {
        let base = BaseRows::Order {
            parts,
            table: OnceLock::new(),
        };
        SavedLayout::new(self.ops.ops.len() as u32, count, authors(self), base)
    }

    /// Encodes the columns by `plan`; with `order`, lists the rows' arena indexes in row
    /// order (in consecutive parts). Also returns the number of op rows. With enough rows
    /// and a second core, two threads share the work (see [`Document::encode_columns_cut`]).
    fn encode_columns_into(
        &self,
        plan: &RowPlan<'_>,
        order: bool,
    ) -> (EncodedColumns, u32, Vec<Vec<u32>>) {
        let cuts = if plan.op_rows >= SPLIT_MIN_ROWS && second_core() {
            plan.cuts_at(PIECE_ENDS.iter().map(|&p| plan.op_rows * p / 1000))
        } else {
            Vec::new()
        };
        self.encode_columns_cut(plan, &cuts, order)
    }

    /// The columns, the op rows cut into pieces at `cuts` (places in order). Without cuts,
    /// or if a second thread does not start, one thread writes everything in order. Else two
    /// threads take the change rows and the pieces one at a time, each the next one left when
    /// it is done with its last (what a row costs varies along a document), and the pieces'
    /// columns are appended in order. The columns are the same wherever the cuts are.
    fn encode_columns_cut(
        &self,
        plan: &RowPlan<'_>,
        cuts: &[Place],
        with_order: bool,
    ) -> (EncodedColumns, u32, Vec<Vec<u32>>) {
        if !cuts.is_empty()
            && let Some(done) = self.encode_on_two_threads(plan, cuts, with_order)
        {
            return done;
        }
        let mut changes = ChangeColumnsWriter::new();
        self.push_change_rows(&mut changes, 0..self.history.len(), &plan.actor_pos);
        let mut writer = OpColumnsWriter::new();
        let mut piece = PieceRows::new(0, with_order);
        // Without `keep`, every row is written.
        let _ = plan.write_rows(Place::START, plan.end(), &mut writer, &mut |idx| {
            piece.record(idx);
        });
        let count = piece.count as u32;
        (
            EncodedColumns::from_writers(changes, writer),
            count,
            vec![piece.order],
        )
    }

    /// [`Document::encode_columns_cut`] on two threads; `None` if the second thread does not
    /// start (nothing written then) or the pieces do not join.
    fn encode_on_two_threads(
        &self,
        plan: &RowPlan<'_>,
        cuts: &[Place],
        with_order: bool,
    ) -> Option<(EncodedColumns, u32, Vec<Vec<u32>>)> {
        let bounds: Vec<Place> = std::iter::once(Place::START)
            .chain(cuts.iter().copied())
            .chain(std::iter::once(plan.end()))
            .collect();
        // The threads start with the first and the last piece; then come the change rows and
        // the pieces between, in order.
        let pieces = bounds.len() - 1;
        let piece_of = |item: usize| match item {
            0 => Some(0),
            1 => (pieces > 1).then(|| pieces - 1),
            2 => None,
            _ => (item - 2 < pieces - 1).then(|| item - 2),
        };
        let next = AtomicUsize::new(0);
        let work = || {
            let mut changes = None;
            let mut pieces = Vec::new();
            loop {
                let item = next.fetch_add(1, Ordering::Relaxed);
                if item == 2 {
                    let mut writer = ChangeColumnsWriter::new();
                    self.push_change_rows(&mut writer, 0..self.history.len(), &plan.actor_pos);
                    changes = Some(writer);
                    continue;
                }
                let Some(at) = piece_of(item) else {
                    if item > 2 {
                        break;
                    }
                    continue;
                };
                let Some(&[from, to]) = bounds.get(at..=at + 1) else {
                    break;
                };
                let mut writer = OpColumnsWriter::new();
                let mut piece = PieceRows::new(at, with_order);
                let _ = plan.write_rows(from, to, &mut writer, &mut |idx| piece.record(idx));
                pieces.push((piece, writer));
            }
            (changes, pieces)
        };
        let (mine, theirs) = std::thread::scope(|scope| {
            let theirs = std::thread::Builder::new()
                .name("converge-save".into())
                .spawn_scoped(scope, work)
                .ok()?;
            let mine = work();
            match theirs.join() {
                Ok(theirs) => Some((mine, theirs)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        let changes = mine.0.or(theirs.0)?;
        let mut pieces = mine.1;
        pieces.extend(theirs.1);
        pieces.sort_unstable_by_key(|(p, _)| p.at);
        let mut count = 0u32;
        let mut orders = Vec::with_capacity(pieces.len());
        let mut parts = Vec::with_capacity(pieces.len());
        for (piece, writer) in pieces {
            count += piece.count as u32;
            orders.push(piece.order);
            parts.push((writer, piece.count));
        }
        let joined = EncodedColumns::from_op_parts(changes, parts);
        // Joining our own fresh columns does not fail.
        debug_assert!(joined.is_ok(), "joining the pieces of the op rows failed");
        Some((joined.ok()?, count, orders))
    }

    /// Writes the change rows of history indexes `range`, authors numbered by `actor_pos`.
    pub(crate) fn push_change_rows<'a>(
        &'a self,
        changes: &mut ChangeColumnsWriter<'a>,
        range: std::ops::Range<usize>,
        actor_pos: &[u32],
    ) {
        let history = &self.history;
        // In blocks: gather a block's rows (deps copied out of the graph into one buffer,
        // messages and extra bytes taken from their sparse lists by a cursor), then the writer
        // goes column by column.
        let mut dep_buf: Vec<u32> = Vec::new();
        let mut dep_ends: Vec<usize> = Vec::with_capacity(BLOCK);
        let (messages, extras) = (history.messages(), history.extras());
        let message_entries = messages.entries();
        let mut next_message =
            message_entries.partition_point(|&(j, _)| (j as usize) < range.start);
        let mut next_extra = extras.partition_point(|(j, _)| (*j as usize) < range.start);
        let mut seqs = history.graph.seq_cursor();
        let n = range.end;
        let mut start = range.start;
        while start < n {
            let end = (start + BLOCK).min(n);
            dep_buf.clear();
            dep_ends.clear();
            for i in start..end {
                history.deps_into(i, &mut dep_buf);
                dep_ends.push(dep_buf.len());
            }
            let mut rows: Vec<DocChangeRef<'_, '_>> = Vec::with_capacity(end - start);
            let mut dep_start = 0;
            for (i, &dep_end) in (start..end).zip(&dep_ends) {
                let message = match message_entries.get(next_message) {
                    Some(&(j, id)) if j as usize == i => {
                        next_message += 1;
                        messages.text(id)
                    }
                    _ => None,
                };
                let extra_bytes: &[u8] = match extras.get(next_extra) {
                    Some((j, e)) if *j as usize == i => {
                        next_extra += 1;
                        e
                    }
                    _ => &[],
                };
                rows.push(DocChangeRef {
                    actor: actor_pos
                        .get(history.actor(i) as usize)
                        .copied()
                        .unwrap_or(u32::MAX),
                    seq: seqs.seq(converge_dag::ChangeIdx::new(i as u32)),
                    max_op: history.max_op(i),
                    time: history.time(i),
                    message,
                    deps: dep_buf.get(dep_start..dep_end).unwrap_or_default(),
                    extra_bytes,
                });
                dep_start = dep_end;
            }
            changes.push_rows(&rows);
            start = end;
        }
    }

    /// An uncompressed document chunk of the document as it was at some heads: the changes
    /// `order` (history indexes, each after its deps, which are all among them) in that
    /// order, `heads` (hash, position in `order`) as its heads, and the ops of those changes
    /// with the successors those changes made. [`Document::fork_at`] loads it.
    ///
    /// `None` if an op of those changes is in an object, or on an element, that none of them
    /// made, which only a history written by hand can hold (applying those changes alone
    /// would fail).
    pub(crate) fn encode_at(
        &self,
        order: &[usize],
        heads: &[(ChangeHash, usize)],
    ) -> Option<Vec<u8>> {
        let history = &self.history;
        let actors = &self.ops.actors;
        // Per doc actor index: whether it made a kept change, and the highest op counter of
        // those. Each actor's kept changes are its first ones (each waits for its actor's
        // previous seq), so that counter says which of its ops are kept.
        let mut authored = vec![false; actors.len()];
        let mut keep = vec![0u32; actors.len()];
        let mut position = vec![u32::MAX; history.len()];
        for (k, &i) in order.iter().enumerate() {
            *position.get_mut(i)? = u32::try_from(k).ok()?;
            let a = history.actor(i) as usize;
            *authored.get_mut(a)? = true;
            let max = u32::try_from(history.max_op(i)).unwrap_or(u32::MAX);
            let kept = keep.get_mut(a)?;
            *kept = (*kept).max(max);
        }
        let mut authors: Vec<u32> = (0..actors.len() as u32)
            .filter(|&a| authored.get(a as usize) == Some(&true))
            .collect();
        authors.sort_by(|&a, &b| actors[a as usize].cmp(&actors[b as usize]));
        let plan = RowPlan::with_authors(self, &authors, Some(keep));

        let mut changes = ChangeColumnsWriter::new();
        let mut seqs = history.graph.seq_cursor();
        let mut deps: Vec<u32> = Vec::new();
        for block in order.chunks(BLOCK) {
            deps.clear();
            let mut dep_ends = Vec::with_capacity(block.len());
            for &i in block {
                let start = deps.len();
                history.deps_into(i, &mut deps);
                for d in deps.get_mut(start..).unwrap_or_default() {
                    *d = position.get(*d as usize).copied().unwrap_or(u32::MAX);
                }
                dep_ends.push(deps.len());
            }
            let mut rows: Vec<DocChangeRef<'_, '_>> = Vec::with_capacity(block.len());
            let mut dep_start = 0;
            for (&i, &dep_end) in block.iter().zip(&dep_ends) {
                rows.push(DocChangeRef {
                    actor: plan
                        .actor_pos
                        .get(history.actor(i) as usize)
                        .copied()
                        .unwrap_or(u32::MAX),
                    seq: seqs.seq(converge_dag::ChangeIdx::new(i as u32)),
                    max_op: history.max_op(i),
                    time: history.time(i),
                    message: history.message(i),
                    deps: deps.get(dep_start..dep_end).unwrap_or_default(),
                    extra_bytes: history.extra_bytes(i),
                });
                dep_start = dep_end;
            }
            changes.push_rows(&rows);
        }
        let mut writer = OpColumnsWriter::new();
        if !plan.write_rows(Place::START, plan.end(), &mut writer, &mut |_| {}) {
            return None;
        }
        let actors: Vec<ActorId> = authors
            .iter()
            .map(|&a| actors[a as usize].clone())
            .collect();
        Some(write_document_columns(
            &actors,
            heads,
            &EncodedColumns::from_writers(changes, writer),
            false,
        ))
    }

    /// The document chunk: authors sorted bytewise, changes in application order, ops in
    /// document order with successor lists. The straightforward builder, kept for tests:
    /// [`Document::encode_document`] must write exactly its encoding.
    #[cfg(test)]
    pub(crate) fn document_chunk(&self) -> DocumentChunk {
        use converge_encoding::{DocChange, DocOp, Key};
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
                // A lone lookup, not the save's cursor: this builder is the reference.
                seq: history
                    .graph
                    .change(converge_dag::ChangeIdx::new(i as u32))
                    .map_or(0, |c| c.seq()),
                max_op: history.max_op(i),
                time: history.time(i),
                message: history.message(i).map(Into::into),
                deps: history.deps(i).into(),
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
                let mut succ: smallvec::SmallVec<[OpId; 2]> =
                    ops.succ_iter(idx).map(|s| map_id(ops.succ_id(s))).collect();
                succ.sort_unstable();
                let value = ops.scalar(&op.value);
                DocOp {
                    id: map_id(op.id),
                    obj,
                    key,
                    insert: op.insert(),
                    action: op.action(),
                    value: value.into(),
                    succ,
                    expand: op.expand(),
                    mark_name: ops.mark_names.get(&idx).map(|s| s.as_str().into()),
                }
            })
            .collect();

        let heads: Vec<_> = history.head_indexes().collect();
        let actors = authors
            .iter()
            .map(|&a| ops.actors[a as usize].clone())
            .collect();
        DocumentChunk::from_parts(actors, changes, doc_ops, heads)
    }
}

/// Whether a load refuses a document chunk whose mark ends are misplaced, as automerge 0.12's
/// `load` does, or reads it as it is, as its `rescue` does ([`Document::rescue`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkOrderCheck {
    /// Refuse it ([`DocError::InvalidMarkOrder`]).
    Validate,
    /// Read it.
    AllowInvalid,
}

/// automerge 0.12's check of a document chunk (`MarkOrderValidator`): in document order, every
/// mark end (a mark op without a name, id `c@a`) must come after its begin (`(c-1)@a`, a mark
/// op with a name) in the same object.
pub(crate) fn check_mark_order(
    chunk: &DocumentChunk,
    marks: MarkOrderCheck,
) -> Result<(), DocError> {
    if marks == MarkOrderCheck::AllowInvalid {
        return Ok(());
    }
    let mut begins: std::collections::HashMap<OpId, ObjId> = std::collections::HashMap::new();
    for op in chunk.ops.iter() {
        if op.action != Action::Mark {
            continue;
        }
        if op.mark_name.is_some() {
            begins.insert(op.id, op.obj);
            continue;
        }
        let begin = OpId::new(op.id.counter.wrapping_sub(1), op.id.actor);
        let fault = match begins.get(&begin) {
            Some(obj) if *obj == op.obj => continue,
            Some(_) => crate::error::MarkOrderFault::OtherObject,
            None => crate::error::MarkOrderFault::BeforeBegin,
        };
        // Decoding checked the chunk's actor indexes.
        let actor = chunk
            .actors
            .get(op.id.actor as usize)
            .cloned()
            .unwrap_or_else(|| ActorId::from_bytes(&[]));
        return Err(DocError::InvalidMarkOrder {
            end: crate::types::ExId::Op {
                counter: op.id.counter,
                actor,
            },
            fault,
        });
    }
    Ok(())
}

/// The chunks that decoded before the first that did not, or that one's error if it was
/// the file's first (a load needs one chunk at least, as automerge 0.12's does).
fn chunks_after_a_first(decoded: DecodedPrefix) -> Result<Vec<FileChunk>, DocError> {
    match decoded.failure {
        Some((offset, e)) if decoded.chunks.is_empty() => Err(DecodeError::InChunk {
            offset,
            source: Box::new(e),
        }
        .into()),
        _ => Ok(decoded.chunks.into_iter().map(|(_, c)| c).collect()),
    }
}

/// The doc-wide indexes of the actors that authored a change, sorted by actor bytes.
pub(crate) fn authors(doc: &Document) -> Vec<u32> {
    let actors = &doc.ops.actors;
    let mut authors: Vec<u32> = (0..actors.len() as u32)
        .filter(|&a| doc.history.actor_seq(a) > 0)
        .collect();
    authors.sort_by(|&a, &b| actors[a as usize].cmp(&actors[b as usize]));
    authors
}

/// Object indexes in document order: the root, then by the OpId of their make op.
pub(crate) fn object_order(ops: &OpSet) -> impl Iterator<Item = u32> + use<> {
    let ranks = ops.ranks();
    let mut objects: Vec<(u64, u32)> = (1..ops.objects.len() as u32)
        .map(|o| {
            let id = ops.ops[ops.objects[o as usize].make_op as usize].id;
            let rank = ranks.get(id.actor as usize).copied().unwrap_or(0);
            ((u64::from(id.counter) << 32) | u64::from(rank), o)
        })
        .collect();
    objects.sort_unstable();
    std::iter::once(0).chain(objects.into_iter().map(|(_, o)| o))
}

/// Op rows from which a full encode writes its rows on two threads: spawning the thread
/// costs tens of microseconds, 16,384 rows about half a millisecond of work.
const SPLIT_MIN_ROWS: usize = 1 << 14;

/// Where the pieces the op rows are cut into for two threads end, in thousandths of the
/// rows: a large first and last piece, which the threads start with, and eight small ones
/// between, which they share as they come free (what a row costs varies along a document).
/// Joining the pieces reads the run headers of the middle pieces' columns only (the first
/// piece's writer takes the others' rows, the last piece's bytes are copied unscanned).
const PIECE_ENDS: [usize; 9] = [300, 344, 388, 431, 475, 519, 563, 606, 650];

/// Whether a second core is there to write half the rows, or build half the op set (asked
/// once).
pub(crate) fn second_core() -> bool {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// The op rows one piece (or one thread alone) wrote: how many, and their arena indexes in
/// order if asked for.
struct PieceRows {
    /// The piece's position in row order.
    at: usize,
    count: u64,
    with_order: bool,
    order: Vec<u32>,
}

impl PieceRows {
    fn new(at: usize, with_order: bool) -> Self {
        PieceRows {
            at,
            count: 0,
            with_order,
            order: Vec::new(),
        }
    }

    fn record(&mut self, idx: u32) {
        self.count += 1;
        if self.with_order {
            self.order.push(idx);
        }
    }
}

/// A place in the op rows' order: before the chunk at position `chunk` of the object at
/// position `object` of [`RowPlan::objects`] (a map is one chunk, position 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    object: usize,
    chunk: usize,
}

impl Place {
    const START: Place = Place {
        object: 0,
        chunk: 0,
    };
}

/// What writing op rows in document order needs, shared by the threads that write them.
struct RowPlan<'d> {
    ops: &'d OpSet,
    /// Objects in document order.
    objects: Vec<u32>,
    /// Document actor index → position among the authors (sorted bytewise).
    actor_pos: Vec<u32>,
    /// Arena indexes that have a mark name: a bit test per op instead of a hash lookup.
    has_name: BitSet,
    /// Elements (insert ops) that have other ops on them, likewise.
    has_extra: BitSet,
    /// The number of op rows.
    op_rows: usize,
    /// For a document at earlier heads ([`Document::encode_at`]): per document actor index,
    /// the highest op counter of the changes kept (0: none); ops and successors beyond it
    /// are left out.
    keep: Option<Vec<u32>>,
}

impl<'d> RowPlan<'d> {
    fn new(doc: &'d Document) -> Self {
        Self::with_authors(doc, &authors(doc), None)
    }

    /// The plan for the authors `authors` (doc actor indexes, sorted bytewise), only the
    /// ops `keep` keeps if given.
    fn with_authors(doc: &'d Document, authors: &[u32], keep: Option<Vec<u32>>) -> Self {
        let ops = &doc.ops;
        let mut actor_pos = vec![u32::MAX; ops.actors.len()];
        for (pos, &a) in authors.iter().enumerate() {
            if let Some(p) = actor_pos.get_mut(a as usize) {
                *p = pos as u32;
            }
        }
        let mut has_name = BitSet::new(ops.ops.len());
        for &idx in ops.mark_names.keys() {
            has_name.insert(idx);
        }
        let mut has_extra = BitSet::new(ops.ops.len());
        let objects: Vec<u32> = object_order(ops).collect();
        let mut op_rows = 0;
        for object in objects.iter().filter_map(|&o| ops.objects.get(o as usize)) {
            match &object.body {
                Body::Map(map) => op_rows += map.values().map(|g| g.len()).sum::<usize>(),
                Body::Seq { index, extra } => {
                    op_rows += index.len();
                    for (&e, more) in extra {
                        has_extra.insert(e);
                        op_rows += more.len();
                    }
                }
            }
        }
        RowPlan {
            ops,
            objects,
            actor_pos,
            has_name,
            has_extra,
            op_rows,
            keep,
        }
    }

    /// The place after the last row.
    fn end(&self) -> Place {
        Place {
            object: self.objects.len(),
            chunk: 0,
        }
    }

    /// Places that cut the op rows into about `pieces` pieces of equal rows.
    #[cfg(test)]
    fn cuts(&self, pieces: usize) -> Vec<Place> {
        let pieces = pieces.max(1);
        self.cuts_at((1..pieces).map(|i| self.op_rows * i / pieces))
    }

    /// Places that cut the op rows at about `targets` rows (ascending): each at the first
    /// chunk boundary at or past its target (elements' other ops are not counted, only
    /// their insert ops), in order, none at the start or the end, none twice.
    fn cuts_at(&self, targets: impl IntoIterator<Item = usize>) -> Vec<Place> {
        let mut targets = targets.into_iter().peekable();
        let mut cuts = Vec::new();
        let mut before = 0;
        let mut cut_at = |place: Place, rows: usize, before: &mut usize| {
            if *before > 0 && targets.peek().is_some_and(|&t| *before >= t) {
                cuts.push(place);
                while targets.next_if(|&t| t <= *before).is_some() {}
            }
            *before += rows;
        };
        for (pos, object) in self
            .objects
            .iter()
            .filter_map(|&o| self.ops.objects.get(o as usize))
            .enumerate()
        {
            match &object.body {
                Body::Map(map) => {
                    let rows = map.values().map(|g| g.len()).sum();
                    cut_at(
                        Place {
                            object: pos,
                            chunk: 0,
                        },
                        rows,
                        &mut before,
                    );
                }
                Body::Seq { index, .. } => {
                    for (chunk, rows) in index.chunk_lens().enumerate() {
                        cut_at(Place { object: pos, chunk }, rows, &mut before);
                    }
                }
            }
        }
        cuts
    }

    /// The id of the object made by the op at arena index `make_op` (the root for `NONE`),
    /// in the save's actor numbers.
    fn obj_id(&self, make_op: u32) -> ObjId {
        match self.ops.ops.get(make_op as usize) {
            Some(make) if make_op != NONE => ObjId::Op(OpId::new(
                make.id.counter,
                self.actor_pos
                    .get(make.id.actor as usize)
                    .copied()
                    .unwrap_or(u32::MAX),
            )),
            _ => ObjId::Root,
        }
    }

    /// Writes the op rows from `from` to `to` in document order, calling `record` with each
    /// row's arena index. False if an op that [`RowPlan::keep`] keeps is in an object, or on
    /// an element, that it does not keep (the kept changes are not a document by
    /// themselves; such ops are not written).
    #[must_use]
    fn write_rows<'p>(
        &'p self,
        from: Place,
        to: Place,
        writer: &mut OpColumnsWriter<'p>,
        record: &mut impl FnMut(u32),
    ) -> bool {
        let ops = self.ops;
        let mut block = Block::default();
        let mut orphan = false;
        for (pos, &obj) in self.objects.iter().enumerate().skip(from.object) {
            if (Place {
                object: pos,
                chunk: 0,
            }) >= to
            {
                break;
            }
            let Some(object) = ops.objects.get(obj as usize) else {
                continue;
            };
            let lo = if pos == from.object { from.chunk } else { 0 };
            let hi = if pos == to.object {
                to.chunk
            } else {
                usize::MAX
            };
            let ctx = ObjCtx {
                ops,
                actor_pos: &self.actor_pos,
                has_name: &self.has_name,
                obj: self.obj_id(object.make_op),
                is_seq: object.kind.is_sequence(),
                keep: self.keep.as_deref(),
            };
            if let Some(keep) = ctx.keep {
                let kept = |idx: u32| {
                    ops.ops
                        .get(idx as usize)
                        .is_some_and(|op| keeps(keep, op.id))
                };
                let object_kept = object.make_op == NONE || kept(object.make_op);
                match &object.body {
                    Body::Map(map) if lo == 0 => {
                        for &idx in map.values().flatten().filter(|&&i| kept(i)) {
                            orphan |= !object_kept;
                            if object_kept {
                                record(idx);
                                block.add(idx, &ctx, writer);
                            }
                        }
                    }
                    Body::Map(_) => {}
                    Body::Seq { index, extra } => {
                        for e in index.iter_chunks(lo..hi) {
                            let element_kept = kept(e.op);
                            orphan |= element_kept && !object_kept;
                            let element_kept = element_kept && object_kept;
                            if element_kept {
                                record(e.op);
                                block.add(e.op, &ctx, writer);
                            }
                            if !self.has_extra.contains(e.op) {
                                continue;
                            }
                            for &idx in extra.get(&e.op).into_iter().flatten() {
                                if kept(idx) {
                                    orphan |= !element_kept;
                                    if element_kept {
                                        record(idx);
                                        block.add(idx, &ctx, writer);
                                    }
                                }
                            }
                        }
                    }
                }
                block.flush(&ctx, writer);
                continue;
            }
            match &object.body {
                // A map is one chunk: written by the part that starts at or before it.
                Body::Map(map) if lo == 0 => {
                    for group in map.values() {
                        for &idx in group {
                            record(idx);
                            block.add(idx, &ctx, writer);
                        }
                    }
                }
                Body::Map(_) => {}
                Body::Seq { index, extra } => {
                    for e in index.iter_chunks(lo..hi) {
                        record(e.op);
                        block.add(e.op, &ctx, writer);
                        if self.has_extra.contains(e.op)
                            && let Some(more) = extra.get(&e.op)
                        {
                            for &idx in more {
                                record(idx);
                                block.add(idx, &ctx, writer);
                            }
                        }
                    }
                }
            }
            block.flush(&ctx, writer);
        }
        !orphan
    }
}

/// An empty vector of rows that keeps `v`'s allocation (the collect reuses it in place, the
/// layouts being the same) but not its borrows.
fn recycle<'a, 'x, 'y>(mut v: Vec<DocOpRef<'a, 'x>>) -> Vec<DocOpRef<'a, 'y>> {
    v.clear();
    v.into_iter()
        .map(|r| DocOpRef {
            value: ValueRef::Null,
            succ: &[],
            ..r
        })
        .collect()
}

/// What rows of one object share.
pub(crate) struct ObjCtx<'a> {
    pub(crate) ops: &'a OpSet,
    pub(crate) actor_pos: &'a [u32],
    pub(crate) has_name: &'a BitSet,
    pub(crate) obj: ObjId,
    pub(crate) is_seq: bool,
    /// Only the successors this keeps (see [`RowPlan::keep`]), if given.
    pub(crate) keep: Option<&'a [u32]>,
}

/// Whether `keep` (per doc actor index, the highest op counter kept) keeps the op `id`.
fn keeps(keep: &[u32], id: OpId) -> bool {
    keep.get(id.actor as usize)
        .is_some_and(|&max| id.counter <= max)
}

impl ObjCtx<'_> {
    /// The element a sequence op's key names (an insert's: the element it follows), in the
    /// save's actor numbers.
    fn elem(&self, key: u32) -> ElemId {
        match self.ops.ops.get(key as usize) {
            Some(elem) if key != HEAD => ElemId::Op(self.map_id(elem.id)),
            _ => ElemId::Head,
        }
    }

    fn map_id(&self, id: OpId) -> OpId {
        OpId::new(
            id.counter,
            self.actor_pos
                .get(id.actor as usize)
                .copied()
                .unwrap_or(u32::MAX),
        )
    }
}

/// Ops of one object, gathered in blocks: the arena is read in document order (random
/// access) in two short loops (successors, then rows), then the writer encodes the block
/// column by column. (Explicit look-ahead loads were tried and made it slower.)
#[derive(Default)]
pub(crate) struct Block<'a> {
    idxs: Vec<u32>,
    succ: Vec<OpId>,
    /// Per op in `idxs`: its successors' range in `succ`.
    ranges: Vec<(u32, u32)>,
    /// The rows' buffer, empty between flushes (kept: allocating it per block made the heap
    /// shrink and grow again, each time faulting in fresh pages).
    rows: Vec<DocOpRef<'a, 'a>>,
    /// The successors of the insert run being looked at (see [`insert_run`]).
    run_succ: Vec<Option<OpId>>,
}

const BLOCK: usize = 1024;

impl<'a> Block<'a> {
    pub(crate) fn add(&mut self, idx: u32, ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        self.idxs.push(idx);
        if self.idxs.len() >= BLOCK {
            self.flush(ctx, writer);
        }
    }

    pub(crate) fn flush(&mut self, ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        if self.idxs.is_empty() {
            return;
        }
        let mut idxs = std::mem::take(&mut self.idxs);
        if ctx.is_seq {
            // Typed text is runs of inserts, each after the one before: those go to the
            // writer as runs, the ops between them as rows.
            let mut pieces = RunSplitter::default();
            while let Some(piece) =
                pieces.next(&idxs, |rest| insert_run(rest, ctx, &mut self.run_succ))
            {
                match piece {
                    Piece::Rows(r) => self.flush_rows(idxs.get(r).unwrap_or_default(), ctx, writer),
                    Piece::Run(r) => {
                        push_run(idxs.get(r).unwrap_or_default(), &self.run_succ, ctx, writer)
                    }
                }
            }
        } else {
            self.flush_rows(&idxs, ctx, writer);
        }
        idxs.clear();
        self.idxs = idxs;
    }

    /// Writes the ops `idxs` as rows.
    fn flush_rows(&mut self, idxs: &[u32], ctx: &ObjCtx<'a>, writer: &mut OpColumnsWriter<'a>) {
        if idxs.is_empty() {
            return;
        }
        let ops = ctx.ops;
        self.succ.clear();
        self.ranges.clear();
        for &idx in idxs {
            let start = self.succ.len();
            match ctx.keep {
                None => self
                    .succ
                    .extend(ops.succ_iter(idx).map(|s| ctx.map_id(ops.succ_id(s)))),
                Some(keep) => self.succ.extend(
                    ops.succ_iter(idx)
                        .map(|s| ops.succ_id(s))
                        .filter(|&id| keeps(keep, id))
                        .map(|id| ctx.map_id(id)),
                ),
            }
            let range = self.succ.get_mut(start..).unwrap_or_default();
            if range.len() > 1 {
                range.sort_unstable();
            }
            self.ranges.push((start as u32, self.succ.len() as u32));
        }
        let succ = &self.succ;
        let mut rows = recycle(std::mem::take(&mut self.rows));
        rows.extend(idxs.iter().zip(&self.ranges).map(|(&idx, &(start, end))| {
            let op = &ops.ops[idx as usize];
            let key = if ctx.is_seq {
                KeyRef::Seq(ctx.elem(op.key))
            } else {
                KeyRef::Map(ops.keys.get(op.key as usize).map_or("", |k| k))
            };
            let mark_name = if ctx.has_name.contains(idx) {
                ops.mark_names.get(&idx).map(String::as_str)
            } else {
                None
            };
            DocOpRef {
                id: ctx.map_id(op.id),
                obj: ctx.obj,
                key,
                insert: op.insert(),
                action: op.action(),
                value: ops.value_ref(&op.value),
                succ: succ.get(start as usize..end as usize).unwrap_or_default(),
                expand: op.expand(),
                mark_name,
            }
        }));
        writer.push_rows(&rows);
        self.rows = recycle(rows);
    }
}

/// Cuts a block of a sequence's ops into the runs that a writer takes whole and the rows
/// between them, in order.
#[derive(Default)]
pub(crate) struct RunSplitter {
    /// The first op not handed out yet.
    start: usize,
    /// The first op not looked at yet.
    at: usize,
    /// The length of the run found at `at`, handed out after the rows before it.
    run: Option<usize>,
}

/// A piece of a block (positions in it).
pub(crate) enum Piece {
    Rows(std::ops::Range<usize>),
    Run(std::ops::Range<usize>),
}

impl RunSplitter {
    /// The next piece of `idxs` (the same block at every call), `run_len` saying how many
    /// of the ops it is given form a run from the first (fewer than [`MIN_RUN`]: none).
    /// A run is handed out right after `run_len` found it, or after the rows before it
    /// with no call between.
    pub(crate) fn next(
        &mut self,
        idxs: &[u32],
        mut run_len: impl FnMut(&[u32]) -> usize,
    ) -> Option<Piece> {
        if let Some(n) = self.run.take() {
            return Some(self.take_run(n));
        }
        while let Some(rest) = idxs.get(self.at..).filter(|rest| !rest.is_empty()) {
            let n = run_len(rest);
            if n < MIN_RUN {
                self.at += n.max(1);
                continue;
            }
            if self.start < self.at {
                self.run = Some(n);
                return Some(Piece::Rows(self.start..self.at));
            }
            return Some(self.take_run(n));
        }
        let rows = self.start..idxs.len();
        self.start = idxs.len();
        (!rows.is_empty()).then_some(Piece::Rows(rows))
    }

    fn take_run(&mut self, n: usize) -> Piece {
        let run = self.at..self.at + n;
        self.at += n;
        self.start = self.at;
        Piece::Run(run)
    }
}

/// Ops from which a run of inserts is written as a run (a lone op is a row: a run costs
/// about fifteen appends, a row about one per column; four measured even with two).
const MIN_RUN: usize = 2;

/// How many of the first ops of `idxs` form a run that
/// [`OpColumnsWriter::push_insert_run`] writes: inserts setting a scalar, with at most one
/// successor and without mark name or expand flag, each after the one before and numbered
/// one after it by the same actor. 0 if the first op cannot start one. `succs` is left with
/// the run's successors, as [`run_succ`] gives them.
fn insert_run(idxs: &[u32], ctx: &ObjCtx<'_>, succs: &mut Vec<Option<OpId>>) -> usize {
    succs.clear();
    let ops = &ctx.ops.ops;
    let mut runs = |idx: u32, op: &Op| {
        let shape = op.insert()
            && op.action() == Action::Set
            && !op.expand()
            && !ctx.has_name.contains(idx);
        // The successor list is looked up only for an op of the run's shape.
        match shape.then(|| run_succ(ctx, op)).flatten() {
            Some(succ) => {
                succs.push(succ);
                true
            }
            None => false,
        }
    };
    let Some((&first, rest)) = idxs.split_first() else {
        return 0;
    };
    let Some(op) = ops.get(first as usize).filter(|op| runs(first, op)) else {
        return 0;
    };
    let (mut prev, mut prev_id) = (first, op.id);
    for (k, &idx) in rest.iter().enumerate() {
        let Some(op) = ops.get(idx as usize) else {
            return k + 1;
        };
        if !(op.key == prev
            && op.id.actor == prev_id.actor
            && op.id.counter == prev_id.counter.wrapping_add(1)
            && runs(idx, op))
        {
            return k + 1;
        }
        (prev, prev_id) = (idx, op.id);
    }
    idxs.len()
}

/// Writes the run `idxs` (found by [`insert_run`], with its `succs`) through
/// [`OpColumnsWriter::push_insert_run`].
fn push_run<'a>(
    idxs: &[u32],
    succs: &[Option<OpId>],
    ctx: &ObjCtx<'a>,
    writer: &mut OpColumnsWriter<'a>,
) {
    let ops = ctx.ops;
    let Some(first) = idxs.first().and_then(|&i| ops.ops.get(i as usize)) else {
        return;
    };
    let rows = idxs
        .iter()
        .filter_map(|&i| ops.ops.get(i as usize))
        .zip(succs)
        .map(|(op, &succ)| (ops.value_ref(&op.value), succ));
    writer.push_insert_run(ctx.obj, ctx.elem(first.key), ctx.map_id(first.id), rows);
}

/// The successor `op` is written with, if it has at most one: `Some(None)` for none,
/// `Some(Some(id))` for one (its id in the save's actor numbers); `None` if it has more.
/// (With [`ObjCtx::keep`], a successor it does not keep is none.)
fn run_succ(ctx: &ObjCtx<'_>, op: &Op) -> Option<Option<OpId>> {
    if op.succ == NONE {
        return Some(None);
    }
    let node = ctx.ops.succs.get(op.succ as usize)?;
    if node.next != NONE {
        return None;
    }
    let id = ctx.ops.succ_id(node.op);
    Some(match ctx.keep {
        Some(keep) if !keeps(keep, id) => None,
        _ => Some(ctx.map_id(id)),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The file a document was loaded from is kept for whole-document sync sends only while
    /// it is current: the first snapshot or save after the history grew drops it.
    #[test]
    fn a_loaded_chunk_is_dropped_once_stale() {
        let mut a = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        a.put(
            &crate::types::ROOT,
            "k",
            converge_encoding::ScalarValue::Int(1),
        )
        .unwrap();
        let file = a.save();
        for via_save in [false, true] {
            let mut doc = Document::load(&file).unwrap();
            let len = doc.history.len();
            assert_eq!(doc.loaded_chunk.get(len).as_deref(), Some(&file[..]));
            doc.put(
                &crate::types::ROOT,
                "k",
                converge_encoding::ScalarValue::Int(2),
            )
            .unwrap();
            assert!(
                doc.loaded_chunk.get(len).is_some(),
                "kept until a save or snapshot"
            );
            if via_save {
                doc.save();
            } else {
                doc.save_snapshot();
            }
            assert!(doc.loaded_chunk.get(len).is_none());
            assert!(doc.loaded_chunk.get(doc.history.len()).is_none());
        }
    }

    /// The streaming encoder writes exactly what the straightforward builder encodes: several
    /// actors, messages, marks, deletions, conflicts, a nested list and counters.
    #[test]
    fn encode_document_equals_the_built_chunk() {
        use crate::types::{ExpandMark, ObjType, ROOT};
        use converge_encoding::ScalarValue;
        let mut a = Document::with_actor(ActorId::from_bytes(&[0xbb]));
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        a.splice_text(&t, 0, 0, "héllo wörld").unwrap();
        let mut tx = a.transaction();
        tx.splice_text(&t, 2, 3, "").unwrap();
        tx.commit_with(Some("a message".to_owned()), 7).unwrap();
        a.mark(&t, 1..3, "b", ScalarValue::Bool(true), ExpandMark::Both)
            .unwrap();
        let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
        a.insert(&l, 0, ScalarValue::Counter(1)).unwrap();
        a.increment(&l, 0, 2).unwrap();
        let mut b = a.fork();
        b.set_actor(ActorId::from_bytes(&[0xaa]));
        a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        b.put(&ROOT, "k", ScalarValue::Str("two".into())).unwrap();
        b.delete(&l, 0).unwrap();
        a.merge(&b).unwrap();
        for doc in [&a, &b, &Document::new()] {
            for compress in [false, true] {
                assert_eq!(
                    doc.encode_document(compress),
                    doc.document_chunk().encode(compress)
                );
            }
        }
    }

    /// A document loaded from what a save wrote keeps the chunk's columns, and saving it
    /// again writes the same bytes without encoding; one whose chunk lists map keys out of
    /// order keeps none and saves in order. Any edit makes the next save encode again.
    #[test]
    fn loaded_columns_are_kept_only_when_they_are_what_a_save_writes() {
        use crate::types::{ExpandMark, ObjType, ROOT};
        use converge_encoding::{Key, ScalarValue};
        let mut a = Document::with_actor(ActorId::from_bytes(&[0xbb]));
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        a.splice_text(&t, 0, 0, "héllo wörld").unwrap();
        a.splice_text(&t, 2, 3, "").unwrap();
        a.mark(&t, 1..3, "b", ScalarValue::Bool(true), ExpandMark::Both)
            .unwrap();
        let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
        a.insert(&l, 0, ScalarValue::Counter(1)).unwrap();
        a.increment(&l, 0, 2).unwrap();
        a.put(&ROOT, "a", ScalarValue::F64(0.5)).unwrap();
        let mut b = a.fork();
        b.set_actor(ActorId::from_bytes(&[0xaa]));
        a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
        b.put(&ROOT, "k", ScalarValue::Str("two".into())).unwrap();
        b.delete(&l, 0).unwrap();
        a.merge(&b).unwrap();

        let bytes = a.save();
        assert!(a.saved_columns.is_some(), "a save keeps its columns");
        assert_eq!(a.save(), bytes);
        let mut loaded = Document::load(&bytes).unwrap();
        assert!(
            loaded.saved_columns.is_some(),
            "canonical chunk: columns kept"
        );
        assert_eq!(loaded.save(), bytes);
        assert_eq!(loaded.save_nocompress(), a.save_nocompress());
        loaded.put(&ROOT, "z", ScalarValue::Int(3)).unwrap();
        let mut fresh = loaded.fork();
        fresh.saved_columns = None;
        fresh.saved_chunk.clear();
        assert_eq!(loaded.save(), fresh.save());

        // The root's keys in reverse: the same document, but not laid out as a save does.
        let mut chunk = a.document_chunk();
        let mut ops = chunk.ops.to_vec();
        let root_ops = ops.iter().take_while(|op| op.obj == ObjId::Root).count();
        ops[..root_ops].sort_by(|x, y| match (&x.key, &y.key) {
            (Key::Map(p), Key::Map(q)) => q.cmp(p),
            _ => std::cmp::Ordering::Equal,
        });
        chunk.ops = ops.into();
        let shuffled = Document::load(&chunk.encode(true)).unwrap();
        assert!(
            shuffled.saved_columns.is_none(),
            "keys out of order: no columns kept"
        );
        assert_eq!(shuffled.value_tree(&ROOT), a.value_tree(&ROOT));
        assert_eq!(shuffled.save_nocompress(), a.save_nocompress());
    }

    /// Every loaded document whose chunk's columns are kept holds exactly what encoding its
    /// op set gives: the corpus documents (the largest skipped) and the `document_decode`
    /// fuzz seeds and regressions. Explicit, so it also runs in release builds, where the
    /// debug assertion on each reuse does not.
    #[test]
    fn kept_columns_of_loaded_files_equal_a_fresh_encode() {
        use converge_encoding::chunk::{ChunkType, write_chunk};
        use converge_encoding::{DocumentChunk, DocumentLimits};
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let entries = |dirs: [&'static str; 2]| {
            dirs.into_iter()
                .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
                .flat_map(|entries| entries.flatten())
        };
        let mut files: Vec<Vec<u8>> = Vec::new();
        for e in entries([
            "../shared/data/automerge-corpus/real-docs",
            "../shared/data/automerge-corpus/egwalker",
        ]) {
            let name = e.file_name().to_string_lossy().into_owned();
            let big = e.metadata().map_or(true, |m| m.len() > 2_000_000);
            if !big && (name.ends_with(".am") || name.ends_with(".amrg")) {
                files.extend(std::fs::read(e.path()));
            }
        }
        let limits = DocumentLimits {
            max_inflated_bytes: 1 << 20,
            max_rows: 1 << 16,
        };
        for e in entries([
            "fuzz/seeds/document_decode",
            "fuzz/regressions/document_decode",
        ]) {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            if DocumentChunk::decode_data(&data, limits).is_ok() {
                let mut chunk = Vec::new();
                write_chunk(&mut chunk, ChunkType::Document, &data);
                files.push(chunk);
            }
        }
        let mut kept = 0;
        for bytes in &files {
            let Ok(doc) = Document::load(bytes) else {
                continue;
            };
            if let Some((len, columns)) = &doc.saved_columns
                && *len == doc.history.len()
            {
                assert!(**columns == doc.encode_columns());
                kept += 1;
            }
        }
        assert!(kept > 5, "only {kept} loaded documents kept their columns");
        println!(
            "{kept} of {} loaded documents kept their columns",
            files.len()
        );
    }

    /// Two actors' concurrent edits of every kind: a text of a few thousand characters (many
    /// index chunks) typed at random places, with deletions and marks; a list of counters
    /// with increments (elements with other ops) and nested texts; map keys in conflict;
    /// nested maps; messages.
    pub(crate) fn mixed_document(seed: u64, steps: usize) -> Document {
        use crate::types::{ExpandMark, ObjType, ROOT};
        use converge_encoding::ScalarValue;
        let mut seed = seed | 1;
        let mut rng = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut a = Document::with_actor(ActorId::from_bytes(&[0x70]));
        let t = a.put_object(&ROOT, "text", ObjType::Text).unwrap();
        let l = a.put_object(&ROOT, "list", ObjType::List).unwrap();
        let m = a.put_object(&ROOT, "map", ObjType::Map).unwrap();
        for i in 0..6 {
            a.insert(&l, i, ScalarValue::Counter(i as i64)).unwrap();
        }
        let mut b = a.fork();
        b.set_actor(ActorId::from_bytes(&[0x07]));
        for step in 0..steps {
            let doc = if rng() % 2 == 0 { &mut a } else { &mut b };
            let len = doc.length(&t).unwrap();
            match rng() % 10 {
                0..=4 => {
                    let at = (rng() as usize) % (len + 1);
                    doc.splice_text(&t, at, 0, ["x", "é", "ab", "日本"][step % 4])
                        .unwrap();
                }
                5 if len > 3 => {
                    let at = (rng() as usize) % (len - 2);
                    doc.splice_text(&t, at, 2, "").unwrap();
                }
                6 => {
                    let n = doc.length(&l).unwrap();
                    // Not every item is a counter.
                    let _ = doc.increment(&l, (rng() as usize) % n, 3);
                }
                7 => {
                    // Now and then a key of many, so that the map outgrows a small `KeyMap`.
                    let k = match rng() % 4 {
                        0 => format!("w{}", rng() % 40),
                        r => ["a", "k", "z"][r as usize - 1].to_owned(),
                    };
                    doc.put(&m, &*k, ScalarValue::Int(step as i64)).unwrap();
                    let o = doc.put_object(&m, "nested", ObjType::Map).unwrap();
                    doc.put(&o, "x", ScalarValue::Null).unwrap();
                }
                8 if len > 4 => {
                    let at = (rng() as usize) % (len - 3);
                    doc.mark(
                        &t,
                        at..at + 3,
                        "bold",
                        ScalarValue::Bool(true),
                        ExpandMark::After,
                    )
                    .unwrap();
                }
                _ => {
                    let n = doc.length(&l).unwrap();
                    let o = doc
                        .insert_object(&l, (rng() as usize) % (n + 1), ObjType::Text)
                        .unwrap();
                    let mut tx = doc.transaction();
                    tx.splice_text(&o, 0, 0, "in").unwrap();
                    tx.commit_with(Some("nested".to_owned()), step as i64)
                        .unwrap();
                }
            }
            if rng() % 50 == 0 {
                a.merge(&b).unwrap();
                b.merge(&a).unwrap();
            }
        }
        a.merge(&b).unwrap();
        a
    }

    /// A rebuild's sink that keeps the hashes only.
    struct Hashes(Vec<converge_encoding::ChangeHash>);

    impl converge_encoding::RebuiltChunkSink for Hashes {
        fn push(&mut self, chunk: converge_encoding::RebuiltChunk<'_>) {
            self.0.push(chunk.hash);
        }
        fn hash(&self, index: usize) -> Option<converge_encoding::ChangeHash> {
            self.0.get(index).copied()
        }
    }

    /// Everything of an op set a build makes, in a form that does not depend on hash map
    /// order.
    fn built_op_set(set: &OpSet) -> String {
        use crate::opset::Body;
        use std::fmt::Write;
        let mut out = String::new();
        let ops: Vec<_> = set.ops.iter().collect();
        let _ = write!(out, "{ops:?}\n{:?}\n{:?}\n", set.dels, set.succs);
        for o in &set.objects {
            let _ = write!(out, "{:?} {} ", o.kind, o.make_op);
            match &o.body {
                Body::Map(map) => {
                    let _ = writeln!(out, "{map:?}");
                }
                Body::Seq { index, extra } => {
                    let mut extra: Vec<_> = extra.iter().collect();
                    extra.sort();
                    let _ = writeln!(out, "{index:?} {extra:?}");
                }
            }
        }
        let mut marks: Vec<_> = set.mark_names.iter().collect();
        marks.sort();
        let _ = write!(
            out,
            "{:?}\n{:?}\n{marks:?}\n{:?}\n{} {} {:?}",
            set.keys, set.bytes, set.by_actor, set.max_op, set.has_marks, set.actors
        );
        out
    }

    /// The op set built after the change rebuild on two threads (the rows cut between two
    /// objects, the later part built apart and joined) is the one built on one thread, on
    /// the corpus documents (the largest skipped) and random documents of every kind of op
    /// (marks, counters, nested objects, long strings and wide numbers in the byte arena).
    #[test]
    fn a_build_in_two_equals_the_one_thread_build() {
        use crate::load::{build_after_rebuild, build_in_two};
        use crate::types::{ObjType, ROOT, TextEncoding};
        use converge_encoding::chunk::{ChunkType, split_chunks};
        use converge_encoding::{DocumentChunk, HeadsCheck, ObjId, OpId, ScalarValue};
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut chunks: Vec<DocumentChunk> = Vec::new();
        for dir in [
            "../shared/data/automerge-corpus/real-docs",
            "../shared/data/automerge-corpus/egwalker",
        ] {
            for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                if e.metadata().map_or(true, |m| m.len() > 2_000_000) {
                    continue;
                }
                let bytes = std::fs::read(e.path()).unwrap();
                chunks.extend(
                    split_chunks(&bytes)
                        .map_while(Result::ok)
                        .filter(|c| c.chunk_type() == ChunkType::Document)
                        .filter_map(|c| DocumentChunk::decode(c.bytes()).ok()),
                );
            }
        }
        for seed in [3, 5, 8, 13, 21] {
            let mut doc = mixed_document(seed, 300);
            // Values that live in the byte arena.
            let l = doc.put_object(&ROOT, "big", ObjType::List).unwrap();
            for (i, v) in [
                ScalarValue::Uint(u64::MAX),
                ScalarValue::Int(i64::MIN),
                ScalarValue::F64(0.1),
                ScalarValue::Str("a string longer than a small one".into()),
                ScalarValue::Bytes(vec![7; 70_000]),
            ]
            .into_iter()
            .enumerate()
            {
                doc.insert(&l, i, v).unwrap();
            }
            doc.put(&ROOT, "long", ScalarValue::Str("é".repeat(40_000)))
                .unwrap();
            chunks.push(doc.document_chunk());
        }
        let (mut compared, mut split) = (0, 0);
        for chunk in chunks {
            let Ok((stats, rows)) =
                chunk.reconstruct_each_chunk_with_rows(HeadsCheck::Check, &mut Hashes(Vec::new()))
            else {
                continue;
            };
            let n = chunk.ops.len();
            let encoding = TextEncoding::default();
            let one = Document::build(
                encoding,
                &chunk.actors,
                chunk.ops.blocks(),
                n,
                &stats,
                Some(std::sync::Arc::new(rows.clone())),
            );
            let one = one.map(|(set, in_order)| (built_op_set(&set), in_order));
            let built = |two: Option<(OpSet, bool)>, cut: Option<(usize, _)>| match (&one, two) {
                (Some((one, one_in_order)), Some((two, two_in_order))) => {
                    assert_eq!(*one_in_order, two_in_order);
                    assert!(*one == built_op_set(&two), "cut at {cut:?}");
                }
                (one, two) => assert_eq!(one.is_some(), two.is_some()),
            };
            // Cut where the load cuts, and at (up to) 12 other object boundaries (of the
            // chunks of 300K ops or fewer).
            let cut = crate::load::object_cut(&chunk.ops);
            let obj_of = |op: converge_encoding::DocOpRef<'_, '_>| match op.obj {
                ObjId::Root => None,
                ObjId::Op(o) => Some(o),
            };
            let boundaries: Vec<(usize, Option<OpId>)> = (1..n)
                .filter_map(|k| {
                    let this = obj_of(chunk.ops.get(k)?);
                    (this != obj_of(chunk.ops.get(k - 1)?)).then_some((k, this))
                })
                .collect();
            let step = boundaries.len().div_ceil(12).max(1);
            let sampled = if n <= 300_000 { boundaries.len() } else { 0 };
            for &at in boundaries.iter().take(sampled).step_by(step) {
                let rows = std::sync::Arc::new(rows.clone());
                let two =
                    build_in_two(encoding, &chunk.actors, chunk.ops.clone(), &stats, rows, at);
                built(two, Some(at));
                split += 1;
            }
            built(
                build_after_rebuild(encoding, &chunk.actors, chunk.ops, &stats, Some(rows)),
                cut,
            );
            compared += 1;
        }
        assert!(
            compared >= 15 && split >= 60,
            "{compared} compared, {split} cuts"
        );
    }

    /// The op set a load builds beside the change rebuild, from id statistics it reads off
    /// the decoded ops itself, is the one built after the rebuild from the rebuild's.
    #[test]
    fn a_build_beside_the_rebuild_equals_one_after_it() {
        use crate::load::id_stats;
        use converge_encoding::HeadsCheck;
        for seed in [1, 7, 42, 99] {
            let doc = mixed_document(seed, 400);
            let chunk = doc.document_chunk();
            let rebuilt = chunk
                .reconstruct_each_chunk(HeadsCheck::Check, &mut Hashes(Vec::new()))
                .unwrap();
            let own = id_stats(&chunk.ops, chunk.actors.len());
            assert_eq!(own.succ_ids, rebuilt.succ_ids);
            let n = chunk.ops.len();
            let encoding = doc.ops.encoding;
            let (after, after_in_order) = Document::build(
                encoding,
                &chunk.actors,
                chunk.ops.blocks(),
                n,
                &rebuilt,
                None,
            )
            .unwrap();
            let (beside, beside_in_order) =
                Document::build(encoding, &chunk.actors, chunk.ops.blocks(), n, &own, None)
                    .unwrap();
            // With the rebuild's table of where each op is, nothing is placed again.
            let (with_stats, rows) = chunk
                .reconstruct_each_chunk_with_rows(HeadsCheck::Check, &mut Hashes(Vec::new()))
                .unwrap();
            assert_eq!(with_stats, rebuilt);
            let (placed, placed_in_order) = Document::build(
                encoding,
                &chunk.actors,
                chunk.ops.blocks(),
                n,
                &own,
                Some(std::sync::Arc::new(rows)),
            )
            .unwrap();
            assert_eq!(after_in_order, beside_in_order);
            assert_eq!(after_in_order, placed_in_order);
            assert!(after_in_order, "a save lists ops in our order");
            for other in [&beside, &placed] {
                assert_eq!(format!("{:?}", after.ops), format!("{:?}", other.ops));
                assert_eq!(format!("{:?}", after.succs), format!("{:?}", other.succs));
                assert_eq!(format!("{:?}", after.dels), format!("{:?}", other.dels));
                assert_eq!(
                    format!("{:?}", after.by_actor),
                    format!("{:?}", other.by_actor)
                );
                assert_eq!(after.max_op, other.max_op);
            }
        }
    }

    /// The pieces of a block are the block in order: runs exactly where `run_len` found
    /// them (of at least `MIN_RUN` ops), rows between them, never two row pieces in a row.
    #[test]
    fn run_splitter_pieces_are_the_block() {
        let mut seed = 0x1234_5678_9abc_def1_u64;
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let idxs: Vec<u32> = (0..len as u32).collect();
            // Op k starts a run of `(k * seed >> 7) % 5` ops (cut at the block's end).
            let run_len = |rest: &[u32]| {
                let k = u64::from(rest[0]);
                ((k.wrapping_mul(seed) >> 7) % 5).min(rest.len() as u64) as usize
            };
            let mut pieces = RunSplitter::default();
            let (mut next, mut rows_before) = (0, false);
            while let Some(piece) = pieces.next(&idxs, run_len) {
                match piece {
                    Piece::Rows(r) => {
                        assert!(!rows_before && r.start == next && !r.is_empty());
                        next = r.end;
                        rows_before = true;
                    }
                    Piece::Run(r) => {
                        assert_eq!(r.start, next);
                        assert!(r.len() >= MIN_RUN);
                        assert_eq!(r.len(), run_len(&idxs[r.start..]));
                        next = r.end;
                        rows_before = false;
                    }
                }
            }
            assert_eq!(next, len);
        }
    }

    /// Wherever the op rows are cut, and however many pieces, the two threads write the
    /// columns (and list the rows) one thread writes.
    #[test]
    fn cut_encodes_equal_the_one_thread_encode() {
        for seed in [1, 0x5eed] {
            let doc = mixed_document(seed, 1500);
            let plan = RowPlan::new(&doc);
            assert!(
                plan.cuts(64).len() > 20,
                "few chunks: {}",
                plan.cuts(64).len()
            );
            let (one, n, one_order) = doc.encode_columns_cut(&plan, &[], true);
            let one_order: Vec<u32> = one_order.concat();
            assert_eq!(n as usize, plan.op_rows);
            assert_eq!(one_order.len(), plan.op_rows);
            let places = all_places(&doc, &plan);
            let mut cut_sets: Vec<Vec<Place>> = places.iter().map(|&p| vec![p]).collect();
            cut_sets.extend([2, 3, 12, 64].map(|k| plan.cuts(k)));
            // The cuts a save makes.
            cut_sets.push(plan.cuts_at(PIECE_ENDS.iter().map(|&p| plan.op_rows * p / 1000)));
            cut_sets.push(places.clone());
            cut_sets.push(places.iter().copied().step_by(3).collect());
            for cuts in &cut_sets {
                let (two, m, order) = doc.encode_columns_cut(&plan, cuts, true);
                assert!(two == one, "columns differ, cuts {cuts:?}");
                assert_eq!(
                    (m, order.concat()),
                    (n, one_order.clone()),
                    "rows differ, cuts {cuts:?}"
                );
                let (two, m, order) = doc.encode_columns_cut(&plan, cuts, false);
                assert!(
                    two == one && m == n,
                    "columns differ, cuts {cuts:?}, no rows"
                );
                assert!(order.iter().all(Vec::is_empty));
            }
        }
    }

    /// Every place a cut can go in `doc`, in order, the end included.
    fn all_places(doc: &Document, plan: &RowPlan<'_>) -> Vec<Place> {
        let mut places = Vec::new();
        for (pos, &o) in plan.objects.iter().enumerate() {
            match &doc.ops.objects[o as usize].body {
                Body::Map(_) => places.push(Place {
                    object: pos,
                    chunk: 0,
                }),
                Body::Seq { index, .. } => places.extend(
                    (0..index.chunk_lens().count()).map(|chunk| Place { object: pos, chunk }),
                ),
            }
        }
        places.push(plan.end());
        places
    }

    quickcheck::quickcheck! {
        /// A random document cut at random places (any number, repeats and the ends
        /// included) encodes to the one-thread columns and rows.
        fn any_cuts_give_the_one_thread_columns(seed: u64, picks: Vec<u16>) -> bool {
            let doc = mixed_document(seed, 700);
            let plan = RowPlan::new(&doc);
            let places = all_places(&doc, &plan);
            let mut cuts: Vec<Place> = picks
                .iter()
                .map(|&p| places[usize::from(p) % places.len()])
                .collect();
            cuts.sort_unstable();
            let (one, n, one_order) = doc.encode_columns_cut(&plan, &[], true);
            let (two, m, order) = doc.encode_columns_cut(&plan, &cuts, true);
            two == one && m == n && order.concat() == one_order.concat()
        }
    }
}
