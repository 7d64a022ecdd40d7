use converge_doc::{DocError, Document, ObjType, ROOT};
use converge_encoding::{Change, ChangeParts, ObjId, ScalarValue};
use quickcheck::{QuickCheck, TestResult};

use crate::doc;

#[test]
fn concurrent_puts_conflict_and_converge() {
    let mut a = doc(1);
    a.put(&ROOT, "k", ScalarValue::Str("base".into())).unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.put(&ROOT, "k", ScalarValue::Str("from a".into()))
        .unwrap();
    b.put(&ROOT, "k", ScalarValue::Str("from b".into()))
        .unwrap();
    a.merge(&b).unwrap();
    b.merge(&a).unwrap();
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.heads().len(), 2);
    for d in [&a, &b] {
        let all = d.get_all(&ROOT, "k").unwrap();
        assert_eq!(all.len(), 2);
        // same counter: actor 2 > actor 1 bytewise wins
        assert_eq!(
            d.get(&ROOT, "k").unwrap().unwrap().value.as_scalar(),
            Some(&ScalarValue::Str("from b".into()))
        );
    }
    assert_eq!(a.value_tree(&ROOT), b.value_tree(&ROOT));
}

#[test]
fn concurrent_increments_and_delete() {
    let mut a = doc(1);
    a.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.increment(&ROOT, "c", 5).unwrap();
    b.increment(&ROOT, "c", 7).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(
        a.get(&ROOT, "c").unwrap().unwrap().value.as_scalar(),
        Some(&ScalarValue::Counter(12))
    );
    // a delete concurrent with an increment: the delete wins
    let mut c = a.fork();
    a.delete(&ROOT, "c").unwrap();
    c.increment(&ROOT, "c", 1).unwrap();
    a.merge(&c).unwrap();
    assert_eq!(a.get(&ROOT, "c").unwrap(), None);
}

#[test]
fn concurrent_text_inserts_interleave_deterministically() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "ac").unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    a.splice_text(&t, 1, 0, "XX").unwrap();
    b.splice_text(&t, 1, 0, "yy").unwrap();
    b.splice_text(&t, 0, 1, "").unwrap();
    a.merge(&b).unwrap();
    b.merge(&a).unwrap();
    assert_eq!(a.text(&t).unwrap(), b.text(&t).unwrap());
    // same counters: actor 2's run sorts first
    assert_eq!(a.text(&t).unwrap(), "yyXXc");
}

#[test]
fn causal_queue_and_duplicates() {
    let mut a = doc(1);
    a.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
    a.put(&ROOT, "x", ScalarValue::Int(2)).unwrap();
    a.put(&ROOT, "x", ScalarValue::Int(3)).unwrap();
    let changes = a.get_changes(&[]);
    assert_eq!(changes.len(), 3);
    let mut b = doc(2);
    b.apply_changes([changes[2].clone()]).unwrap();
    assert_eq!(b.heads(), []);
    assert_eq!(b.missing_deps(&[]), vec![changes[1].hash()]);
    b.apply_changes([changes[1].clone(), changes[1].clone()])
        .unwrap();
    assert_eq!(b.missing_deps(&[]), vec![changes[0].hash()]);
    b.apply_changes(changes.clone()).unwrap();
    assert_eq!(b.heads(), a.heads());
    assert_eq!(b.change_count(), 3);
    assert_eq!(b.get_changes(&[changes[0].hash()]).len(), 2);
    assert_eq!(
        b.get_change_by_hash(&changes[1].hash()).map(|c| c.hash()),
        Some(changes[1].hash())
    );
    let old = b.fork_at(&[changes[0].hash()]).unwrap();
    assert_eq!(
        old.get(&ROOT, "x").unwrap().unwrap().value.as_scalar(),
        Some(&ScalarValue::Int(1))
    );
}

#[test]
fn local_change_is_canonical_and_round_trips() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "hello").unwrap();
    a.splice_text(&t, 1, 2, "").unwrap();
    for c in a.get_changes(&[]) {
        assert!(c.is_canonical());
        let decoded = Change::decode(c.bytes().clone()).unwrap();
        assert_eq!(decoded.hash(), c.hash());
    }
    let c = a.get_changes(&[]);
    assert_eq!(c[1].deps(), &[c[0].hash()]);
    assert_eq!(c[1].seq(), 2);
    assert_eq!(c[1].start_op(), 2);
}

