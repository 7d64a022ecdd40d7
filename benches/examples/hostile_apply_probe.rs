//! Applies changes of a few bytes whose runs claim many ops, the shapes that were quadratic
//! before 1a5d61d and 72c6f56: one change of 2^K concurrent puts of one map key (no
//! preds), then another actor's change of the same, then a third change putting over all
//! 2^(K+1) values with that many preds; each step timed.
//!
//! ```text
//! cargo run --release -p converge-benches --example hostile_apply_probe -- [K] [--write OUT]
//! ```
//!
//! With `--write OUT` it only writes the first change to `OUT` in the changes-file form of
//! `doc_peak_memory` (a little-endian `u32` length, then the chunk), for its
//! `converge-remote-one-call` and `automerge-remote-one-call` modes.
//!
//! K defaults to 16; 16-20 shows how the time grows. K = 24 is the most a change may hold
//! (2^24 ops): session 47 applied the first two such changes in 25 s at 3.8 GB of RSS
//! (through a scratch copy of this probe) and did not run the third at that size.

use converge_doc::Document;
use converge_encoding::chunk::{ChunkType, write_chunk};
use converge_encoding::{ChangeHash, leb128};

fn columns(d: &mut Vec<u8>, cols: &[(u32, Vec<u8>)]) {
    d.push(cols.len() as u8);
    for (spec, data) in cols {
        leb128::write_u64(d, u64::from(*spec));
        leb128::write_u64(d, data.len() as u64);
    }
    for (_, data) in cols {
        d.extend_from_slice(data);
    }
}

/// A change by actor `[actor; 16]` (seq 1, no deps, start op 1) of `n` puts of null to root
/// key "k" with no preds: every column one run.
fn concurrent_puts(actor: u8, n: u64) -> (Vec<u8>, ChangeHash) {
    let mut runs = Vec::new();
    leb128::write_i64(&mut runs, n as i64);
    let mut count = Vec::new();
    leb128::write_u64(&mut count, n);
    let col = |v: &[u8]| [&runs[..], v].concat();
    let mut d = vec![0u8, 16];
    d.extend_from_slice(&[actor; 16]);
    d.extend_from_slice(&[1, 1, 0, 0, 0]);
    columns(
        &mut d,
        &[
            (0x15, col(&[0x01, 0x6b])),
            (0x34, count),
            (0x42, col(&[0x01])),
            (0x56, col(&[0x00])),
            (0x70, col(&[0x00])),
        ],
    );
    let mut out = Vec::new();
    let hash = write_chunk(&mut out, ChunkType::Change, &d);
    (out, hash)
}

/// A change by actor `[3; 16]` depending on `deps`, putting root key "k" once over the `n`
/// puts of each of actors 1 and 2 (counters 1..=n each): 2n preds, as runs.
fn one_put_over(deps: &[ChangeHash], n: u64) -> Vec<u8> {
    let mut d = vec![deps.len() as u8];
    for h in deps {
        d.extend_from_slice(h.as_bytes());
    }
    d.push(16);
    d.extend_from_slice(&[3; 16]);
    d.push(1);
    leb128::write_u64(&mut d, n + 1);
    d.extend_from_slice(&[0, 0, 2, 16]);
    d.extend_from_slice(&[1; 16]);
    d.push(16);
    d.extend_from_slice(&[2; 16]);
    let mut group = vec![0x7f];
    leb128::write_u64(&mut group, 2 * n);
    let mut pred_actor = Vec::new();
    let mut pred_ctr = Vec::new();
    // Actor 1's n preds, then actor 2's (as runs; preds need not come sorted).
    leb128::write_i64(&mut pred_actor, n as i64);
    pred_actor.push(1);
    leb128::write_i64(&mut pred_actor, n as i64);
    pred_actor.push(2);
    leb128::write_i64(&mut pred_ctr, n as i64);
    pred_ctr.push(1);
    // back from n to 1 is one step of 1 - n, then n - 1 steps of 1.
    pred_ctr.push(0x7f);
    leb128::write_i64(&mut pred_ctr, 1 - n as i64);
    leb128::write_i64(&mut pred_ctr, n as i64 - 1);
    pred_ctr.push(1);
    columns(
        &mut d,
        &[
            (0x15, vec![0x7f, 0x01, 0x6b]),
            (0x34, vec![0x01]),
            (0x42, vec![0x7f, 0x01]),
            (0x56, vec![0x7f, 0x00]),
            (0x70, group),
            (0x71, pred_actor),
            (0x73, pred_ctr),
        ],
    );
    let mut out = Vec::new();
    write_chunk(&mut out, ChunkType::Change, &d);
    out
}

fn main() {
    let k: u32 = std::env::args()
        .nth(1)
        .map_or(16, |s| s.parse().expect("K"));
    let n = 1u64 << k;
    let (one, h1) = concurrent_puts(1, n);
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let out = args.get(i + 1).expect("--write OUT");
        let mut file = u32::try_from(one.len())
            .expect("a few bytes")
            .to_le_bytes()
            .to_vec();
        file.extend_from_slice(&one);
        std::fs::write(out, &file).unwrap_or_else(|e| panic!("writing {out}: {e}"));
        println!("{} bytes to {out}", file.len());
        return;
    }
    let (two, h2) = concurrent_puts(2, n);
    let three = one_put_over(&[h1, h2], n);
    let mut doc = Document::new();
    for (what, bytes) in [
        ("2^K concurrent puts", one),
        ("2^K more, interleaved by counter", two),
        ("one put over all of them", three),
    ] {
        let len = bytes.len();
        let start = std::time::Instant::now();
        let result = doc.load_incremental(&bytes);
        println!(
            "{what} ({len} bytes): {:?} in {:?}",
            result.map_err(|e| e.to_string()),
            start.elapsed()
        );
    }
    println!(
        "values of \"k\": {}",
        doc.get_all(&converge_doc::ROOT, "k").map_or(0, |v| v.len())
    );
}
