//! Reading a file: any concatenation of chunks (spec format.md §10).
//!
//! [`decode_chunks`] decodes every chunk, in order, into its typed form, verifying each
//! checksum as the reference's `load` does, and stops at the first chunk that fails, reporting
//! its offset. What to do with the chunks (apply a document, queue changes whose deps are
//! missing, skip duplicates) is the document layer's business; nothing is dropped here, so the
//! orphan change chunks `save()` appends after a document chunk are all returned.

use bytes::Bytes;

use crate::bundle::Bundle;
use crate::change::Change;
use crate::chunk::{self, ChunkType};
use crate::document::{DocumentChunk, DocumentLimits};
use crate::error::DecodeError;

/// One decoded chunk of a file.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FileChunk {
    /// A document chunk (type 0).
    Document(DocumentChunk),
    /// A change chunk (type 1), or a compressed change (type 2) inflated to its type-1 form.
    Change(Change),
    /// A bundle chunk (type 3), its changes rebuilt.
    Bundle(Bundle),
}

/// Decodes all chunks of `file` in order; each is paired with its offset in `file`. Empty
/// input gives no chunks. The first failure is returned as [`DecodeError::InChunk`] with the
/// offset of the chunk that failed (for an envelope that cannot be split, where it starts).
pub fn decode_chunks(file: &Bytes) -> Result<Vec<(usize, FileChunk)>, DecodeError> {
    let mut out = Vec::new();
    let mut chunks = chunk::split_chunks(file);
    loop {
        let offset = chunks.offset();
        let Some(next) = chunks.next() else { break };
        let in_chunk = |e: DecodeError| DecodeError::InChunk {
            offset,
            source: Box::new(e),
        };
        let c = next.map_err(in_chunk)?;
        let decoded = match c.chunk_type() {
            ChunkType::Document => {
                FileChunk::Document(DocumentChunk::decode(c.bytes()).map_err(in_chunk)?)
            }
            ChunkType::Change | ChunkType::CompressedChange => {
                FileChunk::Change(Change::decode(file.slice_ref(c.bytes())).map_err(in_chunk)?)
            }
            ChunkType::Bundle => {
                c.verify_checksum().map_err(in_chunk)?;
                FileChunk::Bundle(
                    Bundle::decode_data(c.data(), DocumentLimits::default()).map_err(in_chunk)?,
                )
            }
        };
        out.push((offset, decoded));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_concatenated() {
        assert!(decode_chunks(&Bytes::new()).unwrap().is_empty());
        let doc = DocumentChunk::new().encode(false);
        let mut file = doc.clone();
        file.extend_from_slice(&doc);
        let chunks = decode_chunks(&Bytes::from(file.clone())).unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].0, doc.len());
        file.push(0x85);
        match decode_chunks(&Bytes::from(file)) {
            Err(DecodeError::InChunk { offset, .. }) => assert_eq!(offset, 2 * doc.len()),
            other => panic!("{other:?}"),
        }
    }
}
