//! Remote changes with many ops at one place, each step and each read after them timed, to
//! find work that grows faster than the ops (run two sizes: doubling K should about double
//! each time). Each shape is a base change by one actor and two concurrent changes by two
//! others, applied to a `Document` and, with patches, to an `AutoCommit`; then the value
//! tree, the values of the root keys, a text's marks and spans, save, load, fork and a
//! diff from the empty document are timed. `--oracle` applies the same changes to
//! automerge 0.12 and times its reads instead.
//!
//! ```text
//! cargo run --release -p converge-benches --example hostile_shapes_probe -- SHAPE K [--oracle | --no-patches]
//! ```
//!
//! Shapes (n = 2^K ops in each concurrent change):
//! - `increments`, `deletes`, `puts`: n of them on one map key (each over the base's put);
//! - `element_puts`: n puts of one list element, no preds;
//! - `marks`: n marks of one name over one range of a two-character text;
//! - `nested_marks`: n / 2 marks over a text of n characters, each inside the one before,
//!   of seven names;
//! - `char_marks`: a mark on each character of a text of n characters;
//! - `text_deletes`: every character of a text of n characters deleted;
//! - `many_texts`: n texts of two marked characters, one character typed into each;
//! - `deep`: a chain of n maps, each inside the one before (one concurrent change).
//!
//! Session 48 found with it the quadratic reads of overlapping marks (`marks`, `spans`,
//! diffs and patches; see docs/benchmarks-log.md). A `deep` diff is quadratic in its output:
//! each patch carries its path (automerge 0.12's too).

use std::time::Instant;

use converge_doc::{AutoCommit, Document, ROOT};
use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, ElemId, Key, ObjId, OpId,
    ScalarValue,
};

fn actor(b: u8) -> ActorId {
    ActorId::from(vec![b; 16])
}

fn op(obj: ObjId, key: Key, insert: bool, action: Action, value: ScalarValue) -> ChangeOp {
    ChangeOp {
        obj,
        key,
        insert,
        action,
        value,
        pred: Vec::new(),
        expand: false,
        mark_name: None,
    }
}

fn change(by: u8, start_op: u64, deps: &[ChangeHash], others: &[u8], ops: Vec<ChangeOp>) -> Change {
    Change::from_parts(ChangeParts {
        actor: actor(by),
        seq: 1,
        start_op,
        time: 0,
        message: None,
        deps: deps.to_vec(),
        other_actors: others.iter().map(|&b| actor(b)).collect(),
        ops,
        extra_bytes: Vec::new(),
    })
    .expect("change")
}

fn key(s: &str) -> Key {
    Key::Map(s.into())
}

fn elem(counter: u32, actor: u32) -> Key {
    Key::Seq(ElemId::Op(OpId { counter, actor }))
}

fn obj(counter: u32, actor: u32) -> ObjId {
    ObjId::Op(OpId { counter, actor })
}

