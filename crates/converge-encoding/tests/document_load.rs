//! Loading whole corpus files as concatenations of chunks, and robustness of the document
//! decoder against arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;

use bytes::Bytes;
use converge_encoding::{DecodeError, DocumentChunk, DocumentLimits, FileChunk, decode_chunks};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/automerge-corpus"
);

fn read(rel: &str) -> Bytes {
    Bytes::from(std::fs::read(Path::new(CORPUS).join(rel)).unwrap())
}

fn kinds(chunks: &[(usize, FileChunk)]) -> (usize, usize) {
    let docs = chunks
        .iter()
        .filter(|(_, c)| matches!(c, FileChunk::Document(_)))
        .count();
    (docs, chunks.len() - docs)
}

#[test]
fn fixtures_load() {
    for (file, docs, changes) in [
        ("fixtures/two_change_chunks.automerge", 0, 2),
        ("fixtures/two_change_chunks_compressed.automerge", 0, 2),
        ("fixtures/two_change_chunks_out_of_order.automerge", 0, 2),
        ("fixtures/exemplar.automerge", 1, 0),
        ("real-docs/monday-meeting-notes.automerge", 1, 0),
    ] {
        let chunks = decode_chunks(&read(file)).unwrap();
        assert_eq!(kinds(&chunks), (docs, changes), "{file}");
    }
}

/// A document chunk followed by orphan change chunks keeps them all, in order.
#[test]
fn document_with_orphan_changes() {
    let chunks = decode_chunks(&read("real-docs/essay.amrg")).unwrap();
    let (docs, changes) = kinds(&chunks);
    assert_eq!(docs, 1);
    assert!(changes > 100, "{changes}");
    assert!(matches!(chunks[0], (0, FileChunk::Document(_))));
    assert!(chunks.windows(2).all(|w| w[0].0 < w[1].0));
}

/// Every fuzz crasher gives a clean error or chunks, never a panic; the same for documents
/// reconstructed from them.
#[test]
fn fuzz_crashers_do_not_panic() {
    let dir = Path::new(CORPUS).join("fuzz-crashers");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let bytes = Bytes::from(std::fs::read(e.path()).unwrap());
        let name = e.file_name().to_string_lossy().to_string();
        match decode_chunks(&bytes) {
            Ok(chunks) => {
                for (_, c) in chunks {
                    if let FileChunk::Document(d) = c {
                        let r = d.reconstruct_changes();
                        println!("{name}: document; reconstruct: {:?}", r.map(|c| c.len()));
                    }
                }
            }
            Err(e) => println!("{name}: {e}"),
        }
    }
}

#[test]
fn checksum_errors_carry_the_offset() {
    let doc = DocumentChunk::new().encode(false);
    let mut file = doc.clone();
    let mut bad = doc.clone();
    bad[5] ^= 0xff;
    file.extend_from_slice(&bad);
    match decode_chunks(&Bytes::from(file)) {
        Err(DecodeError::InChunk { offset, source }) => {
            assert_eq!(offset, doc.len());
            assert!(matches!(*source, DecodeError::BadChecksum { .. }));
        }
        other => panic!("{other:?}"),
    }
}

fn small_limits() -> DocumentLimits {
    DocumentLimits {
        max_inflated_bytes: 1 << 20,
        max_rows: 1 << 16,
    }
}

quickcheck::quickcheck! {
    fn arbitrary_bytes_never_panic(data: Vec<u8>) -> bool {
        let _ = DocumentChunk::decode_data(&data, small_limits());
        let _ = converge_encoding::Bundle::decode_data(&data, small_limits());
        let _ = decode_chunks(&Bytes::from(data));
        true
    }

    /// Corrupting a real document's data anywhere gives an error or a document, never a panic,
    /// and reconstructing whatever decodes does not panic either.
    fn corrupted_documents_never_panic(edits: Vec<(u16, u8)>) -> bool {
        let file = read("fixtures/exemplar.automerge");
        let c = converge_encoding::chunk::Chunk::parse(&file).unwrap();
        let mut data = c.data().to_vec();
        for (pos, byte) in edits {
            let i = usize::from(pos) % data.len();
            data[i] = byte;
        }
        if let Ok(doc) = DocumentChunk::decode_data(&data, small_limits()) {
            let _ = doc.reconstruct_changes();
            let _ = DocumentChunk::decode_data(&doc.encode_data(true), small_limits());
        }
        true
    }

    fn truncated_documents_never_panic(cut: u16) -> bool {
        let file = read("fixtures/brave-ape-49.automerge");
        let c = converge_encoding::chunk::Chunk::parse(&file).unwrap();
        let data = c.data();
        let cut = usize::from(cut) % data.len();
        DocumentChunk::decode_data(&data[..cut], small_limits()).is_err()
    }
}
