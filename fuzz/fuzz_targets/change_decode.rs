//! Decoding any change chunk: see `checks/change_decode.rs`, which the replay in
//! `crates/converge-encoding/tests/fuzz_replay.rs` compiles too.
#![no_main]

#[path = "checks/change_decode.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check(data);
});
