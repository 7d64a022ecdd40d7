//! Comparable materialisations of an oracle (`automerge` 0.12) document and a converge
//! `Document`: every object with every conflicting value of every map key and list index
//! (values and op ids), texts with their marks, counters with their current values, and what
//! `list_range` reports of each list (the whole range and two partial ones; not of texts,
//! where automerge 0.12 also reports its marks' anchor elements, which converge does not).
//!
//! Include with `#[path = "doc_tree/mod.rs"] mod doc_tree;`.
#![allow(dead_code)]

pub(crate) mod patches;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use automerge::ReadDoc;
use converge_doc::{
    AutoCommit, DocError, Document, ExId, ListItem, Mark, ObjType, Prop, Value, ValueTree,
    ValueWithId,
};
use converge_encoding::{ChangeHash, ScalarValue};

/// An op id as (counter, actor hex); the root is (0, "").
pub(crate) type Id = (u64, String);

/// A document (or object) with all conflicts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree {
    /// A map or table (kind "map" / "table"): each key's values, ascending by op id.
    Map(&'static str, BTreeMap<String, Vec<(Id, Tree)>>),
    /// A list: each index's values, ascending by op id; and its ranges.
    List(Vec<Vec<(Id, Tree)>>, Vec<RangeItem>),
    /// A text: its content, its length in text units, its marks (start, end, name, value)
    /// in the order `marks` lists them.
    Text(String, usize, Vec<(usize, usize, String, String)>),
    /// A scalar, rendered canonically (type tag + value).
    Scalar(String),
}

/// One item of `list_range`: index, the winner's op id, whether values conflict, and the
/// winner (a scalar rendered canonically, or the kind of an object).
pub(crate) type RangeItem = (usize, Id, bool, String);

/// The ranges each list is read with: all of it, `1..3`, and its last two
/// elements through one past the end (`len - 2..=len`, `len` in elements).
fn ranges(len: usize) -> [(std::ops::Bound<usize>, std::ops::Bound<usize>); 3] {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    [
        (Unbounded, Unbounded),
        (Included(1), Excluded(3)),
        (Included(len.saturating_sub(2)), Included(len)),
    ]
}

/// A document reduced to its winning values (what `value_tree` gives).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Plain {
    /// A map or table.
    Map(BTreeMap<String, Plain>),
    /// A list.
    List(Vec<Plain>),
    /// A text.
    Text(String),
    /// A scalar.
    Scalar(String),
}

impl Tree {
    /// The winners only.
    pub(crate) fn plain(&self) -> Plain {
        let last = |v: &Vec<(Id, Tree)>| v.last().expect("a visible key has a value").1.plain();
        match self {
            Tree::Map(_, m) => Plain::Map(m.iter().map(|(k, v)| (k.clone(), last(v))).collect()),
            Tree::List(l, _) => Plain::List(l.iter().map(last).collect()),
            Tree::Text(s, _, _) => Plain::Text(s.clone()),
            Tree::Scalar(s) => Plain::Scalar(s.clone()),
        }
    }

    /// Number of objects, keys and elements (a size for reports).
    pub(crate) fn size(&self) -> usize {
        match self {
            Tree::Map(_, m) => {
                1 + m
                    .values()
                    .flat_map(|v| v.iter())
                    .map(|(_, t)| t.size())
                    .sum::<usize>()
            }
            Tree::List(l, _) => {
                1 + l
                    .iter()
                    .flat_map(|v| v.iter())
                    .map(|(_, t)| t.size())
                    .sum::<usize>()
            }
            Tree::Text(_, n, _) => 1 + n,
            Tree::Scalar(_) => 1,
        }
    }
}

/// Our `ValueTree` as a [`Plain`].
pub(crate) fn plain_of(tree: &ValueTree) -> Plain {
    match tree {
        ValueTree::Map(m) => Plain::Map(m.iter().map(|(k, v)| (k.clone(), plain_of(v))).collect()),
        ValueTree::List(l) => Plain::List(l.iter().map(plain_of).collect()),
        ValueTree::Text(s) => Plain::Text(s.clone()),
        ValueTree::Scalar(s) => Plain::Scalar(ours_scalar(s)),
    }
}

