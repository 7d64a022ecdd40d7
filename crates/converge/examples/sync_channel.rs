//! Two peers, each on its own thread, sync one document over a pair of `std::sync::mpsc`
//! channels. Every message is sent as bytes (`SyncMessage::encode`), as it would be on a wire.
//!
//! Run with `cargo run -p converge --example sync_channel`.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::Duration;

use converge::sync::{self, SyncMessage, SyncState};
use converge::{Document, ObjType, ROOT, ScalarValue};

/// What travels on the channel: an encoded message, or `None` for "nothing to say".
type Frame = Option<Vec<u8>>;

/// Runs the peer's side: in each round send our message (or `None`), then apply the peer's.
/// Stops after a round in which neither side had anything to say.
fn peer(mut doc: Document, tx: Sender<Frame>, rx: Receiver<Frame>) -> (Document, usize) {
    let mut state = SyncState::new();
    for round in 1..=100 {
        let ours = sync::generate_sync_message(&doc, &mut state).map(|m| m.encode());
        let sent_nothing = ours.is_none();
        tx.send(ours).expect("peer hung up");
        let theirs = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("peer went quiet");
        match theirs {
            Some(bytes) => {
                let msg = SyncMessage::decode(&bytes).expect("a valid message");
                sync::receive_sync_message(&mut doc, &mut state, msg).expect("applies");
            }
            None if sent_nothing => return (doc, round),
            None => {}
        }
    }
    panic!("no convergence within 100 rounds");
}

fn main() {
    // A shared starting point, then concurrent edits on two copies.
    let mut base = Document::new();
    let list = base.put_object(&ROOT, "list", ObjType::List).unwrap();
    let text = base.put_object(&ROOT, "text", ObjType::Text).unwrap();
    base.splice_text(&text, 0, 0, "hello").unwrap();

    let mut alice = base.fork();
    alice
        .insert(&list, 0, ScalarValue::Str("from alice".into()))
        .unwrap();
    alice.splice_text(&text, 5, 0, " world").unwrap();
    let mut bob = base.fork();
    bob.insert(&list, 0, ScalarValue::Str("from bob".into()))
        .unwrap();
    bob.put(&ROOT, "bob was here", ScalarValue::Bool(true))
        .unwrap();

    let (to_bob, from_alice) = channel();
    let (to_alice, from_bob) = channel();
    let a = thread::spawn(move || peer(alice, to_bob, from_bob));
    let b = thread::spawn(move || peer(bob, to_alice, from_alice));
    let (alice, rounds) = a.join().unwrap();
    let (bob, _) = b.join().unwrap();

    assert_eq!(alice.heads(), bob.heads());
    assert_eq!(
        alice.value_tree(&ROOT).unwrap(),
        bob.value_tree(&ROOT).unwrap()
    );
    println!("in sync after {rounds} rounds");
    println!("text: {}", alice.text(&text).unwrap());
    println!("list: {:?}", alice.value_tree(&list).unwrap());
}
