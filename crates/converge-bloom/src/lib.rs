//! # converge-bloom
//!
//! The Bloom filter over change hashes that the Automerge sync protocol puts in a `Have`
//! (spec `shared/spec/sync.md` §3), byte-compatible with automerge 0.12.
//!
//! - [`BloomFilter::from_hashes`] builds a filter with the reference's parameters
//!   ([`BITS_PER_ENTRY`] bits per entry, [`PROBES`] probes, about 1 % false positives).
//! - [`BloomFilter::decode`] reads any parameters a peer sends, and is total: every input gives
//!   a filter whose invariants hold or a typed [`BloomError`], never a panic (the reference
//!   panics on some inputs, spec §8).
//! - [`BloomFilter::to_bytes`] writes exactly the reference's bytes.
//!
//! ```
//! use converge_bloom::BloomFilter;
//! use converge_encoding::ChangeHash;
//! let member = ChangeHash([7; 32]);
//! let filter = BloomFilter::from_hashes([member]);
//! assert!(filter.contains(&member));
//! let bytes = filter.to_bytes();
//! assert_eq!(&bytes[..3], &[0x01, 0x0a, 0x07]); // 1 entry, 10 bits per entry, 7 probes
//! assert_eq!(BloomFilter::decode(&bytes).unwrap(), filter);
//! assert!(BloomFilter::default().to_bytes().is_empty());
//! ```
// Decoders must not panic on any input: these lints keep indexing, unwrap and panics out of
// non-test code.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::borrow::Borrow;

use converge_encoding::{ChangeHash, DecodeError, Reader, leb128};

/// Bits per entry of the filters this crate builds (the reference's value).
pub const BITS_PER_ENTRY: u32 = 10;

/// Probes per hash of the filters this crate builds (the reference's value).
pub const PROBES: u32 = 7;

/// The largest probe count [`BloomFilter::decode`] accepts.
///
/// Each probe of [`BloomFilter::contains`] costs a little time, and a peer chooses the count, so
/// it must be bounded. The false-positive rate is lowest at `bits_per_entry × ln 2` probes;
/// 64 probes would only be optimal at about 92 bits per entry, a filter nine times the size of
/// the reference's (10 bits, 7 probes), and no writer has a reason to go there. A peer that
/// does is rejected instead of making every lookup cost millions of steps.
pub const MAX_PROBES: u32 = 64;

/// Why bytes are not a Bloom filter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BloomError {
    /// A parameter is truncated, overlong or does not fit in a `u32`.
    #[error("bloom filter parameter: {0}")]
    Parameter(#[from] DecodeError),
    /// A non-empty filter with 0 bits per entry has no bits to probe (the reference divides by
    /// zero on it).
    #[error("bloom filter with {num_entries} entries has 0 bits per entry")]
    ZeroBitsPerEntry {
        /// The entry count read.
        num_entries: u32,
    },
    /// A non-empty filter with 0 probes would contain every hash.
    #[error("bloom filter with {num_entries} entries has 0 probes")]
    ZeroProbes {
        /// The entry count read.
        num_entries: u32,
    },
    /// More probes than [`MAX_PROBES`].
    #[error("bloom filter has {probes} probes; at most {max} are accepted")]
    TooManyProbes {
        /// The probe count read.
        probes: u32,
        /// [`MAX_PROBES`].
        max: u32,
    },
    /// The bit field is shorter than its parameters require.
    #[error("bloom filter bit field needs {needed} bytes, only {available} remain")]
    BitsTruncated {
        /// `ceil(num_entries × bits_per_entry / 8)`.
        needed: usize,
        /// Bytes left after the parameters.
        available: usize,
    },
}

/// A Bloom filter over change hashes (spec sync.md §3).
///
/// Invariants: either the filter is empty (`num_entries == 0`, no bits, and the reference's
/// default parameters), or `0 < bits_per_entry`, `0 < probes ≤ MAX_PROBES` and the bit field is
/// exactly `ceil(num_entries × bits_per_entry / 8)` bytes (at least one). An empty filter
/// contains nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BloomFilter {
    num_entries: u32,
    bits_per_entry: u32,
    probes: u32,
    bits: Vec<u8>,
}

