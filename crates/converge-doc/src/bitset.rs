//! A fixed-size bitmap over small indexes (op arena indexes, change indexes).

/// A fixed-size set of small indexes, with room for those below the size it was made with
/// (rounded up to a multiple of 64); inserting one beyond that does nothing.
pub(crate) struct BitSet(Vec<u64>);

impl BitSet {
    /// An empty set with room for indexes below `n`.
    pub(crate) fn new(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)])
    }
    pub(crate) fn insert(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
    pub(crate) fn contains(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitset() {
        let mut s = BitSet::new(130);
        for i in [0, 63, 64, 129] {
            assert!(!s.contains(i));
            s.insert(i);
            assert!(s.contains(i));
        }
        assert!(s.contains(64) && s.contains(63) && s.contains(129) && !s.contains(65));
        assert!(!s.contains(1000));
    }
}
