//! Receiving arbitrary bytes as a sync message on a real document never panics; when the
//! message decodes but receiving fails, the document and the sync state are exactly as before.
#![no_main]

use converge_doc::{Document, ObjType, ROOT};
use converge_sync::{SyncMessage, SyncState, generate_sync_message, receive_sync_message};
use libfuzzer_sys::fuzz_target;

fn fixture() -> (Document, SyncState) {
    let mut doc = Document::new();
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

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = SyncMessage::decode(data) else {
        return;
    };
    let (mut doc, mut state) = fixture();
    let heads = doc.heads();
    let saved = doc.save_nocompress();
    let before = state.clone();
    if receive_sync_message(&mut doc, &mut state, msg).is_err() {
        assert_eq!(doc.heads(), heads, "document unchanged on error");
        assert_eq!(doc.save_nocompress(), saved, "document unchanged on error");
        assert_eq!(state, before, "sync state unchanged on error");
    } else {
        let _ = generate_sync_message(&doc, &mut state);
    }
});
