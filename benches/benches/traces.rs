//! Editing-trace benchmarks of `converge-doc` beside the automerge 0.12 oracle, on the traces
//! of `shared/data/traces` (see `converge_benches::traces` for the replay on each side):
//!
//! - `traces/concurrent`: friendsforever and clownschool, one document per agent (before each
//!   txn its agent's document gets, in one `apply_changes` call, the changes of the txn's causal
//!   past it lacks; then the patches are committed as one change; all agents merged at the end);
//! - `traces/sequential`: the five sequential traces as local edits, one change per txn;
//! - `traces/save`: a one-key edit then `save`, on every replayed document (sizes printed).
//!
//! Every final text is checked against the trace's `endContent` on both sides before timing.
//!
//! Run with `cargo bench -p converge-benches --bench traces`.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use converge_benches::slow_group;
use converge_benches::traces::{
    CONCURRENT, SEQUENTIAL, Trace, automerge_replay, automerge_text, converge_replay,
    converge_text, load_trace, replay_plan,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Parses the trace, computes its replay plan, and checks both sides' final text.
fn prepare(name: &str) -> (Trace, Vec<Vec<usize>>) {
    let trace = load_trace(name);
    let plan = replay_plan(&trace);
    let (doc, text) = converge_replay(&trace, &plan);
    let converge = converge_text(&doc, &text);
    assert!(
        converge == trace.end_content,
        "converge: final text of {name} differs from endContent ({} vs {} chars)",
        converge.chars().count(),
        trace.end_content.chars().count()
    );
    let (oracle, text) = automerge_replay(&trace, &plan);
    assert!(
        automerge_text(&oracle, &text) == trace.end_content,
        "automerge: final text of {name} differs from endContent"
    );
    (trace, plan)
}

fn bench_replay(c: &mut Criterion, group_name: &str, names: &[&str]) {
    let traces: Vec<(&str, Trace, Vec<Vec<usize>>)> = names
        .iter()
        .map(|name| {
            let (trace, plan) = prepare(name);
            (*name, trace, plan)
        })
        .collect();
    let mut group = slow_group(c, group_name, 5);
    for (name, trace, plan) in &traces {
        group.bench_function(BenchmarkId::new("converge", name), |b| {
            b.iter(|| converge_replay(trace, plan))
        });
        group.bench_function(BenchmarkId::new("automerge", name), |b| {
            b.iter(|| automerge_replay(trace, plan))
        });
    }
    group.finish();
}

fn bench_concurrent(c: &mut Criterion) {
    bench_replay(c, "traces/concurrent", &CONCURRENT);
}

fn bench_sequential(c: &mut Criterion) {
    bench_replay(c, "traces/sequential", &SEQUENTIAL);
}

fn bench_save(c: &mut Criterion) {
    let mut group = slow_group(c, "traces/save", 3);
    for name in CONCURRENT.iter().chain(&SEQUENTIAL) {
        let trace = load_trace(name);
        let plan = replay_plan(&trace);
        let (mut doc, _) = converge_replay(&trace, &plan);
        let (mut oracle, _) = automerge_replay(&trace, &plan);
        println!(
            "save sizes, {name}: converge {} bytes, automerge {} bytes",
            doc.save().len(),
            oracle.save().len()
        );
        // A one-key edit before each save (an unchanged document's save copies the chunk the
        // previous save kept; after an edit converge splices the columns it kept).
        let mut n = 0i64;
        group.bench_function(BenchmarkId::new("converge", name), |b| {
            b.iter(|| {
                n += 1;
                doc.put(&converge_doc::ROOT, "bench-edit", n).expect("put");
                doc.save()
            })
        });
        group.bench_function(BenchmarkId::new("automerge", name), |b| {
            b.iter(|| {
                n += 1;
                automerge::transaction::Transactable::put(
                    &mut oracle,
                    automerge::ROOT,
                    "bench-edit",
                    n,
                )
                .expect("put");
                oracle.save()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_concurrent, bench_sequential, bench_save);
criterion_main!(benches);
