//! Sync messages on the wire (spec sync.md §1).

use bytes::Bytes;
use converge_bloom::BloomFilter;
use converge_encoding::{ChangeHash, DecodeError, Reader, leb128};

use crate::error::SyncDecodeError;

/// Type byte of a V1 message.
pub const MESSAGE_TYPE_V1: u8 = 0x42;
/// Type byte of a V2 message.
pub const MESSAGE_TYPE_V2: u8 = 0x43;

/// Which message format: V2 may carry a whole document instead of change chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageVersion {
    /// Type byte `0x42`: the changes list holds one change chunk per entry.
    V1,
    /// Type byte `0x43`: the changes list holds at most one entry, change chunks or a document.
    V2,
}

/// The flag bits of a message's flags section (spec sync.md §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct MessageFlags(u8);

impl MessageFlags {
    /// The receiver must clear what it believes it has sent.
    pub const SYNC_RESET: u8 = 0x01;
    /// The sender will not apply incoming changes.
    pub const READ_ONLY: u8 = 0x02;
    /// The sender understands [`MessageFlags::SYNC_RESET`].
    pub const SUPPORTS_SYNC_RESET: u8 = 0x04;

    /// Flags with these bits (the high bit is dropped).
    pub fn from_bits(bits: u8) -> Self {
        MessageFlags(bits & 0x7f)
    }

    /// The seven flag bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether `flag` is set.
    pub fn contains(self, flag: u8) -> bool {
        self.0 & flag == flag
    }

    /// Sets `flag`.
    pub fn set(&mut self, flag: u8) {
        self.0 |= flag & 0x7f;
    }
}

/// What a peer says it has: the heads of the last sync and a Bloom filter of every change
/// it has added since.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Have {
    /// The heads both sides shared at the last sync.
    pub last_sync: Vec<ChangeHash>,
    /// The changes since `last_sync`.
    pub bloom: BloomFilter,
}

/// One sync message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncMessage {
    /// V1 or V2.
    pub version: MessageVersion,
    /// The sender's heads, sorted.
    pub heads: Vec<ChangeHash>,
    /// Changes the sender asks for explicitly.
    pub need: Vec<ChangeHash>,
    /// What the sender has.
    pub have: Vec<Have>,
    /// Change chunks, or (V2) one entry holding a document or concatenated chunks.
    pub changes: Vec<Bytes>,
    /// The flags section; its mere presence means the sender supports V2 messages.
    pub flags: Option<MessageFlags>,
}

impl SyncMessage {
    /// The total byte length of the `changes` entries.
    pub fn changes_len(&self) -> usize {
        self.changes.iter().map(Bytes::len).sum()
    }

    /// Encodes the message as automerge 0.12 does. A flags section is written as the three
    /// bytes `02 02 (0x80 | bits)`: the legacy "supports V2" byte, then the bitfield byte.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.changes_len());
        out.push(match self.version {
            MessageVersion::V1 => MESSAGE_TYPE_V1,
            MessageVersion::V2 => MESSAGE_TYPE_V2,
        });
        write_hashes(&mut out, &self.heads);
        write_hashes(&mut out, &self.need);
        leb128::write_u64(&mut out, self.have.len() as u64);
        for have in &self.have {
            write_hashes(&mut out, &have.last_sync);
            leb128::write_u64(&mut out, have.bloom.encoded_len() as u64);
            have.bloom.encode_into(&mut out);
        }
        leb128::write_u64(&mut out, self.changes.len() as u64);
        for change in &self.changes {
            leb128::write_u64(&mut out, change.len() as u64);
            out.extend_from_slice(change);
        }
        if let Some(flags) = self.flags {
            out.extend_from_slice(&[0x02, 0x02, 0x80 | flags.bits()]);
        }
        out
    }

    /// Decodes a message. Total: any input gives a message or a typed error.
    ///
    /// As in the reference, bytes after the flags section are ignored, as are bytes in a bloom
    /// field beyond what the filter needs; flag bytes without the high bit (old peers'
    /// capability lists) contribute no flags.
    pub fn decode(bytes: &[u8]) -> Result<SyncMessage, SyncDecodeError> {
        Self::decode_bytes(Bytes::copy_from_slice(bytes))
    }

    /// Decodes a message held in `Bytes`; change entries share its buffer (no copy).
    pub fn decode_bytes(bytes: Bytes) -> Result<SyncMessage, SyncDecodeError> {
        let mut r = Reader::new(&bytes);
        let version = match r.take_u8().map_err(malformed("message type"))? {
            MESSAGE_TYPE_V1 => MessageVersion::V1,
            MESSAGE_TYPE_V2 => MessageVersion::V2,
            found => {
                return Err(SyncDecodeError::WrongType {
                    found,
                    expected: &[MESSAGE_TYPE_V1, MESSAGE_TYPE_V2],
                });
            }
        };
        let heads = read_hashes(&mut r, "heads")?;
        let need = read_hashes(&mut r, "need")?;
        // Each have takes at least two bytes: an empty last_sync list and an empty bloom.
        let num_have = r.count("have list", 2).map_err(malformed("have"))?;
        let mut have = Vec::with_capacity(num_have);
        for index in 0..num_have {
            let last_sync = read_hashes(&mut r, "have last_sync")?;
            let bloom_bytes = r.length_prefixed().map_err(malformed("have bloom"))?;
            let bloom = BloomFilter::decode(bloom_bytes)
                .map_err(|source| SyncDecodeError::Bloom { index, source })?;
            have.push(Have { last_sync, bloom });
        }
        let num_changes = r.count("changes list", 1).map_err(malformed("changes"))?;
        let mut changes = Vec::with_capacity(num_changes);
        for _ in 0..num_changes {
            let change = r.length_prefixed().map_err(malformed("change"))?;
            let end = r.position();
            changes.push(bytes.slice(end - change.len()..end));
        }
        let flags = if r.is_empty() {
            None
        } else {
            let section = r.length_prefixed().map_err(malformed("flags"))?;
            let bits = section
                .iter()
                .filter(|b| *b & 0x80 != 0)
                .fold(0u8, |acc, b| acc | (b & 0x7f));
            Some(MessageFlags(bits))
        };
        Ok(SyncMessage {
            version,
            heads,
            need,
            have,
            changes,
            flags,
        })
    }
}

