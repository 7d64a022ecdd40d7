//! Changes that arrive out of causal order, one per `apply_changes` call: each waits in the
//! causal queue until its deps arrive. A relay or a transport that reorders messages, or an
//! app that feeds a change log back in directory order, does this.
//!
//! ```text
//! cargo run --release -p converge-benches --example queue_probe -- [N] [--ours]
//! ```
//!
//! N puts to one key by one actor (a chain of N changes, built by automerge), applied to an
//! empty document newest first and in a shuffled order (seeded), one change per call, then all
//! newest first in one call; the same with automerge unless `--ours`. Each line gives the
//! time and checks that every change was applied. Last, while all the changes but the
//! first wait in the queue: the time of a remote change of another actor applied (one per
//! call, converge only), and of a local put (its own change).

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use converge_doc::Document;

fn shuffled<T: Clone>(items: &[T], mut seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    out
}

fn ours(changes: &[converge_encoding::Change], one_per_call: bool) -> Duration {
    let start = Instant::now();
    let mut doc = Document::new();
    if one_per_call {
        for c in changes {
            doc.apply_changes([c.clone()]).expect("applies");
        }
    } else {
        doc.apply_changes(changes.iter().cloned()).expect("applies");
    }
    let took = start.elapsed();
    assert_eq!((doc.change_count(), doc.queued_count()), (changes.len(), 0));
    took
}

fn theirs(changes: &[automerge::Change], one_per_call: bool) -> Duration {
    let start = Instant::now();
    let mut doc = automerge::Automerge::new();
    if one_per_call {
        for c in changes {
            doc.apply_changes([c.clone()]).expect("applies");
        }
    } else {
        doc.apply_changes(changes.iter().cloned()).expect("applies");
    }
    let took = start.elapsed();
    assert_eq!(doc.get_changes(&[]).len(), changes.len());
    took
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(10_000, |s| s.parse().expect("N"));
    let only_ours = args.iter().any(|a| a == "--ours");
    let mut am = automerge::Automerge::new();
    for i in 0..n {
        let mut tx = am.transaction();
        tx.put(automerge::ROOT, "k", i as i64).expect("put");
        tx.commit();
    }
    let raw: Vec<Vec<u8>> = am
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let newest_first: Vec<Vec<u8>> = raw.iter().rev().cloned().collect();
    let orders = [
        ("newest first, one per call", newest_first.clone(), true),
        ("shuffled, one per call", shuffled(&raw, 0x9e37_79b9), true),
        ("newest first, one call", newest_first, false),
    ];
    for (name, order, one) in orders {
        let cv: Vec<converge_encoding::Change> = order
            .iter()
            .map(|b| {
                converge_encoding::Change::decode(bytes::Bytes::from(b.clone())).expect("ours")
            })
            .collect();
        let am_changes: Vec<automerge::Change> = order
            .iter()
            .map(|b| automerge::Change::try_from(&b[..]).expect("theirs"))
            .collect();
        let ours = ours(&cv, one);
        if only_ours {
            println!("{n} changes {name}: converge {ours:?}");
        } else {
            let theirs = theirs(&am_changes, one);
            println!("{n} changes {name}: converge {ours:?}, automerge {theirs:?}");
        }
    }
    // Local puts while all but the first change wait in the queue (another actor's).
    let waiting: Vec<converge_encoding::Change> = raw[1..]
        .iter()
        .map(|b| converge_encoding::Change::decode(bytes::Bytes::from(b.clone())).expect("ours"))
        .collect();
    let mut doc = Document::new();
    doc.apply_changes(waiting).expect("queued");
    assert_eq!(doc.queued_count(), n - 1);
    let puts = 1_000;
    let start = Instant::now();
    for i in 0..puts {
        doc.put(&converge_doc::ROOT, "local", i as i64)
            .expect("put");
    }
    let ours = start.elapsed() / puts;
    assert_eq!(doc.queued_count(), n - 1);
    // Remote changes of a third actor, one per call, while the same changes wait.
    let mut remote = Document::new();
    for i in 0..puts {
        remote
            .put(&converge_doc::ROOT, "remote", i as i64)
            .expect("put");
    }
    let remote_changes = remote.get_changes(&[]);
    let start = Instant::now();
    for c in &remote_changes {
        doc.apply_changes([c.clone()]).expect("applies");
    }
    let applied = start.elapsed() / puts;
    assert_eq!(doc.queued_count(), n - 1);
    println!(
        "a remote change applied while {} changes wait: converge {applied:?}",
        n - 1
    );
    if only_ours {
        println!(
            "a local put while {} changes wait: converge {ours:?}",
            n - 1
        );
    } else {
        let mut am2 = automerge::Automerge::new();
        let waiting: Vec<automerge::Change> = raw[1..]
            .iter()
            .map(|b| automerge::Change::try_from(&b[..]).expect("theirs"))
            .collect();
        am2.apply_changes(waiting).expect("queued");
        let start = Instant::now();
        for i in 0..puts {
            let mut tx = am2.transaction();
            tx.put(automerge::ROOT, "local", i as i64).expect("put");
            tx.commit();
        }
        let theirs = start.elapsed() / puts;
        println!(
            "a local put while {} changes wait: converge {ours:?}, automerge {theirs:?}",
            n - 1
        );
    }
}
