//! Many marks at once, against the oracle: peers who each mark a text dozens of times while
//! apart (one range over and over, ranges nested in one another, random ranges with a few
//! names or many), their changes then applied to a converge document and to automerge 0.12
//! in random groupings.
//!
//! These are the texts where many begins are in force at once: converge keeps each name's
//! begins in force ordered by id, so that a read passes a begin or an end in logarithmic
//! time, and brings only the names that changed in line at a character. The marks, the
//! spans, the marks at single characters and the patches of the whole merge must come out
//! as automerge's.
//!
//! `CONVERGE_ORACLE_SEEDS=A..B` runs other seeds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

#[path = "doc_tree/mod.rs"]
mod doc_tree;

use automerge::{Automerge, ReadDoc};
use converge_doc::{Document, ExId, ExpandMark, ObjType, ROOT, Span};
use converge_encoding::{ActorId, ScalarValue};
use doc_tree::patches::{oracle_patch, ours_patch};
use doc_tree::{first_diff, oracle_scalar, oracle_tree, ours_scalar, ours_tree};
use support::{SplitMix64, apply_both, sweep};

/// The text every peer starts from.
const TEXT: &str = "the quick brown fox jumps over the lazy dog, twice";

fn base() -> (Document, ExId) {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x01; 16]));
    let mut tx = doc.transaction();
    let text = tx.put_object(&ROOT, "t", ObjType::Text).unwrap();
    tx.splice_text(&text, 0, 0, TEXT).unwrap();
    tx.commit().unwrap();
    (doc, text)
}

/// One peer's marks while apart, `shape` deciding their ranges and names, with a few text
/// edits among them; committed every few.
fn edit(doc: &mut Document, text: &ExId, rng: &mut SplitMix64, shape: u64) {
    let marks = rng.range(10, 60);
    let per_change = *rng.pick(&[1usize, 5, 1000]);
    let mut tx = doc.transaction();
    let mut in_change = 0;
    for i in 0..marks {
        if in_change >= per_change {
            tx.commit().unwrap();
            tx = doc.transaction();
            in_change = 0;
        }
        in_change += 1;
        let len = tx.length(text).unwrap();
        if rng.percent(10) && len > 2 {
            let at = rng.below(len);
            if rng.percent(50) {
                tx.splice_text(text, at, 1, "").unwrap();
            } else {
                tx.splice_text(text, at, 0, "xy").unwrap();
            }
            continue;
        }
        let range = match shape {
            // One range, over and over.
            0 => 5.min(len)..20.min(len),
            // Each inside the one before.
            1 => {
                let d = (i % (len / 2).max(1)).min(len / 2);
                d..len - d
            }
            _ => {
                let a = rng.below(len + 1);
                let b = rng.below(len + 1);
                a.min(b)..a.max(b)
            }
        };
        let name = match shape {
            3 => format!("m{}", rng.below(40)),
            _ => rng.pick(&["b", "i", "u"]).to_string(),
        };
        let value = match rng.below(4) {
            0 => ScalarValue::Null,
            1 => ScalarValue::Int(rng.below(3) as i64),
            _ => ScalarValue::Bool(true),
        };
        let expand = *rng.pick(&[
            ExpandMark::None,
            ExpandMark::Before,
            ExpandMark::After,
            ExpandMark::Both,
        ]);
        tx.mark(text, range, &name, value, expand).unwrap();
    }
    tx.commit().unwrap();
}

/// A text's spans as comparable lines (no blocks here).
fn ours_spans(doc: &Document, text: &ExId) -> Vec<String> {
    doc.spans(text, None)
        .unwrap()
        .iter()
        .map(|s| match s {
            Span::Text(t) => {
                let marks: Vec<String> = t
                    .marks
                    .iter()
                    .map(|(k, v)| format!("{k}={}", ours_scalar(v)))
                    .collect();
                format!("{:?} {}", t.text, marks.join(","))
            }
            Span::Block(_) => "block".to_string(),
        })
        .collect()
}

fn oracle_spans(doc: &Automerge, text: &automerge::ObjId) -> Vec<String> {
    doc.spans(text)
        .unwrap()
        .map(|s| match s {
            automerge::Span::Text { text, marks } => {
                let marks: Vec<String> = marks
                    .iter()
                    .flat_map(|m| m.iter())
                    .map(|(k, v)| format!("{k}={}", oracle_scalar(v)))
                    .collect();
                format!("{text:?} {}", marks.join(","))
            }
            automerge::Span::Block(_) => "block".to_string(),
        })
        .collect()
}

fn check_seed(seed: u64) {
    let mut rng = SplitMix64::new(seed ^ 0x6d61_726b);
    let (mut base, text) = base();
    let shape = seed % 4;
    let peers = 2 + rng.below(2);
    let mut changes: Vec<Vec<u8>> = Vec::new();
    for p in 0..peers {
        let mut doc = base.fork();
        doc.set_actor(ActorId::from_bytes(&[0x10 + p as u8; 16]));
        edit(&mut doc, &text, &mut rng, shape);
        changes.extend(
            doc.get_changes(&base.heads())
                .iter()
                .map(|c| c.bytes().to_vec()),
        );
    }
    let mut ours = base.fork();
    let mut theirs = Automerge::load(&base.save()).unwrap();
    let (_, their_text) = theirs.get(automerge::ROOT, "t").unwrap().unwrap();
    let mut rest = &changes[..];
    while !rest.is_empty() {
        let n = if rng.percent(40) {
            rest.len()
        } else {
            1 + rng.below(rest.len())
        };
        let (group, after) = rest.split_at(n);
        rest = after;
        apply_both(&mut ours, &mut theirs, group);
        // The values and marks (`ours_tree` holds each text's marks).
        let (a, b) = (ours_tree(&ours, None), oracle_tree(&theirs, None));
        assert!(a == b, "seed {seed}: {}", first_diff(&a, &b));
        assert_eq!(
            ours_spans(&ours, &text),
            oracle_spans(&theirs, &their_text),
            "seed {seed}: spans"
        );
    }
    // The marks at single characters.
    let len = ours.length(&text).unwrap();
    for index in (0..len).step_by(3) {
        let a: Vec<String> = ours
            .get_marks(&text, index, None)
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", ours_scalar(v)))
            .collect();
        let b: Vec<String> = theirs
            .get_marks(&their_text, index, None)
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", oracle_scalar(v)))
            .collect();
        assert_eq!(a, b, "seed {seed}: marks at {index}");
    }
    // The patches of the whole merge, from the common start.
    let before = base.heads();
    let after = ours.heads();
    let a: Vec<String> = ours
        .diff_as_automerge(&ROOT, &before, &after, true)
        .unwrap()
        .iter()
        .map(ours_patch)
        .collect();
    let theirs_heads = |h: &[converge_encoding::ChangeHash]| -> Vec<automerge::ChangeHash> {
        h.iter().map(|h| automerge::ChangeHash(h.0)).collect()
    };
    let b: Vec<String> = theirs
        .diff(&theirs_heads(&before), &theirs_heads(&after))
        .iter()
        .map(oracle_patch)
        .collect();
    assert!(
        a == b,
        "seed {seed}: patches\nours:\n{}\noracle:\n{}",
        a.join("\n"),
        b.join("\n")
    );
}

#[test]
fn many_marks_read_as_automerge_reads_them() {
    for seed in sweep(24) {
        check_seed(seed);
    }
}
