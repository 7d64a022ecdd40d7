//! Replays the `sync_receive` fuzz target on its committed seeds and regressions
//! (`fuzz/seeds/sync_receive/`, `fuzz/regressions/sync_receive/`) in a plain `cargo test`,
//! with the target's own fixture and checks (`fuzz/fuzz_targets/checks/sync_receive.rs`,
//! included by path); and writes those seeds: every message a peer that forked the fixture
//! and edited it sends the fixture in a sync session, and the same messages in V1.
//!
//! ```text
//! cargo test -p converge-sync --test fuzz_sync -- --ignored   # writes fuzz/seeds/sync_receive/
//! ```

#[path = "../../../fuzz/fuzz_targets/checks/sync_receive.rs"]
mod checks;
#[path = "../../../fuzz/fuzz_targets/checks/inputs.rs"]
mod inputs;

use checks::{check, fixture};
use converge_doc::{Document, ObjType, ROOT};
use converge_encoding::{ActorId, ScalarValue};
use converge_sync::{
    MessageVersion, SyncMessage, SyncState, generate_sync_message, receive_sync_message,
};
use inputs::{assert_seeds_committed, inputs, write_seeds};

/// Every message `peer` sends the fixture in a session, until both are quiet.
fn session(mut peer: Document) -> Vec<Vec<u8>> {
    let (mut doc, mut state) = fixture();
    let mut peer_state = SyncState::new();
    let mut sent = Vec::new();
    // The fixture's first message, which its state says it has sent.
    let mut to_peer = {
        let (fresh, mut fresh_state) = fixture();
        generate_sync_message(&fresh, &mut fresh_state)
    };
    for _ in 0..10 {
        if let Some(m) = to_peer.take() {
            receive_sync_message(&mut peer, &mut peer_state, m).expect("the peer receives");
        }
        if let Some(m) = generate_sync_message(&peer, &mut peer_state) {
            sent.push(m.encode());
            receive_sync_message(&mut doc, &mut state, m).expect("the fixture receives");
        }
        to_peer = generate_sync_message(&doc, &mut state);
        if to_peer.is_none() && !sent.is_empty() && doc.heads() == peer.heads() {
            break;
        }
    }
    sent
}

/// Seeds: the messages of sessions with peers that forked the fixture and edited it.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let (base, _) = fixture();
    let text = base.get(&ROOT, "text").expect("text").expect("text").id;
    let fork = |n: u8| {
        let mut d = base.fork();
        d.set_actor(ActorId::from_bytes(&[n; 16]));
        d
    };
    let mut out = Vec::new();
    let mut a = fork(0x21);
    a.splice_text(&text, 5, 0, " world").expect("edit");
    a.put(&ROOT, "n", ScalarValue::Int(2)).expect("edit");
    let list = a.put_object(&ROOT, "list", ObjType::List).expect("edit");
    a.insert(&list, 0, ScalarValue::Str("x".into()))
        .expect("edit");
    for (i, m) in session(a).into_iter().enumerate() {
        out.push((format!("edits-{i}"), m));
    }
    let mut b = fork(0x22);
    b.delete(&ROOT, "text").expect("edit");
    b.put(&ROOT, "c", ScalarValue::Counter(3)).expect("edit");
    b.increment(&ROOT, "c", 4).expect("edit");
    for (i, m) in session(b).into_iter().enumerate() {
        out.push((format!("delete-{i}"), m));
    }
    // The same messages in V1 (0x42), whose changes are always change chunks.
    let v1: Vec<(String, Vec<u8>)> = out
        .iter()
        .filter_map(|(name, bytes)| {
            let mut m = SyncMessage::decode(bytes).ok()?;
            (m.version != MessageVersion::V1).then(|| {
                m.version = MessageVersion::V1;
                m.flags = None;
                (format!("{name}-v1"), m.encode())
            })
        })
        .collect();
    out.extend(v1);
    out
}

#[test]
fn seeds_and_regressions_pass_the_fuzz_checks() {
    let mut changed = 0;
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        for (_, bytes) in inputs(kind, "sync_receive") {
            changed += check(&bytes);
            n += 1;
        }
    }
    assert!(n >= seeds().len(), "{n} inputs replayed");
    assert!(changed > 0, "no seed brought the fixture a change");
}

#[test]
fn the_committed_seeds_are_the_writers() {
    assert_seeds_committed("sync_receive", &seeds());
}

#[test]
#[ignore = "writes fuzz/seeds/sync_receive/; run manually"]
fn write_sync_receive_seeds() {
    let seeds = seeds();
    for (_, bytes) in &seeds {
        check(bytes);
    }
    write_seeds("sync_receive", &seeds);
}
