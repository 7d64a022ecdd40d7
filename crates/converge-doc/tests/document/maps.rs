use converge_doc::{ObjType, Prop, ROOT, Value, ValueTree};
use converge_encoding::ScalarValue;

use crate::doc;

fn scalar(v: &Option<converge_doc::ValueWithId>) -> Option<ScalarValue> {
    v.as_ref().and_then(|v| v.value.as_scalar().cloned())
}

#[test]
fn put_get_delete() {
    let mut d = doc(1);
    d.put(&ROOT, "a", ScalarValue::Int(1)).unwrap();
    d.put(&ROOT, "b", ScalarValue::Str("x".into())).unwrap();
    assert_eq!(
        scalar(&d.get(&ROOT, "a").unwrap()),
        Some(ScalarValue::Int(1))
    );
    assert_eq!(d.keys(&ROOT).unwrap(), ["a", "b"]);
    d.put(&ROOT, "a", ScalarValue::Int(2)).unwrap();
    assert_eq!(d.get_all(&ROOT, "a").unwrap().len(), 1);
    d.delete(&ROOT, "a").unwrap();
    assert_eq!(d.get(&ROOT, "a").unwrap(), None);
    assert_eq!(d.length(&ROOT).unwrap(), 1);
    // deleting a missing key is a no-op, not a change
    let n = d.change_count();
    d.delete(&ROOT, "nope").unwrap();
    assert_eq!(d.change_count(), n);
}

#[test]
fn nested_objects_and_tree() {
    let mut d = doc(1);
    let m = d.put_object(&ROOT, "m", ObjType::Map).unwrap();
    d.put(&m, "x", ScalarValue::Bool(true)).unwrap();
    let l = d.put_object(&m, "l", ObjType::List).unwrap();
    d.insert(&l, 0, ScalarValue::Uint(1)).unwrap();
    d.insert(&l, 1, ScalarValue::Uint(2)).unwrap();
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "hi").unwrap();
    let tree = d.value_tree(&ROOT).unwrap();
    let ValueTree::Map(root) = tree else { panic!() };
    assert_eq!(root["t"], ValueTree::Text("hi".into()));
    let ValueTree::Map(inner) = &root["m"] else {
        panic!()
    };
    assert_eq!(inner["x"], ValueTree::Scalar(ScalarValue::Bool(true)));
    assert_eq!(
        inner["l"],
        ValueTree::List(vec![
            ValueTree::Scalar(ScalarValue::Uint(1)),
            ValueTree::Scalar(ScalarValue::Uint(2))
        ])
    );
    assert_eq!(d.object_type(&l).unwrap(), ObjType::List);
    assert!(matches!(
        d.get(&ROOT, "m").unwrap().unwrap().value,
        Value::Object(ObjType::Map, id) if id == m
    ));
}

#[test]
fn counters() {
    let mut d = doc(1);
    d.put(&ROOT, "c", ScalarValue::Counter(5)).unwrap();
    d.increment(&ROOT, "c", 2).unwrap();
    d.increment(&ROOT, "c", -10).unwrap();
    assert_eq!(
        scalar(&d.get(&ROOT, "c").unwrap()),
        Some(ScalarValue::Counter(-3))
    );
    d.put(&ROOT, "n", ScalarValue::Int(1)).unwrap();
    assert!(d.increment(&ROOT, "n", 1).is_err());
    assert!(d.increment(&ROOT, "missing", 1).is_err());
}

