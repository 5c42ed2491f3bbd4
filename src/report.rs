//! `check`'s results for people (a table) and for CI (JSON, JUnit XML).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::engine::{PropertyReport, PropertyStatus, RunReport, TOOL};
use crate::error::ExitCode;
use crate::trace::Written;

/// How to invoke this tracewright in a printed command: `cargo run --release
/// --` when running from a cargo target directory, else `tracewright`.
pub fn command_prefix() -> String {
    let exe = std::env::current_exe().ok();
    let in_target = exe
        .as_deref()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .is_some_and(|n| n == "target");
    if in_target { "cargo run --release --".to_string() } else { "tracewright".to_string() }
}

fn commands(trace: &Path) -> (String, String) {
    let prefix = command_prefix();
    let path = trace.display();
    (format!("{prefix} show {path}"), format!("{prefix} replay {path} --sut model"))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn expected_word(p: &PropertyReport) -> &'static str {
    if p.expect_violation { "violated" } else { "holds" }
}

fn result_word(p: &PropertyReport) -> String {
    let steps = p.steps.map(|n| format!(" ({n} step{})", if n == 1 { "" } else { "s" })).unwrap_or_default();
    match (&p.result, p.expect_violation) {
        (PropertyStatus::Holds, false) => "holds".to_string(),
        (PropertyStatus::Holds, true) => "holds  UNEXPECTED: the config expects a violation".to_string(),
        (PropertyStatus::Violated, true) => format!("violated as expected{steps}"),
        (PropertyStatus::Violated, false) => format!("violated{steps}  UNEXPECTED"),
        (PropertyStatus::Unknown, _) => "unknown (exploration incomplete)".to_string(),
    }
}

fn states_per_second(r: &RunReport) -> u64 {
    let secs = r.elapsed.as_secs_f64();
    if secs > 0.0 { (r.distinct as f64 / secs) as u64 } else { 0 }
}

/// Bytes per distinct state (0 with no state).
fn per_state(bytes: u64, distinct: u64) -> f64 {
    if distinct > 0 { bytes as f64 / distinct as f64 } else { 0.0 }
}

fn verdict_word(code: ExitCode) -> &'static str {
    match code {
        ExitCode::Ok => "ok",
        ExitCode::Unexpected => "unexpected",
        ExitCode::Incomplete => "incomplete",
        ExitCode::BadInput => "bad-input",
    }
}

/// The table a person reads.
pub fn human(run: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} · config {} ({})", run.spec, run.config_label, run.config.display());
    let _ = writeln!(out, "  distinct states   {}", thousands(run.distinct));
    let _ = writeln!(out, "  generated states  {}", thousands(run.generated));
    let _ = writeln!(out, "  depth             {}", run.depth);
    let _ = writeln!(out, "  threads           {}", run.threads);
    let _ = writeln!(
        out,
        "  wall time         {:.2} s ({} distinct states/s)",
        run.elapsed.as_secs_f64(),
        thousands(states_per_second(run))
    );
    let _ = writeln!(
        out,
        "  memory            {} peak resident ({} bytes per state; fingerprint store {:.1} bytes per state)",
        crate::checker::memory::human(run.peak_memory),
        thousands(per_state(run.peak_memory, run.distinct) as u64),
        per_state(run.store_bytes, run.distinct)
    );
    if let Some(reason) = &run.stopped {
        let _ = writeln!(out, "  stopped early     {reason}");
    }
    let width = run.properties.iter().map(|p| p.name.len()).max().unwrap_or(8).max(8);
    let _ = writeln!(out);
    let _ = writeln!(out, "  {:<width$}  {:<10}  {:<8}  result", "property", "kind", "expected");
    for p in &run.properties {
        let _ = writeln!(out, "  {:<width$}  {:<10}  {:<8}  {}", p.name, p.kind, expected_word(p), result_word(p));
    }
    for p in &run.properties {
        let (Some(v), Some(trace)) = (&p.violation, &p.trace) else { continue };
        let _ = writeln!(out);
        let _ = writeln!(out, "  {}: {}", p.name, v.headline);
        let state = match trace {
            Written::New(_) => "written",
            Written::AlreadyPresent(_) => "already present",
        };
        let (show, replay) = commands(trace.path());
        let _ = writeln!(out, "    trace   {} ({state})", trace.path().display());
        let _ = writeln!(out, "    show    {show}");
        let _ = writeln!(out, "    replay  {replay}");
    }
    let _ = writeln!(out);
    let code = run.exit_code();
    let why = match code {
        ExitCode::Ok => "every property came out as the config expects".to_string(),
        ExitCode::Unexpected => {
            let names: Vec<&str> =
                run.properties.iter().filter(|p| p.as_expected() == Some(false)).map(|p| p.name.as_str()).collect();
            format!("came out otherwise than the config expects: {}", names.join(", "))
        }
        ExitCode::Incomplete => format!(
            "{}; properties not violated so far are unknown",
            run.stopped.as_ref().map(ToString::to_string).unwrap_or_default()
        ),
        ExitCode::BadInput => String::new(),
    };
    let _ = writeln!(out, "verdict: {} — {why}", verdict_word(code));
    out
}

