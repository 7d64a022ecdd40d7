//! Identifiers: actors, change hashes, operation ids, object ids and keys (spec format.md §1.2, §5.1).

use std::fmt;
use std::str::FromStr;

use smallvec::SmallVec;

/// The SHA-256 hash of a change chunk (spec format.md §2): a change's identity.
/// Ordered bytewise, as the reference sorts heads and deps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChangeHash(pub [u8; 32]);

impl ChangeHash {
    /// Bytes in a hash.
    pub const LEN: usize = 32;

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for ChangeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChangeHash({})", self.to_hex())
    }
}

impl fmt::Display for ChangeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<[u8; 32]> for ChangeHash {
    fn from(bytes: [u8; 32]) -> Self {
        ChangeHash(bytes)
    }
}

/// A string that is not a valid hex identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseHexError {
    /// A character outside `[0-9a-fA-F]`, or an odd number of digits.
    #[error("invalid hex digit at position {position}")]
    InvalidDigit {
        /// Index of the offending character.
        position: usize,
    },
    /// The wrong number of bytes for the type.
    #[error("expected {expected} bytes, found {found}")]
    WrongLength {
        /// Bytes the type needs.
        expected: usize,
        /// Bytes the string holds.
        found: usize,
    },
}

impl FromStr for ChangeHash {
    type Err = ParseHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = from_hex(s)?;
        let found = bytes.len();
        let arr: [u8; 32] = bytes.try_into().map_err(|_| ParseHexError::WrongLength {
            expected: 32,
            found,
        })?;
        Ok(ChangeHash(arr))
    }
}

/// An actor: the author of a sequence of changes. Any length; the reference generates 16
/// random bytes. Ordered bytewise, which is the order of the tie-break between concurrent ops.
#[derive(Eq, PartialOrd, Ord, Default)]
pub struct ActorId(SmallVec<[u8; 16]>);

impl PartialEq for ActorId {
    /// Bytewise, as derived; two ids of the usual 16 bytes compare as arrays, inline (a slice
    /// comparison calls `memcmp`, which showed in every commit: the transaction's object
    /// cache and the author's seq compare actor ids).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.as_bytes(), other.as_bytes());
        match (<&[u8; 16]>::try_from(a), <&[u8; 16]>::try_from(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        }
    }
}

impl std::hash::Hash for ActorId {
    /// The bytes, as derived (written out because equality is).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl Clone for ActorId {
    /// A copy of the bytes in one `memcpy` (the derived clone went through `SmallVec`'s
    /// element-by-element `extend`, a visible cost where changes are rebuilt by the
    /// hundred thousand).
    fn clone(&self) -> Self {
        ActorId(SmallVec::from_slice(&self.0))
    }
}

impl ActorId {
    /// An actor with these bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        ActorId(SmallVec::from_slice(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorId({})", self.to_hex())
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<&[u8]> for ActorId {
    fn from(bytes: &[u8]) -> Self {
        ActorId::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for ActorId {
    fn from(bytes: Vec<u8>) -> Self {
        ActorId(SmallVec::from_vec(bytes))
    }
}

impl FromStr for ActorId {
    type Err = ParseHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ActorId::from(from_hex(s)?))
    }
}

/// Who made an actor's changes: free-form bytes an application chooses (a user or device id),
/// automerge 0.12's `Author`. One author may have many actors; an actor has at most one author.
///
/// It travels in the extra bytes of the actor's first change (seq 1) as a footer: uLEB128 `1`,
/// uLEB128 length, the bytes ([`Author::footer`], [`Author::read_footer`]; format.md §6.5).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Author(Vec<u8>);

/// The footer id of an author footer.
const AUTHOR_FOOTER: u64 = 1;

impl Author {
    /// An author with these bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Author(bytes.to_vec())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// The author footer naming this author: the extra bytes of an authored first change.
    pub fn footer(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 3);
        crate::leb128::write_u64(&mut out, AUTHOR_FOOTER);
        crate::leb128::write_u64(&mut out, self.0.len() as u64);
        out.extend_from_slice(&self.0);
        out
    }

    /// The author bytes a change's extra bytes name, if they read as an author footer, as
    /// automerge 0.12 reads them: a uLEB128 `1` and a uLEB128 length (overlong encodings
    /// accepted), then at least that many bytes, of which the first `length` are the author
    /// (any after them are ignored).
    pub fn read_footer(extra_bytes: &[u8]) -> Option<&[u8]> {
        let (id, used) = crate::leb128::read_u64_lenient(extra_bytes).ok()?;
        let rest = extra_bytes.get(used..)?;
        let (len, used) = crate::leb128::read_u64_lenient(rest).ok()?;
        let rest = rest.get(used..)?;
        if id != AUTHOR_FOOTER {
            return None;
        }
        rest.get(..usize::try_from(len).ok()?)
    }
}

impl fmt::Debug for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Author({})", self.to_hex())
    }
}

impl fmt::Display for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<&[u8]> for Author {
    fn from(bytes: &[u8]) -> Self {
        Author::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Author {
    fn from(bytes: Vec<u8>) -> Self {
        Author(bytes)
    }
}

impl FromStr for Author {
    type Err = ParseHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Author(from_hex(s)?))
    }
}

