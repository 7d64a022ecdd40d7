//! The worked change examples of spec format.md §6.7 and §6.8, byte for byte, and the §12
//! rejections that apply to change chunks.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use converge_encoding::chunk::{self, ChunkType};
use converge_encoding::{
    Action, ActorId, Change, ChangeHash, ChangeOp, ChangeParts, DecodeError, ElemId, Key, ObjId,
    OpId, ScalarValue,
};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

const EXAMPLE_1: &str = "85 6f 4a 83 33 67 48 1a 01 21 00 02 aa bb 01 01 00 00 00
    06 15 03 34 01 42 02 56 02 57 01 70 02 7f 01 6b 01 7f 01 7f 14 01 7f 00";

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

fn parts(actor: &str, ops: Vec<ChangeOp>) -> ChangeParts {
    ChangeParts {
        actor: actor.parse().unwrap(),
        seq: 1,
        start_op: 1,
        time: 0,
        message: None,
        deps: Vec::new(),
        other_actors: Vec::new(),
        ops,
        extra_bytes: Vec::new(),
    }
}

#[test]
fn example_6_7_decode_and_encode() {
    let bytes = hex(EXAMPLE_1);
    let change = Change::decode(Bytes::from(bytes.clone())).unwrap();
    assert_eq!(
        change.hash().to_string(),
        "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
    );
    assert_eq!(change.actor().as_bytes(), [0xaa, 0xbb]);
    assert_eq!(
        (change.seq(), change.start_op(), change.max_op()),
        (1, 1, 1)
    );
    assert_eq!(change.time(), 0);
    assert_eq!(change.message(), None);
    assert!(change.deps().is_empty());
    assert_eq!(change.num_ops(), 1);
    let ops: Vec<_> = change.ops().collect();
    let expected = op(
        ObjId::Root,
        Key::Map("k".into()),
        false,
        Action::Set,
        ScalarValue::Int(1),
    );
    assert_eq!(ops, std::slice::from_ref(&expected));
    assert!(change.is_canonical());

    let built = Change::from_parts(parts("aabb", vec![expected])).unwrap();
    assert_eq!(built.bytes().as_ref(), bytes.as_slice());
    assert_eq!(built.hash(), change.hash());
    // short chunks are not compressed
    assert_eq!(built.compressed_bytes(), *built.bytes());
}

fn example_2_parts() -> ChangeParts {
    let list = ObjId::Op(OpId::new(1, 0));
    let mut p = parts(
        "01",
        vec![
            op(
                ObjId::Root,
                Key::Map("l".into()),
                false,
                Action::MakeList,
                ScalarValue::Null,
            ),
            op(
                list,
                Key::Seq(ElemId::Head),
                true,
                Action::Set,
                ScalarValue::Str("a".into()),
            ),
            op(
                list,
                Key::Seq(ElemId::Op(OpId::new(2, 0))),
                true,
                Action::Set,
                ScalarValue::Str("b".into()),
            ),
        ],
    );
    p.message = Some("m".into());
    p
}

