//! converge-bloom against automerge 0.12: byte-identical encodings for random hash sets of
//! 0..10,000 entries, and `contains` agreeing on members and random non-members, also for
//! filters with other parameters.

use automerge::sync::BloomFilter as Oracle;
use converge_bloom::BloomFilter;
use converge_encoding::ChangeHash;

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

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn hash(&mut self) -> ChangeHash {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        ChangeHash(b)
    }
}

fn theirs(hash: &ChangeHash) -> automerge::ChangeHash {
    automerge::ChangeHash(hash.0)
}

#[test]
fn encodings_and_lookups_match_the_oracle() {
    let mut rng = Rng(0xb100_f11e);
    let mut sizes: Vec<usize> = (0..=17)
        .chain([63, 64, 65, 999, 1000, 9_999, 10_000])
        .collect();
    sizes.extend((0..20).map(|_| rng.below(10_001)));
    for n in sizes {
        let members: Vec<ChangeHash> = (0..n).map(|_| rng.hash()).collect();
        let ours = BloomFilter::from_hashes(&members);
        let oracle = Oracle::from_hashes(members.iter().map(theirs));
        let bytes = ours.to_bytes();
        assert_eq!(bytes, oracle.to_bytes(), "{n} entries");
        assert_eq!(BloomFilter::decode(&bytes).as_ref(), Ok(&ours));
        assert!(members.iter().all(|h| ours.contains(h)));
        assert!(members.iter().all(|h| oracle.contains_hash(&theirs(h))));
        for _ in 0..10_000 {
            let h = rng.hash();
            assert_eq!(
                ours.contains(&h),
                oracle.contains_hash(&theirs(&h)),
                "{n} entries"
            );
        }
    }
}

#[test]
fn decoded_parameters_match_the_oracle() {
    let mut rng = Rng(0x9a4a);
    for _ in 0..300 {
        let entries = 1 + rng.below(300) as u32;
        let bits_per_entry = 1 + rng.below(20) as u32;
        let probes = 1 + rng.below(converge_bloom::MAX_PROBES as usize) as u32;
        let mut bytes = Vec::new();
        for v in [entries, bits_per_entry, probes] {
            converge_encoding::leb128::write_u64(&mut bytes, v.into());
        }
        let len = ((f64::from(entries) * f64::from(bits_per_entry)) / 8.0).ceil() as usize;
        // Sparse or dense random bits, plus trailing bytes that both ignore.
        let density = rng.below(4);
        bytes.extend((0..len + rng.below(3)).map(|_| {
            let mut b = rng.next() as u8;
            for _ in 0..density {
                b |= rng.next() as u8;
            }
            b
        }));
        let ours = BloomFilter::decode(&bytes).unwrap();
        let oracle = Oracle::try_from(&bytes[..]).unwrap();
        assert_eq!(ours.to_bytes(), oracle.to_bytes());
        for _ in 0..200 {
            let h = rng.hash();
            assert_eq!(ours.contains(&h), oracle.contains_hash(&theirs(&h)));
        }
    }
}
