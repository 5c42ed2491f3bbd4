//! Hostile input on every surface the binary reads, through the built
//! binary: each hostile file must exit 2 with a message on stderr, print
//! nothing on stdout and write nothing (the case directory, which holds the
//! `--out` directory a command would write into, is the same afterwards).
//!
//! Surfaces: `check`'s `.cfg` and `.tla`, `show`'s and `replay`'s trace,
//! `audit`'s OTLP JSON, a `conform --corpus` case file and the expectations
//! file. Kinds: empty, deep nesting, a huge number, invalid UTF-8, a NUL byte,
//! a BOM, CR LF line endings, an overlong line, a file over the size limit,
//! a duplicate key or definition, truncation at every kind of token, a
//! directory, a FIFO and a symlink loop; plus what is hostile to one surface
//! only (`audit` handed an ITF trace, `{}`, zero spans).
//!
//! `cargo test --test integration hostile -- --nocapture` prints the table:
//! surface × kind → exit code and the first line of the message.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracewright::input::{self, Limits};

use super::repo;

/// What the hostile file is.
enum Content {
    Bytes(Vec<u8>),
    /// A sparse file one byte over the surface's size limit.
    OverSize,
    Directory,
    Fifo,
    SymlinkLoop,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Cfg,
    Tla,
    Json,
}

struct Surface {
    name: &'static str,
    syntax: Syntax,
    limits: Limits,
    /// The file the hostile content replaces, relative to the case directory.
    file: &'static str,
    /// A valid file of this surface: the command accepts it (exit 0 or 1).
    base: String,
    /// The other files the command needs, written into the case directory.
    setup: fn(&Path),
    /// The command line, given the case directory.
    args: fn(&Path) -> Vec<String>,
}

fn read(path: &str) -> String {
    fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn smallest_trace() -> PathBuf {
    let mut traces: Vec<PathBuf> = fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".itf.json"))
        .collect();
    traces.sort_by_key(|p| (fs::metadata(p).unwrap().len(), p.clone()));
    traces.remove(0)
}

/// The config the smallest trace names, at the same relative path under
/// `dir`: replaying a lasso re-judges it under the config's fairness.
fn place_trace_config(dir: &Path) {
    let trace: serde_json::Value = serde_json::from_str(&fs::read_to_string(smallest_trace()).unwrap()).unwrap();
    let config = trace["#meta"]["config"].as_str().expect("a trace names its config");
    let to = dir.join(config);
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(repo().join(config), to).unwrap();
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn surfaces() -> Vec<Surface> {
    let trace = fs::read_to_string(smallest_trace()).unwrap();
    vec![
        Surface {
            name: "check .cfg",
            syntax: Syntax::Cfg,
            limits: input::CFG,
            file: "TraceContext_h.cfg",
            base: read("specs/trace_context/TraceContext.cfg"),
            setup: |d| fs::write(d.join("TraceContext.tla"), read("specs/trace_context/TraceContext.tla")).unwrap(),
            args: |d| vec!["check".into(), s(&d.join("TraceContext_h.cfg")), "--out".into(), s(&d.join("out"))],
        },
        Surface {
            name: "check .tla",
            syntax: Syntax::Tla,
            limits: input::TLA,
            file: "TraceContext.tla",
            base: read("specs/trace_context/TraceContext.tla"),
            setup: |d| fs::write(d.join("TraceContext.cfg"), read("specs/trace_context/TraceContext.cfg")).unwrap(),
            args: |d| vec!["check".into(), s(&d.join("TraceContext.cfg")), "--out".into(), s(&d.join("out"))],
        },
        Surface {
            name: "show trace",
            syntax: Syntax::Json,
            limits: input::TRACE,
            file: "t.itf.json",
            base: trace.clone(),
            setup: |_| {},
            args: |d| vec!["show".into(), s(&d.join("t.itf.json"))],
        },
        Surface {
            name: "replay trace",
            syntax: Syntax::Json,
            limits: input::TRACE,
            file: "t.itf.json",
            base: trace,
            setup: place_trace_config,
            args: |d| vec!["replay".into(), s(&d.join("t.itf.json")), "--sut".into(), "model".into()],
        },
        Surface {
            name: "audit OTLP",
            syntax: Syntax::Json,
            limits: input::OTLP,
            file: "spans.json",
            base: read("tests/data/audit/clean.json"),
            setup: |_| {},
            args: |d| vec!["audit".into(), s(&d.join("spans.json"))],
        },
        Surface {
            name: "conform corpus",
            syntax: Syntax::Json,
            limits: input::CORPUS_CASE,
            file: "corpus/case.json",
            base: "{\n  \"traceparent\": [\n    \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"\n  ],\n  \"tracestate\": [\n    \"congo=t61rcWkgMzE\"\n  ]\n}\n".into(),
            setup: |d| fs::create_dir_all(d.join("corpus")).unwrap(),
            args: |d| conform(d, &d.join("corpus"), &repo().join("conformance/expectations.json")),
        },
        Surface {
            name: "expectations",
            syntax: Syntax::Json,
            limits: input::EXPECTATIONS,
            file: "expectations.json",
            base: read("conformance/expectations.json"),
            setup: |d| {
                fs::create_dir_all(d.join("corpus")).unwrap();
                fs::write(d.join("corpus/case.json"), "{\"traceparent\": [\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"]}\n").unwrap();
            },
            args: |d| conform(d, &d.join("corpus"), &d.join("expectations.json")),
        },
    ]
}

