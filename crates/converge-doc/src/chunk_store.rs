//! The history's change chunks, stored compactly.
//!
//! A change chunk starts with what the change graph already holds: the magic bytes, a
//! checksum that is the first four bytes of the change's hash, the chunk type and length, the
//! dependency hashes (32 bytes each) and the author's actor id. For a typical one-op change
//! that is more than half of its ~110 bytes. The store keeps only the rest and puts the
//! start back when the chunk is read, so the bytes kept per change roughly halve.
//!
//! Each record is a tag byte and then either the whole chunk (tag [`WHOLE`]: a chunk whose
//! start is written otherwise, e.g. with an overlong LEB128 length, which a peer may send and
//! whose hash covers those bytes) or its tail: what follows the start [`write_start`] writes
//! from the graph's fields. Three flags of the tag leave more of the tail out:
//! - [`NO_FIELDS`]: the tail's seq, start op and time, when they are written exactly as
//!   [`write_fields`] writes the values the graph and the history keep (always, for a chunk
//!   our encoder wrote or automerge wrote: 3-7 bytes a change);
//! - [`NO_MESSAGE`]: a non-empty message field, when it holds the message the history keeps
//!   (each distinct text once) and hands back to [`ChunkStore::read_into`];
//! - [`NO_META`]: the column metadata (the column count, then each column's spec and length:
//!   ~20 bytes), replaced by the index of an equal entry of the store's table of distinct
//!   metadata strings. Changes are alike: the paper document's 259,779 changes have 8
//!   distinct ones, essay.amrg's 262,961 have 1,137, 16 of which cover 99 % of its changes.
//!
//! With all three a keystroke's record is ~25 bytes instead of ~50.
//!
//! Records go back to back into blocks that never reallocate; a record larger than a block
//! gets a block of its own. Per change the store keeps the end of its record in its block
//! (4 bytes); per block, the index of its first change.

use std::collections::HashMap;

use converge_encoding::chunk::MAGIC;
use converge_encoding::{ActorId, ChangeHash, Reader, leb128};

/// The record holds the whole chunk.
const WHOLE: u8 = 1;
/// Flag of a tail record: the tail's message field is left out.
const NO_MESSAGE: u8 = 2;
/// Flag of a tail record: the tail's seq, start op and time are left out.
const NO_FIELDS: u8 = 4;
/// Flag of a tail record: the column metadata is left out, and the index of an equal entry of
/// the store's metadata table stands in its place.
const NO_META: u8 = 8;
/// At most this many distinct column metadata strings are kept in the table, each of at most
/// [`MAX_META_LEN`] bytes (a change's usual metadata is ~20); the metadata of a record that
/// would need another stays in the record. So the table stays small whatever peers send.
const MAX_METAS: usize = 1 << 16;
/// See [`MAX_METAS`].
const MAX_META_LEN: usize = 64;
/// The chunk type byte of an uncompressed change.
const CHANGE_TYPE: u8 = 1;
/// Bytes per block.
const BLOCK: usize = 64 * 1024;
/// The first block's bytes when it is made (it doubles up to [`BLOCK`]; see
/// `arena::FIRST_PAGE` for why a small document should not take a whole block).
const FIRST_BLOCK: usize = 512;

/// The change chunks of a history, in application order.
#[derive(Debug, Default)]
pub(crate) struct ChunkStore {
    blocks: Vec<Vec<u8>>,
    /// Per block: the index of the first change whose record it holds (ascending; every
    /// block holds at least one record).
    block_first: Vec<u32>,
    /// Per change: the end offset of its record in its block. It starts where the previous
    /// record ends if that one is in the same block, else at 0.
    ends: Vec<u32>,
    /// The distinct column metadata strings (a column count, then each column's spec and
    /// length) that records name by index. Few: the paper document's 259,779 changes have 8,
    /// essay.amrg's 262,961 have 1,137.
    metas: Vec<Box<[u8]>>,
    /// Each of `metas` → its index.
    meta_index: HashMap<Box<[u8]>, u32>,
    /// The two indexes records named last, the latest first: a run of similar changes (or
    /// two kinds alternating, as typing and deleting) names them again and again, found by
    /// comparing the tail with them, without parsing the metadata.
    recent_metas: [u32; 2],
}

impl ChunkStore {
    /// Changes the per-change ends have room for before they grow.
    #[cfg(test)]
    pub(crate) fn ends_room(&self) -> usize {
        self.ends.capacity() - self.ends.len()
    }
}

