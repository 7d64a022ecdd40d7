//! `fragments`, `get_fragment` and `bundle_fragments` against automerge 0.12's (its
//! experimental, hidden API), on histories long enough to hold fragments (a change heads one
//! when its hash starts with a zero byte, one in 256): two to four actors making many small
//! changes and merging now and then, built by automerge and loaded by both sides; again
//! with the changes applied in random batches instead of loaded (the fragments compared
//! after every batch: converge carries its list forward); and the corpus's longest
//! histories (essay.amrg's 262,000 changes and the egwalker C2.am's 134,000 hold heads of
//! level 2, which take in and drop fragments of level 1).

use std::path::PathBuf;

use crate::support::{SplitMix64, sweep};
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_encoding::{Bundle, ChangeHash};

type Hash = [u8; 32];

/// A fragment as plain bytes, to compare the two sides' field by field.
#[derive(Debug, PartialEq, Eq)]
struct Plain {
    head: Hash,
    level: usize,
    boundary: Vec<Hash>,
    checkpoints: Vec<Hash>,
    members: Vec<Hash>,
}

fn ours(f: &converge_doc::Fragment) -> Plain {
    let bytes = |v: &[ChangeHash]| v.iter().map(|h| *h.as_bytes()).collect();
    Plain {
        head: *f.head.as_bytes(),
        level: f.level,
        boundary: bytes(&f.boundary),
        checkpoints: bytes(&f.checkpoints),
        members: bytes(&f.members),
    }
}

fn theirs(f: &automerge::Fragment) -> Plain {
    let bytes = |v: &[automerge::ChangeHash]| v.iter().map(|h| h.0).collect();
    Plain {
        head: f.head.0,
        level: f.level,
        boundary: bytes(&f.boundary),
        checkpoints: bytes(&f.checkpoints),
        members: bytes(&f.members),
    }
}

/// Asserts that two lists of fragments are the same, field for field and in order; returns
/// converge's as plain bytes.
fn alike(a: &[converge_doc::Fragment], b: &[automerge::Fragment], what: &str) -> Vec<Plain> {
    let a: Vec<Plain> = a.iter().map(ours).collect();
    let b: Vec<Plain> = b.iter().map(theirs).collect();
    assert_eq!(a.len(), b.len(), "{what}: how many fragments");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{what}: fragment {i}");
    }
    a
}

/// A history of `seed`: 2-4 actors, 300-1,500 small changes (puts, counters, typing), each
/// actor merging another's now and then; the documents merged into one at the end.
fn history(seed: u64) -> automerge::Automerge {
    let mut rng = SplitMix64::new(seed ^ 0xf7a6);
    let actors = rng.range(2, 4);
    let mut docs: Vec<automerge::AutoCommit> = (0..actors)
        .map(|a| {
            automerge::AutoCommit::new().with_actor(automerge::ActorId::from(vec![a as u8 + 1; 16]))
        })
        .collect();
    let text = docs[0]
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .unwrap();
    docs[0].commit();
    for a in 1..actors {
        let (first, rest) = docs.split_at_mut(a);
        rest[0].merge(&mut first[0]).unwrap();
    }
    let changes = rng.range(300, 1500);
    for step in 0..changes {
        let a = rng.below(actors);
        let doc = &mut docs[a];
        match rng.below(3) {
            0 => doc.put(automerge::ROOT, "k", step as i64).unwrap(),
            1 => {
                let len = doc.length(&text);
                doc.splice_text(&text, rng.below(len + 1), 0, "x").unwrap();
            }
            _ => doc
                .put(automerge::ROOT, format!("k{}", rng.below(5)), "v")
                .unwrap(),
        }
        doc.commit();
        if rng.percent(3) {
            let b = rng.below(actors);
            if b != a {
                let mut other = docs[b].fork();
                docs[a].merge(&mut other).unwrap();
            }
        }
    }
    let mut merged = docs.pop().unwrap();
    for mut d in docs {
        merged.merge(&mut d).unwrap();
    }
    merged.document().clone()
}

