//! The seeded network simulation of `protocol.rs`, on real [`Document`] peers making real
//! edits (map puts, list inserts, text splices): dropped, duplicated and delayed messages,
//! reconnects, crashes back to the last save (with a fresh actor), persisted sync states. At
//! the end every peer has the same heads and the same value tree, and no saved change is lost.
//! `CONVERGE_SIM_SEEDS` sets the number of seeds (default 1,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::needless_range_loop)]

use converge_doc::{Document, ObjType, ROOT, Value};
use converge_encoding::{ActorId, ScalarValue};
use converge_sync::{SyncExt, SyncMessage, SyncState};

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
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Peer {
    doc: Document,
    /// What survives a crash: `save()` as of the last save.
    saved: Vec<u8>,
    /// One sync state per other peer, and its persisted form.
    states: Vec<SyncState>,
    persisted: Vec<Vec<u8>>,
}

fn actor(seed: u64, n: u32) -> ActorId {
    let mut bytes = seed.to_le_bytes().to_vec();
    bytes.extend_from_slice(&n.to_be_bytes());
    ActorId::from_bytes(&bytes)
}

/// The object at `ROOT[key]` if it has kind `kind`, else a new one.
fn object(doc: &mut Document, key: &str, kind: ObjType) -> converge_doc::ExId {
    if let Some(v) = doc.get(&ROOT, key).unwrap()
        && let Value::Object(k, id) = v.value
        && k == kind
    {
        return id;
    }
    doc.put_object(&ROOT, key, kind).unwrap()
}

/// One random local edit (one change).
fn edit(doc: &mut Document, rng: &mut Rng) {
    match rng.below(3) {
        0 => {
            let key = format!("k{}", rng.below(5));
            doc.put(
                &ROOT,
                key.as_str(),
                ScalarValue::Int(rng.below(1000) as i64),
            )
            .unwrap();
        }
        1 => {
            let list = object(doc, "list", ObjType::List);
            let len = doc.length(&list).unwrap() as u64;
            if len > 0 && rng.chance(25) {
                doc.delete(&list, rng.below(len) as usize).unwrap();
            } else {
                let at = rng.below(len + 1) as usize;
                doc.insert(&list, at, ScalarValue::Uint(rng.below(100)))
                    .unwrap();
            }
        }
        _ => {
            let text = object(doc, "text", ObjType::Text);
            let len = doc.length(&text).unwrap() as u64;
            let at = rng.below(len + 1);
            let del = rng.below((len - at).min(3) + 1) as usize;
            let words = ["a", "bc", "héllo ", "😀", ""];
            let s = words[rng.below(words.len() as u64) as usize];
            doc.splice_text(&text, at as usize, del, s).unwrap();
        }
    }
}

/// A directed link with FIFO order; messages may be dropped, duplicated or held back.
#[derive(Default)]
struct Link {
    queue: std::collections::VecDeque<Vec<u8>>,
}

fn load(bytes: &[u8]) -> Document {
    if bytes.is_empty() {
        Document::new()
    } else {
        Document::load(bytes).unwrap()
    }
}

/// What a run did: (changes in the final document, messages sent, bytes sent, crashes).
fn simulate(seed: u64) -> [usize; 4] {
    let mut stats = [0usize; 4];
    let mut rng = Rng(seed);
    let n = 2 + rng.below(4) as usize;
    let mut peers: Vec<Peer> = (0..n)
        .map(|i| Peer {
            doc: Document::with_actor(actor(seed, i as u32)),
            saved: Vec::new(),
            states: (0..n).map(|_| SyncState::new()).collect(),
            persisted: vec![SyncState::new().encode(); n],
        })
        .collect();
    let mut links: Vec<Vec<Link>> = (0..n)
        .map(|_| (0..n).map(|_| Link::default()).collect())
        .collect();

    let mut next_actor = n as u32;
    let fault_steps = 60 + rng.below(60);
    let mut step = 0u64;
    let mut quiet_rounds = 0;
    loop {
        let faults = step < fault_steps;
        step += 1;
        // Edits and saves.
        for p in peers.iter_mut() {
            if faults && rng.chance(15) {
                edit(&mut p.doc, &mut rng);
            }
            if faults && rng.chance(20) {
                p.saved = p.doc.save();
                for (j, s) in p.states.iter().enumerate() {
                    p.persisted[j] = s.encode();
                }
            }
        }
        // Crashes and reconnects (only while faults are on).
        if faults && rng.chance(3) {
            let i = rng.below(n as u64) as usize;
            let p = &mut peers[i];
            p.doc = load(&p.saved);
            // A restarted process takes a fresh actor id, as Automerge apps do.
            next_actor += 1;
            p.doc.set_actor(actor(seed, next_actor));
            stats[3] += 1;
            for j in 0..n {
                p.states[j] = if rng.chance(50) {
                    SyncState::decode(&p.persisted[j]).unwrap()
                } else {
                    SyncState::new()
                };
                links[i][j].queue.clear();
                links[j][i].queue.clear();
            }
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
                if let Some(m) = p.doc.generate_sync_message(&mut p.states[j]) {
                    activity = true;
                    let wire = m.encode();
                    stats[1] += 1;
                    stats[2] += wire.len();
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
                    q.doc
                        .receive_sync_message(&mut q.states[i], m)
                        .unwrap_or_else(|e| panic!("seed {seed}: receive failed: {e}"));
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
    let heads = peers[0].doc.heads();
    let tree = peers[0].doc.value_tree(&ROOT).unwrap();
    for p in &peers {
        assert_eq!(p.doc.heads(), heads, "seed {seed}: peers disagree on heads");
        assert_eq!(
            format!("{:?}", p.doc.value_tree(&ROOT).unwrap()),
            format!("{tree:?}"),
            "seed {seed}: peers disagree on values"
        );
    }
    for q in &peers {
        for c in load(&q.saved).get_changes(&[]) {
            for p in &peers {
                assert!(
                    p.doc.get_change_by_hash(&c.hash()).is_some(),
                    "seed {seed}: a saved change was lost"
                );
            }
        }
    }
    stats[0] = peers[0].doc.change_count();
    stats
}

#[test]
fn document_network_simulation_converges() {
    let seeds: u64 = std::env::var("CONVERGE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut total = [0usize; 4];
    for seed in 0..seeds {
        for (t, x) in total.iter_mut().zip(simulate(seed)) {
            *t += x;
        }
    }
    println!(
        "{seeds} seeds: {} changes, {} messages, {} bytes, {} crashes",
        total[0], total[1], total[2], total[3]
    );
}
