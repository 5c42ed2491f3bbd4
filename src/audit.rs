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
use crate::input;
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

/// One `ExportTraceServiceRequest`. Its only field is `resourceSpans`
/// (proto3 JSON also allows the proto name `resource_spans`); any other
/// top-level key means the file is something else, and a tracewright ITF
/// trace is recognised by its keys to say so.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(default, rename = "resourceSpans", alias = "resource_spans")]
    resource_spans: Option<Vec<ResourceSpans>>,
    #[serde(default, rename = "#meta")]
    itf_meta: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "states")]
    itf_states: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "vars")]
    itf_vars: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "loop")]
    itf_loop: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default, alias = "scope_spans")]
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
    #[serde(default, alias = "string_value")]
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
    #[serde(alias = "trace_id")]
    trace_id: String,
    #[serde(alias = "span_id")]
    span_id: String,
    #[serde(default, alias = "parent_span_id")]
    parent_span_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    flags: Option<u32>,
}

fn hex_id(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) && value.bytes().any(|b| b != b'0')
}

const SHAPE_HINT: &str = "audit reads OTLP JSON: one ExportTraceServiceRequest {\"resourceSpans\": [...]}, or a collector file exporter's output, one request per line";

/// Reads OTLP JSON: one request (possibly pretty-printed), or a collector
/// file exporter's requests, one per line. Anything else is an error, and so
/// is a file with no span at all unless `allow_empty`.
pub fn read(path: &Path, allow_empty: bool) -> Result<Vec<SpanRow>> {
    let text = input::read_text(path, &input::OTLP, Error::Spec)?;
    parse(path, &text, allow_empty)
}

/// [`read`] on text already read (`path` is for messages only).
pub fn parse(path: &Path, text: &str, allow_empty: bool) -> Result<Vec<SpanRow>> {
    let limits = &input::OTLP;
    input::check_json(path, text, limits, Error::Spec)?;
    let bad = |line: usize, headline: String, hint: &str| Error::Spec(Diagnostic::new(Location::at(path, line), headline).hint(hint.to_string()));
    let mut requests: Vec<(usize, Request)> = Vec::new();
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty()).collect();
    // JSON lines when the first line is a whole JSON value; otherwise the
    // file is one (pretty-printed) request.
    let json_lines = lines.first().is_some_and(|(_, l)| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok());
    let documents: Vec<(usize, &str)> = if json_lines { lines } else if lines.is_empty() { Vec::new() } else { vec![(1, text)] };
    for (line, document) in documents {
        let request = serde_json::from_str::<Request>(document).map_err(|e| {
            let headline = if e.is_data() { "not an OTLP JSON trace request" } else { "spans file is not valid JSON" };
            let mut d = input::json_error(path, &e, headline, limits).hint(SHAPE_HINT);
            if json_lines {
                // The parser counted within this line.
                d.location = Location::at_column(path, line, e.column().max(1));
            }
            Error::Spec(d)
        })?;
        if request.itf_meta.is_some() || request.itf_states.is_some() || request.itf_vars.is_some() || request.itf_loop.is_some() {
            return Err(bad(
                line,
                "this is a tracewright ITF trace (a counterexample), not OTLP JSON spans".to_string(),
                "look at a trace with `tracewright show TRACE` or `tracewright replay TRACE --sut model`; audit judges spans a real system exported as OTLP JSON",
            ));
        }
        if request.resource_spans.is_none() {
            return Err(bad(line, "an OTLP JSON trace request has `resourceSpans`; this object has none".to_string(), SHAPE_HINT));
        }
        requests.push((line, request));
    }
    let mut rows = Vec::new();
    for (line, request) in requests.iter_mut() {
        let line = *line;
        for rs in request.resource_spans.take().unwrap_or_default() {
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
    if rows.is_empty() && !allow_empty {
        let headline = if requests.is_empty() {
            "spans file is empty: no OTLP JSON request in it".to_string()
        } else {
            format!("no spans: the file's {} OTLP request(s) hold no span", requests.len())
        };
        return Err(Error::Spec(
            Diagnostic::new(Location::file(path), headline)
                .hint("nothing to judge is not a pass; give `--allow-empty` if an export without spans is fine"),
        ));
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
