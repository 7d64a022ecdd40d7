//! A history-only stand-in for a document: it stores opaque change chunks in a hash graph,
//! which is all the sync protocol looks at. Lets the protocol be tested (and simulated under
//! faults) independently of the CRDT.
//!
//! Chunk format (test-only): `0xAA, actor: u8, seq: u32 LE, ndeps: u8, deps: 32 × ndeps,
//! payload_len: u8, payload`. The hash is the SHA-256 of the whole chunk.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::expect_used
)]
// Test support shared by test binaries: `pub` is how they see it.
#![allow(unreachable_pub)]

use std::collections::{BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use converge_encoding::ChangeHash;
use converge_sync::{SyncDoc, SyncMessage, SyncState, generate_sync_message, receive_sync_message};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct StoredChange {
    pub hash: ChangeHash,
    pub actor: u8,
    pub seq: u32,
    pub deps: Vec<ChangeHash>,
    pub bytes: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("malformed chunk at offset {0}")]
    Malformed(usize),
    #[error("actor {actor} seq {seq} already present with another hash")]
    DuplicateSeq { actor: u8, seq: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    pub changes: Vec<StoredChange>,
    index: HashMap<ChangeHash, usize>,
    queue: Vec<StoredChange>,
    heads: BTreeSet<ChangeHash>,
    by_actor_seq: HashMap<(u8, u32), ChangeHash>,
}

pub fn encode_chunk(actor: u8, seq: u32, deps: &[ChangeHash], payload: &[u8]) -> Bytes {
    let mut out = vec![0xAA, actor];
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(deps.len() as u8);
    for d in deps {
        out.extend_from_slice(&d.0);
    }
    out.push(payload.len() as u8);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

fn hash_of(bytes: &[u8]) -> ChangeHash {
    ChangeHash(Sha256::digest(bytes).into())
}

fn parse_chunks(bytes: &[u8]) -> Result<Vec<StoredChange>, StoreError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let err = || StoreError::Malformed(start);
        let get = |i: usize| bytes.get(i).copied().ok_or_else(err);
        if get(pos)? != 0xAA {
            return Err(err());
        }
        let actor = get(pos + 1)?;
        let seq = u32::from_le_bytes(
            bytes
                .get(pos + 2..pos + 6)
                .ok_or_else(err)?
                .try_into()
                .unwrap(),
        );
        let ndeps = get(pos + 6)? as usize;
        pos += 7;
        let mut deps = Vec::new();
        for _ in 0..ndeps {
            deps.push(ChangeHash(
                bytes
                    .get(pos..pos + 32)
                    .ok_or_else(err)?
                    .try_into()
                    .unwrap(),
            ));
            pos += 32;
        }
        let plen = get(pos)? as usize;
        pos += 1 + plen;
        let chunk = bytes.get(start..pos).ok_or_else(err)?;
        out.push(StoredChange {
            hash: hash_of(chunk),
            actor,
            seq,
            deps,
            bytes: Bytes::copy_from_slice(chunk),
        });
    }
    Ok(out)
}

/// The hashes of the chunks in `bytes` (a sync message's payload), in order.
pub fn chunk_hashes(bytes: &[u8]) -> Vec<ChangeHash> {
    parse_chunks(bytes)
        .unwrap()
        .iter()
        .map(|c| c.hash)
        .collect()
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new local change on top of the current heads.
    pub fn commit(&mut self, actor: u8, payload: &[u8]) -> ChangeHash {
        let seq = (1..)
            .find(|s| !self.by_actor_seq.contains_key(&(actor, *s)))
            .unwrap();
        let deps: Vec<ChangeHash> = self.heads.iter().copied().collect();
        let bytes = encode_chunk(actor, seq, &deps, payload);
        let hash = hash_of(&bytes);
        self.apply_chunks(&bytes).unwrap();
        hash
    }

    pub fn has(&self, h: &ChangeHash) -> bool {
        self.index.contains_key(h)
    }

    fn insert_applied(&mut self, c: StoredChange) {
        for d in &c.deps {
            self.heads.remove(d);
        }
        self.heads.insert(c.hash);
        self.by_actor_seq.insert((c.actor, c.seq), c.hash);
        self.index.insert(c.hash, self.changes.len());
        self.changes.push(c);
    }

    fn ancestors(&self, heads: &[ChangeHash]) -> HashSet<ChangeHash> {
        let mut seen = HashSet::new();
        let mut stack: Vec<ChangeHash> = heads.iter().copied().filter(|h| self.has(h)).collect();
        while let Some(h) = stack.pop() {
            if seen.insert(h) {
                let c = &self.changes[self.index[&h]];
                stack.extend(c.deps.iter().copied());
            }
        }
        seen
    }
}

impl SyncDoc for MemoryStore {
    type ApplyError = StoreError;

    fn heads(&self) -> Vec<ChangeHash> {
        self.heads.iter().copied().collect()
    }

    fn has_change(&self, hash: &ChangeHash) -> bool {
        self.has(hash)
    }

