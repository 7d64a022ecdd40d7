//! Shared support for the oracle tests: a seeded generator of random Automerge histories.
//!
//! Include it from a test file with `mod support;`. Every test binary compiles its own copy, so
//! not every item is used by every binary (hence the `dead_code` allowance below).
//!
//! # The generator
//!
//! [`History::generate`] drives the reference implementation (the `automerge` 0.12 crate, our
//! oracle) through a random but **fully deterministic** editing session: the same seed and
//! [`Params`] always give byte-identical changes and documents, on every machine (the only
//! randomness is [`SplitMix64`]; actor ids are fixed, commit times are explicit).
//!
//! A session has [`Params::actors`] replicas (3 to [`ACTOR_IDS`]`.len()`), one per fixed actor
//! id. Actor 0 starts with an empty document; every other actor joins later, either by forking
//! a random replica that has already joined (so its first change depends on that replica's
//! heads) or, sometimes, from an empty document of its own (so it creates concurrent roots).
//! Then, for [`Params::changes`] steps, the generator either
//!
//! - lets a random replica make one local change of 1 to [`Params::max_actions`] random edits
//!   (committed with a message and/or an explicit time with some probability, occasionally an
//!   empty change), or
//! - merges one replica into another (with probability [`Params::merge_percent`]); since
//!   replicas edit independently between merges, this yields concurrent branches and merge
//!   changes with several deps.
//!
//! Edits cover every action and value kind the reference writes:
//!
//! - `put` of null / bool / uint / int / f64 / str / bytes / counter / timestamp (and, rarely, an
//!   unknown type code) in maps, tables and lists; `put_object` of map / list / text / table;
//! - `insert` / `insert_object` and `splice` (including long runs of one repeated value) in
//!   lists; `delete` in maps and lists;
//! - `splice_text` with Unicode strings (BMP, non-BMP, combining characters, flags), deletes in
//!   text, and long runs of one character;
//! - `increment` of counters in maps and lists;
//! - `mark` / `unmark` over text ranges with every [`ExpandMark`] variant;
//! - deletes of map keys that hold objects which other replicas keep editing (the object
//!   registry is shared by all replicas, so edits target objects a replica may have deleted or
//!   not yet seen; ops the reference refuses are skipped).
//!
//! With [`Params::long_runs`] some edits write hundreds of equal values or characters, so that
//! RLE runs are long and columns exceed 256 bytes (the compression threshold of documents and
//! of `Change::bytes()`).
//!
//! With [`Params::author_footer`], actor 2 has an author, so its first change carries an author
//! footer in its extra bytes.
//!
//! All text objects use [`TextEncoding::UnicodeCodePoint`], so text indexes count `char`s.
//!
//! Not generated: block markers (`split_block` & co.), `update_text`/`update_spans`,
//! isolation, bundles, and commit times further apart than ±2⁶¹ ms (the reference panics with
//! "delta value overflows i64" when two changes' times differ by more than `i64::MAX`).
//!
//! # Stability
//!
//! Other tests depend on what a seed produces (committed fuzz seeds, printed counts). Add new
//! behaviour behind a new [`Params`] field, and draw from the RNG for it only when it is on, so
//! existing seeds keep their histories.
//!
//! # Outputs
//!
//! [`History`] keeps the final replicas and one document that merged all of them
//! ([`History::merged`]); [`History::changes`] lists every change in the merged document's
//! order (a topological order). Later differential tests (document, sync) can use
//! [`History::replicas`] as divergent peers.
//!
//! Cost: about 10 ms per history in a release build ([`Params::default`] or [`Params::varied`]:
//! 200 varied histories with 3,209 changes in 1.6 s, 100 default ones in 1.1 s, on a loaded
//! 2-core machine).
#![allow(dead_code)]

use automerge::marks::{ExpandMark, Mark};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Author, AutoCommit, Change, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc,
    ScalarValue, TextEncoding,
};

/// The fixed actor ids, in the order actors are numbered by the generator.
///
/// Lengths and bytes are chosen so that bytewise order differs from generator order, one id is
/// a prefix of another, and lengths other than the API's usual 16 bytes occur.
pub(crate) const ACTOR_IDS: [&[u8]; 6] = [
    &[
        0xc0, 0xff, 0xee, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
        0xcc,
    ],
    &[
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10,
    ],
    &[0x7f, 0x00],
    &[0x7f],
    &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11],
    &[
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01,
    ],
];

