//! A file of change chunks one after another (what an app writes that appends each
//! `save_incremental` to a log), loaded by both implementations: the changes of a saved
//! document, concatenated in application order, then `load` timed (min of RUNS, default 3)
//! on each side; with `--shuffled`, the chunks in a seeded random order (deps arrive late);
//! with `--ours` or `--theirs`, one side's load alone (for profiles); with `--write PATH`,
//! the file of change chunks written to PATH for `doc_peak_memory converge-load|automerge-load
//! PATH` (the loads' peak memory beyond their input).
//!
//! ```text
//! cargo run --release -p converge-benches --example changes_file_probe -- FILE [RUNS] [--shuffled] [--ours]
//! ```

use converge_benches::{min_of, print_comparison};

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(3, |s| s.parse().expect("RUNS"));
    let shuffled = std::env::args().any(|a| a == "--shuffled");
    let bytes = std::fs::read(path).expect("read");
    let doc = converge_doc::Document::load(&bytes).expect("load");
    let mut changes: Vec<Vec<u8>> = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.bytes().to_vec())
        .collect();
    if shuffled {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in (1..changes.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            changes.swap(i, (state % (i as u64 + 1)) as usize);
        }
    }
    let file: Vec<u8> = changes.concat();
    println!(
        "{} changes, {} bytes of change chunks (the document: {} bytes)",
        changes.len(),
        file.len(),
        bytes.len()
    );
    if let Some(at) = std::env::args().position(|a| a == "--write") {
        let out = std::env::args().nth(at + 1).expect("--write PATH");
        std::fs::write(&out, &file).expect("write");
        println!("wrote {out}");
        return;
    }
    let heads = doc.heads();
    drop(doc);
    if !std::env::args().any(|a| a == "--theirs" || a == "--ours") {
        let loaded = converge_doc::Document::load(&file).expect("converge loads it");
        assert_eq!(loaded.heads(), heads);
    }
    if std::env::args().any(|a| a == "--theirs") {
        let theirs = min_of(runs, || automerge::Automerge::load(&file).expect("load"));
        println!("automerge load of the change chunks min {theirs:?}");
        return;
    }
    let ours = min_of(runs, || converge_doc::Document::load(&file).expect("load"));
    if std::env::args().any(|a| a == "--ours") {
        println!("converge load of the change chunks min {ours:?}");
        return;
    }
    let theirs = min_of(runs, || automerge::Automerge::load(&file).expect("load"));
    print_comparison("load of the change chunks", ours, theirs);
}
