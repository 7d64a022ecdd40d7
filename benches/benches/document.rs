//! Document-level benchmarks (issue 4) of `converge-doc` beside the automerge 0.12 oracle:
//! replaying the automerge-paper editing trace as local edits (one transaction, and one change
//! per edit), loading real documents, applying the paper document's changes to an empty
//! document (one by one, and all in one `apply_changes` call), and saving loaded documents.
//!
//! Run with `make bench` or `cargo bench -p converge-benches --bench document`.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::path::PathBuf;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_benches::slow_group;
use converge_doc::{Document, ObjType, ROOT};
use converge_encoding::{ActorId, Bytes, Change, ScalarValue};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

const PAPER_EDITS: usize = 259_778;
const PAPER_FINAL_CHARS: usize = 104_852;

fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let path = data_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

use converge_benches::{automerge_paper_replay, paper_edits, traces::Patch};

fn converge_one_tx(edits: &[Patch]) -> Document {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
    let mut tx = doc.transaction();
    let text = tx.put_object(&ROOT, "text", ObjType::Text).unwrap();
    for e in edits {
        tx.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
    }
    tx.commit().unwrap();
    doc
}

fn converge_per_edit(edits: &[Patch]) -> Document {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[1; 16]));
    let text = doc.put_object(&ROOT, "text", ObjType::Text).unwrap();
    for e in edits {
        // Outside a transaction each call commits its own change.
        doc.splice_text(&text, e.pos, e.del, &e.ins).unwrap();
    }
    doc
}

fn oracle_one_tx(edits: &[Patch]) -> automerge::AutoCommit {
    automerge_paper_replay(edits, false)
}

fn oracle_per_edit(edits: &[Patch]) -> automerge::AutoCommit {
    automerge_paper_replay(edits, true)
}

fn bench_paper_trace(c: &mut Criterion) {
    let edits = paper_edits();
    assert_eq!(edits.len(), PAPER_EDITS);
    // Sanity checks, once, outside the timed loops.
    {
        let doc = converge_one_tx(&edits);
        let oracle = oracle_one_tx(&edits);
        let text = oracle.get(automerge::ROOT, "text").unwrap().unwrap().1;
        assert_eq!(oracle.length(&text), PAPER_FINAL_CHARS);
        assert_eq!(doc.change_count(), 1);
    }
    let mut group = slow_group(c, "document/paper-trace", 5);
    group.bench_function(BenchmarkId::new("converge", "one transaction"), |b| {
        b.iter(|| converge_one_tx(&edits))
    });
    group.bench_function(BenchmarkId::new("automerge", "one transaction"), |b| {
        b.iter(|| oracle_one_tx(&edits))
    });
    group.bench_function(BenchmarkId::new("converge", "change per edit"), |b| {
        b.iter(|| converge_per_edit(&edits))
    });
    group.bench_function(BenchmarkId::new("automerge", "change per edit"), |b| {
        b.iter(|| oracle_per_edit(&edits))
    });
    group.finish();
}

/// The paper document, built once with the oracle (a commit per edit) and saved.
fn paper_document(edits: &[Patch]) -> (automerge::AutoCommit, Vec<u8>) {
    let mut doc = oracle_per_edit(edits);
    let bytes = doc.save();
    (doc, bytes)
}

