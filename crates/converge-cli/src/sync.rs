//! The sync session over a byte stream (see docs/cli.md for the framing).
//!
//! A frame is a 4-byte big-endian length followed by one encoded sync message; length 0 means
//! "nothing to send this turn". A turn is one frame from the connecting side, then one from the
//! listening side. Each side applies a non-empty frame before it generates its next one, and
//! the session ends after the first turn in which both frames are empty.

use std::io::{Read, Write};

use converge::Document;
use converge::sync::{self, SyncMessage, SyncState};

use crate::error::CliError;

/// The default limit on an incoming frame: 64 MiB.
pub(crate) const DEFAULT_MAX_FRAME: u64 = 64 << 20;

/// At most this many turns before the session gives up.
pub(crate) const MAX_TURNS: usize = 10_000;

/// Which end of the connection this side is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sends first in every turn.
    Connecting,
    /// Answers in every turn.
    Listening,
}

/// What a finished session did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Turns, the final empty one included.
    pub(crate) turns: usize,
    /// Bytes written (frame headers included).
    pub(crate) bytes_sent: u64,
    /// Bytes read (frame headers included).
    pub(crate) bytes_received: u64,
    /// Non-empty frames sent.
    pub(crate) messages_sent: usize,
    /// Non-empty frames received.
    pub(crate) messages_received: usize,
}

fn net(context: &str) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Net {
        context: context.to_owned(),
        source,
    }
}

/// Writes one frame (`None`: the empty frame). Returns the bytes written.
pub(crate) fn write_frame<W: Write>(w: &mut W, msg: Option<&[u8]>) -> Result<u64, CliError> {
    let body = msg.unwrap_or(&[]);
    let len = u32::try_from(body.len()).map_err(|_| {
        CliError::Other(format!(
            "a sync message of {} bytes is too large to frame",
            body.len()
        ))
    })?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(body);
    w.write_all(&frame).map_err(net("sending a frame"))?;
    w.flush().map_err(net("sending a frame"))?;
    Ok(frame.len() as u64)
}

/// Reads one frame; an empty body means the empty frame. Frames over `max` bytes are refused
/// before anything is allocated for them.
pub(crate) fn read_frame<R: Read>(r: &mut R, max: u64) -> Result<Vec<u8>, CliError> {
    let mut header = [0u8; 4];
    r.read_exact(&mut header)
        .map_err(net("reading a frame header"))?;
    let len = u64::from(u32::from_be_bytes(header));
    if len > max {
        return Err(CliError::FrameTooLarge { len, limit: max });
    }
    let mut body = Vec::new();
    r.take(len)
        .read_to_end(&mut body)
        .map_err(net("reading a frame"))?;
    if body.len() as u64 != len {
        return Err(CliError::Net {
            context: "reading a frame".to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed after {} of {len} bytes", body.len()),
            ),
        });
    }
    Ok(body)
}

fn generate(doc: &Document, state: &mut SyncState) -> Option<Vec<u8>> {
    sync::generate_sync_message(doc, state).map(|m| m.encode())
}

fn apply(doc: &mut Document, state: &mut SyncState, frame: &[u8]) -> Result<(), CliError> {
    let msg = SyncMessage::decode(frame).map_err(CliError::BadMessage)?;
    sync::receive_sync_message(doc, state, msg).map_err(CliError::Receive)
}

/// Runs a whole session over `stream`; `progress` is told about every turn.
pub(crate) fn run_session<S: Read + Write>(
    stream: &mut S,
    role: Role,
    doc: &mut Document,
    state: &mut SyncState,
    max_frame: u64,
    mut progress: impl FnMut(&Stats),
) -> Result<Stats, CliError> {
    let mut stats = Stats::default();
    loop {
        if stats.turns >= MAX_TURNS {
            return Err(CliError::TooManyTurns(MAX_TURNS));
        }
        stats.turns += 1;
        let (sent_empty, received_empty) = match role {
            Role::Connecting => {
                let out = generate(doc, state);
                stats.bytes_sent += write_frame(stream, out.as_deref())?;
                let frame = read_frame(stream, max_frame)?;
                stats.bytes_received += 4 + frame.len() as u64;
                if !frame.is_empty() {
                    apply(doc, state, &frame)?;
                }
                (out.is_none(), frame.is_empty())
            }
            Role::Listening => {
                let frame = read_frame(stream, max_frame)?;
                stats.bytes_received += 4 + frame.len() as u64;
                if !frame.is_empty() {
                    apply(doc, state, &frame)?;
                }
                let out = generate(doc, state);
                stats.bytes_sent += write_frame(stream, out.as_deref())?;
                (out.is_none(), frame.is_empty())
            }
        };
        if !sent_empty {
            stats.messages_sent += 1;
        }
        if !received_empty {
            stats.messages_received += 1;
        }
        progress(&stats);
        if sent_empty && received_empty {
            return Ok(stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        assert_eq!(write_frame(&mut buf, Some(b"abc")).unwrap(), 7);
        assert_eq!(write_frame(&mut buf, None).unwrap(), 4);
        assert_eq!(buf, [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0]);
        let mut r = Cursor::new(buf);
        assert_eq!(read_frame(&mut r, 3).unwrap(), b"abc");
        assert!(read_frame(&mut r, 3).unwrap().is_empty());
        assert!(matches!(read_frame(&mut r, 3), Err(CliError::Net { .. })));
    }

    #[test]
    fn oversized_and_truncated_frames_are_refused() {
        let mut r = Cursor::new(vec![0, 0, 1, 0]);
        assert!(matches!(
            read_frame(&mut r, 255),
            Err(CliError::FrameTooLarge {
                len: 256,
                limit: 255
            })
        ));
        let mut r = Cursor::new(vec![0, 0, 0, 5, 1, 2]);
        assert!(matches!(read_frame(&mut r, 255), Err(CliError::Net { .. })));
    }

    #[test]
    fn session_over_loopback_converges() {
        use converge::{ROOT, ScalarValue};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut a = Document::new();
        a.put(&ROOT, "a", ScalarValue::Int(1)).unwrap();
        let mut b = Document::new();
        b.put(&ROOT, "b", ScalarValue::Int(2)).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut state = SyncState::new();
            let stats =
                run_session(&mut s, Role::Listening, &mut a, &mut state, 1 << 20, |_| {}).unwrap();
            (a, stats)
        });
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let mut state = SyncState::new();
        let stats = run_session(
            &mut s,
            Role::Connecting,
            &mut b,
            &mut state,
            1 << 20,
            |_| {},
        )
        .unwrap();
        let (a, server_stats) = server.join().unwrap();
        assert_eq!(a.heads(), b.heads());
        assert_eq!(a.heads().len(), 2);
        assert_eq!(stats.turns, server_stats.turns);
        assert_eq!(stats.bytes_sent, server_stats.bytes_received);
        assert_eq!(stats.bytes_received, server_stats.bytes_sent);
    }
}
