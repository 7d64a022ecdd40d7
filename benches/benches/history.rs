//! History benchmarks (issue 3): the change graph on a 1,000,000-change linear history and a
//! 100,000-change history of 8 concurrent actors (insert all, heads, changes since a head 1 %
//! from the end, missing deps), and the Bloom filter (build and probe, 10,000 and 1,000,000
//! hashes) beside automerge 0.12's.
//!
//! Run with `cargo bench -p converge-benches --bench history`. Bytes per change are printed
//! before the timings: `ChangeGraph::heap_bytes()` (vector and table capacities; the hash
//! table counts one control byte per slot) divided by the number of changes.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use converge_bloom::BloomFilter;
use converge_dag::{ChangeGraph, ChangeMeta};
use converge_encoding::{ActorId, ChangeHash};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

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

    fn hash(&mut self) -> ChangeHash {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        ChangeHash(b)
    }
}

/// A history of `n` changes by `actors` actors, in a valid insertion order. Each change
/// depends on its actor's previous change; with `actors > 1`, one change in four also merges
/// the current heads (the other actors' latest changes), as a peer that synced would.
fn history(n: usize, actors: usize, seed: u64) -> Vec<ChangeMeta> {
    let mut rng = Rng(seed);
    let ids: Vec<ActorId> = (0..actors)
        .map(|a| ActorId::from_bytes(&[a as u8 + 1; 16]))
        .collect();
    let mut last: Vec<Option<ChangeHash>> = vec![None; actors];
    let mut seqs = vec![0u64; actors];
    let mut heads: Vec<ChangeHash> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let a = if actors == 1 {
            0
        } else {
            (rng.next() % actors as u64) as usize
        };
        let mut deps: Vec<ChangeHash> = last[a].into_iter().collect();
        if actors > 1 && rng.next().is_multiple_of(4) {
            deps.extend(heads.iter().copied());
        }
        deps.sort();
        deps.dedup();
        heads.retain(|h| !deps.contains(h));
        let hash = rng.hash();
        heads.push(hash);
        seqs[a] += 1;
        out.push(ChangeMeta {
            hash,
            actor: ids[a].clone(),
            seq: seqs[a],
            start_op: i as u64 + 1,
            max_op: i as u64 + 1,
            deps,
        });
        last[a] = Some(hash);
    }
    out
}

fn build(changes: &[ChangeMeta]) -> ChangeGraph {
    let mut graph = ChangeGraph::new();
    for c in changes {
        graph.insert(c.clone()).expect("valid history");
    }
    graph
}

fn bench_graph(c: &mut Criterion, name: &str, changes: &[ChangeMeta]) {
    let n = changes.len();
    let graph = build(changes);
    let bytes = graph.heap_bytes();
    println!(
        "history/{name}: {n} changes, {} actors, heap {bytes} bytes = {:.1} bytes per change",
        graph.actors().len(),
        bytes as f64 / n as f64
    );
    let since = changes[n - n / 100 - 1].hash;
    println!(
        "history/{name}: changes since a head 1% from the end: {}",
        graph.changes_since(&[since]).len()
    );
    // The same history with the change 1 % from the end withheld: the last 1 % (those after
    // it that depend on it, directly or not) waits in the queue.
    let mut queued = ChangeGraph::new();
    for (i, c) in changes.iter().enumerate() {
        if i != n - n / 100 {
            queued.insert(c.clone()).expect("valid history");
        }
    }
    println!(
        "history/{name}: {} queued, {} missing",
        queued.queued_len(),
        queued.missing_deps(&[]).len()
    );

    let mut group = c.benchmark_group(format!("history/{name}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("insert all", |b| {
        b.iter_batched(
            || changes.to_vec(),
            |changes| {
                let mut graph = ChangeGraph::new();
                for c in changes {
                    graph.insert(c).expect("valid history");
                }
                graph
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("heads", |b| {
        b.iter(|| black_box(&graph).heads().collect::<Vec<_>>())
    });
    group.bench_function("changes since 1% from end", |b| {
        b.iter(|| black_box(&graph).changes_since(&[since]))
    });
    group.bench_function("missing deps (empty queue)", |b| {
        b.iter(|| black_box(&graph).missing_deps(&[]))
    });
    group.bench_function("missing deps (1% queued)", |b| {
        b.iter(|| black_box(&queued).missing_deps(&[]))
    });
    group.finish();
}

fn bench_history(c: &mut Criterion) {
    bench_graph(c, "linear 1M", &history(1_000_000, 1, 1));
    bench_graph(c, "8 actors 100k", &history(100_000, 8, 8));
}

fn bench_bloom(c: &mut Criterion) {
    let mut rng = Rng(0xb100);
    let probes: Vec<ChangeHash> = (0..10_000).map(|_| rng.hash()).collect();
    let oracle_probes: Vec<automerge::ChangeHash> =
        probes.iter().map(|h| automerge::ChangeHash(h.0)).collect();
    for n in [10_000usize, 1_000_000] {
        let hashes: Vec<ChangeHash> = (0..n).map(|_| rng.hash()).collect();
        let oracle_hashes: Vec<automerge::ChangeHash> =
            hashes.iter().map(|h| automerge::ChangeHash(h.0)).collect();
        let ours = BloomFilter::from_hashes(&hashes);
        let oracle = automerge::sync::BloomFilter::from_hashes(oracle_hashes.iter());
        assert_eq!(ours.to_bytes(), oracle.to_bytes());

        let mut group = c.benchmark_group(format!("bloom/{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        group.bench_function(BenchmarkId::new("build", "converge"), |b| {
            b.iter(|| BloomFilter::from_hashes(black_box(&hashes)))
        });
        group.bench_function(BenchmarkId::new("build", "automerge"), |b| {
            b.iter(|| automerge::sync::BloomFilter::from_hashes(black_box(&oracle_hashes).iter()))
        });
        group.bench_function(BenchmarkId::new("probe 10k", "converge"), |b| {
            b.iter(|| probes.iter().filter(|h| ours.contains(h)).count())
        });
        group.bench_function(BenchmarkId::new("probe 10k", "automerge"), |b| {
            b.iter(|| {
                oracle_probes
                    .iter()
                    .filter(|h| oracle.contains_hash(h))
                    .count()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench_history, bench_bloom);
criterion_main!(benches);
