//! `converge demo`: two peers on 127.0.0.1 edit one document concurrently, sync over TCP with
//! the `converge sync` framing, and print the merged JSON.

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use converge::sync::SyncState;
use converge::{Document, ExId, ObjType, ROOT, ScalarValue};

use crate::error::CliError;
use crate::json::tree_to_json;
use crate::sync::{self, Role, Stats};

/// The ids of the shared objects.
#[derive(Clone)]
struct Objects {
    list: ExId,
    map: ExId,
    text: ExId,
}

fn base() -> Result<(Document, Objects), CliError> {
    let mut doc = Document::new();
    let mut tx = doc.transaction();
    let list = tx.put_object(&ROOT, "shopping", ObjType::List)?;
    tx.insert(&list, 0, ScalarValue::Str("milk".into()))?;
    let map = tx.put_object(&ROOT, "meta", ObjType::Map)?;
    tx.put(&map, "title", ScalarValue::Str("Saturday".into()))?;
    let text = tx.put_object(&ROOT, "notes", ObjType::Text)?;
    tx.splice_text(&text, 0, 0, "Remember the market.")?;
    tx.put(&ROOT, "visits", ScalarValue::Counter(0))?;
    tx.commit_with(Some("base".into()), 0)?;
    Ok((doc, Objects { list, map, text }))
}

fn alice_edits(doc: &mut Document, o: &Objects) -> Result<(), CliError> {
    let mut tx = doc.transaction();
    tx.insert(&o.list, 1, ScalarValue::Str("bread".into()))?;
    tx.put(&o.map, "owner", ScalarValue::Str("alice".into()))?;
    tx.splice_text(&o.text, 0, 0, "Alice: ")?;
    tx.increment(&ROOT, "visits", 1)?;
    tx.commit_with(Some("alice's edits".into()), 1)?;
    Ok(())
}

fn bob_edits(doc: &mut Document, o: &Objects) -> Result<(), CliError> {
    let mut tx = doc.transaction();
    tx.insert(&o.list, 0, ScalarValue::Str("coffee".into()))?;
    tx.put(&o.map, "due", ScalarValue::Str("10:00".into()))?;
    let len = "Remember the market.".chars().count();
    tx.splice_text(&o.text, len, 0, " Bring bags!")?;
    tx.increment(&ROOT, "visits", 2)?;
    tx.commit_with(Some("bob's edits".into()), 2)?;
    Ok(())
}

type PeerResult = Result<(Document, Stats), CliError>;

fn peer(
    mut doc: Document,
    mut stream: TcpStream,
    role: Role,
    edit: impl FnOnce(&mut Document) -> Result<(), CliError>,
) -> PeerResult {
    edit(&mut doc)?;
    let net = |source| CliError::Net {
        context: "configuring the connection".to_owned(),
        source,
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(net)?;
    stream.set_nodelay(true).map_err(net)?;
    let mut state = SyncState::new();
    let stats = sync::run_session(
        &mut stream,
        role,
        &mut doc,
        &mut state,
        sync::DEFAULT_MAX_FRAME,
        |_| {},
    )?;
    Ok((doc, stats))
}

fn join(handle: thread::JoinHandle<PeerResult>, who: &str) -> PeerResult {
    handle
        .join()
        .unwrap_or_else(|_| Err(CliError::Other(format!("{who}'s thread panicked"))))
}

/// Runs the demo and prints its result on stdout.
pub(crate) fn run() -> Result<(), CliError> {
    let (doc, objects) = base()?;
    let alice_doc = doc.fork();
    let bob_doc = doc.fork();

    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| CliError::Net {
        context: "listening on 127.0.0.1:0".to_owned(),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| CliError::Net {
        context: "listening on 127.0.0.1:0".to_owned(),
        source,
    })?;
    eprintln!("alice listens on {addr}; bob connects");

    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let o = objects.clone();
    let alice = thread::spawn(move || -> PeerResult {
        let _ = ready_tx.send(());
        let (stream, _) = listener.accept().map_err(|source| CliError::Net {
            context: "accepting bob".to_owned(),
            source,
        })?;
        peer(alice_doc, stream, Role::Listening, |d| alice_edits(d, &o))
    });
    let _ = ready_rx.recv_timeout(Duration::from_secs(10));
    let o = objects.clone();
    let bob = thread::spawn(move || -> PeerResult {
        let stream = TcpStream::connect(addr).map_err(|source| CliError::Net {
            context: format!("connecting to {addr}"),
            source,
        })?;
        peer(bob_doc, stream, Role::Connecting, |d| bob_edits(d, &o))
    });
    let bob = join(bob, "bob");
    let alice = join(alice, "alice");
    let (alice, alice_stats) = alice?;
    let (bob, bob_stats) = bob?;

    let a = alice.value_tree(&ROOT)?;
    let b = bob.value_tree(&ROOT)?;
    if alice.heads() != bob.heads() || a != b {
        return Err(CliError::Other(
            "the peers did not converge (this is a bug)".to_owned(),
        ));
    }
    let json = serde_json::to_string_pretty(&tree_to_json(&a))
        .map_err(|e| CliError::Other(format!("writing JSON: {e}")))?;
    println!("{json}");
    println!(
        "rounds: {} (turns, the final empty one included)",
        bob_stats.turns
    );
    println!(
        "bytes: bob -> alice {} in {} message(s), alice -> bob {} in {} message(s)",
        bob_stats.bytes_sent,
        bob_stats.messages_sent,
        alice_stats.bytes_sent,
        alice_stats.messages_sent
    );
    println!(
        "changes: {}, heads: {}",
        alice.change_count(),
        alice
            .heads()
            .iter()
            .map(|h| h.to_hex())
            .collect::<Vec<_>>()
            .join(",")
    );
    Ok(())
}
