//! Object id decoding (an id an application stored as bytes or text, or a JavaScript peer
//! sent as text): never panics; when the bytes decode, the byte form written back decodes
//! to the same id (the writing document's actor hint aside, the id's bytes are the input's
//! up to what the reader ignores); when the text parses, writing it reads back as the same
//! id.
#![no_main]

use converge_doc::{Document, ExId};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(id) = ExId::from_bytes(data) {
        let bytes = Document::new().obj_id_to_bytes(&id);
        assert_eq!(ExId::from_bytes(&bytes).as_ref(), Ok(&id));
        assert_eq!(id.to_string().parse::<ExId>().as_ref(), Ok(&id));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(id) = text.parse::<ExId>()
    {
        assert_eq!(id.to_string().parse::<ExId>().as_ref(), Ok(&id));
    }
});
