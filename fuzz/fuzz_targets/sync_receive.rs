//! Receiving arbitrary bytes as a sync message on a real document: see
//! `checks/sync_receive.rs`, which the replay in `crates/converge-sync/tests/fuzz_sync.rs`
//! compiles too (and which writes the seeds in `fuzz/seeds/sync_receive/`).
#![no_main]

#[path = "checks/sync_receive.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check(data);
});
