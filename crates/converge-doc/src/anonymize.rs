//! A copy of a document with its content replaced, for sharing a document that shows a bug
//! without sharing what it says (automerge 0.12's `anonymize`).
//!
//! Every change is rewritten and applied in order to a new document: actors renamed (a
//! random 8-byte prefix and the actor's rank), times and numbers drawn at random, strings
//! replaced character by character with characters of the same UTF-8 width (so lengths in
//! every text encoding stay), map keys and mark names through one substitution for the whole
//! document (equal keys stay equal, different keys stay different), bytes and messages
//! replaced likewise. The shape stays: the change graph (deps renamed to the new hashes),
//! each change's seq, start op and ops, every object, key, element, mark range and conflict.
//! A substitution cipher keeps which characters are equal: it hides content from a casual
//! reader, it is not encryption.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, Key, ScalarValue,
};

use crate::doc::Document;
use crate::error::DocError;

/// Letters that stand in for the ASCII characters of strings.
const FILLER: &[u8] = b"loremipsumdolorsitametconsecteturadipiscingelit";

impl Document {
    /// A new document with this one's history and shape but none of its content (see the
    /// module documentation of `anonymize.rs`): for attaching to a bug report. Random each
    /// time; [`Document::anonymize_with_seed`] repeats itself. Queued changes are left out;
    /// the copy has a random actor and this document's text encoding.
    ///
    /// ```
    /// use converge_doc::{Document, ObjType, ROOT};
    /// let mut doc = Document::new();
    /// let text = doc.put_object(&ROOT, "secret", ObjType::Text)?;
    /// doc.splice_text(&text, 0, 0, "my password")?;
    /// let copy = doc.anonymize()?;
    /// assert_eq!(copy.change_count(), doc.change_count());
    /// let key = copy.keys(&ROOT)?.remove(0);
    /// assert_eq!(key.len(), "secret".len());
    /// assert_ne!(key, "secret");
    /// let copied = copy.get(&ROOT, key.as_str())?.unwrap().id;
    /// assert_eq!(copy.text(&copied)?.len(), "my password".len());
    /// assert_ne!(copy.text(&copied)?, "my password");
    /// # Ok::<(), converge_doc::DocError>(())
    /// ```
    pub fn anonymize(&self) -> Result<Document, DocError> {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(self.change_count());
        self.anonymize_with_seed(h.finish())
    }

    /// [`Document::anonymize`] with its random choices drawn from `seed`: the same document
    /// and seed give the same copy.
    pub fn anonymize_with_seed(&self, seed: u64) -> Result<Document, DocError> {
        let changes = self.get_changes(&[]);
        let mut cipher = Cipher::new(seed);
        let actors = cipher.actor_names(&changes);
        let mut hashes: HashMap<ChangeHash, ChangeHash> = HashMap::with_capacity(changes.len());
        let mut copies = Vec::with_capacity(changes.len());
        for change in &changes {
            let parts = change.to_parts();
            let copy = Change::from_parts(ChangeParts {
                actor: rename(&actors, &parts.actor),
                seq: parts.seq,
                start_op: parts.start_op,
                time: cipher.int_other_than(parts.time),
                message: parts.message.map(|m| cipher.content(&m)),
                // The deps were applied before the change (the changes are in causal order).
                deps: parts
                    .deps
                    .iter()
                    .map(|d| hashes.get(d).copied().unwrap_or(*d))
                    .collect(),
                other_actors: parts
                    .other_actors
                    .iter()
                    .map(|a| rename(&actors, a))
                    .collect(),
                ops: parts.ops.into_iter().map(|op| cipher.op(op)).collect(),
                extra_bytes: cipher.bytes(&parts.extra_bytes),
            })?;
            hashes.insert(change.hash(), copy.hash());
            copies.push(copy);
        }
        let mut doc = Document::new();
        doc.set_text_encoding(self.text_encoding());
        doc.apply_changes(copies)?;
        Ok(doc)
    }
}

fn rename(actors: &HashMap<ActorId, ActorId>, actor: &ActorId) -> ActorId {
    actors.get(actor).cloned().unwrap_or_else(|| actor.clone())
}

/// The random choices of one anonymization.
struct Cipher {
    rng: SplitMix64,
    /// [`FILLER`] shuffled, and where the next filler letter comes from.
    filler: Vec<u8>,
    next_filler: usize,
    /// One substitution per class of characters of a UTF-8 width, for keys and mark names
    /// (made when a character of the class first comes).
    keys: [Option<Vec<u32>>; 5],
    /// Likewise for the non-ASCII characters of content strings.
    content: [Option<Vec<u32>>; 5],
}

