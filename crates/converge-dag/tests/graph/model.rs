//! quickcheck: `ChangeGraph` against a naive model (sets, closure by fixpoint, ancestors by
//! union over deps) on random multi-actor DAGs inserted in random orders and batches.

use std::collections::{BTreeSet, HashMap, HashSet};

use converge_dag::{ChangeGraph, ChangeIdx, ChangeMeta};
use converge_encoding::{ActorId, ChangeHash};
use quickcheck::{QuickCheck, TestResult};

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

/// A well-formed history in generation (topological) order: each change depends on its
/// actor's previous change, directly or through the current heads.
fn generate(rng: &mut Rng, actors: usize, n: usize) -> Vec<ChangeMeta> {
    let mut out: Vec<ChangeMeta> = Vec::new();
    let mut last: Vec<Option<usize>> = vec![None; actors];
    let mut heads: BTreeSet<usize> = BTreeSet::new();
    for i in 0..n {
        let a = rng.below(actors);
        let mut deps: BTreeSet<usize> = BTreeSet::new();
        match rng.below(4) {
            0 => deps.extend(heads.iter().copied()),
            1 if i > 0 => {
                deps.insert(rng.below(i));
            }
            _ => {}
        }
        if let Some(l) = last[a] {
            deps.insert(l);
        }
        let seq = out.iter().filter(|c| c.actor == actor(a)).count() as u64 + 1;
        for d in &deps {
            heads.remove(d);
        }
        heads.insert(i);
        let mut dep_hashes: Vec<ChangeHash> = deps.iter().map(|&d| out[d].hash).collect();
        dep_hashes.sort();
        out.push(ChangeMeta {
            hash: rng.hash(),
            actor: actor(a),
            seq,
            start_op: i as u64 + 1,
            max_op: i as u64 + 1,
            deps: dep_hashes,
        });
        last[a] = Some(i);
    }
    out
}

fn actor(a: usize) -> ActorId {
    ActorId::from_bytes(&[0xa0 + a as u8, 0x01])
}

/// The naive model of a set of inserted changes.
struct Model<'a> {
    by_hash: HashMap<ChangeHash, &'a ChangeMeta>,
}

impl<'a> Model<'a> {
    fn new(changes: &'a [ChangeMeta]) -> Self {
        Model {
            by_hash: changes.iter().map(|c| (c.hash, c)).collect(),
        }
    }

    /// Changes of `inserted` whose deps are all (recursively) applied: a fixpoint.
    fn applied(&self, inserted: &HashSet<ChangeHash>) -> HashSet<ChangeHash> {
        let mut applied = HashSet::new();
        loop {
            let before = applied.len();
            for h in inserted {
                if !applied.contains(h) && self.by_hash[h].deps.iter().all(|d| applied.contains(d))
                {
                    applied.insert(*h);
                }
            }
            if applied.len() == before {
                return applied;
            }
        }
    }

    /// Deps of queued changes that were never inserted (what the reference reports).
    fn missing(
        &self,
        inserted: &HashSet<ChangeHash>,
        applied: &HashSet<ChangeHash>,
    ) -> Vec<ChangeHash> {
        let mut out: BTreeSet<ChangeHash> = BTreeSet::new();
        for h in inserted.difference(applied) {
            for d in &self.by_hash[h].deps {
                if !inserted.contains(d) {
                    out.insert(*d);
                }
            }
        }
        out.into_iter().collect()
    }

    /// Ancestors-or-self of `heads` (recursion; the model is small).
    fn ancestry(&self, heads: &[ChangeHash]) -> HashSet<ChangeHash> {
        fn visit(m: &Model<'_>, h: ChangeHash, out: &mut HashSet<ChangeHash>) {
            if let Some(c) = m.by_hash.get(&h)
                && out.insert(h)
            {
                for d in &c.deps {
                    visit(m, *d, out);
                }
            }
        }
        let mut out = HashSet::new();
        for h in heads {
            visit(self, *h, &mut out);
        }
        out
    }
}

fn hashes(graph: &ChangeGraph, idx: &[ChangeIdx]) -> Vec<ChangeHash> {
    idx.iter()
        .map(|&i| graph.change(i).unwrap().hash())
        .collect()
}

fn check_topological(graph: &ChangeGraph) {
    for c in graph.iter() {
        for d in c.dep_indexes() {
            assert!(d < c.index(), "dep after dependent");
        }
    }
}

