//! A crafted change whose deps are all present but whose seq skips one (actor A's seq 2 with
//! no seq 1, depending on nothing): what automerge 0.12 does with it, and what converge does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use converge_doc::Document;
use converge_encoding::{Action, ActorId, Change, ChangeOp, ChangeParts, Key, ObjId, ScalarValue};

fn change(seq: u64, start_op: u64, value: i64) -> Change {
    Change::from_parts(ChangeParts {
        actor: ActorId::from_bytes(&[0xaa]),
        seq,
        start_op,
        time: 0,
        message: None,
        deps: vec![],
        other_actors: vec![],
        ops: vec![ChangeOp {
            obj: ObjId::Root,
            key: Key::Map("k".into()),
            insert: false,
            action: Action::Set,
            value: ScalarValue::Int(value),
            pred: vec![],
            expand: false,
            mark_name: None,
        }],
        extra_bytes: vec![],
    })
    .unwrap()
}

/// automerge 0.12 panics on it (inside `apply_changes`), so the reference defines no
/// behaviour to match. converge keeps it in the causal queue, as the graph does for a change
/// whose actor's previous seq is missing, and applies it once seq 1 arrives; nothing panics
/// and the document is unchanged meanwhile.
#[test]
fn seq_gap_with_deps_present() {
    let one = change(1, 1, 1);
    let two = change(2, 2, 2);
    let bytes = two.bytes().to_vec();
    let oracle = std::panic::catch_unwind(move || {
        let mut oracle = automerge::Automerge::new();
        let _ = oracle.apply_changes([automerge::Change::try_from(&bytes[..]).unwrap()]);
        oracle.get_changes(&[]).len()
    });
    assert!(
        oracle.is_err(),
        "automerge 0.12 no longer panics: compare behaviours"
    );

    let mut ours = Document::new();
    ours.apply_changes([two.clone()]).unwrap();
    assert_eq!(ours.change_count(), 0);
    assert_eq!(ours.queued_count(), 1);
    assert!(ours.heads().is_empty());
    ours.apply_changes([one]).unwrap();
    assert_eq!(ours.change_count(), 2);
    assert_eq!(ours.queued_count(), 0);
}
