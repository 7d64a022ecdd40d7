//! Sync message decoding is total, and decoding is stable under re-encoding:
//! decode(encode(decode(x))) == decode(x), and encode(decode(x)) == x for canonical input.
#![no_main]

use converge_sync::SyncMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = SyncMessage::decode(data) {
        let encoded = msg.encode();
        let again = SyncMessage::decode(&encoded).expect("our own encoding decodes");
        assert_eq!(again, msg);
        assert_eq!(again.encode(), encoded);
    }
});
