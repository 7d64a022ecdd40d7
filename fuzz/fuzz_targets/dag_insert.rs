//! DAG insertion of arbitrary change metadata: never panics, and the graph's invariants hold
//! after every step (topological order, heads, contiguous seqs, queue accounting, queries).
//!
//! Input: records of 4 bytes `[op, actor_seq, dep_a, dep_b]`. Change hashes come from a
//! counter, so deps can name earlier, later (never-inserted yet) or reused changes.
#![no_main]

use std::collections::{BTreeSet, HashMap, HashSet};

use converge_dag::{ChangeGraph, ChangeMeta};
use converge_encoding::{ActorId, ChangeHash};

fn hash(n: u32) -> ChangeHash {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.wrapping_mul(0x9e37_79b9).to_le_bytes());
    b[4..8].copy_from_slice(&n.to_le_bytes());
    ChangeHash(b)
}

/// The op counters of change `n`: some past `u32`, which the graph keeps beside its compact
/// table.
fn counters(n: u32) -> (u64, u64) {
    let start = if n % 3 == 0 {
        u64::from(n) << 31 | u64::from(u32::MAX)
    } else {
        u64::from(n)
    };
    (start, start + u64::from(n % 5))
}

/// The `n` a change hash was made from.
fn number(hash: &ChangeHash) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&hash.0[4..8]);
    u32::from_le_bytes(b)
}

fn check(graph: &ChangeGraph) {
    let mut depended = HashSet::new();
    let mut seqs: HashMap<&ActorId, u64> = HashMap::new();
    for c in graph.iter() {
        for d in c.dep_indexes() {
            assert!(d < c.index());
        }
        depended.extend(c.deps());
        let s = seqs.entry(c.actor()).or_default();
        *s += 1;
        assert_eq!(c.seq(), *s, "seqs of an actor are 1..=n in graph order");
        assert_eq!(graph.index_of(&c.hash()), Some(c.index()));
        assert_eq!((c.start_op(), c.max_op()), counters(number(&c.hash())));
    }
    let max_op = graph.iter().map(|c| c.max_op()).max().unwrap_or(0);
    assert_eq!(graph.max_op(), max_op);
    let heads: BTreeSet<ChangeHash> = graph
        .hashes()
        .iter()
        .filter(|h| !depended.contains(*h))
        .copied()
        .collect();
    let got: Vec<ChangeHash> = graph.heads().collect();
    assert!(got.iter().copied().eq(heads.iter().copied()));
    assert!(graph.hashes_since(&got).is_empty());
    assert!(graph.not_ancestors_of(&got).is_empty());
    assert_eq!(graph.hashes_since(&[]).len(), graph.len());
    let clock = graph.clock_at(&got);
    for (actor, seq) in seqs {
        assert_eq!(clock.get(graph.actor_index(actor).unwrap()), seq);
        assert_eq!(graph.seq_for_actor(actor), seq);
    }
    assert_eq!(graph.ancestry(&got).count(), graph.len());
    // The clock at each change, and at its deps (near the heads, found from them; farther,
    // by the walk down), is the highest seq of each actor among what it reaches.
    for c in graph.iter() {
        let deps: Vec<ChangeHash> = c.deps().collect();
        for at in [vec![c.hash()], deps] {
            let mut expect: HashMap<usize, u64> = HashMap::new();
            for i in graph.ancestry(&at) {
                let a = graph.change(i).unwrap();
                let e = expect.entry(a.actor_index().get()).or_default();
                *e = (*e).max(a.seq());
            }
            let clock = graph.clock_at(&at);
            for (a, _) in graph.actors().iter().enumerate() {
                let ai = graph.actor_index(&graph.actors()[a]).unwrap();
                assert_eq!(clock.get(ai), expect.get(&a).copied().unwrap_or(0));
            }
        }
    }
    let missing = graph.missing_deps(&[]);
    assert!(missing.windows(2).all(|w| w[0] < w[1]));
    assert!(
        missing
            .iter()
            .all(|h| !graph.contains(h) && !graph.is_queued(h))
    );
    assert_eq!(graph.queued().len(), graph.queued_len());
    for q in graph.queued() {
        assert!(!graph.contains(&q.hash));
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut graph = ChangeGraph::new();
    let mut batch: Vec<ChangeMeta> = Vec::new();
    let mut counter = 0u32;
    for record in data.chunks_exact(4).take(256) {
        let &[op, actor_seq, dep_a, dep_b] = record else {
            continue;
        };
        let actor = ActorId::from_bytes(&[actor_seq >> 5]);
        let seq = u64::from(actor_seq & 0x1f);
        // A dep names a change by counter; values past the counter name future changes.
        let dep = |d: u8| hash(u32::from(d) % (counter + 3));
        let deps: Vec<ChangeHash> = match op & 3 {
            0 => vec![],
            1 => vec![dep(dep_a)],
            _ => vec![dep(dep_a), dep(dep_b)],
        };
        // op bit 2: reuse the hash of an earlier change (a duplicate or a clash).
        let n = if op & 4 != 0 && counter > 0 {
            u32::from(dep_b) % counter
        } else {
            counter += 1;
            counter - 1
        };
        batch.push(ChangeMeta {
            hash: hash(n),
            actor: actor.clone(),
            seq,
            start_op: counters(n).0,
            max_op: counters(n).1,
            deps,
        });
        // op bit 3: end the batch here; bit 4 with it: a local change claims (actor, seq).
        if op & 8 != 0 {
            let _ = graph.insert_batch(std::mem::take(&mut batch));
            if op & 16 != 0 {
                graph.discard_queued_from(&actor, seq);
            }
            check(&graph);
        }
    }
    let _ = graph.insert_batch(batch);
    check(&graph);
});