#[test]
fn example_6_8() {
    let data = hex("00 01 01 01 01 00 01 6d 00 0a
        01 04 02 04 11 04 13 05 15 05 34 02 42 04 56 04 57 02 70 02
        00 01 02 00  00 01 02 01  00 02 7f 00  00 01 7e 00 02  7f 01 6c 00 02
        01 02  7f 02 02 01  7f 00 02 16  61 62  03 00");
    assert_eq!(data.len(), 0x42);
    let mut expected = Vec::new();
    chunk::write_chunk(&mut expected, ChunkType::Change, &data);
    let built = Change::from_parts(example_2_parts()).unwrap();
    assert_eq!(built.bytes().as_ref(), expected.as_slice());
    let decoded = Change::decode(Bytes::from(expected)).unwrap();
    assert_eq!(decoded.to_parts(), example_2_parts());
    assert_eq!(decoded.message(), Some("m"));
    assert_eq!(decoded.max_op(), 3);
}

#[test]
fn example_6_8_following_change() {
    // del "a" (obj 1@0, key 2@0, pred [2@0]) and set "c" = counter(5).
    let list = ObjId::Op(OpId::new(1, 0));
    let mut del = op(
        list,
        Key::Seq(ElemId::Op(OpId::new(2, 0))),
        false,
        Action::Del,
        ScalarValue::Null,
    );
    del.pred = vec![OpId::new(2, 0)];
    let set = op(
        ObjId::Root,
        Key::Map("c".into()),
        false,
        Action::Set,
        ScalarValue::Counter(5),
    );
    let mut p = parts("01", vec![del, set]);
    p.seq = 2;
    p.start_op = 4;
    p.deps = vec![Change::from_parts(example_2_parts()).unwrap().hash()];
    let c = Change::from_parts(p.clone()).unwrap();
    let b = c.bytes();
    let contains = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    for col in [
        &[0x7e, 0x01, 0x00][..],
        &[0x7f, 0x00, 0x7f, 0x02],
        &[0x7e, 0x03, 0x01, 0x7e, 0x00, 0x18, 0x05],
    ] {
        assert!(contains(col), "{col:02x?} in {b:02x?}");
    }
    assert_eq!(Change::decode(b.clone()).unwrap().to_parts(), p);
}

fn rechunk(data: &[u8]) -> Bytes {
    let mut out = Vec::new();
    chunk::write_chunk(&mut out, ChunkType::Change, data);
    Bytes::from(out)
}

fn example_1_data() -> Vec<u8> {
    hex(EXAMPLE_1)[10..].to_vec()
}

#[test]
fn checksum_and_envelope_rejections() {
    let mut bytes = hex(EXAMPLE_1);
    bytes[5] ^= 0xff;
    assert!(matches!(
        Change::decode(Bytes::from(bytes.clone())),
        Err(DecodeError::BadChecksum { .. })
    ));
    // Change::try_from in the reference does not check the checksum
    let c = Change::decode_unchecked_checksum(Bytes::from(bytes)).unwrap();
    assert_eq!(
        c.hash().to_string(),
        "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
    );

    let mut trailing = hex(EXAMPLE_1);
    trailing.push(0);
    assert!(matches!(
        Change::decode(Bytes::from(trailing)),
        Err(DecodeError::LeftoverData { len: 1 })
    ));
    let mut doc = Vec::new();
    chunk::write_chunk(&mut doc, ChunkType::Document, &[0, 0, 0, 0]);
    assert!(matches!(
        Change::decode(Bytes::from(doc)),
        Err(DecodeError::WrongChunkType { found: 0, .. })
    ));
}

#[test]
fn header_rejections() {
    let data = example_1_data();
    // startOp = 0 (offset of startOp in the data: 0 deps, 3 actor bytes, seq)
    let mut d = data.clone();
    d[5] = 0;
    assert!(matches!(
        Change::decode(rechunk(&d)),
        Err(DecodeError::UnexpectedZero { .. })
    ));
    // overlong seq: replace `01` by `81 00`
    let mut d = data[..4].to_vec();
    d.extend_from_slice(&[0x81, 0x00]);
    d.extend_from_slice(&data[5..]);
    assert!(matches!(
        Change::decode(rechunk(&d)),
        Err(DecodeError::Leb128Overlong { .. })
    ));
    // startOp > u32::MAX
    let mut d = data[..5].to_vec();
    d.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x10]);
    d.extend_from_slice(&data[6..]);
    assert!(matches!(
        Change::decode(rechunk(&d)),
        Err(DecodeError::OutOfRange { .. })
    ));
}

/// Example 1's data with the column block replaced.
fn with_columns(cols: &[(u32, &[u8])], extra: &[u8]) -> Bytes {
    let mut d = example_1_data()[..9].to_vec();
    d.push(cols.len() as u8);
    for (spec, data) in cols {
        let mut s = Vec::new();
        converge_encoding::leb128::write_u64(&mut s, u64::from(*spec));
        d.extend_from_slice(&s);
        d.push(data.len() as u8);
    }
    for (_, data) in cols {
        d.extend_from_slice(data);
    }
    d.extend_from_slice(extra);
    rechunk(&d)
}

const KEY_K: (u32, &[u8]) = (0x15, &[0x7f, 0x01, 0x6b]);
const INSERT_F: (u32, &[u8]) = (0x34, &[0x01]);
const SET: (u32, &[u8]) = (0x42, &[0x7f, 0x01]);
const META_INT1: (u32, &[u8]) = (0x56, &[0x7f, 0x14]);
const RAW_1: (u32, &[u8]) = (0x57, &[0x01]);
const PRED_0: (u32, &[u8]) = (0x70, &[0x7f, 0x00]);