/// A commit message of "" hashes as none (the change chunk cannot tell them apart), and a
/// peer that decodes the chunk reads none; the author, and anyone handed its changes in the
/// same process, keeps "", as automerge 0.12 does, so their saves write it (the oracle tests
/// `local_commits_with_messages_and_times_match_the_oracle` and
/// `empty_message_through_merge_and_fork_at_matches_the_oracle` compare bytes).
#[test]
fn empty_commit_message_hashes_as_none_and_the_author_keeps_it() {
    let build = |message: Option<String>| {
        let mut d = doc(1);
        let mut tx = d.transaction();
        tx.put(&ROOT, "k", 1i64).unwrap();
        tx.commit_with(message, 7).unwrap();
        d
    };
    let (mut empty, mut none) = (build(Some(String::new())), build(None));
    let (ce, cn) = (empty.get_changes(&[]), none.get_changes(&[]));
    assert_eq!(ce[0].hash(), cn[0].hash());
    assert_eq!(ce[0].message(), Some(""));
    assert_eq!(cn[0].message(), None);
    assert_ne!(empty.save(), none.save());
    let decoded = Change::decode(ce[0].bytes().clone()).unwrap();
    assert_eq!(decoded.message(), None);
    let (mut from_bytes, mut in_process, mut from_none) = (doc(2), doc(2), doc(2));
    from_bytes.apply_changes([decoded]).unwrap();
    in_process.apply_changes(ce).unwrap();
    from_none.apply_changes(cn).unwrap();
    assert_eq!(from_bytes.save(), from_none.save());
    assert_ne!(in_process.save(), from_none.save());
    // The author's save loads with its "" and saves it again.
    let saved = empty.save();
    assert_eq!(Document::load(&saved).unwrap().save(), saved);
    let with = build(Some("m".into()));
    assert_eq!(with.get_changes(&[])[0].message(), Some("m"));
}

#[test]
fn invalid_change_is_rejected_and_leaves_doc_unchanged() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "abc").unwrap();
    let good = a.get_changes(&[]);
    let mut b = doc(2);
    b.apply_changes(good.clone()).unwrap();
    // A change by actor 3 that puts into an object nobody created.
    let (ok, mut bad_parts): (Change, ChangeParts) = {
        let mut c = doc(3);
        c.merge(&b).unwrap();
        c.splice_text(&t, 0, 0, "z").unwrap();
        c.splice_text(&t, 0, 0, "y").unwrap();
        let new = c.get_changes(&b.heads());
        (new[0].clone(), new[1].to_parts())
    };
    bad_parts.ops[0].obj = ObjId::Op(converge_encoding::OpId::new(77, 0));
    let bad = Change::from_parts(bad_parts).unwrap();
    let before = (b.heads(), b.value_tree(&ROOT).unwrap(), b.max_op());
    // the good change first, then the bad one: the batch is undone as a whole
    let err = b.apply_changes([ok.clone(), bad]).unwrap_err();
    assert!(matches!(err, DocError::UnknownObject { .. }), "{err:?}");
    assert_eq!(
        (b.heads(), b.value_tree(&ROOT).unwrap(), b.max_op()),
        before
    );
    b.apply_changes([ok]).unwrap();
    assert_eq!(b.text(&t).unwrap(), "zabc");
}

