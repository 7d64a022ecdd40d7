//! A change without ops whose start op is past every op of the document (automerge writes
//! such changes with `empty_change`; this one is crafted so that its counters are ahead):
//! automerge 0.12 counts its declared range into the document's max op, so the next local
//! change starts after it. converge started after its largest op instead, and wrote a
//! different change (another start op, another hash) from the same edits.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use automerge::transaction::Transactable;
use converge_doc::{Document, ROOT};
use converge_encoding::{ActorId, Change, ChangeParts};

/// Actor aa's first change: no ops, no deps, starting at `start_op`.
fn empty_change(start_op: u64) -> Change {
    Change::from_parts(ChangeParts {
        actor: ActorId::from_bytes(&[0xaa]),
        seq: 1,
        start_op,
        time: 0,
        message: None,
        deps: vec![],
        other_actors: vec![],
        ops: vec![],
        extra_bytes: vec![],
    })
    .unwrap()
}

/// The next local change, on the document that applied it and on a load of automerge's
/// save of that document, is automerge's byte for byte.
#[test]
fn a_local_change_starts_after_an_empty_changes_counters() {
    let empty = empty_change(100);
    let bytes = empty.bytes().to_vec();
    let mut am = automerge::Automerge::new();
    am.set_actor(automerge::ActorId::from(&[0xbb][..]));
    am.apply_changes([automerge::Change::try_from(&bytes[..]).unwrap()])
        .unwrap();
    let mut tx = am.transaction();
    tx.put(automerge::ROOT, "k", 1).unwrap();
    tx.commit();
    let am_last = am.get_last_local_change().unwrap().clone();
    let saved = am.save();

    let mut cv = Document::new();
    cv.set_actor(ActorId::from_bytes(&[0xbb]));
    cv.apply_changes([empty]).unwrap();
    cv.put(&ROOT, "k", 1i64).unwrap();
    let cv_last = cv.get_changes(&[]).pop().unwrap();
    assert_eq!(am_last.start_op().get(), 100);
    assert_eq!(cv.max_op(), 100);
    assert_eq!(cv_last.bytes().as_ref(), am_last.raw_bytes());
    let mut loaded = Document::load(&saved).unwrap();
    loaded.set_actor(ActorId::from_bytes(&[0xcc]));
    let mut am2 = automerge::Automerge::load(&saved).unwrap();
    am2.set_actor(automerge::ActorId::from(&[0xcc][..]));
    let mut tx = am2.transaction();
    tx.put(automerge::ROOT, "j", 2).unwrap();
    tx.commit();
    loaded.put(&ROOT, "j", 2i64).unwrap();
    let a = am2.get_last_local_change().unwrap().clone();
    let c = loaded.get_changes(&[]).pop().unwrap();
    assert_eq!(c.start_op(), 101);
    assert_eq!(c.bytes().as_ref(), a.raw_bytes());
}

/// A transaction that makes no change leaves the document's max op where it was, and one
/// rolled back too.
#[test]
fn an_empty_transaction_leaves_the_max_op() {
    let empty = empty_change(50);
    let mut cv = Document::new();
    cv.apply_changes([empty]).unwrap();
    let saved = cv.save();
    assert_eq!(cv.max_op(), 49);
    assert_eq!(cv.transaction().commit().unwrap(), None);
    let mut tx = cv.transaction();
    tx.put(&ROOT, "k", 1i64).unwrap();
    assert_eq!(tx.rollback(), 1);
    assert_eq!(cv.max_op(), 49);
    assert_eq!(cv.save(), saved);
}
