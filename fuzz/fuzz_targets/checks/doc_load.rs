//! The `doc_load` fuzz target's fixture and checks, compiled into the target and into the
//! replay of its seeds and regressions in `crates/converge-doc/tests/fuzz_doc.rs` (the fuzz
//! crate is its own workspace: both include this file by path).
//!
//! Loading any file (documents, change chunks, compressed changes, in any order) never
//! panics, and neither does anything done with what loaded: a value tree, a save, a load of
//! that save (whose values must then be the same), `get_changes` (none since the heads, all
//! since none), a fork (the same heads and values), forks at the heads and at the middle
//! change (the values the document reads at them), the root's texts read whole (their
//! length is their text's chars; their marks lie inside them; counted in grapheme clusters
//! the same text, no longer, its spans and marks read), a walk of every object
//! (`iter`: the winners `get` reads) and the root's values, a bundle of every change (read
//! back to them), the history's fragments (each found again by its head, each written as
//! bytes), and the root's lists and
//! texts read by `list_range` (whole: one item per element `list_values` gives; and from
//! index 1 to 3). Loading the file incrementally into a real document either adds changes
//! or leaves the document exactly as it was. A load with every option on (partial loads,
//! unchecked heads, strings migrated to text) never panics either, and its save loads back
//! to the same values (unchecked if a change was not canonical). `Document::rescue` reads
//! what a load reads, the same values, and never panics on what a load refuses;
//! `Document::anonymize` copies every change of what loaded. As `chunk_split` does, the
//! checksum of every chunk found is first rewritten (except compressed changes', which
//! covers the inflated change), so that most inputs reach the decoders and the document.

use converge_doc::{
    DocError, DocItem, Document, LoadOptions, ObjType, OnPartialLoad, ROOT, StringMigration,
    TextEncoding, Value, ValueWithId, VerificationMode,
};
use converge_encoding::chunk::{ChunkType, split_chunks};
use converge_encoding::{ActorId, Bundle, ScalarValue};

/// The fixture.
pub(crate) fn fixture() -> Document {
    let mut doc = Document::with_actor(ActorId::from_bytes(&[0x11; 16]));
    let text = doc
        .put_object(&ROOT, "text", ObjType::Text)
        .expect("fixture");
    doc.splice_text(&text, 0, 0, "hello").expect("fixture");
    doc.put(&ROOT, "n", ScalarValue::Counter(1))
        .expect("fixture");
    doc
}

