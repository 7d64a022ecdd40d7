//! Writes the fuzz seed corpora under `fuzz/seeds/` from the oracle history generator.
//!
//! Run manually after changing the generator (the seeds are committed):
//!
//! ```text
//! cargo test --release -p converge-interop --test fuzz_seeds -- --ignored
//! ```
//!
//! | directory | each file is |
//! |---|---|
//! | `chunk_split/` | a concatenation of chunks: a document followed by later changes, several raw and compressed change chunks, a document saved with and without column compression |
//! | `change_decode/` | one change chunk (type 1), or its compressed form (type 2) when it has one |
//! | `document_decode/` | the data of one document chunk (no envelope), from `save()` (columns ≥ 256 bytes deflated) or `save_nocompress()`; one of 2,100 changes |
//!
//! `CONVERGE_FUZZ_SEEDS_DIR` overrides the output directory. Files are named `<seed>-<what>.bin`, are deterministic, and the whole set stays under 200 KB.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::{History, Params};

/// Total size budget of all seed files.
const BUDGET: usize = 200 * 1024;
/// Files larger than this are not written (seeds should be small).
const MAX_FILE: usize = 6 * 1024;

/// `fuzz/seeds` of the repository, or `$CONVERGE_FUZZ_SEEDS_DIR` when set.
fn seeds_dir() -> PathBuf {
    match std::env::var_os("CONVERGE_FUZZ_SEEDS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds"),
    }
}

struct SeedWriter {
    root: PathBuf,
    total: usize,
    files: usize,
}

impl SeedWriter {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) {
        if bytes.len() > MAX_FILE || self.total + bytes.len() > BUDGET {
            return;
        }
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("create seed dir");
        fs::write(dir.join(name), bytes).expect("write seed");
        self.total += bytes.len();
        self.files += 1;
    }
}

/// The data of the first chunk in `bytes` (what follows the magic, checksum, type and length).
fn chunk_data(bytes: &[u8]) -> &[u8] {
    let chunk = converge_encoding::chunk::split_chunks(bytes)
        .next()
        .expect("a chunk")
        .expect("a well-formed chunk");
    chunk.data()
}

#[test]
#[ignore = "writes fuzz/seeds/; run manually"]
fn write_fuzz_seeds() {
    let root = seeds_dir();
    for target in ["chunk_split", "change_decode", "document_decode"] {
        let dir = root.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir).expect("clear old seeds");
        }
    }
    let mut w = SeedWriter {
        root,
        total: 0,
        files: 0,
    };
    for seed in 0..12u64 {
        let params = if seed % 3 == 2 {
            Params {
                changes: 6,
                ..Params::default()
            }
        } else {
            Params::small()
        };
        let mut history = History::generate(seed, &params);
        let changes = history.changes();

        // document_decode: both save forms.
        let saved = history.merged.save();
        let plain = history.merged.save_nocompress();
        // The target takes the chunk's data (no envelope), so that it need not forge checksums.
        w.write(
            "document_decode",
            &format!("{seed:02}-save.bin"),
            chunk_data(&saved),
        );
        if plain != saved {
            w.write(
                "document_decode",
                &format!("{seed:02}-nocompress.bin"),
                chunk_data(&plain),
            );
        }

        // change_decode: a few changes, raw and (when > 256 bytes) compressed.
        for (i, mut change) in changes.iter().cloned().enumerate().step_by(3).take(3) {
            w.write(
                "change_decode",
                &format!("{seed:02}-change{i}.bin"),
                change.raw_bytes(),
            );
            let compressed = change.bytes().into_owned();
            if compressed != change.raw_bytes() {
                w.write(
                    "change_decode",
                    &format!("{seed:02}-change{i}-compressed.bin"),
                    &compressed,
                );
            }
        }

        // chunk_split: a document of the first half plus the other half's changes, and all
        // changes as a run of change chunks (compressed where the oracle compresses).
        let half = changes.len() / 2;
        let heads_at_half: Vec<_> = changes[..half].iter().map(|c| c.hash()).collect();
        let mut at_half = history
            .merged
            .fork_at(&heads_at_half)
            .expect("fork at the first half's hashes");
        let mut mixed = at_half.save();
        for change in &changes[half..] {
            mixed.extend_from_slice(change.raw_bytes());
        }
        w.write(
            "chunk_split",
            &format!("{seed:02}-doc-then-changes.bin"),
            &mixed,
        );
        let mut run = Vec::new();
        for mut change in changes.iter().cloned() {
            run.extend_from_slice(&change.bytes());
        }
        w.write("chunk_split", &format!("{seed:02}-changes.bin"), &run);
        if seed % 4 == 0 {
            let mut two_docs = saved.clone();
            two_docs.extend_from_slice(&plain);
            w.write("chunk_split", &format!("{seed:02}-two-docs.bin"), &two_docs);
        }
    }
    // document_decode: a document of 2,100 changes (two actors merging every 50), past the
    // 2,048 from which a load rebuilds its changes on two threads, so that mutated
    // documents reach that path too.
    {
        use automerge::transaction::{CommitOptions, Transactable};
        let mut a = automerge::AutoCommit::new();
        a.set_actor(automerge::ActorId::from(&[0xaa][..]));
        let mut b = a.fork().with_actor(automerge::ActorId::from(&[0xbb][..]));
        for i in 0..2100i64 {
            let doc = if i % 2 == 0 { &mut a } else { &mut b };
            doc.put(automerge::ROOT, "k", i).expect("put");
            doc.commit_with(CommitOptions::default().with_time(i));
            if i % 50 == 49 {
                a.merge(&mut b).expect("merge");
                b.merge(&mut a).expect("merge");
            }
        }
        let saved = a.save();
        assert!(chunk_data(&saved).len() <= MAX_FILE, "{}", saved.len());
        w.write(
            "document_decode",
            "many-changes-save.bin",
            chunk_data(&saved),
        );
    }
    println!("wrote {} seed files, {} bytes", w.files, w.total);
    assert!(w.files >= 24, "too few seeds: {}", w.files);
}
