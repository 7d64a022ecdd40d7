//! Round-trip properties of the column codecs (spec format.md §4):
//! `decode(encode(x)) == x`, and for bytes the canonical decoder accepts (without overlong
//! LEB128, which the reference also accepts), `encode(decode(b)) == b`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use converge_encoding::ScalarValue;
use converge_encoding::columns::{
    BoolDecoder, BoolEncoder, DeltaDecoder, DeltaEncoder, StrDecoder, StrEncoder, UintDecoder,
    UintEncoder, ValueDecoder, ValueEncoder,
};
use converge_encoding::leb128;
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult, quickcheck};

/// Most rows come from a small domain so that runs form.
fn small(v: u64, wide: bool) -> u64 {
    if wide { v } else { v % 4 }
}

fn enc_uint(rows: &[Option<u64>]) -> Vec<u8> {
    let mut e = UintEncoder::new();
    rows.iter().for_each(|r| e.append(*r));
    e.finish()
}

fn enc_delta(rows: &[Option<i64>]) -> Vec<u8> {
    let mut e = DeltaEncoder::new();
    rows.iter().for_each(|r| e.append(*r));
    e.finish()
}

fn enc_bool(rows: &[bool]) -> Vec<u8> {
    let mut e = BoolEncoder::new();
    rows.iter().for_each(|r| e.append(*r));
    e.finish()
}

fn enc_str(rows: &[Option<&str>]) -> Vec<u8> {
    let mut e = StrEncoder::new();
    rows.iter().for_each(|r| e.append(*r));
    e.finish()
}

/// Bytes built from random run segments: far likelier than uniform bytes to be nearly
/// canonical, so both acceptance and each rejection rule get exercised.
#[derive(Clone, Debug)]
struct Segments(Vec<u8>);

impl Arbitrary for Segments {
    fn arbitrary(g: &mut Gen) -> Self {
        let mut out = Vec::new();
        let n = usize::arbitrary(g) % 6;
        for _ in 0..n {
            let value = |g: &mut Gen, out: &mut Vec<u8>| {
                leb128::write_u64(out, u64::from(u8::arbitrary(g) % 3));
            };
            match u8::arbitrary(g) % 3 {
                0 => {
                    out.push(0);
                    leb128::write_u64(&mut out, u64::from(u8::arbitrary(g) % 3));
                }
                1 => {
                    leb128::write_i64(&mut out, i64::from(u8::arbitrary(g) % 4));
                    value(g, &mut out);
                }
                _ => {
                    let k = u8::arbitrary(g) % 4;
                    leb128::write_i64(&mut out, -i64::from(k));
                    for _ in 0..k {
                        value(g, &mut out);
                    }
                }
            }
        }
        Segments(out)
    }
}

#[derive(Clone, Debug)]
struct Scalar(ScalarValue);

impl Arbitrary for Scalar {
    fn arbitrary(g: &mut Gen) -> Self {
        let s = |g: &mut Gen| String::arbitrary(g);
        Scalar(match u8::arbitrary(g) % 11 {
            0 => ScalarValue::Null,
            1 => ScalarValue::Bool(bool::arbitrary(g)),
            2 => ScalarValue::Uint(u64::arbitrary(g)),
            3 => ScalarValue::Int(i64::arbitrary(g)),
            4 => {
                let f = f64::arbitrary(g);
                ScalarValue::F64(if f.is_nan() { 0.5 } else { f })
            }
            5 => ScalarValue::Str(s(g)),
            6 => ScalarValue::Bytes(Vec::arbitrary(g)),
            7 => ScalarValue::Counter(i64::arbitrary(g)),
            8 => ScalarValue::Timestamp(i64::arbitrary(g)),
            9 => ScalarValue::Unknown {
                type_code: 10 + u8::arbitrary(g) % 6,
                bytes: Vec::arbitrary(g),
            },
            _ => ScalarValue::Int(i64::from(u8::arbitrary(g) % 2)),
        })
    }
}

fn qc() -> QuickCheck {
    QuickCheck::new().tests(2000)
}

