//! The patches of changes arriving (`apply_changes_with_patches`, `merge_with_patches`,
//! `load_incremental_with_patches`) against automerge 0.12's patch log
//! (`apply_changes_log_patches` and `make_patches`), on the seeded random histories of
//! `support`: every replica receiving what the others made. converge's patches are its
//! `diff` between the heads before and after; in automerge's own form
//! (`diff_as_automerge`) they are automerge's `diff` between those heads, patch for patch.
//! automerge's log reports the same change of state, but not always in the same patches as
//! its diff (a key that became conflicted reported as a conflict rather than a put, marks
//! removed reported as null marks on spliced text): counted, not compared.

use crate::doc_tree::patches::{oracle_patch, ours_patch};
use crate::support::{History, Params, sweep};
use converge_doc::{Document, ROOT};

#[test]
fn patches_of_arriving_changes_are_automerge_s_logged_patches() {
    let (mut receipts, mut patches, mut differ) = (0, 0, 0);
    for seed in sweep(200) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        for replica in 0..history.replicas.len() {
            let saved = history.replicas[replica].save();
            let mut theirs = automerge::Automerge::load(&saved).unwrap();
            let mut ours = Document::load(&saved).unwrap();
            let before = ours.heads();
            let mut log = automerge::PatchLog::active();
            theirs
                .apply_changes_log_patches(all.iter().cloned(), &mut log)
                .unwrap();
            let logged: Vec<String> = theirs
                .make_patches(&mut log)
                .iter()
                .map(oracle_patch)
                .collect();
            let their_before: Vec<automerge::ChangeHash> =
                before.iter().map(|h| automerge::ChangeHash(h.0)).collect();
            let expected: Vec<String> = theirs
                .diff(&their_before, &theirs.get_heads())
                .iter()
                .map(oracle_patch)
                .collect();
            if logged != expected {
                differ += 1;
            }

            let converted: Vec<converge_encoding::Change> = all
                .iter()
                .map(|c| {
                    converge_encoding::Change::decode(bytes::Bytes::copy_from_slice(c.raw_bytes()))
                        .unwrap()
                })
                .collect();
            let mut via_merge = ours.clone();
            let got = ours.apply_changes_with_patches(converted).unwrap();
            assert_eq!(
                got,
                ours.diff(&before, &ours.heads()).unwrap(),
                "seed {seed}"
            );
            let as_automerge: Vec<String> = ours
                .diff_as_automerge(&ROOT, &before, &ours.heads(), true)
                .unwrap()
                .iter()
                .map(ours_patch)
                .collect();
            if as_automerge != expected {
                eprintln!(
                    "before {:?}",
                    Document::load(&saved).unwrap().get_all(&ROOT, "").unwrap()
                );
                eprintln!("after {:?}", ours.get_all(&ROOT, "").unwrap());
                eprintln!("ours {as_automerge:#?}\ntheirs {expected:#?}\nlogged {logged:#?}");
                let i = as_automerge
                    .iter()
                    .zip(&expected)
                    .take_while(|(a, b)| a == b)
                    .count();
                panic!(
                    "seed {seed} replica {replica}: patch {i} of {}/{}: {:?} vs {:?}",
                    as_automerge.len(),
                    expected.len(),
                    as_automerge.get(i),
                    expected.get(i)
                );
            }
            // A merge of the whole document, and a load of its changes, report the same.
            let merged = Document::load(&history.merged.save()).unwrap();
            assert_eq!(
                via_merge.clone().merge_with_patches(&merged).unwrap(),
                got,
                "seed {seed}"
            );
            assert_eq!(
                via_merge
                    .load_incremental_with_patches(&history.merged.save())
                    .unwrap(),
                got,
                "seed {seed}"
            );
            receipts += 1;
            patches += got.len();
        }
    }
    eprintln!(
        "{receipts} receipts, {patches} patches alike; automerge's log differed from its own \
         diff in {differ}"
    );
}