/// A pred must be an op at the same place: a put on one key naming an op of another key
/// (which automerge 0.12 panics on, and which no document chunk can write), a set on one
/// list element naming another element's op, and an insert with a pred are refused, and so
/// is a deletion of nothing (which a document chunk cannot write either); the document is
/// left as it was.
#[test]
fn a_pred_at_another_place_or_a_deletion_of_nothing_is_refused() {
    use converge_doc::InvalidOpReason;
    use converge_encoding::{ElemId, Key, OpId};
    let mut a = doc(1);
    a.put(&ROOT, "x", 1i64).unwrap();
    let list = a.put_object(&ROOT, "l", ObjType::List).unwrap();
    a.insert(&list, 0, 1i64).unwrap();
    a.insert(&list, 1, 2i64).unwrap();
    let base = a.get_changes(&[]);
    let mut c = doc(3);
    c.apply_changes(base.clone()).unwrap();
    c.put(&ROOT, "y", 2i64).unwrap();
    c.put(&list, 1, 3i64).unwrap();
    c.insert(&list, 0, 4i64).unwrap();
    let new = c.get_changes(&a.heads());
    let (put_y, put_elem, insert) = (new[0].to_parts(), new[1].to_parts(), new[2].to_parts());
    // x was put by op 1@actor1 (index 1 in the change's table: itself is 0).
    let x = OpId::new(1, 1);
    let mut bad = Vec::new();
    let actor_1 = base[0].actor().clone();
    let mut p = put_y.clone();
    p.other_actors = vec![actor_1.clone()];
    p.ops[0].pred = vec![x];
    bad.push(p);
    // The put on element 1 names element 0's insert op instead.
    let mut p = put_elem.clone();
    let Key::Seq(ElemId::Op(elem)) = p.ops[0].key else {
        panic!("a list put")
    };
    p.ops[0].pred = vec![OpId::new(elem.counter - 1, elem.actor)];
    bad.push(p);
    let mut p = insert.clone();
    p.other_actors = vec![actor_1];
    p.ops[0].pred = vec![x];
    bad.push(p);
    // A deletion of nothing: a put's place, its pred taken away.
    let mut p = put_y.clone();
    p.ops[0].action = converge_encoding::Action::Del;
    p.ops[0].value = ScalarValue::Null;
    p.ops[0].pred = vec![];
    bad.push(p);
    for (n, parts) in bad.into_iter().enumerate() {
        // The valid changes before it first (the bad one depends on them).
        let mut b = doc(2);
        let before_it = [0, 1, 2, 0][n];
        b.apply_changes(base.iter().chain(&new[..before_it]).cloned())
            .unwrap();
        let before = (b.heads(), b.save(), b.max_op());
        let change = Change::from_parts(parts).unwrap();
        let err = b
            .apply_changes([change])
            .expect_err(&format!("variant {n}"));
        let expected = if n == 3 {
            InvalidOpReason::DeleteWithoutPred
        } else {
            InvalidOpReason::PredElsewhere
        };
        assert!(
            matches!(err, DocError::InvalidOp { reason, .. } if reason == expected),
            "{err:?}"
        );
        assert!((b.heads(), b.save(), b.max_op()) == before);
    }
    // The changes as made apply.
    let mut b = doc(2);
    b.apply_changes(base).unwrap();
    b.apply_changes(new).unwrap();
}

/// A change whose ops do not come after its deps' (an empty change claiming counters its
/// deps used, or ops below them) is refused: no document chunk can hold it (automerge 0.12
/// applies it, then cannot load its own save).
#[test]
fn a_change_starting_below_its_deps_is_refused() {
    let mut a = doc(1);
    for i in 0..5i64 {
        a.put(&ROOT, "k", i).unwrap();
    }
    let mut b = doc(2);
    b.apply_changes(a.get_changes(&[])).unwrap();
    let before = (b.heads(), b.save(), b.max_op());
    for (start_op, ops) in [(3u64, 0usize), (5, 0), (2, 1)] {
        let parts = ChangeParts {
            actor: converge_encoding::ActorId::from_bytes(&[9; 16]),
            seq: 1,
            start_op,
            time: 0,
            message: None,
            deps: a.heads(),
            other_actors: vec![],
            ops: (0..ops)
                .map(|_| converge_encoding::ChangeOp {
                    obj: ObjId::Root,
                    key: converge_encoding::Key::Map("other".into()),
                    insert: false,
                    action: converge_encoding::Action::Set,
                    value: ScalarValue::Int(1),
                    pred: vec![],
                    expand: false,
                    mark_name: None,
                })
                .collect(),
            extra_bytes: vec![],
        };
        let err = b
            .apply_changes([Change::from_parts(parts).unwrap()])
            .unwrap_err();
        assert!(
            matches!(err, DocError::StartOpNotAfterDeps { deps_max_op: 5, .. }),
            "{err:?}"
        );
        assert!((b.heads(), b.save(), b.max_op()) == before);
    }
}