/// The author bytes of actor 2 when [`Params::author_footer`] is set.
pub(crate) const AUTHOR: &[u8] = b"author of actor 2";

/// A tiny deterministic pseudo-random generator (SplitMix64, Steele/Lea/Flood 2014).
///
/// Not cryptographic; used only so that a seed reproduces a history exactly.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n == 0`). Slightly biased for huge `n`; irrelevant here.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub(crate) fn percent(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// A uniformly chosen element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Knobs of [`History::generate`].
#[derive(Clone, Debug)]
pub(crate) struct Params {
    /// Number of replicas (actors), 3 to `ACTOR_IDS.len()`.
    pub(crate) actors: usize,
    /// Number of generator steps; each step is one local change or one merge.
    pub(crate) changes: usize,
    /// Maximum number of edits inside one local change (at least 1).
    pub(crate) max_actions: usize,
    /// Probability (percent) that a step merges one replica into another instead of editing.
    pub(crate) merge_percent: u32,
    /// Write long runs (hundreds of equal values / characters, strings > 256 bytes) sometimes.
    pub(crate) long_runs: bool,
    /// Give commits a message and/or an explicit time sometimes (otherwise time 0, no message).
    pub(crate) messages_and_times: bool,
    /// Make an empty change (zero ops) sometimes.
    pub(crate) empty_changes: bool,
    /// Give actor 2 an author ([`AUTHOR`]), so its first change (seq 1) carries an author
    /// footer in its extra bytes (format.md §6.5).
    pub(crate) author_footer: bool,
}

impl Default for Params {
    /// A mixed history of 25 steps over 4 actors, with long runs, messages and empty
    /// changes: about 10 ms in release builds.
    fn default() -> Self {
        Params {
            actors: 4,
            changes: 25,
            max_actions: 6,
            merge_percent: 25,
            long_runs: true,
            messages_and_times: true,
            empty_changes: true,
            author_footer: true,
        }
    }
}

impl Params {
    /// A short history (3 actors, 8 steps, no long runs): for small fuzz seeds.
    pub(crate) fn small() -> Self {
        Params {
            actors: 3,
            changes: 8,
            max_actions: 3,
            merge_percent: 25,
            long_runs: false,
            messages_and_times: true,
            empty_changes: true,
            author_footer: false,
        }
    }

    /// A derived parameter set that varies with `seed` (actor count, length, run lengths), so a
    /// sweep over seeds also sweeps over shapes.
    pub(crate) fn varied(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x5eed_5eed_5eed_5eed);
        Params {
            actors: rng.range(3, ACTOR_IDS.len()),
            changes: rng.range(4, 40),
            max_actions: rng.range(1, 10),
            merge_percent: rng.range(5, 40) as u32,
            long_runs: rng.percent(60),
            messages_and_times: rng.percent(70),
            empty_changes: rng.percent(50),
            author_footer: rng.percent(50),
        }
    }
}

/// One random editing session run through the oracle. See the module documentation.
pub(crate) struct History {
    /// The seed it was generated from.
    pub(crate) seed: u64,
    /// The actor ids of the replicas, `replicas[i]` writes as `actors[i]`.
    pub(crate) actors: Vec<ActorId>,
    /// The final state of each replica (replicas that never joined are empty documents).
    pub(crate) replicas: Vec<AutoCommit>,
    /// A document holding every change of every replica.
    pub(crate) merged: AutoCommit,
}

/// Whether a replica has started (actor 0 always has).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Joined {
    No,
    Yes,
}

/// What the generator knows about the document's shape, shared by all replicas.
struct Registry {
    /// Every object created so far (root included), with its type.
    objects: Vec<(ObjId, ObjType)>,
    /// Places where a counter was put: (object, key or index).
    counters: Vec<(ObjId, Prop)>,
}

const MAP_KEYS: [&str; 10] = [
    "a",
    "b",
    "title",
    "x",
    "ключ",
    "😀",
    "",
    "long key name",
    "n",
    "z",
];
const TEXT_SNIPPETS: [&str; 14] = [
    "a",
    "hello",
    " ",
    "\n",
    "é",
    "e\u{301}",
    "日本語",
    "😀",
    "𝄞 clef",
    "🇬🇧",
    "👨‍👨‍👧‍👦",
    "\u{0}",
    "Ωmega",
    "mixed 😀 text",
];
const MARK_NAMES: [&str; 4] = ["bold", "link", "comment", "ünïcödé"];
const EXPANDS: [ExpandMark; 4] = [
    ExpandMark::Before,
    ExpandMark::After,
    ExpandMark::Both,
    ExpandMark::None,
];

