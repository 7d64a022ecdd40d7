//! The corpus documents load in converge (`converge_doc::Document::load`) to the same heads and
//! the same document (every object, conflict, text and mark) as in the oracle (automerge 0.12).
//!
//! - real-docs (`*.amrg`, `*.automerge`; the sync message and the JSON traces are skipped),
//! - egwalker (`*.am`),
//! - fixtures: both loaders must agree on acceptance, and on content when both accept.
//!
//! `godot-thread.amrg` (3.3 MB, 9.4 million values) has its own test; it takes a few seconds in
//! release builds.

#[path = "doc_tree/mod.rs"]
mod doc_tree;

use doc_tree::patches::{oracle_patch, ours_patch};

use std::path::PathBuf;

use automerge::{Automerge, LoadOptions, TextEncoding};
use converge_doc::{Document, ROOT};
use doc_tree::{first_diff, oracle_heads, oracle_tree, ours_heads, ours_tree, plain_of};

fn corpus(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/automerge-corpus")
        .join(dir)
}

/// The files of `dir` whose names end with one of `exts`, sorted.
fn files(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(corpus(dir))
        .unwrap_or_else(|e| panic!("corpus {dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            exts.iter().any(|ext| name.ends_with(ext))
        })
        .collect();
    out.sort();
    out
}

fn oracle_load(bytes: &[u8]) -> Result<Automerge, automerge::AutomergeError> {
    Automerge::load_with_options(
        bytes,
        LoadOptions::new().text_encoding(TextEncoding::UnicodeCodePoint),
    )
}

/// Loads `path` in both and compares everything; returns the document's size for the report.
fn compare(path: &PathBuf) -> usize {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let bytes = std::fs::read(path).expect("read corpus file");
    let oracle = oracle_load(&bytes).unwrap_or_else(|e| panic!("{name}: oracle: {e}"));
    let ours = Document::load(&bytes).unwrap_or_else(|e| panic!("{name}: converge: {e}"));
    assert_eq!(
        ours_heads(&ours.heads()),
        oracle_heads(&oracle.get_heads()),
        "{name}: heads"
    );
    let a = ours_tree(&ours, None);
    let b = oracle_tree(&oracle, None);
    assert!(a == b, "{name}: documents differ: {}", first_diff(&a, &b));
    let plain = plain_of(&ours.value_tree(&ROOT).expect("root"));
    assert!(
        plain == a.plain(),
        "{name}: value_tree disagrees with get_all"
    );
    let patches = compare_diffs(name, &ours, &oracle);
    println!(
        "{name}: {} bytes, {} changes, same document ({} values/elements), same patches \
         ({patches} in four diffs)",
        bytes.len(),
        ours.change_count(),
        a.size()
    );
    a.size()
}

/// Diffs on both sides, patch for patch: the whole document from no heads, the last change,
/// and from the middle change to the heads and back. Returns the patches compared.
fn compare_diffs(name: &str, ours: &Document, oracle: &Automerge) -> usize {
    let changes = ours.get_changes(&[]);
    let heads = ours.heads();
    let last = changes
        .last()
        .map(|c| c.deps().to_vec())
        .unwrap_or_default();
    let middle = changes
        .get(changes.len() / 2)
        .map(|c| vec![c.hash()])
        .unwrap_or_default();
    let theirs = |h: &[converge_encoding::ChangeHash]| -> Vec<automerge::ChangeHash> {
        h.iter().map(|h| automerge::ChangeHash(h.0)).collect()
    };
    let mut n = 0;
    for (from, to) in [
        (Vec::new(), heads.clone()),
        (last, heads.clone()),
        (middle.clone(), heads.clone()),
        (heads, middle),
    ] {
        let a: Vec<String> = ours
            .diff_as_automerge(&ROOT, &from, &to, true)
            .expect("diff")
            .iter()
            .map(ours_patch)
            .collect();
        let b: Vec<String> = oracle
            .diff(&theirs(&from), &theirs(&to))
            .iter()
            .map(oracle_patch)
            .collect();
        if a != b {
            let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            panic!(
                "{name}: diff from {} to {} heads: patch {i} of {}/{} differs: {:?} vs {:?}",
                from.len(),
                to.len(),
                a.len(),
                b.len(),
                a.get(i),
                b.get(i)
            );
        }
        n += a.len();
    }
    n
}

#[test]
fn real_docs_load_alike() {
    let files: Vec<PathBuf> = files("real-docs", &[".amrg", ".automerge"])
        .into_iter()
        .filter(|p| !p.ends_with("godot-thread.amrg"))
        .collect();
    assert!(files.len() >= 6, "corpus missing? {files:?}");
    for f in &files {
        compare(f);
    }
}

/// 3.3 MB; its own test so that it runs in parallel with the others.
#[test]
fn godot_thread_loads_alike() {
    compare(&corpus("real-docs").join("godot-thread.amrg"));
}

#[test]
fn egwalker_docs_load_alike() {
    let files = files("egwalker", &[".am"]);
    assert!(files.len() >= 7, "corpus missing? {files:?}");
    for f in &files {
        compare(f);
    }
}

