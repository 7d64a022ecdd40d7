//! The `obj_id_decode` fuzz target's checks, compiled into the target and into the replay
//! of its seeds and regressions in `crates/converge-doc/tests/fuzz_doc.rs` (the fuzz crate is
//! its own workspace: both include this file by path).
//!
//! Object id decoding (an id an application stored as bytes or text, or a JavaScript peer
//! sent as text) never panics; when the bytes decode, the byte form written back decodes to
//! the same id, and so does its text; when the text parses, writing it reads back as the
//! same id.

use converge_doc::{Document, ExId};

/// The fuzz target's body; whether the input read as an id (bytes or text).
pub(crate) fn check(data: &[u8]) -> bool {
    let mut read = false;
    if let Ok(id) = ExId::from_bytes(data) {
        read = true;
        let bytes = Document::new().obj_id_to_bytes(&id);
        assert_eq!(ExId::from_bytes(&bytes).as_ref(), Ok(&id));
        assert_eq!(id.to_string().parse::<ExId>().as_ref(), Ok(&id));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(id) = text.parse::<ExId>()
    {
        read = true;
        assert_eq!(id.to_string().parse::<ExId>().as_ref(), Ok(&id));
    }
    read
}
