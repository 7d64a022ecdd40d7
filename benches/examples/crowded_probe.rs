//! Merges of two peers who made many concurrent edits at one place while apart: each forks
//! a common document and makes N edits of one shape, in one change or a change each, then
//! one merges the other. Shapes: `map_put` (one map key put N times), `map_keys` (N keys),
//! `list_put` (one list element put N times), `list_head` (N inserts at the list's start),
//! `list_append` (N inserts at its end), `text` (N characters typed at one position),
//! `counter` (one counter incremented N times), `marks` (one range marked N times; making
//! those marks is itself quadratic in converge, `Transaction::sticky_mark`, so N of 40,000
//! takes one to two minutes before the merge is timed; automerge's run of 20,000 did not
//! finish in 120 s).
//!
//! ```text
//! cargo run --release -p converge-benches --example crowded_probe -- SHAPE N [per-change] [--oracle]
//! ```
//!
//! Prints converge's merge time (and a read of the whole document, a save and a load of the
//! result); with `--oracle`, automerge's merge of the same shape too (its own edits, same
//! counts).

use std::time::Instant;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ROOT as AM_ROOT};
use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::{ActorId, ScalarValue};

fn base(shape: &str) -> (Document, Option<ExId>) {
    let mut d = Document::with_actor(ActorId::from_bytes(&[9; 16]));
    let mut tx = d.transaction();
    let obj = match shape {
        "list_put" | "list_head" | "list_append" | "list_del" => {
            let l = tx.put_object(&ROOT, "l", ObjType::List).unwrap();
            tx.insert(&l, 0, ScalarValue::Int(0)).unwrap();
            Some(l)
        }
        "text" | "marks" => {
            let t = tx.put_object(&ROOT, "t", ObjType::Text).unwrap();
            tx.splice_text(&t, 0, 0, "abcdefgh").unwrap();
            Some(t)
        }
        "counter" => {
            tx.put(&ROOT, "c", ScalarValue::Counter(0)).unwrap();
            None
        }
        _ => {
            tx.put(&ROOT, "x", ScalarValue::Int(0)).unwrap();
            None
        }
    };
    tx.commit().unwrap();
    (d, obj)
}

fn edit(d: &mut Document, obj: &Option<ExId>, shape: &str, n: usize, per_change: bool) {
    let mut tx = d.transaction();
    for i in 0..n {
        if per_change && i > 0 {
            tx.commit().unwrap();
            tx = d.transaction();
        }
        match shape {
            "map_put" => {
                tx.put(&ROOT, "k", ScalarValue::Int(i as i64)).unwrap();
            }
            "map_keys" => {
                tx.put(&ROOT, format!("k{i}").as_str(), ScalarValue::Int(i as i64))
                    .unwrap();
            }
            "list_put" => {
                tx.put(obj.as_ref().unwrap(), 0, ScalarValue::Int(i as i64))
                    .unwrap();
            }
            "list_head" => {
                tx.insert(obj.as_ref().unwrap(), 0, ScalarValue::Int(i as i64))
                    .unwrap();
            }
            "list_append" => {
                tx.insert(obj.as_ref().unwrap(), i + 1, ScalarValue::Int(i as i64))
                    .unwrap();
            }
            "text" => {
                tx.splice_text(obj.as_ref().unwrap(), 4, 0, "x").unwrap();
            }
            "counter" => {
                tx.increment(&ROOT, "c", 1).unwrap();
            }
            "marks" => {
                tx.mark(
                    obj.as_ref().unwrap(),
                    2..6,
                    "bold",
                    ScalarValue::Bool(true),
                    converge_doc::ExpandMark::Both,
                )
                .unwrap();
            }
            _ => panic!("shape"),
        }
    }
    tx.commit().unwrap();
}

fn oracle_base(shape: &str) -> (Automerge, Option<ObjId>) {
    let mut d = Automerge::new().with_actor(automerge::ActorId::from([9u8; 16]));
    let mut tx = d.transaction();
    let obj = match shape {
        "list_put" | "list_head" | "list_append" => {
            let l = tx
                .put_object(AM_ROOT, "l", automerge::ObjType::List)
                .unwrap();
            tx.insert(&l, 0, 0).unwrap();
            Some(l)
        }
        "text" | "marks" => {
            let t = tx
                .put_object(AM_ROOT, "t", automerge::ObjType::Text)
                .unwrap();
            tx.splice_text(&t, 0, 0, "abcdefgh").unwrap();
            Some(t)
        }
        "counter" => {
            tx.put(AM_ROOT, "c", automerge::ScalarValue::counter(0))
                .unwrap();
            None
        }
        _ => {
            tx.put(AM_ROOT, "x", 0).unwrap();
            None
        }
    };
    tx.commit();
    (d, obj)
}

fn oracle_edit(d: &mut Automerge, obj: &Option<ObjId>, shape: &str, n: usize, per_change: bool) {
    let mut tx = d.transaction();
    for i in 0..n {
        if per_change && i > 0 {
            tx.commit();
            tx = d.transaction();
        }
        match shape {
            "map_put" => {
                tx.put(AM_ROOT, "k", i as i64).unwrap();
            }
            "map_keys" => {
                tx.put(AM_ROOT, format!("k{i}"), i as i64).unwrap();
            }
            "list_put" => {
                tx.put(obj.as_ref().unwrap(), 0, i as i64).unwrap();
            }
            "list_head" => {
                tx.insert(obj.as_ref().unwrap(), 0, i as i64).unwrap();
            }
            "list_append" => {
                tx.insert(obj.as_ref().unwrap(), i + 1, i as i64).unwrap();
            }
            "text" => {
                tx.splice_text(obj.as_ref().unwrap(), 4, 0, "x").unwrap();
            }
            "counter" => {
                tx.increment(AM_ROOT, "c", 1).unwrap();
            }
            "marks" => {
                tx.mark(
                    obj.as_ref().unwrap(),
                    automerge::marks::Mark::new("bold".into(), true, 2, 6),
                    automerge::marks::ExpandMark::Both,
                )
                .unwrap();
            }
            _ => panic!("shape"),
        }
    }
    tx.commit();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = args.first().map_or("map_put", String::as_str);
    let n: usize = args.get(1).map_or(40_000, |s| s.parse().expect("N"));
    let per_change = args.iter().any(|a| a == "per-change");
    let oracle = args.iter().any(|a| a == "--oracle");
    let (b, obj) = base(shape);
    let mut a = b.fork();
    let mut c = b.fork();
    edit(&mut a, &obj, shape, n, per_change);
    edit(&mut c, &obj, shape, n, per_change);
    let t = Instant::now();
    a.merge(&c).expect("merge");
    let m = t.elapsed();
    let t = Instant::now();
    drop(std::hint::black_box(a.value_tree(&ROOT)));
    let r = t.elapsed();
    let t = Instant::now();
    let saved = a.save();
    let s = t.elapsed();
    let t = Instant::now();
    drop(std::hint::black_box(Document::load(&saved)));
    let l = t.elapsed();
    println!(
        "converge {shape} n={n} per_change={per_change}: merge {m:?} read {r:?} save {s:?} load {l:?}"
    );
    if oracle {
        let (b, obj) = oracle_base(shape);
        let mut a = b.fork();
        let mut c = b.fork();
        oracle_edit(&mut a, &obj, shape, n, per_change);
        oracle_edit(&mut c, &obj, shape, n, per_change);
        let t = Instant::now();
        a.merge(&mut c).expect("merge");
        println!(
            "automerge {shape} n={n} per_change={per_change}: merge {:?}",
            t.elapsed()
        );
    }
}
