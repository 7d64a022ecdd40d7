//! `update_object` against automerge 0.12's, on documents loaded from the seeded random
//! histories of `support`: the root updated to random value trees made from its current one
//! (scalars changed, keys added and removed, lists grown, texts edited, objects replaced by
//! other kinds). Where no list gets shorter, both write the same change, byte for byte;
//! converge's document then reads the value given. Where a list gets shorter, automerge
//! deletes from the list's front (its bug, see `Transaction::update_object`): converge's
//! document still reads the value given, automerge's does not.

use std::collections::{BTreeMap, HashMap};

use crate::doc_tree::to_oracle_scalar;
use crate::support::{SplitMix64, loaded_pair, sweep};
use automerge::transaction::Transactable;
use converge_doc::{Document, ROOT, ValueTree};
use converge_encoding::{ActorId, ScalarValue};

const ACTOR: [u8; 16] = [0x6b; 16];

fn to_hydrate(t: &ValueTree) -> automerge::hydrate::Value {
    use automerge::hydrate;
    match t {
        ValueTree::Map(m) => hydrate::Value::Map(hydrate::Map::from(
            m.iter()
                .map(|(k, v)| (k.clone(), to_hydrate(v)))
                .collect::<HashMap<String, _>>(),
        )),
        ValueTree::List(l) => hydrate::Value::List(hydrate::List::from(
            l.iter().map(to_hydrate).collect::<Vec<_>>(),
        )),
        ValueTree::Text(s) => hydrate::Value::Text(hydrate::Text::new(
            automerge::TextEncoding::UnicodeCodePoint,
            s,
        )),
        ValueTree::Scalar(s) => hydrate::Value::Scalar(to_oracle_scalar(s)),
    }
}

/// A random scalar (no NaN: a tree holding one is not equal to itself).
fn scalar(rng: &mut SplitMix64) -> ScalarValue {
    match rng.below(7) {
        0 => ScalarValue::Null,
        1 => ScalarValue::Bool(rng.percent(50)),
        2 => ScalarValue::Int(rng.below(1000) as i64 - 500),
        3 => ScalarValue::Uint(rng.below(1000) as u64),
        4 => ScalarValue::F64(rng.below(1000) as f64 / 8.0),
        5 => ScalarValue::Counter(rng.below(10) as i64),
        _ => ScalarValue::Str((*rng.pick(&["x", "hello", "é😀"])).into()),
    }
}

