//! Deep histories: nothing recurses, so a 1,000,000-change linear history works.

use converge_dag::{ChangeGraph, ChangeMeta};
use converge_encoding::{ActorId, ChangeHash};

fn h(n: u32) -> ChangeHash {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.wrapping_mul(0x9e37_79b9).to_le_bytes());
    b[4..8].copy_from_slice(&n.to_le_bytes());
    ChangeHash(b)
}

#[test]
fn million_change_linear_history() {
    const N: u32 = 1_000_000;
    let actor = ActorId::from_bytes(&[1; 16]);
    let mut graph = ChangeGraph::new();
    for i in 0..N {
        graph
            .insert(ChangeMeta {
                hash: h(i),
                actor: actor.clone(),
                seq: u64::from(i) + 1,
                start_op: u64::from(i) + 1,
                max_op: u64::from(i) + 1,
                deps: if i == 0 { vec![] } else { vec![h(i - 1)] },
            })
            .unwrap();
    }
    assert_eq!(graph.len(), N as usize);
    assert_eq!(graph.heads().collect::<Vec<_>>(), [h(N - 1)]);
    let mark = N - N / 100;
    assert_eq!(
        graph.changes_since(&[h(mark - 1)]).len(),
        (N / 100) as usize
    );
    assert_eq!(
        graph.not_ancestors_of(&[h(mark - 1)]).len(),
        (N / 100) as usize
    );
    assert!(graph.is_ancestor(&h(0), &h(N - 1)));
    assert_eq!(graph.ancestry(&[h(N - 1)]).count(), N as usize);
    let a = graph.actor_index(&actor).unwrap();
    assert_eq!(graph.clock_at(&[h(N - 1)]).get(a), u64::from(N));
    assert_eq!(graph.clock_at(&[h(12_345)]).get(a), 12_346);
    assert!(graph.missing_deps(&[]).is_empty());

    // The same history arriving backwards: everything parks, then one insert releases it all.
    let mut backwards = ChangeGraph::new();
    for i in (1..N / 10).rev() {
        assert!(
            backwards
                .insert(ChangeMeta {
                    hash: h(i),
                    actor: actor.clone(),
                    seq: u64::from(i) + 1,
                    start_op: u64::from(i) + 1,
                    max_op: u64::from(i) + 1,
                    deps: vec![h(i - 1)],
                })
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(backwards.missing_deps(&[]), [h(0)]);
    let released = backwards
        .insert(ChangeMeta {
            hash: h(0),
            actor: actor.clone(),
            seq: 1,
            start_op: 1,
            max_op: 1,
            deps: vec![],
        })
        .unwrap();
    assert_eq!(released.len(), (N / 10) as usize);
    assert_eq!(backwards.hashes(), &graph.hashes()[..(N / 10) as usize]);
}