/// The fuzz target's body; whether the file loaded.
pub(crate) fn check(data: &[u8]) -> bool {
    let mut file = data.to_vec();
    let mut offset = 0;
    for chunk in split_chunks(data) {
        let Ok(c) = chunk else { break };
        if c.chunk_type() != ChunkType::CompressedChange {
            let hash = c.hash();
            file[offset + 4..offset + 8].copy_from_slice(&hash.0[..4]);
        }
        offset += c.bytes().len();
    }
    let loaded = match Document::load(&file) {
        Ok(mut doc) => {
            let tree = format!("{:?}", doc.value_tree(&ROOT));
            assert_eq!(
                format!("{:?}", Document::rescue(&file)),
                tree,
                "a rescue reads what a load reads"
            );
            let heads = doc.heads();
            assert!(
                doc.get_changes(&heads).is_empty(),
                "nothing since the heads"
            );
            assert_eq!(doc.get_changes(&[]).len(), doc.change_count());
            let fork = doc.fork();
            assert_eq!(fork.heads(), heads);
            assert_eq!(format!("{:?}", fork.value_tree(&ROOT)), tree);
            // A fork at the heads, and at the middle change, reads what the document reads
            // at them.
            let changes = doc.get_changes(&[]);
            let middle = changes.get(changes.len() / 2).map(|c| c.hash());
            for at in [heads.clone(), middle.into_iter().collect()] {
                let fork = doc.fork_at(&at).expect("a fork at known heads");
                assert_eq!(
                    format!("{:?}", fork.value_tree(&ROOT)),
                    format!("{:?}", doc.value_tree_at(&ROOT, &at)),
                    "a fork at heads reads what the document reads at them"
                );
            }
            // A walk of every object agrees with the reads of each: a map's or list's items
            // are the winners `get` reads (by id); the root's values are one a key.
            for item in doc.iter() {
                let Ok(item) = item else { break };
                let (id, got) = match &item.item {
                    DocItem::Map(m) => (&m.id, doc.get(&item.obj, m.key.as_str())),
                    DocItem::List(l) => (&l.id, doc.get(&item.obj, l.index)),
                    DocItem::Text(_) => continue,
                };
                assert_eq!(got.ok().flatten().map(|v| v.id).as_ref(), Some(id));
            }
            assert_eq!(
                doc.values(&ROOT).map(|v| v.len()).ok(),
                doc.keys(&ROOT).map(|k| k.len()).ok()
            );
            let clusters = Document::load_with_encoding(&file, TextEncoding::GraphemeCluster).ok();
            for key in doc.keys(&ROOT).unwrap_or_default() {
                if let Ok(Some(ValueWithId {
                    value: Value::Object(ObjType::List | ObjType::Text, seq),
                    ..
                })) = doc.get(&ROOT, key.as_str())
                {
                    let all = doc.list_range(&seq, ..).unwrap_or_default();
                    let values = doc.list_values(&seq).unwrap_or_default();
                    assert_eq!(all.len(), values.len(), "a range of every element");
                    assert!(all.iter().enumerate().all(|(i, item)| item.index == i));
                    let some = doc.list_range(&seq, 1..3).unwrap_or_default();
                    // (By their debug strings: a NaN float is not equal to itself.)
                    assert_eq!(
                        format!("{some:?}"),
                        format!("{:?}", all.get(1..all.len().min(3)).unwrap_or_default())
                    );
                }
                if let Ok(Some(ValueWithId {
                    value: Value::Object(ObjType::Text, text),
                    ..
                })) = doc.get(&ROOT, key.as_str())
                {
                    let len = doc.length(&text).unwrap_or(0);
                    let string = doc.text(&text).unwrap_or_default();
                    assert_eq!(
                        string.chars().count(),
                        len,
                        "a text's length counts its chars"
                    );
                    let marks = doc.marks(&text).unwrap_or_default();
                    assert!(marks.iter().all(|m| m.start <= m.end && m.end <= len));
                    // Counted in grapheme clusters: the same text, no longer (each element
                    // holds no more clusters than characters), spans that read it whole.
                    if let Some(g) = &clusters {
                        assert_eq!(g.text(&text).ok(), Some(string.clone()));
                        let g_len = g.length(&text).unwrap_or(0);
                        assert!(g_len <= len, "{g_len} clusters, {len} chars");
                        let spans = g.spans(&text, None).unwrap_or_default();
                        let _ = g.get_marks(&text, g_len / 2, None);
                        assert!(spans.len() <= len.max(1));
                    }
                }
            }
            // A bundle of every change reads back to them (those whose bytes a document
            // keeps, and whose ancestors' bytes it keeps; another change comes back
            // canonical, under another hash, as from a save, and so do the changes that
            // depend on it, whose deps name the new hash: `Change::is_canonical`,
            // `Change::kept_by_documents`).
            let changes = doc.get_changes(&[]);
            let hashes: Vec<_> = changes.iter().map(|c| c.hash()).collect();
            match doc.bundle(&hashes).map(|b| Bundle::decode(&b)) {
                Ok(Ok(b)) => {
                    assert_eq!(b.changes().len(), changes.len());
                    let got: std::collections::HashSet<_> =
                        b.changes().iter().map(|c| c.hash()).collect();
                    // In application order: deps before the changes on them.
                    let mut rewritten = std::collections::HashSet::new();
                    for c in &changes {
                        if !(c.is_canonical() && c.kept_by_documents())
                            || c.deps().iter().any(|d| rewritten.contains(d))
                        {
                            rewritten.insert(c.hash());
                            continue;
                        }
                        assert!(
                            got.contains(&c.hash()),
                            "a bundle reads back to its changes"
                        );
                    }
                }
                other => panic!("bundling a loaded document: {other:?}"),
            }
            // Fragments (automerge's experimental cut of the history): each found again by
            // its head, each written as bytes.
            let fragments = doc.fragments(..);
            for f in &fragments {
                assert_eq!(
                    doc.get_fragment(&f.head).as_ref(),
                    Some(f),
                    "a fragment by its head"
                );
            }
            assert_eq!(
                doc.bundle_fragments(fragments.clone()).len(),
                fragments.len()
            );
            // An anonymized copy has every change (renamed, with other content).
            match doc.anonymize_with_seed(data.len() as u64) {
                Ok(copy) => assert_eq!(copy.change_count(), doc.change_count()),
                Err(e) => panic!("anonymizing a loaded document: {e:?}"),
            }
            let saved = doc.save();
            loads_back(&doc, &saved, &tree, "a save of a loaded file");
            let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
            let _ = doc.save_incremental();
            true
        }
        Err(_) => {
            // (A misplaced mark end is reported before other faults: a rescue may meet
            // those.)
            let _ = Document::rescue(&file);
            false
        }
    };
    let options = LoadOptions::new()
        .on_partial_load(OnPartialLoad::Ignore)
        .verification_mode(VerificationMode::DontCheck)
        .migrate_strings(StringMigration::ConvertToText)
        .actor(ActorId::from_bytes(&[0x22; 16]));
    if let Ok(mut doc) = Document::load_with_options(&file, options) {
        let tree = format!("{:?}", doc.value_tree(&ROOT));
        let saved = doc.save();
        loads_back(&doc, &saved, &tree, "a save of a partial load");
    }
    let mut doc = fixture();
    let before = (doc.heads(), doc.save_nocompress(), doc.change_count());
    if doc.load_incremental(&file).is_err() {
        assert!(
            (doc.heads(), doc.save_nocompress(), doc.change_count()) == before,
            "a failed incremental load leaves the document as it was"
        );
    }
    let _ = doc.put(&ROOT, "after", ScalarValue::Int(1));
    let _ = doc.save();
    loaded
}