/// One line per config for `check --all`.
pub fn human_summary(runs: &[RunReport]) -> String {
    let mut out = String::from("summary\n");
    let width = runs.iter().map(|r| r.spec.len() + r.config_label.len() + 1).max().unwrap_or(10);
    for r in runs {
        let name = format!("{}.{}", r.spec, r.config_label);
        let violated: Vec<&str> = r
            .properties
            .iter()
            .filter(|p| p.result == PropertyStatus::Violated)
            .map(|p| p.name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  {name:<width$}  {:<10}  {:>9} states  violated: {}",
            verdict_word(r.exit_code()),
            thousands(r.distinct),
            if violated.is_empty() { "none".to_string() } else { violated.join(", ") }
        );
    }
    out
}

fn property_json(p: &PropertyReport) -> serde_json::Value {
    let mut o = json!({
        "name": p.name,
        "kind": p.kind,
        "expected": expected_word(p),
        "result": match p.result {
            PropertyStatus::Holds => "holds",
            PropertyStatus::Violated => "violated",
            PropertyStatus::Unknown => "unknown",
        },
        "as_expected": p.as_expected(),
    });
    if let Some(v) = &p.violation {
        o["steps"] = json!(p.steps);
        o["violation"] = json!({
            "headline": v.headline,
            "evidence": v.evidence.iter().map(|(k, v)| json!({"label": k, "value": v})).collect::<Vec<_>>(),
        });
    }
    if let Some(t) = &p.trace {
        let (show, replay) = commands(t.path());
        o["trace"] = json!(t.path().display().to_string());
        o["trace_written"] = json!(matches!(t, Written::New(_)));
        o["show"] = json!(show);
        o["replay"] = json!(replay);
    }
    o
}

fn run_json(r: &RunReport) -> serde_json::Value {
    let code = r.exit_code();
    json!({
        "spec": r.spec,
        "config": r.config.display().to_string(),
        "config_label": r.config_label,
        "verdict": verdict_word(code),
        "exit_code": code.code(),
        "complete": r.stopped.is_none(),
        "stop_reason": r.stopped.as_ref().map(ToString::to_string),
        "stopped_by": r.stopped.as_ref().map(|s| s.bound()),
        "distinct_states": r.distinct,
        "generated_states": r.generated,
        "depth": r.depth,
        "threads": r.threads,
        "wall_time_seconds": r.elapsed.as_secs_f64(),
        "distinct_states_per_second": states_per_second(r),
        "store_bytes": r.store_bytes,
        "store_bytes_per_state": per_state(r.store_bytes, r.distinct),
        "peak_memory_bytes": r.peak_memory,
        "memory_bytes_per_state": per_state(r.peak_memory, r.distinct),
        "fingerprint_collision_probability": r.collision_probability,
        "properties": r.properties.iter().map(property_json).collect::<Vec<_>>(),
    })
}

/// One JSON document for all runs.
pub fn json(runs: &[RunReport], exit: ExitCode) -> String {
    let doc = json!({
        "tool": TOOL,
        "exit_code": exit.code(),
        "runs": runs.iter().map(run_json).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    s.push('\n');
    s
}

/// JUnit XML: a test suite per config, a test case per property. A property
/// that came out otherwise than expected is a failure; an unknown one is
/// skipped.
pub fn junit(runs: &[RunReport]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("tracewright");
    for r in runs {
        let mut suite = TestSuite::new(format!("{}.{}", r.spec, r.config_label));
        suite.set_time(r.elapsed);
        for p in &r.properties {
            let status = match p.as_expected() {
                Some(true) => TestCaseStatus::success(),
                None => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "unknown: {}",
                        r.stopped.as_ref().map(ToString::to_string).unwrap_or_default()
                    ));
                    s
                }
                Some(false) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    match &p.violation {
                        Some(v) => {
                            s.set_message(format!("{} violated: {}", p.name, v.headline));
                            let mut d: Vec<String> = v.evidence.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                            if let Some(t) = &p.trace {
                                let (show, _) = commands(t.path());
                                d.push(format!("trace: {}", t.path().display()));
                                d.push(format!("show: {show}"));
                            }
                            s.set_description(d.join("\n"));
                        }
                        None => {
                            s.set_message(format!("{} holds, but the config expects it to be violated", p.name));
                        }
                    }
                    s.set_type(if p.expect_violation { "expected-violation-missing" } else { "unexpected-violation" });
                    s
                }
            };
            let mut case = TestCase::new(p.name.clone(), status);
            case.set_classname(format!("{}.{}", r.spec, r.config_label));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serializes")
}
