//! What the compact `have` list (docs/sync-compact-have.md) relies on, checked against
//! automerge 0.12 with hand-crafted messages: an automerge peer unions the `last_sync` of every
//! Have, skips hashes it does not know in any Have but the first (no reset, no error, the same
//! changes as without them), withholds exactly the ancestors of the known ones, honours an empty
//! filter, and answers a first Have with an unknown hash with the reset message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use automerge::sync::{Message, State, SyncDoc as _};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit};
use converge_bloom::BloomFilter;
use converge_encoding::{ChangeHash, FileChunk, decode_chunks};
use converge_sync::{Have, MessageFlags, MessageVersion, SyncMessage};

/// `n` puts by the document's actor, one commit each; returns their hashes.
fn puts(doc: &mut AutoCommit, n: usize, seed: usize) -> Vec<ChangeHash> {
    (0..n)
        .map(|i| {
            doc.put(
                automerge::ROOT,
                format!("k{}", (i + seed) % 5),
                (i * 7 + seed) as i64,
            )
            .unwrap();
            doc.commit_with(CommitOptions::default().with_time(0));
            ChangeHash(doc.get_last_local_change().unwrap().hash().0)
        })
        .collect()
}

/// Shared history length: large enough that the changes in these answers stay below a third
/// of the document (above it, automerge sends the whole document instead).
const SHARED: usize = 200;

/// A (the automerge peer under test) and B's history: `SHARED` shared changes, then 10 each.
struct Fixture {
    a: AutoCommit,
    shared: Vec<ChangeHash>,
    a_only: Vec<ChangeHash>,
    b_only: Vec<ChangeHash>,
    b_heads: Vec<ChangeHash>,
}

fn fixture() -> Fixture {
    let mut base = AutoCommit::new();
    base.set_actor(ActorId::from(&[0xba, 0x5e][..]));
    let shared = puts(&mut base, SHARED, 0);
    let mut a = base.fork();
    a.set_actor(ActorId::from(&[0xaa][..]));
    let a_only = puts(&mut a, 10, 1);
    let mut b = base.fork();
    b.set_actor(ActorId::from(&[0xbb][..]));
    let b_only = puts(&mut b, 10, 2);
    let b_heads = b.get_heads().iter().map(|h| ChangeHash(h.0)).collect();
    Fixture {
        a,
        shared,
        a_only,
        b_only,
        b_heads,
    }
}

fn unknown(i: u8) -> ChangeHash {
    ChangeHash([i; 32])
}

fn sorted(mut v: Vec<ChangeHash>) -> Vec<ChangeHash> {
    v.sort_unstable();
    v.dedup();
    v
}

/// B's message to A: B's heads, nothing needed, the given haves, flags as 0.12 writes them.
fn from_b(f: &Fixture, have: Vec<Have>) -> Vec<u8> {
    SyncMessage {
        version: MessageVersion::V1,
        heads: f.b_heads.clone(),
        need: Vec::new(),
        have,
        changes: Vec::new(),
        flags: Some(MessageFlags::from_bits(MessageFlags::SUPPORTS_SYNC_RESET)),
    }
    .encode()
}

/// Delivers `wire` to a fresh automerge peer A and returns A's answer, decoded.
fn answer(f: &Fixture, wire: &[u8]) -> SyncMessage {
    let mut a = f.a.clone();
    let mut state = State::new();
    a.sync()
        .receive_sync_message(&mut state, Message::decode(wire).unwrap())
        .expect("automerge accepts the message");
    let reply = a
        .sync()
        .generate_sync_message(&mut state)
        .expect("automerge answers");
    SyncMessage::decode(&reply.encode()).unwrap()
}

/// The hashes of the changes a message carries, sorted.
fn carried(m: &SyncMessage) -> Vec<ChangeHash> {
    let mut all = Vec::new();
    for c in &m.changes {
        all.extend_from_slice(c);
    }
    let mut out = Vec::new();
    for (_, chunk) in decode_chunks(&bytes::Bytes::from(all)).unwrap() {
        match chunk {
            FileChunk::Document(d) => {
                out.extend(d.reconstruct_changes().unwrap().iter().map(|c| c.hash()))
            }
            FileChunk::Change(c) => out.push(c.hash()),
            _ => {}
        }
    }
    sorted(out)
}