/// The changes of one shape: a base by actor 1, then two concurrent changes by actors 2
/// and 3 on it, each made by `f(n)` (ops with actor 1 as other actor 1).
fn shape(name: &str, n: u64) -> Vec<Change> {
    let n32 = n as u32;
    let (base_ops, next): (Vec<ChangeOp>, u64) = match name {
        "increments" => (
            vec![op(
                ObjId::Root,
                key("c"),
                false,
                Action::Set,
                ScalarValue::Counter(0),
            )],
            2,
        ),
        "deletes" | "puts" => (
            vec![op(
                ObjId::Root,
                key("k"),
                false,
                Action::Set,
                ScalarValue::Null,
            )],
            2,
        ),
        "marks" | "nested_marks" | "text_deletes" | "char_marks" => {
            let mut ops = vec![op(
                ObjId::Root,
                key("t"),
                false,
                Action::MakeText,
                ScalarValue::Null,
            )];
            let len = if name == "marks" { 2 } else { n32 };
            for i in 0..len {
                let after = if i == 0 {
                    Key::Seq(ElemId::Head)
                } else {
                    elem(i + 1, 0)
                };
                ops.push(op(
                    obj(1, 0),
                    after,
                    true,
                    Action::Set,
                    ScalarValue::Str("x".into()),
                ));
            }
            let l = ops.len() as u64;
            (ops, l + 1)
        }
        "element_puts" => (
            vec![
                op(
                    ObjId::Root,
                    key("l"),
                    false,
                    Action::MakeList,
                    ScalarValue::Null,
                ),
                op(
                    obj(1, 0),
                    Key::Seq(ElemId::Head),
                    true,
                    Action::Set,
                    ScalarValue::Null,
                ),
            ],
            3,
        ),
        "deep" => (vec![], 1),
        "many_texts" => {
            // n texts of one character, each marked.
            let mut ops = Vec::new();
            for i in 0..n32 {
                let t = 5 * i + 1;
                ops.push(op(
                    ObjId::Root,
                    key(&format!("t{i}")),
                    false,
                    Action::MakeText,
                    ScalarValue::Null,
                ));
                ops.push(op(
                    obj(t, 0),
                    Key::Seq(ElemId::Head),
                    true,
                    Action::Set,
                    ScalarValue::Str("x".into()),
                ));
                let mut b = op(
                    obj(t, 0),
                    Key::Seq(ElemId::Head),
                    true,
                    Action::Mark,
                    ScalarValue::Bool(true),
                );
                b.mark_name = Some("b".into());
                ops.push(b);
                ops.push(op(
                    obj(t, 0),
                    elem(t + 1, 0),
                    true,
                    Action::Mark,
                    ScalarValue::Null,
                ));
                ops.push(op(
                    obj(t, 0),
                    elem(t + 1, 0),
                    true,
                    Action::Set,
                    ScalarValue::Str("y".into()),
                ));
            }
            let l = ops.len() as u64;
            (ops, l + 1)
        }
        _ => panic!("shape"),
    };
    let base = change(1, 1, &[], &[], base_ops);
    let h = base.hash();
    let mut out = vec![base];
    for by in [2u8, 3] {
        let mut ops = Vec::new();
        match name {
            "increments" | "deletes" | "puts" => {
                // n ops over the base's put (1@1, actor 1 being other actor 1 here).
                let (k, action, value) = match name {
                    "increments" => ("c", Action::Inc, ScalarValue::Int(1)),
                    "deletes" => ("k", Action::Del, ScalarValue::Null),
                    _ => ("k", Action::Set, ScalarValue::Null),
                };
                for _ in 0..n {
                    let mut o = op(ObjId::Root, key(k), false, action, value.clone());
                    o.pred = vec![OpId {
                        counter: 1,
                        actor: 1,
                    }];
                    ops.push(o);
                }
            }
            "element_puts" => {
                for _ in 0..n {
                    ops.push(op(
                        obj(1, 1),
                        elem(2, 1),
                        false,
                        Action::Set,
                        ScalarValue::Null,
                    ));
                }
            }
            "marks" => {
                for _ in 0..n {
                    let mut b = op(
                        obj(1, 1),
                        elem(2, 1),
                        true,
                        Action::Mark,
                        ScalarValue::Bool(true),
                    );
                    b.mark_name = Some("b".into());
                    ops.push(b);
                    ops.push(op(
                        obj(1, 1),
                        elem(3, 1),
                        true,
                        Action::Mark,
                        ScalarValue::Null,
                    ));
                }
            }
            "nested_marks" => {
                // mark i covers characters i..n-i (begin after char i, end after char n-1-i).
                for i in 0..n32 / 2 {
                    let mut b = op(
                        obj(1, 1),
                        elem(i + 2, 1),
                        true,
                        Action::Mark,
                        ScalarValue::Bool(true),
                    );
                    b.mark_name = Some(format!("m{}", i % 7));
                    ops.push(b);
                    ops.push(op(
                        obj(1, 1),
                        elem(n32 - i, 1),
                        true,
                        Action::Mark,
                        ScalarValue::Null,
                    ));
                }
            }
            "char_marks" => {
                for i in 0..n32 {
                    let before = if i == 0 {
                        Key::Seq(ElemId::Head)
                    } else {
                        elem(i + 1, 1)
                    };
                    let mut b = op(
                        obj(1, 1),
                        before,
                        true,
                        Action::Mark,
                        ScalarValue::Bool(true),
                    );
                    b.mark_name = Some("b".into());
                    ops.push(b);
                    ops.push(op(
                        obj(1, 1),
                        elem(i + 2, 1),
                        true,
                        Action::Mark,
                        ScalarValue::Null,
                    ));
                }
            }
            "text_deletes" => {
                for i in 0..n32 {
                    let mut o = op(
                        obj(1, 1),
                        elem(i + 2, 1),
                        false,
                        Action::Del,
                        ScalarValue::Null,
                    );
                    o.pred = vec![OpId {
                        counter: i + 2,
                        actor: 1,
                    }];
                    ops.push(o);
                }
            }
            "many_texts" => {
                // a character typed into each text.
                for i in 0..n32 {
                    let t = 5 * i + 1;
                    ops.push(op(
                        obj(t, 1),
                        elem(t + 1, 1),
                        true,
                        Action::Set,
                        ScalarValue::Str("z".into()),
                    ));
                }
            }
            "deep" => {
                let mut parent = ObjId::Root;
                for i in 0..n32 {
                    ops.push(op(
                        parent,
                        key("a"),
                        false,
                        Action::MakeMap,
                        ScalarValue::Null,
                    ));
                    parent = obj(next as u32 + i, 0);
                }
                if by == 3 {
                    break;
                }
            }
            _ => unreachable!(),
        }
        out.push(change(by, next, &[h], &[1], ops));
    }
    out
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    println!("  {what}: {:?}", start.elapsed());
    r
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("increments", String::as_str);
    let k: u32 = args.get(1).map_or(14, |s| s.parse().expect("K"));
    let n = 1u64 << k;
    let changes = shape(name, n);
    if args.get(2).is_some_and(|a| a == "--oracle") {
        oracle(&changes);
        return;
    }
    println!(
        "{name} K={k}: {} changes, {} bytes",
        changes.len(),
        changes.iter().map(|c| c.bytes().len()).sum::<usize>()
    );
    let mut doc = Document::new();
    for (i, c) in changes.iter().enumerate() {
        let bytes = c.bytes().to_vec();
        let r = time(&format!("apply {i}"), || doc.load_incremental(&bytes));
        if let Err(e) = r {
            println!("  refused: {e}");
        }
    }
    let patches = !args.iter().any(|a| a == "--no-patches");
    let mut ac = AutoCommit::new();
    for (i, c) in changes.iter().enumerate().filter(|_| patches) {
        let bytes = c.bytes().to_vec();
        let r = time(&format!("autocommit apply with patches {i}"), || {
            ac.load_incremental_with_patches(&bytes).map(|p| p.len())
        });
        println!("    patches: {r:?}");
    }
    let tree = time("value_tree", || doc.value_tree(&ROOT).map(|_| ()));
    println!("    {:?}", tree.err());
    for key in ["c", "k", "t", "l"] {
        if let Ok(Some(v)) = doc.get(&ROOT, key) {
            let id = v.id;
            time(&format!("get_all {key}"), || {
                doc.get_all(&ROOT, key).map(|v| v.len()).ok()
            });
            if key == "t" {
                time("text", || doc.text(&id).map(|t| t.len()).ok());
                let m = time("marks", || doc.marks(&id).map(|m| m.len()));
                println!("    {m:?}");
                let s = time("spans", || doc.spans(&id, None).map(|s| s.len()));
                println!("    {s:?}");
            }
            if key == "l" {
                time("get_all l[0]", || {
                    doc.get_all(&id, 0usize).map(|v| v.len()).ok()
                });
            }
        }
    }
    let saved = time("save", || doc.save());
    println!("    {} bytes", saved.len());
    let loaded = time("load", || Document::load(&saved).map(|_| ()));
    println!("    {:?}", loaded.err());
    time("fork", || drop(doc.fork()));
    if !patches {
        return;
    }
    let heads = ac.heads().to_vec();
    let diff = time("diff from empty", || ac.diff(&[], &heads).map(|p| p.len()));
    println!("    {diff:?}");
}

