//! Replays the committed fuzz seeds and regressions (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`) with the same checks as the fuzz targets, so that every past
//! finding stays guarded by `cargo test` on stable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

use bytes::Bytes;
use converge_encoding::chunk::{ChunkType, split_chunks};
use converge_encoding::{Cursor, DocumentChunk, DocumentLimits, decode_chunks};

#[path = "../../../fuzz/fuzz_targets/checks/change_decode.rs"]
mod change_decode_checks;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

#[test]
fn chunk_split_inputs() {
    let inputs = inputs("chunk_split");
    assert!(!inputs.is_empty(), "seeds are committed");
    for (path, data) in inputs {
        let mut patched = data.clone();
        let mut offset = 0;
        let mut walked = 0;
        for chunk in split_chunks(&data) {
            let Ok(c) = chunk else { break };
            walked += 1;
            if c.chunk_type() != ChunkType::CompressedChange {
                patched[offset + 4..offset + 8].copy_from_slice(&c.hash().0[..4]);
            }
            offset += c.bytes().len();
        }
        if let Ok(chunks) = decode_chunks(&Bytes::from(patched)) {
            assert_eq!(chunks.len(), walked, "{}", path.display());
        }
    }
}

/// The target's own checks (`fuzz/fuzz_targets/checks/change_decode.rs`); they were written
/// here again once, and had fallen behind the target's.
#[test]
fn change_decode_inputs() {
    for (_, data) in inputs("change_decode") {
        change_decode_checks::check(&data);
    }
}

#[test]
fn document_decode_inputs() {
    let limits = DocumentLimits {
        max_inflated_bytes: 1 << 20,
        max_rows: 1 << 16,
    };
    for (path, data) in inputs("document_decode") {
        let Ok(doc) = DocumentChunk::decode_data(&data, limits) else {
            continue;
        };
        let _ = doc.reconstruct_changes();
        if let Some(kept) = doc.canonical_columns() {
            assert_eq!(**kept, doc.encode_columns(), "{}", path.display());
        }
        for compress in [false, true] {
            let bytes = doc.encode(compress);
            let again = DocumentChunk::decode(&bytes).unwrap();
            assert_eq!(again.encode(compress), bytes, "{}", path.display());
        }
    }
}

#[test]
fn cursor_decode_inputs() {
    let inputs = inputs("cursor_decode");
    assert!(!inputs.is_empty(), "seeds are committed");
    let mut decoded = 0;
    for (path, data) in inputs {
        if let Ok(cursor) = Cursor::decode(&data) {
            decoded += 1;
            let bytes = cursor.encode();
            if data.first() == Some(&1) {
                assert!(data.starts_with(&bytes), "{}", path.display());
            }
            assert_eq!(Cursor::decode(&bytes).as_ref(), Ok(&cursor));
        }
        if let Ok(text) = std::str::from_utf8(&data)
            && let Ok(cursor) = text.parse::<Cursor>()
        {
            decoded += 1;
            assert_eq!(cursor.to_string().parse::<Cursor>().as_ref(), Ok(&cursor));
        }
    }
    assert!(decoded >= 7, "the seeds decode");
}
