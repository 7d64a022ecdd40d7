//! The key index of a map object: its keys in string order, each with the ops that put it.
//!
//! Most maps of a JSON-like document are small (a record of a few fields), and a document can
//! hold thousands of them. A `BTreeMap` gives even a two-key map a leaf node of eleven slots
//! (~450 bytes here); a sorted vector holds the same two keys in 80. So a map keeps its keys
//! in a sorted vector, and moves them into a `BTreeMap` when a key goes in among more than
//! [`SMALL_MAX`], where inserting in the middle of a vector would copy too much. Keys that
//! come after every key the vector holds are appended, however many: a loaded map's keys
//! come in order (a map of 20,000 keys took ~35 string comparisons a key to build as a
//! `BTreeMap`, one as a vector), and a sorted vector reads as fast.
//!
//! Invariant: the entries are sorted by key and the keys are distinct, in either form.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

/// The non-delete ops of one key, ascending by OpId (arena indexes).
pub(crate) type Group = SmallVec<[u32; 2]>;

/// Keys a map's sorted vector holds before a key inserted among them (not after them all)
/// moves them into a `BTreeMap`.
const SMALL_MAX: usize = 32;

/// A map object's keys (the op set's interned ones, shared) and their op groups, in key order.
#[derive(Clone)]
pub(crate) enum KeyMap {
    /// Sorted, distinct; at most [`SMALL_MAX`] keys unless they were appended in order.
    Small(Vec<(Arc<str>, Group)>),
    /// Keys moved out of the vector (a key went in among more than [`SMALL_MAX`]).
    Large(BTreeMap<Arc<str>, Group>),
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::Small(Vec::new())
    }
}

impl KeyMap {
    /// Where `key` is in a small map's entries, or where it would go.
    fn search(entries: &[(Arc<str>, Group)], key: &str) -> Result<usize, usize> {
        entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    /// Whether the map holds no key.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            KeyMap::Small(entries) => entries.is_empty(),
            KeyMap::Large(map) => map.is_empty(),
        }
    }

    /// The ops of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Group> {
        match self {
            KeyMap::Small(entries) => Self::search(entries, key)
                .ok()
                .and_then(|at| entries.get(at))
                .map(|(_, g)| g),
            KeyMap::Large(map) => map.get(key),
        }
    }

    /// The ops of `key`, to change.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Group> {
        match self {
            KeyMap::Small(entries) => match Self::search(entries, key) {
                Ok(at) => entries.get_mut(at).map(|(_, g)| g),
                Err(_) => None,
            },
            KeyMap::Large(map) => map.get_mut(key),
        }
    }

    /// The ops of `key`, an empty group inserted first if the map has none.
    pub(crate) fn group_mut(&mut self, key: &Arc<str>) -> &mut Group {
        // The last key again, or a key after it (keys are interned: the same key is most
        // often the same `Arc`): no search.
        let at_end = match self {
            KeyMap::Small(entries) => match entries.last() {
                None => Some(false),
                Some((last, _)) if Arc::ptr_eq(last, key) || **last == **key => Some(true),
                Some((last, _)) => (**last < **key).then_some(false),
            },
            KeyMap::Large(_) => None,
        };
        if let KeyMap::Small(entries) = self
            && at_end.is_none()
            && entries.len() >= SMALL_MAX
            && Self::search(entries, key).is_err()
        {
            let map = std::mem::take(entries).into_iter().collect();
            *self = KeyMap::Large(map);
        }
        match self {
            KeyMap::Small(entries) => {
                let at = match at_end {
                    Some(true) => entries.len() - 1,
                    Some(false) => {
                        entries.push((Arc::clone(key), Group::new()));
                        entries.len() - 1
                    }
                    None => match Self::search(entries, key) {
                        Ok(at) => at,
                        Err(at) => {
                            entries.insert(at, (Arc::clone(key), Group::new()));
                            at
                        }
                    },
                };
                // `at` was found or inserted just above.
                &mut entries[at].1
            }
            KeyMap::Large(map) => map.entry(Arc::clone(key)).or_default(),
        }
    }

    /// Gives a small map's spare room back (a map built in one go takes no more keys).
    pub(crate) fn shrink_to_fit(&mut self) {
        if let KeyMap::Small(entries) = self {
            entries.shrink_to_fit();
        }
    }

    /// Drops `key` and its ops.
    pub(crate) fn remove(&mut self, key: &str) {
        match self {
            KeyMap::Small(entries) => {
                if let Ok(at) = Self::search(entries, key) {
                    entries.remove(at);
                }
            }
            KeyMap::Large(map) => {
                map.remove(key);
            }
        }
    }

    /// Every key with its ops, in key order.
    pub(crate) fn iter(&self) -> Iter<'_> {
        match self {
            KeyMap::Small(entries) => Iter::Small(entries.iter()),
            KeyMap::Large(map) => Iter::Large(map.range::<str, _>(..)),
        }
    }

    /// Every key's ops, in key order.
    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = &Group> {
        self.iter().map(|(_, g)| g)
    }

    /// The keys before `key` with their ops, in key order.
    pub(crate) fn before(&self, key: &str) -> Iter<'_> {
        match self {
            KeyMap::Small(entries) => {
                let end = Self::search(entries, key).unwrap_or_else(|at| at);
                Iter::Small(entries.get(..end).unwrap_or_default().iter())
            }
            KeyMap::Large(map) => Iter::Large(
                map.range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(key))),
            ),
        }
    }
}

