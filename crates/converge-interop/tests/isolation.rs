//! `AutoCommit::isolate` against automerge 0.12's, where the two differ on purpose: an
//! isolated insert next to a mark that a change beyond the isolation heads made. automerge
//! anchors the insert on that mark's op, which its change's deps do not hold, so a peer that
//! has only the deps panics applying it; converge anchors it on the element its view shows,
//! and its change applies on such a peer, converge's or automerge's. (The random sessions
//! of `doc_oracle.rs`, `autocommit_sessions_match_the_oracle`, compare isolated edits byte
//! for byte everywhere else.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_doc::{AutoCommit, ExpandMark, ObjType, ROOT};
use converge_encoding::{ActorId, Change, ChangeHash, Key};

const ACTOR: [u8; 16] = [0xab; 16];

/// The elements the ops of `change` insert after.
fn anchors(change: &Change) -> Vec<Key> {
    change
        .ops()
        .filter(|op| op.insert)
        .map(|op| op.key)
        .collect()
}

#[test]
fn isolated_inserts_anchor_on_seen_elements() {
    // The same history on both sides: "hello", then a mark over "el" that does not expand.
    let mut ours = AutoCommit::with_actor(ActorId::from_bytes(&ACTOR));
    let mut theirs = automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&ACTOR[..]));
    let text = ours.put_object(&ROOT, "t", ObjType::Text).unwrap();
    let t = theirs
        .put_object(automerge::ROOT, "t", automerge::ObjType::Text)
        .unwrap();
    ours.splice_text(&text, 0, 0, "hello").unwrap();
    theirs.splice_text(&t, 0, 0, "hello").unwrap();
    let h1 = ours.commit().unwrap().unwrap();
    assert_eq!(theirs.commit().unwrap().0, h1.0);
    ours.mark(&text, 1..3, "bold", true.into(), ExpandMark::None)
        .unwrap();
    theirs
        .mark(
            &t,
            automerge::marks::Mark::new("bold".into(), true, 1, 3),
            automerge::marks::ExpandMark::None,
        )
        .unwrap();
    assert_eq!(
        ours.commit().unwrap().unwrap().0,
        theirs.commit().unwrap().0
    );

    // Both isolate at "hello" and type "X" after "hel".
    ours.isolate(&[h1]).unwrap();
    theirs.isolate(&[automerge::ChangeHash(h1.0)]);
    assert_eq!(ours.text(&text).unwrap(), "hello");
    assert_eq!(theirs.text(&t).unwrap(), "hello");
    ours.splice_text(&text, 3, 0, "X").unwrap();
    theirs.splice_text(&t, 3, 0, "X").unwrap();
    let a = ours.commit().unwrap().unwrap();
    let b = theirs.commit().unwrap();
    let ours_change = ours.get_change_by_hash(&a).unwrap();
    let theirs_change = Change::decode(
        theirs
            .get_change_by_hash(&b)
            .unwrap()
            .raw_bytes()
            .to_vec()
            .into(),
    )
    .unwrap();
    assert_eq!(ours_change.deps(), &[h1][..]);
    assert_eq!(theirs_change.deps(), &[h1][..]);
    // Both are made by an actor derived from ACTOR (whose last change is not under h1),
    // ACTOR being the change's other actor, 1. converge anchors on the first "l" (op 4:
    // the text is op 1, "hello" ops 2-6); automerge on the mark's end (op 8: the mark is
    // ops 7 and 8), which the change's dep does not hold.
    assert_eq!(ours_change.actor(), theirs_change.actor());
    let elem = |c: u32| {
        Key::Seq(converge_encoding::ElemId::Op(converge_encoding::OpId::new(
            c, 1,
        )))
    };
    assert_eq!(anchors(&ours_change), vec![elem(4)]);
    assert_eq!(anchors(&theirs_change), vec![elem(8)]);

    // A peer holding the dep only: automerge's change breaks it, converge's applies.
    let peer_at = |doc: &mut automerge::AutoCommit| {
        let mut peer = doc.fork_at(&[automerge::ChangeHash(h1.0)]).unwrap();
        peer.set_actor(automerge::ActorId::from(&[0xcd; 16][..]));
        peer
    };
    let broken = support::quietly(|| {
        let mut peer = peer_at(&mut theirs);
        let change = automerge::Change::from_bytes(theirs_change.bytes().to_vec()).unwrap();
        peer.apply_changes([change])
    });
    assert!(
        !matches!(broken, Ok(Ok(()))),
        "automerge applied its own change: {broken:?}"
    );
    let mut peer = peer_at(&mut theirs);
    let change = automerge::Change::from_bytes(ours_change.bytes().to_vec()).unwrap();
    peer.apply_changes([change]).unwrap();
    assert_eq!(peer.text(&t).unwrap(), "helXlo");
    let reloaded = automerge::AutoCommit::load(&peer.save()).unwrap();
    assert_eq!(reloaded.text(&t).unwrap(), "helXlo");
    let mut converge_peer = ours.fork_at(&[h1]).unwrap();
    converge_peer.apply_changes([ours_change]).unwrap();
    assert_eq!(converge_peer.text(&text).unwrap(), "helXlo");

    // Integrated, converge's document holds both branches and loads in automerge.
    ours.integrate().unwrap();
    assert_eq!(ours.text(&text).unwrap(), "helXlo");
    let mut loaded = automerge::AutoCommit::load(&ours.save()).unwrap();
    assert_eq!(loaded.text(&t).unwrap(), "helXlo");
    let heads: Vec<[u8; 32]> = ours.heads().iter().map(|h: &ChangeHash| h.0).collect();
    let mut theirs_heads: Vec<[u8; 32]> = loaded.get_heads().iter().map(|h| h.0).collect();
    theirs_heads.sort();
    let mut heads = heads;
    heads.sort();
    assert_eq!(heads, theirs_heads);
}

