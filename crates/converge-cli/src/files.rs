//! Reading inputs and writing outputs atomically.

use std::fs;
use std::io::Write;
use std::path::Path;

use converge::Document;

use crate::error::CliError;

/// The whole file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads the document saved in `path`.
pub(crate) fn load_document(path: &Path) -> Result<Document, CliError> {
    let bytes = read(path)?;
    Document::load(&bytes).map_err(|e| CliError::load(path, e))
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory, written and
/// fsynced, then renamed over `path` (and the directory fsynced, where that is possible). On
/// error `path` is untouched and the temporary file removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => Path::new(".").to_owned(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_owned());
    let tmp = dir.join(format!(".{name}.converge-tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(&dir) {
            // Best effort: directories cannot be fsynced on every platform.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}
