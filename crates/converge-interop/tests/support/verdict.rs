//! Load verdicts: what the oracle (`automerge::Automerge::load`) and converge's encoding +
//! change-graph layers make of a file (any concatenation of chunks), as comparable values.
//!
//! Include with `mod support;` and `#[path = "support/verdict.rs"] mod verdict;` (it is not
//! part of `support`, whose generator drives only the oracle). Both loaders run under
//! `support::quietly`, so a panic becomes [`Verdict::Panic`] instead of aborting the test.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fmt;

use bytes::Bytes;
use converge_dag::{ChangeGraph, ChangeMeta};
use converge_encoding::chunk::{ChunkType, split_chunks};
use converge_encoding::{Change, ChangeHash, DocumentChunk};

use crate::support::{panic_message, quietly};

/// What loading a file gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A document: its sorted heads and the set of its change hashes.
    Loaded {
        heads: Vec<[u8; 32]>,
        changes: BTreeSet<[u8; 32]>,
    },
    /// A refusal, with the loader's message.
    Error(String),
    /// The loader panicked, with the panic message.
    Panic(String),
}

impl Verdict {
    pub(crate) fn agrees_with(&self, other: &Verdict) -> bool {
        match (self, other) {
            (Verdict::Error(_), Verdict::Error(_)) => true,
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Loaded { heads, changes } => {
                write!(
                    f,
                    "ok: {} head(s), {} change(s)",
                    heads.len(),
                    changes.len()
                )
            }
            Verdict::Error(e) => write!(f, "error: {e}"),
            Verdict::Panic(e) => write!(f, "PANIC: {e}"),
        }
    }
}

/// The oracle's verdict.
pub(crate) fn oracle_verdict(bytes: &[u8]) -> Verdict {
    match quietly(|| automerge::Automerge::load(bytes)) {
        Ok(Ok(doc)) => Verdict::Loaded {
            heads: doc.get_heads().iter().map(|h| h.0).collect(),
            changes: doc.get_changes_meta(&[]).iter().map(|m| m.hash.0).collect(),
        },
        Ok(Err(e)) => Verdict::Error(e.to_string()),
        Err(payload) => Verdict::Panic(panic_message(&*payload)),
    }
}

/// Our verdict, computed the way the reference's `load` works (format.md §10).
///
/// A file the graph accepts is then loaded as a [`converge_doc::Document`] too, for the
/// document layer's author rules (a second author for an actor, an author on a later
/// change), which the reference applies as it loads changes: refused there, refused here.
/// The document layer's other refusals (unknown objects, preds and elements, op shapes that
/// do not fit their object) are not verdicts: automerge 0.12 loads such changes, and
/// converge refuses them by design (issue 4: an invalid change is rejected).
pub(crate) fn our_verdict(bytes: &[u8]) -> Verdict {
    our_verdict_and_refusal(bytes).0
}

/// [`our_verdict`], and the document layer's refusal of a file the verdict loads (a refusal
/// by design, see there), if it refused it: the `DocError` variant's name.
pub(crate) fn our_verdict_and_refusal(bytes: &[u8]) -> (Verdict, Option<String>) {
    let mut refusal = None;
    let loaded = || {
        let graph = our_load(bytes)?;
        match converge_doc::Document::load(bytes) {
            Err(
                e @ (converge_doc::DocError::DuplicateAuthor { .. }
                | converge_doc::DocError::AuthorAfterFirstChange { .. }),
            ) => return Err(format!("document: {e}")),
            Err(e) => {
                let debug = format!("{e:?}");
                refusal = debug.split([' ', '{', '(']).next().map(str::to_owned);
            }
            Ok(_) => {}
        }
        Ok::<_, String>(graph)
    };
    let verdict = quietly(loaded);
    (verdict_of(verdict), refusal)
}

fn verdict_of(result: std::thread::Result<Result<ChangeGraph, String>>) -> Verdict {
    match result {
        Ok(Ok(graph)) => {
            let mut heads: Vec<[u8; 32]> = graph.heads().map(|h| h.0).collect();
            heads.sort_unstable();
            Verdict::Loaded {
                heads,
                changes: graph.hashes().iter().map(|h| h.0).collect(),
            }
        }
        Ok(Err(e)) => Verdict::Error(e),
        Err(payload) => Verdict::Panic(panic_message(&*payload)),
    }
}

fn meta(change: &Change) -> ChangeMeta {
    ChangeMeta {
        hash: change.hash(),
        actor: change.actor().clone(),
        seq: change.seq(),
        start_op: change.start_op(),
        max_op: change.max_op(),
        deps: change.deps().to_vec(),
    }
}

/// Loads a file: every chunk checksum-checked and decoded, documents' changes reconstructed
/// (heads verified), everything inserted into a change graph. As in the reference, a document
/// whose heads are all known already is skipped, changes with missing dependencies are an
/// error unless the first chunk was a document, and a bundle (experimental) is refused here.
pub(crate) fn our_load(bytes: &[u8]) -> Result<ChangeGraph, String> {
    let data = Bytes::copy_from_slice(bytes);
    let mut graph = ChangeGraph::new();
    let mut first_was_document = false;
    for (i, chunk) in split_chunks(&data).enumerate() {
        let chunk = chunk.map_err(|e| format!("chunk {i}: {e}"))?;
        chunk
            .verify_checksum()
            .map_err(|e| format!("chunk {i}: {e}"))?;
        match chunk.chunk_type() {
            ChunkType::Document => {
                if i == 0 {
                    first_was_document = true;
                }
                let doc = DocumentChunk::decode(chunk.bytes())
                    .map_err(|e| format!("chunk {i}: document: {e}"))?;
                if !doc.heads.is_empty() && doc.heads.iter().all(|h| graph.contains(h)) {
                    continue;
                }
                let changes = doc
                    .reconstruct_changes()
                    .map_err(|e| format!("chunk {i}: reconstruct: {e}"))?;
                graph
                    .insert_batch(changes.iter().map(meta))
                    .map_err(|e| format!("chunk {i}: {e}"))?;
            }
            ChunkType::Change | ChunkType::CompressedChange => {
                let change = Change::decode(data.slice_ref(chunk.bytes()))
                    .map_err(|e| format!("chunk {i}: change: {e}"))?;
                graph
                    .insert(meta(&change))
                    .map_err(|e| format!("chunk {i}: {e}"))?;
            }
            ChunkType::Bundle => return Err(format!("chunk {i}: bundles are not supported")),
        }
    }
    let missing: Vec<ChangeHash> = graph.missing_deps(&[]);
    if !first_was_document && !missing.is_empty() {
        return Err(format!("{} missing dependencies", missing.len()));
    }
    Ok(graph)
}
