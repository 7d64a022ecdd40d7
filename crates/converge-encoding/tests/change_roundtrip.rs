//! Properties of the change codec: random valid parts → encode → decode → same content →
//! encode → same bytes; arbitrary bytes never panic.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use converge_encoding::chunk::{self, ChunkType};
use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeOpRef, ChangeParts, ElemId, Key, ObjId,
    OpId, ScalarValue,
};
use quickcheck::{Arbitrary, Gen, QuickCheck, quickcheck};

fn pick<T: Clone>(g: &mut Gen, items: &[T]) -> T {
    g.choose(items).unwrap().clone()
}

fn small(g: &mut Gen, n: usize) -> usize {
    usize::arbitrary(g) % n
}

fn actor(g: &mut Gen) -> ActorId {
    let len = small(g, 4);
    let bytes: Vec<u8> = (0..len).map(|_| pick(g, &[0u8, 1, 0xaa, 0xff])).collect();
    ActorId::from(bytes)
}

fn op_id(g: &mut Gen, num_actors: u32) -> OpId {
    let counter = if bool::arbitrary(g) {
        u32::arbitrary(g)
    } else {
        small(g, 5) as u32
    };
    OpId::new(counter, u32::arbitrary(g) % num_actors)
}

fn scalar(g: &mut Gen) -> ScalarValue {
    match small(g, 10) {
        0 => ScalarValue::Null,
        1 => ScalarValue::Bool(bool::arbitrary(g)),
        2 => ScalarValue::Uint(u64::arbitrary(g)),
        3 => ScalarValue::Int(i64::arbitrary(g)),
        4 => ScalarValue::F64(f64::from(i32::arbitrary(g)) / 3.0),
        5 => ScalarValue::Str(pick(g, &["", "a", "bc", "é"]).to_owned()),
        6 => ScalarValue::Bytes(Vec::arbitrary(g)),
        7 => ScalarValue::Counter(i64::arbitrary(g)),
        8 => ScalarValue::Timestamp(i64::arbitrary(g)),
        _ => ScalarValue::Unknown {
            type_code: 10 + (u8::arbitrary(g) % 6),
            bytes: Vec::arbitrary(g),
        },
    }
}

#[derive(Clone, Debug)]
struct ValidParts(ChangeParts);

impl Arbitrary for ValidParts {
    fn arbitrary(g: &mut Gen) -> Self {
        let other_actors: Vec<ActorId> = (0..small(g, 4)).map(|_| actor(g)).collect();
        let n = 1 + other_actors.len() as u32;
        let num_ops = small(g, 12);
        let ops = (0..num_ops)
            .map(|_| {
                let action = pick(
                    g,
                    &[
                        Action::MakeMap,
                        Action::Set,
                        Action::MakeList,
                        Action::Del,
                        Action::MakeText,
                        Action::Inc,
                        Action::MakeTable,
                        Action::Mark,
                    ],
                );
                let value = match action {
                    Action::Inc => {
                        if bool::arbitrary(g) {
                            ScalarValue::Int(i64::arbitrary(g))
                        } else {
                            ScalarValue::Uint(u64::arbitrary(g))
                        }
                    }
                    _ => scalar(g),
                };
                let key = match small(g, 3) {
                    0 => Key::Map(pick(g, &["", "k", "key", "ü"]).to_owned()),
                    1 => Key::Seq(ElemId::Head),
                    _ => Key::Seq(ElemId::Op(op_id(g, n))),
                };
                ChangeOp {
                    obj: if bool::arbitrary(g) {
                        ObjId::Root
                    } else {
                        ObjId::Op(op_id(g, n))
                    },
                    key,
                    insert: bool::arbitrary(g),
                    action,
                    value,
                    pred: (0..small(g, 4)).map(|_| op_id(g, n)).collect(),
                    expand: small(g, 4) == 0,
                    mark_name: if small(g, 3) == 0 {
                        Some(pick(g, &["", "bold", "x"]).to_owned())
                    } else {
                        None
                    },
                }
            })
            .collect::<Vec<_>>();
        let max_start = u64::from(u32::MAX) - num_ops.max(1) as u64 + 1;
        let start_op = if bool::arbitrary(g) {
            1 + u64::arbitrary(g) % max_start
        } else {
            1 + small(g, 100) as u64
        };
        ValidParts(ChangeParts {
            actor: actor(g),
            seq: u64::arbitrary(g),
            start_op,
            time: i64::arbitrary(g),
            message: pick(g, &[None, Some(String::new()), Some("msg".to_owned())]),
            deps: (0..small(g, 3))
                .map(|_| ChangeHash([u8::arbitrary(g); 32]))
                .collect(),
            other_actors,
            ops,
            extra_bytes: if bool::arbitrary(g) {
                Vec::new()
            } else {
                Vec::arbitrary(g)
            },
        })
    }
}

