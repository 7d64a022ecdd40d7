//! Columns of `u32`s stored as narrow as their values allow.
//!
//! The graph's per-change actor numbers and op counts are small (a document has a few
//! actors, rarely more than 255; a keystroke's change has one op), so one byte a change
//! holds each where a `u32` took four ([`NarrowColumn`]). Where each change's deps end in
//! the edge array grows without bound, but by little per change: [`BlockedEnds`] keeps a
//! `u32` base per 64 changes and a narrow offset from it per change.

/// `u32` values in `u8`s while all fit, then `u16`s, then `u32`s. Widening copies the
/// column once per width; it never narrows again.
#[derive(Clone, Debug)]
pub(crate) enum NarrowColumn {
    /// Every value is below 256.
    U8(Vec<u8>),
    /// Every value is below 65,536.
    U16(Vec<u16>),
    /// Any value.
    U32(Vec<u32>),
}

impl Default for NarrowColumn {
    fn default() -> Self {
        NarrowColumn::U8(Vec::new())
    }
}

impl NarrowColumn {
    /// The value at `i`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<u32> {
        match self {
            NarrowColumn::U8(v) => v.get(i).map(|&x| u32::from(x)),
            NarrowColumn::U16(v) => v.get(i).map(|&x| u32::from(x)),
            NarrowColumn::U32(v) => v.get(i).copied(),
        }
    }

    /// The last value.
    #[inline]
    pub(crate) fn last(&self) -> Option<u32> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            NarrowColumn::U8(v) => v.len(),
            NarrowColumn::U16(v) => v.len(),
            NarrowColumn::U32(v) => v.len(),
        }
    }

    /// Appends `x`, widening the column first if `x` does not fit.
    #[inline]
    pub(crate) fn push(&mut self, x: u32) {
        match self {
            NarrowColumn::U8(v) => match u8::try_from(x) {
                Ok(x) => v.push(x),
                Err(_) => self.widen_and_push(x),
            },
            NarrowColumn::U16(v) => match u16::try_from(x) {
                Ok(x) => v.push(x),
                Err(_) => self.widen_and_push(x),
            },
            NarrowColumn::U32(v) => v.push(x),
        }
    }

    /// Copies the column into the narrowest width that holds `x` too, then appends it.
    #[cold]
    fn widen_and_push(&mut self, x: u32) {
        let wide: Vec<u32> = (0..self.len()).filter_map(|i| self.get(i)).collect();
        *self = match u16::try_from(x) {
            Ok(_) => NarrowColumn::U16(wide.iter().map(|&w| w as u16).collect()),
            Err(_) => NarrowColumn::U32(wide),
        };
        self.push(x);
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        match self {
            NarrowColumn::U8(v) => v.truncate(len),
            NarrowColumn::U16(v) => v.truncate(len),
            NarrowColumn::U32(v) => v.truncate(len),
        }
    }

    pub(crate) fn reserve_exact(&mut self, n: usize) {
        match self {
            NarrowColumn::U8(v) => v.reserve_exact(n),
            NarrowColumn::U16(v) => v.reserve_exact(n),
            NarrowColumn::U32(v) => v.reserve_exact(n),
        }
    }

    /// A copy with room for `room` more entries before it grows.
    pub(crate) fn clone_with_room(&self, room: usize) -> Self {
        match self {
            NarrowColumn::U8(v) => NarrowColumn::U8(cloned_with_room(v, room)),
            NarrowColumn::U16(v) => NarrowColumn::U16(cloned_with_room(v, room)),
            NarrowColumn::U32(v) => NarrowColumn::U32(cloned_with_room(v, room)),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            NarrowColumn::U8(v) => v.capacity(),
            NarrowColumn::U16(v) => v.capacity() * 2,
            NarrowColumn::U32(v) => v.capacity() * 4,
        }
    }
}

/// Changes per base of [`BlockedEnds`].
const BLOCK: usize = 64;

/// A copy of `v` with room for `room` more items before it grows (`Vec::clone` allocates
/// exactly its length, so the copy's first push would copy it again).
pub(crate) fn cloned_with_room<T: Clone>(v: &[T], room: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len().saturating_add(room));
    out.extend_from_slice(v);
    out
}

