//! The run cursors that splice kept columns (`columns::RleRuns`, `DeltaRuns`, `BoolRuns`)
//! never panic or loop on any bytes, and on a column the canonical decoder accepts (no
//! overlong numbers), copying it in ranges, some replaced by a fresh row, gives the encoding
//! of the resulting rows.
//!
//! Input: one byte of range lengths' seed, then the column's data.
#![no_main]

use converge_encoding::columns::{
    BoolDecoder, BoolEncoder, BoolRuns, DeltaDecoder, DeltaEncoder, DeltaRuns, RleRuns,
    UintDecoder, UintEncoder,
};
use libfuzzer_sys::fuzz_target;

/// Columns with more rows are only checked for not panicking (a repeat run may hold 2^63).
const MAX_ROWS: usize = 4096;

/// Whether a decoded column is whole, small, canonical and not empty.
fn small(rows: usize, done: bool, overlong: bool, col: &[u8]) -> bool {
    rows <= MAX_ROWS && done && !overlong && !col.is_empty()
}

/// Range lengths from a seed byte: 0..8 rows each, every third range replaced.
fn ranges(seed: u8, rows: usize) -> Vec<(usize, bool)> {
    let mut s = u32::from(seed) | 0x100;
    let (mut at, mut out) = (0, Vec::new());
    while at < rows {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = ((s >> 16) % 9) as usize;
        let n = n.min(rows - at);
        out.push((n, (s >> 8) % 3 == 0));
        at += n;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, col)) = data.split_first() else {
        return;
    };
    // Any bytes: cursors return errors, never panic.
    let n = u64::from(seed);
    let _ = UintEncoder::new().copy_exact(&mut RleRuns::<u64>::new(col), n);
    let _ = UintEncoder::new().copy_to_end(&mut RleRuns::<u64>::new(col), n);
    let _ = UintEncoder::new().copy_from(&mut RleRuns::<u64>::new(col), n, |v| Ok(v ^ 1));
    let _ = DeltaEncoder::new().copy_from(&mut DeltaRuns::new(col), n);
    let _ = DeltaEncoder::new().copy_to_end(&mut DeltaRuns::new(col), n);
    let _ = DeltaRuns::new(col).skip(n);
    let _ = BoolEncoder::new().copy_from(&mut BoolRuns::new(col), n);

    // Canonical columns: the splice equals a fresh encode.
    let mut dec = UintDecoder::new(col, true);
    let rows: Option<Vec<Option<u64>>> = dec
        .by_ref()
        .take(MAX_ROWS + 1)
        .collect::<Result<_, _>>()
        .ok();
    if let Some(rows) = rows.filter(|r| small(r.len(), dec.is_done(), dec.saw_overlong(), col)) {
        let mut src = RleRuns::<u64>::new(col);
        let (mut enc, mut want) = (UintEncoder::new(), UintEncoder::new());
        let mut at = 0;
        for (n, replace) in ranges(seed, rows.len()) {
            if replace {
                src.skip(n as u64).expect("canonical column");
                enc.append(Some(7));
                want.append(Some(7));
            } else {
                enc.copy_exact(&mut src, n as u64)
                    .expect("canonical column");
                rows[at..at + n].iter().for_each(|r| want.append(*r));
            }
            at += n;
        }
        assert_eq!(enc.finish(), want.finish(), "uint splice");
    }
    let mut dec = DeltaDecoder::new(col, true);
    let rows: Option<Vec<Option<i64>>> = dec
        .by_ref()
        .take(MAX_ROWS + 1)
        .collect::<Result<_, _>>()
        .ok();
    if let Some(rows) = rows.filter(|r| small(r.len(), dec.is_done(), dec.saw_overlong(), col)) {
        let mut src = DeltaRuns::new(col);
        let (mut enc, mut want) = (DeltaEncoder::new(), DeltaEncoder::new());
        let mut at = 0;
        for (n, replace) in ranges(seed, rows.len()) {
            if replace {
                src.skip(n as u64).expect("canonical column");
                enc.append(Some(-3));
                want.append(Some(-3));
            } else {
                enc.copy_from(&mut src, n as u64).expect("canonical column");
                rows[at..at + n].iter().for_each(|r| want.append(*r));
            }
            at += n;
        }
        assert_eq!(enc.finish(), want.finish(), "delta splice");
    }
    let mut dec = BoolDecoder::new(col, true);
    let rows: Option<Vec<bool>> = dec
        .by_ref()
        .take(MAX_ROWS + 1)
        .collect::<Result<_, _>>()
        .ok();
    if let Some(rows) = rows.filter(|r| small(r.len(), dec.is_done(), dec.saw_overlong(), col)) {
        let mut src = BoolRuns::new(col);
        let (mut enc, mut want) = (BoolEncoder::new(), BoolEncoder::new());
        let mut at = 0;
        for (n, replace) in ranges(seed, rows.len()) {
            if replace {
                src.take(n as u64, |_, _| {}).expect("canonical column");
                enc.append(true);
                want.append(true);
            } else {
                enc.copy_from(&mut src, n as u64).expect("canonical column");
                rows[at..at + n].iter().for_each(|r| want.append(*r));
            }
            at += n;
        }
        assert_eq!(enc.finish(), want.finish(), "bool splice");
    }
});
