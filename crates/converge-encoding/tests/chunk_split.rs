//! Splitting concatenations of chunks (spec format.md §2) and checksum verification.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use converge_encoding::chunk::{self, ChunkType};
use converge_encoding::{
    Action, Change, ChangeOp, ChangeParts, DecodeError, Key, ObjId, ScalarValue,
};
use quickcheck::quickcheck;

fn big_change() -> Change {
    let ops = (0..50)
        .map(|i| ChangeOp {
            obj: ObjId::Root,
            key: Key::Map(format!("k{i}")),
            insert: false,
            action: Action::Set,
            value: ScalarValue::Str("value".repeat(3)),
            pred: Vec::new(),
            expand: false,
            mark_name: None,
        })
        .collect();
    Change::from_parts(ChangeParts {
        actor: "aabbcc".parse().unwrap(),
        seq: 1,
        start_op: 1,
        time: 0,
        message: None,
        deps: Vec::new(),
        other_actors: Vec::new(),
        ops,
        extra_bytes: Vec::new(),
    })
    .unwrap()
}

#[test]
fn split_mixed_concatenation() {
    let change = big_change();
    let mut file = Vec::new();
    chunk::write_chunk(&mut file, ChunkType::Document, &[0, 0, 0, 0]);
    file.extend_from_slice(change.bytes());
    file.extend_from_slice(&change.compressed_bytes());
    let file = Bytes::from(file);

    let chunks: Vec<_> = chunk::split_chunks(&file)
        .collect::<Result<_, _>>()
        .unwrap();
    let types: Vec<_> = chunks.iter().map(|c| c.chunk_type()).collect();
    assert_eq!(
        types,
        [
            ChunkType::Document,
            ChunkType::Change,
            ChunkType::CompressedChange
        ]
    );
    for c in &chunks {
        c.verify_checksum().unwrap();
    }
    // a compressed change verifies to the uncompressed change's hash
    assert_eq!(chunks[2].verify_checksum().unwrap(), change.hash());
    assert_eq!(chunks[1].hash(), change.hash());
    // zero-copy decoding of a chunk found by splitting
    for c in &chunks[1..] {
        let decoded = Change::decode(file.slice_ref(c.bytes())).unwrap();
        assert_eq!(decoded, change);
    }
}

#[test]
fn split_stops_at_the_first_bad_chunk() {
    let change = big_change();
    let mut file = change.bytes().to_vec();
    file.extend_from_slice(&[0x85, 0x6f, 0x4a, 0x00, 1, 2, 3]);
    let mut it = chunk::split_chunks(&file);
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.offset(), change.bytes().len());
    assert!(matches!(
        it.next(),
        Some(Err(DecodeError::BadMagic { offset })) if offset == change.bytes().len()
    ));
    assert!(it.next().is_none());
}

quickcheck! {
    fn split_never_panics_and_covers_input(b: Vec<u8>) -> bool {
        let mut total = 0;
        let mut failed = false;
        for c in chunk::split_chunks(&b) {
            match c {
                Ok(c) => {
                    total += c.bytes().len();
                    let _ = c.verify_checksum();
                }
                Err(_) => failed = true,
            }
        }
        failed || total == b.len()
    }
}
