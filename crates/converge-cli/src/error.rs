//! The one error type of the CLI.

use std::path::PathBuf;

use converge::sync::{ApplyChunksError, ReceiveError, SyncDecodeError};
use converge::{DecodeError, DocError, ParseHexError};

/// Why a command failed. Printed as one line on stderr; the exit status is then 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a valid Automerge file (or sync message, or sync state).
    #[error("{path}: offset {offset}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where the bad bytes start.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// A document could not be loaded.
    #[error("{path}: {source}")]
    Load {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: DocError,
    },
    /// The document refused an operation.
    #[error("{0}")]
    Doc(#[from] DocError),
    /// A JSON input is not valid JSON.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A `--heads` argument is not a change hash.
    #[error("invalid head {text:?}: {source}")]
    BadHead {
        /// The argument.
        text: String,
        /// Why.
        #[source]
        source: ParseHexError,
    },
    /// The network failed.
    #[error("{context}: {source}")]
    Net {
        /// What was being done.
        context: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A peer announced a frame larger than the limit.
    #[error("peer sent a frame of {len} bytes, over the limit of {limit} bytes (--max-frame)")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A peer sent bytes that are not a sync message.
    #[error("peer sent a malformed sync message: {0}")]
    BadMessage(#[source] SyncDecodeError),
    /// A peer's message could not be applied.
    #[error("applying the peer's message: {0}")]
    Receive(#[source] ReceiveError<ApplyChunksError>),
    /// The session did not converge within its turn limit.
    #[error("sync did not finish within {0} turns")]
    TooManyTurns(usize),
    /// Anything else, already phrased.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// A decode error of the file at `path`, with the offset of the chunk that failed.
    pub(crate) fn decode(path: &std::path::Path, offset: usize, err: &DecodeError) -> CliError {
        let (offset, message) = match err {
            DecodeError::InChunk { offset, source } => (*offset, source.to_string()),
            other => (offset, other.to_string()),
        };
        CliError::Malformed {
            path: path.to_owned(),
            offset,
            message,
        }
    }

    /// A load error of the file at `path`; decode errors name their offset.
    pub(crate) fn load(path: &std::path::Path, err: DocError) -> CliError {
        match err {
            DocError::Encoding(e) => CliError::decode(path, 0, &e),
            source => CliError::Load {
                path: path.to_owned(),
                source,
            },
        }
    }
}
