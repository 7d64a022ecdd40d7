//! Authors (automerge 0.12's `Author`): free-form bytes named by an author footer in the extra
//! bytes of an actor's first change. Local changes carry it as the reference writes it, the
//! author queries agree with the reference's, and incoming changes that break its rules (a
//! second author for an actor, a footer on a later change) are refused as the reference
//! refuses them, leaving the document as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::Transactable;
use converge_doc::{DocError, Document, ROOT};
use converge_encoding::{
    Action, ActorId, Author, Change, ChangeHash, ChangeOp, ChangeParts, Key, ObjId, ScalarValue,
};

const ACTOR: [u8; 16] = [0xa1; 16];

fn oracle_author(a: &Author) -> automerge::Author<'static> {
    automerge::Author::from(a.as_bytes().to_vec())
}

/// A one-op change of actor `actor`, with `extra` as its extra bytes.
fn change(actor: &[u8], seq: u64, deps: Vec<ChangeHash>, extra: Vec<u8>) -> Change {
    Change::from_parts(ChangeParts {
        actor: ActorId::from_bytes(actor),
        seq,
        start_op: seq,
        time: 0,
        message: None,
        deps,
        other_actors: vec![],
        ops: vec![ChangeOp {
            obj: ObjId::Root,
            key: Key::Map("k".into()),
            insert: false,
            action: Action::Set,
            value: ScalarValue::Int(seq as i64),
            pred: vec![],
            expand: false,
            mark_name: None,
        }],
        extra_bytes: extra,
    })
    .unwrap()
}

fn to_oracle(c: &Change) -> automerge::Change {
    automerge::Change::try_from(c.bytes().as_ref()).unwrap()
}

