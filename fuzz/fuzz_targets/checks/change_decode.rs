//! The `change_decode` fuzz target's checks, compiled into the target and into the replay of
//! its seeds and regressions in `crates/converge-encoding/tests/fuzz_replay.rs` (the fuzz
//! crate is its own workspace: both include this file by path).
//!
//! Change decoding never panics; a decoded canonical change re-encodes to exactly its input,
//! and any decoded change re-encodes to a change that decodes to the same content. Its bytes
//! read back with the hash and op count known (`Change::decode_known`, how a document reads
//! its stored changes) give the same change. Its ops read borrowed (`Change::op_refs`, what
//! applying a change reads) are its owned ops, as many as decoding counted (for changes of
//! up to 2^16 ops: the rows of a larger one, a few bytes of runs, would take gigabytes).

use bytes::Bytes;
use converge_encoding::{Change, ChangeOp, ChangeOpRef};

/// Runs the checks on one input.
pub(crate) fn check(data: &[u8]) {
    let Ok(change) = Change::decode_unchecked_checksum(Bytes::copy_from_slice(data)) else {
        return;
    };
    let num_ops = u32::try_from(change.num_ops()).expect("at most MAX_CHANGE_OPS ops");
    let known = Change::decode_known(change.bytes().clone(), change.hash(), num_ops)
        .expect("a decoded change's bytes decode with what is known of them");
    assert_eq!(known, change);
    assert_eq!(known.num_ops(), change.num_ops());
    // A few bytes of runs can make a valid change of up to 2^24 ops (validated by runs, in a
    // few steps): its ops, collected below, would take gigabytes. Those checks are for
    // changes of a size that the fuzzer's memory limit allows.
    if change.num_ops() > 1 << 16 {
        return;
    }
    let owned: Vec<ChangeOp> = change.ops().collect();
    let refs = change.op_refs();
    assert_eq!(refs.len() as u64, change.num_ops());
    let borrowed: Vec<_> = refs.iter().collect();
    let converted: Vec<_> = owned.iter().map(ChangeOpRef::from).collect();
    // Compared as Debug: a NaN float is not equal to itself.
    assert_eq!(format!("{borrowed:?}"), format!("{converted:?}"));
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
}
