//! Times `merge` of a loaded document into an empty one (every change of the file is
//! missing), min of N runs; with `--oracle`, automerge 0.12's instead (for peak memory, run
//! each side in its own process under `/usr/bin/time -v`); `--encode` also times a full encode
//! (`save_nocompress`) of the merged document:
//!
//! ```text
//! cargo run --release -p converge-benches --example merge_probe -- FILE [N] [--oracle] [--encode]
//! ```

use std::time::{Duration, Instant};

use converge_doc::Document;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: merge_probe FILE [N]");
    let n: usize = args.get(1).map_or(5, |s| s.parse().expect("N"));
    let bytes = std::fs::read(path).expect("read FILE");
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
