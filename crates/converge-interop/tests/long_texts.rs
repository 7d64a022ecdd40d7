//! Pastes, typing and deletions anywhere in long texts and lists, against the oracle: a
//! text of 10,000-30,000 characters (some of them not ASCII) and a list of 1,000-6,000
//! integers, edited by two or three peers apart, each edit made on a converge document and
//! on automerge 0.12 alike, then all changes applied to both in random groups.
//!
//! These are the edits that fill the sequence index's chunks in the middle of a long
//! sequence (pastes of runs just under, at and over a chunk's 256 elements, words typed a
//! character at a time, runs pasted into runs, items put at one index one at a time), where
//! a full chunk hands its last element on to the next or splits right after a run's
//! element, and the index's tables are made again from the split chunk on. Every change
//! must be byte for byte automerge's (the same hashes), the merged values and heads the
//! same on both sides, and the two saves the same bytes (their documents are large enough
//! for converge's first save to deflate while it encodes).
//!
//! `CONVERGE_ORACLE_SEEDS=A..B` runs other seeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

#[path = "doc_tree/mod.rs"]
mod doc_tree;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ObjId, ROOT as AM_ROOT, ReadDoc};
use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::{ActorId, ScalarValue};
use doc_tree::{first_diff, oracle_heads, oracle_tree, ours_heads, ours_tree};
use support::{SplitMix64, apply_in_random_groups, new_changes, sweep};

/// A converge document and automerge's, edited alike, with their text and list.
struct Pair {
    ours: Document,
    theirs: Automerge,
    text: (ExId, ObjId),
    list: (ExId, ObjId),
}

/// `n` characters: letters mostly, spaces, line breaks, and now and then a two-byte and a
/// four-byte character.
fn sample_text(rng: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| match rng.below(100) {
            0 => 'é',
            1 => '🙂',
            2 => '\n',
            3..=17 => ' ',
            k => char::from(b'a' + (k % 26) as u8),
        })
        .collect()
}

impl Pair {
    /// The common start, one change of actor 01 on both sides.
    fn base(rng: &mut SplitMix64) -> Pair {
        let mut ours = Document::with_actor(ActorId::from_bytes(&[0x01; 16]));
        let mut theirs = Automerge::new().with_actor(automerge::ActorId::from([0x01u8; 16]));
        let n = rng.range(10_000, 30_000);
        let content = sample_text(rng, n);
        let ints: Vec<i64> = (0..rng.range(1_000, 6_000) as i64).collect();
        let mut tx = ours.transaction();
        let text = tx.put_object(&ROOT, "t", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, &content).unwrap();
        let list = tx.put_object(&ROOT, "l", ObjType::List).unwrap();
        tx.splice(&list, 0, 0, ints.iter().map(|&i| ScalarValue::Int(i)))
            .unwrap();
        tx.commit().unwrap();
        let mut tx = theirs.transaction();
        let am_text = tx
            .put_object(AM_ROOT, "t", automerge::ObjType::Text)
            .unwrap();
        tx.splice_text(&am_text, 0, 0, &content).unwrap();
        let am_list = tx
            .put_object(AM_ROOT, "l", automerge::ObjType::List)
            .unwrap();
        tx.splice(
            &am_list,
            0,
            0,
            ints.iter().map(|&i| automerge::ScalarValue::Int(i)),
        )
        .unwrap();
        tx.commit_with(CommitOptions::default().with_time(0));
        let pair = Pair {
            ours,
            theirs,
            text: (text, am_text),
            list: (list, am_list),
        };
        pair.assert_same_heads("base");
        pair
    }

    /// A peer: both documents forked, with actor `actor`.
    fn fork(&self, actor: u8) -> Pair {
        let mut ours = self.ours.fork();
        ours.set_actor(ActorId::from_bytes(&[actor; 16]));
        let theirs = self
            .theirs
            .fork()
            .with_actor(automerge::ActorId::from([actor; 16]));
        Pair {
            ours,
            theirs,
            text: self.text.clone(),
            list: self.list.clone(),
        }
    }

    fn assert_same_heads(&self, what: &str) {
        assert_eq!(
            ours_heads(&self.ours.heads()),
            oracle_heads(&self.theirs.get_heads()),
            "{what}: heads (so the changes' bytes) differ"
        );
    }

