//! Document chunks: every document the oracle saves (`save()` with deflated columns and
//! `save_nocompress()`) decodes with `converge_encoding::DocumentChunk`, reconstructs every
//! change with the oracle's bytes and hashes, and re-encodes to bytes the oracle loads back with
//! the same heads and changes. The byte-identical rate of our re-encoding is printed (and must
//! stay at 100% for uncompressed documents).

mod support;

use std::collections::BTreeSet;

use automerge::{AutoCommit, Automerge};
use converge_encoding::DocumentChunk;
use support::{History, Params};

/// Seeds swept; each gives the merged document plus one document per replica.
const SEEDS: u64 = 60;

#[derive(Default)]
struct Tally {
    documents: usize,
    changes: usize,
    order_matches: usize,
    identical_plain: usize,
    identical_compressed: usize,
    with_deflated_columns: usize,
}

#[test]
fn oracle_documents_roundtrip() {
    let mut tally = Tally::default();
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        check_document(
            &format!("seed {seed} merged"),
            &mut history.merged,
            &mut tally,
        );
        for (i, replica) in history.replicas.iter_mut().enumerate() {
            check_document(&format!("seed {seed} replica {i}"), replica, &mut tally);
        }
    }
    println!(
        "{} documents, {} changes reconstructed; change order equal to the oracle's in {}/{}; \
         re-encoding byte-identical: save_nocompress {}/{}, save {}/{} ({} with deflated columns)",
        tally.documents,
        tally.changes,
        tally.order_matches,
        tally.documents,
        tally.identical_plain,
        tally.documents,
        tally.identical_compressed,
        tally.documents,
        tally.with_deflated_columns,
    );
    assert!(tally.documents >= 200, "only {} documents", tally.documents);
    assert_eq!(
        tally.identical_plain, tally.documents,
        "uncompressed re-encoding differs"
    );
    assert!(
        tally.with_deflated_columns >= 20,
        "too few documents with deflated columns"
    );
}

fn check_document(ctx: &str, doc: &mut AutoCommit, tally: &mut Tally) {
    let saved = doc.save();
    let plain = doc.save_nocompress();
    let oracle_changes = doc.get_changes(&[]);
    let oracle_hashes: Vec<[u8; 32]> = oracle_changes.iter().map(|c| c.hash().0).collect();
    let oracle_heads: Vec<[u8; 32]> = doc.get_heads().iter().map(|h| h.0).collect();

    let ours_plain = DocumentChunk::decode(&plain)
        .unwrap_or_else(|e| panic!("{ctx}: decode of save_nocompress() failed: {e}"));
    let ours_saved = DocumentChunk::decode(&saved)
        .unwrap_or_else(|e| panic!("{ctx}: decode of save() failed: {e}"));
    assert_eq!(
        ours_plain, ours_saved,
        "{ctx}: compressed and plain decode differently"
    );
    if saved != plain {
        tally.with_deflated_columns += 1;
    }
    let heads: Vec<[u8; 32]> = ours_plain.heads.iter().map(|h| h.0).collect();
    assert_eq!(heads, oracle_heads, "{ctx}: stored heads");

    // Every change, with the oracle's bytes (hence hash).
    let ours_changes = ours_plain
        .reconstruct_changes()
        .unwrap_or_else(|e| panic!("{ctx}: reconstruct_changes failed: {e}"));
    let ours_hashes: Vec<[u8; 32]> = ours_changes.iter().map(|c| c.hash().0).collect();
    assert_eq!(
        ours_hashes.iter().collect::<BTreeSet<_>>(),
        oracle_hashes.iter().collect::<BTreeSet<_>>(),
        "{ctx}: change hash sets"
    );
    assert_eq!(
        ours_hashes.len(),
        oracle_hashes.len(),
        "{ctx}: change count"
    );
    if ours_hashes == oracle_hashes {
        tally.order_matches += 1;
    }
    for oracle in &oracle_changes {
        let ours = ours_changes
            .iter()
            .find(|c| c.hash().0 == oracle.hash().0)
            .expect("hash sets are equal");
        assert_eq!(
            ours.bytes().as_ref(),
            oracle.raw_bytes(),
            "{ctx}: change bytes"
        );
    }
    tally.changes += ours_changes.len();

    // Our re-encoding: identical where achievable, and loadable by the oracle in any case.
    let again_plain = ours_plain.encode(false);
    let again_saved = ours_plain.encode(true);
    if again_plain == plain {
        tally.identical_plain += 1;
    }
    if again_saved == saved {
        tally.identical_compressed += 1;
    }
    for (what, bytes) in [("plain", &again_plain), ("compressed", &again_saved)] {
        let loaded = Automerge::load(bytes)
            .unwrap_or_else(|e| panic!("{ctx}: oracle refuses our {what} re-encoding: {e}"));
        let heads: Vec<[u8; 32]> = loaded.get_heads().iter().map(|h| h.0).collect();
        assert_eq!(
            heads, oracle_heads,
            "{ctx}: heads after loading our {what} document"
        );
        let hashes: BTreeSet<[u8; 32]> = loaded
            .get_changes_meta(&[])
            .iter()
            .map(|m| m.hash.0)
            .collect();
        assert_eq!(
            hashes,
            oracle_hashes.iter().copied().collect(),
            "{ctx}: changes after loading our {what} document"
        );
    }
    tally.documents += 1;
}

/// The same checks over random seeds (beyond the fixed sweep above), changes included.
#[test]
fn random_seeds_roundtrip() {
    fn prop(seed: u64) -> bool {
        let mut tally = Tally::default();
        let mut history = History::generate(seed, &Params::varied(seed));
        check_document(
            &format!("seed {seed} merged"),
            &mut history.merged,
            &mut tally,
        );
        for change in history.changes() {
            let ours = converge_encoding::Change::decode(bytes::Bytes::copy_from_slice(
                change.raw_bytes(),
            ))
            .unwrap_or_else(|e| panic!("seed {seed}: change decode: {e}"));
            let again = converge_encoding::Change::from_parts(ours.to_parts())
                .unwrap_or_else(|e| panic!("seed {seed}: from_parts: {e}"));
            assert_eq!(again.bytes().as_ref(), change.raw_bytes(), "seed {seed}");
        }
        tally.identical_plain == 1
    }
    quickcheck::QuickCheck::new()
        .tests(40)
        .quickcheck(prop as fn(u64) -> bool);
}
