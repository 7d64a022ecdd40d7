//! Integration tests of converge-bloom: properties, and the measured false-positive rate.

use converge_bloom::{BITS_PER_ENTRY, BloomFilter, PROBES};
use converge_encoding::ChangeHash;
use quickcheck::{QuickCheck, TestResult};

/// splitmix64: a tiny deterministic RNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> ChangeHash {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        ChangeHash(b)
    }
}

#[test]
fn false_positive_rate_is_about_one_percent() {
    let mut rng = Rng(0x5eed_b10f);
    let members: Vec<ChangeHash> = (0..10_000).map(|_| rng.hash()).collect();
    let filter = BloomFilter::from_hashes(&members);
    assert!(members.iter().all(|h| filter.contains(h)));
    const PROBED: u32 = 1_000_000;
    let hits = (0..PROBED).filter(|_| filter.contains(&rng.hash())).count();
    let rate = hits as f64 / f64::from(PROBED);
    println!(
        "false-positive rate over {PROBED} non-members: {:.4}%",
        rate * 100.0
    );
    assert!((0.005..=0.015).contains(&rate), "rate {rate}");
}

#[test]
fn members_are_found_and_encoding_round_trips() {
    fn prop(seed: u64, n: u16) -> bool {
        let mut rng = Rng(seed);
        let members: Vec<ChangeHash> = (0..n % 2000).map(|_| rng.hash()).collect();
        let filter = BloomFilter::from_hashes(members.iter());
        let bytes = filter.to_bytes();
        let expected_len = if members.is_empty() {
            0
        } else {
            (members.len() * BITS_PER_ENTRY as usize).div_ceil(8)
        };
        members.iter().all(|h| filter.contains(h))
            && filter.bits().len() == expected_len
            && bytes.len() == filter.encoded_len()
            && BloomFilter::decode(&bytes).as_ref() == Ok(&filter)
            && (members.is_empty() || filter.probes() == PROBES)
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(u64, u16) -> bool);
}

#[test]
fn decode_is_total_and_canonical() {
    fn prop(bytes: Vec<u8>) -> TestResult {
        match BloomFilter::decode(&bytes) {
            Err(_) => TestResult::passed(),
            Ok(filter) if filter.is_empty() => TestResult::from_bool(
                filter.to_bytes().is_empty() && bytes.first().is_none_or(|&b| b == 0),
            ),
            Ok(filter) => TestResult::from_bool(bytes.starts_with(&filter.to_bytes())),
        }
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(Vec<u8>) -> TestResult);
    // Small valid headers, so that the success path is exercised too.
    fn prop_header(entries: u8, bpe: u8, probes: u8, tail: Vec<u8>) -> TestResult {
        let mut bytes = vec![entries & 0x7f, bpe & 0x7f, probes & 0x7f];
        bytes.extend(tail);
        prop(bytes)
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop_header as fn(u8, u8, u8, Vec<u8>) -> TestResult);
}
