//! The checks of the fuzz targets that drive a whole document, `doc_apply` and `doc_load`,
//! replayed on their committed seeds and regressions (`fuzz/seeds/T/`,
//! `fuzz/regressions/T/`) by a plain `cargo test`; and the writer of `doc_apply`'s seeds:
//! changes made on forks of that target's fixture document (`doc_load`'s seeds are
//! `chunk_split`'s).
//!
//! ```text
//! cargo test -p converge-doc --test fuzz_doc -- --ignored   # writes fuzz/seeds/doc_apply/
//! ```
//!
//! The fixtures and checks are the targets' (`fuzz/fuzz_targets/doc_apply.rs`,
//! `doc_load.rs`; the fuzz crate is its own workspace, so they are written twice): keep them
//! alike.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use converge_doc::{Document, ExpandMark, ObjType, ROOT};
use converge_encoding::chunk::{ChunkType, split_chunks};
use converge_encoding::{ActorId, Change, ChangeHash, ScalarValue};

/// The most changes taken from one input.
const MAX_CHANGES: usize = 64;

fn fixture() -> Document {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x11; 16]));
    let text = doc
        .put_object(&ROOT, "text", ObjType::Text)
        .expect("fixture");
    doc.splice_text(&text, 0, 0, "hello world")
        .expect("fixture");
    doc.mark(
        &text,
        0..5,
        "bold",
        ScalarValue::Bool(true),
        ExpandMark::After,
    )
    .expect("fixture");
    let list = doc
        .put_object(&ROOT, "list", ObjType::List)
        .expect("fixture");
    doc.insert(&list, 0, ScalarValue::Int(1)).expect("fixture");
    doc.insert(&list, 1, ScalarValue::Str("two".into()))
        .expect("fixture");
    let map = doc.put_object(&ROOT, "map", ObjType::Map).expect("fixture");
    doc.put(&map, "n", ScalarValue::Counter(1))
        .expect("fixture");
    doc.put(&map, "s", ScalarValue::Str("x".into()))
        .expect("fixture");
    doc
}

type State = (Vec<ChangeHash>, Vec<u8>, u32, usize, usize);

fn state(doc: &Document) -> State {
    (
        doc.heads(),
        doc.save_nocompress(),
        doc.max_op(),
        doc.change_count(),
        doc.queued_count(),
    )
}

/// The fuzz target's body; whether the batch was accepted.
fn check(data: &[u8]) -> bool {
    let mut changes = Vec::new();
    for chunk in split_chunks(data) {
        let Ok(chunk) = chunk else { break };
        let Ok(change) = Change::decode_unchecked_checksum(Bytes::copy_from_slice(chunk.bytes()))
        else {
            break;
        };
        changes.push(change);
        if changes.len() == MAX_CHANGES {
            break;
        }
    }
    let mut doc = fixture();
    let canonical = changes.iter().all(Change::is_canonical);
    let before = state(&doc);
    let accepted = match doc.apply_changes(changes) {
        Err(_) => {
            assert!(
                state(&doc) == before,
                "a refused batch leaves the document as it was"
            );
            false
        }
        Ok(()) => {
            let tree = format!("{:?}", doc.value_tree(&ROOT));
            let saved = doc.save();
            let loaded = Document::load(&saved);
            if canonical && doc.queued_count() == 0 {
                let loaded = loaded.expect("a document of canonical changes loads back");
                assert_eq!(loaded.heads(), doc.heads());
                assert_eq!(format!("{:?}", loaded.value_tree(&ROOT)), tree);
            }
            true
        }
    };
    let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
    let _ = doc.save();
    accepted
}

/// `doc_load`'s fixture.
fn load_fixture() -> Document {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x11; 16]));
    let text = doc
        .put_object(&ROOT, "text", ObjType::Text)
        .expect("fixture");
    doc.splice_text(&text, 0, 0, "hello").expect("fixture");
    doc.put(&ROOT, "n", ScalarValue::Counter(1))
        .expect("fixture");
    doc
}

/// `doc_load`'s body; whether the file loaded.
fn check_load(data: &[u8]) -> bool {
    let mut file = data.to_vec();
    let mut offset = 0;
    for chunk in split_chunks(data) {
        let Ok(c) = chunk else { break };
        if c.chunk_type() != ChunkType::CompressedChange {
            let hash = c.hash();
            file[offset + 4..offset + 8].copy_from_slice(&hash.0[..4]);
        }
        offset += c.bytes().len();
    }
    let loaded = match Document::load(&file) {
        Ok(mut doc) => {
            let tree = format!("{:?}", doc.value_tree(&ROOT));
            let saved = doc.save();
            if let Ok(again) = Document::load(&saved) {
                assert_eq!(format!("{:?}", again.value_tree(&ROOT)), tree);
            }
            let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
            let _ = doc.save_incremental();
            true
        }
        Err(_) => false,
    };
    let mut doc = load_fixture();
    let before = (doc.heads(), doc.save_nocompress(), doc.change_count());
    if doc.load_incremental(&file).is_err() {
        assert!(
            (doc.heads(), doc.save_nocompress(), doc.change_count()) == before,
            "a failed incremental load leaves the document as it was"
        );
    }
    let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
    let _ = doc.save();
    loaded
}

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target)
}

fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir(kind, target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "bin"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// Seeds: changes made on forks of the fixture, each file one batch (raw change chunks).
fn seeds() -> Vec<(String, Vec<u8>)> {
    let base = fixture();
    let text = base.get(&ROOT, "text").expect("text").expect("text").id;
    let list = base.get(&ROOT, "list").expect("list").expect("list").id;
    let map = base.get(&ROOT, "map").expect("map").expect("map").id;
    let fork = |n: u8| {
        let mut d = base.fork();
        d.set_actor(ActorId::from_bytes(&[n; 16]));
        d
    };
    let batch = |d: &Document| -> Vec<u8> {
        d.get_changes(&base.heads())
            .iter()
            .flat_map(|c| c.bytes().to_vec())
            .collect()
    };
    let mut out = Vec::new();
    let mut d = fork(0x21);
    d.splice_text(&text, 5, 0, ", dear").expect("edit");
    d.splice_text(&text, 0, 1, "J").expect("edit");
    out.push(("text-splices".to_string(), batch(&d)));
    let mut d = fork(0x22);
    d.mark(
        &text,
        6..11,
        "link",
        ScalarValue::Str("u".into()),
        ExpandMark::None,
    )
    .expect("edit");
    d.unmark(&text, 0..2, "bold", ExpandMark::Both)
        .expect("edit");
    out.push(("marks".to_string(), batch(&d)));
    let mut d = fork(0x23);
    d.insert(&list, 2, ScalarValue::F64(1.5)).expect("edit");
    d.delete(&list, 0).expect("edit");
    let inner = d.insert_object(&list, 0, ObjType::Map).expect("edit");
    d.put(&inner, "k", ScalarValue::Null).expect("edit");
    out.push(("list-edits".to_string(), batch(&d)));
    let mut d = fork(0x24);
    d.increment(&map, "n", 5).expect("edit");
    d.put(&map, "s", ScalarValue::Bytes(vec![1, 2, 3]))
        .expect("edit");
    d.delete(&map, "s").expect("edit");
    d.put(&ROOT, "t", ScalarValue::Timestamp(-7)).expect("edit");
    out.push(("map-edits".to_string(), batch(&d)));
    let mut d = fork(0x25);
    d.delete(&ROOT, "text").expect("edit");
    d.put(&ROOT, "uint", ScalarValue::Uint(u64::MAX))
        .expect("edit");
    out.push(("delete-object".to_string(), batch(&d)));
    // Two forks at once: concurrent changes in one batch.
    let mut a = fork(0x26);
    a.splice_text(&text, 11, 0, "!").expect("edit");
    let mut b = fork(0x27);
    b.splice_text(&text, 11, 0, "?").expect("edit");
    b.put(&map, "s", ScalarValue::Str("y".into()))
        .expect("edit");
    let mut both = batch(&a);
    both.extend(batch(&b));
    out.push(("concurrent".to_string(), both));
    out
}

#[test]
fn doc_apply_seeds_and_regressions_pass_the_fuzz_checks() {
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        for (path, bytes) in inputs(kind, "doc_apply") {
            let accepted = check(&bytes);
            if kind == "seeds" {
                assert!(accepted, "{}: a seed is a good batch", path.display());
            }
            n += 1;
        }
    }
    // The seeds are committed: a missing directory is a mistake, not an empty set.
    assert!(n >= seeds().len(), "{n} inputs replayed");
}

#[test]
fn doc_load_seeds_and_regressions_pass_the_fuzz_checks() {
    let seeds = inputs("seeds", "doc_load");
    // The seeds are `chunk_split`'s, through a link: at least one of its files loads.
    assert!(
        seeds.iter().filter(|(_, bytes)| check_load(bytes)).count() > 0,
        "{} seeds, none loads",
        seeds.len()
    );
    for (_, bytes) in inputs("regressions", "doc_load") {
        check_load(&bytes);
    }
}

#[test]
fn the_committed_seeds_are_the_writers() {
    for (name, bytes) in seeds() {
        let path = fuzz_dir("seeds", "doc_apply").join(format!("{name}.bin"));
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == bytes,
            "{} is stale: rewrite the seeds",
            path.display()
        );
    }
}

#[test]
#[ignore = "writes fuzz/seeds/doc_apply/; run manually"]
fn write_doc_apply_seeds() {
    let dir = fuzz_dir("seeds", "doc_apply");
    std::fs::create_dir_all(&dir).expect("seed directory");
    for (name, bytes) in seeds() {
        assert!(check(&bytes), "{name}: a seed is a good batch");
        std::fs::write(dir.join(format!("{name}.bin")), bytes).expect("write a seed");
    }
}
