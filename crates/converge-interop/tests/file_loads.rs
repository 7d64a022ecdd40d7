//! Files of many chunks load as automerge 0.12 loads them, down to the order the changes are
//! applied in (which a save writes): change chunks in any order, and bundle chunks
//! (`Automerge::bundle`, experimental in 0.12), with `load` and with `load_incremental`
//! after the changes they depend on. Same changes, heads and saved bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use converge_doc::Document;
use support::{History, Params};

const SEEDS: u64 = 120;

/// The change chunks back to back.
fn concat<'a>(changes: impl IntoIterator<Item = &'a automerge::Change>) -> Vec<u8> {
    let mut out = Vec::new();
    for c in changes {
        out.extend_from_slice(c.raw_bytes());
    }
    out
}

/// Loads `file` on both sides, then (if given) `more` incrementally; checks that both save
/// the same bytes and returns our document.
fn loads_alike(file: &[u8], more: Option<&[u8]>, ctx: &str) -> Document {
    let mut ours = Document::load(file).unwrap_or_else(|e| panic!("{ctx}: our load: {e}"));
    let mut oracle = automerge::Automerge::load(file).unwrap();
    if let Some(more) = more {
        ours.load_incremental(more).unwrap();
        oracle.load_incremental(more).unwrap();
    }
    assert_eq!(ours.save_nocompress(), oracle.save_nocompress(), "{ctx}");
    ours
}

#[test]
fn bundles_load_as_in_the_oracle() {
    let (mut files, mut changes) = (0, 0);
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.is_empty() {
            continue;
        }
        let hashes: Vec<automerge::ChangeHash> = all.iter().map(|c| c.hash()).collect();
        let split = (seed as usize * 7) % all.len();
        // The whole history as one bundle, loaded on its own.
        let whole = history.merged.bundle(hashes.clone()).unwrap();
        let ours = loads_alike(whole.bytes(), None, &format!("seed {seed}: loaded bundle"));
        assert_eq!(ours.change_count(), all.len(), "seed {seed}");
        // The changes after `split` as a bundle, after the ones before as change chunks: once
        // concatenated into one file, once as an incremental load.
        let prefix = concat(&all[..split]);
        let tail = history.merged.bundle(hashes[split..].to_vec()).unwrap();
        let mut file = prefix.clone();
        file.extend_from_slice(tail.bytes());
        loads_alike(&file, None, &format!("seed {seed}: changes then a bundle"));
        let ours = loads_alike(
            &prefix,
            Some(tail.bytes()),
            &format!("seed {seed}: incremental load of a bundle"),
        );
        assert_eq!(ours.change_count(), all.len(), "seed {seed}");
        files += 3;
        changes += all.len();
    }
    println!("{files} files with bundles of {changes} changes load as in the oracle");
    assert!(changes > 1000);
}

/// The changes as change chunks, in the history's order, reversed, and shuffled, with
/// `load` and with `load_incremental` after a prefix: the reference applies each file's
/// changes as one batch, in its causal queue's order, and so must we.
#[test]
fn change_files_apply_in_the_oracles_order() {
    let mut files = 0;
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        let mut rng = support::SplitMix64::new(seed ^ 0xf11e);
        let mut orders: Vec<Vec<usize>> = vec![(0..all.len()).collect()];
        orders.push((0..all.len()).rev().collect());
        let mut shuffled: Vec<usize> = (0..all.len()).collect();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i + 1));
        }
        orders.push(shuffled);
        for order in &orders {
            let file = concat(order.iter().map(|&i| &all[i]));
            loads_alike(&file, None, &format!("seed {seed}: change file {order:?}"));
            // The first third loaded, the rest incrementally.
            let cut = order.len() / 3;
            let rest = concat(order.iter().filter(|&&i| i >= cut).map(|&i| &all[i]));
            loads_alike(
                &concat(&all[..cut]),
                Some(&rest),
                &format!("seed {seed}: incremental change file {order:?}"),
            );
            files += 2;
        }
    }
    println!("{files} change files load as in the oracle");
}

/// Change chunks followed by a whole document, and a document followed by a bundle of
/// changes it already has plus the rest: the document's changes join the batch (the
/// reference reconstructs them into it), and the result saves the oracle's bytes.
#[test]
fn documents_after_changes_join_the_batch_as_in_the_oracle() {
    let mut files = 0;
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.len() < 3 {
            continue;
        }
        let doc = history.merged.save();
        let cut = all.len() / 3;
        let mut file = concat(all[..cut].iter().rev());
        file.extend_from_slice(&doc);
        loads_alike(
            &file,
            None,
            &format!("seed {seed}: changes then a document"),
        );
        let hashes: Vec<automerge::ChangeHash> = all.iter().map(|c| c.hash()).collect();
        let bundle = history.merged.bundle(hashes[cut..].to_vec()).unwrap();
        let mut file = automerge::Automerge::load(&concat(&all[..cut]))
            .unwrap()
            .save();
        file.extend_from_slice(bundle.bytes());
        loads_alike(
            &file,
            None,
            &format!("seed {seed}: a document then a bundle"),
        );
        files += 2;
    }
    println!("{files} files mixing documents with changes load as in the oracle");
}

/// A sync message whose changes are a bundle (automerge 0.12 peers send none, but their
/// receive, `load_incremental`, takes one): both receivers end with the same document.
#[test]
fn a_bundle_in_a_sync_message_applies_as_in_the_oracle() {
    use converge_sync::{MessageVersion, SyncMessage, SyncState, receive_sync_message};
    let mut messages = 0;
    for seed in support::sweep(40) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.len() < 2 {
            continue;
        }
        let cut = all.len() / 2;
        let prefix = concat(&all[..cut]);
        let hashes: Vec<automerge::ChangeHash> = all.iter().map(|c| c.hash()).collect();
        let bundle = history.merged.bundle(hashes[cut..].to_vec()).unwrap();
        for version in [MessageVersion::V1, MessageVersion::V2] {
            let message = SyncMessage {
                version,
                heads: history
                    .heads()
                    .iter()
                    .map(|h| converge_encoding::ChangeHash(h.0))
                    .collect(),
                need: vec![],
                have: vec![],
                changes: vec![bytes::Bytes::from(bundle.bytes().to_vec())],
                flags: None,
            };
            let encoded = message.encode();
            let mut ours = Document::load(&prefix).unwrap();
            let decoded = SyncMessage::decode(&encoded).unwrap();
            receive_sync_message(&mut ours, &mut SyncState::new(), decoded).unwrap();
            let mut oracle = automerge::Automerge::load(&prefix).unwrap();
            let theirs = automerge::sync::Message::decode(&encoded).unwrap();
            automerge::sync::SyncDoc::receive_sync_message(
                &mut oracle,
                &mut automerge::sync::State::new(),
                theirs,
            )
            .unwrap();
            assert_eq!(ours.change_count(), all.len(), "seed {seed} {version:?}");
            assert_eq!(
                ours.save_nocompress(),
                oracle.save_nocompress(),
                "seed {seed} {version:?}"
            );
            messages += 1;
        }
    }
    println!("{messages} sync messages carrying a bundle apply as in the oracle");
}
