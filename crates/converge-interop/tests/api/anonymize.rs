//! `Document::anonymize` beside automerge 0.12's `anonymize`, on the seeded random histories
//! of `support` (maps, lists, texts with Unicode and marks, counters, conflicts, messages,
//! authors). Both are random, so what is compared is the shape they keep: the changes (seq,
//! start op, op count, deps, message and extra bytes lengths) and the document (every key's
//! length in bytes, every conflict's op counter, every text's length in bytes and in chars,
//! the kinds of scalars, which characters are marked). converge's copy must have the
//! original's shape, as automerge's has, and load in automerge to the same document.

use std::collections::BTreeSet;

use crate::doc_tree::{Id, Tree, first_diff, oracle_tree, ours_tree};
use crate::support::{History, Params, sweep};
use converge_doc::Document;

/// What anonymizing keeps of a document.
fn shape(t: &Tree) -> String {
    let tag = |s: &str| s.split(':').next().unwrap_or_default().to_owned();
    let values = |vs: &[(Id, Tree)]| {
        vs.iter()
            .map(|(id, t)| format!("{}:{}", id.0, shape(t)))
            .collect::<Vec<_>>()
            .join("|")
    };
    match t {
        Tree::Map(kind, m) => {
            let mut items: Vec<String> = m
                .iter()
                .map(|(k, vs)| format!("{}={}", k.len(), values(vs)))
                .collect();
            items.sort();
            format!("{kind}{{{}}}", items.join(","))
        }
        Tree::List(l, _) => format!(
            "[{}]",
            l.iter().map(|vs| values(vs)).collect::<Vec<_>>().join(",")
        ),
        Tree::Text(s, len, marks) => {
            let marked: BTreeSet<usize> = marks.iter().flat_map(|m| m.0..m.1).collect();
            format!("text({},{len},{marked:?})", s.len())
        }
        Tree::Scalar(s) => tag(s),
    }
}

type ChangeShape = (u64, u64, usize, usize, Option<usize>, usize);

fn ours_changes(doc: &Document) -> Vec<ChangeShape> {
    let mut out: Vec<ChangeShape> = doc
        .get_changes(&[])
        .iter()
        .map(|c| {
            (
                c.seq(),
                c.start_op(),
                c.num_ops() as usize,
                c.deps().len(),
                c.message().map(str::len),
                c.extra_bytes().len(),
            )
        })
        .collect();
    out.sort();
    out
}

fn oracle_changes(doc: &automerge::Automerge) -> Vec<ChangeShape> {
    let mut out: Vec<ChangeShape> = doc
        .get_changes(&[])
        .iter()
        .map(|c| {
            (
                c.seq(),
                c.start_op().get(),
                c.len(),
                c.deps().len(),
                c.message().map(str::len),
                c.extra_bytes().len(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn anonymized_copies_keep_the_shape_automerge_s_keep() {
    let mut changes = 0;
    for seed in sweep(150) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let saved = history.merged.save();
        let original = Document::load(&saved).unwrap();
        let theirs = automerge::Automerge::load(&saved).unwrap();

        let mut ours = original.anonymize_with_seed(seed).unwrap();
        let their_copy = theirs.anonymize().unwrap();

        let want = shape(&ours_tree(&original, None));
        assert_eq!(
            shape(&oracle_tree(&their_copy, None)),
            want,
            "seed {seed}: automerge's copy"
        );
        assert_eq!(
            shape(&ours_tree(&ours, None)),
            want,
            "seed {seed}: converge's copy"
        );
        let want = ours_changes(&original);
        assert_eq!(
            oracle_changes(&their_copy),
            want,
            "seed {seed}: automerge's changes"
        );
        assert_eq!(ours_changes(&ours), want, "seed {seed}: converge's changes");
        changes += want.len();

        // Our copy is a document automerge reads alike.
        let reloaded = automerge::Automerge::load(&ours.save()).unwrap();
        let (a, b) = (ours_tree(&ours, None), oracle_tree(&reloaded, None));
        assert!(a == b, "seed {seed}: {}", first_diff(&a, &b));
        // The same seed, the same copy; the copy shares no change with the original.
        assert_eq!(
            original.anonymize_with_seed(seed).unwrap().save(),
            ours.save()
        );
        assert!(
            ours.heads().iter().all(|h| !original.has_change(h)),
            "seed {seed}"
        );
    }
    eprintln!("{changes} changes anonymized, shapes alike");
}
