//! Benchmarks live in `benches/`; this library holds what several of them share: the editing
//! traces of `shared/data/traces` (parsing, and replay on converge and on the automerge 0.12
//! oracle), and sync sessions between peers of either implementation.

pub mod sync;
pub mod traces;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, measurement::WallTime};

/// A criterion group for slow operations: 10 samples, flat sampling, 1 s warm-up, `secs` of
/// measurement.
pub fn slow_group<'a>(c: &'a mut Criterion, name: &str, secs: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(secs));
    group
}

/// The fastest of `runs` calls of `f`, for the probes in `examples/`. What a call returns is
/// dropped after the clock stops (a closure that should time its drop drops it itself).
pub fn min_of<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = std::time::Instant::now();
            let out = std::hint::black_box(f());
            let took = start.elapsed();
            drop(out);
            took
        })
        .min()
        .unwrap_or_default()
}

/// Prints one line of a probe's comparison: what was timed, converge's and automerge's
/// times, and how many times faster converge was.
pub fn print_comparison(what: &str, ours: Duration, theirs: Duration) {
    let ratio = theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9);
    println!("{what:<32} converge {ours:>12.3?}  automerge {theirs:>12.3?}  {ratio:>8.1}x");
}

/// The key and id of the root's first text object (by key order), if it has one: what the
/// probes edit and read as "the document's text".
pub fn first_text(doc: &converge_doc::Document) -> Option<(String, converge_doc::ExId)> {
    use converge_doc::{ObjType, ROOT, Value};
    doc.keys(&ROOT)
        .ok()?
        .into_iter()
        .find_map(|k| match doc.get(&ROOT, k.as_str()).ok()??.value {
            Value::Object(ObjType::Text, id) => Some((k, id)),
            _ => None,
        })
}

/// Reads a gzipped JSON file (the editing traces). Panics with the path on any error: bench
/// inputs are fixtures.
pub fn read_json_gz(path: &Path) -> serde_json::Value {
    let file = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&file[..])
        .read_to_end(&mut json)
        .unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
    serde_json::from_slice(&json).unwrap_or_else(|e| panic!("json {}: {e}", path.display()))
}

/// The automerge-paper editing trace (`shared/data/automerge-corpus/real-docs/edits.json.gz`,
/// `[[pos, del, text?], ...]`) as patches: at `pos` delete `del` code points, then insert `ins`.
pub fn paper_edits() -> Vec<traces::Patch> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/automerge-corpus/real-docs/edits.json.gz");
    read_json_gz(&path)
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            let a = p.as_array().expect("patch array");
            traces::Patch {
                pos: a[0].as_u64().expect("pos") as usize,
                del: a[1].as_u64().expect("del") as usize,
                ins: a
                    .get(2)
                    .map(|s| s.as_str().expect("text").to_owned())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The paper trace replayed by automerge 0.12 (actor `01` × 16): in one transaction, or with
/// a commit after making the text and after every edit (259,779 changes), as the criterion
/// group and `paper_probe` time it.
pub fn automerge_paper_replay(edits: &[traces::Patch], per_edit: bool) -> automerge::AutoCommit {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&[1u8; 16][..]));
    let text = doc
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .expect("a text at the root");
    if per_edit {
        doc.commit();
    }
    for e in edits {
        doc.splice_text(&text, e.pos, e.del as isize, &e.ins)
            .expect("the trace's edits are in range");
        if per_edit {
            doc.commit();
        }
    }
    doc.commit();
    doc
}