fn is_reset(m: &SyncMessage) -> bool {
    m.version == MessageVersion::V1
        && m.need.is_empty()
        && m.have == vec![Have::default()]
        && m.changes.is_empty()
}

fn bloom(hashes: &[ChangeHash]) -> BloomFilter {
    BloomFilter::from_hashes(hashes.iter())
}

#[test]
fn unknown_hashes_in_a_later_have_are_skipped() {
    let f = fixture();
    let b_all: Vec<ChangeHash> = f.shared.iter().chain(&f.b_only).copied().collect();
    // The reference's own Have: B's whole history in the filter.
    let control = answer(
        &f,
        &from_b(
            &f,
            vec![Have {
                last_sync: vec![],
                bloom: bloom(&b_all),
            }],
        ),
    );
    assert!(!is_reset(&control));
    assert_eq!(carried(&control), sorted(f.a_only.clone()));
    // The same plus a second Have naming only hashes A has never seen.
    let with_unknown = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have {
                    last_sync: vec![],
                    bloom: bloom(&b_all),
                },
                Have {
                    last_sync: sorted(vec![unknown(1), unknown(2), unknown(3)]),
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    assert!(
        !is_reset(&with_unknown),
        "unknown hashes in Have 2 caused a reset"
    );
    assert_eq!(carried(&with_unknown), carried(&control));
    assert_eq!(with_unknown.have, control.have);
    assert_eq!(with_unknown.need, control.need);
}

#[test]
fn known_hashes_in_a_later_have_cover_their_ancestors() {
    let f = fixture();
    // B names the 20th last shared change (a probe) among unknown ones, with an empty filter in
    // Have 1 and a filter of only the changes after the probe in Have 0.
    let probe = f.shared[SHARED - 21];
    let after_probe: Vec<ChangeHash> = f.shared[SHARED - 20..]
        .iter()
        .chain(&f.b_only)
        .copied()
        .collect();
    let m = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have {
                    last_sync: vec![],
                    bloom: bloom(&after_probe),
                },
                Have {
                    last_sync: sorted(vec![unknown(7), probe, unknown(9)]),
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    assert!(!is_reset(&m));
    assert_eq!(
        carried(&m),
        sorted(f.a_only.clone()),
        "exactly what B lacks"
    );

    // Without the filter, A sends every change of its own that is not an ancestor of the
    // probe: the 20 shared ones after it (which B already has) and its own 10.
    let m = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have::default(),
                Have {
                    last_sync: vec![probe],
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    let expected: Vec<ChangeHash> = f.shared[SHARED - 20..]
        .iter()
        .chain(&f.a_only)
        .copied()
        .collect();
    assert_eq!(carried(&m), sorted(expected));

    // Naming B's own heads there (they are unknown to A) changes nothing; naming A's heads
    // would be a lie B cannot tell, but naming a change B has is always safe: with the head of
    // the shared history named, A sends exactly its own 10 changes with no filter at all.
    let m = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have::default(),
                Have {
                    last_sync: sorted(
                        f.b_heads
                            .iter()
                            .copied()
                            .chain([f.shared[SHARED - 1]])
                            .collect(),
                    ),
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    assert_eq!(carried(&m), sorted(f.a_only.clone()));
}

#[test]
fn an_unknown_hash_in_the_first_have_still_resets() {
    let f = fixture();
    let m = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have {
                    last_sync: vec![unknown(5)],
                    bloom: BloomFilter::default(),
                },
                Have {
                    last_sync: vec![f.shared[SHARED - 1]],
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    assert!(is_reset(&m), "the first Have is the one checked");
}

#[test]
fn a_second_have_is_not_needed_for_the_reset_check_and_empty_filters_decode() {
    // Have 0 with known last_sync and an empty filter, Have 1 with only unknown hashes: A
    // sends everything it has that is not an ancestor of Have 0's heads.
    let f = fixture();
    let m = answer(
        &f,
        &from_b(
            &f,
            vec![
                Have {
                    last_sync: vec![f.shared[SHARED - 1]],
                    bloom: BloomFilter::default(),
                },
                Have {
                    last_sync: vec![unknown(3)],
                    bloom: BloomFilter::default(),
                },
            ],
        ),
    );
    assert!(!is_reset(&m));
    assert_eq!(carried(&m), sorted(f.a_only.clone()));
}
