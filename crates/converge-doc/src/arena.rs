//! The op arena: every op of a document by index, kept in pages of a fixed size.
//!
//! A vector that grows by doubling leaves its previous block behind each time it grows: once
//! the allocator serves blocks of that size from its heap rather than mapping them (glibc
//! does after any larger block is freed, such as a file read and dropped), the old blocks
//! stay resident. For the paper trace in one transaction that was 3.2 MB of a 14.6 MB peak,
//! and for any document the growth copies every op once more. Pages never move: an op's
//! address is fixed once pushed, growth allocates one page, and nothing is copied (but for the
//! first page, which starts small and doubles up to a page, at most a page's ops copied
//! once). The cost is one more load per access (the page's address, from a small table that
//! stays cached).

use std::ops::{Index, IndexMut};

use crate::opset::Op;

/// Ops per page: 4,096 ops of 32 bytes, 128 KiB.
const PAGE_BITS: u32 = 12;
const PAGE: usize = 1 << PAGE_BITS;
const MASK: usize = PAGE - 1;

/// The first page's room (ops) when it is made: a small document's ops (a few dozen) in
/// 2 KiB rather than a 128 KiB page. With a whole first page (and the chunk store's whole
/// first block, and 256 entries of room in every table after a load), 10,000 small
/// documents held at once took 27.6 kB each (automerge 0.12: 17.7).
const FIRST_PAGE: usize = 64;

/// Ops by index (`u32` indexes elsewhere in the crate, `usize` here as for a slice).
/// Every page but the last is full; the last may be empty (kept for the next push, so that
/// pushing and popping at a page boundary does not allocate each time).
#[derive(Clone, Debug, Default)]
pub(crate) struct OpArena {
    pages: Vec<Vec<Op>>,
    len: usize,
}

impl OpArena {
    /// The number of ops.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no ops.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room in the page table for `additional` more ops (pages themselves are allocated as
    /// they fill).
    pub(crate) fn reserve(&mut self, additional: usize) {
        let pages = (self.len + additional).div_ceil(PAGE);
        self.pages
            .reserve_exact(pages.saturating_sub(self.pages.len()));
    }

    /// Op `i`, if there is one.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&Op> {
        self.pages.get(i >> PAGE_BITS)?.get(i & MASK)
    }

    /// Op `i`, mutably, if there is one.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Op> {
        self.pages.get_mut(i >> PAGE_BITS)?.get_mut(i & MASK)
    }

    /// The last op.
    #[inline]
    pub(crate) fn last(&self) -> Option<&Op> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Appends `op` (at index `len()`).
    #[inline]
    pub(crate) fn push(&mut self, op: Op) {
        // The new page is made before `op` is written and without it: a cold path that took
        // the op made the caller build it on the stack and copy it (a store-forwarding stall
        // per op); this way it is written straight into its slot, as `Vec::push` does.
        if self.pages.last().is_none_or(|p| p.len() >= PAGE) {
            self.new_page();
        }
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
            self.len += 1;
        }
    }

    /// A new last page: a full one, except the first, which starts at [`FIRST_PAGE`] ops
    /// and doubles (as a vector does) up to a page.
    #[cold]
    #[inline(never)]
    fn new_page(&mut self) {
        let room = if self.pages.is_empty() {
            FIRST_PAGE
        } else {
            PAGE
        };
        self.pages.push(Vec::with_capacity(room));
    }

    /// Removes and returns the last op.
    pub(crate) fn pop(&mut self) -> Option<Op> {
        if self.pages.last().is_some_and(Vec::is_empty) {
            // The spare page goes: the page before it ends the arena now.
            self.pages.pop();
        }
        let op = self.pages.last_mut()?.pop()?;
        self.len -= 1;
        Some(op)
    }

    /// Every op, in index order (the tests' view: the document reads ops by index).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Op> + '_ {
        self.pages.iter().flat_map(|p| p.iter())
    }

    /// An arena for the ops from index `start` on, built apart and then joined after the
    /// ops before it ([`OpArena::join`]): the pages before `start`'s own hold nothing, and
    /// `start`'s page holds `filler` up to `start`. Reading an op before `start` gives
    /// `None` or the filler.
    pub(crate) fn starting_at(start: usize, filler: Op) -> OpArena {
        let mut pages: Vec<Vec<Op>> = Vec::new();
        pages.resize_with(start >> PAGE_BITS, Vec::new);
        let mut page = Vec::with_capacity(PAGE);
        page.resize(start & MASK, filler);
        pages.push(page);
        OpArena { pages, len: start }
    }

    /// This arena (of `len()` ops) followed by the ops of `later`, made by
    /// [`OpArena::starting_at`]`(self.len(), ..)`. Only the ops of this arena's last,
    /// partly filled page are copied.
    pub(crate) fn join(mut self, mut later: OpArena) -> OpArena {
        let start = self.len;
        debug_assert!(later.len >= start);
        let at = start >> PAGE_BITS;
        if let (Some(mine), Some(theirs)) = (self.pages.get(at), later.pages.get_mut(at)) {
            // `theirs` starts with fillers in place of the ops of `mine`.
            let n = mine.len().min(theirs.len());
            theirs
                .get_mut(..n)
                .unwrap_or_default()
                .clone_from_slice(mine.get(..n).unwrap_or_default());
        }
        self.pages.truncate(at);
        self.pages.extend(later.pages.drain(at..));
        self.len = later.len;
        self
    }
}

