//! The chunk envelope (spec format.md §2): `magic || checksum || type || uLEB(len) || data`.
//!
//! [`split_chunks`] walks any concatenation of chunks; [`Chunk::parse`] reads one. Neither
//! verifies checksums (the reference's `Change::try_from` does not either): call
//! [`Chunk::verify_checksum`] where the reference does (`load`, `load_incremental`, sync).
//!
//! ```
//! use converge_encoding::chunk::{self, ChunkType};
//! let mut out = Vec::new();
//! chunk::write_chunk(&mut out, ChunkType::Document, &[0, 0, 0, 0]);
//! let c = chunk::Chunk::parse(&out).unwrap();
//! assert_eq!(c.chunk_type(), ChunkType::Document);
//! assert!(c.verify_checksum().is_ok());
//! ```

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::error::DecodeError;
use crate::ids::ChangeHash;
use crate::leb128;
use crate::reader::Reader;

/// The four bytes every chunk starts with.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The largest size a compressed chunk may inflate to (256 MiB); larger output is reported as
/// [`DecodeError::InflatedTooLarge`] rather than allocated.
pub const MAX_INFLATED_LEN: usize = 256 << 20;

/// What a chunk holds (§2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChunkType {
    /// 0: a whole document (§7).
    Document = 0,
    /// 1: one change (§6).
    Change = 1,
    /// 2: one change whose data is raw DEFLATE (§6.6).
    CompressedChange = 2,
    /// 3: a bundle of changes (§9).
    Bundle = 3,
}

impl ChunkType {
    /// The type for a type byte; `None` for 4 and above.
    pub fn from_byte(b: u8) -> Option<ChunkType> {
        Some(match b {
            0 => ChunkType::Document,
            1 => ChunkType::Change,
            2 => ChunkType::CompressedChange,
            3 => ChunkType::Bundle,
            _ => return None,
        })
    }

    /// The type byte.
    pub fn byte(self) -> u8 {
        self as u8
    }
}

/// One chunk's header fields and slices, borrowed from the input. Nothing is verified beyond
/// the envelope's structure: magic, known type, strict length within the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    chunk_type: ChunkType,
    checksum: [u8; 4],
    data: &'a [u8],
    bytes: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// Parses the chunk at the start of `input`; bytes after it are ignored
    /// (`self.bytes().len()` says where it ends).
    pub fn parse(input: &'a [u8]) -> Result<Chunk<'a>, DecodeError> {
        let mut r = Reader::new(input);
        let magic = r.take_array::<4>()?;
        if magic != MAGIC {
            return Err(DecodeError::BadMagic { offset: 0 });
        }
        let checksum = r.take_array::<4>()?;
        let type_byte = r.take_u8()?;
        let chunk_type = ChunkType::from_byte(type_byte).ok_or(DecodeError::UnknownChunkType {
            chunk_type: type_byte,
        })?;
        let offset = r.position();
        let len = r.uleb()?;
        let len = r.check_count("chunk length", len, 1, offset)?;
        let data = r.take(len)?;
        let end = r.position();
        let bytes = input.get(..end).ok_or(DecodeError::NotEnoughInput {
            offset: 0,
            needed: end,
            remaining: input.len(),
        })?;
        Ok(Chunk {
            chunk_type,
            checksum,
            data,
            bytes,
        })
    }

    /// The chunk type.
    pub fn chunk_type(&self) -> ChunkType {
        self.chunk_type
    }

    /// The checksum stored in the header.
    pub fn checksum(&self) -> [u8; 4] {
        self.checksum
    }

    /// The chunk data (after the length).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The whole chunk, header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Length of the header (magic, checksum, type, length).
    pub fn header_len(&self) -> usize {
        self.bytes.len() - self.data.len()
    }

    /// SHA-256 over `type || uLEB(len) || data` as stored. For a change chunk this is its
    /// [`ChangeHash`]; for a compressed change it is *not* (see [`Chunk::verify_checksum`]).
    pub fn hash(&self) -> ChangeHash {
        chunk_hash(self.chunk_type, self.data)
    }

    /// Checks the stored checksum against the computed hash and returns the hash. For a
    /// compressed change the data is inflated and the checksum compared with the hash of the
    /// uncompressed change (§6.6), which is returned.
    pub fn verify_checksum(&self) -> Result<ChangeHash, DecodeError> {
        let hash = match self.chunk_type {
            ChunkType::CompressedChange => {
                let inflated = inflate_raw(self.data, MAX_INFLATED_LEN)?;
                chunk_hash(ChunkType::Change, &inflated)
            }
            _ => self.hash(),
        };
        check_checksum(self.checksum, &hash)?;
        Ok(hash)
    }
}

