//! The Automerge corpus in `../shared/data` for unit tests that read every file of it.

/// Every file under the corpus's real documents, egwalker traces, fixtures and fuzz
/// crashers, sorted (none when the corpus is missing).
pub(crate) fn files() -> Vec<std::path::PathBuf> {
    let corpus = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/automerge-corpus"
    ));
    let mut files = Vec::new();
    for dir in ["real-docs", "egwalker", "fixtures", "fuzz-crashers"] {
        for e in std::fs::read_dir(corpus.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            files.push(e.path());
        }
    }
    files.sort();
    files
}
