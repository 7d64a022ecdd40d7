//! Document decoding never panics; a decoded document re-encodes to bytes that decode and
//! re-encode to themselves, and change reconstruction never panics.
//!
//! The input is the chunk's *data* (no envelope), so the fuzzer does not have to forge a
//! checksum to reach the column decoders.
#![no_main]

use converge_encoding::{DocumentChunk, DocumentLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep a run-length bomb from making one input take seconds.
    let limits = DocumentLimits {
        max_inflated_bytes: 1 << 20,
        max_rows: 1 << 16,
    };
    let Ok(doc) = DocumentChunk::decode_data(data, limits) else {
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
