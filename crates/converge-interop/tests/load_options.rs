//! Load and save options against automerge 0.12's: partial loads (a file cut short or
//! damaged after its first chunk, changes whose deps are missing), loads that do not check a
//! document chunk's heads, the migration of strings to text, and saves without deflate or
//! without the queued changes. Same verdicts, same saved bytes, the same migration change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use automerge::{Automerge, ReadDoc};
use converge_doc::{
    AutoCommit as OurAutoCommit, Document, LoadOptions, OnPartialLoad, SaveOptions,
    StringMigration, VerificationMode,
};
use converge_encoding::DocumentChunk;
use converge_encoding::chunk::{Chunk, ChunkType, split_chunks, write_chunk};
use support::{History, Params, SplitMix64};

const SEEDS: u64 = 150;

fn concat<'a>(changes: impl IntoIterator<Item = &'a automerge::Change>) -> Vec<u8> {
    let mut out = Vec::new();
    for c in changes {
        out.extend_from_slice(c.raw_bytes());
    }
    out
}

/// Where each chunk of `file` starts, and the file's end.
fn chunk_starts(file: &[u8]) -> Vec<usize> {
    let mut chunks = split_chunks(file);
    let mut starts = vec![chunks.offset()];
    while let Some(c) = chunks.next() {
        c.expect("a well-formed file");
        starts.push(chunks.offset());
    }
    starts
}

fn ignore() -> LoadOptions {
    LoadOptions::new().on_partial_load(OnPartialLoad::Ignore)
}

fn oracle_ignore() -> automerge::LoadOptions<'static> {
    automerge::LoadOptions::new().on_partial_load(automerge::OnPartialLoad::Ignore)
}

/// A file of a document chunk (the history's first `k` changes, as the oracle saves them)
/// followed by the other changes as change chunks, or (`docless`) of change chunks only.
fn log_file(all: &[automerge::Change], k: usize, docless: bool) -> Vec<u8> {
    if docless {
        return concat(all);
    }
    let mut base = Automerge::new();
    base.apply_changes(all[..k].iter().cloned()).unwrap();
    let mut file = base.save();
    file.extend(concat(&all[k..]));
    file
}

/// A file damaged in one chunk after its first (cut short inside it, or a byte of its body
/// changed) loads as the oracle loads the file cut before that chunk, with
/// `OnPartialLoad::Ignore`, on `load_incremental` into an empty document and on an
/// `AutoCommit`; without the option both refuse it. automerge 0.12's own `Ignore` keeps only
/// a leading document chunk (checked too, so that the difference stays as documented).
#[test]
fn a_damaged_tail_loads_the_chunks_before_it() {
    let (mut files, mut kept_changes) = (0, 0);
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.len() < 3 {
            continue;
        }
        let mut rng = SplitMix64::new(seed ^ 0xdead);
        let docless = rng.percent(30);
        let k = rng.range(1, all.len() - 1);
        let file = log_file(&all, k, docless);
        let starts = chunk_starts(&file);
        let chunks = starts.len() - 1;
        let bad = rng.range(1, chunks - 1);
        let (from, to) = (starts[bad], starts[bad + 1]);
        let mut damaged = file.clone();
        if rng.percent(50) {
            damaged.truncate(rng.range(from + 1, to - 1));
        } else {
            let at = rng.range(from + 12, to - 1).min(to - 1);
            damaged[at] ^= 0x5a;
        }
        let ctx = format!("seed {seed} (docless {docless}, chunk {bad} of {chunks})");
        assert!(Document::load(&damaged).is_err(), "{ctx}: our load");
        assert!(Automerge::load(&damaged).is_err(), "{ctx}: oracle load");

        let expected = Automerge::load(&file[..from]).unwrap();
        let mut ours = Document::load_with_options(&damaged, ignore())
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(ours.save(), expected.save(), "{ctx}: Ignore");
        let mut incremental = Document::new();
        incremental.load_incremental(&damaged).unwrap();
        assert_eq!(
            incremental.save(),
            expected.save(),
            "{ctx}: load_incremental"
        );
        let mut auto = OurAutoCommit::load_with_options(&damaged, ignore()).unwrap();
        assert_eq!(auto.save(), expected.save(), "{ctx}: AutoCommit");

        // automerge 0.12's Ignore: the leading document chunk alone, or nothing.
        let theirs = Automerge::load_with_options(&damaged, oracle_ignore()).unwrap();
        let first_only = if docless {
            Automerge::new()
        } else {
            Automerge::load(&file[..starts[1]]).unwrap()
        };
        assert_eq!(theirs.get_heads(), first_only.get_heads(), "{ctx}");
        files += 1;
        kept_changes += ours.change_count();
    }
    assert!(files > SEEDS / 2, "too few files: {files}");
    println!("{files} damaged files, {kept_changes} changes kept");
}

