//! Times how long a loaded document takes to refuse a bad change (one op into an object
//! nobody made, by a new actor whose deps are the document's heads: it passes the graph's
//! checks, is applied, refused, and the batch rolled back):
//!
//! ```text
//! cargo run --release -p converge-benches --example refuse_probe -- FILE [RUNS]
//! ```
//!
//! Refusing should cost the batch, not the document: before 2026-12-05 the rollback
//! recomputed the largest op counter over every op, and the graph its max op over every
//! change (godot-thread.amrg: 26.5 ms a refusal).

use std::time::Instant;

use converge_doc::{Document, ROOT};
use converge_encoding::{ActorId, Change, ObjId, OpId, ScalarValue};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).map_or(20, |s| s.parse().expect("RUNS"));
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut doc = Document::load(&bytes).expect("the file loads");
    let mut other = doc.fork();
    other.set_actor(ActorId::from_bytes(&[0xee; 16]));
    other.put(&ROOT, "probe", ScalarValue::Int(1)).expect("put");
    let mut parts = other.get_changes(&doc.heads())[0].to_parts();
    parts.ops[0].obj = ObjId::Op(OpId::new(u32::MAX - 7, 0));
    let bad = Change::from_parts(parts).expect("a well-formed change");
    let (heads, max_op) = (doc.heads(), doc.max_op());
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        assert!(doc.apply_changes([bad.clone()]).is_err(), "refused");
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    assert_eq!((doc.heads(), doc.max_op()), (heads, max_op));
    println!(
        "{path}: refusing one change: min {best:.3} ms of {runs} ({} changes, max op {max_op})",
        doc.change_count()
    );
}
