//! OTLP JSON files: what a collector's file exporter writes (one
//! `ExportTraceServiceRequest` per line), one such request per file, or the
//! lines a worker's exporter is still appending. The one reader of recorded
//! spans: `audit` judges what it reads, and the workflow replay reads the
//! spans Temporal's interceptor exported with it. Bounded and strict: see
//! [`crate::input`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;
use super::SpanRow;

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
    /// proto3 JSON writes an int64 as a string, but numbers are seen too.
    #[serde(default, alias = "int_value")]
    int_value: Option<serde_json::Value>,
    #[serde(default, alias = "bool_value")]
    bool_value: Option<bool>,
    #[serde(default, alias = "double_value")]
    double_value: Option<f64>,
}

impl AnyValue {
    /// A scalar value as text; arrays, maps and bytes have none.
    fn text(&self) -> Option<String> {
        if let Some(s) = &self.string_value {
            return Some(s.clone());
        }
        match &self.int_value {
            Some(serde_json::Value::String(s)) => return Some(s.clone()),
            Some(serde_json::Value::Number(n)) => return Some(n.to_string()),
            _ => {}
        }
        self.bool_value.map(|b| b.to_string()).or_else(|| self.double_value.map(|d| d.to_string()))
    }
}

fn attributes(list: &[Attribute]) -> BTreeMap<String, String> {
    list.iter().filter_map(|a| Some((a.key.clone(), a.value.as_ref()?.text()?))).collect()
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
    #[serde(default)]
    attributes: Vec<Attribute>,
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
                .and_then(|a| a.value.as_ref()?.text())
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
                    attributes: attributes(&span.attributes),
                    origin: line,
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


/// The complete lines of a file an exporter is still appending to: a last
/// line without its newline is being written and is left for a later read;
/// a file not created yet holds no span. What is complete is read as strictly
/// as [`read`] reads, and may hold no span.
pub fn read_growing(path: &Path) -> Result<Vec<SpanRow>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, "read spans", e)),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(&bytes[..0], |i| &bytes[..=i]);
    let text = std::str::from_utf8(complete).map_err(|e| {
        Error::Spec(Diagnostic::new(Location::file(path), format!("spans file is not valid UTF-8: {e}")))
    })?;
    parse(path, text, true)
}
