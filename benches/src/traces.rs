//! The editing traces of `shared/data/traces` (see its README): parsing, and replay as local
//! edits (sequential traces) or with one document per agent (concurrent traces), on converge
//! and on the automerge 0.12 oracle.

use std::path::PathBuf;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::{ActorId, Change, ChangeHash};

/// One patch: at `pos` delete `del` code points, then insert `ins`.
#[derive(Clone, Debug)]
pub struct Patch {
    /// Position, in code points.
    pub pos: usize,
    /// Code points deleted at `pos`.
    pub del: usize,
    /// Text inserted at `pos` after the deletion.
    pub ins: String,
}

/// One transaction of a trace.
#[derive(Clone, Debug)]
pub struct Txn {
    /// Indexes of the txns it causally follows (concurrent traces only; empty otherwise).
    pub parents: Vec<usize>,
    /// The agent that made it (0 in sequential traces).
    pub agent: usize,
    /// Its patches, applied in order.
    pub patches: Vec<Patch>,
}

/// A parsed trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Whether the file is a concurrent trace (`"kind": "concurrent"`).
    pub concurrent: bool,
    /// The expected final text.
    pub end_content: String,
    /// Number of agents (1 for sequential traces).
    pub num_agents: usize,
    /// The transactions, in order.
    pub txns: Vec<Txn>,
}

/// The sequential traces, by short name.
pub const SEQUENTIAL: [&str; 5] = [
    "automerge-paper",
    "seph-blog1",
    "rustcode",
    "sveltecomponent",
    "friendsforever_flat",
];

/// The concurrent traces, by short name.
pub const CONCURRENT: [&str; 2] = ["friendsforever", "clownschool"];

/// Path of a file under `shared/data`.
pub fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// Path of a trace given its short name (`rustcode`, `clownschool`, ...).
pub fn trace_path(name: &str) -> PathBuf {
    let kind = if CONCURRENT.contains(&name) {
        "concurrent"
    } else {
        "sequential"
    };
    data_path(&format!("traces/{kind}/{name}.json.gz"))
}

fn usize_of(v: &serde_json::Value) -> usize {
    usize::try_from(v.as_u64().expect("non-negative integer")).expect("fits usize")
}

/// Reads and parses a trace given its short name.
pub fn load_trace(name: &str) -> Trace {
    let path = trace_path(name);
    let value = crate::read_json_gz(&path);
    let concurrent = value.get("kind").and_then(|k| k.as_str()) == Some("concurrent");
    let txns: Vec<Txn> = value["txns"]
        .as_array()
        .expect("txns")
        .iter()
        .map(|t| Txn {
            parents: t
                .get("parents")
                .and_then(|p| p.as_array())
                .map(|p| p.iter().map(usize_of).collect())
                .unwrap_or_default(),
            agent: t.get("agent").map(usize_of).unwrap_or(0),
            patches: t["patches"]
                .as_array()
                .expect("patches")
                .iter()
                .map(|p| Patch {
                    pos: usize_of(&p[0]),
                    del: usize_of(&p[1]),
                    ins: p[2].as_str().expect("ins").to_owned(),
                })
                .collect(),
        })
        .collect();
    Trace {
        concurrent,
        end_content: value["endContent"].as_str().expect("endContent").to_owned(),
        num_agents: value.get("numAgents").map(usize_of).unwrap_or(1),
        txns,
    }
}

