//! `iter` / `iter_at` (a walk of every object) and `values` / `values_at` against automerge
//! 0.12's, on the seeded random histories of `support`, now and at earlier heads: the same
//! items in the same order (objects by id, each after its holder; a map's keys with their
//! winners, ids and conflict flags, a list's elements, a text's spans and blocks), and the
//! same values of every object.
//!
//! Left out, where converge differs on purpose (see `Document::iter_at` and
//! `Document::values`): what lies in or below a table (automerge 0.12 walks a table as a
//! list and cannot type it), and the anchors of a text's marks that automerge's `values`
//! reports as the strings "markBegin" and "markEnd".

use std::collections::HashSet;

use crate::doc_tree::{oracle_scalar, ours_scalar, plain_of, plain_of_hydrate};
use crate::support::{loaded_pair, sweep};
use automerge::ReadDoc;
use converge_doc::{DocItem, Document, ExId, Span, Value};
use converge_encoding::ChangeHash;

fn ours_value(v: &Value) -> String {
    match v {
        Value::Object(kind, _) => format!("obj:{kind:?}"),
        Value::Scalar(s) => ours_scalar(s),
    }
}

fn oracle_value(v: &automerge::Value<'_>) -> String {
    match v {
        automerge::Value::Object(kind) => format!("obj:{kind:?}"),
        automerge::Value::Scalar(s) => oracle_scalar(s),
    }
}

/// The objects in or below a table, as converge names them (`to_string`).
fn in_tables(doc: &Document) -> HashSet<String> {
    let mut out = HashSet::new();
    for item in doc.iter() {
        let item = item.unwrap();
        let inside = out.contains(&item.obj.to_string())
            || doc.object_type(&item.obj).unwrap() == converge_doc::ObjType::Table;
        if let Some(Value::Object(kind, id)) = item.value()
            && (inside || *kind == converge_doc::ObjType::Table)
        {
            out.insert(id.to_string());
        }
        if inside {
            out.insert(item.obj.to_string());
        }
    }
    out
}

fn ours_walk(doc: &Document, heads: Option<&[ChangeHash]>, skip: &HashSet<String>) -> Vec<String> {
    doc.iter_at(&converge_doc::ROOT, heads)
        .unwrap()
        .map(|i| i.unwrap())
        .filter(|i| !skip.contains(&i.obj.to_string()))
        .map(|i| {
            let obj = i.obj.to_string();
            match &i.item {
                DocItem::Map(m) => format!(
                    "{obj} map {:?} {} {} {}",
                    m.key,
                    ours_value(&m.value),
                    m.id,
                    m.conflict
                ),
                DocItem::List(l) => format!(
                    "{obj} list {} {} {} {}",
                    l.index,
                    ours_value(&l.value),
                    l.id,
                    l.conflict
                ),
                DocItem::Text(Span::Text(t)) => {
                    let marks: Vec<String> = t
                        .marks
                        .iter()
                        .map(|(k, v)| format!("{k}={}", ours_scalar(v)))
                        .collect();
                    format!("{obj} text {:?} {marks:?}", t.text)
                }
                DocItem::Text(Span::Block(b)) => format!("{obj} block {:?}", plain_of(b)),
            }
        })
        .collect()
}

fn oracle_walk(
    doc: &automerge::Automerge,
    heads: Option<&[automerge::ChangeHash]>,
    skip: &HashSet<String>,
) -> Vec<String> {
    use automerge::iter::{DocItem as D, Span as S};
    doc.iter_at(&automerge::ROOT, heads)
        .filter(|i| !skip.contains(&i.obj.to_string()))
        .map(|i| {
            let obj = i.obj.to_string();
            match &i.item {
                D::Map(m) => format!(
                    "{obj} map {:?} {} {} {}",
                    m.key,
                    oracle_value(&automerge::Value::from(m.value.clone())),
                    m.id(),
                    m.conflict
                ),
                D::List(l) => format!(
                    "{obj} list {} {} {} {}",
                    l.index,
                    oracle_value(&automerge::Value::from(l.value.clone())),
                    l.id(),
                    l.conflict
                ),
                D::Text(S::Text { text, marks }) => {
                    let mut marks: Vec<String> = marks
                        .iter()
                        .flat_map(|m| m.iter())
                        .map(|(k, v)| format!("{k}={}", oracle_scalar(v)))
                        .collect();
                    marks.sort();
                    format!("{obj} text {text:?} {marks:?}")
                }
                D::Text(S::Block(b)) => format!(
                    "{obj} block {:?}",
                    plain_of_hydrate(&automerge::hydrate::Value::Map(b.clone()))
                ),
            }
        })
        .collect()
}

fn ours_values(doc: &Document, obj: &ExId, heads: Option<&[ChangeHash]>) -> Vec<String> {
    let values = match heads {
        Some(h) => doc.values_at(obj, h),
        None => doc.values(obj),
    };
    values
        .unwrap()
        .iter()
        .map(|v| format!("{} {}", ours_value(&v.value), v.id))
        .collect()
}

fn oracle_values(
    doc: &automerge::Automerge,
    obj: &automerge::ObjId,
    heads: Option<&[automerge::ChangeHash]>,
) -> Vec<String> {
    let values: Vec<_> = match heads {
        Some(h) => doc.values_at(obj, h).collect(),
        None => doc.values(obj).collect(),
    };
    let text = doc.object_type(obj).ok() == Some(automerge::ObjType::Text);
    values
        .iter()
        .filter(|(v, _)| {
            !(text
                && matches!(v, automerge::Value::Scalar(s)
                if matches!(s.as_ref(), automerge::ScalarValue::Str(s)
                    if s.as_str() == "markBegin" || s.as_str() == "markEnd")))
        })
        .map(|(v, id)| format!("{} {id}", oracle_value(v)))
        .collect()
}

