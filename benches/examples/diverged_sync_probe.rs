//! Times converge↔converge sync sessions of the criterion scenario "sync/10000 shared + 1000
//! divergent each, fresh states" (benches/benches/sync.rs, `diverged(10_000, 1_000, false)`),
//! built the same way: an oracle document of `SHARED` puts, forked into two actors that add
//! `DIVERGENT` puts each, saved and loaded into converge. Each session starts from fresh
//! states and clones of the loaded documents, and runs the bench's own `session`
//! (`converge_benches::sync`), every message encoded and decoded; the clones are made outside
//! the timed part.
//!
//! ```text
//! cargo run --release -p converge-benches --example diverged_sync_probe -- [RUNS [SHARED [DIVERGENT]]] [--automerge]
//! ```
//!
//! Defaults: 200 runs, 10,000 shared, 1,000 divergent. `--automerge` also times
//! automerge↔automerge sessions of the same documents (fewer runs: they are slow).

use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit, Automerge};
use converge_benches::sync::{Ours, Theirs, puts, session};
use converge_doc::Document;
use converge_sync::SyncState;

fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let min = times.first().copied().unwrap_or_default();
    let max = times.last().copied().unwrap_or_default();
    let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
    let at = |q: usize| {
        times
            .get(times.len() * q / 100)
            .copied()
            .unwrap_or_default()
    };
    format!(
        "median {median:.2?}, min {min:.2?}, max {max:.2?}, mean {mean:.2?}, p10/p25/p75/p90 {:.2?}/{:.2?}/{:.2?}/{:.2?} ({} runs)",
        at(10),
        at(25),
        at(75),
        at(90),
        times.len()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_automerge = args.iter().any(|a| a == "--automerge");
    let mut nums = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(|s| s.parse::<usize>().expect("a number"));
    let runs = nums.next().unwrap_or(200);
    let shared = nums.next().unwrap_or(10_000);
    let divergent = nums.next().unwrap_or(1_000);

    let t = Instant::now();
    let mut base = AutoCommit::new();
    base.set_actor(ActorId::from(&[0xba, 0x5e][..]));
    puts(&mut base, shared, 0);
    let mut fa = base.fork();
    fa.set_actor(ActorId::from(&[0xaa, 0x01][..]));
    let mut fb = base.fork();
    fb.set_actor(ActorId::from(&[0xbb, 0x02][..]));
    let lower_bound = puts(&mut fa, divergent, 1) + puts(&mut fb, divergent, 2);
    let (saved_a, saved_b) = (fa.save(), fb.save());
    let a = Document::load(&saved_a).expect("converge loads");
    let b = Document::load(&saved_b).expect("converge loads");
    eprintln!(
        "built {shared} shared + {divergent} divergent each in {:.2?}",
        t.elapsed()
    );

    let mut times = Vec::with_capacity(runs);
    let mut last = (0, 0);
    let peer = |doc: &Document| Ours {
        doc: doc.clone(),
        state: SyncState::new(),
    };
    for _ in 0..runs {
        let (mut x, mut y) = (peer(&a), peer(&b));
        let t = Instant::now();
        last = session(&mut x, &mut y);
        times.push(t.elapsed());
        assert_eq!(x.doc.heads(), y.doc.heads(), "heads differ");
        drop((x, y));
    }
    let (rounds, bytes) = last;
    println!(
        "converge↔converge: {rounds} rounds, {bytes} B ({:.2}x lower bound {lower_bound} B); {}",
        bytes as f64 / lower_bound as f64,
        summary(times)
    );

    if with_automerge {
        let a = Automerge::load(&saved_a).expect("oracle loads");
        let b = Automerge::load(&saved_b).expect("oracle loads");
        let runs = (runs / 10).max(3);
        let mut times = Vec::with_capacity(runs);
        let mut last = (0, 0);
        let peer = |doc: &Automerge| Theirs {
            doc: doc.clone(),
            state: automerge::sync::State::new(),
        };
        for _ in 0..runs {
            let (mut x, mut y) = (peer(&a), peer(&b));
            let t = Instant::now();
            last = session(&mut x, &mut y);
            times.push(t.elapsed());
        }
        let (rounds, bytes) = last;
        println!(
            "automerge↔automerge: {rounds} rounds, {bytes} B ({:.2}x lower bound); {}",
            bytes as f64 / lower_bound as f64,
            summary(times)
        );
    }
}