/// The content of parts with actor numbers replaced by actor bytes, preds sorted by
/// (counter, actor bytes), and `Some("")` messages as `None`: what encoding must preserve.
fn resolve(p: &ChangeParts) -> impl PartialEq + std::fmt::Debug {
    let actor = |i: u32| -> Vec<u8> {
        match i {
            0 => p.actor.as_bytes().to_vec(),
            i => p.other_actors[i as usize - 1].as_bytes().to_vec(),
        }
    };
    let id = |o: OpId| (o.counter, actor(o.actor));
    let ops: Vec<_> = p
        .ops
        .iter()
        .map(|op| {
            let mut pred: Vec<_> = op.pred.iter().map(|o| id(*o)).collect();
            pred.sort();
            (
                match op.obj {
                    ObjId::Root => None,
                    ObjId::Op(o) => Some(id(o)),
                },
                match &op.key {
                    Key::Map(s) => (Some(s.clone()), None),
                    Key::Seq(ElemId::Head) => (None, None),
                    Key::Seq(ElemId::Op(o)) => (None, Some(id(*o))),
                },
                (op.insert, op.action, format!("{:?}", op.value)),
                pred,
                (op.expand, op.mark_name.clone()),
            )
        })
        .collect();
    (
        (p.actor.clone(), p.seq, p.start_op, p.time),
        p.message.clone().filter(|m| !m.is_empty()),
        p.deps.clone(),
        ops,
        p.extra_bytes.clone(),
    )
}

#[test]
fn parts_encode_decode_encode() {
    fn prop(p: ValidParts) -> bool {
        let p = p.0;
        let c1 = Change::from_parts(p.clone()).unwrap();
        let d = Change::decode(c1.bytes().clone()).unwrap();
        assert_eq!(d.hash(), c1.hash());
        assert_eq!(d.num_ops(), p.ops.len() as u64);
        assert_eq!(d.max_op(), p.start_op + p.ops.len() as u64 - 1);
        op_refs_are_ops(&d);
        let q = d.to_parts();
        assert_eq!(resolve(&q), resolve(&p));
        // the other actors are sorted, unique and not the author
        assert!(q.other_actors.windows(2).all(|w| w[0] < w[1]));
        assert!(!q.other_actors.contains(&q.actor));
        let c2 = Change::from_parts(q.clone()).unwrap();
        assert_eq!(c2.bytes(), c1.bytes());
        assert!(d.is_canonical());
        // canonical parts are reproduced exactly
        assert_eq!(Change::decode(c2.bytes().clone()).unwrap().to_parts(), q);
        // the compressed form decodes to the same change
        let z = Change::decode(c1.compressed_bytes()).unwrap();
        z.bytes() == c1.bytes()
    }
    QuickCheck::new()
        .tests(1000)
        .quickcheck(prop as fn(ValidParts) -> bool);
}

fn rechunk(data: &[u8]) -> Bytes {
    let mut out = Vec::new();
    chunk::write_chunk(&mut out, ChunkType::Change, data);
    Bytes::from(out)
}

/// The borrowed ops ([`Change::op_refs`], what applying a change reads) are the owned ops.
fn op_refs_are_ops(c: &Change) {
    let owned: Vec<ChangeOp> = c.ops().collect();
    let refs = c.op_refs();
    assert_eq!(refs.len() as u64, c.num_ops());
    let borrowed: Vec<_> = refs.iter().collect();
    assert_eq!(borrowed.len(), owned.len());
    // Each pass decodes the ops again, to the same ops (as Debug: see below).
    let again: Vec<_> = refs.iter().collect();
    assert_eq!(format!("{again:?}"), format!("{borrowed:?}"));
    let converted: Vec<_> = owned.iter().map(ChangeOpRef::from).collect();
    // Compared as Debug: a NaN float is not equal to itself.
    assert_eq!(format!("{borrowed:?}"), format!("{converted:?}"));
}

