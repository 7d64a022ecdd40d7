//! A column of `u32`s stored as narrow as its largest value allows.
//!
//! The graph's per-change actor numbers are small (a document has a few actors, rarely
//! more than 255), so one byte a change holds them where a `u32` took four.

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

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            NarrowColumn::U8(v) => v.capacity(),
            NarrowColumn::U16(v) => v.capacity() * 2,
            NarrowColumn::U32(v) => v.capacity() * 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
