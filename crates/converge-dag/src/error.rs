//! The one error type of this crate.

use converge_encoding::{ActorId, ChangeHash};

/// Why a change could not be inserted into a [`ChangeGraph`](crate::ChangeGraph).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DagError {
    /// The change's (actor, seq) is already taken, by an applied change (any seq up to the
    /// actor's latest counts as taken, including 0) or by a different queued or batched change.
    /// The reference's `DuplicateSeqNumber`.
    #[error("change {hash} reuses seq {seq} of actor {actor}")]
    DuplicateSeq {
        /// The change's actor.
        actor: ActorId,
        /// The seq it reuses.
        seq: u64,
        /// The rejected change.
        hash: ChangeHash,
    },
    /// [`ChangeGraph::push_ready`](crate::ChangeGraph::push_ready) was given a change that
    /// is not ready to append as it is.
    #[error("change {hash} cannot be appended: {reason}")]
    NotReady {
        /// The change.
        hash: ChangeHash,
        /// Why.
        reason: &'static str,
    },
    /// The graph and queue together would exceed the dense index space (`u32`) for changes or
    /// dependency edges.
    #[error("too many {what}: {count} exceeds the limit {limit}")]
    CapacityExceeded {
        /// "changes" or "dependency edges".
        what: &'static str,
        /// How many there would be.
        count: u64,
        /// The limit.
        limit: u64,
    },
}
