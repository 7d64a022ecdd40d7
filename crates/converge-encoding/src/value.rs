//! Scalar values and op actions (spec format.md §4.4, §5.2).

use crate::error::DecodeError;
use crate::leb128;

/// A scalar value as stored in a value column: all eleven kinds the format knows.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalarValue {
    /// Type code 0.
    Null,
    /// Type codes 1 (false) and 2 (true).
    Bool(bool),
    /// Type code 3: unsigned LEB128.
    Uint(u64),
    /// Type code 4: signed LEB128.
    Int(i64),
    /// Type code 5: 8 bytes IEEE-754 little-endian.
    F64(f64),
    /// Type code 6: UTF-8.
    Str(String),
    /// Type code 7: raw bytes.
    Bytes(Vec<u8>),
    /// Type code 8: a counter's initial value, signed LEB128.
    Counter(i64),
    /// Type code 9: milliseconds since the epoch by convention, signed LEB128.
    Timestamp(i64),
    /// Type codes 10-15: a value of a kind this version does not know, kept verbatim.
    Unknown {
        /// The type code, 10 to 15.
        type_code: u8,
        /// The raw bytes.
        bytes: Vec<u8>,
    },
}

impl ScalarValue {
    /// The 4-bit type code written in value metadata.
    pub fn type_code(&self) -> u8 {
        ValueRef::from(self).type_code()
    }

    /// Appends the raw bytes of this value and returns the metadata word
    /// `(byte_len << 4) | type_code`.
    pub fn encode_raw(&self, out: &mut Vec<u8>) -> u64 {
        ValueRef::from(self).encode_raw(out)
    }

    /// Decodes a value from its metadata word and its raw bytes (exactly `meta >> 4` bytes).
    ///
    /// `strict_ints` selects the change-chunk rule: integer raw bytes must be minimal LEB128 and
    /// fill the whole length. Documents use the same strict reader but tolerate unread trailing
    /// bytes inside the value (spec format.md §4.4).
    pub fn decode_raw(
        meta: u64,
        raw: &[u8],
        strict_ints: bool,
    ) -> Result<ScalarValue, DecodeError> {
        ValueRef::decode_raw(meta, raw, strict_ints).map(ScalarValue::from)
    }
}

/// A scalar value borrowed from where it is kept (a column's raw bytes, an op store): the one
/// codec of value bytes; [`ScalarValue`]'s encode and decode go through it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    /// Type code 0.
    Null,
    /// Type codes 1 (false) and 2 (true).
    Bool(bool),
    /// Type code 3.
    Uint(u64),
    /// Type code 4.
    Int(i64),
    /// Type code 5.
    F64(f64),
    /// Type code 6.
    Str(&'a str),
    /// Type code 7.
    Bytes(&'a [u8]),
    /// Type code 8.
    Counter(i64),
    /// Type code 9.
    Timestamp(i64),
    /// Type codes 10-15, kept verbatim.
    Unknown {
        /// The type code.
        type_code: u8,
        /// The raw bytes.
        bytes: &'a [u8],
    },
}

impl<'a> From<&'a ScalarValue> for ValueRef<'a> {
    fn from(v: &'a ScalarValue) -> Self {
        match v {
            ScalarValue::Null => ValueRef::Null,
            ScalarValue::Bool(b) => ValueRef::Bool(*b),
            ScalarValue::Uint(u) => ValueRef::Uint(*u),
            ScalarValue::Int(i) => ValueRef::Int(*i),
            ScalarValue::F64(f) => ValueRef::F64(*f),
            ScalarValue::Str(s) => ValueRef::Str(s),
            ScalarValue::Bytes(b) => ValueRef::Bytes(b),
            ScalarValue::Counter(c) => ValueRef::Counter(*c),
            ScalarValue::Timestamp(t) => ValueRef::Timestamp(*t),
            ScalarValue::Unknown { type_code, bytes } => ValueRef::Unknown {
                type_code: *type_code,
                bytes,
            },
        }
    }
}

