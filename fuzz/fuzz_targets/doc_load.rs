//! Loading any file into a document, whole and incrementally: see `checks/doc_load.rs`,
//! which the replay in `crates/converge-doc/tests/fuzz_doc.rs` compiles too. Its seeds are
//! `chunk_split`'s (`fuzz/seeds/doc_load` links to them).
#![no_main]

#[path = "checks/doc_load.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    checks::check(data);
});