fn malformed(field: &'static str) -> impl Fn(DecodeError) -> SyncDecodeError {
    move |source| SyncDecodeError::Malformed { field, source }
}

pub(crate) fn read_hashes(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Vec<ChangeHash>, SyncDecodeError> {
    let n = r.count(field, ChangeHash::LEN).map_err(malformed(field))?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(ChangeHash(r.take_array().map_err(malformed(field))?));
    }
    Ok(out)
}

pub(crate) fn write_hashes(out: &mut Vec<u8>, hashes: &[ChangeHash]) {
    leb128::write_u64(out, hashes.len() as u64);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn two_empty_peers_spec_examples() {
        // spec sync.md §1.2: A's first message and B's reply with an empty document.
        let a = hex("42 00 00 01 00 00 00 02 02 84");
        let msg = SyncMessage::decode(&a).unwrap();
        assert_eq!(msg.version, MessageVersion::V1);
        assert_eq!(msg.have, vec![Have::default()]);
        assert_eq!(
            msg.flags,
            Some(MessageFlags(MessageFlags::SUPPORTS_SYNC_RESET))
        );
        assert_eq!(msg.encode(), a);

        let b = hex("43 00 00 01 00 00 01 0e 85 6f 4a 83 b8 1a 95 44 00 04 00 00 00 00 02 02 84");
        let msg = SyncMessage::decode(&b).unwrap();
        assert_eq!(msg.version, MessageVersion::V2);
        assert_eq!(msg.changes.len(), 1);
        assert_eq!(msg.changes[0].len(), 14);
        assert_eq!(msg.encode(), b);
    }

    #[test]
    fn legacy_flags_and_trailing_bytes() {
        let m = SyncMessage::decode(&hex("42 00 00 00 00 01 02")).unwrap();
        assert_eq!(m.flags, Some(MessageFlags(0)));
        let m = SyncMessage::decode(&hex("42 00 00 00 00 02 01 02 ff ff")).unwrap();
        assert_eq!(m.flags, Some(MessageFlags(0)));
        let m = SyncMessage::decode(&hex("42 00 00 00 00")).unwrap();
        assert_eq!(m.flags, None);
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        assert!(matches!(
            SyncMessage::decode(&[0x44]),
            Err(SyncDecodeError::WrongType { found: 0x44, .. })
        ));
        assert!(SyncMessage::decode(&[]).is_err());
        // truncated flags section
        assert!(SyncMessage::decode(&hex("42 00 00 00 00 05 84")).is_err());
        // absurd head count
        assert!(matches!(
            SyncMessage::decode(&hex("42 ff ff ff ff 0f")),
            Err(SyncDecodeError::Malformed { field: "heads", .. })
        ));
        // overlong LEB128
        assert!(SyncMessage::decode(&hex("42 80 00 00 00 00")).is_err());
        // a bloom with entries and zero bits per entry (the reference panics on it later)
        assert!(matches!(
            SyncMessage::decode(&hex("42 00 00 01 00 03 01 00 07 00")),
            Err(SyncDecodeError::Bloom { index: 0, .. })
        ));
    }
}