impl Cipher {
    fn new(seed: u64) -> Self {
        let mut rng = SplitMix64(seed);
        let mut filler = FILLER.to_vec();
        for i in (1..filler.len()).rev() {
            filler.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let next_filler = rng.below(filler.len() as u64) as usize;
        Cipher {
            rng,
            filler,
            next_filler,
            keys: Default::default(),
            content: Default::default(),
        }
    }

    /// Each actor of `changes` (authors and other actors) named by a random prefix shared by
    /// all and its rank among them (big-endian), none named as any actor was.
    fn actor_names(&mut self, changes: &[Change]) -> HashMap<ActorId, ActorId> {
        let mut all: Vec<&ActorId> = changes
            .iter()
            .flat_map(|c| std::iter::once(c.actor()).chain(c.other_actors()))
            .collect();
        all.sort();
        all.dedup();
        loop {
            let prefix = self.rng.next().to_be_bytes();
            let names: HashMap<ActorId, ActorId> = all
                .iter()
                .enumerate()
                .map(|(rank, a)| {
                    let mut name = [0u8; 16];
                    name[..8].copy_from_slice(&prefix);
                    name[8..].copy_from_slice(&(rank as u64).to_be_bytes());
                    ((*a).clone(), ActorId::from_bytes(&name))
                })
                .collect();
            if names.values().all(|n| all.binary_search(&n).is_err()) {
                return names;
            }
        }
    }

    fn op(&mut self, mut op: ChangeOp) -> ChangeOp {
        if let Key::Map(key) = &op.key {
            op.key = Key::Map(self.key(key));
        }
        op.mark_name = op.mark_name.map(|n| self.key(&n));
        op.value = match (op.action, &op.value) {
            (Action::Inc, ScalarValue::Int(n)) => ScalarValue::Int(self.int_other_than(*n)),
            (Action::Inc, _) => ScalarValue::Int(self.int_other_than(0)),
            (_, value) => self.scalar(value),
        };
        op
    }

    fn scalar(&mut self, value: &ScalarValue) -> ScalarValue {
        match value {
            ScalarValue::Null => ScalarValue::Null,
            ScalarValue::Bool(_) => ScalarValue::Bool(self.rng.next() & 1 == 1),
            ScalarValue::Uint(u) => ScalarValue::Uint(loop {
                let n = self.rng.next();
                if n != *u {
                    break n;
                }
            }),
            ScalarValue::Int(i) => ScalarValue::Int(self.int_other_than(*i)),
            ScalarValue::F64(f) => ScalarValue::F64(loop {
                // In [0, 1): finite, never NaN.
                let x = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                if x.to_bits() != f.to_bits() {
                    break x;
                }
            }),
            ScalarValue::Str(s) => ScalarValue::Str(self.content(s)),
            ScalarValue::Bytes(b) => ScalarValue::Bytes(self.bytes(b)),
            ScalarValue::Counter(c) => ScalarValue::Counter(self.int_other_than(*c)),
            ScalarValue::Timestamp(t) => ScalarValue::Timestamp(self.int_other_than(*t)),
            ScalarValue::Unknown { type_code, bytes } => ScalarValue::Unknown {
                type_code: *type_code,
                bytes: self.bytes(bytes),
            },
        }
    }

    /// A random number other than `n`, within `i32` so that the differences a delta column
    /// writes (and sums of increments) stay far from overflowing.
    fn int_other_than(&mut self, n: i64) -> i64 {
        loop {
            let x = i64::from(self.rng.next() as u32 as i32);
            if x != n {
                return x;
            }
        }
    }

    /// Each byte replaced by a filler letter other than it.
    fn bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        bytes.iter().map(|&b| self.filler_other_than(b)).collect()
    }

    fn filler_other_than(&mut self, b: u8) -> u8 {
        loop {
            let f = self.filler.get(self.next_filler).copied().unwrap_or(b'x');
            self.next_filler = (self.next_filler + 1) % self.filler.len();
            if f != b {
                return f;
            }
        }
    }

