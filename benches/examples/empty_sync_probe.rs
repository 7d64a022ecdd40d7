//! Times converge syncing a saved document into an empty peer (the `sync` bench's "into
//! empty" case, without criterion), for profiles. Both sides generate before either
//! receives, every round (the bench's session alternates instead; `both_at_once_probe`
//! compares this pattern with automerge's):
//!
//! ```text
//! cargo run --release -p converge-benches --example empty_sync_probe -- FILE [RUNS] [--shared]
//! ```
//!
//! Each run clones the loaded sender (outside the timing) and syncs it with a new empty
//! document until both are quiet; prints the minimum and median session time. With
//! `--shared` every run syncs the same sender (a server syncing one document to many new
//! peers, one sync state per peer) and each run's time is printed.

use std::time::{Duration, Instant};

use converge_doc::Document;
use converge_sync::{SyncExt, SyncMessage, SyncState};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: empty_sync_probe FILE [RUNS]");
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let shared = args.iter().any(|a| a == "--shared");
    let bytes = std::fs::read(path).expect("read file");
    let mut sender = Document::load(&bytes).expect("converge loads");
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut cloned = (!shared).then(|| sender.clone());
        let a = cloned.as_mut().unwrap_or(&mut sender);
        let mut b = Document::new();
        let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
        let start = Instant::now();
        let mut messages = 0;
        loop {
            let ma = a.generate_sync_message(&mut sa);
            let mb = b.generate_sync_message(&mut sb);
            if ma.is_none() && mb.is_none() {
                break;
            }
            if let Some(m) = ma {
                messages += 1;
                let m = SyncMessage::decode(&m.encode()).expect("decode");
                b.receive_sync_message(&mut sb, m).expect("receive");
            }
            if let Some(m) = mb {
                messages += 1;
                let m = SyncMessage::decode(&m.encode()).expect("decode");
                a.receive_sync_message(&mut sa, m).expect("receive");
            }
        }
        times.push(start.elapsed());
        if shared {
            println!("session {}: {:?}", times.len(), start.elapsed());
        }
        assert_eq!(a.heads(), b.heads());
        drop(std::hint::black_box((cloned, b)));
        if messages == 0 {
            break;
        }
    }
    times.sort();
    println!(
        "converge into empty: min {:?} median {:?}",
        times[0],
        times[times.len() / 2]
    );
}