/// A copy (of a fork's history) keeps room in its per-change ends for the changes that
/// follow: cloned exactly, the first one copied them all (the last block grows as it fills
/// anyway, by at most [`BLOCK`] bytes).
impl Clone for ChunkStore {
    fn clone(&self) -> Self {
        ChunkStore {
            blocks: self.blocks.clone(),
            block_first: self.block_first.clone(),
            ends: crate::opset::with_room(&self.ends),
            metas: self.metas.clone(),
            meta_index: self.meta_index.clone(),
            recent_metas: self.recent_metas,
        }
    }
}

/// A change's seq, start op and time: the first fields of a chunk's tail, which the graph
/// and the history keep too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TailFields {
    pub(crate) seq: u64,
    pub(crate) start_op: u64,
    pub(crate) time: i64,
}

impl TailFields {
    /// The bytes [`write_fields`] writes.
    fn len(&self) -> usize {
        leb128::u64_len(self.seq) + leb128::u64_len(self.start_op) + leb128::i64_len(self.time)
    }
}

/// Writes seq, start op and time as the encoder does (shortest LEB128).
fn write_fields(out: &mut Vec<u8>, fields: &TailFields) {
    leb128::write_u64(out, fields.seq);
    leb128::write_u64(out, fields.start_op);
    leb128::write_i64(out, fields.time);
}

/// A tail's seq, start op and time, read strictly (so that [`write_fields`] writes them back
/// identically), and where the message field starts.
fn read_fields(tail: &[u8]) -> Option<(TailFields, usize)> {
    let mut r = Reader::new(tail);
    let seq = r.uleb().ok()?;
    let start_op = r.uleb().ok()?;
    let time = r.sleb().ok()?;
    Some((
        TailFields {
            seq,
            start_op,
            time,
        },
        r.position(),
    ))
}

/// The part of a chunk's body before its tail: the dep count and hashes, then the actor id's
/// length and bytes.
fn head_len(deps: &[ChangeHash], actor: &ActorId) -> usize {
    let actor = actor.as_bytes().len();
    leb128::u64_len(deps.len() as u64) + deps.len() * 32 + leb128::u64_len(actor as u64) + actor
}

/// The length of what [`write_start`] writes.
fn start_len(deps: &[ChangeHash], actor: &ActorId, tail_len: usize) -> usize {
    let head = head_len(deps, actor);
    9 + leb128::u64_len((head + tail_len) as u64) + head
}

/// What a chunk starts with, written from the graph's fields: everything up to the author's
/// actor id, for a chunk whose body after the actor id is `tail_len` bytes.
fn write_start(
    out: &mut Vec<u8>,
    hash: &ChangeHash,
    deps: &[ChangeHash],
    actor: &ActorId,
    tail_len: usize,
) {
    let body_len = head_len(deps, actor) + tail_len;
    let actor = actor.as_bytes();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(hash.as_bytes().get(..4).unwrap_or_default());
    out.push(CHANGE_TYPE);
    leb128::write_u64(out, body_len as u64);
    leb128::write_u64(out, deps.len() as u64);
    for d in deps {
        out.extend_from_slice(d.as_bytes());
    }
    leb128::write_u64(out, actor.len() as u64);
    out.extend_from_slice(actor);
}

/// The length of the start [`write_start`] writes for a chunk with `n_deps` deps and an
/// author id of `actor_len` bytes, read from the chunk's (strict) length field: for a chunk
/// this crate's encoder wrote, what [`matching_start`] finds, without comparing.
pub(crate) fn canonical_start(chunk: &[u8], n_deps: usize, actor_len: usize) -> Option<usize> {
    let (_, len_bytes) = leb128::decode_u64_strict(chunk.get(9..)?).ok()?;
    Some(
        9 + len_bytes
            + leb128::u64_len(n_deps as u64)
            + n_deps * 32
            + leb128::u64_len(actor_len as u64)
            + actor_len,
    )
}

/// The length of the start [`write_start`] writes, if `chunk` is exactly those bytes followed
/// by its tail. The body length is read strictly, so a chunk with an overlong length (whose
/// hash covers those bytes) does not match and is kept whole.
fn matching_start(
    chunk: &[u8],
    hash: &ChangeHash,
    deps: &[ChangeHash],
    actor: &ActorId,
    scratch: &mut Vec<u8>,
) -> Option<usize> {
    let (body_len, _) = leb128::decode_u64_strict(chunk.get(9..)?).ok()?;
    let tail_len = usize::try_from(body_len)
        .ok()?
        .checked_sub(head_len(deps, actor))?;
    scratch.clear();
    write_start(scratch, hash, deps, actor, tail_len);
    let start = scratch.len();
    (chunk.len() == start + tail_len && chunk.get(..start) == Some(scratch.as_slice()))
        .then_some(start)
}

