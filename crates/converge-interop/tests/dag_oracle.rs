//! converge-dag against automerge 0.12: on random multi-actor histories delivered in random
//! orders and batches, the same applied order, heads, missing deps and "changes since heads"
//! (by the clock rule, and by the exact walk `get_changes` uses).

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ROOT};
use converge_dag::{ChangeGraph, ChangeMeta};
use converge_encoding::{ActorId, ChangeHash};

/// splitmix64: a tiny deterministic RNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn hash(&mut self) -> ChangeHash {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        ChangeHash(b)
    }
}

/// A random history: `actors` peers with fixed ids edit, commit and merge each other; returns
/// the union of their changes in the oracle's graph order.
fn history(rng: &mut Rng, actors: usize, rounds: usize) -> Vec<automerge::Change> {
    let mut docs: Vec<AutoCommit> = (0..actors)
        .map(|a| AutoCommit::new().with_actor(automerge::ActorId::from([a as u8 + 1; 16])))
        .collect();
    for round in 0..rounds {
        let a = rng.below(actors);
        if rng.below(3) == 0 {
            let b = rng.below(actors);
            if a != b {
                let mut other = docs[b]
                    .fork()
                    .with_actor(automerge::ActorId::from([0xee; 16]));
                docs[a].merge(&mut other).unwrap();
            }
        }
        for _ in 0..=rng.below(2) {
            let key = format!("k{}", rng.below(5));
            docs[a].put(ROOT, key, round as i64).unwrap();
        }
        docs[a].commit_with(CommitOptions::default().with_time(0));
    }
    let mut all = AutoCommit::new().with_actor(automerge::ActorId::from([0xff; 16]));
    for doc in &mut docs {
        all.merge(doc).unwrap();
    }
    all.get_changes(&[])
}

fn ours(hash: &automerge::ChangeHash) -> ChangeHash {
    ChangeHash(hash.0)
}

fn theirs(hash: &ChangeHash) -> automerge::ChangeHash {
    automerge::ChangeHash(hash.0)
}

fn meta(change: &automerge::Change) -> ChangeMeta {
    ChangeMeta {
        hash: ours(&change.hash()),
        actor: ActorId::from_bytes(change.actor_id().to_bytes()),
        seq: change.seq(),
        start_op: change.start_op().get(),
        max_op: change.max_op(),
        deps: change.deps().iter().map(ours).collect(),
    }
}

fn hashes_of(changes: &[automerge::Change]) -> Vec<ChangeHash> {
    changes.iter().map(|c| ours(&c.hash())).collect()
}

