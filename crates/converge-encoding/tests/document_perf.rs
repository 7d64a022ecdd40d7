//! Timings of decode, reconstruct and encode on large corpus documents. Not assertions: run
//! `cargo test -p converge-encoding --release --test document_perf -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use converge_encoding::chunk;
use converge_encoding::{DocumentChunk, DocumentLimits};

/// The corpus, beside the checkout.
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/automerge-corpus"
);

#[test]
#[ignore = "timing report; run in release with --ignored --nocapture"]
fn document_timings() {
    for file in [
        "real-docs/essay.amrg",
        "real-docs/godot-thread.amrg",
        "egwalker/S3.am",
    ] {
        let bytes = std::fs::read(format!("{CORPUS}/{file}")).unwrap();
        let c = chunk::Chunk::parse(&bytes).unwrap();
        let t = Instant::now();
        let doc = DocumentChunk::decode_with_limits(c.bytes(), DocumentLimits::default()).unwrap();
        let decode = t.elapsed();
        let t = Instant::now();
        let changes = doc.reconstruct_changes().unwrap();
        let reconstruct = t.elapsed();
        let t = Instant::now();
        let encoded = doc.encode(true);
        let encode = t.elapsed();
        let t = Instant::now();
        let plain = doc.encode(false);
        let encode_plain = t.elapsed();
        println!(
            "{file}: {} bytes, {} changes, {} ops: decode {decode:?}, reconstruct {reconstruct:?} \
             ({} changes), encode(compress) {encode:?} ({} bytes), encode(plain) {encode_plain:?} \
             ({} bytes)",
            c.bytes().len(),
            doc.changes.len(),
            doc.ops.len(),
            changes.len(),
            encoded.len(),
            plain.len()
        );
    }
}

#[test]
#[ignore = "profiling helper: decode only"]
fn decode_only() {
    let bytes = std::fs::read(format!("{CORPUS}/real-docs/godot-thread.amrg")).unwrap();
    let c = chunk::Chunk::parse(&bytes).unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let doc = DocumentChunk::decode(c.bytes()).unwrap();
        println!(
            "decode {:?} ({} ops, DocOp is {} bytes)",
            t.elapsed(),
            doc.ops.len(),
            std::mem::size_of::<converge_encoding::DocOp>()
        );
    }
}