#[test]
fn rejected_batch_restores_the_queue_and_the_history() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "abc").unwrap();
    a.splice_text(&t, 3, 0, "d").unwrap();
    a.splice_text(&t, 4, 0, "e").unwrap();
    let all = a.get_changes(&[]);
    assert_eq!(all.len(), 4);
    let mut b = doc(2);
    b.apply_changes(all[..2].iter().cloned()).unwrap();
    // The last change waits for the third.
    b.apply_changes([all[3].clone()]).unwrap();
    assert_eq!(b.missing_deps(&[]), [all[2].hash()]);
    assert_eq!(b.queued_count(), 1);
    // The third (which releases the fourth) and then an invalid change: all undone.
    let mut bad_parts = all[3].to_parts();
    bad_parts.seq = 1;
    bad_parts.actor = converge_encoding::ActorId::from_bytes(&[9; 16]);
    bad_parts.deps = vec![all[3].hash()];
    bad_parts.ops[0].obj = ObjId::Op(converge_encoding::OpId::new(77, 0));
    let bad = Change::from_parts(bad_parts).unwrap();
    let before = (b.heads(), b.text(&t).unwrap(), b.max_op(), b.change_count());
    assert!(b.apply_changes([all[2].clone(), bad]).is_err());
    assert_eq!(
        (b.heads(), b.text(&t).unwrap(), b.max_op(), b.change_count()),
        before
    );
    assert_eq!(b.missing_deps(&[]), [all[2].hash()]);
    assert_eq!(
        b.queued_change(&all[3].hash()).map(Change::hash),
        Some(all[3].hash())
    );
    assert!(b.get_change_by_hash(&all[2].hash()).is_none());
    // The history reads as before, and the third change still releases the fourth.
    assert_eq!(b.text_at(&t, &[all[1].hash()]).unwrap(), "abc");
    assert_eq!(b.text_at(&t, &[all[0].hash()]).unwrap(), "");
    b.apply_changes([all[2].clone()]).unwrap();
    assert_eq!(b.text(&t).unwrap(), "abcde");
    assert_eq!(b.heads(), a.heads());
    assert_eq!(b.queued_count(), 0);
    assert_eq!(b.get_changes(&[]), all);
    assert_eq!(b.save(), a.save());
}

/// Random concurrent edits on two replicas converge after merging both ways, and each text
/// matches a replay of its own edits.
#[test]
fn prop_two_replicas_converge() {
    fn prop(edits: Vec<(bool, u8, u8, u8)>) -> TestResult {
        let mut a = doc(1);
        let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
        let mut b = doc(2);
        b.merge(&a).unwrap();
        for (i, (on_a, pos, del, ch)) in edits.into_iter().enumerate() {
            let d = if on_a { &mut a } else { &mut b };
            let len = d.length(&t).unwrap();
            let pos = usize::from(pos) % (len + 1);
            let del = usize::from(del % 3).min(len - pos);
            let s = char::from(b'a' + ch % 26).to_string();
            d.splice_text(&t, pos, del, &s).unwrap();
            if i % 5 == 4 {
                a.merge(&b).unwrap();
            }
        }
        a.merge(&b).unwrap();
        b.merge(&a).unwrap();
        TestResult::from_bool(
            a.text(&t).unwrap() == b.text(&t).unwrap()
                && a.heads() == b.heads()
                && a.length(&t).unwrap() == a.text(&t).unwrap().chars().count(),
        )
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(Vec<(bool, u8, u8, u8)>) -> TestResult);
}

