//! A sync into an empty peer with both sides speaking at once (each generates before either
//! receives, every round, as two peers that connect at the same moment do), in the four
//! pairings of converge and automerge 0.12: rounds, bytes and the session's wall time
//! (minimum of `RUNS`; loading the sender is not timed).
//!
//! ```text
//! cargo run --release -p converge-benches --example both_at_once_probe -- FILE [RUNS]
//! ```

use std::time::{Duration, Instant};

use converge_benches::sync::{Ours, Peer, Theirs};

/// (rounds, bytes, time) of one session.
fn session(a: &mut dyn Peer, b: &mut dyn Peer) -> (usize, usize, Duration) {
    let (mut rounds, mut bytes) = (0, 0);
    let start = Instant::now();
    loop {
        let ma = a.generate();
        let mb = b.generate();
        if ma.is_none() && mb.is_none() {
            break;
        }
        for m in [&ma, &mb].into_iter().flatten() {
            bytes += m.len();
        }
        if let Some(m) = &ma {
            b.receive(m);
        }
        if let Some(m) = &mb {
            a.receive(m);
        }
        rounds += 1;
        assert!(rounds < 30, "sync did not terminate");
    }
    let took = start.elapsed();
    assert_eq!(a.heads(), b.heads(), "the peers disagree");
    (rounds, bytes, took)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: both_at_once_probe FILE [RUNS]");
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let bytes = std::fs::read(path).expect("read file");
    let cv = || -> Box<dyn Peer> {
        Box::new(Ours {
            doc: converge_doc::Document::load(&bytes).expect("converge loads"),
            state: Default::default(),
        })
    };
    let cv_empty = || -> Box<dyn Peer> {
        Box::new(Ours {
            doc: converge_doc::Document::new(),
            state: Default::default(),
        })
    };
    let am = || -> Box<dyn Peer> {
        Box::new(Theirs {
            doc: automerge::Automerge::load(&bytes).expect("automerge loads"),
            state: Default::default(),
        })
    };
    let am_empty = || -> Box<dyn Peer> {
        Box::new(Theirs {
            doc: automerge::Automerge::new(),
            state: Default::default(),
        })
    };
    type Make<'a> = &'a dyn Fn() -> Box<dyn Peer>;
    let pairings: [(&str, Make<'_>, Make<'_>); 4] = [
        ("converge -> empty converge", &cv, &cv_empty),
        ("automerge -> empty automerge", &am, &am_empty),
        ("converge -> empty automerge", &cv, &am_empty),
        ("automerge -> empty converge", &am, &cv_empty),
    ];
    println!("{path}: {} bytes saved", bytes.len());
    for (name, full, empty) in pairings {
        let mut best: Option<(usize, usize, Duration)> = None;
        for _ in 0..runs {
            let (mut a, mut b) = (full(), empty());
            let r = session(a.as_mut(), b.as_mut());
            best = Some(match best {
                Some(b) if b.2 <= r.2 => b,
                _ => r,
            });
        }
        if let Some((rounds, total, took)) = best {
            println!(
                "{name:<30} {rounds} rounds, {total:>9} bytes ({:.2}x the saved document), \
                 min {took:.2?}",
                total as f64 / bytes.len() as f64
            );
        }
    }
}
