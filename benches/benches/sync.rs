//! Sync sessions (issue: sync performance): a full two-peer session run to quiescence, every
//! message encoded and decoded on the way, converge↔converge (default, compact `have` lists)
//! beside automerge↔automerge (timed), and once per scenario a printed line of rounds and
//! bytes for converge↔converge, automerge↔automerge, converge↔automerge (converge speaking
//! first), automerge↔converge and converge↔converge in reference mode (the messages automerge
//! would send), with the lower bound (the saved document when one side is empty; the summed
//! raw bytes of the missing changes when both diverged).
//!
//! Scenarios: essay.amrg and godot-thread.amrg into an empty peer; the paper document (the
//! `edits.json.gz` replay, one commit per edit, built with the oracle) into an empty peer; two
//! peers forked after 10,000 shared changes with 1,000 divergent changes each (fresh states),
//! and after 100,000 shared with 100 divergent each (fresh and persisted states).
//!
//! Run with `cargo bench -p converge-benches --bench sync`. A filter argument also skips the
//! (slow) set-up of scenarios whose name does not contain it.
// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use automerge::sync::State;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Automerge, ObjType};
use converge_benches::sync::{Ours, Peer, Theirs, puts, session};
use converge_doc::Document;
use converge_sync::{HaveStrategy, SyncState};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};

fn corpus_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/automerge-corpus/real-docs")
        .join(name)
}

fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Whether the command line's filter (criterion's positional argument) can match `name`.
fn wanted(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// One side of a scenario: its document in both implementations and its starting states
/// (persisted bytes, each implementation's own; `None` = fresh).
struct Side {
    ours: Document,
    theirs: Automerge,
    ours_state: Option<Vec<u8>>,
    theirs_state: Option<Vec<u8>>,
}

impl Side {
    fn from_saved(bytes: &[u8]) -> Side {
        let (ours, theirs) = if bytes.is_empty() {
            (Document::new(), Automerge::new())
        } else {
            (
                Document::load(bytes).expect("converge loads"),
                Automerge::load(bytes).expect("oracle loads"),
            )
        };
        Side {
            ours,
            theirs,
            ours_state: None,
            theirs_state: None,
        }
    }
    /// A converge peer with the default, compact `have` lists.
    fn ours(&self) -> Ours {
        self.ours_with(HaveStrategy::Compact)
    }
    /// A converge peer whose messages are automerge's (`HaveStrategy::Reference`).
    fn ours_reference(&self) -> Ours {
        self.ours_with(HaveStrategy::Reference)
    }
    fn ours_with(&self, strategy: HaveStrategy) -> Ours {
        let mut state = self.ours_state.as_ref().map_or_else(SyncState::new, |b| {
            SyncState::decode(b).expect("state decodes")
        });
        state.have_strategy = strategy;
        Ours {
            doc: self.ours.clone(),
            state,
        }
    }
    fn theirs(&self) -> Theirs {
        Theirs {
            doc: self.theirs.clone(),
            state: self
                .theirs_state
                .as_ref()
                .map_or_else(State::new, |b| State::decode(b).expect("state decodes")),
        }
    }
}

struct Scenario {
    name: String,
    a: Side,
    b: Side,
    lower_bound: usize,
}

/// A labelled pair of peers.
type Pairing = (&'static str, Box<dyn Peer>, Box<dyn Peer>);

fn report(s: &Scenario) -> Duration {
    let mut line = format!("sync/{}:", s.name);
    let mut slowest = Duration::ZERO;
    let pairs: [Pairing; 5] = [
        (
            "converge↔converge",
            Box::new(s.a.ours()),
            Box::new(s.b.ours()),
        ),
        (
            "automerge↔automerge",
            Box::new(s.a.theirs()),
            Box::new(s.b.theirs()),
        ),
        (
            "converge↔automerge",
            Box::new(s.a.ours()),
            Box::new(s.b.theirs()),
        ),
        (
            "automerge↔converge",
            Box::new(s.a.theirs()),
            Box::new(s.b.ours()),
        ),
        (
            "converge(reference)↔converge(reference)",
            Box::new(s.a.ours_reference()),
            Box::new(s.b.ours_reference()),
        ),
    ];
    for (label, mut a, mut b) in pairs {
        let t = Instant::now();
        let (rounds, bytes) = session(a.as_mut(), b.as_mut());
        let took = t.elapsed();
        if label == "converge↔converge" || label == "automerge↔automerge" {
            slowest = slowest.max(took);
        }
        assert_eq!(a.heads(), b.heads(), "{} {label}: heads differ", s.name);
        line += &format!(
            " {label} {rounds} rounds {bytes} B ({:.2}x lb, one session {:.2?});",
            bytes as f64 / s.lower_bound as f64,
            took
        );
    }
    line += &format!(" lower bound {} B", s.lower_bound);
    println!("{line}");
    slowest
}

fn time(c: &mut Criterion, s: &Scenario) {
    let mut group = c.benchmark_group(format!("sync/{}", s.name));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("converge", "session"), |bch| {
        bch.iter_batched(
            || (s.a.ours(), s.b.ours()),
            |(mut a, mut b)| {
                session(&mut a, &mut b);
                (a, b)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("automerge", "session"), |bch| {
        bch.iter_batched(
            || (s.a.theirs(), s.b.theirs()),
            |(mut a, mut b)| {
                session(&mut a, &mut b);
                (a, b)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn run(c: &mut Criterion, s: &Scenario) {
    let slowest = report(s);
    if slowest > Duration::from_secs(30) {
        println!(
            "sync/{}: not timed under criterion (one session took {slowest:.2?} > 30 s)",
            s.name
        );
    } else {
        time(c, s);
    }
}

fn empty_peer(name: &str, saved: &[u8]) -> Scenario {
    Scenario {
        name: name.to_owned(),
        a: Side::from_saved(saved),
        b: Side::from_saved(&[]),
        lower_bound: saved.len(),
    }
}

fn bench_real_docs(c: &mut Criterion) {
    for name in ["essay.amrg", "godot-thread.amrg"] {
        let sname = format!("{name} into empty");
        if !wanted(&format!("sync/{sname}")) {
            continue;
        }
        run(c, &empty_peer(&sname, &corpus(name)));
    }
}

/// Replays the paper edits with the oracle, one commit per edit; stops early (a prefix) after
/// 60 s. Returns the saved document and how many edits it holds.
fn paper() -> (Vec<u8>, usize, usize) {
    let mut gz =
        flate2::read::GzDecoder::new(std::fs::File::open(corpus_path("edits.json.gz")).unwrap());
    let mut json = String::new();
    gz.read_to_string(&mut json).unwrap();
    let edits: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let mut doc = AutoCommit::new();
    doc.set_actor(ActorId::from(&[0x5a, 0x5a][..]));
    let text = doc
        .put_object(automerge::ROOT, "text", ObjType::Text)
        .unwrap();
    doc.commit_with(CommitOptions::default().with_time(0));
    let start = Instant::now();
    let mut done = 0;
    for e in &edits {
        let e = e.as_array().unwrap();
        let pos = e[0].as_u64().unwrap() as usize;
        let del = e[1].as_i64().unwrap() as isize;
        let ins = e.get(2).and_then(|v| v.as_str()).unwrap_or("");
        doc.splice_text(&text, pos, del, ins).unwrap();
        doc.commit_with(CommitOptions::default().with_time(0));
        done += 1;
        if start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    (doc.save(), done, edits.len())
}

fn bench_paper(c: &mut Criterion) {
    if !wanted("sync/paper into empty") {
        return;
    }
    let t = Instant::now();
    let (saved, done, total) = paper();
    println!(
        "sync/paper: replayed {done} of {total} edits (one commit each) in {:.2?}; saved {} B",
        t.elapsed(),
        saved.len()
    );
    run(c, &empty_peer("paper into empty", &saved));
}

/// Two peers forked after `shared` changes, `divergent` each after that. With `persisted`,
/// both sides start from the states of a completed sync of the shared history (one side
/// empty before it), round-tripped through encode/decode.
fn diverged(shared: usize, divergent: usize, persisted: bool) -> Scenario {
    let t = Instant::now();
    let mut base = AutoCommit::new();
    base.set_actor(ActorId::from(&[0xba, 0x5e][..]));
    puts(&mut base, shared, 0);
    let base_saved = base.save();
    let mut fa = base.fork();
    fa.set_actor(ActorId::from(&[0xaa, 0x01][..]));
    let mut fb = base.fork();
    fb.set_actor(ActorId::from(&[0xbb, 0x02][..]));
    let lower_bound = puts(&mut fa, divergent, 1) + puts(&mut fb, divergent, 2);
    let mut a = Side::from_saved(&fa.save());
    let mut b = Side::from_saved(&fb.save());
    if persisted {
        let full = Side::from_saved(&base_saved);
        let empty = Side::from_saved(&[]);
        let (mut oa, mut ob) = (full.ours(), empty.ours());
        session(&mut oa, &mut ob);
        a.ours_state = Some(oa.state.encode());
        b.ours_state = Some(ob.state.encode());
        let (mut ta, mut tb) = (full.theirs(), empty.theirs());
        session(&mut ta, &mut tb);
        a.theirs_state = Some(ta.state.encode());
        b.theirs_state = Some(tb.state.encode());
    }
    let name = format!(
        "{shared} shared + {divergent} divergent each, {} states",
        if persisted { "persisted" } else { "fresh" }
    );
    println!("sync/{name}: built in {:.2?}", t.elapsed());
    Scenario {
        name,
        a,
        b,
        lower_bound,
    }
}

fn bench_diverged(c: &mut Criterion) {
    for (shared, divergent, persisted) in [
        (10_000, 1_000, false),
        (100_000, 100, false),
        (100_000, 100, true),
    ] {
        let name = format!(
            "sync/{shared} shared + {divergent} divergent each, {} states",
            if persisted { "persisted" } else { "fresh" }
        );
        if !wanted(&name) {
            continue;
        }
        run(c, &diverged(shared, divergent, persisted));
    }
}

criterion_group!(benches, bench_real_docs, bench_paper, bench_diverged);
criterion_main!(benches);
