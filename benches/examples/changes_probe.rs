//! Times `get_changes(&[])` (every change, decoded from what the document stores) on a
//! loaded document, min of 7; with `--oracle`, automerge's, min of 3; with `--since-heads`,
//! both sides' `get_changes` since the current heads and since the 100th change from the
//! end, min of 7:
//!
//! ```text
//! cargo run --release -p converge-benches --example changes_probe -- FILE [--oracle | --since-heads]
//! ```

use converge_benches::min_of;

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let bytes = std::fs::read(path).expect("read");
    if std::env::args().nth(2).as_deref() == Some("--since-heads") {
        let doc = converge_doc::Document::load(&bytes).expect("load");
        let heads = doc.heads();
        let best = min_of(7, || doc.get_changes(&heads));
        println!("converge get_changes(heads) min {best:?}");
        // Since the 100th change from the end (in application order).
        let all = doc.get_changes(&[]);
        let back = [all[all.len().saturating_sub(100)].hash()];
        let best = min_of(7, || doc.get_changes(&back));
        let n = doc.get_changes(&back).len();
        println!("converge get_changes(100th from the end) min {best:?} ({n} changes)");
        let doc = automerge::Automerge::load(&bytes).expect("load");
        let heads = doc.get_heads();
        let best = min_of(7, || doc.get_changes(&heads));
        println!("automerge get_changes(heads) min {best:?}");
        let back = [automerge::ChangeHash(*back[0].as_bytes())];
        let best = min_of(7, || doc.get_changes(&back));
        let n = doc.get_changes(&back).len();
        println!("automerge get_changes(100th from the end) min {best:?} ({n} changes)");
        return;
    }
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
