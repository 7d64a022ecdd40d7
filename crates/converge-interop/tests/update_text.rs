//! `update_text` against automerge 0.12's: on random pairs of texts, in code points and
//! UTF-16, the two make the same change, byte for byte: texts whose characters are their own
//! grapheme clusters (ASCII with few letters, so that shortest edit scripts tie often;
//! accented letters, CJK, single-code-point emoji), and texts of clusters of several
//! characters (combining accents, flags, emoji with skin tones and joiners), which both diff
//! as clusters. The oracle applies converge's changes to the new text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_doc::{ObjType, ROOT, TextEncoding};
use converge_encoding::ActorId;
use support::{SplitMix64, sweep};

/// Random pairs per run (`CONVERGE_ORACLE_SEEDS` sweeps others).
const SEEDS: u64 = 3000;

fn text(rng: &mut SplitMix64, alphabet: &[&str], max: usize) -> String {
    (0..rng.below(max + 1))
        .map(|_| *rng.pick(alphabet))
        .collect()
}

/// `old` edited a little (so that most of it is kept), or another text altogether.
fn edited(rng: &mut SplitMix64, old: &str, alphabet: &[&str]) -> String {
    if rng.percent(20) {
        return text(rng, alphabet, 24);
    }
    let mut chars: Vec<String> = old.chars().map(String::from).collect();
    for _ in 0..rng.range(1, 4) {
        let at = rng.below(chars.len() + 1);
        if rng.percent(50) && at < chars.len() {
            let n = rng.range(1, 3).min(chars.len() - at);
            chars.drain(at..at + n);
        } else {
            let s = text(rng, alphabet, 4);
            chars.insert(at, s);
        }
    }
    chars.concat()
}

/// Both documents after `old` and then `update_text(new)`, each in its own change; the last
/// changes' bytes.
fn run(old: &str, new: &str, units: TextEncoding) -> (Vec<u8>, Vec<u8>, String, String) {
    let actor = ActorId::from_bytes(&[0x5a; 16]);
    let mut ours = converge_doc::Document::with_actor(actor.clone());
    assert!(ours.set_text_encoding(units));
    let encoding = match units {
        TextEncoding::Utf16 => automerge::TextEncoding::Utf16CodeUnit,
        TextEncoding::GraphemeCluster => automerge::TextEncoding::GraphemeCluster,
        _ => automerge::TextEncoding::UnicodeCodePoint,
    };
    let mut theirs = automerge::Automerge::new_with_encoding(encoding)
        .with_actor(automerge::ActorId::from(actor.as_bytes()));
    let t = ours.put_object(&ROOT, "t", ObjType::Text).unwrap();
    ours.splice_text(&t, 0, 0, old).unwrap();
    ours.update_text(&t, new).unwrap();
    let mut tx = theirs.transaction();
    let at = tx
        .put_object(automerge::ROOT, "t", automerge::ObjType::Text)
        .unwrap();
    tx.commit();
    let mut tx = theirs.transaction();
    tx.splice_text(&at, 0, 0, old).unwrap();
    tx.commit();
    let mut tx = theirs.transaction();
    tx.update_text(&at, new).unwrap();
    tx.commit();
    let a = ours.get_changes(&[]).last().unwrap().bytes().to_vec();
    let b = theirs.get_changes(&[]).last().unwrap().raw_bytes().to_vec();
    // The oracle applies our changes, to our text.
    let mut check = automerge::Automerge::new_with_encoding(encoding);
    for c in ours.get_changes(&[]) {
        check
            .apply_changes([automerge::Change::from_bytes(c.bytes().to_vec()).unwrap()])
            .unwrap();
    }
    let (_, ct) = check.get(automerge::ROOT, "t").unwrap().unwrap();
    assert_eq!(check.text(&ct).unwrap(), new, "{old:?} → {new:?}");
    (a, b, ours.text(&t).unwrap(), theirs.text(&at).unwrap())
}

/// Code points, UTF-16 units (three in ten) or grapheme clusters (two in ten).
fn units(rng: &mut SplitMix64) -> TextEncoding {
    match rng.below(10) {
        0..=2 => TextEncoding::Utf16,
        3..=4 => TextEncoding::GraphemeCluster,
        _ => TextEncoding::CodePoint,
    }
}

#[test]
fn update_text_makes_automerges_changes() {
    let one_char_clusters: [&[&str]; 3] = [
        &["a", "b", " "],
        &["a", "b", "c", "\n", "é", "日", "😀"],
        &["x", "y"],
    ];
    let (mut same, mut compared) = (0, 0);
    for seed in sweep(SEEDS) {
        let mut rng = SplitMix64::new(seed ^ 0x0bda_7e7e);
        let alphabet = *rng.pick(&one_char_clusters);
        let old = text(&mut rng, alphabet, 24);
        let new = edited(&mut rng, &old, alphabet);
        let units = units(&mut rng);
        let (a, b, ta, tb) = run(&old, &new, units);
        assert_eq!(ta, new);
        assert_eq!(tb, new);
        assert!(
            a == b,
            "seed {seed}: {old:?} → {new:?} ({units:?}): changes differ"
        );
        same += 1;
        compared += 1;
    }
    println!("{compared} update_text pairs, {same} identical changes");
}

#[test]
fn update_text_over_multi_character_clusters_makes_automerges_changes() {
    let alphabet: &[&str] = &[
        "e", "\u{301}", "🇬", "🇧", "a", "👍", "🏽", "\u{200d}", "👨", "\r", "\n", "ก", "\u{e33}",
    ];
    let mut compared = 0;
    for seed in sweep(SEEDS) {
        let mut rng = SplitMix64::new(seed ^ 0xc1_0573);
        let old = text(&mut rng, alphabet, 16);
        let new = edited(&mut rng, &old, alphabet);
        let units = units(&mut rng);
        let (a, b, ta, tb) = run(&old, &new, units);
        assert_eq!(ta, new);
        assert_eq!(tb, new);
        assert!(
            a == b,
            "seed {seed}: {old:?} → {new:?} ({units:?}): changes differ"
        );
        compared += 1;
    }
    println!("multi-character clusters: {compared} identical changes");
}
