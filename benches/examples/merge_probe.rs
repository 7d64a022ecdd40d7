//! Times `merge` of a loaded document into an empty one (every change of the file is
//! missing), min of N runs; with `--oracle`, automerge 0.12's instead (for peak memory, run
//! each side in its own process under `/usr/bin/time -v`); `--encode` also times a full encode
//! (`save_nocompress`) of the merged document; `--one` instead merges, N times, a fork of the
//! loaded document that made one change into a clone of it (clones made outside the timing):
//!
//! ```text
//! cargo run --release -p converge-benches --example merge_probe -- FILE [N] [--oracle] [--encode | --one]
//! ```

use std::time::{Duration, Instant};

use converge_doc::Document;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: merge_probe FILE [N]");
    let n: usize = args.get(1).map_or(5, |s| s.parse().expect("N"));
    let bytes = std::fs::read(path).expect("read FILE");
    if args.iter().any(|a| a == "--oracle") && args.iter().any(|a| a == "--one") {
        let source = automerge::Automerge::load(&bytes).expect("load");
        let mut fork = source.fork();
        let mut tx = fork.transaction();
        automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "merge_probe", 1)
            .expect("put");
        tx.commit();
        let mut best = Duration::MAX;
        for _ in 0..n {
            let mut target = source.clone();
            let start = Instant::now();
            target.merge(&mut fork).expect("merge");
            best = best.min(start.elapsed());
            assert_eq!(target.get_heads(), fork.get_heads());
        }
        println!("{path}: automerge merge of a fork with one more change, min of {n}: {best:?}");
        return;
    }
    if args.iter().any(|a| a == "--oracle") {
        let mut source = automerge::AutoCommit::load(&bytes).expect("load");
        let mut best = Duration::MAX;
        for _ in 0..n {
            let mut target = automerge::AutoCommit::new();
            let start = Instant::now();
            target.merge(&mut source).expect("merge");
            best = best.min(start.elapsed());
            assert_eq!(target.get_heads(), source.get_heads());
        }
        println!("{path}: automerge merge into an empty document, min of {n}: {best:?}");
        return;
    }
    let source = Document::load(&bytes).expect("load");
    if args.iter().any(|a| a == "--one") {
        let mut fork = source.fork();
        fork.put(
            &converge_doc::ROOT,
            "merge_probe",
            converge_encoding::ScalarValue::Int(1),
        )
        .expect("put");
        let mut best = Duration::MAX;
        for _ in 0..n {
            let mut target = source.clone();
            let start = Instant::now();
            target.merge(&fork).expect("merge");
            best = best.min(start.elapsed());
            assert_eq!(target.heads(), fork.heads());
        }
        println!("{path}: merge of a fork with one more change, min of {n}: {best:?}");
        return;
    }
    let mut best = Duration::MAX;
    for _ in 0..n {
        let mut target = Document::new();
        let start = Instant::now();
        target.merge(&source).expect("merge");
        best = best.min(start.elapsed());
        assert_eq!(target.heads(), source.heads());
    }
    println!("{path}: merge into an empty document, min of {n}: {best:?}");
    if args.iter().any(|a| a == "--encode") {
        // A merged document has no kept columns: its save encodes every row.
        let mut target = Document::new();
        target.merge(&source).expect("merge");
        let mut best = Duration::MAX;
        for _ in 0..n {
            let start = Instant::now();
            std::hint::black_box(target.save_nocompress());
            best = best.min(start.elapsed());
        }
        println!(
            "{path}: full encode (save_nocompress) of the merged document, min of {n}: {best:?}"
        );
    }
}