/// The same changes applied to automerge 0.12, with its reads timed.
#[allow(dead_code)]
fn oracle(changes: &[Change]) {
    use automerge::ReadDoc;
    let mut doc = automerge::Automerge::new();
    for (i, c) in changes.iter().enumerate() {
        let change = automerge::Change::from_bytes(c.bytes().to_vec()).expect("oracle change");
        let r = time(&format!("oracle apply {i}"), || doc.apply_changes([change]));
        if let Err(e) = r {
            println!("  oracle refused: {e}");
        }
    }
    if let Ok(Some((_, id))) = doc.get(automerge::ROOT, "t") {
        let m = time("oracle marks", || doc.marks(&id).map(|m| m.len()));
        println!("    {m:?}");
        let s = time("oracle spans", || doc.spans(&id).map(|s| s.count()));
        println!("    {s:?}");
    }
    let saved = time("oracle save", || doc.save());
    let l = time("oracle load", || {
        automerge::Automerge::load(&saved).map(|_| ())
    });
    println!("    {:?}", l.err());
    let mut ac = automerge::AutoCommit::new();
    for (i, c) in changes.iter().enumerate() {
        let change = automerge::Change::from_bytes(c.bytes().to_vec()).expect("oracle change");
        let r = time(&format!("oracle autocommit apply {i}"), || {
            ac.apply_changes([change])
        });
        if let Err(e) = r {
            println!("  oracle refused: {e}");
        }
    }
    let heads = ac.get_heads();
    let d = time("oracle diff from empty", || ac.diff(&[], &heads).len());
    println!("    {d}");
}
