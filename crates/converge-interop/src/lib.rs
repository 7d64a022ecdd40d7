//! Differential tests of converge against the automerge 0.12 oracle live in `tests/`.
//! The library itself is empty: the oracle is a dev-dependency only.
