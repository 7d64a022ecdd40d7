//! The one error type of the sync layer.

use converge_bloom::BloomError;
use converge_encoding::DecodeError;

/// Why a sync message or sync state could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncDecodeError {
    /// The first byte is not a known message or state type.
    #[error("wrong type byte {found:#04x}; expected one of {expected:02x?}")]
    WrongType {
        /// The byte found.
        found: u8,
        /// The bytes accepted here.
        expected: &'static [u8],
    },
    /// Truncated input, an overlong LEB128 number, or a count the input cannot hold.
    #[error("malformed {field}: {source}")]
    Malformed {
        /// The field being read.
        field: &'static str,
        /// What was wrong.
        #[source]
        source: DecodeError,
    },
    /// A `Have`'s Bloom filter is malformed.
    #[error("bloom filter of have #{index}: {source}")]
    Bloom {
        /// Which `Have` of the message.
        index: usize,
        /// What was wrong.
        #[source]
        source: BloomError,
    },
}

/// Why receiving a message failed. The document and the sync state are unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError<E: std::error::Error + 'static> {
    /// The document rejected the changes in the message.
    #[error("applying the message's changes: {0}")]
    Apply(#[source] E),
}
