//! Patches take a view from one state to another: a view of the document at some heads, with
//! the patches of `diff` from those heads to others applied in order, is the view at the
//! others (values, texts, the marks on each character, and conflict flags where a patch
//! reports them). Checked on random concurrent histories, forwards and backwards.

use std::collections::BTreeMap;

use converge_doc::{
    Document, ExId, ExpandMark, ObjType, Patch, PatchAction, Prop, ROOT, Value, ValueWithId,
};
use converge_encoding::{ChangeHash, ScalarValue};
use quickcheck::{QuickCheck, TestResult};

use crate::doc;

/// Marks on one character, by name.
type Marks = BTreeMap<String, ScalarValue>;

/// What a view of a document holds.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Map(BTreeMap<String, Node>),
    List(Vec<Node>),
    Text(Vec<(char, Marks)>),
    Scalar(ScalarValue),
}

/// The view of object `obj` at `heads`.
fn view(d: &Document, obj: &ExId, heads: &[ChangeHash]) -> Node {
    let child = |v: ValueWithId| match v.value {
        Value::Object(_, id) => view(d, &id, heads),
        Value::Scalar(s) => Node::Scalar(s),
    };
    match d.object_type(obj).unwrap() {
        ObjType::Map | ObjType::Table => Node::Map(
            d.keys_at(obj, heads)
                .unwrap()
                .into_iter()
                .map(|k| {
                    let v = d.get_at(obj, k.as_str(), heads).unwrap().unwrap();
                    (k, child(v))
                })
                .collect(),
        ),
        ObjType::List => Node::List(
            d.list_values_at(obj, heads)
                .unwrap()
                .into_iter()
                .map(child)
                .collect(),
        ),
        ObjType::Text => {
            let mut chars: Vec<(char, Marks)> = d
                .text_at(obj, heads)
                .unwrap()
                .chars()
                .map(|c| (c, Marks::new()))
                .collect();
            for m in d.marks_at(obj, heads).unwrap() {
                for (_, marks) in &mut chars[m.start..m.end] {
                    marks.insert(m.name.clone(), m.value.clone());
                }
            }
            Node::Text(chars)
        }
    }
}

/// A new value of a view: an object starts empty (the patches after fill it).
fn node_of(v: &ValueWithId) -> Node {
    match &v.value {
        Value::Object(ObjType::Map | ObjType::Table, _) => Node::Map(BTreeMap::new()),
        Value::Object(ObjType::List, _) => Node::List(Vec::new()),
        Value::Object(ObjType::Text, _) => Node::Text(Vec::new()),
        Value::Scalar(s) => Node::Scalar(s.clone()),
    }
}

/// The node at `path` from `root`.
fn at<'a>(root: &'a mut Node, path: &[(ExId, Prop)]) -> &'a mut Node {
    let mut node = root;
    for (_, prop) in path {
        node = match (node, prop) {
            (Node::Map(m), Prop::Map(k)) => m.get_mut(k).expect("path key"),
            (Node::List(l), Prop::Seq(i)) => &mut l[*i],
            (n, p) => panic!("path {p:?} into {n:?}"),
        };
    }
    node
}

/// Applies one patch to a view.
fn apply(root: &mut Node, p: &Patch) {
    let node = at(root, &p.path);
    match (&p.action, node) {
        (PatchAction::PutMap { key, value, .. }, Node::Map(m)) => {
            m.insert(key.clone(), node_of(value));
        }
        (PatchAction::DeleteMap { key }, Node::Map(m)) => {
            assert!(m.remove(key).is_some(), "deleting a missing key {key:?}");
        }
        (PatchAction::PutSeq { index, value, .. }, Node::List(l)) => l[*index] = node_of(value),
        (PatchAction::Insert { index, values }, Node::List(l)) => {
            for (k, (v, _)) in values.iter().enumerate() {
                l.insert(index + k, node_of(v));
            }
        }
        (PatchAction::DeleteSeq { index, length }, Node::List(l)) => {
            l.drain(*index..index + length);
        }
        (PatchAction::DeleteSeq { index, length }, Node::Text(t)) => {
            t.drain(*index..index + length);
        }
        (
            PatchAction::SpliceText {
                index,
                value,
                marks,
            },
            Node::Text(t),
        ) => {
            let marks = marks.clone().unwrap_or_default();
            for (k, c) in value.chars().enumerate() {
                t.insert(index + k, (c, marks.clone()));
            }
        }
        (PatchAction::Mark { marks }, Node::Text(t)) => {
            for m in marks {
                for (_, on) in &mut t[m.start..m.end] {
                    if matches!(m.value, ScalarValue::Null) {
                        on.remove(&m.name);
                    } else {
                        on.insert(m.name.clone(), m.value.clone());
                    }
                }
            }
        }
        (PatchAction::Increment { prop, value }, node) => {
            let counter = match (node, prop) {
                (Node::Map(m), Prop::Map(k)) => m.get_mut(k),
                (Node::List(l), Prop::Seq(i)) => l.get_mut(*i),
                _ => None,
            };
            match counter {
                Some(Node::Scalar(ScalarValue::Counter(c))) => *c = c.wrapping_add(*value),
                other => panic!("increment of {other:?}"),
            }
        }
        (PatchAction::Conflict { .. }, _) => {}
        (action, node) => panic!("{action:?} on {node:?}"),
    }
}

