//! The concurrent editing traces replayed on converge as `benches/traces.rs` replays them (one
//! document per agent, missing changes applied before each txn, all merged at the end) end in
//! the trace's `endContent`. The oracle's replay is checked by the bench itself (it takes
//! about a minute, too long for `make test`); the sequential traces are checked in
//! converge-doc's tests.

use converge_benches::traces::{
    CONCURRENT, converge_replay, converge_text, load_trace, replay_plan,
};

#[test]
fn concurrent_traces_end_in_their_end_content() {
    for name in CONCURRENT {
        let trace = load_trace(name);
        assert!(trace.concurrent, "{name} is a concurrent trace");
        let plan = replay_plan(&trace);
        let (doc, text) = converge_replay(&trace, &plan);
        let got = converge_text(&doc, &text);
        assert!(
            got == trace.end_content,
            "{name}: final text differs from endContent ({} vs {} chars)",
            got.chars().count(),
            trace.end_content.chars().count()
        );
    }
}
