//! Loads the real documents of the corpus, saves them again and reloads the result.

mod support;

use std::time::Instant;

use converge_doc::Document;

const FILES: &[&str] = &[
    "essay.amrg",
    "godot-modeled.amrg",
    "monday-meeting-notes.automerge",
    "stephen.amrg",
    "webstraits.amrg",
];

fn round_trip(name: &str) {
    let path = support::data_path(&format!("automerge-corpus/real-docs/{name}"));
    let bytes = std::fs::read(path).unwrap();
    let start = Instant::now();
    let mut doc = Document::load(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let load = start.elapsed();
    let saved = doc.save();
    let again = Document::load(&saved).unwrap();
    assert_eq!(again.heads(), doc.heads(), "{name}");
    assert_eq!(again.save_nocompress(), doc.save_nocompress(), "{name}");
    if let Ok(orig) = converge_encoding::DocumentChunk::decode(&bytes) {
        let ours = converge_encoding::DocumentChunk::decode(&doc.save_nocompress()).unwrap();
        let same_ops = orig.ops == ours.ops;
        let first_diff = orig
            .ops
            .iter()
            .zip(ours.ops.iter())
            .position(|(a, b)| a != b);
        println!(
            "{name}: same actors {}, same changes {}, same ops {same_ops} (first diff {first_diff:?}, {} vs {})",
            orig.actors == ours.actors,
            orig.changes == ours.changes,
            orig.ops.len(),
            ours.ops.len()
        );
        if let Some(i) = first_diff {
            println!("  orig {:?}\n  ours {:?}", orig.ops.get(i), ours.ops.get(i));
        }
    }
    println!(
        "{name}: {} bytes, {} changes, {} ops, loaded in {load:?}; ours {} bytes{}",
        bytes.len(),
        doc.change_count(),
        doc.max_op(),
        saved.len(),
        if saved == bytes { " (identical)" } else { "" }
    );
}

#[test]
fn real_documents_round_trip() {
    for name in FILES {
        round_trip(name);
    }
}

/// The largest documents; slow in debug builds (run with `--release -- --ignored`).
#[test]
#[ignore]
fn large_documents_round_trip() {
    round_trip("moby-dick.automerge");
    round_trip("godot-thread.amrg");
}

/// One document by name, from `REAL_DOC` (for profiling).
#[test]
#[ignore]
fn one_real_doc() {
    if let Ok(name) = std::env::var("REAL_DOC") {
        round_trip(&name);
    }
}

/// How a load's time splits between decoding, rebuilding changes and applying them.
#[test]
#[ignore]
fn load_breakdown() {
    for name in [
        "moby-dick.automerge",
        "webstraits.amrg",
        "godot-modeled.amrg",
    ] {
        let path = support::data_path(&format!("automerge-corpus/real-docs/{name}"));
        let bytes = std::fs::read(path).unwrap();
        let start = Instant::now();
        let chunk = converge_encoding::DocumentChunk::decode(&bytes).unwrap();
        let decoded = start.elapsed();
        let changes = chunk.reconstruct_changes().unwrap();
        let rebuilt = start.elapsed();
        let mut doc = Document::new();
        doc.apply_changes(changes).unwrap();
        let applied = start.elapsed();
        let start = Instant::now();
        let loaded = Document::load(&bytes).unwrap();
        let load = start.elapsed();
        assert_eq!(loaded.heads(), doc.heads());
        println!(
            "{name}: decode {decoded:?}, reconstruct {:?}, apply changes {:?}; Document::load (bulk) {load:?}",
            rebuilt - decoded,
            applied - rebuilt
        );
    }
}
