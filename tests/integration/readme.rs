//! The README is executed: every ```sh block of README.md and of
//! specs/*/README.md runs against the built binary, so a documented command
//! cannot break, and a printed sample cannot drift, unnoticed.
//!
//! # How a block is read
//!
//! - A block whose lines start with `$ ` is a transcript: each `$ ` line is a
//!   command, the lines up to the next `$ ` are what it prints (stdout, then
//!   stderr). A line `…` in a sample stands for any number of lines. Times,
//!   rates, thread counts and the content hash in a trace file name are
//!   redacted on both sides before comparing.
//! - Any other block is a list of commands, one per line (`#` comments and
//!   blank lines skipped), whose output is not compared.
//! - `cargo run --release --` and `tracewright` at the start of a command
//!   run the binary this test was built with; other commands run with `sh`.
//! - Every command must exit 0, unless the block is preceded by the comment
//!   `<!-- readme-test: exit N -->`.
//! - A block preceded by `<!-- readme-test: skip: REASON -->` is not run (it
//!   needs an external system, or is the test command itself); the reason is
//!   required and printed.
//!
//! Commands run in a scratch directory holding copies of `specs/`,
//! `traces/`, `conformance/` and `tests/data/`, so what they write lands
//! there. Every file path a README names (a word with `/` and a file
//! extension, or `traces/…` names) must exist in the repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The file and line of the opening fence.
    pub origin: String,
    pub skip: Option<String>,
    pub exit: i32,
    /// Commands and, for transcripts, their sample output.
    pub commands: Vec<(String, Option<Vec<String>>)>,
}

/// Every ```sh block of a Markdown text.
pub fn blocks(file: &str, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```sh" {
            i += 1;
            continue;
        }
        let origin = format!("{file}:{}", i + 1);
        let (mut skip, mut exit) = (None, 0);
        // The marker comments right above the fence.
        let mut j = i;
        while j > 0 && lines[j - 1].trim_start().starts_with("<!-- readme-test:") {
            j -= 1;
            let marker = lines[j].trim().trim_start_matches("<!-- readme-test:").trim_end_matches("-->").trim();
            if let Some(reason) = marker.strip_prefix("skip:") {
                if reason.trim().is_empty() {
                    return Err(format!("{origin}: a skip marker needs a reason"));
                }
                skip = Some(reason.trim().to_string());
            } else if let Some(code) = marker.strip_prefix("exit") {
                exit = code.trim().parse().map_err(|_| format!("{origin}: bad exit marker {marker:?}"))?;
            } else {
                return Err(format!("{origin}: unknown marker {marker:?}"));
            }
        }
        let body_start = i + 1;
        let end = (body_start..lines.len()).find(|&k| lines[k].trim_end() == "```").ok_or_else(|| format!("{origin}: unclosed block"))?;
        let body = &lines[body_start..end];
        let transcript = body.iter().any(|l| l.starts_with("$ "));
        let mut commands: Vec<(String, Option<Vec<String>>)> = Vec::new();
        for line in body {
            if transcript {
                if let Some(cmd) = line.strip_prefix("$ ") {
                    commands.push((cmd.to_string(), Some(Vec::new())));
                } else if let Some((_, Some(sample))) = commands.last_mut() {
                    sample.push(line.to_string());
                } else {
                    return Err(format!("{origin}: output before the first `$ ` command"));
                }
            } else {
                let cmd = line.trim();
                if !cmd.is_empty() && !cmd.starts_with('#') {
                    commands.push((cmd.to_string(), None));
                }
            }
        }
        out.push(Block { origin, skip, exit, commands });
        i = end + 1;
    }
    Ok(out)
}

