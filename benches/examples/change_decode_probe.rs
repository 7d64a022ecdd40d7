//! Times decoding the automerge-paper document's 259,779 changes (one op each, nearly all):
//! `Change::decode` of each chunk (checksum, hash, validation of its ops), then reading the
//! ops of each decoded change borrowed (`Change::op_refs`, what applying a change reads) and
//! owned (`Change::ops`).
//!
//! ```text
//! cargo run --release -p converge-benches --example change_decode_probe -- [FILE [RUNS]]
//! ```
//!
//! `FILE` defaults to `target/peak-memory-data/paper.automerge` (written by `doc_peak_memory
//! write-paper-doc`); `RUNS` to 7. Prints the minimum and median of each, per change. The
//! decoded changes go into a vector kept across runs, so that its page faults are not timed.

use std::time::{Duration, Instant};

use converge_doc::Document;
use converge_encoding::{Bytes, Change};

fn stats(mut t: Vec<Duration>, n: usize) -> String {
    t.sort();
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    format!(
        "min {:.1} ns, median {:.1} ns a change",
        per(t[0]),
        per(t[t.len() / 2])
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .unwrap_or_else(|| "target/peak-memory-data/paper.automerge".into());
    let runs: usize = args.next().map_or(7, |r| r.parse().expect("a number"));
    let doc = Document::load(&std::fs::read(&file).expect("read")).expect("load");
    let chunks: Vec<Bytes> = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| c.bytes().clone())
        .collect();
    let n = chunks.len();
    let mut decode = Vec::new();
    let mut refs = Vec::new();
    let mut owned = Vec::new();
    let mut sink = 0usize;
    // Kept across runs, so that the decoding is timed without the vector's page faults.
    let mut changes: Vec<Change> = Vec::with_capacity(n);
    for _ in 0..runs {
        changes.clear();
        let t = Instant::now();
        changes.extend(
            chunks
                .iter()
                .map(|b| Change::decode(b.clone()).expect("decodes")),
        );
        decode.push(t.elapsed());
        let t = Instant::now();
        for c in &changes {
            // The preds are decoded by `op_refs`, the rest by each pass of its iterator.
            sink += c.op_refs().iter().count();
        }
        refs.push(t.elapsed());
        let t = Instant::now();
        for c in &changes {
            sink += c.ops().count();
        }
        owned.push(t.elapsed());
    }
    println!("{n} changes ({sink} ops read)");
    println!("Change::decode  {}", stats(decode, n));
    println!("op_refs         {}", stats(refs, n));
    println!("ops (owned)     {}", stats(owned, n));
}