    /// A content string: whitespace and control characters kept (the shape of lines and
    /// words), other ASCII characters replaced by filler letters, others by the content
    /// substitution.
    fn content(&mut self, s: &str) -> String {
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c.is_ascii_control() {
                    c
                } else if c.is_ascii() {
                    char::from(self.filler_other_than(c as u8))
                } else {
                    substitute(&mut self.content, &mut self.rng, c)
                }
            })
            .collect()
    }

    /// A key or mark name, through the key substitution.
    fn key(&mut self, s: &str) -> String {
        s.chars()
            .map(|c| substitute(&mut self.keys, &mut self.rng, c))
            .collect()
    }
}

/// `c` through the substitution of its class in `tables` (made on first use): a character
/// of the same UTF-8 width, never `c` itself.
fn substitute(tables: &mut [Option<Vec<u32>>; 5], rng: &mut SplitMix64, c: char) -> char {
    let (class, rank) = class_and_rank(c);
    let Some(slot) = tables.get_mut(class) else {
        return c;
    };
    let table = slot.get_or_insert_with(|| one_cycle(CLASS_SIZES[class], rng));
    table
        .get(rank as usize)
        .and_then(|&r| from_class_rank(class, r))
        .unwrap_or(c)
}

/// The classes of characters a substitution maps within: printable ASCII, ASCII controls
/// (with DEL), and the characters of 2, 3 and 4 UTF-8 bytes (the 3-byte class without the
/// surrogate gap).
const CLASS_SIZES: [u32; 5] = [95, 33, 0x780, 0xf000, 0x10_0000];

fn class_and_rank(c: char) -> (usize, u32) {
    let cp = c as u32;
    match cp {
        0x20..=0x7e => (0, cp - 0x20),
        0..=0x1f => (1, cp),
        0x7f => (1, 32),
        0x80..=0x7ff => (2, cp - 0x80),
        0x800..=0xd7ff => (3, cp - 0x800),
        0xe000..=0xffff => (3, cp - 0xe000 + 0xd000),
        _ => (4, cp - 0x1_0000),
    }
}

fn from_class_rank(class: usize, rank: u32) -> Option<char> {
    char::from_u32(match class {
        0 => 0x20 + rank,
        1 if rank == 32 => 0x7f,
        1 => rank,
        2 => 0x80 + rank,
        3 if rank < 0xd000 => 0x800 + rank,
        3 => 0xe000 + rank - 0xd000,
        _ => 0x1_0000 + rank,
    })
}

/// A random permutation of `0..n` that is one cycle through all of them (Sattolo's
/// shuffle), so that nothing maps to itself.
fn one_cycle(n: u32, rng: &mut SplitMix64) -> Vec<u32> {
    let mut items: Vec<u32> = (0..n).collect();
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64) as usize;
        items.swap(i, j);
    }
    // `items` lists the cycle; each element maps to the next one.
    let mut next = vec![0u32; n as usize];
    for (k, &from) in items.iter().enumerate() {
        let to = items.get((k + 1) % items.len()).copied().unwrap_or(from);
        if let Some(slot) = next.get_mut(from as usize) {
            *slot = to;
        }
    }
    next
}

/// A small deterministic generator (SplitMix64): random enough to pick replacements.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (> 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_keep_the_width_and_move_every_character() {
        let mut rng = SplitMix64(7);
        let mut tables: [Option<Vec<u32>>; 5] = Default::default();
        for c in [
            'a',
            ' ',
            '~',
            '\0',
            '\u{7f}',
            'é',
            '\u{7ff}',
            '日',
            '\u{d7ff}',
            '\u{e000}',
            '\u{ffff}',
            '😀',
            '\u{10ffff}',
        ] {
            let d = substitute(&mut tables, &mut rng, c);
            assert_ne!(c, d);
            assert_eq!(c.len_utf8(), d.len_utf8(), "{c:?} -> {d:?}");
            assert_eq!(c.len_utf16(), d.len_utf16(), "{c:?} -> {d:?}");
            assert_eq!(c.is_ascii_control(), d.is_ascii_control(), "{c:?} -> {d:?}");
            // The same character again: the same replacement.
            assert_eq!(substitute(&mut tables, &mut rng, c), d);
        }
    }

    #[test]
    fn one_cycle_is_a_derangement_of_everything() {
        let mut rng = SplitMix64(1);
        for n in [2, 3, 95, 1000] {
            let p = one_cycle(n, &mut rng);
            let mut seen = vec![false; n as usize];
            let mut at = 0u32;
            for _ in 0..n {
                assert!(!seen[at as usize]);
                seen[at as usize] = true;
                at = p[at as usize];
            }
            assert_eq!(at, 0, "one cycle through all {n}");
        }
    }
}