/// A damaged first chunk fails every load, as in the oracle, `Ignore` or not.
#[test]
fn a_damaged_first_chunk_fails_the_load() {
    for seed in support::sweep(40) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.len() < 2 {
            continue;
        }
        let file = log_file(&all, 1, seed % 2 == 0);
        let starts = chunk_starts(&file);
        let mut damaged = file.clone();
        damaged[starts[1] - 1] ^= 1;
        assert!(Document::load_with_options(&damaged, ignore()).is_err());
        assert!(Automerge::load_with_options(&damaged, oracle_ignore()).is_err());
        let mut empty = Document::new();
        assert_eq!(
            empty.load_incremental(&damaged).is_err(),
            Automerge::new().load_incremental(&damaged).is_err(),
            "seed {seed}"
        );
    }
}

/// Change chunks whose deps are missing, with no document chunk first: refused by default,
/// queued with `Ignore`, on both sides, with the same queue, heads and saves (orphans
/// appended or not, deflated or not).
#[test]
fn missing_deps_are_queued_with_ignore() {
    let mut orphans = 0;
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.len() < 2 {
            continue;
        }
        let mut rng = SplitMix64::new(seed ^ 0x0f0f);
        let skip = rng.below(all.len() - 1);
        let file = concat(
            all.iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c),
        );
        let ctx = format!("seed {seed} (change {skip} left out)");
        let (our_error, their_error) = (Document::load(&file), Automerge::load(&file));
        if their_error.is_ok() {
            // Nothing depended on the change left out.
            assert!(our_error.is_ok(), "{ctx}");
            continue;
        }
        assert!(our_error.is_err(), "{ctx}: our load took it");
        let mut ours = Document::load_with_options(&file, ignore()).unwrap();
        let theirs = Automerge::load_with_options(&file, oracle_ignore()).unwrap();
        assert_eq!(
            ours.missing_deps(&[])
                .iter()
                .map(|h| h.0)
                .collect::<Vec<_>>(),
            theirs
                .get_missing_deps(&[])
                .iter()
                .map(|h| h.0)
                .collect::<Vec<_>>(),
            "{ctx}: missing deps"
        );
        let queued = all.len() - 1 - ours.change_count();
        assert!(queued > 0, "{ctx}");
        orphans += queued;
        for (deflate, retain_orphans) in
            [(true, true), (true, false), (false, true), (false, false)]
        {
            let mine = ours.save_with_options(SaveOptions {
                deflate,
                retain_orphans,
            });
            let reference = theirs.save_with_options(automerge::SaveOptions {
                deflate,
                retain_orphans,
            });
            assert!(
                mine == reference,
                "{ctx}: save_with_options(deflate {deflate}, retain_orphans {retain_orphans})"
            );
        }
        assert_eq!(ours.save_nocompress(), theirs.save_nocompress(), "{ctx}");
        // What a save with its orphans wrote loads back with them (Ignore: no document
        // chunk may come first when the history before the gap is empty).
        let again = Document::load_with_options(&ours.save(), ignore()).unwrap();
        assert_eq!(again.change_count(), ours.change_count(), "{ctx}");
        assert_eq!(again.missing_deps(&[]), ours.missing_deps(&[]), "{ctx}");
    }
    assert!(orphans > 0, "no history left orphans");
    println!("{orphans} queued changes");
}