#[test]
fn save_load_round_trip() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "hello world").unwrap();
    a.splice_text(&t, 2, 3, "").unwrap();
    a.put(&ROOT, "c", ScalarValue::Counter(3)).unwrap();
    a.increment(&ROOT, "c", 4).unwrap();
    let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
    a.insert(&l, 0, ScalarValue::F64(1.5)).unwrap();
    a.delete(&ROOT, "c").unwrap();
    a.mark(
        &t,
        1..3,
        "b",
        ScalarValue::Bool(true),
        converge_doc::ExpandMark::Both,
    )
    .unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    b.put(&ROOT, "x", ScalarValue::Null).unwrap();
    a.merge(&b).unwrap();
    for compress in [true, false] {
        let bytes = if compress {
            a.save()
        } else {
            a.save_nocompress()
        };
        let mut loaded = converge_doc::Document::load(&bytes).unwrap();
        assert_eq!(loaded.heads(), a.heads());
        assert_eq!(
            loaded.value_tree(&ROOT).unwrap(),
            a.value_tree(&ROOT).unwrap()
        );
        assert_eq!(loaded.marks(&t).unwrap(), a.marks(&t).unwrap());
        assert_eq!(loaded.save_nocompress(), a.save_nocompress());
        assert_eq!(
            loaded
                .get_changes(&[])
                .iter()
                .map(Change::hash)
                .collect::<Vec<_>>(),
            a.get_changes(&[])
                .iter()
                .map(Change::hash)
                .collect::<Vec<_>>()
        );
        assert!(loaded.save_incremental().is_empty());
    }
    // incremental
    let mut c = doc(3);
    let base = a.save();
    c.load_incremental(&base).unwrap();
    a.put(&ROOT, "later", ScalarValue::Int(1)).unwrap();
    let inc = a.save_incremental();
    assert!(!inc.is_empty());
    assert_eq!(c.load_incremental(&inc).unwrap(), 1);
    assert_eq!(c.heads(), a.heads());
    assert!(converge_doc::Document::load(&inc).is_err());
    assert!(converge_doc::Document::load(&[1, 2, 3]).is_err());
    assert_eq!(converge_doc::Document::load(&[]).unwrap().heads(), []);
}

/// A document loaded from one saved document chunk hands those bytes on as its snapshot
/// (what a whole-document sync send writes) while it is unchanged, with queued changes after
/// them as a save has; after an edit, the snapshot is a save again.
#[test]
fn a_snapshot_of_a_loaded_document_chunk_is_the_file_until_an_edit() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "hello").unwrap();
    let file = a.save();
    let mut loaded = Document::load(&file).unwrap();
    assert_eq!(loaded.save_snapshot(), file);
    assert_eq!(loaded.clone().save_snapshot(), file);
    // An orphan (its dep is missing) is queued and follows the chunk, as in a save.
    let mut b = a.fork();
    b.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
    b.put(&ROOT, "y", ScalarValue::Int(2)).unwrap();
    let orphan = b.get_changes(&[]).pop().unwrap();
    loaded.apply_changes([orphan.clone()]).unwrap();
    let mut with_orphan = file.clone();
    with_orphan.extend_from_slice(orphan.bytes());
    assert_eq!(loaded.save_snapshot(), with_orphan);
    assert_eq!(loaded.save(), with_orphan);
    loaded.splice_text(&t, 5, 0, "!").unwrap();
    a.merge(&loaded).unwrap();
    assert_ne!(loaded.save_snapshot()[..file.len()], file[..]);
    assert_eq!(loaded.save_snapshot(), loaded.clone().save());
}

/// A snapshot (what a whole-document sync send writes, on `&self`) of a loaded file with
/// changes after its document chunk is the document's save, again after another snapshot
/// (which copies the chunk the first one kept) and after edits (which make it stale).
#[test]
fn snapshots_equal_saves_before_and_after_edits() {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    a.splice_text(&t, 0, 0, "hello").unwrap();
    let mut file = a.save();
    a.put(&ROOT, "k", ScalarValue::Int(1)).unwrap();
    file.extend(a.save_incremental());
    let mut loaded = Document::load(&file).unwrap();
    let first = loaded.save_snapshot();
    assert_eq!(loaded.save_snapshot(), first);
    assert_eq!(first, a.save());
    assert_eq!(loaded.save(), first);
    loaded.splice_text(&t, 5, 0, " world").unwrap();
    a.merge(&loaded).unwrap();
    let second = loaded.save_snapshot();
    assert_ne!(second, first);
    assert_eq!(second, a.save());
    assert_eq!(loaded.clone().save(), second);
    assert_eq!(loaded.save(), second);
}

