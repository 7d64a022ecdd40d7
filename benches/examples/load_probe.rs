//! Loads a file repeatedly with converge (and, with `--oracle`, with automerge) and prints the
//! minimum and median wall time of each, for quick A/B runs and profiles:
//!
//! ```text
//! cargo run --release -p converge-benches --example load_probe -- FILE [RUNS] [--oracle]
//! ```

use std::time::{Duration, Instant};

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: load_probe FILE [RUNS] [--oracle]");
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let oracle = args.iter().any(|a| a == "--oracle");
    let bytes = std::fs::read(path).expect("read file");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let doc = converge_doc::Document::load(&bytes).expect("converge loads");
        ours.push(t.elapsed());
        drop(doc);
        if oracle {
            let t = Instant::now();
            let doc = automerge::Automerge::load(&bytes).expect("oracle loads");
            theirs.push(t.elapsed());
            drop(doc);
        }
    }
    let (min, med) = stats(ours);
    println!("converge  min {min:?} median {med:?}");
    if oracle {
        let (min, med) = stats(theirs);
        println!("automerge min {min:?} median {med:?}");
    }
}