/// `file`'s document chunk (its first) with the first byte of its first stored head
/// changed, sealed again with a valid checksum.
fn with_wrong_head(file: &[u8]) -> Vec<u8> {
    let chunk = Chunk::parse(file).unwrap();
    assert_eq!(chunk.chunk_type(), ChunkType::Document);
    let mut data = chunk.data().to_vec();
    let mut pos = 0;
    let uleb = |data: &[u8], pos: &mut usize| {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = data[*pos];
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    };
    let actors = uleb(&data, &mut pos);
    for _ in 0..actors {
        let len = uleb(&data, &mut pos) as usize;
        pos += len;
    }
    let heads = uleb(&data, &mut pos);
    assert!(heads > 0);
    data[pos] ^= 0x80;
    let mut out = Vec::new();
    write_chunk(&mut out, ChunkType::Document, &data);
    out.extend_from_slice(&file[chunk.bytes().len()..]);
    out
}

/// A document chunk whose stored heads are wrong: refused by both when checked, loaded with
/// `VerificationMode::DontCheck` (and `load_unverified_heads`) with the same changes. converge
/// takes the heads of the changes, so it saves the file as it was before the damage;
/// automerge 0.12 keeps the stored heads (and panics saving them: a head it has no change
/// for). After another chunk (a later document chunk's heads are never checked, in
/// automerge 0.12) both load it with the default options, alike.
#[test]
fn unverified_heads_load_as_in_the_oracle() {
    let mut loaded = 0;
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let all = history.changes();
        if all.is_empty() {
            continue;
        }
        let ctx = format!("seed {seed}");
        let saved = history.merged.save();
        let wrong = with_wrong_head(&saved);
        assert!(Document::load(&wrong).is_err(), "{ctx}: our load");
        assert!(Automerge::load(&wrong).is_err(), "{ctx}: oracle load");
        let options = LoadOptions::new().verification_mode(VerificationMode::DontCheck);
        let mut ours = Document::load_with_options(&wrong, options).unwrap();
        assert!(ours.save() == saved, "{ctx}: DontCheck");
        let theirs = Automerge::load_unverified_heads(&wrong).unwrap();
        let stored = DocumentChunk::decode(&wrong).unwrap().heads;
        assert_eq!(
            theirs.get_heads().iter().map(|h| h.0).collect::<Vec<_>>(),
            {
                let mut stored: Vec<_> = stored.iter().map(|h| h.0).collect();
                stored.sort_unstable();
                stored
            },
            "{ctx}: automerge keeps the stored heads"
        );
        let mut ours = Document::load_unverified_heads(&wrong).unwrap();
        assert!(ours.save() == saved, "{ctx}: load_unverified_heads");
        assert_eq!(
            ours.get_changes(&[]).len(),
            theirs.get_changes(&[]).len(),
            "{ctx}"
        );
        let mut auto = OurAutoCommit::load_unverified_heads(&wrong).unwrap();
        assert!(auto.save() == saved, "{ctx}: AutoCommit");

        let mut later = concat(&all[..1]);
        later.extend_from_slice(&wrong);
        let theirs = Automerge::load(&later).unwrap();
        let mut ours = Document::load(&later).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert!(
            ours.save() == theirs.save(),
            "{ctx}: a later document chunk"
        );
        loaded += 1;
    }
    println!("{loaded} files with a wrong head");
}

/// Strings become text as automerge 0.12's `StringMigration::ConvertToText` makes them: the
/// same change, byte for byte (our load given the oracle's random actor), then the same
/// document.
#[test]
fn strings_become_text_as_in_the_oracle() {
    let (mut migrated, mut unchanged) = (0, 0);
    for seed in support::sweep(SEEDS) {
        let mut history = History::generate(seed, &Params::varied(seed));
        let saved = history.merged.save();
        let ctx = format!("seed {seed}");
        let theirs = Automerge::load_with_options(
            &saved,
            automerge::LoadOptions::new()
                .migrate_strings(automerge::StringMigration::ConvertToText),
        )
        .unwrap();
        let actor = converge_encoding::ActorId::from_bytes(theirs.get_actor().to_bytes());
        let options = LoadOptions::new()
            .migrate_strings(StringMigration::ConvertToText)
            .actor(actor);
        let mut ours = Document::load_with_options(&saved, options).unwrap();
        match theirs.get_last_local_change() {
            Some(change) => {
                let mine = ours.get_last_local_change().expect("our migration change");
                assert_eq!(
                    mine.bytes().as_ref(),
                    change.raw_bytes(),
                    "{ctx}: the change"
                );
                migrated += 1;
            }
            None => {
                assert!(ours.get_last_local_change().is_none(), "{ctx}: no change");
                unchanged += 1;
            }
        }
        assert_eq!(ours.save(), theirs.save(), "{ctx}: the document");
    }
    assert!(migrated > SEEDS / 4, "too few migrations: {migrated}");
    println!("{migrated} documents migrated, {unchanged} without strings");
}

