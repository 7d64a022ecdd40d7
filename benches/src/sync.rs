//! Sync sessions as the `sync` bench and the `diverged_sync_probe` example run them: a peer
//! of either implementation behind one trait, a session to quiescence with every message
//! encoded and decoded, and the small root-map puts the diverged scenarios are built from.

use automerge::sync::{Message, State, SyncDoc as _};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, Automerge};
use converge_doc::Document;
use converge_sync::{SyncExt, SyncMessage, SyncState};

/// One side of a sync session.
pub trait Peer {
    /// The next message, encoded.
    fn generate(&mut self) -> Option<Vec<u8>>;
    /// Decodes and receives a message.
    fn receive(&mut self, wire: &[u8]);
    /// Sorted heads.
    fn heads(&self) -> Vec<[u8; 32]>;
}

/// A converge peer.
pub struct Ours {
    /// Its document.
    pub doc: Document,
    /// Its sync state for the other side.
    pub state: SyncState,
}

impl Peer for Ours {
    fn generate(&mut self) -> Option<Vec<u8>> {
        Some(self.doc.generate_sync_message(&mut self.state)?.encode())
    }
    fn receive(&mut self, wire: &[u8]) {
        let m = SyncMessage::decode(wire).expect("converge decodes");
        self.doc
            .receive_sync_message(&mut self.state, m)
            .expect("converge receives");
    }
    fn heads(&self) -> Vec<[u8; 32]> {
        let mut h: Vec<[u8; 32]> = self.doc.heads().iter().map(|h| h.0).collect();
        h.sort_unstable();
        h
    }
}

/// An automerge 0.12 peer.
pub struct Theirs {
    /// Its document.
    pub doc: Automerge,
    /// Its sync state for the other side.
    pub state: State,
}

impl Peer for Theirs {
    fn generate(&mut self) -> Option<Vec<u8>> {
        Some(self.doc.generate_sync_message(&mut self.state)?.encode())
    }
    fn receive(&mut self, wire: &[u8]) {
        let m = Message::decode(wire).expect("automerge decodes");
        self.doc
            .receive_sync_message(&mut self.state, m)
            .expect("automerge receives");
    }
    fn heads(&self) -> Vec<[u8; 32]> {
        let mut h: Vec<[u8; 32]> = self.doc.get_heads().iter().map(|h| h.0).collect();
        h.sort_unstable();
        h
    }
}

/// Runs a session to quiescence, the first peer speaking first; every receive is followed by
/// a generate on the receiving side. Returns (rounds, bytes).
pub fn session(a: &mut dyn Peer, b: &mut dyn Peer) -> (usize, usize) {
    let (mut rounds, mut bytes) = (0, 0);
    loop {
        let mut sent = false;
        if let Some(m) = a.generate() {
            bytes += m.len();
            b.receive(&m);
            sent = true;
        }
        if let Some(m) = b.generate() {
            bytes += m.len();
            a.receive(&m);
            sent = true;
        }
        if !sent {
            return (rounds, bytes);
        }
        rounds += 1;
        assert!(rounds < 100, "sync did not terminate");
    }
}

/// `n` small puts on the root map by the document's actor, one commit each; returns the raw
/// bytes of the new changes.
pub fn puts(doc: &mut AutoCommit, n: usize, seed: usize) -> usize {
    let mut raw = 0;
    for i in 0..n {
        let k = (i * 7 + seed) % 16;
        doc.put(automerge::ROOT, format!("k{k}"), (i * 31 + seed) as i64)
            .expect("put");
        doc.commit_with(CommitOptions::default().with_time(0));
        raw += doc
            .get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .len();
    }
    raw
}