#[test]
fn random_histories_in_random_orders_agree_with_the_oracle() {
    let (mut checked, mut with_missing, mut multi_dep) = (0, 0, 0);
    for seed in 0..60u64 {
        let mut rng = Rng(0xda9 ^ seed.wrapping_mul(0x1234_5678_9abc_def1));
        let actors = 1 + rng.below(5);
        let rounds = 10 + rng.below(150);
        let changes = history(&mut rng, actors, rounds);
        let n = changes.len();
        multi_dep += changes.iter().filter(|c| c.deps().len() > 1).count();
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }

        let mut graph = ChangeGraph::new();
        let mut oracle = AutoCommit::new();
        let mut pos = 0;
        while pos < n {
            let batch = (1 + rng.below(4)).min(n - pos);
            let picked: Vec<automerge::Change> = order[pos..pos + batch]
                .iter()
                .map(|&i| changes[i].clone())
                .collect();
            pos += batch;
            graph.insert_batch(picked.iter().map(meta)).expect("insert");
            oracle.apply_changes(picked).expect("oracle apply");

            let heads: Vec<ChangeHash> = oracle.get_heads().iter().map(ours).collect();
            assert_eq!(
                graph.heads().collect::<Vec<_>>(),
                heads,
                "seed {seed}: heads"
            );
            let missing: Vec<ChangeHash> = oracle.get_missing_deps(&[]).iter().map(ours).collect();
            assert_eq!(
                graph.missing_deps(&[]),
                missing,
                "seed {seed}: missing deps"
            );
            with_missing += usize::from(!missing.is_empty());
            let probe = [changes[rng.below(n)].hash(), theirs(&rng.hash())];
            let missing: Vec<ChangeHash> =
                oracle.get_missing_deps(&probe).iter().map(ours).collect();
            let probe: Vec<ChangeHash> = probe.iter().map(ours).collect();
            assert_eq!(
                graph.missing_deps(&probe),
                missing,
                "seed {seed}: missing deps at"
            );
            checked += 1;
        }
        // Same applied order: the oracle's graph order is the order `get_changes` lists.
        assert_eq!(
            graph.hashes(),
            &hashes_of(&oracle.get_changes(&[]))[..],
            "seed {seed}"
        );

        // Changes since random head sets (including unknown hashes and the empty set).
        for _ in 0..12 {
            let mut hs: Vec<automerge::ChangeHash> = (0..rng.below(4))
                .map(|_| changes[rng.below(n)].hash())
                .collect();
            if rng.below(4) == 0 {
                hs.push(theirs(&rng.hash()));
            }
            let expect = hashes_of(&oracle.get_changes(&hs));
            let hs: Vec<ChangeHash> = hs.iter().map(ours).collect();
            assert_eq!(graph.hashes_since(&hs), expect, "seed {seed}: since {hs:?}");
            // The exact walk `Document::get_changes` and `merge` use gives the same changes
            // on the histories automerge writes.
            let exact: Vec<ChangeHash> = graph
                .not_ancestors_of(&hs)
                .into_iter()
                .map(|i| graph.hashes()[i.get()])
                .collect();
            assert_eq!(exact, expect, "seed {seed}: not ancestors of {hs:?}");
        }
    }
    println!("{checked} steps, {with_missing} with missing deps, {multi_dep} multi-dep changes");
    assert!(checked > 1000 && with_missing > 500 && multi_dep > 100);
}

#[test]
fn reused_seq_is_rejected_like_the_oracle() {
    let actor = automerge::ActorId::from([7u8; 16]);
    let mut a = AutoCommit::new().with_actor(actor.clone());
    a.put(ROOT, "x", 1).unwrap();
    a.commit_with(CommitOptions::default().with_time(0));
    // b shares a's actor id: its next changes reuse a's next seqs with other content.
    let mut b = a.fork().with_actor(actor);
    a.put(ROOT, "x", 2).unwrap();
    a.commit_with(CommitOptions::default().with_time(0));
    for v in [3, 4] {
        b.put(ROOT, "x", v).unwrap();
        b.commit_with(CommitOptions::default().with_time(0));
    }
    let a_changes = a.get_changes(&[]);
    let b_changes = b.get_changes(&[]);
    assert_eq!(a_changes[0].hash(), b_changes[0].hash());
    let (a2, b2, b3) = (&a_changes[1], &b_changes[1], &b_changes[2]);
    assert_eq!((a2.seq(), b2.seq(), b3.seq()), (2, 2, 3));

    let mut oracle = AutoCommit::new();
    let mut graph = ChangeGraph::new();
    oracle.apply_changes(a_changes.clone()).unwrap();
    graph.insert_batch(a_changes.iter().map(meta)).unwrap();
    // b3 waits for b2.
    oracle.apply_changes([b3.clone()]).unwrap();
    assert!(graph.insert(meta(b3)).unwrap().is_empty());
    let missing: Vec<ChangeHash> = oracle.get_missing_deps(&[]).iter().map(ours).collect();
    assert_eq!(graph.missing_deps(&[]), missing);
    assert_eq!(missing, [ours(&b2.hash())]);
    // b2 clashes with a2: both reject it, and both drop the queued b3 that built on it.
    assert!(matches!(
        oracle.apply_changes([b2.clone()]),
        Err(automerge::AutomergeError::DuplicateSeqNumber(2, _))
    ));
    assert!(matches!(
        graph.insert(meta(b2)),
        Err(converge_dag::DagError::DuplicateSeq { seq: 2, .. })
    ));
    assert_eq!(oracle.get_missing_deps(&[]), []);
    assert_eq!(graph.missing_deps(&[]), []);
    assert_eq!(graph.queued_len(), 0);
    let heads: Vec<ChangeHash> = oracle.get_heads().iter().map(ours).collect();
    assert_eq!(graph.heads().collect::<Vec<_>>(), heads);
}