/// An operation id: `counter@actor`, where `actor` is an index into an actor table (the
/// change's own table inside a change, the document's inside a document).
///
/// The derived order (counter, then actor index) is the reference's OpId order only where the
/// actor table is sorted bytewise, as a document's is. Counters are 32-bit, as in automerge 0.12.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct OpId {
    /// Lamport counter, starting at 1.
    pub counter: u32,
    /// Index into the governing actor table.
    pub actor: u32,
}

impl OpId {
    /// `counter@actor`.
    pub const fn new(counter: u32, actor: u32) -> Self {
        OpId { counter, actor }
    }
}

/// An object: the root map, or the op that created the object.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub enum ObjId {
    /// The root map.
    #[default]
    Root,
    /// The object created by this make-op.
    Op(OpId),
}

/// A position in a list or text: before the first element, or the element this op inserted.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ElemId {
    /// The start of the sequence.
    Head,
    /// The element created by this insert op.
    Op(OpId),
}

/// What an op addresses inside its object: a map key or a sequence element.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Key {
    /// A key of a map or table.
    Map(String),
    /// An element of a list or text.
    Seq(ElemId),
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}

pub(crate) fn from_hex(s: &str) -> Result<Vec<u8>, ParseHexError> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseHexError::InvalidDigit {
            position: bytes.len(),
        });
    }
    bytes
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => match (digit(*hi), digit(*lo)) {
                (Some(h), Some(l)) => Ok(h << 4 | l),
                (None, _) => Err(ParseHexError::InvalidDigit { position: 2 * i }),
                (_, None) => Err(ParseHexError::InvalidDigit {
                    position: 2 * i + 1,
                }),
            },
            _ => Err(ParseHexError::InvalidDigit { position: 2 * i }),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn author_footers_read_as_automerge_reads_them() {
        for len in [0usize, 1, 127, 128, 300] {
            let author = Author::from(vec![7u8; len]);
            let footer = author.footer();
            assert_eq!(Author::read_footer(&footer), Some(author.as_bytes()));
            // Bytes after the author are ignored.
            let mut longer = footer.clone();
            longer.extend_from_slice(&[1, 2, 3]);
            assert_eq!(Author::read_footer(&longer), Some(author.as_bytes()));
            // Too few bytes for the length: no author.
            if len > 0 {
                assert_eq!(Author::read_footer(&footer[..footer.len() - 1]), None);
            }
        }
        // Overlong LEB128 accepted, as the `leb128` crate the reference uses.
        assert_eq!(
            Author::read_footer(&[0x81, 0x00, 0x82, 0x00, 9, 8]),
            Some(&[9, 8][..])
        );
        // Another footer id, no length, nothing: no author.
        assert_eq!(Author::read_footer(&[2, 0]), None);
        assert_eq!(Author::read_footer(&[1]), None);
        assert_eq!(Author::read_footer(&[]), None);
        // A length too large for memory is no author, not an allocation.
        assert_eq!(
            Author::read_footer(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            None
        );
        assert_eq!("0a0b".parse::<Author>().unwrap().as_bytes(), &[10, 11]);
    }

    #[test]
    fn actor_ids_compare_bytewise_at_every_length() {
        use std::hash::{BuildHasher, RandomState};
        let state = RandomState::new();
        let ids: Vec<ActorId> = [&[][..], &[1], &[1; 15], &[1; 16], &[2; 16], &[1; 17]]
            .iter()
            .map(|b| ActorId::from_bytes(b))
            .collect();
        for a in &ids {
            for b in &ids {
                assert_eq!(a == b, a.as_bytes() == b.as_bytes(), "{a:?} {b:?}");
                assert_eq!(a.cmp(b), a.as_bytes().cmp(b.as_bytes()));
                if a == b {
                    assert_eq!(state.hash_one(a), state.hash_one(b));
                }
            }
        }
        let mut last = [1u8; 16];
        last[15] = 9;
        assert_ne!(ActorId::from_bytes(&[1; 16]), ActorId::from_bytes(&last));
    }

    #[test]
    fn hex_round_trip() {
        let h: ChangeHash = "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
            .parse()
            .unwrap();
        assert_eq!(h.0[0], 0x33);
        assert_eq!(
            h.to_string(),
            "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
        );
        assert!("33".parse::<ChangeHash>().is_err());
        assert!("zz".parse::<ActorId>().is_err());
        assert_eq!("aabb".parse::<ActorId>().unwrap().as_bytes(), &[0xaa, 0xbb]);
    }
}

/// A [`Key`] borrowed: a map key or a sequence element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRef<'a> {
    /// A key of a map or table.
    Map(&'a str),
    /// An element of a list or text.
    Seq(ElemId),
}

impl<'a> KeyRef<'a> {
    /// The borrowed form of `key`.
    pub fn of(key: &'a Key) -> KeyRef<'a> {
        match key {
            Key::Map(s) => KeyRef::Map(s),
            Key::Seq(e) => KeyRef::Seq(*e),
        }
    }
}
