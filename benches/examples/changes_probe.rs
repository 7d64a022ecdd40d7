//! Times `get_changes(&[])` (every change, decoded from what the document stores) on a
//! loaded document, min of 7; with a second argument, automerge's, min of 3:
//!
//! ```text
//! cargo run --release -p converge-benches --example changes_probe -- FILE [--oracle]
//! ```

use converge_benches::min_of;

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let bytes = std::fs::read(path).expect("read");
    if std::env::args().nth(2).is_some() {
        let doc = automerge::Automerge::load(&bytes).expect("load");
        let best = min_of(3, || doc.get_changes(&[]));
        println!("automerge get_changes(all) min {best:?}");
        return;
    }
    let doc = converge_doc::Document::load(&bytes).expect("load");
    let best = min_of(7, || doc.get_changes(&[]));
    println!("converge get_changes(all) min {best:?}");
}