impl ValueRef<'_> {
    /// Appends the raw bytes of this value and returns the metadata word
    /// `(byte_len << 4) | type_code` (as [`ScalarValue::encode_raw`]).
    #[inline]
    pub fn encode_raw(&self, out: &mut Vec<u8>) -> u64 {
        // One-byte strings (most text characters) without a call to memcpy.
        if let ValueRef::Str(s) = self
            && let [b] = s.as_bytes()
        {
            out.push(*b);
            return (1 << 4) | 6;
        }
        let start = out.len();
        let code: u8 = match *self {
            ValueRef::Null => 0,
            ValueRef::Bool(false) => 1,
            ValueRef::Bool(true) => 2,
            ValueRef::Uint(v) => {
                leb128::write_u64(out, v);
                3
            }
            ValueRef::Int(v) => {
                leb128::write_i64(out, v);
                4
            }
            ValueRef::F64(v) => {
                out.extend_from_slice(&v.to_le_bytes());
                5
            }
            ValueRef::Str(s) => {
                out.extend_from_slice(s.as_bytes());
                6
            }
            ValueRef::Bytes(b) => {
                out.extend_from_slice(b);
                7
            }
            ValueRef::Counter(v) => {
                leb128::write_i64(out, v);
                8
            }
            ValueRef::Timestamp(v) => {
                leb128::write_i64(out, v);
                9
            }
            ValueRef::Unknown { type_code, bytes } => {
                out.extend_from_slice(bytes);
                type_code
            }
        };
        (((out.len() - start) as u64) << 4) | u64::from(code)
    }
}

impl ValueRef<'_> {
    /// The 4-bit type code written in value metadata.
    #[inline]
    pub fn type_code(&self) -> u8 {
        match *self {
            ValueRef::Null => 0,
            ValueRef::Bool(false) => 1,
            ValueRef::Bool(true) => 2,
            ValueRef::Uint(_) => 3,
            ValueRef::Int(_) => 4,
            ValueRef::F64(_) => 5,
            ValueRef::Str(_) => 6,
            ValueRef::Bytes(_) => 7,
            ValueRef::Counter(_) => 8,
            ValueRef::Timestamp(_) => 9,
            ValueRef::Unknown { type_code, .. } => type_code,
        }
    }

    /// The length of the raw bytes [`ValueRef::encode_raw`] writes, and the metadata word it
    /// returns, without writing them.
    #[inline]
    pub(crate) fn raw_len_and_meta(&self) -> (usize, u64) {
        let len = match *self {
            ValueRef::Null | ValueRef::Bool(_) => 0,
            ValueRef::Uint(v) => leb128::u64_len(v),
            ValueRef::Int(v) | ValueRef::Counter(v) | ValueRef::Timestamp(v) => leb128::i64_len(v),
            ValueRef::F64(_) => 8,
            ValueRef::Str(s) => s.len(),
            ValueRef::Bytes(b) | ValueRef::Unknown { bytes: b, .. } => b.len(),
        };
        (len, ((len as u64) << 4) | u64::from(self.type_code()))
    }
}

impl<'a> ValueRef<'a> {
    /// Decodes a value from its metadata word and its raw bytes (exactly `meta >> 4` bytes),
    /// borrowing strings and bytes from `raw`. `strict_ints` as in
    /// [`ScalarValue::decode_raw`].
    #[inline]
    pub fn decode_raw(meta: u64, raw: &'a [u8], strict_ints: bool) -> Result<Self, DecodeError> {
        let type_code = (meta & 0xf) as u8;
        let int = |raw: &[u8]| -> Result<i64, DecodeError> {
            let (v, n) = leb128::read_i64_strict(raw).map_err(|e| e.at(0))?;
            if strict_ints && n != raw.len() {
                return Err(DecodeError::ValueLengthMismatch {
                    type_code,
                    len: raw.len(),
                });
            }
            Ok(v)
        };
        Ok(match type_code {
            0 => ValueRef::Null,
            1 => ValueRef::Bool(false),
            2 => ValueRef::Bool(true),
            3 => {
                let (v, n) = leb128::read_u64_strict(raw).map_err(|e| e.at(0))?;
                if strict_ints && n != raw.len() {
                    return Err(DecodeError::ValueLengthMismatch {
                        type_code,
                        len: raw.len(),
                    });
                }
                ValueRef::Uint(v)
            }
            4 => ValueRef::Int(int(raw)?),
            5 => {
                let arr: [u8; 8] =
                    raw.try_into()
                        .map_err(|_| DecodeError::ValueLengthMismatch {
                            type_code,
                            len: raw.len(),
                        })?;
                ValueRef::F64(f64::from_le_bytes(arr))
            }
            6 => ValueRef::Str(
                std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { offset: 0 })?,
            ),
            7 => ValueRef::Bytes(raw),
            8 => ValueRef::Counter(int(raw)?),
            9 => ValueRef::Timestamp(int(raw)?),
            _ => ValueRef::Unknown {
                type_code,
                bytes: raw,
            },
        })
    }
}

