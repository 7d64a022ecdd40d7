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
use crate::document::DocumentChunk;
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

impl FileChunk {
    /// Decodes `chunk`, one of the chunks of `file` (as [`chunk::split_chunks`] gives them),
    /// checksum verified. A change keeps a slice of `file` rather than a copy (a copy if
    /// `chunk` does not lie in `file` after all).
    pub fn decode(file: &Bytes, chunk: &chunk::Chunk<'_>) -> Result<FileChunk, DecodeError> {
        Ok(match chunk.chunk_type() {
            ChunkType::Document => FileChunk::Document(DocumentChunk::decode(chunk.bytes())?),
            ChunkType::Change | ChunkType::CompressedChange => {
                FileChunk::Change(Change::decode(slice_of(file, chunk.bytes()))?)
            }
            ChunkType::Bundle => FileChunk::Bundle(Bundle::decode(chunk.bytes())?),
        })
    }
}

/// `part` as a slice of `file` when it lies in it, else a copy (`Bytes::slice_ref` would
/// panic).
fn slice_of(file: &Bytes, part: &[u8]) -> Bytes {
    // A `part` before `file` wraps to a start past its end.
    let start = (part.as_ptr() as usize).wrapping_sub(file.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= file.len() => file.slice(start..end),
        _ => Bytes::copy_from_slice(part),
    }
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
        out.push((offset, FileChunk::decode(file, &c).map_err(in_chunk)?));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_outside_the_file_is_copied_not_a_panic() {
        let change = crate::change::Change::from_parts(crate::change::ChangeParts {
            actor: crate::ids::ActorId::from_bytes(&[1]),
            seq: 1,
            start_op: 1,
            time: 0,
            message: None,
            deps: vec![],
            other_actors: vec![],
            ops: vec![],
            extra_bytes: vec![],
        })
        .unwrap();
        let file = Bytes::from(change.bytes().to_vec());
        let elsewhere = change.bytes().to_vec();
        for source in [&file[..], &elsewhere[..]] {
            let c = chunk::Chunk::parse(source).unwrap();
            match FileChunk::decode(&file, &c).unwrap() {
                FileChunk::Change(d) => assert_eq!(d.hash(), change.hash()),
                other => panic!("{other:?}"),
            }
        }
    }

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
