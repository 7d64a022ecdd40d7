//! One map key, and one list element, put again and again (a field an app sets on every
//! keystroke: a cursor, a status, a timestamp), a commit each, converge beside automerge 0.12:
//! the whole run of `N` puts and then the mean of 1,000 more. Then a counter in a map and one
//! in a list, incremented `N / 4` times and 1,000 more, and a `get` of each. Last, `N` puts
//! to one key in one transaction, rolled back (the rollback timed).
//!
//! ```text
//! cargo run --release -p converge-benches --example overwrite_probe -- [N]
//! ```
//!
//! Until 2026-12-05 every put read all the key's earlier ops to find the visible ones: 40,000
//! puts took 2.49 s and the next ones 117 µs each (automerge: 0.44 s, 11 µs).

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use converge_doc::{Document, ObjType, ROOT};
use converge_encoding::ScalarValue;

/// The time of `n` calls of `f` and the mean of 1,000 more.
fn run(n: usize, mut f: impl FnMut(i64)) -> (Duration, Duration) {
    let start = Instant::now();
    for i in 0..n {
        f(i as i64);
    }
    let all = start.elapsed();
    let start = Instant::now();
    for i in 0..1000 {
        f(-i);
    }
    (all, start.elapsed() / 1000)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(40_000, |s| s.parse().expect("N"));
    let mut cv = Document::new();
    let list = cv.put_object(&ROOT, "list", ObjType::List).expect("list");
    cv.insert(&list, 0, ScalarValue::Int(0)).expect("insert");
    let mut am = automerge::AutoCommit::new();
    let am_list = am
        .put_object(automerge::ROOT, "list", automerge::ObjType::List)
        .expect("list");
    am.insert(&am_list, 0, 0).expect("insert");
    am.commit();
    let report = |what: &str,
                  (all, one): (Duration, Duration),
                  (am_all, am_one): (Duration, Duration)| {
        println!(
            "{what}, {n} puts: converge {all:?} (then {one:?} a put), automerge {am_all:?} (then {am_one:?} a put)"
        );
    };
    let ours = run(n, |i| {
        cv.put(&ROOT, "status", ScalarValue::Int(i)).expect("put")
    });
    let theirs = run(n, |i| {
        am.put(automerge::ROOT, "status", i).expect("put");
        am.commit();
    });
    report("a map key", ours, theirs);
    let ours = run(n, |i| cv.put(&list, 0, ScalarValue::Int(i)).expect("put"));
    let theirs = run(n, |i| {
        am.put(&am_list, 0, i).expect("put");
        am.commit();
    });
    report("a list element", ours, theirs);

    let n = n / 4;
    cv.put(&ROOT, "count", ScalarValue::Counter(0))
        .expect("counter");
    cv.insert(&list, 1, ScalarValue::Counter(0))
        .expect("counter");
    am.put(automerge::ROOT, "count", automerge::ScalarValue::counter(0))
        .expect("counter");
    am.insert(&am_list, 1, automerge::ScalarValue::counter(0))
        .expect("counter");
    am.commit();
    let report = |what: &str,
                  (all, one): (Duration, Duration),
                  (am_all, am_one): (Duration, Duration),
                  (get, am_get): (Duration, Duration)| {
        println!(
            "{what}, {n} increments: converge {all:?} (then {one:?} an increment, a get {get:?}), automerge {am_all:?} (then {am_one:?}, a get {am_get:?})"
        );
    };
    let ours = run(n, |_| cv.increment(&ROOT, "count", 1).expect("increment"));
    let theirs = run(n, |_| {
        am.increment(automerge::ROOT, "count", 1)
            .expect("increment");
        am.commit();
    });
    let gets = (
        min_time(|| drop(cv.get(&ROOT, "count").expect("get"))),
        min_time(|| drop(automerge::ReadDoc::get(&am, automerge::ROOT, "count").expect("get"))),
    );
    report("a map counter", ours, theirs, gets);
    let ours = run(n, |_| cv.increment(&list, 1, 1).expect("increment"));
    let theirs = run(n, |_| {
        am.increment(&am_list, 1, 1).expect("increment");
        am.commit();
    });
    let gets = (
        min_time(|| drop(cv.get(&list, 1).expect("get"))),
        min_time(|| drop(automerge::ReadDoc::get(&am, &am_list, 1).expect("get"))),
    );
    report("a list counter", ours, theirs, gets);

    let n = n * 4;
    let mut tx = cv.transaction();
    for i in 0..n {
        tx.put(&ROOT, "status", ScalarValue::Int(i as i64))
            .expect("put");
    }
    let start = Instant::now();
    tx.rollback();
    let ours = start.elapsed();
    let mut am = automerge::Automerge::new();
    let mut tx = am.transaction();
    for i in 0..n {
        tx.put(automerge::ROOT, "status", i as i64).expect("put");
    }
    let start = Instant::now();
    tx.rollback();
    let theirs = start.elapsed();
    println!(
        "{n} puts to a key in one transaction, rolled back: converge {ours:?}, automerge {theirs:?}"
    );
}

/// The shortest of five timings of `f`.
fn min_time(mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
