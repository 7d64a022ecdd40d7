//! Patches rendered as comparable lines: converge's and the oracle's, alike where the two
//! mean the same (object, path, action with its fields; ids as `counter@actor`).

use converge_doc::{ExId, Prop};
use converge_encoding::ScalarValue;

/// A patch rendered for comparison: object, path, action.
pub(crate) fn ours_patch(p: &converge_doc::Patch) -> String {
    use converge_doc::PatchAction as A;
    let id = |e: &ExId| match e {
        ExId::Root => "_root".to_string(),
        ExId::Op { counter, actor } => format!("{counter}@{}", actor.to_hex()),
    };
    let prop = |p: &Prop| match p {
        Prop::Map(k) => format!("{k:?}"),
        Prop::Seq(i) => format!("{i}"),
    };
    let value = |v: &converge_doc::ValueWithId| {
        let shown = match &v.value {
            converge_doc::Value::Object(kind, _) => format!("obj:{kind:?}"),
            converge_doc::Value::Scalar(s) => super::ours_scalar(s),
        };
        format!("{shown}={}", id(&v.id))
    };
    let marks = |m: &std::collections::BTreeMap<String, ScalarValue>| {
        m.iter()
            .map(|(k, v)| format!("{k}:{}", super::ours_scalar(v)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let action = match &p.action {
        A::PutMap {
            key,
            value: v,
            conflict,
        } => format!("put_map {key:?} {} {conflict}", value(v)),
        A::PutSeq {
            index,
            value: v,
            conflict,
        } => format!("put_seq {index} {} {conflict}", value(v)),
        A::Insert { index, values } => format!(
            "insert {index} [{}]",
            values
                .iter()
                .map(|(v, c)| format!("{} {c}", value(v)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        A::SpliceText {
            index,
            value: v,
            marks: m,
        } => format!("splice {index} {v:?} {:?}", m.as_ref().map(marks)),
        A::Increment { prop: p, value: v } => format!("inc {} {v}", prop(p)),
        A::Conflict { prop: p } => format!("conflict {}", prop(p)),
        A::DeleteMap { key } => format!("del_map {key:?}"),
        A::DeleteSeq { index, length } => format!("del_seq {index} {length}"),
        A::Mark { marks: m } => format!(
            "mark [{}]",
            m.iter()
                .map(|m| format!(
                    "{}..{} {}={}",
                    m.start,
                    m.end,
                    m.name,
                    super::ours_scalar(&m.value)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => format!("{other:?}"),
    };
    let path: Vec<String> = p
        .path
        .iter()
        .map(|(o, pr)| format!("{}/{}", id(o), prop(pr)))
        .collect();
    format!("{} [{}] {action}", id(&p.obj), path.join(" "))
}

/// The oracle's patch, rendered like [`ours_patch`].
pub(crate) fn oracle_patch(p: &automerge::Patch) -> String {
    use automerge::PatchAction as A;
    let prop = |p: &automerge::Prop| match p {
        automerge::Prop::Map(k) => format!("{k:?}"),
        automerge::Prop::Seq(i) => format!("{i}"),
    };
    let value = |v: &automerge::Value<'_>, id: &automerge::ObjId| {
        let shown = match v {
            automerge::Value::Object(kind) => format!("obj:{kind:?}"),
            automerge::Value::Scalar(s) => super::oracle_scalar(s),
        };
        format!("{shown}={id}")
    };
    let marks = |m: &automerge::marks::MarkSet| {
        m.iter()
            .map(|(k, v)| format!("{k}:{}", super::oracle_scalar(v)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let action = match &p.action {
        A::PutMap {
            key,
            value: (v, id),
            conflict,
        } => format!("put_map {key:?} {} {conflict}", value(v, id)),
        A::PutSeq {
            index,
            value: (v, id),
            conflict,
        } => format!("put_seq {index} {} {conflict}", value(v, id)),
        A::Insert { index, values } => format!(
            "insert {index} [{}]",
            values
                .iter()
                .map(|(v, id, c)| format!("{} {c}", value(v, id)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        A::SpliceText {
            index,
            value: v,
            marks: m,
        } => format!(
            "splice {index} {:?} {:?}",
            v.make_string(),
            m.as_ref().map(marks)
        ),
        A::Increment { prop: p, value: v } => format!("inc {} {v}", prop(p)),
        A::Conflict { prop: p } => format!("conflict {}", prop(p)),
        A::DeleteMap { key } => format!("del_map {key:?}"),
        A::DeleteSeq { index, length } => format!("del_seq {index} {length}"),
        A::Mark { marks: m } => format!(
            "mark [{}]",
            m.iter()
                .map(|m| format!(
                    "{}..{} {}={}",
                    m.start,
                    m.end,
                    m.name(),
                    super::oracle_scalar(m.value())
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let path: Vec<String> = p
        .path
        .iter()
        .map(|(o, pr)| format!("{o}/{}", prop(pr)))
        .collect();
    format!("{} [{}] {action}", p.obj, path.join(" "))
}
