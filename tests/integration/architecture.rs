//! The layering the design asks for, checked on the source: models know no
//! system under test, systems under test know no model, each kind of system
//! under test knows no other, and no two modules import each other.
//!
//! A reference is any `crate::a::b` path in code (comments stripped), and
//! the names inside `use crate::{a, b::{c}}` groups.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::repo;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its comments (line comments, doc comments and
/// block comments; string literals are kept, they hold no `crate::` paths
/// that matter here).
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            rest = &rest[end..];
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The module paths (`sut::sdk`, `models::trace_context`, `engine`) a piece
/// of code refers to through `crate::`.
fn references(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::") {
        let start = at + i + "crate::".len();
        at = start;
        // `crate::` preceded by an identifier character is another path (`tracewright::crate::` does not occur).
        let tail = &code[start..];
        if tail.starts_with('{') {
            // A group: take each top-level name and its nested path heads.
            let close = matching_brace(tail).unwrap_or(tail.len());
            for item in split_top_level(&tail[1..close]) {
                refs.extend(path_heads(item.trim()));
            }
        } else {
            refs.extend(path_heads(tail));
        }
    }
    refs
}

fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut from) = (Vec::new(), 0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[from..]);
    parts
}

/// `a::b::C` → {"a", "a::b"}; `a::{b, c::D}` → {"a", "a::b", "a::c"}.
fn path_heads(s: &str) -> BTreeSet<String> {
    let mut heads = BTreeSet::new();
    let first: String = s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if first.is_empty() || first == "self" {
        return heads;
    }
    heads.insert(first.clone());
    let rest = &s[first.len()..];
    if let Some(rest) = rest.strip_prefix("::") {
        if rest.starts_with('{') {
            let close = matching_brace(rest).unwrap_or(rest.len());
            for item in split_top_level(&rest[1..close]) {
                for h in path_heads(item.trim()) {
                    heads.insert(format!("{first}::{h}"));
                }
            }
        } else {
            let second: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if second.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                heads.insert(format!("{first}::{second}"));
            }
        }
    }
    heads
}

/// The module a source file belongs to, as a path: `src/sut/sdk/driver.rs`
/// → `sut::sdk::driver`, `src/models/mod.rs` → `models`.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).expect("under src").with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).filter(|p| p != "mod").collect();
    parts.join("::")
}

/// Every file's module and the modules it refers to.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut graph = BTreeMap::new();
    for file in sources(&src) {
        let text = std::fs::read_to_string(&file).expect("a source file is UTF-8");
        graph.insert(module_of(&src, &file), references(&code(&text)));
    }
    graph
}

fn within(module: &str, prefix: &str) -> bool {
    module == prefix || module.starts_with(&format!("{prefix}::"))
}

/// Files under `from` that refer to anything under one of `forbidden`.
fn violations(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (module, refs) in graph {
        if !within(module, from) {
            continue;
        }
        for r in refs {
            if let Some(f) = forbidden.iter().find(|f| within(r, f)) {
                found.push(format!("{module} refers to {r} (under {f})"));
            }
        }
    }
    found
}

#[test]
fn the_reference_extractor_sees_groups_and_paths_but_not_comments() {
    let text = "// crate::cli is only named here\nuse crate::{engine, sut::{sdk::Sdk, pipeline}};\nfn f() { crate::models::trace_context::f(); }";
    let refs = references(&code(text));
    let expected: BTreeSet<String> = ["engine", "sut", "sut::sdk", "sut::pipeline", "models", "models::trace_context"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(refs, expected);
}

#[test]
fn models_know_no_system_under_test_and_no_engine() {
    let g = graph();
    let forbidden = ["sut", "conformance", "engine", "cli", "fuzzing", "differential", "audit"];
    let mut found = violations(&g, "models", &forbidden);
    found.extend(violations(&g, "model", &forbidden));
    assert!(found.is_empty(), "models must not import these layers:\n{}", found.join("\n"));
}

#[test]
fn systems_under_test_know_no_model_and_no_other_kind() {
    let g = graph();
    let mut found = violations(&g, "sut", &["model", "models", "conformance", "engine", "checker", "cli"]);
    // A kind is a directory under src/sut; a file directly under it (the
    // process control every kind uses) is shared, not a kind.
    let kinds: BTreeSet<String> = std::fs::read_dir(repo().join("src/sut"))
        .expect("src/sut is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().expect("a name").to_string_lossy().into_owned())
        .collect();
    assert!(kinds.contains("sdk"), "the SDK kind is under src/sut/sdk: {kinds:?}");
    for kind in &kinds {
        let others: Vec<String> = kinds.iter().filter(|k| *k != kind).map(|k| format!("sut::{k}")).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        found.extend(violations(&g, &format!("sut::{kind}"), &others));
    }
    assert!(found.is_empty(), "a system under test must stand alone:\n{}", found.join("\n"));
}

#[test]
fn the_engine_and_checker_know_no_real_system() {
    let g = graph();
    let mut found = violations(&g, "engine", &["sut", "conformance", "cli"]);
    found.extend(violations(&g, "checker", &["sut", "conformance", "cli", "engine", "models"]));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    // Edges between top-level modules (`sut::sdk::driver` counts as `sut`).
    let top = |m: &str| m.split("::").next().unwrap_or(m).to_string();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, refs) in graph() {
        let from = top(&module);
        if from == "lib" || from == "main" {
            continue;
        }
        for r in refs {
            let to = top(&r);
            if to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // Any cycle, found by depth-first search.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", cycle.join(" -> "));
        }
    }
}
