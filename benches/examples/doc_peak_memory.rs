//! Does one document operation, so its peak RSS can be measured with `/usr/bin/time -v`:
//!
//! ```text
//! cargo build --release -p converge-benches --example doc_peak_memory
//! /usr/bin/time -v $CARGO_TARGET_DIR/release/examples/doc_peak_memory MODE [FILE]
//! ```
//!
//! Modes (subtract the matching baseline to get the operation's own peak):
//! - `read-only FILE`: read the file (baseline for the load modes);
//! - `converge-load FILE`, `automerge-load FILE`: load it;
//! - `write-trace TRACE OUT`: parse an editing trace of `shared/data/traces` and write it to
//!   `OUT` in a compact binary form (`traces::to_compact`), so that the JSON parser's peak
//!   (hundreds of MB for the paper trace) is not inside the measured processes;
//! - `trace-read FILE`: read such a file and compute the replay plan (baseline for the trace
//!   modes);
//! - `converge-trace FILE`, `automerge-trace FILE`: read it and replay it as
//!   `benches/traces.rs` does (one change per txn; one document per agent for the concurrent
//!   traces), checking the final text. For the automerge-paper trace (the 259,778 edits of
//!   `edits.json.gz`, one per txn) this is the paper trace with a change per edit;
//! - `converge-trace-docs FILE`, `automerge-trace-docs FILE`: a concurrent trace as above, but
//!   the harness keeps each txn's change as (author, hash) and fetches a batch from the
//!   authors' documents when it is applied, instead of keeping every change decoded: the
//!   peak is then the documents' own;
//! - `converge-trace-one-tx FILE`, `automerge-trace-one-tx FILE`: a sequential trace replayed
//!   in one transaction (the paper trace's "one transaction" case). With `PROBE_RSS` set in
//!   the environment, converge's run also prints its RSS (and peak) beyond the input just
//!   before and just after the commit, to tell the edits' memory from the commit's.
//!
//! The paper modes read the compact trace rather than `edits.json.gz`: the JSON parser's
//! peak (~70 MB) is freed before the replay and the replay then reuses that heap without
//! raising the RSS, which hid most of the replay's memory from "peak minus baseline".
//! - `write-paper-changes OUT`: build the paper document with the oracle (a commit per edit)
//!   and write its 259,779 changes to `OUT` (each as a little-endian `u32` length, then the
//!   change chunk); `write-paper-doc OUT`: write the saved paper document;
//! - `write-paste-changes N OUT [K]`: with the oracle, a text made in one change and `N`
//!   characters pasted into it in a second (or in `K` pastes of `N / K`, a change each),
//!   all written to `OUT` as above, with a fixed actor and time 0 so that the bytes are
//!   the same each run (a big remote change: `converge-remote-one-call OUT`);
//! - `read-changes FILE [N]`: read such a changes file (its first `N`) into one buffer per
//!   change (baseline for the remote modes);
//! - `converge-remote-one-by-one FILE [N]`: decode and `apply_changes` them one per call
//!   (the first `N` only, if given); `automerge-remote-one-by-one FILE N`: the same with the
//!   oracle, which is quadratic in 0.12 (hours for all 259,779 here, so give a prefix);
//!   `converge-remote-one-call FILE`, `automerge-remote-one-call FILE`: all in one
//!   `apply_changes` call.
//!
//! `FILE` is `essay`, `godot-thread`, `S3`, or a path; `TRACE` is a trace's short name
//! (`automerge-paper`, `seph-blog1`, `rustcode`, `sveltecomponent`, `friendsforever_flat`,
//! `friendsforever`, `clownschool`). `benches/peak_memory.sh` runs every mode and subtracts
//! the baselines.

use std::path::PathBuf;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_benches::traces;
use converge_doc::{Document, ObjType, ROOT};
use converge_encoding::{ActorId, Bytes, Change};

fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn read_file(name: &str) -> Vec<u8> {
    let path = match name {
        "essay" => data_path("automerge-corpus/real-docs/essay.amrg"),
        "godot-thread" => data_path("automerge-corpus/real-docs/godot-thread.amrg"),
        "S3" => data_path("automerge-corpus/egwalker/S3.am"),
        other => PathBuf::from(other),
    };
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Reads a changes file written by `write-paper-changes`: one buffer per change, the first
/// `limit` if given.
fn read_changes_upto(path: &str, limit: Option<usize>) -> Vec<Vec<u8>> {
    use std::io::Read;
    // Record by record, so that a prefix costs only its own bytes.
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut file = std::io::BufReader::new(file);
    let mut out = Vec::new();
    let mut len = [0u8; 4];
    while limit.is_none_or(|n| out.len() < n) && file.read_exact(&mut len).is_ok() {
        let mut change = vec![0u8; u32::from_le_bytes(len) as usize];
        file.read_exact(&mut change)
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        out.push(change);
    }
    out
}

/// [`read_changes_upto`] with the prefix length `N` of the mode's third argument, if any.
fn read_changes_arg(args: &[String]) -> Vec<Vec<u8>> {
    let limit = args.get(2).map(|n| n.parse::<usize>().expect("N"));
    read_changes_upto(args.get(1).expect("FILE"), limit)
}

fn paper_oracle_per_edit() -> automerge::AutoCommit {
    let edits = converge_benches::paper_edits();
    let mut doc = automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&[1u8; 16][..]));
    let text = doc
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .unwrap();
    doc.commit();
    for e in &edits {
        doc.splice_text(&text, e.pos, e.del as isize, &e.ins)
            .unwrap();
        doc.commit();
    }
    doc
}

