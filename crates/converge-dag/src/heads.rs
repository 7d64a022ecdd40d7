//! The set of heads, each with its change index: a sorted vector while it is small (almost
//! always: one head in a linear history, a few after concurrent edits), a B-tree once it is
//! large, so that a history of many concurrent heads still costs O(log n) per change.

use std::collections::BTreeMap;

use converge_encoding::ChangeHash;

/// Past this many heads the set becomes a B-tree.
const SMALL_MAX: usize = 32;
/// At or below this many heads a B-tree becomes a vector again (below `SMALL_MAX`, so that a
/// set hovering around the limit does not convert back and forth).
const SMALL_AGAIN: usize = 8;

/// Change hashes with their change indexes, iterated in ascending hash order.
#[derive(Clone, Debug)]
pub(crate) enum HeadSet {
    /// Sorted by hash, at most `SMALL_MAX`.
    Small(Vec<(ChangeHash, u32)>),
    Large(BTreeMap<ChangeHash, u32>),
}

impl Default for HeadSet {
    fn default() -> Self {
        HeadSet::Small(Vec::new())
    }
}

impl HeadSet {
    pub(crate) fn len(&self) -> usize {
        match self {
            HeadSet::Small(v) => v.len(),
            HeadSet::Large(s) => s.len(),
        }
    }

    pub(crate) fn contains(&self, h: &ChangeHash) -> bool {
        match self {
            HeadSet::Small(v) => v.binary_search_by(|(k, _)| k.cmp(h)).is_ok(),
            HeadSet::Large(s) => s.contains_key(h),
        }
    }

    /// Adds `h`, the change at index `idx`; false if it was there.
    pub(crate) fn insert(&mut self, h: ChangeHash, idx: u32) -> bool {
        match self {
            HeadSet::Small(v) => match v.binary_search_by(|(k, _)| k.cmp(&h)) {
                Ok(_) => false,
                Err(i) => {
                    v.insert(i, (h, idx));
                    if v.len() > SMALL_MAX {
                        *self = HeadSet::Large(v.drain(..).collect());
                    }
                    true
                }
            },
            HeadSet::Large(s) => match s.entry(h) {
                std::collections::btree_map::Entry::Occupied(_) => false,
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(idx);
                    true
                }
            },
        }
    }

    /// Adds `h`, the change at index `idx`, which depends on the changes at `deps` (whose
    /// hashes are in `hashes`): they stop being heads. A small set finds them by index, and
    /// a linear history (one head, replaced by its successor) writes one entry in place.
    pub(crate) fn advance(&mut self, h: ChangeHash, idx: u32, deps: &[u32], hashes: &[ChangeHash]) {
        if let HeadSet::Small(v) = self {
            if let ([only], [dep]) = (v.as_mut_slice(), deps)
                && only.1 == *dep
            {
                *only = (h, idx);
                return;
            }
            v.retain(|(_, i)| !deps.contains(i));
        } else {
            for &dep in deps {
                if let Some(d) = hashes.get(dep as usize) {
                    self.remove(d);
                }
            }
        }
        self.insert(h, idx);
    }

    /// Removes `h`; false if it was not there.
    pub(crate) fn remove(&mut self, h: &ChangeHash) -> bool {
        match self {
            HeadSet::Small(v) => match v.binary_search_by(|(k, _)| k.cmp(h)) {
                Ok(i) => {
                    v.remove(i);
                    true
                }
                Err(_) => false,
            },
            HeadSet::Large(s) => {
                let removed = s.remove(h).is_some();
                if s.len() <= SMALL_AGAIN {
                    *self = HeadSet::Small(std::mem::take(s).into_iter().collect());
                }
                removed
            }
        }
    }

    /// The hashes and their change indexes, ascending by hash.
    #[inline]
    pub(crate) fn iter(&self) -> HeadIter<'_> {
        match self {
            HeadSet::Small(v) => HeadIter::Small(v.iter()),
            HeadSet::Large(s) => HeadIter::Large(s.iter()),
        }
    }

    /// Bytes held (a B-tree node holds up to 11 keys: the keys plus a node header per 11).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            HeadSet::Small(v) => v.capacity() * size_of::<(ChangeHash, u32)>(),
            HeadSet::Large(s) => {
                s.len() * size_of::<(ChangeHash, u32)>() + s.len().div_ceil(11) * 16
            }
        }
    }
}

/// [`HeadSet::iter`].
pub(crate) enum HeadIter<'a> {
    Small(std::slice::Iter<'a, (ChangeHash, u32)>),
    Large(std::collections::btree_map::Iter<'a, ChangeHash, u32>),
}

impl Iterator for HeadIter<'_> {
    type Item = (ChangeHash, u32);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HeadIter::Small(i) => i.next().copied(),
            HeadIter::Large(i) => i.next().map(|(h, &idx)| (*h, idx)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            HeadIter::Small(i) => i.size_hint(),
            HeadIter::Large(i) => i.size_hint(),
        }
    }
}

impl ExactSizeIterator for HeadIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u32) -> ChangeHash {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&n.to_be_bytes());
        ChangeHash(b)
    }

    /// Random inserts and removes agree with a B-tree map, across both forms and conversions.
    #[test]
    fn agrees_with_a_btree_map() {
        let mut next = crate::test_rng(0x2545_f491_4f6c_dd1du64);
        let hashes: Vec<ChangeHash> = (0..128).map(h).collect();
        let mut set = HeadSet::default();
        let mut model = BTreeMap::new();
        let (mut was_large, mut small_again) = (false, false);
        for round in 0..20_000 {
            // Grow to ~100 heads, then shrink to a few, and again.
            let grow = (round / 2_000) % 2 == 0;
            let n = (next() % 128) as u32;
            let x = h(n);
            let insert = if grow {
                !next().is_multiple_of(3)
            } else {
                next().is_multiple_of(32)
            };
            let fresh = !model.contains_key(&x);
            if fresh && next().is_multiple_of(if grow { 4 } else { 64 }) {
                // A new change with up to three deps, heads or not.
                let deps: Vec<u32> = (0..next() % 4).map(|_| (next() % 128) as u32).collect();
                for d in &deps {
                    model.remove(&h(*d));
                }
                model.insert(x, n);
                set.advance(x, n, &deps, &hashes);
            } else if insert {
                if fresh {
                    model.insert(x, n);
                }
                assert_eq!(set.insert(x, n), fresh);
            } else {
                assert_eq!(set.remove(&x), model.remove(&x).is_some());
            }
            small_again |= was_large && matches!(set, HeadSet::Small(_));
            was_large |= matches!(set, HeadSet::Large(_));
            assert_eq!(set.len(), model.len());
            assert_eq!(set.contains(&x), model.contains_key(&x));
            assert!(set.iter().eq(model.iter().map(|(h, &n)| (*h, n))));
            assert_eq!(set.iter().len(), model.len());
        }
        assert!(was_large && small_again);
    }

    /// A linear history keeps one head, its newest change.
    #[test]
    fn advancing_a_single_head_replaces_it() {
        let hashes: Vec<ChangeHash> = (0..10).map(h).collect();
        let mut set = HeadSet::default();
        set.advance(h(0), 0, &[], &hashes);
        for n in 1..10 {
            set.advance(h(n), n, &[n - 1], &hashes);
            assert!(set.iter().eq([(h(n), n)]));
        }
    }
}