/// Random edits on two replicas (maps, lists, counters, text), merged now and then and at
/// the end: the merged document.
fn edited_pair(edits: Vec<(bool, u8, u8, u8)>) -> converge_doc::Document {
    let mut a = doc(1);
    let t = a.put_object(&ROOT, "t", ObjType::Text).unwrap();
    let l = a.put_object(&ROOT, "l", ObjType::List).unwrap();
    a.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
    let mut b = doc(2);
    b.merge(&a).unwrap();
    for (on_a, kind, x, y) in edits {
        let d = if on_a { &mut a } else { &mut b };
        let key = format!("k{}", x % 4);
        match kind % 6 {
            0 => d
                .put(&ROOT, key.as_str(), ScalarValue::Int(i64::from(y)))
                .unwrap(),
            1 => d.delete(&ROOT, key.as_str()).unwrap(),
            2 => d.increment(&ROOT, "c", i64::from(y)).unwrap_or(()),
            3 => {
                let len = d.length(&l).unwrap();
                d.insert(
                    &l,
                    usize::from(x) % (len + 1),
                    ScalarValue::Uint(u64::from(y)),
                )
                .unwrap();
            }
            4 => {
                let len = d.length(&l).unwrap();
                if len > 0 {
                    d.delete(&l, usize::from(x) % len).unwrap();
                }
            }
            _ => {
                let len = d.length(&t).unwrap();
                let pos = usize::from(x) % (len + 1);
                let del = usize::from(y % 2).min(len - pos);
                d.splice_text(&t, pos, del, "é").unwrap();
            }
        }
        if y % 7 == 0 {
            a.merge(&b).unwrap();
        }
    }
    a.merge(&b).unwrap();
    a
}

/// Random edits on two replicas, merged: saving and loading gives the same document, and the
/// same bytes when saved again.
#[test]
fn prop_save_load_round_trip() {
    fn prop(edits: Vec<(bool, u8, u8, u8)>) -> TestResult {
        let mut a = edited_pair(edits);
        let bytes = a.save();
        let mut loaded = converge_doc::Document::load(&bytes).unwrap();
        TestResult::from_bool(
            loaded.value_tree(&ROOT).unwrap() == a.value_tree(&ROOT).unwrap()
                && loaded.heads() == a.heads()
                && loaded.save() == bytes,
        )
    }
    QuickCheck::new()
        .tests(100)
        .quickcheck(prop as fn(Vec<(bool, u8, u8, u8)>) -> TestResult);
}

/// Random edits on two replicas, merged: a bundle of every change reads back to them, and a
/// bundle of the changes after some point brings a fork at that point to the document.
#[test]
fn prop_bundles_round_trip() {
    fn prop(edits: Vec<(bool, u8, u8, u8)>, cut: u8) -> TestResult {
        let a = edited_pair(edits);
        let changes = a.get_changes(&[]);
        let hashes: Vec<_> = changes.iter().map(|c| c.hash()).collect();
        let bundle = converge_encoding::Bundle::decode(&a.bundle(&hashes).unwrap()).unwrap();
        let back: Vec<_> = bundle.changes().iter().map(|c| c.hash()).collect();
        let at = usize::from(cut) % (hashes.len() + 1);
        let mut fork = converge_doc::Document::new();
        fork.apply_changes(changes[..at].to_vec()).unwrap();
        fork.load_incremental(&a.bundle(&hashes[at..]).unwrap())
            .unwrap();
        TestResult::from_bool(
            back == hashes
                && fork.heads() == a.heads()
                && fork.value_tree(&ROOT).unwrap() == a.value_tree(&ROOT).unwrap(),
        )
    }
    QuickCheck::new()
        .tests(100)
        .quickcheck(prop as fn(Vec<(bool, u8, u8, u8)>, u8) -> TestResult);
}

