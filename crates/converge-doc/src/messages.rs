//! The history's commit messages, each distinct text kept once.
//!
//! Applications built on automerge-repo tag every change with the same few messages (an
//! author's id as JSON): essay.amrg has 262,961 messages and 10 distinct texts. Keeping a
//! text per change cost ~75 bytes a change; an entry costs 8.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Messages by change index.
#[derive(Clone, Debug, Default)]
pub(crate) struct Messages {
    /// (change index, text id) of the changes that have a message ("" included), by
    /// increasing change index.
    entries: Vec<(u32, u32)>,
    texts: Vec<Box<str>>,
    /// Hash of a text → the id of the first text with that hash. A text whose hash another
    /// text already has is stored again, under its own id.
    ids: HashMap<u64, u32>,
    /// Keyed per table, so that texts from peers cannot be chosen to collide.
    state: RandomState,
}

impl Messages {
    /// Records that change `change` (above every change recorded so far) has message `text`.
    pub(crate) fn push(&mut self, change: u32, text: &str) {
        // Consecutive changes mostly share their message (one author's run): comparing with
        // the last text is cheaper than hashing (essay.amrg's load spent ~2 % in SipHash here).
        if let Some(&(_, last)) = self.entries.last()
            && self.texts.get(last as usize).is_some_and(|t| **t == *text)
        {
            self.entries.push((change, last));
            return;
        }
        let hash = self.state.hash_one(text);
        let id = match self.ids.get(&hash) {
            Some(&id) if self.texts.get(id as usize).is_some_and(|t| **t == *text) => id,
            found => {
                let id = self.texts.len() as u32;
                self.texts.push(text.into());
                if found.is_none() {
                    self.ids.insert(hash, id);
                }
                id
            }
        };
        self.entries.push((change, id));
    }

    /// The message of change `change`, if it has one.
    pub(crate) fn get(&self, change: u32) -> Option<&str> {
        let pos = self
            .entries
            .binary_search_by_key(&change, |&(c, _)| c)
            .ok()?;
        let &(_, id) = self.entries.get(pos)?;
        self.text(id)
    }

    /// (change index, text id) of the changes that have a message, by increasing index.
    pub(crate) fn entries(&self) -> &[(u32, u32)] {
        &self.entries
    }

    /// The text with id `id`.
    pub(crate) fn text(&self, id: u32) -> Option<&str> {
        self.texts.get(id as usize).map(|t| &**t)
    }

    /// How many texts are stored (for [`Messages::truncate`]).
    pub(crate) fn text_count(&self) -> usize {
        self.texts.len()
    }

    /// Forgets the messages of changes `changes..` and the texts from id `texts` on (those
    /// first stored after the state being rolled back to).
    pub(crate) fn truncate(&mut self, changes: usize, texts: usize) {
        while self
            .entries
            .last()
            .is_some_and(|&(c, _)| c as usize >= changes)
        {
            self.entries.pop();
        }
        if texts < self.texts.len() {
            self.texts.truncate(texts);
            self.ids.retain(|_, id| (*id as usize) < texts);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn texts_are_kept_once_and_rollback_forgets() {
        let mut m = Messages::default();
        m.push(0, "a");
        m.push(2, "b");
        m.push(3, "a");
        m.push(4, "");
        assert_eq!(m.text_count(), 3);
        let got: Vec<_> = (0..6).map(|c| m.get(c)).collect();
        assert_eq!(got, [Some("a"), None, Some("b"), Some("a"), Some(""), None]);
        let texts = m.text_count();
        m.push(5, "c");
        m.push(6, "a");
        assert_eq!(m.text_count(), 4);
        m.truncate(5, texts);
        assert_eq!((m.entries().len(), m.text_count()), (4, 3));
        assert_eq!(m.get(5), None);
        // A text forgotten by the rollback is stored again when it comes back.
        m.push(5, "c");
        assert_eq!((m.get(5), m.text_count()), (Some("c"), 4));
        assert_eq!(m.entries().last(), Some(&(5, 3)));
        // A run of one text (compared with the last, not hashed) keeps its one id.
        m.push(7, "c");
        m.push(8, "c");
        m.push(9, "a");
        m.push(10, "a");
        assert_eq!(m.text_count(), 4);
        assert_eq!(&m.entries()[5..], [(7, 3), (8, 3), (9, 0), (10, 0)]);
    }
}