/// The oracle's hydrated value (`hydrate`, `rescue`) as a [`Plain`].
pub(crate) fn plain_of_hydrate(value: &automerge::hydrate::Value) -> Plain {
    use automerge::hydrate::Value as H;
    match value {
        H::Map(m) => Plain::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), plain_of_hydrate(&v.value)))
                .collect(),
        ),
        H::List(l) => Plain::List(l.iter().map(|v| plain_of_hydrate(&v.value)).collect()),
        H::Text(t) => Plain::Text(t.to_string()),
        H::Scalar(s) => Plain::Scalar(oracle_scalar(s)),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Our scalar, rendered.
pub(crate) fn ours_scalar(s: &ScalarValue) -> String {
    match s {
        ScalarValue::Null => "null".into(),
        ScalarValue::Bool(b) => format!("bool:{b}"),
        ScalarValue::Uint(u) => format!("uint:{u}"),
        ScalarValue::Int(i) => format!("int:{i}"),
        ScalarValue::F64(f) => format!("f64:{:016x}", f.to_bits()),
        ScalarValue::Str(s) => format!("str:{s:?}"),
        ScalarValue::Bytes(b) => format!("bytes:{}", hex(b)),
        ScalarValue::Counter(c) => format!("counter:{c}"),
        ScalarValue::Timestamp(t) => format!("ts:{t}"),
        ScalarValue::Unknown { type_code, bytes } => format!("unknown:{type_code}:{}", hex(bytes)),
    }
}

/// The oracle's scalar, rendered like [`ours_scalar`].
pub(crate) fn oracle_scalar(s: &automerge::ScalarValue) -> String {
    use automerge::ScalarValue as S;
    match s {
        S::Null => "null".into(),
        S::Boolean(b) => format!("bool:{b}"),
        S::Uint(u) => format!("uint:{u}"),
        S::Int(i) => format!("int:{i}"),
        S::F64(f) => format!("f64:{:016x}", f.to_bits()),
        S::Str(s) => format!("str:{:?}", s.as_str()),
        S::Bytes(b) => format!("bytes:{}", hex(b)),
        S::Counter(c) => format!("counter:{}", i64::from(c)),
        S::Timestamp(t) => format!("ts:{t}"),
        S::Unknown { type_code, bytes } => format!("unknown:{type_code}:{}", hex(bytes)),
    }
}

/// Our scalar as the oracle's.
pub(crate) fn to_oracle_scalar(v: &ScalarValue) -> automerge::ScalarValue {
    use automerge::ScalarValue as S;
    match v.clone() {
        ScalarValue::Null => S::Null,
        ScalarValue::Bool(b) => S::Boolean(b),
        ScalarValue::Uint(u) => S::Uint(u),
        ScalarValue::Int(i) => S::Int(i),
        ScalarValue::F64(f) => S::F64(f),
        ScalarValue::Str(s) => S::Str(s.into()),
        ScalarValue::Bytes(b) => S::Bytes(b),
        ScalarValue::Counter(c) => S::counter(c),
        ScalarValue::Timestamp(t) => S::Timestamp(t),
        ScalarValue::Unknown { type_code, bytes } => S::Unknown { type_code, bytes },
    }
}

// ---- the oracle ----

fn oracle_id(id: &automerge::ObjId) -> Id {
    match id {
        automerge::ObjId::Root => (0, String::new()),
        automerge::ObjId::Id(c, a, _) => (*c, a.to_hex_string()),
    }
}

/// The oracle document (at `heads`, or now).
pub(crate) fn oracle_tree<D: ReadDoc>(doc: &D, heads: Option<&[automerge::ChangeHash]>) -> Tree {
    oracle_obj(doc, &automerge::ROOT, automerge::ObjType::Map, heads)
}