#[test]
fn column_block_matches_example() {
    let c = with_columns(&[KEY_K, INSERT_F, SET, META_INT1, RAW_1, PRED_0], &[]);
    assert_eq!(c.as_ref(), hex(EXAMPLE_1).as_slice());
}

#[test]
fn op_rejections() {
    let decode = |cols: &[(u32, &[u8])]| Change::decode(with_columns(cols, &[]));
    // action 8
    assert!(matches!(
        decode(&[
            KEY_K,
            INSERT_F,
            (0x42, &[0x7f, 0x08]),
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::UnknownAction { code: 8, .. })
    ));
    // inc with a string value
    assert!(matches!(
        decode(&[
            KEY_K,
            INSERT_F,
            (0x42, &[0x7f, 0x05]),
            (0x56, &[0x7f, 0x16]),
            (0x57, b"x"),
            PRED_0
        ]),
        Err(DecodeError::NonNumericInc { .. })
    ));
    // inc with uint is fine
    assert!(
        decode(&[
            KEY_K,
            INSERT_F,
            (0x42, &[0x7f, 0x05]),
            (0x56, &[0x7f, 0x13]),
            RAW_1,
            PRED_0
        ])
        .is_ok()
    );
    // all three key columns present
    assert!(matches!(
        decode(&[
            (0x11, &[0x7f, 0x00]),
            (0x13, &[0x7f, 0x01]),
            KEY_K,
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::InvalidKey { .. })
    ));
    // key actor without counter
    assert!(matches!(
        decode(&[
            (0x11, &[0x7f, 0x00]),
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::InvalidKey { .. })
    ));
    // actor index beyond the table (no other actors)
    assert!(matches!(
        decode(&[
            (0x11, &[0x7f, 0x01]),
            (0x13, &[0x7f, 0x01]),
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::ActorIndexOutOfRange { index: 1, .. })
    ));
    // key counter > u32::MAX
    assert!(matches!(
        decode(&[
            (0x11, &[0x7f, 0x00]),
            (0x13, &[0x7f, 0x80, 0x80, 0x80, 0x80, 0x10]),
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::OutOfRange { .. })
    ));
    // deflated column
    assert!(matches!(
        decode(&[
            (0x1d, &[0x7f, 0x01, 0x6b]),
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0
        ]),
        Err(DecodeError::CompressedChangeCols { spec: 0x1d })
    ));
    // columns out of order
    assert!(matches!(
        decode(&[INSERT_F, KEY_K, SET, META_INT1, RAW_1, PRED_0]),
        Err(DecodeError::NotInNormalOrder { .. })
    ));
    // value column without metadata
    assert!(matches!(
        decode(&[KEY_K, INSERT_F, SET, RAW_1, PRED_0]),
        Err(DecodeError::LoneValueColumn { .. })
    ));
    // missing insert column / missing pred count / null value metadata
    assert!(matches!(
        decode(&[KEY_K, SET, META_INT1, RAW_1, PRED_0]),
        Err(DecodeError::UnexpectedNull { .. })
    ));
    assert!(matches!(
        decode(&[KEY_K, INSERT_F, SET, META_INT1, RAW_1]),
        Err(DecodeError::UnexpectedNull { .. })
    ));
    assert!(matches!(
        decode(&[KEY_K, INSERT_F, SET, (0x56, &[0x00, 0x01]), PRED_0]),
        Err(DecodeError::UnexpectedNull { .. })
    ));
    // float of the wrong length, overlong int value
    assert!(decode(&[KEY_K, INSERT_F, SET, (0x56, &[0x7f, 0x15]), RAW_1, PRED_0]).is_err());
    assert!(
        decode(&[
            KEY_K,
            INSERT_F,
            SET,
            (0x56, &[0x7f, 0x24]),
            (0x57, &[0x81, 0x00]),
            PRED_0
        ])
        .is_err()
    );
    // a hostile change whose runs claim 2^30 ops is cut off at MAX_CHANGE_OPS
    const BIG: [u8; 5] = [0x80, 0x80, 0x80, 0x80, 0x04];
    let col = |v: &[u8]| [&BIG[..], v].concat();
    let (key, ins, act, meta, pred) = (
        col(&[0x01, 0x6b]),
        col(&[]),
        col(&[0x01]),
        col(&[0x00]),
        col(&[0x00]),
    );
    assert!(matches!(
        decode(&[
            (0x15, &key),
            (0x34, &ins),
            (0x42, &act),
            (0x56, &meta),
            (0x70, &pred)
        ]),
        Err(DecodeError::TooManyRows { .. })
    ));
}

/// A change of `n` puts of null to root key "k", every column one run: a few bytes for any
/// `n` (`n` written as LEB128, which both the RLE and the boolean columns read as a count
/// here: `n` < 2^27 keeps it positive as signed LEB128).
fn one_run_of_puts(n: &[u8]) -> Bytes {
    let col = |v: &[u8]| [n, v].concat();
    let (key, ins, act, meta, pred) = (
        col(&[0x01, 0x6b]),
        n.to_vec(),
        col(&[0x01]),
        col(&[0x00]),
        col(&[0x00]),
    );
    with_columns(
        &[
            (0x15, &key),
            (0x34, &ins),
            (0x42, &act),
            (0x56, &meta),
            (0x70, &pred),
        ],
        &[],
    )
}

#[test]
fn a_change_of_the_most_ops_is_read_by_its_runs() {
    // 2^24 ops, the most a change may hold: accepted (its runs are checked, not each row).
    let c = Change::decode(one_run_of_puts(&[0x80, 0x80, 0x80, 0x08])).unwrap();
    assert_eq!(c.num_ops(), 1 << 24);
    // 2^24 + 1: one too many.
    assert!(matches!(
        Change::decode(one_run_of_puts(&[0x81, 0x80, 0x80, 0x08])),
        Err(DecodeError::TooManyRows {
            what: "change ops",
            ..
        })
    ));
}

#[test]
fn tolerated_but_not_canonical() {
    // obj counter 0 without actor reads as the root
    let c = Change::decode(with_columns(
        &[
            (0x02, &[0x7f, 0x00]),
            KEY_K,
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0,
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(c.ops().next().unwrap().obj, ObjId::Root);
    assert!(!c.is_canonical());
    // unknown column
    let c = Change::decode(with_columns(
        &[
            KEY_K,
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0,
            (0xf2, &[0x7f, 0x01]),
        ],
        &[],
    ))
    .unwrap();
    assert!(c.has_unknown_columns());
    assert!(!c.is_canonical());
    // non-canonical RLE (repeat of one) in a change column is accepted
    let c = Change::decode(with_columns(
        &[
            (0x15, &[0x01, 0x01, 0x6b]),
            INSERT_F,
            SET,
            META_INT1,
            RAW_1,
            PRED_0,
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(c.num_ops(), 1);
    assert!(!c.is_canonical());
    // extra bytes are kept and hashed
    let c = Change::decode(with_columns(
        &[KEY_K, INSERT_F, SET, META_INT1, RAW_1, PRED_0],
        &[1, 2, 0xaa, 0xbb],
    ))
    .unwrap();
    assert_eq!(c.extra_bytes(), [1, 2, 0xaa, 0xbb]);
    assert!(c.is_canonical());
    // unsorted other actors
    let a: ActorId = "cc".parse().unwrap();
    let b: ActorId = "bb".parse().unwrap();
    let mut p = parts("aa", Vec::new());
    p.other_actors = vec![a.clone(), b.clone()];
    p.ops = vec![ChangeOp {
        pred: vec![OpId::new(1, 1), OpId::new(1, 2)],
        ..op(
            ObjId::Root,
            Key::Map("x".into()),
            false,
            Action::Del,
            ScalarValue::Null,
        )
    }];
    let c = Change::from_parts(p).unwrap();
    assert_eq!(c.other_actors(), [b, a]);
    // preds sorted by (counter, actor bytes): bb (1) before cc (2)
    assert_eq!(
        c.ops().next().unwrap().pred,
        [OpId::new(1, 1), OpId::new(1, 2)]
    );
    assert!(c.is_canonical());
}

#[test]
fn compressed_round_trip() {
    let mut p = parts("aabb", Vec::new());
    p.ops = (0..100)
        .map(|i| {
            op(
                ObjId::Root,
                Key::Map(format!("key{i}")),
                false,
                Action::Set,
                ScalarValue::Int(i),
            )
        })
        .collect();
    let c = Change::from_parts(p).unwrap();
    assert!(c.bytes().len() > 256);
    let z = c.compressed_bytes();
    assert_eq!(z[8], 2);
    assert_eq!(&z[4..8], &c.hash().0[..4]);
    assert!(z.len() < c.bytes().len());
    let d = Change::decode(z.clone()).unwrap();
    assert_eq!(d.bytes(), c.bytes());
    assert_eq!(d.hash(), c.hash());
    // the outer checksum must match the uncompressed change
    let mut bad = z.to_vec();
    bad[4] ^= 1;
    assert!(matches!(
        Change::decode(Bytes::from(bad.clone())),
        Err(DecodeError::BadChecksum { .. })
    ));
    assert!(Change::decode_unchecked_checksum(Bytes::from(bad)).is_ok());
    let _: ChangeHash = d.hash();
}

#[test]
fn empty_change() {
    let mut p = parts("aabb", Vec::new());
    p.start_op = 7;
    let c = Change::from_parts(p.clone()).unwrap();
    assert_eq!(c.num_ops(), 0);
    assert_eq!(c.max_op(), 6);
    // zero columns
    assert_eq!(c.bytes()[c.bytes().len() - 1], 0);
    assert_eq!(Change::decode(c.bytes().clone()).unwrap().to_parts(), p);
}

#[test]
fn build_rejections() {
    let mut p = parts("aa", Vec::new());
    p.start_op = 0;
    assert!(matches!(
        Change::from_parts(p),
        Err(DecodeError::UnexpectedZero { .. })
    ));
    let mut p = parts("aa", Vec::new());
    p.ops = vec![op(
        ObjId::Op(OpId::new(1, 3)),
        Key::Map("x".into()),
        false,
        Action::Set,
        ScalarValue::Null,
    )];
    assert!(matches!(
        Change::from_parts(p),
        Err(DecodeError::ActorIndexOutOfRange { .. })
    ));
    let mut p = parts("aa", Vec::new());
    p.ops = vec![op(
        ObjId::Root,
        Key::Map("x".into()),
        false,
        Action::Inc,
        ScalarValue::Str("no".into()),
    )];
    assert!(matches!(
        Change::from_parts(p),
        Err(DecodeError::NonNumericInc { .. })
    ));
}

/// automerge 0.12 reads a change's object ids only when both obj columns hold data; with
/// either one empty or absent every op's object is the root and the other column is never
/// read. (Found by `make oracle-long`: converge refused such chunks, the reference applied
/// them.)
#[test]
fn a_lone_obj_column_leaves_every_op_in_the_root() {
    const ACTOR: (u32, &[u8]) = (0x01, &[0x7f, 0x00]);
    const COUNTER: (u32, &[u8]) = (0x02, &[0x7f, 0x05]);
    // The object of the one op (a put of key "k") read from these obj columns.
    let obj_of = |obj: &[(u32, &[u8])]| {
        let mut cols = obj.to_vec();
        cols.extend([KEY_K, INSERT_F, SET, META_INT1, RAW_1, PRED_0]);
        let change = Change::decode(with_columns(&cols, &[])).expect("the reference accepts it");
        let ops: Vec<_> = change.ops().collect();
        assert_eq!(ops.len(), 1);
        ops[0].obj
    };
    assert_eq!(obj_of(&[ACTOR]), ObjId::Root);
    assert_eq!(obj_of(&[COUNTER]), ObjId::Root);
    assert_eq!(obj_of(&[ACTOR, COUNTER]), ObjId::Op(OpId::new(5, 0)));
}

/// automerge 0.12 refuses a change whose pred group's members are not an actor (or
/// integer) column and a delta column, or none, even a change without ops (found by `make
/// oracle-long`: converge loaded such chunks).
#[test]
fn a_pred_group_with_other_members_is_refused() {
    let decode = |cols: &[(u32, &[u8])]| Change::decode(with_columns(cols, &[]));
    assert!(matches!(
        decode(&[(0x70, &[0x7f, 0x00]), (0x71, &[0x7f, 0x00])]),
        Err(DecodeError::MismatchedPredGroup { spec: 0x70 })
    ));
    assert!(matches!(
        decode(&[(0x70, &[0x7f, 0x00]), (0x73, &[0x7f, 0x00])]),
        Err(DecodeError::MismatchedPredGroup { spec: 0x70 })
    ));
    // More than two members, whatever they are.
    assert!(matches!(
        decode(&[
            (0x70, &[0x7f, 0x00]),
            (0x71, &[0x7f, 0x00]),
            (0x73, &[0x7f, 0x00]),
            (0x73, &[0x7f, 0x00])
        ]),
        Err(DecodeError::MismatchedPredGroup { spec: 0x70 })
    ));
    // The group closed by the column after it, and by the end of the metadata.
    assert!(matches!(
        decode(&[(0x70, &[0x7f, 0x00]), (0x73, &[0x7f, 0x00]), (0x93, &[])]),
        Err(DecodeError::MismatchedPredGroup { spec: 0x70 })
    ));
    assert!(decode(&[(0x70, &[0x7f, 0x00])]).is_ok());
    assert!(decode(&[(0x70, &[0x7f, 0x00]), (0x71, &[]), (0x73, &[])]).is_ok());
    assert!(decode(&[KEY_K, INSERT_F, SET, META_INT1, RAW_1, PRED_0]).is_ok());
}

/// Columns of a group's id right after its group column are the group's members, as
/// automerge 0.12 reads them: an action column after a group column of id 4 is no action
/// column, so the change has no ops (found by `make oracle-long`).
#[test]
fn group_members_are_not_columns_of_their_own() {
    let decode = |cols: &[(u32, &[u8])]| Change::decode(with_columns(cols, &[]));
    let change = decode(&[KEY_K, (0x40, &[0x01]), SET, META_INT1, RAW_1, PRED_0])
        .expect("the reference reads no ops here");
    assert_eq!(change.ops().count(), 0);
    assert!(!change.is_canonical());
}

#[test]
fn a_deletion_or_a_make_op_with_a_value_is_canonical_but_not_kept_by_documents() {
    let put = op(
        ObjId::Root,
        Key::Map("k".into()),
        false,
        Action::Set,
        ScalarValue::Int(1),
    );
    let mut del = op(
        ObjId::Root,
        Key::Map("k".into()),
        false,
        Action::Del,
        ScalarValue::Null,
    );
    del.pred = vec![OpId::new(1, 0)];
    let plain = Change::from_parts(parts("aa", vec![put.clone(), del.clone()])).unwrap();
    assert!(plain.is_canonical() && plain.kept_by_documents());
    // A document keeps a deletion as its target's successor only: none of these survives.
    let mut valued = del.clone();
    valued.value = ScalarValue::Bool(true);
    let mut inserting = del.clone();
    inserting.insert = true;
    let mut expanding = del.clone();
    expanding.expand = true;
    let mut named = del;
    named.mark_name = Some("bold".into());
    for odd in [valued, inserting, expanding, named] {
        let c = Change::from_parts(parts("aa", vec![put.clone(), odd])).unwrap();
        assert!(c.is_canonical(), "our own encoding");
        assert!(!c.kept_by_documents());
    }
    // Nor an increment by an unsigned amount: a document keeps the amount signed (found by
    // the doc_load fuzzer: regression bundle-readback-be47da3c, a bundle of such a change
    // read back under another hash).
    for (amount, kept) in [(ScalarValue::Uint(0), false), (ScalarValue::Int(0), true)] {
        let mut inc = op(
            ObjId::Root,
            Key::Map("a".into()),
            false,
            Action::Inc,
            amount,
        );
        inc.pred = vec![OpId::new(1, 0)];
        let counter = op(
            ObjId::Root,
            Key::Map("a".into()),
            false,
            Action::Set,
            ScalarValue::Counter(1),
        );
        let c = Change::from_parts(parts("aa", vec![counter, inc])).unwrap();
        assert!(c.is_canonical());
        assert_eq!(c.kept_by_documents(), kept);
    }
    // Nor an object's make op with a value (checked against a save and load in converge-doc
    // while this was written: its heads did not verify).
    for action in [
        Action::MakeMap,
        Action::MakeList,
        Action::MakeText,
        Action::MakeTable,
    ] {
        let make = op(
            ObjId::Root,
            Key::Map("m".into()),
            false,
            action,
            ScalarValue::Bool(true),
        );
        let c = Change::from_parts(parts("aa", vec![make.clone()])).unwrap();
        assert!(c.is_canonical() && !c.kept_by_documents());
        let plain = ChangeOp {
            value: ScalarValue::Null,
            ..make
        };
        assert!(
            Change::from_parts(parts("aa", vec![plain]))
                .unwrap()
                .kept_by_documents()
        );
    }
}