/// Compares every query on one pair; returns (fragments, members, bundles identical).
fn compare(
    what: &str,
    cv: &converge_doc::Document,
    am: &automerge::Automerge,
) -> (usize, usize, usize) {
    for (name, a, b) in [
        ("all", cv.fragments(..), am.fragments(..)),
        ("level >= 1", cv.fragments(1..), am.fragments(1..)),
        ("level 0", cv.fragments(0..1), am.fragments(0..=0)),
        ("level 2", cv.fragments(2..3), am.fragments(2..3)),
        ("none", cv.fragments(0..0), am.fragments(0..0)),
    ] {
        alike(&a, &b, &format!("{what}: {name}"));
    }
    let all = cv.fragments(..);
    let members: usize = all.iter().map(|f| f.members.len()).sum();
    // get_fragment of every change that heads a fragment, of a superseded head if any, and
    // of every 37th change.
    let changes = cv.get_changes(&[]);
    for (i, c) in changes.iter().enumerate() {
        let h = c.hash();
        if i % 37 != 0 && converge_doc::fragment_level(&h) == 0 {
            continue;
        }
        let a = cv.get_fragment(&h).as_ref().map(ours);
        let b = am
            .get_fragment(automerge::ChangeHash(*h.as_bytes()))
            .as_ref()
            .map(theirs);
        assert_eq!(a, b, "{what}: get_fragment of change {i}");
    }
    // bundle_fragments: the same bytes where automerge's are deterministic, and always the
    // same changes.
    let ours_bytes = cv.bundle_fragments(all.clone());
    let am_all = am.fragments(..);
    let theirs_bytes = am.bundle_fragments(am_all.clone());
    assert_eq!(
        ours_bytes.len(),
        theirs_bytes.len(),
        "{what}: bundle_fragments"
    );
    let mut identical = 0;
    for (i, (x, y)) in ours_bytes.iter().zip(&theirs_bytes).enumerate() {
        if x == y {
            identical += 1;
            continue;
        }
        let read = |b: &[u8]| -> Vec<Hash> {
            let mut v: Vec<Hash> = match Bundle::decode(b) {
                Ok(bundle) => bundle
                    .changes()
                    .iter()
                    .map(|c| *c.hash().as_bytes())
                    .collect(),
                Err(_) => vec![
                    *converge_encoding::Change::decode(bytes::Bytes::copy_from_slice(b))
                        .unwrap()
                        .hash()
                        .as_bytes(),
                ],
            };
            v.sort_unstable();
            v
        };
        assert_eq!(
            read(x),
            read(y),
            "{what}: bundle_fragments {i}: its changes"
        );
        // automerge orders some ops of a bundle by a hash map (see `api::bundle`): where
        // the bytes differ, its own differ from call to call.
        let stable = (0..40).all(|_| am.bundle_fragments([am_all[i].clone()])[0] == *y);
        assert!(!stable, "{what}: bundle_fragments {i}: bytes differ");
    }
    (all.len(), members, identical)
}

#[test]
fn fragments_are_automerge_s() {
    let (mut docs, mut frags, mut members, mut bundles, mut identical) = (0, 0, 0, 0, 0);
    let mut batches = 0;
    for seed in sweep(12) {
        let am = history(seed);
        let saved = am.save();
        let am = automerge::Automerge::load(&saved).unwrap();
        let cv = converge_doc::Document::load(&saved).unwrap();
        let (f, m, i) = compare(&format!("seed {seed}, loaded"), &cv, &am);
        // Every change is a member of some fragment (of several, where branches met).
        let mut covered: Vec<Hash> = cv
            .fragments(..)
            .iter()
            .flat_map(|f| f.members.iter().map(|h| *h.as_bytes()))
            .collect();
        covered.sort_unstable();
        covered.dedup();
        assert_eq!(
            covered.len(),
            cv.get_changes(&[]).len(),
            "seed {seed}: members cover the history"
        );
        docs += 1;
        frags += f;
        members += m;
        bundles += f;
        identical += i;

        // The same changes applied in random batches, in the same order, on both sides.
        let changes = am.get_changes(&[]);
        let mut rng = SplitMix64::new(seed ^ 0xba7c4);
        let mut am2 = automerge::Automerge::new();
        let mut cv2 = converge_doc::Document::new();
        let mut at = 0;
        while at < changes.len() {
            let n = (rng.range(1, 40)).min(changes.len() - at);
            let batch = &changes[at..at + n];
            am2.apply_changes(batch.iter().cloned()).unwrap();
            cv2.apply_changes(batch.iter().map(|c| {
                converge_encoding::Change::decode(bytes::Bytes::copy_from_slice(c.raw_bytes()))
                    .unwrap()
            }))
            .unwrap();
            at += n;
            // After every batch: the kept list carried forward over the batch.
            alike(
                &cv2.fragments(..),
                &am2.fragments(..),
                &format!("seed {seed}: after {at} changes"),
            );
            batches += 1;
        }
        let (f, _, i) = compare(&format!("seed {seed}, applied"), &cv2, &am2);
        docs += 1;
        frags += f;
        bundles += f;
        identical += i;
    }
    eprintln!(
        "{docs} documents, {frags} fragments ({members} members of the loaded ones) alike; {identical} of {bundles} bundle_fragments byte for byte; fragments alike after each of {batches} batches"
    );
}

fn corpus(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/automerge-corpus")
        .join(path)
}

/// The corpus's long histories, loaded by both sides: the same fragments, level 2 too.
#[test]
fn corpus_fragments_are_automerge_s() {
    for path in [
        "real-docs/essay.amrg",
        "egwalker/C2.am",
        "real-docs/monday-meeting-notes.automerge",
    ] {
        let bytes = std::fs::read(corpus(path)).unwrap();
        let am = automerge::Automerge::load(&bytes).unwrap();
        let cv = converge_doc::Document::load(&bytes).unwrap();
        for (name, a, b) in [
            ("all", cv.fragments(..), am.fragments(..)),
            ("level >= 2", cv.fragments(2..), am.fragments(2..)),
        ] {
            let a = alike(&a, &b, &format!("{path}: {name}"));
            let levels: Vec<usize> = a.iter().map(|f| f.level).collect();
            eprintln!(
                "{path}: {name}: {} fragments alike (level 2+: {}, members {})",
                a.len(),
                levels.iter().filter(|&&l| l >= 2).count(),
                a.iter().map(|f| f.members.len()).sum::<usize>()
            );
        }
    }
}