#[test]
fn walks_and_values_are_automerge_s() {
    let (mut walks, mut items, mut objects, mut values) = (0, 0, 0, 0);
    let mut kinds = std::collections::BTreeMap::new();
    for seed in sweep(300) {
        let (ours, theirs) = loaded_pair(seed, &[0x44; 16]);
        let skip = in_tables(&ours);
        // Now, and at the heads after each of a few changes.
        let changes = ours.get_changes(&[]);
        let mut points: Vec<Option<Vec<ChangeHash>>> = vec![None];
        let step = (changes.len() / 4).max(1);
        for c in changes.iter().step_by(step) {
            points.push(Some(vec![c.hash()]));
        }
        for heads in &points {
            let oracle_heads: Option<Vec<automerge::ChangeHash>> = heads.as_ref().map(|h| {
                h.iter()
                    .map(|h| automerge::ChangeHash(*h.as_bytes()))
                    .collect()
            });
            let what = format!("seed {seed} at {heads:?}");
            let got = ours_walk(&ours, heads.as_deref(), &skip);
            let expected = oracle_walk(&theirs, oracle_heads.as_deref(), &skip);
            assert_eq!(got, expected, "{what}");
            walks += 1;
            items += got.len();
            for item in &got {
                let kind = item.split(' ').nth(1).unwrap_or_default();
                *kinds.entry(kind.to_string()).or_insert(0usize) += 1;
            }
            // The values of every object walked (and the root).
            let mut objs: Vec<ExId> = vec![converge_doc::ROOT];
            for i in ours.iter_at(&converge_doc::ROOT, heads.as_deref()).unwrap() {
                if let Some(Value::Object(_, id)) = i.unwrap().value()
                    && !skip.contains(&id.to_string())
                {
                    objs.push(id.clone());
                }
            }
            for obj in objs {
                let theirs_obj: automerge::ObjId = theirs.import_obj(&obj.to_string()).unwrap();
                let got = ours_values(&ours, &obj, heads.as_deref());
                let expected = oracle_values(&theirs, &theirs_obj, oracle_heads.as_deref());
                assert_eq!(got, expected, "{what}: values of {obj}");
                objects += 1;
                values += got.len();
            }
        }
    }
    eprintln!(
        "{walks} walks alike ({items} items: {kinds:?}); values of {objects} objects alike \
         ({values})"
    );
}

/// Rich texts (marks, blocks with attributes) written by `update_spans`, several in one
/// document, some inside lists and maps, one edited by a second actor and merged: the
/// document saved by converge and loaded by automerge walks and reads the same.
#[test]
fn walks_of_rich_texts_are_automerge_s() {
    use crate::support::SplitMix64;
    use converge_doc::{ObjType, ROOT, UpdateSpansConfig};
    let (mut items, mut blocks) = (0, 0);
    for seed in sweep(200) {
        let mut rng = SplitMix64::new(seed ^ 0xd0c1);
        let mut doc = Document::with_actor(converge_encoding::ActorId::from_bytes(&[0x51; 16]));
        let list = doc.put_object(&ROOT, "list", ObjType::List).unwrap();
        let mut texts = vec![doc.put_object(&ROOT, "t", ObjType::Text).unwrap()];
        texts.push(doc.insert_object(&list, 0, ObjType::Text).unwrap());
        let map = doc.insert_object(&list, 1, ObjType::Map).unwrap();
        texts.push(doc.put_object(&map, "body", ObjType::Text).unwrap());
        let config = UpdateSpansConfig::default();
        for round in 0..4 {
            for t in &texts {
                let before = doc.spans(t, None).unwrap();
                let target = crate::update_spans::mutate(&before, &mut rng, round % 2 == 1);
                doc.update_spans(t, &target, &config).unwrap();
            }
        }
        // A concurrent edit of the first text by another actor, merged.
        let mut other = doc.fork();
        other.set_actor(converge_encoding::ActorId::from_bytes(&[0x52; 16]));
        let before = other.spans(&texts[0], None).unwrap();
        let target = crate::update_spans::mutate(&before, &mut rng, false);
        other.update_spans(&texts[0], &target, &config).unwrap();
        let heads = doc.heads();
        doc.merge(&other).unwrap();
        let theirs = automerge::Automerge::load(&doc.save()).unwrap();
        let skip = HashSet::new();
        let oracle_heads: Vec<automerge::ChangeHash> = heads
            .iter()
            .map(|h| automerge::ChangeHash(*h.as_bytes()))
            .collect();
        for (h, their_h) in [(None, None), (Some(&heads[..]), Some(&oracle_heads[..]))] {
            let got = ours_walk(&doc, h, &skip);
            assert_eq!(got, oracle_walk(&theirs, their_h, &skip), "seed {seed}");
            items += got.len();
            blocks += got.iter().filter(|i| i.contains(" block ")).count();
            for t in &texts {
                let their_t = theirs.import_obj(&t.to_string()).unwrap();
                assert_eq!(
                    ours_values(&doc, t, h),
                    oracle_values(&theirs, &their_t, their_h),
                    "seed {seed}: values of {t}"
                );
            }
        }
    }
    eprintln!("rich texts: {items} items walked alike ({blocks} blocks)");
    assert!(blocks > 0);
}