/// `saved` (the save of `doc`, whose value tree printed as `tree`) loads back to the same
/// values. Unchecked and with missing deps allowed: a change whose bytes are not the
/// canonical encoding of its content (an unused other actor, say) is rebuilt from a
/// document chunk with other bytes, so its hash and the heads differ then (format.md
/// section 0), and queued changes follow the document chunk. Not checked when the document
/// holds both (a queued change may wait for the hash a non-canonical change gets when
/// rebuilt, and apply on the reload; a change whose deletion carries a value, which a
/// document does not keep, is rebuilt so too: `Change::kept_by_documents`), nor for a mark that ends before it begins, which
/// changes may hold and a document chunk may not (automerge 0.12 alike: converge-interop
/// `mark_order`).
fn loads_back(doc: &Document, saved: &[u8], tree: &str, what: &str) {
    if doc.queued_count() > 0
        && !doc
            .get_changes(&[])
            .iter()
            .all(|c| c.is_canonical() && c.kept_by_documents())
    {
        return;
    }
    let options = LoadOptions::new()
        .on_partial_load(OnPartialLoad::Ignore)
        .verification_mode(VerificationMode::DontCheck);
    match Document::load_with_options(saved, options) {
        Ok(again) => assert_eq!(format!("{:?}", again.value_tree(&ROOT)), tree, "{what}"),
        Err(DocError::InvalidMarkOrder { .. }) => {}
        Err(e) => panic!("{what} loads back: {e:?}"),
    }
}
