//! One actor's ops by counter: the arena index of each of its op ids.
//!
//! An actor's ops usually sit at consecutive arena indexes with consecutive counters (every
//! local edit appends its ops; so does a remote change), so they are kept as runs: one entry
//! of 12 bytes for a whole change, or for a whole session of local edits, instead of 8 bytes
//! per op. Where runs do not pay (an out-of-order insert; an undo in the middle), the list
//! falls back to plain `(counter, arena index)` pairs. A loaded document's ops are in
//! document order, not id order, but its counters are dense: its loader hands over a table
//! with one arena index per counter (4 bytes an op), and later ops go to runs beside it.

use crate::opset::NONE;

/// Runs of consecutive counters at consecutive arena indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdRun {
    counter: u32,
    idx: u32,
    len: u32,
}

impl IdRun {
    fn end_counter(&self) -> u32 {
        self.counter + (self.len - 1)
    }
    fn end_idx(&self) -> u32 {
        self.idx + (self.len - 1)
    }
}

/// An actor's op ids, ascending by counter, each with its arena index.
#[derive(Clone, Debug)]
pub(crate) enum ActorOps {
    /// Runs, and how many ops they hold.
    Runs { runs: Vec<IdRun>, ops: usize },
    /// `(counter, arena index)` pairs.
    Pairs(Vec<(u32, u32)>),
    /// The arena index of counter `base + k` in `slots[k]` ([`NONE`] where there is no such
    /// op; the last slot is never `NONE`), and the ops with counters past the table (never
    /// a table itself).
    Table {
        base: u32,
        slots: Vec<u32>,
        later: Box<ActorOps>,
    },
}

impl Default for ActorOps {
    fn default() -> Self {
        ActorOps::Runs {
            runs: Vec::new(),
            ops: 0,
        }
    }
}

/// Whether runs (12 B each) still pay against pairs (8 B an op): up to 16 runs always, beyond
/// that while they take at most half what pairs would. A list that became pairs stays pairs.
fn runs_pay(runs: usize, ops: usize) -> bool {
    runs <= 16 || runs * 12 <= ops * 8 / 2
}

/// The `(counter, arena index)` pairs of a table's used slots.
fn table_entries(base: u32, slots: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    slots
        .iter()
        .enumerate()
        .filter(|&(_, &s)| s != NONE)
        .map(move |(k, &s)| (base + k as u32, s))
}

/// The runs of `pairs` (ascending by counter, `n` of them), or `None` as soon as they stop
/// paying.
fn runs_of(pairs: impl Iterator<Item = (u32, u32)>, n: usize) -> Option<Vec<IdRun>> {
    let mut runs: Vec<IdRun> = Vec::new();
    for (c, i) in pairs {
        match runs.last_mut() {
            Some(r)
                if r.end_counter().checked_add(1) == Some(c)
                    && r.end_idx().checked_add(1) == Some(i) =>
            {
                r.len += 1
            }
            _ => {
                runs.push(IdRun {
                    counter: c,
                    idx: i,
                    len: 1,
                });
                if !runs_pay(runs.len(), n) {
                    return None;
                }
            }
        }
    }
    runs.shrink_to_fit();
    Some(runs)
}

/// [`runs_of`] the used slots of a table (`n` of them): each run found by one tight scan for
/// its end (godot-thread's 9.4M slots in 2,000-odd runs: 35 → ~10 ms pair by pair).
fn table_runs(base: u32, slots: &[u32], n: usize) -> Option<Vec<IdRun>> {
    let mut runs: Vec<IdRun> = Vec::new();
    let mut k = 0;
    while let Some(rest) = slots.get(k..) {
        // The next used slot, and how far its indexes then go up one by one.
        let Some(skip) = rest.iter().position(|&s| s != NONE) else {
            break;
        };
        let run = rest.get(skip..).unwrap_or_default();
        let idx = run.first().copied().unwrap_or(NONE);
        let len = run
            .windows(2)
            .position(|w| w[1] != w[0].wrapping_add(1) || w[1] == NONE)
            .map_or(run.len(), |p| p + 1);
        runs.push(IdRun {
            counter: base + (k + skip) as u32,
            idx,
            len: len as u32,
        });
        if !runs_pay(runs.len(), n) {
            return None;
        }
        k += skip + len;
    }
    runs.shrink_to_fit();
    Some(runs)
}