/// Random edits on three replicas (maps, lists, a text with marks, counters), merged now
/// and then; every replica's heads after each edit are kept.
fn history(ops: &[(u8, u8, u8, u8)]) -> (Document, Vec<Vec<ChangeHash>>) {
    let mut first = doc(1);
    let t = first.put_object(&ROOT, "t", ObjType::Text).unwrap();
    let l = first.put_object(&ROOT, "l", ObjType::List).unwrap();
    first.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
    let mut docs = [first, doc(2), doc(3)];
    for k in 1..3 {
        let (a, b) = docs.split_at_mut(k);
        b[0].merge(&a[0]).unwrap();
    }
    let mut points = vec![Vec::new(), docs[0].heads()];
    let keys = ["a", "b", "c", "l"];
    for &(who, what, x, y) in ops {
        let d = &mut docs[usize::from(who % 3)];
        let key = keys[usize::from(x % 4)];
        let _ = match what % 10 {
            0 => d
                .put(&ROOT, key, ScalarValue::Int(i64::from(y)))
                .map(|_| ()),
            1 => d.put_object(&ROOT, key, ObjType::Map).map(|_| ()),
            2 => d.delete(&ROOT, key),
            3 => d.increment(&ROOT, "c", i64::from(y) - 100),
            4 => {
                let len = d.length(&l).unwrap_or(0);
                d.insert(
                    &l,
                    usize::from(y) % (len + 1),
                    ScalarValue::Uint(u64::from(x)),
                )
            }
            5 => {
                let len = d.length(&l).unwrap_or(0);
                if len == 0 {
                    Ok(())
                } else if x % 2 == 0 {
                    d.delete(&l, usize::from(y) % len)
                } else {
                    d.put(&l, usize::from(y) % len, ScalarValue::Str(format!("{x}")))
                }
            }
            6 | 7 => {
                let len = d.length(&t).unwrap_or(0);
                let pos = usize::from(y) % (len + 1);
                let del = usize::from(x % 3).min(len - pos);
                let s = ["a", "é", "xyz", ""][usize::from(x % 4)];
                d.splice_text(&t, pos, del, s)
            }
            8 => {
                let len = d.length(&t).unwrap_or(0);
                if len == 0 {
                    Ok(())
                } else {
                    let start = usize::from(y) % len;
                    let end = (start + 1 + usize::from(x % 4)).min(len);
                    let name = ["bold", "link"][usize::from(x % 2)];
                    let value = if y % 5 == 0 {
                        ScalarValue::Null
                    } else {
                        ScalarValue::Bool(y % 2 == 0)
                    };
                    let expand = [ExpandMark::None, ExpandMark::Both][usize::from(y % 2)];
                    d.mark(&t, start..end, name, value, expand)
                }
            }
            _ => {
                let other = usize::from(x % 3);
                if other != usize::from(who % 3) {
                    let from = docs[other].clone();
                    docs[usize::from(who % 3)].merge(&from).map(|_| ())
                } else {
                    Ok(())
                }
            }
        };
        points.push(docs[usize::from(who % 3)].heads());
    }
    let mut merged = docs[0].clone();
    for d in &docs[1..] {
        merged.merge(d).unwrap();
    }
    points.push(merged.heads());
    (merged, points)
}

#[test]
fn prop_patches_take_a_view_from_one_state_to_another() {
    fn prop(ops: Vec<(u8, u8, u8, u8)>, picks: Vec<(u8, u8)>) -> TestResult {
        let (merged, points) = history(&ops);
        for (i, j) in picks.into_iter().take(4) {
            let from = &points[usize::from(i) % points.len()];
            let to = &points[usize::from(j) % points.len()];
            let mut v = view(&merged, &ROOT, from);
            let patches = merged.diff(from, to).unwrap();
            for p in &patches {
                apply(&mut v, p);
            }
            if v != view(&merged, &ROOT, to) {
                return TestResult::error(format!(
                    "from {from:?} to {to:?}: {patches:#?}\nview: {v:?}\nexpected: {:?}",
                    view(&merged, &ROOT, to)
                ));
            }
        }
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(
            std::env::var("PATCH_TESTS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(300),
        )
        .quickcheck(prop as fn(Vec<(u8, u8, u8, u8)>, Vec<(u8, u8)>) -> TestResult);
}