    /// One change of `edits` random edits on both sides, which must hash alike.
    fn edit(&mut self, rng: &mut SplitMix64, edits: usize, what: &str) {
        let (text, am_text) = self.text.clone();
        let (list, am_list) = self.list.clone();
        let mut tx = self.ours.transaction();
        let mut atx = self.theirs.transaction();
        for _ in 0..edits {
            let text_len = tx.length(&text).unwrap();
            let list_len = tx.length(&list).unwrap();
            match rng.below(11) {
                // A paste: runs just under, at and over a chunk, and longer.
                0..=3 => {
                    let n = *rng.pick(&[1usize, 5, 200, 255, 256, 257, 600, 2_000]);
                    let s = sample_text(rng, n);
                    let at = rng.below(text_len + 1);
                    tx.splice_text(&text, at, 0, &s).unwrap();
                    atx.splice_text(&am_text, at, 0, &s).unwrap();
                }
                // A word typed a character at a time, maybe deleting one first.
                4 | 5 => {
                    let at = rng.below(text_len + 1);
                    let del = usize::from(at < text_len && rng.percent(30));
                    let n = rng.range(1, 400);
                    let word = sample_text(rng, n);
                    for (i, c) in word.chars().enumerate() {
                        let d = if i == 0 { del } else { 0 };
                        let c = c.to_string();
                        tx.splice_text(&text, at + i, d, &c).unwrap();
                        atx.splice_text(&am_text, at + i, d as isize, &c).unwrap();
                    }
                }
                // A range of the text deleted.
                6 => {
                    let at = rng.below(text_len + 1);
                    let del = rng.below((text_len - at).min(500) + 1);
                    tx.splice_text(&text, at, del, "").unwrap();
                    atx.splice_text(&am_text, at, del as isize, "").unwrap();
                }
                // Integers spliced into the list, some over deleted ones.
                7 | 8 => {
                    let at = rng.below(list_len + 1);
                    let del = rng.below((list_len - at).min(50) + 1);
                    let n = *rng.pick(&[1usize, 100, 257, 1_000]);
                    let first = rng.below(1_000_000) as i64;
                    tx.splice(
                        &list,
                        at,
                        del,
                        (first..first + n as i64).map(ScalarValue::Int),
                    )
                    .unwrap();
                    atx.splice(
                        &am_list,
                        at,
                        del as isize,
                        (first..first + n as i64).map(automerge::ScalarValue::Int),
                    )
                    .unwrap();
                }
                // Items put at one index one at a time, each before the one put before
                // it (a feed that shows the newest first), at the list's start or anywhere.
                9 => {
                    let at = if rng.percent(50) {
                        0
                    } else {
                        rng.below(list_len + 1)
                    };
                    for v in 0..*rng.pick(&[3i64, 300, 700]) {
                        tx.insert(&list, at, ScalarValue::Int(-v)).unwrap();
                        atx.insert(&am_list, at, -v).unwrap();
                    }
                }
                // One element put over, where there is one.
                _ => {
                    if list_len > 0 {
                        let at = rng.below(list_len);
                        let v = rng.below(1_000) as i64;
                        tx.put(&list, at, ScalarValue::Int(v)).unwrap();
                        atx.put(&am_list, at, v).unwrap();
                    }
                }
            }
        }
        tx.commit().unwrap();
        atx.commit_with(CommitOptions::default().with_time(0));
        self.assert_same_heads(what);
    }
}

fn check_seed(seed: u64) {
    let mut rng = SplitMix64::new(seed ^ 0x10c7_7e57);
    let base = Pair::base(&mut rng);
    let mut changes: Vec<Vec<u8>> = Vec::new();
    for p in 0..2 + rng.below(2) {
        let mut peer = base.fork(0x10 + p as u8);
        for c in 0..rng.range(4, 12) {
            let edits = rng.range(1, 5);
            peer.edit(
                &mut rng,
                edits,
                &format!("seed {seed}, peer {p}, change {c}"),
            );
        }
        let (a, b) = (ours_tree(&peer.ours, None), oracle_tree(&peer.theirs, None));
        assert!(a == b, "seed {seed}, peer {p}: {}", first_diff(&a, &b));
        changes.extend(new_changes(&peer.ours, &base.ours));
    }
    // The peers' changes, each peer's in order, peers after one another: in one batch or
    // in random groups.
    let mut ours = base.ours.fork();
    let mut theirs = base.theirs.fork();
    apply_in_random_groups(&mut ours, &mut theirs, &changes, &mut rng, 30, 8);
    assert_eq!(
        ours_heads(&ours.heads()),
        oracle_heads(&theirs.get_heads()),
        "seed {seed}: merged heads"
    );
    let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
    assert!(a == b, "seed {seed}, merged: {}", first_diff(&a, &b));
    // Both saves are the same bytes (a long text's first save is written on two threads,
    // deflating as it encodes), and load on the other side to the same values.
    let (our_save, their_save) = (ours.save(), theirs.save());
    assert!(our_save == their_save, "seed {seed}: saves differ");
    let ours_loaded = Document::load(&their_save).unwrap();
    let c = ours_tree(&ours_loaded, None);
    assert!(
        a == c,
        "seed {seed}, automerge's save: {}",
        first_diff(&a, &c)
    );
    let theirs_loaded = Automerge::load(&our_save).unwrap();
    let d = oracle_tree(&theirs_loaded, None);
    assert!(
        b == d,
        "seed {seed}, converge's save: {}",
        first_diff(&b, &d)
    );
    // The merged text read whole is automerge's too.
    assert_eq!(
        ours.text(&base.text.0).unwrap(),
        theirs.text(&base.text.1).unwrap(),
        "seed {seed}: text"
    );
}

#[test]
fn long_texts_edited_anywhere_merge_as_automerge_merges_them() {
    for seed in sweep(6) {
        check_seed(seed);
    }
}
