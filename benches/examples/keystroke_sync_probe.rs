//! Steady-state sync on a big document: two peers hold the same loaded file and have synced
//! to quiescence (sync states kept); then, N times, one peer makes a one-key edit and the two
//! sync until quiet again. Prints the min and median of those sessions' wall time, their
//! rounds and bytes, for converge↔converge and automerge↔automerge (every message encoded
//! and decoded, `converge_benches::sync::session`):
//!
//! ```text
//! cargo run --release -p converge-benches --example keystroke_sync_probe -- FILE [N]
//! ```
//!
//! This is what a document open on two devices does on every keystroke, so it must cost the
//! edit, not the document. Last, the least time of N calls of `generate` on a peer in sync
//! (what a server polling many idle peers pays), each side.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use converge_benches::sync::{Ours, Peer, Theirs, session};
use converge_doc::{Document, ROOT};
use converge_encoding::ScalarValue;

fn report(who: &str, mut times: Vec<Duration>, rounds: usize, bytes: usize) {
    times.sort();
    let n = times.len();
    println!(
        "{who}: min {:?} median {:?} over {n} edits; {rounds} rounds and {bytes} B per edit",
        times[0],
        times[n / 2]
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let n: usize = args.get(1).map_or(20, |s| s.parse().expect("N"));
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));

    let mut a = Ours {
        doc: Document::load(&bytes).expect("converge loads"),
        state: Default::default(),
    };
    let mut b = Ours {
        doc: Document::load(&bytes).expect("converge loads"),
        state: Default::default(),
    };
    session(&mut a, &mut b);
    let (mut times, mut last) = (Vec::new(), (0, 0));
    for i in 0..n {
        a.doc
            .put(&ROOT, "keystroke", ScalarValue::Int(i as i64))
            .expect("put");
        let start = Instant::now();
        last = session(&mut a, &mut b);
        times.push(start.elapsed());
        assert_eq!(a.heads(), b.heads());
    }
    report(&format!("{path}: converge"), times, last.0, last.1);
    let idle = idle_generate(&mut a, n);

    let load = || automerge::Automerge::load(&bytes).expect("automerge loads");
    let mut a = Theirs {
        doc: load(),
        state: automerge::sync::State::new(),
    };
    let mut b = Theirs {
        doc: load(),
        state: automerge::sync::State::new(),
    };
    session(&mut a, &mut b);
    let mut times = Vec::new();
    for i in 0..n {
        let mut tx = a.doc.transaction();
        tx.put(automerge::ROOT, "keystroke", i as i64).expect("put");
        tx.commit();
        let start = Instant::now();
        last = session(&mut a, &mut b);
        times.push(start.elapsed());
        assert_eq!(a.heads(), b.heads());
    }
    report(&format!("{path}: automerge"), times, last.0, last.1);
    let theirs = idle_generate(&mut a, n);
    println!("{path}: generate when in sync: converge min {idle:?}, automerge min {theirs:?}");
}

/// The least time of `n` calls of `generate` on a peer in sync (each returns no message).
fn idle_generate(peer: &mut impl Peer, n: usize) -> Duration {
    (0..n.max(1))
        .map(|_| {
            let start = Instant::now();
            assert!(peer.generate().is_none(), "in sync: nothing to send");
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
