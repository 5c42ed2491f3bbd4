//! OTLP, the OpenTelemetry protocol, as tracewright receives it.
//!
//! [`sink::Sink`] is an OTLP trace receiver (OTLP/HTTP with protobuf or JSON
//! bodies, gzip or not, and OTLP/gRPC) that records what it is sent and can
//! be told to fail, so that the collectors under test meet a backend that
//! refuses, fails after storing, or hangs. The messages are the generated
//! types of the `opentelemetry-proto` crate; the JSON it writes is the OTLP
//! JSON encoding `tracewright audit` reads (one `ExportTraceServiceRequest`
//! per line, as a collector's file exporter writes).

pub mod json;
pub mod load;
pub mod sink;

use std::collections::BTreeMap;

pub use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

/// One span of OTLP, flattened, ids in lower-case hex: a span the sink
/// received, one a collector's file exporter wrote, one a worker exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRow {
    /// The resource's `service.name`, or `unknown_service`.
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// OTLP span flags (the low byte is the W3C trace flags), where the
    /// exporter wrote them.
    pub flags: Option<u32>,
    /// The span's attributes with scalar values, as text.
    pub attributes: BTreeMap<String, String>,
    /// Where it came from: the line of a file (from 1), or the position of
    /// a request the sink received (from 0).
    pub origin: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A scalar attribute value as text; arrays, maps and bytes have none.
fn scalar(value: &opentelemetry_proto::tonic::common::v1::any_value::Value) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match value {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        Value::BoolValue(b) => Some(b.to_string()),
        Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

/// The spans of `request`, in order, marked as request number `index`.
pub fn rows(request: &ExportTraceServiceRequest, index: usize) -> Vec<SpanRow> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "unknown_service".to_string());
        for span in rs.scope_spans.iter().flat_map(|s| s.spans.iter()) {
            out.push(SpanRow {
                service: service.clone(),
                name: span.name.clone(),
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                flags: Some(span.flags),
                attributes: span
                    .attributes
                    .iter()
                    .filter_map(|kv| Some((kv.key.clone(), scalar(kv.value.as_ref()?.value.as_ref()?)?)))
                    .collect(),
                origin: index,
            });
        }
    }
    out
}

/// The number of spans in a request.
pub fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request.resource_spans.iter().flat_map(|rs| rs.scope_spans.iter()).map(|s| s.spans.len()).sum()
}
