//! A change whose mark ops end before they begin (fuzz/regressions/doc_apply/crash-d569...,
//! found by the doc_apply fuzz target): automerge 0.12 applies it, and then refuses to load
//! the document it saves ("mark end occurs before mark begin"). converge does the same: it
//! applies the change, saves the same bytes, and refuses them on load with
//! `DocError::InvalidMarkOrder`. A peer that refused the change would no longer converge
//! with automerge peers that took it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "doc_tree/mod.rs"]
mod doc_tree;
mod support;

#[path = "../../../fuzz/fuzz_targets/checks/doc_apply.rs"]
#[allow(dead_code)]
mod doc_apply;

use converge_doc::{DocError, Document};
use converge_encoding::Change;

#[test]
fn a_mark_end_before_its_begin_is_taken_and_saved_as_automerge_does() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/regressions/doc_apply/crash-d569e672859805c445ff1e0be36a1ecde0177385"
    );
    let data = std::fs::read(path).expect("the committed regression");
    let changes: Vec<Change> = converge_encoding::chunk::split_chunks(&data)
        .map_while(Result::ok)
        .map_while(|chunk| {
            Change::decode_unchecked_checksum(bytes::Bytes::copy_from_slice(chunk.bytes())).ok()
        })
        .collect();
    assert_eq!(changes.len(), 1);

    let mut ours = doc_apply::fixture();
    let mut theirs = automerge::Automerge::load(&ours.save()).unwrap();
    theirs
        .apply_changes(
            changes
                .iter()
                .map(|c| automerge::Change::try_from(c.bytes().as_ref()).unwrap()),
        )
        .unwrap();
    ours.apply_changes(changes).unwrap();
    let (ours_saved, theirs_saved) = (ours.save(), theirs.save());
    assert_eq!(ours_saved, theirs_saved);
    assert!(automerge::Automerge::load(&theirs_saved).is_err());
    assert!(matches!(
        Document::load(&ours_saved),
        Err(DocError::InvalidMarkOrder { .. })
    ));

    // The CLI's test of `export --rescue` reads this document from a committed file, made
    // here (`CONVERGE_WRITE_FIXTURES=1` writes it again).
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../converge-cli/tests/misplaced-mark-end.automerge"
    );
    if std::env::var_os("CONVERGE_WRITE_FIXTURES").is_some() {
        std::fs::write(fixture, &ours_saved).unwrap();
    }
    assert_eq!(
        std::fs::read(fixture).unwrap(),
        ours_saved,
        "{fixture} is this document (CONVERGE_WRITE_FIXTURES=1 writes it)"
    );

    // Both rescue the values.
    let theirs_rescued = automerge::Automerge::rescue(&theirs_saved).unwrap();
    let ours_rescued = Document::rescue(&ours_saved).unwrap();
    assert_eq!(
        doc_tree::plain_of(&ours_rescued),
        doc_tree::plain_of_hydrate(&theirs_rescued)
    );
    assert_eq!(
        ours_rescued,
        ours.value_tree(&converge_doc::ROOT).unwrap(),
        "the rescued values are those of the document that saved them"
    );
}

/// The text objects of `doc` (depth first from the root, in key and index order).
fn texts(doc: &Document) -> Vec<converge_doc::ExId> {
    use converge_doc::{ObjType, Prop, Value};
    let mut out = Vec::new();
    let mut todo = vec![(converge_doc::ROOT, ObjType::Map)];
    while let Some((obj, kind)) = todo.pop() {
        let props: Vec<Prop> = match kind {
            ObjType::Map | ObjType::Table => doc
                .keys(&obj)
                .unwrap()
                .into_iter()
                .map(Prop::from)
                .collect(),
            ObjType::List => (0..doc.length(&obj).unwrap()).map(Prop::from).collect(),
            ObjType::Text => {
                out.push(obj);
                continue;
            }
        };
        for prop in props {
            if let Some(v) = doc.get(&obj, prop).unwrap()
                && let Value::Object(kind, id) = v.value
            {
                todo.push((id, kind));
            }
        }
    }
    out
}

/// The element at `pos` of `text`, as an op id of a change whose actor table is `table`
/// (the author first), the actor added to the table if new.
fn elem(
    doc: &Document,
    text: &converge_doc::ExId,
    pos: usize,
    table: &mut Vec<converge_encoding::ActorId>,
) -> converge_encoding::OpId {
    let converge_encoding::Cursor::Op { counter, actor, .. } =
        doc.get_cursor(text, pos, None).unwrap()
    else {
        unreachable!("a cursor inside a text names an element")
    };
    op_id(counter as u32, actor, table)
}

fn op_id(
    counter: u32,
    actor: converge_encoding::ActorId,
    table: &mut Vec<converge_encoding::ActorId>,
) -> converge_encoding::OpId {
    let at = table.iter().position(|a| *a == actor).unwrap_or_else(|| {
        table.push(actor);
        table.len() - 1
    });
    converge_encoding::OpId::new(counter, at as u32)
}