impl fmt::Debug for KeyMap {
    /// The same for both forms: a map of key to ops.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a KeyMap {
    type Item = (&'a Arc<str>, &'a Group);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The entries of a [`KeyMap`], or of a range of it, in key order.
pub(crate) enum Iter<'a> {
    /// A small map's entries.
    Small(std::slice::Iter<'a, (Arc<str>, Group)>),
    /// A large map's entries.
    Large(btree_map::Range<'a, Arc<str>, Group>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Arc<str>, &'a Group);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(it) => it.next().map(|(k, g)| (k, g)),
            Iter::Large(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Small(it) => it.size_hint(),
            Iter::Large(it) => it.size_hint(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(it) => it.next_back().map(|(k, g)| (k, g)),
            Iter::Large(it) => it.next_back(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    /// Applies `steps` (key, op; op 0 removes the key) to a `KeyMap` and to a `BTreeMap`.
    fn both(steps: &[(u8, u8)]) -> (KeyMap, BTreeMap<Arc<str>, Group>) {
        let mut map = KeyMap::default();
        let mut model: BTreeMap<Arc<str>, Group> = BTreeMap::new();
        for &(k, op) in steps {
            let key: Arc<str> = Arc::from(format!("k{}", k % 80));
            if op == 0 {
                map.remove(&key);
                model.remove(&key);
            } else {
                map.group_mut(&key).push(u32::from(op));
                model.entry(key).or_default().push(u32::from(op));
            }
        }
        (map, model)
    }

    quickcheck! {
        /// Whatever is inserted and removed, small or large, it reads as the model map.
        fn a_key_map_reads_as_a_btree_map(steps: Vec<(u8, u8)>, probe: u8) -> bool {
            let (map, model) = both(&steps);
            let probe = format!("k{}", probe % 80);
            let below = (std::ops::Bound::Unbounded, std::ops::Bound::Excluded(probe.as_str()));
            map.iter().eq(model.iter())
                && map.iter().rev().eq(model.iter().rev())
                && map.values().eq(model.values())
                && map.is_empty() == model.is_empty()
                && map.get(&probe) == model.get(probe.as_str())
                && map.before(&probe).eq(model.range::<str, _>(below))
                && map.before(&probe).rev().eq(model.range::<str, _>(below).rev())
                && format!("{map:?}") == format!("{model:?}")
        }
    }

    /// Keys that come in order are appended to the vector however many there are (as a
    /// loaded map's do); the first key among more than `SMALL_MAX` moves them into the
    /// `BTreeMap`. Either way the map reads as the model.
    #[test]
    fn keys_in_order_stay_in_the_vector_until_one_goes_among_them() {
        let key = |i: u32| -> Arc<str> { Arc::from(format!("key{i:04}")) };
        let mut map = KeyMap::default();
        let mut model: BTreeMap<Arc<str>, Group> = BTreeMap::new();
        for i in (0..200).step_by(2) {
            for op in [1, 2] {
                map.group_mut(&key(i)).push(i * 10 + op);
                model.entry(key(i)).or_default().push(i * 10 + op);
            }
        }
        assert!(matches!(&map, KeyMap::Small(e) if e.len() == 100));
        assert!(map.iter().eq(model.iter()));
        // An existing key in the middle: found, nothing moves.
        map.group_mut(&key(50)).push(7);
        model.entry(key(50)).or_default().push(7);
        assert!(matches!(map, KeyMap::Small(_)));
        // A new key in the middle.
        map.group_mut(&key(51)).push(8);
        model.entry(key(51)).or_default().push(8);
        assert!(matches!(map, KeyMap::Large(_)));
        assert!(map.iter().eq(model.iter()));
    }

    #[test]
    fn a_map_past_the_small_limit_goes_large_and_keeps_its_keys() {
        let steps: Vec<(u8, u8)> = (0..40).map(|k| (k, 1)).collect();
        let (map, model) = both(&steps);
        assert!(matches!(map, KeyMap::Large(_)));
        assert!(map.iter().eq(model.iter()));
        let (small, _) = both(&steps[..SMALL_MAX]);
        assert!(matches!(small, KeyMap::Small(_)));
    }
}
