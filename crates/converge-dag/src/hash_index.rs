//! A hash table from change hash to dense change index that stores only the `u32` index and
//! a 32-bit tag: the hash itself lives once, in the graph's `Vec<ChangeHash>`. Entries are
//! added, and the newest removed again (a rolled-back batch).
//!
//! Open addressing with linear probing, at most 3/4 full. The tag is the high half of a keyed
//! folded multiply of the hash's first 16 bytes (`(lo ^ k0) × (hi ^ k1)` as 128 bits, halves
//! XORed; the keys come from std's randomly keyed `RandomState`, per table), so a peer that
//! grinds change hashes cannot aim them at one run of slots without knowing the keys. Change
//! hashes are SHA-256 outputs, so a keyed mix this cheap is enough (SipHash cost ~4 % of a
//! local commit). An entry's home slot is the tag's low bits, so growing and removing work
//! from the entries alone (a growth reads the old table in order and writes the new one in
//! two ascending streams; a removal shifts the rest of its run back), and the tag lets a
//! probe skip a slot without loading the hash it points to: a lookup touches the slot array
//! (sequentially) and, almost always, at most one stored hash.
//!
//! Appends may be deferred ([`HashIndex::push_deferred`]): the newest hashes (at most
//! `DEFERRED_MAX`) wait in the tail of `hashes` and a lookup scans that tail after the table;
//! they are placed together when the tail is full. Each placement is a random write into a
//! table of megabytes, almost always a cache miss; placed one per commit, every miss stalls
//! the commit, placed in a batch the misses overlap.
//!
//! A bulk append (the changes of a loaded document, whose deps come as indexes) can hold
//! placement entirely ([`HashIndex::hold`], [`HashIndex::release`]): the whole tail is then
//! placed in one pass at the end. Batches of 64 interleaved with the rebuild of every change
//! made the paper document's load ~13 % slower than one pass afterwards: a store that misses
//! the cache holds up every later store, which the rebuild, mostly stores, then waits for.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use converge_encoding::ChangeHash;

/// Eight bytes of a 16-byte prefix, from `at`.
fn prefix_half(prefix: &[u8; 16], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(prefix.iter().skip(at)) {
        *o = *b;
    }
    out
}

/// The most hashes a lookup scans linearly after the table (see the module doc).
const DEFERRED_MAX: usize = 64;

/// No index is `u32::MAX` (the graph keeps it free), so this is no valid slot.
const EMPTY: u64 = u64::MAX;
const MIN_SLOTS: usize = 16;

#[derive(Clone, Debug)]
pub(crate) struct HashIndex {
    /// `tag << 32 | index`, or `EMPTY`.
    slots: Vec<u64>,
    len: usize,
    /// The mixing keys (random per table).
    keys: [u64; 2],
    /// Placement held ([`Self::hold`]): the tail grows without bound until [`Self::release`].
    held: bool,
}

impl Default for HashIndex {
    fn default() -> Self {
        HashIndex {
            slots: Vec::new(),
            len: 0,
            keys: random_keys(),
            held: false,
        }
    }
}

/// Two random 64-bit keys from std's randomly keyed hasher.
fn random_keys() -> [u64; 2] {
    let state = RandomState::new();
    [state.hash_one(0x5a17_u64), state.hash_one(0x00c0_ffee_u64)]
}

impl HashIndex {
    /// An empty table with room for `n` entries before it grows.
    pub(crate) fn with_capacity(n: usize) -> Self {
        let slots = (n.saturating_mul(4) / 3 + 1)
            .max(MIN_SLOTS)
            .next_power_of_two();
        HashIndex {
            slots: vec![EMPTY; slots],
            len: 0,
            keys: random_keys(),
            held: false,
        }
    }

    /// The first slot to probe and the tag for `hash`.
    fn slot_of(&self, hash: &ChangeHash) -> (usize, u64) {
        let mut prefix = [0u8; 16];
        for (out, b) in prefix.iter_mut().zip(hash.as_bytes()) {
            *out = *b;
        }
        let [lo, hi] = [
            u64::from_le_bytes(prefix_half(&prefix, 0)),
            u64::from_le_bytes(prefix_half(&prefix, 8)),
        ];
        let product = u128::from(lo ^ self.keys[0]) * u128::from(hi ^ self.keys[1]);
        let h = (product as u64) ^ ((product >> 64) as u64);
        let tag = (h >> 32) << 32;
        (self.home(tag), tag)
    }