/// A rolled-back transaction leaves the document byte-for-byte as it was.
#[test]
fn prop_rollback_restores_saved_bytes() {
    fn prop(setup: Vec<(u8, u8)>, edits: Vec<(u8, u8, u8)>) -> TestResult {
        let mut d = doc(1);
        let t = d.put_object(&ROOT, "t", ObjType::Text).unwrap();
        let l = d.put_object(&ROOT, "l", ObjType::List).unwrap();
        for (x, y) in setup {
            let len = d.length(&t).unwrap();
            d.splice_text(
                &t,
                usize::from(x) % (len + 1),
                0,
                &char::from(b'a' + y % 26).to_string(),
            )
            .unwrap();
        }
        let before = d.save_nocompress();
        let mut tx = d.transaction();
        for (kind, x, y) in edits {
            match kind % 4 {
                0 => {
                    let len = tx.length(&t).unwrap();
                    let pos = usize::from(x) % (len + 1);
                    let del = usize::from(y % 3).min(len - pos);
                    tx.splice_text(&t, pos, del, "xy").unwrap();
                }
                1 => tx.put(&ROOT, "k", ScalarValue::Int(i64::from(y))).unwrap(),
                2 => {
                    let len = tx.length(&l).unwrap();
                    let o = tx
                        .insert_object(&l, usize::from(x) % (len + 1), ObjType::Map)
                        .unwrap();
                    tx.put(&o, "v", ScalarValue::Int(1)).unwrap();
                }
                _ => tx.delete(&ROOT, "k").unwrap(),
            }
        }
        drop(tx); // dropping rolls back
        TestResult::from_bool(d.save_nocompress() == before)
    }
    QuickCheck::new()
        .tests(100)
        .quickcheck(prop as fn(Vec<(u8, u8)>, Vec<(u8, u8, u8)>) -> TestResult);
}

/// `merge` decodes the other document's changes one at a time, yet stays atomic: a refusal
/// after 5,000 good changes (a seq clash) leaves the document exactly as it was.
#[test]
fn a_merge_refused_after_many_changes_leaves_the_document_as_it_was() {
    let mut a = doc(1);
    a.put(&ROOT, "mine", ScalarValue::Int(1)).unwrap();
    let mut other = doc(2);
    let list = other.put_object(&ROOT, "list", ObjType::List).unwrap();
    for i in 0..5_000 {
        other.insert(&list, i, ScalarValue::Int(i as i64)).unwrap();
    }
    // Actor 1's seq 1 again, with other content: `a` holds another change with that seq.
    other.set_actor(converge_encoding::ActorId::from_bytes(&[1]));
    other.put(&ROOT, "theirs", ScalarValue::Int(2)).unwrap();
    assert_eq!(other.change_count(), 5_002);

    let (heads, tree, bytes) = (a.heads(), a.value_tree(&ROOT), a.save_nocompress());
    let err = a.merge(&other).unwrap_err();
    assert!(
        matches!(err, DocError::DuplicateSeqNumber { seq: 1, .. }),
        "{err:?}"
    );
    assert_eq!(a.heads(), heads);
    assert_eq!(a.change_count(), 1);
    assert_eq!(a.value_tree(&ROOT), tree);
    assert_eq!(a.save_nocompress(), bytes);

    // The document still takes the good changes afterwards.
    let good = other
        .fork_at(&[other.get_changes(&[])[5_000].hash()])
        .unwrap();
    a.merge(&good).unwrap();
    assert_eq!(a.change_count(), 5_002);
    assert_eq!(a.length(&list).unwrap(), 5_000);
}

