//! Times `get_changes(&[])` (every change, decoded from what the document stores) on a
//! loaded document, min of 7; with a second argument, automerge's, min of 3:
//!
//! ```text
//! cargo run --release -p converge-benches --example changes_probe -- FILE [--oracle]
//! ```
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let bytes = std::fs::read(path).expect("read");
    if std::env::args().nth(2).is_some() {
        let doc = automerge::Automerge::load(&bytes).expect("load");
        let mut best = std::time::Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let c = doc.get_changes(&[]);
            std::hint::black_box(&c);
            best = best.min(t.elapsed());
            drop(c);
        }
        println!("automerge get_changes(all) min {best:?}");
        return;
    }
    let doc = converge_doc::Document::load(&bytes).expect("load");
    let mut best = std::time::Duration::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let c = doc.get_changes(&[]);
        std::hint::black_box(&c);
        best = best.min(t.elapsed());
        drop(c);
    }
    println!("converge get_changes(all) min {best:?}");
}
