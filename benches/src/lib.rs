//! Benchmarks live in `benches/`; this library holds what several of them share: the editing
//! traces of `shared/data/traces` (parsing, and replay on converge and on the automerge 0.12
//! oracle).

pub mod traces;
