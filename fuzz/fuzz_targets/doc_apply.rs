//! Applying arbitrary changes to a real document: see `checks/doc_apply.rs`, which the
//! replay in `crates/converge-doc/tests/fuzz_doc.rs` compiles too. The seeds in
//! `fuzz/seeds/doc_apply/` are changes made on forks of its fixture (written by that test).
#![no_main]

#[path = "checks/doc_apply.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check(data);
});
