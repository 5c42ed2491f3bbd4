//! The span invariants over spans a real system recorded, read from OTLP
//! JSON by [`crate::otlp::json`].
//!
//! The judging is [`crate::oracle`]'s, the same functions the trace-context
//! model's invariants call, so `NoOrphanSpans` in an audit and in a
//! counterexample mean the same thing.

use crate::model::Verdict;
use crate::oracle::{self, Record};
use crate::otlp::SpanRow;

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
        (format!("line {}", r.origin), format!("{} {:?} trace={} id={} parent={}", r.service, r.name, r.trace_id, r.span_id, if r.parent_span_id.is_empty() { "none" } else { &r.parent_span_id }))
    };
    oracle::judge_all(&records, &name).into()
}