impl ActorOps {
    /// The list of `pairs` (ascending by counter), in whichever form is smaller.
    pub(crate) fn from_pairs(pairs: Vec<(u32, u32)>) -> Self {
        match runs_of(pairs.iter().copied(), pairs.len()) {
            Some(runs) => ActorOps::Runs {
                runs,
                ops: pairs.len(),
            },
            None => ActorOps::Pairs(pairs),
        }
    }

    /// The list of the ops whose arena index `slots[k]` has counter `base + k` (`NONE`:
    /// none has), in whichever form is smallest: runs, pairs or the table itself (4 B a
    /// slot, no copy).
    pub(crate) fn from_table(base: u32, mut slots: Vec<u32>) -> Self {
        while slots.last() == Some(&NONE) {
            slots.pop();
        }
        let used = slots.iter().filter(|&&s| s != NONE).count();
        if let Some(runs) = table_runs(base, &slots, used) {
            return ActorOps::Runs { runs, ops: used };
        }
        if used * 2 < slots.len() {
            let mut pairs = Vec::with_capacity(used);
            pairs.extend(table_entries(base, &slots));
            return ActorOps::Pairs(pairs);
        }
        ActorOps::Table {
            base,
            slots,
            later: Box::default(),
        }
    }

    /// The arena index of the op with this counter.
    pub(crate) fn get(&self, counter: u32) -> Option<u32> {
        match self {
            ActorOps::Table { base, slots, later } => {
                match slots.get(counter.checked_sub(*base)? as usize) {
                    Some(&s) => (s != NONE).then_some(s),
                    None => later.get(counter),
                }
            }
            ActorOps::Runs { runs, .. } => {
                let i = runs.partition_point(|r| r.counter <= counter);
                let r = runs.get(i.checked_sub(1)?)?;
                let k = counter - r.counter;
                (k < r.len).then_some(r.idx + k)
            }
            ActorOps::Pairs(pairs) => {
                let i = pairs.binary_search_by_key(&counter, |&(c, _)| c).ok()?;
                pairs.get(i).map(|&(_, idx)| idx)
            }
        }
    }

    /// The highest counter and its arena index.
    pub(crate) fn last(&self) -> Option<(u32, u32)> {
        match self {
            ActorOps::Table { base, slots, later } => later.last().or_else(|| {
                let last = slots.last()?;
                Some((base + (slots.len() - 1) as u32, *last))
            }),
            ActorOps::Runs { runs, .. } => runs.last().map(|r| (r.end_counter(), r.end_idx())),
            ActorOps::Pairs(pairs) => pairs.last().copied(),
        }
    }

    /// Adds op `counter` at arena index `idx` (a counter not in the list).
    pub(crate) fn insert(&mut self, counter: u32, idx: u32) {
        if let ActorOps::Table { base, slots, later } = self {
            match counter.checked_sub(*base).map(|k| k as usize) {
                Some(k) if k < slots.len() => {
                    if let Some(slot) = slots.get_mut(k) {
                        *slot = idx;
                    }
                }
                Some(_) => later.insert(counter, idx),
                None => {
                    self.make_pairs();
                    self.insert(counter, idx);
                }
            }
            return;
        }
        if let ActorOps::Runs { runs, ops } = self {
            match runs.last_mut() {
                None => {}
                // Continues the last run.
                Some(r)
                    if r.end_counter().checked_add(1) == Some(counter)
                        && r.end_idx().checked_add(1) == Some(idx) =>
                {
                    r.len += 1;
                    *ops += 1;
                    return;
                }
                Some(r) if r.end_counter() < counter => {}
                // Out of order: pairs.
                Some(_) => {
                    self.make_pairs();
                    self.insert(counter, idx);
                    return;
                }
            }
            runs.push(IdRun {
                counter,
                idx,
                len: 1,
            });
            *ops += 1;
            if !runs_pay(runs.len(), *ops) {
                self.make_pairs();
            }
            return;
        }
        if let ActorOps::Pairs(pairs) = self {
            match pairs.last() {
                Some(&(c, _)) if c >= counter => {
                    let pos = pairs.partition_point(|&(c, _)| c < counter);
                    pairs.insert(pos, (counter, idx));
                }
                _ => pairs.push((counter, idx)),
            }
        }
    }

