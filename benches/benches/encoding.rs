//! Placeholder; see issue 2 for the encoding benchmark.
fn main() {}