impl History {
    /// Run a random session through the oracle. Deterministic in `seed` and `params`.
    ///
    /// # Panics
    ///
    /// If `params.actors` is not in `3..=ACTOR_IDS.len()` or the oracle itself fails to merge.
    pub(crate) fn generate(seed: u64, params: &Params) -> History {
        assert!(
            (3..=ACTOR_IDS.len()).contains(&params.actors),
            "actors must be in 3..={}",
            ACTOR_IDS.len()
        );
        let mut rng = SplitMix64::new(seed);
        let actors: Vec<ActorId> = ACTOR_IDS[..params.actors]
            .iter()
            .map(|b| ActorId::from(*b))
            .collect();
        let mut replicas: Vec<AutoCommit> = Vec::new();
        for (i, actor) in actors.iter().enumerate() {
            let mut doc = AutoCommit::new_with_encoding(TextEncoding::UnicodeCodePoint);
            set_identity(&mut doc, i, actor, params);
            replicas.push(doc);
        }
        let mut joined = vec![Joined::No; params.actors];
        joined[0] = Joined::Yes;
        let mut registry = Registry {
            objects: vec![(ROOT, ObjType::Map)],
            counters: Vec::new(),
        };

        for _ in 0..params.changes {
            let who = rng.below(params.actors);
            if joined[who] == Joined::No {
                let live: Vec<usize> = (0..params.actors)
                    .filter(|&i| joined[i] == Joined::Yes)
                    .collect();
                if rng.percent(80) {
                    let from = *rng.pick(&live);
                    let mut fork = replicas[from].fork();
                    set_identity(&mut fork, who, &actors[who], params);
                    replicas[who] = fork;
                }
                joined[who] = Joined::Yes;
            }
            let live: Vec<usize> = (0..params.actors)
                .filter(|&i| joined[i] == Joined::Yes && i != who)
                .collect();
            if !live.is_empty() && rng.percent(params.merge_percent) {
                let other = *rng.pick(&live);
                let (a, b) = two_mut(&mut replicas, who, other);
                a.merge(b).expect("oracle merge of its own changes");
                continue;
            }
            local_change(&mut replicas[who], &mut rng, params, &mut registry);
        }

        let mut merged = AutoCommit::new_with_encoding(TextEncoding::UnicodeCodePoint);
        for r in &mut replicas {
            merged.merge(r).expect("oracle merge of its own changes");
        }
        History {
            seed,
            actors,
            replicas,
            merged,
        }
    }

    /// Every change of the merged document, in its order (dependencies first).
    pub(crate) fn changes(&mut self) -> Vec<Change> {
        self.merged.get_changes(&[])
    }

    /// The heads of the merged document, sorted.
    pub(crate) fn heads(&mut self) -> Vec<ChangeHash> {
        let mut heads = self.merged.get_heads();
        heads.sort();
        heads
    }
}

/// Makes `doc` write as actor number `index` (with its author, if it has one).
fn set_identity(doc: &mut AutoCommit, index: usize, actor: &ActorId, params: &Params) {
    let author = (params.author_footer && index == 2).then(|| Author::from(AUTHOR.to_vec()));
    // `set_author` picks a random actor id, so the fixed id is set afterwards.
    doc.set_author(author);
    doc.set_actor(actor.clone());
}

