#!/usr/bin/env bash
# Peak RSS of every doc_peak_memory mode, via /usr/bin/time -v, and the operation's own peak:
# what the mode prints as "beyond input" (its peak RSS since its input was ready, minus the RSS
# then; see `input_ready` in doc_peak_memory.rs). The baseline mode only reads the input; its
# own "beyond input" is ~0. (Until 2026-12-03 this subtracted the baseline run's peak RSS,
# which missed what the operation grew into once the file's bytes were freed: the paper trace
# in one transaction read 10.8 instead of 17.0 MB.)
#
# Usage: benches/peak_memory.sh            (from the workspace root; honours CARGO_TARGET_DIR)
#        SKIP_GODOT=1 benches/peak_memory.sh   skips the 3.3 MB godot-thread.amrg load
# Prints a markdown table: mode, argument, max RSS (KB), baseline mode, beyond input (KB).
set -euo pipefail

cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p converge-benches --example doc_peak_memory
bin="$target/release/examples/doc_peak_memory"
work="$target/peak-memory-data"
mkdir -p "$work"
changes="$work/paper-changes.bin"
paperdoc="$work/paper.automerge"
[ -s "$changes" ] || "$bin" write-paper-changes "$changes" >/dev/null
[ -s "$paperdoc" ] || "$bin" write-paper-doc "$paperdoc" >/dev/null

declare -A baseline_done
rss() { # mode [arg] -> "max RSS in KB" "beyond input in KB"
    local out
    out=$( { /usr/bin/time -v "$bin" "$@"; } 2>&1 ) || {
        echo "failed: $*" >&2
        echo "$out" >&2
        return 1
    }
    echo "$(echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')" \
        "$(echo "$out" | awk '/^beyond input:/ {print $3}')"
}
row() { # baseline-mode mode [arg]
    local base="$1" mode="$2" arg="${3:-}" key kb beyond
    key="$base $arg"
    if [ -z "${baseline_done[$key]:-}" ]; then
        baseline_done[$key]=1
        read -r kb beyond <<<"$(rss "$base" ${arg:+"$arg"})"
        echo "| $base | ${arg##*/} | $kb | (baseline) | $beyond |"
    fi
    read -r kb beyond <<<"$(rss "$mode" ${arg:+"$arg"})"
    echo "| $mode | ${arg##*/} | $kb | $base | $beyond |"
}

echo "| mode | argument | max RSS (KB) | baseline | beyond input (KB) |"
echo "| --- | --- | ---: | --- | ---: |"
# The paper trace (edits.json.gz) is the automerge-paper trace: one transaction, then a
# change per edit (the converge-trace rows below).
[ -s "$work/automerge-paper.trace" ] ||
    "$bin" write-trace automerge-paper "$work/automerge-paper.trace" >/dev/null
for m in converge-trace-one-tx automerge-trace-one-tx; do
    row trace-read "$m" "$work/automerge-paper.trace"
done
for t in friendsforever clownschool automerge-paper seph-blog1 rustcode sveltecomponent \
    friendsforever_flat; do
    [ -s "$work/$t.trace" ] || "$bin" write-trace "$t" "$work/$t.trace" >/dev/null
    row trace-read converge-trace "$work/$t.trace"
    row trace-read automerge-trace "$work/$t.trace"
done
# The concurrent traces again, the harness keeping hashes instead of decoded changes.
for t in friendsforever clownschool; do
    row trace-read converge-trace-docs "$work/$t.trace"
    row trace-read automerge-trace-docs "$work/$t.trace"
done
for m in converge-remote-one-by-one converge-remote-one-call automerge-remote-one-call; do
    row read-changes "$m" "$changes"
done
files=(essay S3 "$paperdoc")
[ -n "${SKIP_GODOT:-}" ] || files+=(godot-thread)
for f in "${files[@]}"; do
    row read-only converge-load "$f"
    row read-only automerge-load "$f"
done
