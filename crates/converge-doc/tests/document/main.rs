//! Integration tests of converge-doc's public API.

mod maps;
mod marks;
mod patches;
mod remote;
mod sequences;
mod updates;

use converge_doc::Document;
use converge_encoding::ActorId;

/// A document with a fixed one-byte actor.
pub fn doc(actor: u8) -> Document {
    Document::with_actor(ActorId::from_bytes(&[actor]))
}
