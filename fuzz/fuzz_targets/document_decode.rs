//! Document decoding never panics; a decoded document re-encodes to bytes that decode and
//! re-encode to themselves, and change reconstruction never panics.
#![no_main]

use converge_encoding::DocumentChunk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = DocumentChunk::decode(data) else {
        return;
    };
    let _ = doc.reconstruct_changes();
    for compress in [false, true] {
        let bytes = doc.encode(compress);
        let again = DocumentChunk::decode(&bytes).expect("our own encoding decodes");
        // Compared as bytes: a NaN float value is not equal to itself.
        assert_eq!(again.encode(compress), bytes);
    }
});
