//! Many concurrent ops at one place, against the oracle: peers who each put one map key,
//! one list element and one counter hundreds of times while apart, and typed or inserted
//! thousands of elements at the same place of a list and a text, their changes then applied
//! to a converge document and to automerge 0.12 in random groupings.
//!
//! These are the shapes where a remote op joins the middle of a long group (the ops of one
//! key or element, ascending by id) or of a long run of concurrent elements (an element
//! inserted where the other peer inserted many with later counters): converge makes those
//! ops wait and merges them in once per change or batch, and passes over whole chunks of
//! the sequence index by their least counters. The values, every conflict, the counters and
//! the heads must come out as automerge's, and as converge's own load of the saved result.
//!
//! `CONVERGE_ORACLE_SEEDS=A..B` runs other seeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

#[path = "doc_tree/mod.rs"]
mod doc_tree;

use automerge::Automerge;
use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::{ActorId, Change, ScalarValue};
use doc_tree::{first_diff, oracle_heads, oracle_tree, ours_heads, ours_tree};
use support::{SplitMix64, apply_both, apply_in_random_groups, new_changes, sweep};

/// The common start: a key, a counter, a list of three and a text of eight characters.
fn base() -> (Document, ExId, ExId) {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x01; 16]));
    let mut tx = doc.transaction();
    tx.put(&ROOT, "k", ScalarValue::Int(0)).unwrap();
    tx.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
    let list = tx.put_object(&ROOT, "l", ObjType::List).unwrap();
    for i in 0..3 {
        tx.insert(&list, i, ScalarValue::Int(i as i64)).unwrap();
    }
    let text = tx.put_object(&ROOT, "t", ObjType::Text).unwrap();
    tx.splice_text(&text, 0, 0, "abcdefgh").unwrap();
    tx.commit().unwrap();
    (doc, list, text)
}