impl Index<usize> for OpArena {
    type Output = Op;

    /// Op `i`; panics if there is none, as a slice does.
    #[inline]
    fn index(&self, i: usize) -> &Op {
        &self.pages[i >> PAGE_BITS][i & MASK]
    }
}

impl IndexMut<usize> for OpArena {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Op {
        &mut self.pages[i >> PAGE_BITS][i & MASK]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;
    use crate::opset::{NONE, StoredValue};
    use converge_encoding::{Action, OpId};

    fn op(counter: u32) -> Op {
        Op::new(
            (OpId::new(counter, 0), 0, NONE),
            Action::Set,
            false,
            false,
            StoredValue::Null,
        )
    }

    /// The first page starts small and doubles up to a page; the next ones are whole.
    #[test]
    fn the_first_page_grows_and_the_next_are_whole() {
        let mut arena = OpArena::default();
        arena.push(op(0));
        assert_eq!(arena.pages[0].capacity(), FIRST_PAGE);
        for i in 1..=PAGE {
            arena.push(op(i as u32));
        }
        assert_eq!(arena.pages[0].capacity(), PAGE);
        assert_eq!(arena.pages[1].capacity(), PAGE);
        assert_eq!(arena[PAGE].id.counter, PAGE as u32);
    }

    #[test]
    fn pushes_pops_and_reads_across_pages() {
        let mut arena = OpArena::default();
        let n = 3 * PAGE + 5;
        arena.reserve(n);
        for i in 0..n {
            arena.push(op(i as u32));
        }
        assert_eq!(arena.len(), n);
        for i in [0, 1, PAGE - 1, PAGE, 2 * PAGE + 7, n - 1] {
            assert_eq!(arena[i].id.counter, i as u32);
            assert_eq!(arena.get(i).unwrap().id.counter, i as u32);
        }
        assert!(arena.get(n).is_none());
        let all: Vec<u32> = arena.iter().map(|o| o.id.counter).collect();
        assert_eq!(all, (0..n as u32).collect::<Vec<_>>());
        arena[PAGE].id = OpId::new(99, 1);
        assert_eq!(arena.get(PAGE).unwrap().id, OpId::new(99, 1));
        // Pop back over a page boundary, then push again.
        for i in (2 * PAGE - 3..n).rev() {
            assert_eq!(arena.pop().unwrap().id.counter, i as u32);
        }
        assert_eq!(arena.len(), 2 * PAGE - 3);
        assert_eq!(arena.last().unwrap().id.counter, (2 * PAGE - 4) as u32);
        for i in 2 * PAGE - 3..2 * PAGE + 2 {
            arena.push(op(i as u32));
        }
        assert_eq!(arena[2 * PAGE + 1].id.counter, (2 * PAGE + 1) as u32);
        while arena.pop().is_some() {}
        assert!(arena.is_empty());
        assert!(arena.last().is_none());
    }

    /// Two arenas built apart, the later starting where the earlier ends, join into the
    /// arena built in one, wherever the cut falls (at a page boundary, inside a page, at 0).
    #[test]
    fn arenas_built_apart_join_into_one() {
        let n = 3 * PAGE + 17;
        for cut in [0, 1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE + 5, n] {
            let mut first = OpArena::default();
            for i in 0..cut {
                first.push(op(i as u32));
            }
            let mut later = OpArena::starting_at(cut, op(u32::MAX));
            assert_eq!(later.len(), cut);
            for i in cut..n {
                later.push(op(i as u32));
            }
            let joined = first.join(later);
            assert_eq!(joined.len(), n, "cut {cut}");
            let all: Vec<u32> = joined.iter().map(|o| o.id.counter).collect();
            assert_eq!(all, (0..n as u32).collect::<Vec<_>>(), "cut {cut}");
            assert_eq!(joined.get(n - 1).unwrap().id.counter, (n - 1) as u32);
        }
    }
}