#[test]
fn fixtures_load_alike() {
    let files = files("fixtures", &[".automerge"]);
    assert!(!files.is_empty());
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let bytes = std::fs::read(path).expect("read fixture");
        let theirs = std::panic::catch_unwind(|| oracle_load(&bytes));
        let ours = Document::load(&bytes);
        match (theirs, ours) {
            (Ok(Ok(oracle)), Ok(ours)) => {
                assert_eq!(
                    ours_heads(&ours.heads()),
                    oracle_heads(&oracle.get_heads()),
                    "{name}: heads"
                );
                let a = ours_tree(&ours, None);
                let b = oracle_tree(&oracle, None);
                assert!(a == b, "{name}: documents differ: {}", first_diff(&a, &b));
                println!("{name}: both load, same document");
            }
            (Ok(Err(e)), Err(ours)) => println!("{name}: both refuse ({e} / {ours})"),
            (Err(_), ours) => println!("{name}: oracle panics; converge: {:?}", ours.err()),
            (Ok(Ok(_)), Err(e)) => panic!("{name}: oracle loads it, converge refuses: {e}"),
            (Ok(Err(e)), Ok(_)) => panic!("{name}: oracle refuses it ({e}), converge loads it"),
        }
    }
}

/// The changes a loaded document hands out are the oracle's: same hashes, chunk bytes and
/// messages. essay.amrg tags every change with a message (10 distinct texts); converge
/// rebuilds its changes from the document chunk, stores them without what its graph and its
/// message table hold, and writes that back on read.
#[test]
fn changes_of_a_loaded_document_match_the_oracle() {
    let bytes = std::fs::read(corpus("real-docs").join("essay.amrg")).expect("read essay");
    let oracle = oracle_load(&bytes).expect("oracle loads");
    let ours = Document::load(&bytes).expect("converge loads");
    let theirs: std::collections::HashMap<[u8; 32], automerge::Change> = oracle
        .get_changes(&[])
        .into_iter()
        .map(|c| (c.hash().0, c))
        .collect();
    let mine = ours.get_changes(&[]);
    assert_eq!(mine.len(), theirs.len());
    let mut with_message = 0;
    for change in &mine {
        let other = theirs
            .get(&change.hash().0)
            .unwrap_or_else(|| panic!("{:?}: not in the oracle", change.hash()));
        assert_eq!(
            change.bytes().as_ref(),
            other.raw_bytes(),
            "{:?}",
            change.hash()
        );
        assert_eq!(change.message(), other.message(), "{:?}", change.hash());
        with_message += usize::from(change.message().is_some());
    }
    assert!(with_message > 200_000, "{with_message}");
}

/// Forks at earlier heads of the corpus documents are automerge 0.12's `fork_at`: the same
/// changes in the same order (converge loads a document chunk of them, written from its op
/// set, where automerge applies them again) and the same saved bytes. The heads are early
/// ones (a tenth of the way in; a sixteenth and a sixth together), so that automerge's
/// replays stay short; egwalker's histories are concurrent (several actors' branches), so
/// the order a walk from the heads gives is not the history's.
#[test]
fn forks_of_corpus_documents_match_the_oracle() {
    let mut paths: Vec<PathBuf> = files("real-docs", &[".amrg", ".automerge"])
        .into_iter()
        .filter(|p| !p.ends_with("godot-thread.amrg"))
        .collect();
    paths.extend(files("egwalker", &[".am"]));
    let mut forks = 0;
    for path in &paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let bytes = std::fs::read(path).expect("read corpus file");
        let oracle = oracle_load(&bytes).unwrap_or_else(|e| panic!("{name}: oracle: {e}"));
        let ours = Document::load(&bytes).unwrap_or_else(|e| panic!("{name}: converge: {e}"));
        let changes = ours.get_changes(&[]);
        let n = changes.len();
        if n < 16 {
            continue;
        }
        let at = |k: usize| changes[k].hash();
        for heads in [vec![at(n / 10)], vec![at(n / 16), at(n / 6)]] {
            let theirs: Vec<automerge::ChangeHash> =
                heads.iter().map(|h| automerge::ChangeHash(h.0)).collect();
            let mut a = ours.fork_at(&heads).expect("fork_at");
            let b = oracle.fork_at(&theirs).expect("oracle fork_at");
            let ours_order: Vec<[u8; 32]> = a.get_changes(&[]).iter().map(|c| c.hash().0).collect();
            let oracle_order: Vec<[u8; 32]> =
                b.get_changes(&[]).iter().map(|c| c.hash().0).collect();
            assert!(
                ours_order == oracle_order,
                "{name}: a fork at {} heads holds {} changes in another order than the \
                 oracle's {}",
                heads.len(),
                ours_order.len(),
                oracle_order.len()
            );
            assert!(
                a.save() == b.save(),
                "{name}: the save of a fork at {} heads",
                heads.len()
            );
            forks += 1;
        }
    }
    assert!(forks >= 16, "{forks} forks");
}
