//! Tidy test: the crate layering of docs/ARCHITECTURE.md holds.
//!
//! Each library crate may depend (normal and build dependencies) only on workspace crates listed
//! before it in `LAYERS`, and no library crate may depend on the `automerge` oracle, which is a
//! dev-dependency of `converge-interop` and `benches/` only. This mirrors
//! `../shared/tools/check-layers.py` so that `cargo test` alone guards it.

use std::fs;
use std::path::{Path, PathBuf};

/// Bottom first: a crate may depend on crates that stand before it.
const LAYERS: &[&str] = &[
    "converge-encoding",
    "converge-dag",
    "converge-bloom",
    "converge-doc",
    "converge-sync",
    "converge",
    "converge-cli",
];

const ORACLES: &[&str] = &["automerge"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The dependency names of the normal and build dependency tables of a manifest, read with a
/// small line-based parser: section headers, `name = ...` lines and `package = "..."` renames.
fn library_deps(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    let mut dotted_dep: Option<String> = None;
    for raw in manifest.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            let header = line.trim_matches(|c| c == '[' || c == ']').trim();
            dotted_dep = None;
            let table = header.rsplit_once('.').map_or(header, |(_, last)| last);
            in_deps = false;
            // [dependencies], [build-dependencies], [target.X.dependencies]
            if matches!(table, "dependencies" | "build-dependencies") {
                in_deps = true;
            }
            // [dependencies.foo] style
            for prefix in ["dependencies.", "build-dependencies."] {
                if let Some(name) = header.strip_prefix(prefix) {
                    dotted_dep = Some(name.to_owned());
                    deps.push(name.to_owned());
                }
            }
            continue;
        }
        if let Some(dep) = &dotted_dep {
            if let Some(pkg) = package_rename(line) {
                deps.retain(|d| d != dep);
                deps.push(pkg);
            }
            continue;
        }
        if in_deps && let Some((name, rest)) = line.split_once('=') {
            {
                let name = name
                    .trim()
                    .split('.')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if name.is_empty() {
                    continue;
                }
                deps.push(package_rename(rest).unwrap_or(name));
            }
        }
    }
    deps
}

fn package_rename(text: &str) -> Option<String> {
    let idx = text.find("package")?;
    let after = &text[idx + "package".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quoted = after.strip_prefix('"')?;
    Some(quoted.split('"').next()?.to_owned())
}

fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for raw in manifest.lines() {
        let line = raw.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package && let Some(rest) = line.strip_prefix("name") {
            {
                let rest = rest.trim_start().strip_prefix('=')?.trim();
                return Some(rest.trim_matches('"').to_owned());
            }
        }
    }
    None
}

fn violations() -> Vec<String> {
    let mut problems = Vec::new();
    let crates = workspace_root().join("crates");
    let mut found = 0;
    for entry in fs::read_dir(&crates).expect("crates/ exists") {
        let path = entry.expect("readable dir entry").path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let Some(name) = package_name(&text) else {
            continue;
        };
        let Some(rank) = LAYERS.iter().position(|l| *l == name) else {
            continue;
        };
        found += 1;
        for dep in library_deps(&text) {
            if ORACLES.contains(&dep.as_str()) {
                problems.push(format!(
                    "{name} depends on the oracle {dep} (dev-dependency only)"
                ));
            } else if let Some(dep_rank) = LAYERS.iter().position(|l| *l == dep)
                && dep_rank >= rank
            {
                problems.push(format!("{name} depends on {dep}, which is not below it"));
            }
        }
    }
    assert_eq!(
        found,
        LAYERS.len(),
        "every layer crate has a manifest under crates/"
    );
    problems
}

#[test]
fn layering_holds() {
    let problems = violations();
    assert!(
        problems.is_empty(),
        "layering violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn parser_sees_violations() {
    let manifest = r#"
[package]
name = "converge-encoding"

[dependencies]
converge-doc.workspace = true
am = { package = "automerge", version = "0.12" }

[target.'cfg(unix)'.dependencies]
converge-sync = { path = "../x" }

[dev-dependencies]
converge-cli = { path = "../y" }

[build-dependencies.foo]
package = "automerge"
"#;
    let deps = library_deps(manifest);
    assert!(deps.contains(&"converge-doc".to_owned()));
    assert!(deps.contains(&"automerge".to_owned()));
    assert!(deps.contains(&"converge-sync".to_owned()));
    assert!(
        !deps.contains(&"converge-cli".to_owned()),
        "dev-dependencies are allowed"
    );
    assert_eq!(deps.iter().filter(|d| *d == "automerge").count(), 2);
}
