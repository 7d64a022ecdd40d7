//! Change chunks: every change the oracle writes decodes with `converge_encoding::Change`, and
//! our canonical encoder re-creates exactly the oracle's bytes and hash, uncompressed
//! (`Change::raw_bytes`) and compressed (`Change::bytes`, type 2 when over 256 bytes).

mod support;

use bytes::Bytes;
use converge_encoding::Change;
use support::{History, Params};

/// Seeds swept; together they give well over 2,000 changes.
const SEEDS: u64 = 200;

#[derive(Default)]
struct Counts {
    changes: usize,
    compressed: usize,
    with_ops_over_256: usize,
}

#[test]
fn oracle_changes_roundtrip_exactly() {
    let mut counts = Counts::default();
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        for mut oracle in history.changes() {
            check_change(seed, &mut oracle, &mut counts);
        }
    }
    println!(
        "{} oracle changes decoded and re-encoded byte-identically; {} compressed (type 2) forms \
         matched; {} changes over 256 bytes",
        counts.changes, counts.compressed, counts.with_ops_over_256
    );
    assert!(counts.changes >= 2000, "only {} changes", counts.changes);
    assert!(
        counts.compressed >= 100,
        "only {} compressed",
        counts.compressed
    );
}

fn check_change(seed: u64, oracle: &mut automerge::Change, counts: &mut Counts) {
    let raw = oracle.raw_bytes().to_vec();
    let hash = oracle.hash().0;
    let ctx = || format!("seed {seed}, change {}", hex(&hash));

    let ours = Change::decode(Bytes::from(raw.clone()))
        .unwrap_or_else(|e| panic!("{}: decode failed: {e}", ctx()));
    assert_eq!(ours.hash().0, hash, "{}: hash", ctx());
    assert_eq!(ours.bytes().as_ref(), &raw[..], "{}: bytes kept", ctx());
    assert_eq!(ours.seq(), oracle.seq(), "{}: seq", ctx());
    assert_eq!(
        ours.start_op(),
        oracle.start_op().get(),
        "{}: startOp",
        ctx()
    );
    assert_eq!(ours.max_op(), oracle.max_op(), "{}: maxOp", ctx());
    assert_eq!(ours.num_ops(), oracle.len() as u64, "{}: ops", ctx());
    assert_eq!(ours.time(), oracle.timestamp(), "{}: time", ctx());
    assert_eq!(ours.message(), oracle.message(), "{}: message", ctx());
    assert_eq!(
        ours.actor().as_bytes(),
        oracle.actor_id().to_bytes(),
        "{}: actor",
        ctx()
    );
    let deps: Vec<[u8; 32]> = ours.deps().iter().map(|h| h.0).collect();
    let oracle_deps: Vec<[u8; 32]> = oracle.deps().iter().map(|h| h.0).collect();
    assert_eq!(deps, oracle_deps, "{}: deps", ctx());
    assert_eq!(
        ours.extra_bytes(),
        oracle.extra_bytes(),
        "{}: extra bytes",
        ctx()
    );
    assert!(!ours.has_unknown_columns(), "{}: unknown columns", ctx());

    // Canonical re-encode from the decoded content.
    let again = Change::from_parts(ours.to_parts())
        .unwrap_or_else(|e| panic!("{}: from_parts failed: {e}", ctx()));
    assert_eq!(
        again.bytes().as_ref(),
        &raw[..],
        "{}: re-encoded bytes",
        ctx()
    );
    assert_eq!(again.hash().0, hash, "{}: re-encoded hash", ctx());
    assert!(ours.is_canonical(), "{}: is_canonical", ctx());
    counts.changes += 1;

    // Compressed form.
    let oracle_compressed = oracle.bytes().into_owned();
    assert_eq!(
        ours.compressed_bytes().as_ref(),
        &oracle_compressed[..],
        "{}: compressed bytes",
        ctx()
    );
    if raw.len() > 256 {
        counts.with_ops_over_256 += 1;
    }
    if oracle_compressed != raw {
        assert_eq!(oracle_compressed[8], 2, "{}: oracle compressed type", ctx());
        let from_compressed = Change::decode(Bytes::from(oracle_compressed))
            .unwrap_or_else(|e| panic!("{}: decode of compressed form failed: {e}", ctx()));
        assert_eq!(from_compressed.hash().0, hash, "{}: compressed hash", ctx());
        assert_eq!(
            from_compressed.bytes().as_ref(),
            &raw[..],
            "{}: compressed form inflates to the raw change",
            ctx()
        );
        counts.compressed += 1;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The worked example of spec §6.7, built with our encoder, is byte-identical to the oracle's.
#[test]
fn spec_example_matches_oracle() {
    use automerge::transaction::Transactable;
    let mut doc =
        automerge::AutoCommit::new().with_actor(automerge::ActorId::from(&[0xaa, 0xbb][..]));
    doc.put(automerge::ROOT, "k", 1).unwrap();
    doc.commit();
    let oracle = doc.get_changes(&[]).pop().unwrap();
    let ours = Change::decode(Bytes::copy_from_slice(oracle.raw_bytes())).unwrap();
    assert_eq!(
        ours.hash().to_hex(),
        "3367481a9ef8c6f815a0209c8fb5f4359fb26c5b46285e616b02949e78b1a797"
    );
    assert_eq!(ours.hash().0, oracle.hash().0);
}
