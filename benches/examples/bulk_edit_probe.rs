//! Edits of many characters or elements at once, each in one change, converge beside
//! automerge 0.12 (min of RUNS, default 3, each on a fresh copy): a paste of N characters
//! (default 200,000) into an empty text, a select-all delete of that text, a paste of N/10
//! into the middle of it, a splice of N/10 integers into a list, a delete of them all, and
//! N/10 integers put one at a time at the start of a list of N.
//! With `--middle`, only the paste into the middle, made locally and applied as a remote
//! change, then a select-all delete and a backspace over N/10 characters applied as remote
//! changes (`--ours`: converge's alone, for profiles).
//!
//! ```text
//! cargo run --release -p converge-benches --example bulk_edit_probe -- [N] [RUNS] [--middle [--ours]]
//! ```

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use converge_benches::print_comparison;
use converge_doc::{Document, ExId, ObjType, ROOT};
use converge_encoding::ScalarValue;

/// The shortest of `runs` timings of `edit` on a fresh copy made by `make`.
fn time<D>(runs: usize, mut make: impl FnMut() -> D, mut edit: impl FnMut(&mut D)) -> Duration {
    (0..runs)
        .map(|_| {
            let mut d = make();
            let start = Instant::now();
            edit(&mut d);
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The shortest of `runs` pastes of `s` at `index` of converge's text `t`, each on a copy.
fn paste_ours(runs: usize, cv: &Document, t: &ExId, index: usize, s: &str) -> Duration {
    time(
        runs,
        || cv.clone(),
        |d| d.splice_text(t, index, 0, s).expect("paste"),
    )
}

/// [`paste_ours`] for automerge (the paste committed).
fn paste_theirs(
    runs: usize,
    am: &automerge::AutoCommit,
    t: &automerge::ObjId,
    index: usize,
    s: &str,
) -> Duration {
    time(
        runs,
        || am.clone(),
        |d| {
            d.splice_text(t, index, 0, s).expect("paste");
            d.commit();
        },
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(200_000, |s| s.parse().expect("N"));
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(3, |s| s.parse().expect("RUNS"));
    // Mostly ASCII, with a two-byte and a four-byte character now and then.
    let text: String = (0..n)
        .map(|i| match i % 97 {
            0 => 'é',
            50 => '🙂',
            k => char::from(b'a' + (k % 26) as u8),
        })
        .collect();
    let middle = &text[..text
        .char_indices()
        .nth(n / 10)
        .map_or(text.len(), |(b, _)| b)];

    let mut cv = Document::new();
    let t = cv.put_object(&ROOT, "t", ObjType::Text).expect("text");
    let l = cv.put_object(&ROOT, "l", ObjType::List).expect("list");
    let mut am = automerge::AutoCommit::new();
    let at = am
        .put_object(automerge::ROOT, "t", automerge::ObjType::Text)
        .expect("text");
    let al = am
        .put_object(automerge::ROOT, "l", automerge::ObjType::List)
        .expect("list");
    am.commit();

    if std::env::args().any(|a| a == "--middle") {
        cv.splice_text(&t, 0, 0, &text).expect("paste");
        let len = cv.length(&t).expect("length");
        let ours = paste_ours(runs, &cv, &t, len / 2, middle);
        // The same paste made by another peer, applied as a remote change.
        let mut peer = cv.fork();
        peer.splice_text(&t, len / 2, 0, middle).expect("paste");
        let paste = peer.get_changes(&cv.heads());
        let remote = time(
            runs,
            || cv.clone(),
            |d| d.apply_changes(paste.clone()).expect("apply"),
        );
        // Another peer's select-all delete, and its backspace over N/10 characters from
        // the middle (one op per character, each deleting the character before the one
        // deleted before it), each applied as a remote change.
        let mut peer = cv.fork();
        peer.splice_text(&t, 0, len, "").expect("delete");
        let delete_all = peer.get_changes(&cv.heads());
        let mut peer = cv.fork();
        let mut tx = peer.transaction();
        for k in 0..n / 10 {
            tx.splice_text(&t, len / 2 - k - 1, 1, "")
                .expect("backspace");
        }
        tx.commit().expect("commit");
        let backspace = peer.get_changes(&cv.heads());
        let remote_deletes = [&delete_all, &backspace].map(|change| {
            time(
                runs,
                || cv.clone(),
                |d| d.apply_changes(change.clone()).expect("apply"),
            )
        });
        if std::env::args().any(|a| a == "--ours") {
            println!("paste {} characters in its middle: {ours:.3?}", n / 10);
            println!("the same paste applied as a remote change: {remote:.3?}");
            println!(
                "a select-all delete applied remotely: {:.3?}",
                remote_deletes[0]
            );
            println!(
                "a backspace over {} characters applied remotely: {:.3?}",
                n / 10,
                remote_deletes[1]
            );
            return;
        }
        am.splice_text(&at, 0, 0, &text).expect("paste");
        am.commit();
        let theirs = paste_theirs(runs, &am, &at, len / 2, middle);
        print_comparison(
            &format!("paste {} characters in its middle", n / 10),
            ours,
            theirs,
        );
        let mut peer = am.fork();
        peer.splice_text(&at, len / 2, 0, middle).expect("paste");
        peer.commit();
        let paste = peer.get_changes(&am.get_heads());
        let theirs = time(
            runs,
            || am.clone(),
            |d| d.apply_changes(paste.clone()).expect("apply"),
        );
        print_comparison("the same paste applied remotely", remote, theirs);
        let mut peer = am.fork();
        peer.splice_text(&at, 0, len as isize, "").expect("delete");
        peer.commit();
        let delete_all = peer.get_changes(&am.get_heads());
        let mut peer = am.fork();
        for k in 0..n / 10 {
            peer.splice_text(&at, len / 2 - k - 1, 1, "")
                .expect("backspace");
        }
        peer.commit();
        let backspace = peer.get_changes(&am.get_heads());
        for (what, change, ours) in [
            (
                "a select-all delete applied remotely",
                &delete_all,
                remote_deletes[0],
            ),
            (
                "a backspace applied remotely",
                &backspace,
                remote_deletes[1],
            ),
        ] {
            let theirs = time(
                runs,
                || am.clone(),
                |d| d.apply_changes(change.clone()).expect("apply"),
            );
            print_comparison(what, ours, theirs);
        }
        return;
    }

    let ours = paste_ours(runs, &cv, &t, 0, &text);
    let theirs = paste_theirs(runs, &am, &at, 0, &text);
    print_comparison(&format!("paste {n} characters"), ours, theirs);

    cv.splice_text(&t, 0, 0, &text).expect("paste");
    am.splice_text(&at, 0, 0, &text).expect("paste");
    am.commit();
    let len = cv.length(&t).expect("length");
    let ours = time(
        runs,
        || cv.clone(),
        |d| d.splice_text(&t, 0, len, "").expect("delete"),
    );
    let theirs = time(
        runs,
        || am.clone(),
        |d| {
            d.splice_text(&at, 0, len as isize, "").expect("delete");
            d.commit();
        },
    );
    print_comparison("delete all of it", ours, theirs);

    let ours = paste_ours(runs, &cv, &t, len / 2, middle);
    let theirs = paste_theirs(runs, &am, &at, len / 2, middle);
    print_comparison(
        &format!("paste {} characters in its middle", n / 10),
        ours,
        theirs,
    );

    let values: Vec<ScalarValue> = (0..n / 10).map(|i| ScalarValue::Int(i as i64)).collect();
    let am_values: Vec<automerge::ScalarValue> = (0..n / 10)
        .map(|i| automerge::ScalarValue::Int(i as i64))
        .collect();
    let ours = time(
        runs,
        || cv.clone(),
        |d| d.splice(&l, 0, 0, values.clone()).expect("splice"),
    );
    let theirs = time(
        runs,
        || am.clone(),
        |d| {
            d.splice(&al, 0, 0, am_values.clone()).expect("splice");
            d.commit();
        },
    );
    print_comparison(
        &format!("splice {} integers into a list", n / 10),
        ours,
        theirs,
    );

    cv.splice(&l, 0, 0, values.clone()).expect("splice");
    am.splice(&al, 0, 0, am_values.clone()).expect("splice");
    am.commit();
    let ours = time(
        runs,
        || cv.clone(),
        |d| d.splice(&l, 0, n / 10, Vec::new()).expect("delete"),
    );
    let theirs = time(
        runs,
        || am.clone(),
        |d| {
            d.splice(
                &al,
                0,
                (n / 10) as isize,
                Vec::<automerge::ScalarValue>::new(),
            )
            .expect("delete");
            d.commit();
        },
    );
    print_comparison("delete them all", ours, theirs);

    // Items put at the list's start one at a time, each before the one put before it (a
    // feed showing the newest first), in one transaction, onto a list of N.
    let more = n - n / 10;
    cv.splice(&l, 0, 0, (0..more as i64).map(ScalarValue::Int))
        .expect("splice");
    am.splice(&al, 0, 0, (0..more as i64).map(automerge::ScalarValue::Int))
        .expect("splice");
    am.commit();
    let ours = time(
        runs,
        || cv.clone(),
        |d| {
            let mut tx = d.transaction();
            for i in 0..n / 10 {
                tx.insert(&l, 0, ScalarValue::Int(i as i64))
                    .expect("insert");
            }
            tx.commit().expect("commit");
        },
    );
    let theirs = time(
        runs,
        || am.clone(),
        |d| {
            for i in 0..n / 10 {
                d.insert(&al, 0, i as i64).expect("insert");
            }
            d.commit();
        },
    );
    print_comparison(
        &format!("put {} at the start of {n} one by one", n / 10),
        ours,
        theirs,
    );
}
