//! [`Document::fork_at`]: a new document holding the changes under some heads.

use converge_dag::ChangeIdx;
use converge_encoding::ChangeHash;

use crate::doc::{Document, KeptChunk};
use crate::error::DocError;

/// A fork of fewer than one op in this many of the document's is made by applying its
/// changes: writing the chunk reads every op, about 0.55 ms for the paper document's 260,000,
/// and applying the changes under its 865th change costs as much
/// (a scratch probe's timings at 3bf58ee, min of 5: 25 changes 38 us applied against
/// 0.57 ms loaded, 8,659 changes 11.5 against 4.0 ms).
const REPLAY_BELOW: u64 = 256;

impl Document {
    /// A new document (new random actor) holding exactly the changes reachable from `heads`,
    /// applied in the order automerge 0.12's `fork_at` applies them (so that its history,
    /// and the change order of its saves, are the reference's): as a depth-first walk from
    /// `heads` finds them (a stack of `heads` in the order given, without repeats, the last
    /// popped first; each change's deps pushed in the change's order when first seen),
    /// reversed, each change that comes before one of its deps waiting for it.
    ///
    /// The fork is not built by applying those changes one by one but by loading a
    /// document chunk of them, written from this document's ops as they were at `heads`
    /// (with the successors the changes under `heads` made) and with the changes in that
    /// order, which the graph works out from their deps and seqs
    /// ([`converge_dag::ChangeGraph::batch_order`]). The load checks the chunk as any load
    /// does (it rebuilds every change and compares the heads), so a fork is exactly the
    /// changes under `heads`; where the chunk cannot be written or does not load
    /// (histories no editor writes), the changes are applied. A fork at the paper
    /// document's middle change takes a quarter of the time applying took (`fork_probe` in
    /// converge-benches). Changes that hold under 1/256 of the document's ops (early heads)
    /// are applied too: writing the chunk reads every op, which costs more than applying
    /// so few.
    pub fn fork_at(&self, heads: &[ChangeHash]) -> Result<Document, DocError> {
        let order = self.fork_order(heads)?;
        // Writing the chunk reads every op of the document: for a few of its ops (early
        // heads), applying them costs less.
        let kept_ops = order.iter().fold(0u64, |n, &i| {
            let (first, last) = self.history.op_range(i);
            n.saturating_add(last.saturating_add(1).saturating_sub(first))
        });
        if kept_ops.saturating_mul(REPLAY_BELOW) < self.ops.ops.len() as u64 {
            return self.fork_by_replay(order);
        }
        match self.fork_by_load(&order) {
            Some(doc) => Ok(doc),
            None => self.fork_by_replay(order),
        }
    }

    /// The changes under `heads` (history indexes), in the order `fork_at` hands them to
    /// `apply_changes` (see there).
    fn fork_order(&self, heads: &[ChangeHash]) -> Result<Vec<usize>, DocError> {
        let starts = self
            .history
            .indexes(heads)
            .map_err(|hash| DocError::UnknownChange { hash })?;
        let graph = &self.history.graph;
        let mut seen = crate::bitset::BitSet::new(graph.len());
        let mut stack: Vec<u32> = Vec::with_capacity(starts.len());
        for i in starts {
            if !seen.contains(i) {
                seen.insert(i);
                stack.push(i);
            }
        }
        let mut order: Vec<usize> = Vec::new();
        while let Some(i) = stack.pop() {
            if let Some(change) = graph.change(ChangeIdx::new(i)) {
                for dep in change.dep_indexes() {
                    let d = dep.get() as u32;
                    if !seen.contains(d) {
                        seen.insert(d);
                        stack.push(d);
                    }
                }
            }
            order.push(i as usize);
        }
        order.reverse();
        Ok(order)
    }

    /// The fork, by applying the changes `order` to a new document.
    fn fork_by_replay(&self, order: Vec<usize>) -> Result<Document, DocError> {
        let mut doc = Document::new();
        doc.ops.encoding = self.ops.encoding;
        let changes = self.history.changes_at(order);
        doc.apply_changes(changes)?;
        Ok(doc)
    }

