//! [`IsolatedTransaction`]: a transaction at earlier heads (automerge 0.12's
//! `Automerge::transaction_at`), made of an isolated [`AutoCommit`] around the document.

use converge_encoding::ChangeHash;

use crate::autocommit::AutoCommit;
use crate::doc::Document;
use crate::error::DocError;
use crate::transaction::Transaction;

/// Edits made at earlier heads, which become one change on them ([`Document::transaction_at`]).
///
/// Reads see the document as it was at those heads plus the edits (reads at heads, the
/// whole document); the change depends on the heads only, is made by the document's actor or
/// by one derived from it as automerge 0.12 derives it, and is applied to the whole document
/// on [`IsolatedTransaction::commit`] as a concurrent change would be. See
/// [`AutoCommit::isolate`], which this is, for one transaction, and for where converge
/// differs from automerge on purpose. Dropping it without committing rolls the edits back.
///
/// ```
/// use converge_doc::{Document, ROOT, Value};
/// let mut doc = Document::new();
/// doc.put(&ROOT, "title", "draft")?;
/// let draft = doc.heads();
/// doc.put(&ROOT, "title", "final")?;
/// let mut tx = doc.transaction_at(&draft)?;
/// assert_eq!(tx.get(&ROOT, "title")?.map(|v| v.value), Some(Value::Scalar("draft".into())));
/// tx.put(&ROOT, "note", "beside the draft")?;
/// let hash = tx.commit()?.expect("one edit");
/// assert_eq!(doc.get_change_by_hash(&hash).expect("applied").deps(), &draft[..]);
/// assert_eq!(doc.heads().len(), 2);
/// # Ok::<(), converge_doc::DocError>(())
/// ```
#[derive(Debug)]
pub struct IsolatedTransaction<'a> {
    /// Where the document goes back when the transaction ends (it is in `auto` meanwhile;
    /// an empty document holds its place).
    slot: &'a mut Document,
    auto: AutoCommit,
}

impl Document {
    /// Starts a transaction at `heads` (automerge 0.12's `transaction_at`): an
    /// [`IsolatedTransaction`]. Fails if a head is not a change of the document
    /// ([`DocError::UnknownChange`]), leaving it as it was.
    pub fn transaction_at(
        &mut self,
        heads: &[ChangeHash],
    ) -> Result<IsolatedTransaction<'_>, DocError> {
        let mut auto = AutoCommit::from(std::mem::take(self));
        match auto.isolate(heads) {
            Ok(()) => Ok(IsolatedTransaction { slot: self, auto }),
            Err(e) => {
                *self = auto.into_document();
                Err(e)
            }
        }
    }
}

impl Drop for IsolatedTransaction<'_> {
    fn drop(&mut self) {
        // Not committed: the edits are rolled back and the document goes back.
        self.auto.rollback();
        let auto = std::mem::take(&mut self.auto);
        *self.slot = auto.into_document();
    }
}

impl IsolatedTransaction<'_> {
    doc_reads!(read_now, read_at, auto);

    doc_edits!(run, "in the isolated change");

    fn read_now(&self, obj: &crate::ExId) -> crate::doc_reads::ReadAt<'_> {
        self.auto.read_now(obj)
    }

    fn read_at<'h>(
        &'h self,
        obj: &crate::ExId,
        heads: &'h [ChangeHash],
    ) -> Result<(&'h Document, &'h [ChangeHash]), DocError> {
        self.auto.read_at(obj, heads)
    }

    fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, DocError>,
    ) -> Result<T, DocError> {
        self.auto.edit(f)
    }

    /// The heads the edits are made at (sorted as given, without repeats).
    pub fn heads(&self) -> &[ChangeHash] {
        self.auto.isolation_heads()
    }

    /// The number of pending ops.
    pub fn pending_ops(&self) -> usize {
        self.auto.pending_ops()
    }

    /// Commits the edits as one change on the heads, with no message and time 0, and applies
    /// it to the document; `None` if there were none.
    pub fn commit(self) -> Result<Option<ChangeHash>, DocError> {
        self.commit_with(None, 0)
    }

    /// [`IsolatedTransaction::commit`] with a message and a time.
    pub fn commit_with(
        mut self,
        message: Option<String>,
        time: i64,
    ) -> Result<Option<ChangeHash>, DocError> {
        // The document goes back when `self` drops, after this (nothing is left to roll back).
        self.auto.commit_with(message, time)
    }

    /// Undoes the edits; returns how many ops were undone.
    pub fn rollback(mut self) -> usize {
        self.auto.rollback()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use crate::types::{ROOT, Value};
    use crate::{DocError, Document};
    use converge_encoding::{ActorId, ChangeHash};

    fn doc() -> Document {
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        doc.put(&ROOT, "n", 1i64).unwrap();
        doc.put(&ROOT, "n", 2i64).unwrap();
        doc
    }

    #[test]
    fn an_unknown_head_an_uncommitted_drop_and_a_rollback_leave_the_document_as_it_was() {
        let mut doc = doc();
        let before = doc.save();
        let actor = doc.actor().clone();
        assert!(matches!(
            doc.transaction_at(&[ChangeHash([3; 32])]),
            Err(DocError::UnknownChange { .. })
        ));
        assert_eq!(doc.save(), before);
        let first = doc.get_changes(&[])[0].hash();
        {
            let mut tx = doc.transaction_at(&[first]).unwrap();
            tx.put(&ROOT, "m", 3i64).unwrap();
            assert_eq!(tx.pending_ops(), 1);
            assert_eq!(tx.heads(), &[first]);
        }
        assert_eq!(doc.save(), before);
        let mut tx = doc.transaction_at(&[first]).unwrap();
        tx.put(&ROOT, "m", 3i64).unwrap();
        assert_eq!(tx.rollback(), 1);
        assert_eq!(doc.save(), before);
        assert_eq!(doc.actor(), &actor);
        // Nothing to commit: no change.
        let tx = doc.transaction_at(&[first]).unwrap();
        assert_eq!(tx.commit().unwrap(), None);
        assert_eq!(doc.save(), before);
    }

    #[test]
    fn a_committed_transaction_at_heads_is_a_concurrent_change_of_the_document() {
        let mut doc = doc();
        let first = doc.get_changes(&[])[0].hash();
        let mut tx = doc.transaction_at(&[first]).unwrap();
        assert_eq!(
            tx.get(&ROOT, "n").unwrap().map(|v| v.value),
            Some(Value::Scalar(1i64.into()))
        );
        tx.put(&ROOT, "n", 5i64).unwrap();
        let hash = tx.commit_with(Some("at first".into()), 7).unwrap().unwrap();
        let change = doc.get_change_by_hash(&hash).unwrap();
        assert_eq!(change.deps(), &[first][..]);
        assert_eq!(change.message(), Some("at first"));
        // Made by an actor derived from the document's, whose last change is beyond `first`.
        assert_ne!(change.actor(), doc.actor());
        assert!(change.actor().as_bytes().ends_with(doc.actor().as_bytes()));
        // Two concurrent values of "n" now.
        assert_eq!(doc.get_all(&ROOT, "n").unwrap().len(), 2);
        assert_eq!(doc.heads().len(), 2);
        let loaded = Document::load(&doc.save()).unwrap();
        assert_eq!(loaded.get_all(&ROOT, "n").unwrap().len(), 2);
    }
}
