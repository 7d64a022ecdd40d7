//! One actor's ops by counter: the arena index of each of its op ids.
//!
//! An actor's ops usually sit at consecutive arena indexes with consecutive counters (every
//! local edit appends its ops; so does a remote change), so they are kept as runs: one entry
//! of 12 bytes for a whole change, or for a whole session of local edits, instead of 8 bytes
//! per op. Where runs do not pay (a loaded document's ops are in document order, not id
//! order; an out-of-order insert; an undo in the middle), the list falls back to plain
//! `(counter, arena index)` pairs.

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

impl ActorOps {
    /// The list of `pairs` (ascending by counter), in whichever form is smaller.
    pub(crate) fn from_pairs(pairs: Vec<(u32, u32)>) -> Self {
        let mut runs: Vec<IdRun> = Vec::new();
        for &(c, i) in &pairs {
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
                    if !runs_pay(runs.len(), pairs.len()) {
                        return ActorOps::Pairs(pairs);
                    }
                }
            }
        }
        runs.shrink_to_fit();
        ActorOps::Runs {
            runs,
            ops: pairs.len(),
        }
    }

    /// The arena index of the op with this counter.
    pub(crate) fn get(&self, counter: u32) -> Option<u32> {
        match self {
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
            ActorOps::Runs { runs, .. } => runs.last().map(|r| (r.end_counter(), r.end_idx())),
            ActorOps::Pairs(pairs) => pairs.last().copied(),
        }
    }

    /// Adds op `counter` at arena index `idx` (a counter not in the list).
    pub(crate) fn insert(&mut self, counter: u32, idx: u32) {
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
