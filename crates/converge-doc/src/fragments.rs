//! Fragments: automerge 0.12's experimental cut of a history into pieces named by head
//! hashes (`fragments`, `get_fragment`, `bundle_fragments`), for sync schemes that exchange
//! whole pieces of history. The graph works them out (`converge_dag::Fragment`); a document
//! hands them out and writes them as change chunks or bundles.

use std::ops::RangeBounds;

use converge_dag::{Fragment, fragment_level};
use converge_encoding::ChangeHash;

use crate::doc::Document;

impl Document {
    /// EXPERIMENTAL, as in automerge 0.12 (where it is hidden from the docs and may change
    /// or go): the fragments of the history at the levels in `levels`, oldest first.
    ///
    /// A change's level is the number of zero bytes its hash starts with. A change of level
    /// ≥ 1 (one in 256) heads a fragment reaching down to the earlier fragments of at least
    /// its level (its boundary); a fragment of a lower level below one of a higher level is
    /// dropped. Level 0 lists, each as a fragment of its own, the newest changes that no
    /// such fragment holds. The same fragments, in the same order and with their members
    /// in the same order, as automerge 0.12's `fragments`.
    ///
    /// ```
    /// use converge_doc::{Document, ROOT};
    /// let mut doc = Document::new();
    /// for i in 0..600 {
    ///     doc.put(&ROOT, "n", i as i64)?;
    /// }
    /// let all = doc.fragments(..);
    /// // A history without branches is cut into pieces: each change is in one fragment.
    /// let members: usize = all.iter().map(|f| f.members.len()).sum();
    /// assert_eq!(members, 600);
    /// // Written as change chunks and bundles, they load into a peer.
    /// let mut peer = Document::new();
    /// for bytes in doc.bundle_fragments(all) {
    ///     peer.load_incremental(&bytes)?;
    /// }
    /// assert_eq!(peer.heads(), doc.heads());
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn fragments(&self, levels: impl RangeBounds<usize>) -> Vec<Fragment> {
        self.history.graph.fragments(levels)
    }

    /// EXPERIMENTAL, as in automerge 0.12: the fragment `head` names. For a change of
    /// level 0 that change alone (its deps for boundary); for one of level ≥ 1 the fragment
    /// it heads, or `None` where a fragment of a higher level has taken it in. `None` for
    /// a hash the document does not have.
    pub fn get_fragment(&self, head: &ChangeHash) -> Option<Fragment> {
        self.history.graph.fragment(head)
    }

    /// EXPERIMENTAL, as in automerge 0.12: each fragment as bytes: the change chunk (as
    /// [`converge_encoding::Change::compressed_bytes`] gives it) for a fragment of one
    /// change of level 0, else a bundle of its members ([`Document::bundle`]). A fragment
    /// naming a change the document does not have is left out.
    pub fn bundle_fragments(&self, fragments: impl IntoIterator<Item = Fragment>) -> Vec<Vec<u8>> {
        fragments
            .into_iter()
            .filter_map(|f| {
                if fragment_level(&f.head) == 0 && f.members.len() == 1 {
                    Some(
                        self.get_change_by_hash(&f.head)?
                            .compressed_bytes()
                            .to_vec(),
                    )
                } else {
                    self.bundle(&f.members).ok()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use converge_encoding::ScalarValue;

    use super::*;
    use crate::ROOT;

    /// Two actors editing apart and merging now and then: every change lies in a fragment
    /// (in several where branches met), and `get_fragment` of each head gives its fragment.
    #[test]
    fn fragments_cover_every_change_once() {
        let mut a = Document::new();
        let mut b = a.fork();
        for step in 0..3000u32 {
            let d = if step % 3 == 0 { &mut b } else { &mut a };
            d.put(&ROOT, "k", ScalarValue::Uint(u64::from(step)))
                .unwrap();
            if step % 97 == 0 {
                a.merge(&b).unwrap();
                b.merge(&a).unwrap();
            }
        }
        a.merge(&b).unwrap();
        let all = a.fragments(..);
        let mut seen = std::collections::HashSet::new();
        for f in &all {
            assert_eq!(f.members[0], f.head);
            assert_eq!(f.level, fragment_level(&f.head));
            seen.extend(f.members.iter().copied());
            assert_eq!(a.get_fragment(&f.head).as_ref(), Some(f));
        }
        assert_eq!(seen.len(), a.get_changes(&[]).len());
        assert!(
            all.iter().any(|f| f.level > 0),
            "3,000 changes hold a level-1 head"
        );
        let cached = a.fragments(1..);
        let loose = a.fragments(0..1);
        assert_eq!(cached.len() + loose.len(), all.len());
        assert!(loose.iter().all(|f| f.level == 0 && f.members.len() == 1));
    }
}
