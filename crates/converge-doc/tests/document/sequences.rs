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