/// Times, rates, thread counts and trace hashes, which differ run to run.
pub fn redact(text: &str) -> String {
    let rules = [
        (r"\d+\.\d+ s\b", "<secs> s"),
        (r"\([\d,]+ distinct states/s\)", "(<rate> distinct states/s)"),
        (r"(threads\s+)\d+", "${1}<n>"),
        (r"memory +[0-9.]+ [KMGT]?i?B peak resident \([0-9,]+ bytes per state; fingerprint store [0-9.]+ bytes per state\)", "memory <memory>"),
        (r"\.[0-9a-f]{8}\.itf\.json", ".<hash>.itf.json"),
    ];
    let mut out = text.to_string();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern).unwrap().replace_all(&out, with).into_owned();
    }
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// Whether `actual` matches the sample: line for line, with a `…` line for
/// any run of lines.
pub fn matches(sample: &[String], actual: &str) -> bool {
    let sample: Vec<String> = sample.iter().map(|l| redact(l)).collect();
    let actual = redact(actual);
    let actual: Vec<&str> = actual.lines().collect();
    fn go(s: &[String], a: &[&str]) -> bool {
        match s.split_first() {
            None => a.is_empty(),
            Some((first, rest)) if first.trim() == "…" => (0..=a.len()).any(|k| go(rest, &a[k..])),
            Some((first, rest)) => a.first().is_some_and(|l| *l == first.as_str()) && go(rest, &a[1..]),
        }
    }
    // A trailing blank line in the block is not part of the sample.
    let mut s = sample;
    while s.last().is_some_and(|l| l.is_empty()) {
        s.pop();
    }
    go(&s, &actual)
}

/// The scratch directory commands run in.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["specs", "traces", "conformance", "tests/data"] {
        let to = dir.path().join(sub);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        let ok = Command::new("cp").arg("-r").arg(repo().join(sub)).arg(&to).status().unwrap().success();
        assert!(ok, "copy {sub}");
    }
    dir
}

/// Runs one block; the failures, one line each.
pub fn run_block(block: &Block, dir: &Path, binary: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for (cmd, sample) in &block.commands {
        let rest = cmd.strip_prefix("cargo run --release -- ").or_else(|| cmd.strip_prefix("tracewright "));
        let output = match rest {
            // Through sh, so quoting and globs are the shell's, with the
            // built binary standing for `tracewright`.
            Some(rest) => Command::new("sh")
                .arg("-c")
                .arg(format!("\"$TW\" {rest}"))
                .env("TW", binary)
                .env("TRACEWRIGHT_PROGRESS", "never")
                .current_dir(dir)
                .output(),
            None => Command::new("sh").arg("-c").arg(cmd).current_dir(dir).output(),
        };
        let output = match output {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{}: `{cmd}` did not start: {e}", block.origin));
                continue;
            }
        };
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if output.status.code() != Some(block.exit) {
            failures.push(format!("{}: `{cmd}` exited {:?}, the README says {}\n{text}", block.origin, output.status.code(), block.exit));
            continue;
        }
        if let Some(sample) = sample {
            if !matches(sample, &text) {
                failures.push(format!(
                    "{}: `{cmd}` printed what the README does not show\n--- README\n{}\n--- printed\n{}",
                    block.origin,
                    redact(&sample.join("\n")),
                    redact(&text)
                ));
            }
        }
    }
    failures
}

/// File paths a README names that exist neither under `root` nor beside
/// the README (`here`).
pub fn missing_paths(text: &str, root: &Path) -> Vec<String> {
    missing_paths_from(text, root, root)
}

pub fn missing_paths_from(text: &str, root: &Path, here: &Path) -> Vec<String> {
    let path = regex::Regex::new(r"(?:^|[\s`(])((?:\.?[\w.-]+/)+[\w.*<>…-]+\.(?:rs|tla|cfg|json|jsonl|sh|md|yml|toml|txt|itf\.json))\b").unwrap();
    let mut missing = Vec::new();
    for cap in path.captures_iter(text) {
        let p = &cap[1];
        // Placeholders and patterns stand for files, they do not name one.
        if p.contains(['<', '*', '…']) || p.contains("path.") || p.contains("/x.") {
            continue;
        }
        if !root.join(p).exists() && !here.join(p).exists() {
            missing.push(p.to_string());
        }
    }
    missing.sort();
    missing.dedup();
    missing
}

fn readmes() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    for e in fs::read_dir(repo().join("specs")).unwrap() {
        let p = e.unwrap().path().join("README.md");
        if p.is_file() {
            files.push(p);
        }
    }
    files
}

