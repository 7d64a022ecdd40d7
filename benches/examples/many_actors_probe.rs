//! Documents with many actors (automerge-repo makes an actor per session, so long-lived
//! documents gather thousands): applying N one-change actors in one batch, then M local
//! one-key commits, and N concurrent puts to one key in one batch, converge beside
//! automerge 0.12:
//!
//! ```text
//! cargo run --release -p converge-benches --example many_actors_probe -- [N] [M]
//! ```

use std::time::Instant;

use automerge::transaction::Transactable;
use converge_doc::{Document, ROOT};
use converge_encoding::{Action, ActorId, Change, ChangeOp, ChangeParts, Key, ObjId, ScalarValue};

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(20_000);
    let m = args.get(1).copied().unwrap_or(2_000);
    let changes = |same_key: bool| -> Vec<Change> {
        (0..n)
            .map(|i| {
                Change::from_parts(ChangeParts {
                    actor: ActorId::from_bytes(&i.to_be_bytes()),
                    seq: 1,
                    start_op: 1,
                    time: 0,
                    message: None,
                    deps: vec![],
                    other_actors: vec![],
                    extra_bytes: vec![],
                    ops: vec![ChangeOp {
                        obj: ObjId::Root,
                        key: Key::Map(if same_key {
                            "k".to_owned()
                        } else {
                            format!("k{i}")
                        }),
                        insert: false,
                        action: Action::Set,
                        value: ScalarValue::Int(i64::from(i)),
                        pred: vec![],
                        expand: false,
                        mark_name: None,
                    }],
                })
                .expect("change")
            })
            .collect()
    };
    let to_oracle = |changes: &[Change]| -> Vec<automerge::Change> {
        changes
            .iter()
            .map(|c| automerge::Change::try_from(c.bytes().as_ref()).expect("oracle decodes"))
            .collect()
    };
    let (changes, conflicting) = (changes(false), changes(true));
    let (oracle_changes, oracle_conflicting) = (to_oracle(&changes), to_oracle(&conflicting));

    let t = Instant::now();
    let mut ours = Document::new();
    ours.apply_changes(changes).expect("apply");
    let ours_apply = t.elapsed();
    let t = Instant::now();
    for i in 0..m {
        ours.put(&ROOT, "x", i64::from(i)).expect("put");
    }
    let ours_commits = t.elapsed();

    let t = Instant::now();
    let mut oracle = automerge::AutoCommit::new();
    oracle.apply_changes(oracle_changes).expect("oracle apply");
    let oracle_apply = t.elapsed();
    let t = Instant::now();
    for i in 0..m {
        oracle.put(automerge::ROOT, "x", i64::from(i)).expect("put");
        oracle.commit();
    }
    let oracle_commits = t.elapsed();
    let t = Instant::now();
    let mut ours = Document::new();
    ours.apply_changes(conflicting).expect("apply");
    let ours_conflict = t.elapsed();
    let t = Instant::now();
    let mut oracle = automerge::AutoCommit::new();
    oracle
        .apply_changes(oracle_conflicting)
        .expect("oracle apply");
    let oracle_conflict = t.elapsed();
    println!(
        "{n} one-change actors in one apply: converge {ours_apply:.2?}, automerge {oracle_apply:.2?}"
    );
    println!(
        "{m} local commits among them: converge {ours_commits:.2?}, automerge {oracle_commits:.2?}"
    );
    println!(
        "{n} concurrent puts to one key in one apply: converge {ours_conflict:.2?}, automerge {oracle_conflict:.2?}"
    );
}
