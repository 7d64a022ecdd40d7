//! Sync state decoding is total; a decoded state re-encodes to the same shared heads.
#![no_main]

use converge_sync::SyncState;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = SyncState::decode(data) {
        let encoded = state.encode();
        assert!(
            data.starts_with(&encoded),
            "state bytes are a prefix of the input"
        );
        assert_eq!(SyncState::decode(&encoded).expect("round trip"), state);
    }
});