impl Default for BloomFilter {
    /// The empty filter: contains nothing, encodes to zero bytes.
    fn default() -> Self {
        BloomFilter {
            num_entries: 0,
            bits_per_entry: BITS_PER_ENTRY,
            probes: PROBES,
            bits: Vec::new(),
        }
    }
}

/// `ceil(num_entries × bits_per_entry / 8)`, computed in `f64` as the reference does.
fn bit_field_len(num_entries: u32, bits_per_entry: u32) -> usize {
    // An f64 holds every product of two u32s to within rounding the reference shares; the cast
    // saturates, and a saturated length is then rejected as truncated input.
    ((f64::from(num_entries) * f64::from(bits_per_entry)) / 8.0).ceil() as usize
}

/// Where the probes of `hash` fall in a field of `bit_count` (> 0) bits.
///
/// Identical to the reference's u32 arithmetic wherever that does not overflow (bit fields of
/// under 2^31 bits, i.e. 256 MiB); computed in u64 so that larger fields cannot overflow.
struct Probes {
    x: u64,
    y: u64,
    z: u64,
    bit_count: u64,
    left: u32,
}

impl Probes {
    fn new(hash: &ChangeHash, bit_count: u64, probes: u32) -> Self {
        let word = |i: usize| {
            let b = hash.as_bytes();
            let mut w = [0u8; 4];
            for (k, out) in w.iter_mut().enumerate() {
                *out = b.get(i + k).copied().unwrap_or(0);
            }
            u64::from(u32::from_le_bytes(w)) % bit_count
        };
        Probes {
            x: word(0),
            y: word(4),
            z: word(8),
            bit_count,
            left: probes,
        }
    }
}

impl Iterator for Probes {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let probe = self.x;
        // x, y, z < bit_count, so one subtraction is the reference's `% bit_count`.
        self.x += self.y;
        if self.x >= self.bit_count {
            self.x -= self.bit_count;
        }
        self.y += self.z;
        if self.y >= self.bit_count {
            self.y -= self.bit_count;
        }
        Some(probe)
    }
}

impl BloomFilter {
    /// A filter of `hashes` with the reference's parameters ([`BITS_PER_ENTRY`], [`PROBES`]).
    ///
    /// The entry count is the iterator's length (saturated at `u32::MAX`; every hash is still
    /// added). No hashes gives the empty filter.
    pub fn from_hashes<I>(hashes: I) -> Self
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Borrow<ChangeHash>,
    {
        let hashes = hashes.into_iter();
        let num_entries = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
        if num_entries == 0 {
            return BloomFilter::default();
        }
        let mut filter = BloomFilter {
            num_entries,
            bits_per_entry: BITS_PER_ENTRY,
            probes: PROBES,
            bits: vec![0; bit_field_len(num_entries, BITS_PER_ENTRY)],
        };
        let bit_count = filter.bit_count();
        for hash in hashes {
            for probe in Probes::new(hash.borrow(), bit_count, filter.probes) {
                let byte = usize::try_from(probe >> 3).unwrap_or(usize::MAX);
                if let Some(b) = filter.bits.get_mut(byte) {
                    *b |= 1 << (probe & 7);
                }
            }
        }
        filter
    }

    fn bit_count(&self) -> u64 {
        (self.bits.len() as u64) * 8
    }

    /// Whether `hash` may have been added: `false` means certainly not; `true` is wrong for
    /// about 1 % of non-members with the reference's parameters. The empty filter contains
    /// nothing.
    pub fn contains(&self, hash: &ChangeHash) -> bool {
        if self.num_entries == 0 || self.bits.is_empty() {
            return false;
        }
        Probes::new(hash, self.bit_count(), self.probes).all(|probe| {
            let byte = usize::try_from(probe >> 3).unwrap_or(usize::MAX);
            self.bits
                .get(byte)
                .is_some_and(|b| b & (1 << (probe & 7)) != 0)
        })
    }

    /// The number of entries the filter was built from (0 for the empty filter).
    pub fn num_entries(&self) -> u32 {
        self.num_entries
    }

    /// Whether this is the empty filter.
    pub fn is_empty(&self) -> bool {
        self.num_entries == 0
    }

    /// Bits per entry.
    pub fn bits_per_entry(&self) -> u32 {
        self.bits_per_entry
    }

