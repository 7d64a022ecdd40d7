//! Documents to JSON and back.

use std::collections::BTreeSet;

use converge::{
    ExId, ObjType, Patch, PatchAction, Prop, ROOT, ScalarValue, Transaction, Value, ValueTree,
    ValueWithId,
};
use serde_json::{Map, Number, Value as Json};

use crate::error::CliError;

/// A materialised document as JSON: maps as objects, lists as arrays, text as a string,
/// counters and timestamps as numbers, bytes as arrays of numbers.
pub(crate) fn tree_to_json(tree: &ValueTree) -> Json {
    match tree {
        ValueTree::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), tree_to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        ValueTree::List(items) => Json::Array(items.iter().map(tree_to_json).collect()),
        ValueTree::Text(s) => Json::String(s.clone()),
        ValueTree::Scalar(s) => scalar_to_json(s),
    }
}

/// A patch as JSON: `{"obj", "path", "action", ...}`, the action's fields by name (ids as
/// `counter@actor`, the root as `_root`; values as [`tree_to_json`] writes scalars, objects
/// as `{"object": kind}`).
pub(crate) fn patch_to_json(patch: &Patch) -> Json {
    let id = |e: &ExId| match e {
        ExId::Root => "_root".to_owned(),
        ExId::Op { counter, actor } => format!("{counter}@{actor}"),
    };
    let prop = |p: &Prop| match p {
        Prop::Map(k) => Json::String(k.clone()),
        Prop::Seq(i) => Json::Number((*i as u64).into()),
    };
    let value = |v: &ValueWithId| match &v.value {
        Value::Object(kind, _) => {
            let kind = match kind {
                ObjType::Map => "map",
                ObjType::Table => "table",
                ObjType::List => "list",
                ObjType::Text => "text",
            };
            serde_json::json!({ "object": kind, "id": id(&v.id) })
        }
        Value::Scalar(s) => scalar_to_json(s),
    };
    let marks = |m: &std::collections::BTreeMap<String, ScalarValue>| {
        Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), scalar_to_json(v)))
                .collect::<Map<_, _>>(),
        )
    };
    let action = match &patch.action {
        PatchAction::PutMap {
            key,
            value: v,
            conflict,
        } => {
            serde_json::json!({ "action": "put", "key": key, "value": value(v), "conflict": conflict })
        }
        PatchAction::PutSeq {
            index,
            value: v,
            conflict,
        } => {
            serde_json::json!({ "action": "put", "index": index, "value": value(v), "conflict": conflict })
        }
        PatchAction::Insert { index, values } => serde_json::json!({
            "action": "insert",
            "index": index,
            "values": values.iter().map(|(v, _)| value(v)).collect::<Vec<_>>(),
            "conflicts": values.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        }),
        PatchAction::SpliceText {
            index,
            value: text,
            marks: m,
        } => serde_json::json!({
            "action": "splice",
            "index": index,
            "value": text,
            "marks": m.as_ref().map(marks),
        }),
        PatchAction::Increment { prop: p, value: n } => {
            serde_json::json!({ "action": "inc", "prop": prop(p), "value": n })
        }
        PatchAction::Conflict { prop: p } => {
            serde_json::json!({ "action": "conflict", "prop": prop(p) })
        }
        PatchAction::DeleteMap { key } => serde_json::json!({ "action": "del", "key": key }),
        PatchAction::DeleteSeq { index, length } => {
            serde_json::json!({ "action": "del", "index": index, "length": length })
        }
        PatchAction::Mark { marks: m } => serde_json::json!({
            "action": "mark",
            "marks": m.iter().map(|m| serde_json::json!({
                "name": m.name, "value": scalar_to_json(&m.value), "start": m.start, "end": m.end,
            })).collect::<Vec<_>>(),
        }),
        other => serde_json::json!({ "action": format!("{other:?}") }),
    };
    let mut out = Map::new();
    out.insert("obj".to_owned(), Json::String(id(&patch.obj)));
    out.insert(
        "path".to_owned(),
        Json::Array(patch.path.iter().map(|(_, p)| prop(p)).collect()),
    );
    if let Json::Object(fields) = action {
        out.extend(fields);
    }
    Json::Object(out)
}

fn scalar_to_json(s: &ScalarValue) -> Json {
    match s {
        ScalarValue::Null => Json::Null,
        ScalarValue::Bool(b) => Json::Bool(*b),
        ScalarValue::Uint(n) => Json::Number((*n).into()),
        ScalarValue::Int(n) | ScalarValue::Counter(n) | ScalarValue::Timestamp(n) => {
            Json::Number((*n).into())
        }
        // JSON has no NaN or infinities.
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ScalarValue::Str(s) => Json::String(s.clone()),
        ScalarValue::Bytes(b) => Json::Array(b.iter().map(|&x| Json::Number(x.into())).collect()),
        // A value of a type this version does not know: its raw bytes.
        ScalarValue::Unknown { bytes, .. } => {
            Json::Array(bytes.iter().map(|&x| Json::Number(x.into())).collect())
        }
    }
}

fn json_scalar(v: &Json) -> Option<ScalarValue> {
    Some(match v {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                ScalarValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                ScalarValue::Uint(u)
            } else {
                ScalarValue::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => ScalarValue::Str(s.clone()),
        Json::Array(_) | Json::Object(_) => return None,
    })
}

/// Writes the members of a JSON object into the root map of the transaction's document.
/// Strings under a key of `text_keys` become text objects.
pub(crate) fn import_root(
    tx: &mut Transaction<'_>,
    json: &Json,
    text_keys: &BTreeSet<String>,
) -> Result<(), CliError> {
    let Json::Object(members) = json else {
        return Err(CliError::Other(
            "the JSON document must be an object (the root of a document is a map)".to_owned(),
        ));
    };
    import_map(tx, &ROOT, members, text_keys)
}

fn import_map(
    tx: &mut Transaction<'_>,
    obj: &ExId,
    members: &Map<String, Json>,
    text_keys: &BTreeSet<String>,
) -> Result<(), CliError> {
    for (key, value) in members {
        match value {
            Json::Object(m) => {
                let child = tx.put_object(obj, key.as_str(), ObjType::Map)?;
                import_map(tx, &child, m, text_keys)?;
            }
            Json::Array(items) => {
                let child = tx.put_object(obj, key.as_str(), ObjType::List)?;
                import_list(tx, &child, items, text_keys)?;
            }
            Json::String(s) if text_keys.contains(key) => {
                let child = tx.put_object(obj, key.as_str(), ObjType::Text)?;
                tx.splice_text(&child, 0, 0, s)?;
            }
            scalar => {
                if let Some(s) = json_scalar(scalar) {
                    tx.put(obj, key.as_str(), s)?;
                }
            }
        }
    }
    Ok(())
}

fn import_list(
    tx: &mut Transaction<'_>,
    obj: &ExId,
    items: &[Json],
    text_keys: &BTreeSet<String>,
) -> Result<(), CliError> {
    for (i, value) in items.iter().enumerate() {
        match value {
            Json::Object(m) => {
                let child = tx.insert_object(obj, i, ObjType::Map)?;
                import_map(tx, &child, m, text_keys)?;
            }
            Json::Array(inner) => {
                let child = tx.insert_object(obj, i, ObjType::List)?;
                import_list(tx, &child, inner, text_keys)?;
            }
            scalar => {
                if let Some(s) = json_scalar(scalar) {
                    tx.insert(obj, i, s)?;
                }
            }
        }
    }
    Ok(())
}