/// The end of the length-prefixed field (the message) that starts at `at`, its length read
/// strictly.
fn field_end(tail: &[u8], at: usize) -> Option<usize> {
    let mut r = Reader::new(tail.get(at..)?);
    let len = r.uleb().ok()?;
    r.take(usize::try_from(len).ok()?).ok()?;
    Some(at + r.position())
}

/// The end of the other actors (a count, then each id's length and bytes) that start at `at`.
fn actors_end(tail: &[u8], at: usize) -> Option<usize> {
    let mut r = Reader::new(tail.get(at..)?);
    let count = r.uleb().ok()?;
    // Every id takes at least a byte: a count larger than what is left fails at the end.
    for _ in 0..count {
        let len = r.uleb().ok()?;
        r.take(usize::try_from(len).ok()?).ok()?;
    }
    Some(at + r.position())
}

/// The length of the column metadata (a count, then each column's spec and length) at the
/// start of `bytes`.
fn meta_len(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader::new(bytes);
    let count = r.uleb().ok()?;
    for _ in 0..count {
        r.uleb().ok()?;
        r.uleb().ok()?;
    }
    Some(r.position())
}

impl ChunkStore {
    /// Number of changes stored.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Stores a change chunk whose hash, deps (in the chunk's order), author, seq, start op,
    /// time and message (as the history keeps them) are given.
    #[allow(clippy::too_many_arguments)] // reason: the graph's and history's fields of one change, each needed to leave it out
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        hash: &ChangeHash,
        deps: &[ChangeHash],
        actor: &ActorId,
        fields: &TailFields,
        message: Option<&str>,
        scratch: &mut Vec<u8>,
    ) {
        match matching_start(chunk, hash, deps, actor, scratch) {
            Some(start) => {
                let tail = chunk.get(start..).unwrap_or_default();
                let read = read_fields(tail);
                let same = read.is_some_and(|(read, _)| read == *fields);
                self.push_tail(tail, read.map(|(_, at)| at), same, message);
            }
            None => self.push_record(WHOLE, &[chunk]),
        }
    }

    /// [`ChunkStore::push`] for a chunk this crate's encoder wrote, whose start is therefore
    /// exactly what [`write_start`] writes for its `n_deps` deps and an author id of
    /// `actor_len` bytes ([`canonical_start`]): only its tail is stored, without writing the
    /// start again to compare. Stored whole if the length field does not parse.
    ///
    /// `fields` are the chunk's seq, start op and time if the graph and the history keep
    /// exactly these (then the tail starts with them as [`write_fields`] writes them, and they
    /// are left out without being read); `None` keeps them in the record.
    pub(crate) fn push_canonical(
        &mut self,
        chunk: &[u8],
        n_deps: usize,
        actor_len: usize,
        fields: Option<&TailFields>,
        message: Option<&str>,
    ) {
        let Some(tail) = canonical_start(chunk, n_deps, actor_len).and_then(|s| chunk.get(s..))
        else {
            return self.push_record(WHOLE, &[chunk]);
        };
        match fields {
            Some(fields) => {
                debug_assert_eq!(read_fields(tail), Some((*fields, fields.len())));
                self.push_tail(tail, Some(fields.len()), true, message);
            }
            None => {
                // The message field is found only if there is a message to leave out.
                let at = message
                    .is_some()
                    .then(|| read_fields(tail).map(|(_, at)| at))
                    .flatten();
                self.push_tail(tail, at, false, message);
            }
        }
    }

    /// Stores a tail whose message field starts at `fields_end` (`None`: unknown, and then
    /// nothing is left out), without the seq, start op and time before it if
    /// `leave_out_fields`, without its message field if it holds `message`, and with its
    /// column metadata as an index into the store's table.
    fn push_tail(
        &mut self,
        tail: &[u8],
        fields_end: Option<usize>,
        leave_out_fields: bool,
        message: Option<&str>,
    ) {
        let Some(at) = fields_end else {
            return self.push_record(0, &[tail]);
        };
        let (mut tag, skip) = if leave_out_fields {
            (NO_FIELDS, at)
        } else {
            (0, 0)
        };
        // The usual tail (a local commit's, or a change automerge wrote): no message, no
        // other actors, and the metadata of the record before.
        if let (Some(0), Some(0)) = (tail.get(at), tail.get(at + 1))
            && let Some((index, len)) = self.recent_meta(tail.get(at + 2..).unwrap_or_default())
        {
            return self.push_meta_record(
                tag,
                &[tail.get(skip..at + 2).unwrap_or_default()],
                index,
                tail.get(at + 2 + len..).unwrap_or_default(),
            );
        }
        // The message field, the other actors, and the metadata after them, found in turn;
        // what cannot be found is kept as it is.
        let Some(msg_end) = field_end(tail, at) else {
            return self.push_record(tag, &[tail.get(skip..).unwrap_or_default()]);
        };
        // The field is left out if it holds exactly `message`, non-empty, as the encoder
        // writes it (its length was read strictly), so that the text alone writes it back.
        let holds_message = message.is_some_and(|m| {
            !m.is_empty()
                && msg_end - at == leb128::u64_len(m.len() as u64) + m.len()
                && tail.get(msg_end - m.len()..msg_end) == Some(m.as_bytes())
        });
        let msg_kept = if holds_message {
            tag |= NO_MESSAGE;
            msg_end
        } else {
            at
        };
        let meta = actors_end(tail, msg_end)
            .and_then(|meta_at| Some((meta_at, self.meta_entry(tail.get(meta_at..)?)?)));
        let before = tail.get(skip..at).unwrap_or_default();
        match meta {
            Some((meta_at, (index, meta_len))) => {
                self.push_meta_record(
                    tag,
                    &[before, tail.get(msg_kept..meta_at).unwrap_or_default()],
                    index,
                    tail.get(meta_at + meta_len..).unwrap_or_default(),
                );
            }
            None => self.push_record(tag, &[before, tail.get(msg_kept..).unwrap_or_default()]),
        }
    }

    /// The table entry of the column metadata `bytes` start with, and its length: the last
    /// entry named if `bytes` start with it (the metadata is self-delimiting, so that is the
    /// whole of it), else found or added. `None` if the metadata does not parse or the table
    /// is full.
    fn meta_entry(&mut self, bytes: &[u8]) -> Option<(u32, usize)> {
        if let Some(found) = self.recent_meta(bytes) {
            return Some(found);
        }
        // Read within the first `MAX_META_LEN` bytes: longer metadata does not parse there.
        let len = meta_len(bytes.get(..MAX_META_LEN).unwrap_or(bytes))?;
        let meta = bytes.get(..len)?;
        let index = match self.meta_index.get(meta) {
            Some(&index) => index,
            None if self.metas.len() < MAX_METAS => {
                let index = self.metas.len() as u32;
                self.metas.push(meta.into());
                self.meta_index.insert(meta.into(), index);
                index
            }
            None => return None,
        };
        self.recent_metas = [index, self.recent_metas[0]];
        Some((index, len))
    }

    /// One of the two entries named last, if `bytes` start with it (the metadata is
    /// self-delimiting, so that is the whole of it), and its length; the latest first.
    #[inline]
    fn recent_meta(&mut self, bytes: &[u8]) -> Option<(u32, usize)> {
        let [latest, before] = self.recent_metas;
        for (k, index) in [latest, before].into_iter().enumerate() {
            if let Some(meta) = self.metas.get(index as usize)
                && bytes.get(..meta.len()) == Some(&meta[..])
            {
                if k == 1 {
                    self.recent_metas = [before, latest];
                }
                return Some((index, meta.len()));
            }
        }
        None
    }

    /// Appends a record of `tag` with [`NO_META`]: the `head` pieces (what comes before the
    /// metadata), the metadata's table `index`, then `after` (the column data and extra
    /// bytes).
    // Always inlined: a commit's record takes this path, and out of line it measured ~2 %
    // slower a change per edit.
    #[inline(always)]
    fn push_meta_record(&mut self, tag: u8, head: &[&[u8]], index: u32, after: &[u8]) {
        let head_len: usize = head.iter().map(|p| p.len()).sum();
        let need = 1 + head_len + leb128::u64_len(u64::from(index)) + after.len();
        let block = self.block_for(need);
        block.push(tag | NO_META);
        for piece in head {
            block.extend_from_slice(piece);
        }
        match u8::try_from(index) {
            // One byte, the usual case (at most 127 entries named).
            Ok(small) if small < 0x80 => block.push(small),
            _ => leb128::write_u64(block, u64::from(index)),
        }
        block.extend_from_slice(after);
        let end = block.len() as u32;
        self.ends.push(end);
    }

    /// Appends a record: `tag`, then `pieces` back to back.
    fn push_record(&mut self, tag: u8, pieces: &[&[u8]]) {
        let need = pieces.iter().map(|p| p.len()).sum::<usize>() + 1;
        let block = self.block_for(need);
        block.push(tag);
        for piece in pieces {
            block.extend_from_slice(piece);
        }
        let end = block.len() as u32;
        self.ends.push(end);
    }

    /// The block the next record, of `need` bytes, goes into: the last one if it has room,
    /// else a new one (of its own if `need` is more than a block).
    #[inline]
    fn block_for(&mut self, need: usize) -> &mut Vec<u8> {
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= need);
        if !fits {
            match self.blocks.as_mut_slice() {
                // The first block starts at FIRST_BLOCK bytes and doubles up to a block (a
                // small document's records are a few hundred bytes).
                [only] if only.capacity() < BLOCK && only.len() + need <= BLOCK => {
                    let target = (only.capacity() * 2).max(only.len() + need).min(BLOCK);
                    only.reserve_exact(target - only.len());
                }
                _ => {
                    let room = if self.blocks.is_empty() {
                        FIRST_BLOCK
                    } else {
                        BLOCK
                    };
                    self.blocks.push(Vec::with_capacity(need.max(room)));
                    self.block_first.push(self.ends.len() as u32);
                }
            }
        }
        let last = self.blocks.len() - 1;
        &mut self.blocks[last]
    }

    /// The record of change `i`: its tag and the bytes after it.
    fn record(&self, i: usize) -> Option<(u8, &[u8])> {
        let end = *self.ends.get(i)?;
        let b = self
            .block_first
            .partition_point(|&first| first as usize <= i)
            .checked_sub(1)?;
        let first = *self.block_first.get(b)? as usize;
        let start = match i.checked_sub(1) {
            Some(p) if p >= first => *self.ends.get(p)?,
            _ => 0,
        };
        let (&tag, rest) = self
            .blocks
            .get(b)?
            .get(start as usize..end as usize)?
            .split_first()?;
        Some((tag, rest))
    }

    /// The chunk of change `i`, whose hash, deps (in the chunk's order), author, seq, start
    /// op and time are given, rebuilt into `out` (replacing its contents). False if there is
    /// no change `i`.
    ///
    /// `message` is the change's message as the history keeps it (`None` or `Some("")` for
    /// none: the chunk writes both as no message); a record kept without its message needs
    /// it.
    #[allow(clippy::too_many_arguments)] // reason: the graph's and history's fields of one change, each needed to write it back
    pub(crate) fn read_into(
        &self,
        i: usize,
        hash: &ChangeHash,
        deps: &[ChangeHash],
        actor: &ActorId,
        fields: &TailFields,
        message: Option<&str>,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some((tag, rest)) = self.record(i) else {
            return false;
        };
        out.clear();
        if tag & WHOLE != 0 {
            out.reserve_exact(rest.len());
            out.extend_from_slice(rest);
            return true;
        }
        let fields_len = if tag & NO_FIELDS != 0 {
            fields.len()
        } else {
            0
        };
        // Where the message field goes (or is) in `rest`, and where it ends.
        let msg_at = if tag & NO_FIELDS != 0 {
            0
        } else {
            match read_fields(rest) {
                Some((_, at)) => at,
                None if tag & (NO_MESSAGE | NO_META) == 0 => 0,
                None => return false,
            }
        };
        let message = if tag & NO_MESSAGE != 0 {
            match message.filter(|m| !m.is_empty()) {
                Some(message) => Some(message),
                None => return false,
            }
        } else {
            None
        };
        // The metadata's table entry, and the index's bytes in `rest` it stands for.
        let (meta, meta_at, index_end) = if tag & NO_META != 0 {
            let actors_from = if message.is_some() {
                Some(msg_at)
            } else {
                field_end(rest, msg_at)
            };
            let Some(meta_at) = actors_from.and_then(|from| actors_end(rest, from)) else {
                return false;
            };
            let mut r = Reader::new(rest.get(meta_at..).unwrap_or_default());
            let Some(meta) = r
                .uleb()
                .ok()
                .and_then(|index| self.metas.get(usize::try_from(index).ok()?))
            else {
                return false;
            };
            (&meta[..], meta_at, meta_at + r.position())
        } else {
            (&[][..], rest.len(), rest.len())
        };
        let field_len = message.map_or(0, |m| leb128::u64_len(m.len() as u64) + m.len());
        let tail_len = fields_len + field_len + rest.len() - (index_end - meta_at) + meta.len();
        // Exactly the chunk's size: a caller turning `out` into `Bytes` keeps no slack.
        out.reserve_exact(start_len(deps, actor, tail_len) + tail_len);
        write_start(out, hash, deps, actor, tail_len);
        if tag & NO_FIELDS != 0 {
            write_fields(out, fields);
        }
        let (Some(before), Some(between), Some(after)) = (
            rest.get(..msg_at),
            rest.get(msg_at..meta_at),
            rest.get(index_end..),
        ) else {
            out.clear();
            return false;
        };
        out.extend_from_slice(before);
        if let Some(message) = message {
            leb128::write_u64(out, message.len() as u64);
            out.extend_from_slice(message.as_bytes());
        }
        out.extend_from_slice(between);
        out.extend_from_slice(meta);
        out.extend_from_slice(after);
        true
    }

    /// Forgets the changes from `len` on. Their blocks' bytes are cut back too, so later
    /// records follow straight on.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.ends.len() {
            return;
        }
        self.ends.truncate(len);
        match self.ends.last() {
            Some(&end) => {
                // The blocks holding change `len - 1` and before.
                let keep = self
                    .block_first
                    .partition_point(|&first| (first as usize) < len);
                self.blocks.truncate(keep);
                self.block_first.truncate(keep);
                if let Some(block) = self.blocks.last_mut() {
                    block.truncate(end as usize);
                }
            }
            None => {
                self.blocks.clear();
                self.block_first.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(deps: &[ChangeHash], actor: &ActorId, tail: &[u8]) -> (Vec<u8>, ChangeHash) {
        let hash = ChangeHash([7; 32]);
        let mut chunk = Vec::new();
        write_start(&mut chunk, &hash, deps, actor, tail.len());
        chunk.extend_from_slice(tail);
        (chunk, hash)
    }

    /// A change with a message is kept without it and comes back whole given the message;
    /// without the message (or with "") it cannot be read. Changes without one, or with
    /// "", and a whole chunk (overlong length) need none. Seq, start op and time are left out
    /// when they are the fields given, and kept when they are not.
    #[test]
    fn messages_and_fields_are_left_out_and_put_back() {
        use converge_encoding::{Change, ChangeParts};
        let actor = ActorId::from_bytes(&[1, 2, 3]);
        let deps = vec![ChangeHash([9; 32])];
        let long = "x".repeat(300);
        let messages = [
            Some("hello"),
            None,
            Some(""),
            Some("größer → ✓"),
            Some(&long[..]),
        ];
        let mut kept = Vec::new();
        let mut sizes = Vec::new();
        for fields_given in [true, false] {
            let mut store = ChunkStore::default();
            let mut scratch = Vec::new();
            kept.clear();
            for (k, message) in messages.iter().enumerate() {
                let fields = TailFields {
                    seq: k as u64 + 300,
                    start_op: 1 << 20,
                    time: -5_000_000,
                };
                let change = Change::from_parts(ChangeParts {
                    actor: actor.clone(),
                    seq: fields.seq,
                    start_op: fields.start_op,
                    time: fields.time,
                    message: message.map(str::to_owned),
                    deps: deps.clone(),
                    other_actors: Vec::new(),
                    ops: Vec::new(),
                    extra_bytes: vec![7, 7],
                })
                .unwrap();
                // The history hands the store its own fields; others are kept in the record.
                let fields = if fields_given {
                    fields
                } else {
                    TailFields {
                        seq: fields.seq + 1,
                        ..fields
                    }
                };
                let bytes = change.bytes().to_vec();
                if k % 2 == 0 {
                    store.push(
                        &bytes,
                        &change.hash(),
                        &deps,
                        &actor,
                        &fields,
                        *message,
                        &mut scratch,
                    );
                } else {
                    store.push_canonical(
                        &bytes,
                        deps.len(),
                        actor.as_bytes().len(),
                        fields_given.then_some(&fields),
                        *message,
                    );
                }
                kept.push((bytes, change.hash(), fields, *message));
                if k == 0 {
                    // The same chunk with its length overlong: stored whole.
                    let mut whole = change.bytes().to_vec();
                    let len = whole[9];
                    assert!(len < 0x80);
                    whole.splice(9..10, [len | 0x80, 0x00]);
                    store.push(
                        &whole,
                        &change.hash(),
                        &deps,
                        &actor,
                        &fields,
                        *message,
                        &mut scratch,
                    );
                    kept.push((whole, change.hash(), fields, None));
                }
            }
            let short = store.blocks.iter().map(Vec::len).sum::<usize>();
            assert!(short < kept.iter().map(|k| k.0.len()).sum::<usize>() - 300);
            sizes.push(short);
            let mut out = Vec::new();
            for (i, (chunk, hash, fields, message)) in kept.iter().enumerate() {
                assert!(
                    store.read_into(i, hash, &deps, &actor, fields, *message, &mut out),
                    "{i}"
                );
                assert_eq!(&out, chunk, "change {i}");
                if message.is_some_and(|m| !m.is_empty()) {
                    assert!(!store.read_into(i, hash, &deps, &actor, fields, None, &mut out));
                    assert!(!store.read_into(i, hash, &deps, &actor, fields, Some(""), &mut out));
                }
            }
        }
        // Seq (2 bytes), start op (3) and time (4) of the five tail records left out.
        assert_eq!(sizes[0] + 5 * 9, sizes[1]);
    }

    /// Pushes a chunk without deps for each of `tails` (given `fields`), checks that every
    /// one reads back exactly, and returns the store.
    fn push_and_read_back(
        actor: &ActorId,
        fields: &TailFields,
        tails: impl IntoIterator<Item = Vec<u8>>,
    ) -> ChunkStore {
        let mut store = ChunkStore::default();
        let mut scratch = Vec::new();
        let mut kept = Vec::new();
        for tail in tails {
            let (chunk, hash) = sample(&[], actor, &tail);
            store.push(&chunk, &hash, &[], actor, fields, None, &mut scratch);
            kept.push((chunk, hash));
        }
        for (i, (chunk, hash)) in kept.iter().enumerate() {
            let mut out = Vec::new();
            assert!(store.read_into(i, hash, &[], actor, fields, None, &mut out));
            assert_eq!(&out, chunk, "change {i}");
        }
        store
    }

    /// Metadata longer than the table takes stays in its record; a short one is named by
    /// index, and both come back.
    #[test]
    fn long_metadata_stays_in_the_record() {
        let fields = TailFields {
            seq: 5,
            start_op: 1,
            time: 0,
        };
        let tails = [40u8, 3, 40, 31, 32].map(|columns| {
            let mut tail = vec![5, 1, 0, 0, 0, columns];
            for c in 0..columns {
                tail.extend_from_slice(&[c * 2, 1]);
            }
            tail.extend((0..columns).map(|c| c ^ 0x55));
            tail
        });
        let store = push_and_read_back(&ActorId::from_bytes(&[1, 2, 3]), &fields, tails);
        // 3 and 31 columns (7 and 63 bytes) are in the table; 32 and 40 (65, 81) are not.
        assert_eq!(
            store.metas.iter().map(|m| m.len()).collect::<Vec<_>>(),
            [7, 63]
        );
    }

    /// Past 127 entries a record's table index takes two bytes; records named by either kind
    /// come back, again when named a second time (by the recent entries or the lookup).
    #[test]
    fn many_metadata_strings_come_back() {
        let fields = TailFields {
            seq: 1,
            start_op: 1,
            time: 0,
        };
        // One column whose spec and length spell `k`: 300 distinct strings, each twice.
        let tails = (0..2u8).flat_map(|round| {
            (0..300u16).map(move |k| {
                let [hi, lo] = k.to_be_bytes();
                vec![1, 1, 0, 0, 0, 1, hi, lo & 0x7f, round, 7]
            })
        });
        let store = push_and_read_back(&ActorId::from_bytes(&[9]), &fields, tails);
        assert!(store.metas.len() > 128);
    }

    /// Random tails (some larger than a block, most small enough for hundreds to share one),
    /// with and without deps, with the fields they happen to spell given or not, and now and
    /// then a chunk with an overlong length (kept whole); truncated at random points and
    /// pushed to again, every chunk comes back exactly, into a buffer of exactly its size.
    #[test]
    fn chunks_come_back_whole_across_blocks_and_truncations() {
        let actor = ActorId::from_bytes(&[1, 2, 3]);
        let deps = [ChangeHash([9; 32]), ChangeHash([4; 32])];
        // A deterministic random sequence (an LCG's high bits).
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state.rotate_left(32)
        };
        let mut store = ChunkStore::default();
        let mut scratch = Vec::new();
        type Kept = (Vec<u8>, ChangeHash, usize, TailFields, Option<String>);
        let mut kept: Vec<Kept> = Vec::new();
        // The message a tail's bytes happen to spell (then stored without it), as the
        // history would hand it back.
        fn message(tail: &[u8]) -> Option<String> {
            let (_, at) = read_fields(tail)?;
            let mut r = Reader::new(tail.get(at..)?);
            r.string().ok().map(str::to_owned)
        }
        fn check(store: &ChunkStore, kept: &[Kept], actor: &ActorId, deps: &[ChangeHash]) {
            assert_eq!(store.len(), kept.len());
            for (i, (chunk, hash, d, fields, m)) in kept.iter().enumerate() {
                let mut fresh = Vec::new();
                let d = &deps[..*d];
                assert!(store.read_into(i, hash, d, actor, fields, m.as_deref(), &mut fresh));
                assert_eq!(&fresh, chunk, "change {i}");
                assert_eq!(fresh.capacity(), chunk.len());
            }
            let fields = TailFields {
                seq: 1,
                start_op: 1,
                time: 0,
            };
            let mut out = Vec::new();
            assert!(!store.read_into(
                kept.len(),
                &ChangeHash([0; 32]),
                &[],
                actor,
                &fields,
                None,
                &mut out
            ));
        }
        for round in 0..6 {
            for _ in 0..2_000 {
                let k = next();
                let tail_len = match k % 100 {
                    0 => BLOCK + (k >> 8) as usize % 5_000,
                    1..=4 => (k >> 8) as usize % 3_000,
                    _ => (k >> 8) as usize % 90,
                };
                let mut tail: Vec<u8> = (0..tail_len).map(|_| next() as u8).collect();
                if k & 0x100 != 0 && tail_len >= 6 {
                    // Fields spelled canonically, then (mostly) a message, other actors and
                    // one of a few metadata strings.
                    let mut head = vec![5, 0x80, 1, 0x7f];
                    if k & 0x6000 != 0 {
                        match (k >> 16) % 3 {
                            0 => head.push(0),
                            1 => head.extend_from_slice(&[2, b'h', b'i']),
                            _ => head.extend_from_slice(&[1, 0xff]),
                        }
                        match (k >> 18) % 3 {
                            0 => head.push(0),
                            1 => head.extend_from_slice(&[1, 2, 7, 7]),
                            _ => head.extend_from_slice(&[2, 0, 1, 9]),
                        }
                        match (k >> 20) % 4 {
                            0 => head.extend_from_slice(&[2, 0x01, 3, 0x20, 0x81, 0x01]),
                            1 => head.extend_from_slice(&[1, 0x07, 0]),
                            2 => head.push(0),
                            _ => head.extend_from_slice(&[3, 0x80]), // truncated: kept
                        }
                    }
                    let n = head.len().min(tail.len());
                    tail[..n].copy_from_slice(&head[..n]);
                }
                let d = (k >> 10) as usize % 3;
                let (mut chunk, hash) = sample(&deps[..d], &actor, &tail);
                if k % 97 == 3 && chunk[9] < 0x80 {
                    // The same length, overlong: kept whole.
                    let body_len = chunk[9];
                    chunk.splice(9..10, [body_len | 0x80, 0x00]);
                }
                let fields = match read_fields(&tail) {
                    Some((f, _)) if k & 0x800 != 0 => f,
                    _ => TailFields {
                        seq: k >> 40,
                        start_op: 9,
                        time: -1,
                    },
                };
                let m = message(&tail);
                match canonical_start(&chunk, d, 3) {
                    Some(_) if k & 0x1000 == 0 => {
                        let known = (read_fields(&tail).map(|(read, _)| read) == Some(fields))
                            .then_some(&fields);
                        store.push_canonical(&chunk, d, 3, known, m.as_deref());
                    }
                    _ => store.push(
                        &chunk,
                        &hash,
                        &deps[..d],
                        &actor,
                        &fields,
                        m.as_deref(),
                        &mut scratch,
                    ),
                }
                kept.push((chunk, hash, d, fields, m));
            }
            check(&store, &kept, &actor, &deps);
            let len = if round == 4 {
                0
            } else {
                next() as usize % (kept.len() + 1)
            };
            store.truncate(len);
            kept.truncate(len);
            check(&store, &kept, &actor, &deps);
        }
        assert!(store.blocks.len() > 10);
        // The metadata strings were found and named by index.
        assert!(store.metas.len() >= 3);
        assert!(
            store
                .metas
                .iter()
                .any(|m| m[..] == [2, 0x01, 3, 0x20, 0x81, 0x01])
        );
    }
}
