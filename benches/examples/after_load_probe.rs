//! Times the first edits and remote changes on a freshly loaded document, one by one: a
//! document an application opens should take its first keystroke as fast as its hundredth.
//!
//! ```text
//! cargo run --release -p converge-benches --example after_load_probe -- FILE [EDITS] [--utf16] [--incremental]
//! ```
//!
//! With `--utf16` the documents count text in UTF-16 code units (set on an empty document,
//! then `load_incremental` of the file), as a JavaScript peer does. With `--incremental` it
//! only times `load_incremental` of each remote change's bytes in turn, for profiles.
//!
//! Four runs, each on a fresh load: puts at the root, splices that replace a character in the
//! middle of the root's first text object (if it has one), and remote changes (puts made
//! beforehand on a fork by another actor), and puts on a fork of the load, each timed alone. Until 2026-12-05 a load
//! reserved its per-change tables and its successor links exactly, so the first change after
//! it copied them (the paper document's first put: 4.6 ms, the next ones 0.002 ms).

use std::time::Instant;

use converge_benches::first_text;
use converge_doc::{Document, ROOT};
use converge_encoding::{ActorId, ScalarValue};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let edits: usize = args.get(1).map_or(5, |s| s.parse().expect("EDITS"));
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let utf16 = args.iter().any(|a| a == "--utf16");
    let load = |bytes: &[u8]| {
        if utf16 {
            let mut doc = Document::new();
            assert!(doc.set_text_encoding(converge_doc::TextEncoding::Utf16));
            doc.load_incremental(bytes).expect("the file loads");
            doc
        } else {
            Document::load(bytes).expect("the file loads")
        }
    };
    // Remote changes made beforehand on a fork of another load.
    let mut other = load(&bytes);
    other.set_actor(ActorId::from_bytes(&[0xee; 16]));
    let base = other.heads();
    for i in 0..edits {
        other
            .put(&ROOT, "remote", ScalarValue::Int(i as i64))
            .expect("put");
    }
    let remote = other.get_changes(&base);
    if args.iter().any(|a| a == "--incremental") {
        // For profiles: each of the fork's changes loaded incrementally, one call each.
        let raw: Vec<Vec<u8>> = remote.iter().map(|c| c.bytes().to_vec()).collect();
        let mut doc = load(&bytes);
        let start = Instant::now();
        for r in &raw {
            doc.load_incremental(r).expect("loads");
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / raw.len() as f64;
        println!(
            "{path}: load_incremental of {} single changes: {per:.2} us each",
            raw.len()
        );
        return;
    }
    for what in ["puts", "text splices", "remote changes", "puts on a fork"] {
        let mut doc = load(&bytes);
        if what == "puts on a fork" {
            let start = Instant::now();
            doc = doc.fork();
            let ms = start.elapsed().as_secs_f64() * 1e3;
            println!("{path}: the fork took {ms:.3} ms");
        }
        let text = first_text(&doc).map(|(_, id)| id);
        if what == "text splices" && text.is_none() {
            continue;
        }
        let mut times = Vec::new();
        for (i, change) in remote.iter().enumerate() {
            let start = Instant::now();
            match (what, &text) {
                ("puts" | "puts on a fork", _) => doc
                    .put(&ROOT, "local", ScalarValue::Int(i as i64))
                    .expect("put"),
                ("text splices", Some(text)) => {
                    let middle = doc.length(text).expect("a text") / 2;
                    doc.splice_text(text, middle, 1, "x").expect("splice")
                }
                _ => {
                    doc.apply_changes([change.clone()]).expect("applies");
                }
            }
            times.push(format!("{:.3}", start.elapsed().as_secs_f64() * 1e3));
        }
        println!(
            "{path}: {what} one by one after a load (ms): {}",
            times.join(" ")
        );
    }
}