/// Encodes a trace compactly (little-endian `u32`s and UTF-8 strings), so a process can read
/// it back without the JSON parser's peak memory (see `examples/doc_peak_memory.rs`).
pub fn to_compact(trace: &Trace) -> Vec<u8> {
    fn num(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&u32::try_from(n).expect("fits u32").to_le_bytes());
    }
    fn text(out: &mut Vec<u8>, s: &str) {
        num(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::new();
    num(&mut out, usize::from(trace.concurrent));
    num(&mut out, trace.num_agents);
    text(&mut out, &trace.end_content);
    num(&mut out, trace.txns.len());
    for txn in &trace.txns {
        num(&mut out, txn.agent);
        num(&mut out, txn.parents.len());
        for &p in &txn.parents {
            num(&mut out, p);
        }
        num(&mut out, txn.patches.len());
        for p in &txn.patches {
            num(&mut out, p.pos);
            num(&mut out, p.del);
            text(&mut out, &p.ins);
        }
    }
    out
}

/// Decodes [`to_compact`]'s output.
pub fn from_compact(bytes: &[u8]) -> Trace {
    struct Cursor<'a>(&'a [u8]);
    impl<'a> Cursor<'a> {
        fn take(&mut self, k: usize) -> &'a [u8] {
            let (head, tail) = self.0.split_at(k);
            self.0 = tail;
            head
        }
        fn num(&mut self) -> usize {
            u32::from_le_bytes(self.take(4).try_into().expect("4 bytes")) as usize
        }
        fn text(&mut self) -> String {
            let len = self.num();
            std::str::from_utf8(self.take(len))
                .expect("utf-8")
                .to_owned()
        }
    }
    let mut c = Cursor(bytes);
    let concurrent = c.num() != 0;
    let num_agents = c.num();
    let end_content = c.text();
    let n_txns = c.num();
    let txns = (0..n_txns)
        .map(|_| {
            let agent = c.num();
            let n_parents = c.num();
            let parents = (0..n_parents).map(|_| c.num()).collect();
            let n_patches = c.num();
            let patches = (0..n_patches)
                .map(|_| Patch {
                    pos: c.num(),
                    del: c.num(),
                    ins: c.text(),
                })
                .collect();
            Txn {
                parents,
                agent,
                patches,
            }
        })
        .collect();
    assert!(c.0.is_empty(), "trailing bytes");
    Trace {
        concurrent,
        end_content,
        num_agents,
        txns,
    }
}

/// For each txn `i` of a concurrent trace, the txns of its causal past that its agent's
/// document lacks just before `i`, ascending (the README's replay recipe). Independent of the
/// CRDT, so computed once outside the timed loops.
pub fn replay_plan(trace: &Trace) -> Vec<Vec<usize>> {
    let n = trace.txns.len();
    let mut have = vec![vec![false; n]; trace.num_agents];
    let mut plan = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for (i, txn) in trace.txns.iter().enumerate() {
        let have = &mut have[txn.agent];
        let mut missing = Vec::new();
        stack.extend_from_slice(&txn.parents);
        while let Some(j) = stack.pop() {
            // Each agent's set is causally closed, so the walk stops at anything it has.
            if !have[j] {
                have[j] = true;
                missing.push(j);
                stack.extend_from_slice(&trace.txns[j].parents);
            }
        }
        missing.sort_unstable();
        have[i] = true;
        plan.push(missing);
    }
    plan
}

fn actor(agent: usize) -> ActorId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(agent as u64 + 1).to_be_bytes());
    ActorId::from_bytes(&bytes)
}

fn oracle_actor(agent: usize) -> automerge::ActorId {
    automerge::ActorId::from(actor(agent).as_bytes())
}

/// converge, sequential trace: one change creating the text, then one change per txn
/// (`Document::transaction`, `splice_text` per patch, `commit`).
pub fn converge_sequential(trace: &Trace) -> (Document, ExId) {
    let mut doc = Document::with_actor(actor(0));
    let text = doc.put_object(&ROOT, "text", ObjType::Text).expect("text");
    for txn in &trace.txns {
        let mut tx = doc.transaction();
        for p in &txn.patches {
            tx.splice_text(&text, p.pos, p.del, &p.ins).expect("splice");
        }
        tx.commit().expect("commit");
    }
    (doc, text)
}

/// The oracle, sequential trace: `AutoCommit`, one change creating the text, then
/// `splice_text` per patch and `commit` per txn.
pub fn automerge_sequential(trace: &Trace) -> (automerge::AutoCommit, automerge::ObjId) {
    let mut doc = automerge::AutoCommit::new().with_actor(oracle_actor(0));
    let text = doc
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .expect("text");
    doc.commit();
    for txn in &trace.txns {
        for p in &txn.patches {
            doc.splice_text(&text, p.pos, p.del as isize, &p.ins)
                .expect("splice");
        }
        doc.commit();
    }
    (doc, text)
}