/// The oracle's verdict on applying `batch` to a document holding `base`: `Ok(heads)`,
/// `Err(message)`, or `Err("panic")`.
fn oracle_apply(base: &[Change], batch: &[Change]) -> Result<usize, String> {
    let base: Vec<automerge::Change> = base.iter().map(to_oracle).collect();
    let batch: Vec<automerge::Change> = batch.iter().map(to_oracle).collect();
    std::panic::catch_unwind(move || {
        let mut doc = automerge::Automerge::new();
        doc.apply_changes(base).unwrap();
        doc.apply_changes(batch)
            .map(|()| doc.get_changes(&[]).len())
            .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("panic".into()))
}

#[test]
fn local_authored_changes_match_the_oracle() {
    let alice = Author::from(b"alice".to_vec());
    let mut ours = Document::new();
    ours.set_author(Some(alice.clone()));
    assert_eq!(ours.author(), Some(&alice));
    ours.set_actor(ActorId::from_bytes(&ACTOR));
    let mut oracle = automerge::AutoCommit::new();
    oracle.set_author(Some(oracle_author(&alice)));
    oracle.set_actor(automerge::ActorId::from(ACTOR));
    for i in 0..3i64 {
        ours.put(&ROOT, "k", i).unwrap();
        oracle.put(automerge::ROOT, "k", i).unwrap();
        oracle.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    }
    let theirs: Vec<Vec<u8>> = oracle
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let mine: Vec<Vec<u8>> = ours
        .get_changes(&[])
        .iter()
        .map(|c| c.bytes().to_vec())
        .collect();
    assert_eq!(mine, theirs, "change chunks differ");
    let first = ours.get_changes(&[])[0].clone();
    assert_eq!(first.author(), Some(alice.clone()));
    assert_eq!(ours.get_changes(&[])[1].author(), None);
    assert_eq!(ours.save_nocompress(), oracle.save_nocompress());

    // A peer of each kind sees the author of the actor, after applying and after loading.
    let actor = ActorId::from_bytes(&ACTOR);
    let mut peer = Document::new();
    peer.apply_changes(ours.get_changes(&[])).unwrap();
    let loaded = Document::load(&oracle.save()).unwrap();
    for doc in [&ours, &peer, &loaded] {
        assert_eq!(doc.author_for_actor(&actor), Some(alice.clone()));
        assert_eq!(doc.authors(), vec![alice.clone()]);
        assert_eq!(doc.actors_for_author(&alice), vec![actor.clone()]);
    }
    let oracle_peer = automerge::Automerge::load(&ours.save()).unwrap();
    assert_eq!(
        oracle_peer
            .get_author_for_actor(&automerge::ActorId::from(ACTOR))
            .map(|a| a.as_bytes().to_vec()),
        Some(b"alice".to_vec())
    );

    // Changing the author changes the actor: the new actor's first change names the new
    // author, the old actor keeps the old one.
    let bob = Author::from(b"bob".to_vec());
    ours.set_author(Some(bob.clone()));
    assert_ne!(ours.actor(), &actor);
    ours.put(&ROOT, "k", 9).unwrap();
    let last = ours.get_changes(&[]).pop().unwrap();
    assert_eq!((last.seq(), last.author()), (1, Some(bob.clone())));
    assert_eq!(ours.authors(), vec![alice.clone(), bob.clone()]);
    assert_eq!(ours.author_for_actor(&actor), Some(alice));
    // Setting the same author again keeps the actor.
    let now = ours.actor().clone();
    ours.set_author(Some(bob));
    assert_eq!(ours.actor(), &now);
}

#[test]
fn forks_of_an_authored_document_name_the_author_like_the_oracle() {
    let alice = Author::from(b"alice".to_vec());
    let mut ours = Document::with_actor(ActorId::from_bytes(&ACTOR));
    ours.set_author(Some(alice.clone()));
    ours.set_actor(ActorId::from_bytes(&ACTOR));
    ours.put(&ROOT, "a", 1).unwrap();
    let mut fork = ours.fork();
    fork.set_actor(ActorId::from_bytes(&[0xb2; 16]));
    fork.put(&ROOT, "b", 2).unwrap();
    let mut oracle = automerge::AutoCommit::new();
    oracle.set_author(Some(oracle_author(&alice)));
    oracle.set_actor(automerge::ActorId::from(ACTOR));
    oracle.put(automerge::ROOT, "a", 1).unwrap();
    oracle.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    let mut oracle_fork = oracle.fork();
    oracle_fork.set_actor(automerge::ActorId::from([0xb2; 16]));
    oracle_fork.put(automerge::ROOT, "b", 2).unwrap();
    oracle_fork.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    assert_eq!(fork.save_nocompress(), oracle_fork.save_nocompress());
    assert_eq!(
        fork.actors_for_author(&alice),
        vec![
            ActorId::from_bytes(&ACTOR),
            ActorId::from_bytes(&[0xb2; 16])
        ]
    );
}

#[test]
fn incoming_changes_break_the_author_rules_as_in_the_oracle() {
    let a = |n: u8| Author::from(vec![n; 3]).footer();
    let one = change(&ACTOR, 1, vec![], a(1));
    let two_plain = change(&ACTOR, 2, vec![one.hash()], vec![]);
    let two_authored = change(&ACTOR, 2, vec![one.hash()], a(2));
    let three_authored = change(&ACTOR, 3, vec![two_plain.hash()], a(2));
    let unauthored_one = change(&[0xc3; 16], 1, vec![], vec![]);
    let later_first = change(&[0xc3; 16], 2, vec![unauthored_one.hash()], a(4));
    // An orphan (its dep never arrives) whose actor's first change names an author.
    let orphan = change(&[0xd4; 16], 1, vec![ChangeHash([9; 32])], a(5));
    let orphan_second = change(&[0xd4; 16], 2, vec![orphan.hash()], a(6));

    // (name, already applied, batch, what converge says)
    type Expect = fn(&Result<(), DocError>) -> bool;
    let duplicate: Expect = |r| matches!(r, Err(DocError::DuplicateAuthor { .. }));
    let after_first: Expect = |r| matches!(r, Err(DocError::AuthorAfterFirstChange { .. }));
    let ok: Expect = |r| r.is_ok();
    let cases: Vec<(&str, Vec<Change>, Vec<Change>, Expect)> = vec![
        ("seq 1 authored", vec![], vec![one.clone()], ok),
        (
            "then seq 2 plain",
            vec![one.clone()],
            vec![two_plain.clone()],
            ok,
        ),
        (
            "the same authored change twice",
            vec![one.clone()],
            vec![one.clone()],
            ok,
        ),
        (
            "seq 2 authored again, applied",
            vec![one.clone()],
            vec![two_authored.clone()],
            duplicate,
        ),
        (
            "seq 1 and 2 authored, one batch",
            vec![],
            vec![one.clone(), two_authored.clone()],
            duplicate,
        ),
        (
            "seq 3 authored again",
            vec![one.clone(), two_plain.clone()],
            vec![three_authored.clone()],
            duplicate,
        ),
        (
            "authored seq 2, actor without author",
            vec![unauthored_one.clone()],
            vec![later_first.clone()],
            after_first,
        ),
        (
            "two authored orphans of one actor",
            vec![orphan.clone()],
            vec![orphan_second.clone()],
            duplicate,
        ),
    ];
    for (name, base, batch, expect) in cases {
        let oracle = oracle_apply(&base, &batch);
        let mut ours = Document::new();
        ours.apply_changes(base.clone()).unwrap();
        let before = (
            ours.heads(),
            ours.change_count(),
            ours.queued_count(),
            ours.save(),
        );
        let result = ours.apply_changes(batch.clone());
        assert!(expect(&result), "{name}: ours {result:?}");
        match (&result, &oracle) {
            (Ok(()), Ok(_)) => {}
            (Err(DocError::DuplicateAuthor { .. }), Err(e)) => {
                assert!(e.contains("duplicate author"), "{name}: oracle {e}");
            }
            // The reference panics on an authored change after the first.
            (Err(DocError::AuthorAfterFirstChange { .. }), Err(e)) => {
                assert_eq!(e, "panic", "{name}");
            }
            _ => panic!("{name}: ours {result:?}, oracle {oracle:?}"),
        }
        if result.is_err() {
            let after = (
                ours.heads(),
                ours.change_count(),
                ours.queued_count(),
                ours.save(),
            );
            assert_eq!(
                before, after,
                "{name}: a refused batch changed the document"
            );
        }
    }
}

#[test]
fn a_merge_brings_the_authors_along() {
    let alice = Author::from(b"alice".to_vec());
    let mut other = Document::new();
    other.set_author(Some(alice.clone()));
    other.put(&ROOT, "k", 1).unwrap();
    let mut ours = Document::new();
    ours.put(&ROOT, "j", 2).unwrap();
    ours.merge(&other).unwrap();
    assert_eq!(ours.author_for_actor(other.actor()), Some(alice.clone()));
    assert_eq!(ours.author_for_actor(&ours.actor().clone()), None);
    assert_eq!(ours.authors(), vec![alice]);
}

/// Many authored first changes, of as many actors, in one batch: all apply, each actor with
/// its author. (The checks are hashed: a batch of n authored changes costs O(n).)
#[test]
fn a_batch_of_many_authored_changes_applies() {
    let n = 20_000u32;
    let changes: Vec<Change> = (0..n)
        .map(|i| {
            let actor = i.to_be_bytes();
            let mut parts =
                change(&actor, 1, vec![], Author::from(actor.to_vec()).footer()).to_parts();
            // A key each: concurrent puts to one key would make a 20,000-way conflict.
            parts.ops[0].key = Key::Map(format!("k{i}"));
            Change::from_parts(parts).unwrap()
        })
        .collect();
    let mut ours = Document::new();
    let start = std::time::Instant::now();
    ours.apply_changes(changes).unwrap();
    println!("{n} authored changes applied in {:?}", start.elapsed());
    assert_eq!(ours.authors().len(), n as usize);
    let actor = ActorId::from_bytes(&7u32.to_be_bytes());
    assert_eq!(
        ours.author_for_actor(&actor),
        Some(Author::from(7u32.to_be_bytes().to_vec()))
    );
}
