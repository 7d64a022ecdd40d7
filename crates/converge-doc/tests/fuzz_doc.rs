//! Replays the fuzz targets that drive a whole document, `doc_apply` and `doc_load`, on
//! their committed seeds and regressions (`fuzz/seeds/T/`, `fuzz/regressions/T/`) in a plain
//! `cargo test`, with the targets' own fixtures and checks (`fuzz/fuzz_targets/checks/`,
//! included by path); and writes `doc_apply`'s seeds: changes made on forks of its fixture
//! (`doc_load`'s seeds are `chunk_split`'s), and `obj_id_decode`'s: object ids as bytes and
//! text.
//!
//! ```text
//! cargo test -p converge-doc --test fuzz_doc -- --ignored   # writes fuzz/seeds/doc_apply/, obj_id_decode/
//! ```

#[path = "../../../fuzz/fuzz_targets/checks/doc_apply.rs"]
mod doc_apply;
#[path = "../../../fuzz/fuzz_targets/checks/doc_load.rs"]
mod doc_load;
#[path = "../../../fuzz/fuzz_targets/checks/inputs.rs"]
mod inputs;
#[path = "../../../fuzz/fuzz_targets/checks/obj_id_decode.rs"]
mod obj_id_decode;
#[path = "../src/test_changes.rs"]
#[allow(clippy::panic)] // a crafted change that does not encode is a broken test
mod test_changes;

use converge_doc::{Document, ExpandMark, ObjType, ROOT};
use converge_encoding::{ActorId, ScalarValue};
use doc_apply::fixture;
use inputs::{assert_seeds_committed, inputs, write_seeds};

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
            let accepted = doc_apply::check(&bytes);
            if kind == "seeds" {
                assert!(accepted, "{}: a seed is a good batch", path.display());
            }
            n += 1;
        }
    }
    // The seeds are committed: a missing directory is a mistake, not an empty set.
    assert!(n >= seeds().len(), "{n} inputs replayed");
}

/// A batch whose first half leaves a change queued and whose second half queues another
/// (no queued change waits for what it applies), then is refused: the fuzz check's refusal
/// branch, met with a queue (the check asserts the document, its queue and its missing deps
/// as they were).
#[test]
fn doc_apply_refused_with_a_queue_passes_the_fuzz_checks() {
    let base = fixture();
    let mut a = base.fork();
    a.set_actor(ActorId::from_bytes(&[0x31; 16]));
    a.put(&ROOT, "a", ScalarValue::Int(1)).expect("edit");
    a.put(&ROOT, "a", ScalarValue::Int(2)).expect("edit");
    a.put(&ROOT, "a", ScalarValue::Int(3)).expect("edit");
    let mut b = base.fork();
    b.set_actor(ActorId::from_bytes(&[0x32; 16]));
    b.put(&ROOT, "b", ScalarValue::Int(1)).expect("edit");
    let (a_changes, b_changes) = (a.get_changes(&base.heads()), b.get_changes(&base.heads()));
    let bad = test_changes::unknown_object_change(
        ActorId::from_bytes(&[0x33; 16]),
        1,
        100,
        base.heads(),
        77,
    );
    // First half: a's second (queued: it waits for a's first) and b's first; second half:
    // a's third (queued too, taken out again) and the refused change.
    let batch: Vec<u8> = [&a_changes[1], &b_changes[0], &a_changes[2], &bad]
        .iter()
        .flat_map(|c| c.bytes().to_vec())
        .collect();
    assert!(!doc_apply::check(&batch), "the last change is refused");
}

#[test]
fn doc_load_seeds_and_regressions_pass_the_fuzz_checks() {
    let seeds = inputs("seeds", "doc_load");
    // The seeds are `chunk_split`'s, through a link: at least one of its files loads.
    assert!(
        seeds
            .iter()
            .filter(|(_, bytes)| doc_load::check(bytes))
            .count()
            > 0,
        "{} seeds, none loads",
        seeds.len()
    );
    for (_, bytes) in inputs("regressions", "doc_load") {
        doc_load::check(&bytes);
    }
}

#[test]
fn the_committed_seeds_are_the_writers() {
    assert_seeds_committed("doc_apply", &seeds());
}

#[test]
#[ignore = "writes fuzz/seeds/doc_apply/; run manually"]
fn write_doc_apply_seeds() {
    let seeds = seeds();
    for (name, bytes) in &seeds {
        assert!(doc_apply::check(bytes), "{name}: a seed is a good batch");
    }
    write_seeds("doc_apply", &seeds);
}

/// `obj_id_decode`'s seeds: the root and an op's id, as bytes (automerge 0.12's form, which
/// converge-interop's `api::obj_ids` checks `obj_id_to_bytes` writes) and as text.
fn obj_id_seeds() -> Vec<(String, Vec<u8>)> {
    let mut doc = fixture();
    let list = doc.get(&ROOT, "list").expect("list").expect("list").id;
    doc.set_actor(ActorId::from_bytes(&[0x41; 16]));
    vec![
        ("root-bytes".to_string(), doc.obj_id_to_bytes(&ROOT)),
        ("op-bytes".to_string(), doc.obj_id_to_bytes(&list)),
        ("root-text".to_string(), ROOT.to_string().into_bytes()),
        ("op-text".to_string(), list.to_string().into_bytes()),
    ]
}

#[test]
fn obj_id_decode_seeds_and_regressions_pass_the_fuzz_checks() {
    assert_seeds_committed("obj_id_decode", &obj_id_seeds());
    for kind in ["seeds", "regressions"] {
        for (path, bytes) in inputs(kind, "obj_id_decode") {
            let read = obj_id_decode::check(&bytes);
            assert!(
                read || kind == "regressions",
                "{}: a seed reads",
                path.display()
            );
        }
    }
}

#[test]
#[ignore = "writes fuzz/seeds/obj_id_decode/; run manually"]
fn write_obj_id_decode_seeds() {
    write_seeds("obj_id_decode", &obj_id_seeds());
}
