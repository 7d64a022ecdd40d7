//! `get_changes_meta` and `get_change_meta_by_hash` against automerge 0.12's, on the seeded
//! random histories of `support` (authors, messages, times, empty changes, many actors): the
//! same changes in the same order, field for field, since nothing and since random heads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use converge_doc::{ChangeMetadata, Document};
use converge_encoding::ChangeHash;
use support::{History, Params, SplitMix64, sweep};

/// Histories compared in `make test`.
const SEEDS: u64 = 150;

/// The fields of a metadata record, as comparable values.
type Fields = (
    [u8; 32],
    Vec<u8>,
    Option<Vec<u8>>,
    u64,
    u64,
    u64,
    i64,
    Option<String>,
    Vec<[u8; 32]>,
    Vec<u8>,
);

fn ours(m: &ChangeMetadata) -> Fields {
    (
        m.hash.0,
        m.actor.as_bytes().to_vec(),
        m.author.as_ref().map(|a| a.as_bytes().to_vec()),
        m.seq,
        m.start_op,
        m.max_op,
        m.time,
        m.message.clone(),
        m.deps.iter().map(|h| h.0).collect(),
        m.extra.clone(),
    )
}

fn theirs(m: &automerge::ChangeMetadata<'_>) -> Fields {
    (
        m.hash.0,
        m.actor.to_bytes().to_vec(),
        m.author.as_ref().map(|a| a.as_bytes().to_vec()),
        m.seq,
        m.start_op,
        m.max_op,
        m.timestamp,
        m.message.as_ref().map(|s| s.to_string()),
        m.deps.iter().map(|h| h.0).collect(),
        m.extra.to_vec(),
    )
}

#[test]
fn change_metadata_matches_the_oracle() {
    let (mut histories, mut records) = (0, 0);
    for seed in sweep(SEEDS) {
        let params = if seed % 2 == 0 {
            Params::varied(seed)
        } else {
            Params::default()
        };
        let mut history = History::generate(seed, &params);
        let saved = history.merged.save();
        let doc = Document::load(&saved).expect("load");
        let oracle = automerge::Automerge::load(&saved).expect("oracle load");
        let changes = doc.get_changes(&[]);
        let mut rng = SplitMix64::new(seed ^ 0x3e7a);
        let mut sinces: Vec<Vec<ChangeHash>> = vec![Vec::new(), doc.heads()];
        for _ in 0..if changes.is_empty() { 0 } else { 3 } {
            let mut since = vec![changes[rng.below(changes.len())].hash()];
            if rng.percent(40) {
                since.push(changes[rng.below(changes.len())].hash());
            }
            sinces.push(since);
        }
        for since in &sinces {
            let theirs_since: Vec<automerge::ChangeHash> =
                since.iter().map(|h| automerge::ChangeHash(h.0)).collect();
            let a: Vec<Fields> = doc.get_changes_meta(since).iter().map(ours).collect();
            let b: Vec<Fields> = oracle
                .get_changes_meta(&theirs_since)
                .iter()
                .map(theirs)
                .collect();
            assert_eq!(a, b, "seed {seed}: since {since:?}");
            // The same changes as `get_changes`, in its order.
            let order: Vec<[u8; 32]> = doc.get_changes(since).iter().map(|c| c.hash().0).collect();
            assert_eq!(a.iter().map(|f| f.0).collect::<Vec<_>>(), order);
            records += a.len();
        }
        for change in changes.iter().take(20) {
            let a = doc
                .get_change_meta_by_hash(&change.hash())
                .map(|m| ours(&m));
            let b = oracle
                .get_change_meta_by_hash(&automerge::ChangeHash(change.hash().0))
                .map(|m| theirs(&m));
            assert_eq!(a, b, "seed {seed}: {}", change.hash());
        }
        assert!(doc.get_change_meta_by_hash(&ChangeHash([9; 32])).is_none());
        histories += 1;
    }
    println!("{histories} histories, {records} metadata records compared");
}
