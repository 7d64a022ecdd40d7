//! Times the ways an automerge 0.12 user can apply a prefix of the automerge-paper document's
//! changes to an empty document, beside converge's one-by-one and one-call apply:
//!
//! ```text
//! cargo run --release -p converge-benches --example remote_apply_probe -- N [VARIANT...]
//! ```
//!
//! `N` is how many of the 259,779 changes to apply (default 20,000). Variants (all by default):
//! `am-one-by-one` (`Automerge::apply_changes([c])` per change), `am-autocommit-one-by-one`
//! (`AutoCommit::apply_changes([c])` per change), `am-load-incremental` (`load_incremental` of
//! each change's raw bytes), `am-chunks-1000` (`apply_changes` with 1,000 changes a call),
//! `am-all-at-once` (one `apply_changes` call), `am-load-concat` (`Automerge::load` of the
//! concatenated change chunks), `cv-one-by-one`, `cv-all-at-once`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use automerge::transaction::Transactable;
use converge_doc::Document;
use converge_encoding::{Bytes, Change};

fn paper_raw_changes() -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/automerge-corpus/real-docs/edits.json.gz");
    let file = std::fs::read(&path).expect("trace");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&file[..])
        .read_to_end(&mut json)
        .expect("gunzip");
    let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
    let mut doc = automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&[1u8; 16][..]));
    let text = doc
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .unwrap();
    doc.commit();
    for p in value.as_array().expect("array") {
        let a = p.as_array().expect("patch");
        let ins = a.get(2).map(|s| s.as_str().expect("text")).unwrap_or("");
        doc.splice_text(
            &text,
            a[0].as_u64().expect("pos") as usize,
            a[1].as_i64().expect("del") as isize,
            ins,
        )
        .unwrap();
        doc.commit();
    }
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(20_000, |s| s.parse().expect("N"));
    let all = [
        "am-one-by-one",
        "am-autocommit-one-by-one",
        "am-load-incremental",
        "am-chunks-1000",
        "am-all-at-once",
        "am-load-concat",
        "cv-one-by-one",
        "cv-all-at-once",
    ];
    let variants: Vec<&str> = if args.len() > 1 {
        args[1..].iter().map(String::as_str).collect()
    } else {
        all.to_vec()
    };
    let mut raw = paper_raw_changes();
    raw.truncate(n);
    let n = raw.len();
    let am_changes = || -> Vec<automerge::Change> {
        raw.iter()
            .map(|r| automerge::Change::try_from(&r[..]).expect("decodes"))
            .collect()
    };
    let cv_bytes: Vec<Bytes> = raw.iter().map(|r| Bytes::copy_from_slice(r)).collect();
    for v in variants {
        let start = Instant::now();
        let check = match v {
            "am-one-by-one" => {
                let mut doc = automerge::Automerge::new();
                for r in &raw {
                    let c = automerge::Change::try_from(&r[..]).expect("decodes");
                    doc.apply_changes([c]).expect("applies");
                }
                doc.get_changes(&[]).len()
            }
            "am-autocommit-one-by-one" => {
                let mut doc = automerge::AutoCommit::new();
                for r in &raw {
                    let c = automerge::Change::try_from(&r[..]).expect("decodes");
                    doc.apply_changes([c]).expect("applies");
                }
                doc.get_changes(&[]).len()
            }
            "am-load-incremental" => {
                let mut doc = automerge::Automerge::new();
                for r in &raw {
                    doc.load_incremental(r).expect("applies");
                }
                doc.get_changes(&[]).len()
            }
            "am-chunks-1000" => {
                let changes = am_changes();
                let mut doc = automerge::Automerge::new();
                for chunk in changes.chunks(1000) {
                    doc.apply_changes(chunk.iter().cloned()).expect("applies");
                }
                doc.get_changes(&[]).len()
            }
            "am-all-at-once" => {
                let mut doc = automerge::Automerge::new();
                doc.apply_changes(am_changes()).expect("applies");
                doc.get_changes(&[]).len()
            }
            "am-load-concat" => {
                let bytes: Vec<u8> = raw.concat();
                let doc = automerge::Automerge::load(&bytes).expect("loads");
                doc.get_changes(&[]).len()
            }
            "cv-one-by-one" => {
                let mut doc = Document::new();
                for r in &cv_bytes {
                    let c = Change::decode(r.clone()).expect("decodes");
                    doc.apply_changes([c]).expect("applies");
                }
                doc.change_count()
            }
            "cv-all-at-once" => {
                let mut doc = Document::new();
                let changes = cv_bytes
                    .iter()
                    .map(|r| Change::decode(r.clone()).expect("decodes"));
                doc.apply_changes(changes).expect("applies");
                doc.change_count()
            }
            other => {
                eprintln!("unknown variant {other}");
                std::process::exit(2)
            }
        };
        assert_eq!(check, n, "{v}: applied {check} of {n} changes");
        println!(
            "{v:>26}: {n} changes in {:8.3} s",
            start.elapsed().as_secs_f64()
        );
    }
}