    /// The slot an entry (or a tag) probes from: the low bits of its tag, so that growing
    /// and deleting find it without loading its hash. (The bits of the tag a neighbourhood's
    /// entries share are the slot bits; a table of a million slots still compares 12 others.)
    fn home(&self, entry: u64) -> usize {
        ((entry >> 32) as usize) & self.slots.len().wrapping_sub(1)
    }

    /// The index of `hash`, looking hashes up in `hashes` (the graph's index → hash vector):
    /// in the table, then among the deferred hashes `hashes[len..]`.
    pub(crate) fn get(&self, hashes: &[ChangeHash], hash: &ChangeHash) -> Option<u32> {
        self.get_placed(hashes, hash).or_else(|| {
            // Newest first: a lookup of a deferred hash is most often one of the last deps.
            let tail = hashes.get(self.len..)?;
            let at = tail.iter().rposition(|h| h == hash)?;
            Some((self.len + at) as u32)
        })
    }

    /// Records that the last of `hashes` is at its index, placing it later together with
    /// the others deferred so (see the module doc). The caller has pushed the hash and knows
    /// that it was absent.
    pub(crate) fn push_deferred(&mut self, hashes: &[ChangeHash]) {
        if !self.held && hashes.len().saturating_sub(self.len) >= DEFERRED_MAX {
            self.catch_up(hashes);
        }
    }

    /// Defers every hash pushed from now on until [`Self::release`] (lookups stay correct:
    /// they scan the tail, which is long meanwhile).
    pub(crate) fn hold(&mut self) {
        self.held = true;
    }

    /// Ends [`Self::hold`]: places every deferred hash, in one pass.
    pub(crate) fn release(&mut self, hashes: &[ChangeHash]) {
        self.held = false;
        self.catch_up(hashes);
    }

