//! `SyncDoc` for converge-doc's `Document`: the accessors the protocol relies on, and the
//! all-or-nothing application of received changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use converge_doc::{Document, ROOT};
use converge_encoding::{ActorId, ScalarValue};
use converge_sync::{HaveStrategy, SyncDoc, SyncExt, SyncMessage, SyncState};

fn doc(actor: u8, edits: usize) -> Document {
    let mut d = Document::with_actor(ActorId::from_bytes(&[actor]));
    for i in 0..edits {
        d.put(&ROOT, "k", ScalarValue::Int(i as i64)).unwrap();
    }
    d
}

fn sync(a: &mut Document, b: &mut Document) -> usize {
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    let mut rounds = 0;
    loop {
        let mut quiet = true;
        if let Some(m) = a.generate_sync_message(&mut sa) {
            quiet = false;
            b.receive_sync_message(&mut sb, m).unwrap();
        }
        if let Some(m) = b.generate_sync_message(&mut sb) {
            quiet = false;
            a.receive_sync_message(&mut sa, m).unwrap();
        }
        if quiet {
            return rounds;
        }
        rounds += 1;
        assert!(rounds < 20);
    }
}

#[test]
fn save_document_is_save_without_marking() {
    let d = doc(1, 5);
    assert_eq!(d.save_document(), d.clone().save());
}

#[test]
fn missing_deps_walk_through_queued_changes() {
    let a = doc(1, 3);
    let changes = a.get_changes(&[]);
    let mut b = Document::new();
    // Only the last change: it waits in the queue for the second, which waits for the first.
    b.apply_changes([changes[2].clone()]).unwrap();
    let head = changes[2].hash();
    assert!(!SyncDoc::has_change(&b, &head));
    assert_eq!(b.missing_deps_reachable(&[head]), vec![changes[1].hash()]);
    b.apply_changes([changes[1].clone()]).unwrap();
    assert_eq!(b.missing_deps_reachable(&[head]), vec![changes[0].hash()]);
    // Unrelated queued orphans do not show up for other heads (sync.md §5 step 1).
    assert!(b.missing_deps_reachable(&[]).is_empty());
}

#[test]
fn changes_since_and_ancestors_follow_the_clock() {
    let mut a = doc(1, 3);
    let mut b = doc(2, 2);
    sync(&mut a, &mut b);
    assert_eq!(a.heads(), b.heads());
    let all = SyncDoc::changes_since(&a, &[]);
    assert_eq!(all.len(), 5);
    assert!(SyncDoc::changes_since(&a, &a.heads()).is_empty());
    let first = all[0];
    let since_first = SyncDoc::changes_since(&a, &[first]);
    assert_eq!(since_first.len(), 4);
    let candidates: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(
        SyncDoc::ancestors_among(&a, &a.heads(), &candidates).len(),
        5
    );
    assert_eq!(
        SyncDoc::ancestors_among(&a, &[first], &candidates),
        vec![first]
    );
}

#[test]
fn real_documents_sync_to_the_same_values() {
    let mut a = doc(1, 10);
    let mut b = doc(2, 7);
    let rounds = sync(&mut a, &mut b);
    assert!(rounds <= 4, "{rounds} rounds");
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.value_tree(&ROOT).unwrap(), b.value_tree(&ROOT).unwrap());
}

#[test]
fn rejected_changes_leave_document_and_state_unchanged() {
    // Same actor, same seq, different changes: the receiver must refuse the second.
    let mut a = doc(1, 2);
    let mut b = Document::with_actor(ActorId::from_bytes(&[1]));
    for i in 0..3 {
        b.put(&ROOT, "other", ScalarValue::Int(100 + i)).unwrap();
    }
    let mut sa = SyncState::new();
    let mut sb = SyncState::new();
    let hello = b.generate_sync_message(&mut sb).unwrap();
    a.receive_sync_message(&mut sa, hello).unwrap();
    let m = a.generate_sync_message(&mut sa).unwrap();
    assert!(m.changes_len() > 0);
    let (heads, state, tree) = (b.heads(), sb.clone(), b.value_tree(&ROOT).unwrap());
    assert!(b.receive_sync_message(&mut sb, m).is_err());
    assert_eq!(b.heads(), heads);
    assert_eq!(sb, state);
    assert_eq!(b.value_tree(&ROOT).unwrap(), tree);
}