#[test]
fn uint_decode_encode() {
    fn prop(rows: Vec<Option<u64>>, wide: bool) -> bool {
        let rows: Vec<_> = rows
            .into_iter()
            .map(|r| r.map(|v| small(v, wide)))
            .collect();
        let data = enc_uint(&rows);
        let canonical: Result<Vec<_>, _> = UintDecoder::new(&data, true).collect();
        let lenient: Result<Vec<_>, _> = UintDecoder::new(&data, false).collect();
        canonical.as_ref() == Ok(&rows) && lenient == canonical
    }
    qc().quickcheck(prop as fn(Vec<Option<u64>>, bool) -> bool);
}

#[test]
fn delta_decode_encode() {
    fn prop(rows: Vec<Option<i64>>, wide: bool) -> bool {
        let rows: Vec<_> = rows
            .into_iter()
            .map(|r| r.map(|v| if wide { v } else { v % 3 }))
            .collect();
        let data = enc_delta(&rows);
        let back: Result<Vec<_>, _> = DeltaDecoder::new(&data, true).collect();
        back == Ok(rows)
    }
    qc().quickcheck(prop as fn(Vec<Option<i64>>, bool) -> bool);
}

#[test]
fn bool_decode_encode() {
    fn prop(rows: Vec<bool>) -> bool {
        let data = enc_bool(&rows);
        let back: Result<Vec<_>, _> = BoolDecoder::new(&data, true).collect();
        back == Ok(rows)
    }
    qc().quickcheck(prop as fn(Vec<bool>) -> bool);
}

#[test]
fn str_decode_encode() {
    fn prop(rows: Vec<Option<u8>>, strings: Vec<String>) -> bool {
        let mut pool = vec![String::new(), "a".to_owned()];
        pool.extend(strings);
        let rows: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.map(|i| pool[usize::from(i) % pool.len()].as_str()))
            .collect();
        let data = enc_str(&rows);
        let back: Result<Vec<_>, _> = StrDecoder::new(&data, true).collect();
        back == Ok(rows)
    }
    qc().quickcheck(prop as fn(Vec<Option<u8>>, Vec<String>) -> bool);
}

#[test]
fn value_decode_encode() {
    fn prop(values: Vec<Scalar>, dup: bool) -> bool {
        let mut values: Vec<ScalarValue> = values.into_iter().map(|s| s.0).collect();
        if dup && !values.is_empty() {
            values.push(values[0].clone());
            values.push(values[0].clone());
        }
        let mut e = ValueEncoder::new();
        values.iter().for_each(|v| e.append(v));
        let (meta, raw) = e.finish();
        let mut d = ValueDecoder::new(&meta, &raw, true, true);
        let back: Result<Vec<_>, _> = d.by_ref().collect();
        back == Ok(values) && d.is_done()
    }
    qc().quickcheck(prop as fn(Vec<Scalar>, bool) -> bool);
}

fn uint_bytes_prop(data: &[u8]) -> TestResult {
    match uint_bytes_check(data) {
        None => TestResult::discard(),
        Some(ok) => TestResult::from_bool(ok),
    }
}

/// `None`: not accepted canonically (or overlong), so nothing to check.
fn uint_bytes_check(data: &[u8]) -> Option<bool> {
    let mut d = UintDecoder::new(data, true);
    let Ok(rows) = d.by_ref().take(100_000).collect::<Result<Vec<_>, _>>() else {
        return None;
    };
    if d.saw_overlong() || !d.is_done() {
        return None;
    }
    Some(enc_uint(&rows) == data)
}

fn delta_bytes_prop(data: &[u8]) -> TestResult {
    match delta_bytes_check(data) {
        None => TestResult::discard(),
        Some(ok) => TestResult::from_bool(ok),
    }
}

/// `None`: not accepted canonically (or overlong), so nothing to check.
fn delta_bytes_check(data: &[u8]) -> Option<bool> {
    let mut d = DeltaDecoder::new(data, true);
    let Ok(rows) = d.by_ref().take(100_000).collect::<Result<Vec<_>, _>>() else {
        return None;
    };
    if d.saw_overlong() || !d.is_done() {
        return None;
    }
    Some(enc_delta(&rows) == data)
}

fn bool_bytes_prop(data: &[u8]) -> TestResult {
    match bool_bytes_check(data) {
        None => TestResult::discard(),
        Some(ok) => TestResult::from_bool(ok),
    }
}

