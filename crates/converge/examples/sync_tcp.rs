//! Two peers sync one document over TCP on 127.0.0.1 (an ephemeral port), with the framing of
//! the `converge sync` command: a 4-byte big-endian length, then one encoded sync message;
//! length 0 means "nothing to send this turn". In each turn the connecting side sends first and
//! the listening side answers; the session ends after a turn in which both frames are empty.
//!
//! Run with `cargo run -p converge --example sync_tcp`.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use converge::sync::{self, SyncMessage, SyncState};
use converge::{Document, ObjType, ROOT, ScalarValue};

const MAX_FRAME: u32 = 64 << 20;
const MAX_TURNS: usize = 100;

fn write_frame(s: &mut TcpStream, body: Option<Vec<u8>>) -> io::Result<bool> {
    let body = body.unwrap_or_default();
    let len = u32::try_from(body.len()).map_err(io::Error::other)?;
    s.write_all(&len.to_be_bytes())?;
    s.write_all(&body)?;
    Ok(body.is_empty())
}

fn read_frame(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_FRAME {
        return Err(io::Error::other(format!(
            "frame of {len} bytes is too large"
        )));
    }
    let mut body = vec![0; len as usize];
    s.read_exact(&mut body)?;
    Ok(body)
}

fn apply(doc: &mut Document, state: &mut SyncState, frame: &[u8]) -> io::Result<()> {
    let msg = SyncMessage::decode(frame).map_err(io::Error::other)?;
    sync::receive_sync_message(doc, state, msg).map_err(io::Error::other)
}

/// One side of a session; returns the document and the number of turns.
fn session(mut doc: Document, mut s: TcpStream, connecting: bool) -> io::Result<(Document, usize)> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut state = SyncState::new();
    for turn in 1..=MAX_TURNS {
        let (sent_empty, received_empty) = if connecting {
            let sent_empty = write_frame(
                &mut s,
                sync::generate_sync_message(&doc, &mut state).map(|m| m.encode()),
            )?;
            let frame = read_frame(&mut s)?;
            if !frame.is_empty() {
                apply(&mut doc, &mut state, &frame)?;
            }
            (sent_empty, frame.is_empty())
        } else {
            let frame = read_frame(&mut s)?;
            if !frame.is_empty() {
                apply(&mut doc, &mut state, &frame)?;
            }
            let sent_empty = write_frame(
                &mut s,
                sync::generate_sync_message(&doc, &mut state).map(|m| m.encode()),
            )?;
            (sent_empty, frame.is_empty())
        };
        if sent_empty && received_empty {
            return Ok((doc, turn));
        }
    }
    Err(io::Error::other("no convergence"))
}

fn main() -> io::Result<()> {
    let mut base = Document::new();
    let map = base.put_object(&ROOT, "settings", ObjType::Map).unwrap();
    let notes = base.put_object(&ROOT, "notes", ObjType::Text).unwrap();
    base.splice_text(&notes, 0, 0, "shared notes").unwrap();

    let mut server_doc = base.fork();
    server_doc
        .put(&map, "theme", ScalarValue::Str("dark".into()))
        .unwrap();
    let mut client_doc = base.fork();
    client_doc
        .put(&map, "font", ScalarValue::Str("mono".into()))
        .unwrap();
    client_doc.splice_text(&notes, 0, 0, "our ").unwrap();

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");
    let server = thread::spawn(move || -> io::Result<(Document, usize)> {
        let (stream, _) = listener.accept()?;
        session(server_doc, stream, false)
    });
    let client = session(client_doc, TcpStream::connect(addr)?, true)?;
    let server = server
        .join()
        .map_err(|_| io::Error::other("server panicked"))??;

    let (client_doc, turns) = client;
    let (server_doc, _) = server;
    assert_eq!(client_doc.heads(), server_doc.heads());
    println!("in sync after {turns} turns");
    println!("{:?}", server_doc.value_tree(&ROOT).unwrap());
    Ok(())
}
