//! A hash table from change hash to dense change index that stores only the `u32` index and
//! a 32-bit tag: the hash itself lives once, in the graph's `Vec<ChangeHash>`. Entries are
//! added, and the newest removed again (a rolled-back batch).
//!
//! Open addressing with linear probing, at most 3/4 full. The tag is the high half of a keyed
//! folded multiply of the hash's first 16 bytes (`(lo ^ k0) × (hi ^ k1)` as 128 bits, halves
//! XORed; the keys come from std's randomly keyed `RandomState`, per index), so a peer that
//! grinds change hashes cannot aim them at one run of slots without knowing the keys. Change
//! hashes are SHA-256 outputs, so a keyed mix this cheap is enough (SipHash cost ~4 % of a
//! local commit). An entry's home slot is the tag's low bits, so growing and removing work
//! from the entries alone (a growth reads the old table in order and writes the new one in
//! two ascending streams; a removal shifts the rest of its run back), and the tag lets a
//! probe skip a slot without loading the hash it points to: a lookup touches the slot array
//! (sequentially) and, almost always, at most one stored hash.
//!
//! Two tables: the main one, and a small one of the newest entries (at most `RECENT_MAX`,
//! 64 KiB of slots, which stays in cache). An append ([`HashIndex::push_recent`]) goes into
//! the small table; when it is full its entries move to the main table in one tight loop.
//! A lookup probes both. Placing each new hash in the main table, megabytes, is a random
//! write that almost always misses the cache, and a store that misses holds up every later
//! store: placed 64 at a time amid local commits, that was ~19 % of a change per edit on the
//! paper trace (ninth and tenth sessions placed them one at a time, then 64 at a time).
//!
//! A bulk append (the changes of a loaded document, whose deps come as indexes) can hold
//! placement entirely ([`HashIndex::hold`], [`HashIndex::release`]): the held hashes wait at
//! the end of `hashes`, where a lookup scans them, and are placed in one pass at the end.

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

/// The most entries of the small table of new hashes (see the module doc).
const RECENT_MAX: usize = 4096;

/// No index is `u32::MAX` (the graph keeps it free), so this is no valid slot.
const EMPTY: u64 = u64::MAX;
const MIN_SLOTS: usize = 16;

/// One open-addressing table of `tag << 32 | index` entries (or `EMPTY`).
#[derive(Clone, Debug, Default)]
struct Table {
    slots: Vec<u64>,
}

impl Table {
    /// Room for `n` entries before it grows.
    fn with_room(n: usize) -> Table {
        let slots = (n.saturating_mul(4) / 3 + 1)
            .max(MIN_SLOTS)
            .next_power_of_two();
        Table {
            slots: vec![EMPTY; slots],
        }
    }

    /// The slot an entry (or a tag) probes from: the low bits of its tag, so that growing
    /// and deleting find it without loading its hash. (The bits of the tag a neighbourhood's
    /// entries share are the slot bits; a table of a million slots still compares 12 others.)
    fn home(&self, entry: u64) -> usize {
        ((entry >> 32) as usize) & self.slots.len().wrapping_sub(1)
    }

    /// Grows until `n` entries fit (at most 3/4 full).
    fn make_room(&mut self, n: usize) {
        let mut new_len = self.slots.len();
        while n.saturating_mul(4) > new_len * 3 {
            new_len = (new_len * 2).max(MIN_SLOTS);
        }
        if new_len > self.slots.len() {
            self.grow(new_len);
        }
    }