/// One converge document per agent, each holding the one change that creates the text.
fn converge_agents(trace: &Trace) -> (Vec<Document>, ExId) {
    let mut base = Document::with_actor(actor(usize::MAX - 1));
    let text = base.put_object(&ROOT, "text", ObjType::Text).expect("text");
    let docs = (0..trace.num_agents)
        .map(|g| {
            let mut doc = Document::with_actor(actor(g));
            doc.merge(&base).expect("merge base");
            doc
        })
        .collect();
    (docs, text)
}

/// A txn's patches in one transaction, committed as one change.
fn converge_txn(doc: &mut Document, text: &ExId, txn: &Txn) -> Option<ChangeHash> {
    let mut tx = doc.transaction();
    for p in &txn.patches {
        tx.splice_text(text, p.pos, p.del, &p.ins).expect("splice");
    }
    tx.commit().expect("commit")
}

/// Every agent merged into agent 0's document, which is returned.
fn converge_merged(mut docs: Vec<Document>) -> Document {
    let (first, rest) = docs.split_at_mut(1);
    for doc in rest.iter() {
        first[0].merge(doc).expect("merge");
    }
    docs.swap_remove(0)
}

/// converge, concurrent trace: a document per agent (all starting from one change that
/// creates the text); before txn `i`, `apply_changes` with the changes of `plan[i]` (one call,
/// skipped when empty); then a transaction with the patches, committed as one change; finally
/// `merge` every agent into agent 0's document, which is returned.
pub fn converge_concurrent(trace: &Trace, plan: &[Vec<usize>]) -> (Document, ExId) {
    let (mut docs, text) = converge_agents(trace);
    let mut changes: Vec<Option<Change>> = Vec::with_capacity(trace.txns.len());
    for (txn, missing) in trace.txns.iter().zip(plan) {
        let doc = &mut docs[txn.agent];
        if !missing.is_empty() {
            doc.apply_changes(missing.iter().filter_map(|&j| changes[j].clone()))
                .expect("apply");
        }
        let hash = converge_txn(doc, &text, txn);
        changes.push(hash.map(|h| doc.get_change_by_hash(&h).expect("own change")));
    }
    (converge_merged(docs), text)
}

/// [`converge_concurrent`], except that the harness keeps each txn's change as its author and
/// hash, not as a decoded change, and fetches a batch from the authors' documents
/// (`get_change_by_hash`) when it is applied: what is left of the peak is the documents'.
pub fn converge_concurrent_by_hash(trace: &Trace, plan: &[Vec<usize>]) -> (Document, ExId) {
    let (mut docs, text) = converge_agents(trace);
    let mut made: Vec<Option<(usize, ChangeHash)>> = Vec::with_capacity(trace.txns.len());
    for (txn, missing) in trace.txns.iter().zip(plan) {
        if !missing.is_empty() {
            let mut batch: Vec<Change> = Vec::with_capacity(missing.len());
            for &(g, h) in missing.iter().filter_map(|&j| made[j].as_ref()) {
                batch.push(docs[g].get_change_by_hash(&h).expect("author's change"));
            }
            docs[txn.agent].apply_changes(batch).expect("apply");
        }
        let hash = converge_txn(&mut docs[txn.agent], &text, txn);
        made.push(hash.map(|h| (txn.agent, h)));
    }
    (converge_merged(docs), text)
}

/// One oracle document per agent, as [`converge_agents`].
fn automerge_agents(trace: &Trace) -> (Vec<automerge::AutoCommit>, automerge::ObjId) {
    let mut base = automerge::AutoCommit::new().with_actor(oracle_actor(usize::MAX - 1));
    let text = base
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .expect("text");
    base.commit();
    let docs = (0..trace.num_agents)
        .map(|g| {
            let mut doc = automerge::AutoCommit::new().with_actor(oracle_actor(g));
            doc.merge(&mut base).expect("merge base");
            doc
        })
        .collect();
    (docs, text)
}

