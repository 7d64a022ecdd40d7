//! Reads and writes on a document of many small objects (a list of `N` maps of five keys, a
//! map of `N` keys, a list of `N` integers), built by automerge 0.12 and loaded by both, each
//! operation timed alone (min of RUNS), converge beside automerge; one commit every K items
//! (500 by default):
//!
//! ```text
//! cargo run --release -p converge-benches --example objects_probe -- [N] [RUNS] [--commit-every K] [--write PATH]
//! ```
//!
//! Catches an operation on a list or map that costs the document where it should cost the
//! answer (as `marks()` did on texts, see `api_probe`).

use automerge::transaction::Transactable;
use automerge::{ObjType as AmObjType, ReadDoc};
use converge_benches::{min_of, print_comparison as row};
use converge_doc::{Document, ObjType, ROOT, Value};
use converge_encoding::ScalarValue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(20_000, |s| s.parse().expect("N"));
    let runs: usize = args.get(1).map_or(5, |s| s.parse().expect("RUNS"));
    // Items a commit (`--commit-every K`; default 500: a few big changes).
    let every: usize = args
        .iter()
        .position(|a| a == "--commit-every")
        .and_then(|i| args.get(i + 1))
        .map_or(500, |s| s.parse().expect("K"));

    let mut am = automerge::AutoCommit::new();
    let items = am
        .put_object(automerge::ROOT, "items", AmObjType::List)
        .expect("list");
    let index = am
        .put_object(automerge::ROOT, "index", AmObjType::Map)
        .expect("map");
    let numbers = am
        .put_object(automerge::ROOT, "numbers", AmObjType::List)
        .expect("list");
    for i in 0..n {
        let item = am.insert_object(&items, i, AmObjType::Map).expect("item");
        am.put(&item, "id", i as i64).expect("put");
        am.put(&item, "title", format!("item {i}")).expect("put");
        am.put(&item, "done", i % 3 == 0).expect("put");
        am.put(&item, "score", (i * 7 % 100) as f64).expect("put");
        am.put(&item, "owner", "someone").expect("put");
        am.put(&index, format!("key{i:06}").as_str(), i as i64)
            .expect("put");
        am.insert(&numbers, i, i as i64).expect("insert");
        if i % every == every - 1 {
            am.commit();
        }
    }
    let bytes = am.save();
    println!("{n} items: {} bytes saved", bytes.len());
    if let Some(path) = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
    {
        // For profiles of the load alone (`load_probe PATH`).
        std::fs::write(path, &bytes).expect("write");
        return;
    }

    row(
        "load",
        min_of(runs, || Document::load(&bytes).expect("converge loads")),
        min_of(runs, || {
            automerge::Automerge::load(&bytes).expect("automerge loads")
        }),
    );
    let mut cv = Document::load(&bytes).expect("converge loads");
    let mut am = automerge::Automerge::load(&bytes).expect("automerge loads");
    let id = |key: &str| match cv.get(&ROOT, key).expect("get").expect("present").value {
        Value::Object(_, id) => id,
        Value::Scalar(_) => panic!("an object"),
    };
    let (c_items, c_index, c_numbers) = (id("items"), id("index"), id("numbers"));
    let (a_items, a_index, a_numbers) = (
        am.get(automerge::ROOT, "items")
            .expect("get")
            .expect("items")
            .1,
        am.get(automerge::ROOT, "index")
            .expect("get")
            .expect("index")
            .1,
        am.get(automerge::ROOT, "numbers")
            .expect("get")
            .expect("numbers")
            .1,
    );
    let mid = n / 2;
    row(
        "get(items, n/2)",
        min_of(runs, || cv.get(&c_items, mid).expect("get")),
        min_of(runs, || am.get(&a_items, mid).expect("get")),
    );
    row(
        "length(items)",
        min_of(runs, || cv.length(&c_items).expect("length")),
        min_of(runs, || am.length(&a_items)),
    );
    row(
        "list_values(numbers)",
        min_of(runs, || cv.list_values(&c_numbers).expect("values")),
        min_of(runs, || am.list_range(&a_numbers, ..).count()),
    );
    row(
        "list_range(numbers, n/2..n/2 + 10)",
        min_of(runs, || {
            cv.list_range(&c_numbers, mid..mid + 10).expect("range")
        }),
        min_of(runs, || {
            am.list_range(&a_numbers, mid..mid + 10)
                .map(|i| i.value.into_value())
                .collect::<Vec<_>>()
        }),
    );
    row(
        "get(index, middle key)",
        min_of(runs, || cv.get(&c_index, "key010000").expect("get")),
        min_of(runs, || am.get(&a_index, "key010000").expect("get")),
    );
    row(
        "keys(index)",
        min_of(runs, || cv.keys(&c_index).expect("keys")),
        min_of(runs, || am.keys(&a_index).count()),
    );
    row(
        "length(index)",
        min_of(runs, || cv.length(&c_index).expect("length")),
        min_of(runs, || am.length(&a_index)),
    );
    row(
        "value_tree(ROOT)",
        min_of(runs, || cv.value_tree(&ROOT).expect("tree")),
        min_of(runs, || am.hydrate(None)),
    );
    // Writes, each its own change.
    let mut k = 0i64;
    let ours = min_of(runs, || {
        k += 1;
        cv.insert(&c_numbers, mid, ScalarValue::Int(k))
            .expect("insert")
    });
    let theirs = min_of(runs, || {
        k += 1;
        let mut tx = am.transaction();
        tx.insert(&a_numbers, mid, k).expect("insert");
        tx.commit()
    });
    row("insert(numbers, n/2) + commit", ours, theirs);
    let ours = min_of(runs, || {
        k += 1;
        cv.put(&c_index, "key010000", ScalarValue::Int(k))
            .expect("put")
    });
    let theirs = min_of(runs, || {
        k += 1;
        let mut tx = am.transaction();
        tx.put(&a_index, "key010000", k).expect("put");
        tx.commit()
    });
    row("put(index, middle key) + commit", ours, theirs);
    let ours = min_of(runs, || {
        k += 1;
        let mut tx = cv.transaction();
        let item = tx.insert_object(&c_items, mid, ObjType::Map).expect("item");
        tx.put(&item, "id", ScalarValue::Int(k)).expect("put");
        tx.commit().expect("commit")
    });
    let theirs = min_of(runs, || {
        k += 1;
        let mut tx = am.transaction();
        let item = tx
            .insert_object(&a_items, mid, AmObjType::Map)
            .expect("item");
        tx.put(&item, "id", k).expect("put");
        tx.commit()
    });
    row("insert a map into items + commit", ours, theirs);
    let ours = min_of(runs, || cv.delete(&c_numbers, mid).expect("delete"));
    let theirs = min_of(runs, || {
        let mut tx = am.transaction();
        tx.delete(&a_numbers, mid).expect("delete");
        tx.commit()
    });
    row("delete(numbers, n/2) + commit", ours, theirs);
}