    /// Removes the op at arena index `idx` (undo: usually the last one added).
    pub(crate) fn remove(&mut self, idx: u32) {
        if let ActorOps::Table { slots, later, .. } = self {
            if later.last().is_none_or(|(_, i)| i != idx)
                && let Some(k) = slots.iter().rposition(|&s| s == idx)
            {
                if let Some(slot) = slots.get_mut(k) {
                    *slot = NONE;
                }
                while slots.last() == Some(&NONE) {
                    slots.pop();
                }
            } else {
                later.remove(idx);
            }
            return;
        }
        if let ActorOps::Runs { runs, ops } = self {
            if let Some(r) = runs.last_mut()
                && r.end_idx() == idx
            {
                r.len -= 1;
                *ops -= 1;
                if r.len == 0 {
                    runs.pop();
                }
                return;
            }
            self.make_pairs();
        }
        if let ActorOps::Pairs(pairs) = self {
            if pairs.last().is_some_and(|&(_, i)| i == idx) {
                pairs.pop();
            } else {
                pairs.retain(|&(_, i)| i != idx);
            }
        }
    }

    fn make_pairs(&mut self) {
        if let ActorOps::Table { base, slots, later } = self {
            let mut pairs: Vec<(u32, u32)> = table_entries(*base, slots).collect();
            later.make_pairs();
            if let ActorOps::Pairs(more) = &**later {
                pairs.extend_from_slice(more);
            }
            *self = ActorOps::Pairs(pairs);
            return;
        }
        if let ActorOps::Runs { runs, ops } = self {
            let mut pairs = Vec::with_capacity(*ops + 1);
            for r in runs.iter() {
                pairs.extend((0..r.len).map(|k| (r.counter + k, r.idx + k)));
            }
            *self = ActorOps::Pairs(pairs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// A table's runs found slot run by slot run are those found pair by pair, whether they
    /// pay or not: tables of long and short runs, gaps, and indexes that go back.
    #[test]
    fn table_runs_are_the_runs_of_its_pairs() {
        let mut seed = 0x5eed_u64;
        // Tables whose runs did not pay, and did.
        let mut paid = [0; 2];
        for round in 0..300 {
            let len = (rng(&mut seed) % 400) as usize;
            let mut next = (rng(&mut seed) % 1000) as u32;
            let slots: Vec<u32> = (0..len)
                .map(|_| match rng(&mut seed) % 16 {
                    0 => NONE,
                    1 => {
                        next = (rng(&mut seed) % 5000) as u32;
                        next
                    }
                    // Long runs in the later rounds, short ones in the first.
                    r if r < 3 + round / 30 => {
                        next += 1;
                        next
                    }
                    _ => {
                        next += 2;
                        next
                    }
                })
                .collect();
            let base = (rng(&mut seed) % 100) as u32;
            let used = slots.iter().filter(|&&s| s != NONE).count();
            let runs = table_runs(base, &slots, used);
            assert_eq!(
                runs,
                runs_of(table_entries(base, &slots), used),
                "round {round}"
            );
            paid[usize::from(runs.is_some())] += 1;
        }
        assert!(paid[0] > 20 && paid[1] > 20, "{paid:?}");
    }

    /// Random inserts (mostly appending, in runs), removals and lookups agree with a plain
    /// sorted list, in both forms and across conversions.
    #[test]
    fn agrees_with_a_sorted_list() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for _ in 0..500 {
            let mut ops = ActorOps::default();
            let mut model: Vec<(u32, u32)> = Vec::new();
            let mut next_idx = 0u32;
            let mut next_counter = 1u32;
            // Half the lists start as a loaded table (with gaps, indexes out of order).
            if rng(&mut seed).is_multiple_of(2) {
                let base = 1 + (rng(&mut seed) % 5) as u32;
                let len = rng(&mut seed) % 60;
                let gaps = 1 + rng(&mut seed) % 6;
                let mut slots = Vec::new();
                for k in 0..len as u32 {
                    if rng(&mut seed).is_multiple_of(gaps) {
                        slots.push(NONE);
                    } else {
                        let idx = 1000 - next_idx;
                        slots.push(idx);
                        model.push((base + k, idx));
                        next_idx += 1;
                    }
                }
                ops = ActorOps::from_table(base, slots);
                next_counter = base + len as u32;
                next_idx += 1000;
            }
            for _ in 0..(rng(&mut seed) % 200) {
                match rng(&mut seed) % 10 {
                    // Append, continuing a run or not.
                    0..=6 => {
                        next_counter += u32::from(rng(&mut seed).is_multiple_of(4));
                        next_idx += u32::from(rng(&mut seed).is_multiple_of(4));
                        ops.insert(next_counter, next_idx);
                        model.push((next_counter, next_idx));
                        next_counter += 1;
                        next_idx += 1;
                    }
                    // Out of order: a counter below the last that is not taken.
                    7 => {
                        let c = (rng(&mut seed) % u64::from(next_counter)) as u32;
                        if model.iter().all(|&(m, _)| m != c) {
                            ops.insert(c, next_idx);
                            let pos = model.partition_point(|&(m, _)| m < c);
                            model.insert(pos, (c, next_idx));
                            next_idx += 1;
                        }
                    }
                    // Undo the last added or another.
                    8 if !model.is_empty() => {
                        let idx = if rng(&mut seed).is_multiple_of(2) {
                            model.iter().map(|&(_, i)| i).max().unwrap_or(0)
                        } else {
                            model[(rng(&mut seed) as usize) % model.len()].1
                        };
                        ops.remove(idx);
                        model.retain(|&(_, i)| i != idx);
                    }
                    _ => {
                        let rebuilt = ActorOps::from_pairs(model.clone());
                        for c in 0..next_counter + 2 {
                            assert_eq!(rebuilt.get(c), ops.get(c));
                        }
                    }
                }
                for c in 0..next_counter + 2 {
                    let want = model.iter().find(|&&(m, _)| m == c).map(|&(_, i)| i);
                    assert_eq!(ops.get(c), want, "counter {c}");
                }
                assert_eq!(ops.last(), model.last().copied());
            }
        }
    }

    #[test]
    fn a_dense_table_stays_a_table_and_takes_later_ops() {
        let slots: Vec<u32> = (0..1000u32).map(|k| (k * 7919) % 1000).collect();
        let mut ops = ActorOps::from_table(10, slots);
        assert!(matches!(&ops, ActorOps::Table { .. }));
        assert_eq!(ops.get(10), Some(0));
        assert_eq!(ops.get(1009), Some((999 * 7919) % 1000));
        assert_eq!(ops.get(1010), None);
        for k in 0..100 {
            ops.insert(2000 + k, 5000 + k);
        }
        assert!(
            matches!(&ops, ActorOps::Table { later, .. } if matches!(**later, ActorOps::Runs { .. }))
        );
        assert_eq!(ops.last(), Some((2099, 5099)));
        ops.remove(5099);
        assert_eq!(ops.last(), Some((2098, 5098)));
        // Consecutive indexes make runs instead.
        let runs = ActorOps::from_table(1, (0..1000).collect());
        assert!(matches!(&runs, ActorOps::Runs { runs, .. } if runs.len() == 1));
    }

    #[test]
    fn local_edits_take_one_run() {
        let mut ops = ActorOps::default();
        for k in 0..10_000u32 {
            ops.insert(k + 1, k + 5);
        }
        assert!(matches!(&ops, ActorOps::Runs { runs, .. } if runs.len() == 1));
        assert_eq!(ops.get(10_000), Some(10_004));
        assert_eq!(ops.last(), Some((10_000, 10_004)));
    }
}
