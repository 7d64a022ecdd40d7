//! Loads a file repeatedly with converge (and, with `--oracle`, with automerge) and prints the
//! minimum and median wall time of each, for quick A/B runs and profiles:
//!
//! ```text
//! cargo run --release -p converge-benches --example load_probe -- FILE [RUNS] [--oracle | --oracle-only]
//! ```
//!
//! With `--oracle` the two loads alternate in one process, so each converge load after the
//! first starts on the heap automerge's load just freed (glibc then serves converge's large
//! vectors from pages already touched, and its loads come out faster than in a process of
//! their own); `--oracle-only` times automerge alone, for a comparison process against process.

use std::time::{Duration, Instant};

fn stats(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: load_probe FILE [RUNS] [--oracle | --oracle-only]");
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let only_oracle = args.iter().any(|a| a == "--oracle-only");
    let oracle = only_oracle || args.iter().any(|a| a == "--oracle");
    let bytes = std::fs::read(path).expect("read file");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..runs {
        if !only_oracle {
            let t = Instant::now();
            let doc = converge_doc::Document::load(&bytes).expect("converge loads");
            ours.push(t.elapsed());
            drop(doc);
        }
        if oracle {
            let t = Instant::now();
            let doc = automerge::Automerge::load(&bytes).expect("oracle loads");
            theirs.push(t.elapsed());
            drop(doc);
        }
    }
    if !only_oracle {
        let (min, med) = stats(ours);
        println!("converge  min {min:?} median {med:?}");
    }
    if oracle {
        let (min, med) = stats(theirs);
        println!("automerge min {min:?} median {med:?}");
    }
}
