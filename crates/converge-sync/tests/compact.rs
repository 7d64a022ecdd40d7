//! Compact `have` lists (the default `HaveStrategy`) between history-only peers: what they
//! send, that they converge in no more rounds than reference mode and in far fewer bytes, that
//! a Bloom filter claiming everything still converges, and that our answer to several Haves
//! with hashes we do not know is the reference's (spec sync.md §5.1).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use converge_bloom::BloomFilter;
use converge_encoding::ChangeHash;
use converge_sync::{
    COMPACT_PROBE_THRESHOLD, Have, HaveStrategy, MAX_CONSULTED_FILTERS, MessageFlags,
    MessageVersion, SyncDoc, SyncMessage, SyncState, generate_sync_message, receive_sync_message,
};
use support::{MemoryStore, history, same, sync_pair as session};

fn extend(s: &mut MemoryStore, actor: u8, n: usize) {
    for i in 0..n {
        s.commit(actor, &[i as u8, (i >> 8) as u8, 0xee]);
    }
}

/// Both strategies on the same pair; returns ((rounds, bytes) compact, reference).
fn both(
    a: &MemoryStore,
    b: &MemoryStore,
    persisted: Option<(&SyncState, &SyncState)>,
) -> ((usize, usize), (usize, usize)) {
    let mut out = Vec::new();
    for strategy in [HaveStrategy::Compact, HaveStrategy::Reference] {
        let (mut a, mut b) = (a.clone(), b.clone());
        let (mut sa, mut sb) = match persisted {
            Some((sa, sb)) => (
                SyncState::decode(&sa.encode()).unwrap(),
                SyncState::decode(&sb.encode()).unwrap(),
            ),
            None => (SyncState::new(), SyncState::new()),
        };
        sa.have_strategy = strategy;
        sb.have_strategy = strategy;
        out.push(session(&mut a, &mut sa, &mut b, &mut sb, &same));
        assert_eq!(a.heads(), b.heads(), "{strategy:?}: heads differ");
        assert_eq!(a.num_changes(), b.num_changes());
    }
    (out[0], out[1])
}

#[test]
fn compact_is_the_default_and_not_persisted() {
    assert_eq!(SyncState::new().have_strategy, HaveStrategy::Compact);
    let s = SyncState::with_strategy(HaveStrategy::Reference);
    assert_eq!(
        SyncState::decode(&s.encode()).unwrap().have_strategy,
        HaveStrategy::Compact
    );
    let mut ro = SyncState::with_strategy(HaveStrategy::Reference);
    ro.set_read_only(true);
    ro.set_read_only(false);
    assert_eq!(ro.have_strategy, HaveStrategy::Reference);
}

#[test]
fn into_an_empty_peer_costs_about_the_document() {
    let a = history(1, 5000);
    let doc_len = a.save_document().len();
    for a_first in [true, false] {
        let (mut x, mut y) = (a.clone(), MemoryStore::new());
        let (mut sx, mut sy) = (SyncState::new(), SyncState::new());
        let (rounds, bytes) = if a_first {
            session(&mut x, &mut sx, &mut y, &mut sy, &same)
        } else {
            session(&mut y, &mut sy, &mut x, &mut sx, &same)
        };
        assert_eq!(y.num_changes(), 5000);
        assert!(rounds <= 3, "{rounds} rounds");
        // The document, plus under 2 kB of probes and small Haves (the reference sends a
        // 6 kB filter of all 5,000 changes twice).
        assert!(bytes < doc_len + 2_000, "{bytes} bytes for {doc_len}");
    }
    let (compact, reference) = both(&a, &MemoryStore::new(), None);
    assert!(compact.0 <= reference.0);
    assert!(
        compact.1 + 10_000 < reference.1,
        "{compact:?} vs {reference:?}"
    );
}

#[test]
fn diverged_peers_with_fresh_states_send_little_more_than_the_changes() {
    for (shared, divergent) in [(5000, 10), (5000, 100), (3000, 700), (1200, 30), (300, 20)] {
        let base = history(1, shared);
        let (mut a, mut b) = (base.clone(), base);
        extend(&mut a, 2, divergent);
        extend(&mut b, 3, divergent);
        let (compact, reference) = both(&a, &b, None);
        assert!(compact.0 <= reference.0, "{shared}+{divergent}: rounds");
        assert!(
            compact.1 <= reference.1,
            "{shared}+{divergent}: {compact:?} {reference:?}"
        );
        if shared >= 3000 {
            // The changes themselves: 2 × divergent × ~45 bytes.
            let raw = 2 * divergent * 45;
            assert!(
                compact.1 < raw + 4_000,
                "{shared}+{divergent}: {} bytes for {raw} of changes",
                compact.1
            );
        }
    }
}

#[test]
fn persisted_states_stay_as_cheap_as_the_reference() {
    let base = history(1, 4000);
    let (mut a, mut b) = (base.clone(), MemoryStore::new());
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    session(&mut a, &mut sa, &mut b, &mut sb, &same);
    extend(&mut a, 2, 50);
    extend(&mut b, 3, 50);
    let (compact, reference) = both(&a, &b, Some((&sa, &sb)));
    assert!(compact.0 <= reference.0);
    assert!(compact.1 <= reference.1, "{compact:?} vs {reference:?}");
}

