//! Times `Document::fork` of a loaded document (and, with `--oracle`, automerge's `fork` of
//! the same file), for A/B runs and profiles:
//!
//! ```text
//! cargo run --release -p converge-benches --example fork_probe -- FILE [RUNS] [--oracle]
//! ```

use converge_benches::min_of;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc = converge_doc::Document::load(&bytes).expect("the file loads");
    let best = min_of(runs, || doc.fork());
    println!("{path}: converge's fork: min {best:?} of {runs}");
    if args.iter().any(|a| a == "--oracle") {
        let doc = automerge::Automerge::load(&bytes).expect("the oracle loads");
        let best = min_of(runs, || doc.fork());
        println!("{path}: automerge's fork: min {best:?} of {runs}");
    }
}
