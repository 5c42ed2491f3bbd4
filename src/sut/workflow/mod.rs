//! Durable-workflow engines under test: a real Temporal server (the official
//! CLI's dev server, [`server`]) running the saga of `drivers/temporal/`
//! through the Python SDK's worker driver ([`driver`]).
//!
//! This layer starts, drives and observes; it knows no model. What it
//! observes is the system's own vocabulary: history events as the server
//! records them ([`HistoryEvent`]), spans as the OTLP JSON lines the
//! interceptor's exporters wrote ([`ExportedSpan`]), attempts and effects as
//! the activity worker saw them.

pub mod driver;
pub mod server;

use std::path::Path;

use serde_json::Value as Json;

pub use driver::{Attempt, Effect, Hello, Observation, Pending, Replayed, SagaConfig, SagaDriver, SagaRun};
pub use server::TemporalServer;

use crate::error::Result;
use crate::otlp::SpanRow;

/// One history event, with the fields a saga's events carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEvent {
    pub id: u64,
    /// `ActivityTaskScheduled`, from the server's `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`.
    pub kind: String,
    pub activity_type: Option<String>,
    pub activity_id: Option<String>,
    pub scheduled_event_id: Option<u64>,
    /// The attempt, on ActivityTaskStarted and on WorkflowTaskScheduled.
    pub attempt: Option<u64>,
    /// A failure message, a failure cause or a timeout type, when there is one.
    pub detail: Option<String>,
}

impl HistoryEvent {
    /// The event as evidence: `#8 ActivityTaskScheduled Step1 (activity 1)`.
    pub fn describe(&self) -> String {
        let mut out = format!("#{} {}", self.id, self.kind);
        if let Some(t) = &self.activity_type {
            out.push_str(&format!(" {t}"));
        }
        if let Some(a) = &self.activity_id {
            out.push_str(&format!(" (activity {a})"));
        }
        if let Some(n) = self.attempt {
            out.push_str(&format!(" attempt={n}"));
        }
        if let Some(d) = &self.detail {
            let d: String = d.chars().take(160).collect();
            out.push_str(&format!(" [{d}]"));
        }
        out
    }
}

fn camel(event_type: &str) -> String {
    event_type
        .trim_start_matches("EVENT_TYPE_")
        .split('_')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn num(v: Option<&Json>) -> Option<u64> {
    match v? {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Reads the SDK's JSON history events (proto3 JSON: ids as strings).
pub fn history_events(raw: &[Json]) -> std::result::Result<Vec<HistoryEvent>, String> {
    raw.iter()
        .map(|e| {
            let ty = e.get("eventType").and_then(Json::as_str).ok_or_else(|| format!("a history event without eventType: {e}"))?;
            let id = num(e.get("eventId")).ok_or_else(|| format!("a history event without eventId: {ty}"))?;
            let attrs = e
                .as_object()
                .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventAttributes")).map(|(_, v)| v.clone()))
                .unwrap_or(Json::Null);
            let s = |k: &str| attrs.get(k).and_then(Json::as_str).map(str::to_string);
            let detail = attrs
                .get("failure")
                .and_then(|f| {
                    let msg = f.get("message").and_then(Json::as_str)?;
                    let ty = f.get("applicationFailureInfo").and_then(|a| a.get("type")).and_then(Json::as_str);
                    Some(match ty {
                        Some(t) => format!("{t}: {msg}"),
                        None => msg.to_string(),
                    })
                })
                .or_else(|| s("timeoutType"))
                .or_else(|| s("cause"));
            Ok(HistoryEvent {
                id,
                kind: camel(ty),
                activity_type: attrs.get("activityType").and_then(|t| t.get("name")).and_then(Json::as_str).map(str::to_string),
                activity_id: s("activityId"),
                scheduled_event_id: num(attrs.get("scheduledEventId")),
                attempt: num(attrs.get("attempt")),
                detail,
            })
        })
        .collect()
}

/// The spans the worker processes exported so far, from the OTLP JSON lines
/// file they append to (see [`crate::otlp::json::read_growing`]).
pub fn read_spans(path: &Path) -> Result<Vec<SpanRow>> {
    crate::otlp::json::read_growing(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_as_the_model_names_them() {
        assert_eq!(camel("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"), "ActivityTaskScheduled");
        assert_eq!(camel("EVENT_TYPE_WORKFLOW_EXECUTION_FAILED"), "WorkflowExecutionFailed");
        let raw: Vec<Json> = serde_json::from_str(
            r#"[{"eventId":"5","eventType":"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED","activityTaskScheduledEventAttributes":{"activityId":"1","activityType":{"name":"Step1"}}},
                {"eventId":"6","eventType":"EVENT_TYPE_ACTIVITY_TASK_STARTED","activityTaskStartedEventAttributes":{"scheduledEventId":"5","attempt":2}}]"#,
        )
        .unwrap();
        let h = history_events(&raw).unwrap();
        assert_eq!(h[0].activity_type.as_deref(), Some("Step1"));
        assert_eq!(h[1].scheduled_event_id, Some(5));
        assert_eq!(h[1].attempt, Some(2));
        assert!(history_events(&[serde_json::json!({"eventId": "1"})]).is_err());
    }
}