    /// The fork, by loading a document chunk of the changes `order` (see
    /// [`Document::fork_at`]); `None` if there are none, or if the chunk cannot be written
    /// or does not load.
    fn fork_by_load(&self, order: &[usize]) -> Option<Document> {
        if order.is_empty() {
            return None;
        }
        // The order `apply_changes` would apply them in, which the graph works out.
        let graph = &self.history.graph;
        let changes: Vec<ChangeIdx> = order.iter().map(|&i| ChangeIdx::new(i as u32)).collect();
        let applied: Vec<usize> = graph
            .batch_order(&changes)?
            .into_iter()
            .map(ChangeIdx::get)
            .collect();
        // The heads: those of them none of them depends on, with their places in `applied`.
        let mut depended = crate::bitset::BitSet::new(graph.len());
        for &i in &applied {
            for d in graph.change(ChangeIdx::new(i as u32))?.dep_indexes() {
                depended.insert(d.get() as u32);
            }
        }
        let heads: Vec<(ChangeHash, usize)> = applied
            .iter()
            .enumerate()
            .filter(|&(_, &i)| !depended.contains(i as u32))
            .map(|(k, &i)| (self.history.hash(i), k))
            .collect();
        let chunk = self.encode_at(&applied, &heads)?;
        let mut doc = Document::load_with_encoding(&chunk, self.ops.encoding).ok()?;
        // Never saved, as a fork; and a whole-document sync send deflates the columns, not
        // hands on this uncompressed chunk.
        doc.saved = 0;
        doc.loaded_chunk = KeptChunk::default();
        Some(doc)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use converge_encoding::ActorId;

    use super::*;
    use crate::save::tests::mixed_document;
    use crate::types::ROOT;

    fn history(doc: &Document) -> Vec<ChangeHash> {
        (0..doc.history.len())
            .map(|i| doc.history.hash(i))
            .collect()
    }

    /// A fork loaded from a chunk of the changes under the heads is the fork that applying
    /// them gives: the same history in the same order, the same saved bytes, and the same
    /// change from the same edit after it.
    #[test]
    fn a_loaded_fork_is_the_replayed_one() {
        for seed in 1..10u64 {
            let doc = mixed_document(seed, 120 + 40 * seed as usize);
            let n = doc.history.len();
            let cuts = [1, 2, n / 5, n / 3, n / 2, n - 1];
            for (k, &cut) in cuts.iter().enumerate() {
                let mut heads = vec![doc.history.hash(cut - 1)];
                // Now and then two heads, perhaps one under the other.
                if k % 2 == 1 {
                    heads.push(doc.history.hash((cut * 7 / 3) % n));
                }
                let order = doc.fork_order(&heads).unwrap();
                let mut loaded = doc.fork_by_load(&order).expect("the chunk loads");
                let mut replayed = doc.fork_by_replay(order).unwrap();
                let ctx = format!("seed {seed}, cut {cut} of {n}, heads {heads:?}");
                assert_eq!(history(&loaded), history(&replayed), "{ctx}");
                assert_eq!(loaded.heads(), replayed.heads(), "{ctx}");
                assert_eq!(loaded.saved, 0, "{ctx}");
                assert_eq!(
                    loaded.save_nocompress(),
                    replayed.save_nocompress(),
                    "{ctx}"
                );
                let actor = ActorId::from_bytes(&[0x33; 16]);
                let mut changes = Vec::new();
                for fork in [&mut loaded, &mut replayed] {
                    fork.set_actor(actor.clone());
                    fork.put(&ROOT, "after", "the fork").unwrap();
                    changes.push(fork.save_incremental());
                }
                assert_eq!(changes[0], changes[1], "{ctx}");
            }
        }
    }

    /// A fork at no heads is empty; one at the document's own heads holds every change
    /// (in the fork's order, which need not be the document's).
    #[test]
    fn forks_at_no_heads_and_at_all_of_them() {
        let doc = mixed_document(3, 200);
        assert_eq!(doc.fork_at(&[]).unwrap().history.len(), 0);
        let mut all = doc.fork_at(&doc.heads()).unwrap();
        assert_eq!(all.heads(), doc.heads());
        let (mut ours, mut theirs) = (history(&all), history(&doc));
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        assert_eq!(Document::load(&all.save()).unwrap().heads(), doc.heads());
    }
}
