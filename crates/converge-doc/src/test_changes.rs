//! Changes crafted for tests (compiled in tests only; `tests/fuzz_doc.rs` includes this file
//! by path too).

use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, Key, ObjId, OpId, ScalarValue,
};

/// A well-formed change of one put to key "x" of an object nobody made (op `counter`@0 of
/// its own actor table): it decodes, and a document refuses it when it applies it.
pub(crate) fn unknown_object_change(
    actor: ActorId,
    seq: u64,
    start_op: u64,
    deps: Vec<ChangeHash>,
    counter: u32,
) -> Change {
    let parts = ChangeParts {
        actor,
        seq,
        start_op,
        time: 0,
        message: None,
        deps,
        other_actors: vec![],
        ops: vec![ChangeOp {
            obj: ObjId::Op(OpId::new(counter, 0)),
            key: Key::Map("x".into()),
            insert: false,
            action: Action::Set,
            value: ScalarValue::Int(1),
            pred: vec![],
            expand: false,
            mark_name: None,
        }],
        extra_bytes: vec![],
    };
    match Change::from_parts(parts) {
        Ok(change) => change,
        Err(e) => panic!("a crafted change encodes: {e}"),
    }
}
