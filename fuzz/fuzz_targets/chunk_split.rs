//! Splitting any bytes into chunks and decoding every chunk (documents, changes, compressed
//! changes, bundles) never panics, and a file-level decode agrees with the chunk walk.
//!
//! To reach past the checksum gate, the target first rewrites the checksum of every chunk the
//! walk finds (except compressed changes, whose checksum covers the inflated change) so that
//! most inputs exercise the real decoders.
#![no_main]

use bytes::Bytes;
use converge_encoding::chunk::{ChunkType, split_chunks};
use converge_encoding::decode_chunks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut patched = data.to_vec();
    let mut offset = 0;
    let mut walked = 0;
    for chunk in split_chunks(data) {
        let Ok(c) = chunk else { break };
        walked += 1;
        if c.chunk_type() != ChunkType::CompressedChange {
            let hash = c.hash();
            patched[offset + 4..offset + 8].copy_from_slice(&hash.0[..4]);
        }
        offset += c.bytes().len();
    }
    if let Ok(chunks) = decode_chunks(&Bytes::from(patched)) {
        assert_eq!(
            chunks.len(),
            walked,
            "every chunk the walk found was decoded"
        );
    }
});
