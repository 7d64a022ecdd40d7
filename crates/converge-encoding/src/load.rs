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
    /// A document chunk (type 0), boxed: a file of change chunks (incremental saves) holds
    /// one `FileChunk` per change, and inline this variant made each 296 bytes, not 200.
    Document(Box<DocumentChunk>),
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
            ChunkType::Document => {
                FileChunk::Document(Box::new(DocumentChunk::decode(chunk.bytes())?))
            }
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
    let DecodedPrefix { chunks, failure } = decode_chunk_prefix(file);
    match failure {
        Some((offset, e)) => Err(DecodeError::InChunk {
            offset,
            source: Box::new(e),
        }),
        None => Ok(chunks),
    }
}

/// What [`decode_chunk_prefix`] decoded.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodedPrefix {
    /// The chunks before the first failure (all of them without one), each with its offset.
    pub chunks: Vec<(usize, FileChunk)>,
    /// The first chunk that could not be split or decoded: its offset and why.
    pub failure: Option<(usize, DecodeError)>,
}

/// Decodes the chunks of `file` in order up to the first that cannot be split or decoded
/// (a loader that keeps what decoded, such as `load_incremental`, applies the prefix).
///
/// A file of many chunks (2,048 or more: incremental saves, a sync message of changes from
/// an automerge peer) is decoded on two threads, halves of its chunks each, where a second
/// core is there; the result is the one-thread result (a failure in the first half is
/// reported even if the second half decoded).
pub fn decode_chunk_prefix(file: &Bytes) -> DecodedPrefix {
    // The envelopes first (a header parse each), then the decoding, which is the work.
    let mut split = Vec::new();
    let mut failure = None;
    let mut chunks = chunk::split_chunks(file);
    loop {
        let offset = chunks.offset();
        match chunks.next() {
            None => break,
            Some(Ok(c)) => split.push((offset, c)),
            Some(Err(e)) => {
                failure = Some((offset, e));
                break;
            }
        }
    }
    let decode_run = |run: &[(usize, chunk::Chunk<'_>)]| {
        let mut out = Vec::with_capacity(run.len());
        for (offset, c) in run {
            match FileChunk::decode(file, c) {
                Ok(d) => out.push((*offset, d)),
                Err(e) => return (out, Some((*offset, e))),
            }
        }
        (out, None)
    };
    let mid = if two_threads_pay(split.len()) {
        split.len() / 2
    } else {
        split.len()
    };
    let (first, second) = split.split_at(mid);
    let ((mut decoded, first_failure), (later, later_failure)) = if second.is_empty() {
        (decode_run(first), (Vec::new(), None))
    } else {
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("converge-decode".into())
                .spawn_scoped(scope, || decode_run(second));
            let earlier = decode_run(first);
            let later = match thread {
                Ok(thread) => match thread.join() {
                    Ok(later) => later,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                // No thread: the second half on this one, if the first decoded.
                Err(_) if earlier.1.is_some() => (Vec::new(), None),
                Err(_) => decode_run(second),
            };
            (earlier, later)
        })
    };
    // A failure in the first half ends the prefix there, whatever the second half did.
    if first_failure.is_some() {
        return DecodedPrefix {
            chunks: decoded,
            failure: first_failure,
        };
    }
    decoded.extend(later);
    DecodedPrefix {
        chunks: decoded,
        failure: later_failure.or(failure),
    }
}

/// Whether decoding `chunks` chunks is worth a second thread: enough of them to amortize
/// starting it (a change chunk decodes in about a microsecond), and a core for it (asked
/// once).
fn two_threads_pay(chunks: usize) -> bool {
    chunks >= 2048 && crate::second_core()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A change of actor `[actor]` without ops or deps, its seq, start op and time `seq`.
    fn empty_change(actor: u8, seq: u64) -> crate::change::Change {
        crate::change::Change::from_parts(crate::change::ChangeParts {
            actor: crate::ids::ActorId::from_bytes(&[actor]),
            seq,
            start_op: seq,
            time: seq as i64,
            message: None,
            deps: vec![],
            other_actors: vec![],
            ops: vec![],
            extra_bytes: vec![],
        })
        .unwrap()
    }

    /// The prefix decoded on two threads (3,000 chunks, past the threshold) is the one a
    /// plain loop decodes: all of a good file; the chunks before a bad checksum in the first
    /// half, in the second half, or on the first chunk of the second half; before a cut-off
    /// last chunk (a split failure); before a bad chunk in the first half when the file also
    /// ends cut off.
    #[test]
    fn the_two_thread_prefix_is_the_one_thread_prefix() {
        let mut file = Vec::new();
        let mut starts = Vec::new();
        for seq in 1..=3000u64 {
            let change = empty_change(7, seq);
            starts.push(file.len());
            file.extend_from_slice(change.bytes());
        }
        let plain = |file: &Bytes| {
            let mut out = Vec::new();
            let mut chunks = chunk::split_chunks(file);
            loop {
                let offset = chunks.offset();
                match chunks.next() {
                    None => return (out, None),
                    Some(Err(e)) => return (out, Some((offset, e))),
                    Some(Ok(c)) => match FileChunk::decode(file, &c) {
                        Ok(FileChunk::Change(d)) => out.push((offset, d.hash())),
                        Ok(_) => unreachable!(),
                        Err(e) => return (out, Some((offset, e))),
                    },
                }
            }
        };
        let bad_checksum = |file: &mut Vec<u8>, i: usize| file[starts[i] + 4] ^= 1;
        let mut cases: Vec<Vec<u8>> = vec![file.clone()];
        for i in [10, 1499, 1500, 2999] {
            let mut f = file.clone();
            bad_checksum(&mut f, i);
            cases.push(f);
        }
        let mut cut = file.clone();
        cut.truncate(file.len() - 3);
        cases.push(cut.clone());
        bad_checksum(&mut cut, 700);
        cases.push(cut);
        for (n, case) in cases.into_iter().enumerate() {
            let case = Bytes::from(case);
            let got = decode_chunk_prefix(&case);
            let hashes: Vec<(usize, crate::ids::ChangeHash)> = got
                .chunks
                .iter()
                .map(|(o, c)| match c {
                    FileChunk::Change(d) => (*o, d.hash()),
                    _ => unreachable!(),
                })
                .collect();
            assert_eq!((hashes, got.failure), plain(&case), "case {n}");
        }
    }

    #[test]
    fn a_chunk_outside_the_file_is_copied_not_a_panic() {
        let change = empty_change(1, 1);
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
