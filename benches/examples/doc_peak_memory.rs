//! Does one document operation, so its peak RSS can be measured with `/usr/bin/time -v`:
//!
//! ```text
//! cargo build --release -p converge-benches --example doc_peak_memory
//! /usr/bin/time -v $CARGO_TARGET_DIR/release/examples/doc_peak_memory MODE [FILE]
//! ```
//!
//! Modes (subtract the matching baseline to get the operation's own peak):
//! - `parse-only`: parse the automerge-paper trace (baseline for the paper modes);
//! - `converge-paper-tx`, `automerge-paper-tx`: replay it in one transaction;
//! - `converge-paper-per-edit`, `automerge-paper-per-edit`: one change per edit;
//! - `read-only FILE`: read the file (baseline for the load modes);
//! - `converge-load FILE`, `automerge-load FILE`: load it.
//!
//! `FILE` is `essay`, `godot-thread`, `S3`, or a path.

use std::io::Read;
use std::path::PathBuf;

use automerge::transaction::Transactable;
use converge_doc::{Document, ObjType, ROOT};
use converge_encoding::ActorId;

fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn read_file(name: &str) -> Vec<u8> {
    let path = match name {
        "essay" => data_path("automerge-corpus/real-docs/essay.amrg"),
        "godot-thread" => data_path("automerge-corpus/real-docs/godot-thread.amrg"),
        "S3" => data_path("automerge-corpus/egwalker/S3.am"),
        other => PathBuf::from(other),
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn paper_edits() -> Vec<(usize, usize, String)> {
    let file = std::fs::read(data_path("automerge-corpus/real-docs/edits.json.gz")).expect("trace");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&file[..])
        .read_to_end(&mut json)
        .expect("gunzip");
    let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
    drop(json);
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let a = p.as_array().expect("patch");
            (
                a[0].as_u64().expect("pos") as usize,
                a[1].as_u64().expect("del") as usize,
                a.get(2)
                    .map(|s| s.as_str().expect("text").to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or_else(|| {
        eprintln!("usage: doc_peak_memory MODE [FILE]");
        std::process::exit(2)
    });
    let file = || read_file(args.get(1).map(String::as_str).unwrap_or("essay"));
    match mode {
        "parse-only" => {
            let edits = paper_edits();
            println!("{} edits", edits.len());
        }
        "converge-paper-tx" | "converge-paper-per-edit" => {
            let edits = paper_edits();
            let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
            if mode == "converge-paper-tx" {
                let mut tx = doc.transaction();
                let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
                for (pos, del, ins) in &edits {
                    tx.splice_text(&text, *pos, *del, ins).unwrap();
                }
                tx.commit().unwrap();
            } else {
                let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
                for (pos, del, ins) in &edits {
                    doc.splice_text(&text, *pos, *del, ins).unwrap();
                }
            }
            println!("{} edits, {} changes", edits.len(), doc.change_count());
        }
        "automerge-paper-tx" | "automerge-paper-per-edit" => {
            let edits = paper_edits();
            let mut doc = automerge::AutoCommit::new();
            let text = doc
                .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
                .unwrap();
            let per_edit = mode == "automerge-paper-per-edit";
            for (pos, del, ins) in &edits {
                doc.splice_text(&text, *pos, *del as isize, ins).unwrap();
                if per_edit {
                    doc.commit();
                }
            }
            doc.commit();
            println!(
                "{} edits, {} changes",
                edits.len(),
                doc.get_changes(&[]).len()
            );
        }
        "read-only" => println!("{} bytes", file().len()),
        "converge-load" => {
            let bytes = file();
            let doc = Document::load(&bytes).expect("converge loads");
            println!("{} bytes, {} changes", bytes.len(), doc.change_count());
        }
        "automerge-load" => {
            let bytes = file();
            let doc = automerge::Automerge::load(&bytes).expect("oracle loads");
            println!("{} bytes, {} heads", bytes.len(), doc.get_heads().len());
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2)
        }
    }
}