    fn num_changes(&self) -> usize {
        self.changes.len()
    }

    fn change_hash_at(&self, index: usize) -> Option<ChangeHash> {
        self.changes.get(index).map(|c| c.hash)
    }

    fn changes_since(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        if heads.is_empty() {
            return self.changes.iter().map(|c| c.hash).collect();
        }
        let mut clock: HashMap<u8, u32> = HashMap::new();
        for h in self.ancestors(heads) {
            let c = &self.changes[self.index[&h]];
            let e = clock.entry(c.actor).or_default();
            *e = (*e).max(c.seq);
        }
        self.changes
            .iter()
            .filter(|c| c.seq > clock.get(&c.actor).copied().unwrap_or(0))
            .map(|c| c.hash)
            .collect()
    }

    fn change_deps(&self, hash: &ChangeHash) -> Vec<ChangeHash> {
        self.index
            .get(hash)
            .map(|&i| self.changes[i].deps.clone())
            .unwrap_or_default()
    }

    fn change_bytes(&self, hash: &ChangeHash) -> Option<Bytes> {
        self.index.get(hash).map(|&i| self.changes[i].bytes.clone())
    }

    fn missing_deps_reachable(&self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        let queued: HashMap<ChangeHash, &StoredChange> =
            self.queue.iter().map(|c| (c.hash, c)).collect();
        let mut missing = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut stack: Vec<ChangeHash> = heads.to_vec();
        while let Some(h) = stack.pop() {
            if !seen.insert(h) || self.has(&h) {
                continue;
            }
            match queued.get(&h) {
                Some(c) => stack.extend(c.deps.iter().copied()),
                None => {
                    missing.insert(h);
                }
            }
        }
        missing.into_iter().collect()
    }

    fn ancestors_among(
        &self,
        heads: &[ChangeHash],
        candidates: &BTreeSet<ChangeHash>,
    ) -> Vec<ChangeHash> {
        let anc = self.ancestors(heads);
        candidates
            .iter()
            .copied()
            .filter(|h| anc.contains(h))
            .collect()
    }

    fn save_document(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for c in self.changes.iter().chain(self.queue.iter()) {
            out.extend_from_slice(&c.bytes);
        }
        out
    }

    fn apply_chunks(&mut self, bytes: &Bytes) -> Result<(), StoreError> {
        let parsed = parse_chunks(bytes)?;
        // Validate before changing anything.
        let mut claimed: HashMap<(u8, u32), ChangeHash> = HashMap::new();
        for c in &parsed {
            let key = (c.actor, c.seq);
            let existing = self.by_actor_seq.get(&key).or(claimed.get(&key));
            if existing.is_some_and(|h| *h != c.hash) {
                return Err(StoreError::DuplicateSeq {
                    actor: c.actor,
                    seq: c.seq,
                });
            }
            claimed.insert(key, c.hash);
        }
        for c in parsed {
            if !self.has(&c.hash) && !self.queue.iter().any(|q| q.hash == c.hash) {
                self.queue.push(c);
            }
        }
        loop {
            let ready = self
                .queue
                .iter()
                .position(|c| c.deps.iter().all(|d| self.has(d)));
            match ready {
                Some(i) => {
                    let c = self.queue.remove(i);
                    self.insert_applied(c);
                }
                None => break,
            }
        }
        Ok(())
    }
}

/// Runs the protocol until both sides are quiet (`a` speaks first in each round), passing
/// every message through `tamper` and the wire encoding; returns (rounds, bytes sent).
pub fn sync_pair(
    a: &mut MemoryStore,
    sa: &mut SyncState,
    b: &mut MemoryStore,
    sb: &mut SyncState,
    tamper: &dyn Fn(SyncMessage) -> SyncMessage,
) -> (usize, usize) {
    let (mut rounds, mut bytes) = (0, 0);
    loop {
        let mut quiet = true;
        if let Some(m) = generate_sync_message(a, sa) {
            quiet = false;
            let wire = tamper(m).encode();
            bytes += wire.len();
            receive_sync_message(b, sb, SyncMessage::decode(&wire).unwrap()).unwrap();
        }
        if let Some(m) = generate_sync_message(b, sb) {
            quiet = false;
            let wire = tamper(m).encode();
            bytes += wire.len();
            receive_sync_message(a, sa, SyncMessage::decode(&wire).unwrap()).unwrap();
        }
        if quiet {
            return (rounds, bytes);
        }
        rounds += 1;
        assert!(rounds < 50, "sync did not terminate");
    }
}

/// The identity `tamper` for [`sync_pair`].
pub fn same(m: SyncMessage) -> SyncMessage {
    m
}

/// A linear history of `n` changes by `actor`.
pub fn history(actor: u8, n: usize) -> MemoryStore {
    let mut s = MemoryStore::new();
    for i in 0..n {
        s.commit(actor, &[i as u8, (i >> 8) as u8]);
    }
    s
}
