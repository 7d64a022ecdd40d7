//! Transactions run in a closure (automerge 0.12's `transact` / `transact_with`): committed if
//! the closure returns `Ok`, rolled back if it returns `Err`.

use converge_encoding::ChangeHash;

use crate::doc::Document;
use crate::error::DocError;
use crate::transaction::Transaction;

/// What [`Document::transact`] gives back when the closure returned `Ok` and its edits were
/// committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed<O> {
    /// What the closure returned.
    pub result: O,
    /// The change the edits made; `None` if the closure made none.
    pub hash: Option<ChangeHash>,
}

/// What [`Document::transact`] gives back when the closure returned `Err` (or the commit
/// failed) and its edits were rolled back: the document is as it was before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolledBack<E> {
    /// The closure's error, or the commit's converted with `From<DocError>`.
    pub error: E,
    /// How many ops were undone.
    pub cancelled: usize,
}

/// The message and time of the change [`Document::transact_with`] commits (automerge 0.12's
/// `CommitOptions`): no message and time 0 unless set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// The change's message.
    pub message: Option<String>,
    /// The change's time (milliseconds since the epoch by convention).
    pub time: i64,
}

impl CommitOptions {
    /// No message, time 0.
    pub fn new() -> Self {
        CommitOptions::default()
    }

    /// With this message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// With this time.
    #[must_use]
    pub fn with_time(mut self, time: i64) -> Self {
        self.time = time;
        self
    }
}

impl Document {
    /// Runs `edits` in a transaction: if it returns `Ok`, its edits are committed as one
    /// change (no message, time 0); if it returns `Err`, they are rolled back and the
    /// document is as it was. automerge 0.12's `transact`. A commit that fails (a change
    /// that cannot be encoded) rolls back too, its error converted into `E`.
    ///
    /// ```
    /// use converge_doc::{DocError, Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let done = doc.transact(|tx| {
    ///     let text = tx.put_object(&ROOT, "notes", ObjType::Text)?;
    ///     tx.splice_text(&text, 0, 0, "hello")?;
    ///     Ok::<_, DocError>(text)
    /// })?;
    /// assert_eq!(doc.text(&done.result)?, "hello");
    /// assert_eq!(doc.heads(), [done.hash.unwrap()]);
    ///
    /// // An error rolls the edits back.
    /// let failed = doc.transact(|tx| {
    ///     tx.put(&ROOT, "draft", true)?;
    ///     tx.splice_text(&done.result, 99, 0, "!")?; // past the end
    ///     Ok::<_, DocError>(())
    /// });
    /// let rolled_back = failed.unwrap_err();
    /// assert_eq!(rolled_back.cancelled, 1);
    /// assert!(matches!(rolled_back.error, DocError::IndexOutOfBounds { .. }));
    /// assert!(doc.get(&ROOT, "draft")?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transact<O, E>(
        &mut self,
        edits: impl FnOnce(&mut Transaction<'_>) -> Result<O, E>,
    ) -> Result<Committed<O>, RolledBack<E>>
    where
        E: From<DocError>,
    {
        self.transact_with(|_| CommitOptions::new(), edits)
    }

    /// [`Document::transact`], the change's message and time given by `options` from what
    /// the closure returned (automerge 0.12's `transact_with`).
    ///
    /// ```
    /// use converge_doc::{CommitOptions, DocError, Document, ROOT};
    /// let mut doc = Document::new();
    /// let done = doc.transact_with(
    ///     |n: &i64| CommitOptions::new().with_message(format!("set {n}")).with_time(1_700_000_000_000),
    ///     |tx| {
    ///         tx.put(&ROOT, "n", 7i64)?;
    ///         Ok::<_, DocError>(7)
    ///     },
    /// )?;
    /// let change = doc.get_change_by_hash(&done.hash.unwrap()).unwrap();
    /// assert_eq!(change.message(), Some("set 7"));
    /// assert_eq!(change.time(), 1_700_000_000_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transact_with<O, E>(
        &mut self,
        options: impl FnOnce(&O) -> CommitOptions,
        edits: impl FnOnce(&mut Transaction<'_>) -> Result<O, E>,
    ) -> Result<Committed<O>, RolledBack<E>>
    where
        E: From<DocError>,
    {
        let mut tx = self.transaction();
        match edits(&mut tx) {
            Ok(result) => {
                let CommitOptions { message, time } = options(&result);
                let pending = tx.pending_ops();
                match tx.commit_with(message, time) {
                    Ok(hash) => Ok(Committed { result, hash }),
                    Err(e) => Err(RolledBack {
                        error: E::from(e),
                        cancelled: pending,
                    }),
                }
            }
            Err(error) => Err(RolledBack {
                error,
                cancelled: tx.rollback(),
            }),
        }
    }
}

impl<E: std::fmt::Display> std::fmt::Display for RolledBack<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "transaction rolled back ({} ops undone): {}",
            self.cancelled, self.error
        )
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RolledBack<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
