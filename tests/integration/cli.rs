//! The command line as a user sees it: output snapshots with timings
//! redacted, exit codes, and bad input — every case exits 2 with a message
//! naming the file and line, and writes nothing.

use std::path::Path;

use crate::{committed_trace, repo, stderr, stdout, tracewright, tracewright_in};

/// Timings, rates and temporary paths vary from run to run.
fn redact(text: &str, tmp: Option<&Path>) -> String {
    let mut text = text.to_string();
    if let Some(tmp) = tmp {
        text = text.replace(&tmp.display().to_string(), "[tmp]");
    }
    let rules = [
        (r"wall time +[0-9.]+ s \([0-9,]+ distinct states/s\)", "wall time         [time]"),
        (r"memory +[0-9.]+ [KMGT]?i?B peak resident \([0-9,]+ bytes per state; fingerprint store [0-9.]+ bytes per state\)", "memory            [memory]"),
        (r#""(wall_time_seconds|distinct_states_per_second|store_bytes|store_bytes_per_state|peak_memory_bytes|memory_bytes_per_state|fingerprint_collision_probability)": [0-9.e-]+"#, r#""$1": "[redacted]""#),
        (r#"time="[0-9.]+""#, r#"time="[time]""#),
        (r#"timestamp="[^"]+""#, r#"timestamp="[time]""#),
    ];
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern).unwrap().replace_all(&text, replacement).into_owned();
    }
    text
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exited")
}

#[test]
fn check_default_prints_the_property_table_and_exits_0() {
    let out = tempfile::tempdir().unwrap();
    let o = tracewright(&["check", "trace-context", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(redact(&stdout(&o), Some(out.path())));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "no violation, no trace");
}

#[test]
fn check_a_bug_config_writes_its_trace_and_prints_the_commands() {
    let out = tempfile::tempdir().unwrap();
    let args = ["check", "specs/trace_context/TraceContext_bug_NonParentBasedSampling.cfg", "--out", out.path().to_str().unwrap()];
    let o = tracewright(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(redact(&stdout(&o), Some(out.path())));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
    // Running again finds the same files and leaves them alone.
    let again = tracewright(&args);
    assert!(stdout(&again).contains("(already present)"));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
}

#[test]
fn check_json_and_junit_are_machine_readable() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let o = tracewright(&["check", "specs/trace_context/TraceContext_fault_ExporterDrop.cfg", "--format", "json", "--out", dir]);
    assert_eq!(code(&o), 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is one JSON document");
    assert_eq!(doc["runs"][0]["distinct_states"], 2058);
    insta::assert_snapshot!("check_json", redact(&stdout(&o), Some(out.path())));
    let o = tracewright(&["check", "specs/trace_context/TraceContext_fault_ExporterDrop.cfg", "--format", "junit", "--out", dir]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!("check_junit", redact(&stdout(&o), Some(out.path())));
}

/// A config whose expectation is wrong: the run exits 1 and JUnit reports
/// the failures.
#[test]
fn an_unexpected_outcome_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("specs/trace_context/TraceContext.tla"), dir.path().join("TraceContext.tla")).unwrap();
    let cfg = std::fs::read_to_string(repo().join("specs/trace_context/TraceContext_fault_ExporterDrop.cfg")).unwrap();
    // Claims UniqueSpanId is violated (it holds) and omits NoOrphanSpans (violated).
    let cfg = cfg.replace("expect-violation: NoLostSpans, NoOrphanSpans", "expect-violation: NoLostSpans, UniqueSpanId");
    std::fs::write(dir.path().join("TraceContext_wrong.cfg"), cfg).unwrap();
    let o = tracewright_in(dir.path(), &["check", "TraceContext_wrong.cfg", "--out", "t"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    insta::assert_snapshot!("unexpected_human", redact(&stdout(&o), None));
    let o = tracewright_in(dir.path(), &["check", "TraceContext_wrong.cfg", "--out", "t", "--format", "junit"]);
    assert_eq!(code(&o), 1);
    let xml = stdout(&o);
    assert!(xml.contains(r#"failures="2""#), "{xml}");
    assert!(xml.contains("unexpected-violation") && xml.contains("expected-violation-missing"), "{xml}");
}

#[test]
fn check_all_runs_every_config_and_exits_0() {
    let out = tempfile::tempdir().unwrap();
    let o = tracewright(&["check", "--all", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let summary = &text[text.find("summary\n").expect("a summary")..];
    insta::assert_snapshot!(summary);
    let written = std::fs::read_dir(out.path()).unwrap().count();
    // traces/conform/ holds what `conform` wrote: SDK divergences, not model
    // counterexamples.
    let committed = std::fs::read_dir(repo().join("traces")).unwrap().filter(|e| e.as_ref().unwrap().path().is_file()).count();
    assert_eq!(written, committed);
}

#[test]
fn a_bound_makes_the_run_incomplete_with_exit_3_and_a_partial_summary() {
    let out = tempfile::tempdir().unwrap();
    let o = tracewright(&["check", "trace-context", "--max-depth", "5", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code(&o), 3);
    insta::assert_snapshot!(redact(&stdout(&o), Some(out.path())));
}

#[test]
fn a_memory_budget_the_run_exceeds_stops_it_with_exit_3_and_the_partial_counts() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // 1 MiB is less than the process holds: the search stops at its first
    // check, with the initial states stored and the rest unexplored.
    let o = tracewright(&["check", "trace-context", "--max-memory", "1M", "--format", "json", "--out", dir]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    let run = &doc["runs"][0];
    assert_eq!(run["stopped_by"], "max_memory");
    assert_eq!(run["complete"], false);
    let distinct = run["distinct_states"].as_u64().expect("a count");
    assert!((1..615).contains(&distinct), "partial: {distinct} of the 615 states");
    assert!(run["generated_states"].as_u64().expect("a count") >= distinct);
    assert!(run["peak_memory_bytes"].as_u64().expect("bytes") > 1 << 20);
    assert!(run["stop_reason"].as_str().expect("a reason").starts_with("memory budget of 1.0 MiB reached"));
    let properties = run["properties"].as_array().expect("properties");
    assert!(!properties.is_empty() && properties.iter().all(|p| p["result"] == "unknown"), "{properties:?}");
    // The same budget from the environment, in the human summary.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["check", "trace-context", "--out", dir])
        .current_dir(repo())
        .env("TRACEWRIGHT_PROGRESS", "never")
        .env("TRACEWRIGHT_CHECK_MAX_MEMORY", "1M")
        .output()
        .expect("runs");
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("  stopped early     memory budget of 1.0 MiB reached ("), "{text}");
    assert!(text.contains("verdict: incomplete — memory budget"), "{text}");
    // A budget the run stays under changes nothing.
    let o = tracewright(&["check", "trace-context", "--max-memory", "64G", "--out", dir]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("distinct states   615"));
    // A size that does not parse is bad input.
    let o = tracewright(&["check", "trace-context", "--max-memory", "lots", "--out", dir]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--max-memory"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "no trace written");
}

#[test]
fn show_and_replay_a_committed_trace() {
    let trace = committed_trace("TraceContext.fault_LostRequest.EventuallyQuiescent");
    let trace = trace.as_str();
    let o = tracewright(&["show", trace]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("violated: EventuallyQuiescent"));
    let o = tracewright(&["show", trace, "--format", "mermaid"]);
    assert!(stdout(&o).starts_with("sequenceDiagram\n"));
    let o = tracewright(&["replay", trace, "--sut", "model"]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!(stdout(&o).replace(trace, "[trace]"));
}

/// Runs a command that must fail on bad input: exit 2, a message on stderr,
/// nothing on stdout, and no trace directory created.
fn bad_input(dir: &Path, args: &[&str]) -> String {
    let mut full: Vec<&str> = args.to_vec();
    if args[0] == "check" {
        full.extend(["--out", "never-written"]);
    }
    let o = tracewright_in(dir, &full);
    assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{args:?} printed {}", stdout(&o));
    assert!(!dir.join("never-written").exists(), "{args:?} wrote traces");
    stderr(&o)
}

/// A scratch spec directory holding TraceContext.tla and one config.
fn scratch(cfg: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("specs/trace_context/TraceContext.tla"), dir.path().join("TraceContext.tla")).unwrap();
    std::fs::write(dir.path().join("TraceContext_x.cfg"), cfg).unwrap();
    dir
}

fn default_cfg() -> String {
    std::fs::read_to_string(repo().join("specs/trace_context/TraceContext.cfg")).unwrap()
}

#[test]
fn bad_specs_and_configs_exit_2_naming_file_and_line() {
    let cases: Vec<(&str, String)> = vec![
        ("tuple_in_cfg", default_cfg().replace("Hops <- DefaultHops", "Hops = << <<\"a\", \"b\", \"http\">> >>")),
        ("unknown_constant", default_cfg().replace("    Bugs = {}", "    Bugs = {}\n    Bogus = 3")),
        ("missing_constant", default_cfg().replace("    Bugs = {}\n", "")),
        ("unknown_invariant", default_cfg().replace("    NoOrphanSpans\n", "    NoOrphanSpans\n    NoSuchThing\n")),
        ("unknown_definition", default_cfg().replace("DefaultHops", "NoSuchHops")),
        ("wrong_type", default_cfg().replace("Traces = 1", "Traces = \"one\"")),
        ("unknown_fault", default_cfg().replace("Faults = {}", "Faults = {\"Meteor\"}")),
        ("unterminated_string", default_cfg().replace("Root = \"browser\"", "Root = \"browser")),
        ("unsupported_section", default_cfg() + "SYMMETRY Perms\n"),
        ("property_in_wrong_section", default_cfg().replace("PROPERTY EventuallyQuiescent", "").replace("    UniqueTraceId\n", "    UniqueTraceId\n    EventuallyQuiescent\n")),
        ("expectation_of_unchecked", default_cfg().replace("expect-violation: none", "expect-violation: NoSuchThing")),
        ("unknown_behaviour", default_cfg().replace("SPECIFICATION Spec", "SPECIFICATION Init")),
        ("empty_cfg", String::new()),
    ];
    for (name, cfg) in cases {
        let dir = scratch(&cfg);
        let message = bad_input(dir.path(), &["check", "TraceContext_x.cfg"]);
        insta::assert_snapshot!(format!("bad_cfg_{name}"), message);
    }
}

#[test]
fn files_that_are_not_text_are_refused() {
    let dir = scratch(&default_cfg());
    std::fs::write(dir.path().join("TraceContext_x.cfg"), b"CONSTANTS\n  Root = \"\xff\xfe\"\n").unwrap();
    insta::assert_snapshot!("binary_cfg", bad_input(dir.path(), &["check", "TraceContext_x.cfg"]));
    std::fs::write(dir.path().join("t.itf.json"), b"{\"#meta\": \"\xc3\x28\"}").unwrap();
    insta::assert_snapshot!("binary_trace", bad_input(dir.path(), &["show", "t.itf.json"]));
}

#[test]
fn a_property_in_the_tla_but_not_in_rust_is_refused() {
    let dir = scratch(&default_cfg().replace("    NoOrphanSpans\n", "    NoOrphanSpans\n    Extra\n"));
    let tla = dir.path().join("TraceContext.tla");
    let text = std::fs::read_to_string(&tla).unwrap().replace("=============================================================================", "Extra == TRUE\n=============================================================================");
    std::fs::write(&tla, text).unwrap();
    insta::assert_snapshot!(bad_input(dir.path(), &["check", "TraceContext_x.cfg"]));
}

#[test]
fn a_tla_syntax_error_is_refused() {
    let dir = scratch(&default_cfg());
    let tla = dir.path().join("TraceContext.tla");
    let text = std::fs::read_to_string(&tla).unwrap().replace("Kind(m) == Hops[msgs[m].hop][3]", "Kind(m) == Hops[msgs[m].hop][3");
    std::fs::write(&tla, text).unwrap();
    insta::assert_snapshot!(bad_input(dir.path(), &["check", "TraceContext_x.cfg"]));
}

#[test]
fn a_cyclic_call_graph_is_refused() {
    let dir = scratch(&default_cfg().replace("Hops <- DefaultHops", "Hops <- Loop"));
    let tla = dir.path().join("TraceContext.tla");
    let text = std::fs::read_to_string(&tla).unwrap().replace(
        "=============================================================================",
        "Loop == << <<\"browser\", \"a\", \"http\">>, <<\"a\", \"b\", \"http\">>, <<\"b\", \"a\", \"queue\">> >>\n=============================================================================",
    );
    std::fs::write(&tla, text).unwrap();
    insta::assert_snapshot!(bad_input(dir.path(), &["check", "TraceContext_x.cfg"]));
}

#[test]
fn missing_unknown_and_unreadable_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::create_dir(dir.path().join("Dir.cfg")).unwrap();
    std::fs::write(dir.path().join("Dir.tla"), "---- MODULE Dir ----\n====\n").unwrap();
    let specs = repo().join("specs");
    let specs = specs.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("unknown_spec", vec!["check", "no-such-spec", "--specs", specs]),
        ("missing_cfg", vec!["check", "Missing.cfg"]),
        ("missing_tla", vec!["check", "Missing.tla"]),
        ("unreadable_cfg", vec!["check", "Dir.cfg"]),
        ("empty_specs_dir", vec!["check", "--all", "--specs", "specs"]),
        ("missing_trace", vec!["show", "missing.itf.json"]),
    ];
    for (name, args) in cases {
        let message = bad_input(dir.path(), &args);
        insta::assert_snapshot!(format!("bad_input_{name}"), redact(&message, Some(&repo())));
    }
}

#[test]
fn bad_traces_exit_2_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo().join(committed_trace("TraceContext.bug_NoInjection.TraceIdPreserved"))).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("truncated", good[..good.len() / 2].to_string()),
        ("not_json", "this is not a trace\n".to_string()),
        ("not_an_object", "[1, 2, 3]\n".to_string()),
        ("no_meta", "{\"states\": []}\n".to_string()),
        ("newer_format", good.replace("\"tracewright-format\": \"1\"", "\"tracewright-format\": \"7\"")),
        ("unknown_module", good.replace("\"spec\": \"TraceContext\"", "\"spec\": \"Nope\"")),
        ("bad_state", good.replacen("\"st\": \"open\"", "\"st\": \"sleeping\"", 1)),
        ("missing_variable", good.replacen("\"msgs\": [],", "", 1)),
        ("binary", "\u{0}\u{1}\u{fffd}garbage".to_string()),
    ];
    for (name, text) in cases {
        std::fs::write(dir.path().join("t.itf.json"), &text).unwrap();
        for command in [["show", "t.itf.json"], ["replay", "t.itf.json"]] {
            let mut args = command.to_vec();
            if command[0] == "replay" {
                args.extend(["--sut", "model"]);
            }
            let message = bad_input(dir.path(), &args);
            if command[0] == "show" {
                insta::assert_snapshot!(format!("bad_trace_{name}"), message);
            }
        }
    }
}

#[test]
fn a_trace_the_model_no_longer_produces_diverges_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo().join(committed_trace("TraceContext.bug_NoInjection.TraceIdPreserved"))).unwrap();
    // The recorded delivery claims the callee joined trace 9.
    let edited = good.replacen("\"action\": \"Deliver(m=1)\"", "\"action\": \"Deliver(m=7)\"", 1);
    assert_ne!(edited, good);
    std::fs::write(dir.path().join("t.itf.json"), edited).unwrap();
    let o = tracewright_in(dir.path(), &["replay", "t.itf.json", "--sut", "model"]);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn usage_errors_exit_2() {
    let o = tracewright(&["check"]);
    assert_eq!(code(&o), 2);
    let o = tracewright(&["check", "trace-context", "--threads", "0", "--out", "never-written"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--threads must be at least 1"));
    assert!(!repo().join("never-written").exists());
}

#[test]
fn max_states_stops_at_exactly_n_for_any_thread_count() {
    for n in [1u64, 10, 100, 600] {
        for threads in ["1", "2"] {
            let o = tracewright(&["check", "trace-context", "--format", "json", "--max-states", &n.to_string(), "--threads", threads, "--out", "/nonexistent/never-written"]);
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
            let run = &doc["runs"][0];
            assert_eq!(run["distinct_states"], n, "--max-states {n} --threads {threads}");
            assert_eq!(run["stopped_by"], "max_states");
        }
    }
    // A bound the space does not reach stops nothing.
    let o = tracewright(&["check", "trace-context", "--format", "json", "--max-states", "100000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["runs"][0]["stopped_by"], serde_json::Value::Null);
    assert_eq!(doc["runs"][0]["distinct_states"], 615);
}

#[test]
fn an_environment_value_that_does_not_parse_names_the_variable() {
    let run = |var: &str, value: &str, args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_tracewright")).args(args).current_dir(repo()).env(var, value).output().unwrap();
        (o.status.code(), stderr(&o))
    };
    let (code, err) = run("TRACEWRIGHT_CHECK_MAX_STATES", "ten", &["check", "trace-context"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error: environment variable TRACEWRIGHT_CHECK_MAX_STATES=\"ten\" is not a valid --max-states"), "{err}");
    let (code, err) = run("TRACEWRIGHT_CONFORM_CASES", "many", &["conform", "--sut", "rust"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("TRACEWRIGHT_CONFORM_CASES=\"many\" is not a valid --cases"), "{err}");
    let (code, err) = run("TRACEWRIGHT_CHECK_FORMAT", "xml", &["check", "trace-context"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("TRACEWRIGHT_CHECK_FORMAT=\"xml\" is not a valid --format: invalid value 'xml' [possible values: human, json, junit]"), "{err}");
    let (code, err) = run("TRACEWRIGHT_SUTS", "rust", &["conform"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("TRACEWRIGHT_SUTS is no longer read") && err.contains("TRACEWRIGHT_CONFORM_SUT"), "{err}");
    // A variable of another command is not this command's business.
    let (code, _) = run("TRACEWRIGHT_CONFORM_CASES", "many", &["show", "--help"]);
    assert_eq!(code, Some(0));
}

#[test]
fn conform_junit_in_walk_mode_is_junit() {
    let out = tempfile::tempdir().unwrap();
    let o = tracewright(&["conform", "--sut", "rust", "--cases", "3", "--format", "junit", "--out", &out.path().display().to_string()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("<?xml") && text.contains("<testsuites") && text.contains("classname=\"conform.walks.rust\""), "{text}");
    assert_eq!(text.matches("<testcase").count(), 3, "{text}");
}
