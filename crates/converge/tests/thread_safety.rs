//! The public types can move between threads and be shared behind a lock: applications keep
//! a document in an `Arc<Mutex<_>>` beside a network task, or hand a sync state to a worker.
//! A compile-time check: the test fails to build if a field ever makes one of them `!Send`
//! or `!Sync` (an `Rc`, a `RefCell`, a raw pointer).

fn is_send_sync<T: Send + Sync>() {}

#[test]
fn documents_changes_and_sync_states_are_send_and_sync() {
    is_send_sync::<converge::Document>();
    is_send_sync::<converge::AutoCommit>();
    is_send_sync::<converge::Change>();
    is_send_sync::<converge::ChangeHash>();
    is_send_sync::<converge::ExId>();
    is_send_sync::<converge::Value>();
    is_send_sync::<converge::ValueTree>();
    is_send_sync::<converge::Patch>();
    is_send_sync::<converge::DocError>();
    is_send_sync::<converge::DecodeError>();
    is_send_sync::<converge::sync::SyncState>();
    is_send_sync::<converge::sync::SyncMessage>();
    is_send_sync::<converge::sync::ReceiveError<converge::DocError>>();
    is_send_sync::<converge::sync::SyncDecodeError>();
    is_send_sync::<converge::encoding::DocumentChunk>();
}

/// The errors can be boxed as `dyn Error + Send + Sync` (what `anyhow` and `?` in a task
/// want) because they are `'static` too.
#[test]
fn errors_box_as_send_sync_errors() {
    fn boxed<E: std::error::Error + Send + Sync + 'static>(
        e: E,
    ) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
    let err = converge::Document::load(b"not a document").expect_err("refused");
    assert!(!boxed(err).to_string().is_empty());
}
