//! Properties of the state-writing edits: whatever value tree or spans they are given, and
//! whatever the document held before, `update_object` and `update_spans` leave the document
//! reading exactly what they were given, and a peer that receives the change reads the
//! same; `anonymize` keeps the shape.

use std::collections::BTreeMap;

use converge_doc::{ObjType, ROOT, Span, TextSpan, UpdateSpansConfig, ValueTree};
use converge_encoding::ScalarValue;
use quickcheck::{QuickCheck, TestResult};

use crate::doc;

/// A value tree read from `bytes` (each byte a choice), at most `depth` levels deep.
fn tree(bytes: &mut impl Iterator<Item = u8>, depth: u8) -> ValueTree {
    let b = bytes.next().unwrap_or(0);
    match if depth == 0 { b % 3 } else { b % 6 } {
        0 => ValueTree::Scalar(ScalarValue::Int(i64::from(b))),
        1 => ValueTree::Scalar(ScalarValue::Str(
            ["", "x", "é😀"][usize::from(b / 6 % 3)].into(),
        )),
        2 => ValueTree::Text(["", "ab", "e\u{301}🇬🇧"][usize::from(b / 6 % 3)].into()),
        3 => ValueTree::List((0..b / 6 % 4).map(|_| tree(bytes, depth - 1)).collect()),
        _ => ValueTree::Map(
            (0..b / 6 % 4)
                .map(|i| (format!("k{}", (i + b) % 5), tree(bytes, depth - 1)))
                .collect(),
        ),
    }
}

fn root(bytes: &mut impl Iterator<Item = u8>) -> ValueTree {
    match tree(bytes, 3) {
        m @ ValueTree::Map(_) => m,
        other => ValueTree::Map(BTreeMap::from([("v".to_owned(), other)])),
    }
}

#[test]
fn prop_update_object_reaches_the_tree_on_both_peers() {
    fn prop(before: Vec<u8>, after: Vec<u8>) -> TestResult {
        let (a, b) = (root(&mut before.into_iter()), root(&mut after.into_iter()));
        let mut d = doc(1);
        d.init_root_from_value_tree(&a).unwrap();
        if d.value_tree(&ROOT).unwrap() != a {
            return TestResult::error(format!("init: {a:?}"));
        }
        let mut peer = d.fork();
        let heads = d.heads();
        d.update_object(&ROOT, &b).unwrap();
        if d.value_tree(&ROOT).unwrap() != b {
            return TestResult::error(format!("{a:?} updated to {b:?}"));
        }
        peer.apply_changes(d.get_changes(&heads)).unwrap();
        TestResult::from_bool(peer.value_tree(&ROOT).unwrap() == b)
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(prop as fn(Vec<u8>, Vec<u8>) -> TestResult);
}

/// Spans read from `bytes`: texts with marks, and blocks.
fn spans(bytes: &[u8]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for &b in bytes.iter().take(12) {
        let span = if b % 5 == 0 {
            Span::Block(ValueTree::Map(BTreeMap::from([(
                "type".to_owned(),
                ValueTree::Scalar(["p", "h1"][usize::from(b / 5 % 2)].into()),
            )])))
        } else {
            let mut marks = BTreeMap::new();
            if b & 8 != 0 {
                marks.insert("bold".to_owned(), ScalarValue::Bool(true));
            }
            if b & 16 != 0 {
                marks.insert("link".to_owned(), ScalarValue::Int(i64::from(b % 3)));
            }
            Span::Text(TextSpan {
                text: ["a", "bc", "é😀", "e\u{301}"][usize::from(b / 32 % 4)].into(),
                marks,
            })
        };
        // As `spans` reports them: neighbours with the same marks are one span.
        match (out.last_mut(), span) {
            (Some(Span::Text(last)), Span::Text(t)) if last.marks == t.marks => {
                last.text.push_str(&t.text)
            }
            (_, span) => out.push(span),
        }
    }
    out
}

#[test]
fn prop_update_spans_reaches_the_spans_on_both_peers() {
    fn prop(before: Vec<u8>, after: Vec<u8>) -> TestResult {
        let (a, b) = (spans(&before), spans(&after));
        let mut d = doc(1);
        let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
        let config = UpdateSpansConfig::default();
        d.update_spans(&t, &a, &config).unwrap();
        if d.spans(&t, None).unwrap() != a {
            return TestResult::error(format!("first: {a:?}"));
        }
        let mut peer = d.fork();
        let heads = d.heads();
        d.update_spans(&t, &b, &config).unwrap();
        if d.spans(&t, None).unwrap() != b {
            return TestResult::error(format!("{a:?} updated to {b:?}"));
        }
        peer.apply_changes(d.get_changes(&heads)).unwrap();
        TestResult::from_bool(peer.spans(&t, None).unwrap() == b)
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(prop as fn(Vec<u8>, Vec<u8>) -> TestResult);
}

#[test]
fn prop_anonymized_copies_keep_the_shape() {
    fn prop(before: Vec<u8>, seed: u64) -> TestResult {
        let a = root(&mut before.into_iter());
        let mut d = doc(1);
        d.init_root_from_value_tree(&a).unwrap();
        let copy = d.anonymize_with_seed(seed).unwrap();
        fn shape(t: &ValueTree) -> String {
            match t {
                ValueTree::Map(m) => {
                    let mut items: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{}:{}", k.len(), shape(v)))
                        .collect();
                    items.sort();
                    format!("{{{}}}", items.join(","))
                }
                ValueTree::List(l) => {
                    format!("[{}]", l.iter().map(shape).collect::<Vec<_>>().join(","))
                }
                ValueTree::Text(s) => format!("t{}", s.len()),
                ValueTree::Scalar(s) => format!("{:?}", std::mem::discriminant(s)),
            }
        }
        TestResult::from_bool(
            shape(&copy.value_tree(&ROOT).unwrap()) == shape(&a)
                && copy.change_count() == d.change_count(),
        )
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(Vec<u8>, u64) -> TestResult);
}
