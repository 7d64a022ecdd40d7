//! Bundle chunks (spec format.md §9). The vectors were written by automerge 0.12
//! (`Automerge::bundle`) for a document of four changes: actor `aabb` makes a list "l" with
//! "a", "b"; deletes "a" and puts counter 5 at "c"; increments "c" by 2; actor `01` (forked)
//! puts "k" = "v". `ALL` bundles all four; `LAST_TWO` the last two, so its first change depends
//! on the second change of `ALL` from outside the bundle. Decoding rebuilt every change with
//! the reference's bytes (checked against the oracle when the vectors were made).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use converge_encoding::{Bundle, Change, DecodeError, FileChunk, decode_chunks};

const ALL: &str = "856f4a8309f8772503ab010002010102aabb0901040304130523053302450250045304600203017f0003017f7e7c010302017e03020201040000047f0003017f00020104000e0104030611041306150a21063404420856085705700871027303b301090004030100047f0102000005020100047d0002000201637e016b016c000302017f000401040101017901050102010301791814160016001605027661627e000103007e010002017e057d7f0202017c027f7b01";
const LAST_TWO: &str = "856f4a837f415f630382010158bff27c7ccd1d5b455dbe20bb76497a8d59cfcfe3a27148c8fe43d07b7fe6b902010102aabb090103030313032303330245025002530360027e01007e037e7e06017e06010200000202017e027e02000a150521033401420356035702700371027302b301037e0163016b7e0100027e05017e141602767e01007f017f057e017f";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn bundles_written_by_the_reference_decode() {
    let all = Bundle::decode(&hex(ALL)).unwrap();
    assert_eq!(all.changes().len(), 4);
    assert!(all.deps().is_empty());
    let two = Bundle::decode(&hex(LAST_TWO)).unwrap();
    assert_eq!(two.changes().len(), 2);
    assert_eq!(two.deps(), &[all.changes()[1].hash()]);
    for (a, b) in all.changes()[2..].iter().zip(two.changes()) {
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.bytes(), b.bytes());
    }
    for c in all.changes() {
        // Rebuilt changes are canonical change chunks that decode to themselves.
        let again = Change::decode(c.bytes().clone()).unwrap();
        assert_eq!(again.hash(), c.hash());
        assert!(again.is_canonical());
    }
    assert_eq!(all.changes()[0].seq(), 1);
    assert_eq!(all.changes()[1].num_ops(), 2); // the deletion is rebuilt as an op
    assert_eq!(all.changes()[3].actor().as_bytes(), &[0x01]);
}

#[test]
fn bundles_load_as_file_chunks() {
    let mut file = hex(LAST_TWO);
    file.extend_from_slice(&hex(ALL));
    let chunks = decode_chunks(&Bytes::from(file)).unwrap();
    assert_eq!(chunks.len(), 2);
    assert!(matches!(&chunks[1].1, FileChunk::Bundle(b) if b.changes().len() == 4));
}

#[test]
fn corrupt_bundles_are_errors() {
    let good = hex(ALL);
    let mut bad = good.clone();
    bad[5] ^= 1;
    assert!(matches!(
        Bundle::decode(&bad),
        Err(DecodeError::BadChecksum { .. })
    ));
    let c = converge_encoding::chunk::Chunk::parse(&good).unwrap();
    let data = c.data();
    for cut in 0..data.len() {
        assert!(
            Bundle::decode_data(&data[..cut], Default::default()).is_err(),
            "{cut}"
        );
    }
    for i in 0..data.len() {
        for x in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut d = data.to_vec();
            d[i] = x;
            let _ = Bundle::decode_data(&d, Default::default());
        }
    }
}
