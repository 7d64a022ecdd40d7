//! Test support: a small JSON reader and the editing-trace loaders.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub(crate) fn as_arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            other => panic!("expected array, got {other:?}"),
        }
    }
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("expected string, got {other:?}"),
        }
    }
    pub(crate) fn as_usize(&self) -> usize {
        match self {
            Json::Num(n) => *n as usize,
            other => panic!("expected number, got {other:?}"),
        }
    }
    pub(crate) fn field(&self, name: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(name).unwrap_or_else(|| panic!("no field {name}")),
            other => panic!("expected object, got {other:?}"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'[' => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(out);
                }
                loop {
                    out.push(self.value());
                    self.ws();
                    let c = self.s[self.i];
                    self.i += 1;
                    if c == b']' {
                        return Json::Arr(out);
                    }
                    assert_eq!(c, b',');
                }
            }
            b'{' => {
                self.i += 1;
                let mut out = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(out);
                }
                loop {
                    self.ws();
                    let Json::Str(k) = self.value() else {
                        panic!("object key")
                    };
                    self.ws();
                    assert_eq!(self.s[self.i], b':');
                    self.i += 1;
                    let v = self.value();
                    out.insert(k, v);
                    self.ws();
                    let c = self.s[self.i];
                    self.i += 1;
                    if c == b'}' {
                        return Json::Obj(out);
                    }
                    assert_eq!(c, b',');
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => {
                self.i += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Json::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Json::Num(t.parse().unwrap())
            }
        }
    }
    fn hex4(&mut self) -> u32 {
        let t = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
        self.i += 4;
        u32::from_str_radix(t, 16).unwrap()
    }
    fn string(&mut self) -> String {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap());
            let c = self.s[self.i];
            self.i += 1;
            if c == b'"' {
                return out;
            }
            let e = self.s[self.i];
            self.i += 1;
            match e {
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'u' => {
                    let mut cp = self.hex4();
                    if (0xd800..0xdc00).contains(&cp) && self.s[self.i] == b'\\' {
                        self.i += 2;
                        let lo = self.hex4();
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    }
                    out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                }
                other => out.push(other as char),
            }
        }
    }
}

/// Parses a JSON document.
pub(crate) fn parse_json(text: &[u8]) -> Json {
    Parser { s: text, i: 0 }.value()
}

/// `shared/data/<rel>` relative to this crate.
pub(crate) fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// Reads and gunzips a file.
pub(crate) fn read_gz(rel: &str) -> Vec<u8> {
    let file = std::fs::File::open(data_path(rel)).expect("trace file");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}

/// One edit: at `pos` delete `del` code points, then insert `ins`.
#[derive(Debug, Clone)]
pub(crate) struct Patch {
    pub pos: usize,
    pub del: usize,
    pub ins: String,
}

fn patch(p: &Json) -> Patch {
    let a = p.as_arr();
    Patch {
        pos: a[0].as_usize(),
        del: a[1].as_usize(),
        ins: a.get(2).map(|s| s.as_str().to_owned()).unwrap_or_default(),
    }
}

/// The automerge-paper trace in its `[[pos, del, text?], ...]` form.
pub(crate) fn paper_edits() -> Vec<Patch> {
    let json = parse_json(&read_gz("automerge-corpus/real-docs/edits.json.gz"));
    json.as_arr().iter().map(patch).collect()
}

/// A sequential trace: its transactions' patches and the expected final text.
pub(crate) fn sequential_trace(name: &str) -> (Vec<Vec<Patch>>, String) {
    let json = parse_json(&read_gz(&format!("traces/sequential/{name}.json.gz")));
    let txns = json
        .field("txns")
        .as_arr()
        .iter()
        .map(|t| t.field("patches").as_arr().iter().map(patch).collect())
        .collect();
    (txns, json.field("endContent").as_str().to_owned())
}
