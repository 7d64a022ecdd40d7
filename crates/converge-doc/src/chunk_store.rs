//! The history's change chunks, stored compactly.
//!
//! A change chunk starts with what the change graph already holds: the magic bytes, a
//! checksum that is the first four bytes of the change's hash, the chunk type and length, the
//! dependency hashes (32 bytes each) and the author's actor id. For a typical one-op change
//! that is more than half of its ~110 bytes. The store keeps only the rest and puts the
//! start back when the chunk is read, so the bytes kept per change roughly halve.
//!
//! Each record is a tag byte and then either the tail (tag [`TAIL`]: the start is exactly
//! what [`write_start`] writes from the graph's fields) or the whole chunk (tag [`WHOLE`]: a
//! chunk whose start is written otherwise, e.g. with an overlong LEB128 length, which a peer
//! may send and whose hash covers those bytes). A tail whose change has a message is kept
//! without it (tag [`TAIL_NO_MESSAGE`]): the history keeps messages, each distinct text once,
//! and hands the text back to [`ChunkStore::read_into`]. Records go back to back into blocks
//! that never reallocate; a record larger than a block gets a block of its own.

use converge_encoding::chunk::MAGIC;
use converge_encoding::{ActorId, ChangeHash, Reader, leb128};

/// The record holds the chunk's tail only.
const TAIL: u8 = 0;
/// The record holds the whole chunk.
const WHOLE: u8 = 1;
/// The record holds the chunk's tail without its (non-empty) message field.
const TAIL_NO_MESSAGE: u8 = 2;
/// The chunk type byte of an uncompressed change.
const CHANGE_TYPE: u8 = 1;
/// Bytes per block.
const BLOCK: usize = 64 * 1024;

/// The change chunks of a history, in application order.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChunkStore {
    blocks: Vec<Vec<u8>>,
    /// Per change: its record's block and end offset. It starts where the previous record
    /// of the same block ends (0 for a block's first).
    ends: Vec<(u32, u32)>,
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

/// Where a tail's message field starts: after seq, start op and time. Read strictly, as
/// decoding and our encoder have them.
fn message_offset(tail: &[u8]) -> Option<usize> {
    let mut r = Reader::new(tail);
    r.uleb().ok()?; // seq
    r.uleb().ok()?; // start op
    r.sleb().ok()?; // time
    Some(r.position())
}

/// Where a tail's message field (length and bytes) lies, `(start, end)`, if it is exactly
/// what the encoder writes for `message`, a non-empty message (so that it can be written
/// back identically from the text alone).
fn message_field(tail: &[u8], message: &str) -> Option<(usize, usize)> {
    if message.is_empty() {
        return None;
    }
    let start = message_offset(tail)?;
    let mut r = Reader::new(tail.get(start..)?);
    // A strict read: the length is written as the encoder writes it.
    let len = r.uleb().ok()?;
    let text = r.take(usize::try_from(len).ok()?).ok()?;
    (text == message.as_bytes()).then_some((start, start + r.position()))
}

