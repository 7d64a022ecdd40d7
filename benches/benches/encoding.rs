//! Encoding throughput on real documents (issue 2): decode the document chunk, reconstruct
//! every change (re-encoding each canonically and hashing it), and re-encode the document,
//! beside the automerge 0.12 oracle's `load` and `save` of the same file.
//!
//! Run with `make bench` or `cargo bench -p converge-benches --bench encoding`.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use converge_encoding::DocumentChunk;
use converge_encoding::chunk::{ChunkType, split_chunks};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/automerge-corpus/real-docs")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The bytes of the file's first document chunk.
fn document_chunk(file: &[u8]) -> &[u8] {
    split_chunks(file)
        .filter_map(Result::ok)
        .find(|c| c.chunk_type() == ChunkType::Document)
        .expect("a document chunk")
        .bytes()
}

fn bench_documents(c: &mut Criterion) {
    for name in ["essay.amrg", "godot-thread.amrg"] {
        let file = corpus(name);
        let chunk = document_chunk(&file);
        let decoded = DocumentChunk::decode(chunk).expect("decodes");
        let mut group = c.benchmark_group(format!("encoding/{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(10));
        group.throughput(Throughput::Bytes(chunk.len() as u64));
        group.bench_function(BenchmarkId::new("converge", "decode"), |b| {
            b.iter(|| DocumentChunk::decode(chunk).expect("decodes"))
        });
        group.bench_function(BenchmarkId::new("converge", "decode+reconstruct"), |b| {
            b.iter(|| {
                let doc = DocumentChunk::decode(chunk).expect("decodes");
                doc.reconstruct_changes().expect("reconstructs")
            })
        });
        group.bench_function(BenchmarkId::new("converge", "encode"), |b| {
            b.iter(|| decoded.encode(true))
        });
        group.bench_function(BenchmarkId::new("automerge", "load"), |b| {
            b.iter(|| automerge::Automerge::load(&file).expect("oracle loads"))
        });
        let oracle = automerge::Automerge::load(&file).expect("oracle loads");
        group.bench_function(BenchmarkId::new("automerge", "save"), |b| {
            b.iter(|| oracle.save())
        });
        group.finish();
    }
}

criterion_group!(benches, bench_documents);
criterion_main!(benches);
