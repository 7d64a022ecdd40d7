//! The sync protocol between history-only peers: convergence in the usual scenarios, with
//! persisted states, with Bloom filters that claim everything, and under a seeded network
//! simulation with dropped, duplicated and delayed messages, reconnects and crashes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
// The simulation indexes peers and links by peer number on purpose.
#![allow(clippy::needless_range_loop)]

mod support;

use converge_bloom::BloomFilter;
use converge_encoding::ChangeHash;
use converge_sync::{
    SyncDoc, SyncMessage, SyncState, generate_sync_message, has_our_changes, receive_sync_message,
};
use support::{MemoryStore, history, same, sync_pair};

#[test]
fn empty_peers_are_quiet_after_one_exchange() {
    let (mut a, mut b) = (MemoryStore::new(), MemoryStore::new());
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    let (rounds, _) = sync_pair(&mut a, &mut sa, &mut b, &mut sb, &same);
    assert!(rounds <= 2);
}

#[test]
fn one_side_behind_converges() {
    let mut a = history(1, 20);
    let mut b = MemoryStore::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    let (rounds, _) = sync_pair(&mut a, &mut sa, &mut b, &mut sb, &same);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(b.num_changes(), 20);
    assert!(has_our_changes(&a, &sa) && has_our_changes(&b, &sb));
    assert!(rounds <= 3, "{rounds} rounds");
}

#[test]
fn diverged_peers_converge_and_persisted_state_helps() {
    let mut a = history(1, 10);
    let mut b = MemoryStore::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    sync_pair(&mut a, &mut sa, &mut b, &mut sb, &same);
    for i in 0..5 {
        a.commit(1, &[100 + i]);
        b.commit(2, &[200 + i]);
    }
    // Persist and restore both states, as after a restart.
    let mut sa = SyncState::decode(&sa.encode()).unwrap();
    let mut sb = SyncState::decode(&sb.encode()).unwrap();
    let (_, bytes) = sync_pair(&mut a, &mut sa, &mut b, &mut sb, &same);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.num_changes(), 20);
    // Only the 10 new changes, never the 10 shared ones, cross the wire (each ~40 bytes).
    assert!(bytes < 2_000, "{bytes} bytes");
}

#[test]
fn bloom_that_claims_everything_still_converges() {
    // A saturated filter: every probe bit set, so it "contains" every hash.
    let saturated = BloomFilter::decode(&[0x01, 0x0a, 0x07, 0xff, 0xff]).unwrap();
    let tamper = move |mut m: SyncMessage| {
        for h in &mut m.have {
            h.bloom = saturated.clone();
        }
        m
    };
    let mut a = history(1, 8);
    let mut b = history(2, 8);
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    sync_pair(&mut a, &mut sa, &mut b, &mut sb, &tamper);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.num_changes(), 16);
}

#[test]
fn receive_error_leaves_state_and_doc_unchanged() {
    let mut a = history(1, 3);
    let mut b = MemoryStore::new();
    let mut sb = SyncState::new();
    let before = sb.clone();
    let mut m = generate_sync_message(&a, &mut SyncState::new()).unwrap();
    m.changes = vec![bytes::Bytes::from_static(&[0xAA, 0x01])];
    assert!(receive_sync_message(&mut b, &mut sb, m).is_err());
    assert_eq!(sb, before);
    assert_eq!(b.num_changes(), 0);
    let _ = &mut a;
}

// ---------------------------------------------------------------------------------------------
// Network simulation

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Peer {
    actor: u8,
    store: MemoryStore,
    /// What survives a crash: the store as of the last save.
    saved: MemoryStore,
    /// One sync state per other peer, and its persisted form.
    states: Vec<SyncState>,
    persisted: Vec<Vec<u8>>,
}

/// A directed link with FIFO order; messages may be dropped, duplicated or held back.
#[derive(Default)]
struct Link {
    queue: std::collections::VecDeque<Vec<u8>>,
}

