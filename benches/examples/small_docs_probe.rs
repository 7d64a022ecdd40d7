//! Many small documents held at once (a server's or an app's many records): N copies
//! (default 10,000) of a small document (a map of five keys and a text of 20 characters,
//! written in three changes), each loaded from its bytes and kept, on one side per run
//! (`converge` or `automerge`); prints the resident memory each document adds and the
//! time a load takes.
//!
//! ```text
//! cargo run --release -p converge-benches --example small_docs_probe -- converge|automerge [N]
//! ```

use automerge::transaction::Transactable;

/// This process's resident memory now, in kB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let side = std::env::args().nth(1).expect("converge|automerge");
    let n: usize = std::env::args()
        .nth(2)
        .map_or(10_000, |s| s.parse().expect("N"));
    let mut am = automerge::AutoCommit::new();
    for k in ["title", "owner", "status", "due", "priority"] {
        am.put(automerge::ROOT, k, format!("{k} value"))
            .expect("put");
    }
    am.commit();
    let t = am
        .put_object(automerge::ROOT, "notes", automerge::ObjType::Text)
        .expect("text");
    am.commit();
    am.splice_text(&t, 0, 0, "a short note, 20 ch.")
        .expect("splice");
    am.commit();
    let bytes = am.save();
    let before = rss_kb();
    let start = std::time::Instant::now();
    match side.as_str() {
        "converge" => {
            let docs: Vec<converge_doc::Document> = (0..n)
                .map(|_| converge_doc::Document::load(&bytes).expect("load"))
                .collect();
            report(&side, n, bytes.len(), before, start.elapsed());
            drop(docs);
        }
        _ => {
            let docs: Vec<automerge::Automerge> = (0..n)
                .map(|_| automerge::Automerge::load(&bytes).expect("load"))
                .collect();
            report(&side, n, bytes.len(), before, start.elapsed());
            drop(docs);
        }
    }
}

fn report(side: &str, n: usize, len: usize, before: u64, took: std::time::Duration) {
    let added = rss_kb().saturating_sub(before);
    println!(
        "{side}: {n} documents of {len} bytes: {:.1} kB each, a load {:?}",
        added as f64 / n as f64,
        took / n as u32
    );
}