/// A non-decreasing sequence of `u32` ends (entry `i` is where item `i`'s range ends; it
/// starts where item `i - 1`'s ends, or at 0): per [`BLOCK`] entries the start of the
/// block's first item as a `u32`, and per entry its end's offset from that in a
/// [`NarrowColumn`] (one byte while no block spans more than 255).
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockedEnds {
    bases: Vec<u32>,
    offsets: NarrowColumn,
}

impl BlockedEnds {
    pub(crate) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Where item `i`'s range ends.
    #[inline]
    pub(crate) fn end(&self, i: usize) -> Option<u32> {
        let base = *self.bases.get(i / BLOCK)?;
        Some(base + self.offsets.get(i)?)
    }

    /// Where item `i`'s range starts (for `i == len()`, where the next one's will).
    #[inline]
    pub(crate) fn start(&self, i: usize) -> Option<u32> {
        match i.checked_sub(1) {
            None => Some(0),
            Some(prev) => self.end(prev),
        }
    }

    /// Appends an item whose range ends at `end`, which is at least the last end.
    #[inline]
    pub(crate) fn push(&mut self, end: u32) {
        let i = self.len();
        if i.is_multiple_of(BLOCK) {
            let start = self.start(i).unwrap_or(0);
            self.bases.push(start);
        }
        let base = self.bases.last().copied().unwrap_or(0);
        self.offsets.push(end.saturating_sub(base));
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len);
        self.bases.truncate(len.div_ceil(BLOCK));
    }

    pub(crate) fn reserve_exact(&mut self, n: usize) {
        self.offsets.reserve_exact(n);
        self.bases.reserve_exact(n.div_ceil(BLOCK));
    }

    /// A copy with room for `room` more items before it grows.
    pub(crate) fn clone_with_room(&self, room: usize) -> Self {
        BlockedEnds {
            bases: cloned_with_room(&self.bases, room.div_ceil(BLOCK)),
            offsets: self.offsets.clone_with_room(room),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bases.capacity() * 4 + self.offsets.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ends pushed in steps small and large, with truncations between, read back as the
    /// prefix sums a `Vec<u32>` model holds.
    #[test]
    fn blocked_ends_read_as_a_vec() {
        let mut ends = BlockedEnds::default();
        let mut model: Vec<u32> = Vec::new();
        let mut seed = 0x2545_f491_u64;
        for k in 0..5_000usize {
            if k % 1_300 == 1_299 {
                let len = (seed % (model.len() as u64 + 1)) as usize;
                ends.truncate(len);
                model.truncate(len);
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let step = match (seed >> 33) % 10 {
                0 => 0,
                1 => (seed >> 40) as u32 % 2_000,
                _ => 1,
            };
            let end = model.last().copied().unwrap_or(0) + step;
            ends.push(end);
            model.push(end);
            assert_eq!(ends.len(), model.len());
        }
        for (i, &end) in model.iter().enumerate() {
            assert_eq!(ends.end(i), Some(end));
            let start = i.checked_sub(1).map_or(0, |p| model[p]);
            assert_eq!(ends.start(i), Some(start));
        }
        assert_eq!(ends.start(model.len()), model.last().copied());
        assert_eq!(ends.end(model.len()), None);
        assert!(ends.heap_bytes() > 0);
    }

    /// Values pushed across both widenings, with truncations between, read back as a
    /// `Vec<u32>` model holds them.
    #[test]
    fn a_narrow_column_reads_as_a_vec() {
        let mut column = NarrowColumn::default();
        let mut model: Vec<u32> = Vec::new();
        let values = (0..300u32)
            .chain([7, 70_000, 3, 255, 65_535, u32::MAX, 0])
            .chain((0..50).map(|i| i * 1_000));
        for (k, x) in values.enumerate() {
            if k == 280 {
                column.truncate(100);
                model.truncate(100);
            }
            column.push(x);
            model.push(x);
            assert_eq!(column.len(), model.len());
            assert_eq!(column.last(), model.last().copied());
        }
        assert!(matches!(column, NarrowColumn::U32(_)));
        for (i, &x) in model.iter().enumerate() {
            assert_eq!(column.get(i), Some(x));
        }
        assert_eq!(column.get(model.len()), None);
        let mut small = NarrowColumn::default();
        small.push(300);
        assert!(matches!(small, NarrowColumn::U16(_)));
        small.push(2);
        assert_eq!((small.get(0), small.get(1)), (Some(300), Some(2)));
        assert_eq!(small.heap_bytes() % 2, 0);
    }
}
