//! Regression tests for the discrepancies with automerge 0.12 found by the differential tests
//! (`converge-interop/tests/doc_oracle.rs`, `doc_corpus.rs`). Each test pins the reference's
//! behaviour in the shape of the change it writes (op order, preds, deps) or the load verdict.

use converge_doc::{DocError, Document, ObjType, ROOT, Value};
use converge_encoding::{Action, ActorId, Change, ChangeOp, ScalarValue};

fn doc(actor: u8) -> Document {
    Document::with_actor(ActorId::from_bytes(&[actor]))
}

/// The ops of the last change `d` made.
fn last_ops(d: &Document) -> Vec<ChangeOp> {
    let changes: Vec<Change> = d.get_changes(&[]);
    changes.last().expect("a change").ops().collect()
}

/// automerge 0.12 splices by inserting first, then deleting the units after the new elements,
/// so the inserts get the lower counters.
#[test]
fn splice_inserts_before_it_deletes() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "abcd").unwrap();
    d.splice_text(&t, 1, 2, "XY").unwrap();
    let actions: Vec<Action> = last_ops(&d).iter().map(|o| o.action).collect();
    assert_eq!(
        actions,
        [Action::Set, Action::Set, Action::Del, Action::Del]
    );
    assert_eq!(d.text(&t).unwrap(), "aXYd");

    let l = d.put_object(&ROOT, "l", ObjType::List).unwrap();
    d.splice(&l, 0, 0, [1, 2, 3].map(ScalarValue::Int)).unwrap();
    d.splice(&l, 0, 1, [ScalarValue::Int(9)]).unwrap();
    let ops = last_ops(&d);
    assert_eq!((ops[0].action, ops[1].action), (Action::Set, Action::Del));
    let values: Vec<_> = d
        .list_values(&l)
        .unwrap()
        .into_iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(
        values,
        [9i64, 2, 3].map(|i| Value::Scalar(ScalarValue::Int(i)))
    );
    // Out of range: refused before anything is written.
    let before = d.heads();
    assert!(matches!(
        d.splice_text(&t, 3, 5, "z"),
        Err(DocError::IndexOutOfBounds { .. })
    ));
    assert_eq!(d.heads(), before);
    assert_eq!(d.text(&t).unwrap(), "aXYd");
}

/// automerge 0.12 always lists the author's previous change among the deps of a new local
/// change, even when it is an ancestor of the heads.
#[test]
fn own_previous_change_is_always_a_dep() {
    let mut a = doc(1);
    a.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
    let mine = a.heads()[0];
    let mut b = doc(2);
    b.merge(&a).unwrap();
    b.put(&ROOT, "y", ScalarValue::Int(2)).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.heads(), b.heads());
    a.put(&ROOT, "z", ScalarValue::Int(3)).unwrap();
    let changes = a.get_changes(&[]);
    let deps = changes.last().unwrap().deps().to_vec();
    let mut expected = vec![mine, b.heads()[0]];
    expected.sort();
    assert_eq!(deps, expected);
}

/// Putting the value the winner already has writes nothing; with conflicts it only deletes
/// the losers.
#[test]
fn put_of_the_current_value_resolves_conflicts_only() {
    let mut a = doc(1);
    a.put(&ROOT, "k", ScalarValue::Str("same".into())).unwrap();
    let n = a.change_count();
    a.put(&ROOT, "k", ScalarValue::Str("same".into())).unwrap();
    assert_eq!(a.change_count(), n, "no change for an unchanged value");

    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.put(&ROOT, "k", ScalarValue::Str("left".into())).unwrap();
    b.put(&ROOT, "k", ScalarValue::Str("right".into())).unwrap();
    a.merge(&b).unwrap();
    let all = a.get_all(&ROOT, "k").unwrap();
    assert_eq!(all.len(), 2);
    let winner = all[1].value.as_scalar().unwrap().clone();
    a.put(&ROOT, "k", winner.clone()).unwrap();
    let ops = last_ops(&a);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].action, Action::Del);
    assert_eq!(ops[0].pred.len(), 1);
    let all = a.get_all(&ROOT, "k").unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value, Value::Scalar(winner));
}

