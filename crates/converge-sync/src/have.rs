//! The `have` list of an outgoing message: the reference's (one Bloom filter of every change
//! since the shared heads) or the compact one (docs/sync-compact-have.md).
//!
//! What a peer does with a `have` list (spec sync.md §5.1): it takes `L`, the union of every
//! Have's `last_sync` (hashes it does not know are skipped), and sends each of its changes that
//! is not an ancestor of `L` and not in any of the Bloom filters. Only the *first* Have's
//! `last_sync` must be known to the peer (otherwise it answers with a reset), so the compact
//! list keeps the shared heads there and puts everything else in a second Have with an empty
//! filter. Every hash we put in a `last_sync` is a change we have applied, so its ancestors are
//! ours too: the peer never withholds a change we lack except on a Bloom hit, exactly as with
//! the reference's list.

use std::collections::BTreeSet;

use converge_bloom::BloomFilter;
use converge_encoding::{ChangeHash, leb128};

use crate::message::Have;
use crate::protocol::SyncDoc;
use crate::state::SyncState;

/// Above this many changes since the shared heads, and knowing nothing of the peer's, a
/// message probes instead of sending the reference's filter of all of them. Below it the
/// filter costs at most 1.3 kB, and probing would risk more than it saves.
pub const COMPACT_PROBE_THRESHOLD: usize = 1024;

/// How many of our most recent changes (in application order) the Bloom filter of a probing
/// message covers, for `n` changes since the shared heads: `n / 16` within `256..=2048`.
/// The peer skips its changes that are ancestors of the probes it knows; the filter must cover
/// our changes newer than the newest such probe. When fewer of our changes than the window are
/// missing at the peer, the probe at the window's depth is known to it and nothing is resent;
/// with more missing, the peer may resend changes we have that lie between the newest change it
/// has and the next probe (under an eighth of the missing count: eight probes per doubling of the depth). Each filter
/// entry costs 1.25 bytes, each probe 32.
pub fn compact_bloom_window(n: usize) -> usize {
    (n / 16).clamp(256, 2048)
}

/// Probes per doubling of the depth beyond the window `W`: depths `W`, `9W/8`, `10W/8`, ...,
/// `2W`, `18W/8`, ... (about 8 log2(n / W) probes for `n` changes).
const PROBES_PER_DOUBLING: usize = 8;

/// The reference's single Have: the shared heads and a filter of every change since them.
pub(crate) fn reference_have<D: SyncDoc + ?Sized>(doc: &D, shared: &[ChangeHash]) -> Have {
    let since = doc.changes_since(shared);
    Have {
        last_sync: shared.to_vec(),
        bloom: BloomFilter::from_hashes(since.iter()),
    }
}

/// The compact `have` list; never more bytes than [`reference_have`] for the same state.
pub(crate) fn compact_have<D: SyncDoc + ?Sized>(
    doc: &D,
    state: &SyncState,
    our_heads: &[ChangeHash],
) -> Vec<Have> {
    let shared = &state.shared_heads;
    // The reference's filter lists every change since the shared heads; the rules below need
    // only how many there are, and the list itself only to fall back to that filter.
    let since_count = doc.count_changes_since(shared);
    let reference_cost = bloom_len(since_count);
    let reference = || {
        vec![Have {
            last_sync: shared.clone(),
            bloom: BloomFilter::from_hashes(doc.changes_since(shared).iter()),
        }]
    };
    if since_count == 0 {
        return reference();
    }

    // 1. We know every head of theirs: they have exactly the ancestors of their heads (which
    //    are our shared heads now), so a filter would only describe changes they lack. Naming
    //    our heads instead keeps them from echoing the changes we send in this message.
    let they_are_behind = state
        .their_heads
        .as_ref()
        .is_some_and(|theirs| theirs.iter().all(|h| doc.has_change(h)));
    if they_are_behind {
        let heads = sorted(our_heads.iter().copied());
        if bloom_len(0) + second_have_len(heads.len()) < reference_cost {
            return vec![
                Have {
                    last_sync: shared.clone(),
                    bloom: BloomFilter::default(),
                },
                Have {
                    last_sync: heads,
                    bloom: BloomFilter::default(),
                },
            ];
        }
        return reference();
    }

    // 2. Hashes of theirs that we have (their heads, what their haves name): they have their
    //    ancestors, so the filter needs only our changes that are not ancestors of those.
    let tips = newest(doc, known_of_theirs(doc, state));
    if !tips.is_empty() {
        let mut base = shared.clone();
        base.extend(tips.iter().copied());
        let exact = doc.changes_since(&sorted(base));
        if bloom_len(exact.len()) + second_have_len(tips.len()) < reference_cost {
            return vec![
                Have {
                    last_sync: shared.clone(),
                    bloom: BloomFilter::from_hashes(exact.iter()),
                },
                Have {
                    last_sync: tips,
                    bloom: BloomFilter::default(),
                },
            ];
        }
        return reference();
    }

    // 3. We know nothing of theirs: probe with our own changes at spaced depths.
    if since_count <= COMPACT_PROBE_THRESHOLD {
        return reference();
    }
    match probing_have(doc, shared, our_heads, compact_bloom_window(since_count)) {
        Some((window, probes))
            if bloom_len(window.len()) + second_have_len(probes.len()) < reference_cost =>
        {
            vec![
                Have {
                    last_sync: shared.clone(),
                    bloom: BloomFilter::from_hashes(window.iter()),
                },
                Have {
                    last_sync: probes,
                    bloom: BloomFilter::default(),
                },
            ]
        }
        _ => reference(),
    }
}

