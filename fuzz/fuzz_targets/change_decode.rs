//! Change decoding never panics; a decoded canonical change re-encodes to exactly its input,
//! and any decoded change re-encodes to a change that decodes to the same content. Its bytes
//! read back with the hash and op count known (`Change::decode_known`, how a document reads
//! its stored changes) give the same change. Its ops read borrowed (`Change::op_refs`, what
//! applying a change reads) are its owned ops.
#![no_main]

use bytes::Bytes;
use converge_encoding::{Change, KeyRef, ScalarValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(change) = Change::decode_unchecked_checksum(Bytes::copy_from_slice(data)) else {
        return;
    };
    let owned: Vec<_> = change.ops().collect();
    let refs = change.op_refs();
    assert_eq!(refs.len(), owned.len());
    assert_eq!(refs.len() as u64, change.num_ops());
    for (r, o) in refs.iter().zip(&owned) {
        assert_eq!(r.obj, o.obj);
        assert_eq!(r.key, KeyRef::of(&o.key));
        assert_eq!((r.insert, r.action, r.expand), (o.insert, o.action, o.expand));
        // Debug: a NaN float is not equal to itself.
        assert_eq!(
            format!("{:?}", ScalarValue::from(r.value)),
            format!("{:?}", o.value)
        );
        assert_eq!(r.pred, &o.pred[..]);
        assert_eq!(r.mark_name, o.mark_name.as_deref());
    }
    let num_ops = u32::try_from(change.num_ops()).expect("at most MAX_CHANGE_OPS ops");
    let known = Change::decode_known(change.bytes().clone(), change.hash(), num_ops)
        .expect("a decoded change's bytes decode with what is known of them");
    assert_eq!(known, change);
    assert_eq!(known.num_ops(), change.num_ops());
    let Ok(rebuilt) = Change::from_parts(change.to_parts()) else {
        return;
    };
    if change.is_canonical() {
        assert_eq!(
            rebuilt.bytes(),
            change.bytes(),
            "canonical change re-encodes byte for byte"
        );
        assert_eq!(rebuilt.hash(), change.hash());
    }
    let again = Change::decode(rebuilt.bytes().clone()).expect("our own encoding decodes");
    assert!(again.is_canonical(), "our own encoding is canonical");
    assert_eq!(again.hash(), rebuilt.hash());
    let _ = change.compressed_bytes();
});