/// `None`: not accepted canonically (or overlong), so nothing to check.
fn bool_bytes_check(data: &[u8]) -> Option<bool> {
    let mut d = BoolDecoder::new(data, true);
    let Ok(rows) = d.by_ref().take(100_000).collect::<Result<Vec<_>, _>>() else {
        return None;
    };
    if d.saw_overlong() || !d.is_done() {
        return None;
    }
    Some(enc_bool(&rows) == data)
}

fn str_bytes_prop(data: &[u8]) -> TestResult {
    match str_bytes_check(data) {
        None => TestResult::discard(),
        Some(ok) => TestResult::from_bool(ok),
    }
}

/// `None`: not accepted canonically (or overlong), so nothing to check.
fn str_bytes_check(data: &[u8]) -> Option<bool> {
    let mut d = StrDecoder::new(data, true);
    let Ok(rows) = d.by_ref().take(100_000).collect::<Result<Vec<_>, _>>() else {
        return None;
    };
    if d.saw_overlong() || !d.is_done() {
        return None;
    }
    Some(enc_str(&rows) == data)
}

#[test]
fn canonical_bytes_encode_back_identically() {
    fn segments(s: Segments) -> TestResult {
        let a = uint_bytes_prop(&s.0);
        let b = delta_bytes_prop(&s.0);
        if a.is_failure() {
            return a;
        }
        b
    }
    fn arbitrary_bytes(b: Vec<u8>) -> TestResult {
        for r in [
            uint_bytes_prop(&b),
            delta_bytes_prop(&b),
            bool_bytes_prop(&b),
            str_bytes_prop(&b),
        ] {
            if r.is_failure() {
                return r;
            }
        }
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(5000)
        .max_tests(100_000)
        .quickcheck(segments as fn(Segments) -> TestResult);
    QuickCheck::new()
        .tests(2000)
        .max_tests(100_000)
        .quickcheck(arbitrary_bytes as fn(Vec<u8>) -> TestResult);
}

quickcheck! {
    /// Lenient decoders never panic; huge runs are cut off by `take`.
    fn lenient_decoders_never_panic(b: Vec<u8>, meta: Vec<u8>) -> bool {
        let _ = UintDecoder::new(&b, false).take(10_000).count();
        let _ = DeltaDecoder::new(&b, false).take(10_000).count();
        let _ = BoolDecoder::new(&b, false).take(10_000).count();
        let _ = StrDecoder::new(&b, false).take(10_000).count();
        let _ = ValueDecoder::new(&meta, &b, false, true).take(10_000).count();
        let _ = ValueDecoder::new(&meta, &b, true, false).take(10_000).count();
        true
    }
}

#[test]
fn bool_zero_runs_only_leading() {
    fn prop(runs: Vec<u8>) -> TestResult {
        let mut data = Vec::new();
        for r in &runs {
            leb128::write_u64(&mut data, u64::from(r % 3));
        }
        bool_bytes_prop(&data)
    }
    qc().quickcheck(prop as fn(Vec<u8>) -> TestResult);
}

/// Exhaustive over short strings of interesting bytes: every canonically accepted input
/// re-encodes to itself, and many are accepted (so the property is not vacuous).
#[test]
fn exhaustive_short_inputs() {
    const ALPHABET: [u8; 10] = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x7e, 0x7d, 0x80, 0x61, 0xff];
    let mut accepted = [0usize; 4];
    let mut buf = Vec::new();
    for len in 0..=4u32 {
        for mut i in 0..ALPHABET.len().pow(len) {
            buf.clear();
            for _ in 0..len {
                buf.push(ALPHABET[i % ALPHABET.len()]);
                i /= ALPHABET.len();
            }
            for (k, r) in [
                uint_bytes_check(&buf),
                delta_bytes_check(&buf),
                bool_bytes_check(&buf),
                str_bytes_check(&buf),
            ]
            .into_iter()
            .enumerate()
            {
                assert_ne!(r, Some(false), "codec {k} on {buf:02x?}");
                accepted[k] += usize::from(r.is_some());
            }
        }
    }
    assert!(accepted.iter().all(|&n| n > 20), "{accepted:?}");
}

