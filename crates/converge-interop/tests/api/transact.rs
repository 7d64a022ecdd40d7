//! `Document::transact` / `transact_with` against automerge 0.12's, on documents loaded from
//! the seeded random histories of `support`: the same edits in a closure, which sometimes
//! fails after some of them (a splice past the end of a text): the same verdict, the same
//! number of ops cancelled, and the same heads and saved bytes after every transaction.

use crate::support::{SplitMix64, loaded_pair, sweep};
use automerge::ReadDoc;
use automerge::transaction::{CommitOptions as TheirOptions, Transactable};
use converge_doc::{CommitOptions, DocError, ObjType, ROOT};

const ACTOR: [u8; 16] = [0x5a; 16];

/// One edit of a transaction.
#[derive(Clone, Debug)]
enum Edit {
    Put(&'static str, i64),
    /// Into the root's "t" text: position (past the end when the edit is to fail), text.
    Splice(usize, &'static str),
}

#[test]
fn transactions_in_closures_commit_and_roll_back_as_automerge_does() {
    let (mut committed, mut rolled_back) = (0, 0);
    for seed in sweep(200) {
        let (mut ours, mut theirs) = loaded_pair(seed, &ACTOR);
        // A text of our own to splice into.
        let t = ours
            .transact(|tx| tx.put_object(&ROOT, "t", ObjType::Text))
            .unwrap()
            .result;
        let their_t = theirs
            .transact(|tx| tx.put_object(automerge::ROOT, "t", automerge::ObjType::Text))
            .unwrap()
            .result;
        let mut rng = SplitMix64::new(seed ^ 0x7a5c);
        for step in 0..8 {
            let mut len = ours.length(&t).unwrap();
            let mut edits = Vec::new();
            for _ in 0..rng.range(0, 4) {
                edits.push(if rng.percent(50) {
                    {
                        const KEYS: [&str; 3] = ["a", "b", "n"];
                        let key = KEYS[rng.below(KEYS.len())];
                        Edit::Put(key, rng.below(100) as i64)
                    }
                } else {
                    let text = *rng.pick(&["x", "hello", "😀 ok"]);
                    let at = rng.below(len + 1);
                    len += text.chars().count();
                    Edit::Splice(at, text)
                });
            }
            let fails = rng.percent(30);
            if fails {
                edits.push(Edit::Splice(len + 3, "!"));
            }
            let message = rng.percent(50).then(|| format!("step {step}"));
            let time = rng.below(3) as i64 * 1_000;

            let ours_out = ours.transact_with(
                |n: &usize| CommitOptions {
                    message: message.clone(),
                    time: time + *n as i64,
                },
                |tx| {
                    for e in &edits {
                        match *e {
                            Edit::Put(k, v) => tx.put(&ROOT, k, v)?,
                            Edit::Splice(at, s) => tx.splice_text(&t, at, 0, s)?,
                        }
                    }
                    Ok::<_, DocError>(edits.len())
                },
            );
            let theirs_out = theirs.transact_with(
                |n: &usize| {
                    let o = TheirOptions::default().with_time(time + *n as i64);
                    match &message {
                        Some(m) => o.with_message(m.clone()),
                        None => o,
                    }
                },
                |tx| {
                    for e in &edits {
                        match *e {
                            Edit::Put(k, v) => tx.put(automerge::ROOT, k, v)?,
                            Edit::Splice(at, s) => tx.splice_text(&their_t, at, 0, s)?,
                        }
                    }
                    Ok::<_, automerge::AutomergeError>(edits.len())
                },
            );
            match (ours_out, theirs_out) {
                (Ok(o), Ok(t)) => {
                    assert_eq!(
                        o.hash.map(|h| h.0),
                        t.hash.map(|h| h.0),
                        "seed {seed} step {step}: hash"
                    );
                    assert_eq!(o.result, t.result);
                    committed += 1;
                }
                (Err(o), Err(t)) => {
                    assert!(
                        matches!(o.error, DocError::IndexOutOfBounds { .. }),
                        "seed {seed} step {step}: {:?}",
                        o.error
                    );
                    assert_eq!(o.cancelled, t.cancelled, "seed {seed} step {step}");
                    rolled_back += 1;
                }
                (o, t) => panic!("seed {seed} step {step}: {o:?} against {t:?}"),
            }
            assert!(!fails || rolled_back > 0);
            assert_eq!(ours.save(), theirs.save(), "seed {seed} step {step}: saves");
            assert_eq!(
                ours.text(&t).unwrap(),
                theirs.text(&their_t).unwrap(),
                "seed {seed} step {step}"
            );
        }
    }
    eprintln!("{committed} transactions committed, {rolled_back} rolled back, alike");
}