/// A txn's patches, `splice_text` each, then `commit`.
fn automerge_txn(
    doc: &mut automerge::AutoCommit,
    text: &automerge::ObjId,
    txn: &Txn,
) -> Option<automerge::ChangeHash> {
    for p in &txn.patches {
        doc.splice_text(text, p.pos, p.del as isize, &p.ins)
            .expect("splice");
    }
    doc.commit()
}

/// Every agent merged into agent 0's document, as [`converge_merged`].
fn automerge_merged(mut docs: Vec<automerge::AutoCommit>) -> automerge::AutoCommit {
    let (first, rest) = docs.split_at_mut(1);
    for doc in rest.iter_mut() {
        first[0].merge(doc).expect("merge");
    }
    docs.swap_remove(0)
}

/// The oracle, concurrent trace, the same way as [`converge_concurrent`]: `AutoCommit` per
/// agent, `apply_changes` with the missing changes (one call), `splice_text` per patch,
/// `commit`, `get_change_by_hash`, and `merge` at the end.
pub fn automerge_concurrent(
    trace: &Trace,
    plan: &[Vec<usize>],
) -> (automerge::AutoCommit, automerge::ObjId) {
    let (mut docs, text) = automerge_agents(trace);
    let mut changes: Vec<Option<automerge::Change>> = Vec::with_capacity(trace.txns.len());
    for (txn, missing) in trace.txns.iter().zip(plan) {
        let doc = &mut docs[txn.agent];
        if !missing.is_empty() {
            let batch: Vec<automerge::Change> =
                missing.iter().filter_map(|&j| changes[j].clone()).collect();
            doc.apply_changes(batch).expect("apply");
        }
        let hash = automerge_txn(doc, &text, txn);
        changes.push(hash.map(|h| doc.get_change_by_hash(&h).expect("own change")));
    }
    (automerge_merged(docs), text)
}

/// The oracle, as [`converge_concurrent_by_hash`].
pub fn automerge_concurrent_by_hash(
    trace: &Trace,
    plan: &[Vec<usize>],
) -> (automerge::AutoCommit, automerge::ObjId) {
    let (mut docs, text) = automerge_agents(trace);
    let mut made: Vec<Option<(usize, automerge::ChangeHash)>> =
        Vec::with_capacity(trace.txns.len());
    for (txn, missing) in trace.txns.iter().zip(plan) {
        if !missing.is_empty() {
            let mut batch: Vec<automerge::Change> = Vec::with_capacity(missing.len());
            for &(g, h) in missing.iter().filter_map(|&j| made[j].as_ref()) {
                batch.push(docs[g].get_change_by_hash(&h).expect("author's change"));
            }
            docs[txn.agent].apply_changes(batch).expect("apply");
        }
        let hash = automerge_txn(&mut docs[txn.agent], &text, txn);
        made.push(hash.map(|h| (txn.agent, h)));
    }
    (automerge_merged(docs), text)
}

/// Replays `trace` on converge (sequential or concurrent as the file says).
pub fn converge_replay(trace: &Trace, plan: &[Vec<usize>]) -> (Document, ExId) {
    if trace.concurrent {
        converge_concurrent(trace, plan)
    } else {
        converge_sequential(trace)
    }
}

/// Replays `trace` on the oracle (sequential or concurrent as the file says).
pub fn automerge_replay(
    trace: &Trace,
    plan: &[Vec<usize>],
) -> (automerge::AutoCommit, automerge::ObjId) {
    if trace.concurrent {
        automerge_concurrent(trace, plan)
    } else {
        automerge_sequential(trace)
    }
}

/// The final text of a converge replay.
pub fn converge_text(doc: &Document, text: &ExId) -> String {
    doc.text(text).expect("text")
}

/// The final text of an oracle replay.
pub fn automerge_text(doc: &automerge::AutoCommit, text: &automerge::ObjId) -> String {
    doc.text(text).expect("text")
}