/// A random new value.
fn fresh(rng: &mut SplitMix64, depth: usize) -> ValueTree {
    match if depth > 2 { 0 } else { rng.below(5) } {
        0 | 1 => ValueTree::Scalar(scalar(rng)),
        2 => ValueTree::Text((*rng.pick(&["", "new text", "ünï 😀"])).into()),
        3 => ValueTree::List((0..rng.below(3)).map(|_| fresh(rng, depth + 1)).collect()),
        _ => ValueTree::Map(
            (0..rng.below(3))
                .map(|i| (format!("k{i}"), fresh(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// `t` changed at random; lists only grow unless `shrink`.
fn mutate(t: &ValueTree, rng: &mut SplitMix64, shrink: bool, depth: usize) -> ValueTree {
    if rng.percent(8) {
        return fresh(rng, depth);
    }
    match t {
        ValueTree::Map(m) => {
            let mut out: BTreeMap<String, ValueTree> = BTreeMap::new();
            for (k, v) in m {
                if rng.percent(10) {
                    continue; // removed
                }
                let v = if rng.percent(40) {
                    mutate(v, rng, shrink, depth + 1)
                } else {
                    v.clone()
                };
                out.insert(k.clone(), v);
            }
            if rng.percent(30) {
                out.insert(format!("new{}", rng.below(5)), fresh(rng, depth + 1));
            }
            ValueTree::Map(out)
        }
        ValueTree::List(l) => {
            let keep = if shrink && !l.is_empty() && rng.percent(40) {
                rng.below(l.len())
            } else {
                l.len()
            };
            let mut out: Vec<ValueTree> = l
                .iter()
                .take(keep)
                .map(|v| {
                    if rng.percent(30) {
                        mutate(v, rng, shrink, depth + 1)
                    } else {
                        v.clone()
                    }
                })
                .collect();
            for _ in 0..rng.below(3) {
                out.push(fresh(rng, depth + 1));
            }
            ValueTree::List(out)
        }
        ValueTree::Text(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            if !chars.is_empty() && rng.percent(50) {
                let at = rng.below(chars.len());
                chars.remove(at);
            }
            let at = rng.below(chars.len() + 1);
            chars.insert(at, *rng.pick(&['a', 'ß', '😀']));
            ValueTree::Text(chars.into_iter().collect())
        }
        ValueTree::Scalar(_) => ValueTree::Scalar(scalar(rng)),
    }
}

/// Whether updating `old` to `new` makes a list shorter in place (a list updated to a
/// shorter list, itself or inside objects updated in place).
fn shrinks(old: &ValueTree, new: &ValueTree) -> bool {
    match (old, new) {
        (ValueTree::List(a), ValueTree::List(b)) => {
            b.len() < a.len() || a.iter().zip(b).any(|(x, y)| shrinks(x, y))
        }
        (ValueTree::Map(a), ValueTree::Map(b)) => a
            .iter()
            .any(|(k, x)| b.get(k).is_some_and(|y| shrinks(x, y))),
        _ => false,
    }
}

#[test]
fn update_object_writes_automerge_s_changes_and_reaches_the_value() {
    let (mut alike, mut shrunk) = (0, 0);
    for seed in sweep(200) {
        let (mut ours, mut theirs) = loaded_pair(seed, &ACTOR);
        let mut rng = SplitMix64::new(seed ^ 0x0b1e);
        // Half the seeds shrink lists on purpose (others may, replacing a list by a new
        // one); from the first update that shrinks a list, the two documents differ, so
        // only ours is checked.
        let shrink = seed % 2 == 1;
        let mut diverged = false;
        for round in 0..4 {
            let target = mutate(&ours.value_tree(&ROOT).unwrap(), &mut rng, shrink, 0);
            let ValueTree::Map(_) = target else {
                continue; // the root stays a map
            };
            let shrinks = shrinks(&ours.value_tree(&ROOT).unwrap(), &target);
            ours.update_object(&ROOT, &target).unwrap();
            assert_eq!(
                ours.value_tree(&ROOT).unwrap(),
                target,
                "seed {seed} round {round}: the document reads the value given"
            );
            if diverged {
                continue;
            }
            theirs
                .transact(|tx| tx.update_object(automerge::ROOT, &to_hydrate(&target)))
                .map_err(|f| f.error)
                .unwrap();
            if ours.save() == theirs.save() {
                alike += 1;
            } else {
                assert!(shrinks, "seed {seed} round {round}: saves differ");
                diverged = true;
                shrunk += 1;
            }
        }
    }
    eprintln!(
        "{alike} updates wrote automerge's change; {shrunk} histories where a list shrank parted"
    );
    assert!(alike > 0);
}

/// `batch_create_object` (a new object at a root key, or inserted into or put over an element
/// of a list) and `init_root_from_value_tree` (into an empty document) write automerge
/// 0.12's changes (`batch_create_object`, `init_root_from_hydrate`), byte for byte.
#[test]
fn batch_creates_write_automerge_s_changes() {
    let mut made = 0;
    for seed in sweep(300) {
        let mut rng = SplitMix64::new(seed ^ 0xba7c);
        // A root of several values, into an empty document.
        let root = ValueTree::Map(
            (0..rng.range(1, 5))
                .map(|i| (format!("r{i}"), fresh(&mut rng, 0)))
                .collect(),
        );
        let mut ours = Document::with_actor(ActorId::from_bytes(&ACTOR));
        let mut theirs =
            automerge::Automerge::new().with_actor(automerge::ActorId::from(&ACTOR[..]));
        ours.init_root_from_value_tree(&root).unwrap();
        let automerge::hydrate::Value::Map(their_root) = to_hydrate(&root) else {
            unreachable!()
        };
        theirs
            .transact(|tx| tx.init_root_from_hydrate(&their_root))
            .map_err(|f| f.error)
            .unwrap();
        assert_eq!(ours.save(), theirs.save(), "seed {seed}: init root");
        assert_eq!(ours.value_tree(&ROOT).unwrap(), root, "seed {seed}");

        // Then new objects: at a root key, and into a list (inserted, or put over an element).
        let list = ours
            .put_object(&ROOT, "list", converge_doc::ObjType::List)
            .unwrap();
        let their_list = theirs
            .transact(|tx| tx.put_object(automerge::ROOT, "list", automerge::ObjType::List))
            .map_err(|f| f.error)
            .unwrap()
            .result;
        for step in 0..4 {
            let value = loop {
                let v = fresh(&mut rng, 0);
                if !matches!(v, ValueTree::Scalar(_)) {
                    break v;
                }
            };
            let len = ours.length(&list).unwrap();
            let (key, index, insert) = (
                format!("k{}", rng.below(3)),
                rng.below(len + 1),
                len == 0 || rng.percent(60),
            );
            let index = if insert { index } else { index.min(len - 1) };
            let in_list = rng.percent(50);
            let id = if in_list {
                ours.batch_create_object(&list, index, &value, insert)
            } else {
                ours.batch_create_object(&ROOT, key.as_str(), &value, false)
            }
            .unwrap();
            assert_eq!(
                ours.value_tree(&id).unwrap(),
                value,
                "seed {seed} step {step}"
            );
            let hydrated = to_hydrate(&value);
            theirs
                .transact(|tx| {
                    if in_list {
                        tx.batch_create_object(&their_list, index, &hydrated, insert)
                    } else {
                        tx.batch_create_object(automerge::ROOT, key.as_str(), &hydrated, false)
                    }
                })
                .map_err(|f| f.error)
                .unwrap();
            assert_eq!(ours.save(), theirs.save(), "seed {seed} step {step}");
            made += 1;
        }
    }
    eprintln!("{made} objects made alike");
}