/// Fails with [`DecodeError::BadChecksum`] unless `stored` is the first four bytes of `hash`.
pub(crate) fn check_checksum(stored: [u8; 4], hash: &ChangeHash) -> Result<(), DecodeError> {
    let computed = checksum_of(hash);
    if stored == computed {
        Ok(())
    } else {
        Err(DecodeError::BadChecksum { stored, computed })
    }
}

fn checksum_of(hash: &ChangeHash) -> [u8; 4] {
    let [a, b, c, d, ..] = hash.0;
    [a, b, c, d]
}

/// Iterator over the chunks of a concatenation, see [`split_chunks`].
#[derive(Clone, Debug)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Chunks<'a> {
    /// Offset of the next chunk in the original input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The input not yet split.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match Chunk::parse(self.rest) {
            Ok(c) => {
                let n = c.bytes().len();
                self.rest = self.rest.get(n..).unwrap_or_default();
                self.offset += n;
                Some(Ok(c))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(match e {
                    DecodeError::BadMagic { .. } => DecodeError::BadMagic {
                        offset: self.offset,
                    },
                    e => e,
                }))
            }
        }
    }
}

/// Splits a concatenation of chunks, yielding each chunk, or the error that stopped the walk
/// (after which it ends). Checksums are not verified. Empty input yields nothing.
pub fn split_chunks(input: &[u8]) -> Chunks<'_> {
    Chunks {
        rest: input,
        offset: 0,
        failed: false,
    }
}

/// SHA-256 over `type || uLEB(len) || data`: the chunk hash (§2).
pub fn chunk_hash(chunk_type: ChunkType, data: &[u8]) -> ChangeHash {
    let mut len = [0u8; 10];
    let n = write_uleb_array(&mut len, data.len() as u64);
    let mut h = Sha256::new();
    h.update([chunk_type.byte()]);
    h.update(len.get(..n).unwrap_or_default());
    h.update(data);
    ChangeHash(h.finalize().into())
}

/// Finishes a change chunk written with a zero checksum and placeholder deps (the rebuild's
/// encoder thread writes them so): writes `deps` over the placeholders at `deps_at`, hashes
/// the chunk (its type byte, length and data, which follow the checksum) and writes the
/// checksum. Returns the hash; `None` if the chunk is too short for the header or the deps.
pub(crate) fn seal_change_chunk(
    chunk: &mut [u8],
    deps_at: usize,
    deps: impl ExactSizeIterator<Item = ChangeHash>,
) -> Option<ChangeHash> {
    let n = deps.len();
    let slots = chunk.get_mut(deps_at..deps_at.checked_add(n.checked_mul(32)?)?)?;
    for (slot, dep) in slots.chunks_exact_mut(32).zip(deps) {
        slot.copy_from_slice(&dep.0);
    }
    if chunk.len() < 8 {
        return None;
    }
    Some(seal_chunk(chunk))
}

/// Hashes a chunk written with a zero checksum (its type byte, length and data, which follow
/// the checksum: one contiguous digest) and writes the checksum. Returns the hash.
pub(crate) fn seal_chunk(chunk: &mut [u8]) -> ChangeHash {
    let (head, body) = chunk.split_at_mut(chunk.len().min(8));
    let hash = ChangeHash(sha256(body));
    if let Some(checksum) = head.get_mut(4..8) {
        checksum.copy_from_slice(&checksum_of(&hash));
    }
    hash
}

/// SHA-256 of `data`. A short input (a keystroke's change is about 100 bytes) is fed to the
/// raw block function straight from the slice, its padded tail built on the stack: the
/// streaming hasher's buffering cost about a sixth of the hashing itself at that size. Long
/// inputs go through the streaming hasher, which hands the block function many blocks a call.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::digest::generic_array::GenericArray;
    if data.len() > 512 {
        return Sha256::digest(data).into();
    }
    const IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let mut state = IV;
    let full = data.len() - data.len() % 64;
    let (blocks, rest) = data.split_at(full);
    for block in blocks.chunks_exact(64) {
        sha2::compress256(
            &mut state,
            std::slice::from_ref(GenericArray::from_slice(block)),
        );
    }
    // The rest, 0x80, zeros and the length in bits (big-endian) fill one block, or two when
    // the rest leaves fewer than 9 bytes.
    let mut tail = [0u8; 128];
    let n = rest.len();
    if let Some(slot) = tail.get_mut(..n) {
        slot.copy_from_slice(rest);
    }
    if let Some(b) = tail.get_mut(n) {
        *b = 0x80;
    }
    let tail_len = if n + 9 <= 64 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8).to_be_bytes();
    if let Some(slot) = tail.get_mut(tail_len - 8..tail_len) {
        slot.copy_from_slice(&bits);
    }
    for block in tail.get(..tail_len).unwrap_or_default().chunks_exact(64) {
        sha2::compress256(
            &mut state,
            std::slice::from_ref(GenericArray::from_slice(block)),
        );
    }
    let mut out = [0u8; 32];
    for (o, word) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Writes minimal uLEB into a fixed buffer, returning its length.