    /// Places every deferred hash.
    pub(crate) fn catch_up(&mut self, hashes: &[ChangeHash]) {
        let len = hashes.len();
        while (len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        for idx in self.len..len {
            self.place(hashes, idx as u32);
        }
        self.len = self.len.max(len);
    }

    /// The index of `hash` among the placed entries.
    fn get_placed(&self, hashes: &[ChangeHash], hash: &ChangeHash) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let (mut slot, tag) = self.slot_of(hash);
        // The table is never full, so an empty slot ends the probe; the bound keeps the loop
        // total regardless.
        for _ in 0..self.slots.len() {
            let entry = *self.slots.get(slot)?;
            if entry == EMPTY {
                return None;
            }
            let idx = entry as u32;
            if entry & !0xffff_ffff == tag && hashes.get(idx as usize) == Some(hash) {
                return Some(idx);
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// Records that `hashes[idx]` is at `idx`. The caller has pushed the hash and checked that
    /// it was absent; no hash is deferred.
    pub(crate) fn insert(&mut self, hashes: &[ChangeHash], idx: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.place(hashes, idx);
        self.len += 1;
    }

    /// Records that `hashes[idx]` is at `idx` unless an entry already holds an equal hash;
    /// returns that entry's index then (and records nothing). The caller has pushed the hash;
    /// no hash is deferred.
    pub(crate) fn insert_unless_present(&mut self, hashes: &[ChangeHash], idx: u32) -> Option<u32> {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let hash = hashes.get(idx as usize)?;
        let mask = self.slots.len() - 1;
        let (mut slot, tag) = self.slot_of(hash);
        for _ in 0..self.slots.len() {
            let entry = self.slots.get_mut(slot)?;
            if *entry == EMPTY {
                *entry = tag | u64::from(idx);
                self.len += 1;
                return None;
            }
            let other = *entry as u32;
            if *entry & !0xffff_ffff == tag && hashes.get(other as usize) == Some(hash) {
                return Some(other);
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    fn place(&mut self, hashes: &[ChangeHash], idx: u32) {
        if let Some(hash) = hashes.get(idx as usize) {
            let (_, tag) = self.slot_of(hash);
            self.place_entry(tag | u64::from(idx));
        }
    }

    /// Puts `entry` in the first empty slot from its home on.
    fn place_entry(&mut self, entry: u64) {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(entry);
        for _ in 0..self.slots.len() {
            match self.slots.get_mut(slot) {
                Some(s) if *s == EMPTY => {
                    *s = entry;
                    return;
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// Doubles the table. The old table is read in slot order and each entry's home comes
    /// from its tag, so the new table is written in two ascending streams, not at random,
    /// and no hash is loaded.
    fn grow(&mut self) {
        let new_len = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; new_len]);
        for entry in old.into_iter().filter(|&e| e != EMPTY) {
            self.place_entry(entry);
        }
    }

    /// Forgets the entries of indexes `len..` (`hashes` must still hold them). Each removal
    /// shifts the rest of its run back where their probes still find them (backward-shift
    /// deletion), so the table is as if they had never been placed, whatever the order of
    /// placement. Deferred hashes past `len` are gone with the caller's truncation of
    /// `hashes`.
    pub(crate) fn truncate(&mut self, hashes: &[ChangeHash], len: u32) {
        if self.slots.is_empty() {
            return;
        }
        for idx in (len..self.len as u32).rev() {
            if let Some(hash) = hashes.get(idx as usize) {
                self.remove(hash, idx);
            }
        }
        self.len = self.len.min(len as usize);
    }

    /// Removes the entry of `idx` (whose hash is `hash`), if placed.
    fn remove(&mut self, hash: &ChangeHash, idx: u32) {
        let mask = self.slots.len() - 1;
        let (mut slot, _) = self.slot_of(hash);
        let mut found = None;
        for _ in 0..self.slots.len() {
            match self.slots.get(slot) {
                Some(&s) if s == EMPTY => break,
                Some(&s) if s as u32 == idx => {
                    found = Some(slot);
                    break;
                }
                _ => slot = (slot + 1) & mask,
            }
        }
        let Some(mut hole) = found else {
            return;
        };
        // An entry after the hole may fill it if the hole lies on its probe path: between
        // its home and its slot, cyclically.
        let mut next = (hole + 1) & mask;
        for _ in 0..self.slots.len() {
            let Some(&entry) = self.slots.get(next) else {
                break;
            };
            if entry == EMPTY {
                break;
            }
            let home = self.home(entry);
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = entry;
                }
                hole = next;
            }
            next = (next + 1) & mask;
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = EMPTY;
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted() {
        let mut hashes = Vec::new();
        let mut index = HashIndex::default();
        for i in 0..1000u32 {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_le_bytes());
            // Identical first 16 bytes for pairs: exercises the full-hash comparison.
            h[31] = (i % 2) as u8;
            hashes.push(ChangeHash(h));
            index.insert(&hashes, i);
        }
        for (i, h) in hashes.iter().enumerate() {
            assert_eq!(index.get(&hashes, h), Some(i as u32));
        }
        assert_eq!(index.get(&hashes, &ChangeHash([0xee; 32])), None);
        assert_eq!(HashIndex::default().get(&[], &hashes[0]), None);
        // Truncating keeps the older entries findable and forgets the newer ones; inserting
        // again works.
        index.truncate(&hashes, 300);
        for (i, h) in hashes.iter().enumerate() {
            let expect = (i < 300).then_some(i as u32);
            assert_eq!(index.get(&hashes[..300], h), expect);
        }
        for i in 300..1000u32 {
            index.insert(&hashes, i);
        }
        for (i, h) in hashes.iter().enumerate() {
            assert_eq!(index.get(&hashes, h), Some(i as u32));
        }
    }

    /// Random pushes (deferred or placed at once) and truncations agree with a linear
    /// search, across growths; small tables make long runs and wrap-arounds common.
    #[test]
    fn agrees_with_a_linear_search() {
        let mut next = crate::test_rng(0x9e37_79b9_7f4a_7c15u64);
        let mut hashes: Vec<ChangeHash> = Vec::new();
        let mut index = HashIndex::default();
        let mut fresh = 0u64;
        for round in 0..4000 {
            match next() % 10 {
                0 => {
                    let keep = hashes.len() - (next() as usize % (hashes.len() / 4 + 1));
                    index.truncate(&hashes, keep as u32);
                    hashes.truncate(keep);
                }
                r => {
                    fresh += 1;
                    let mut h = [0u8; 32];
                    h[..8].copy_from_slice(&fresh.to_le_bytes());
                    h[8..16].copy_from_slice(&next().to_le_bytes());
                    hashes.push(ChangeHash(h));
                    if r < 5 && index.len + 1 == hashes.len() {
                        index.insert(&hashes, (hashes.len() - 1) as u32);
                    } else {
                        index.push_deferred(&hashes);
                    }
                }
            }
            if round % 50 == 0 {
                for (i, h) in hashes.iter().enumerate() {
                    assert_eq!(index.get(&hashes, h), Some(i as u32), "round {round}");
                }
                let placed = index.slots.iter().filter(|&&e| e != EMPTY).count();
                assert_eq!(placed, index.len);
            }
        }
    }

    /// Deferred hashes are found before and after they are placed, by truncations too.
    #[test]
    fn holding_placement_defers_every_hash_until_released() {
        let hash = |i: u32| {
            let mut h = [0u8; 32];
            h[4..8].copy_from_slice(&i.to_le_bytes());
            ChangeHash(h)
        };
        let mut hashes: Vec<ChangeHash> = (0..100).map(hash).collect();
        let mut index = HashIndex::default();
        index.catch_up(&hashes);
        index.hold();
        for i in 100..1000u32 {
            hashes.push(hash(i));
            index.push_deferred(&hashes);
        }
        assert_eq!(index.len, 100, "nothing placed while held");
        for (j, h) in hashes.iter().enumerate().step_by(37) {
            assert_eq!(index.get(&hashes, h), Some(j as u32));
        }
        index.release(&hashes);
        assert_eq!(index.len, 1000);
        for (j, h) in hashes.iter().enumerate() {
            assert_eq!(index.get_placed(&hashes, h), Some(j as u32));
        }
        assert_eq!(index.get(&hashes, &hash(1000)), None);
        // Released, pushes are deferred by at most DEFERRED_MAX again.
        for i in 1000..1200u32 {
            hashes.push(hash(i));
            index.push_deferred(&hashes);
            assert!(hashes.len() - index.len < DEFERRED_MAX);
        }
    }

    #[test]
    fn finds_deferred_hashes() {
        let hash = |i: u32| {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_le_bytes());
            ChangeHash(h)
        };
        let mut hashes = Vec::new();
        let mut index = HashIndex::default();
        for i in 0..1000u32 {
            hashes.push(hash(i));
            index.push_deferred(&hashes);
            assert!(index.len <= hashes.len() && hashes.len() - index.len < DEFERRED_MAX);
            if i % 97 == 0 {
                for (j, h) in hashes.iter().enumerate() {
                    assert_eq!(index.get(&hashes, h), Some(j as u32));
                }
                assert_eq!(index.get(&hashes, &hash(i + 1)), None);
            }
        }
        // A truncation to inside the placed entries, and one to inside the deferred ones.
        for into_deferred in [false, true] {
            for i in 0..20 {
                hashes.push(hash(2000 + i));
                index.push_deferred(&hashes);
            }
            let placed = index.len;
            let keep = if into_deferred {
                placed + 5
            } else {
                placed - 10
            };
            assert!(keep < hashes.len());
            hashes.truncate(keep);
            index.truncate(&hashes, hashes.len() as u32);
            for (j, h) in hashes.iter().enumerate() {
                assert_eq!(index.get(&hashes, h), Some(j as u32));
            }
            let gone = hashes.len();
            let next = if into_deferred {
                hash(2000 + 5)
            } else {
                hash(gone as u32)
            };
            assert_eq!(index.get(&hashes, &next), None);
            index.catch_up(&hashes);
            assert_eq!(index.len, hashes.len());
        }
    }
}
