//! A sweep of everyday operations on a loaded document, converge beside automerge 0.12, to
//! catch an operation that costs the document where it should cost the answer: each is
//! timed alone (min of RUNS) on the same file.
//!
//! ```text
//! cargo run --release -p converge-benches --example api_probe -- FILE [RUNS]
//! ```
//!
//! The reads go to the root's first text object (if any): its text, length, the text at
//! the heads before the last change, and its marks; then the whole value tree, a root key
//! at those heads and at the current ones, a walk of every object (`iter`, now and at
//! those heads), the root's values, bundles of the last 100 changes and of all, a missing
//! deps query, a save_incremental (automerge: `save_after` the put's deps) after one put and a load_incremental of that change
//! into a second load of the file, `get_change_by_hash` of the last change, and `fork_at`
//! the heads before the last change (a merge of one change: `merge_probe FILE N --one`).

use converge_benches::{first_text, min_of, print_comparison as row};

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_doc::{Document, ROOT};
use converge_encoding::ScalarValue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).map_or(5, |s| s.parse().expect("RUNS"));
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));

    let mut cv = Document::load(&bytes).expect("converge loads");
    let mut am = automerge::Automerge::load(&bytes).expect("automerge loads");
    let last = cv.get_changes(&[]).pop().expect("a change");
    let before: Vec<_> = last.deps().to_vec();
    let am_before: Vec<automerge::ChangeHash> = before
        .iter()
        .map(|h| automerge::ChangeHash(*h.as_bytes()))
        .collect();
    let am_last = automerge::ChangeHash(*last.hash().as_bytes());
    println!("{path}: {} changes", cv.change_count());

    if let Some((key, text)) = first_text(&cv) {
        let (_, am_text) = am
            .get(automerge::ROOT, key.as_str())
            .expect("get")
            .expect("the text");
        row(
            "text()",
            min_of(runs, || cv.text(&text).expect("text")),
            min_of(runs, || am.text(&am_text).expect("text")),
        );
        row(
            "length()",
            min_of(runs, || cv.length(&text).expect("length")),
            min_of(runs, || am.length(&am_text)),
        );
        row(
            "text_at(before last)",
            min_of(runs, || cv.text_at(&text, &before).expect("text_at")),
            min_of(runs, || am.text_at(&am_text, &am_before).expect("text_at")),
        );
        row(
            "marks()",
            min_of(runs, || cv.marks(&text).expect("marks")),
            min_of(runs, || am.marks(&am_text).expect("marks")),
        );
    }
    row(
        "value_tree(ROOT)",
        min_of(runs, || cv.value_tree(&ROOT).expect("value_tree")),
        min_of(runs, || am.hydrate(None)),
    );
    row(
        "iter(): every item of every object",
        min_of(runs, || cv.iter().try_fold(0, |n, i| i.map(|_| n + 1))),
        min_of(runs, || am.iter().count()),
    );
    row(
        "iter_at(ROOT, before last)",
        min_of(runs, || {
            cv.iter_at(&ROOT, Some(&before))
                .expect("iter_at")
                .try_fold(0, |n, i| i.map(|_| n + 1))
        }),
        min_of(runs, || {
            am.iter_at(automerge::ROOT, Some(&am_before)).count()
        }),
    );
    row(
        "values(ROOT)",
        min_of(runs, || cv.values(&ROOT).expect("values").len()),
        min_of(runs, || am.values(automerge::ROOT).count()),
    );
    if let Some(key) = cv.keys(&ROOT).expect("keys").first().cloned() {
        row(
            "get_at(ROOT, a key, before)",
            min_of(runs, || {
                cv.get_at(&ROOT, key.as_str(), &before).expect("get_at")
            }),
            min_of(runs, || {
                am.get_at(automerge::ROOT, key.as_str(), &am_before)
                    .expect("get_at")
            }),
        );
        let (heads, am_heads) = (cv.heads(), am.get_heads());
        row(
            "get_at(ROOT, a key, heads)",
            min_of(runs, || {
                cv.get_at(&ROOT, key.as_str(), &heads).expect("get_at")
            }),
            min_of(runs, || {
                am.get_at(automerge::ROOT, key.as_str(), &am_heads)
                    .expect("get_at")
            }),
        );
    }
    {
        let (heads, am_heads) = (cv.heads(), am.get_heads());
        row(
            "diff(before last, heads)",
            min_of(runs, || cv.diff(&before, &heads).expect("diff")),
            min_of(runs, || am.diff(&am_before, &am_heads)),
        );
        row(
            "diff(heads, before last)",
            min_of(runs, || cv.diff(&heads, &before).expect("diff")),
            min_of(runs, || am.diff(&am_heads, &am_before)),
        );
        row(
            "diff([], heads): the whole document",
            min_of(runs.min(3), || cv.diff(&[], &heads).expect("diff")),
            min_of(runs.min(3), || am.diff(&[], &am_heads)),
        );
    }
    {
        let all: Vec<_> = cv.get_changes(&[]).iter().map(|c| c.hash()).collect();
        let recent = &all[all.len().saturating_sub(100)..];
        let am_all: Vec<automerge::ChangeHash> = all
            .iter()
            .map(|h| automerge::ChangeHash(*h.as_bytes()))
            .collect();
        let am_recent = &am_all[am_all.len().saturating_sub(100)..];
        row(
            "bundle(last 100 changes)",
            min_of(runs, || cv.bundle(recent).expect("bundle").len()),
            min_of(runs, || {
                am.bundle(am_recent.iter().copied())
                    .expect("bundle")
                    .bytes()
                    .len()
            }),
        );
        row(
            "bundle(every change)",
            min_of(runs.min(3), || cv.bundle(&all).expect("bundle").len()),
            min_of(runs.min(3), || {
                am.bundle(am_all.iter().copied())
                    .expect("bundle")
                    .bytes()
                    .len()
            }),
        );
    }
    row(
        "missing_deps(heads)",
        min_of(runs, || cv.missing_deps(&cv.heads())),
        min_of(runs, || am.get_missing_deps(&am.get_heads())),
    );
    row(
        "get_change_by_hash(last)",
        min_of(runs, || cv.get_change_by_hash(&last.hash())),
        min_of(runs, || {
            am.get_change_by_hash(&am_last).map(|c| c.raw_bytes().len())
        }),
    );

    // Fragments (experimental in automerge 0.12): converge works its list out at the first
    // call and keeps it; automerge keeps it up to date as changes arrive.
    row(
        "fragments(..), first call",
        min_of(1, || cv.fragments(..).len()),
        min_of(1, || am.fragments(..).len()),
    );
    row(
        "fragments(..) again",
        min_of(runs.min(3), || cv.fragments(..).len()),
        min_of(runs.min(3), || am.fragments(..).len()),
    );
    let cached = cv.fragments(1..);
    if let Some(f) = cached.last() {
        let head = f.head;
        let am_head = automerge::ChangeHash(*head.as_bytes());
        row(
            "get_fragment(newest level >= 1 head)",
            min_of(runs.min(3), || {
                cv.get_fragment(&head).map(|f| f.members.len())
            }),
            min_of(runs.min(3), || {
                am.get_fragment(am_head).map(|f| f.members.len())
            }),
        );
    }
    row(
        "fork_at(before last)",
        min_of(runs.min(3), || cv.fork_at(&before).expect("fork_at")),
        min_of(runs.min(3), || am.fork_at(&am_before).expect("fork_at")),
    );

    // One put, then save_incremental (each run on a fresh put).
    let mut i = 0;
    let ours = min_of(runs, || {
        i += 1;
        cv.put(&ROOT, "api_probe", ScalarValue::Int(i))
            .expect("put");
        cv.save_incremental()
    });
    let theirs = min_of(runs, || {
        i += 1;
        let mut tx = am.transaction();
        tx.put(automerge::ROOT, "api_probe", i).expect("put");
        tx.commit();
        let after: Vec<_> = am
            .get_last_local_change()
            .map(|c| c.deps().to_vec())
            .unwrap_or_default();
        am.save_after(&after)
    });
    row("put + save_incremental/after", ours, theirs);
    // `runs` single changes, each loaded incrementally in turn into a second load.
    cv.save_incremental();
    let singles: Vec<Vec<u8>> = (0..runs)
        .map(|k| {
            cv.put(&ROOT, "api_probe", ScalarValue::Int(-(k as i64)))
                .expect("put");
            cv.save_incremental()
        })
        .collect();
    let mut cv2 = Document::load(&bytes).expect("converge loads");
    let mut am2 = automerge::Automerge::load(&bytes).expect("automerge loads");
    let mut next = singles.iter();
    let ours = min_of(runs, || {
        cv2.load_incremental(next.next().expect("a change"))
    });
    let mut next = singles.iter();
    let theirs = min_of(runs, || {
        am2.load_incremental(next.next().expect("a change"))
    });
    row("load_incremental(1 change)", ours, theirs);
}
