//! Text counted in grapheme clusters (`TextEncoding::GraphemeCluster`, automerge 0.12's
//! `GraphemeCluster`) against automerge's, on documents whose texts other peers wrote a code
//! point at a time (the seeded histories of `support`: an accent stored apart from its letter,
//! a flag's two halves apart, each element then one cluster wide): both load them counting
//! clusters and read the same trees (texts, lengths, marks), spans and marks at every index;
//! then both splice clusters in and delete at unit indexes, write the same changes, and
//! report the same patches (of the edits, and of the whole document); and what they wrote
//! (elements of several characters) reads alike counting code points and UTF-16 units.

use crate::doc_tree::patches::{oracle_patch, ours_patch};
use crate::doc_tree::{first_diff, oracle_tree, ours_tree};
use crate::support::{SplitMix64, loaded_pair, sweep};
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use converge_doc::{Document, ObjType, TextEncoding, Value};

const SNIPPETS: [&str; 7] = ["a", "e\u{301}", "🇬🇧", "👨‍👨‍👧‍👦", "日本", "\u{301}", "x🇬"];

/// Every text of the document, both sides' ids.
fn texts(doc: &Document) -> Vec<converge_doc::ExId> {
    doc.iter()
        .filter_map(|i| match i.ok()?.value() {
            Some(Value::Object(ObjType::Text, id)) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// The marks at element `index` of a text, as each side reports them.
fn marks_at(
    ours: &Document,
    theirs: &automerge::Automerge,
    t: &converge_doc::ExId,
    their_t: &automerge::ObjId,
    index: usize,
) -> (Vec<String>, Vec<String>) {
    let got = ours
        .get_marks(t, index, None)
        .unwrap()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", crate::doc_tree::ours_scalar(&v)))
        .collect();
    let expected = theirs
        .get_marks(their_t, index, None)
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::doc_tree::oracle_scalar(v)))
        .collect();
    (got, expected)
}

#[test]
fn grapheme_counting_reads_and_writes_as_automerge_s() {
    let (mut docs, mut text_reads, mut edits, mut alike, mut patches) = (0, 0, 0, 0, 0);
    let mut reread = 0;
    for seed in sweep(300) {
        let (mut loaded, _) = loaded_pair(seed, &[0x66; 16]);
        let saved = loaded.save();
        let mut ours = Document::load_with_encoding(&saved, TextEncoding::GraphemeCluster).unwrap();
        ours.set_actor(converge_encoding::ActorId::from_bytes(&[0x66; 16]));
        let mut theirs = automerge::Automerge::load_with_options(
            &saved,
            automerge::LoadOptions::new().text_encoding(automerge::TextEncoding::GraphemeCluster),
        )
        .unwrap()
        .with_actor(automerge::ActorId::from(&[0x66u8; 16][..]));
        let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
        assert!(a == b, "seed {seed}: {}", first_diff(&a, &b));
        docs += 1;
        let loaded_heads = ours.heads();
        let their_loaded = theirs.get_heads();
        let mut rng = SplitMix64::new(seed ^ 0x97a9);
        for t in texts(&ours) {
            let their_t = theirs.import_obj(&t.to_string()).unwrap();
            let len = ours.length(&t).unwrap();
            assert_eq!(len, theirs.length(&their_t), "seed {seed}: length of {t}");
            for index in 0..=len {
                let (got, expected) = marks_at(&ours, &theirs, &t, &their_t, index);
                assert_eq!(got, expected, "seed {seed}: marks at {index} of {t}");
                text_reads += 1;
            }
            // Edits at unit indexes, the same on both sides.
            for _ in 0..4 {
                let len = ours.length(&t).unwrap();
                let pos = rng.below(len + 1);
                let del = rng.below((len - pos).min(3) + 1);
                let insert = if rng.percent(70) {
                    *rng.pick(&SNIPPETS)
                } else {
                    ""
                };
                let a = ours.splice_text(&t, pos, del, insert);
                let b = theirs.transact(|tx| tx.splice_text(&their_t, pos, del as isize, insert));
                assert_eq!(
                    a.is_ok(),
                    b.is_ok(),
                    "seed {seed}: splice {pos} {del} {insert:?}"
                );
                edits += 1;
            }
            assert_eq!(ours.text(&t).unwrap(), theirs.text(&their_t).unwrap());
        }
        let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
        assert!(
            a == b,
            "seed {seed} after the edits: {}",
            first_diff(&a, &b)
        );
        // The patches of the edits, and of the whole document, counted in clusters.
        let after = ours.heads();
        let their_after = theirs.get_heads();
        for (from, their_from) in [(&loaded_heads[..], &their_loaded[..]), (&[][..], &[][..])] {
            let got: Vec<String> = ours
                .diff_as_automerge(&converge_doc::ROOT, from, &after, true)
                .unwrap()
                .iter()
                .map(ours_patch)
                .collect();
            let expected: Vec<String> = theirs
                .diff(their_from, &their_after)
                .iter()
                .map(oracle_patch)
                .collect();
            assert_eq!(got, expected, "seed {seed}: patches from {from:?}");
            patches += got.len();
        }
        let saved = ours.save();
        if saved == theirs.save() {
            alike += 1;
        } else {
            panic!("seed {seed}: the saves differ");
        }
        // The other way: what was written a cluster an element, read counting code points
        // or UTF-16 units (an element of several characters counts them all).
        for (units, their_units) in [
            (
                TextEncoding::CodePoint,
                automerge::TextEncoding::UnicodeCodePoint,
            ),
            (TextEncoding::Utf16, automerge::TextEncoding::Utf16CodeUnit),
        ] {
            let ours = Document::load_with_encoding(&saved, units).unwrap();
            let theirs = automerge::Automerge::load_with_options(
                &saved,
                automerge::LoadOptions::new().text_encoding(their_units),
            )
            .unwrap();
            let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
            assert!(
                a == b,
                "seed {seed} read in {units:?}: {}",
                first_diff(&a, &b)
            );
            for t in texts(&ours) {
                let their_t = theirs.import_obj(&t.to_string()).unwrap();
                let len = ours.length(&t).unwrap();
                for index in 0..=len {
                    let (got, expected) = marks_at(&ours, &theirs, &t, &their_t, index);
                    assert_eq!(
                        got, expected,
                        "seed {seed} in {units:?}: marks at {index} of {t}"
                    );
                    reread += 1;
                }
            }
            let got: Vec<String> = ours
                .diff_as_automerge(&converge_doc::ROOT, &[], &ours.heads(), true)
                .unwrap()
                .iter()
                .map(ours_patch)
                .collect();
            let expected: Vec<String> = theirs
                .diff(&[], &theirs.get_heads())
                .iter()
                .map(oracle_patch)
                .collect();
            assert_eq!(
                got, expected,
                "seed {seed} in {units:?}: the document's patches"
            );
        }
    }
    eprintln!(
        "{docs} documents read alike counting clusters ({text_reads} get_marks reads), \
         {edits} splices, {alike} saves byte for byte, {patches} patches alike; read back \
         in code points and UTF-16 units alike ({reread} get_marks reads)"
    );
}
