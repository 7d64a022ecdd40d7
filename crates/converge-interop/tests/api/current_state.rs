//! `current_state` against automerge 0.12's, on the seeded random histories of `support`
//! and on the corpus's real documents: the same patches (automerge's own form of them,
//! `diff_as_automerge`), and converge's `current_state` is its `diff` from no heads.

use crate::doc_tree::patches::{oracle_patch, ours_patch};
use crate::support::{History, Params, sweep};
use converge_doc::{Document, ROOT};

fn compare(saved: &[u8], what: &str) -> usize {
    let theirs = automerge::Automerge::load(saved).unwrap();
    let ours = Document::load(saved).unwrap();
    let expected: Vec<String> = theirs.current_state().iter().map(oracle_patch).collect();
    let got: Vec<String> = ours
        .diff_as_automerge(&ROOT, &[], &ours.heads(), true)
        .unwrap()
        .iter()
        .map(ours_patch)
        .collect();
    assert_eq!(got, expected, "{what}");
    assert_eq!(
        ours.current_state(),
        ours.diff(&[], &ours.heads()).unwrap(),
        "{what}"
    );
    got.len()
}

#[test]
fn current_state_is_automerge_s() {
    let mut patches = 0;
    for seed in sweep(300) {
        let mut history = History::generate(seed, &Params::varied(seed));
        patches += compare(&history.merged.save(), &format!("seed {seed}"));
    }
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/automerge-corpus/real-docs"
    );
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // All but godot-thread.amrg (9.4M values, minutes through the oracle).
        let size = std::fs::metadata(&path).unwrap().len();
        if !(name.ends_with(".amrg") || name.ends_with(".automerge")) || size > 1_000_000 {
            continue;
        }
        patches += compare(&std::fs::read(&path).unwrap(), &name);
        files += 1;
    }
    eprintln!("{patches} patches alike ({files} corpus files)");
}