    /// Probes per hash.
    pub fn probes(&self) -> u32 {
        self.probes
    }

    /// The bit field; bit `p` is bit `p & 7` (least significant first) of byte `p >> 3`.
    pub fn bits(&self) -> &[u8] {
        &self.bits
    }

    /// The length of [`Self::to_bytes`] of `BloomFilter::from_hashes` with `num_entries`
    /// hashes, without building it (for choosing what to send).
    pub fn encoded_len_for(num_entries: usize) -> usize {
        let n = u32::try_from(num_entries).unwrap_or(u32::MAX);
        if n == 0 {
            return 0;
        }
        leb128::u64_len(n.into())
            + leb128::u64_len(BITS_PER_ENTRY.into())
            + leb128::u64_len(PROBES.into())
            + bit_field_len(n, BITS_PER_ENTRY)
    }

    /// The length of [`Self::to_bytes`].
    pub fn encoded_len(&self) -> usize {
        if self.num_entries == 0 {
            return 0;
        }
        leb128::u64_len(self.num_entries.into())
            + leb128::u64_len(self.bits_per_entry.into())
            + leb128::u64_len(self.probes.into())
            + self.bits.len()
    }

    /// Appends the encoding (spec sync.md §3): nothing for the empty filter, otherwise
    /// `uLEB(num_entries) uLEB(bits_per_entry) uLEB(probes) bits`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        if self.num_entries == 0 {
            return;
        }
        out.reserve(self.encoded_len());
        leb128::write_u64(out, self.num_entries.into());
        leb128::write_u64(out, self.bits_per_entry.into());
        leb128::write_u64(out, self.probes.into());
        out.extend_from_slice(&self.bits);
    }

    /// The encoding, byte-identical to the reference's `BloomFilter::to_bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Reads a filter from the contents of a `Have`'s bloom field.
    ///
    /// Empty input is the empty filter. Bytes after the bit field are ignored, as the
    /// reference ignores them. A filter of 0 entries is the empty filter whatever parameters
    /// follow (they must still be well-formed `u32`s, as the reference requires). A non-empty
    /// filter must have non-zero bits per entry, `1..=MAX_PROBES` probes and its whole bit
    /// field.
    pub fn decode(bytes: &[u8]) -> Result<Self, BloomError> {
        let mut reader = Reader::new(bytes);
        if reader.is_empty() {
            return Ok(BloomFilter::default());
        }
        let num_entries = reader.uleb_u32("bloom num_entries")?;
        let bits_per_entry = reader.uleb_u32("bloom bits_per_entry")?;
        let probes = reader.uleb_u32("bloom num_probes")?;
        if num_entries == 0 {
            return Ok(BloomFilter::default());
        }
        if bits_per_entry == 0 {
            return Err(BloomError::ZeroBitsPerEntry { num_entries });
        }
        if probes == 0 {
            return Err(BloomError::ZeroProbes { num_entries });
        }
        if probes > MAX_PROBES {
            return Err(BloomError::TooManyProbes {
                probes,
                max: MAX_PROBES,
            });
        }
        let needed = bit_field_len(num_entries, bits_per_entry);
        let available = reader.remaining();
        let bits = reader
            .take(needed)
            .map_err(|_| BloomError::BitsTruncated { needed, available })?;
        Ok(BloomFilter {
            num_entries,
            bits_per_entry,
            probes,
            bits: bits.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_from_hex(s: &str) -> ChangeHash {
        s.parse().unwrap()
    }

    #[test]
    fn encoded_len_for_matches_a_built_filter() {
        for n in [0usize, 1, 2, 7, 100, 1000, 20_000] {
            let hashes: Vec<ChangeHash> = (0..n as u32)
                .map(|i| {
                    let mut h = [0u8; 32];
                    h[..4].copy_from_slice(&i.to_le_bytes());
                    ChangeHash(h)
                })
                .collect();
            let filter = BloomFilter::from_hashes(hashes.iter());
            assert_eq!(BloomFilter::encoded_len_for(n), filter.encoded_len(), "{n}");
            assert_eq!(filter.encoded_len(), filter.to_bytes().len());
        }
    }

    #[test]
    fn spec_worked_example() {
        // sync.md §3: probes 3, 1, 4, 12, 9, 11, 2 → bits 1e 1a.
        let h = hash_from_hex("3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797");
        let probes: Vec<u64> = Probes::new(&h, 16, 7).collect();
        assert_eq!(probes, [3, 1, 4, 12, 9, 11, 2]);
        let f = BloomFilter::from_hashes([h]);
        assert_eq!(f.to_bytes(), [0x01, 0x0a, 0x07, 0x1e, 0x1a]);
        assert!(f.contains(&h));
    }

    #[test]
    fn empty_filter() {
        let f = BloomFilter::from_hashes(Vec::<ChangeHash>::new());
        assert_eq!(f, BloomFilter::default());
        assert!(f.to_bytes().is_empty());
        assert!(!f.contains(&ChangeHash([0; 32])));
        assert_eq!(BloomFilter::decode(&[]).unwrap(), f);
        // 0 entries with explicit (even absurd) parameters is the empty filter.
        assert_eq!(BloomFilter::decode(&[0, 0, 0]).unwrap(), f);
        assert_eq!(
            BloomFilter::decode(&[0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap(),
            f
        );
    }

    #[test]
    fn rejects_what_the_reference_panics_on() {
        assert_eq!(
            BloomFilter::decode(&[1, 0, 7]),
            Err(BloomError::ZeroBitsPerEntry { num_entries: 1 })
        );
        assert_eq!(
            BloomFilter::decode(&[1, 10, 0, 0, 0]),
            Err(BloomError::ZeroProbes { num_entries: 1 })
        );
        assert_eq!(
            BloomFilter::decode(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]),
            Err(BloomError::TooManyProbes {
                probes: u32::MAX,
                max: MAX_PROBES
            })
        );
        assert_eq!(
            BloomFilter::decode(&[1, 10, 7, 0]),
            Err(BloomError::BitsTruncated {
                needed: 2,
                available: 1
            })
        );
        // u32::MAX entries × u32::MAX bits: a huge length, rejected without allocating.
        assert!(matches!(
            BloomFilter::decode(&[
                0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f, 7
            ]),
            Err(BloomError::BitsTruncated { .. })
        ));
    }

    #[test]
    fn rejects_bad_parameters() {
        // Truncated parameters.
        assert!(matches!(
            BloomFilter::decode(&[1]),
            Err(BloomError::Parameter(DecodeError::NotEnoughInput { .. }))
        ));
        assert!(matches!(
            BloomFilter::decode(&[0]),
            Err(BloomError::Parameter(_))
        ));
        // Overlong.
        assert!(matches!(
            BloomFilter::decode(&[0x81, 0x00, 10, 7, 0, 0]),
            Err(BloomError::Parameter(DecodeError::Leb128Overlong { .. }))
        ));
        // Over u32.
        assert!(matches!(
            BloomFilter::decode(&[0x80, 0x80, 0x80, 0x80, 0x10, 10, 7]),
            Err(BloomError::Parameter(DecodeError::OutOfRange { .. }))
        ));
    }

    #[test]
    fn trailing_bytes_are_ignored() {
        let f = BloomFilter::decode(&[1, 10, 7, 0x1e, 0x1a, 0xaa, 0xbb]).unwrap();
        assert_eq!(f.to_bytes(), [1, 10, 7, 0x1e, 0x1a]);
    }

    #[test]
    fn other_parameters_are_honoured() {
        // 3 entries, 3 bits each → ceil(9 / 8) = 2 bytes; 1 probe.
        let f = BloomFilter::decode(&[3, 3, 1, 0b0000_1000, 0]).unwrap();
        assert_eq!((f.num_entries(), f.bits_per_entry(), f.probes()), (3, 3, 1));
        assert_eq!(f.bits().len(), 2);
        let mut h = [0u8; 32];
        h[0] = 3; // x = 3 mod 16
        assert!(f.contains(&ChangeHash(h)));
        h[0] = 4;
        assert!(!f.contains(&ChangeHash(h)));
    }

    #[test]
    fn large_field_uses_wide_arithmetic() {
        // A bit count far beyond u32 cannot overflow the probe arithmetic.
        let h = ChangeHash([0xff; 32]);
        let bits = 1u64 << 40;
        assert!(Probes::new(&h, bits, 64).all(|p| p < bits));
    }
}