fn bench_load_save_remote(c: &mut Criterion) {
    let edits = paper_edits();
    let (mut paper_oracle, paper_bytes) = paper_document(&edits);
    drop(edits);

    let skip_godot = std::env::var_os("CONVERGE_BENCH_SKIP_GODOT").is_some();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("essay.amrg", read("automerge-corpus/real-docs/essay.amrg")),
        (
            "godot-thread.amrg",
            read("automerge-corpus/real-docs/godot-thread.amrg"),
        ),
        ("S3.am", read("automerge-corpus/egwalker/S3.am")),
        ("paper", paper_bytes.clone()),
    ];

    // 2. Load.
    let mut group = slow_group(c, "document/load", 5);
    for (name, bytes) in &files {
        if *name == "godot-thread.amrg" && skip_godot {
            println!("note: skipping load of {name} (CONVERGE_BENCH_SKIP_GODOT set)");
            continue;
        }
        group.bench_with_input(BenchmarkId::new("converge", name), bytes, |b, bytes| {
            b.iter(|| Document::load(bytes).expect("converge loads"))
        });
        group.bench_with_input(BenchmarkId::new("automerge", name), bytes, |b, bytes| {
            b.iter(|| automerge::Automerge::load(bytes).expect("oracle loads"))
        });
    }
    group.finish();

    // 3. Remote changes: the paper document's changes, as raw bytes, decoded and applied to an
    // empty document (decoding is inside the timed loop on both sides). Both sides use their
    // `apply_changes`: converge `Document::apply_changes`, the oracle `Automerge::apply_changes`.
    //
    // "one by one" is one `apply_changes([change])` call per change. automerge 0.12's
    // `apply_changes` is a batch apply that walks every op of each touched object
    // (`BatchApply::apply` -> `walk_list` over the whole text), so one call per change is
    // quadratic: 10,000 changes take ~19 s and 20,000 ~84 s on the bench machine
    // (`AutoCommit::apply_changes` and `load_incremental` per change are the same path and as
    // slow; see `examples/remote_apply_probe.rs`), i.e. hours for all 259,779. It stays opt-in
    // (`CONVERGE_BENCH_ORACLE_REMOTE=1`). "all in one call" is the oracle's fastest equivalent
    // (one `apply_changes` with every change; `Automerge::load` of the concatenated change
    // chunks takes the same path) and is measured on both sides.
    let raw: Vec<Vec<u8>> = paper_oracle
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert_eq!(raw.len(), PAPER_EDITS + 1);
    let raw_bytes: Vec<Bytes> = raw.iter().map(|r| Bytes::copy_from_slice(r)).collect();
    {
        let mut doc = Document::new();
        for r in &raw_bytes {
            doc.apply_changes([Change::decode(r.clone()).unwrap()])
                .unwrap();
        }
        assert_eq!(doc.change_count(), raw.len());
        let mut all = Document::new();
        all.apply_changes(raw_bytes.iter().map(|r| Change::decode(r.clone()).unwrap()))
            .unwrap();
        assert_eq!(all.change_count(), raw.len());
        assert_eq!(all.heads(), doc.heads());
        let mut oracle = automerge::Automerge::new();
        oracle
            .apply_changes(
                raw.iter()
                    .map(|r| automerge::Change::try_from(&r[..]).unwrap()),
            )
            .unwrap();
        assert_eq!(oracle.get_changes(&[]).len(), raw.len());
        let text = oracle.get(automerge::ROOT, "text").unwrap().unwrap().1;
        assert_eq!(oracle.length(&text), PAPER_FINAL_CHARS);
    }
    let mut group = slow_group(c, "document/apply-remote", 5);
    group.bench_function(
        BenchmarkId::new("converge", "paper changes one by one"),
        |b| {
            b.iter_batched(
                Document::new,
                |mut doc| {
                    for r in &raw_bytes {
                        let change = Change::decode(r.clone()).expect("decodes");
                        doc.apply_changes([change]).expect("applies");
                    }
                    doc
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function(
        BenchmarkId::new("converge", "paper changes in one call"),
        |b| {
            b.iter_batched(
                Document::new,
                |mut doc| {
                    let changes = raw_bytes
                        .iter()
                        .map(|r| Change::decode(r.clone()).expect("decodes"));
                    doc.apply_changes(changes).expect("applies");
                    doc
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.bench_function(
        BenchmarkId::new("automerge", "paper changes in one call"),
        |b| {
            b.iter_batched(
                automerge::Automerge::new,
                |mut doc| {
                    let changes: Vec<automerge::Change> = raw
                        .iter()
                        .map(|r| automerge::Change::try_from(&r[..]).expect("decodes"))
                        .collect();
                    doc.apply_changes(changes).expect("applies");
                    doc
                },
                BatchSize::PerIteration,
            )
        },
    );
    if std::env::var_os("CONVERGE_BENCH_ORACLE_REMOTE").is_none() {
        println!(
            "note: skipping automerge apply-remote one by one (quadratic in automerge 0.12: \
             hours for 259,779 changes); set CONVERGE_BENCH_ORACLE_REMOTE=1 to run it"
        );
    } else {
        group.bench_function(
            BenchmarkId::new("automerge", "paper changes one by one"),
            |b| {
                b.iter_batched(
                    automerge::Automerge::new,
                    |mut doc| {
                        for r in &raw {
                            let change = automerge::Change::try_from(&r[..]).expect("decodes");
                            doc.apply_changes([change]).expect("applies");
                        }
                        doc
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();

    // 4. Save of loaded documents, three ways:
    // - first save after the load (converge reuses the loaded chunk's columns when they are
    //   exactly what it writes, so it deflates them; essay.amrg's file has changes after its
    //   document chunk, so converge encodes);
    // - again, unchanged (converge copies the chunk its previous save kept);
    // - after a one-key edit (converge splices the columns the previous save kept).
    let loaded: Vec<(&str, Document, automerge::Automerge)> = files
        .iter()
        .filter(|(n, _)| matches!(*n, "paper" | "essay.amrg" | "S3.am"))
        .map(|(name, bytes)| {
            let doc = Document::load(bytes).expect("converge loads");
            let oracle = automerge::Automerge::load(bytes).expect("oracle loads");
            println!(
                "save sizes, {name}: converge {} bytes, automerge {} bytes (input {} bytes)",
                doc.clone().save().len(),
                oracle.save().len(),
                bytes.len()
            );
            (*name, doc, oracle)
        })
        .collect();
    let mut group = slow_group(c, "document/save-first", 3);
    for (name, doc, oracle) in &loaded {
        group.bench_function(BenchmarkId::new("converge", name), |b| {
            b.iter_batched(|| doc.clone(), |mut d| d.save(), BatchSize::PerIteration)
        });
        group.bench_function(BenchmarkId::new("automerge", name), |b| {
            b.iter_batched(|| oracle.clone(), |d| d.save(), BatchSize::PerIteration)
        });
    }
    group.finish();
    let mut group = slow_group(c, "document/save", 3);
    for (name, doc, oracle) in &loaded {
        let mut doc = doc.clone();
        group.bench_function(BenchmarkId::new("converge", name), |b| {
            b.iter(|| doc.save())
        });
        group.bench_function(BenchmarkId::new("automerge", name), |b| {
            b.iter(|| oracle.save())
        });
    }
    group.finish();
    let mut group = slow_group(c, "document/save-after-edit", 3);
    for (name, doc, oracle) in loaded {
        let (mut doc, mut oracle) = (doc, oracle);
        let mut n = 0i64;
        group.bench_function(BenchmarkId::new("converge", name), |b| {
            b.iter(|| {
                n += 1;
                doc.put(&ROOT, "bench-edit", ScalarValue::Int(n))
                    .expect("put");
                doc.save()
            })
        });
        group.bench_function(BenchmarkId::new("automerge", name), |b| {
            b.iter(|| {
                n += 1;
                let mut tx = oracle.transaction();
                tx.put(automerge::ROOT, "bench-edit", n).expect("put");
                tx.commit();
                oracle.save()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_paper_trace, bench_load_save_remote);
criterion_main!(benches);
