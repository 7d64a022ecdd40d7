//! Differential tests of converge against the automerge 0.12 oracle live in `tests/`.
//! The library itself is empty: the oracle is a dev-dependency only.
//!
//! | test file | what it compares |
//! |---|---|
//! | `tests/support/mod.rs` | not a test: the seeded generator of random oracle histories (`History::generate(seed, &Params)`), shared with `mod support;` |
//! | `tests/support/verdict.rs` | not a test: load verdicts (oracle `Automerge::load` vs our chunk loader), included with `#[path]` |
//! | `tests/generator.rs` | the generator is deterministic and covers every action and value kind |
//! | `tests/change_roundtrip.rs` | oracle changes decode and re-encode to the oracle's exact bytes and hash, raw and compressed |
//! | `tests/document_roundtrip.rs` | oracle documents decode, reconstruct the oracle's changes, re-encode byte-identically and load in the oracle |
//! | `tests/corpus_verdicts.rs` | the oracle and we agree on every file of `shared/data/automerge-corpus` (table printed) |
//! | `tests/file_verdicts.rs` | the same on generated concatenations of chunks, truncations and checksum-fixed mutations |
//! | `tests/fuzz_seeds.rs` | `#[ignore]`d: writes `fuzz/seeds/` from the generator |
//!
//! Run with `cargo test --release -p converge-interop` (add `-- --nocapture` for the tables).
