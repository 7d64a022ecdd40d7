//! A hostile sync message against a large document: K `have` entries, each a distinct
//! one-entry Bloom filter of a hash the document does not have, the last one a filter that
//! claims everything; the peer's heads one unknown hash. Times receiving it on a fresh state
//! and generating the answer (`--oracle`: automerge 0.12 too).
//!
//! ```text
//! cargo run --release -p converge-benches --example sync_haves_probe -- K FILE [--oracle] [--heads]
//! ```
//!
//! With `--heads` the message names K heads the document does not have instead (and one
//! empty `have`): before session 48 the answer looked each hash we lack up in their heads,
//! one by one (K = 100,000: 7.5 s; now 0.25 s, most of it sending every change).
//!
//! Before converge consulted at most `MAX_CONSULTED_FILTERS` filters (session 48), every
//! change was looked up in every filter: K = 1,000 (7 kB) against the paper document's
//! 259,779 changes took 1.63 s (automerge 9.3 s). Now the last filter is past the bound, so
//! every change is sent (28 MB of V1 change chunks), in about 0.15-0.2 s whatever K is.
use converge_doc::Document;
use converge_encoding::ChangeHash;
use converge_sync::{SyncMessage, SyncState, generate_sync_message, receive_sync_message};

fn main() {
    let k: usize = std::env::args().nth(1).map_or(1000, |s| s.parse().unwrap());
    let path = std::env::args()
        .nth(2)
        .unwrap_or("/work/scratch/paper.automerge".into());
    let bytes = std::fs::read(&path).unwrap();
    let doc = Document::load(&bytes).unwrap();
    // A filter claiming everything, last.
    let heads_mode = std::env::args().any(|a| a == "--heads");
    let mut msg = vec![0x42u8];
    if heads_mode {
        converge_encoding::leb128::write_u64(&mut msg, k as u64);
        for i in 0..k {
            let mut h = [5u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            msg.extend_from_slice(&h);
        }
    } else {
        msg.push(1);
        msg.extend_from_slice(&[9; 32]); // heads: one unknown hash
    }
    msg.push(0); // need
    let haves = if heads_mode { 1 } else { k };
    converge_encoding::leb128::write_u64(&mut msg, haves as u64);
    for i in 0..haves {
        if heads_mode {
            msg.extend_from_slice(&[0, 0]);
            continue;
        }
        msg.push(0); // last_sync
        if i + 1 == haves {
            let all = [1u8, 10, 7, 0xff, 0xff];
            msg.push(all.len() as u8);
            msg.extend_from_slice(&all);
        } else {
            let mut h = [7u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let f = converge_bloom::BloomFilter::from_hashes([ChangeHash(h)]);
            let mut b = Vec::new();
            f.encode_into(&mut b);
            msg.push(b.len() as u8);
            msg.extend_from_slice(&b);
        }
    }
    msg.push(0); // changes
    println!(
        "message: {} bytes, {} changes in the document",
        msg.len(),
        doc.get_changes(&[]).len()
    );
    let m = SyncMessage::decode(&msg).unwrap();
    let mut d = doc;
    let mut state = SyncState::new();
    let t = std::time::Instant::now();
    receive_sync_message(&mut d, &mut state, m).unwrap();
    println!("converge receive: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let out = generate_sync_message(&d, &mut state);
    println!(
        "converge generate: {:?} ({} bytes)",
        t.elapsed(),
        out.map_or(0, |m| m.encode().len())
    );
    if std::env::args().any(|a| a == "--oracle") {
        use automerge::sync::SyncDoc;
        let mut am = automerge::Automerge::load(&bytes).unwrap();
        let mut st = automerge::sync::State::new();
        let m = automerge::sync::Message::decode(&msg).unwrap();
        let t = std::time::Instant::now();
        am.receive_sync_message(&mut st, m).unwrap();
        println!("automerge receive: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let out = am.generate_sync_message(&mut st);
        println!(
            "automerge generate: {:?} ({} bytes)",
            t.elapsed(),
            out.map_or(0, |m| m.encode().len())
        );
    }
}