impl ChunkStore {
    /// Number of changes stored.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Stores a change chunk whose hash, deps (in the chunk's order), author and message (as
    /// the history keeps it) are given.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        hash: &ChangeHash,
        deps: &[ChangeHash],
        actor: &ActorId,
        message: Option<&str>,
        scratch: &mut Vec<u8>,
    ) {
        match matching_start(chunk, hash, deps, actor, scratch) {
            Some(start) => self.push_tail(chunk.get(start..).unwrap_or_default(), message),
            None => self.push_record(WHOLE, &[chunk]),
        }
    }

    /// [`ChunkStore::push`] for a chunk this crate's encoder wrote, whose start is therefore
    /// exactly what [`write_start`] writes for its `n_deps` deps and an author id of
    /// `actor_len` bytes ([`canonical_start`]): only its tail is stored, without writing the
    /// start again to compare. Stored whole if the length field does not parse.
    pub(crate) fn push_canonical(
        &mut self,
        chunk: &[u8],
        n_deps: usize,
        actor_len: usize,
        message: Option<&str>,
    ) {
        match canonical_start(chunk, n_deps, actor_len).and_then(|s| chunk.get(s..)) {
            Some(tail) => self.push_tail(tail, message),
            None => self.push_record(WHOLE, &[chunk]),
        }
    }

    /// Stores a tail, without its message field if it holds `message`.
    fn push_tail(&mut self, tail: &[u8], message: Option<&str>) {
        match message.and_then(|m| message_field(tail, m)) {
            Some((start, end)) => self.push_record(
                TAIL_NO_MESSAGE,
                &[
                    tail.get(..start).unwrap_or_default(),
                    tail.get(end..).unwrap_or_default(),
                ],
            ),
            None => self.push_record(TAIL, &[tail]),
        }
    }

    /// Appends a record: `tag`, then `pieces` back to back.
    fn push_record(&mut self, tag: u8, pieces: &[&[u8]]) {
        let need = pieces.iter().map(|p| p.len()).sum::<usize>() + 1;
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= need);
        if !fits {
            self.blocks.push(Vec::with_capacity(need.max(BLOCK)));
        }
        let b = self.blocks.len() - 1;
        if let Some(block) = self.blocks.last_mut() {
            block.push(tag);
            for piece in pieces {
                block.extend_from_slice(piece);
            }
            self.ends.push((b as u32, block.len() as u32));
        }
    }

    /// The chunk of change `i`, whose hash, deps (in the chunk's order) and author are given,
    /// rebuilt into `out` (replacing its contents). False if there is no change `i`.
    ///
    /// `message` is the change's message as the history keeps it (`None` or `Some("")` for
    /// none: the chunk writes both as no message); a record kept without its message needs
    /// it.
    pub(crate) fn read_into(
        &self,
        i: usize,
        hash: &ChangeHash,
        deps: &[ChangeHash],
        actor: &ActorId,
        message: Option<&str>,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(&(b, end)) = self.ends.get(i) else {
            return false;
        };
        let start = match i.checked_sub(1).and_then(|p| self.ends.get(p)) {
            Some(&(pb, pend)) if pb == b => pend,
            _ => 0,
        };
        let Some(record) = self
            .blocks
            .get(b as usize)
            .and_then(|block| block.get(start as usize..end as usize))
        else {
            return false;
        };
        out.clear();
        match record.split_first() {
            Some((&TAIL, tail)) => {
                // Exactly the chunk's size: a caller turning `out` into `Bytes` keeps no slack.
                out.reserve_exact(start_len(deps, actor, tail.len()) + tail.len());
                write_start(out, hash, deps, actor, tail.len());
                out.extend_from_slice(tail);
            }
            Some((&TAIL_NO_MESSAGE, rest)) => {
                let Some(message) = message.filter(|m| !m.is_empty()) else {
                    return false;
                };
                let Some((before, after)) = message_offset(rest).map(|at| rest.split_at(at)) else {
                    return false;
                };
                let field = leb128::u64_len(message.len() as u64) + message.len();
                let tail_len = rest.len() + field;
                out.reserve_exact(start_len(deps, actor, tail_len) + tail_len);
                write_start(out, hash, deps, actor, tail_len);
                out.extend_from_slice(before);
                leb128::write_u64(out, message.len() as u64);
                out.extend_from_slice(message.as_bytes());
                out.extend_from_slice(after);
            }
            Some((_, whole)) => {
                out.reserve_exact(whole.len());
                out.extend_from_slice(whole);
            }
            None => return false,
        }
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
            Some(&(b, end)) => {
                self.blocks.truncate(b as usize + 1);
                if let Some(block) = self.blocks.last_mut() {
                    block.truncate(end as usize);
                }
            }
            None => self.blocks.clear(),
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
    /// "", and a whole chunk (overlong length) need none.
    #[test]
    fn messages_are_left_out_and_put_back() {
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
        let mut store = ChunkStore::default();
        let mut scratch = Vec::new();
        let mut kept = Vec::new();
        for (k, message) in messages.iter().enumerate() {
            let change = Change::from_parts(ChangeParts {
                actor: actor.clone(),
                seq: k as u64 + 1,
                start_op: 1,
                time: -5,
                message: message.map(str::to_owned),
                deps: deps.clone(),
                other_actors: Vec::new(),
                ops: Vec::new(),
                extra_bytes: vec![7, 7],
            })
            .unwrap();
            let bytes = change.bytes().to_vec();
            if k % 2 == 0 {
                store.push(
                    &bytes,
                    &change.hash(),
                    &deps,
                    &actor,
                    *message,
                    &mut scratch,
                );
            } else {
                store.push_canonical(&bytes, deps.len(), actor.as_bytes().len(), *message);
            }
            kept.push((bytes, change.hash(), *message));
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
                    *message,
                    &mut scratch,
                );
                kept.push((whole, change.hash(), None));
            }
        }
        let short = store.blocks.iter().map(Vec::len).sum::<usize>();
        assert!(short < kept.iter().map(|k| k.0.len()).sum::<usize>() - 300);
        let mut out = Vec::new();
        for (i, (chunk, hash, message)) in kept.iter().enumerate() {
            assert!(
                store.read_into(i, hash, &deps, &actor, *message, &mut out),
                "{i}"
            );
            assert_eq!(&out, chunk, "change {i}");
            if message.is_some_and(|m| !m.is_empty()) {
                assert!(!store.read_into(i, hash, &deps, &actor, None, &mut out));
                assert!(!store.read_into(i, hash, &deps, &actor, Some(""), &mut out));
            }
        }
    }

    #[test]
    fn chunks_come_back_whole_and_truncation_forgets() {
        let actor = ActorId::from_bytes(&[1, 2, 3]);
        let deps = [ChangeHash([9; 32]), ChangeHash([4; 32])];
        let mut store = ChunkStore::default();
        let mut scratch = Vec::new();
        let mut kept = Vec::new();
        // Small and block-sized tails, no deps and two, and one chunk whose start is not what
        // `write_start` writes (an overlong body length), kept whole.
        for (k, tail_len) in [5usize, 0, 200, BLOCK + 10, 70_000, 3]
            .into_iter()
            .enumerate()
        {
            let tail: Vec<u8> = (0..tail_len).map(|x| (x * 31 + k) as u8).collect();
            let d = if k % 2 == 0 { &deps[..] } else { &[][..] };
            let (mut chunk, hash) = sample(d, &actor, &tail);
            if k == 5 {
                // 0x05 → 0x85 0x00: the same length, overlong.
                let body_len = chunk[9];
                chunk.splice(9..10, [body_len | 0x80, 0x00]);
            }
            let m = message(&chunk, d, &actor);
            store.push(&chunk, &hash, d, &actor, m.as_deref(), &mut scratch);
            kept.push((chunk, hash, d));
        }
        type Kept<'a> = [(Vec<u8>, ChangeHash, &'a [ChangeHash])];
        // The message a tail's bytes happen to spell (then stored without it), as the
        // history would hand it back.
        fn message(chunk: &[u8], d: &[ChangeHash], actor: &ActorId) -> Option<String> {
            let start = canonical_start(chunk, d.len(), actor.as_bytes().len())?;
            let tail = chunk.get(start..)?;
            let mut r = Reader::new(tail.get(message_offset(tail)?..)?);
            r.string().ok().map(str::to_owned)
        }
        fn check(store: &ChunkStore, kept: &Kept<'_>, actor: &ActorId, n: usize) {
            assert_eq!(store.len(), n);
            let mut out = Vec::new();
            for (i, (chunk, hash, d)) in kept.iter().take(n).enumerate() {
                let m = message(chunk, d, actor);
                assert!(store.read_into(i, hash, d, actor, m.as_deref(), &mut out));
                assert_eq!(&out, chunk, "change {i}");
            }
            assert!(!store.read_into(n, &kept[0].1, &[], actor, None, &mut out));
            // Read into a fresh buffer, a chunk takes exactly its size.
            for (i, (chunk, hash, d)) in kept.iter().take(n).enumerate() {
                let mut fresh = Vec::new();
                let m = message(chunk, d, actor);
                assert!(store.read_into(i, hash, d, actor, m.as_deref(), &mut fresh));
                assert_eq!((fresh.len(), fresh.capacity()), (chunk.len(), chunk.len()));
            }
        }
        check(&store, &kept, &actor, 6);
        store.truncate(3);
        check(&store, &kept, &actor, 3);
        // Pushing again after a truncation reads back right.
        let (chunk, hash, d) = kept[4].clone();
        let m = message(&chunk, d, &actor);
        store.push(&chunk, &hash, d, &actor, m.as_deref(), &mut scratch);
        kept.swap(3, 4);
        check(&store, &kept, &actor, 4);
        store.truncate(0);
        check(&store, &kept, &actor, 0);
    }
}