#[test]
fn a_first_message_probes_when_it_knows_nothing() {
    let a = history(1, 3000);
    let mut s = SyncState::new();
    let m = generate_sync_message(&a, &mut s).unwrap();
    assert_eq!(m.have.len(), 2);
    assert!(m.have[0].last_sync.is_empty());
    assert!(m.have[0].bloom.num_entries() as usize <= 300);
    assert!(m.have[1].bloom.is_empty());
    let probes = &m.have[1].last_sync;
    assert!(probes.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(probes.contains(&a.heads()[0]));
    assert!(probes.contains(&a.change_hash_at(0).unwrap()));
    assert!(probes.iter().all(|h| a.has_change(h)));
    assert!(probes.len() < 40, "{} probes", probes.len());

    // Below the threshold: the reference's single Have.
    let small = history(1, COMPACT_PROBE_THRESHOLD);
    let m = generate_sync_message(&small, &mut SyncState::new()).unwrap();
    assert_eq!(m.have.len(), 1);
    assert_eq!(
        m.have[0].bloom.num_entries() as usize,
        COMPACT_PROBE_THRESHOLD
    );
}

#[test]
fn bloom_that_claims_everything_still_converges_with_probes() {
    let saturated = BloomFilter::decode(&[0x01, 0x0a, 0x07, 0xff, 0xff]).unwrap();
    let tamper = move |mut m: SyncMessage| {
        for h in &mut m.have {
            h.bloom = saturated.clone();
        }
        m
    };
    let base = history(1, 2000);
    let (mut a, mut b) = (base.clone(), base);
    extend(&mut a, 2, 40);
    extend(&mut b, 3, 40);
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    session(&mut a, &mut sa, &mut b, &mut sb, &tamper);
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.num_changes(), 2080);
}

/// What `us` sends to a peer (heads `their_heads`) that sent `have`.
fn answer_to(us: &MemoryStore, their_heads: Vec<ChangeHash>, have: Vec<Have>) -> Vec<ChangeHash> {
    let msg = SyncMessage {
        version: MessageVersion::V1,
        heads: their_heads,
        need: Vec::new(),
        have,
        changes: Vec::new(),
        flags: Some(MessageFlags::from_bits(MessageFlags::SUPPORTS_SYNC_RESET)),
    };
    let mut us = us.clone();
    let mut state = SyncState::with_strategy(HaveStrategy::Reference);
    receive_sync_message(&mut us, &mut state, msg).unwrap();
    let reply = generate_sync_message(&us, &mut state).unwrap();
    assert!(!reply.changes.is_empty(), "no changes (a reset?)");
    let mut all = Vec::new();
    for c in &reply.changes {
        all.extend_from_slice(c);
    }
    let mut out = support::chunk_hashes(&all);
    out.sort_unstable();
    out
}

/// Two peers, 300 shared changes and 10 of their own each; b's have of a filter of all its
/// changes; a's answer to it (a's 10 changes).
fn diverged_with_a_full_filter() -> (MemoryStore, MemoryStore, MemoryStore, Have, Vec<ChangeHash>) {
    let base = history(1, 300);
    let (mut a, mut b) = (base.clone(), base.clone());
    extend(&mut a, 2, 10);
    extend(&mut b, 3, 10);
    let b_all: Vec<ChangeHash> = b.changes.iter().map(|c| c.hash).collect();
    let full = Have {
        last_sync: vec![],
        bloom: BloomFilter::from_hashes(b_all.iter()),
    };
    let control = answer_to(&a, b.heads(), vec![full.clone()]);
    assert_eq!(control.len(), 10);
    (base, a, b, full, control)
}

#[test]
fn our_answer_skips_unknown_hashes_in_later_haves_and_covers_known_ones() {
    let (base, a, b, full, control) = diverged_with_a_full_filter();
    let unknown = Have {
        last_sync: vec![ChangeHash([1; 32]), ChangeHash([2; 32])],
        bloom: BloomFilter::default(),
    };
    assert_eq!(
        answer_to(&a, b.heads(), vec![full, unknown.clone()]),
        control
    );
    // A known probe covers its ancestors: with it and an empty filter, the answer is every
    // change of ours after the probe.
    let probe = base.changes[279].hash;
    let got = answer_to(
        &a,
        b.heads(),
        vec![
            Have::default(),
            Have {
                last_sync: vec![probe],
                bloom: BloomFilter::default(),
            },
            unknown,
        ],
    );
    assert_eq!(got.len(), 20 + 10);
}

#[test]
fn our_answer_consults_a_bounded_number_of_filters() {
    let (_, a, b, full, control) = diverged_with_a_full_filter();
    // Empty filters contain nothing and a repeated filter says nothing new: thousands of
    // them, before and after, leave the answer as it was.
    let mut many = vec![Have::default(); 2000];
    many.push(full.clone());
    many.extend(std::iter::repeat_n(full.clone(), 2000));
    assert_eq!(answer_to(&a, b.heads(), many), control);
    // Distinct filters that claim none of our changes (each of one hash we do not have).
    let other = |i: u8| Have {
        last_sync: vec![],
        bloom: BloomFilter::from_hashes([ChangeHash([i; 32])]),
    };
    let mut within: Vec<Have> = (1..MAX_CONSULTED_FILTERS as u8).map(other).collect();
    within.push(full.clone());
    assert_eq!(answer_to(&a, b.heads(), within), control);
    // Past the bound a filter is not consulted: the changes only it claims are sent anyway
    // (every change of ours since nothing).
    let mut past: Vec<Have> = (1..=MAX_CONSULTED_FILTERS as u8).map(other).collect();
    past.push(full);
    assert_eq!(answer_to(&a, b.heads(), past).len(), 310);
}
