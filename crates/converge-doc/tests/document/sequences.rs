use converge_doc::{ObjType, ROOT, TextEncoding};
use converge_encoding::ScalarValue;

use crate::doc;

#[test]
fn list_edits() {
    let mut d = doc(1);
    let l = d.put_object(&ROOT, "l", ObjType::List).unwrap();
    d.splice(&l, 0, 0, (0..5).map(ScalarValue::Int)).unwrap();
    d.delete(&l, 1).unwrap();
    d.put(&l, 0, ScalarValue::Str("zero".into())).unwrap();
    d.insert(&l, 4, ScalarValue::Int(9)).unwrap();
    let vals: Vec<_> = d
        .list_values(&l)
        .unwrap()
        .into_iter()
        .map(|v| v.value.as_scalar().cloned().unwrap())
        .collect();
    assert_eq!(
        vals,
        [
            ScalarValue::Str("zero".into()),
            ScalarValue::Int(2),
            ScalarValue::Int(3),
            ScalarValue::Int(4),
            ScalarValue::Int(9)
        ]
    );
    assert_eq!(d.length(&l).unwrap(), 5);
    let sub = d.insert_object(&l, 0, ObjType::Map).unwrap();
    d.put(&sub, "k", ScalarValue::Int(1)).unwrap();
    assert_eq!(d.length(&l).unwrap(), 6);
}

#[test]
fn counter_in_list() {
    let mut d = doc(1);
    let l = d.put_object(&ROOT, "l", ObjType::List).unwrap();
    d.insert(&l, 0, ScalarValue::Counter(1)).unwrap();
    d.increment(&l, 0, 41).unwrap();
    assert_eq!(
        d.get(&l, 0).unwrap().unwrap().value.as_scalar(),
        Some(&ScalarValue::Counter(42))
    );
    assert_eq!(d.length(&l).unwrap(), 1);
}

#[test]
fn text_encodings() {
    for (enc, len) in [
        (TextEncoding::CodePoint, 4),
        (TextEncoding::Utf16, 5),
        (TextEncoding::Utf8, 8),
    ] {
        let mut d = doc(1);
        assert!(d.set_text_encoding(enc));
        let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
        d.splice_text(&t, 0, 0, "aé😀b").unwrap();
        assert_eq!(d.length(&t).unwrap(), len, "{enc:?}");
        // delete the last char, addressed in the encoding's units
        d.splice_text(&t, len - 1, 1, "").unwrap();
        assert_eq!(d.text(&t).unwrap(), "aé😀");
    }
}

/// Counted in grapheme clusters, text is stored one element per cluster and each counts
/// one unit; an accent another peer stored apart from its letter counts one of its own.
#[test]
fn grapheme_clusters_are_elements_and_units() {
    let mut d = doc(1);
    assert!(d.set_text_encoding(TextEncoding::GraphemeCluster));
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, "ae\u{301}🇬🇧b").unwrap();
    assert_eq!(d.length(&t).unwrap(), 4);
    let elements: Vec<String> = d
        .list_values(&t)
        .unwrap()
        .into_iter()
        .map(|v| format!("{:?}", v.value))
        .collect();
    assert_eq!(elements.len(), 4, "{elements:?}");
    d.splice_text(&t, 2, 1, "").unwrap();
    assert_eq!(d.text(&t).unwrap(), "ae\u{301}b");
    // A peer counting code points writes the accent apart.
    let mut other = doc(2);
    let t2 = other.put_object(&ROOT, "t", ObjType::Text).unwrap();
    other.splice_text(&t2, 0, 0, "e\u{301}").unwrap();
    let mut loaded =
        converge_doc::Document::load_with_encoding(&other.save(), TextEncoding::GraphemeCluster)
            .unwrap();
    assert_eq!(loaded.length(&t2).unwrap(), 2);
    loaded.splice_text(&t2, 1, 1, "").unwrap();
    assert_eq!(loaded.text(&t2).unwrap(), "e");
}

#[test]
fn many_inserts_cross_chunks() {
    let mut d = doc(1);
    let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
    let mut model: Vec<char> = Vec::new();
    let mut tx = d.transaction();
    let mut seed = 12345u64;
    for i in 0..5000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (seed >> 33) as usize;
        if model.is_empty() || !r.is_multiple_of(3) {
            let pos = r % (model.len() + 1);
            let ch = char::from(b'a' + (i % 26) as u8);
            tx.splice_text(&t, pos, 0, &ch.to_string()).unwrap();
            model.insert(pos, ch);
        } else {
            let pos = r % model.len();
            let del = (r / 7 % 3).min(model.len() - pos);
            tx.splice_text(&t, pos, del, "").unwrap();
            model.drain(pos..pos + del);
        }
    }
    tx.commit().unwrap();
    assert_eq!(d.text(&t).unwrap(), model.iter().collect::<String>());
    assert_eq!(d.length(&t).unwrap(), model.len());
}

/// `list_range` of a text counts elements, one each whatever their width, and reports
/// characters only (not the anchors of marks, which automerge 0.12's also reports); its
/// values are the text's characters, and at earlier heads it reads that text. On a list
/// with a conflict it flags the element; a map has no range.
#[test]
fn list_range_of_texts_lists_and_maps() {
    use converge_doc::{ExpandMark, Value};
    for encoding in [
        TextEncoding::CodePoint,
        TextEncoding::Utf16,
        TextEncoding::Utf8,
    ] {
        let mut d = doc(1);
        d.set_text_encoding(encoding);
        let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
        d.splice_text(&t, 0, 0, "a🙂bé").unwrap();
        let before = d.heads();
        d.mark(&t, 0..2, "bold", ScalarValue::Bool(true), ExpandMark::Both)
            .unwrap();
        d.splice_text(&t, 0, 0, "x").unwrap();
        let chars = |items: &[converge_doc::ListItem]| -> String {
            items
                .iter()
                .map(|i| match &i.value {
                    Value::Scalar(ScalarValue::Str(s)) => s.to_string(),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let all = d.list_range(&t, ..).unwrap();
        assert_eq!(chars(&all), d.text(&t).unwrap());
        assert_eq!(
            all.iter().map(|i| i.index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert!(all.iter().all(|i| !i.conflict));
        assert_eq!(chars(&d.list_range(&t, 1..=2).unwrap()), "a🙂");
        assert_eq!(chars(&d.list_range(&t, 3..100).unwrap()), "bé");
        assert!(d.list_range(&t, 5..).unwrap().is_empty());
        assert_eq!(chars(&d.list_range_at(&t, 1.., &before).unwrap()), "🙂bé");
    }

    let mut a = doc(1);
    let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
    a.splice(&l, 0, 0, (0..4).map(ScalarValue::Int)).unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.put(&l, 2, ScalarValue::Int(20)).unwrap();
    b.put(&l, 2, ScalarValue::Int(21)).unwrap();
    a.merge(&b).unwrap();
    a.delete(&l, 0).unwrap();
    let items = a.list_range(&l, ..).unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items
            .iter()
            .map(|i| (i.index, i.conflict))
            .collect::<Vec<_>>(),
        [(0, false), (1, true), (2, false)]
    );
    let winner = a.get(&l, 1).unwrap().unwrap();
    assert_eq!((&items[1].value, &items[1].id), (&winner.value, &winner.id));
    assert_eq!(a.list_range(&l, 1..2).unwrap(), items[1..2].to_vec());
    assert!(a.list_range(&ROOT, ..).unwrap().is_empty());
}