/// One peer's edits while apart: `edits` of them, at the crowded places (60 % of them of
/// kind `focus`), committed every few. With `long`, they are inserts at the start of the list and the text (thousands of
/// elements, so that whole chunks and blocks of the index are passed over).
fn edit(
    doc: &mut Document,
    list: &ExId,
    text: &ExId,
    rng: &mut SplitMix64,
    edits: usize,
    long: bool,
    focus: usize,
) {
    let mut tx = doc.transaction();
    let mut in_change = 0;
    let per_change = *rng.pick(&[1usize, 3, 20, 1000]);
    for i in 0..edits {
        if in_change >= per_change {
            tx.commit().unwrap();
            tx = doc.transaction();
            in_change = 0;
        }
        in_change += 1;
        let kind = if long {
            4 + rng.below(3)
        } else if rng.percent(60) {
            focus
        } else if matches!(focus, 3 | 8) {
            // Nothing that moves the element the puts go to.
            *rng.pick(&[0, 2, 9])
        } else {
            rng.below(10)
        };
        let value = ScalarValue::Int(i as i64);
        match kind {
            0 | 1 => tx.put(&ROOT, "k", value).unwrap(),
            2 => tx.increment(&ROOT, "c", 1 + rng.below(5) as i64).unwrap(),
            3 => {
                let len = tx.length(list).unwrap();
                tx.put(list, rng.below(len.min(2)), value).unwrap();
            }
            4 => tx.insert(list, 0, value).unwrap(),
            5 => {
                let len = tx.length(list).unwrap();
                tx.insert(list, len.min(2), value).unwrap();
            }
            6 => {
                let len = tx.length(text).unwrap();
                tx.splice_text(text, rng.below(len.min(2) + 1), 0, "x")
                    .unwrap();
            }
            7 => {
                let len = tx.length(list).unwrap();
                if len > 3 {
                    tx.delete(list, rng.below(len)).unwrap();
                }
            }
            8 => {
                // A character put over again, with strings of other widths: the text's
                // length follows the winner.
                let s = *rng.pick(&["x", "yy", "zzz", ""]);
                if tx.length(text).unwrap() > 0 {
                    tx.put(text, 0, ScalarValue::Str(s.into())).unwrap();
                }
            }
            _ => {
                // A put whose value is an object, conflicting with the scalars.
                tx.put_object(&ROOT, "k", ObjType::Map).unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn check_seed(seed: u64) {
    let mut rng = SplitMix64::new(seed ^ 0x00c0_ffee);
    let (mut base, list, text) = base();
    let long = seed % 4 == 3;
    let peers = 2 + rng.below(2);
    // Most of the short seeds' edits go to one place: a map key, a counter, a list element
    // or a text character.
    let focus = [0, 2, 3, 8][(seed / 4 % 4) as usize];
    let mut changes: Vec<Vec<u8>> = Vec::new();
    for p in 0..peers {
        let mut doc = base.fork();
        doc.set_actor(ActorId::from_bytes(&[0x10 + p as u8; 16]));
        let edits = if long {
            rng.range(8000, 14000)
        } else {
            rng.range(80, 400)
        };
        edit(&mut doc, &list, &text, &mut rng, edits, long, focus);
        changes.extend(new_changes(&doc, &base));
    }
    // The peers' changes, each peer's in order, peers after one another: applied in one
    // batch, or in random groups.
    let mut ours = base.fork();
    let mut theirs = Automerge::load(&base.save()).unwrap();
    apply_in_random_groups(&mut ours, &mut theirs, &changes, &mut rng, 30, 50);
    assert_eq!(
        ours_heads(&ours.heads()),
        oracle_heads(&theirs.get_heads()),
        "seed {seed}: heads"
    );
    let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(a == b, "seed {seed}: {}", first_diff(&a, &b));
    let loaded = Document::load(&ours.save()).unwrap();
    let c = ours_tree(&loaded, None);
    assert!(
        a == c,
        "seed {seed}: applied vs loaded: {}",
        first_diff(&a, &c)
    );
    // A local edit after the merge lands where automerge puts it.
    let mut tx = ours.transaction();
    tx.put(&ROOT, "k", ScalarValue::Str("after".into()))
        .unwrap();
    tx.increment(&ROOT, "c", 7).unwrap();
    tx.put(&list, 0, ScalarValue::Str("after".into())).unwrap();
    tx.commit().unwrap();
    let last = ours.get_last_local_change().unwrap();
    theirs
        .apply_changes([automerge::Change::try_from(last.bytes().as_ref()).unwrap()])
        .unwrap();
    let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(
        a == b,
        "seed {seed}, after a local edit: {}",
        first_diff(&a, &b)
    );
}

#[test]
fn crowded_places_merge_as_automerge_merges_them() {
    for seed in sweep(16) {
        check_seed(seed);
    }
}

/// One peer puts the first element of a list over and over and then deletes it; the
/// other, meanwhile, puts the same element over and over in one change, whose ops join the
/// middle of the element's long group and so wait to be merged in at the change's end. The
/// element stays (a put concurrent with a deletion keeps it), though every op already in
/// its group is hidden: only the waiting ones show it, and its width must count them.
#[test]
fn an_element_shown_only_by_waiting_puts_stays() {
    let (mut base, list, _) = base();
    let mut a = base.fork();
    let mut b = base.fork();
    a.set_actor(ActorId::from_bytes(&[0x21; 16]));
    b.set_actor(ActorId::from_bytes(&[0x22; 16]));
    let mut tx = a.transaction();
    for i in 0..100 {
        tx.put(&list, 0, ScalarValue::Int(i)).unwrap();
    }
    tx.delete(&list, 0).unwrap();
    tx.commit().unwrap();
    let mut tx = b.transaction();
    for i in 0..130 {
        tx.put(&list, 0, ScalarValue::Int(1000 + i)).unwrap();
    }
    tx.commit().unwrap();
    let mut theirs = Automerge::load(&base.save()).unwrap();
    let mut ours = base.fork();
    for doc in [&a, &b] {
        apply_both(&mut ours, &mut theirs, &new_changes(doc, &base));
    }
    assert_eq!(ours.length(&list).unwrap(), 3);
    let (x, y) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(x == y, "{}", first_diff(&x, &y));
}

/// Twenty peers each put the same map key and the same list element once while apart; then
/// one peer puts over all twenty values of the key and deletes the element (an op with more
/// preds than are taken out of the visible list one by one).
#[test]
fn one_op_over_many_concurrent_values() {
    let (mut base, list, _) = base();
    let mut theirs = Automerge::load(&base.save()).unwrap();
    let mut ours = base.fork();
    ours.set_actor(ActorId::from_bytes(&[0x7f; 16]));
    let mut changes = Vec::new();
    for p in 0..20u8 {
        let mut doc = base.fork();
        doc.set_actor(ActorId::from_bytes(&[0x30 + p; 16]));
        let mut tx = doc.transaction();
        // Not the base's values: a put of the value a key already shows makes no op.
        tx.put(&ROOT, "k", ScalarValue::Int(100 + i64::from(p)))
            .unwrap();
        tx.put(&list, 1, ScalarValue::Int(100 + i64::from(p)))
            .unwrap();
        tx.increment(&ROOT, "c", i64::from(p)).unwrap();
        tx.commit().unwrap();
        changes.extend(new_changes(&doc, &base));
    }
    apply_both(&mut ours, &mut theirs, &changes);
    assert_eq!(ours.get_all(&ROOT, "k").unwrap().len(), 20);
    let mut tx = ours.transaction();
    tx.put(&ROOT, "k", ScalarValue::Str("over all".into()))
        .unwrap();
    tx.delete(&list, 1).unwrap();
    tx.commit().unwrap();
    let last = ours.get_last_local_change().unwrap();
    assert!(last.ops().all(|op| op.pred.len() == 20));
    a_apply(&mut theirs, last.bytes());
    assert_eq!(ours.get_all(&ROOT, "k").unwrap().len(), 1);
    assert_eq!(ours.length(&list).unwrap(), 2);
    let (x, y) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(x == y, "{}", first_diff(&x, &y));
    // The same change received: the preds hidden as a batch there too.
    let mut other = base.fork();
    other
        .apply_changes(
            changes
                .iter()
                .map(|c| Change::decode(c.clone().into()).unwrap()),
        )
        .unwrap();
    other.apply_changes([last]).unwrap();
    let z = ours_tree(&other, None);
    assert!(x == z, "{}", first_diff(&x, &z));
}

#[test]
fn many_actors_inserting_at_one_place_land_as_automerge_puts_them() {
    // 600 actors, each one change: an element at the list's start and two characters at the
    // text's start. Their ops share counters, so the order among them is the actors' (the
    // chunks of the sequence index are passed over by their least elements). Applied in
    // random groups, some one by one, against the oracle; then local inserts there.
    let (mut base, list, text) = base();
    let mut theirs = Automerge::load(&base.save()).unwrap();
    let mut ours = base.fork();
    ours.set_actor(ActorId::from_bytes(&[0xfe; 16]));
    let mut rng = SplitMix64::new(0x00ac_7025);
    let mut changes = Vec::new();
    for p in 0..600u32 {
        let mut doc = base.fork();
        let mut actor = [0u8; 16];
        actor[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        actor[8..12].copy_from_slice(&p.to_le_bytes());
        doc.set_actor(ActorId::from_bytes(&actor));
        let mut tx = doc.transaction();
        tx.insert(&list, 0, ScalarValue::Int(i64::from(p))).unwrap();
        tx.splice_text(&text, 0, 0, "xy").unwrap();
        tx.commit().unwrap();
        changes.extend(new_changes(&doc, &base));
    }
    let mut rest = &changes[..];
    while !rest.is_empty() {
        let n = if rng.percent(50) {
            1
        } else {
            1 + rng.below(rest.len().min(120))
        };
        let (group, after) = rest.split_at(n);
        rest = after;
        apply_both(&mut ours, &mut theirs, group);
    }
    let (x, y) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(x == y, "{}", first_diff(&x, &y));
    let mut tx = ours.transaction();
    tx.insert(&list, 0, ScalarValue::Str("first".into()))
        .unwrap();
    tx.insert(&list, 300, ScalarValue::Str("middle".into()))
        .unwrap();
    tx.splice_text(&text, 1, 0, "!").unwrap();
    tx.commit().unwrap();
    a_apply(&mut theirs, ours.get_last_local_change().unwrap().bytes());
    let (x, y) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(x == y, "after local inserts: {}", first_diff(&x, &y));
}

fn a_apply(doc: &mut Automerge, bytes: &[u8]) {
    doc.apply_changes([automerge::Change::try_from(bytes).unwrap()])
        .unwrap();
}
