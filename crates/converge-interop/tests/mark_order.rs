//! A change whose mark ops end before they begin (fuzz/regressions/doc_apply/crash-d569...,
//! found by the doc_apply fuzz target): automerge 0.12 applies it, and then refuses to load
//! the document it saves ("mark end occurs before mark begin"). converge does the same: it
//! applies the change, saves the same bytes, and refuses them on load with
//! `DocError::InvalidMarkOrder`. A peer that refused the change would no longer converge
//! with automerge peers that took it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/fuzz_targets/checks/doc_apply.rs"]
#[allow(dead_code)]
mod doc_apply;

use converge_doc::{DocError, Document};
use converge_encoding::Change;

#[test]
fn a_mark_end_before_its_begin_is_taken_and_saved_as_automerge_does() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/doc_apply/crash-d569e672859805c445ff1e0be36a1ecde0177385"
    );
    let data = std::fs::read(path).expect("the committed regression");
    let changes: Vec<Change> = converge_encoding::chunk::split_chunks(&data)
        .map_while(Result::ok)
        .map_while(|chunk| {
            Change::decode_unchecked_checksum(bytes::Bytes::copy_from_slice(chunk.bytes())).ok()
        })
        .collect();
    assert_eq!(changes.len(), 1);

    let mut ours = doc_apply::fixture();
    let mut theirs = automerge::Automerge::load(&ours.save()).unwrap();
    theirs
        .apply_changes(
            changes
                .iter()
                .map(|c| automerge::Change::try_from(c.bytes().as_ref()).unwrap()),
        )
        .unwrap();
    ours.apply_changes(changes).unwrap();
    let (ours_saved, theirs_saved) = (ours.save(), theirs.save());
    assert_eq!(ours_saved, theirs_saved);
    assert!(automerge::Automerge::load(&theirs_saved).is_err());
    assert!(matches!(
        Document::load(&ours_saved),
        Err(DocError::InvalidMarkOrder { .. })
    ));
}
