//! `marks()` and `text()` of a text with many marks, converge beside automerge 0.12: a text of
//! 100,000 characters with 200 bold spans of 100 characters, built by automerge, saved and
//! loaded by both (min of 50 for `marks()`, of 5 for `text()`); then 2,000 characters typed
//! one at a time at spread positions (inside spans, at their ends, between them), a commit
//! each, and 1,000 overlapping spans of three names added one at a time:
//!
//! ```text
//! cargo run --release -p converge-benches --example marks_probe
//! ```

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};
use converge_benches::{first_text, min_of, print_comparison};

fn main() {
    let mut am = automerge::AutoCommit::new();
    let t = am
        .put_object(automerge::ROOT, "text", ObjType::Text)
        .expect("text");
    let s: String = (0..100_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    am.splice_text(&t, 0, 0, &s).expect("splice");
    for i in 0..200usize {
        let start = i * 500;
        let mark = automerge::marks::Mark::new("bold".into(), true, start, start + 100);
        am.mark(&t, mark, automerge::marks::ExpandMark::After)
            .expect("mark");
    }
    let bytes = am.save();
    let am = automerge::Automerge::load(&bytes).expect("automerge loads");
    let cv = converge_doc::Document::load(&bytes).expect("converge loads");
    let (_, ct) = first_text(&cv).expect("a text");
    assert_eq!(
        am.marks(&t).expect("marks").len(),
        cv.marks(&ct).expect("marks").len()
    );
    print_comparison(
        "marks(), 200 spans",
        min_of(50, || cv.marks(&ct).expect("marks")),
        min_of(50, || am.marks(&t).expect("marks")),
    );
    print_comparison(
        "spans(), 200 marked spans",
        min_of(20, || cv.spans(&ct, None).expect("spans")),
        min_of(20, || am.spans(&t).expect("spans").count()),
    );
    print_comparison(
        "text(), 400 mark boundaries",
        min_of(5, || cv.text(&ct).expect("text")),
        min_of(5, || am.text(&t).expect("text")),
    );

    let mut cv = cv;
    let mut am = automerge::AutoCommit::load(&bytes).expect("automerge loads");
    let at = |i: usize| (i * 7919) % 100_000;
    let start = std::time::Instant::now();
    for i in 0..2000 {
        cv.splice_text(&ct, at(i), 0, "x").expect("type");
    }
    let ours = start.elapsed();
    let start = std::time::Instant::now();
    for i in 0..2000 {
        am.splice_text(&t, at(i), 0, "x").expect("type");
        am.commit();
    }
    print_comparison("2,000 characters typed", ours, start.elapsed());
    let names = ["bold", "italic", "link"];
    let span = |i: usize| (at(i) % 90_000, at(i) % 90_000 + 50 + i % 5_000);
    let start = std::time::Instant::now();
    for i in 0..1000 {
        let (from, to) = span(i);
        cv.mark(
            &ct,
            from..to,
            names[i % 3],
            converge_encoding::ScalarValue::Bool(true),
            converge_doc::ExpandMark::Both,
        )
        .expect("mark");
    }
    let ours = start.elapsed();
    let start = std::time::Instant::now();
    for i in 0..1000 {
        let (from, to) = span(i);
        let mark = automerge::marks::Mark::new(names[i % 3].into(), true, from, to);
        am.mark(&t, mark, automerge::marks::ExpandMark::Both)
            .expect("mark");
        am.commit();
    }
    print_comparison("1,000 spans marked", ours, start.elapsed());
    assert_eq!(
        am.marks(&t).expect("marks").len(),
        cv.marks(&ct).expect("marks").len()
    );
    print_comparison(
        "marks(), after",
        min_of(20, || cv.marks(&ct).expect("marks")),
        min_of(20, || am.marks(&t).expect("marks")),
    );
    let start = std::time::Instant::now();
    for i in 0..2000 {
        cv.splice_text(&ct, at(i + 5000), 0, "y").expect("type");
    }
    let ours = start.elapsed();
    let start = std::time::Instant::now();
    for i in 0..2000 {
        am.splice_text(&t, at(i + 5000), 0, "y").expect("type");
        am.commit();
    }
    print_comparison("2,000 more typed among them", ours, start.elapsed());
    assert_eq!(
        cv.text(&ct).expect("text"),
        am.text(&t).expect("text"),
        "the same text"
    );
}
