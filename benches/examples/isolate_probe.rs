//! Times `AutoCommit::isolate` on a loaded document, at its heads and at the change halfway
//! through its history, then a read there (the root's keys), a keystroke typed there and
//! committed, another, and `integrate`; each beside automerge's, one process:
//!
//! ```text
//! cargo run --release -p converge-benches --example isolate_probe -- FILE [RUNS]
//! ```
//!
//! converge reads the whole document at the heads until the first edit, which forks the
//! document there (a view kept until `integrate`); automerge reads and edits its whole
//! document through a clock.

use std::time::{Duration, Instant};

use automerge::ReadDoc;
use automerge::transaction::Transactable;

/// The root's first text object, if any: where the keystroke is typed.
fn first_text(doc: &converge_doc::AutoCommit) -> Option<converge_doc::ExId> {
    doc.keys(&converge_doc::ROOT)
        .ok()?
        .into_iter()
        .filter_map(|k| doc.get(&converge_doc::ROOT, k.as_str()).ok().flatten())
        .find(|v| {
            matches!(
                v.value,
                converge_doc::Value::Object(converge_doc::ObjType::Text, _)
            )
        })
        .map(|v| v.id)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("FILE");
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let base = converge_doc::AutoCommit::load(&bytes).expect("the file loads");
    let oracle_base = automerge::AutoCommit::load(&bytes).expect("the oracle loads");
    let mut probe = base.clone();
    let changes = probe.get_changes(&[]);
    let heads = probe.heads();
    let middle = vec![changes[changes.len() / 2].hash()];
    let text = first_text(&probe);
    for (name, at) in [("its heads", heads), ("its middle change", middle)] {
        let theirs: Vec<automerge::ChangeHash> =
            at.iter().map(|h| automerge::ChangeHash(h.0)).collect();
        let (mut iso, mut edit, mut integrate) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let (mut o_iso, mut o_edit, mut o_integrate) =
            (Duration::MAX, Duration::MAX, Duration::MAX);
        let (mut read, mut o_read, mut again, mut o_again) =
            (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            let mut doc = base.clone();
            let t = Instant::now();
            doc.isolate(&at).expect("isolate");
            iso = iso.min(t.elapsed());
            let t = Instant::now();
            let keys = doc.keys(&converge_doc::ROOT).expect("keys").len();
            std::hint::black_box(keys);
            read = read.min(t.elapsed());
            let keystroke = |doc: &mut converge_doc::AutoCommit| {
                match &text {
                    Some(text) => doc.splice_text(text, 0, 0, "x").expect("splice"),
                    None => doc.put(&converge_doc::ROOT, "probe", 1i64).expect("put"),
                }
                doc.commit().expect("commit");
            };
            let t = Instant::now();
            keystroke(&mut doc);
            edit = edit.min(t.elapsed());
            let t = Instant::now();
            keystroke(&mut doc);
            again = again.min(t.elapsed());
            let t = Instant::now();
            doc.integrate().expect("integrate");
            integrate = integrate.min(t.elapsed());

            let mut doc = oracle_base.clone();
            let t = Instant::now();
            doc.isolate(&theirs);
            o_iso = o_iso.min(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(automerge::ReadDoc::keys(&doc, automerge::ROOT).count());
            o_read = o_read.min(t.elapsed());
            let t = Instant::now();
            let (_, obj) = match &text {
                Some(_) => doc
                    .keys(automerge::ROOT)
                    .filter_map(|k| doc.get(automerge::ROOT, k.as_str()).ok().flatten())
                    .find(|(v, _)| matches!(v, automerge::Value::Object(automerge::ObjType::Text)))
                    .expect("the same text"),
                None => (automerge::Value::from(0i64), automerge::ROOT),
            };
            let keystroke = |doc: &mut automerge::AutoCommit| {
                match &text {
                    Some(_) => doc.splice_text(&obj, 0, 0, "x").expect("splice"),
                    None => doc.put(automerge::ROOT, "probe", 1i64).expect("put"),
                }
                doc.commit();
            };
            keystroke(&mut doc);
            o_edit = o_edit.min(t.elapsed());
            let t = Instant::now();
            keystroke(&mut doc);
            o_again = o_again.min(t.elapsed());
            let t = Instant::now();
            doc.integrate();
            o_integrate = o_integrate.min(t.elapsed());
        }
        println!(
            "{path} at {name}: isolate {iso:?} / {o_iso:?}, the root's keys read then \
             {read:?} / {o_read:?}, a keystroke committed {edit:?} / {o_edit:?}, another \
             {again:?} / {o_again:?}, integrate {integrate:?} / {o_integrate:?} (converge / \
             automerge, min of {runs})"
        );
    }
}
