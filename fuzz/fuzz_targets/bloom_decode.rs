//! Bloom filter decoding (a `Have`'s bloom field comes from the peer): never panics, and when
//! decoding succeeds, encoding gives the input back (up to the ignored trailing bytes; an
//! empty filter encodes to nothing whatever parameters it was read with).
#![no_main]

use converge_bloom::BloomFilter;
use converge_encoding::ChangeHash;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(filter) = BloomFilter::decode(data) else {
        return;
    };
    let bytes = filter.to_bytes();
    assert_eq!(bytes.len(), filter.encoded_len());
    if filter.is_empty() {
        assert!(bytes.is_empty());
        assert!(data.first().is_none_or(|&b| b == 0));
        assert!(!filter.contains(&ChangeHash([0; 32])));
    } else {
        assert!(
            data.starts_with(&bytes),
            "re-encoding differs from the input"
        );
        assert_eq!(BloomFilter::decode(&bytes).as_ref(), Ok(&filter));
        // Lookups are total; a hash made of the filter's own bytes is as good as any.
        let mut h = [0u8; 32];
        for (o, b) in h.iter_mut().zip(data.iter().rev()) {
            *o = *b;
        }
        let _ = filter.contains(&ChangeHash(h));
    }
});
