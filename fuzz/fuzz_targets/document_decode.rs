//! Document decoding never panics; a decoded document re-encodes to bytes that decode and
//! re-encode to themselves, and change reconstruction never panics. Columns kept as canonical
//! are exactly what the writer writes for the rows; a document loaded from the chunk saves
//! (debug assertions check kept columns against a fresh encode).
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
    if let Some(kept) = doc.canonical_columns() {
        assert_eq!(
            **kept,
            doc.encode_columns(),
            "kept columns are the writer's"
        );
    }
    let mut chunk = Vec::new();
    converge_encoding::chunk::write_chunk(
        &mut chunk,
        converge_encoding::chunk::ChunkType::Document,
        data,
    );
    if let Ok(mut loaded) = converge_doc::Document::load(&chunk) {
        let _ = loaded.save();
        let _ = loaded.save_nocompress();
    }
    for compress in [false, true] {
        let bytes = doc.encode(compress);
        let again = DocumentChunk::decode(&bytes).expect("our own encoding decodes");
        // Compared as bytes: a NaN float value is not equal to itself.
        assert_eq!(again.encode(compress), bytes);
    }
});