/// Exercises everything a successfully decoded change offers.
fn poke(c: &Change) {
    op_refs_are_ops(c);
    let p = c.to_parts();
    assert_eq!(p.ops.len() as u64, c.num_ops());
    let _ = c.is_canonical();
    let _ = c.compressed_bytes();
    let _ = (c.message(), c.extra_bytes(), c.max_op());
}

quickcheck! {
    fn arbitrary_bytes_never_panic(b: Vec<u8>) -> bool {
        if let Ok(c) = Change::decode(Bytes::from(b.clone())) {
            poke(&c);
        }
        // with a valid envelope, so the data decoder itself is reached
        if let Ok(c) = Change::decode(rechunk(&b)) {
            poke(&c);
        }
        let _ = chunk::split_chunks(&b).count();
        true
    }

    fn mutated_changes_never_panic(p: ValidParts, edits: Vec<(usize, u8)>) -> bool {
        let c = Change::from_parts(p.0).unwrap();
        let mut data = chunk::Chunk::parse(c.bytes()).unwrap().data().to_vec();
        if data.is_empty() {
            return true;
        }
        for (pos, byte) in edits {
            let i = pos % data.len();
            data[i] = byte;
        }
        if let Ok(d) = Change::decode(rechunk(&data)) {
            poke(&d);
        }
        // truncations
        for cut in [1, data.len() / 2] {
            let _ = Change::decode(rechunk(&data[..data.len() - cut.min(data.len())]));
        }
        true
    }
}

/// Throughput on paper-sized histories: 259,778 one-op text-insert changes (the shape of the
/// paper editing trace). Prints numbers, asserts nothing about time. Run with
/// `cargo test --release -p converge-encoding --test change_roundtrip -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, run explicitly"]
fn throughput_paper_sized() {
    use std::time::Instant;
    const N: u32 = 259_778;
    let actor: ActorId = "0123456789abcdef0123456789abcdef".parse().unwrap();
    let text = ObjId::Op(OpId::new(1, 0));
    let mut prev = ChangeHash([0; 32]);
    let t = Instant::now();
    let mut changes = Vec::with_capacity(N as usize);
    for i in 0..N {
        let counter = i + 2;
        let c = Change::from_parts(ChangeParts {
            actor: actor.clone(),
            seq: u64::from(i) + 1,
            start_op: u64::from(counter),
            time: 0,
            message: None,
            deps: if i == 0 { Vec::new() } else { vec![prev] },
            other_actors: Vec::new(),
            ops: vec![ChangeOp {
                obj: text,
                key: if i == 0 {
                    Key::Seq(ElemId::Head)
                } else {
                    Key::Seq(ElemId::Op(OpId::new(counter - 1, 0)))
                },
                insert: true,
                action: Action::Set,
                value: ScalarValue::Str("x".into()),
                pred: Vec::new(),
                expand: false,
                mark_name: None,
            }],
            extra_bytes: Vec::new(),
        })
        .unwrap();
        prev = c.hash();
        changes.push(c);
    }
    let encode = t.elapsed();
    let total: usize = changes.iter().map(|c| c.bytes().len()).sum();
    let t = Instant::now();
    let decoded: Vec<Change> = changes
        .iter()
        .map(|c| Change::decode(c.bytes().clone()).unwrap())
        .collect();
    let decode = t.elapsed();
    let t = Instant::now();
    let ops: usize = decoded.iter().map(|c| c.ops().count()).sum();
    let iterate = t.elapsed();
    let t = Instant::now();
    let reencoded = decoded
        .iter()
        .filter(|c| Change::from_parts(c.to_parts()).unwrap().bytes() == c.bytes())
        .count();
    let roundtrip = t.elapsed();
    assert_eq!((ops, reencoded), (N as usize, N as usize));
    println!(
        "{N} changes, {total} bytes: from_parts {encode:?}, decode (hash + validate) {decode:?}, \
         ops() {iterate:?}, to_parts+from_parts {roundtrip:?}"
    );
}
