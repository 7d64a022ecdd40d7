//! A document edited by many actors, one change each (a put to a shared map key, a put to
//! the actor's own key, an insert into a shared list and two characters typed into a
//! shared text), built by automerge 0.12, then on both sides: its load, the changes applied
//! one by one to an empty document and in one batch, a `get_all` of the shared key (every actor's value in
//! conflict), and a put over all those values (min of RUNS, default 3). With `--ours`,
//! converge's apply one by one alone (for profiles).
//!
//! ```text
//! cargo run --release -p converge-benches --example actors_join_probe -- [ACTORS] [RUNS] [--ours]
//! ```

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_benches::{min_of, print_comparison};

fn main() {
    let actors: usize = std::env::args()
        .nth(1)
        .map_or(5_000, |s| s.parse().expect("ACTORS"));
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(3, |s| s.parse().expect("RUNS"));
    let mut base = automerge::AutoCommit::new();
    let list = base
        .put_object(automerge::ROOT, "list", automerge::ObjType::List)
        .expect("list");
    let text = base
        .put_object(automerge::ROOT, "text", automerge::ObjType::Text)
        .expect("text");
    base.commit();
    let mut changes = Vec::new();
    for a in 0..actors {
        let mut d = base.fork().with_actor(automerge::ActorId::from(
            (a as u64 * 0x9e37_79b9_7f4a_7c15).to_be_bytes().to_vec(),
        ));
        d.put(automerge::ROOT, "shared", a as i64).expect("put");
        d.put(automerge::ROOT, format!("k{a}"), a as i64)
            .expect("put");
        d.insert(&list, 0, a as i64).expect("insert");
        d.splice_text(&text, 0, 0, "ab").expect("splice");
        d.commit();
        changes.push(d.get_last_local_change().expect("change").clone());
    }
    base.apply_changes(changes.clone()).expect("apply");
    let bytes = base.save();
    println!("{actors} actors, {} bytes saved", bytes.len());
    let raw: Vec<Vec<u8>> = std::iter::once(
        base.get_changes(&[])
            .first()
            .map(|c| c.raw_bytes().to_vec())
            .expect("first"),
    )
    .chain(changes.iter().map(|c| c.raw_bytes().to_vec()))
    .collect();

    if !std::env::args().any(|a| a == "--ours") {
        let ours = min_of(runs, || converge_doc::Document::load(&bytes).expect("load"));
        let theirs = min_of(runs, || automerge::Automerge::load(&bytes).expect("load"));
        print_comparison("load", ours, theirs);
    }

    let decoded: Vec<converge_encoding::Change> = raw
        .iter()
        .map(|r| converge_encoding::Change::decode(bytes::Bytes::from(r.clone())).expect("decode"))
        .collect();
    let ours = min_of(runs, || {
        let mut d = converge_doc::Document::new();
        for c in &decoded {
            d.apply_changes(vec![c.clone()]).expect("apply");
        }
        d
    });
    let batch = min_of(runs, || {
        let mut d = converge_doc::Document::new();
        d.apply_changes(decoded.clone()).expect("apply");
        d
    });
    if std::env::args().any(|a| a == "--ours") {
        println!("converge apply one by one {ours:?}, in one batch {batch:?}");
        return;
    }
    let am_changes: Vec<automerge::Change> = raw
        .iter()
        .map(|r| automerge::Change::from_bytes(r.clone()).expect("decode"))
        .collect();
    let theirs = min_of(runs, || {
        let mut d = automerge::Automerge::new();
        for c in &am_changes {
            d.apply_changes(vec![c.clone()]).expect("apply");
        }
        d
    });
    print_comparison("apply one by one", ours, theirs);
    let theirs = min_of(runs, || {
        let mut d = automerge::Automerge::new();
        d.apply_changes(am_changes.clone()).expect("apply");
        d
    });
    print_comparison("apply in one batch", batch, theirs);

    let cv = converge_doc::Document::load(&bytes).expect("load");
    let am = automerge::Automerge::load(&bytes).expect("load");
    assert_eq!(
        cv.get_all(&converge_doc::ROOT, "shared")
            .expect("get_all")
            .len(),
        actors
    );
    let ours = min_of(runs, || {
        cv.get_all(&converge_doc::ROOT, "shared").expect("get_all")
    });
    let theirs = min_of(runs, || {
        am.get_all(automerge::ROOT, "shared").expect("get_all")
    });
    print_comparison("get_all of the shared key", ours, theirs);
    let ours = min_of(runs, || {
        cv.text(
            &cv.get(&converge_doc::ROOT, "text")
                .expect("get")
                .expect("text")
                .id,
        )
        .expect("text")
    });
    let theirs = min_of(runs, || am.text(&text).expect("text"));
    print_comparison("text", ours, theirs);
    let ours = min_inner(runs, || {
        let mut d = cv.clone();
        let start = std::time::Instant::now();
        d.put(&converge_doc::ROOT, "shared", -1i64).expect("put");
        start.elapsed()
    });
    let theirs = min_inner(runs, || {
        let mut d = automerge::AutoCommit::load(&bytes).expect("load");
        let start = std::time::Instant::now();
        d.put(automerge::ROOT, "shared", -1i64).expect("put");
        d.commit();
        start.elapsed()
    });
    print_comparison("a put over every value (the put alone)", ours, theirs);
}

/// The shortest of `runs` durations that `f` measures itself.
fn min_inner(runs: usize, mut f: impl FnMut() -> std::time::Duration) -> std::time::Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}