/// `conform --corpus` on the in-process Rust SDK, which needs no driver.
fn conform(d: &Path, corpus: &Path, expectations: &Path) -> Vec<String> {
    ["conform", "--sut", "rust", "--corpus", &s(corpus), "--expectations", &s(expectations), "--out", &s(&d.join("out"))]
        .map(String::from)
        .to_vec()
}

/// Cuts `text` right after the first occurrence of `needle` (plus `extra`
/// bytes), or `None` when the surface's file has no such token.
fn cut_after(text: &str, needle: &str, extra: usize) -> Option<Vec<u8>> {
    let at = text.find(needle)? + needle.len() + extra;
    Some(text.as_bytes()[..at.min(text.len())].to_vec())
}

fn kinds(surface: &Surface) -> Vec<(String, Content)> {
    let base = &surface.base;
    let line2 = base.find('\n').map_or(0, |i| i + 1);
    let insert = |bytes: &[u8]| {
        let mut out = base.as_bytes().to_vec();
        out.splice(line2..line2, bytes.iter().copied());
        Content::Bytes(out)
    };
    let mut kinds: Vec<(String, Content)> = vec![
        ("empty".into(), Content::Bytes(Vec::new())),
        ("invalid UTF-8".into(), insert(b"\xff\xfe")),
        ("NUL byte".into(), insert(b"\0")),
        ("BOM".into(), Content::Bytes([b"\xEF\xBB\xBF".as_slice(), base.as_bytes()].concat())),
        ("CRLF".into(), Content::Bytes(base.replace('\n', "\r\n").into_bytes())),
        ("long line".into(), insert(format!("{}\n", " ".repeat(surface.limits.line + 1)).as_bytes())),
        ("over size limit".into(), Content::OverSize),
        ("directory".into(), Content::Directory),
        ("FIFO".into(), Content::Fifo),
        ("symlink loop".into(), Content::SymlinkLoop),
    ];
    const DEEP: usize = 200_000;
    match surface.syntax {
        Syntax::Cfg => {
            let deep = base.replace("AlwaysOff = {}", &format!("AlwaysOff = {}{}", "{\n".repeat(DEEP), "}\n".repeat(DEEP)));
            kinds.push(("deep nesting".into(), Content::Bytes(deep.into_bytes())));
            let one_line = base.replace("AlwaysOff = {}", &format!("AlwaysOff = {}{}", "{".repeat(DEEP), "}".repeat(DEEP)));
            kinds.push(("deep nesting, one line".into(), Content::Bytes(one_line.into_bytes())));
            kinds.push(("huge number".into(), Content::Bytes(base.replace("Traces = 1", "Traces = 99999999999999999999999").into_bytes())));
            kinds.push(("duplicate key".into(), Content::Bytes(base.replace("Traces = 1", "Traces = 1\n    Traces = 2").into_bytes())));
            for (label, needle, extra) in [
                ("after CONSTANTS", "CONSTANTS", 0),
                ("after `=`", "Root =", 0),
                ("in a string", "\"bro", 0),
                ("after `<-`", "<-", 0),
                ("after `{`", "= {", 0),
                ("after INVARIANTS", "INVARIANTS", 0),
                ("after CHECK_DEADLOCK", "CHECK_DEADLOCK", 0),
            ] {
                let cut = cut_after(base, needle, extra).unwrap_or_else(|| panic!("{}: no {needle}", surface.name));
                kinds.push((format!("truncated {label}"), Content::Bytes(cut)));
            }
            let mut comment = base.as_bytes().to_vec();
            comment.extend_from_slice(b"(* an open comment\n");
            kinds.push(("truncated in a (* comment".into(), Content::Bytes(comment)));
        }
        Syntax::Tla => {
            let def = "DefaultHops == ";
            let deep = base.replace(def, &format!("{def}{}1{}\nOldHops == ", "<<\n".repeat(DEEP), ">>\n".repeat(DEEP)));
            kinds.push(("deep nesting".into(), Content::Bytes(deep.into_bytes())));
            let parens = base.replace(def, &format!("{def}{}1{}\nOldHops == ", "(".repeat(DEEP), ")".repeat(DEEP)));
            kinds.push(("deep nesting, one line".into(), Content::Bytes(parens.into_bytes())));
            // Deep, but under the bracket bound: the evaluator's own bound.
            let under = base.replace(def, &format!("{def}{}1{}\nOldHops == ", "<< ".repeat(100), " >>".repeat(100)));
            kinds.push(("nesting the evaluator bounds".into(), Content::Bytes(under.into_bytes())));
            let huge = base.replace(def, &format!("{def}99999999999999999999999\nOldHops == "));
            kinds.push(("huge number".into(), Content::Bytes(huge.into_bytes())));
            let dup = base.replace(def, &format!("{def}<<>>\n{def}"));
            kinds.push(("duplicate definition".into(), Content::Bytes(dup.into_bytes())));
            for (label, needle, extra) in [
                ("after MODULE", "MODULE", 0),
                ("after `==`", def, 0),
                ("in `<<`", "<< <<", 1),
                ("in a string", "<<\"bro", 0),
                ("after `/\\`", "/\\", 0),
                ("after EXTENDS", "EXTENDS", 0),
                ("in a (* comment", "(*", 0),
            ] {
                let cut = cut_after(base, needle, extra).unwrap_or_else(|| panic!("{}: no {needle}", surface.name));
                kinds.push((format!("truncated {label}"), Content::Bytes(cut)));
            }
        }
        Syntax::Json => {
            let deep = format!("{{\"x\": {}{}}}\n", "[\n".repeat(DEEP), "]\n".repeat(DEEP));
            kinds.push(("deep nesting".into(), Content::Bytes(deep.into_bytes())));
            kinds.push(("deep nesting, one line".into(), Content::Bytes(format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP)).into_bytes())));
            // A number no field can hold, where the surface has a list.
            let huge = base.replacen('[', "[1e999999, ", 1);
            kinds.push(("huge number".into(), Content::Bytes(huge.into_bytes())));
            // The first key of the document, repeated.
            let first_key = base.find('"').map(|i| {
                let end = base[i + 1..].find('"').unwrap() + i + 2;
                &base[i..end]
            });
            let key = first_key.unwrap();
            let dup = base.replacen(&format!("{key}:"), &format!("{key}: null, {key}:"), 1);
            assert_ne!(&dup, base, "{}: duplicate key", surface.name);
            kinds.push(("duplicate key".into(), Content::Bytes(dup.into_bytes())));
            for (label, needle, extra) in [
                ("after `{`", "{", 0),
                ("after `[`", "[", 0),
                ("in a key", "\"", 2),
                ("after `:`", ":", 0),
                ("after `,`", ",", 0),
                ("in a string value", ": \"", 2),
                ("in a number", ": 1", 0),
                ("in `true`", "tru", 0),
            ] {
                if let Some(cut) = cut_after(base, needle, extra) {
                    kinds.push((format!("truncated {label}"), Content::Bytes(cut)));
                }
            }
            kinds.push(("not JSON".into(), Content::Bytes(b"traceparent: 00-abc\n".to_vec())));
        }
    }
    if surface.name == "audit OTLP" {
        let trace = fs::read(smallest_trace()).unwrap();
        kinds.push(("an ITF trace".into(), Content::Bytes(trace)));
        kinds.push(("{}".into(), Content::Bytes(b"{}\n".to_vec())));
        kinds.push(("{\"foo\": 1}".into(), Content::Bytes(b"{\"foo\": 1}\n".to_vec())));
        kinds.push(("zero spans".into(), Content::Bytes(b"{\"resourceSpans\": []}\n".to_vec())));
        kinds.push(("whitespace only".into(), Content::Bytes(b"\n\n".to_vec())));
    }
    kinds
}