fn oracle_values<D: ReadDoc>(
    doc: &D,
    all: Vec<(automerge::Value<'_>, automerge::ObjId)>,
    heads: Option<&[automerge::ChangeHash]>,
) -> Vec<(Id, Tree)> {
    all.into_iter()
        .map(|(v, id)| {
            let t = match v {
                automerge::Value::Object(t) => oracle_obj(doc, &id, t, heads),
                automerge::Value::Scalar(s) => Tree::Scalar(oracle_scalar(&s)),
            };
            (oracle_id(&id), t)
        })
        .collect()
}

fn oracle_obj<D: ReadDoc>(
    doc: &D,
    obj: &automerge::ObjId,
    typ: automerge::ObjType,
    heads: Option<&[automerge::ChangeHash]>,
) -> Tree {
    use automerge::ObjType as T;
    match typ {
        T::Map | T::Table => {
            let keys: Vec<String> = match heads {
                Some(h) => doc.keys_at(obj, h).collect(),
                None => doc.keys(obj).collect(),
            };
            let mut m = BTreeMap::new();
            for k in keys {
                let all = match heads {
                    Some(h) => doc.get_all_at(obj, k.as_str(), h),
                    None => doc.get_all(obj, k.as_str()),
                }
                .expect("oracle get_all");
                let vals = oracle_values(doc, all, heads);
                m.insert(k, vals);
            }
            Tree::Map(if typ == T::Map { "map" } else { "table" }, m)
        }
        T::List => {
            let len = match heads {
                Some(h) => doc.length_at(obj, h),
                None => doc.length(obj),
            };
            let mut l = Vec::with_capacity(len);
            for i in 0..len {
                let all = match heads {
                    Some(h) => doc.get_all_at(obj, i, h),
                    None => doc.get_all(obj, i),
                }
                .expect("oracle get_all");
                l.push(oracle_values(doc, all, heads));
            }
            Tree::List(l, oracle_ranges(doc, obj, heads))
        }
        T::Text => {
            let (text, len, marks) = match heads {
                Some(h) => (
                    doc.text_at(obj, h),
                    doc.length_at(obj, h),
                    doc.marks_at(obj, h),
                ),
                None => (doc.text(obj), doc.length(obj), doc.marks(obj)),
            };
            // In the order `marks` lists them (by name, then position).
            let marks: Vec<_> = marks
                .expect("oracle marks")
                .into_iter()
                .map(|m| (m.start, m.end, m.name.to_string(), oracle_scalar(&m.value)))
                .collect();
            Tree::Text(text.expect("oracle text"), len, marks)
        }
    }
}

/// `list_range` of a list (see [`ranges`]), by the oracle.
fn oracle_ranges<D: ReadDoc>(
    doc: &D,
    obj: &automerge::ObjId,
    heads: Option<&[automerge::ChangeHash]>,
) -> Vec<RangeItem> {
    let len = match heads {
        Some(h) => doc.list_range_at(obj, .., h).count(),
        None => doc.list_range(obj, ..).count(),
    };
    let mut out = Vec::new();
    for range in ranges(len) {
        let items: Vec<_> = match heads {
            Some(h) => doc.list_range_at(obj, range, h).collect(),
            None => doc.list_range(obj, range).collect(),
        };
        out.extend(items.into_iter().map(|item| {
            let id = oracle_id(&item.id());
            let value = match item.value.into_value() {
                automerge::Value::Object(kind) => format!("obj:{kind:?}"),
                automerge::Value::Scalar(s) => oracle_scalar(&s),
            };
            (item.index, id, item.conflict, value)
        }));
    }
    out
}

// ---- converge ----

/// The reads a tree is made of, by a [`Document`] or by an [`AutoCommit`] (whose pending
/// edits they see).
pub(crate) trait Reads {
    fn keys(&self, obj: &ExId) -> Result<Vec<String>, DocError>;
    fn keys_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<String>, DocError>;
    fn get_all(&self, obj: &ExId, prop: Prop) -> Result<Vec<ValueWithId>, DocError>;
    fn get_all_at(
        &self,
        obj: &ExId,
        prop: Prop,
        heads: &[ChangeHash],
    ) -> Result<Vec<ValueWithId>, DocError>;
    fn length(&self, obj: &ExId) -> Result<usize, DocError>;
    fn length_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<usize, DocError>;
    fn list_range(&self, obj: &ExId, range: Bounds) -> Result<Vec<ListItem>, DocError>;
    fn list_range_at(
        &self,
        obj: &ExId,
        range: Bounds,
        heads: &[ChangeHash],
    ) -> Result<Vec<ListItem>, DocError>;
    fn text(&self, obj: &ExId) -> Result<String, DocError>;
    fn text_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<String, DocError>;
    fn marks(&self, obj: &ExId) -> Result<Vec<Mark>, DocError>;
    fn marks_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<Mark>, DocError>;
}

type Bounds = (std::ops::Bound<usize>, std::ops::Bound<usize>);

macro_rules! reads_for {
    ($t:ty) => {
        impl Reads for $t {
            fn keys(&self, obj: &ExId) -> Result<Vec<String>, DocError> {
                <$t>::keys(self, obj)
            }
            fn keys_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<String>, DocError> {
                <$t>::keys_at(self, obj, heads)
            }
            fn get_all(&self, obj: &ExId, prop: Prop) -> Result<Vec<ValueWithId>, DocError> {
                <$t>::get_all(self, obj, prop)
            }
            fn get_all_at(
                &self,
                obj: &ExId,
                prop: Prop,
                heads: &[ChangeHash],
            ) -> Result<Vec<ValueWithId>, DocError> {
                <$t>::get_all_at(self, obj, prop, heads)
            }
            fn length(&self, obj: &ExId) -> Result<usize, DocError> {
                <$t>::length(self, obj)
            }
            fn length_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<usize, DocError> {
                <$t>::length_at(self, obj, heads)
            }
            fn list_range(&self, obj: &ExId, range: Bounds) -> Result<Vec<ListItem>, DocError> {
                <$t>::list_range(self, obj, range)
            }
            fn list_range_at(
                &self,
                obj: &ExId,
                range: Bounds,
                heads: &[ChangeHash],
            ) -> Result<Vec<ListItem>, DocError> {
                <$t>::list_range_at(self, obj, range, heads)
            }
            fn text(&self, obj: &ExId) -> Result<String, DocError> {
                <$t>::text(self, obj)
            }
            fn text_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<String, DocError> {
                <$t>::text_at(self, obj, heads)
            }
            fn marks(&self, obj: &ExId) -> Result<Vec<Mark>, DocError> {
                <$t>::marks(self, obj)
            }
            fn marks_at(&self, obj: &ExId, heads: &[ChangeHash]) -> Result<Vec<Mark>, DocError> {
                <$t>::marks_at(self, obj, heads)
            }
        }
    };
}

reads_for!(Document);
reads_for!(AutoCommit);

/// `list_range` of a list (see [`ranges`]), by converge.
fn ours_ranges(doc: &impl Reads, obj: &ExId, heads: Option<&[ChangeHash]>) -> Vec<RangeItem> {
    let read = |range| match heads {
        Some(h) => doc.list_range_at(obj, range, h),
        None => doc.list_range(obj, range),
    };
    let len = read((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded))
        .expect("converge list_range")
        .len();
    let mut out = Vec::new();
    for range in ranges(len) {
        out.extend(
            read(range)
                .expect("converge list_range")
                .into_iter()
                .map(|item| {
                    let value = match &item.value {
                        Value::Object(kind, _) => format!("obj:{kind:?}"),
                        Value::Scalar(s) => ours_scalar(s),
                    };
                    (item.index, ours_id(&item.id), item.conflict, value)
                }),
        );
    }
    out
}

fn ours_id(id: &ExId) -> Id {
    match id {
        ExId::Root => (0, String::new()),
        ExId::Op { counter, actor } => (u64::from(*counter), actor.to_hex()),
    }
}

/// Our document (at `heads`, or now).
pub(crate) fn ours_tree(doc: &impl Reads, heads: Option<&[ChangeHash]>) -> Tree {
    ours_obj(doc, &ExId::Root, ObjType::Map, heads)
}

fn ours_values(
    doc: &impl Reads,
    all: Vec<ValueWithId>,
    heads: Option<&[ChangeHash]>,
) -> Vec<(Id, Tree)> {
    all.into_iter()
        .map(|v| {
            let t = match &v.value {
                Value::Object(kind, id) => ours_obj(doc, id, *kind, heads),
                Value::Scalar(s) => Tree::Scalar(ours_scalar(s)),
            };
            (ours_id(&v.id), t)
        })
        .collect()
}

fn ours_obj(doc: &impl Reads, obj: &ExId, kind: ObjType, heads: Option<&[ChangeHash]>) -> Tree {
    match kind {
        ObjType::Map | ObjType::Table => {
            let keys = match heads {
                Some(h) => doc.keys_at(obj, h),
                None => doc.keys(obj),
            }
            .expect("converge keys");
            let mut m = BTreeMap::new();
            for k in keys {
                let all = match heads {
                    Some(h) => doc.get_all_at(obj, Prop::from(k.as_str()), h),
                    None => doc.get_all(obj, Prop::from(k.as_str())),
                }
                .expect("converge get_all");
                let vals = ours_values(doc, all, heads);
                m.insert(k, vals);
            }
            Tree::Map(if kind == ObjType::Map { "map" } else { "table" }, m)
        }
        ObjType::List => {
            let len = match heads {
                Some(h) => doc.length_at(obj, h),
                None => doc.length(obj),
            }
            .expect("converge length");
            let mut l = Vec::with_capacity(len);
            for i in 0..len {
                let all = match heads {
                    Some(h) => doc.get_all_at(obj, Prop::from(i), h),
                    None => doc.get_all(obj, Prop::from(i)),
                }
                .expect("converge get_all");
                l.push(ours_values(doc, all, heads));
            }
            Tree::List(l, ours_ranges(doc, obj, heads))
        }
        ObjType::Text => {
            let (text, len, marks) = match heads {
                Some(h) => (
                    doc.text_at(obj, h),
                    doc.length_at(obj, h),
                    doc.marks_at(obj, h),
                ),
                None => (doc.text(obj), doc.length(obj), doc.marks(obj)),
            };
            let marks: Vec<_> = marks
                .expect("converge marks")
                .into_iter()
                .map(|m| (m.start, m.end, m.name, ours_scalar(&m.value)))
                .collect();
            Tree::Text(
                text.expect("converge text"),
                len.expect("converge length"),
                marks,
            )
        }
    }
}

/// Sorted oracle heads as raw hashes.
pub(crate) fn oracle_heads(heads: &[automerge::ChangeHash]) -> Vec<[u8; 32]> {
    let mut h: Vec<[u8; 32]> = heads.iter().map(|h| h.0).collect();
    h.sort();
    h
}

/// Sorted converge heads as raw hashes.
pub(crate) fn ours_heads(heads: &[ChangeHash]) -> Vec<[u8; 32]> {
    let mut h: Vec<[u8; 32]> = heads.iter().map(|h| h.0).collect();
    h.sort();
    h
}

/// The first difference between two trees, as a path and the two sides (for messages).
pub(crate) fn first_diff(a: &Tree, b: &Tree) -> String {
    fn go(a: &Tree, b: &Tree, path: &mut String) -> Option<String> {
        if a == b {
            return None;
        }
        match (a, b) {
            (Tree::Map(ka, ma), Tree::Map(kb, mb)) if ka == kb => {
                let keys_a: Vec<_> = ma.keys().collect();
                let keys_b: Vec<_> = mb.keys().collect();
                if keys_a != keys_b {
                    return Some(format!("{path}: keys {keys_a:?} vs {keys_b:?}"));
                }
                for (k, va) in ma {
                    let vb = &mb[k];
                    let len = path.len();
                    let _ = write!(path, "/{k:?}");
                    if let Some(d) = go_vals(va, vb, path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            (Tree::List(la, ra), Tree::List(lb, rb)) if la.len() == lb.len() && ra == rb => {
                for (i, (va, vb)) in la.iter().zip(lb).enumerate() {
                    let len = path.len();
                    let _ = write!(path, "/[{i}]");
                    if let Some(d) = go_vals(va, vb, path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            _ => Some(format!("{path}: {}\n  vs {}", short(a), short(b))),
        }
    }
    fn go_vals(a: &[(Id, Tree)], b: &[(Id, Tree)], path: &mut String) -> Option<String> {
        let ia: Vec<_> = a.iter().map(|x| &x.0).collect();
        let ib: Vec<_> = b.iter().map(|x| &x.0).collect();
        if ia != ib || a.len() != b.len() {
            let va: Vec<_> = a.iter().map(|x| (&x.0, short(&x.1))).collect();
            let vb: Vec<_> = b.iter().map(|x| (&x.0, short(&x.1))).collect();
            return Some(format!("{path}: conflicts {va:?}\n  vs {vb:?}"));
        }
        for ((_, ta), (_, tb)) in a.iter().zip(b) {
            if let Some(d) = go(ta, tb, path) {
                return Some(d);
            }
        }
        None
    }
    go(a, b, &mut String::new()).unwrap_or_else(|| "no difference".into())
}

fn short(t: &Tree) -> String {
    let s = format!("{t:?}");
    if s.len() > 400 {
        format!("{}...", &s[..s.floor_char_boundary(400)])
    } else {
        s
    }
}