/// `Document::transaction_at` against automerge's `Automerge::transaction_at`, on the seeded
/// histories of `support`: at a random change (and sometimes at the heads), a few puts to
/// the root map and characters typed into a text the heads hold, committed with a time; the
/// change is automerge's byte for byte, and so is the save after it. Where the actor's last
/// change lies beyond the heads without ops, or a text there has marks made beyond them, the
/// two differ on purpose (see `AutoCommit::isolate`): those draws are skipped.
#[test]
fn transactions_at_heads_match_the_oracle() {
    use support::{SplitMix64, sweep};
    let (mut compared, mut derived) = (0, 0);
    for seed in sweep(150) {
        let actor = ActorId::from_bytes(&[0x5e; 16]);
        let (mut ours, mut theirs) = support::loaded_pair(seed, actor.as_bytes());
        let changes = ours.get_changes(&[]);
        if changes.is_empty() {
            continue;
        }
        let mut rng = SplitMix64::new(seed ^ 0x15_0a7e);
        for round in 0..3 {
            let changes = ours.get_changes(&[]);
            let heads = if rng.percent(20) {
                ours.heads()
            } else {
                vec![changes[rng.below(changes.len())].hash()]
            };
            // Skipped: marks beyond the heads (automerge anchors inserts on them).
            let beyond = ours.get_changes(&heads);
            let marked = beyond.iter().any(|c| {
                c.ops()
                    .any(|op| op.action == converge_encoding::Action::Mark)
            });
            let theirs_heads: Vec<automerge::ChangeHash> =
                heads.iter().map(|h| automerge::ChangeHash(h.0)).collect();
            let mut a = ours.transaction_at(&heads).expect("transaction_at");
            let mut b = theirs
                .transaction_at(automerge::PatchLog::inactive(), &theirs_heads)
                .expect("oracle transaction_at");
            let texts: Vec<(converge_doc::ExId, automerge::ObjId)> = a
                .keys(&ROOT)
                .expect("keys")
                .into_iter()
                .filter_map(|k| {
                    let v = a.get(&ROOT, k.as_str()).ok().flatten()?;
                    let (tv, tid) = b.get(automerge::ROOT, k.as_str()).ok().flatten()?;
                    match (v.value, tv) {
                        (
                            converge_doc::Value::Object(ObjType::Text, id),
                            automerge::Value::Object(automerge::ObjType::Text),
                        ) => Some((id, tid)),
                        _ => None,
                    }
                })
                .collect();
            for _ in 0..rng.range(1, 6) {
                if !texts.is_empty() && !marked && rng.percent(50) {
                    let (t, tt) = &texts[rng.below(texts.len())];
                    let len = a.length(t).expect("length");
                    assert_eq!(len, b.length(tt), "seed {seed}: length at heads");
                    let at = rng.below(len + 1);
                    let del = rng.below(len - at + 1).min(2);
                    a.splice_text(t, at, del, "añ").expect("splice");
                    b.splice_text(tt, at, del as isize, "añ")
                        .expect("oracle splice");
                } else {
                    let key = ["a", "b", "n", "ключ"][rng.below(4)];
                    let value = rng.below(100) as i64;
                    a.put(&ROOT, key, value).expect("put");
                    b.put(automerge::ROOT, key, value).expect("oracle put");
                }
            }
            let time = 1_700_000_000 + round;
            let ha = a
                .commit_with(Some(format!("at {round}")), time)
                .expect("commit");
            let (hb, _) = b.commit_with(
                automerge::transaction::CommitOptions::default()
                    .with_message(format!("at {round}"))
                    .with_time(time),
            );
            assert_eq!(
                ha.map(|h| h.0),
                hb.map(|h| h.0),
                "seed {seed} round {round}"
            );
            if let Some(h) = ha {
                let change = ours.get_change_by_hash(&h).expect("applied");
                derived += usize::from(change.actor() != &actor);
                assert_eq!(change.deps(), {
                    let mut d = heads.clone();
                    d.sort();
                    d
                });
            }
            assert!(
                ours.save() == theirs.save(),
                "seed {seed} round {round}: save"
            );
            compared += 1;
        }
    }
    println!("{compared} transactions at heads compared ({derived} by a derived actor)");
    assert!(compared > 300);
}
