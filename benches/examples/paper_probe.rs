//! Times converge replaying the automerge-paper trace (one transaction, and a change per edit)
//! without criterion, for quick before/after checks while tuning:
//!
//! ```text
//! cargo run --release -p converge-benches --example paper_probe [RUNS] [tx|edit|auto] [oracle] [warm]
//! ```
//!
//! `auto` times the trace through an `AutoCommit` instead: its edits pending until the end,
//! then with `heads()` after every edit (which commits each as its own change).
//!
//! Prints the median and the fastest of `RUNS` (default 7) runs of each, and the fastest
//! drop of the document each built (criterion's `iter` times the drop with the run). With
//! `oracle`, times automerge 0.12 too (seconds per run). With `warm`, automerge replays the
//! trace in one transaction before the change-per-edit runs, as the criterion group's
//! sanity check does before its timed runs: the heap it leaves behind changes how glibc
//! serves converge's memory (before the paged op arena, converge's change per edit took
//! 7-8 % longer after it, paying page faults on every run). The criterion bench `document`
//! gives the figures docs/BENCHMARKS.md reports; this probe only makes tuning loops short.

use std::time::{Duration, Instant};

use converge_benches::automerge_paper_replay;
use converge_doc::{AutoCommit, Document, ObjType, ROOT};
use converge_encoding::ActorId;

/// The median and minimum of `runs` runs of `f`, and the minimum time its output took to
/// drop (timed apart: criterion's `iter` counts it in, this probe does not).
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut drops = Vec::with_capacity(runs);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = f();
            let took = start.elapsed();
            let start = Instant::now();
            drop(out);
            drops.push(start.elapsed());
            took
        })
        .collect();
    times.sort();
    let drop_min = drops.into_iter().min().unwrap_or_default();
    (times[times.len() / 2], times[0], drop_min)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(7);
    let oracle = args.iter().any(|a| a == "oracle");
    let only_tx = args.iter().any(|a| a == "tx");
    let only_edit = args.iter().any(|a| a == "edit");
    let warm = args.iter().any(|a| a == "warm");
    let auto = args.iter().any(|a| a == "auto");
    let edits = converge_benches::paper_edits();
    let report = |name: &str, (median, min, drop_min): (Duration, Duration, Duration)| {
        println!(
            "{name:<32} median {median:>10.2?}  min {min:>10.2?}  (drop: min {drop_min:>8.2?})"
        )
    };
    if auto {
        for heads_each in [false, true] {
            report(
                if heads_each {
                    "AutoCommit, heads() each edit"
                } else {
                    "AutoCommit, pending to the end"
                },
                time(runs, || {
                    let mut doc = AutoCommit::with_actor(ActorId::from_bytes(&[1; 16]));
                    let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
                    for e in &edits {
                        doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
                        if heads_each {
                            std::hint::black_box(doc.heads());
                        }
                    }
                    doc.commit().unwrap();
                    doc
                }),
            );
        }
        return;
    }
    if !only_edit {
        report(
            "converge one transaction",
            time(runs, || {
                let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
                let mut tx = doc.transaction();
                let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
                for e in &edits {
                    tx.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
                }
                tx.commit().unwrap();
                doc
            }),
        );
    }
    if warm {
        drop(automerge_paper_replay(&edits, false));
    }
    if !only_tx {
        report(
            "converge change per edit",
            time(runs, || {
                let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
                let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
                for e in &edits {
                    // Outside a transaction each call commits its own change.
                    doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
                }
                doc
            }),
        );
    }
    if oracle {
        let runs = runs.min(3);
        for per_edit in [false, true] {
            report(
                if per_edit {
                    "automerge change per edit"
                } else {
                    "automerge one transaction"
                },
                time(runs, || automerge_paper_replay(&edits, per_edit)),
            );
        }
    }
}
