//! Object ids as text and bytes, as automerge 0.12 writes and reads them: `_root` or
//! `counter@actor` (the form JavaScript peers use for object ids), and a versioned byte form
//! an application can store (automerge's `ExId::to_bytes`).

use std::fmt;
use std::str::FromStr;

use converge_encoding::{ActorId, DecodeError, ParseHexError, Reader, leb128};

use crate::doc::Document;
use crate::types::ExId;

/// The version of the byte form (its low four bits of the first byte).
const BYTES_VERSION: u8 = 0;
/// The kinds of id of the byte form (the high four bits of the first byte).
const KIND_ROOT: u8 = 0;
const KIND_OP: u8 = 1;

/// Why a text or bytes are not an object id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExIdError {
    /// Text that is not `_root` nor of the form `counter@actor`.
    #[error("not an object id: neither _root nor a counter and an actor around an '@'")]
    NoSeparator,
    /// The counter is not a number that fits 32 bits (as every op counter does).
    #[error("the object id's counter is not a 32-bit number")]
    InvalidCounter,
    /// The actor is not hex.
    #[error("the object id's actor: {0}")]
    InvalidActor(#[source] ParseHexError),
    /// Bytes of another version of the byte form.
    #[error("object id bytes of version {version}, not 0")]
    UnknownVersion {
        /// The version the bytes name.
        version: u8,
    },
    /// Bytes naming another kind of id than the root or an op.
    #[error("object id bytes of kind {kind}, not 0 (the root) or 1 (an op)")]
    UnknownKind {
        /// The kind the bytes name.
        kind: u8,
    },
    /// Bytes cut short, or with a number in more bytes than it takes.
    #[error("object id bytes: {0}")]
    Bytes(#[from] DecodeError),
}

impl fmt::Display for ExId {
    /// `_root`, or `counter@actor` with the actor in lowercase hex (automerge's form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExId::Root => f.write_str("_root"),
            ExId::Op { counter, actor } => write!(f, "{counter}@{}", actor.to_hex()),
        }
    }
}

impl FromStr for ExId {
    type Err = ExIdError;

    /// Reads what `Display` writes (the actor's hex in either case), as automerge 0.12's
    /// `import_obj` does.
    fn from_str(s: &str) -> Result<ExId, ExIdError> {
        if s == "_root" {
            return Ok(ExId::Root);
        }
        let (counter, actor) = s.split_once('@').ok_or(ExIdError::NoSeparator)?;
        Ok(ExId::Op {
            counter: counter.parse().map_err(|_| ExIdError::InvalidCounter)?,
            actor: actor.parse().map_err(ExIdError::InvalidActor)?,
        })
    }
}

impl ExId {
    /// Reads an id's byte form (automerge 0.12's `ExId::to_bytes`, or
    /// [`Document::obj_id_to_bytes`]): a first byte (version 0 in its low four bits, the
    /// kind in its high four: 0 the root, 1 an op), then for an op the actor's length and
    /// bytes, the actor's index in the writing document (a hint, not needed here) and the
    /// counter, each number in canonical uLEB128. As automerge's reader, bytes after the id
    /// are not read.
    pub fn from_bytes(bytes: &[u8]) -> Result<ExId, ExIdError> {
        let mut r = Reader::new(bytes);
        let first = r.take_u8()?;
        let version = first & 0x0f;
        if version != BYTES_VERSION {
            return Err(ExIdError::UnknownVersion { version });
        }
        match first >> 4 {
            KIND_ROOT => Ok(ExId::Root),
            KIND_OP => {
                let actor = ActorId::from_bytes(r.length_prefixed()?);
                let _hint = r.uleb()?;
                let counter = r.uleb_u32("object id counter")?;
                Ok(ExId::Op { counter, actor })
            }
            kind => Err(ExIdError::UnknownKind { kind }),
        }
    }
}

impl Document {
    /// The byte form of `id` ([`ExId::from_bytes`] reads it): automerge 0.12's
    /// `ExId::to_bytes` of the same object in an automerge document holding the same
    /// changes, byte for byte (its actor hint is the actor's rank among the document's
    /// authors, sorted bytewise, as automerge numbers them; another document ignores it).
    ///
    /// ```
    /// use converge_doc::{Document, ExId, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let list = doc.put_object(&ROOT, "items", ObjType::List)?;
    /// let stored = doc.obj_id_to_bytes(&list);
    /// assert_eq!(ExId::from_bytes(&stored).unwrap(), list);
    /// assert_eq!(list.to_string().parse::<ExId>().unwrap(), list);
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn obj_id_to_bytes(&self, id: &ExId) -> Vec<u8> {
        match id {
            ExId::Root => vec![BYTES_VERSION | (KIND_ROOT << 4)],
            ExId::Op { counter, actor } => {
                let actors = &self.ops.actors;
                let hint = crate::save::authors(self)
                    .iter()
                    .position(|&a| actors.get(a as usize) == Some(actor))
                    .unwrap_or(0);
                let bytes = actor.as_bytes();
                let mut out = Vec::with_capacity(bytes.len() + 8);
                out.push(BYTES_VERSION | (KIND_OP << 4));
                leb128::write_u64(&mut out, bytes.len() as u64);
                out.extend_from_slice(bytes);
                leb128::write_u64(&mut out, hint as u64);
                leb128::write_u64(&mut out, u64::from(*counter));
                out
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn text_and_bytes_round_trip_and_bad_ones_are_typed_errors() {
        let op = ExId::Op {
            counter: 300,
            actor: ActorId::from_bytes(&[0xab, 0x01]),
        };
        assert_eq!(op.to_string(), "300@ab01");
        for id in [ExId::Root, op.clone()] {
            assert_eq!(id.to_string().parse::<ExId>().unwrap(), id);
        }
        assert_eq!("300@AB01".parse::<ExId>().unwrap(), op);
        assert_eq!("300ab01".parse::<ExId>(), Err(ExIdError::NoSeparator));
        assert_eq!("x@ab".parse::<ExId>(), Err(ExIdError::InvalidCounter));
        assert_eq!(
            "4294967296@ab".parse::<ExId>(),
            Err(ExIdError::InvalidCounter)
        );
        assert!(matches!(
            "1@xyz".parse::<ExId>(),
            Err(ExIdError::InvalidActor(_))
        ));

        let doc = Document::new();
        assert_eq!(ExId::from_bytes(&doc.obj_id_to_bytes(&op)).unwrap(), op);
        assert_eq!(ExId::from_bytes(&[0x00]).unwrap(), ExId::Root);
        assert_eq!(
            ExId::from_bytes(&[0x01]),
            Err(ExIdError::UnknownVersion { version: 1 })
        );
        assert_eq!(
            ExId::from_bytes(&[0x20]),
            Err(ExIdError::UnknownKind { kind: 2 })
        );
        assert!(matches!(ExId::from_bytes(&[]), Err(ExIdError::Bytes(_))));
        // Cut short, and an overlong counter.
        assert!(matches!(
            ExId::from_bytes(&[0x10, 0x02, 0xab]),
            Err(ExIdError::Bytes(_))
        ));
        assert!(matches!(
            ExId::from_bytes(&[0x10, 0x01, 0xab, 0x00, 0x81, 0x00]),
            Err(ExIdError::Bytes(_))
        ));
    }
}