#[test]
fn transaction_rollback_restores_everything() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "hello world").unwrap();
    d.put(&ROOT, "c", ScalarValue::Counter(1)).unwrap();
    let heads = d.heads();
    let max_op = d.max_op();
    let before = d.value_tree(&ROOT).unwrap();
    let mut tx = d.transaction();
    tx.splice_text(&t, 2, 5, "XYZ").unwrap();
    tx.put(&ROOT, "k", ScalarValue::Str("v".into())).unwrap();
    tx.increment(&ROOT, "c", 3).unwrap();
    tx.delete(&ROOT, "c").unwrap();
    let l = tx.put_object(&ROOT, "l", ObjType::List).unwrap();
    tx.insert(&l, 0, ScalarValue::Int(1)).unwrap();
    assert_eq!(tx.text(&t).unwrap(), "heXYZorld");
    assert_eq!(tx.rollback(), 8 + 5);
    assert_eq!(d.value_tree(&ROOT).unwrap(), before);
    assert_eq!(d.heads(), heads);
    assert_eq!(d.max_op(), max_op);
    // and editing continues normally
    d.splice_text(&t, 5, 0, "!").unwrap();
    assert_eq!(d.text(&t).unwrap(), "hello! world");
}

#[test]
fn errors_are_typed() {
    let mut d = doc(1);
    let l = d.put_object(&ROOT, "l", ObjType::List).unwrap();
    assert!(matches!(
        d.insert(&l, 3, ScalarValue::Int(1)),
        Err(converge_doc::DocError::IndexOutOfBounds {
            index: 3,
            length: 0
        })
    ));
    assert!(matches!(
        d.put(&l, "k", ScalarValue::Int(1)),
        Err(converge_doc::DocError::WrongObjectType { .. })
    ));
    assert!(matches!(
        d.get(&ROOT, Prop::Seq(0)),
        Err(converge_doc::DocError::WrongObjectType { .. })
    ));
    assert!(matches!(
        d.splice_text(&l, 0, 0, "x"),
        Err(converge_doc::DocError::WrongObjectType { .. })
    ));
    let bogus = converge_doc::ExId::Op {
        counter: 99,
        actor: converge_encoding::ActorId::from_bytes(&[1]),
    };
    assert!(matches!(
        d.get(&bogus, "x"),
        Err(converge_doc::DocError::ObjectNotFound { .. })
    ));
}

#[test]
fn history_reads() {
    let mut d = doc(1);
    d.put(&ROOT, "a", ScalarValue::Int(1)).unwrap();
    let h1 = d.heads();
    d.put(&ROOT, "a", ScalarValue::Int(2)).unwrap();
    d.put(&ROOT, "b", ScalarValue::Int(3)).unwrap();
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "abc").unwrap();
    let h2 = d.heads();
    d.splice_text(&t, 1, 1, "").unwrap();
    assert_eq!(
        scalar(&d.get_at(&ROOT, "a", &h1).unwrap()),
        Some(ScalarValue::Int(1))
    );
    assert_eq!(d.keys_at(&ROOT, &h1).unwrap(), ["a"]);
    assert_eq!(d.text_at(&t, &h2).unwrap(), "abc");
    assert_eq!(d.length_at(&t, &h2).unwrap(), 3);
    assert_eq!(d.text(&t).unwrap(), "ac");
    assert!(
        d.get_at(&ROOT, "a", &[converge_encoding::ChangeHash([7; 32])])
            .is_err()
    );
}

