//! Changes a document chunk cannot hold: a pred at another key, a deletion of nothing, a
//! change whose start op is not above its deps' max op, a change of no ops whose max op is
//! below its author's previous change's. converge refuses each (typed
//! error, document unchanged); automerge 0.12 panics on it, or applies it and writes a save
//! that does not load back (checked): the reason converge is stricter, checked here
//! against the oracle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use converge_doc::{DocError, Document, InvalidOpReason};
use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, Key, ObjId, OpId, ScalarValue,
};

fn op(key: &str, action: Action, value: ScalarValue, pred: Vec<OpId>) -> ChangeOp {
    ChangeOp {
        obj: ObjId::Root,
        key: Key::Map(key.into()),
        insert: false,
        action,
        value,
        pred,
        expand: false,
        mark_name: None,
    }
}

fn change(actor: u8, start_op: u64, deps: Vec<ChangeHash>, ops: Vec<ChangeOp>) -> Change {
    change_seq(actor, 1, start_op, deps, ops)
}

fn change_seq(
    actor: u8,
    seq: u64,
    start_op: u64,
    deps: Vec<ChangeHash>,
    ops: Vec<ChangeOp>,
) -> Change {
    let other = if actor == 1 {
        vec![]
    } else {
        vec![ActorId::from_bytes(&[1; 16])]
    };
    Change::from_parts(ChangeParts {
        actor: ActorId::from_bytes(&[actor; 16]),
        seq,
        start_op,
        time: 0,
        message: None,
        deps,
        other_actors: other,
        ops,
        extra_bytes: vec![],
    })
    .unwrap()
}

/// What the oracle makes of `changes`: "panic", "refused", "save loads back", or
/// "save does not load back".
fn oracle(changes: &[Change]) -> &'static str {
    let changes: Vec<automerge::Change> = changes
        .iter()
        .map(|c| automerge::Change::try_from(c.bytes().as_ref()).unwrap())
        .collect();
    std::panic::catch_unwind(move || {
        let mut doc = automerge::Automerge::new();
        if doc.apply_changes(changes).is_err() {
            return "refused";
        }
        match automerge::Automerge::load(&doc.save()) {
            Ok(_) => "save loads back",
            Err(_) => "save does not load back",
        }
    })
    .unwrap_or("panic")
}

/// A case: its name, the change, and whether an error is the refusal expected.
type Case = (&'static str, Change, fn(&DocError) -> bool);

#[test]
fn changes_no_document_chunk_can_hold_are_refused() {
    let set = |key, v: i64, pred| op(key, Action::Set, ScalarValue::Int(v), pred);
    // Actor 1 puts "a" (op 1) and "b" (op 2).
    let base = change(1, 1, vec![], vec![set("a", 1, vec![]), set("b", 2, vec![])]);
    let deps = vec![base.hash()];
    // Actor 3's first change puts "d" as op 10; its second depends on the base alone.
    let first_of_3 = change(3, 10, deps.clone(), vec![set("d", 4, vec![])]);
    let cases: [Case; 4] = [
        (
            "a put on b whose pred is a's op",
            change(2, 3, deps.clone(), vec![set("b", 3, vec![OpId::new(1, 1)])]),
            |e| {
                matches!(
                    e,
                    DocError::InvalidOp {
                        reason: InvalidOpReason::PredElsewhere,
                        ..
                    }
                )
            },
        ),
        (
            "a deletion of nothing",
            change(
                2,
                3,
                deps.clone(),
                vec![op("c", Action::Del, ScalarValue::Null, vec![])],
            ),
            |e| {
                matches!(
                    e,
                    DocError::InvalidOp {
                        reason: InvalidOpReason::DeleteWithoutPred,
                        ..
                    }
                )
            },
        ),
        (
            "a change starting below its dep's max op",
            change(2, 2, deps.clone(), vec![set("c", 3, vec![])]),
            |e| matches!(e, DocError::StartOpNotAfterDeps { .. }),
        ),
        (
            "a change of no ops ending below its author's previous change's max op",
            change_seq(3, 2, 4, deps.clone(), vec![]),
            |e| {
                matches!(
                    e,
                    DocError::MaxOpBelowPrevious {
                        max_op: 3,
                        previous_max_op: 10,
                        ..
                    }
                )
            },
        ),
    ];
    for (name, bad, refused) in cases {
        let verdict = oracle(&[base.clone(), first_of_3.clone(), bad.clone()]);
        assert!(
            verdict == "panic" || verdict == "save does not load back",
            "{name}: the oracle {verdict}"
        );
        let mut doc = Document::new();
        doc.apply_changes([base.clone(), first_of_3.clone()])
            .unwrap();
        let before = doc.save();
        let err = doc.apply_changes([bad]).unwrap_err();
        assert!(refused(&err), "{name}: {err:?}");
        assert_eq!(doc.save(), before, "{name}: the document changed");
        println!("{name}: the oracle: {verdict}; converge refuses it");
    }
}
