//! Property: any document built from parts survives encode → decode unchanged, compressed or
//! not, and re-encodes to the same bytes; reconstructing changes from it never panics.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use converge_encoding::{
    Action, ActorId, ChangeHash, DocChange, DocOp, DocumentChunk, ElemId, Key, ObjId, OpId,
    ScalarValue,
};
use quickcheck::{Arbitrary, Gen, QuickCheck};

#[derive(Clone, Debug)]
struct ArbDoc(DocumentChunk);

fn pick<T: Clone>(g: &mut Gen, xs: &[T]) -> T {
    g.choose(xs).unwrap().clone()
}

fn op_id(g: &mut Gen, actors: u32) -> OpId {
    OpId::new(u32::from(u8::arbitrary(g)) + 1, u32::arbitrary(g) % actors)
}

fn value(g: &mut Gen) -> ScalarValue {
    match u8::arbitrary(g) % 11 {
        0 => ScalarValue::Null,
        1 => ScalarValue::Bool(bool::arbitrary(g)),
        2 => ScalarValue::Uint(u64::arbitrary(g)),
        3 => ScalarValue::Int(i64::arbitrary(g)),
        4 => ScalarValue::F64(f64::from(i32::arbitrary(g)) / 7.0),
        5 => ScalarValue::Str(String::arbitrary(g)),
        6 => ScalarValue::Bytes(Vec::arbitrary(g)),
        7 => ScalarValue::Counter(i64::arbitrary(g)),
        8 => ScalarValue::Timestamp(i64::arbitrary(g)),
        9 => ScalarValue::Str("x".repeat(300)),
        _ => ScalarValue::Unknown {
            type_code: 10 + u8::arbitrary(g) % 6,
            bytes: Vec::arbitrary(g),
        },
    }
}

impl Arbitrary for ArbDoc {
    fn arbitrary(g: &mut Gen) -> Self {
        let n_actors = 1 + u32::arbitrary(g) % 4;
        let mut actors: Vec<ActorId> = (0..n_actors)
            .map(|i| ActorId::from_bytes(&[i as u8, 0xab]))
            .collect();
        actors.sort();
        let n_changes = usize::arbitrary(g) % 8;
        let changes = (0..n_changes)
            .map(|i| DocChange {
                actor: u32::arbitrary(g) % n_actors,
                seq: u64::from(u8::arbitrary(g)) + 1,
                max_op: u64::from(u16::arbitrary(g)),
                time: i64::arbitrary(g),
                message: Option::<String>::arbitrary(g).map(Into::into),
                deps: (0..i as u32).filter(|_| bool::arbitrary(g)).collect(),
                extra_bytes: Vec::arbitrary(g),
            })
            .collect();
        let n_ops = usize::arbitrary(g) % 40;
        let ops = (0..n_ops)
            .map(|_| DocOp {
                id: op_id(g, n_actors),
                obj: if bool::arbitrary(g) {
                    ObjId::Root
                } else {
                    ObjId::Op(op_id(g, n_actors))
                },
                key: match u8::arbitrary(g) % 3 {
                    0 => Key::Map(pick(g, &["a", "bb", "", "ключ"]).to_owned()),
                    1 => Key::Seq(ElemId::Head),
                    _ => Key::Seq(ElemId::Op(op_id(g, n_actors))),
                },
                insert: bool::arbitrary(g),
                action: Action::from_code(u64::from(u8::arbitrary(g) % 8)).unwrap(),
                value: value(g).into(),
                succ: (0..u8::arbitrary(g) % 3)
                    .map(|_| op_id(g, n_actors))
                    .collect(),
                expand: bool::arbitrary(g),
                mark_name: Option::<String>::arbitrary(g).map(String::into_boxed_str),
            })
            .collect();
        let heads = (0..usize::arbitrary(g) % 3)
            .map(|i| (ChangeHash([u8::arbitrary(g); 32]), i))
            .collect();
        ArbDoc(DocumentChunk::from_parts(actors, changes, ops, heads))
    }
}

#[test]
fn encode_decode_round_trip() {
    fn prop(doc: ArbDoc) -> bool {
        let doc = doc.0;
        // Arbitrary parts are mostly not a valid history: an error, never a panic.
        let _ = doc.reconstruct_changes();
        [false, true].into_iter().all(|compress| {
            let bytes = doc.encode(compress);
            match DocumentChunk::decode(&bytes) {
                Ok(back) => back == doc && back.encode(compress) == bytes,
                Err(e) => {
                    eprintln!("decode error {e} for {doc:?}");
                    false
                }
            }
        })
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(prop as fn(ArbDoc) -> bool);
}