/// Reads at the current heads read the document now, except for a transaction's pending
/// ops, which no change holds yet: through the transaction they are seen now and not at
/// the heads, as automerge 0.12's transactions read.
#[test]
fn reads_at_the_current_heads_leave_out_pending_ops() {
    let mut d = doc(1);
    d.put(&ROOT, "a", ScalarValue::Int(1)).unwrap();
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "abc").unwrap();
    let heads = d.heads();
    assert_eq!(d.text_at(&t, &heads).unwrap(), "abc");
    assert_eq!(
        scalar(&d.get_at(&ROOT, "a", &heads).unwrap()),
        Some(ScalarValue::Int(1))
    );
    let mut tx = d.transaction();
    assert_eq!(tx.keys_at(&ROOT, &heads).unwrap(), ["a", "t"]);
    tx.put(&ROOT, "a", ScalarValue::Int(2)).unwrap();
    tx.put(&ROOT, "b", ScalarValue::Int(3)).unwrap();
    tx.splice_text(&t, 3, 0, "d").unwrap();
    assert_eq!(
        scalar(&tx.get(&ROOT, "a").unwrap()),
        Some(ScalarValue::Int(2))
    );
    assert_eq!(
        scalar(&tx.get_at(&ROOT, "a", &heads).unwrap()),
        Some(ScalarValue::Int(1))
    );
    assert_eq!(tx.keys_at(&ROOT, &heads).unwrap(), ["a", "t"]);
    assert_eq!(tx.text(&t).unwrap(), "abcd");
    assert_eq!(tx.text_at(&t, &heads).unwrap(), "abc");
    tx.commit().unwrap();
    let now = d.heads();
    assert_eq!(d.text_at(&t, &now).unwrap(), "abcd");
    // A transaction of deletions only: its ops are not in the arena, and still pending.
    let mut tx = d.transaction();
    tx.delete(&ROOT, "b").unwrap();
    tx.splice_text(&t, 0, 4, "").unwrap();
    assert_eq!(tx.keys(&ROOT).unwrap(), ["a", "t"]);
    assert_eq!(tx.keys_at(&ROOT, &now).unwrap(), ["a", "b", "t"]);
    assert_eq!(tx.text_at(&t, &now).unwrap(), "abcd");
    tx.rollback();
    assert_eq!(d.keys_at(&ROOT, &now).unwrap(), ["a", "b", "t"]);
    assert_eq!(d.text_at(&t, &heads).unwrap(), "abc");
}

#[test]
fn save_matches_spec_example_7_5() {
    // One put(ROOT, "k", 1) by actor aabb, time 0 (format.md §6.7 / §7.5).
    let mut d =
        converge_doc::Document::with_actor(converge_encoding::ActorId::from_bytes(&[0xaa, 0xbb]));
    d.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
    assert_eq!(
        d.heads()[0].to_hex(),
        "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
    );
    let bytes = d.save_nocompress();
    assert_eq!(bytes.len(), 10 + 96);
    let tail = [
        0x7f, 0x00, 0x7f, 0x01, 0x7f, 0x01, 0x7f, 0x00, 0x7f, 0x00, 0x7f, 0x07, // changes
        0x7f, 0x01, 0x6b, 0x7f, 0x00, 0x7f, 0x01, 0x01, 0x7f, 0x01, 0x7f, 0x14, 0x01, 0x7f,
        0x00, // ops
        0x00, // head indexes
    ];
    assert!(bytes.ends_with(&tail), "{bytes:02x?}");
    assert_eq!(
        converge_doc::Document::new().save(),
        [
            0x85, 0x6f, 0x4a, 0x83, 0xb8, 0x1a, 0x95, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00
        ]
    );
}

#[test]
fn save_matches_spec_counter_example() {
    // format.md §7.5: actor 01; makeList "l", ins "a", ins "b", del "a", set "c"=counter 5,
    // inc "c" by 2.
    let mut d = converge_doc::Document::with_actor(converge_encoding::ActorId::from_bytes(&[1]));
    let mut tx = d.transaction();
    let l = tx.put_object(&ROOT, "l", ObjType::List).unwrap();
    tx.insert(&l, 0, ScalarValue::Str("a".into())).unwrap();
    tx.insert(&l, 1, ScalarValue::Str("b".into())).unwrap();
    tx.delete(&l, 0).unwrap();
    tx.put(&ROOT, "c", ScalarValue::Counter(5)).unwrap();
    tx.increment(&ROOT, "c", 2).unwrap();
    tx.commit().unwrap();
    let bytes = d.save_nocompress();
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        find(&[0x02, 0x01, 0x63, 0x7f, 0x01, 0x6c, 0x00, 0x02]),
        "key strings"
    );
    assert!(find(&[0x7d, 0x05, 0x01, 0x7b, 0x02, 0x01]), "id counters");
    assert!(find(&[0x7d, 0x01, 0x05, 0x02, 0x02, 0x01]), "actions");
    assert!(
        find(&[0x7f, 0x01, 0x02, 0x00, 0x7e, 0x01, 0x00]),
        "succ counts"
    );
    assert!(find(&[0x7e, 0x06, 0x7e]), "succ counters");
}
