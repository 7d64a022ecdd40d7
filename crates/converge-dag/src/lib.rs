//! # converge-dag
//!
//! The hash graph of a document's changes: which changes exist, how they depend on each other,
//! and the queries the document and the sync protocol ask of it (spec
//! `shared/spec/sync.md` §3 and §5).
//!
//! - [`ChangeGraph`] stores applied changes compactly (dense [`ChangeIdx`] indexes, each hash
//!   once, deps as `u32` edges or, for a single dep on the change before, a bit; small
//!   per-change numbers in narrow columns; seqs implied by each actor's change list) in
//!   insertion order, which is topological, and keeps a causal queue of changes whose deps
//!   have not all arrived.
//! - Queries: [`ChangeGraph::heads`], [`ChangeGraph::missing_deps`],
//!   [`ChangeGraph::changes_since`] (the reference's per-actor clock rule),
//!   [`ChangeGraph::not_ancestors_of`], [`ChangeGraph::is_ancestor`],
//!   [`ChangeGraph::clock_at`], [`ChangeGraph::ancestry`], and automerge 0.12's
//!   experimental cut of a history into [`Fragment`]s ([`ChangeGraph::fragments`],
//!   [`ChangeGraph::fragment`], worked out when first asked for and kept). None of them
//!   recurses.
//!
//! The graph knows only change metadata ([`ChangeMeta`]); it never sees change bytes.
//!
//! ```
//! use converge_dag::{ChangeGraph, ChangeMeta};
//! use converge_encoding::{ActorId, ChangeHash};
//! let actor = ActorId::from_bytes(&[0xaa]);
//! let meta = |n: u8, seq: u64, deps: Vec<ChangeHash>| ChangeMeta {
//!     hash: ChangeHash([n; 32]),
//!     actor: actor.clone(),
//!     seq,
//!     start_op: seq,
//!     max_op: seq,
//!     deps,
//! };
//! let mut graph = ChangeGraph::new();
//! // The second change arrives first: it is parked until its dependency arrives.
//! assert!(graph.insert(meta(2, 2, vec![ChangeHash([1; 32])])).unwrap().is_empty());
//! assert_eq!(graph.missing_deps(&[]), [ChangeHash([1; 32])]);
//! assert_eq!(graph.insert(meta(1, 1, vec![])).unwrap().len(), 2);
//! assert_eq!(graph.heads().collect::<Vec<_>>(), [ChangeHash([2; 32])]);
//! assert_eq!(graph.hashes_since(&[ChangeHash([1; 32])]), [ChangeHash([2; 32])]);
//! ```
// Inserted metadata comes from untrusted peers: no panics, unchecked indexing or unwraps.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod error;
mod graph;
mod hash_index;
mod heads;
mod narrow;
mod queue;

/// A xorshift generator for the unit tests' random scripts (deterministic, no dependency).
#[cfg(test)]
fn test_rng(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

pub use error::DagError;
pub use graph::{
    ActorIdx, Ancestry, Applied, AsChangeMeta, ChangeGraph, ChangeIdx, ChangeMeta, ChangeMetaRef,
    ChangeRef, Clock, Fragment, GraphMark, QueueSnapshot, SeqCursor, fragment_level,
};
