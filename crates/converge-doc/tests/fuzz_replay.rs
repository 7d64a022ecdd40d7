//! Replays the `document_decode` fuzz seeds and regressions (`fuzz/seeds/document_decode/`,
//! `fuzz/regressions/document_decode/`) through the document, as the fuzz target does: a
//! chunk that decodes is loaded and saved. Tests run with debug assertions, so a save that
//! reuses the loaded chunk's columns is checked against a fresh encode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use converge_doc::Document;
use converge_encoding::chunk::{ChunkType, write_chunk};
use converge_encoding::{DocumentChunk, DocumentLimits};

#[test]
fn document_decode_inputs_load_and_save() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let limits = DocumentLimits {
        max_inflated_bytes: 1 << 20,
        max_rows: 1 << 16,
    };
    let mut loaded = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("document_decode")) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if DocumentChunk::decode_data(&data, limits).is_err() {
                continue;
            }
            let mut chunk = Vec::new();
            write_chunk(&mut chunk, ChunkType::Document, &data);
            if let Ok(mut doc) = Document::load(&chunk) {
                let saved = doc.save();
                assert_eq!(doc.save(), saved, "{}", path.display());
                let _ = doc.save_nocompress();
                loaded += 1;
            }
        }
    }
    assert!(loaded > 0, "no fuzz input loaded");
}
