//! End-to-end tests of the `converge` binary on the shared corpus.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_converge"))
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/automerge-corpus")
        .join(rel)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("converge-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = bin();
    for a in args {
        cmd.arg(a);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(&o));
    stdout(&o)
}

/// A failure reported as one line on stderr, without a panic.
fn assert_clean_failure(o: &Output) {
    assert!(!o.status.success(), "unexpected success: {}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("converge: error: "), "{err:?}");
    assert!(!err.contains("panicked"), "{err:?}");
    assert_eq!(o.status.code(), Some(1), "{err:?}");
}

fn export_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(run(&[&"export", &path]))).unwrap()
}

fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("process did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const EXEMPLAR_HEAD: &str = "3df6f946d47c57c7fa84fccc3f72c2301c94d6c7d3a79bb6267c315b3d2d364c";

#[test]
fn inspect_document() {
    let out = ok(run(&[&"inspect", &corpus("fixtures/exemplar.automerge")]));
    assert!(
        out.contains("chunk 0 at offset 0: document, 406 bytes, checksum ok"),
        "{out}"
    );
    assert!(out.contains(EXEMPLAR_HEAD), "{out}");
    assert!(out.contains("ops: 21"), "{out}");
    assert!(out.contains("value_meta"), "{out}");
    let out = ok(run(&[&"inspect", &corpus("real-docs/moby-dick.automerge")]));
    assert!(out.contains("deflate"), "{out}");
}

#[test]
fn inspect_changes() {
    let out = ok(run(&[
        &"inspect",
        &corpus("fixtures/two_change_chunks_compressed.automerge"),
    ]));
    assert!(
        out.contains("chunk 1 at offset 72: compressed change"),
        "{out}"
    );
    assert!(out.contains("message: \"change 2\""), "{out}");
    assert!(out.contains("seq: 2"), "{out}");
    assert!(!out.contains("not canonical"), "{out}");
    // A change naming an unused (empty) other actor: not canonical (a fuzz regression).
    let odd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions/doc_load/partial-load-unchecked-heads-save");
    let out = ok(run(&[&"inspect", &odd]));
    assert!(out.contains("not canonical"), "{out}");
}

#[test]
fn inspect_sync_message_and_state() {
    let out = ok(run(&[
        &"inspect",
        &corpus("real-docs/slowSyncMessage.amrgsync"),
    ]));
    assert!(out.starts_with("sync message"), "{out}");
    assert!(out.contains("changes (6483"), "{out}");
    let dir = scratch("state");
    let state = dir.join("s");
    fs::write(&state, [0x43, 0x00]).unwrap();
    let out = ok(run(&[&"inspect", &state]));
    assert!(out.starts_with("sync state"), "{out}");
}

#[test]
fn export_exemplar_matches_readme() {
    let json = export_json(&corpus("fixtures/exemplar.automerge"));
    let expected = serde_json::json!({
        "title": "Hello 🇬🇧👨‍👨‍👧‍👦😀",
        "notes": "🇬🇧👨‍👨‍👧‍👦😀",
        "timestamp": -905182979000i64,
        "location": "https://automerge.org/",
        "counter": 5,
        "int": -4,
        "uint": 18446744073709551615u64,
        "fp": 3.14159267,
        "bytes": [0x85, 0x6f, 0x4a, 0x83],
        "bool": true,
    });
    assert_eq!(json, expected);
}

/// A document automerge 0.12 saves and then refuses to load (a mark end before its begin;
/// written by converge-interop's `mark_order` test, which checks automerge agrees): `export`
/// refuses it in one line, `export --rescue` prints its values.
#[test]
fn export_rescues_a_document_with_a_misplaced_mark_end() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/misplaced-mark-end.automerge");
    let refused = run(&[&"export", &file]);
    assert_clean_failure(&refused);
    assert!(
        stderr(&refused).contains("mark end"),
        "{}",
        stderr(&refused)
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(run(&[&"export", &"--rescue", &file]))).unwrap();
    let expected = serde_json::json!({
        "text": "hello world",
        "list": [1, "two"],
        "map": { "n": 1, "s": "x" },
    });
    assert_eq!(json, expected);
    assert!(
        !run(&[&"export", &"--rescue", &"--heads", &EXEMPLAR_HEAD, &file])
            .status
            .success()
    );
}

