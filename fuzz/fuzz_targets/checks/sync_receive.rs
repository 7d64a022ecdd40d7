//! The `sync_receive` fuzz target's fixture and checks, compiled into the target and into
//! the replay of its seeds and regressions in `crates/converge-sync/tests/fuzz_sync.rs`
//! (the fuzz crate is its own workspace: both include this file by path).
//!
//! Receiving arbitrary bytes as a sync message on a real document never panics; when the
//! message decodes but receiving fails, the document and the sync state are exactly as
//! before; when it succeeds, the document's save loads back to the same values. A message
//! that carries changes is received twice, on fresh fixtures: as sent, and
//! with every chunk's checksum rewritten to its hash, so that mutated changes reach the
//! document (the fuzzer cannot forge a checksum; compressed changes are left as they are,
//! their checksum covering the inflated change). The fixture has a fixed actor, so that the
//! seeds (what a peer that forked it and edited sends it in a session) carry changes that
//! apply to it.

use bytes::Bytes;
use converge_doc::{
    DocError, Document, LoadOptions, ObjType, OnPartialLoad, ROOT, VerificationMode,
};
use converge_encoding::ActorId;
use converge_encoding::chunk::{Chunk, ChunkType};
use converge_sync::{SyncMessage, SyncState, generate_sync_message, receive_sync_message};

pub(crate) fn fixture() -> (Document, SyncState) {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x11; 16]));
    let text = doc
        .put_object(&ROOT, "text", ObjType::Text)
        .expect("fresh doc");
    doc.splice_text(&text, 0, 0, "hello").expect("fresh text");
    doc.put(&ROOT, "n", 1i64).expect("put");
    let mut state = SyncState::new();
    // Put the state mid-session, as a peer that has sent its first message.
    let _ = generate_sync_message(&doc, &mut state);
    (doc, state)
}

/// `bytes` with the chunk at their start given its own hash's checksum, if that changes them.
fn with_own_checksum(bytes: &Bytes) -> Option<Bytes> {
    let chunk = Chunk::parse(bytes).ok()?;
    let hash = chunk.hash();
    if chunk.chunk_type() == ChunkType::CompressedChange || chunk.checksum() == hash.0[..4] {
        return None;
    }
    let mut fixed = bytes.to_vec();
    fixed.get_mut(4..8)?.copy_from_slice(&hash.0[..4]);
    Some(Bytes::from(fixed))
}

/// The target's body; how many of the (one or two) receives changed the document.
pub(crate) fn check(data: &[u8]) -> usize {
    let Ok(msg) = SyncMessage::decode(data) else {
        return 0;
    };
    // A change of more than 2^16 ops (a few bytes of runs can hold 2^24) takes gigabytes to
    // apply, past the fuzzer's memory limit: not a finding.
    let huge = |c: &Bytes| {
        converge_encoding::Change::decode_unchecked_checksum(c.clone())
            .is_ok_and(|c| c.num_ops() > 1 << 16)
    };
    if msg.changes.iter().any(huge) {
        return 0;
    }
    let mut patched = msg.clone();
    let mut any = false;
    for change in &mut patched.changes {
        if let Some(fixed) = with_own_checksum(change) {
            *change = fixed;
            any = true;
        }
    }
    let mut changed = receive_on_fixture(msg);
    if any {
        changed += receive_on_fixture(patched);
    }
    changed
}

fn receive_on_fixture(msg: SyncMessage) -> usize {
    let (mut doc, mut state) = fixture();
    let heads = doc.heads();
    let saved = doc.save_nocompress();
    let before = state.clone();
    if receive_sync_message(&mut doc, &mut state, msg).is_err() {
        assert_eq!(doc.heads(), heads, "document unchanged on error");
        assert_eq!(doc.save_nocompress(), saved, "document unchanged on error");
        assert_eq!(state, before, "sync state unchanged on error");
        0
    } else {
        let _ = generate_sync_message(&doc, &mut state);
        // What was received can be saved and loaded back, to the same values (unchecked and
        // with missing deps allowed: non-canonical changes are rebuilt with other bytes,
        // format.md section 0, and queued ones follow the document chunk).
        let tree = format!("{:?}", doc.value_tree(&ROOT));
        let saved = doc.save();
        // (Not when queued changes wait beside non-canonical ones: one may wait for the hash
        // a non-canonical change gets when rebuilt, and apply on the reload.)
        let settled = doc.queued_count() == 0
            || doc
                .get_changes(&[])
                .iter()
                .all(|c| c.is_canonical() && c.kept_by_documents());
        let options = LoadOptions::new()
            .on_partial_load(OnPartialLoad::Ignore)
            .verification_mode(VerificationMode::DontCheck);
        match Document::load_with_options(&saved, options) {
            _ if !settled => {}
            Ok(again) => assert_eq!(format!("{:?}", again.value_tree(&ROOT)), tree),
            Err(DocError::InvalidMarkOrder { .. }) => {}
            Err(e) => panic!("a save after a receive loads back: {e:?}"),
        }
        usize::from(doc.heads() != heads)
    }
}