#[test]
fn bad_chunks_fail_on_an_empty_document_and_are_cut_off_otherwise() {
    let a = doc(1, 2);
    let changes = a.get_changes(&[]);
    let garbage = bytes::Bytes::from_static(&[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 9, 9]);

    // Empty document, bad first chunk: an error, nothing changes.
    let mut empty = Document::new();
    let mut state = SyncState::new();
    let mut m = SyncMessage::decode(&[0x42, 0, 0, 0, 0]).unwrap();
    m.changes = vec![garbage.clone()];
    assert!(empty.receive_sync_message(&mut state, m.clone()).is_err());
    assert_eq!(state, SyncState::new());
    assert_eq!(empty.change_count(), 0);

    // Non-empty document: the good chunk before the bad one applies.
    let mut b = Document::new();
    b.apply_changes([changes[0].clone()]).unwrap();
    m.changes = vec![changes[1].bytes().clone(), garbage];
    b.receive_sync_message(&mut state, m).unwrap();
    assert_eq!(b.heads(), a.heads());
}

/// Regression: a walk that skipped changes whose seq was already covered for their actor
/// missed the other actors reachable only through them, so `changes_since` returned changes
/// the peer already had (bigger Bloom filters and resends; found by the automerge oracle).
#[test]
fn changes_since_walks_through_covered_seqs() {
    let mut a = doc(1, 1); // A1
    let mut b = a.fork();
    b.put(&ROOT, "b", ScalarValue::Int(1)).unwrap(); // B1, after A1
    a.merge(&b).unwrap();
    a.put(&ROOT, "k", ScalarValue::Int(2)).unwrap(); // A2, after B1
    a.put(&ROOT, "k", ScalarValue::Int(3)).unwrap(); // A3
    let heads = a.heads();
    assert!(SyncDoc::changes_since(&a, &heads).is_empty());
    let all = SyncDoc::changes_since(&a, &[]);
    assert_eq!(all.len(), 4);
    // From A3 (listed twice, so that the shortcut for exactly the heads does not apply): B1
    // is reachable only through A2, whose seq A3 already covers.
    let a3 = *all.last().unwrap();
    assert_eq!(heads, vec![a3]);
    assert!(SyncDoc::changes_since(&a, &[a3, a3]).is_empty());
    // From A2: only A3 is new.
    let a2 = all[2];
    assert_eq!(SyncDoc::changes_since(&a, &[a2]), vec![a3]);
}

/// The document's own `changes_to_send` (change indexes and a bitmap) and
/// `count_changes_since` give what the trait's definitions give (`changes_since`,
/// `change_deps`), on a branching three-actor history, from many head sets, with filters that
/// hold some of the changes.
#[test]
fn changes_to_send_and_count_follow_the_definitions() {
    let mut docs: Vec<Document> = (1..=3).map(|a| doc(a, 0)).collect();
    let mut state = 7u64;
    let mut rnd = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    for round in 0..120 {
        let a = rnd(3) as usize;
        if rnd(4) == 0 {
            let b = rnd(3) as usize;
            if a != b {
                let other = docs[b].clone();
                docs[a].merge(&other).unwrap();
            }
        }
        docs[a].put(&ROOT, "k", ScalarValue::Int(round)).unwrap();
    }
    let mut all_doc = doc(9, 0);
    for d in &docs {
        all_doc.merge(d).unwrap();
    }
    let all = SyncDoc::changes_since(&all_doc, &[]);
    assert!(all.len() >= 120);
    for trial in 0..60u64 {
        let heads: Vec<_> = (0..rnd(3))
            .map(|_| all[rnd(all.len() as u64) as usize])
            .collect();
        let since = SyncDoc::changes_since(&all_doc, &heads);
        assert_eq!(SyncDoc::count_changes_since(&all_doc, &heads), since.len());
        // The filter holds changes whose hash's first byte is below a threshold.
        let threshold = (trial * 37 % 256) as u8;
        let in_filter = |h: &converge_encoding::ChangeHash| h.0[0] < threshold;
        let mut expect = Vec::new();
        for h in &since {
            let after_lacking = SyncDoc::change_deps(&all_doc, h)
                .iter()
                .any(|d| expect.contains(d));
            if !in_filter(h) || after_lacking {
                expect.push(*h);
            }
        }
        assert_eq!(
            SyncDoc::changes_to_send(&all_doc, &heads, &in_filter),
            expect
        );
    }
}