#[test]
fn every_readme_command_runs_as_printed() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_tracewright"));
    let dir = scratch();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in readmes() {
        let name = file.strip_prefix(repo()).unwrap().display().to_string();
        let text = fs::read_to_string(&file).unwrap();
        for p in missing_paths_from(&text, &repo(), file.parent().unwrap()) {
            failures.push(format!("{name} names {p}, which does not exist"));
        }
        for block in blocks(&name, &text).unwrap_or_else(|e| panic!("{e}")) {
            if let Some(reason) = &block.skip {
                println!("skipped {} ({reason}): {:?}", block.origin, block.commands.iter().map(|c| &c.0).collect::<Vec<_>>());
                continue;
            }
            ran += block.commands.len();
            failures.extend(run_block(&block, dir.path(), &binary));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 5, "the README's commands ran ({ran})");
}

#[test]
fn a_broken_readme_command_or_sample_fails() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_tracewright"));
    let dir = scratch();
    let readme = "\
Intro.

```sh
$ tracewright show traces/does-not-exist.itf.json
```

<!-- readme-test: exit 2 -->
```sh
$ tracewright check specs/trace_context/TraceContext.cfg
```

```sh
$ tracewright check trace-context
TraceContext · config default (specs/trace_context/TraceContext.cfg)
  distinct states   616
…
```

<!-- readme-test: skip: needs the drivers -->
```sh
tracewright replay x --sut python
```

```sh
$ tracewright check trace-context
TraceContext · config default (specs/trace_context/TraceContext.cfg)
  distinct states   615
…
verdict: ok — every property came out as the config expects
```
";
    let parsed = blocks("BROKEN.md", readme).unwrap();
    assert_eq!(parsed.len(), 5);
    assert_eq!(parsed[1].exit, 2);
    assert_eq!(parsed[3].skip.as_deref(), Some("needs the drivers"));
    let failures: Vec<Vec<String>> = parsed.iter().filter(|b| b.skip.is_none()).map(|b| run_block(b, dir.path(), &binary)).collect();
    assert!(failures[0].len() == 1 && failures[0][0].contains("exited Some(2), the README says 0"), "{failures:?}");
    assert!(failures[1].len() == 1 && failures[1][0].contains("exited Some(0), the README says 2"), "{failures:?}");
    assert!(failures[2].len() == 1 && failures[2][0].contains("printed what the README does not show"), "{failures:?}");
    assert!(failures[3].is_empty(), "the right sample matches: {failures:?}");
    assert_eq!(missing_paths("see `traces/nope.itf.json` and src/input.rs", &repo()), vec!["traces/nope.itf.json"]);
    assert!(blocks("M.md", "<!-- readme-test: skip: -->\n```sh\nx\n```\n").is_err(), "a skip needs a reason");
}

#[test]
fn the_matcher_redacts_what_varies_and_nothing_else() {
    let sample: Vec<String> = ["a", "  wall time         0.00 s (250,000 distinct states/s)", "…", "z"].map(String::from).to_vec();
    assert!(matches(&sample, "a\n  wall time         1.37 s (1,234 distinct states/s)\nb\nc\nz\n"));
    assert!(!matches(&sample, "a\n  wall time         1.37 s (1,234 distinct states/s)\nb\nc\ny\n"));
    assert!(!matches(&sample, "b\n  wall time         1.37 s (1,234 distinct states/s)\nz\n"));
    assert!(matches(&["x.0a1b2c3d.itf.json".to_string()], "x.ffffffff.itf.json"));
    assert!(!matches(&["x.0a1b2c3d.itf.json".to_string()], "y.ffffffff.itf.json"));
}

#[test]
fn the_readme_lists_every_environment_variable() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let vars = tracewright::cli::env::all();
    assert!(vars.len() >= 20, "{vars:?}");
    let missing: Vec<&(String, String, String)> = vars.iter().filter(|(_, _, env)| !readme.contains(&format!("`{env}`"))).collect();
    assert!(missing.is_empty(), "README.md does not list {missing:?}");
}