pub(crate) fn write_uleb_array(buf: &mut [u8; 10], mut v: u64) -> usize {
    let mut i = 0;
    for slot in buf.iter_mut() {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        i += 1;
        if v == 0 {
            *slot = byte;
            break;
        }
        *slot = byte | 0x80;
    }
    i
}

/// Appends a whole chunk (header with checksum, then `data`) and returns its hash.
pub fn write_chunk(out: &mut Vec<u8>, chunk_type: ChunkType, data: &[u8]) -> ChangeHash {
    let hash = chunk_hash(chunk_type, data);
    write_chunk_with_checksum(out, chunk_type, checksum_of(&hash), data);
    hash
}

/// Appends a chunk with a given checksum (used for compressed changes, whose checksum is the
/// uncompressed change's).
pub(crate) fn write_chunk_with_checksum(
    out: &mut Vec<u8>,
    chunk_type: ChunkType,
    checksum: [u8; 4],
    data: &[u8],
) {
    out.reserve(9 + leb128::u64_len(data.len() as u64) + data.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum);
    out.push(chunk_type.byte());
    leb128::write_u64(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// Inflates a raw DEFLATE stream (no zlib or gzip wrapper), refusing to produce more than
/// `limit` bytes.
pub fn inflate_raw(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::DeflateDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::InvalidDeflate)?;
    if out.len() > limit {
        return Err(DecodeError::InflatedTooLarge { limit });
    }
    Ok(out)
}

/// Raw DEFLATE at the default level (6), as the reference compresses.
pub fn deflate_raw(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(data.len() / 2 + 16),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failure is the assertion
mod tests {
    use super::*;

    /// The block-function path gives the streaming hasher's digest at every length around
    /// the padding's edges and the switch to the streaming path.
    #[test]
    fn short_inputs_hash_as_the_streaming_hasher_does() {
        let data: Vec<u8> = (0..700u32).map(|i| (i * 131 + 7) as u8).collect();
        for len in 0..data.len() {
            let expected: [u8; 32] = Sha256::digest(&data[..len]).into();
            assert_eq!(sha256(&data[..len]), expected, "length {len}");
        }
    }

    const EMPTY_DOC: [u8; 14] = [
        0x85, 0x6f, 0x4a, 0x83, 0xb8, 0x1a, 0x95, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn empty_document_chunk() {
        let c = Chunk::parse(&EMPTY_DOC).unwrap();
        assert_eq!(c.chunk_type(), ChunkType::Document);
        assert_eq!(c.data(), [0, 0, 0, 0]);
        assert_eq!(c.header_len(), 10);
        c.verify_checksum().unwrap();
        let mut out = Vec::new();
        write_chunk(&mut out, ChunkType::Document, &[0, 0, 0, 0]);
        assert_eq!(out, EMPTY_DOC);
    }

    #[test]
    fn rejections() {
        let mut bad = EMPTY_DOC;
        bad[0] = 0;
        assert!(matches!(
            Chunk::parse(&bad),
            Err(DecodeError::BadMagic { .. })
        ));
        let mut bad = EMPTY_DOC;
        bad[8] = 4;
        assert!(matches!(
            Chunk::parse(&bad),
            Err(DecodeError::UnknownChunkType { chunk_type: 4 })
        ));
        let mut bad = EMPTY_DOC;
        bad[4] ^= 1;
        let c = Chunk::parse(&bad).unwrap();
        assert!(matches!(
            c.verify_checksum(),
            Err(DecodeError::BadChecksum { .. })
        ));
        // overlong length
        let overlong = [0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 0x80, 0x00];
        assert!(matches!(
            Chunk::parse(&overlong),
            Err(DecodeError::Leb128Overlong { .. })
        ));
        // declared length beyond the input
        assert!(Chunk::parse(&EMPTY_DOC[..13]).is_err());
    }

    #[test]
    fn split() {
        let mut two = EMPTY_DOC.to_vec();
        two.extend_from_slice(&EMPTY_DOC);
        let chunks: Vec<_> = split_chunks(&two).collect::<Result<_, _>>().unwrap();
        assert_eq!(chunks.len(), 2);
        two.push(0x85);
        let results: Vec<_> = split_chunks(&two).collect();
        assert_eq!(results.len(), 3);
        assert!(results[2].is_err());
        assert_eq!(split_chunks(&[]).count(), 0);
    }

    #[test]
    fn inflate_limit() {
        let data = vec![7u8; 100_000];
        let z = deflate_raw(&data);
        assert_eq!(inflate_raw(&z, 100_000).unwrap(), data);
        assert!(matches!(
            inflate_raw(&z, 99_999),
            Err(DecodeError::InflatedTooLarge { .. })
        ));
        assert!(matches!(
            inflate_raw(&[0xff, 0xff], 10),
            Err(DecodeError::InvalidDeflate)
        ));
    }
}
