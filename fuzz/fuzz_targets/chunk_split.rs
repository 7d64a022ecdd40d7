//! Splitting any bytes into chunks and decoding every chunk (documents, changes, compressed
//! changes, bundles) never panics; a file-level decode agrees with the chunk walk.
#![no_main]

use bytes::Bytes;
use converge_encoding::chunk::split_chunks;
use converge_encoding::decode_chunks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut walked = 0;
    for chunk in split_chunks(data) {
        match chunk {
            Ok(c) => {
                walked += 1;
                let _ = c.verify_checksum();
            }
            Err(_) => break,
        }
    }
    if let Ok(chunks) = decode_chunks(&Bytes::copy_from_slice(data)) {
        assert_eq!(chunks.len(), walked, "every chunk the walk found was decoded");
    }
});