impl From<ValueRef<'_>> for ScalarValue {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => ScalarValue::Null,
            ValueRef::Bool(b) => ScalarValue::Bool(b),
            ValueRef::Uint(u) => ScalarValue::Uint(u),
            ValueRef::Int(i) => ScalarValue::Int(i),
            ValueRef::F64(f) => ScalarValue::F64(f),
            ValueRef::Str(s) => ScalarValue::Str(s.to_owned()),
            ValueRef::Bytes(b) => ScalarValue::Bytes(b.to_vec()),
            ValueRef::Counter(c) => ScalarValue::Counter(c),
            ValueRef::Timestamp(t) => ScalarValue::Timestamp(t),
            ValueRef::Unknown { type_code, bytes } => ScalarValue::Unknown {
                type_code,
                bytes: bytes.to_vec(),
            },
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for ScalarValue {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

// So that `doc.put(&ROOT, "k", 1)` works as in Automerge: integers are `Int`, except `u64`
// (`Uint`); counters and timestamps stay explicit (`ScalarValue::Counter(..)`).
scalar_from! {
    i64 => |v| ScalarValue::Int(v),
    i32 => |v| ScalarValue::Int(i64::from(v)),
    u64 => |v| ScalarValue::Uint(v),
    u32 => |v| ScalarValue::Uint(u64::from(v)),
    f64 => |v| ScalarValue::F64(v),
    bool => |v| ScalarValue::Bool(v),
    &str => |v| ScalarValue::Str(v.to_owned()),
    String => |v| ScalarValue::Str(v),
    Vec<u8> => |v| ScalarValue::Bytes(v),
    &[u8] => |v| ScalarValue::Bytes(v.to_vec()),
    () => |_v| ScalarValue::Null,
}

/// What an op does (spec format.md §5.2). Codes 8 and above are rejected on decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Action {
    /// 0: create a map.
    MakeMap = 0,
    /// 1: put a scalar.
    Set = 1,
    /// 2: create a list.
    MakeList = 2,
    /// 3: delete.
    Del = 3,
    /// 4: create a text.
    MakeText = 4,
    /// 5: increment a counter.
    Inc = 5,
    /// 6: create a table.
    MakeTable = 6,
    /// 7: a mark boundary (begin when the op carries a mark name, end otherwise).
    Mark = 7,
}

impl Action {
    /// The action for a code, if the code is known.
    #[inline]
    pub fn from_code(code: u64) -> Option<Action> {
        Some(match code {
            0 => Action::MakeMap,
            1 => Action::Set,
            2 => Action::MakeList,
            3 => Action::Del,
            4 => Action::MakeText,
            5 => Action::Inc,
            6 => Action::MakeTable,
            7 => Action::Mark,
            _ => return None,
        })
    }

    /// The wire code.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// Whether this action creates an object.
    pub fn is_make(self) -> bool {
        matches!(
            self,
            Action::MakeMap | Action::MakeList | Action::MakeText | Action::MakeTable
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failure is the assertion
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        let mut raw = Vec::new();
        assert_eq!(ScalarValue::Int(1).encode_raw(&mut raw), 0x14);
        assert_eq!(raw, [0x01]);
        raw.clear();
        assert_eq!(ScalarValue::Counter(5).encode_raw(&mut raw), 0x18);
        raw.clear();
        assert_eq!(
            ScalarValue::Str("x".repeat(300)).encode_raw(&mut raw),
            0x12c6
        );
        assert_eq!(ScalarValue::Null.encode_raw(&mut raw), 0);
    }

    #[test]
    fn conversions() {
        assert_eq!(ScalarValue::from(1i64), ScalarValue::Int(1));
        assert_eq!(ScalarValue::from(1u64), ScalarValue::Uint(1));
        assert_eq!(ScalarValue::from("x"), ScalarValue::Str("x".into()));
        assert_eq!(ScalarValue::from(true), ScalarValue::Bool(true));
        assert_eq!(ScalarValue::from(()), ScalarValue::Null);
    }

    #[test]
    fn strict_int_rules() {
        assert!(ScalarValue::decode_raw(0x24, &[0x81, 0x00], true).is_err());
        assert!(ScalarValue::decode_raw(0x24, &[0x01, 0x00], true).is_err());
        assert_eq!(
            ScalarValue::decode_raw(0x24, &[0x01, 0x00], false).unwrap(),
            ScalarValue::Int(1)
        );
        assert!(ScalarValue::decode_raw(0x45, &[0; 4], true).is_err());
    }
}