/// An increment supersedes every visible value of the property (one counter suffices), as in
/// automerge 0.12: a scalar that conflicted with the counter disappears.
#[test]
fn increment_supersedes_conflicting_scalars() {
    let mut a = doc(1);
    let mut b = doc(2);
    a.put(&ROOT, "c", ScalarValue::Counter(10)).unwrap();
    b.put(&ROOT, "c", ScalarValue::Str("text".into())).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.get_all(&ROOT, "c").unwrap().len(), 2);
    a.increment(&ROOT, "c", 5).unwrap();
    let ops = last_ops(&a);
    assert_eq!(ops[0].action, Action::Inc);
    assert_eq!(ops[0].pred.len(), 2);
    let all = a.get_all(&ROOT, "c").unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value, Value::Scalar(ScalarValue::Counter(15)));
    // No counter at all: refused.
    a.put(&ROOT, "s", ScalarValue::Str("x".into())).unwrap();
    assert!(matches!(
        a.increment(&ROOT, "s", 1),
        Err(DocError::NotACounter { .. })
    ));
}

/// automerge 0.12 cannot edit tables (they are not in its object index: its transactions say
/// `NotAnObject`, and it panics on a remote change that edits one), so we refuse too.
#[test]
fn tables_can_be_made_but_not_edited() {
    let mut d = doc(1);
    let table = d.put_object(&ROOT, "t", ObjType::Table).unwrap();
    let heads = d.heads();
    assert!(matches!(
        d.put(&table, "k", ScalarValue::Int(1)),
        Err(DocError::WrongObjectType { .. })
    ));
    assert!(d.put_object(&table, "k", ObjType::Map).is_err());
    assert_eq!(d.heads(), heads);
    assert_eq!(d.keys(&table).unwrap(), Vec::<String>::new());
}

/// automerge 0.12 refuses a document chunk in which a mark end precedes its begin.
#[test]
fn document_with_mark_end_before_begin_is_refused() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/automerge-corpus/fixtures/broken_zero_width_mark.automerge");
    let bytes = std::fs::read(path).unwrap();
    assert!(matches!(
        Document::load(&bytes),
        Err(DocError::InvalidMarkOrder { .. })
    ));
    let mut d = doc(1);
    d.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
    let heads = d.heads();
    assert!(d.load_incremental(&bytes).is_err());
    assert_eq!(d.heads(), heads);
}

/// UTF-16 indexes that cut a surrogate pair: the insert lands after the cut character, and the
/// deletion starts after the inserted text (automerge 0.12's `inner_splice`); a deletion that
/// starts inside a character skips that character.
#[test]
fn utf16_splice_inside_a_surrogate_pair() {
    let mut d = doc(1);
    assert!(d.set_text_encoding(converge_doc::TextEncoding::Utf16));
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "é😀xyz").unwrap();
    // Unit 2 is inside 😀 (units 1..3): "ab" goes after it, then "x" is deleted.
    d.splice_text(&t, 2, 1, "ab").unwrap();
    assert_eq!(d.text(&t).unwrap(), "é😀abyz");
    let ops = last_ops(&d);
    assert_eq!(
        ops.iter().map(|o| o.action).collect::<Vec<_>>(),
        [Action::Set, Action::Set, Action::Del]
    );
    // A pure deletion starting inside 😀 skips it and deletes the next unit.
    d.splice_text(&t, 2, 1, "").unwrap();
    assert_eq!(d.text(&t).unwrap(), "é😀byz");
}

/// A single-element edit whose UTF-8/UTF-16 index falls inside a multi-unit character
/// addresses the next character (automerge 0.12's fast index seek); inside the last character a
/// delete does nothing.
#[test]
fn utf8_index_inside_a_character_addresses_the_next_one() {
    let mut d = doc(1);
    assert!(d.set_text_encoding(converge_doc::TextEncoding::Utf8));
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "aé😀bc").unwrap();
    d.delete(&t, 2).unwrap(); // inside é (bytes 1..3): deletes 😀
    assert_eq!(d.text(&t).unwrap(), "aébc");
    d.delete(&t, 3).unwrap(); // at a boundary: deletes b
    assert_eq!(d.text(&t).unwrap(), "aéc");
    let n = d.change_count();
    d.splice_text(&t, 4, 0, "😀").unwrap();
    let n2 = d.change_count();
    d.delete(&t, 6).unwrap(); // inside the last character: nothing
    assert_eq!(d.change_count(), n2);
    assert_eq!(n2, n + 1);
    assert_eq!(d.text(&t).unwrap(), "aéc😀");
}