/// One seeded run; every peer starts with the same `prefix` changes (by an actor of its own,
/// 200), so that with `prefix` above `COMPACT_PROBE_THRESHOLD` fresh states probe.
fn simulate(seed: u64, prefix: usize) {
    let mut rng = Rng(seed);
    let n = 2 + rng.below(4) as usize;
    let start = history(200, prefix);
    let mut peers: Vec<Peer> = (0..n)
        .map(|i| Peer {
            actor: i as u8 + 1,
            store: start.clone(),
            saved: start.clone(),
            states: (0..n).map(|_| SyncState::new()).collect(),
            persisted: vec![SyncState::new().encode(); n],
        })
        .collect();
    let mut links: Vec<Vec<Link>> = (0..n)
        .map(|_| (0..n).map(|_| Link::default()).collect())
        .collect();

    let mut next_actor = n as u8;
    let fault_steps = 60 + rng.below(60);
    let mut step = 0u64;
    let mut quiet_rounds = 0;
    loop {
        let faults = step < fault_steps;
        step += 1;
        // Edits and saves.
        for p in peers.iter_mut() {
            if faults && rng.chance(15) {
                let payload = [rng.below(256) as u8];
                p.store.commit(p.actor, &payload);
            }
            if rng.chance(20) || !faults {
                p.saved = p.store.clone();
                for (j, s) in p.states.iter().enumerate() {
                    p.persisted[j] = s.encode();
                }
            }
        }
        // Crashes and reconnects (only while faults are on).
        if faults && rng.chance(3) {
            let i = rng.below(n as u64) as usize;
            let p = &mut peers[i];
            p.store = p.saved.clone();
            // A restarted process takes a fresh actor id, as Automerge apps do: reusing the
            // old one would re-issue seq numbers of changes lost in the crash.
            next_actor += 1;
            p.actor = next_actor;
            for j in 0..n {
                p.states[j] = if rng.chance(50) {
                    SyncState::decode(&p.persisted[j]).unwrap()
                } else {
                    SyncState::new()
                };
                links[i][j].queue.clear();
                links[j][i].queue.clear();
            }
            // The other side notices the disconnect and starts over too.
            for (j, q) in peers.iter_mut().enumerate() {
                if j != i {
                    q.states[i] = SyncState::decode(&q.states[i].encode()).unwrap();
                }
            }
        }
        if faults && rng.chance(3) {
            let (i, j) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            if i != j {
                links[i][j].queue.clear();
                links[j][i].queue.clear();
                peers[i].states[j] = SyncState::decode(&peers[i].states[j].encode()).unwrap();
                peers[j].states[i] = SyncState::new();
            }
        }
        // After the faults stop, every link reconnects once so that nothing stays in flight.
        if step == fault_steps + 1 {
            for i in 0..n {
                for j in 0..n {
                    links[i][j].queue.clear();
                    peers[i].states[j] = SyncState::decode(&peers[i].states[j].encode()).unwrap();
                }
            }
        }
        // Send.
        let mut activity = false;
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let p = &mut peers[i];
                if let Some(m) = generate_sync_message(&p.store, &mut p.states[j]) {
                    activity = true;
                    let wire = m.encode();
                    if faults && rng.chance(10) {
                        continue; // dropped
                    }
                    links[i][j].queue.push_back(wire.clone());
                    if faults && rng.chance(5) {
                        links[i][j].queue.push_back(wire); // duplicated
                    }
                }
            }
        }
        // Deliver (sometimes held back while faults are on).
        for i in 0..n {
            for j in 0..n {
                if faults && rng.chance(20) {
                    continue; // delayed
                }
                while let Some(wire) = links[i][j].queue.pop_front() {
                    activity = true;
                    let m = SyncMessage::decode(&wire).unwrap();
                    let q = &mut peers[j];
                    receive_sync_message(&mut q.store, &mut q.states[i], m).unwrap();
                }
            }
        }
        if !faults {
            if activity {
                quiet_rounds = 0;
            } else {
                quiet_rounds += 1;
                if quiet_rounds >= 2 {
                    break;
                }
            }
            assert!(
                step < fault_steps + 40,
                "seed {seed}: no convergence within 40 rounds after the faults stopped"
            );
        }
    }
    let heads = peers[0].store.heads();
    for p in &peers {
        assert_eq!(p.store.heads(), heads, "seed {seed}: peers disagree");
        for q in &peers {
            for c in &q.saved.changes {
                assert!(p.store.has(&c.hash), "seed {seed}: a saved change was lost");
            }
        }
    }
}

#[test]
fn network_simulation_converges() {
    let seeds: u64 = std::env::var("CONVERGE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    for seed in 0..seeds {
        simulate(seed, 0);
    }
}

/// The same simulation on top of a long shared history, where fresh states probe (compact
/// mode, the default).
#[test]
fn network_simulation_over_a_long_history_converges() {
    let seeds: u64 = std::env::var("CONVERGE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(30, |n: u64| n / 30);
    for seed in 0..seeds {
        simulate(seed, 1500);
    }
}

#[test]
fn a_message_naming_many_heads_is_answered_by_asking_for_the_unknown_ones() {
    // 3,000 heads we do not have (some twice, in no order) and one we have: we ask for the
    // unknown ones, and (all we lack being among their heads) say what we have.
    let mut us = history(1, 50);
    let known = us.changes[49].hash;
    let unknown: Vec<ChangeHash> = (0..3000u32)
        .map(|i| {
            let mut h = [0x5a; 32];
            h[..4].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_le_bytes());
            ChangeHash(h)
        })
        .collect();
    let mut heads = unknown.clone();
    heads.extend_from_slice(&unknown[..100]);
    heads.push(known);
    let msg = SyncMessage {
        version: converge_sync::MessageVersion::V1,
        heads,
        need: Vec::new(),
        have: vec![converge_sync::Have::default()],
        changes: Vec::new(),
        flags: None,
    };
    let mut state = SyncState::new();
    receive_sync_message(&mut us, &mut state, msg).unwrap();
    let reply = generate_sync_message(&us, &mut state).unwrap();
    let mut want = unknown;
    want.sort_unstable();
    assert_eq!(reply.need, want);
    assert!(!reply.have.is_empty());
}

#[test]
fn a_change_asked_for_many_times_is_sent_once() {
    let mut us = history(1, 50);
    let (x, y) = (us.changes[10].hash, us.changes[20].hash);
    let mut need = vec![x; 50];
    need.push(y);
    need.push(x);
    let all: Vec<ChangeHash> = us.changes.iter().map(|c| c.hash).collect();
    let msg = SyncMessage {
        version: converge_sync::MessageVersion::V1,
        heads: vec![us.changes[5].hash],
        need,
        // They claim every change (so only what they need is sent).
        have: vec![converge_sync::Have {
            last_sync: Vec::new(),
            bloom: BloomFilter::from_hashes(all.iter()),
        }],
        changes: Vec::new(),
        flags: None,
    };
    let mut state = SyncState::new();
    receive_sync_message(&mut us, &mut state, msg).unwrap();
    let reply = generate_sync_message(&us, &mut state).unwrap();
    let mut bytes = Vec::new();
    for c in &reply.changes {
        bytes.extend_from_slice(c);
    }
    assert_eq!(support::chunk_hashes(&bytes), vec![x, y]);
}