/// On seeded random histories (texts typed, marked and edited by several actors), a
/// change whose mark ends before it begins (or ends in another text): automerge and
/// converge both apply it and save the same bytes, both refuse to load them, and both
/// rescue the same values, those of the document that saved them.
#[test]
fn documents_with_misplaced_mark_ends_rescue_alike() {
    use converge_doc::MarkOrderFault;
    use converge_encoding::{Action, ChangeOp, ChangeParts, ElemId, Key, ObjId, ScalarValue};
    let (mut rescued, mut other_object) = (0, 0);
    for seed in support::sweep(600) {
        let mut history = support::History::generate(seed, &support::Params::varied(seed));
        let mut rng = support::SplitMix64::new(seed ^ 0x3a4c);
        let changes = history.changes();
        let mut ours = Document::new();
        ours.apply_changes(
            changes
                .iter()
                .map(|c| Change::decode(bytes::Bytes::copy_from_slice(c.raw_bytes())).unwrap()),
        )
        .unwrap();
        let texts: Vec<_> = texts(&ours)
            .into_iter()
            .filter(|t| ours.length(t).unwrap() >= 2)
            .collect();
        if texts.is_empty() {
            continue;
        }
        let begin_text = rng.pick(&texts).clone();
        let others: Vec<_> = texts
            .iter()
            .filter(|t| **t != begin_text)
            .cloned()
            .collect();
        let end_text = if !others.is_empty() && rng.percent(40) {
            rng.pick(&others).clone()
        } else {
            begin_text.clone()
        };
        let author = converge_encoding::ActorId::from_bytes(&[0xee; 16]);
        let mut table = vec![author.clone()];
        let len = ours.length(&begin_text).unwrap();
        let (begin_at, end_at) = if end_text == begin_text {
            let j = rng.range(1, len - 1);
            (j, rng.below(j))
        } else {
            (rng.below(len), rng.below(ours.length(&end_text).unwrap()))
        };
        let obj_of = |t: &converge_doc::ExId, table: &mut Vec<_>| match t {
            converge_doc::ExId::Op { counter, actor } => {
                ObjId::Op(op_id(*counter, actor.clone(), table))
            }
            converge_doc::ExId::Root => unreachable!("a text is not the root"),
        };
        let mark = |obj, elem, value, name: Option<&str>, expand| ChangeOp {
            obj,
            key: Key::Seq(ElemId::Op(elem)),
            insert: true,
            action: Action::Mark,
            value,
            pred: vec![],
            expand,
            mark_name: name.map(str::to_owned),
        };
        let begin = mark(
            obj_of(&begin_text, &mut table),
            elem(&ours, &begin_text, begin_at, &mut table),
            ScalarValue::Bool(true),
            Some("bold"),
            rng.percent(50),
        );
        let end = mark(
            obj_of(&end_text, &mut table),
            elem(&ours, &end_text, end_at, &mut table),
            ScalarValue::Null,
            None,
            rng.percent(50),
        );
        let backwards = Change::from_parts(ChangeParts {
            actor: author,
            seq: 1,
            start_op: u64::from(ours.max_op()) + 1,
            time: 0,
            message: None,
            deps: ours.heads(),
            other_actors: table.split_off(1),
            ops: vec![begin, end],
            extra_bytes: vec![],
        })
        .unwrap();

        let mut theirs = automerge::Automerge::new();
        theirs.apply_changes(changes).unwrap();
        theirs
            .apply_changes([automerge::Change::try_from(backwards.bytes().as_ref()).unwrap()])
            .unwrap();
        ours.apply_changes([backwards]).unwrap();
        let (ours_saved, theirs_saved) = (ours.save(), theirs.save());
        assert_eq!(ours_saved, theirs_saved, "seed {seed}: saves");
        assert!(
            automerge::Automerge::load(&theirs_saved).is_err(),
            "seed {seed}: automerge loads its save"
        );
        let fault = match Document::load(&ours_saved) {
            Err(DocError::InvalidMarkOrder { fault, .. }) => fault,
            other => panic!("seed {seed}: {other:?}"),
        };
        // In one text the end comes first; in two, whichever text comes first in document
        // order decides.
        if end_text == begin_text {
            assert_eq!(fault, MarkOrderFault::BeforeBegin, "seed {seed}");
        } else if fault == MarkOrderFault::OtherObject {
            other_object += 1;
        }
        let theirs_rescued = automerge::Automerge::rescue(&theirs_saved).unwrap();
        let ours_rescued = Document::rescue(&ours_saved).unwrap();
        assert_eq!(
            doc_tree::plain_of(&ours_rescued),
            doc_tree::plain_of_hydrate(&theirs_rescued),
            "seed {seed}: rescued values"
        );
        assert_eq!(
            ours_rescued,
            ours.value_tree(&converge_doc::ROOT).unwrap(),
            "seed {seed}: rescued values against the live document's"
        );
        rescued += 1;
    }
    eprintln!(
        "{rescued} documents rescued alike ({other_object} refused for a mark end in another \
         text)"
    );
    assert!(rescued > 0);
}