/// The changes for the filter (ours since the shared heads and the probe at depth `window`)
/// and the probes: our heads and our changes at depths `W, 9W/8, 10W/8, ..., 2W, 18W/8, ...`
/// (`W` = `window`) and our first change, less those the shared heads cover.
fn probing_have<D: SyncDoc + ?Sized>(
    doc: &D,
    shared: &[ChangeHash],
    our_heads: &[ChangeHash],
    window: usize,
) -> Option<(Vec<ChangeHash>, Vec<ChangeHash>)> {
    let n = doc.num_changes();
    let at_depth = |depth: usize| {
        n.checked_sub(depth)
            .and_then(|index| doc.change_hash_at(index))
    };
    let cut = at_depth(window)?;
    let mut depths = Vec::new();
    let mut base = window;
    'doubling: while base < n {
        for step in 0..PROBES_PER_DOUBLING {
            let depth = base.saturating_add(base / PROBES_PER_DOUBLING * step);
            if depth >= n {
                break 'doubling;
            }
            depths.push(depth);
        }
        base = base.saturating_mul(2);
    }
    depths.push(n);
    let mut probes: BTreeSet<ChangeHash> = depths.into_iter().filter_map(at_depth).collect();
    probes.extend(our_heads.iter().copied());
    if !shared.is_empty() {
        for covered in doc.ancestors_among(shared, &probes) {
            probes.remove(&covered);
        }
    }
    let mut base = shared.to_vec();
    base.push(cut);
    let window = doc.changes_since(&sorted(base));
    Some((window, probes.into_iter().collect()))
}

/// The hashes the peer named (its heads, every `last_sync` of its haves) that we have applied.
fn known_of_theirs<D: SyncDoc + ?Sized>(doc: &D, state: &SyncState) -> BTreeSet<ChangeHash> {
    let heads = state.their_heads.iter().flatten();
    let named = state
        .their_have
        .iter()
        .flatten()
        .flat_map(|h| h.last_sync.iter());
    heads
        .chain(named)
        .filter(|h| doc.has_change(h))
        .copied()
        .collect()
}

/// The members of `hashes` that are not ancestors of another member, sorted.
fn newest<D: SyncDoc + ?Sized>(doc: &D, mut hashes: BTreeSet<ChangeHash>) -> Vec<ChangeHash> {
    if hashes.len() > 1 {
        // A strict ancestor of a member is an ancestor-or-self of one of its deps.
        let deps: Vec<ChangeHash> = sorted(hashes.iter().flat_map(|h| doc.change_deps(h)));
        for older in doc.ancestors_among(&deps, &hashes) {
            hashes.remove(&older);
        }
    }
    hashes.into_iter().collect()
}

/// `hashes` sorted, each once.
pub(crate) fn sorted(hashes: impl IntoIterator<Item = ChangeHash>) -> Vec<ChangeHash> {
    let mut out: Vec<ChangeHash> = hashes.into_iter().collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The bytes a Bloom filter of `n` entries takes in a Have (its length prefix included).
fn bloom_len(n: usize) -> usize {
    let body = BloomFilter::encoded_len_for(n);
    leb128::u64_len(body as u64) + body
}

/// The bytes of a second Have naming `k` hashes with an empty filter.
fn second_have_len(k: usize) -> usize {
    leb128::u64_len(k as u64) + 32 * k + 1
}