/// A batch refused after good changes gives back the largest op counter those raised, so
/// the next local change starts where it would have without the batch.
#[test]
fn a_refused_batch_gives_back_the_op_counter() {
    let mut a = doc(1);
    a.put(&ROOT, "x", ScalarValue::Int(1)).unwrap();
    let untouched = a.clone();
    let mut b = doc(2);
    for i in 0..50 {
        b.put(&ROOT, "k", ScalarValue::Int(i)).unwrap();
    }
    // Actor 1's seq 1 again, after b's changes: `a` holds another change with that seq.
    b.set_actor(converge_encoding::ActorId::from_bytes(&[1]));
    b.put(&ROOT, "y", ScalarValue::Int(2)).unwrap();
    let err = a.apply_changes(b.get_changes(&[])).unwrap_err();
    assert!(
        matches!(err, DocError::DuplicateSeqNumber { seq: 1, .. }),
        "{err:?}"
    );
    assert_eq!(a.max_op(), untouched.max_op());
    let mut again = untouched.clone();
    for d in [&mut a, &mut again] {
        d.put(&ROOT, "z", ScalarValue::Int(3)).unwrap();
    }
    assert_eq!(a.heads(), again.heads());
    assert_eq!(a.save_nocompress(), again.save_nocompress());
}

/// A change of many ops (more than a remote apply holds decoded: it decodes them twice) that
/// refers to its own ops in every way an op can: objects it made, elements it inserted,
/// puts it overwrote, a counter it incremented, elements it deleted. Applied remotely, it
/// gives the value its author has; with its last op's pred moved to another place, it is
/// refused and the document is left as it was. (Changes of a few ops, which take the other
/// path, are what every other test applies.)
#[test]
fn a_change_of_many_ops_referring_to_its_own_applies_as_made() {
    use converge_doc::InvalidOpReason;
    use converge_encoding::{Key, OpId};
    // All in one change.
    let mut a = doc(1);
    {
        let mut tx = a.transaction();
        let list = tx.put_object(&ROOT, "list", ObjType::List).unwrap();
        let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
        let map = tx.put_object(&ROOT, "map", ObjType::Map).unwrap();
        for i in 0..2500usize {
            tx.insert(&list, i / 2, i as i64).unwrap();
            tx.put(&map, format!("k{}", i % 7).as_str(), i as i64)
                .unwrap();
        }
        let nested = tx.insert_object(&list, 3, ObjType::Map).unwrap();
        tx.put(&nested, "c", ScalarValue::Counter(1)).unwrap();
        tx.increment(&nested, "c", 41).unwrap();
        for i in 0..20usize {
            tx.put(&list, i, (100 + i) as i64).unwrap();
        }
        for _ in 0..10 {
            tx.delete(&list, 5).unwrap();
        }
        tx.splice_text(&text, 0, 0, "héllo wörld, twice over")
            .unwrap();
        tx.splice_text(&text, 3, 5, "").unwrap();
        tx.put(&ROOT, "last", 1i64).unwrap();
        tx.commit().unwrap();
    }
    let changes = a.get_changes(&[]);
    assert_eq!(changes.len(), 1);
    // More than the 4,096 ops an apply holds decoded (`apply.rs`, `HELD_OPS`).
    assert!(changes[0].num_ops() > 4096, "{}", changes[0].num_ops());
    let mut b = doc(2);
    b.apply_changes(changes.clone()).unwrap();
    assert_eq!(b.value_tree(&ROOT), a.value_tree(&ROOT));
    assert_eq!(b.save(), a.save());

    // The last op (the put of "last") given a pred at another place, an op of the change: the
    // whole change is refused, and a document that had other changes keeps them as they were.
    let mut parts = changes[0].to_parts();
    let last = parts.ops.len() - 1;
    assert_eq!(parts.ops[last].key, Key::Map("last".into()));
    parts.ops[last].pred = vec![OpId::new(parts.start_op as u32, 0)];
    let bad = Change::from_parts(parts).unwrap();
    let mut d = doc(3);
    d.put(&ROOT, "mine", 1i64).unwrap();
    let before = (d.heads(), d.save(), d.max_op());
    let err = d.apply_changes([bad]).unwrap_err();
    assert!(
        matches!(
            err,
            DocError::InvalidOp {
                reason: InvalidOpReason::PredElsewhere,
                ..
            }
        ),
        "{err:?}"
    );
    assert!((d.heads(), d.save(), d.max_op()) == before);
    d.apply_changes(changes).unwrap();
    assert_eq!(
        d.get(&ROOT, "last").unwrap().map(|v| v.value),
        a.get(&ROOT, "last").unwrap().map(|v| v.value)
    );
}
