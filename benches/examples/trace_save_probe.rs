//! Times a fresh encode of a replayed trace document (converge's `save_nocompress`, which
//! encodes every column when no save kept them) and a first compressed save (of copies of the
//! never-saved document made beforehand), beside the oracle's `save` / `save_nocompress`:
//!
//! ```text
//! cargo run --release -p converge-benches --example trace_save_probe -- TRACE [N] [cv]
//! ```
//!
//! With `cv` only converge's encode runs, N times (for `perf`); with `cv-save` only converge's
//! first save, of N copies.

use std::time::{Duration, Instant};

use converge_benches::min_of;
use converge_benches::traces::{automerge_replay, converge_replay, load_trace, replay_plan};

/// The fastest of `save` run once on each of `copies` (so that no run saves a document a
/// previous run saved, or left in the caches).
fn min_first_save<D>(copies: &mut [D], mut save: impl FnMut(&mut D) -> Vec<u8>) -> Duration {
    copies
        .iter_mut()
        .map(|copy| {
            let start = Instant::now();
            drop(std::hint::black_box(save(copy)));
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("rustcode", String::as_str);
    let n: usize = args.get(1).map_or(9, |s| s.parse().expect("N"));
    let only_cv = args.get(2).is_some_and(|s| s == "cv");
    let only_cv_save = args.get(2).is_some_and(|s| s == "cv-save");
    let trace = load_trace(name);
    let plan = replay_plan(&trace);
    let (doc, _) = converge_replay(&trace, &plan);
    if only_cv_save {
        let mut copies: Vec<_> = (0..n).map(|_| doc.clone()).collect();
        let start = Instant::now();
        for copy in &mut copies {
            drop(std::hint::black_box(copy.save()));
        }
        println!(
            "{name}: converge first save, mean {:?}",
            start.elapsed() / n as u32
        );
        return;
    }
    let encode = min_of(n, || drop(std::hint::black_box(doc.save_nocompress())));
    println!("{name}: converge encode (save_nocompress, no kept columns): min {encode:?}");
    if only_cv {
        return;
    }
    // Each run saves its own never-saved copy, cloned beforehand (a save keeps its columns,
    // so saving one document twice would time a repeated save).
    let mut copies: Vec<_> = (0..n).map(|_| doc.clone()).collect();
    let full = min_first_save(&mut copies, |d| d.save());
    println!("{name}: converge first save (copies made beforehand): min {full:?}");
    let (mut oracle, _) = automerge_replay(&trace, &plan);
    // The first save's bytes are the oracle's (a full encode, on two threads when large).
    assert!(
        doc.clone().save() == oracle.clone().save(),
        "{name}: converge's first save differs from automerge's"
    );
    println!("{name}: first save bytes identical to automerge's");
    let am = min_of(n, || drop(std::hint::black_box(oracle.save())));
    let am_nc = min_of(n, || drop(std::hint::black_box(oracle.save_nocompress())));
    println!("{name}: automerge save min {am:?}, save_nocompress min {am_nc:?}");
    // The same cold start as converge's first saves: each run saves its own copy, cloned
    // beforehand, so neither side saves a document its previous run left in the caches.
    let mut am_copies: Vec<_> = (0..n).map(|_| oracle.clone()).collect();
    let am_cold = min_first_save(&mut am_copies, |d| d.save());
    println!("{name}: automerge save of copies made beforehand: min {am_cold:?}");
}
