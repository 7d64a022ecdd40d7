//! Replays real editing traces as local edits and checks the final text.

mod support;

use std::time::Instant;

use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::ActorId;

const PAPER_FINAL_CHARS: usize = 104_852;

fn replay_one_transaction(edits: &[support::Patch]) -> (Document, ExId) {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
    let mut tx = doc.transaction();
    let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
    for e in edits {
        tx.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
    }
    tx.commit().unwrap();
    (doc, text)
}

#[test]
fn paper_trace_one_transaction() {
    let edits = support::paper_edits();
    assert_eq!(edits.len(), 259_778);
    let (doc, text) = replay_one_transaction(&edits);
    let s = doc.text(&text).unwrap();
    assert_eq!(s.chars().count(), PAPER_FINAL_CHARS);
    assert_eq!(doc.length(&text).unwrap(), PAPER_FINAL_CHARS);
    let (_, expected) = support::sequential_trace("automerge-paper");
    assert_eq!(s, expected);
}

#[test]
fn sequential_traces_end_content() {
    for name in [
        "friendsforever_flat",
        "sveltecomponent",
        "rustcode",
        "seph-blog1",
    ] {
        let (txns, expected) = support::sequential_trace(name);
        let mut doc = Document::with_actor(ActorId::from_bytes(&[2; 16]));
        let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
        let mut tx = doc.transaction();
        for txn in &txns {
            for p in txn {
                tx.splice_text(&text, p.pos, p.del, &p.ins).unwrap();
            }
        }
        tx.commit().unwrap();
        assert_eq!(doc.text(&text).unwrap(), expected, "trace {name}");
    }
}

/// Timing print (run with `cargo test -p converge-doc --release --test paper_trace -- --ignored
/// --nocapture`). No assertion on time.
#[test]
#[ignore]
fn paper_trace_timing() {
    let edits = support::paper_edits();
    for _ in 0..3 {
        let start = Instant::now();
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let mut tx = doc.transaction();
        let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
        for e in &edits {
            tx.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
        }
        let edited = start.elapsed();
        tx.commit().unwrap();
        let elapsed = start.elapsed();
        assert_eq!(doc.length(&text).unwrap(), PAPER_FINAL_CHARS);
        println!(
            "paper trace, one transaction: {elapsed:?} (edits {edited:?}, commit {:?})",
            elapsed - edited
        );
    }
    let start = Instant::now();
    let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
    let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
    for e in &edits {
        doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
    }
    println!("paper trace, one change per edit: {:?}", start.elapsed());
    assert_eq!(doc.length(&text).unwrap(), PAPER_FINAL_CHARS);

    let changes = doc.get_changes(&[]);
    assert_eq!(changes.len(), edits.len() + 1);
    let start = Instant::now();
    let mut remote = Document::with_actor(ActorId::from_bytes(&[2; 16]));
    for c in changes {
        remote.apply_changes([c]).unwrap();
    }
    println!(
        "paper trace, applying its changes one by one: {:?}",
        start.elapsed()
    );
    assert_eq!(remote.text(&text).unwrap(), doc.text(&text).unwrap());
    assert_eq!(remote.heads(), doc.heads());
}

/// Only the local edits of one transaction, for profiling.
#[test]
#[ignore]
fn paper_trace_edits_only() {
    let edits = support::paper_edits();
    for _ in 0..5 {
        let start = Instant::now();
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let mut tx = doc.transaction();
        let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
        for e in &edits {
            tx.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
        }
        println!("edits: {:?}", start.elapsed());
        tx.rollback();
    }
}

/// Applying the paper trace's 259,779 changes one by one, for profiling.
#[test]
#[ignore]
fn paper_trace_remote_only() {
    let edits = support::paper_edits();
    let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
    let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
    for e in &edits {
        doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
    }
    let changes = doc.get_changes(&[]);
    for _ in 0..3 {
        let start = Instant::now();
        let mut remote = Document::with_actor(ActorId::from_bytes(&[2; 16]));
        for c in changes.iter().cloned() {
            remote.apply_changes([c]).unwrap();
        }
        println!("apply one by one: {:?}", start.elapsed());
        assert_eq!(remote.length(&text).unwrap(), PAPER_FINAL_CHARS);
    }
}

/// One change per edit (each one hashed and encoded), for profiling.
#[test]
#[ignore]
fn paper_trace_change_per_edit() {
    let edits = support::paper_edits();
    for _ in 0..2 {
        let start = Instant::now();
        let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
        let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
        for e in &edits {
            doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
        }
        println!("change per edit: {:?}", start.elapsed());
        assert_eq!(doc.change_count(), edits.len() + 1);
    }
}