/// A whole document sent to an empty peer is recorded as its heads (`sent_document`), not as
/// one entry per change; it filters what is sent later exactly as the listed hashes did, and
/// a reply that acknowledges only part of it lists the rest in `sent_hashes`.
#[test]
fn a_sent_document_counts_as_every_change_up_to_its_heads() {
    let mut a = doc(1, 10);
    let mut b = Document::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    // Handshake: B's first message tells A it is empty and speaks V2.
    let first = a.generate_sync_message(&mut sa).unwrap();
    b.receive_sync_message(&mut sb, first).unwrap();
    let reply = b.generate_sync_message(&mut sb).unwrap();
    a.receive_sync_message(&mut sa, reply.clone()).unwrap();
    let whole = a.generate_sync_message(&mut sa).unwrap();
    assert!(!whole.changes.is_empty());
    assert_eq!(sa.sent_document.as_deref(), Some(&a.heads()[..]));
    assert!(sa.sent_hashes.is_empty());

    let hashes = a.changes_since(&[]);
    let unknown = converge_encoding::ChangeHash([0xee; 32]);
    // The peer names a head we do not know and needs a change the document held: nothing
    // is acknowledged, and the needed change was sent already.
    let mut ask = reply.clone();
    ask.heads = vec![unknown];
    ask.need = vec![hashes[3]];
    let mut sa_ask = sa.clone();
    a.receive_sync_message(&mut sa_ask, ask).unwrap();
    assert_eq!(sa_ask.sent_document, sa.sent_document);
    let next = a.generate_sync_message(&mut sa_ask);
    assert!(next.is_none_or(|m| m.changes.is_empty()));

    // The peer acknowledges the first five changes only: the other five are listed.
    let mut partial = reply.clone();
    partial.heads = vec![hashes[4]];
    let mut sa_partial = sa.clone();
    a.receive_sync_message(&mut sa_partial, partial).unwrap();
    assert_eq!(sa_partial.sent_document, None);
    let rest: BTreeSet<_> = hashes[5..].iter().copied().collect();
    assert_eq!(sa_partial.sent_hashes, rest);

    // The whole document acknowledged: nothing is left.
    b.receive_sync_message(&mut sb, whole).unwrap();
    let ack = b.generate_sync_message(&mut sb).unwrap();
    a.receive_sync_message(&mut sa, ack).unwrap();
    assert_eq!(sa.sent_document, None);
    assert!(sa.sent_hashes.is_empty());
    assert_eq!(a.heads(), b.heads());
}

/// One round of "both at once": each side generates before either receives; the messages
/// (encoded, as sent) are then delivered. Returns them, `a`'s first.
fn both_speak(
    a: &mut Document,
    sa: &mut SyncState,
    b: &mut Document,
    sb: &mut SyncState,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let ma = a.generate_sync_message(sa).map(|m| m.encode());
    let mb = b.generate_sync_message(sb).map(|m| m.encode());
    if let Some(m) = &ma {
        b.receive_sync_message(sb, SyncMessage::decode(m).unwrap())
            .unwrap();
    }
    if let Some(m) = &mb {
        a.receive_sync_message(sa, SyncMessage::decode(m).unwrap())
            .unwrap();
    }
    (ma, mb)
}