/// The RSS (KB) when the mode's input was ready; see [`input_ready`].
static INPUT_RSS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// A field of `/proc/self/status`, in KB (0 if unreadable).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Marks the input as read: resets the kernel's peak RSS to the current RSS (writing 5 to
/// `/proc/self/clear_refs`) and remembers that RSS, so that the peak printed at the end is
/// the operation's alone. Subtracting a separate run's peak did not do that: reading a file
/// holds its bytes beside what is parsed from them, and once they are freed the operation
/// grows into that room unseen (6.5 MB for the paper trace, 28 MB for its changes). Where
/// the peak cannot be reset (not Linux), nothing is printed.
fn input_ready() {
    if std::fs::write("/proc/self/clear_refs", "5").is_ok() {
        let _ = INPUT_RSS.set(status_kb("VmRSS"));
    }
}

/// With `PROBE_RSS` set: the RSS and peak RSS beyond the input now, on stderr.
fn print_rss(when: &str) {
    if std::env::var_os("PROBE_RSS").is_some() {
        let input = INPUT_RSS.get().copied().unwrap_or(0);
        eprintln!(
            "{when}: rss {} kB, peak {} kB beyond input",
            status_kb("VmRSS").saturating_sub(input),
            status_kb("VmHWM").saturating_sub(input)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or_else(|| {
        eprintln!("usage: doc_peak_memory MODE [FILE]");
        std::process::exit(2)
    });
    let file = || read_file(args.get(1).map(String::as_str).unwrap_or("essay"));
    match mode {
        "read-only" => {
            let bytes = file();
            input_ready();
            println!("{} bytes", bytes.len());
        }
        "write-trace" => {
            let name = args.get(1).expect("TRACE");
            let out = args.get(2).expect("OUT");
            let bytes = traces::to_compact(&traces::load_trace(name));
            std::fs::write(out, &bytes).unwrap_or_else(|e| panic!("writing {out}: {e}"));
            println!("{} bytes to {out}", bytes.len());
        }
        "converge-trace-one-tx" | "automerge-trace-one-tx" => {
            let path = args.get(1).expect("FILE");
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            let trace = traces::from_compact(&bytes);
            drop(bytes);
            input_ready();
            assert!(!trace.concurrent, "one-tx modes take a sequential trace");
            let patches = trace.txns.iter().flat_map(|t| &t.patches);
            let text = if mode == "converge-trace-one-tx" {
                let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
                let mut tx = doc.transaction();
                let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
                for p in patches {
                    tx.splice_text(&text, p.pos, p.del, &p.ins).unwrap();
                }
                print_rss("before commit");
                tx.commit().unwrap();
                print_rss("after commit");
                assert_eq!(doc.change_count(), 1);
                doc.text(&text).unwrap()
            } else {
                let mut doc = automerge::AutoCommit::new()
                    .with_actor(automerge::ActorId::from(&[1u8; 16][..]));
                let text = doc
                    .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
                    .unwrap();
                for p in patches {
                    doc.splice_text(&text, p.pos, p.del as isize, &p.ins)
                        .unwrap();
                }
                doc.commit();
                doc.text(&text).unwrap()
            };
            assert!(text == trace.end_content, "{mode} {path}: wrong final text");
            println!("{path}: one transaction, {} chars", text.chars().count());
        }
        "trace-read"
        | "converge-trace"
        | "automerge-trace"
        | "converge-trace-docs"
        | "automerge-trace-docs" => {
            let path = args.get(1).expect("FILE");
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            let trace = traces::from_compact(&bytes);
            drop(bytes);
            let plan = traces::replay_plan(&trace);
            input_ready();
            let text = match mode {
                "converge-trace" => {
                    let (doc, text) = traces::converge_replay(&trace, &plan);
                    traces::converge_text(&doc, &text)
                }
                "automerge-trace" => {
                    let (doc, text) = traces::automerge_replay(&trace, &plan);
                    traces::automerge_text(&doc, &text)
                }
                "converge-trace-docs" => {
                    let (doc, text) = traces::converge_concurrent_by_hash(&trace, &plan);
                    traces::converge_text(&doc, &text)
                }
                "automerge-trace-docs" => {
                    let (doc, text) = traces::automerge_concurrent_by_hash(&trace, &plan);
                    traces::automerge_text(&doc, &text)
                }
                _ => trace.end_content.clone(),
            };
            assert!(text == trace.end_content, "{mode} {path}: wrong final text");
            println!(
                "{path}: {} txns, {} chars",
                trace.txns.len(),
                text.chars().count()
            );
        }
        "write-paper-changes" | "write-paper-doc" => {
            let out = args.get(1).expect("OUT");
            let mut doc = paper_oracle_per_edit();
            let bytes = if mode == "write-paper-doc" {
                doc.save()
            } else {
                let mut bytes = Vec::new();
                for change in doc.get_changes(&[]) {
                    let raw = change.raw_bytes();
                    bytes.extend_from_slice(&u32::try_from(raw.len()).unwrap().to_le_bytes());
                    bytes.extend_from_slice(raw);
                }
                bytes
            };
            std::fs::write(out, &bytes).unwrap_or_else(|e| panic!("writing {out}: {e}"));
            println!("{} bytes to {out}", bytes.len());
        }
        "write-paste-changes" => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).expect("N");
            let out = args.get(2).expect("OUT");
            let mut doc =
                automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&[1u8; 16][..]));
            let text = doc
                .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
                .expect("puts");
            doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
            let k: usize = args.get(3).map_or(1, |s| s.parse().expect("K"));
            let pasted: String = "abcdefghij".chars().cycle().take(n / k).collect();
            for i in 0..k {
                doc.splice_text(&text, i * (n / k), 0, &pasted)
                    .expect("splices");
                doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
            }
            let mut bytes = Vec::new();
            for change in doc.get_changes(&[]) {
                let raw = change.raw_bytes();
                bytes.extend_from_slice(&u32::try_from(raw.len()).unwrap().to_le_bytes());
                bytes.extend_from_slice(raw);
            }
            std::fs::write(out, &bytes).unwrap_or_else(|e| panic!("writing {out}: {e}"));
            println!("{} bytes to {out}", bytes.len());
        }
        "read-changes" => {
            let changes = read_changes_arg(&args);
            input_ready();
            println!("{} changes", changes.len());
        }
        "converge-remote-one-by-one" | "converge-remote-one-call" => {
            // An optional prefix length: the oracle's one-by-one apply is quadratic, so its
            // peak is measured on a prefix (`automerge-remote-one-by-one FILE N`).
            let raw = read_changes_arg(&args);
            input_ready();
            let mut doc = Document::new();
            let decode = |r: &Vec<u8>| Change::decode(Bytes::copy_from_slice(r)).expect("decodes");
            if mode == "converge-remote-one-by-one" {
                for r in &raw {
                    doc.apply_changes([decode(r)]).expect("applies");
                }
            } else {
                doc.apply_changes(raw.iter().map(decode)).expect("applies");
            }
            assert_eq!(doc.change_count(), raw.len());
            println!("{} changes applied", doc.change_count());
        }
        "automerge-remote-one-by-one" => {
            let raw = read_changes_arg(&args);
            input_ready();
            let mut doc = automerge::Automerge::new();
            for r in &raw {
                let change = automerge::Change::try_from(&r[..]).expect("decodes");
                doc.apply_changes([change]).expect("applies");
            }
            let n = doc.get_changes(&[]).len();
            assert_eq!(n, raw.len());
            println!("{n} changes applied");
        }
        "automerge-remote-one-call" => {
            let raw = read_changes_arg(&args);
            input_ready();
            let changes: Vec<automerge::Change> = raw
                .iter()
                .map(|r| automerge::Change::try_from(&r[..]).expect("decodes"))
                .collect();
            let mut doc = automerge::Automerge::new();
            doc.apply_changes(changes).expect("applies");
            let n = doc.get_changes(&[]).len();
            assert_eq!(n, raw.len());
            println!("{n} changes applied");
        }
        "converge-load" => {
            let bytes = file();
            input_ready();
            let doc = Document::load(&bytes).expect("converge loads");
            println!("{} bytes, {} changes", bytes.len(), doc.change_count());
        }
        "automerge-load" => {
            let bytes = file();
            input_ready();
            let doc = automerge::Automerge::load(&bytes).expect("oracle loads");
            println!("{} bytes, {} heads", bytes.len(), doc.get_heads().len());
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2)
        }
    }
    // The operation's own peak: the peak RSS since the input was ready, minus the RSS then.
    if let Some(start) = INPUT_RSS.get() {
        println!(
            "beyond input: {} kB",
            status_kb("VmHWM").saturating_sub(*start)
        );
    }
}
