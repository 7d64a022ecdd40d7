//! Object id decoding, bytes and text: see `checks/obj_id_decode.rs`.
#![no_main]

#[path = "checks/obj_id_decode.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check(data);
});