/// Mutable references to two distinct elements.
fn two_mut<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b);
    if a < b {
        let (lo, hi) = items.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = items.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

/// One local change on `doc`: a few random edits, then a commit.
fn local_change(
    doc: &mut AutoCommit,
    rng: &mut SplitMix64,
    params: &Params,
    registry: &mut Registry,
) {
    if params.empty_changes && rng.percent(4) {
        doc.empty_change(commit_options(rng, params));
        return;
    }
    let actions = rng.range(1, params.max_actions.max(1));
    for _ in 0..actions {
        // A few attempts: the chosen object may be unknown to this replica.
        for _ in 0..4 {
            if edit(doc, rng, params, registry) {
                break;
            }
        }
    }
    doc.commit_with(commit_options(rng, params));
}

fn commit_options(rng: &mut SplitMix64, params: &Params) -> CommitOptions {
    let mut options = CommitOptions::default();
    if params.messages_and_times {
        if rng.percent(30) {
            let message = match rng.below(4) {
                0 => "fix".to_string(),
                1 => "édition 😀".to_string(),
                2 => format!("change {}", rng.next_u64()),
                _ => "m".repeat(rng.range(1, 300)),
            };
            options = options.with_message(message);
        }
        if rng.percent(30) {
            let time = match rng.below(4) {
                0 => 1_700_000_000_000,
                1 => -905_182_979_000,
                // Bounded: the reference panics ("delta value overflows i64") when two changes'
                // times differ by more than i64::MAX (time is a delta column in documents).
                2 => (rng.next_u64() >> 2) as i64 - (1 << 61),
                _ => rng.below(100_000) as i64,
            };
            options = options.with_time(time);
        }
    }
    options
}

/// A random scalar of any kind the reference stores.
fn random_scalar(rng: &mut SplitMix64, params: &Params) -> ScalarValue {
    match rng.below(21) {
        0 => ScalarValue::Null,
        1 => ScalarValue::Boolean(true),
        2 => ScalarValue::Boolean(false),
        3 => ScalarValue::Uint(rng.below(200) as u64),
        4 => ScalarValue::Uint(*rng.pick(&[0, 127, 128, 1 << 35, u64::MAX])),
        5 => ScalarValue::Int(rng.below(200) as i64 - 100),
        6 => ScalarValue::Int(*rng.pick(&[i64::MIN, -65, -64, 63, 64, i64::MAX])),
        7 => ScalarValue::F64(*rng.pick(&[0.0, -0.0, 1.5, 3.14159267, -1e300, f64::INFINITY])),
        8 => ScalarValue::F64(f64::from_bits(rng.next_u64() & 0x7fef_ffff_ffff_ffff)),
        9 | 10 => ScalarValue::Str(random_text(rng, params).into()),
        11 => ScalarValue::Str("".into()),
        12 => ScalarValue::Bytes(Vec::new()),
        13 => {
            let len = if params.long_runs && rng.percent(20) {
                rng.range(256, 600)
            } else {
                rng.below(12)
            };
            ScalarValue::Bytes((0..len).map(|_| rng.next_u64() as u8).collect())
        }
        14 | 15 => ScalarValue::counter(rng.below(1000) as i64 - 500),
        // The extremes only in release builds: automerge 0.12 adds increments with `+`, so a
        // debug build of the oracle panics on the overflow that release builds wrap (and
        // `make test` runs in release). Same slice length either way, so the same histories.
        16 => ScalarValue::counter(*rng.pick(if cfg!(debug_assertions) {
            &[0, -(1 << 40), 1 << 40]
        } else {
            &[0, i64::MIN, i64::MAX]
        })),
        17 => ScalarValue::Timestamp(rng.next_u64() as i64),
        18 => ScalarValue::Timestamp(-905_182_979_000),
        19 => ScalarValue::Unknown {
            type_code: rng.range(10, 15) as u8,
            bytes: (0..rng.below(5)).map(|_| rng.next_u64() as u8).collect(),
        },
        _ => ScalarValue::Int(7),
    }
}

/// A random string: one or more Unicode snippets, or a long run of one character.
fn random_text(rng: &mut SplitMix64, params: &Params) -> String {
    if params.long_runs && rng.percent(10) {
        let c = *rng.pick(&["a", "é", "😀", "x"]);
        return c.repeat(rng.range(100, 400));
    }
    let mut s = String::new();
    for _ in 0..rng.range(1, 3) {
        let snippet: &&str = rng.pick(&TEXT_SNIPPETS);
        s.push_str(snippet);
    }
    s
}

fn random_obj_type(rng: &mut SplitMix64) -> ObjType {
    *rng.pick(&[ObjType::Map, ObjType::List, ObjType::Text, ObjType::Table])
}

/// One random edit. Returns false if the chosen object is unknown to this replica or the
/// reference refused the edit (nothing was written then).
fn edit(
    doc: &mut AutoCommit,
    rng: &mut SplitMix64,
    params: &Params,
    registry: &mut Registry,
) -> bool {
    // Prefer increments of known counters now and then.
    if !registry.counters.is_empty() && rng.percent(8) {
        let (obj, prop) = registry.counters[rng.below(registry.counters.len())].clone();
        let by = rng.below(20) as i64 - 10;
        return doc.increment(&obj, prop, by).is_ok();
    }
    // Root gets extra weight so that deletes of whole subtrees happen.
    let (obj, typ) = if rng.percent(25) {
        (ROOT, ObjType::Map)
    } else {
        registry.objects[rng.below(registry.objects.len())].clone()
    };
    if doc.object_type(&obj).is_err() {
        return false;
    }
    match typ {
        ObjType::Map | ObjType::Table => edit_map(doc, rng, params, registry, obj),
        ObjType::List => edit_list(doc, rng, params, registry, obj),
        ObjType::Text => edit_text(doc, rng, params, obj),
    }
}

fn edit_map(
    doc: &mut AutoCommit,
    rng: &mut SplitMix64,
    params: &Params,
    registry: &mut Registry,
    obj: ObjId,
) -> bool {
    let key = rng.pick(&MAP_KEYS).to_string();
    match rng.below(10) {
        0..=4 => {
            let value = random_scalar(rng, params);
            let is_counter = matches!(value, ScalarValue::Counter(_));
            let ok = doc.put(&obj, key.as_str(), value).is_ok();
            if ok && is_counter {
                registry.counters.push((obj, Prop::Map(key)));
            }
            ok
        }
        5..=7 => {
            let typ = random_obj_type(rng);
            match doc.put_object(&obj, key.as_str(), typ) {
                Ok(id) => {
                    registry.objects.push((id, typ));
                    true
                }
                Err(_) => false,
            }
        }
        _ => {
            // Delete an existing key if there is one (possibly an object others edit).
            let keys: Vec<String> = doc.keys(&obj).collect();
            if keys.is_empty() {
                return false;
            }
            let key = keys[rng.below(keys.len())].clone();
            doc.delete(&obj, key.as_str()).is_ok()
        }
    }
}

fn edit_list(
    doc: &mut AutoCommit,
    rng: &mut SplitMix64,
    params: &Params,
    registry: &mut Registry,
    obj: ObjId,
) -> bool {
    let len = doc.length(&obj);
    match rng.below(12) {
        0..=3 => {
            let index = rng.range(0, len);
            let value = random_scalar(rng, params);
            let is_counter = matches!(value, ScalarValue::Counter(_));
            let ok = doc.insert(&obj, index, value).is_ok();
            if ok && is_counter {
                registry.counters.push((obj, Prop::Seq(index)));
            }
            ok
        }
        4 | 5 => {
            let index = rng.range(0, len);
            let typ = random_obj_type(rng);
            match doc.insert_object(&obj, index, typ) {
                Ok(id) => {
                    registry.objects.push((id, typ));
                    true
                }
                Err(_) => false,
            }
        }
        6 if len > 0 => {
            let index = rng.below(len);
            let value = random_scalar(rng, params);
            doc.put(&obj, index, value).is_ok()
        }
        7 if len > 0 => {
            let index = rng.below(len);
            doc.delete(&obj, index).is_ok()
        }
        _ => {
            // Splice: delete a few, insert a batch; with long runs, many equal values.
            let pos = rng.range(0, len);
            let del = rng.range(0, (len - pos).min(3));
            let values: Vec<ScalarValue> = if params.long_runs && rng.percent(30) {
                let v = random_scalar(rng, params);
                vec![v; rng.range(50, 300)]
            } else {
                (0..rng.range(0, 5))
                    .map(|_| random_scalar(rng, params))
                    .collect()
            };
            doc.splice(&obj, pos, del as isize, values).is_ok()
        }
    }
}

fn edit_text(doc: &mut AutoCommit, rng: &mut SplitMix64, params: &Params, obj: ObjId) -> bool {
    let len = doc.length(&obj);
    match rng.below(10) {
        0..=5 => {
            let pos = rng.range(0, len);
            let del = rng.range(0, (len - pos).min(4));
            let text = random_text(rng, params);
            doc.splice_text(&obj, pos, del as isize, &text).is_ok()
        }
        6 if len > 0 => {
            let pos = rng.below(len);
            let del = rng.range(1, len - pos);
            doc.splice_text(&obj, pos, del as isize, "").is_ok()
        }
        7 | 8 if len > 0 => {
            let start = rng.below(len);
            let end = rng.range(start + 1, len);
            let name = rng.pick(&MARK_NAMES).to_string();
            let value = match rng.below(4) {
                0 => ScalarValue::Boolean(true),
                1 => ScalarValue::Str("https://automerge.org/".into()),
                2 => ScalarValue::Int(rng.below(10) as i64),
                _ => ScalarValue::Null,
            };
            let expand = *rng.pick(&EXPANDS);
            doc.mark(&obj, Mark::new(name, value, start, end), expand)
                .is_ok()
        }
        9 if len > 0 => {
            let start = rng.below(len);
            let end = rng.range(start + 1, len);
            let name = rng.pick(&MARK_NAMES);
            let expand = *rng.pick(&EXPANDS);
            doc.unmark(&obj, name, start, end, expand).is_ok()
        }
        _ => false,
    }
}

/// The merged document of the history of `seed` (with [`Params::varied`]), loaded by both
/// implementations, each then writing as `actor`: (converge's, automerge's).
pub(crate) fn loaded_pair(
    seed: u64,
    actor: &[u8],
) -> (converge_doc::Document, automerge::Automerge) {
    let mut history = History::generate(seed, &Params::varied(seed));
    let saved = history.merged.save();
    let mut ours = converge_doc::Document::load(&saved).expect("converge loads the history");
    ours.set_actor(converge_encoding::ActorId::from_bytes(actor));
    let theirs = automerge::Automerge::load(&saved)
        .expect("automerge loads its history")
        .with_actor(automerge::ActorId::from(actor));
    (ours, theirs)
}

/// The seeds of a sweep: `0..default`, or with `CONVERGE_ORACLE_SEEDS=START..END` that range
/// instead, in every sweep that calls this (`make oracle-long` runs fresh seeds beyond the
/// ones `make test` covers).
pub(crate) fn sweep(default: u64) -> std::ops::Range<u64> {
    std::env::var("CONVERGE_ORACLE_SEEDS")
        .ok()
        .and_then(|s| {
            let (start, end) = s.split_once("..")?;
            Some(start.trim().parse().ok()?..end.trim().parse().ok()?)
        })
        .unwrap_or(0..default)
}

// ---- change chunks to both sides ----

/// The change chunks of `doc` since `base`'s heads, as bytes.
pub(crate) fn new_changes(
    doc: &converge_doc::Document,
    base: &converge_doc::Document,
) -> Vec<Vec<u8>> {
    doc.get_changes(&base.heads())
        .iter()
        .map(|c| c.bytes().to_vec())
        .collect()
}

/// Applies the change chunks `changes` to a converge document and to automerge's, as one
/// batch each.
pub(crate) fn apply_both(
    ours: &mut converge_doc::Document,
    theirs: &mut automerge::Automerge,
    changes: &[Vec<u8>],
) {
    ours.apply_changes(
        changes
            .iter()
            .map(|c| converge_encoding::Change::decode(c.clone().into()).unwrap()),
    )
    .unwrap();
    theirs
        .apply_changes(changes.iter().map(|c| Change::try_from(&c[..]).unwrap()))
        .unwrap();
}

/// Applies `changes` to both documents in random groups: all that are left at once (with
/// probability `whole_percent`), else 1 to `max_group` of them.
pub(crate) fn apply_in_random_groups(
    ours: &mut converge_doc::Document,
    theirs: &mut automerge::Automerge,
    changes: &[Vec<u8>],
    rng: &mut SplitMix64,
    whole_percent: u32,
    max_group: usize,
) {
    let mut rest = changes;
    while !rest.is_empty() {
        let n = if rng.percent(whole_percent) {
            rest.len()
        } else {
            1 + rng.below(rest.len().min(max_group))
        };
        let (group, after) = rest.split_at(n);
        rest = after;
        apply_both(ours, theirs, group);
    }
}

// ---- expected panics of the oracle ----

std::thread_local! {
    /// Whether this thread's panics are expected (caught by [`quietly`]): not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `catch_unwind(f)` without the panic hook's message and backtrace (the expected panics of
/// the oracle would fill `make test`'s log); a caller that finds the panic was not the
/// oracle's gives it to [`resume_loudly`].
pub(crate) fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result
}

/// The message of a panic's payload.
pub(crate) fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".to_owned())
}

/// Goes on unwinding a panic [`quietly`] caught, its message printed first.
pub(crate) fn resume_loudly(e: Box<dyn std::any::Any + Send>) -> ! {
    eprintln!("{}", panic_message(&*e));
    std::panic::resume_unwind(e)
}
