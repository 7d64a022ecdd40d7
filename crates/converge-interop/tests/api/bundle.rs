//! `bundle` against automerge 0.12's, on the seeded random histories of `support`: for the
//! whole history, its last few changes and a random subset, converge writes the bytes
//! automerge writes (where automerge's are deterministic: with several deletions of one key
//! or element among the changes it orders them by a hash map), each side reads the other's
//! bundle back to exactly the changes asked for, and a bundle of the whole history loads in
//! automerge to the document it came from (its heads and values).

use std::collections::BTreeSet;

use crate::support::{SplitMix64, loaded_pair, sweep};
use converge_encoding::{Bundle, ChangeHash};

fn oracle_hashes(hashes: &[ChangeHash]) -> Vec<automerge::ChangeHash> {
    hashes
        .iter()
        .map(|h| automerge::ChangeHash(*h.as_bytes()))
        .collect()
}

#[test]
fn bundles_are_automerge_s() {
    let (mut bundles, mut identical, mut unordered, mut bytes, mut separate) = (0, 0, 0, 0, 0);
    let mut drawn = 0;
    for seed in sweep(300) {
        let (ours, theirs) = loaded_pair(seed, &[0x77; 16]);
        let all: Vec<ChangeHash> = ours.get_changes(&[]).iter().map(|c| c.hash()).collect();
        let mut rng = SplitMix64::new(seed ^ 0xb0d1e);
        let tail = all.len().saturating_sub(rng.below(4) + 1);
        let some: Vec<ChangeHash> = all.iter().copied().filter(|_| rng.percent(40)).collect();
        for picked in [all.clone(), all[tail..].to_vec(), some] {
            if picked.is_empty() {
                continue;
            }
            let what = format!("seed {seed}, {} of {} changes", picked.len(), all.len());
            let got = ours.bundle(&picked).unwrap();
            let theirs_bundle = theirs.bundle(oracle_hashes(&picked)).unwrap();
            let expected = theirs_bundle.bytes().to_vec();
            bundles += 1;
            bytes += got.len();
            separate += picked
                .iter()
                .map(|h| ours.get_change_by_hash(h).unwrap().bytes().len())
                .sum::<usize>();
            if got == expected {
                identical += 1;
            } else {
                // automerge orders several deletions of one key by a hash map: its bytes
                // differ from one call to the next then (two deletions keep their order
                // through 40 calls once in 2^39).
                let again = theirs.bundle(oracle_hashes(&picked)).unwrap();
                let stable = (0..40).all(|_| {
                    theirs.bundle(oracle_hashes(&picked)).unwrap().bytes() == again.bytes()
                });
                assert!(!stable, "{what}: bundles differ");
                unordered += 1;
                // Then converge's bytes are usually one of the orders automerge draws.
                if (0..64).any(|_| theirs.bundle(oracle_hashes(&picked)).unwrap().bytes() == got) {
                    drawn += 1;
                }
            }
            // Each side reads the other's bundle to the changes asked for.
            let wanted: BTreeSet<[u8; 32]> = picked.iter().map(|h| *h.as_bytes()).collect();
            let from_theirs: BTreeSet<[u8; 32]> = Bundle::decode(&expected)
                .unwrap()
                .changes()
                .iter()
                .map(|c| *c.hash().as_bytes())
                .collect();
            assert_eq!(from_theirs, wanted, "{what}: converge reads automerge's");
            let read: automerge::Bundle = automerge::Bundle::try_from(&got[..]).unwrap();
            let from_ours: BTreeSet<[u8; 32]> = read
                .to_changes()
                .unwrap()
                .iter()
                .map(|c| c.hash().0)
                .collect();
            assert_eq!(from_ours, wanted, "{what}: automerge reads converge's");
        }
        // The whole history's bundle loads in automerge to the same document.
        let whole = ours.bundle(&all).unwrap();
        let mut loaded = automerge::Automerge::new();
        loaded.load_incremental(&whole).unwrap();
        assert_eq!(
            loaded.get_heads(),
            theirs.get_heads(),
            "seed {seed}: heads of the loaded bundle"
        );
        // (Its save may list the changes in another order: automerge applies a loaded
        // bundle's changes in an order of its own.)
        assert_eq!(loaded.hydrate(None), theirs.hydrate(None), "seed {seed}");
    }
    eprintln!(
        "{bundles} bundles: {identical} byte for byte automerge's, {unordered} where automerge's \
         order of deletions varies (converge's among 64 of its draws in {drawn}); {bytes} bytes \
         against {separate} as change chunks"
    );
}