fn place(path: &Path, content: &Content, limits: &Limits) {
    match content {
        Content::Bytes(b) => fs::write(path, b).unwrap(),
        Content::OverSize => fs::File::create(path).unwrap().set_len(limits.bytes + 1).unwrap(),
        Content::Directory => fs::create_dir(path).unwrap(),
        Content::Fifo => {
            let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo runs").success();
            assert!(ok, "mkfifo {}", path.display());
        }
        Content::SymlinkLoop => std::os::unix::fs::symlink(path.file_name().unwrap(), path).unwrap(),
    }
}

/// Every path under `dir` with its size (directories as 0), sorted.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                todo.push(e.path());
            }
            out.push((e.path().strip_prefix(dir).unwrap().display().to_string(), if meta.is_file() { meta.len() } else { 0 }));
        }
    }
    out.sort();
    out
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` and kills it after a minute: a command that
/// opened a FIFO would otherwise hang the test.
fn run(dir: &Path, args: &[String]) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(args)
        .current_dir(dir)
        .env("TRACEWRIGHT_PROGRESS", "never")
        .env_remove("TRACEWRIGHT_SPECS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tracewright binary runs");
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ran {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned(),
    }
}

#[test]
fn every_hostile_file_exits_2_with_a_message_and_writes_nothing() {
    let mut table = vec![("surface".to_string(), "kind".to_string(), "exit".to_string(), "first line of the message".to_string())];
    let mut failures = Vec::new();
    for surface in surfaces() {
        // The base file is accepted: what fails below fails for its hostility.
        let dir = tempfile::tempdir().unwrap();
        (surface.setup)(dir.path());
        fs::write(dir.path().join(surface.file), &surface.base).unwrap();
        let base = run(dir.path(), &(surface.args)(dir.path()));
        assert!(matches!(base.code, Some(0 | 1)), "{}: the valid file exits {:?}\n{}", surface.name, base.code, base.stderr);

        for (kind, content) in kinds(&surface) {
            let dir = tempfile::tempdir().unwrap();
            (surface.setup)(dir.path());
            let file = dir.path().join(surface.file);
            place(&file, &content, &surface.limits);
            let before = listing(dir.path());
            let ran = run(dir.path(), &(surface.args)(dir.path()));
            let after = listing(dir.path());
            let first = ran.stderr.lines().next().unwrap_or("").replace(&s(dir.path()), "<dir>");
            let code = ran.code.map_or("killed".to_string(), |c| c.to_string());
            table.push((surface.name.to_string(), kind.clone(), code.clone(), first.clone()));
            let mut wrong = Vec::new();
            if ran.code != Some(2) {
                wrong.push(format!("exit {code}, not 2"));
            }
            if !first.starts_with("error: ") {
                wrong.push("no `error:` message on stderr".to_string());
            }
            if ran.stderr.contains("panicked") || ran.stderr.contains("overflow") && ran.stderr.contains("stack") {
                wrong.push("a panic".to_string());
            }
            if !ran.stdout.is_empty() {
                wrong.push(format!("stdout is not empty: {:?}", ran.stdout.lines().next()));
            }
            if before != after {
                wrong.push(format!("files changed: {before:?} -> {after:?}"));
            }
            if !wrong.is_empty() {
                failures.push(format!("{} / {kind}: {}\n  stderr: {}", surface.name, wrong.join("; "), ran.stderr.trim()));
            }
        }
    }
    let widths = [0, 1].map(|i| table.iter().map(|r| if i == 0 { r.0.len() } else { r.1.chars().count() }).max().unwrap_or(0));
    let mut out = String::new();
    for (surface, kind, code, first) in &table {
        out.push_str(&format!("| {surface:<w0$} | {kind:<w1$} | {code:>4} | {} |\n", first.replace('|', "\\|"), w0 = widths[0], w1 = widths[1]));
    }
    println!("{out}");
    assert!(failures.is_empty(), "{} hostile file(s) were not refused cleanly:\n{}", failures.len(), failures.join("\n"));
    assert!(table.len() > 7 * 20, "every surface ran every kind ({} rows)", table.len());
}
