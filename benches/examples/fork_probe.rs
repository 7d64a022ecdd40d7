//! Times `Document::fork` of a loaded document, and `fork_at` the middle change and the
//! change before the last (with `--oracle`, automerge's `fork` and `fork_at` of the same
//! file beside them), for A/B runs and profiles:
//!
//! ```text
//! cargo run --release -p converge-benches --example fork_probe -- FILE [RUNS] [--oracle] [--at-only]
//! ```
//!
//! With `--at-only` only converge's `fork_at` the middle change runs, RUNS times (for
//! `perf`).

use converge_benches::min_of;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let oracle = args.iter().any(|a| a == "--oracle");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc = converge_doc::Document::load(&bytes).expect("the file loads");
    let changes = doc.get_changes(&[]);
    let at = |k: usize| vec![changes[k].hash()];
    let (middle, before_last) = (at(changes.len() / 2), at(changes.len().saturating_sub(2)));
    if args.iter().any(|a| a == "--at-only") {
        let best = min_of(runs, || doc.fork_at(&middle).expect("fork_at"));
        println!("{path}: converge's fork_at the middle change: min {best:?} of {runs}");
        return;
    }
    let best = min_of(runs, || doc.fork());
    println!("{path}: converge's fork: min {best:?} of {runs}");
    for (name, heads) in [
        ("the middle change", &middle),
        ("the one before the last", &before_last),
    ] {
        let best = min_of(runs, || doc.fork_at(heads).expect("fork_at"));
        println!("{path}: converge's fork_at {name}: min {best:?} of {runs}");
    }
    if oracle {
        let am = automerge::Automerge::load(&bytes).expect("the oracle loads");
        let best = min_of(runs, || am.fork());
        println!("{path}: automerge's fork: min {best:?} of {runs}");
        for (name, heads) in [
            ("the middle change", &middle),
            ("the one before the last", &before_last),
        ] {
            let heads: Vec<automerge::ChangeHash> =
                heads.iter().map(|h| automerge::ChangeHash(h.0)).collect();
            let best = min_of(runs, || am.fork_at(&heads).expect("fork_at"));
            println!("{path}: automerge's fork_at {name}: min {best:?} of {runs}");
        }
    }
}
