//! The set of heads: a sorted vector while it is small (almost always: one head in a linear
//! history, a few after concurrent edits), a B-tree once it is large, so that a history of
//! many concurrent heads still costs O(log n) per change.

use std::collections::BTreeSet;

use converge_encoding::ChangeHash;

/// Past this many heads the set becomes a B-tree.
const SMALL_MAX: usize = 32;
/// At or below this many heads a B-tree becomes a vector again (below `SMALL_MAX`, so that a
/// set hovering around the limit does not convert back and forth).
const SMALL_AGAIN: usize = 8;

/// Change hashes, iterated in ascending order.
#[derive(Clone, Debug)]
pub(crate) enum HeadSet {
    /// Sorted, at most `SMALL_MAX`.
    Small(Vec<ChangeHash>),
    Large(BTreeSet<ChangeHash>),
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
            HeadSet::Small(v) => v.binary_search(h).is_ok(),
            HeadSet::Large(s) => s.contains(h),
        }
    }

    /// Adds `h`; false if it was there.
    pub(crate) fn insert(&mut self, h: ChangeHash) -> bool {
        match self {
            HeadSet::Small(v) => match v.binary_search(&h) {
                Ok(_) => false,
                Err(i) => {
                    v.insert(i, h);
                    if v.len() > SMALL_MAX {
                        *self = HeadSet::Large(v.drain(..).collect());
                    }
                    true
                }
            },
            HeadSet::Large(s) => s.insert(h),
        }
    }

    /// Removes `h`; false if it was not there.
    pub(crate) fn remove(&mut self, h: &ChangeHash) -> bool {
        match self {
            HeadSet::Small(v) => match v.binary_search(h) {
                Ok(i) => {
                    v.remove(i);
                    true
                }
                Err(_) => false,
            },
            HeadSet::Large(s) => {
                let removed = s.remove(h);
                if s.len() <= SMALL_AGAIN {
                    *self = HeadSet::Small(std::mem::take(s).into_iter().collect());
                }
                removed
            }
        }
    }

    /// The hashes, ascending.
    pub(crate) fn iter(&self) -> HeadIter<'_> {
        match self {
            HeadSet::Small(v) => HeadIter::Small(v.iter()),
            HeadSet::Large(s) => HeadIter::Large(s.iter()),
        }
    }

    /// Bytes held (a B-tree node holds up to 11 keys: the keys plus a node header per 11).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            HeadSet::Small(v) => v.capacity() * size_of::<ChangeHash>(),
            HeadSet::Large(s) => s.len() * size_of::<ChangeHash>() + s.len().div_ceil(11) * 16,
        }
    }
}

/// [`HeadSet::iter`].
pub(crate) enum HeadIter<'a> {
    Small(std::slice::Iter<'a, ChangeHash>),
    Large(std::collections::btree_set::Iter<'a, ChangeHash>),
}

impl<'a> Iterator for HeadIter<'a> {
    type Item = &'a ChangeHash;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HeadIter::Small(i) => i.next(),
            HeadIter::Large(i) => i.next(),
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

    /// Random inserts and removes agree with a B-tree, across both forms and conversions.
    #[test]
    fn agrees_with_a_btree_set() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut set = HeadSet::default();
        let mut model = BTreeSet::new();
        let (mut was_large, mut small_again) = (false, false);
        for round in 0..20_000 {
            // Grow to ~100 heads, then shrink to a few, and again.
            let grow = (round / 2_000) % 2 == 0;
            let x = h((next() % 128) as u32);
            let insert = if grow {
                next() % 3 != 0
            } else {
                next() % 32 == 0
            };
            if insert {
                assert_eq!(set.insert(x), model.insert(x));
            } else {
                assert_eq!(set.remove(&x), model.remove(&x));
            }
            small_again |= was_large && matches!(set, HeadSet::Small(_));
            was_large |= matches!(set, HeadSet::Large(_));
            assert_eq!(set.len(), model.len());
            assert_eq!(set.contains(&x), model.contains(&x));
            assert!(set.iter().eq(model.iter()));
            assert_eq!(set.iter().len(), model.len());
        }
        assert!(was_large && small_again);
    }
}
