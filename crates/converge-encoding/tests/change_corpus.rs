//! Change chunks in the shared corpus (fixtures written by other Automerge implementations and
//! inputs that once crashed the reference): each decodes or fails cleanly, never panics.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::PathBuf;

use bytes::Bytes;
use converge_encoding::Change;
use converge_encoding::chunk::{self, ChunkType};

fn corpus_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/automerge-corpus")
        .join(sub)
}

/// (file, chunk index, decode outcome, canonical) for every change chunk in a folder.
fn change_chunks(sub: &str) -> Vec<(String, usize, Result<Change, String>)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(corpus_dir(sub)) else {
        return out;
    };
    let mut paths: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let file = Bytes::from(std::fs::read(&path).unwrap());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, c) in chunk::split_chunks(&file).enumerate() {
            let Ok(c) = c else { break };
            if matches!(
                c.chunk_type(),
                ChunkType::Change | ChunkType::CompressedChange
            ) {
                let decoded = Change::decode(file.slice_ref(c.bytes())).map_err(|e| e.to_string());
                if let Ok(d) = &decoded {
                    let _ = d.ops().count();
                    let _ = d.is_canonical();
                }
                out.push((name.clone(), i, decoded));
            }
        }
    }
    out
}

/// What the reference does with these files (spec format.md §1.1, §4.4, §5.2, §12).
const EXPECTED: [(&str, &str, bool); 11] = [
    ("fixtures", "64bit_obj_id_change.automerge", false), // startOp > u32::MAX
    (
        "fixtures",
        "counter_value_has_incorrect_meta.automerge",
        false,
    ),
    ("fixtures", "counter_value_is_ok.automerge", true),
    ("fixtures", "counter_value_is_overlong.automerge", false), // strict value bytes
    ("fixtures", "two_change_chunks.automerge", true),
    ("fixtures", "two_change_chunks.automerge", true),
    ("fixtures", "two_change_chunks_compressed.automerge", true),
    ("fixtures", "two_change_chunks_compressed.automerge", true),
    ("fixtures", "two_change_chunks_out_of_order.automerge", true),
    ("fixtures", "two_change_chunks_out_of_order.automerge", true),
    ("fuzz-crashers", "action-is-48.automerge", false),
];

#[test]
fn corpus_change_chunks() {
    let mut seen = Vec::new();
    for sub in ["fixtures", "fuzz-crashers"] {
        for (name, _, r) in change_chunks(sub) {
            if let Ok(c) = &r {
                // every chunk these files hold was written canonically
                assert!(c.is_canonical(), "{sub}/{name}");
            }
            seen.push((sub, name, r.is_ok()));
        }
    }
    if seen.is_empty() {
        return; // corpus not present
    }
    let expected: Vec<_> = EXPECTED
        .iter()
        .map(|(s, n, ok)| (*s, (*n).to_owned(), *ok))
        .collect();
    assert_eq!(seen, expected);
}