    /// Grows the table to `new_len` slots (a power of two), in one step however many
    /// doublings that is (a load's first catch-up goes from nothing to half a million
    /// slots). The old table is read in slot order and each entry's home comes from its
    /// tag, so the new table is written in ascending streams, not at random, and no hash is
    /// loaded.
    fn grow(&mut self, new_len: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; new_len]);
        for entry in old.into_iter().filter(|&e| e != EMPTY) {
            self.place(entry);
        }
    }

    /// Puts `entry` in the first empty slot from its home on (the caller made room).
    fn place(&mut self, entry: u64) {
        let mask = self.slots.len().wrapping_sub(1);
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

    /// The index of the entry with `tag` whose hash (looked up in `hashes`) is `hash`.
    fn find(&self, hashes: &[ChangeHash], hash: &ChangeHash, tag: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = self.home(tag);
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

    /// Removes the entry `tag | idx`, if present. The rest of its run shifts back where
    /// their probes still find them (backward-shift deletion), so the table is as if it had
    /// never been placed, whatever the order of placement.
    fn remove(&mut self, tag: u64, idx: u32) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut slot = self.home(tag);
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

    #[cfg(test)]
    fn count(&self) -> usize {
        self.slots.iter().filter(|&&e| e != EMPTY).count()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct HashIndex {
    /// Entries of indexes `0..len`.
    main: Table,
    len: usize,
    /// Entries of indexes `len..len + recent_len`, at most `RECENT_MAX`.
    recent: Table,
    recent_len: usize,
    /// The mixing keys (random per index).
    keys: [u64; 2],
    /// Placement held ([`Self::hold`]): hashes past `len + recent_len` wait unplaced until
    /// [`Self::release`].
    held: bool,
}

impl Default for HashIndex {
    fn default() -> Self {
        HashIndex {
            main: Table::default(),
            len: 0,
            recent: Table::default(),
            recent_len: 0,
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
    /// An empty index with room for `n` entries before its main table grows.
    pub(crate) fn with_capacity(n: usize) -> Self {
        HashIndex {
            main: Table::with_room(n),
            ..HashIndex::default()
        }
    }

    /// The tag of `hash`: the high half of the keyed mix, in an entry's high half.
    fn tag_of(&self, hash: &ChangeHash) -> u64 {
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
        (h >> 32) << 32
    }

    /// The entries placed in either table.
    fn placed(&self) -> usize {
        self.len + self.recent_len
    }

    /// The index of `hash`, looking hashes up in `hashes` (the graph's index → hash vector):
    /// in the small table of new entries, in the main one, then among held hashes.
    pub(crate) fn get(&self, hashes: &[ChangeHash], hash: &ChangeHash) -> Option<u32> {
        self.get_placed(hashes, hash).or_else(|| {
            // Newest first: a lookup of a held hash is most often one of the last deps.
            let tail = hashes.get(self.placed()..)?;
            let at = tail.iter().rposition(|h| h == hash)?;
            Some((self.placed() + at) as u32)
        })
    }

    /// The index of `hash` among the placed entries (all of them unless placement is
    /// held): a lookup that never scans the held hashes.
    pub(crate) fn get_placed(&self, hashes: &[ChangeHash], hash: &ChangeHash) -> Option<u32> {
        let tag = self.tag_of(hash);
        self.recent
            .find(hashes, hash, tag)
            .or_else(|| self.main.find(hashes, hash, tag))
    }

    /// Records that the last of `hashes` is at its index: in the small table, whose entries
    /// move to the main one together when it is full (see the module doc). The caller has
    /// pushed the hash and knows that it was absent.
    pub(crate) fn push_recent(&mut self, hashes: &[ChangeHash]) {
        if self.held {
            return;
        }
        let (Some(hash), Some(idx)) = (hashes.last(), hashes.len().checked_sub(1)) else {
            return;
        };
        if idx != self.placed() {
            // Hashes were left unplaced (not by this index's own calls): place everything.
            self.catch_up(hashes);
            return;
        }
        let entry = self.tag_of(hash) | idx as u64;
        self.recent.make_room(self.recent_len + 1);
        self.recent.place(entry);
        self.recent_len += 1;
        if self.recent_len >= RECENT_MAX {
            self.merge_recent();
        }
    }

    /// Moves the small table's entries into the main one, in one loop.
    fn merge_recent(&mut self) {
        if self.recent_len == 0 {
            return;
        }
        self.main.make_room(self.placed());
        for &entry in &self.recent.slots {
            if entry != EMPTY {
                self.main.place(entry);
            }
        }
        self.recent.slots.fill(EMPTY);
        self.len += self.recent_len;
        self.recent_len = 0;
    }

    /// Holds placement from now on until [`Self::release`] (lookups stay correct: they scan
    /// the held hashes, which are many meanwhile).
    pub(crate) fn hold(&mut self) {
        self.held = true;
    }

    /// Whether placement is held ([`Self::hold`]).
    pub(crate) fn is_held(&self) -> bool {
        self.held
    }

    /// Ends [`Self::hold`]: places every held hash, in one pass.
    pub(crate) fn release(&mut self, hashes: &[ChangeHash]) {
        self.held = false;
        self.catch_up(hashes);
    }

    /// Places every hash in the main table (the small one's too).
    pub(crate) fn catch_up(&mut self, hashes: &[ChangeHash]) {
        self.merge_recent();
        let len = hashes.len();
        if len <= self.len {
            return;
        }
        self.main.make_room(len);
        for idx in self.len..len {
            if let Some(hash) = hashes.get(idx) {
                let entry = self.tag_of(hash) | idx as u64;
                self.main.place(entry);
            }
        }
        self.len = len;
    }

    /// Records that `hashes[idx]` is at `idx`. The caller has pushed the hash and checked that
    /// it was absent; every earlier hash is placed.
    pub(crate) fn insert(&mut self, hashes: &[ChangeHash], idx: u32) {
        self.merge_recent();
        if let Some(hash) = hashes.get(idx as usize) {
            self.main.make_room(self.len + 1);
            let entry = self.tag_of(hash) | u64::from(idx);
            self.main.place(entry);
            self.len += 1;
        }
    }

    /// Records that `hashes[idx]` is at `idx` unless an entry already holds an equal hash;
    /// returns that entry's index then (and records nothing). The caller has pushed the hash;
    /// every earlier hash is placed.
    pub(crate) fn insert_unless_present(&mut self, hashes: &[ChangeHash], idx: u32) -> Option<u32> {
        self.merge_recent();
        let hash = hashes.get(idx as usize)?;
        let tag = self.tag_of(hash);
        if let Some(other) = self.main.find(hashes, hash, tag) {
            return Some(other);
        }
        self.main.make_room(self.len + 1);
        self.main.place(tag | u64::from(idx));
        self.len += 1;
        None
    }

    /// Forgets the entries of indexes `len..` (`hashes` must still hold them); the table is
    /// as if they had never been placed. Held hashes past `len` are gone with the caller's
    /// truncation of `hashes`.
    pub(crate) fn truncate(&mut self, hashes: &[ChangeHash], len: u32) {
        let len = len as usize;
        for idx in (len..self.placed()).rev() {
            let Some(hash) = hashes.get(idx) else {
                continue;
            };
            let tag = self.tag_of(hash);
            if idx >= self.len {
                self.recent.remove(tag, idx as u32);
            } else {
                self.main.remove(tag, idx as u32);
            }
        }
        self.recent_len = self.recent_len.min(len.saturating_sub(self.len));
        self.len = self.len.min(len);
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        (self.main.slots.capacity() + self.recent.slots.capacity()) * size_of::<u64>()
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

    /// Random pushes (to the small table or the main one) and truncations agree with a
    /// linear search, across growths and moves of the small table's entries; small tables
    /// make long runs and wrap-arounds common.
    #[test]
    fn agrees_with_a_linear_search() {
        let mut next = crate::test_rng(0x9e37_79b9_7f4a_7c15u64);
        let mut hashes: Vec<ChangeHash> = Vec::new();
        let mut index = HashIndex::default();
        let mut fresh = 0u64;
        for round in 0..20_000 {
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
                    if r < 4 && index.placed() + 1 == hashes.len() {
                        index.insert(&hashes, (hashes.len() - 1) as u32);
                    } else {
                        index.push_recent(&hashes);
                    }
                }
            }
            if round % 50 == 0 {
                for (i, h) in hashes.iter().enumerate() {
                    assert_eq!(index.get(&hashes, h), Some(i as u32), "round {round}");
                }
                assert_eq!(index.main.count(), index.len);
                assert_eq!(index.recent.count(), index.recent_len);
                assert_eq!(index.placed(), hashes.len());
                assert!(index.recent_len < RECENT_MAX);
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
            index.push_recent(&hashes);
        }
        assert_eq!(index.placed(), 100, "nothing placed while held");
        for (j, h) in hashes.iter().enumerate().step_by(37) {
            assert_eq!(index.get(&hashes, h), Some(j as u32));
        }
        index.release(&hashes);
        assert_eq!(index.len, 1000);
        for (j, h) in hashes.iter().enumerate() {
            assert_eq!(index.get_placed(&hashes, h), Some(j as u32));
        }
        assert_eq!(index.get(&hashes, &hash(1000)), None);
        // Released, every push is placed again.
        for i in 1000..1200u32 {
            hashes.push(hash(i));
            index.push_recent(&hashes);
            assert_eq!(index.placed(), hashes.len());
        }
    }

    #[test]
    fn finds_recent_hashes_across_moves_and_truncations() {
        let hash = |i: u32| {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_le_bytes());
            ChangeHash(h)
        };
        let mut hashes = Vec::new();
        let mut index = HashIndex::default();
        let n = 2 * RECENT_MAX as u32 + 100;
        for i in 0..n {
            hashes.push(hash(i));
            index.push_recent(&hashes);
            assert_eq!(index.placed(), hashes.len());
            assert!(index.recent_len < RECENT_MAX);
            if i % 997 == 0 || i + 1 == n {
                for (j, h) in hashes.iter().enumerate() {
                    assert_eq!(index.get(&hashes, h), Some(j as u32));
                }
                assert_eq!(index.get(&hashes, &hash(i + 1)), None);
            }
        }
        assert_eq!(index.len, 2 * RECENT_MAX, "two moves to the main table");
        // A truncation inside the small table, then one inside the main table.
        for into_main in [false, true] {
            for i in 0..20 {
                hashes.push(hash(100_000 + i));
                index.push_recent(&hashes);
            }
            let keep = if into_main {
                index.len - 10
            } else {
                index.len + 5
            };
            let gone = hashes[keep];
            index.truncate(&hashes, keep as u32);
            hashes.truncate(keep);
            assert_eq!(index.placed(), hashes.len());
            assert_eq!(index.main.count(), index.len);
            assert_eq!(index.recent.count(), index.recent_len);
            for (j, h) in hashes.iter().enumerate() {
                assert_eq!(index.get(&hashes, h), Some(j as u32));
            }
            assert_eq!(index.get(&hashes, &gone), None);
        }
    }
}
