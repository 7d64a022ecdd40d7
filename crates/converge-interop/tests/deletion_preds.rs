//! A deletion is nobody's pred. Automerge 0.12 keeps no op for a deletion (it is only its
//! targets' successor), and converge keeps only its id, so an op whose pred names a
//! deletion (which no Automerge peer writes) names no op for either: checked here against
//! the oracle's verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use converge_doc::{DocError, Document, ROOT};
use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, Key, ObjId, OpId, ScalarValue,
};

const A: [u8; 16] = [0xa1; 16];

fn op(action: Action, value: ScalarValue, pred: Vec<OpId>) -> ChangeOp {
    ChangeOp {
        obj: ObjId::Root,
        key: Key::Map("k".into()),
        insert: false,
        action,
        value,
        pred,
        expand: false,
        mark_name: None,
    }
}

fn change(seq: u64, start_op: u64, deps: Vec<ChangeHash>, ops: Vec<ChangeOp>) -> Change {
    Change::from_parts(ChangeParts {
        actor: ActorId::from_bytes(&A),
        seq,
        start_op,
        time: 0,
        message: None,
        deps,
        other_actors: vec![],
        ops,
        extra_bytes: vec![],
    })
    .unwrap()
}

/// The oracle's verdict: `Ok(value of "k")` or `Err(message)` (`"panic"` if it panicked).
fn oracle(changes: &[Change]) -> Result<Option<String>, String> {
    use automerge::ReadDoc;
    let changes: Vec<automerge::Change> = changes
        .iter()
        .map(|c| automerge::Change::try_from(c.bytes().as_ref()).unwrap())
        .collect();
    std::panic::catch_unwind(move || {
        let mut doc = automerge::Automerge::new();
        doc.apply_changes(changes).map_err(|e| e.to_string())?;
        Ok(doc
            .get(automerge::ROOT, "k")
            .unwrap()
            .map(|(v, _)| v.to_string()))
    })
    .unwrap_or_else(|_| Err("panic".into()))
}

/// Both sides treat a pred naming a deletion as they treat a pred naming no op at all: the
/// oracle applies the op as if the pred were absent, converge refuses the change (it refuses
/// unknown preds by design, see `file_verdicts`) and keeps the document as it was.
#[test]
fn a_pred_naming_a_deletion_is_an_unknown_pred() {
    let set = |v: i64, pred| op(Action::Set, ScalarValue::Int(v), pred);
    let del = |pred| op(Action::Del, ScalarValue::Null, pred);
    let a = |c| OpId::new(c, 0);
    let first = change(1, 1, vec![], vec![set(1, vec![]), del(vec![a(1)])]);
    let cases = [
        // The deletion in an earlier change, in the same change, and an id of no op.
        (
            "a deletion of an earlier change",
            vec![first.clone()],
            change(2, 3, vec![first.hash()], vec![set(2, vec![a(2)])]),
        ),
        (
            "a deletion of the same change",
            vec![],
            change(
                1,
                1,
                vec![],
                vec![set(1, vec![]), del(vec![a(1)]), set(2, vec![a(2)])],
            ),
        ),
        (
            "no op",
            vec![first.clone()],
            change(2, 3, vec![first.hash()], vec![set(2, vec![a(9)])]),
        ),
    ];
    for (name, base, last) in cases {
        let all: Vec<Change> = base.iter().cloned().chain([last.clone()]).collect();
        assert_eq!(
            oracle(&all),
            Ok(Some("2".into())),
            "{name}: the oracle's verdict"
        );
        let mut doc = Document::new();
        doc.apply_changes(base).unwrap();
        let before = doc.save();
        let err = doc.apply_changes([last]).unwrap_err();
        assert!(
            matches!(err, DocError::UnknownPred { .. }),
            "{name}: {err:?}"
        );
        assert_eq!(doc.save(), before, "{name}: the document changed");
        assert!(doc.get(&ROOT, "k").unwrap().is_none(), "{name}");
    }
}
