use converge_doc::{ExpandMark, Mark, ObjType, ROOT};
use converge_encoding::ScalarValue;

use crate::doc;

fn bold(start: usize, end: usize) -> Mark {
    Mark {
        start,
        end,
        name: "bold".into(),
        value: ScalarValue::Bool(true),
    }
}

#[test]
fn mark_and_expand() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "hello world").unwrap();
    d.mark(&t, 0..5, "bold", ScalarValue::Bool(true), ExpandMark::After)
        .unwrap();
    assert_eq!(d.marks(&t).unwrap(), [bold(0, 5)]);
    assert_eq!(d.text(&t).unwrap(), "hello world");
    assert_eq!(d.length(&t).unwrap(), 11);
    // typing at the end of an After mark extends it; at its start does not
    d.splice_text(&t, 5, 0, "!").unwrap();
    assert_eq!(d.marks(&t).unwrap(), [bold(0, 6)]);
    d.splice_text(&t, 0, 0, ">").unwrap();
    assert_eq!(d.marks(&t).unwrap(), [bold(1, 7)]);
    assert_eq!(d.text(&t).unwrap(), ">hello! world");
}

#[test]
fn expand_none_and_before() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "abcdef").unwrap();
    d.mark(&t, 2..4, "em", ScalarValue::Int(1), ExpandMark::None)
        .unwrap();
    d.splice_text(&t, 4, 0, "X").unwrap(); // after the end: not included
    d.splice_text(&t, 2, 0, "Y").unwrap(); // before the start: not included
    let m = d.marks(&t).unwrap();
    assert_eq!((m[0].start, m[0].end), (3, 5), "{m:?}");
    d.mark(&t, 0..1, "u", ScalarValue::Int(2), ExpandMark::Before)
        .unwrap();
    d.splice_text(&t, 0, 0, "Z").unwrap();
    // (Listed by name: "em", then "u".)
    let m = d.marks(&t).unwrap();
    assert_eq!(
        (m[1].start, m[1].end, m[1].name.as_str()),
        (0, 2, "u"),
        "{m:?}"
    );
}

#[test]
fn unmark_splits_a_span_and_merges_remotely() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "0123456789").unwrap();
    a.mark(
        &t,
        0..10,
        "bold",
        ScalarValue::Bool(true),
        ExpandMark::After,
    )
    .unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.unmark(&t, 3..6, "bold", ExpandMark::None).unwrap();
    assert_eq!(a.marks(&t).unwrap(), [bold(0, 3), bold(6, 10)]);
    let h = b.heads();
    b.merge(&a).unwrap();
    assert_eq!(b.marks(&t).unwrap(), [bold(0, 3), bold(6, 10)]);
    assert_eq!(b.marks_at(&t, &h).unwrap(), [bold(0, 10)]);
    assert_eq!(b.text(&t).unwrap(), "0123456789");
}

/// Marks after long unmarked and deleted stretches, read now and at earlier heads (the read
/// now skips what lies outside every mark by the elements' widths; the read at heads walks
/// every element): both give the same spans for the same state, and a text with no mark
/// ever applied reads none.
#[test]
fn marks_past_unmarked_and_deleted_stretches() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    let text: String = (0..2000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    d.splice_text(&t, 0, 0, &text).unwrap();
    assert_eq!(d.marks(&t).unwrap(), []);
    d.splice_text(&t, 100, 900, "").unwrap();
    d.splice_text(&t, 150, 0, "é✓").unwrap();
    d.mark(
        &t,
        120..160,
        "bold",
        ScalarValue::Bool(true),
        ExpandMark::After,
    )
    .unwrap();
    d.mark(
        &t,
        1000..1050,
        "bold",
        ScalarValue::Bool(true),
        ExpandMark::None,
    )
    .unwrap();
    d.splice_text(&t, 130, 5, "").unwrap();
    let expect = [bold(120, 155), bold(995, 1045)];
    assert_eq!(d.marks(&t).unwrap(), expect);
    assert_eq!(d.marks_at(&t, &d.heads()).unwrap(), expect);
    assert_eq!(d.text(&t).unwrap().chars().count(), d.length(&t).unwrap());
    assert_eq!(d.text(&t).unwrap(), d.text_at(&t, &d.heads()).unwrap());
}
