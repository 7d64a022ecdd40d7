//! Times `diff` on a document file, converge beside automerge 0.12 (min of RUNS): the last
//! change (its deps to the heads), the whole document from no heads, and a view kept in
//! step with edits: one put on the root, or one character typed into the root's first
//! text, then the diff of that change.
//!
//! ```text
//! cargo run --release -p converge-benches --example diff_probe -- FILE [RUNS] [--ours]
//! ```
//!
//! `--ours` times converge only (for profiling).

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_benches::{first_text, min_of, print_comparison as row};
use converge_doc::{Document, ROOT};
use converge_encoding::ScalarValue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).map_or(5, |s| s.parse().expect("RUNS"));
    let ours_only = args.iter().any(|a| a == "--ours");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut cv = Document::load(&bytes).expect("converge loads");
    let last = cv.get_changes(&[]).pop().expect("a change");
    let before: Vec<_> = last.deps().to_vec();
    let heads = cv.heads();
    if ours_only {
        for _ in 0..runs {
            let t = std::time::Instant::now();
            let n = cv.diff(&before, &heads).expect("diff").len();
            println!("diff(last change): {:?}, {n} patches", t.elapsed());
        }
        return;
    }
    let mut am = automerge::Automerge::load(&bytes).expect("automerge loads");
    let am_before: Vec<automerge::ChangeHash> = before
        .iter()
        .map(|h| automerge::ChangeHash(*h.as_bytes()))
        .collect();
    let am_heads = am.get_heads();
    row(
        "diff(last change)",
        min_of(runs, || cv.diff(&before, &heads).expect("diff")),
        min_of(runs, || am.diff(&am_before, &am_heads)),
    );
    row(
        "diff([], heads)",
        min_of(runs, || cv.diff(&[], &heads).expect("diff")),
        min_of(runs, || am.diff(&[], &am_heads)),
    );
    // A put on the root, then the diff of that change (each run a new put).
    let mut i = 0;
    let ours = min_of(runs, || {
        i += 1;
        let before = cv.heads();
        cv.put(&ROOT, "diff_probe", ScalarValue::Int(i))
            .expect("put");
        cv.diff(&before, &cv.heads()).expect("diff")
    });
    let theirs = min_of(runs, || {
        i += 1;
        let before = am.get_heads();
        let mut tx = am.transaction();
        tx.put(automerge::ROOT, "diff_probe", i).expect("put");
        tx.commit();
        am.diff(&before, &am.get_heads())
    });
    row("put on the root + diff", ours, theirs);
    if let Some((key, text)) = first_text(&cv) {
        let (_, am_text) = am
            .get(automerge::ROOT, key.as_str())
            .expect("get")
            .expect("the text");
        let ours = min_of(runs, || {
            let before = cv.heads();
            cv.splice_text(&text, 0, 0, "x").expect("splice");
            cv.diff(&before, &cv.heads()).expect("diff")
        });
        let theirs = min_of(runs, || {
            let before = am.get_heads();
            let mut tx = am.transaction();
            tx.splice_text(&am_text, 0, 0, "x").expect("splice");
            tx.commit();
            am.diff(&before, &am.get_heads())
        });
        row("a character typed + diff", ours, theirs);
    }
}
