//! Checks of the history generator itself (`tests/support`): determinism, and that a sweep of
//! seeds covers every action and value kind, concurrency, merges and long columns.

mod support;

use std::collections::BTreeSet;

use automerge::ScalarValue;
use automerge::legacy::OpType;
use support::{History, Params};

#[test]
fn same_seed_same_history() {
    for seed in 0..8 {
        let params = Params::varied(seed);
        let mut a = History::generate(seed, &params);
        let mut b = History::generate(seed, &params);
        let ha: Vec<_> = a.changes().iter().map(|c| c.hash()).collect();
        let hb: Vec<_> = b.changes().iter().map(|c| c.hash()).collect();
        assert_eq!(ha, hb, "seed {seed}");
        assert_eq!(a.merged.save(), b.merged.save(), "seed {seed}");
    }
}

#[test]
fn seeds_cover_every_kind() {
    let mut seen: BTreeSet<&'static str> = BTreeSet::new();
    let (mut changes, mut big_changes, mut multi_dep, mut actors_max) = (0, 0, 0, 0);
    for seed in 0..60 {
        let mut history = History::generate(seed, &Params::varied(seed));
        for change in history.changes() {
            changes += 1;
            if change.raw_bytes().len() > 256 {
                big_changes += 1;
            }
            if change.deps().len() > 1 {
                multi_dep += 1;
            }
            if change.message().is_some() {
                seen.insert("message");
            }
            if change.timestamp() != 0 {
                seen.insert("time");
            }
            if change.is_empty() {
                seen.insert("empty change");
            }
            if !change.extra_bytes().is_empty() {
                seen.insert("author footer");
            }
            assert!(
                support::ACTOR_IDS.contains(&change.actor_id().to_bytes()),
                "seed {seed}: change by an unexpected actor {}",
                change.actor_id()
            );
            actors_max = actors_max.max(change.other_actor_ids().len());
            for op in change.decode().operations {
                let kind = match op.action {
                    OpType::Make(automerge::ObjType::Map) => "make map",
                    OpType::Make(automerge::ObjType::List) => "make list",
                    OpType::Make(automerge::ObjType::Text) => "make text",
                    OpType::Make(automerge::ObjType::Table) => "make table",
                    OpType::Delete => "del",
                    OpType::Increment(_) => "inc",
                    OpType::MarkBegin(ref m) if m.value.is_null() => "unmark",
                    OpType::MarkBegin(_) => "mark begin",
                    OpType::MarkEnd(true) => "mark end expand",
                    OpType::MarkEnd(false) => "mark end",
                    OpType::Put(ref v) => match v {
                        ScalarValue::Null => "put null",
                        ScalarValue::Boolean(_) => "put bool",
                        ScalarValue::Uint(_) => "put uint",
                        ScalarValue::Int(_) => "put int",
                        ScalarValue::F64(_) => "put f64",
                        ScalarValue::Str(s) if s.chars().any(|c| c as u32 > 0xffff) => {
                            "put non-BMP str"
                        }
                        ScalarValue::Str(_) => "put str",
                        ScalarValue::Bytes(_) => "put bytes",
                        ScalarValue::Counter(_) => "put counter",
                        ScalarValue::Timestamp(_) => "put timestamp",
                        ScalarValue::Unknown { .. } => "put unknown",
                    },
                };
                seen.insert(kind);
                if op.insert {
                    seen.insert("insert");
                }
            }
        }
    }
    println!(
        "{changes} changes, {big_changes} > 256 bytes, {multi_dep} with several deps, \
         up to {actors_max} other actors; kinds: {seen:?}"
    );
    for kind in [
        "make map",
        "make list",
        "make text",
        "make table",
        "del",
        "inc",
        "unmark",
        "mark begin",
        "mark end",
        "mark end expand",
        "put null",
        "put bool",
        "put uint",
        "put int",
        "put f64",
        "put str",
        "put non-BMP str",
        "put bytes",
        "put counter",
        "put timestamp",
        "put unknown",
        "insert",
        "message",
        "time",
        "empty change",
        "author footer",
    ] {
        assert!(seen.contains(kind), "no {kind} in 60 seeds");
    }
    assert!(
        big_changes > 20,
        "too few changes over 256 bytes: {big_changes}"
    );
    assert!(multi_dep > 20, "too few merge changes: {multi_dep}");
    assert!(actors_max >= 2, "changes never reference other actors");
}
