//! Synthetic OTLP load: batches of well-formed spans with distinct ids, and
//! senders over OTLP/HTTP (protobuf) and OTLP/gRPC, for load runs and the
//! pipeline benchmark.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;

use super::ExportTraceServiceRequest;
use crate::error::{Error, Result};

/// `spans` spans in batches of at most `batch`, each trace a root and its
/// children (ten spans a trace), every id distinct; `run` varies the ids.
pub fn batches(spans: usize, batch: usize, run: u32) -> Vec<ExportTraceServiceRequest> {
    let batch = batch.max(1);
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < spans {
        let n = batch.min(spans - i);
        let list = (i..i + n)
            .map(|k| {
                let trace = (k / 10) as u64;
                let mut trace_id = [0u8; 16];
                trace_id[..4].copy_from_slice(&run.to_be_bytes());
                trace_id[8..].copy_from_slice(&(trace + 1).to_be_bytes());
                let root = (trace * 10 + 1) as u64;
                let span = k as u64 + 1;
                Span {
                    trace_id: trace_id.to_vec(),
                    span_id: span.to_be_bytes().to_vec(),
                    parent_span_id: if span == root { Vec::new() } else { root.to_be_bytes().to_vec() },
                    name: "load".into(),
                    kind: 2,
                    flags: 0x101,
                    start_time_unix_nano: 1_700_000_000_000_000_000 + k as u64,
                    end_time_unix_nano: 1_700_000_000_000_001_000 + k as u64,
                    ..Span::default()
                }
            })
            .collect();
        out.push(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue { value: Some(any_value::Value::StringValue("load".into())) }),
                        ..KeyValue::default()
                    }],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans { spans: list, ..ScopeSpans::default() }],
                ..ResourceSpans::default()
            }],
        });
        i += n;
    }
    out
}

fn failed(what: String) -> Error {
    Error::Sut { sut: "OTLP load".into(), headline: what, hint: None }
}

/// Sends every batch over OTLP/HTTP (protobuf) to `endpoint`, one at a time;
/// each request must succeed.
pub fn send_http(endpoint: &str, batches: &[ExportTraceServiceRequest], timeout: Duration) -> Result<()> {
    let client = reqwest::blocking::Client::builder().timeout(timeout).build().map_err(|e| failed(format!("no HTTP client: {e}")))?;
    for b in batches {
        let r = client
            .post(endpoint)
            .header("content-type", "application/x-protobuf")
            .body(b.encode_to_vec())
            .send()
            .map_err(|e| failed(format!("POST {endpoint}: {e}")))?;
        if !r.status().is_success() {
            return Err(failed(format!("POST {endpoint}: {}", r.status())));
        }
    }
    Ok(())
}

/// Sends every batch over OTLP/gRPC to `endpoint` (`http://127.0.0.1:PORT`).
pub fn send_grpc(endpoint: &str, batches: &[ExportTraceServiceRequest], timeout: Duration) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed(format!("no runtime: {e}")))?;
    rt.block_on(async {
        let mut client = TraceServiceClient::connect(endpoint.to_string()).await.map_err(|e| failed(format!("connect {endpoint}: {e}")))?;
        for b in batches {
            let mut req = tonic::Request::new(b.clone());
            req.set_timeout(timeout);
            client.export(req).await.map_err(|e| failed(format!("gRPC export to {endpoint}: {e}")))?;
        }
        Ok(())
    })
}
