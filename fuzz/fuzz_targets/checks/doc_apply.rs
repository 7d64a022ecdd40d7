//! The `doc_apply` fuzz target's fixture and checks, compiled into the target and into the
//! replay of its seeds and regressions in `crates/converge-doc/tests/fuzz_doc.rs` (the fuzz
//! crate is its own workspace: both include this file by path).
//!
//! The input is a run of change chunks (`chunk::split_chunks`; the checksums are not checked,
//! as the fuzzer cannot forge them), applied as one batch to a fixed document: a text with a
//! mark, a list, a map with a counter. Checks: no panic; a refused batch leaves the document
//! exactly as it was (heads, saved bytes, max op, counts); an accepted batch of canonical
//! changes leaves a document that saves and loads back to the same heads and values, and
//! diffs between the heads before and after; either way the document still takes a local
//! edit.

use bytes::Bytes;
use converge_doc::{
    DocError, Document, ExpandMark, LoadOptions, ObjType, OnPartialLoad, ROOT, SaveOptions,
    VerificationMode,
};
use converge_encoding::chunk::split_chunks;
use converge_encoding::{ActorId, Change, ChangeHash, ScalarValue};

/// The most changes taken from one input.
const MAX_CHANGES: usize = 64;

pub(crate) fn fixture() -> Document {
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

type State = (Vec<ChangeHash>, Vec<u8>, u32, usize, usize, Vec<ChangeHash>);

/// The document's state; its saved bytes without the queued changes (which a seq clash may
/// drop: see below), the queue counted apart.
fn state(doc: &Document) -> State {
    let saved = doc.clone().save_with_options(SaveOptions {
        deflate: false,
        retain_orphans: false,
    });
    (
        doc.heads(),
        saved,
        doc.max_op(),
        doc.change_count(),
        doc.queued_count(),
        doc.missing_deps(&[]),
    )
}

/// The fuzz target's body; whether the batch was accepted.
pub(crate) fn check(data: &[u8]) -> bool {
    let mut changes = Vec::new();
    for chunk in split_chunks(data) {
        let Ok(chunk) = chunk else { break };
        let Ok(change) = Change::decode_unchecked_checksum(Bytes::copy_from_slice(chunk.bytes()))
        else {
            break;
        };
        // A few bytes of runs can make a valid change of up to 2^24 ops (decoded in a few
        // steps), whose apply takes gigabytes: past the fuzzer's memory limit, not a finding.
        if change.num_ops() > 1 << 16 {
            break;
        }
        changes.push(change);
        if changes.len() == MAX_CHANGES {
            break;
        }
    }
    let mut doc = fixture();
    let canonical = changes
        .iter()
        .all(|c| c.is_canonical() && c.kept_by_documents());
    // The batch's first half first, when it is taken and leaves changes queued: the
    // second half then meets a queue, which a refusal must leave as it was too.
    let second = changes.split_off(changes.len() / 2);
    let mut trial = doc.clone();
    let changes = if !changes.is_empty()
        && trial.apply_changes(changes.iter().cloned()).is_ok()
        && trial.queued_count() > 0
    {
        doc = trial;
        second
    } else {
        changes.extend(second);
        changes
    };
    let before = state(&doc);
    let accepted = match doc.apply_changes(changes) {
        Err(e) => {
            let after = state(&doc);
            if matches!(e, DocError::DuplicateSeqNumber { .. }) {
                // As automerge 0.12: a seq clash with an applied change also drops the
                // queued changes built on that seq; the rest is as it was.
                assert!(
                    after.0 == before.0
                        && after.1 == before.1
                        && after.2 == before.2
                        && after.3 == before.3
                        && after.4 <= before.4,
                    "a refused batch leaves the document as it was"
                );
            } else {
                assert!(
                    after == before,
                    "a refused batch leaves the document and its queue as they were"
                );
            }
            false
        }
        Ok(()) => {
            // Patches between the heads before and after, both ways, and of everything.
            let now = doc.heads();
            for (from, to) in [(&before.0, &now), (&now, &before.0), (&Vec::new(), &now)] {
                assert!(doc.diff(from, to).is_ok(), "a diff between known heads");
            }
            let tree = format!("{:?}", doc.value_tree(&ROOT));
            let saved = doc.save();
            let loaded = Document::load(&saved);
            if canonical && doc.queued_count() == 0 {
                match loaded {
                    Ok(loaded) => {
                        assert_eq!(loaded.heads(), doc.heads());
                        assert_eq!(format!("{:?}", loaded.value_tree(&ROOT)), tree);
                    }
                    // automerge 0.12 applies mark ops that end before they begin and then
                    // refuses the document it saves; converge too (converge-interop
                    // `mark_order`). Its `rescue` reads the values.
                    Err(DocError::InvalidMarkOrder { .. }) => assert_eq!(
                        format!("{:?}", Document::rescue(&saved)),
                        tree,
                        "a rescue reads the values of the document that saved it"
                    ),
                    Err(e) => panic!("a document of canonical changes loads back: {e:?}"),
                }
            } else if canonical || doc.queued_count() == 0 {
                // Queued changes follow the document chunk, and non-canonical changes are
                // rebuilt with other bytes (other hashes: format.md section 0), so such a
                // save loads with missing deps allowed and its heads unchecked, to the same
                // values. (Not both at once: a queued change may wait for the hash a
                // non-canonical change gets when rebuilt, and then apply on the reload.)
                let options = LoadOptions::new()
                    .on_partial_load(OnPartialLoad::Ignore)
                    .verification_mode(VerificationMode::DontCheck);
                match Document::load_with_options(&saved, options) {
                    Ok(loaded) => {
                        assert_eq!(format!("{:?}", loaded.value_tree(&ROOT)), tree);
                    }
                    Err(DocError::InvalidMarkOrder { .. }) => {}
                    Err(e) => panic!("a save loads back, unchecked: {e:?}"),
                }
            }
            true
        }
    };
    let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
    let _ = doc.save();
    accepted
}