fn random_order(seed: u64, actors: u8, n: u16) -> TestResult {
    let mut rng = Rng(seed);
    let actors = usize::from(actors % 5) + 1;
    let n = usize::from(n % 300);
    let changes = generate(&mut rng, actors, n);
    let model = Model::new(&changes);

    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut graph = ChangeGraph::new();
    let mut inserted = HashSet::new();
    let mut applied_so_far: Vec<ChangeHash> = Vec::new();
    let mut pos = 0;
    while pos < n {
        let batch = (1 + rng.below(4)).min(n - pos);
        let metas: Vec<ChangeMeta> = order[pos..pos + batch]
            .iter()
            .map(|&i| changes[i].clone())
            .collect();
        // Re-inserting something already inserted is a no-op.
        let dup = (pos > 0 && rng.below(3) == 0).then(|| changes[order[rng.below(pos)]].clone());
        inserted.extend(metas.iter().map(|m| m.hash));
        let released = graph.insert_batch(metas.into_iter().chain(dup)).unwrap();
        applied_so_far.extend(hashes(&graph, &released));
        pos += batch;

        let expect = model.applied(&inserted);
        assert_eq!(graph.len(), expect.len());
        assert_eq!(applied_so_far.len(), expect.len());
        assert!(expect.iter().all(|h| graph.contains(h)));
        assert_eq!(graph.queued_len(), inserted.len() - expect.len());
        assert_eq!(graph.missing_deps(&[]), model.missing(&inserted, &expect));
    }
    assert_eq!(graph.hashes(), &applied_so_far[..]);
    check_topological(&graph);

    // Heads.
    let all: HashSet<ChangeHash> = changes.iter().map(|c| c.hash).collect();
    let depended: HashSet<ChangeHash> = changes
        .iter()
        .flat_map(|c| c.deps.iter().copied())
        .collect();
    let mut heads: Vec<ChangeHash> = all.difference(&depended).copied().collect();
    heads.sort();
    assert_eq!(graph.heads().collect::<Vec<_>>(), heads);

    // Queries at random head sets (sometimes with an unknown hash).
    for _ in 0..8 {
        let mut hs: Vec<ChangeHash> = (0..rng.below(4))
            .filter(|_| n > 0)
            .map(|_| changes[rng.below(n)].hash)
            .collect();
        if rng.below(4) == 0 {
            hs.push(rng.hash());
        }
        let anc = model.ancestry(&hs);
        // Clock rule.
        let mut clock: HashMap<&ActorId, u64> = HashMap::new();
        for h in &anc {
            let c = model.by_hash[h];
            let e = clock.entry(&c.actor).or_default();
            *e = (*e).max(c.seq);
        }
        let since_expect: Vec<ChangeHash> = if hs.is_empty() {
            graph.hashes().to_vec()
        } else {
            graph
                .hashes()
                .iter()
                .filter(|h| {
                    let c = model.by_hash[*h];
                    c.seq > clock.get(&c.actor).copied().unwrap_or(0)
                })
                .copied()
                .collect()
        };
        assert_eq!(graph.hashes_since(&hs), since_expect);
        let not_anc: Vec<ChangeHash> = graph
            .hashes()
            .iter()
            .filter(|h| !anc.contains(*h))
            .copied()
            .collect();
        assert_eq!(hashes(&graph, &graph.not_ancestors_of(&hs)), not_anc);
        // For well-formed histories the clock rule and exact ancestry agree.
        if !hs.is_empty() {
            assert_eq!(since_expect, not_anc);
        }
        let clock_at = graph.clock_at(&hs);
        for (i, a) in graph.actors().iter().enumerate() {
            let ai = graph.actor_index(a).unwrap();
            assert_eq!(ai.get(), i);
            assert_eq!(clock_at.get(ai), clock.get(a).copied().unwrap_or(0));
        }
        let got: HashSet<ChangeHash> = graph
            .ancestry(&hs)
            .map(|i| graph.change(i).unwrap().hash())
            .collect();
        assert_eq!(got, anc);
        if n > 1 {
            let (x, y) = (changes[rng.below(n)].hash, changes[rng.below(n)].hash);
            let expect = x != y && model.ancestry(&[y]).contains(&x);
            assert_eq!(graph.is_ancestor(&x, &y), expect);
        }
    }
    TestResult::passed()
}

#[test]
fn graph_matches_model_in_random_orders() {
    QuickCheck::new()
        .tests(300)
        .quickcheck(random_order as fn(u64, u8, u16) -> TestResult);
}

#[test]
fn one_batch_equals_one_at_a_time() {
    fn prop(seed: u64, actors: u8, n: u8) -> bool {
        let mut rng = Rng(seed);
        let changes = generate(&mut rng, usize::from(actors % 4) + 1, usize::from(n));
        let mut order = changes.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut one = ChangeGraph::new();
        for c in order.iter().cloned() {
            one.insert(c).unwrap();
        }
        let mut batch = ChangeGraph::new();
        batch.insert_batch(order).unwrap();
        let set = |g: &ChangeGraph| g.hashes().iter().copied().collect::<HashSet<_>>();
        set(&one) == set(&batch) && one.len() == changes.len() && one.heads().eq(batch.heads())
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(u64, u8, u8) -> bool);
}