/// An `AutoCommit`'s `save_nocompress` counts as a save, as automerge 0.12's does: the next
/// `save_incremental` is empty.
#[test]
fn an_autocommit_save_nocompress_is_a_save() {
    let mut ours = OurAutoCommit::new();
    ours.put(&converge_doc::ROOT, "a", 1i64).unwrap();
    let mut theirs = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut theirs, automerge::ROOT, "a", 1i64).unwrap();
    ours.save_nocompress();
    theirs.save_nocompress();
    assert_eq!(ours.save_incremental(), theirs.save_incremental());
    assert!(ours.save_incremental().is_empty());
}

/// The migration's corners, made by hand: strings in conflict on a map key and on a list
/// element (every value converted, in op order), a string losing to a number, an empty
/// string, a string in a map no longer reachable from the root, and a text's characters
/// (not converted). (automerge 0.12 cannot write into a table, so none is made here;
/// converge leaves a table's strings as automerge's migration does.)
#[test]
fn the_migration_of_conflicts_and_unreachable_objects_matches_the_oracle() {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue};
    let mut a = AutoCommit::new().with_actor(ActorId::from(&b"aaaa"[..]));
    let list = a.put_object(ROOT, "list", ObjType::List).unwrap();
    a.insert(&list, 0, "first").unwrap();
    a.insert(&list, 1, 7i64).unwrap();
    let gone = a.put_object(ROOT, "gone", ObjType::Map).unwrap();
    a.put(&gone, "inner", "unreachable").unwrap();
    let text = a.put_object(ROOT, "text", ObjType::Text).unwrap();
    a.splice_text(&text, 0, 0, "already text").unwrap();
    a.put(ROOT, "empty", "").unwrap();
    a.commit();
    let mut b = a.fork().with_actor(ActorId::from(&b"bbbb"[..]));
    a.put(ROOT, "key", "from a").unwrap();
    b.put(ROOT, "key", "from b").unwrap();
    a.put(ROOT, "mixed", "a string").unwrap();
    b.put(ROOT, "mixed", ScalarValue::Int(3)).unwrap();
    a.put(&list, 0, "a's element").unwrap();
    b.put(&list, 0, "b's element").unwrap();
    b.delete(ROOT, "gone").unwrap();
    a.merge(&mut b).unwrap();
    let saved = a.save();
    let theirs = Automerge::load_with_options(
        &saved,
        automerge::LoadOptions::new().migrate_strings(automerge::StringMigration::ConvertToText),
    )
    .unwrap();
    let actor = converge_encoding::ActorId::from_bytes(theirs.get_actor().to_bytes());
    let mut ours = Document::load_with_options(
        &saved,
        LoadOptions::new()
            .migrate_strings(StringMigration::ConvertToText)
            .actor(actor),
    )
    .unwrap();
    let change = theirs.get_last_local_change().expect("a migration");
    let mine = ours.get_last_local_change().expect("our migration");
    assert_eq!(mine.bytes().as_ref(), change.raw_bytes());
    assert!(ours.save() == theirs.save());
    // Conflicts: the key's two strings each became a text, the second over the first.
    let key = ours.get(&converge_doc::ROOT, "key").unwrap().unwrap().value;
    let converge_doc::Value::Object(converge_doc::ObjType::Text, key) = key else {
        panic!("not text: {key:?}")
    };
    assert_eq!(ours.text(&key).unwrap(), "from b");
    println!("the migration change has {} ops", change.len());
}
