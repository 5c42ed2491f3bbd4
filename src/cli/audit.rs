//! `tracewright audit <spans.json>`: the span invariants over recorded OTLP
//! JSON spans.

use std::path::PathBuf;

use clap::Args;

use crate::audit;
use crate::error::{ExitCode, Result};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// OTLP JSON: a collector file exporter's output (one request per line)
    /// or one ExportTraceServiceRequest.
    pub spans: PathBuf,
    /// Pass a file without spans (an empty export) instead of refusing it.
    #[arg(long, env = "TRACEWRIGHT_AUDIT_ALLOW_EMPTY", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_empty: bool,
}

/// Exit codes: 0 every property holds, 1 some property is violated, 2 bad input.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let rows = crate::otlp::json::read(&args.spans, args.allow_empty)?;
    let traces: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.trace_id.as_str()).collect();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    println!("audit {}: {} in {}", args.spans.display(), plural(rows.len(), "span"), plural(traces.len(), "trace"));
    let mut exit = ExitCode::Ok;
    for (name, verdict) in audit::judge(&rows) {
        match verdict {
            Ok(()) => println!("  {name:<20} holds"),
            Err(v) => {
                exit = ExitCode::Unexpected;
                println!("  {name:<20} violated: {}", v.headline);
                for (label, value) in &v.evidence {
                    println!("  {:<20}   {label}: {value}", "");
                }
            }
        }
    }
    let lost = audit::losses(&rows);
    if lost != audit::Losses::default() {
        println!(
            "  lost upstream: {} parent span(s) referenced but never recorded; {} trace(s) without a root span",
            lost.missing_parents, lost.rootless_traces
        );
    }
    Ok(exit)
}