/// How many of `a`'s messages carry changes, and their bytes, in a session into an empty
/// peer where both sides speak at once every round.
fn into_empty_at_once(strategy: HaveStrategy) -> (usize, usize) {
    let mut a = doc(1, 300);
    let mut b = Document::new();
    let (mut sa, mut sb) = (
        SyncState::with_strategy(strategy),
        SyncState::with_strategy(strategy),
    );
    let (mut with_changes, mut bytes) = (0, 0);
    for _ in 0..10 {
        let (ma, mb) = both_speak(&mut a, &mut sa, &mut b, &mut sb);
        if ma.is_none() && mb.is_none() {
            break;
        }
        if let Some(m) = ma {
            bytes += m.len();
            with_changes += usize::from(!SyncMessage::decode(&m).unwrap().changes.is_empty());
        }
    }
    assert_eq!(a.heads(), b.heads());
    (with_changes, bytes)
}

/// Both sides speaking at once into an empty peer: the empty side's second message still
/// shows no heads, since it left before the document arrived. automerge 0.12 (and the
/// reference strategy) send the whole document again; the compact strategy knows it is on
/// its way and does not.
#[test]
fn an_in_flight_document_is_not_sent_again() {
    let (compact, compact_bytes) = into_empty_at_once(HaveStrategy::Compact);
    let (reference, reference_bytes) = into_empty_at_once(HaveStrategy::Reference);
    assert_eq!(compact, 1);
    assert_eq!(reference, 2);
    assert!(compact_bytes < reference_bytes);
}

/// A peer that had changes and now shows no heads lost its data: the document goes again.
#[test]
fn a_peer_that_lost_its_data_gets_the_document_again() {
    let mut a = doc(1, 50);
    let mut b = Document::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    let mut rounds = 0;
    while both_speak(&mut a, &mut sa, &mut b, &mut sb) != (None, None) {
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(a.heads(), b.heads());
    // b loses everything but keeps talking on the same link, with a fresh state.
    let mut b = Document::new();
    let mut sb = SyncState::new();
    let mut documents = 0;
    for _ in 0..10 {
        let (ma, mb) = both_speak(&mut a, &mut sa, &mut b, &mut sb);
        if ma.is_none() && mb.is_none() {
            break;
        }
        if let Some(m) = ma {
            documents += usize::from(!SyncMessage::decode(&m).unwrap().changes.is_empty());
        }
    }
    assert_eq!(documents, 1);
    assert_eq!(a.heads(), b.heads());
}

/// A document lost on the way is not sent again on the same link (as the reference never
/// resends changes it sent until the peer names heads or the state resets); a reconnect,
/// which restores the state from its persisted form, sends it again.
#[test]
fn a_lost_document_is_sent_again_after_a_reconnect() {
    let mut a = doc(1, 50);
    let mut b = Document::new();
    let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
    // Round 1 as usual; round 2: a's document is dropped.
    both_speak(&mut a, &mut sa, &mut b, &mut sb);
    let lost = a.generate_sync_message(&mut sa).unwrap();
    assert!(!lost.changes.is_empty());
    for _ in 0..5 {
        let (ma, _) = both_speak(&mut a, &mut sa, &mut b, &mut sb);
        assert!(ma.is_none_or(|m| SyncMessage::decode(&m).unwrap().changes.is_empty()));
    }
    assert!(b.heads().is_empty());
    // Reconnect: states restored from their persisted form.
    let mut sa = SyncState::decode(&sa.encode()).unwrap();
    let mut sb = SyncState::decode(&sb.encode()).unwrap();
    let mut rounds = 0;
    while both_speak(&mut a, &mut sa, &mut b, &mut sb) != (None, None) {
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(a.heads(), b.heads());
}
