//! Times a sync session between two forks of a 100,000-change document whose peers persisted
//! their sync states (encode/decode round trip), as the history-DAG work measures it:
//!
//! ```text
//! cargo run --release -p converge-benches --example history_sync_probe
//! ```

use std::time::Instant;

use converge_doc::{Document, ROOT};
use converge_sync::{SyncExt, SyncMessage, SyncState};

/// Syncs `a` and `b` until both are quiet; returns the number of messages.
fn sync(a: &mut Document, b: &mut Document, sa: &mut SyncState, sb: &mut SyncState) -> usize {
    let mut n = 0;
    loop {
        let ma = a.generate_sync_message(sa);
        let mb = b.generate_sync_message(sb);
        if ma.is_none() && mb.is_none() {
            return n;
        }
        if let Some(m) = ma {
            n += 1;
            let m = SyncMessage::decode(&m.encode()).expect("decode");
            b.receive_sync_message(sb, m).expect("receive");
        }
        if let Some(m) = mb {
            n += 1;
            let m = SyncMessage::decode(&m.encode()).expect("decode");
            a.receive_sync_message(sa, m).expect("receive");
        }
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |s| s.parse().expect("count"));
    let t = Instant::now();
    let mut a = Document::new();
    for i in 0..n {
        a.put(&ROOT, format!("k{}", i % 100), i as i64)
            .expect("put");
    }
    let mut b = Document::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    let msgs = sync(&mut a, &mut b, &mut sa, &mut sb);
    assert_eq!(a.heads(), b.heads());
    eprintln!(
        "built and synced {n} changes in {:?} ({msgs} messages)",
        t.elapsed()
    );
    let mut times = Vec::new();
    for round in 0..20 {
        let mut fa = a.fork();
        let mut fb = b.fork();
        for i in 0..100 {
            fa.put(&ROOT, format!("a{}", i % 10), (round * 100 + i) as i64)
                .expect("put");
            fb.put(&ROOT, format!("b{}", i % 10), (round * 100 + i) as i64)
                .expect("put");
        }
        let mut s1 = SyncState::decode(&sa.encode()).expect("state");
        let mut s2 = SyncState::decode(&sb.encode()).expect("state");
        let t = Instant::now();
        sync(&mut fa, &mut fb, &mut s1, &mut s2);
        times.push(t.elapsed());
        assert_eq!(fa.heads(), fb.heads());
    }
    times.sort();
    println!(
        "persisted sync session, median of 20: {:?} (min {:?}, max {:?})",
        times[10], times[0], times[19]
    );
}