/// Splicing (what a save after edits does to kept columns): cut a column's rows into ranges,
/// copy some from the encoded column, replace others by fresh rows, and copy the last range
/// either row-aware or to the end; the result is the encoding of the final rows, byte for
/// byte, for uint, delta, boolean and string columns.
#[test]
fn spliced_columns_equal_fresh_encodes() {
    use converge_encoding::columns::{BoolRuns, DeltaRuns, RleRuns};
    fn prop(rows: Vec<Option<u8>>, cuts: Vec<(u8, u8)>, wide: bool, to_end: bool) -> TestResult {
        let rows: Vec<Option<u64>> = rows
            .iter()
            .map(|r| r.map(|v| small(u64::from(v), wide)))
            .collect();
        let strs: Vec<Option<String>> = rows.iter().map(|r| r.map(|v| format!("k{v}"))).collect();
        let str_refs: Vec<Option<&str>> = strs.iter().map(|s| s.as_deref()).collect();
        let deltas: Vec<Option<i64>> = rows.iter().map(|r| r.map(|v| v as i64 - 2)).collect();
        let flags: Vec<bool> = rows.iter().map(|r| r.is_some()).collect();
        let (u_data, d_data, b_data, s_data) = (
            enc_uint(&rows),
            enc_delta(&deltas),
            enc_bool(&flags),
            enc_str(&str_refs),
        );
        let (mut us, mut ds, mut bs, mut ss) = (
            RleRuns::<u64>::new(&u_data),
            DeltaRuns::new(&d_data),
            BoolRuns::new(&b_data),
            RleRuns::<&str>::new(&s_data),
        );
        let (mut u, mut d, mut b, mut s) = (
            UintEncoder::new(),
            DeltaEncoder::new(),
            BoolEncoder::new(),
            StrEncoder::new(),
        );
        // Indexes of the final rows in `rows`; `usize::MAX` for a fresh row.
        let mut kept: Vec<usize> = Vec::new();
        let mut at = 0usize;
        for &(len, mode) in &cuts {
            let n = (usize::from(len) % 9).min(rows.len() - at);
            if mode % 3 == 0 {
                // Replace the range by one fresh row.
                us.skip(n as u64).unwrap();
                ds.skip(n as u64).unwrap();
                bs.take(n as u64, |_, _| {}).unwrap();
                ss.skip(n as u64).unwrap();
                kept.push(usize::MAX);
                u.append(Some(1));
                d.append(Some(-1));
                b.append(true);
                s.append(Some("k1"));
            } else {
                u.copy_exact(&mut us, n as u64).unwrap();
                d.copy_from(&mut ds, n as u64).unwrap();
                b.copy_from(&mut bs, n as u64).unwrap();
                s.copy_exact(&mut ss, n as u64).unwrap();
                kept.extend(at..at + n);
            }
            at += n;
        }
        // The rest, to the end or row-aware.
        let n = (rows.len() - at) as u64;
        if to_end {
            u.copy_to_end(&mut us, n).unwrap();
            d.copy_to_end(&mut ds, n).unwrap();
            s.copy_to_end(&mut ss, n).unwrap();
        } else {
            u.copy_exact(&mut us, n).unwrap();
            d.copy_from(&mut ds, n).unwrap();
            s.copy_exact(&mut ss, n).unwrap();
        }
        b.copy_from(&mut bs, n).unwrap();
        kept.extend(at..rows.len());
        let pick = |i: usize| if i == usize::MAX { None } else { Some(i) };
        let final_rows: Vec<Option<u64>> = kept
            .iter()
            .map(|&i| pick(i).map_or(Some(1), |i| rows[i]))
            .collect();
        let final_deltas: Vec<Option<i64>> = kept
            .iter()
            .map(|&i| pick(i).map_or(Some(-1), |i| deltas[i]))
            .collect();
        let final_flags: Vec<bool> = kept
            .iter()
            .map(|&i| pick(i).is_none_or(|i| flags[i]))
            .collect();
        let final_strs: Vec<Option<&str>> = kept
            .iter()
            .map(|&i| pick(i).map_or(Some("k1"), |i| str_refs[i]))
            .collect();
        TestResult::from_bool(
            u.finish() == enc_uint(&final_rows)
                && d.finish() == enc_delta(&final_deltas)
                && b.finish() == enc_bool(&final_flags)
                && s.finish() == enc_str(&final_strs),
        )
    }
    QuickCheck::new()
        .tests(3000)
        .quickcheck(prop as fn(Vec<Option<u8>>, Vec<(u8, u8)>, bool, bool) -> TestResult);
}
