//! Times `save()` / `save_nocompress()` of one loaded document with converge and with
//! automerge 0.12, and checks the bytes are identical:
//!
//! ```text
//! cargo run --release -p converge-benches --example save_probe -- FILE [N] [MODE]
//! ```
//!
//! `FILE` is `essay`, `godot`, `moby`, an egwalker name (`S3`, `A1`, ...) or a path. Default
//! MODE (`both`): N interleaved saves of each, medians and minimums of this thread's on-CPU
//! time (so load from other processes counts less; tick-granular). `cv-s`, `cv-nc`, `am-s`,
//! `am-nc`: only that call N times, average CPU time (for A/B runs and `perf`). `cv-edit`,
//! `am-edit`: N times a one-key edit then `save()` (what `document/save-after-edit` measures),
//! average CPU time. Converge's output is also compared with the first run's, kept in
//! `/tmp/save_probe_ref_*`.

use std::path::PathBuf;
use std::time::Duration;

fn path_of(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/automerge-corpus");
    match name {
        "essay" => base.join("real-docs/essay.amrg"),
        "godot" => base.join("real-docs/godot-thread.amrg"),
        "moby" => base.join("real-docs/moby-dick.automerge"),
        "S3" | "S1" | "S2" | "A1" | "A2" | "C1" | "C2" => base.join(format!("egwalker/{name}.am")),
        other => PathBuf::from(other),
    }
}

/// Nanoseconds this thread has spent on a CPU (so time descheduled by other load is not
/// counted).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

struct Clock(u64);

impl Clock {
    fn now() -> Clock {
        Clock(cpu_ns())
    }
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(cpu_ns().saturating_sub(self.0))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("essay", String::as_str);
    let n: usize = args.get(1).map_or(11, |s| s.parse().expect("N"));
    let side = args.get(2).map_or("both", String::as_str);
    let bytes = std::fs::read(path_of(name)).expect("read file");

    let mut cv = converge_doc::Document::load(&bytes).expect("converge load");
    let am = automerge::Automerge::load(&bytes).expect("automerge load");
    let cv_bytes = cv.save();
    let am_bytes = am.save();
    let same = cv_bytes == am_bytes;
    let nc_same = cv.save_nocompress() == am.save_nocompress();
    println!(
        "{name}: {} bytes saved, identical to automerge: {same}, nocompress identical: {nc_same}",
        cv_bytes.len()
    );

    // Identity with converge's own earlier output (kept in /tmp by the first run).
    for (kind, out) in [("save", &cv_bytes), ("nocompress", &cv.save_nocompress())] {
        let file = format!("/tmp/save_probe_ref_{}_{kind}.bin", name.replace('/', "_"));
        match std::fs::read(&file) {
            Ok(old) => println!("{kind}: identical to the reference run: {}", &old == out),
            Err(_) => {
                std::fs::write(&file, out).expect("write reference");
                println!("{kind}: reference written to {file}");
            }
        }
    }
    if !nc_same {
        explain(&cv.save_nocompress(), &am.save_nocompress());
    }
    let chunk = converge_encoding::DocumentChunk::decode(&cv.save_nocompress()).expect("decode");
    println!("{} changes, {} ops", chunk.changes.len(), chunk.ops.len());
    if side == "enc" {
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Clock::now();
            std::hint::black_box(chunk.encode(false));
            t.push(start.elapsed());
        }
        println!(
            "DocumentChunk::encode(false) of the decoded chunk: median {:?}",
            median(t)
        );
    }
    if side == "cv-edit" || side == "am-edit" {
        // A one-key edit before each save, as the `document/save-after-edit` bench does.
        let mut am = am;
        let start = Clock::now();
        for i in 0..n {
            let v = i as i64 + 1;
            if side == "cv-edit" {
                cv.put(
                    &converge_doc::ROOT,
                    "bench-edit",
                    converge_encoding::ScalarValue::Int(v),
                )
                .expect("put");
                drop(std::hint::black_box(cv.save()));
            } else {
                let mut tx = am.transaction();
                automerge::transaction::Transactable::put(
                    &mut tx,
                    automerge::ROOT,
                    "bench-edit",
                    v,
                )
                .expect("put");
                tx.commit();
                drop(std::hint::black_box(am.save()));
            }
        }
        println!(
            "{side}: {:.2} ms CPU per edit and save over {n}",
            start.elapsed().as_secs_f64() * 1e3 / n.max(1) as f64
        );
        return;
    }
    // Single-operation modes: on-CPU time of the whole loop divided by N (the scheduler's
    // accounting lags by up to a tick, which the division makes small).
    let start = Clock::now();
    for _ in 0..n {
        match side {
            "cv-s" => drop(std::hint::black_box(cv.save())),
            "cv-nc" => drop(std::hint::black_box(cv.save_nocompress())),
            "am-s" => drop(std::hint::black_box(am.save())),
            "am-nc" => drop(std::hint::black_box(am.save_nocompress())),
            _ => break,
        }
    }
    if side.contains('-') {
        println!(
            "{side}: {:.2} ms CPU per call over {n}",
            start.elapsed().as_secs_f64() * 1e3 / n.max(1) as f64
        );
        return;
    }
    // Interleaved, so that load from other processes falls on both sides alike; times are
    // on-CPU time of this thread.
    let (mut cs, mut cn, mut a_s, mut an) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        if side != "am" {
            let start = Clock::now();
            std::hint::black_box(cv.save());
            cs.push(start.elapsed());
            let start = Clock::now();
            std::hint::black_box(cv.save_nocompress());
            cn.push(start.elapsed());
        }
        if side != "cv" {
            let start = Clock::now();
            std::hint::black_box(am.save());
            a_s.push(start.elapsed());
            let start = Clock::now();
            std::hint::black_box(am.save_nocompress());
            an.push(start.elapsed());
        }
    }
    let show = |what: &str, t: Vec<Duration>| {
        if !t.is_empty() {
            let min = t.iter().min().copied().unwrap_or_default();
            println!("{what}: median {:?} min {min:?}", median(t));
        }
    };
    show("converge save", cs);
    show("automerge save", a_s);
    show("converge save_nocompress", cn);
    show("automerge save_nocompress", an);
    if !same || !nc_same {
        std::process::exit(1);
    }
}

fn explain(a: &[u8], b: &[u8]) {
    let first = a.iter().zip(b).position(|(x, y)| x != y);
    println!(
        "lengths {} vs {}, first differing byte {first:?}",
        a.len(),
        b.len()
    );
    let (Ok(da), Ok(db)) = (
        converge_encoding::DocumentChunk::decode(a),
        converge_encoding::DocumentChunk::decode(b),
    ) else {
        println!("decode failed");
        return;
    };
    println!(
        "actors equal {} heads equal {} idx equal {}",
        da.actors == db.actors,
        da.heads == db.heads,
        da.head_indexes == db.head_indexes
    );
    println!("changes {} vs {}", da.changes.len(), db.changes.len());
    if let Some(i) = da
        .changes
        .iter()
        .zip(db.changes.iter())
        .position(|(x, y)| x != y)
    {
        println!(
            "change {i}: {:?} vs {:?}",
            da.changes.get(i),
            db.changes.get(i)
        );
    }
    println!("ops {} vs {}", da.ops.len(), db.ops.len());
    if let Some(i) = da.ops.iter().zip(db.ops.iter()).position(|(x, y)| x != y) {
        for j in i.saturating_sub(2)..(i + 3).min(da.ops.len()) {
            println!("op {j}: {:?}\n   vs {:?}", da.ops.get(j), db.ops.get(j));
        }
    }
}
