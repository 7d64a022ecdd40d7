//! Cursors: stable positions in a list or text, as automerge 0.12 writes them (`Cursor`),
//! so that a cursor made by one implementation can be kept, sent and read by the other.
//!
//! Bytes (version 1): `01`, then `01` (start), `02` (end), or `03` uLEB actor length, actor
//! bytes, uLEB counter, and `01` (move before) or `02` (move after). Version `00` (actor
//! length, actor, counter; moving after) is read too. Text: `s`, `e`, or
//! `[-]counter@actorhex` (`-` for move before).

use std::fmt;
use std::str::FromStr;

use crate::error::DecodeError;
use crate::ids::{ActorId, ParseHexError};
use crate::leb128;
use crate::reader::Reader;

const VERSION_0: u8 = 0;
const VERSION_1: u8 = 1;
const START_TAG: u8 = 1;
const END_TAG: u8 = 2;
const OP_TAG: u8 = 3;
const MOVE_BEFORE_TAG: u8 = 1;
const MOVE_AFTER_TAG: u8 = 2;

/// Where a cursor goes when the element it names is deleted: to the element before it or
/// after it that is still there (automerge's `MoveCursor`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CursorMove {
    /// To the nearest earlier element still shown (0 if none).
    Before,
    /// To the nearest later element still shown (the length if none): the default.
    #[default]
    After,
}

/// A stable position in a list or text: the start, the end, or an op (the element's
/// winning op when the cursor was made) and where to go if that element is deleted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cursor {
    /// Always position 0.
    Start,
    /// Always the sequence's length.
    End,
    /// The element of op `counter@actor`.
    Op {
        /// The op's counter.
        counter: u64,
        /// The op's actor.
        actor: ActorId,
        /// Where the cursor goes if the element is deleted.
        moves: CursorMove,
    },
}

impl Cursor {
    /// The cursor's bytes (version 1), as automerge 0.12's `Cursor::to_bytes`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Cursor::Start => vec![VERSION_1, START_TAG],
            Cursor::End => vec![VERSION_1, END_TAG],
            Cursor::Op {
                counter,
                actor,
                moves,
            } => {
                let actor = actor.as_bytes();
                let mut out = Vec::with_capacity(actor.len() + 14);
                out.extend_from_slice(&[VERSION_1, OP_TAG]);
                leb128::write_u64(&mut out, actor.len() as u64);
                out.extend_from_slice(actor);
                leb128::write_u64(&mut out, *counter);
                out.push(match moves {
                    CursorMove::Before => MOVE_BEFORE_TAG,
                    CursorMove::After => MOVE_AFTER_TAG,
                });
                out
            }
        }
    }

    /// Reads a cursor's bytes (version 1, or the older version 0), as automerge 0.12 reads
    /// them: LEB128 numbers canonical, bytes after the cursor ignored.
    pub fn decode(bytes: &[u8]) -> Result<Cursor, DecodeError> {
        let mut r = Reader::new(bytes);
        let tag = |value: u8, field: &'static str, offset: usize| DecodeError::OutOfRange {
            field,
            value: u64::from(value),
            offset,
        };
        let op = |r: &mut Reader<'_>| -> Result<(ActorId, u64), DecodeError> {
            let actor = ActorId::from_bytes(r.length_prefixed()?);
            Ok((actor, r.uleb()?))
        };
        match r.take_u8()? {
            VERSION_0 => {
                let (actor, counter) = op(&mut r)?;
                Ok(Cursor::Op {
                    counter,
                    actor,
                    moves: CursorMove::After,
                })
            }
            VERSION_1 => {
                let at = r.position();
                match r.take_u8()? {
                    START_TAG => Ok(Cursor::Start),
                    END_TAG => Ok(Cursor::End),
                    OP_TAG => {
                        let (actor, counter) = op(&mut r)?;
                        let at = r.position();
                        let moves = match r.take_u8()? {
                            MOVE_BEFORE_TAG => CursorMove::Before,
                            MOVE_AFTER_TAG => CursorMove::After,
                            other => return Err(tag(other, "cursor move tag", at)),
                        };
                        Ok(Cursor::Op {
                            counter,
                            actor,
                            moves,
                        })
                    }
                    other => Err(tag(other, "cursor type tag", at)),
                }
            }
            other => Err(tag(other, "cursor version", 0)),
        }
    }
}

impl fmt::Display for Cursor {
    /// `s`, `e`, or `[-]counter@actorhex`, as automerge 0.12 writes a cursor as text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cursor::Start => f.write_str("s"),
            Cursor::End => f.write_str("e"),
            Cursor::Op {
                counter,
                actor,
                moves,
            } => {
                let sign = if *moves == CursorMove::Before {
                    "-"
                } else {
                    ""
                };
                write!(f, "{sign}{counter}@{}", actor.to_hex())
            }
        }
    }
}

/// Why a text is not a cursor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCursorError {
    /// Not `s`, `e`, nor of the form `[-]counter@actor`.
    #[error("not a cursor: no '@' between a counter and an actor")]
    NoSeparator,
    /// The counter is not a number that fits 64 bits.
    #[error("the cursor's counter is not a 64-bit number")]
    InvalidCounter,
    /// The actor is not hex.
    #[error("the cursor's actor: {0}")]
    InvalidActor(#[source] ParseHexError),
}

impl FromStr for Cursor {
    type Err = ParseCursorError;

    /// Reads what [`Cursor`]'s `Display` writes, as automerge 0.12 reads it (the counter as
    /// Rust reads a `u64`; the actor hex of either case).
    fn from_str(s: &str) -> Result<Cursor, ParseCursorError> {
        match s {
            "s" => return Ok(Cursor::Start),
            "e" => return Ok(Cursor::End),
            _ => {}
        }
        let (moves, rest) = match s.strip_prefix('-') {
            Some(rest) => (CursorMove::Before, rest),
            None => (CursorMove::After, s),
        };
        let (counter, actor) = rest.split_once('@').ok_or(ParseCursorError::NoSeparator)?;
        Ok(Cursor::Op {
            counter: counter
                .parse()
                .map_err(|_| ParseCursorError::InvalidCounter)?,
            actor: actor.parse().map_err(ParseCursorError::InvalidActor)?,
            moves,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    fn op(moves: CursorMove) -> Cursor {
        Cursor::Op {
            counter: 300,
            actor: ActorId::from_bytes(&[0xab, 0x01]),
            moves,
        }
    }

    #[test]
    fn bytes_and_text_round_trip() {
        for c in [
            Cursor::Start,
            Cursor::End,
            op(CursorMove::Before),
            op(CursorMove::After),
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
            assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        }
        assert_eq!(
            op(CursorMove::After).encode(),
            [1, 3, 2, 0xab, 0x01, 0xac, 0x02, 2]
        );
        assert_eq!(op(CursorMove::Before).to_string(), "-300@ab01");
        assert_eq!(Cursor::Start.encode(), [1, 1]);
    }

    #[test]
    fn version_0_moves_after() {
        assert_eq!(
            Cursor::decode(&[0, 2, 0xab, 0x01, 0xac, 0x02]).unwrap(),
            op(CursorMove::After)
        );
    }

    #[test]
    fn bad_bytes_and_texts_are_errors() {
        for bad in [
            &[][..],
            &[2, 1],
            &[1],
            &[1, 4],
            &[1, 3, 5, 1],
            &[1, 3, 0, 1, 3],
            &[1, 3, 0, 0x80, 0x00, 2],
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "x", "-", "12", "@ab", "1@xyz", "-1@a", "é@ab"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
        }
    }
}
