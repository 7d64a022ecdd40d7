//! Objects nested far deeper than any value tree can be built for: the document loads,
//! saves and reads key by key; `value_tree` refuses with `DocError::TooDeep` instead of
//! overflowing the stack, and a tree at the limit builds, compares and drops on a test
//! thread's 2 MiB stack.

#![allow(clippy::unwrap_used)]

use converge_doc::{DocError, Document, ExId, MAX_TREE_DEPTH, ObjType, ROOT, ValueTree};

fn nested(depth: usize) -> (Document, ExId) {
    let mut doc = Document::new();
    let mut obj: ExId = ROOT;
    let mut tx = doc.transaction();
    for i in 0..depth {
        obj = if i % 2 == 0 {
            tx.put_object(&obj, "a", ObjType::Map).unwrap()
        } else {
            tx.put_object(&obj, "l", ObjType::List).unwrap();
            let list = tx.get(&obj, "l").unwrap().unwrap().id;
            tx.insert_object(&list, 0, ObjType::Map).unwrap()
        };
    }
    tx.commit().unwrap();
    (doc, obj)
}

#[test]
fn a_document_nested_100_000_deep_loads_and_refuses_a_value_tree() {
    let (mut doc, deepest) = nested(100_000);
    let loaded = Document::load(&doc.save()).unwrap();
    assert_eq!(loaded.heads(), doc.heads());
    assert!(matches!(
        loaded.value_tree(&ROOT),
        Err(DocError::TooDeep { .. })
    ));
    // The deepest object is still readable on its own.
    assert_eq!(
        loaded.value_tree(&deepest).unwrap(),
        ValueTree::Map(Default::default())
    );
}

#[test]
fn a_tree_at_the_limit_builds_compares_and_drops() {
    let (mut doc, _) = nested(MAX_TREE_DEPTH / 2);
    let a = doc.value_tree(&ROOT).unwrap();
    let b = Document::load(&doc.save())
        .unwrap()
        .value_tree(&ROOT)
        .unwrap();
    assert!(a == b);
    drop((a, b));
    let (doc, _) = nested(MAX_TREE_DEPTH + 1);
    assert!(matches!(
        doc.value_tree(&ROOT),
        Err(DocError::TooDeep { .. })
    ));
}
