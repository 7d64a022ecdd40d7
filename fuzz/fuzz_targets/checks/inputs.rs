//! Where the committed fuzz inputs are, for the replay tests of the crates that include this
//! file by path (`crates/converge-doc/tests/fuzz_doc.rs`, `crates/converge-sync/tests/fuzz_sync.rs`;
//! not compiled into any fuzz target).

use std::path::{Path, PathBuf};

/// `fuzz/KIND/TARGET` (`KIND` is `seeds` or `regressions`) of the repository.
pub(crate) fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target)
}

/// The files of `fuzz/KIND/TARGET` but notes (`.md`), sorted by name (none if it is
/// missing): seeds are `.bin`, a regression may be named for what it found.
pub(crate) fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir(kind, target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// Fails unless `fuzz/seeds/TARGET/NAME.bin` holds the bytes the writer gives for each seed.
pub(crate) fn assert_seeds_committed(target: &str, seeds: &[(String, Vec<u8>)]) {
    for (name, bytes) in seeds {
        let path = fuzz_dir("seeds", target).join(format!("{name}.bin"));
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            &committed == bytes,
            "{} is stale: rewrite the seeds",
            path.display()
        );
    }
}

/// Writes each seed to `fuzz/seeds/TARGET/NAME.bin`.
pub(crate) fn write_seeds(target: &str, seeds: &[(String, Vec<u8>)]) {
    let dir = fuzz_dir("seeds", target);
    std::fs::create_dir_all(&dir).expect("seed directory");
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("{name}.bin")), bytes).expect("write a seed");
    }
}