/// `anonymize` writes a copy with as many changes and the same shape (the exemplar's keys
/// and strings replaced by others of the same lengths); the same seed, the same copy.
#[test]
fn anonymize_keeps_the_shape() {
    let dir = scratch("anonymize");
    let (a, b) = (dir.join("a.automerge"), dir.join("b.automerge"));
    let exemplar = corpus("fixtures/exemplar.automerge");
    for out in [&a, &b] {
        ok(run(&[&"anonymize", &exemplar, &"--seed", &"7", &"-o", out]));
    }
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    let count = |f: &Path| ok(run(&[&"changes", &f])).lines().count();
    assert_eq!(count(&a), count(&exemplar));
    let (original, copy) = (export_json(&exemplar), export_json(&a));
    let (original, copy) = (original.as_object().unwrap(), copy.as_object().unwrap());
    let lengths = |m: &serde_json::Map<String, serde_json::Value>| {
        let mut l: Vec<usize> = m.keys().map(String::len).collect();
        l.sort_unstable();
        l
    };
    assert_eq!(lengths(copy), lengths(original));
    assert!(copy.keys().all(|k| !original.contains_key(k)), "{copy:?}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bundle_reads_back_whole_and_since_heads() {
    let dir = scratch("bundle");
    let (all, rest) = (dir.join("all.bundle"), dir.join("rest.bundle"));
    let file = corpus("fixtures/two_change_chunks.automerge");
    ok(run(&[&"bundle", &file, &"-o", &all]));
    assert_eq!(export_json(&all), export_json(&file));
    assert!(ok(run(&[&"inspect", &all])).contains("changes: 2"));
    // The change after the first: one change, which depends on the first.
    let first = first_change(&file);
    ok(run(&[&"bundle", &file, &"--since", &first, &"-o", &rest]));
    let inspected = ok(run(&[&"inspect", &rest]));
    assert!(inspected.contains("changes: 1"), "{inspected}");
    assert!(inspected.contains(&first), "{inspected}");
    let _ = fs::remove_dir_all(&dir);
}

/// The hash of the first change `converge changes` lists.
fn first_change(file: &Path) -> String {
    let changes = ok(run(&[&"changes", &file]));
    let line = changes.lines().next().unwrap_or_default();
    line.split(' ').next().unwrap_or_default().to_owned()
}

#[test]
fn export_at_heads() {
    let file = corpus("fixtures/two_change_chunks.automerge");
    let first = first_change(&file);
    let now = export_json(&file);
    let then: serde_json::Value =
        serde_json::from_str(&ok(run(&[&"export", &file, &"--heads", &first]))).unwrap();
    assert_ne!(now, then);
    let bad = run(&[&"export", &file, &"--heads", &"zz"]);
    assert_clean_failure(&bad);
}

#[test]
fn diff_lines() {
    let file = corpus("fixtures/two_change_chunks.automerge");
    let first = first_change(&file);
    // From the empty document: the whole document, as patches a view applies.
    let all: Vec<serde_json::Value> = ok(run(&[&"diff", &file]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!all.is_empty());
    for p in &all {
        assert!(
            p["obj"].is_string() && p["path"].is_array() && p["action"].is_string(),
            "{p}"
        );
    }
    // From the first change to the heads, and back: each only what the second change did.
    let forward = ok(run(&[&"diff", &file, &"--from", &first]));
    let back = ok(run(&[&"diff", &file, &"--to", &first]));
    assert!(
        forward.lines().count() < all.len() || all.len() == 1,
        "{forward}"
    );
    assert!(!back.is_empty() || forward.is_empty());
    assert_clean_failure(&run(&[&"diff", &file, &"--from", &"zz"]));
    // An unknown hash is a clean failure too.
    let unknown = "00".repeat(32);
    assert_clean_failure(&run(&[&"diff", &file, &"--from", &unknown]));
}

#[test]
fn changes_lines() {
    let out = ok(run(&[
        &"changes",
        &corpus("fixtures/two_change_chunks.automerge"),
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in &lines {
        let hash = line.split(' ').next().unwrap();
        assert_eq!(hash.len(), 64);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(line.contains(" actor=") && line.contains(" seq=") && line.contains(" ops="));
    }
    assert!(lines[1].contains(&format!("deps={}", lines[0].split(' ').next().unwrap())));
}

#[test]
fn import_merge_export() {
    let dir = scratch("merge");
    fs::write(
        dir.join("a.json"),
        r#"{"list": [1, 2.5, "x", null, true, {"k": [ ]}], "notes": "hello", "s": "plain"}"#,
    )
    .unwrap();
    fs::write(dir.join("b.json"), r#"{"other": {"n": -7}}"#).unwrap();
    ok(run(&[
        &"import",
        &dir.join("a.json"),
        &"-o",
        &dir.join("a.automerge"),
        &"--text-keys",
        &"notes",
    ]));
    ok(run(&[
        &"import",
        &dir.join("b.json"),
        &"-o",
        &dir.join("b.automerge"),
    ]));
    let a = export_json(&dir.join("a.automerge"));
    assert_eq!(
        a,
        serde_json::json!({"list": [1, 2.5, "x", null, true, {"k": []}], "notes": "hello", "s": "plain"})
    );
    let inspect = ok(run(&[&"inspect", &dir.join("a.automerge")]));
    assert!(inspect.contains("document"), "{inspect}");
    ok(run(&[
        &"merge",
        &dir.join("a.automerge"),
        &dir.join("b.automerge"),
        &"-o",
        &dir.join("m.automerge"),
    ]));
    let m = export_json(&dir.join("m.automerge"));
    assert_eq!(m["other"]["n"], serde_json::json!(-7));
    assert_eq!(m["notes"], serde_json::json!("hello"));
    let changes = ok(run(&[&"changes", &dir.join("m.automerge")]));
    assert_eq!(changes.lines().count(), 2);
}

/// A file cut short in its last chunk: `export` refuses it, `repair` saves the chunks before
/// the cut (and `--migrate-strings` adds the migration's change).
#[test]
fn repair_keeps_what_decodes() {
    let dir = scratch("repair");
    fs::write(dir.join("a.json"), r#"{"s": "plain", "n": 1}"#).unwrap();
    fs::write(dir.join("b.json"), r#"{"other": "x"}"#).unwrap();
    for name in ["a", "b"] {
        ok(run(&[
            &"import",
            &dir.join(format!("{name}.json")),
            &"-o",
            &dir.join(format!("{name}.automerge")),
        ]));
    }
    let a = fs::read(dir.join("a.automerge")).unwrap();
    let b = fs::read(dir.join("b.automerge")).unwrap();
    let mut damaged = [a.as_slice(), b.as_slice(), a.as_slice()].concat();
    damaged.truncate(damaged.len() - 5);
    fs::write(dir.join("damaged.automerge"), &damaged).unwrap();
    assert_clean_failure(&run(&[&"export", &dir.join("damaged.automerge")]));
    let out = run(&[
        &"repair",
        &dir.join("damaged.automerge"),
        &"-o",
        &dir.join("repaired.automerge"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("kept 2 change(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        export_json(&dir.join("repaired.automerge")),
        serde_json::json!({"s": "plain", "n": 1, "other": "x"})
    );
    ok(run(&[
        &"repair",
        &dir.join("damaged.automerge"),
        &"-o",
        &dir.join("migrated.automerge"),
        &"--migrate-strings",
    ]));
    let changes = ok(run(&[&"changes", &dir.join("migrated.automerge")]));
    assert_eq!(changes.lines().count(), 3, "{changes}");
    assert_eq!(
        export_json(&dir.join("migrated.automerge")),
        serde_json::json!({"s": "plain", "n": 1, "other": "x"})
    );
}

fn malformed_inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus("fuzz-crashers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let exemplar = fs::read(corpus("fixtures/exemplar.automerge")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"hello world".to_vec()),
        ("truncated", exemplar[..200].to_vec()),
        ("bad-checksum", {
            let mut b = exemplar.clone();
            b[5] ^= 0xff;
            b
        }),
        ("trailing", {
            let mut b = exemplar.clone();
            b.extend_from_slice(&[0x85, 0x6f, 0x4a]);
            b
        }),
        ("sync-garbage", vec![0x42, 0xff, 0xff, 0xff]),
    ];
    for (name, bytes) in cases {
        let p = dir.join(name);
        fs::write(&p, bytes).unwrap();
        files.push(p);
    }
    files
}

#[test]
fn malformed_input_fails_cleanly() {
    let dir = scratch("malformed");
    for file in malformed_inputs(&dir) {
        let before = fs::read(&file).unwrap();
        let loads = Command::new(env!("CARGO_BIN_EXE_converge"))
            .arg("export")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success();
        for cmd in ["inspect", "export", "changes"] {
            let o = run(&[&cmd, &file]);
            // Some fuzz crashers are valid envelopes that only fail to load; inspect may
            // describe them. Whatever happens, no panic and a clean error if any.
            if !o.status.success() {
                assert_clean_failure(&o);
                if cmd == "inspect" {
                    assert!(stderr(&o).contains("offset"), "{}", stderr(&o));
                }
            } else {
                assert!(cmd == "inspect" || loads, "{cmd} {}", file.display());
            }
        }
        // merge and sync leave their inputs alone on error.
        let out = dir.join("out.automerge");
        fs::write(&out, b"previous").unwrap();
        if !loads {
            let o = run(&[
                &"merge",
                &corpus("fixtures/exemplar.automerge"),
                &file,
                &"-o",
                &out,
            ]);
            assert_clean_failure(&o);
            assert_eq!(fs::read(&out).unwrap(), b"previous");
            let o = run(&[
                &"sync",
                &file,
                &"--connect",
                &"127.0.0.1:9",
                &"--timeout",
                &"1",
            ]);
            assert_clean_failure(&o);
        }
        assert_eq!(
            fs::read(&file).unwrap(),
            before,
            "{} changed",
            file.display()
        );
    }
    // The garbage file is not JSON either.
    let o = run(&[&"import", &dir.join("garbage"), &"-o", &dir.join("never")]);
    assert_clean_failure(&o);
    assert!(!dir.join("never").exists());
    let o = run(&[&"inspect", &dir.join("does-not-exist")]);
    assert_clean_failure(&o);
    // Usage errors are one line too (exit status 2).
    for args in [
        &["sync", "x"][..],
        &["bogus"],
        &["inspect"],
        &["merge", "a"],
    ] {
        let o = bin().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
}

/// Starts `converge sync FILE --listen 127.0.0.1:0 ...`; returns the child and the address
/// named on the first line of its stderr (the rest of stderr is drained in the background).
fn listen(file: &Path, extra: &[&str]) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = bin()
        .arg("sync")
        .arg(file)
        .args(["--listen", "127.0.0.1:0", "--timeout", "20"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    (child, addr, rest)
}

#[test]
fn two_processes_sync_over_loopback() {
    let dir = scratch("sync");
    let a = dir.join("a.automerge");
    let b = dir.join("b.automerge");
    fs::copy(corpus("fixtures/exemplar.automerge"), &a).unwrap();
    fs::write(dir.join("b.json"), r#"{"from_b": [1, 2, 3], "title": "B"}"#).unwrap();
    ok(run(&[&"import", &dir.join("b.json"), &"-o", &b]));
    let state = dir.join("a.state");

    let (mut listener, addr, rest) = listen(&a, &["--state", state.to_str().unwrap()]);
    let mut connector = bin()
        .arg("sync")
        .arg(&b)
        .args(["--connect", &addr, "--timeout", "20"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cs = wait_bounded(&mut connector, Duration::from_secs(60));
    let ls = wait_bounded(&mut listener, Duration::from_secs(60));
    let log = rest.join().unwrap();
    assert!(cs.success() && ls.success(), "listener log: {log}");
    assert!(log.contains("in sync after"), "{log}");

    let ja = export_json(&a);
    let jb = export_json(&b);
    assert_eq!(ja, jb);
    assert_eq!(ja["from_b"], serde_json::json!([1, 2, 3]));
    assert_eq!(ja["location"], serde_json::json!("https://automerge.org/"));
    let ca: Vec<String> = ok(run(&[&"changes", &a]))
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ca.len(), 2);
    // The saved sync state knows both heads.
    let s = ok(run(&[&"inspect", &state]));
    assert!(s.contains("shared heads (2)"), "{s}");

    // A second session with nothing new ends after one empty turn.
    let (mut listener, addr, rest) = listen(&a, &["--state", state.to_str().unwrap()]);
    let o = bin()
        .arg("sync")
        .arg(&b)
        .args(["--connect", &addr, "--timeout", "20"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(wait_bounded(&mut listener, Duration::from_secs(60)).success());
    let log = rest.join().unwrap();
    assert!(log.contains("in sync after"), "{log}");
}

#[test]
fn sync_clones_into_a_new_file() {
    let dir = scratch("clone");
    let a = dir.join("a.automerge");
    let c = dir.join("clone.automerge");
    fs::copy(corpus("fixtures/exemplar.automerge"), &a).unwrap();
    let before = fs::read(&a).unwrap();
    let (mut listener, addr, rest) = listen(&a, &[]);
    let o = bin()
        .arg("sync")
        .arg(&c)
        .args(["--connect", &addr, "--create", "--timeout", "20"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(wait_bounded(&mut listener, Duration::from_secs(60)).success());
    let _ = rest.join();
    assert_eq!(export_json(&c), export_json(&a));
    // Nothing new for the listener: its document holds the same changes as before.
    assert_eq!(ok(run(&[&"changes", &a])), ok(run(&[&"changes", &c])));
    assert_eq!(
        ok(run(&[&"export", &a])),
        String::from_utf8(ok_export_bytes(&before, &dir)).unwrap()
    );
}

fn ok_export_bytes(file_bytes: &[u8], dir: &Path) -> Vec<u8> {
    let p = dir.join("copy.automerge");
    fs::write(&p, file_bytes).unwrap();
    run(&[&"export", &p]).stdout
}

#[test]
fn oversized_frame_is_refused() {
    let dir = scratch("frame");
    let a = dir.join("a.automerge");
    fs::copy(corpus("fixtures/exemplar.automerge"), &a).unwrap();
    let before = fs::read(&a).unwrap();
    let (mut listener, addr, rest) = listen(&a, &["--max-frame", "1000"]);
    let mut peer = TcpStream::connect(&addr).unwrap();
    peer.write_all(&(1u32 << 30).to_be_bytes()).unwrap();
    let status = wait_bounded(&mut listener, Duration::from_secs(30));
    let log = rest.join().unwrap();
    assert!(!status.success());
    assert!(log.contains("over the limit of 1000 bytes"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(fs::read(&a).unwrap(), before);

    // A frame that is not a sync message is refused too.
    let (mut listener, addr, rest) = listen(&a, &[]);
    let mut peer = TcpStream::connect(&addr).unwrap();
    peer.write_all(&[0, 0, 0, 3, 0x42, 0xff, 0xff]).unwrap();
    let status = wait_bounded(&mut listener, Duration::from_secs(30));
    let log = rest.join().unwrap();
    assert!(!status.success());
    assert!(log.contains("malformed sync message"), "{log}");
    assert_eq!(fs::read(&a).unwrap(), before);
}

#[test]
fn demo_runs() {
    let mut child = bin()
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{out}");
    assert!(out.contains("rounds:") && out.contains("bytes:"), "{out}");
    let json_end = out.find("\nrounds:").unwrap();
    let json: serde_json::Value = serde_json::from_str(&out[..json_end]).unwrap();
    assert_eq!(
        json["shopping"],
        serde_json::json!(["coffee", "milk", "bread"])
    );
    assert_eq!(json["visits"], serde_json::json!(3));
}

/// `fragments` lists the history's fragments and writes each as bytes; the files,
/// concatenated, load to the whole history.
#[test]
fn fragments_cut_the_history_and_load_back() {
    let file = corpus("real-docs/monday-meeting-notes.automerge");
    let dir = scratch("fragments");
    let listed = ok(run(&[&"fragments", &file, &"-o", &dir]));
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines.len() > 10, "{listed}");
    assert!(lines.iter().any(|l| l.contains(" level=1 ")), "{listed}");
    assert!(lines.iter().all(|l| l.contains(" members=")));
    let mut joined = Vec::new();
    for line in &lines {
        let head = line.split(' ').next().unwrap();
        joined.extend(fs::read(dir.join(format!("{head}.fragment"))).unwrap());
    }
    let whole = dir.join("joined.automerge");
    fs::write(&whole, joined).unwrap();
    let count = |f: &Path| ok(run(&[&"changes", &f])).lines().count();
    assert_eq!(count(&whole), count(&file));
    // Only the cached fragments: none of level 0.
    let cached = ok(run(&[&"fragments", &file, &"--min-level", &"1"]));
    assert!(cached.lines().all(|l| !l.contains(" level=0 ")));
    assert!(cached.lines().count() < lines.len());
}
