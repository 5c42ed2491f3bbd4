//! The span invariants over spans a real system recorded, in the OTLP JSON
//! encoding: what a collector's file exporter writes (one
//! `ExportTraceServiceRequest` per line) or one such request per file.
//!
//! The judging is [`crate::oracle`]'s, the same functions the trace-context
//! model's invariants call, so `NoOrphanSpans` in an audit and in a
//! counterexample mean the same thing.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::Verdict;
use crate::oracle::{self, Record};

/// A span as the OTLP JSON encoding has it (ids as hex strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRow {
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// The W3C trace flags, when the exporter wrote them.
    pub flags: Option<u32>,
    /// The line of the file it came from.
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default)]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
struct Attribute {
    key: String,
    #[serde(default)]
    value: Option<AnyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnyValue {
    #[serde(default)]
    string_value: Option<String>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_span_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    flags: Option<u32>,
}

fn hex_id(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) && value.bytes().any(|b| b != b'0')
}

/// Reads OTLP JSON: one request per line, or one request (possibly
/// pretty-printed) for the whole file.
pub fn read(path: &Path) -> Result<Vec<SpanRow>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read spans", e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Spec(Diagnostic::new(Location::file(path), "spans file is not valid UTF-8").hint("give OTLP JSON, as a collector's file exporter writes"))
    })?;
    let bad = |line: usize, headline: String, hint: &str| Error::Spec(Diagnostic::new(Location::at(path, line), headline).hint(hint.to_string()));
    // One request for the whole file, else one per non-empty line.
    let requests: Vec<(usize, Request)> = match serde_json::from_str::<Request>(&text) {
        Ok(r) => vec![(1, r)],
        Err(whole) => {
            let mut out = Vec::new();
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let r = serde_json::from_str::<Request>(line).map_err(|e| {
                    let at = if text.lines().filter(|l| !l.trim().is_empty()).count() == 1 { whole.line() } else { i + 1 };
                    bad(at, format!("not an OTLP JSON trace request: {e}"), "each line must be an ExportTraceServiceRequest: {\"resourceSpans\": [...]}")
                })?;
                out.push((i + 1, r));
            }
            out
        }
    };
    let mut rows = Vec::new();
    for (line, request) in requests {
        for rs in request.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref()?.string_value.clone())
                .unwrap_or_else(|| "unknown_service".to_string());
            for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
                if !hex_id(&span.trace_id, 32) || !hex_id(&span.span_id, 16) {
                    return Err(bad(
                        line,
                        format!("span {:?} has trace id {:?} and span id {:?}", span.name, span.trace_id, span.span_id),
                        "OTLP JSON writes ids as hex: 32 digits for a trace id, 16 for a span id, not all zero",
                    ));
                }
                if !span.parent_span_id.is_empty() && !hex_id(&span.parent_span_id, 16) {
                    return Err(bad(line, format!("span {:?} has parent span id {:?}", span.name, span.parent_span_id), "a parent span id is 16 hex digits, or empty for a root"));
                }
                rows.push(SpanRow {
                    service: service.clone(),
                    name: span.name,
                    trace_id: span.trace_id.to_ascii_lowercase(),
                    span_id: span.span_id.to_ascii_lowercase(),
                    parent_span_id: span.parent_span_id.to_ascii_lowercase(),
                    flags: span.flags,
                    line,
                });
            }
        }
    }
    Ok(rows)
}

/// Judges every property of [`oracle::judge_all`] over the rows, in its order.
pub fn judge(rows: &[SpanRow]) -> Vec<(&'static str, Verdict)> {
    // Identical rows are copies of one span and share a key.
    let mut first_of: std::collections::HashMap<(&str, &str, &str, &str, &str), usize> = std::collections::HashMap::new();
    let records: Vec<Record<&str>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let content = (r.trace_id.as_str(), r.span_id.as_str(), r.parent_span_id.as_str(), r.name.as_str(), r.service.as_str());
            Record {
                trace_id: r.trace_id.as_str(),
                span_id: r.span_id.as_str(),
                parent: (!r.parent_span_id.is_empty()).then_some(r.parent_span_id.as_str()),
                // OTLP flags: the low byte is the W3C trace flags; the field is
                // absent (or 0 with no bits set) where the exporter predates it.
                sampled: r.flags.filter(|f| *f != 0).map(|f| f & 0x01 == 1),
                key: *first_of.entry(content).or_insert(i),
            }
        })
        .collect();
    // Records are in row order, so a record's position is its row's.
    let name = |i: usize| {
        let r = &rows[i];
        (format!("line {}", r.line), format!("{} {:?} trace={} id={} parent={}", r.service, r.name, r.trace_id, r.span_id, if r.parent_span_id.is_empty() { "none" } else { &r.parent_span_id }))
    };
    oracle::judge_all(&records, &name).into()
}
